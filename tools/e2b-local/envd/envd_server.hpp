#ifndef E2B_LOCAL_ENVD_ENVD_SERVER_HPP_
#define E2B_LOCAL_ENVD_ENVD_SERVER_HPP_

// envd's HTTP layer for every sandbox on one listener: routing by the
// E2b-Sandbox-Id header or a `<port>-<id>.` Host, access-token and Basic
// auth, the /files endpoints, and Connect framing around the RPC services.

#include "envd/connect_rpc.hpp"
#include "sandbox/local_sandbox.hpp"

#include <memory>
#include <optional>
#include <string>

namespace httplib {
class ContentReader;
class Server;
struct Response;
}  // namespace httplib

namespace e2b_local {

class EnvdServer {
 public:
  explicit EnvdServer(SandboxDirectory& sandboxes);

  /// Registers GET /health, GET/POST /files, POST /<pkg>.<Service>/<Method>
  /// for every process and filesystem RPC, and CORS preflight on `server`.
  /// The EnvdServer must outlive the server's use of these handlers.
  void Mount(httplib::Server& server);

 private:
  /// The routed sandbox, or nullptr after writing the error answer (502
  /// for a sandbox that is not running). For /files (`files_operation`
  /// "read" or "write"), a signed request without routing information goes
  /// to the one sandbox whose access token verifies its signature.
  std::shared_ptr<LocalSandbox> Route(
      const httplib::Request& req, httplib::Response& res,
      const char* files_operation = nullptr) const;
  /// The only sandbox whose token signs this /files request, or nullptr
  /// when none or several do.
  std::shared_ptr<LocalSandbox> FindBySignature(
      const httplib::Request& req, const std::string& operation) const;

  void HandleRpc(const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader& reader) const;

  SandboxDirectory& sandboxes_;
  RpcRegistry registry_;
};

/// The sandbox ID a request is addressed to: the E2b-Sandbox-Id header, else
/// the `<port>-<id>` first label of Host; empty when neither is present.
std::string SandboxIdFromRequest(const httplib::Request& req);

/// Compares secrets in time independent of where they differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_ENVD_SERVER_HPP_
