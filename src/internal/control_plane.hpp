#ifndef E2B_INTERNAL_CONTROL_PLANE_HPP_
#define E2B_INTERNAL_CONTROL_PLANE_HPP_

// Building the client's and a sandbox's state, and the URL pieces of the
// E2B API. The API calls themselves are the ControlPlaneApi's
// (internal/control_plane_api.hpp).

#include "internal/client_state.hpp"
#include "internal/json_mapping.hpp"
#include "internal/url.hpp"

#include <e2b/client.hpp>

#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace e2b::internal {

/// The client configuration with the environment and the defaults applied
/// (PROTOCOL.md section 1.1), validated; what NewClient builds on. Throws
/// e2b::Error for a missing API key or a malformed URL or domain.
std::shared_ptr<ClientState> ResolveClientState(const ClientConfig& cfg);

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

/// "/<seg1>/<seg2>..." with every segment percent-encoded ("/" too).
std::string ApiPath(std::initializer_list<std::string_view> segments);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_CONTROL_PLANE_HPP_
