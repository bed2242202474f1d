// FakeE2B: one cpp-httplib server on 127.0.0.1 answering both the control
// plane (REST, PROTOCOL.md section 2) and envd (Connect JSON and /files,
// sections 3 to 5) from in-memory state. Requests are routed in steps:
// classify (route name, sandbox), inject a requested failure, authorize,
// then the route's handler (fake_e2b_control_plane.cpp, fake_e2b_envd.cpp).
// The wire codecs are the library's own (connect_envelope, json_mapping,
// base64, url, filesystem_mapping).

#include "internal/url.hpp"
#include "testing/fake_e2b_impl.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>

namespace e2b::testing {
namespace internal {

using nlohmann::json;

std::string FormatRfc3339(std::chrono::system_clock::time_point at) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void RestError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"code", status}, {"message", message}}.dump(), kJson);
}

std::optional<json> ParseObject(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

}  // namespace internal

namespace {

using internal::Classified;
using internal::kJson;
using internal::MemFilesystem;
using internal::MemNode;
using internal::MemStatus;
using internal::Protocol;
using internal::RestError;
using nlohmann::json;

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

}  // namespace

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
