#include "internal/observability.hpp"

#include "internal/ascii.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <utility>

namespace e2b {

const char* LogLevelName(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

namespace {

class FunctionLogger final : public Logger {
 public:
  explicit FunctionLogger(std::function<void(LogLevel, std::string_view)> sink)
      : sink_(std::move(sink)) {}
  void Log(LogLevel level, std::string_view message) override {
    if (sink_) sink_(level, message);
  }

 private:
  std::function<void(LogLevel, std::string_view)> sink_;
};

class StderrLogger final : public Logger {
 public:
  void Log(LogLevel level, std::string_view message) override {
    std::string line = std::string("e2b ") + LogLevelName(level) + ": ";
    line.append(message);
    line += '\n';
    // One write per line, so lines from several threads do not interleave.
    const std::lock_guard<std::mutex> lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

 private:
  std::mutex mutex_;
};

class FunctionObserver final : public CallObserver {
 public:
  explicit FunctionObserver(std::function<void(const CallRecord&)> fn)
      : fn_(std::move(fn)) {}
  void OnCall(const CallRecord& record) override {
    if (fn_) fn_(record);
  }

 private:
  std::function<void(const CallRecord&)> fn_;
};

}  // namespace

std::shared_ptr<Logger> MakeLogger(
    std::function<void(LogLevel, std::string_view)> sink) {
  return std::make_shared<FunctionLogger>(std::move(sink));
}

std::shared_ptr<Logger> MakeStderrLogger() {
  return std::make_shared<StderrLogger>();
}

std::shared_ptr<CallObserver> MakeCallObserver(
    std::function<void(const CallRecord&)> fn) {
  return std::make_shared<FunctionObserver>(std::move(fn));
}

}  // namespace e2b

namespace e2b::internal {
namespace {

using Clock = std::chrono::steady_clock;

std::string Milliseconds(std::chrono::microseconds elapsed) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms",
                static_cast<double>(elapsed.count()) / 1000.0);
  return text;
}

// The route with placeholders: the request's own, else the operation's
// text after the method ("GET /files" -> "/files").
std::string RouteOf(const HttpRequest& request) {
  if (!request.route.empty()) return request.route;
  const auto space = request.operation.find(' ');
  return space == std::string::npos ? request.operation
                                    : request.operation.substr(space + 1);
}

std::uint64_t RequestBytes(const HttpRequest& request) {
  if (request.body_stream != nullptr) return request.body_size.value_or(0);
  return request.body.size();
}

CallErrorKind KindOf(const std::exception* error, const Context& ctx) {
  if (dynamic_cast<const TimeoutError*>(error) != nullptr) {
    return CallErrorKind::kTimeout;
  }
  if (dynamic_cast<const TransientTransportError*>(error) != nullptr) {
    return CallErrorKind::kNetwork;
  }
  if (ctx.Cancelled()) return CallErrorKind::kCancelled;
  return CallErrorKind::kOther;
}

const char* KindName(CallErrorKind kind) {
  switch (kind) {
    case CallErrorKind::kNone:
      return "none";
    case CallErrorKind::kTimeout:
      return "timeout";
    case CallErrorKind::kCancelled:
      return "cancelled";
    case CallErrorKind::kNetwork:
      return "network failure";
    case CallErrorKind::kOther:
      return "failure";
  }
  return "failure";
}

// A stream's body, passed through; logs how the stream ended.
class WatchedBodyReader final : public BodyReader {
 public:
  WatchedBodyReader(std::unique_ptr<BodyReader> inner, Observability obs,
                    std::string what)
      : inner_(std::move(inner)),
        obs_(std::move(obs)),
        what_(std::move(what)),
        start_(Clock::now()) {}

  ~WatchedBodyReader() override {
    if (!ended_) End("closed");
  }
  WatchedBodyReader(const WatchedBodyReader&) = delete;
  WatchedBodyReader& operator=(const WatchedBodyReader&) = delete;

  int Status() const override { return inner_->Status(); }
  const HttpHeaders& Headers() const override { return inner_->Headers(); }

  std::size_t Read(char* buffer, std::size_t size) override {
    std::size_t n = 0;
    try {
      n = inner_->Read(buffer, size);
    } catch (const std::exception& e) {
      End(std::string("failed: ") + e.what());
      throw;
    }
    bytes_ += n;
    if (n == 0 && !ended_) End("ended");
    return n;
  }

 private:
  void End(const std::string& how) noexcept {
    ended_ = true;
    try {
      const auto elapsed =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
                                                                start_);
      obs_.Log(LogLevel::kDebug, "stream " + how + ": " + what_ + ", " +
                                     std::to_string(bytes_) + " bytes in " +
                                     Milliseconds(elapsed));
    } catch (...) {  // NOLINT(bugprone-empty-catch): logging never throws
    }
  }

  std::unique_ptr<BodyReader> inner_;
  Observability obs_;
  std::string what_;
  Clock::time_point start_;
  std::uint64_t bytes_ = 0;
  bool ended_ = false;
};

}  // namespace

void Observability::Log(LogLevel l, std::string_view message) const noexcept {
  if (!Logs(l)) return;
  try {
    logger->Log(l, message);
  } catch (...) {  // NOLINT(bugprone-empty-catch): documented in logging.hpp
  }
}

bool DebugLoggingRequested(const char* e2b_debug) {
  if (e2b_debug == nullptr) return false;
  const std::string_view value(e2b_debug);
  return !value.empty() && value != "0" && !EqualsNoCase(value, "false");
}

std::shared_ptr<const Observability> ResolveObservability(
    const ClientConfig& cfg) {
  auto obs = std::make_shared<Observability>();
  obs->logger = cfg.Logger;
  if (!obs->logger && DebugLoggingRequested(std::getenv("E2B_DEBUG"))) {
    obs->logger = MakeStderrLogger();
  }
  obs->level = cfg.LogLevel;
  obs->observer = cfg.Observer;
  if (!obs->Active()) return nullptr;
  return obs;
}

CallObservation::CallObservation(const Observability& obs,
                                 const HttpRequest& request)
    : obs_(obs), request_(request), start_(Clock::now()) {
  if (!obs_.Logs(LogLevel::kDebug)) return;
  std::string line = "-> " + request.method + " " + LoggableUrl(request.url);
  const std::uint64_t bytes = RequestBytes(request);
  if (bytes > 0) line += ", " + std::to_string(bytes) + " bytes";
  if (request.body_stream != nullptr) line += " (streamed body)";
  obs_.Log(LogLevel::kDebug, line);
}

void CallObservation::Retrying(int retry, std::chrono::milliseconds delay,
                               int status, const Error* error) {
  retries_ = retry;
  if (!obs_.Logs(LogLevel::kInfo)) return;
  std::string why = status != 0        ? "status " + std::to_string(status)
                    : error != nullptr ? std::string(error->what())
                                       : std::string("failure");
  obs_.Log(LogLevel::kInfo, "retry " + std::to_string(retry) + " of " +
                                request_.method + " " + RouteOf(request_) +
                                " in " + std::to_string(delay.count()) +
                                " ms: " + why);
}

std::chrono::microseconds CallObservation::Elapsed() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
                                                               start_);
}

void CallObservation::Answered(int status, const HttpHeaders& headers,
                               std::uint64_t response_bytes, bool streamed) {
  CallRecord record;
  record.Status = status;
  record.ResponseBytes = response_bytes;
  record.Streamed = streamed;
  // The server's text: printable ASCII only, as it may reach a log line.
  for (char c : FindHeader(headers, "X-Request-Id").value_or("")) {
    if (c > 0x20 && c < 0x7f) record.RequestID += c;
  }
  Report(record);
}

void CallObservation::Failed(const std::exception* error) {
  CallRecord record;
  record.ErrorKind = KindOf(error, request_.context);
  record.ErrorMessage = error != nullptr ? error->what() : "unknown exception";
  Report(record);
}

void CallObservation::Report(CallRecord& record) {
  record.Method = request_.method;
  record.Route = RouteOf(request_);
  record.Host = UrlHost(request_.url);
  record.RequestBytes = RequestBytes(request_);
  record.Duration = Elapsed();
  record.Retries = retries_;
  const LogLevel level = record.ErrorKind == CallErrorKind::kNone
                             ? LogLevel::kDebug
                             : LogLevel::kWarn;
  if (obs_.Logs(level)) {
    std::string line = "<- " + record.Method + " " + record.Route + " ";
    if (record.ErrorKind == CallErrorKind::kNone) {
      line += std::to_string(record.Status);
      line += record.Streamed
                  ? ", stream opened"
                  : ", " + std::to_string(record.ResponseBytes) + " bytes";
    } else {
      line += std::string(KindName(record.ErrorKind)) + " (" +
              record.ErrorMessage + ")";
    }
    line += " in " + Milliseconds(record.Duration);
    if (record.Retries > 0) {
      line += ", " + std::to_string(record.Retries) + " retries";
    }
    if (!record.RequestID.empty()) line += ", request id " + record.RequestID;
    obs_.Log(level, line);
  }
  if (obs_.observer) {
    try {
      obs_.observer->OnCall(record);
    } catch (...) {  // NOLINT(bugprone-empty-catch): documented in logging.hpp
    }
  }
}

std::unique_ptr<BodyReader> CallObservation::WatchStream(
    std::unique_ptr<BodyReader> body) {
  if (!obs_.Logs(LogLevel::kDebug)) return body;
  return std::make_unique<WatchedBodyReader>(
      std::move(body), obs_, request_.method + " " + RouteOf(request_));
}

}  // namespace e2b::internal
