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

/// The control-plane operations a request can be routed to.
enum class Endpoint {
  kCreateSandbox,    ///< POST /sandboxes, POST /v2/sandboxes
  kListSandboxesV1,  ///< GET /sandboxes
  kListSandboxesV2,  ///< GET /v2/sandboxes
  kBatchMetrics,     ///< GET /sandboxes/metrics
  kGetSandbox,       ///< GET /sandboxes/{id}
  kKillSandbox,      ///< DELETE /sandboxes/{id}
  kConnectSandbox,   ///< POST /sandboxes/{id}/connect, also under /v2
  kSandboxLogsV1,    ///< GET /sandboxes/{id}/logs
  kSandboxLogsV2,    ///< GET /v2/sandboxes/{id}/logs
  kSandboxMetrics,   ///< GET /sandboxes/{id}/metrics
  kSetNetwork,       ///< PUT /sandboxes/{id}/network
  kSetTimeout,       ///< POST /sandboxes/{id}/timeout
  kRefresh,          ///< POST /sandboxes/{id}/refreshes
  kPause,            ///< POST /sandboxes/{id}/pause
  kResume,           ///< POST /sandboxes/{id}/resume
  kFork,             ///< POST /sandboxes/{id}/fork
  kCreateSnapshot,   ///< POST /sandboxes/{id}/snapshots
  kListSnapshots,    ///< GET /snapshots
  kCreateTemplate,   ///< POST /v3/templates
  kListTemplates,    ///< GET /templates
  kGetTemplate,      ///< GET /templates/{id}
  kDeleteTemplate,   ///< DELETE /templates/{id}
  kBuildLogs,        ///< GET /templates/{id}/builds/{build}/logs
  kBuildStatus,      ///< GET /templates/{id}/builds/{build}/status
};

/// Where a request goes: the endpoint and the IDs its path names.
struct RouteMatch {
  Endpoint endpoint;
  std::string id;        ///< sandbox or template ID; empty when none
  std::string build_id;  ///< for kBuildLogs and kBuildStatus
};

/// The decoded, non-empty segments of a request target's path (the query
/// dropped). Throws ApiError 400 on malformed percent-encoding.
std::vector<std::string> SplitRequestPath(const std::string& target);

/// Whether this is the health check, which needs no API key.
bool IsHealthCheck(const std::string& method,
                   const std::vector<std::string>& segments);

/// The endpoint for `method` and the path `segments`; throws ApiError 404
/// naming `path` (the request's path, for the message) when there is none.
/// Pure: no registry or store is consulted.
RouteMatch MatchRoute(const std::string& method,
                      const std::vector<std::string>& segments,
                      const std::string& path);

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
  void Dispatch(Call& call, const RouteMatch& route);

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
