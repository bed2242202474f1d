#include "envd/envd_server.hpp"

#include "envd/envd_auth.hpp"
#include "envd/files_handler.hpp"
#include "internal/connect_envelope.hpp"
#include "util/base64.hpp"
#include "util/failure.hpp"
#include "util/http_text.hpp"

#include <httplib.h>

#include <algorithm>
#include <mutex>
#include <string_view>

namespace e2b_local {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxRpcBody = std::size_t{16} << 20;
constexpr const char kDefaultUser[] = "user";

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void AllowCors(httplib::Response& res) {
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_header("Access-Control-Expose-Headers", "*");
}

json ErrorJson(const std::string& code, const std::string& message) {
  return json{{"code", code}, {"message", message}};
}

void SetConnectError(httplib::Response& res, int status,
                     const std::string& code, const std::string& message) {
  res.status = status;
  res.set_content(Dump(ErrorJson(code, message)), "application/json");
}

// Envelope output of one server stream. Handlers may Send from several
// threads; frames never interleave. Once the sandbox stops running (killed,
// timed out, paused) nothing more goes out and the stream is cut: on E2B
// the VM is gone, so the connection drops without an end frame, and the
// SDKs tell that apart from an ordinary end (a killed command's exit).
class EnvelopeStreamWriter : public StreamWriter {
 public:
  EnvelopeStreamWriter(httplib::DataSink& sink, const LocalSandbox& sandbox)
      : sink_(sink), sandbox_(sandbox) {}

  bool Send(const json& message) override { return Write(0, Dump(message)); }
  bool ClientConnected() const override {
    if (SandboxGone()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    return !failed_ && (!sink_.is_writable || sink_.is_writable());
  }
  bool Write(std::uint8_t flags, const std::string& payload) {
    const bool gone = SandboxGone();
    std::string frame = e2b::internal::EncodeEnvelope(flags, payload);
    std::lock_guard<std::mutex> lock(mu_);
    if (gone) cut_ = true;
    if (failed_ || closed_ || cut_) return false;
    if (!sink_.write(frame.data(), frame.size())) failed_ = true;
    return !failed_;
  }
  // After the end-of-stream frame nothing more may be written.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }

 private:
  bool SandboxGone() const {
    return sandbox_.Status() != SandboxStatus::kRunning;
  }

  httplib::DataSink& sink_;
  const LocalSandbox& sandbox_;
  mutable std::mutex mu_;
  bool failed_ = false;
  bool closed_ = false;
  bool cut_ = false;
};

struct StreamState {
  EnvdCall call;
  const StreamHandler* handler = nullptr;
  json request;
  std::optional<ConnectError> early_error;  ///< reported without running
  bool done = false;
};

// Runs the handler inside httplib's chunked provider, so every message goes
// to the socket as it is produced; errors end up in the end-of-stream frame.
bool RunStream(StreamState& state, httplib::DataSink& sink) {
  if (state.done) {
    sink.done();
    return true;
  }
  state.done = true;
  EnvelopeStreamWriter writer(sink, *state.call.sandbox);
  json end = json::object();
  if (state.early_error) {
    end["error"] =
        ErrorJson(state.early_error->code, state.early_error->what());
  } else {
    try {
      (*state.handler)(state.call, state.request, writer);
    } catch (const ConnectError& e) {
      end["error"] = ErrorJson(e.code, e.what());
    } catch (const json::exception& e) {
      end["error"] = ErrorJson("invalid_argument",
                               std::string("invalid request: ") + e.what());
    } catch (const std::exception& e) {
      end["error"] = ErrorJson("internal", e.what());
    } catch (...) {
      end["error"] = ErrorJson("internal", "unexpected failure");
    }
  }
  bool ok = writer.Write(e2b::internal::kEnvelopeEndStream, Dump(end));
  writer.Close();
  // Client gone, or the sandbox ended (Cut): abort the response, which
  // closes the connection without the chunked body's end.
  if (!ok) return false;
  sink.done();
  return true;
}

// httplib sets the status to 400 when a body it is asked to read turns out
// malformed (a broken multipart body), over whatever the handler had
// already answered. A handler that has decided on an error and only drains
// the body keeps its status, so the status and the error body agree.
httplib::ContentReader KeepingDecidedError(const httplib::ContentReader& reader,
                                           httplib::Response& res) {
  auto keep = [&res](int before, bool ok) {
    if (!ok && before >= 400) res.status = before;
    return ok;
  };
  return httplib::ContentReader(
      [&reader, &res, keep](httplib::ContentReceiver receiver) {
        const int before = res.status;
        return keep(before, reader(std::move(receiver)));
      },
      [&reader, &res, keep](httplib::MultipartContentHeader header,
                            httplib::ContentReceiver receiver) {
        const int before = res.status;
        return keep(before, reader(std::move(header), std::move(receiver)));
      });
}

// The JSON body E2B's edge (client-proxy) answers with for a sandbox it
// cannot reach: {"sandboxId", "message", "code"}, plus "port" for answers
// about one port.
void SetEdgeError(httplib::Response& res, const std::string& id, int status,
                  const std::string& message,
                  std::optional<int> port = std::nullopt) {
  res.status = status;
  json body{{"sandboxId", id}, {"message", message}, {"code", status}};
  if (port) body["port"] = *port;
  res.set_content(Dump(body), "application/json");
}

// The answer for a request the proxy could not forward. A closed port gets
// the edge's own answer; the edge has no answer of its own for the others
// (it waits for as long as its load balancer does, and calls any transport
// error a closed port), so they say what happened in the same shape.
void AnswerForwardFailure(httplib::Response& res, const std::string& id,
                          int port, const PortForwardFailure& failure) {
  using Kind = PortForwardFailure::Kind;
  const std::string server =
      "The sandbox's server on port " + std::to_string(port) + " ";
  switch (failure.kind) {
    case Kind::kClosed:
      SetEdgeError(res, id, 502, "The sandbox is running but port is not open",
                   port);
      return;
    case Kind::kTimeout:
      SetEdgeError(res, id, 504, server + failure.detail, port);
      return;
    case Kind::kBadResponse:
      SetEdgeError(
          res, id, 502,
          server + "sent an answer that cannot be forwarded: " + failure.detail,
          port);
      return;
    case Kind::kUnsupported:
      SetEdgeError(res, id, 501, failure.detail, port);
      return;
    case Kind::kBadRequest:
      SetEdgeError(res, id, 400, failure.detail, port);
      return;
    case Kind::kNoNetwork:
      SetEdgeError(res, id, 502, failure.detail, port);
      return;
  }
}

}  // namespace

std::optional<std::string> BasicAuthUser(const std::string& authorization) {
  const std::string value = TrimWhitespace(authorization);
  if (Lowercase(value.substr(0, 6)) != "basic ") return std::nullopt;
  auto decoded = Base64Decode(TrimWhitespace(value.substr(6)));
  if (!decoded) {
    throw ConnectError("unauthenticated", "invalid Basic authorization header");
  }
  std::string name = decoded->substr(0, decoded->find(':'));
  if (name.empty()) return std::nullopt;
  return name;
}

std::optional<std::chrono::milliseconds> ParseConnectTimeout(
    const std::optional<std::string>& header) {
  if (!header) return std::nullopt;
  std::string text = TrimWhitespace(*header);
  if (!AllDigits(text) || text.size() > 10) {
    throw ConnectError("invalid_argument",
                       "invalid Connect-Timeout-Ms header: '" + text + "'");
  }
  return std::chrono::milliseconds(std::stoll(text));
}

std::chrono::seconds ParseKeepaliveInterval(const std::string& header) {
  std::string text = TrimWhitespace(header);
  if (AllDigits(text) && text.size() <= 9) {
    long long value = std::stoll(text);
    if (value > 0) return std::chrono::seconds(value);
  }
  return std::chrono::seconds(90);
}

const char* RpcContentType(bool unary) {
  return unary ? "application/json" : "application/connect+json";
}

bool RpcContentTypeMatches(const std::string& content_type, bool unary) {
  return MediaType(content_type) == RpcContentType(unary);
}

json DecodeUnaryRequest(const std::string& body) {
  json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (body.empty() || !request.is_object()) {
    throw ConnectError("invalid_argument",
                       body.empty() ? "empty request body: send {}"
                                    : "request body is not a JSON object");
  }
  return request;
}

json DecodeStreamRequest(const std::string& body) {
  std::optional<e2b::internal::Envelope> envelope;
  try {
    e2b::internal::EnvelopeDecoder decoder(kMaxRpcBody);
    decoder.Feed(body);
    envelope = decoder.Next();
    if (!envelope || decoder.HasPartial() || decoder.Next()) {
      envelope.reset();
    }
  } catch (const e2b::internal::EnvelopeError& e) {
    throw ConnectError("invalid_argument", e.what());
  }
  if (!envelope) {
    throw ConnectError("invalid_argument",
                       "a server-streaming request takes exactly one "
                       "complete envelope");
  }
  if (envelope->Compressed() || envelope->EndStream()) {
    throw ConnectError("invalid_argument",
                       "unexpected envelope flags in the request");
  }
  json request = json::parse(envelope->payload, nullptr, false);
  if (!request.is_object()) {
    throw ConnectError("invalid_argument",
                       "request message is not a JSON object");
  }
  return request;
}

std::string SandboxIdFromRequest(const httplib::Request& req) {
  std::string header = TrimWhitespace(req.get_header_value("E2b-Sandbox-Id"));
  if (!header.empty()) return header;
  std::string host = Lowercase(TrimWhitespace(req.get_header_value("Host")));
  if (host.empty() || host[0] == '[') return {};  // IPv6 literal
  std::string label = host.substr(0, host.find_first_of(".:"));
  std::size_t dash = label.find('-');
  if (dash == std::string::npos || dash + 1 >= label.size()) return {};
  if (!AllDigits(label.substr(0, dash))) return {};
  return label.substr(dash + 1);
}

EnvdServer::EnvdServer(SandboxDirectory& sandboxes,
                       PausedSandboxResumer resume_paused,
                       PortProxyLimits proxy_limits)
    : sandboxes_(sandboxes),
      resume_paused_(std::move(resume_paused)),
      proxy_limits_(proxy_limits) {
  RegisterProcessService(registry_);
  RegisterFilesystemService(registry_);
}

std::shared_ptr<LocalSandbox> EnvdServer::FindBySignature(
    const httplib::Request& req, const std::string& operation) const {
  // Every candidate is checked, match or not, so the time taken says
  // nothing about which sandbox (or how many) the signature fits.
  std::shared_ptr<LocalSandbox> match;
  int matches = 0;
  for (const auto& sandbox : sandboxes_.List()) {
    if (!sandbox) continue;
    if (FilesSignatureMatches(req, operation, sandbox->access_token)) {
      match = sandbox;
      ++matches;
    }
  }
  return matches == 1 ? match : nullptr;
}

std::shared_ptr<LocalSandbox> EnvdServer::Route(const httplib::Request& req,
                                                httplib::Response& res,
                                                const char* files_operation,
                                                int port) const {
  std::string id = SandboxIdFromRequest(req);
  std::shared_ptr<LocalSandbox> sandbox;
  if (id.empty() && files_operation != nullptr && req.has_param("signature") &&
      !req.has_header("X-Access-Token")) {
    // A signed URL handed to a third party: the SDK builds it from the
    // shared envd base, so it names no sandbox and only the signature can.
    sandbox = FindBySignature(req, files_operation);
    if (!sandbox) {
      SetEnvdHttpError(res, 401, kEnvdUnauthorized);
      return nullptr;
    }
    id = sandbox->id;
  } else if (id.empty()) {
    SetEnvdHttpError(res, 400,
                     "cannot tell which sandbox this request is for: send the "
                     "E2b-Sandbox-Id header or use a <port>-<sandboxID> host");
    return nullptr;
  } else {
    sandbox = sandboxes_.Find(id);
  }
  if (sandbox && sandbox->instance &&
      sandbox->Status() == SandboxStatus::kPaused) {
    if (!AutoResume(*sandbox, req, res, files_operation, port)) {
      return nullptr;
    }
  }
  if (!sandbox || !sandbox->instance ||
      sandbox->Status() != SandboxStatus::kRunning) {
    SetEdgeError(res, id, 502, "The sandbox was not found");
    return nullptr;
  }
  return sandbox;
}

bool EnvdServer::AutoResume(LocalSandbox& sandbox, const httplib::Request& req,
                            httplib::Response& res, const char* files_operation,
                            int port) const {
  bool auto_resume = false;
  {
    std::lock_guard<std::mutex> lock(sandbox.mu);
    // As E2B: a filesystem-only pause is resumed explicitly (connect),
    // never by traffic.
    auto_resume = sandbox.auto_resume && !sandbox.halted;
  }
  // E2B's edge: a paused sandbox is not in its catalog; without
  // auto-resume the answer is its "not found".
  if (!auto_resume || !resume_paused_) {
    SetEdgeError(res, sandbox.id, 502, "The sandbox was not found");
    return false;
  }
  // Only a caller holding the sandbox's credentials may wake it: E2B checks
  // the envd access token of a secure sandbox before resuming for envd, and
  // the traffic access token of a private one for its other ports.
  const bool refused =
      port == kEnvdPort
          ? EnvdCredentialsRefused(sandbox, req, files_operation).has_value()
          : TrafficTokenRefused(sandbox, req).has_value();
  if (refused) {
    SetEdgeError(res, sandbox.id, 403,
                 "This sandbox can't be resumed with the credentials "
                 "provided. Check your access token and try again.");
    return false;
  }
  try {
    resume_paused_(sandbox.id);
  } catch (const Failure& e) {
    // E2B's edge passes the cap on as 429; anything else is its "not found".
    if (e.reason == Failure::Reason::kLimitReached) {
      SetEdgeError(res, sandbox.id, 429, e.what());
    } else {
      SetEdgeError(res, sandbox.id, 502, "The sandbox was not found");
    }
    return false;
  }
  return true;
}

bool EnvdServer::ForwardedToSandboxPort(
    const httplib::Request& req, httplib::Response& res,
    const httplib::ContentReader* reader) const {
  const std::optional<int> port = SandboxPortFromRequest(req);
  if (port == kEnvdPort) return false;
  auto answered = [&] {
    if (reader != nullptr) DiscardRequestBody(req, *reader);
    return true;
  };
  if (!port) {
    // The edge's answer (Go's http.Error).
    res.status = 400;
    res.set_content("Invalid sandbox port\n", "text/plain; charset=utf-8");
    return answered();
  }
  auto sandbox = Route(req, res, nullptr, *port);
  if (!sandbox) return answered();
  if (auto refused = TrafficTokenRefused(*sandbox, req)) {
    SetEdgeError(res, sandbox->id, 403, *refused);
    return answered();
  }
  // An upgrade (WebSocket) leaves httplib: its answer and the bytes after
  // it go on the client's connection, taken from the listener.
  auto failure = IsUpgradeRequest(req)
                     ? TunnelToSandboxPort(*sandbox, *port, req, reader,
                                           TakeRequestConnection, proxy_limits_)
                     : ForwardToSandboxPort(*sandbox, *port, req, res, reader,
                                            proxy_limits_);
  if (failure) AnswerForwardFailure(res, sandbox->id, *port, *failure);
  return true;
}

void EnvdServer::Mount(httplib::Server& server) {
  // Each envd handler first lets the proxy take requests addressed to
  // another sandbox port; the catch-all handlers at the end take them on
  // every other method and path (and answer 404 for envd, as before).
  server.Get("/health",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (ForwardedToSandboxPort(req, res, nullptr)) return;
               AllowCors(res);
               // With routing information the edge answers for that sandbox
               // (502 when it is gone); without, this is the server's own
               // health.
               if (!SandboxIdFromRequest(req).empty() && !Route(req, res))
                 return;
               res.status = 204;
             });

  server.Options(".*", [this](const httplib::Request& req,
                              httplib::Response& res) {
    if (ForwardedToSandboxPort(req, res, nullptr)) return;
    AllowCors(res);
    res.set_header("Access-Control-Allow-Methods",
                   "GET, POST, PUT, DELETE, OPTIONS");
    std::string asked = req.get_header_value("Access-Control-Request-Headers");
    res.set_header("Access-Control-Allow-Headers", asked.empty() ? "*" : asked);
    res.set_header("Access-Control-Max-Age", "7200");
    res.status = 204;
  });

  server.Get("/files",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (ForwardedToSandboxPort(req, res, nullptr)) return;
               AllowCors(res);
               auto sandbox = Route(req, res, "read");
               if (sandbox) HandleFilesGet(sandbox, req, res);
             });

  server.Post("/files",
              [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& raw_reader) {
                if (ForwardedToSandboxPort(req, res, &raw_reader)) return;
                AllowCors(res);
                const auto reader = KeepingDecidedError(raw_reader, res);
                auto sandbox = Route(req, res, "write");
                if (!sandbox) {
                  DiscardRequestBody(req, reader);
                  return;
                }
                HandleFilesPost(*sandbox, req, res, reader);
              });

  server.Post(R"(/[A-Za-z0-9_.]+/[A-Za-z0-9_]+)",
              [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
                if (ForwardedToSandboxPort(req, res, &reader)) return;
                AllowCors(res);
                HandleRpc(req, res, KeepingDecidedError(reader, res));
              });

  auto forward_or_404 = [this](const httplib::Request& req,
                               httplib::Response& res) {
    if (!ForwardedToSandboxPort(req, res, nullptr)) res.status = 404;
  };
  auto forward_body_or_404 = [this](const httplib::Request& req,
                                    httplib::Response& res,
                                    const httplib::ContentReader& reader) {
    if (ForwardedToSandboxPort(req, res, &reader)) return;
    DiscardRequestBody(req, reader);
    res.status = 404;
  };
  server.Get(".*", forward_or_404);  // and HEAD
  server.Post(".*", forward_body_or_404);
  server.Put(".*", forward_body_or_404);
  server.Patch(".*", forward_body_or_404);
  server.Delete(".*", forward_body_or_404);
}

namespace {

// The handler an RPC path names: exactly one of the two is set.
struct RpcProcedure {
  const UnaryHandler* unary = nullptr;
  const StreamHandler* stream = nullptr;
};

// What was read of an RPC body, and why the call fails before its handler
// runs (read failure, bad headers, undecodable request), if it does.
struct RpcBody {
  std::string bytes;
  std::optional<ConnectError> error;
};

// Runs `step`; the ConnectError it threw, if any.
template <typename Step>
std::optional<ConnectError> ConnectErrorOf(Step&& step) {
  try {
    step();
  } catch (const ConnectError& e) {
    return e;
  }
  return std::nullopt;
}

// Sets call.user from the Basic header, the default user without one;
// false after writing the 401.
bool ResolveCallUser(const httplib::Request& req, httplib::Response& res,
                     EnvdCall& call) {
  std::string username = call.sandbox->default_user.empty()
                             ? kDefaultUser
                             : call.sandbox->default_user;
  auto bad_header = ConnectErrorOf([&] {
    if (auto name = BasicAuthUser(req.get_header_value("Authorization"))) {
      username = *name;
      call.user_from_header = true;
    }
  });
  if (bad_header) {
    SetConnectError(res, 401, bad_header->code, bad_header->what());
    return false;
  }
  auto user = call.sandbox->instance->LookupUser(username);
  if (!user) {
    SetConnectError(res, 401, "unauthenticated",
                    "invalid username: '" + username + "'");
    return false;
  }
  call.user = *user;
  return true;
}

// The procedure at req.path; nullopt after writing the 404.
std::optional<RpcProcedure> FindProcedure(const RpcRegistry& registry,
                                          const httplib::Request& req,
                                          httplib::Response& res) {
  RpcProcedure procedure{registry.FindUnary(req.path),
                         registry.FindStream(req.path)};
  if (procedure.unary == nullptr && procedure.stream == nullptr) {
    SetConnectError(res, 404, "unimplemented",
                    req.path + " is not implemented");
    return std::nullopt;
  }
  return procedure;
}

// Whether the Content-Type fits the procedure; false after writing the 415.
bool AcceptsContentType(const httplib::Request& req, httplib::Response& res,
                        const RpcProcedure& procedure) {
  const bool unary = procedure.unary != nullptr;
  if (RpcContentTypeMatches(req.get_header_value("Content-Type"), unary)) {
    return true;
  }
  const char* expected = RpcContentType(unary);
  res.status = 415;
  res.set_header("Accept-Post", expected);
  res.set_content(
      Dump(ErrorJson("unknown", std::string("unsupported content type; "
                                            "this endpoint takes ") +
                                    expected)),
      "application/json");
  return false;
}

// The body, up to kMaxRpcBody. A body that was not read whole leaves the
// connection out of step, so that answer closes it.
RpcBody ReadRpcBody(const httplib::ContentReader& reader,
                    httplib::Response& res) {
  RpcBody body;
  bool too_large = false;
  bool read_ok = reader([&](const char* data, std::size_t size) {
    if (body.bytes.size() + size > kMaxRpcBody) {
      too_large = true;
      return false;
    }
    body.bytes.append(data, size);
    return true;
  });
  if (too_large) {
    res.set_header("Connection", "close");
    body.error.emplace("resource_exhausted",
                       "request body is larger than 16 MiB");
  } else if (!read_ok) {
    res.set_header("Connection", "close");
    body.error.emplace("invalid_argument", "cannot read the request body");
  }
  return body;
}

// Connect-Timeout-Ms and Keepalive-Ping-Interval into `call`.
std::optional<ConnectError> ParseCallHeaders(const httplib::Request& req,
                                             EnvdCall& call) {
  return ConnectErrorOf([&] {
    std::optional<std::string> timeout_header;
    if (req.has_header("Connect-Timeout-Ms")) {
      timeout_header = req.get_header_value("Connect-Timeout-Ms");
    }
    call.timeout = ParseConnectTimeout(timeout_header);
    call.keepalive_interval =
        ParseKeepaliveInterval(req.get_header_value("Keepalive-Ping-Interval"));
  });
}

// Runs a unary handler and writes its 200 answer; the error it ended with
// otherwise.
std::optional<ConnectError> RunUnary(const UnaryHandler& handler,
                                     EnvdCall& call, const json& request,
                                     httplib::Response& res) {
  try {
    json response = handler(call, request);
    res.status = 200;
    res.set_content(Dump(response.is_null() ? json::object() : response),
                    "application/json");
    return std::nullopt;
  } catch (const ConnectError& e) {
    return e;
  } catch (const json::exception& e) {
    return ConnectError("invalid_argument",
                        std::string("invalid request: ") + e.what());
  } catch (const std::exception& e) {
    return ConnectError("internal", e.what());
  }
}

// A unary call's answer: the handler's response, or a Connect error body
// with the HTTP status of its code.
void AnswerUnary(const UnaryHandler& handler, EnvdCall& call, RpcBody body,
                 httplib::Response& res) {
  json request;
  std::optional<ConnectError> error = std::move(body.error);
  if (!error) {
    error = ConnectErrorOf([&] { request = DecodeUnaryRequest(body.bytes); });
  }
  if (!error) error = RunUnary(handler, call, request, res);
  if (!error) return;
  SetConnectError(res, e2b::internal::ConnectCodeHttpStatus(error->code),
                  error->code, error->what());
}

// A streaming call's answer: always 200; the handler runs inside the
// chunked provider, and an error found before it (`body.error`, an
// undecodable request) goes out as the end-of-stream frame.
void StartStream(const StreamHandler& handler, EnvdCall call, RpcBody body,
                 httplib::Response& res) {
  auto state = std::make_shared<StreamState>();
  state->call = std::move(call);
  state->handler = &handler;
  std::optional<ConnectError> error = std::move(body.error);
  if (!error) {
    error = ConnectErrorOf(
        [&] { state->request = DecodeStreamRequest(body.bytes); });
  }
  state->early_error = std::move(error);
  res.status = 200;
  res.set_chunked_content_provider(
      "application/connect+json",
      [state](std::size_t, httplib::DataSink& sink) {
        return RunStream(*state, sink);
      });
}

}  // namespace

void EnvdServer::HandleRpc(const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader) const {
  // The order of the checks is the order of the answers: 502, 401, 404, 415.
  std::optional<EnvdCall> call = AuthenticateRpc(req, res);
  std::optional<RpcProcedure> procedure;
  if (call) procedure = FindProcedure(registry_, req, res);
  if (!procedure || !AcceptsContentType(req, res, *procedure)) {
    // Every early answer drains the body first so the connection stays usable.
    DiscardRequestBody(req, reader);
    return;
  }
  RpcBody body = ReadRpcBody(reader, res);
  if (!body.error) body.error = ParseCallHeaders(req, *call);
  if (procedure->unary != nullptr) {
    AnswerUnary(*procedure->unary, *call, std::move(body), res);
  } else {
    StartStream(*procedure->stream, std::move(*call), std::move(body), res);
  }
}

std::optional<EnvdCall> EnvdServer::AuthenticateRpc(
    const httplib::Request& req, httplib::Response& res) const {
  auto sandbox = Route(req, res);
  if (!sandbox) return std::nullopt;
  if (auto refused = EnvdCredentialsRefused(*sandbox, req, nullptr)) {
    SetEnvdHttpError(res, 401, *refused);
    return std::nullopt;
  }
  EnvdCall call;
  call.sandbox = sandbox;
  call.http = &req;
  if (!ResolveCallUser(req, res, call)) return std::nullopt;
  return call;
}

}  // namespace e2b_local
