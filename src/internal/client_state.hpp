#ifndef E2B_INTERNAL_CLIENT_STATE_HPP_
#define E2B_INTERNAL_CLIENT_STATE_HPP_

// State shared by a Client, its copies and the Sandboxes it hands out.

#include "internal/http_transport.hpp"
#include "internal/observability.hpp"

#include <e2b/client.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace e2b::internal {

class ControlPlaneApi;
class EnvdApi;
class VolumeContentApi;

/// The resolved configuration of a Client (explicit config, then the
/// environment, then defaults), immutable after NewClient.
struct ClientState {
  std::string api_key;
  std::string api_base_url;    ///< no trailing slash
  std::string sandbox_domain;  ///< e.g. "e2b.app"
  /// Full envd base URL for every sandbox (E2B_SANDBOX_URL with "://", or
  /// ClientConfig::SandboxURL); empty = per-sandbox host names.
  std::string sandbox_url;
  /// True when the API is plain http:// (a local server): envd is then
  /// reached over http:// too.
  bool plain_http = false;
  bool debug = false;
  std::chrono::milliseconds request_timeout{60000};
  std::shared_ptr<HttpTransport> transport;
  /// ClientConfig::Retry, validated (internal/retry.hpp applies it).
  RetryPolicy retry;
  /// ClientConfig's Logger, LogLevel and Observer (and E2B_DEBUG's default
  /// logger); null = neither. The retry decorators below apply it.
  std::shared_ptr<const Observability> observability;
  /// The retry decorators around `transport` (retry.hpp), built once by
  /// ResolveClientState and shared by the service APIs: envd's retries for
  /// idempotent envd calls, and retrying only failures before the request
  /// left for calls that are not idempotent (API and envd alike).
  std::shared_ptr<HttpTransport> envd_read_transport;
  std::shared_ptr<HttpTransport> write_transport;
  /// The E2B API as Client and Sandbox call it (control_plane_api.hpp).
  std::shared_ptr<ControlPlaneApi> control_plane;
  /// envd as Sandbox, Commands, Pty and Filesystem call it (envd_api.hpp).
  std::shared_ptr<EnvdApi> envd;
  /// The volume content API as Volume calls it (volume_content_api.hpp).
  std::shared_ptr<VolumeContentApi> volume_content;
};

/// What every call on one sandbox needs. Immutable after creation.
struct SandboxState {
  std::shared_ptr<const ClientState> client;
  std::string id;
  std::string envd_version;
  std::string access_token;          ///< envdAccessToken; may be empty
  std::string traffic_access_token;  ///< trafficAccessToken; may be empty
  std::string domain;    ///< the domain the API returned, else client's
  std::string envd_url;  ///< base URL of envd, no trailing slash
  /// "/sandboxes/<id>": the control-plane path of the sandbox, encoded once.
  std::string api_path;

  /// Headers for every envd request: X-Access-Token (when there is a
  /// token), E2b-Sandbox-Id, E2b-Sandbox-Port: 49983, User-Agent.
  HttpHeaders EnvdHeaders() const;
};

/// Makes a Client around a prepared state. NewClient is the way for users;
/// unit tests use this to put fake APIs behind the public handles.
struct ClientAccess {
  static Client Make(std::shared_ptr<ClientState> state);
};

/// The envd base URL for a sandbox: the client's sandbox_url if set, else
/// <scheme>://49983-<id>.<domain> (scheme http when plain_http).
std::string EnvdBaseUrl(const ClientState& client, const std::string& id,
                        const std::string& domain);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_CLIENT_STATE_HPP_
