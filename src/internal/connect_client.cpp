#include "internal/connect_client.hpp"

#include "internal/error_mapping.hpp"
#include "internal/json_mapping.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <cctype>
#include <utility>

namespace e2b::internal {
namespace {

constexpr std::size_t kReadChunkBytes = std::size_t{64} << 10;
// Connect-Timeout-Ms allows at most 10 digits.
constexpr long long kMaxConnectTimeoutMs = 9999999999LL;

// Protobuf strings are UTF-8; nlohmann refuses to serialise anything else.
std::string DumpRequest(const nlohmann::json& request,
                        const std::string& procedure) {
  try {
    return request.dump();
  } catch (const nlohmann::json::exception&) {
    throw Error(0, procedure +
                       ": request contains a string that is not "
                       "valid UTF-8");
  }
}

std::string ProcedureName(const std::string& procedure) {
  return !procedure.empty() && procedure.front() == '/' ? procedure.substr(1)
                                                        : procedure;
}

}  // namespace

std::string ConnectCodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return "internal";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "unimplemented";
    case 429:
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return "unknown";
  }
}

void ThrowConnectError(std::string_view code, std::string_view message,
                       const std::vector<std::string>& secrets,
                       const HttpHeaders* headers) {
  std::string text = RedactSecrets(PrintableServerText(message), secrets);
  // An unknown code stands in for a missing message, so it is as untrusted
  // as the message and gets the same redaction.
  if (text.empty()) {
    text = code.empty() ? "unknown"
                        : RedactSecrets(PrintableServerText(code), secrets);
  }
  const int status = ConnectCodeHttpStatus(code);
  if (code == "deadline_exceeded") {
    ThrowAnswerError(TimeoutError(text), headers, secrets);
  }
  if (code == "invalid_argument") {
    ThrowAnswerError(InvalidArgumentError(text, status), headers, secrets);
  }
  if (code == "unauthenticated" || code == "permission_denied") {
    ThrowAnswerError(AuthenticationError(text, status), headers, secrets);
  }
  ThrowAnswerError(Error(status, text), headers, secrets);
}

std::optional<std::string> EdgeSandboxNotFound(
    int status, std::string_view body, const std::string& fallback_id,
    const std::vector<std::string>& secrets) {
  if (status != 502) return std::nullopt;
  auto object = ParseJsonObject(body);
  if (!object || !object->contains("sandboxId")) return std::nullopt;
  // The ID comes from the answer and goes into what(): scrubbed like the
  // rest of the server's text.
  std::string id = RedactSecrets(StringMember(*object, "sandboxId"), secrets);
  return id.empty() ? fallback_id : id;
}

void ThrowConnectHttpError(int status, std::string_view body,
                           const std::string& sandbox_id,
                           const std::vector<std::string>& secrets,
                           const HttpHeaders* headers) {
  if (auto id = EdgeSandboxNotFound(status, body, sandbox_id, secrets)) {
    ThrowAnswerError(
        SandboxNotFoundError(
            *id, RedactSecrets(ErrorMessageFromBody(body), secrets)),
        headers, secrets);
  }
  if (auto object = ParseJsonObject(body)) {
    const auto code = object->find("code");
    // Only a string code is a Connect error; envd's own middleware answers
    // {"code": <int>, "message": ..} and keeps its HTTP status.
    if (code != object->end() && code->is_string()) {
      ThrowConnectError(code->get<std::string>(),
                        StringMember(*object, "message"), secrets, headers);
    }
  }
  ThrowHttpError(status, body, NotFoundSubject{}, secrets, headers);
}

std::string ReadErrorBody(BodyReader& body, std::size_t limit) {
  std::string out;
  char buffer[8192];
  while (out.size() < limit) {
    const std::size_t want = std::min(sizeof(buffer), limit - out.size());
    const std::size_t got = body.Read(buffer, want);
    if (got == 0) break;
    out.append(buffer, got);
  }
  return out;
}

// ---- ConnectStreamReader ---------------------------------------------------

ConnectStreamReader::ConnectStreamReader(std::unique_ptr<BodyReader> body,
                                         std::string procedure,
                                         std::vector<std::string> secrets,
                                         std::size_t max_message_bytes)
    : body_(std::move(body)),
      procedure_(std::move(procedure)),
      secrets_(std::move(secrets)),
      decoder_(max_message_bytes) {
  procedure_ = ProcedureName(procedure_);
}

void ConnectStreamReader::Fail(const std::string& what) const {
  throw Error(0, procedure_ + ": " + what);
}

std::optional<nlohmann::json> ConnectStreamReader::Next() {
  const std::string* payload = NextPayload();
  if (payload == nullptr) return std::nullopt;
  return ParseMessage(*payload);
}

nlohmann::json ConnectStreamReader::ParseMessage(std::string_view payload) {
  auto message = ParseJsonObject(payload);
  if (!message) {
    finished_ = true;
    Fail("stream message is not a JSON object");
  }
  return std::move(*message);
}

const std::string* ConnectStreamReader::NextPayload() {
  while (!finished_) {
    std::optional<Envelope> envelope;
    try {
      envelope = decoder_.Next();
    } catch (const EnvelopeError& e) {
      finished_ = true;
      Fail(std::string("broken stream: ") + e.what());
    }
    if (envelope) {
      if (envelope->Compressed()) {
        finished_ = true;
        Fail("compressed stream message although no compression was asked");
      }
      if (envelope->EndStream()) {
        finished_ = true;
        FinishStream(envelope->payload);
        return nullptr;
      }
      payload_ = std::move(envelope->payload);
      return &payload_;
    }
    // Allocated once and never zeroed: Read fills what it returns.
    if (!chunk_) chunk_.reset(new char[kReadChunkBytes]);
    const std::size_t got = body_->Read(chunk_.get(), kReadChunkBytes);
    if (got == 0) {
      finished_ = true;
      if (decoder_.HasPartial()) {
        Fail("stream truncated inside a message");
      }
      Fail("stream ended without its end-of-stream message");
    }
    decoder_.Feed(std::string_view(chunk_.get(), got));
  }
  return nullptr;
}

void ConnectStreamReader::FinishStream(const std::string& payload) {
  // An empty end-of-stream payload is read as "{}" (success).
  if (payload.empty()) return;
  auto end = ParseJsonObject(payload);
  if (!end) Fail("end-of-stream message is not a JSON object");
  const auto error = end->find("error");
  if (error == end->end() || error->is_null()) return;
  if (!error->is_object()) Fail("end-of-stream error is not a JSON object");
  std::string code = StringMember(*error, "code");
  if (code.empty()) code = "unknown";
  ThrowConnectError(code, StringMember(*error, "message"), secrets_,
                    body_ ? &body_->Headers() : nullptr);
}

// ---- ConnectClient ---------------------------------------------------------

ConnectClient::ConnectClient(std::shared_ptr<HttpTransport> transport,
                             std::string base_url, std::string sandbox_id,
                             std::vector<std::string> secrets)
    : transport_(std::move(transport)),
      base_url_(std::move(base_url)),
      sandbox_id_(std::move(sandbox_id)),
      secrets_(std::move(secrets)) {
  if (!transport_) throw Error(0, "Connect client has no HTTP transport");
}

HttpRequest ConnectClient::MakeRequest(const ConnectCall& call,
                                       const char* content_type,
                                       std::string body) const {
  HttpRequest request;
  request.method = "POST";
  request.url = JoinUrl(base_url_, call.procedure);
  request.headers = call.headers;
  request.headers.emplace_back("Content-Type", content_type);
  request.headers.emplace_back("Connect-Protocol-Version", "1");
  if (call.server_timeout && call.server_timeout->count() > 0) {
    const long long ms =
        std::min<long long>(call.server_timeout->count(), kMaxConnectTimeoutMs);
    request.headers.emplace_back("Connect-Timeout-Ms", std::to_string(ms));
  }
  request.body = std::move(body);
  request.timeout = call.http_timeout;
  request.context = call.context;
  request.max_response_bytes = kMaxConnectMessageBytes;
  request.operation = "POST " + call.procedure;
  request.route = call.procedure;
  return request;
}

nlohmann::json ConnectClient::Unary(const ConnectCall& call,
                                    const nlohmann::json& request) const {
  HttpResponse response = transport_->Send(
      MakeRequest(call, "application/json",
                  DumpRequest(request, ProcedureName(call.procedure))));
  if (response.status != 200) {
    ThrowConnectHttpError(response.status, response.body, sandbox_id_, secrets_,
                          &response.headers);
  }
  if (response.body.empty()) return nlohmann::json::object();
  auto message = ParseJsonObject(response.body);
  if (!message) {
    throw Error(
        0, ProcedureName(call.procedure) + ": response is not a JSON object");
  }
  return *message;
}

std::unique_ptr<ConnectStreamReader> ConnectClient::OpenServerStream(
    const ConnectCall& call, const nlohmann::json& request) const {
  return std::make_unique<ConnectStreamReader>(
      OpenServerStreamBody(call, request), call.procedure, secrets_);
}

std::unique_ptr<BodyReader> ConnectClient::OpenServerStreamBody(
    const ConnectCall& call, const nlohmann::json& request) const {
  std::unique_ptr<BodyReader> body = transport_->Open(MakeRequest(
      call, "application/connect+json",
      EncodeEnvelope(0, DumpRequest(request, ProcedureName(call.procedure)))));
  if (body->Status() != 200) {
    const int status = body->Status();
    const std::string text = ReadErrorBody(*body, kMaxErrorBodyBytes);
    ThrowConnectHttpError(status, text, sandbox_id_, secrets_,
                          &body->Headers());
  }
  // A 200 that is not a Connect stream (an HTML page from a proxy) would
  // otherwise be misread as envelopes.
  if (auto type = FindHeader(body->Headers(), "Content-Type")) {
    std::string lower;
    for (char c : *type) {
      lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                                           : c);
    }
    if (lower.rfind("application/connect+json", 0) != 0) {
      throw Error(0, ProcedureName(call.procedure) +
                         ": unexpected response content type '" +
                         PrintableServerText(*type) + "'");
    }
  }
  return body;
}

}  // namespace e2b::internal
