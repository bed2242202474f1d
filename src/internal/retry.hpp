#ifndef E2B_INTERNAL_RETRY_HPP_
#define E2B_INTERNAL_RETRY_HPP_

// The one place that retries HTTP exchanges (ClientConfig::Retry). Callers
// decide whether a call is idempotent and pass only those here; this file
// decides what is worth another attempt and how long to wait:
//
// * a TransientTransportError (refused, reset, closed early, truncated,
//   DNS); never a timeout, a cancelled Context or any other failure the
//   transport throws (a body above the buffering cap, a TLS certificate
//   failure, a malformed request), which another attempt cannot fix. A call
//   that is not idempotent (RetryRule::after_send false) is retried only
//   when the request certainly never left (no connection was made);
// * the statuses in RetryRule (429/502/503/504 for the API; envd leaves
//   out 502, which the edge answers for a sandbox that is gone; none for
//   calls that are not idempotent).
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
#include "internal/observability.hpp"

#include <e2b/client.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace e2b::internal {

/// What a call may be retried after.
struct RetryRule {
  /// The answers worth another attempt.
  std::vector<int> statuses;
  /// Whether a failure after the request may have reached the server is
  /// worth another attempt: true only for idempotent calls.
  bool after_send = true;
  bool Contains(int status) const;
};

/// Idempotent control-plane calls: 429, 502, 503, 504 and any transient
/// failure.
const RetryRule& ApiRetryRule();
/// Idempotent envd calls: 429, 503, 504 (envd's and the edge's transient
/// answers) and any transient failure.
const RetryRule& EnvdRetryRule();
/// Calls that are not idempotent: only a failure before the request left.
const RetryRule& UnsentRetryRule();

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
/// another attempt under `rule`: a TransientTransportError (for a rule
/// without after_send, one whose request never left) while `ctx` is live.
bool IsTransientFailure(const Error& error, const Context& ctx,
                        const RetryRule& rule);

/// What happened across the attempts of one call.
struct RetryOutcome {
  int attempts = 0;
};

/// transport.Send(request), retried as described above. request.body_stream
/// must be null (a stream cannot be replayed). Returns the last answer even
/// when its status is a retryable one (the caller maps it to an error).
/// `observation`, when given, hears of every retry.
HttpResponse SendWithRetry(HttpTransport& transport, const HttpRequest& request,
                           const RetryPolicy& policy, const RetryRule& rule,
                           RetryOutcome* outcome = nullptr,
                           CallObservation* observation = nullptr);

/// transport.Open(request), retried until response headers with a status
/// outside `rule` arrive; never once a body reader has been handed out.
std::unique_ptr<BodyReader> OpenWithRetry(
    HttpTransport& transport, const HttpRequest& request,
    const RetryPolicy& policy, const RetryRule& rule,
    CallObservation* observation = nullptr);

/// A transport that performs every Send and Open through SendWithRetry and
/// OpenWithRetry under `rule`; for code that takes a transport (the Connect
/// client, /files). Requests with a body_stream go through unretried.
/// Every exchange, retried or not, is logged and reported to `obs` (null =
/// neither) as one CallObservation: every HTTP call of a Client passes
/// through one of these decorators.
std::shared_ptr<HttpTransport> MakeRetryingTransport(
    std::shared_ptr<HttpTransport> inner, RetryPolicy policy,
    const RetryRule& rule, std::shared_ptr<const Observability> obs = nullptr);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_RETRY_HPP_
