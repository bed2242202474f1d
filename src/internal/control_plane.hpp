#ifndef E2B_INTERNAL_CONTROL_PLANE_HPP_
#define E2B_INTERNAL_CONTROL_PLANE_HPP_

// The one place that performs an E2B API call: URL join, the X-API-Key,
// User-Agent and JSON headers, the per-request timeout combined with the
// caller's Context, and the mapping of an unexpected status to an exception.

#include "internal/client_state.hpp"
#include "internal/error_mapping.hpp"
#include "internal/http_transport.hpp"
#include "internal/url.hpp"

#include <e2b/context.hpp>

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace e2b::internal {

struct ApiCall {
  std::string method = "GET";
  /// Path below the API base, segments already percent-encoded.
  std::string path;
  Query query;
  /// JSON request body; none = no body and no Content-Type.
  std::optional<nlohmann::json> body;
  /// Statuses that mean success; the answer is returned for them.
  std::vector<int> success;
  /// What a 404 means for this call.
  NotFoundSubject not_found;
  /// For messages, e.g. "GET /sandboxes/{id}" (IDs left out on purpose).
  std::string operation;
};

/// Performs `call` against the client's API. Returns the response when its
/// status is in call.success; throws as ThrowHttpError otherwise, and as the
/// transport does for failures that are not an HTTP answer.
HttpResponse CallApi(const ClientState& client, const Context& ctx,
                     const ApiCall& call);

/// "/<seg1>/<seg2>..." with every segment percent-encoded ("/" too).
std::string ApiPath(std::initializer_list<std::string_view> segments);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_CONTROL_PLANE_HPP_
