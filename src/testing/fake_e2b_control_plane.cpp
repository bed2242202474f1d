// FakeE2B's control plane: the sandbox REST routes (PROTOCOL.md 2.3) over
// the in-memory sandbox list.

#include "internal/json_mapping.hpp"
#include "internal/url.hpp"
#include "testing/fake_e2b_impl.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace e2b::testing {
namespace {

using internal::Classified;
using internal::FormatRfc3339;
using internal::kJson;
using internal::ParseObject;
using internal::RestError;
using nlohmann::json;

constexpr int kDefaultTimeoutSeconds = 15;  // the API's default
constexpr int kMaxListLimit = 100;

std::string RandomText(std::mt19937_64& rng, const char* alphabet,
                       std::size_t size, std::size_t length) {
  std::uniform_int_distribution<std::size_t> pick(0, size - 1);
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += alphabet[pick(rng)];
  return out;
}

// A string map field; nullopt when present with another shape.
std::optional<std::map<std::string, std::string>> StringMap(const json& j,
                                                            const char* key) {
  std::map<std::string, std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) return std::nullopt;
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return std::nullopt;
    out[k] = v.get<std::string>();
  }
  return out;
}

// The `metadata` filter of the list calls (PROTOCOL.md 2.1): the value is
// decoded once more, split on & and =, and each key and value decoded.
std::map<std::string, std::string> MetadataFilter(const std::string& value) {
  std::map<std::string, std::string> out;
  const std::string inner = e2b::internal::PercentDecode(value);
  std::size_t start = 0;
  while (start < inner.size()) {
    std::size_t end = inner.find('&', start);
    if (end == std::string::npos) end = inner.size();
    const std::string pair = inner.substr(start, end - start);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      out[e2b::internal::PercentDecode(pair.substr(0, eq), true)] =
          eq == std::string::npos
              ? ""
              : e2b::internal::PercentDecode(pair.substr(eq + 1), true);
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

void FakeE2B::Impl::HandleRest(const httplib::Request& req, const Classified& c,
                               httplib::Response& res) {
  if (c.route == "POST /sandboxes" || c.route == "POST /v2/sandboxes") {
    CreateSandbox(req, res);
  } else if (c.route == "GET /sandboxes") {
    ListSandboxes(req, false, res);
  } else if (c.route == "GET /v2/sandboxes") {
    ListSandboxes(req, true, res);
  } else if (!c.sandbox_id.empty()) {
    SandboxOperation(req, c, res);
  } else {
    RestError(res, 501, "FakeE2B does not serve " + c.route);
  }
}

SandboxInfo FakeE2B::Impl::InfoOf(const SandboxRecord& record) const {
  SandboxInfo info;
  info.ID = record.info.ID;
  info.Template = record.info.TemplateID;
  info.ClientID = "fake";
  info.State = record.info.State;
  info.CPUCount = 2;
  info.MemoryMB = 512;
  info.DiskSizeMB = 1024;
  info.StartedAt = FormatRfc3339(record.started);
  info.EndAt = FormatRfc3339(record.started +
                             std::chrono::seconds(record.info.TimeoutSeconds));
  info.EnvdVersion = record.envd_version;
  info.Metadata = record.info.Metadata;
  return info;
}

json FakeE2B::Impl::CreatedJson(const SandboxRecord& record) const {
  return json{{"sandboxID", record.info.ID},
              {"templateID", record.info.TemplateID},
              {"clientID", "fake"},
              {"envdVersion", record.envd_version},
              {"envdAccessToken", record.info.EnvdAccessToken}};
}

void FakeE2B::Impl::CreateSandbox(const httplib::Request& req,
                                  httplib::Response& res) {
  const auto body = ParseObject(req.body);
  if (!body) return RestError(res, 400, "the body is not a JSON object");
  const auto templ = body->find("templateID");
  if (templ == body->end() || !templ->is_string() ||
      templ->get<std::string>().empty()) {
    return RestError(res, 400, "templateID is required");
  }
  int timeout = kDefaultTimeoutSeconds;
  if (auto it = body->find("timeout"); it != body->end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        it->get<std::int64_t>() > 86400) {
      return RestError(res, 400, "timeout must be an integer in [0, 86400]");
    }
    timeout = it->get<int>();
  }
  auto metadata = StringMap(*body, "metadata");
  auto env_vars = StringMap(*body, "envVars");
  if (!metadata || !env_vars) {
    return RestError(res, 400, "metadata and envVars must map strings");
  }
  std::lock_guard<std::mutex> lock(mu);
  SandboxRecord record;
  record.info.ID =
      "i" + RandomText(rng, "abcdefghijklmnopqrstuvwxyz0123456789", 36, 20);
  record.info.TemplateID = templ->get<std::string>();
  record.info.State = "running";
  record.info.Metadata = std::move(*metadata);
  record.info.EnvVars = std::move(*env_vars);
  record.info.TimeoutSeconds = timeout;
  record.info.EnvdAccessToken = RandomText(rng, "0123456789abcdef", 16, 32);
  record.envd_version = options.EnvdVersion;
  record.started = std::chrono::system_clock::now();
  res.status = 201;
  res.set_content(CreatedJson(record).dump(), kJson);
  sandboxes.push_back(std::move(record));
}

void FakeE2B::Impl::ListSandboxes(const httplib::Request& req, bool v2,
                                  httplib::Response& res) {
  const auto filter = MetadataFilter(req.get_param_value("metadata"));
  std::vector<std::string> states{"running"};
  if (v2) {
    states = {"running", "paused"};
    if (req.has_param("state")) {
      states.clear();
      const std::string csv = req.get_param_value("state");
      std::size_t start = 0;
      while (start <= csv.size()) {
        std::size_t end = csv.find(',', start);
        if (end == std::string::npos) end = csv.size();
        states.push_back(csv.substr(start, end - start));
        start = end + 1;
      }
      for (const auto& state : states) {
        if (state != "running" && state != "paused") {
          return RestError(res, 400, "invalid state '" + state + "'");
        }
      }
    }
  }
  std::size_t offset = 0;
  std::size_t limit = kMaxListLimit;
  try {
    if (v2 && req.has_param("nextToken")) {
      offset = std::stoul(req.get_param_value("nextToken"));
    }
    if (v2 && req.has_param("limit")) {
      limit = std::stoul(req.get_param_value("limit"));
    }
  } catch (const std::exception&) {
    return RestError(res, 400, "limit and nextToken must be numbers");
  }
  if (limit < 1 || limit > kMaxListLimit) {
    return RestError(res, 400, "limit must be in [1, 100]");
  }
  std::lock_guard<std::mutex> lock(mu);
  std::vector<const SandboxRecord*> matching;
  for (const auto& record : sandboxes) {
    if (std::find(states.begin(), states.end(), record.info.State) ==
        states.end()) {
      continue;
    }
    const std::string templ = req.get_param_value("template");
    bool match = !v2 || templ.empty() || record.info.TemplateID == templ;
    for (const auto& [key, value] : filter) {
      auto it = record.info.Metadata.find(key);
      match = match && it != record.info.Metadata.end() && it->second == value;
    }
    if (match) matching.push_back(&record);
  }
  // The API's default order: newest first.
  if (!v2 || req.get_param_value("order") != "asc") {
    std::reverse(matching.begin(), matching.end());
  }
  json page = json::array();
  for (std::size_t i = offset; i < matching.size() && i < offset + limit; ++i) {
    page.push_back(InfoOf(*matching[i]));
  }
  if (v2 && offset + limit < matching.size()) {
    res.set_header("X-Next-Token", std::to_string(offset + limit));
  }
  res.status = 200;
  res.set_content(page.dump(), kJson);
}

void FakeE2B::Impl::SandboxOperation(const httplib::Request& req,
                                     const Classified& c,
                                     httplib::Response& res) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = std::find_if(
      sandboxes.begin(), sandboxes.end(),
      [&](const SandboxRecord& r) { return r.info.ID == c.sandbox_id; });
  if (it == sandboxes.end()) {
    return RestError(res, 404, "sandbox \"" + c.sandbox_id + "\" not found");
  }
  SandboxRecord& record = *it;
  const std::string& route = c.route;
  // Operations with a {timeout} body take it before touching state.
  std::optional<int> timeout;
  if (route.find("/timeout") != std::string::npos ||
      route.find("/connect") != std::string::npos ||
      route.find("/resume") != std::string::npos) {
    const auto body = ParseObject(req.body.empty() ? "{}" : req.body);
    if (!body) return RestError(res, 400, "the body is not a JSON object");
    if (auto t = body->find("timeout"); t != body->end()) {
      if (!t->is_number_integer() || t->get<std::int64_t>() < 0 ||
          t->get<std::int64_t>() > 86400) {
        return RestError(res, 400, "timeout must be an integer in [0, 86400]");
      }
      timeout = t->get<int>();
    }
  }
  if (route == "GET /sandboxes/{sandboxID}") {
    json detail = InfoOf(record);
    detail["envdAccessToken"] = record.info.EnvdAccessToken;
    res.status = 200;
    res.set_content(detail.dump(), kJson);
  } else if (route == "DELETE /sandboxes/{sandboxID}") {
    sandboxes.erase(it);
    res.status = 204;
  } else if (route == "POST /sandboxes/{sandboxID}/timeout") {
    if (!timeout) return RestError(res, 400, "timeout is required");
    record.info.TimeoutSeconds = *timeout;
    res.status = 204;
  } else if (route == "POST /sandboxes/{sandboxID}/refreshes") {
    res.status = 204;
  } else if (route == "POST /sandboxes/{sandboxID}/pause") {
    if (record.info.State == "paused") {
      return RestError(res, 409, "sandbox is already paused");
    }
    record.info.State = "paused";
    res.status = 204;
  } else if (route == "POST /sandboxes/{sandboxID}/resume") {
    if (record.info.State != "paused") {
      return RestError(res, 409, "sandbox is already running");
    }
    record.info.State = "running";
    if (timeout) record.info.TimeoutSeconds = *timeout;
    res.status = 201;
    res.set_content(CreatedJson(record).dump(), kJson);
  } else if (route == "POST /sandboxes/{sandboxID}/connect" ||
             route == "POST /v2/sandboxes/{sandboxID}/connect") {
    const bool resumed = record.info.State == "paused";
    record.info.State = "running";
    if (timeout) record.info.TimeoutSeconds = *timeout;
    res.status = resumed ? 201 : 200;
    res.set_content(CreatedJson(record).dump(), kJson);
  } else {
    RestError(res, 501, "FakeE2B does not serve " + route);
  }
}

}  // namespace e2b::testing
