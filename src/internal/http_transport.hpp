#ifndef E2B_INTERNAL_HTTP_TRANSPORT_HPP_
#define E2B_INTERNAL_HTTP_TRANSPORT_HPP_

// The one HTTP transport of the library. An HTTP status is data, not a
// failure: Send/Open return a response for any status. They throw only for
// what is not an HTTP answer: e2b::TimeoutError when the request timeout or
// the Context deadline passes, TransientTransportError for a network
// failure another attempt may not meet (refused, reset, closed early,
// truncated, DNS), and e2b::Error (status 0) for everything another attempt
// cannot fix (a cancelled Context, a TLS certificate failure, a header
// value with CR or LF, a buffered body above max_response_bytes). Messages
// name the operation and host, never a header value (API keys and tokens
// travel in headers).

#include <e2b/context.hpp>
#include <e2b/errors.hpp>
#include <e2b/http_client.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace e2b::internal {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// Case-insensitive lookup of the first header named `name`.
std::optional<std::string> FindHeader(const HttpHeaders& headers,
                                      std::string_view name);

/// A network failure that another attempt may not meet. Users see it as
/// the e2b::Error it derives from; the retry code (retry.hpp) reads its
/// kind instead of the message.
class TransientTransportError : public Error {
 public:
  TransientTransportError(std::string message, bool request_may_have_arrived)
      : Error(0, std::move(message)),
        request_may_have_arrived_(request_may_have_arrived) {}
  /// False only when the request certainly never left (no connection was
  /// made: refused, DNS, TLS handshake), so even a call that is not
  /// idempotent may be sent again.
  bool RequestMayHaveArrived() const noexcept {
    return request_may_have_arrived_;
  }

 private:
  bool request_may_have_arrived_;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  /// Request body, used when body_stream is null (sent when non-empty or
  /// when the method is POST/PUT/PATCH).
  std::string body;
  /// Streamed request body read through curl's read callback; chunked
  /// transfer encoding unless body_size is given. Must outlive the call.
  std::istream* body_stream = nullptr;
  std::optional<std::uint64_t> body_size;
  /// Limit for the whole exchange (0 = none); combined with the context
  /// deadline, whichever is earlier.
  std::chrono::milliseconds timeout{0};
  Context context;
  /// Send() refuses to buffer a larger response body (throws e2b::Error).
  std::size_t max_response_bytes = std::size_t{64} << 20;
  /// Short description for error messages, e.g. "GET /sandboxes/{id}".
  std::string operation;
  /// The route with placeholders, e.g. "/sandboxes/{sandboxID}", for log
  /// lines and CallRecord::Route (observability.hpp); empty = the
  /// operation's text after the method.
  std::string route;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  ///< names as received; use FindHeader
  std::string body;
  /// Exchanges that produced this answer: above 1 when the retry decorator
  /// (retry.hpp) sent the request again, so an earlier attempt may have
  /// taken effect even though its answer was lost.
  int attempts = 1;
  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

/// A response whose body is pulled from the network as it is read.
/// Destroying it aborts the transfer if it is not finished. Not thread-safe.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  virtual int Status() const = 0;
  virtual const HttpHeaders& Headers() const = 0;
  /// Reads up to `size` bytes; returns 0 only at the end of the body.
  /// Blocks until at least one byte, the end, or an error (thrown as in
  /// Send: TimeoutError, Error).
  virtual std::size_t Read(char* buffer, std::size_t size) = 0;
  /// Reads the rest of the body; throws e2b::Error above max_bytes.
  std::string ReadAll(std::size_t max_bytes);
};

/// Thread-safe: one instance serves many threads and keeps a pool of
/// connections per host.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  /// Performs the exchange and buffers the response body.
  virtual HttpResponse Send(const HttpRequest& request) = 0;
  /// Performs the exchange up to the response headers and returns a reader
  /// for the body.
  virtual std::unique_ptr<BodyReader> Open(const HttpRequest& request) = 0;
};

/// The libcurl implementation.
std::shared_ptr<HttpTransport> MakeCurlTransport(
    const HTTPClientOptions& options);

/// "e2b-cpp/<version>".
const std::string& UserAgent();

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_HTTP_TRANSPORT_HPP_
