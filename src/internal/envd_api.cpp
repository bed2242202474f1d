#include "internal/envd_api.hpp"

#include "internal/base64.hpp"
#include "internal/client_state.hpp"
#include "internal/error_mapping.hpp"
#include "internal/filesystem_mapping.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>

#include <cstddef>
#include <string>
#include <utility>

namespace e2b::internal {
namespace {

using nlohmann::json;

const char* SignalName(ProcessSignal signal) {
  switch (signal) {
    case ProcessSignal::Kill:
      return "SIGNAL_SIGKILL";
    case ProcessSignal::Term:
      return "SIGNAL_SIGTERM";
  }
  throw Error(0, "unknown process signal");
}

bool IsProcessNotFound(const Error& e) {
  // A Connect not_found maps to 404; a vanished sandbox is its own type.
  return e.StatusCode() == 404 &&
         dynamic_cast<const SandboxNotFoundError*>(&e) == nullptr;
}

// The procedure's name in messages ("process.Process/Start"): constants
// for the two process streams, so opening one copies no name.
const std::string& MessageName(const std::string& procedure,
                               std::string& storage) {
  static const std::string kStart = "process.Process/Start";
  static const std::string kConnect = "process.Process/Connect";
  if (procedure == "/process.Process/Start") return kStart;
  if (procedure == "/process.Process/Connect") return kConnect;
  storage = procedure.substr(procedure.rfind('/', 0) == 0 ? 1 : 0);
  return storage;
}

// Asks, after a stream broke mid-way, whether the sandbox is still there:
// true when it is not (its end cut the stream).
using SandboxGoneProbe = std::function<bool()>;

// What a stream that broke mid-way throws. On E2B a sandbox that is
// killed or times out takes its connections with it, so when envd's edge
// then says the sandbox is gone, the break is SandboxNotFoundError (the
// official SDKs probe the same way); any other break is the transport's
// error, rethrown.
[[noreturn]] void RethrowStreamBreak(const SandboxGoneProbe& gone,
                                     const std::string& sandbox_id) {
  bool is_gone = false;
  try {
    is_gone = gone();
  } catch (const std::exception&) {
    // The probe failing says nothing either way.
  }
  if (is_gone) {
    throw SandboxNotFoundError(
        sandbox_id,
        "the sandbox was killed or reached its end of life while the "
        "stream was open");
  }
  throw;
}

// A Start/Connect stream read envelope by envelope; the reader lives in
// this object, so opening a stream costs no allocation beyond the reader's.
class ConnectProcessEvents final : public ProcessEventStream {
 public:
  ConnectProcessEvents(std::unique_ptr<BodyReader> body,
                       const std::string& procedure,
                       const std::vector<std::string>& secrets,
                       std::string sandbox_id, SandboxGoneProbe gone)
      : reader_(std::move(body), procedure, secrets),
        name_(MessageName(procedure, other_name_)),
        sandbox_id_(std::move(sandbox_id)),
        gone_(std::move(gone)) {}
  ConnectProcessEvents(const ConnectProcessEvents&) = delete;
  ConnectProcessEvents& operator=(const ConnectProcessEvents&) = delete;
  ~ConnectProcessEvents() override = default;

  std::optional<ProcessEvent> Next() override {
    try {
      return NextProcessEvent(reader_, name_);
    } catch (const TransientTransportError&) {
      RethrowStreamBreak(gone_, sandbox_id_);
    }
  }

 private:
  ConnectStreamReader reader_;
  std::string other_name_;  // the name when it is not a constant
  const std::string& name_;
  std::string sandbox_id_;
  SandboxGoneProbe gone_;
};

// The ConnectCall of a filesystem.Filesystem `method`: the envd headers,
// Basic authorization for `user` (when not empty), and `timeout` (else
// `request_timeout`) as both the server and the client limit.
ConnectCall FilesystemRpcCall(const SandboxState& sandbox, const char* method,
                              const Context& ctx, const std::string& user,
                              std::chrono::milliseconds timeout,
                              std::chrono::milliseconds request_timeout) {
  if (timeout.count() < 0)
    throw InvalidArgumentError("file timeout is negative", 0);
  ConnectCall call;
  call.procedure = std::string("/filesystem.Filesystem/") + method;
  call.headers = sandbox.EnvdHeaders();
  if (!user.empty()) {
    call.headers.emplace_back("Authorization", BasicAuthorization(user));
  }
  const auto limit = timeout.count() > 0 ? timeout : request_timeout;
  if (limit.count() > 0) {
    call.server_timeout = limit;
    call.http_timeout = limit;
  }
  call.context = ctx;
  return call;
}

class ConnectWatchEvents final : public WatchEventStream {
 public:
  ConnectWatchEvents(std::unique_ptr<ConnectStreamReader> reader,
                     std::string sandbox_id, SandboxGoneProbe gone)
      : reader_(std::move(reader)),
        sandbox_id_(std::move(sandbox_id)),
        gone_(std::move(gone)) {}

  // Until the server confirmed the watch (its first message), failures
  // are the caller's: a missing path, a file, an unknown user.
  void ExpectStart() {
    auto first = reader_->Next();
    if (!first) {
      throw Error(0, "WatchDir: the stream ended before the watch started");
    }
    if (ReadWatchStreamMessage(*first).kind !=
        WatchStreamMessage::Kind::kStart) {
      throw Error(0, "WatchDir: the first message is not the start event");
    }
  }

  std::optional<FilesystemEvent> Next() override {
    try {
      while (auto message = reader_->Next()) {
        auto read = ReadWatchStreamMessage(*message);
        if (read.event) return std::move(*read.event);  // else start, keepalive
      }
    } catch (const TransientTransportError&) {
      RethrowStreamBreak(gone_, sandbox_id_);
    }
    return std::nullopt;
  }

 private:
  std::unique_ptr<ConnectStreamReader> reader_;
  std::string sandbox_id_;
  SandboxGoneProbe gone_;
};

class ConnectEnvdApi final : public EnvdApi {
 public:
  explicit ConnectEnvdApi(ConnectEnvdOptions options)
      : options_(std::move(options)) {}

  bool Health(const Context& ctx, const SandboxState& s) override {
    // Any other answer (the edge's 502 for a sandbox that is gone or
    // paused, a 404 from a proxy, envd failing) means "not running", as in
    // the Go SDK; only a failure to get an answer throws.
    const int status = HealthStatus(ctx, s);
    return status == 200 || status == 204;
  }

  std::unique_ptr<ProcessEventStream> OpenProcessStream(
      const SandboxState& s, const ConnectCall& call,
      const json& request) override {
    const auto client = ClientFor(s, call.procedure);
    return std::make_unique<ConnectProcessEvents>(
        client.OpenServerStreamBody(call, request), call.procedure,
        client.Secrets(), s.id, GoneProbe(s));
  }

  std::vector<ProcessInfo> ListProcesses(
      const Context& ctx, const SandboxState& s,
      std::chrono::milliseconds timeout) override {
    return ParseProcessList(
        Unary(ctx, s, "/process.Process/List", json::object(), timeout));
  }

  bool SendSignal(const Context& ctx, const SandboxState& s,
                  const json& selector, ProcessSignal signal,
                  std::chrono::milliseconds timeout) override {
    const json request{{"process", selector}, {"signal", SignalName(signal)}};
    try {
      Unary(ctx, s, "/process.Process/SendSignal", request, timeout);
    } catch (const Error& e) {
      if (IsProcessNotFound(e)) return false;
      throw;
    }
    return true;
  }

  void SendInput(const Context& ctx, const SandboxState& s,
                 const json& selector, std::string_view data, bool pty,
                 std::chrono::milliseconds timeout) override {
    const json request{
        {"process", selector},
        {"input", {{pty ? "pty" : "stdin", Base64Encode(data)}}}};
    Unary(ctx, s, "/process.Process/SendInput", request, timeout);
  }

  void CloseStdin(const Context& ctx, const SandboxState& s,
                  const json& selector,
                  std::chrono::milliseconds timeout) override {
    Unary(ctx, s, "/process.Process/CloseStdin", json{{"process", selector}},
          timeout);
  }

  void ResizePty(const Context& ctx, const SandboxState& s,
                 const json& selector, std::uint32_t cols, std::uint32_t rows,
                 std::chrono::milliseconds timeout) override {
    const json request{{"process", selector},
                       {"pty", {{"size", {{"cols", cols}, {"rows", rows}}}}}};
    Unary(ctx, s, "/process.Process/Update", request, timeout);
  }

  std::vector<FileInfo> ListDir(const Context& ctx, const SandboxState& s,
                                const std::string& path, std::uint32_t depth,
                                const std::string& user,
                                std::chrono::milliseconds timeout) override {
    const auto answer =
        FileUnary(ctx, s, "ListDir", user, timeout,
                  {{"path", path}, {"depth", depth}}, path, kIdempotent);
    return EntriesOfAnswer(answer, "ListDir");
  }

  FileInfo Stat(const Context& ctx, const SandboxState& s,
                const std::string& path, const std::string& user,
                std::chrono::milliseconds timeout) override {
    return EntryOfAnswer(FileUnary(ctx, s, "Stat", user, timeout,
                                   {{"path", path}}, path, kIdempotent),
                         "Stat");
  }

  bool MakeDir(const Context& ctx, const SandboxState& s,
               const std::string& path, const std::string& user,
               std::chrono::milliseconds timeout) override {
    try {
      FileUnary(ctx, s, "MakeDir", user, timeout, {{"path", path}}, path,
                kChanges);
      return true;
    } catch (const SandboxNotFoundError&) {
      throw;
    } catch (const Error& e) {
      // already_exists: the directory is there, which is what was asked.
      if (e.StatusCode() == 409) return false;
      throw;
    }
  }

  void Remove(const Context& ctx, const SandboxState& s,
              const std::string& path, const std::string& user,
              std::chrono::milliseconds timeout) override {
    FileUnary(ctx, s, "Remove", user, timeout, {{"path", path}}, path,
              kChanges);
  }

  FileInfo Move(const Context& ctx, const SandboxState& s,
                const std::string& source, const std::string& destination,
                const std::string& user,
                std::chrono::milliseconds timeout) override {
    return EntryOfAnswer(
        FileUnary(ctx, s, "Move", user, timeout,
                  {{"source", source}, {"destination", destination}}, source,
                  kChanges),
        "Move");
  }

  std::string CreateWatcher(const Context& ctx, const SandboxState& s,
                            const std::string& path, bool recursive,
                            const std::string& user,
                            std::chrono::milliseconds timeout) override {
    const auto answer =
        FileUnary(ctx, s, "CreateWatcher", user, timeout,
                  {{"path", path}, {"recursive", recursive}}, path, kChanges);
    return WatcherIdOfAnswer(answer, "CreateWatcher");
  }

  std::vector<FilesystemEvent> GetWatcherEvents(
      const Context& ctx, const SandboxState& s, const std::string& watcher_id,
      const std::string& user) override {
    const auto answer = FileClient(s, kChanges)
                            .Unary(FileCall(s, "GetWatcherEvents", ctx, user,
                                            std::chrono::milliseconds{0}),
                                   {{"watcherId", watcher_id}});
    return EventsOfAnswer(answer, "GetWatcherEvents");
  }

  std::vector<FileInfo> UploadFiles(const Context& ctx, const SandboxState& s,
                                    FileUpload upload) override {
    HttpRequest request =
        FilesRequest("POST", ctx, s, upload.path, upload.user, upload.timeout);
    // The upload answer is a short JSON array; more than this is not envd.
    request.max_response_bytes = std::size_t{1} << 20;
    for (auto& header : upload.headers) {
      request.headers.push_back(std::move(header));
    }
    request.body = std::move(upload.body);
    request.body_stream = upload.body_stream;
    request.body_size = upload.body_size;
    // Retried only when the request never left; a streamed body never.
    const HttpResponse response = options_.write_transport->Send(request);
    if (upload.check_source) upload.check_source();
    if (response.status != 200 && response.status != 201) {
      ThrowFilesStatus(s, response.status, response.body, upload.error_path,
                       response.headers);
    }
    return ParseUploadEntries(response.body);
  }

  std::unique_ptr<BodyReader> OpenFile(const Context& ctx,
                                       const SandboxState& s,
                                       const FileDownload& download) override {
    HttpRequest request = FilesRequest("GET", ctx, s, download.path,
                                       download.user, download.timeout);
    if (download.range) request.headers.emplace_back("Range", *download.range);
    auto body = options_.idempotent_transport->Open(request);
    const int status = body->Status();
    if (status == 200) return body;
    if (status == 206 && download.accept_partial) return body;
    if (status == 416 && download.range) return body;
    const std::string text = ReadErrorBody(*body, kMaxErrorBodyBytes);
    ThrowFilesStatus(s, status, text, download.path, body->Headers());
  }

  std::unique_ptr<WatchEventStream> OpenWatchStream(
      const Context& ctx, const SandboxState& s, const std::string& path,
      const WatchParams& params) override {
    ConnectCall call =
        FileCall(s, "WatchDir", ctx, params.User, std::chrono::milliseconds{0});
    // A stream lives until stopped: no client-side limit; the server ends
    // it at WithWatchTimeout.
    call.http_timeout = std::chrono::milliseconds(0);
    call.server_timeout.reset();
    if (params.Timeout.count() > 0) call.server_timeout = params.Timeout;
    call.headers.emplace_back("Keepalive-Ping-Interval", "50");
    const json request = {{"path", path},
                          {"recursive", params.Recursive},
                          {"includeEntry", params.IncludeEntry}};
    try {
      auto events = std::make_unique<ConnectWatchEvents>(
          FileClient(s, kChanges).OpenServerStream(call, request), s.id,
          GoneProbe(s));
      events->ExpectStart();
      return events;
    } catch (...) {
      RethrowForPath(path);
    }
  }

  bool RemoveWatcher(const Context& ctx, const SandboxState& s,
                     const std::string& watcher_id,
                     const std::string& user) override {
    try {
      FileClient(s, kChanges)
          .Unary(FileCall(s, "RemoveWatcher", ctx, user,
                          std::chrono::milliseconds{0}),
                 {{"watcherId", watcher_id}});
      return true;
    } catch (const SandboxNotFoundError&) {
      throw;
    } catch (const Error& e) {
      // not_found: the watcher is already gone.
      if (e.StatusCode() != 404) throw;
      return false;
    }
  }

 private:
  // Whether a filesystem RPC only reads, so that it may be retried
  // (ClientConfig::Retry); RPCs that change files never are.
  static constexpr bool kIdempotent = true;
  static constexpr bool kChanges = false;

  // The status of GET /health.
  int HealthStatus(const Context& ctx, const SandboxState& s) const {
    ctx.ThrowIfDone("GET /health");
    HttpRequest request;
    request.url = s.envd_url + "/health";
    // No access token: /health is public, and a token has no business
    // there.
    for (auto& header : s.EnvdHeaders()) {
      if (header.first != "X-Access-Token") {
        request.headers.push_back(std::move(header));
      }
    }
    request.timeout = options_.request_timeout;
    request.context = ctx;
    request.operation = "GET /health";
    request.route = "/health";
    request.max_response_bytes = std::size_t{1} << 20;
    return options_.idempotent_transport->Send(request).status;
  }

  // After a stream of `s` broke: does envd's edge say the sandbox is gone
  // (its 502; anything else proves nothing)? Bounded like the official
  // SDKs' probe (5 s).
  SandboxGoneProbe GoneProbe(const SandboxState& s) const {
    return [this, sandbox = s] {
      return HealthStatus(Context::WithTimeout(std::chrono::seconds(5)),
                          sandbox) == 502;
    };
  }

  ConnectClient FileClient(const SandboxState& s, bool idempotent) const {
    return ConnectClient(
        idempotent ? options_.idempotent_transport : options_.write_transport,
        s.envd_url, s.id, {s.access_token});
  }

  ConnectCall FileCall(const SandboxState& s, const char* method,
                       const Context& ctx, const std::string& user,
                       std::chrono::milliseconds timeout) const {
    return FilesystemRpcCall(s, method, ctx, user, timeout,
                             options_.request_timeout);
  }

  // A /files request; no `path` = no ?path= (a multipart batch).
  static HttpRequest FilesRequest(const char* method, const Context& ctx,
                                  const SandboxState& s,
                                  std::optional<std::string_view> path,
                                  std::string_view user,
                                  std::chrono::milliseconds timeout) {
    if (timeout.count() < 0)
      throw InvalidArgumentError("file timeout is negative", 0);
    Query query;
    if (path) query.Add("path", *path);
    if (!user.empty()) query.Add("username", user);
    HttpRequest request;
    request.method = method;
    request.url = JoinUrl(s.envd_url, "/files") + query.Encode();
    request.headers = s.EnvdHeaders();
    request.timeout = timeout;
    request.context = ctx;
    request.operation = std::string(method) + " /files";
    request.route = "/files";
    return request;
  }

  // Maps a failed /files answer (PROTOCOL.md section 3).
  [[noreturn]] static void ThrowFilesStatus(const SandboxState& s, int status,
                                            std::string_view body,
                                            std::string_view path,
                                            const HttpHeaders& headers) {
    const std::vector<std::string> secrets = {s.access_token};
    if (auto id = EdgeSandboxNotFound(status, body, s.id, secrets)) {
      ThrowAnswerError(
          SandboxNotFoundError(
              *id, RedactSecrets(ErrorMessageFromBody(body), secrets)),
          &headers, secrets);
    }
    NotFoundSubject subject;
    subject.kind = NotFoundKind::kFile;
    subject.id = std::string(path);
    ThrowHttpError(status, body, subject, secrets, &headers);
  }

  // A unary filesystem RPC whose not_found means "no such `path`".
  json FileUnary(const Context& ctx, const SandboxState& s, const char* method,
                 const std::string& user, std::chrono::milliseconds timeout,
                 const json& request, const std::string& path,
                 bool idempotent) const {
    const ConnectCall call = FileCall(s, method, ctx, user, timeout);
    try {
      return FileClient(s, idempotent).Unary(call, request);
    } catch (...) {
      RethrowForPath(path);
    }
  }

  // The client for one call: retried like an idempotent envd call
  // (ClientConfig::Retry) for the RPCs that only read or set a state
  // (Connect, List, Update), else only when the request never left (Start,
  // SendSignal, SendInput, CloseStdin).
  ConnectClient ClientFor(const SandboxState& s,
                          const std::string& procedure) const {
    const bool idempotent = procedure == "/process.Process/Connect" ||
                            procedure == "/process.Process/List" ||
                            procedure == "/process.Process/Update";
    return ConnectClient(
        idempotent ? options_.idempotent_transport : options_.write_transport,
        s.envd_url, s.id, {s.access_token});
  }

  json Unary(const Context& ctx, const SandboxState& s, const char* procedure,
             const json& request, std::chrono::milliseconds timeout) const {
    ConnectCall call;
    call.procedure = procedure;
    call.headers = s.EnvdHeaders();
    call.http_timeout =
        timeout.count() > 0 ? timeout : options_.request_timeout;
    call.context = ctx;
    return ClientFor(s, call.procedure).Unary(call, request);
  }

  ConnectEnvdOptions options_;
};

}  // namespace

std::shared_ptr<EnvdApi> MakeConnectEnvdApi(ConnectEnvdOptions options) {
  return std::make_shared<ConnectEnvdApi>(std::move(options));
}

}  // namespace e2b::internal
