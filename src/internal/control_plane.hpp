#ifndef E2B_INTERNAL_CONTROL_PLANE_HPP_
#define E2B_INTERNAL_CONTROL_PLANE_HPP_

// The one place that performs an E2B API call: URL join, the X-API-Key,
// User-Agent and JSON headers, the per-request timeout combined with the
// caller's Context, and the mapping of an unexpected status to an exception.

#include "internal/client_state.hpp"
#include "internal/error_mapping.hpp"
#include "internal/http_transport.hpp"
#include "internal/json_mapping.hpp"
#include "internal/url.hpp"

#include <e2b/client.hpp>
#include <e2b/context.hpp>

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <map>
#include <memory>
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
  /// Also treat a 400 whose body says "invalid sandbox id" as the 404 above
  /// (the API rejects malformed IDs that way; an ID that cannot exist is
  /// not found).
  bool invalid_id_is_not_found = false;
  /// Whether repeating the call has the effect of doing it once, so that it
  /// may be retried (ClientConfig::Retry) after the request may have
  /// reached the server. GET, HEAD, PUT and DELETE always are; a POST only
  /// when this is set.
  bool idempotent = false;
  /// Secrets besides the API key to scrub from error messages (a sandbox's
  /// envd access token, which the API knows too).
  std::vector<std::string> secrets;
  /// For messages, e.g. "GET /sandboxes/{id}" (IDs left out on purpose).
  std::string operation;
};

/// True when `call` may be retried (its method or call.idempotent).
bool IsIdempotent(const ApiCall& call);

/// Performs `call` against the client's API. Returns the response when its
/// status is in call.success; throws as ThrowHttpError otherwise, and as the
/// transport does for failures that are not an HTTP answer. Idempotent calls
/// are retried as internal/retry.hpp says; a DELETE whose retry finds
/// nothing (404) after an earlier attempt may have deleted it counts as
/// the first success status.
HttpResponse CallApi(const ClientState& client, const Context& ctx,
                     const ApiCall& call);

/// The client configuration with the environment and the defaults applied
/// (PROTOCOL.md section 1.1), validated; what NewClient builds on. Throws
/// e2b::Error for a missing API key or a malformed URL or domain.
std::shared_ptr<ClientState> ResolveClientState(ClientConfig cfg);

/// The state of a sandbox the API just created: its domain is the one the
/// answer names, else the client's. Throws e2b::Error (malformed response
/// from `operation`) when the answer lacks a usable sandboxID, domain or
/// token.
std::shared_ptr<SandboxState> NewSandboxState(
    std::shared_ptr<const ClientState> client, const CreatedSandbox& created,
    const std::string& operation);

/// The `metadata` query value of the sandbox listings (PROTOCOL.md 2.1):
/// pe(pe(k1)=pe(v1)&pe(k2)=pe(v2)) with a strict percent-encoder, which
/// Query::Add then encodes once more. Empty for an empty map.
std::string EncodeMetadataFilter(
    const std::map<std::string, std::string>& metadata);

/// One page of GET /v2/sandboxes with `params` (NextToken from params).
ListSandboxesV2Result ListSandboxesV2Page(const ClientState& client,
                                          const Context& ctx,
                                          const ListSandboxesV2Params& params);

/// "/<seg1>/<seg2>..." with every segment percent-encoded ("/" too).
std::string ApiPath(std::initializer_list<std::string_view> segments);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_CONTROL_PLANE_HPP_
