#include "control/wire.hpp"

#include "control/api_error.hpp"
#include "util/base64.hpp"
#include "util/utc_timestamp.hpp"

#include <cmath>
#include <ctime>
#include <limits>

namespace e2b_local {

using nlohmann::json;

std::string FormatTimestamp(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  long millis = static_cast<long>(unix_ms % 1000);
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  return FormatUtcTimestamp(secs, millis, 3);
}

std::string FormatTimestamp(std::chrono::system_clock::time_point tp) {
  return FormatTimestamp(UnixMillis(tp));
}

std::optional<std::int64_t> ParseTimestampMs(const std::string& text) {
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (!digits(0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !digits(5, 2, mon) || text[7] != '-' || !digits(8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !digits(11, 2, hour) || text[13] != ':' || !digits(14, 2, min) ||
      text[16] != ':' || !digits(17, 2, sec)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
      sec > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int scale = 100;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_min = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !digits(pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  auto secs = static_cast<std::int64_t>(timegm(&tm));
  secs -= static_cast<std::int64_t>(offset_min) * 60;
  return secs * 1000 + millis;
}

json ParseJsonObject(const std::string& body, bool allow_empty) {
  bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) {
    if (allow_empty) return json::object();
    throw ApiError(400, "request body is required");
  }
  json value = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded())
    throw ApiError(400, "request body is not valid JSON");
  if (!value.is_object())
    throw ApiError(400, "request body must be a JSON object");
  return value;
}

std::optional<std::int64_t> OptionalInt(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() &&
        it->get<std::uint64_t>() >
            static_cast<std::uint64_t>(
                std::numeric_limits<std::int64_t>::max())) {
      throw ApiError(400, std::string("'") + name + "' is out of range");
    }
    return it->get<std::int64_t>();
  }
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
      return static_cast<std::int64_t>(d);
    }
  }
  throw ApiError(400, std::string("'") + name + "' must be an integer");
}

std::optional<bool> OptionalBool(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) {
    throw ApiError(400, std::string("'") + name + "' must be a boolean");
  }
  return it->get<bool>();
}

std::optional<std::string> OptionalString(const json& object,
                                          const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    throw ApiError(400, std::string("'") + name + "' must be a string");
  }
  return it->get<std::string>();
}

std::map<std::string, std::string> StringMap(const json& object,
                                             const char* name) {
  std::map<std::string, std::string> out;
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_object()) {
    throw ApiError(400, std::string("'") + name + "' must be an object");
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      throw ApiError(400, std::string("'") + name + "' values must be strings");
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

std::vector<SandboxVolumeMount> VolumeMountsField(const json& object,
                                                  const char* name) {
  std::vector<SandboxVolumeMount> out;
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) {
    throw ApiError(400, std::string("'") + name + "' must be an array");
  }
  for (const json& mount : *it) {
    const auto text = [&](const char* key) {
      return mount.is_object() && mount.contains(key) && mount[key].is_string();
    };
    if (!text("name") || !text("path")) {
      throw ApiError(400, std::string("'") + name +
                              "' entries must be objects with string 'name' "
                              "and 'path'");
    }
    out.push_back(mount.get<SandboxVolumeMount>());
  }
  return out;
}

std::int64_t QueryInt(const std::string& text, const char* name,
                      std::int64_t fallback, std::int64_t min,
                      std::int64_t max) {
  if (text.empty()) return fallback;
  std::int64_t value = 0;
  bool negative = text[0] == '-';
  size_t start = negative ? 1 : 0;
  if (start == text.size() || text.size() - start > 15) {
    throw ApiError(400, std::string("'") + name + "' must be an integer");
  }
  for (size_t i = start; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') {
      throw ApiError(400, std::string("'") + name + "' must be an integer");
    }
    value = value * 10 + (text[i] - '0');
  }
  if (negative) value = -value;
  if (value < min || value > max) {
    throw ApiError(400, std::string("'") + name + "' must be between " +
                            std::to_string(min) + " and " +
                            std::to_string(max));
  }
  return value;
}

bool PageKeyBefore(const PageKey& a, const PageKey& b, bool ascending) {
  if (a.ms != b.ms) return ascending ? a.ms < b.ms : a.ms > b.ms;
  return ascending ? a.id > b.id : a.id < b.id;
}

std::string EncodePageToken(const PageKey& last, bool ascending) {
  std::string text = FormatTimestamp(last.ms) + "__" + last.id;
  if (ascending) text += "__asc";
  text = Base64Encode(text);
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

namespace {

// E2B's one answer for a token that is malformed or replayed.
ApiError InvalidNextToken() { return ApiError(400, "Invalid next token"); }

}  // namespace

std::optional<PageKey> DecodePageToken(const std::string& token,
                                       bool ascending) {
  if (token.empty()) return std::nullopt;
  auto raw = Base64Decode(token);
  if (!raw) throw InvalidNextToken();
  // "<time>__<id>" or "<time>__<id>__asc"; IDs never hold "__".
  const std::size_t first = raw->find("__");
  if (first == std::string::npos) throw InvalidNextToken();
  const std::size_t second = raw->find("__", first + 2);
  const std::string id =
      raw->substr(first + 2, second == std::string::npos ? std::string::npos
                                                         : second - first - 2);
  const bool asc_token = second != std::string::npos;
  if (asc_token && raw->compare(second + 2, std::string::npos, "asc") != 0) {
    throw InvalidNextToken();
  }
  // Replaying a token under the other order would serve pages already seen.
  if (asc_token != ascending) throw InvalidNextToken();
  auto ms = ParseTimestampMs(raw->substr(0, first));
  if (!ms) throw InvalidNextToken();
  return PageKey{*ms, id};
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> Unescape(const std::string& text, bool plus_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> QueryUnescape(const std::string& text) {
  return Unescape(text, true);
}

std::optional<std::string> PathUnescape(const std::string& text) {
  return Unescape(text, false);
}

std::map<std::string, std::string> ParseMetadataFilter(
    const std::string& value) {
  std::map<std::string, std::string> out;
  if (value.empty()) return out;
  auto whole = QueryUnescape(value);
  if (!whole) throw ApiError(400, "invalid metadata filter encoding");
  size_t start = 0;
  while (start <= whole->size()) {
    size_t amp = whole->find('&', start);
    if (amp == std::string::npos) amp = whole->size();
    std::string pair = whole->substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string::npos) {
      throw ApiError(400, "invalid metadata filter: expected key=value pairs");
    }
    auto k = QueryUnescape(pair.substr(0, eq));
    auto v = QueryUnescape(pair.substr(eq + 1));
    if (!k || !v || k->empty()) {
      throw ApiError(400, "invalid metadata filter encoding");
    }
    out[*k] = *v;
  }
  return out;
}

namespace {

json NullableString(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

const char* StateName(SandboxStatus status) {
  return status == SandboxStatus::kPaused ? "paused" : "running";
}

json Dump(const std::map<std::string, std::string>& m) {
  json out = json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

}  // namespace

json SandboxJson(const LocalSandbox& s) {
  json out{{"templateID", s.template_id},
           {"sandboxID", s.id},
           {"clientID", s.client_id},
           {"envdVersion", s.envd_version},
           {"envdAccessToken", s.access_token},
           {"trafficAccessToken", NullableString(s.traffic_access_token)},
           {"domain", nullptr}};
  if (!s.alias.empty()) out["alias"] = s.alias;
  return out;
}

json ListedSandboxJson(const LocalSandbox& s) {
  SandboxStatus status{};
  std::chrono::system_clock::time_point end_at;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    status = s.status;
    end_at = s.end_at;
  }
  json out{{"templateID", s.template_id},
           {"sandboxID", s.id},
           {"clientID", s.client_id},
           {"startedAt", FormatTimestamp(s.started_at)},
           {"endAt", FormatTimestamp(end_at)},
           {"cpuCount", s.cpu_count},
           {"memoryMB", s.memory_mb},
           {"diskSizeMB", s.disk_size_mb},
           {"metadata", Dump(s.metadata)},
           {"volumeMounts", s.volume_mounts},
           {"state", StateName(status)},
           {"envdVersion", s.envd_version}};
  if (!s.alias.empty()) out["alias"] = s.alias;
  return out;
}

json SandboxDetailJson(const LocalSandbox& s, const json& network) {
  json out = ListedSandboxJson(s);
  bool auto_pause = false, auto_resume = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto_pause = s.auto_pause;
    auto_resume = s.auto_resume;
  }
  out["envdAccessToken"] = s.access_token;
  out["allowInternetAccess"] = s.allow_internet_access;
  out["domain"] = nullptr;
  out["lifecycle"] = json{{"autoResume", auto_resume},
                          {"onTimeout", auto_pause ? "pause" : "kill"}};
  if (!network.is_null()) out["network"] = network;
  return out;
}

json MetricJson(const MetricSample& sample) {
  return json{{"timestamp", FormatTimestamp(sample.timestamp_ms)},
              {"timestampUnix", sample.timestamp_ms / 1000},
              {"cpuCount", sample.usage.cpu_count},
              {"cpuUsedPct", sample.usage.cpu_used_pct},
              {"memUsed", sample.usage.mem_used},
              {"memTotal", sample.usage.mem_total},
              {"memCache", sample.usage.mem_cache},
              {"diskUsed", sample.usage.disk_used},
              {"diskTotal", sample.usage.disk_total}};
}

json LogEntryJson(const LogEntry& e) {
  return json{{"timestamp", FormatTimestamp(e.timestamp)},
              {"level", e.level},
              {"message", e.message},
              {"fields", Dump(e.fields)}};
}

json TemplateJson(const TemplateRecord& t) {
  const BuildRecord& b = t.LatestBuild();
  return json{{"templateID", t.template_id},
              {"buildID", b.build_id},
              {"cpuCount", b.cpu_count},
              {"memoryMB", b.memory_mb},
              {"diskSizeMB", b.disk_size_mb},
              {"public", t.is_public},
              {"aliases", t.names},
              {"names", t.names},
              {"createdAt", FormatTimestamp(t.created_ms)},
              {"updatedAt", FormatTimestamp(t.updated_ms)},
              {"createdBy", nullptr},
              {"lastSpawnedAt", t.last_spawned_ms == 0
                                    ? json(nullptr)
                                    : json(FormatTimestamp(t.last_spawned_ms))},
              {"spawnCount", t.spawn_count},
              {"buildCount", static_cast<std::int64_t>(t.builds.size())},
              {"envdVersion", b.envd_version},
              {"buildStatus", b.status}};
}

json BuildJson(const BuildRecord& b) {
  json out{{"buildID", b.build_id},
           {"status", b.status},
           {"createdAt", FormatTimestamp(b.created_ms)},
           {"updatedAt", FormatTimestamp(b.updated_ms)},
           {"cpuCount", b.cpu_count},
           {"memoryMB", b.memory_mb},
           {"diskSizeMB", b.disk_size_mb},
           {"envdVersion", b.envd_version}};
  if (b.finished_ms != 0) out["finishedAt"] = FormatTimestamp(b.finished_ms);
  return out;
}

json BuildLogJson(const BuildLogRecord& e) {
  json out{{"timestamp", FormatTimestamp(e.timestamp_ms)},
           {"message", e.message},
           {"level", e.level}};
  if (!e.step.empty()) out["step"] = e.step;
  return out;
}

json SnapshotInfoJson(const TemplateRecord& t) {
  return json{{"snapshotID", t.SnapshotId()}, {"names", t.names}};
}

int LogLevelRank(const std::string& level) {
  if (level == "debug") return 0;
  if (level == "info") return 1;
  if (level == "warn" || level == "warning") return 2;
  if (level == "error") return 3;
  return -1;
}

}  // namespace e2b_local
