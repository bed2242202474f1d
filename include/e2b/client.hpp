#ifndef E2B_CLIENT_HPP_
#define E2B_CLIENT_HPP_

#include <e2b/context.hpp>
#include <e2b/http_client.hpp>
#include <e2b/logging.hpp>
#include <e2b/options.hpp>
#include <e2b/reap.hpp>
#include <e2b/sandbox.hpp>
#include <e2b/types.hpp>
#include <e2b/volume.hpp>

#include <chrono>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace e2b {

namespace internal {
struct ClientState;
struct ClientAccess;
}  // namespace internal

/// How the client retries idempotent calls after a transient failure (a
/// connection refused, reset or cut short before the answer reached the
/// caller; HTTP 429, 502, 503, 504 from the API; 429, 503, 504 from envd).
/// Retried: Info, ListSandboxes(V2), Kill/Close, SetTimeout, Refresh,
/// Connect, Pause, UpdateNetwork, Metrics, Logs, the template and snapshot
/// reads and deletes, Filesystem Read/ReadBytes/ReadString (until the first
/// body byte), Stat, List, Exists and IsRunning. Never retried once the
/// request may have reached the server: NewSandbox, Resume, Fork,
/// CreateSnapshot, CreateTemplate, Commands and Pty, Filesystem writes,
/// MakeDir, Remove, Rename and watchers. Timeouts are not retried; the
/// Context's deadline and ClientConfig::RequestTimeout bound the whole call,
/// waits included, and cancelling the Context ends a wait at once. The
/// names are gRPC's retry-policy names.
struct RetryPolicy {
  /// Attempts in total, the first included; 1 turns retries off.
  int MaxAttempts = 3;
  /// Wait before the first retry; multiplied by BackoffMultiplier for each
  /// further one, up to MaxBackoff.
  std::chrono::milliseconds InitialBackoff{200};
  /// Longest wait between attempts, also for a server's Retry-After.
  std::chrono::milliseconds MaxBackoff{5000};
  /// Growth factor of the wait from one retry to the next.
  double BackoffMultiplier = 2.0;
  /// Fraction of each computed wait that is random (0 = none, 1 = full
  /// jitter): the wait is drawn from [d * (1 - Jitter), d]. A Retry-After
  /// wait has no jitter.
  double Jitter = 0.2;
};

/// Configuration for NewClient. Explicit values win; empty ones are filled
/// from the environment as the official SDKs do.
struct ClientConfig {
  /// API key; empty = E2B_API_KEY.
  std::string APIKey;
  /// API base URL; empty = E2B_API_URL, else https://api.\<E2B_DOMAIN\>
  /// (DefaultAPIBaseURL), or http://localhost:3000 when E2B_DEBUG is true.
  std::string APIBaseURL;
  /// Sandbox domain for envd hosts (https://49983-\<id\>.\<domain\>); empty =
  /// E2B_SANDBOX_URL when it is a bare domain, else E2B_DOMAIN, else e2b.app.
  std::string SandboxDomain;
  /// Shared HTTP client; null = a new one owned by this Client.
  std::shared_ptr<e2b::HTTPClient> HTTPClient;
  /// Full envd base URL used for every sandbox (e.g. http://127.0.0.1:49983),
  /// routed with E2b-Sandbox-Id headers; empty = E2B_SANDBOX_URL when it
  /// contains "://". Not in the Go seed; the official SDKs' meaning.
  std::string SandboxURL;
  /// Limit for each control-plane call (0 = none). Not in the Go seed (the
  /// official SDKs use 60 s).
  std::chrono::milliseconds RequestTimeout{60000};
  /// Retries of idempotent calls (see RetryPolicy). Not in the Go seed.
  RetryPolicy Retry;
  /// Receives log lines (logging.hpp): each HTTP exchange, retry and stream
  /// at kDebug. Null = none, or MakeStderrLogger() when E2B_DEBUG is set
  /// (not empty, "0" or "false"). An e2b-cpp addition.
  std::shared_ptr<e2b::Logger> Logger;
  /// The least severe level passed to Logger.
  e2b::LogLevel LogLevel = e2b::LogLevel::kDebug;
  /// Sees one CallRecord per HTTP call (logging.hpp); null = none. An
  /// e2b-cpp addition.
  std::shared_ptr<e2b::CallObserver> Observer;
};

/// Pages through GET /v2/sandboxes, following X-Next-Token. Made by
/// Client::NewSandboxPaginator; one object is not meant for concurrent use.
/// The official SDKs' SandboxPaginator.
class SandboxPaginator {
 public:
  /// True until a page without a next token has been fetched.
  bool HasNext() const noexcept { return has_next_; }
  /// The token of the next page (empty before the first page unless given
  /// with WithSandboxNextToken, and after the last one).
  const std::string& NextToken() const noexcept { return next_token_; }
  /// Fetches the next page. Throws e2b::Error when !HasNext(); a failed
  /// fetch leaves the paginator where it was, so it can be retried.
  std::vector<SandboxInfo> NextItems(const Context& ctx);
  /// NextItems without a Context (Context::Background()).
  std::vector<SandboxInfo> NextItems();

 private:
  friend class Client;
  SandboxPaginator(std::shared_ptr<const internal::ClientState> client,
                   ListSandboxesV2Params params);

  std::shared_ptr<const internal::ClientState> client_;
  ListSandboxesV2Params params_;
  std::string next_token_;
  bool has_next_ = true;
};

/// The E2B API client. Cheap to copy: copies share configuration and
/// connections. Thread-safe. Go: *Client.
class Client {
 public:
  /// Creates a sandbox: one POST /sandboxes, returning when the API answered
  /// 201 with the sandbox's ID, envd version and access token. E2B answers
  /// once the sandbox has booted and envd accepts requests (e2b-local: once
  /// its init runs and envd serves it), so commands and files work at once;
  /// nothing else is awaited (no /health poll, no start command). The
  /// sandbox lives until Close/Kill or its timeout. Go: NewSandbox.
  Sandbox NewSandbox(const Context& ctx, const SandboxConfig& cfg = {}) const;
  /// NewSandbox without a Context (Context::Background()).
  Sandbox NewSandbox(const SandboxConfig& cfg = {}) const;

  /// Running sandboxes of this API key. Go: ListSandboxes.
  std::vector<SandboxInfo> ListSandboxes(const Context& ctx) const;
  /// ListSandboxes without a Context (Context::Background()).
  std::vector<SandboxInfo> ListSandboxes() const;

  /// Connects to an existing sandbox by ID, resuming it when it is paused,
  /// and sets its lifetime to `timeout_seconds` from now (POST
  /// /v2/sandboxes/{id}/connect). Throws SandboxNotFoundError when there
  /// is no such sandbox. Go: Connect.
  Sandbox Connect(const Context& ctx, const std::string& sandbox_id,
                  int timeout_seconds = DefaultTimeout) const;
  /// Connect without a Context (Context::Background()).
  Sandbox Connect(const std::string& sandbox_id,
                  int timeout_seconds = DefaultTimeout) const;

  /// One page of sandboxes, running and paused (GET /v2/sandboxes);
  /// options WithSandboxState, WithSandboxMetadata, WithSandboxLimit,
  /// WithSandboxNextToken, WithSandboxTemplate, WithSandboxOrder,
  /// WithSandboxStartedAfter. Go: ListSandboxesV2.
  template <typename... Opts>
  ListSandboxesV2Result ListSandboxesV2(const Context& ctx,
                                        const Opts&... opts) const {
    return ListSandboxesV2Impl(ctx,
                               ApplyOptions(ListSandboxesV2Params{}, opts...));
  }
  /// ListSandboxesV2 without a Context (Context::Background()).
  template <typename... Opts>
  ListSandboxesV2Result ListSandboxesV2(const Opts&... opts) const {
    return ListSandboxesV2(Context::Background(), opts...);
  }

  /// A paginator over the same listing and options as ListSandboxesV2
  /// (WithSandboxLimit is the page size). No request is made until
  /// NextItems. The official SDKs' Sandbox.list().
  template <typename... Opts>
  SandboxPaginator NewSandboxPaginator(const Opts&... opts) const {
    return SandboxPaginator(state_,
                            ApplyOptions(ListSandboxesV2Params{}, opts...));
  }

  /// Kills a sandbox by ID without a Sandbox object (DELETE
  /// /sandboxes/{id}): true when it was killed, false when it did not
  /// exist. The official SDKs' Sandbox.kill(id).
  bool KillSandbox(const Context& ctx, const std::string& sandbox_id) const;
  /// KillSandbox without a Context (Context::Background()).
  bool KillSandbox(const std::string& sandbox_id) const;

  /// Kills this API key's sandboxes, running and paused, that match `opts`
  /// (see ReapOptions): the cleanup after a process that crashed before
  /// closing what it created. Lists every page of GET /v2/sandboxes first
  /// (with the Metadata and Owner pairs as the server-side filter, checked
  /// again here), then kills the selected ones one by one; a sandbox gone
  /// in between counts as Gone, another refusal is recorded in Failed and
  /// the rest are still tried. Throws InvalidArgumentError for options
  /// without a criterion, and the listing's error when a page fails
  /// (nothing is killed then). An e2b-cpp addition.
  ReapReport ReapSandboxes(const Context& ctx, const ReapOptions& opts) const;
  /// ReapSandboxes without a Context (Context::Background()).
  ReapReport ReapSandboxes(const ReapOptions& opts) const;

  /// Forks a running sandbox by ID; see Sandbox::Fork. Go: ForkSandbox.
  template <typename... Opts>
  std::vector<ForkResult> ForkSandbox(const Context& ctx,
                                      const std::string& sandbox_id,
                                      const Opts&... opts) const {
    return ForkSandboxImpl(ctx, sandbox_id,
                           ApplyOptions(ForkParams{}, opts...));
  }
  /// ForkSandbox without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<ForkResult> ForkSandbox(const std::string& sandbox_id,
                                      const Opts&... opts) const {
    return ForkSandbox(Context::Background(), sandbox_id, opts...);
  }

  /// The latest metrics of up to 100 sandboxes in one call (GET
  /// /sandboxes/metrics); sandboxes without a sample are absent from the
  /// map. The API's getSandboxesMetrics.
  std::map<std::string, SandboxMetric> GetSandboxesMetrics(
      const Context& ctx, const std::vector<std::string>& sandbox_ids) const;
  /// GetSandboxesMetrics without a Context (Context::Background()).
  std::map<std::string, SandboxMetric> GetSandboxesMetrics(
      const std::vector<std::string>& sandbox_ids) const;

  /// Deletes a snapshot (DELETE /templates/{snapshotID}): true when it was
  /// deleted, false when it did not exist. Go: DeleteSnapshot.
  bool DeleteSnapshot(const Context& ctx, const std::string& snapshot_id) const;
  /// DeleteSnapshot without a Context (Context::Background()).
  bool DeleteSnapshot(const std::string& snapshot_id) const;

  /// One page of snapshots; options WithSnapshotLimit,
  /// WithSnapshotNextToken, WithSnapshotSandboxID. Go: ListSnapshots.
  template <typename... Opts>
  ListSnapshotsResult ListSnapshots(const Context& ctx,
                                    const Opts&... opts) const {
    return ListSnapshotsImpl(ctx, ApplyOptions(ListSnapshotsParams{}, opts...));
  }
  /// ListSnapshots without a Context (Context::Background()).
  template <typename... Opts>
  ListSnapshotsResult ListSnapshots(const Opts&... opts) const {
    return ListSnapshots(Context::Background(), opts...);
  }

  /// Templates of this API key. Go: ListTemplates.
  std::vector<TemplateDetail> ListTemplates(const Context& ctx) const;
  /// ListTemplates without a Context (Context::Background()).
  std::vector<TemplateDetail> ListTemplates() const;

  /// Registers a template and allocates a build ID (build phase 1).
  /// Go: CreateTemplate.
  TemplateInfo CreateTemplate(const Context& ctx,
                              const CreateTemplateConfig& cfg) const;
  /// CreateTemplate without a Context (Context::Background()).
  TemplateInfo CreateTemplate(const CreateTemplateConfig& cfg) const;

  /// Deletes a template. Go: DeleteTemplate.
  void DeleteTemplate(const Context& ctx, const std::string& template_id) const;
  /// DeleteTemplate without a Context (Context::Background()).
  void DeleteTemplate(const std::string& template_id) const;

  /// A template with one page of its builds; options
  /// WithTemplateBuildsLimit, WithTemplateBuildsNextToken. Go: GetTemplate.
  template <typename... Opts>
  GetTemplateResult GetTemplate(const Context& ctx,
                                const std::string& template_id,
                                const Opts&... opts) const {
    return GetTemplateImpl(ctx, template_id,
                           ApplyOptions(GetTemplateParams{}, opts...));
  }
  /// GetTemplate without a Context (Context::Background()).
  template <typename... Opts>
  GetTemplateResult GetTemplate(const std::string& template_id,
                                const Opts&... opts) const {
    return GetTemplate(Context::Background(), template_id, opts...);
  }

  /// Structured logs of a template build; options WithBuildLog*.
  /// Go: GetTemplateBuildLogs.
  template <typename... Opts>
  std::vector<BuildLogEntry> GetTemplateBuildLogs(
      const Context& ctx, const std::string& template_id,
      const std::string& build_id, const Opts&... opts) const {
    return GetTemplateBuildLogsImpl(ctx, template_id, build_id,
                                    ApplyOptions(BuildLogParams{}, opts...));
  }
  /// GetTemplateBuildLogs without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<BuildLogEntry> GetTemplateBuildLogs(
      const std::string& template_id, const std::string& build_id,
      const Opts&... opts) const {
    return GetTemplateBuildLogs(Context::Background(), template_id, build_id,
                                opts...);
  }

  // ---- the low-level build API: CreateTemplate allocates the build, then
  // CheckBuildFiles/UploadBuildFiles per "copy" step, StartTemplateBuild,
  // and GetBuildStatus until "ready" or "error" ----

  /// Whether the file bundle with SHA-256 `hash` (hex) is cached for the
  /// template; if not, the presigned URL to upload it to. A 404 is
  /// TemplateNotFoundError. Go: CheckBuildFiles.
  BuildFileStatus CheckBuildFiles(const Context& ctx,
                                  const std::string& template_id,
                                  const std::string& hash) const;
  /// CheckBuildFiles without a Context (Context::Background()).
  BuildFileStatus CheckBuildFiles(const std::string& template_id,
                                  const std::string& hash) const;

  /// PUTs a gzipped tar from `data` to a URL CheckBuildFiles returned,
  /// streamed, with no API key (the URL carries its credentials). A
  /// seekable stream is sent from its position with a Content-Length
  /// (presigned storage URLs refuse chunked bodies); any other stream is
  /// sent chunked. RequestTimeout bounds the whole upload. Never retried.
  /// Go: UploadBuildFiles.
  void UploadBuildFiles(const Context& ctx, const std::string& url,
                        std::istream& data) const;
  /// UploadBuildFiles without a Context (Context::Background()).
  void UploadBuildFiles(const std::string& url, std::istream& data) const;
  /// The same, reporting the bytes sent (ProgressFunc; the total is 0 for
  /// a stream that cannot seek). An e2b-cpp addition.
  void UploadBuildFiles(const Context& ctx, const std::string& url,
                        std::istream& data, const ProgressFunc& progress) const;

  /// Starts build `build_id` (from CreateTemplate) of the template.
  /// Go: StartTemplateBuild.
  void StartTemplateBuild(const Context& ctx, const std::string& template_id,
                          const std::string& build_id,
                          const StartBuildConfig& cfg) const;
  /// StartTemplateBuild without a Context (Context::Background()).
  void StartTemplateBuild(const std::string& template_id,
                          const std::string& build_id,
                          const StartBuildConfig& cfg) const;

  /// A build's status and logs; options WithBuildStatusLogsOffset,
  /// WithBuildStatusLimit, WithBuildStatusLevel. A 404 is
  /// TemplateNotFoundError. Go: GetBuildStatus.
  template <typename... Opts>
  BuildStatus GetBuildStatus(const Context& ctx, const std::string& template_id,
                             const std::string& build_id,
                             const Opts&... opts) const {
    return GetBuildStatusImpl(ctx, template_id, build_id,
                              ApplyOptions(BuildStatusParams{}, opts...));
  }
  /// GetBuildStatus without a Context (Context::Background()).
  template <typename... Opts>
  BuildStatus GetBuildStatus(const std::string& template_id,
                             const std::string& build_id,
                             const Opts&... opts) const {
    return GetBuildStatus(Context::Background(), template_id, build_id,
                          opts...);
  }

  // ---- volumes: VolumeNotFoundError for a volume ID that does not exist,
  // VolumeError for any other refusal (Go HEAD's volume errors) ----

  /// Creates a volume named `name` (letters, digits, '_' and '-'); the
  /// handle carries its content-API token. Go: CreateVolume.
  Volume CreateVolume(const Context& ctx, const std::string& name) const;
  /// CreateVolume without a Context (Context::Background()).
  Volume CreateVolume(const std::string& name) const;

  /// A handle for an existing volume, with a fresh content-API token (one
  /// GET /volumes/{id}). Go: ConnectVolume.
  Volume ConnectVolume(const Context& ctx, const std::string& volume_id) const;
  /// ConnectVolume without a Context (Context::Background()).
  Volume ConnectVolume(const std::string& volume_id) const;

  /// A volume's ID, name and content-API token. Go: GetVolumeInfo.
  VolumeAndToken GetVolumeInfo(const Context& ctx,
                               const std::string& volume_id) const;
  /// GetVolumeInfo without a Context (Context::Background()).
  VolumeAndToken GetVolumeInfo(const std::string& volume_id) const;

  /// The volumes of this API key. Go: ListVolumes.
  std::vector<VolumeInfo> ListVolumes(const Context& ctx) const;
  /// ListVolumes without a Context (Context::Background()).
  std::vector<VolumeInfo> ListVolumes() const;

  /// Deletes a volume and its data: true when it was deleted, false when it
  /// did not exist. Sandboxes that mount it do not stop it. Go:
  /// DestroyVolume.
  bool DestroyVolume(const Context& ctx, const std::string& volume_id) const;
  /// DestroyVolume without a Context (Context::Background()).
  bool DestroyVolume(const std::string& volume_id) const;

 private:
  friend Client NewClient(const ClientConfig& cfg);
  friend struct internal::ClientAccess;
  explicit Client(std::shared_ptr<internal::ClientState> state);
  ListSnapshotsResult ListSnapshotsImpl(const Context& ctx,
                                        const ListSnapshotsParams& p) const;
  ListSandboxesV2Result ListSandboxesV2Impl(
      const Context& ctx, const ListSandboxesV2Params& p) const;
  std::vector<ForkResult> ForkSandboxImpl(const Context& ctx,
                                          const std::string& sandbox_id,
                                          const ForkParams& p) const;
  GetTemplateResult GetTemplateImpl(const Context& ctx,
                                    const std::string& template_id,
                                    const GetTemplateParams& p) const;
  std::vector<BuildLogEntry> GetTemplateBuildLogsImpl(
      const Context& ctx, const std::string& template_id,
      const std::string& build_id, const BuildLogParams& p) const;
  BuildStatus GetBuildStatusImpl(const Context& ctx,
                                 const std::string& template_id,
                                 const std::string& build_id,
                                 const BuildStatusParams& p) const;

  std::shared_ptr<internal::ClientState> state_;
};

/// Creates a client. Throws Error when no API key is configured (neither
/// cfg.APIKey nor E2B_API_KEY) or a URL is malformed. Go: NewClient.
Client NewClient(const ClientConfig& cfg = {});

}  // namespace e2b

#endif  // E2B_CLIENT_HPP_
