#include "internal/retry.hpp"

#include <e2b/errors.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <utility>

namespace e2b::internal {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds Min(milliseconds a, milliseconds b) { return a < b ? a : b; }

double RandomUnit() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

// ---- the retry loop
// ----------------------------------------------------------

// The earliest of the Context's deadline and `timeout` from `start`.
std::optional<Clock::time_point> CallDeadline(const HttpRequest& request,
                                              Clock::time_point start) {
  std::optional<Clock::time_point> deadline = request.context.Deadline();
  if (request.timeout.count() > 0) {
    const auto own = start + request.timeout;
    if (!deadline || own < *deadline) deadline = own;
  }
  return deadline;
}

// Sleeps `delay` in short slices so a cancelled Context ends the wait
// promptly; throws as Context::ThrowIfDone when it does.
void Wait(milliseconds delay, const HttpRequest& request) {
  constexpr milliseconds kSlice{10};
  const auto until = Clock::now() + delay;
  for (;;) {
    request.context.ThrowIfDone(request.operation.c_str());
    const auto now = Clock::now();
    if (now >= until) return;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, kSlice));
  }
}

// Drives the attempts of one call. `attempt(request)` performs one exchange
// and returns the status to judge (or throws a transport failure).
class RetryLoop {
 public:
  RetryLoop(const HttpRequest& request, const RetryPolicy& policy,
            const RetryRule& rule, CallObservation* observation)
      : original_(request),
        policy_(policy),
        rule_(rule),
        observation_(observation),
        start_(Clock::now()),
        deadline_(CallDeadline(request, start_)) {}

  // The request for the next attempt: the first is the caller's own (no
  // copy on the common path); a retry gets the call's remaining time as its
  // timeout, so retries never stretch the call beyond its limit.
  const HttpRequest& Next() {
    ++attempts_;
    if (attempts_ == 1) return original_;
    retry_ = original_;
    if (original_.timeout.count() > 0) {
      const auto left = std::chrono::ceil<milliseconds>(
          start_ + original_.timeout - Clock::now());
      retry_.timeout = std::max(left, milliseconds(1));
    }
    return retry_;
  }

  // After an answer with `status`: true when another attempt follows (the
  // wait is done).
  bool RetryAfterStatus(int status, const HttpHeaders& headers) {
    if (!rule_.Contains(status)) return false;
    std::optional<milliseconds> asked;
    if (auto value = FindHeader(headers, "Retry-After")) {
      asked = ParseRetryAfter(*value, std::chrono::system_clock::now());
    }
    return WaitForNext(asked, status, nullptr);
  }

  // After a thrown transport failure: true when another attempt follows.
  bool RetryAfterFailure(const Error& error) {
    if (!IsTransientFailure(error, original_.context, rule_)) return false;
    return WaitForNext(std::nullopt, 0, &error);
  }

  int attempts() const { return attempts_; }

 private:
  // `status` (or, when 0, `error`) says why, for the observation.
  bool WaitForNext(std::optional<milliseconds> asked, int status,
                   const Error* error) {
    if (attempts_ >= policy_.MaxAttempts) return false;
    const milliseconds delay =
        asked ? Min(*asked, policy_.MaxBackoff)
              : BackoffDelay(policy_, attempts_, RandomUnit());
    // A wait that outlasts the call would only turn the answer into a
    // timeout; the answer says more.
    if (deadline_ && Clock::now() + delay >= *deadline_) return false;
    if (observation_ != nullptr) {
      observation_->Retrying(attempts_, delay, status, error);
    }
    Wait(delay, original_);
    return true;
  }

  const HttpRequest& original_;
  const RetryPolicy& policy_;
  const RetryRule& rule_;
  CallObservation* observation_;
  Clock::time_point start_;
  std::optional<Clock::time_point> deadline_;
  HttpRequest retry_;
  int attempts_ = 0;
};

class RetryingTransport final : public HttpTransport {
 public:
  RetryingTransport(std::shared_ptr<HttpTransport> inner, RetryPolicy policy,
                    RetryRule rule, std::shared_ptr<const Observability> obs)
      : inner_(std::move(inner)),
        policy_(policy),
        rule_(std::move(rule)),
        obs_(std::move(obs)) {}

  HttpResponse Send(const HttpRequest& request) override {
    return Observed(
        request,
        [&](CallObservation* observation) {
          return Exchange(request, observation);
        },
        [](CallObservation& observation, HttpResponse response) {
          observation.Answered(response.status, response.headers,
                               response.body.size(), false);
          return response;
        });
  }

  std::unique_ptr<BodyReader> Open(const HttpRequest& request) override {
    return Observed(
        request,
        [&](CallObservation* observation) {
          return OpenStream(request, observation);
        },
        [](CallObservation& observation, std::unique_ptr<BodyReader> body) {
          observation.Answered(body->Status(), body->Headers(), 0, true);
          return observation.WatchStream(std::move(body));
        });
  }

 private:
  HttpResponse Exchange(const HttpRequest& request,
                        CallObservation* observation) {
    if (request.body_stream != nullptr) return inner_->Send(request);
    return SendWithRetry(*inner_, request, policy_, rule_, nullptr,
                         observation);
  }

  std::unique_ptr<BodyReader> OpenStream(const HttpRequest& request,
                                         CallObservation* observation) {
    if (request.body_stream != nullptr) return inner_->Open(request);
    return OpenWithRetry(*inner_, request, policy_, rule_, observation);
  }

  // Runs `exchange` (given the observation, or null when nobody observes)
  // and hands its answer to `answered`; a failure is recorded on the
  // observation before it propagates. Send and Open differ only in those two.
  template <typename ExchangeFn, typename AnsweredFn>
  auto Observed(const HttpRequest& request, ExchangeFn exchange,
                AnsweredFn answered) -> decltype(exchange(nullptr)) {
    if (obs_ == nullptr) return exchange(nullptr);
    CallObservation observation(*obs_, request);
    try {
      return answered(observation, exchange(&observation));
    } catch (const std::exception& e) {
      observation.Failed(&e);
      throw;
    } catch (...) {
      observation.Failed(nullptr);
      throw;
    }
  }

  std::shared_ptr<HttpTransport> inner_;
  RetryPolicy policy_;
  RetryRule rule_;
  std::shared_ptr<const Observability> obs_;
};

}  // namespace

bool RetryRule::Contains(int status) const {
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

const RetryRule& ApiRetryRule() {
  static const RetryRule rule{{429, 502, 503, 504}, true};
  return rule;
}

const RetryRule& EnvdRetryRule() {
  static const RetryRule rule{{429, 503, 504}, true};
  return rule;
}

const RetryRule& UnsentRetryRule() {
  static const RetryRule rule{{}, false};
  return rule;
}

void ValidateRetryPolicy(const RetryPolicy& policy) {
  if (policy.MaxAttempts < 1) {
    throw InvalidArgumentError(
        "RetryPolicy.MaxAttempts must be at least 1 (1 = no "
        "retries), got " +
            std::to_string(policy.MaxAttempts),
        0);
  }
  if (policy.InitialBackoff.count() < 0 || policy.MaxBackoff.count() < 0) {
    throw InvalidArgumentError(
        "RetryPolicy.InitialBackoff and MaxBackoff must not be "
        "negative",
        0);
  }
  if (policy.MaxBackoff < policy.InitialBackoff) {
    throw InvalidArgumentError(
        "RetryPolicy.MaxBackoff must not be below InitialBackoff", 0);
  }
  if (!(policy.BackoffMultiplier >= 1.0) ||
      !std::isfinite(policy.BackoffMultiplier)) {
    throw InvalidArgumentError(
        "RetryPolicy.BackoffMultiplier must be a finite number of "
        "at least 1",
        0);
  }
  if (!(policy.Jitter >= 0.0 && policy.Jitter <= 1.0)) {
    throw InvalidArgumentError("RetryPolicy.Jitter must be between 0 and 1", 0);
  }
}

milliseconds BackoffDelay(const RetryPolicy& policy, int retry,
                          double random01) {
  const auto cap = static_cast<double>(policy.MaxBackoff.count());
  auto delay = static_cast<double>(policy.InitialBackoff.count());
  for (int i = 1; i < retry && delay < cap; ++i) {
    delay *= policy.BackoffMultiplier;
  }
  delay = std::min(delay, cap);
  const double jitter = std::clamp(policy.Jitter, 0.0, 1.0);
  delay -= delay * jitter * std::clamp(random01, 0.0, 1.0);
  return milliseconds(static_cast<milliseconds::rep>(std::llround(delay)));
}

std::optional<milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  const auto begin = value.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return std::nullopt;
  value = value.substr(begin, value.find_last_not_of(" \t") - begin + 1);
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    // delta-seconds; anything beyond a day is as good as "much later".
    constexpr std::int64_t kDay = 86400;
    std::int64_t seconds = 0;
    for (char c : value) {
      seconds = std::min<std::int64_t>(seconds * 10 + (c - '0'), kDay);
    }
    return milliseconds(seconds * 1000);
  }
  // An HTTP-date (IMF-fixdate, RFC 850 or asctime), read by libcurl, which
  // already parses the dates of cookies and Last-Modified.
  const std::time_t at = curl_getdate(std::string(value).c_str(), nullptr);
  if (at == -1) return std::nullopt;
  const auto now_ms =
      std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
  const std::int64_t left = static_cast<std::int64_t>(at) * 1000 - now_ms;
  return milliseconds(std::max<std::int64_t>(left, 0));
}

bool IsTransientFailure(const Error& error, const Context& ctx,
                        const RetryRule& rule) {
  const auto* transient = dynamic_cast<const TransientTransportError*>(&error);
  if (transient == nullptr || ctx.Done()) return false;
  return rule.after_send || !transient->RequestMayHaveArrived();
}

HttpResponse SendWithRetry(HttpTransport& transport, const HttpRequest& request,
                           const RetryPolicy& policy, const RetryRule& rule,
                           RetryOutcome* outcome,
                           CallObservation* observation) {
  if (request.body_stream != nullptr) {
    throw Error(
        0, request.operation + ": a streamed request body cannot be retried");
  }
  RetryLoop loop(request, policy, rule, observation);
  for (;;) {
    if (outcome != nullptr) outcome->attempts = loop.attempts() + 1;
    HttpResponse response;
    try {
      response = transport.Send(loop.Next());
    } catch (const Error& e) {
      if (loop.RetryAfterFailure(e)) continue;
      throw;
    }
    if (loop.RetryAfterStatus(response.status, response.headers)) continue;
    response.attempts = loop.attempts();
    return response;
  }
}

std::unique_ptr<BodyReader> OpenWithRetry(HttpTransport& transport,
                                          const HttpRequest& request,
                                          const RetryPolicy& policy,
                                          const RetryRule& rule,
                                          CallObservation* observation) {
  if (request.body_stream != nullptr) {
    throw Error(
        0, request.operation + ": a streamed request body cannot be retried");
  }
  RetryLoop loop(request, policy, rule, observation);
  for (;;) {
    std::unique_ptr<BodyReader> body;
    try {
      body = transport.Open(loop.Next());
    } catch (const Error& e) {
      if (loop.RetryAfterFailure(e)) continue;
      throw;
    }
    // Only headers have arrived: nothing has reached the caller yet, and
    // dropping the reader aborts the unwanted body.
    if (loop.RetryAfterStatus(body->Status(), body->Headers())) continue;
    return body;
  }
}

std::shared_ptr<HttpTransport> MakeRetryingTransport(
    std::shared_ptr<HttpTransport> inner, RetryPolicy policy,
    const RetryRule& rule, std::shared_ptr<const Observability> obs) {
  return std::make_shared<RetryingTransport>(std::move(inner), policy, rule,
                                             std::move(obs));
}

}  // namespace e2b::internal
