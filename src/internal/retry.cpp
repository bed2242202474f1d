#include "internal/retry.hpp"

#include "internal/ascii.hpp"
#include "internal/civil_time.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <array>
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

// ---- HTTP-date
// ---------------------------------------------------------------

int MonthIndex(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun",
      "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() != 3) return -1;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (AsciiLower(name[0]) == kMonths[i][0] &&
        AsciiLower(name[1]) == kMonths[i][1] &&
        AsciiLower(name[2]) == kMonths[i][2]) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Splits on spaces, commas and colons.
std::vector<std::string_view> Tokens(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == ',' || text[i] == ':')) {
      ++i;
    }
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != ',' &&
           text[i] != ':') {
      ++i;
    }
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::optional<int> Number(std::string_view text, std::size_t max_digits) {
  const auto value = ParseDecimal(text, max_digits);
  if (!value) return std::nullopt;
  return static_cast<int>(*value);
}

// Seconds since the epoch of an HTTP-date (RFC 9110 section 5.6.7).
std::optional<std::int64_t> ParseHttpDate(std::string_view text) {
  const auto t = Tokens(text);
  std::optional<int> day;
  std::optional<int> year;
  int month = -1;
  std::size_t clock = 0;  // index of the hour token
  if (t.size() == 8 && t[7] == "GMT") {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    day = Number(t[1], 2);
    month = MonthIndex(t[2]);
    year = Number(t[3], 4);
    clock = 4;
  } else if (t.size() == 6 && t[5] == "GMT") {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    const std::string_view date = t[1];
    if (date.size() != 9 || date[2] != '-' || date[6] != '-') {
      return std::nullopt;
    }
    day = Number(date.substr(0, 2), 2);
    month = MonthIndex(date.substr(3, 3));
    year = Number(date.substr(7, 2), 2);
    // RFC 9110: a two-digit year more than 50 years ahead is in the past.
    if (year) *year += *year < 70 ? 2000 : 1900;
    clock = 2;
  } else if (t.size() == 7) {
    // asctime: Sun Nov  6 08:49:37 1994
    month = MonthIndex(t[1]);
    day = Number(t[2], 2);
    year = Number(t[6], 4);
    clock = 3;
  } else {
    return std::nullopt;
  }
  const auto hour = Number(t[clock], 2);
  const auto minute = Number(t[clock + 1], 2);
  const auto second = Number(t[clock + 2], 2);
  if (!day || !year || month < 0 || !hour || !minute || !second || *day < 1 ||
      *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  const std::int64_t days = DaysFromCivil(
      *year, static_cast<unsigned>(month + 1), static_cast<unsigned>(*day));
  return days * 86400 + *hour * 3600 + *minute * 60 + *second;
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
            const RetryRule& rule)
      : original_(request),
        policy_(policy),
        rule_(rule),
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
    return WaitForNext(asked);
  }

  // After a thrown transport failure: true when another attempt follows.
  bool RetryAfterFailure(const Error& error) {
    if (!IsTransientFailure(error, original_.context, rule_)) return false;
    return WaitForNext(std::nullopt);
  }

  int attempts() const { return attempts_; }

 private:
  bool WaitForNext(std::optional<milliseconds> asked) {
    if (attempts_ >= policy_.MaxAttempts) return false;
    const milliseconds delay =
        asked ? Min(*asked, policy_.MaxBackoff)
              : BackoffDelay(policy_, attempts_, RandomUnit());
    // A wait that outlasts the call would only turn the answer into a
    // timeout; the answer says more.
    if (deadline_ && Clock::now() + delay >= *deadline_) return false;
    Wait(delay, original_);
    return true;
  }

  const HttpRequest& original_;
  const RetryPolicy& policy_;
  const RetryRule& rule_;
  Clock::time_point start_;
  std::optional<Clock::time_point> deadline_;
  HttpRequest retry_;
  int attempts_ = 0;
};

class RetryingTransport final : public HttpTransport {
 public:
  RetryingTransport(std::shared_ptr<HttpTransport> inner, RetryPolicy policy,
                    const RetryRule& rule)
      : inner_(std::move(inner)), policy_(std::move(policy)), rule_(rule) {}

  HttpResponse Send(const HttpRequest& request) override {
    if (request.body_stream != nullptr) return inner_->Send(request);
    return SendWithRetry(*inner_, request, policy_, rule_);
  }

  std::unique_ptr<BodyReader> Open(const HttpRequest& request) override {
    if (request.body_stream != nullptr) return inner_->Open(request);
    return OpenWithRetry(*inner_, request, policy_, rule_);
  }

 private:
  std::shared_ptr<HttpTransport> inner_;
  RetryPolicy policy_;
  RetryRule rule_;
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
    throw Error(0,
                "RetryPolicy.MaxAttempts must be at least 1 (1 = no "
                "retries), got " +
                    std::to_string(policy.MaxAttempts));
  }
  if (policy.InitialBackoff.count() < 0 || policy.MaxBackoff.count() < 0) {
    throw Error(0,
                "RetryPolicy.InitialBackoff and MaxBackoff must not be "
                "negative");
  }
  if (policy.MaxBackoff < policy.InitialBackoff) {
    throw Error(0, "RetryPolicy.MaxBackoff must not be below InitialBackoff");
  }
  if (!(policy.BackoffMultiplier >= 1.0) ||
      !std::isfinite(policy.BackoffMultiplier)) {
    throw Error(0,
                "RetryPolicy.BackoffMultiplier must be a finite number of "
                "at least 1");
  }
  if (!(policy.Jitter >= 0.0 && policy.Jitter <= 1.0)) {
    throw Error(0, "RetryPolicy.Jitter must be between 0 and 1");
  }
}

milliseconds BackoffDelay(const RetryPolicy& policy, int retry,
                          double random01) {
  const double cap = static_cast<double>(policy.MaxBackoff.count());
  double delay = static_cast<double>(policy.InitialBackoff.count());
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
  const auto at = ParseHttpDate(value);
  if (!at) return std::nullopt;
  const auto now_ms =
      std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
  const std::int64_t left = *at * 1000 - now_ms;
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
                           RetryOutcome* outcome) {
  if (request.body_stream != nullptr) {
    throw Error(
        0, request.operation + ": a streamed request body cannot be retried");
  }
  RetryLoop loop(request, policy, rule);
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
                                          const RetryRule& rule) {
  if (request.body_stream != nullptr) {
    throw Error(
        0, request.operation + ": a streamed request body cannot be retried");
  }
  RetryLoop loop(request, policy, rule);
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
    const RetryRule& rule) {
  return std::make_shared<RetryingTransport>(std::move(inner),
                                             std::move(policy), rule);
}

}  // namespace e2b::internal
