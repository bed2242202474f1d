#ifndef E2B_INTERNAL_OBSERVABILITY_HPP_
#define E2B_INTERNAL_OBSERVABILITY_HPP_

// What a Client logs and reports about its HTTP calls (ClientConfig::Logger,
// LogLevel, Observer). The retry decorator (retry.cpp), which every
// exchange passes through, makes one CallObservation per logical call; this
// file decides what a log line and a CallRecord say. Log lines show URLs
// through LoggableUrl (url.hpp) and never a header, so API keys and access
// tokens (all sent in headers) cannot reach them; signed URLs lose their
// query values.

#include "internal/http_transport.hpp"

#include <e2b/client.hpp>
#include <e2b/logging.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace e2b::internal {

/// A Client's resolved logger, level and observer. Immutable once made.
struct Observability {
  std::shared_ptr<Logger> logger;
  LogLevel level = LogLevel::kDebug;
  std::shared_ptr<CallObserver> observer;

  bool Logs(LogLevel l) const {
    return logger != nullptr && static_cast<int>(l) >= static_cast<int>(level);
  }
  bool Active() const { return logger != nullptr || observer != nullptr; }
  /// Passes `message` to the logger when `l` is enabled; swallows what the
  /// logger throws.
  void Log(LogLevel l, std::string_view message) const noexcept;
};

/// Whether an E2B_DEBUG value asks for the default logger: set, not empty,
/// not "0" and not "false" (any case).
bool DebugLoggingRequested(const char* e2b_debug);

/// cfg.Logger (or, when null and E2B_DEBUG asks for it, MakeStderrLogger()),
/// cfg.LogLevel and cfg.Observer; null when there is neither a logger nor
/// an observer, so calls pay nothing.
std::shared_ptr<const Observability> ResolveObservability(
    const ClientConfig& cfg);

/// One logical call (its attempts and waits) as it is logged and reported.
/// Made before the first attempt; ends with Answered or Failed, called on
/// the caller's thread.
class CallObservation {
 public:
  CallObservation(const Observability& obs, const HttpRequest& request);

  /// Retry `retry` (1 = the first) follows after `delay`, because of an
  /// answer with `status` or (status 0) the failure `error`.
  void Retrying(int retry, std::chrono::milliseconds delay, int status,
                const Error* error);
  /// The final answer. `response_bytes` is the buffered body's size (0 for
  /// a stream).
  void Answered(int status, const HttpHeaders& headers,
                std::uint64_t response_bytes, bool streamed);
  /// The call threw `error` (null: something that is not an e2b::Error).
  void Failed(const std::exception* error);
  /// `body`, wrapped so that the end of the stream is logged when debug
  /// lines are enabled.
  std::unique_ptr<BodyReader> WatchStream(std::unique_ptr<BodyReader> body);

 private:
  std::chrono::microseconds Elapsed() const;
  void Report(CallRecord& record);

  const Observability& obs_;
  const HttpRequest& request_;
  std::chrono::steady_clock::time_point start_;
  int retries_ = 0;
};

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_OBSERVABILITY_HPP_
