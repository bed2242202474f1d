#ifndef E2B_LOCAL_CONTROL_CONTROL_PLANE_HPP_
#define E2B_LOCAL_CONTROL_CONTROL_PLANE_HPP_

// The E2B REST API (PROTOCOL.md sections 2.1-2.4) over the registry and the
// state store. Handlers only parse, validate, call and serialize; errors
// answer {"code": <status>, "message": ...}.

#include "sandbox/registry.hpp"
#include "store/template_store.hpp"

#include <string>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace e2b_local {

class ControlPlane {
 public:
  /// `api_keys` must not be empty; requests need X-API-Key equal to one.
  ControlPlane(SandboxRegistry& registry, TemplateStore& store,
               std::vector<std::string> api_keys);

  /// Registers every route (and GET /health) on `server`. The ControlPlane
  /// must outlive the server's use of them.
  void Mount(httplib::Server& server);

  /// Dispatches one request (what the mounted routes call).
  void Handle(const httplib::Request& req, httplib::Response& res);

 private:
  struct Call;
  bool Authorized(const httplib::Request& req) const;
  void Route(Call& call);
  void RouteSandboxes(Call& call);
  void RouteTemplates(Call& call);

  void CreateSandbox(Call& call);
  void ListSandboxesV1(Call& call);
  void ListSandboxesV2(Call& call);
  void BatchMetrics(Call& call);
  void SandboxLogsV1(Call& call, const std::string& id);
  void SandboxLogsV2(Call& call, const std::string& id);
  void SandboxMetrics(Call& call, const std::string& id);
  void ConnectSandbox(Call& call, const std::string& id);
  void ForkSandbox(Call& call, const std::string& id);
  void ListSnapshots(Call& call);
  void CreateTemplate(Call& call);
  void GetTemplate(Call& call, const std::string& id);
  void BuildLogs(Call& call, const std::string& id, const std::string& build);
  void BuildStatus(Call& call, const std::string& id, const std::string& build);

  SandboxRegistry& registry_;
  TemplateStore& store_;
  std::vector<std::string> api_keys_;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_CONTROL_CONTROL_PLANE_HPP_
