#ifndef E2B_INTERNAL_CONTROL_PLANE_API_HPP_
#define E2B_INTERNAL_CONTROL_PLANE_API_HPP_

// The control plane (the E2B REST API) as the public handles see it: one
// virtual per operation, typed requests in, typed answers out, failures
// thrown as e2b exceptions. The handles (Client, Sandbox) validate their
// arguments and shape results; everything about the wire (paths, JSON,
// which statuses mean success, what a 404 means) is the service API's. Unit
// tests replace the whole chain with a fake (tests/unit/fake_apis.hpp).
//
// The chain NewClient builds (MakeRestControlPlaneApi):
//   RestControlPlaneApi: request building, JSON mapping, and the one place
//     where an answer's status becomes an exception (its Call(), which
//     knows each operation's success statuses and not-found meaning).
//   -> retrying HttpTransport (internal/retry.hpp): the retry policy,
//      chosen once per call by whether the operation is idempotent.
//   -> the client's HttpTransport (curl, or the user's HTTPClient).

#include "internal/http_transport.hpp"
#include "internal/json_mapping.hpp"

#include <e2b/context.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>
#include <e2b/volume.hpp>

#include <chrono>
#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace e2b::internal {

struct SandboxState;

class ControlPlaneApi {
 public:
  virtual ~ControlPlaneApi() = default;

  // ---- sandboxes ----
  /// POST /sandboxes; a 404 is TemplateNotFoundError(template_id).
  virtual CreatedSandbox CreateSandbox(const Context& ctx,
                                       const SandboxConfig& cfg,
                                       const std::string& template_id) = 0;
  /// POST /v2/sandboxes/{id}/connect (resumes a paused sandbox).
  virtual CreatedSandbox ConnectSandbox(const Context& ctx,
                                        const std::string& sandbox_id,
                                        int timeout_seconds) = 0;
  /// GET /sandboxes.
  virtual std::vector<SandboxInfo> ListSandboxes(const Context& ctx) = 0;
  /// One page of GET /v2/sandboxes (NextToken from params).
  virtual ListSandboxesV2Result ListSandboxesV2(
      const Context& ctx, const ListSandboxesV2Params& params) = 0;
  /// DELETE /sandboxes/{id}; false when there was nothing to kill.
  virtual bool KillSandbox(const Context& ctx,
                           const std::string& sandbox_id) = 0;
  /// GET /sandboxes/metrics for IDs that are non-empty and comma-free.
  virtual std::map<std::string, SandboxMetric> GetSandboxesMetrics(
      const Context& ctx, const std::vector<std::string>& sandbox_ids) = 0;
  /// POST /sandboxes/{id}/fork: one entry per requested fork.
  virtual std::vector<ForkEntryWire> ForkSandbox(const Context& ctx,
                                                 const std::string& sandbox_id,
                                                 int count,
                                                 std::int64_t timeout) = 0;

  // ---- one sandbox: a 404 is SandboxNotFoundError(sandbox.id) ----
  /// DELETE /sandboxes/{id}.
  virtual void CloseSandbox(const Context& ctx,
                            const SandboxState& sandbox) = 0;
  /// GET /sandboxes/{id}.
  virtual SandboxInfo GetSandbox(const Context& ctx,
                                 const SandboxState& sandbox) = 0;
  /// POST /sandboxes/{id}/timeout.
  virtual void SetSandboxTimeout(const Context& ctx,
                                 const SandboxState& sandbox,
                                 int timeout_seconds) = 0;
  /// POST /sandboxes/{id}/pause; "already paused" (409) is a success.
  /// keep_memory unset = no body.
  virtual void PauseSandbox(const Context& ctx, const SandboxState& sandbox,
                            std::optional<bool> keep_memory) = 0;
  /// POST /sandboxes/{id}/resume.
  virtual void ResumeSandbox(const Context& ctx, const SandboxState& sandbox,
                             int timeout_seconds) = 0;
  /// GET /sandboxes/{id}/metrics.
  virtual std::vector<SandboxMetric> GetSandboxMetrics(
      const Context& ctx, const SandboxState& sandbox) = 0;
  /// GET /v2/sandboxes/{id}/logs.
  virtual std::vector<SandboxLogEntry> GetSandboxLogs(
      const Context& ctx, const SandboxState& sandbox,
      const LogsParams& params) = 0;
  /// POST /sandboxes/{id}/snapshots; an empty name lets the server pick.
  virtual SnapshotInfo CreateSnapshot(const Context& ctx,
                                      const SandboxState& sandbox,
                                      const std::string& name) = 0;
  /// POST /sandboxes/{id}/refreshes; duration in whole seconds, unset = the
  /// server's default.
  virtual void RefreshSandbox(const Context& ctx, const SandboxState& sandbox,
                              std::optional<std::int64_t> duration) = 0;
  /// PUT /sandboxes/{id}/network.
  virtual void UpdateNetwork(const Context& ctx, const SandboxState& sandbox,
                             const NetworkUpdateConfig& cfg) = 0;

  // ---- snapshots and templates ----
  /// DELETE /templates/{id} of a snapshot; false when it was already gone.
  virtual bool DeleteSnapshot(const Context& ctx,
                              const std::string& snapshot_id) = 0;
  /// GET /snapshots.
  virtual ListSnapshotsResult ListSnapshots(
      const Context& ctx, const ListSnapshotsParams& params) = 0;
  /// GET /templates.
  virtual std::vector<TemplateDetail> ListTemplates(const Context& ctx) = 0;
  /// POST /v3/templates.
  virtual TemplateInfo CreateTemplate(const Context& ctx,
                                      const CreateTemplateConfig& cfg) = 0;
  /// DELETE /templates/{id}; a 404 is TemplateNotFoundError.
  virtual void DeleteTemplate(const Context& ctx,
                              const std::string& template_id) = 0;
  /// GET /templates/{id}.
  virtual GetTemplateResult GetTemplate(const Context& ctx,
                                        const std::string& template_id,
                                        const GetTemplateParams& params) = 0;
  /// GET /templates/{id}/builds/{buildID}/logs.
  virtual std::vector<BuildLogEntry> GetTemplateBuildLogs(
      const Context& ctx, const std::string& template_id,
      const std::string& build_id, const BuildLogParams& params) = 0;
  /// GET /templates/{id}/files/{hash} (success 201); a 404 is
  /// TemplateNotFoundError.
  virtual BuildFileStatus CheckBuildFiles(const Context& ctx,
                                          const std::string& template_id,
                                          const std::string& hash) = 0;
  /// PUT of `data` to a presigned upload URL (absolute, not below the API
  /// base), without the API key; `size` = bytes from data's position, else
  /// chunked. Any 2xx is a success.
  virtual void UploadBuildFiles(const Context& ctx, const std::string& url,
                                std::istream& data,
                                std::optional<std::uint64_t> size) = 0;
  /// POST /v2/templates/{id}/builds/{buildID} (success 202).
  virtual void StartTemplateBuild(const Context& ctx,
                                  const std::string& template_id,
                                  const std::string& build_id,
                                  const StartBuildConfig& cfg) = 0;
  /// GET /templates/{id}/builds/{buildID}/status; a 404 is
  /// TemplateNotFoundError.
  virtual BuildStatus GetBuildStatus(const Context& ctx,
                                     const std::string& template_id,
                                     const std::string& build_id,
                                     const BuildStatusParams& params) = 0;

  // ---- volumes: Go HEAD's volume errors (ThrowVolumeHttpError), each call
  // bounded by VolumeRequestTimeout ----
  /// POST /volumes.
  virtual VolumeAndToken CreateVolume(const Context& ctx,
                                      const std::string& name) = 0;
  /// GET /volumes/{id}; a 404 is VolumeNotFoundError(volume_id).
  virtual VolumeAndToken GetVolume(const Context& ctx,
                                   const std::string& volume_id) = 0;
  /// GET /volumes.
  virtual std::vector<VolumeInfo> ListVolumes(const Context& ctx) = 0;
  /// DELETE /volumes/{id}; false when it did not exist.
  virtual bool DestroyVolume(const Context& ctx,
                             const std::string& volume_id) = 0;
};

/// What the REST service API needs of the client's configuration.
struct RestControlPlaneOptions {
  std::string api_key;
  std::string api_base_url;  ///< no trailing slash
  std::chrono::milliseconds request_timeout{60000};
  /// Retries as for an idempotent API call (ApiRetryRule).
  std::shared_ptr<HttpTransport> idempotent_transport;
  /// Retries only failures before the request left (UnsentRetryRule).
  std::shared_ptr<HttpTransport> write_transport;
};

/// The service API that speaks the E2B REST API.
std::shared_ptr<ControlPlaneApi> MakeRestControlPlaneApi(
    RestControlPlaneOptions options);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_CONTROL_PLANE_API_HPP_
