// FakeE2B: one cpp-httplib server on 127.0.0.1 answering both the control
// plane (REST, PROTOCOL.md section 2) and envd (Connect JSON and /files,
// sections 3 to 5) from in-memory state. Requests are routed in three
// steps: classify (route name, sandbox), inject a requested failure,
// authorize, then the route's handler. The wire codecs are the library's
// own (connect_envelope, json_mapping, base64, url, filesystem_mapping).

#include "internal/base64.hpp"
#include "internal/connect_envelope.hpp"
#include "internal/filesystem_mapping.hpp"
#include "internal/json_mapping.hpp"
#include "internal/url.hpp"
#include "testing/fake_e2b_memfs.hpp"

#include <e2b/errors.hpp>
#include <e2b/testing/fake_e2b.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

namespace e2b::testing {
namespace {

using internal::MemEntry;
using internal::MemFilesystem;
using internal::MemNode;
using internal::MemStatus;
using nlohmann::json;

constexpr const char* kJson = "application/json";
constexpr const char* kConnectJson = "application/connect+json";
constexpr int kDefaultTimeoutSeconds = 15;  // the API's default
constexpr int kMaxListLimit = 100;

enum class Protocol { kRest, kConnectUnary, kConnectStream, kEnvdHttp };

// A request after classification: which route it is, who it addresses.
struct Classified {
  std::string route;
  std::string sandbox_id;
  Protocol protocol = Protocol::kRest;
  std::vector<std::string> segments;  // control plane: decoded path parts
};

std::string FormatRfc3339(std::chrono::system_clock::time_point at) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string RandomText(std::mt19937_64& rng, const char* alphabet,
                       std::size_t size, std::size_t length) {
  std::uniform_int_distribution<std::size_t> pick(0, size - 1);
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += alphabet[pick(rng)];
  return out;
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(e2b::internal::PercentDecode(
        std::string_view(path).substr(start, end - start)));
    start = end + 1;
  }
  if (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts;
}

// Connect's name for an HTTP status (the reverse of ConnectCodeHttpStatus).
const char* ConnectCodeFor(int status) {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 409:
      return "already_exists";
    case 429:
      return "resource_exhausted";
    case 499:
      return "canceled";
    case 501:
      return "unimplemented";
    case 502:
    case 503:
      return "unavailable";
    case 504:
      return "deadline_exceeded";
    default:
      return status >= 500 ? "internal" : "unknown";
  }
}

void RestError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"code", status}, {"message", message}}.dump(), kJson);
}

void ConnectError(httplib::Response& res, const std::string& code,
                  const std::string& message) {
  res.status = e2b::internal::ConnectCodeHttpStatus(code);
  res.set_content(json{{"code", code}, {"message", message}}.dump(), kJson);
}

// An error in the route's own protocol, for injected failures.
void ProtocolError(httplib::Response& res, Protocol protocol, int status,
                   const std::string& message) {
  if (protocol == Protocol::kConnectUnary ||
      protocol == Protocol::kConnectStream) {
    res.status = status;
    res.set_content(
        json{{"code", ConnectCodeFor(status)}, {"message", message}}.dump(),
        kJson);
  } else {
    RestError(res, status, message);
  }
}

// A server stream answer: the messages, then the end-of-stream envelope
// carrying `error` when set (Connect sends handler errors this way, 200).
void StreamAnswer(httplib::Response& res, const std::vector<json>& messages,
                  const std::optional<json>& error) {
  std::string body;
  for (const auto& message : messages) {
    body += e2b::internal::EncodeEnvelope(0, message.dump());
  }
  json end = json::object();
  if (error) end["error"] = *error;
  body += e2b::internal::EncodeEnvelope(e2b::internal::kEnvelopeEndStream,
                                        end.dump());
  res.status = 200;
  res.set_content(body, kConnectJson);
}

std::optional<json> ParseObject(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
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

// The user of an envd call: the name in "Authorization: Basic base64(u:)".
std::string BasicUser(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (header.compare(0, kBasic.size(), kBasic) != 0) return "";
  auto decoded = e2b::internal::Base64Decode(
      std::string_view(header).substr(kBasic.size()));
  if (!decoded) return "";
  return decoded->substr(0, decoded->find(':'));
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

// The sandbox was killed while the request was on its way.
void SandboxGone(httplib::Response& res) {
  RestError(res, 502, "The sandbox was not found");
}

// A command handler threw: the process started, then the stream failed,
// as envd reports an RPC that broke mid-way.
void HandlerFailed(httplib::Response& res, std::uint32_t pid,
                   const std::string& what) {
  StreamAnswer(res, {json{{"event", {{"start", {{"pid", pid}}}}}}},
               json{{"code", "internal"},
                    {"message", "command handler threw: " + what}});
}

json EntryJson(const MemEntry& entry) {
  const MemNode& node = *entry.node;
  json j{{"name", entry.name},
         {"path", entry.path},
         {"type", node.directory ? "FILE_TYPE_DIRECTORY" : "FILE_TYPE_FILE"},
         {"size", std::to_string(node.directory ? 4096 : node.content.size())},
         {"mode", node.directory ? 0755 : 0644},
         {"permissions", node.directory ? "drwxr-xr-x" : "-rw-r--r--"},
         {"owner", "user"},
         {"group", "user"},
         {"modifiedTime", FormatRfc3339(node.modified)}};
  if (!node.metadata.empty()) j["metadata"] = node.metadata;
  return j;
}

}  // namespace

struct FakeE2B::Impl {
  struct SandboxRecord {
    FakeSandbox info;
    std::string envd_version;
    std::chrono::system_clock::time_point started;
    MemFilesystem files;
  };
  struct Failure {
    int status = 0;
    int times = 0;
  };
  using Handler = std::function<FakeCommandResult(const FakeCommandCall&)>;

  explicit Impl(FakeE2BOptions opts) : options(std::move(opts)) {}

  FakeE2BOptions options;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  mutable std::mutex mu;
  std::mt19937_64 rng{std::random_device{}()};
  std::vector<SandboxRecord> sandboxes;  // creation order
  std::map<std::string, Handler> handlers;
  std::map<std::string, Failure> failures;
  std::vector<FakeCall> calls;
  std::vector<FakeCommandCall> commands;
  std::uint32_t next_pid = 1000;

  SandboxRecord* FindLocked(const std::string& id) {
    for (auto& record : sandboxes) {
      if (record.info.ID == id) return &record;
    }
    return nullptr;
  }

  void Handle(const httplib::Request& req, httplib::Response& res);
  Classified Classify(const httplib::Request& req) const;
  bool TakeFailure(const std::string& route, int& status);

  // Control plane.
  void HandleRest(const httplib::Request& req, const Classified& c,
                  httplib::Response& res);
  void CreateSandbox(const httplib::Request& req, httplib::Response& res);
  void ListSandboxes(const httplib::Request& req, bool v2,
                     httplib::Response& res);
  void SandboxOperation(const httplib::Request& req, const Classified& c,
                        httplib::Response& res);
  json CreatedJson(const SandboxRecord& record) const;
  SandboxInfo InfoOf(const SandboxRecord& record) const;

  // envd.
  bool AuthorizeEnvd(const httplib::Request& req, const Classified& c,
                     httplib::Response& res);
  void HandleEnvd(const httplib::Request& req, const Classified& c,
                  httplib::Response& res);
  void StartProcess(const httplib::Request& req, const Classified& c,
                    httplib::Response& res);
  void FilesystemRpc(const std::string& method, const json& body,
                     const Classified& c, httplib::Response& res);
  void DownloadFile(const httplib::Request& req, const Classified& c,
                    httplib::Response& res);
  void UploadFiles(const httplib::Request& req, const Classified& c,
                   httplib::Response& res);
  Handler FindHandler(const std::string& command) const;
};

Classified FakeE2B::Impl::Classify(const httplib::Request& req) const {
  Classified c;
  const std::string& path = req.path;
  const bool rpc = path.rfind("/process.Process/", 0) == 0 ||
                   path.rfind("/filesystem.Filesystem/", 0) == 0;
  if (rpc || path == "/files" || path == "/health") {
    c.route = req.method + " " + path;
    c.protocol = Protocol::kEnvdHttp;
    if (rpc) {
      const bool streaming = path == "/process.Process/Start" ||
                             path == "/process.Process/Connect" ||
                             path == "/filesystem.Filesystem/WatchDir";
      c.protocol =
          streaming ? Protocol::kConnectStream : Protocol::kConnectUnary;
    }
    // The SDK's headers, else the edge's Host form <port>-<id>.<domain>.
    c.sandbox_id = req.get_header_value("E2b-Sandbox-Id");
    if (c.sandbox_id.empty()) {
      const std::string host = req.get_header_value("Host");
      // Only a numeric port label counts: "my-host.local" names no sandbox.
      const auto dash = host.find('-');
      const auto dot = host.find('.');
      const bool numeric_port =
          dash != std::string::npos && dash > 0 &&
          std::all_of(host.begin(), host.begin() + static_cast<long>(dash),
                      [](unsigned char ch) { return std::isdigit(ch) != 0; });
      if (numeric_port && dot != std::string::npos && dash < dot) {
        c.sandbox_id = host.substr(dash + 1, dot - dash - 1);
      }
    }
    return c;
  }
  c.protocol = Protocol::kRest;
  c.segments = SplitPath(path);
  std::vector<std::string> pattern = c.segments;
  // /sandboxes/{id}[/op] and /v2/sandboxes/{id}/connect name their ID.
  const std::size_t id_at = (!pattern.empty() && pattern[0] == "v2")
                                ? std::size_t{2}
                                : std::size_t{1};
  if (pattern.size() > id_at && pattern[id_at - 1] == "sandboxes") {
    c.sandbox_id = pattern[id_at];
    pattern[id_at] = "{sandboxID}";
  }
  c.route = req.method + " ";
  for (const auto& part : pattern) c.route += "/" + part;
  if (pattern.empty()) c.route += "/";
  return c;
}

bool FakeE2B::Impl::TakeFailure(const std::string& route, int& status) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = failures.find(route);
  if (it == failures.end()) return false;
  status = it->second.status;
  if (--it->second.times <= 0) failures.erase(it);
  return true;
}

void FakeE2B::Impl::Handle(const httplib::Request& req,
                           httplib::Response& res) {
  const Classified c = Classify(req);
  int injected = 0;
  if (TakeFailure(c.route, injected)) {
    ProtocolError(res, c.protocol, injected,
                  "FakeE2B: injected failure of " + c.route);
  } else if (c.protocol == Protocol::kRest) {
    if (req.get_header_value("X-API-Key") != options.APIKey) {
      RestError(res, 401, "Invalid API key");
    } else {
      HandleRest(req, c, res);
    }
  } else if (AuthorizeEnvd(req, c, res)) {
    HandleEnvd(req, c, res);
  }
  std::lock_guard<std::mutex> lock(mu);
  calls.push_back(FakeCall{c.route, req.path, c.sandbox_id, res.status});
}

// ---- control plane -------------------------------------------------------

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
    RestError(res, 404, "FakeE2B does not serve " + c.route);
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
    RestError(res, 404, "FakeE2B does not serve " + route);
  }
}

// ---- envd ------------------------------------------------------------------

bool FakeE2B::Impl::AuthorizeEnvd(const httplib::Request& req,
                                  const Classified& c, httplib::Response& res) {
  std::lock_guard<std::mutex> lock(mu);
  const SandboxRecord* record = FindLocked(c.sandbox_id);
  if (record == nullptr || record->info.State != "running") {
    // What E2B's edge answers for a sandbox it cannot reach.
    res.status = 502;
    res.set_content(json{{"sandboxId", c.sandbox_id},
                         {"message", "The sandbox was not found"},
                         {"code", 502}}
                        .dump(),
                    kJson);
    return false;
  }
  if (req.path == "/health") return true;
  const std::string& token = record->info.EnvdAccessToken;
  const std::string sent = req.get_header_value("X-Access-Token");
  bool allowed = sent == token;
  if (!req.has_header("X-Access-Token") && req.path == "/files" &&
      req.has_param("signature")) {
    // A signed URL (Filesystem.DownloadURL / UploadURL).
    std::optional<std::int64_t> expiration;
    if (req.has_param("signature_expiration")) {
      try {
        expiration = std::stoll(req.get_param_value("signature_expiration"));
      } catch (const std::exception&) {
        expiration = -1;
      }
    }
    const bool unexpired =
        !expiration ||
        *expiration >= std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    allowed = unexpired &&
              req.get_param_value("signature") ==
                  e2b::internal::FilesSignature(
                      req.get_param_value("path"),
                      req.method == "GET" ? "read" : "write",
                      req.get_param_value("username"), token, expiration);
  }
  if (!allowed) {
    RestError(res, 401,
              "unauthorized access, please provide a valid access token or "
              "method signing if supported");
  }
  return allowed;
}

void FakeE2B::Impl::HandleEnvd(const httplib::Request& req, const Classified& c,
                               httplib::Response& res) {
  if (req.path == "/health") {
    res.status = 204;
    return;
  }
  if (req.path == "/files") {
    if (req.method == "GET") return DownloadFile(req, c, res);
    if (req.method == "POST") return UploadFiles(req, c, res);
    return RestError(res, 405, "method not allowed");
  }
  if (req.method != "POST") return RestError(res, 405, "method not allowed");
  if (c.protocol == Protocol::kConnectStream) {
    if (req.get_header_value("Content-Type").rfind(kConnectJson, 0) != 0) {
      return RestError(res, 415, "FakeE2B speaks application/connect+json");
    }
    if (req.path == "/process.Process/Start") return StartProcess(req, c, res);
    return StreamAnswer(
        res, {},
        json{{"code", "unimplemented"},
             {"message", "FakeE2B does not implement " + req.path}});
  }
  if (req.get_header_value("Content-Type").rfind(kJson, 0) != 0) {
    return RestError(res, 415, "FakeE2B speaks application/json");
  }
  const auto body = ParseObject(req.body);
  if (!body) {
    return ConnectError(res, "invalid_argument",
                        "the request is not a JSON object");
  }
  const std::string prefix = "/filesystem.Filesystem/";
  if (req.path.rfind(prefix, 0) == 0) {
    return FilesystemRpc(req.path.substr(prefix.size()), *body, c, res);
  }
  ConnectError(res, "unimplemented", "FakeE2B does not implement " + req.path);
}

FakeE2B::Impl::Handler FakeE2B::Impl::FindHandler(
    const std::string& command) const {
  std::lock_guard<std::mutex> lock(mu);
  const Handler* best = nullptr;
  std::size_t best_size = 0;
  for (const auto& [pattern, handler] : handlers) {
    if (command.compare(0, pattern.size(), pattern) == 0 &&
        (best == nullptr || pattern.size() > best_size)) {
      best = &handler;
      best_size = pattern.size();
    }
  }
  return best == nullptr ? Handler{} : *best;
}

void FakeE2B::Impl::StartProcess(const httplib::Request& req,
                                 const Classified& c, httplib::Response& res) {
  e2b::internal::EnvelopeDecoder decoder;
  std::optional<e2b::internal::Envelope> envelope;
  try {
    decoder.Feed(req.body);
    envelope = decoder.Next();
  } catch (const e2b::internal::EnvelopeError&) {
    envelope.reset();
  }
  if (!envelope || envelope->Compressed() || decoder.HasPartial()) {
    return ConnectError(res, "invalid_argument",
                        "the body is not one Connect envelope");
  }
  const auto request = ParseObject(envelope->payload);
  const json* process = nullptr;
  if (request && request->contains("process") &&
      (*request)["process"].is_object()) {
    process = &(*request)["process"];
  }
  FakeCommandCall call;
  call.SandboxID = c.sandbox_id;
  call.User = BasicUser(req);
  try {
    if (process == nullptr || !process->contains("cmd")) {
      throw std::invalid_argument("process.cmd is required");
    }
    call.Cmd = process->at("cmd").get<std::string>();
    if (process->contains("args")) {
      call.Args = process->at("args").get<std::vector<std::string>>();
    }
    if (process->contains("envs")) {
      call.Envs = process->at("envs").get<std::map<std::string, std::string>>();
    }
    if (process->contains("cwd"))
      call.Cwd = process->at("cwd").get<std::string>();
  } catch (const std::exception& e) {
    return ConnectError(res, "invalid_argument",
                        std::string("malformed StartRequest: ") + e.what());
  }
  if (call.Cmd == "/bin/bash" && call.Args.size() == 3 &&
      call.Args[0] == "-l" && call.Args[1] == "-c") {
    call.Command = call.Args[2];
  } else {
    call.Command = call.Cmd;
    for (const auto& arg : call.Args) call.Command += " " + arg;
  }
  std::uint32_t pid = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    commands.push_back(call);
    pid = next_pid++;
  }
  FakeCommandResult result;
  // The handler runs unlocked: it may call back into FakeE2B (WriteFile).
  if (Handler handler = FindHandler(call.Command)) {
    try {
      result = handler(call);
    } catch (const std::exception& e) {
      return HandlerFailed(res, pid, e.what());
    } catch (...) {
      return HandlerFailed(res, pid, "an exception that is no std::exception");
    }
  } else {
    const std::string name = call.Command.substr(0, call.Command.find(' '));
    result.Stderr = "bash: " + name + ": command not found\n";
    result.ExitCode = 127;
  }
  std::vector<json> events{json{{"event", {{"start", {{"pid", pid}}}}}}};
  if (!result.Stdout.empty()) {
    events.push_back(
        json{{"event",
              {{"data",
                {{"stdout", e2b::internal::Base64Encode(result.Stdout)}}}}}});
  }
  if (!result.Stderr.empty()) {
    events.push_back(
        json{{"event",
              {{"data",
                {{"stderr", e2b::internal::Base64Encode(result.Stderr)}}}}}});
  }
  const std::string status = "exit status " + std::to_string(result.ExitCode);
  json end{{"exited", true}, {"status", status}};
  if (result.ExitCode != 0) {
    end["exitCode"] = result.ExitCode;
    end["error"] = result.Error.empty() ? status : result.Error;
  }
  events.push_back(json{{"event", {{"end", end}}}});
  StreamAnswer(res, events, std::nullopt);
}

void FakeE2B::Impl::FilesystemRpc(const std::string& method, const json& body,
                                  const Classified& c, httplib::Response& res) {
  auto path_of = [&](const char* key) -> std::optional<std::string> {
    auto it = body.find(key);
    if (it == body.end() || !it->is_string()) return std::nullopt;
    return MemFilesystem::Resolve(it->get<std::string>());
  };
  std::lock_guard<std::mutex> lock(mu);
  SandboxRecord* record = FindLocked(c.sandbox_id);
  if (record == nullptr) return SandboxGone(res);
  MemFilesystem& fs = record->files;
  auto answer_entry = [&](const std::string& abs) {
    res.status = 200;
    res.set_content(
        json{{"entry",
              EntryJson(MemEntry{abs, internal::BaseName(abs), fs.Find(abs)})}}
            .dump(),
        kJson);
  };
  const bool is_move = method == "Move";
  const auto path = path_of(is_move ? "source" : "path");
  if (!path) return ConnectError(res, "invalid_argument", "invalid path");
  const std::string& abs = *path;
  if (method == "Stat") {
    if (fs.Find(abs) == nullptr) {
      return ConnectError(res, "not_found", "path '" + abs + "' not found");
    }
    return answer_entry(abs);
  }
  if (method == "ListDir") {
    unsigned depth = 1;
    if (auto it = body.find("depth"); it != body.end()) {
      if (!it->is_number_unsigned()) {
        return ConnectError(res, "invalid_argument", "depth is not a uint32");
      }
      depth = std::max(1U, it->get<unsigned>());
    }
    std::vector<MemEntry> entries;
    const MemStatus status = fs.List(abs, depth, entries);
    if (status == MemStatus::kNotFound) {
      return ConnectError(res, "not_found", "path '" + abs + "' not found");
    }
    if (status != MemStatus::kOk) {
      return ConnectError(res, "invalid_argument",
                          "path '" + abs + "' is not a directory");
    }
    json list = json::array();
    for (const auto& entry : entries) list.push_back(EntryJson(entry));
    res.status = 200;
    res.set_content(json{{"entries", list}}.dump(), kJson);
    return;
  }
  if (method == "MakeDir") {
    const MemStatus status = fs.MakeDir(abs);
    if (status == MemStatus::kAlreadyExists) {
      return ConnectError(res, "already_exists",
                          "directory '" + abs + "' already exists");
    }
    if (status != MemStatus::kOk) {
      return ConnectError(res, "invalid_argument",
                          "a file is in the way of '" + abs + "'");
    }
    return answer_entry(abs);
  }
  if (method == "Remove") {
    fs.Remove(abs);
    res.status = 200;
    res.set_content("{}", kJson);
    return;
  }
  if (is_move) {
    const auto destination = path_of("destination");
    if (!destination) {
      return ConnectError(res, "invalid_argument", "invalid destination");
    }
    const MemStatus status = fs.Move(abs, *destination);
    if (status == MemStatus::kNotFound) {
      return ConnectError(res, "not_found", "path '" + abs + "' not found");
    }
    if (status != MemStatus::kOk) {
      return ConnectError(
          res, "invalid_argument",
          "cannot move '" + abs + "' to '" + *destination + "'");
    }
    return answer_entry(*destination);
  }
  ConnectError(res, "unimplemented",
               "FakeE2B does not implement filesystem.Filesystem/" + method);
}

void FakeE2B::Impl::DownloadFile(const httplib::Request& req,
                                 const Classified& c, httplib::Response& res) {
  const auto abs = MemFilesystem::Resolve(req.get_param_value("path"));
  if (!abs) return RestError(res, 400, "invalid path");
  std::lock_guard<std::mutex> lock(mu);
  const SandboxRecord* record = FindLocked(c.sandbox_id);
  if (record == nullptr) return SandboxGone(res);
  const MemNode* node = record->files.Find(*abs);
  if (node == nullptr) {
    return RestError(res, 404, "path '" + *abs + "' does not exist");
  }
  if (node->directory) {
    return RestError(res, 400, "path '" + *abs + "' is a directory");
  }
  res.status = 200;
  res.set_content(node->content, "application/octet-stream");
}

void FakeE2B::Impl::UploadFiles(const httplib::Request& req,
                                const Classified& c, httplib::Response& res) {
  std::vector<std::pair<std::string, std::string>> uploads;  // path, bytes
  const std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/octet-stream", 0) == 0) {
    if (!req.has_param("path")) {
      return RestError(res, 400, "the path query parameter is required");
    }
    uploads.emplace_back(req.get_param_value("path"), req.body);
  } else if (req.is_multipart_form_data()) {
    for (const auto& [name, part] : req.files) {
      if (name != "file") continue;
      uploads.emplace_back(
          req.has_param("path") ? req.get_param_value("path") : part.filename,
          part.content);
    }
  } else {
    return RestError(res, 400, "unsupported Content-Type '" + type + "'");
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (lower.rfind("x-metadata-", 0) == 0) metadata[lower.substr(11)] = value;
  }
  std::lock_guard<std::mutex> lock(mu);
  SandboxRecord* record = FindLocked(c.sandbox_id);
  if (record == nullptr) return SandboxGone(res);
  MemFilesystem& fs = record->files;
  json entries = json::array();
  for (auto& [path, bytes] : uploads) {
    const auto abs = MemFilesystem::Resolve(path);
    if (!abs) return RestError(res, 400, "invalid path '" + path + "'");
    const MemStatus status = fs.WriteFile(*abs, std::move(bytes), metadata);
    if (status == MemStatus::kIsDirectory) {
      return RestError(res, 400, "path '" + *abs + "' is a directory");
    }
    if (status != MemStatus::kOk) {
      return RestError(res, 500, "a file is in the way of '" + *abs + "'");
    }
    json entry{
        {"path", *abs}, {"name", internal::BaseName(*abs)}, {"type", "file"}};
    if (!metadata.empty()) entry["metadata"] = metadata;
    entries.push_back(entry);
  }
  res.status = 200;
  res.set_content(entries.dump(), kJson);
}

// ---- the public class ------------------------------------------------------

FakeE2B::FakeE2B(FakeE2BOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  auto handle = [impl = impl_.get()](const httplib::Request& req,
                                     httplib::Response& res) {
    impl->Handle(req, res);
  };
  impl_->server.Get(".*", handle);
  impl_->server.Post(".*", handle);
  impl_->server.Put(".*", handle);
  impl_->server.Patch(".*", handle);
  impl_->server.Delete(".*", handle);
  impl_->port = impl_->server.bind_to_any_port("127.0.0.1");
  if (impl_->port <= 0) {
    throw Error(0, "FakeE2B: cannot listen on 127.0.0.1");
  }
  impl_->thread =
      std::thread([impl = impl_.get()] { impl->server.listen_after_bind(); });
  // httplib's stop() does nothing before the accept loop runs: wait for it,
  // so a destructor right after construction cannot join a serving thread.
  while (!impl_->server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

FakeE2B::~FakeE2B() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string FakeE2B::URL() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

ClientConfig FakeE2B::Config() const {
  ClientConfig cfg;
  cfg.APIKey = impl_->options.APIKey;
  cfg.APIBaseURL = URL();
  // Every sandbox's envd at the same address, routed by E2b-Sandbox-Id.
  cfg.SandboxURL = URL();
  return cfg;
}

Client FakeE2B::NewClient() const { return e2b::NewClient(Config()); }

void FakeE2B::OnCommand(
    std::string command_prefix_or_exact,
    std::function<FakeCommandResult(const FakeCommandCall&)> handler) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->handlers[std::move(command_prefix_or_exact)] = std::move(handler);
}

void FakeE2B::FailNext(const std::string& route, int http_status, int times) {
  if (http_status < 400 || http_status > 599 || times < 1) {
    throw InvalidArgumentError(
        "FakeE2B::FailNext: the status must be in [400, 599] and times >= 1",
        0);
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->failures[route] = Impl::Failure{http_status, times};
}

std::vector<FakeCall> FakeE2B::Calls() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->calls;
}

std::vector<FakeCall> FakeE2B::CallsTo(const std::string& route) const {
  std::vector<FakeCall> out;
  for (auto& call : Calls()) {
    if (call.Route == route) out.push_back(std::move(call));
  }
  return out;
}

std::vector<FakeCommandCall> FakeE2B::Commands() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->commands;
}

std::vector<FakeSandbox> FakeE2B::Sandboxes() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<FakeSandbox> out;
  for (const auto& record : impl_->sandboxes) out.push_back(record.info);
  return out;
}

std::optional<FakeSandbox> FakeE2B::Sandbox(
    const std::string& sandbox_id) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const auto* record = impl_->FindLocked(sandbox_id);
  if (record == nullptr) return std::nullopt;
  return record->info;
}

std::optional<std::string> FakeE2B::FileContent(const std::string& sandbox_id,
                                                const std::string& path) const {
  const auto abs = MemFilesystem::Resolve(path);
  std::lock_guard<std::mutex> lock(impl_->mu);
  const auto* record = impl_->FindLocked(sandbox_id);
  if (record == nullptr || !abs) return std::nullopt;
  const MemNode* node = record->files.Find(*abs);
  if (node == nullptr || node->directory) return std::nullopt;
  return node->content;
}

void FakeE2B::WriteFile(const std::string& sandbox_id, const std::string& path,
                        const std::string& content) {
  const auto abs = MemFilesystem::Resolve(path);
  if (!abs) throw InvalidArgumentError("FakeE2B::WriteFile: invalid path", 0);
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto* record = impl_->FindLocked(sandbox_id);
  if (record == nullptr) throw SandboxNotFoundError(sandbox_id, "");
  if (record->files.WriteFile(*abs, content, {}) != MemStatus::kOk) {
    throw Error(0, "FakeE2B::WriteFile: a directory is in the way of " + *abs);
  }
}

}  // namespace e2b::testing
