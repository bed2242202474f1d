#include "internal/filesystem_mapping.hpp"

#include "internal/base64.hpp"
#include "internal/civil_time.hpp"
#include "internal/sha256.hpp"

#include <e2b/errors.hpp>

#include <cctype>
#include <limits>

namespace e2b::internal {
namespace {

using nlohmann::json;

const json* Field(const json& object, const char* camel, const char* snake) {
  auto it = object.find(camel);
  if (it == object.end() && snake != nullptr) it = object.find(snake);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string StringOf(const json& object, const char* camel,
                     const char* snake = nullptr) {
  const json* value = Field(object, camel, snake);
  return value != nullptr && value->is_string() ? value->get<std::string>()
                                                : std::string();
}

// int64 fields travel as decimal strings; accept numbers too.
std::int64_t Int64Of(const json& object, const char* name) {
  const json* value = Field(object, name, nullptr);
  if (value == nullptr) return 0;
  if (value->is_number_integer()) return value->get<std::int64_t>();
  if (value->is_number_unsigned()) {
    const auto u = value->get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(
                   std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(u);
  }
  if (value->is_string()) {
    const std::string text = value->get<std::string>();
    std::size_t pos = 0;
    bool negative = false;
    if (!text.empty() && text[0] == '-') {
      negative = true;
      pos = 1;
    }
    if (pos == text.size() || text.size() - pos > 18) return 0;
    std::int64_t out = 0;
    for (; pos < text.size(); ++pos) {
      if (text[pos] < '0' || text[pos] > '9') return 0;
      out = out * 10 + (text[pos] - '0');
    }
    return negative ? -out : out;
  }
  return 0;
}

std::uint32_t Uint32Of(const json& object, const char* name) {
  const std::int64_t value = [&] {
    const json* field = Field(object, name, nullptr);
    if (field != nullptr && field->is_number_float()) return std::int64_t{0};
    return Int64Of(object, name);
  }();
  if (value < 0 || value > std::numeric_limits<std::uint32_t>::max()) return 0;
  return static_cast<std::uint32_t>(value);
}

bool Digits(std::string_view text, std::size_t pos, std::size_t count,
            int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

FileInfo UploadEntry(const json& entry, const char* operation) {
  if (!entry.is_object()) {
    throw Error(0, std::string(operation) +
                       ": the upload answer entry is not an object");
  }
  const auto field = [&entry](const char* name) -> std::string {
    const auto it = entry.find(name);
    if (it == entry.end() || !it->is_string()) return {};
    return it->get<std::string>();
  };
  FileInfo info;
  info.Name = field("name");
  info.Path = field("path");
  info.Type = field("type");
  const auto metadata = entry.find("metadata");
  if (metadata != entry.end() && metadata->is_object()) {
    for (const auto& [key, value] : metadata->items()) {
      if (value.is_string()) info.Metadata[key] = value.get<std::string>();
    }
  }
  return info;
}

}  // namespace

std::string FileTypeName(const json& type) {
  if (type.is_string()) {
    const std::string name = type.get<std::string>();
    if (name == "FILE_TYPE_FILE") return "file";
    if (name == "FILE_TYPE_DIRECTORY") return "directory";
    if (name == "FILE_TYPE_SYMLINK") return "symlink";
    return "";
  }
  if (type.is_number_integer()) {
    switch (type.get<std::int64_t>()) {
      case 1:
        return "file";
      case 2:
        return "directory";
      case 3:
        return "symlink";
      default:
        return "";
    }
  }
  return "";
}

std::string EventTypeName(const json& type) {
  static constexpr const char* kNames[] = {"unknown", "create", "write",
                                           "remove",  "rename", "chmod"};
  if (type.is_string()) {
    const std::string name = type.get<std::string>();
    constexpr std::string_view kPrefix = "EVENT_TYPE_";
    if (name.rfind(kPrefix, 0) == 0) {
      std::string lower;
      for (char c : name.substr(kPrefix.size())) {
        lower.push_back(
            static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      }
      for (int i = 1; i < 6; ++i) {
        if (lower == kNames[i]) return lower;
      }
    }
    return "unknown";
  }
  if (type.is_number_integer()) {
    const auto value = type.get<std::int64_t>();
    if (value >= 1 && value <= 5) return kNames[value];
  }
  return "unknown";
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(
    std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' ||
      !Digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !Digits(text, 11, 2, hour) || text[13] != ':' ||
      !Digits(text, 14, 2, minute) || text[16] != ':' ||
      !Digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (pos >= text.size()) return std::nullopt;
  std::int64_t offset_seconds = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh = 0, om = 0;
    if (!Digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !Digits(text, pos + 4, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_seconds = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::int64_t days = DaysFromCivil(year, static_cast<unsigned>(month),
                                          static_cast<unsigned>(day));
  const std::int64_t seconds =
      days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // system_clock counts nanoseconds in 64 bits (years 1678..2262 here): a
  // time outside that range cannot be represented, so it is not a time.
  constexpr auto kClockLimit = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::duration::max())
                                   .count() -
                               1;
  if (seconds > kClockLimit || seconds < -kClockLimit) return std::nullopt;
  const auto since_epoch =
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          since_epoch));
}

std::vector<FileInfo> ParseUploadEntries(std::string_view body) {
  auto entries = nlohmann::json::parse(body, nullptr,
                                       /*allow_exceptions=*/false);
  if (entries.is_discarded() || !entries.is_array()) {
    throw Error(0, "POST /files: the upload answer is not a JSON array");
  }
  if (entries.empty()) {
    throw Error(0, "POST /files: the upload answer lists no file");
  }
  std::vector<FileInfo> out;
  out.reserve(entries.size());
  for (const auto& entry : entries) {
    out.push_back(UploadEntry(entry, "POST /files"));
  }
  return out;
}

FileInfo EntryOfAnswer(const json& answer, const char* procedure) {
  const auto it = answer.find("entry");
  if (it == answer.end() || !it->is_object()) {
    throw Error(0, std::string(procedure) + ": the answer has no entry");
  }
  return FileInfoFromEntry(*it);
}

void RethrowForPath(const std::string& path) {
  try {
    throw;
  } catch (const SandboxNotFoundError&) {
    throw;
  } catch (const TimeoutError&) {
    throw;
  } catch (const FileNotFoundError&) {
    throw;
  } catch (const Error& e) {
    if (e.StatusCode() == 404) throw FileNotFoundError(path, e.Message());
    throw;
  }
}

FileInfo FileInfoFromEntry(const json& entry) {
  if (!entry.is_object()) {
    throw Error(0, "filesystem entry is not a JSON object");
  }
  FileInfo info;
  info.Name = StringOf(entry, "name");
  info.Path = StringOf(entry, "path");
  if (const json* type = Field(entry, "type", nullptr)) {
    info.Type = FileTypeName(*type);
  }
  info.Size = Int64Of(entry, "size");
  info.Mode = Uint32Of(entry, "mode");
  info.Permissions = StringOf(entry, "permissions");
  info.Owner = StringOf(entry, "owner");
  info.Group = StringOf(entry, "group");
  const std::string modified = StringOf(entry, "modifiedTime", "modified_time");
  if (auto time = ParseRfc3339(modified)) info.ModTime = *time;
  if (const json* target = Field(entry, "symlinkTarget", "symlink_target");
      target != nullptr && target->is_string()) {
    info.SymlinkTarget = target->get<std::string>();
  }
  if (const json* metadata = Field(entry, "metadata", nullptr);
      metadata != nullptr && metadata->is_object()) {
    for (const auto& [key, value] : metadata->items()) {
      if (value.is_string()) info.Metadata[key] = value.get<std::string>();
    }
  }
  return info;
}

FilesystemEvent FilesystemEventFromJson(const json& event) {
  if (!event.is_object()) {
    throw Error(0, "filesystem event is not a JSON object");
  }
  FilesystemEvent out;
  out.Name = StringOf(event, "name");
  const json* type = Field(event, "type", nullptr);
  out.Type = type != nullptr ? EventTypeName(*type) : "unknown";
  if (const json* entry = Field(event, "entry", nullptr);
      entry != nullptr && entry->is_object()) {
    out.Entry = FileInfoFromEntry(*entry);
  }
  return out;
}

std::string FilesSignature(std::string_view path, std::string_view operation,
                           std::string_view user, std::string_view token,
                           std::optional<std::int64_t> expiration) {
  std::string raw;
  raw.append(path).append(":").append(operation).append(":");
  raw.append(user).append(":").append(token);
  if (expiration) raw.append(":").append(std::to_string(*expiration));
  const auto digest = Sha256Digest(raw);
  std::string encoded = Base64Encode(std::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return "v1_" + encoded;
}

std::string BasicAuthorization(std::string_view user) {
  std::string credentials(user);
  credentials.push_back(':');
  return "Basic " + Base64Encode(credentials);
}

}  // namespace e2b::internal
