#ifndef E2B_INTERNAL_RETRY_HPP_
#define E2B_INTERNAL_RETRY_HPP_

// The one place that retries HTTP exchanges (ClientConfig::Retry). Callers
// decide whether a call is idempotent and pass only those here; this file
// decides what is worth another attempt and how long to wait:
//
// * a transport failure that is not an HTTP answer (refused, reset, closed
//   early, truncated, DNS), but never a timeout, a cancelled Context, a body
//   above the buffering cap, a TLS certificate failure or a malformed
//   request, which another attempt cannot fix;
// * the statuses in RetryStatuses (429/502/503/504 for the API; envd leaves
//   out 502, which the edge answers for a sandbox that is gone).
//
// The wait before retry n (n = 1, 2, ...) is min(MaxBackoff,
// InitialBackoff * BackoffMultiplier^(n-1)) with its last Jitter fraction
// random, or the answer's Retry-After (seconds or an HTTP-date) capped by
// MaxBackoff. A wait that would end after the call's deadline (the
// Context's, or request.timeout counted from the first attempt) is not
// started: the last answer or failure is the result. A Context cancelled
// while waiting ends the call at once. The request timeout limits the whole
// call, retries and waits included.

#include "internal/http_transport.hpp"

#include <e2b/client.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace e2b::internal {

/// The statuses worth another attempt.
struct RetryStatuses {
  std::vector<int> statuses;
  bool Contains(int status) const;
};

/// 429, 502, 503, 504: the control plane's transient answers.
const RetryStatuses& ApiRetryStatuses();
/// 429, 503, 504: envd's (and the edge's) transient answers.
const RetryStatuses& EnvdRetryStatuses();

/// Throws e2b::Error naming the field when `policy` is unusable
/// (MaxAttempts < 1, a negative backoff, MaxBackoff < InitialBackoff,
/// BackoffMultiplier < 1, Jitter outside [0, 1]).
void ValidateRetryPolicy(const RetryPolicy& policy);

/// The wait before retry number `retry` (1 = the first retry) without a
/// Retry-After; `random01` in [0, 1) picks the jitter.
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry,
                                       double random01);

/// The delay a Retry-After value asks for: delta-seconds or an HTTP-date
/// (IMF-fixdate, RFC 850 or asctime form) relative to `now` (zero for a
/// past date). nullopt when the value is neither.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now);

/// Whether a transport failure (thrown by HttpTransport) may go away on
/// another attempt. False for TimeoutError, errors with an HTTP status, a
/// cancelled Context and the permanent failures listed above.
bool IsTransientFailure(const Error& error, const Context& ctx);

/// What happened across the attempts of one call.
struct RetryOutcome {
  int attempts = 0;
};

/// transport.Send(request), retried as described above. request.body_stream
/// must be null (a stream cannot be replayed). Returns the last answer even
/// when its status is a retryable one (the caller maps it to an error).
HttpResponse SendWithRetry(HttpTransport& transport, const HttpRequest& request,
                           const RetryPolicy& policy,
                           const RetryStatuses& statuses,
                           RetryOutcome* outcome = nullptr);

/// transport.Open(request), retried until response headers with a status
/// outside `statuses` arrive; never once a body reader has been handed out.
std::unique_ptr<BodyReader> OpenWithRetry(HttpTransport& transport,
                                          const HttpRequest& request,
                                          const RetryPolicy& policy,
                                          const RetryStatuses& statuses);

/// A transport that performs every Send and Open through SendWithRetry and
/// OpenWithRetry; for the idempotent calls of code that takes a transport
/// (the Connect client). Requests with a body_stream go through unretried.
std::shared_ptr<HttpTransport> MakeRetryingTransport(
    std::shared_ptr<HttpTransport> inner, RetryPolicy policy,
    const RetryStatuses& statuses);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_RETRY_HPP_
