#ifndef E2B_LOCAL_ENVD_ENVD_SERVER_HPP_
#define E2B_LOCAL_ENVD_ENVD_SERVER_HPP_

// envd's HTTP layer for every sandbox on one listener: routing by the
// E2b-Sandbox-Id header or a `<port>-<id>.` Host, access-token and Basic
// auth, the /files endpoints, and Connect framing around the RPC services.

#include "envd/connect_rpc.hpp"
#include "envd/port_proxy.hpp"
#include "sandbox/local_sandbox.hpp"
#include "util/constant_time.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace httplib {
class ContentReader;
class Server;
struct Response;
}  // namespace httplib

namespace e2b_local {

/// Resumes a paused sandbox (the control plane's connect); throws
/// Failure when it cannot, e.g. kLimitReached at the sandbox cap.
using PausedSandboxResumer = std::function<void(const std::string& id)>;

class EnvdServer {
 public:
  /// Without `resume_paused`, requests for a paused sandbox answer as for a
  /// missing one, even with auto-resume.
  explicit EnvdServer(SandboxDirectory& sandboxes,
                      PausedSandboxResumer resume_paused = {},
                      PortProxyLimits proxy_limits = {});

  /// Registers GET /health, GET/POST /files, POST /<pkg>.<Service>/<Method>
  /// for every process and filesystem RPC, and CORS preflight on `server`;
  /// and, for every method and path, the forwarding of requests addressed
  /// to another sandbox port (port_proxy.hpp). The EnvdServer must outlive
  /// the server's use of these handlers.
  void Mount(httplib::Server& server);

 private:
  /// For a request addressed to a sandbox port other than envd's: routes
  /// it like the edge (400 for a bad port, 502 for an unknown sandbox,
  /// auto-resume, 403 without the traffic access token) and forwards it.
  /// True when it answered; false for envd's own requests, untouched.
  /// `reader` is the unread request body (null: httplib read it).
  bool ForwardedToSandboxPort(const httplib::Request& req,
                              httplib::Response& res,
                              const httplib::ContentReader* reader) const;

  /// The routed sandbox, or nullptr after writing the error answer (502
  /// for a sandbox that is not running). For /files (`files_operation`
  /// "read" or "write"), a signed request without routing information goes
  /// to the one sandbox whose access token verifies its signature. A
  /// paused sandbox created with auto-resume is resumed first, as E2B's
  /// edge does, when the request carries its credentials (else 403);
  /// without auto-resume it answers like E2B's edge: 502, not found.
  /// For another `port` the credentials that may wake a paused sandbox are
  /// the traffic access token (none for a public sandbox), as at the edge.
  std::shared_ptr<LocalSandbox> Route(const httplib::Request& req,
                                      httplib::Response& res,
                                      const char* files_operation = nullptr,
                                      int port = kEnvdPort) const;
  /// The only sandbox whose token signs this /files request, or nullptr
  /// when none or several do.
  std::shared_ptr<LocalSandbox> FindBySignature(
      const httplib::Request& req, const std::string& operation) const;

  /// POST /<pkg>.<Service>/<Method>: route and authenticate, find the
  /// procedure, check the content type, read the body and headers, then
  /// answer a unary call or start a stream.
  void HandleRpc(const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader& reader) const;
  /// The routed sandbox and the caller's user for an RPC, or nullopt after
  /// writing the 502 or 401 answer.
  std::optional<EnvdCall> AuthenticateRpc(const httplib::Request& req,
                                          httplib::Response& res) const;
  /// Resumes `sandbox` for this request; false after writing the answer.
  bool AutoResume(LocalSandbox& sandbox, const httplib::Request& req,
                  httplib::Response& res, const char* files_operation,
                  int port) const;

  SandboxDirectory& sandboxes_;
  PausedSandboxResumer resume_paused_;
  PortProxyLimits proxy_limits_;
  RpcRegistry registry_;
};

/// The sandbox ID a request is addressed to: the E2b-Sandbox-Id header, else
/// the `<port>-<id>` first label of Host; empty when neither is present.
std::string SandboxIdFromRequest(const httplib::Request& req);

// The Connect request framing HandleRpc checks before a handler runs, as
// pure functions so the fuzzers reach them. Each throws ConnectError with
// the code HandleRpc answers.

/// The user an `Authorization: Basic base64("<user>:<password>")` header
/// names; nullopt when the header is not Basic or names nobody. Throws
/// ConnectError "unauthenticated" when the credentials are not base64.
std::optional<std::string> BasicAuthUser(const std::string& authorization);

/// Connect-Timeout-Ms (nullopt when the header is absent): 1 to 10 digits
/// around optional white space, else ConnectError "invalid_argument".
std::optional<std::chrono::milliseconds> ParseConnectTimeout(
    const std::optional<std::string>& header);

/// Keepalive-Ping-Interval in seconds: 1 to 9 digits and positive, else the
/// default of 90 s.
std::chrono::seconds ParseKeepaliveInterval(const std::string& header);

/// The media type a unary ("application/json") or server-streaming
/// ("application/connect+json") RPC takes.
const char* RpcContentType(bool unary);

/// Whether a Content-Type header's media type (case and parameters
/// ignored) is RpcContentType(unary).
bool RpcContentTypeMatches(const std::string& content_type, bool unary);

/// A unary request body: one JSON object, else ConnectError
/// "invalid_argument".
nlohmann::json DecodeUnaryRequest(const std::string& body);

/// A server-streaming request body: exactly one complete, uncompressed,
/// non-end-of-stream envelope holding a JSON object, else ConnectError
/// "invalid_argument".
nlohmann::json DecodeStreamRequest(const std::string& body);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_ENVD_SERVER_HPP_
