#ifndef E2B_LOCAL_CONTROL_CONTROL_PLANE_HPP_
#define E2B_LOCAL_CONTROL_CONTROL_PLANE_HPP_

// The E2B REST API (PROTOCOL.md sections 2.1-2.4, docs/protocol/volumes.md)
// over the registry and the state stores. Handlers only parse, validate,
// call and serialize; errors answer {"code": <status>, "message": ...}.
// /volumecontent/... goes to the volume content API (volume_content.hpp),
// which takes a volume's token instead of the API key.

#include "build/template_builds.hpp"
#include "control/volume_content.hpp"
#include "sandbox/registry.hpp"
#include "store/build_files.hpp"
#include "store/template_store.hpp"
#include "store/volume_store.hpp"
#include "util/failure.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace httplib {
class ContentReader;
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace e2b_local {

/// The HTTP status the REST API answers for a lower layer's Failure: the
/// one place a domain failure becomes a status (its message goes along
/// unchanged). Pure.
int HttpStatusOf(Failure::Reason reason);

/// The decoded, non-empty segments of a request target's path (the query
/// dropped). Throws ApiError 400 on malformed percent-encoding.
std::vector<std::string> SplitRequestPath(const std::string& target);

/// Whether this is the health check, which needs no API key.
bool IsHealthCheck(const std::string& method,
                   const std::vector<std::string>& segments);

class ControlPlane {
 public:
  /// One request being answered: the request, its response, and the IDs its
  /// route captured. Defined in control_plane.cpp.
  struct Call;
  /// One endpoint: parses the call, asks the registry or store, answers.
  using Handler = void (ControlPlane::*)(Call&);

  /// A row of the route table. `pattern` is a path of literal segments,
  /// `{id}` and `{build}` (one segment each) and, only last, `{id...}` (one
  /// or more segments joined by '/': template IDs may hold '/'). A row
  /// without a handler reserves its shape: requests it matches have no route.
  struct Route {
    const char* method;
    const char* pattern;
    Handler handler;
  };

  /// The route table (PROTOCOL.md sections 2.1-2.4). The first row whose
  /// method and pattern fit a request wins.
  static const std::vector<Route>& Routes();

  /// `api_keys` must not be empty; requests need X-API-Key equal to one.
  ControlPlane(SandboxRegistry& registry, TemplateStore& store,
               VolumeStore& volumes, BuildFileStore& build_files,
               TemplateBuildService& builds, std::vector<std::string> api_keys);

  /// Registers every route (and GET /health) on `server`. The ControlPlane
  /// must outlive the server's use of them. Request bodies are read here,
  /// at most kMaxBody bytes (413 beyond), except a volume upload's, which
  /// streams to disk: the server's own payload limit must not be lower.
  void Mount(httplib::Server& server);

  /// Answers one request (what the mounted routes call) whose body is in
  /// req.body: the health check, the volume content API (its own token),
  /// else the API key, then the route.
  void Handle(const httplib::Request& req, httplib::Response& res);

  /// The largest request body the API reads into memory.
  static constexpr std::size_t kMaxBody = std::size_t{1} << 20;

 private:
  bool Authorized(const httplib::Request& req) const;

  void CreateSandbox(Call& call);
  void ListSandboxesV1(Call& call);
  void ListSandboxesV2(Call& call);
  void BatchMetrics(Call& call);
  void GetSandbox(Call& call);
  void KillSandbox(Call& call);
  void ConnectSandbox(Call& call);
  void SandboxLogsV1(Call& call);
  void SandboxLogsV2(Call& call);
  void SandboxMetrics(Call& call);
  void SetNetwork(Call& call);
  void SetTimeout(Call& call);
  void Refresh(Call& call);
  void Pause(Call& call);
  void Resume(Call& call);
  void ForkSandbox(Call& call);
  void CreateSnapshot(Call& call);
  void ListSnapshots(Call& call);
  void CreateTemplate(Call& call);
  void ListTemplates(Call& call);
  void GetTemplate(Call& call);
  void DeleteTemplate(Call& call);
  void BuildLogs(Call& call);
  void BuildStatus(Call& call);
  void BuildFilesLink(Call& call);
  void StartBuild(Call& call);
  /// PUT /build-files/{hash}?token=...: an upload link BuildFilesLink
  /// handed out (its token, not the API key). Streams to the store.
  void UploadBuildFiles(const httplib::Request& req, httplib::Response& res,
                        const std::vector<std::string>& segments,
                        const httplib::ContentReader* reader);
  void ListVolumes(Call& call);
  void CreateVolume(Call& call);
  void GetVolume(Call& call);
  void DeleteVolume(Call& call);

  // Reads a body (at most kMaxBody) into req.body, then Handle; a volume
  // upload goes to the content API with the reader instead.
  void HandleWithBody(const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader);

  SandboxRegistry& registry_;
  TemplateStore& store_;
  VolumeStore& volumes_;
  BuildFileStore& build_files_;
  TemplateBuildService& builds_;
  VolumeContentApi volume_content_;
  std::vector<std::string> api_keys_;
};

/// Where a request goes: its row of the route table and the IDs its path
/// names there.
struct RouteMatch {
  const ControlPlane::Route* route = nullptr;
  std::string id;        ///< `{id}` or `{id...}`; empty when none
  std::string build_id;  ///< `{build}`; empty when none
};

/// The row of ControlPlane::Routes() for `method` and the path `segments`;
/// throws ApiError 404 naming `path` (the request's path, for the message)
/// when there is none. Pure: no registry or store is consulted.
RouteMatch MatchRoute(const std::string& method,
                      const std::vector<std::string>& segments,
                      const std::string& path);

}  // namespace e2b_local

#endif  // E2B_LOCAL_CONTROL_CONTROL_PLANE_HPP_
