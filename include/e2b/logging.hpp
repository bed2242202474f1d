#ifndef E2B_LOGGING_HPP_
#define E2B_LOGGING_HPP_

// Logging and per-call tracing (ClientConfig::Logger, ClientConfig::Observer).
// An e2b-cpp addition: the Go SDK has neither. Nothing the library logs or
// reports carries an API key, an access token or a signed URL's signature.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace e2b {

/// Severity of a log line, least severe first.
enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// "debug", "info", "warn" or "error".
const char* LogLevelName(LogLevel level) noexcept;

/// Receives the library's log lines (one line each, no trailing newline).
/// Called from whichever thread does the work (the caller's, or the thread
/// that reads a background command's stream), so it must be thread-safe.
/// Exceptions it throws are swallowed.
class Logger {
 public:
  virtual ~Logger() = default;
  /// Receives one log line at `level` (no trailing newline, no secrets).
  virtual void Log(LogLevel level, std::string_view message) = 0;
};

/// A Logger that calls `sink` (which must be thread-safe).
std::shared_ptr<Logger> MakeLogger(
    std::function<void(LogLevel, std::string_view)> sink);

/// A Logger that writes "e2b <level>: <message>" lines to stderr; the one a
/// Client uses when ClientConfig::Logger is null and E2B_DEBUG is set (not
/// empty, "0" or "false").
std::shared_ptr<Logger> MakeStderrLogger();

/// Why a call ended without an HTTP answer.
enum class CallErrorKind {
  kNone,       ///< an HTTP answer arrived (any status)
  kTimeout,    ///< the request timeout or the Context's deadline passed
  kCancelled,  ///< the Context was cancelled
  kNetwork,    ///< refused, reset, closed early, DNS
  kOther,      ///< anything else (TLS, a body above the limit, ...)
};

/// One logical HTTP call (all its retries), as ClientConfig::Observer sees
/// it.
struct CallRecord {
  std::string Method;  ///< "GET", "POST", ...
  /// The route with placeholders, never the concrete URL:
  /// "/sandboxes/{sandboxID}", "/files", "/process.Process/Start".
  std::string Route;
  std::string Host;  ///< host[:port] of the URL
  /// The final answer's status; 0 when no answer arrived.
  int Status = 0;
  std::uint64_t RequestBytes = 0;  ///< body bytes sent (0 when unknown)
  /// Body bytes received; 0 for a streamed answer (Streamed), whose body is
  /// read after the record is made.
  std::uint64_t ResponseBytes = 0;
  /// From the first attempt to the final answer (for a stream: to its
  /// headers) or failure, waits between retries included.
  std::chrono::microseconds Duration{0};
  std::string RequestID;  ///< the answer's X-Request-Id, if any
  int Retries = 0;        ///< attempts after the first
  /// True for a response whose body is read as a stream (downloads,
  /// command output, watches).
  bool Streamed = false;
  /// What kind of failure ended the call (kNone: an answer arrived).
  CallErrorKind ErrorKind = CallErrorKind::kNone;
  /// The failure's message when ErrorKind is not kNone (no secrets).
  std::string ErrorMessage;
};

/// Sees every HTTP call a Client makes, once per call after its retries,
/// on the thread that made the call, before the result reaches the caller.
/// Must be thread-safe when the Client is used from many threads.
/// Exceptions it throws are swallowed: observing never changes a call.
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  /// Called once per logical call, after its retries.
  virtual void OnCall(const CallRecord& record) = 0;
};

/// A CallObserver that calls `fn`.
std::shared_ptr<CallObserver> MakeCallObserver(
    std::function<void(const CallRecord&)> fn);

}  // namespace e2b

#endif  // E2B_LOGGING_HPP_
