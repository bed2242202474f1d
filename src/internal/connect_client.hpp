#ifndef E2B_INTERNAL_CONNECT_CLIENT_HPP_
#define E2B_INTERNAL_CONNECT_CLIENT_HPP_

// The one Connect-protocol client of the library (JSON codec, PROTOCOL.md
// section 5): unary calls, server-streaming calls read envelope by envelope
// from the transport's BodyReader, and the single place where Connect and
// envd HTTP errors become e2b exceptions.

#include "internal/connect_envelope.hpp"
#include "internal/http_transport.hpp"

#include <e2b/context.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace e2b::internal {

/// Largest envelope (and unary response) the client accepts. envd sends
/// output in chunks of a few KiB; anything this large is a broken stream.
inline constexpr std::size_t kMaxConnectMessageBytes = std::size_t{16} << 20;

/// Most of an error body kept for the exception message.
inline constexpr std::size_t kMaxErrorBodyBytes = std::size_t{64} << 10;

/// The Connect code a client derives from a non-Connect HTTP error status
/// (connect-go's table: 400 internal, 401 unauthenticated, 403
/// permission_denied, 404 unimplemented, 429/502/503/504 unavailable, else
/// unknown).
std::string ConnectCodeForHttpStatus(int status);

/// Throws the e2b exception for a Connect error, as the Go SDK types it:
/// deadline_exceeded -> TimeoutError, invalid_argument ->
/// InvalidArgumentError, unauthenticated and permission_denied ->
/// AuthenticationError; every other code -> Error; each with the code's
/// HTTP status, the server's message (the code name when the message is
/// empty) with `secrets` redacted, and the request id of `headers`.
[[noreturn]] void ThrowConnectError(
    std::string_view code, std::string_view message,
    const std::vector<std::string>& secrets = {},
    const HttpHeaders* headers = nullptr);

/// When `body` is the edge proxy's answer for an unknown sandbox (HTTP 502
/// {"sandboxId":..,"message":..,"code":502}), the sandbox id it names
/// (`fallback_id` when it names none), with `secrets` scrubbed from it.
std::optional<std::string> EdgeSandboxNotFound(
    int status, std::string_view body, const std::string& fallback_id,
    const std::vector<std::string>& secrets);

/// Throws for a non-200 answer to a Connect call: a Connect error body
/// (string `code`) is mapped by its code; the edge's 502 becomes
/// SandboxNotFoundError; anything else is an Error with the HTTP status and
/// the body's message (error_mapping.hpp), `secrets` redacted.
[[noreturn]] void ThrowConnectHttpError(
    int status, std::string_view body, const std::string& sandbox_id,
    const std::vector<std::string>& secrets = {},
    const HttpHeaders* headers = nullptr);

/// Reads at most `limit` bytes of an error response body; the rest is left
/// unread (the body is about to be discarded).
std::string ReadErrorBody(BodyReader& body, std::size_t limit);

/// One Connect call.
struct ConnectCall {
  /// "/<package>.<Service>/<Method>", e.g. "/process.Process/Start".
  std::string procedure;
  /// Headers besides the Connect ones (access token, routing, auth).
  HttpHeaders headers;
  /// Sent as Connect-Timeout-Ms: the server-side deadline of the call.
  std::optional<std::chrono::milliseconds> server_timeout;
  /// Client-side limit of the whole HTTP exchange (0 = none), combined
  /// with the context's deadline by the transport.
  std::chrono::milliseconds http_timeout{0};
  Context context;
};

/// Reads the messages of a server-streaming response. Not thread-safe.
class ConnectStreamReader {
 public:
  ConnectStreamReader(std::unique_ptr<BodyReader> body, std::string procedure,
                      std::vector<std::string> secrets = {},
                      std::size_t max_message_bytes = kMaxConnectMessageBytes);

  /// The next message (a JSON object), or nullopt once the end-of-stream
  /// envelope reported success. Throws the mapped exception for an
  /// end-of-stream error, and e2b::Error for a broken stream: one that ends
  /// without the end-of-stream envelope or inside an envelope, an oversized
  /// or compressed envelope, or a message that is not a JSON object.
  std::optional<nlohmann::json> Next();

  /// Next() without the parsing: the next message's JSON text, unchecked
  /// (valid until the next call), or null once the end-of-stream envelope
  /// reported success. Throws as Next() does for everything but the text.
  const std::string* NextPayload();

  /// A message text from NextPayload() as Next() would return it: throws
  /// e2b::Error (and the stream counts as broken) when it is not a JSON
  /// object.
  nlohmann::json ParseMessage(std::string_view payload);

 private:
  [[noreturn]] void Fail(const std::string& what) const;
  void FinishStream(const std::string& payload);

  std::unique_ptr<BodyReader> body_;
  std::string procedure_;
  std::vector<std::string> secrets_;
  EnvelopeDecoder decoder_;
  std::unique_ptr<char[]> chunk_;
  std::string payload_;  // the message NextPayload() returned last
  bool finished_ = false;
};

/// Speaks Connect (JSON codec) to one base URL, through the shared
/// transport. Cheap to construct per call.
class ConnectClient {
 public:
  /// `secrets` (the envd access token) are redacted from every error
  /// message the server's text goes into.
  ConnectClient(std::shared_ptr<HttpTransport> transport, std::string base_url,
                std::string sandbox_id, std::vector<std::string> secrets = {});

  /// A unary call: one JSON request, one JSON response (an object). Throws
  /// as ThrowConnectHttpError for non-200 answers.
  nlohmann::json Unary(const ConnectCall& call,
                       const nlohmann::json& request) const;

  /// Starts a server-streaming call and returns its reader once the
  /// response headers arrived with HTTP 200; throws as ThrowConnectHttpError
  /// otherwise.
  std::unique_ptr<ConnectStreamReader> OpenServerStream(
      const ConnectCall& call, const nlohmann::json& request) const;

  /// OpenServerStream up to the checked response, for a caller that holds
  /// its ConnectStreamReader in an object of its own (one allocation).
  std::unique_ptr<BodyReader> OpenServerStreamBody(
      const ConnectCall& call, const nlohmann::json& request) const;

  /// The secrets the client redacts (for a ConnectStreamReader).
  const std::vector<std::string>& Secrets() const { return secrets_; }

 private:
  HttpRequest MakeRequest(const ConnectCall& call, const char* content_type,
                          std::string body) const;

  std::shared_ptr<HttpTransport> transport_;
  std::string base_url_;
  std::string sandbox_id_;
  std::vector<std::string> secrets_;
};

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_CONNECT_CLIENT_HPP_
