#ifndef E2B_TYPES_HPP_
#define E2B_TYPES_HPP_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace e2b {

/// DefaultAPIBaseURL is the default E2B API endpoint.
inline constexpr const char* DefaultAPIBaseURL = "https://api.e2b.app";
/// DefaultTemplate is the default sandbox template.
inline constexpr const char* DefaultTemplate = "base";
/// DefaultTimeout is the default sandbox lifetime in seconds.
inline constexpr int DefaultTimeout = 300;
/// DefaultCommandTimeout is the default command execution timeout.
inline constexpr std::chrono::milliseconds DefaultCommandTimeout{60000};
/// MaxRefreshDuration is the largest duration (seconds) Sandbox::Refresh
/// accepts; more is refused before sending. Go: MaxRefreshDuration.
inline constexpr int MaxRefreshDuration = 3600;

/// Bool is Go's helper for optional boolean fields (Go `*bool`, C++
/// `std::optional<bool>`): `cfg.AllowInternetAccess = e2b::Bool(false)`.
/// Go: Bool.
constexpr std::optional<bool> Bool(bool v) noexcept { return v; }

/// Lifecycle configuration of a sandbox (wire: `lifecycle`).
struct SandboxLifecycle {
  /// Resume on inbound traffic (needs OnTimeout "pause").
  bool AutoResume = false;
  std::string OnTimeout;  ///< "kill" or "pause"
};

/// A volume mounted in the sandbox (wire: `volumeMounts[]`).
struct VolumeMount {
  /// The volume's name.
  std::string Name;
  /// Where the volume appears in the sandbox.
  std::string Path;
};

/// AllTraffic is the CIDR range of all IPv4 traffic: put it in DenyOut to
/// block everything not listed in AllowOut. Go: AllTraffic.
inline constexpr const char* AllTraffic = "0.0.0.0/0";

/// A SOCKS5 proxy for outbound traffic (wire: `egressProxy`).
/// Go: EgressProxyConfig.
struct EgressProxyConfig {
  std::string Address;  ///< host:port
  /// Proxy user name; empty = no authentication.
  std::string Username;
  /// Proxy password.
  std::string Password;
};

/// Changes applied to matching outbound requests. Go: RequestTransform.
struct RequestTransform {
  /// Headers injected (replacing any of the same name).
  std::map<std::string, std::string> Headers;
};

/// One transform rule for a host. Go: RequestRule.
struct RequestRule {
  /// What to change in the matching requests.
  RequestTransform Transform;
};

/// Outbound network configuration of a sandbox (wire: `network`).
/// Go: NetworkConfig.
struct NetworkConfig {
  /// IPs, CIDR blocks or domains (wildcards allowed) allowed out.
  std::vector<std::string> AllowOut;
  /// IPs and CIDR blocks denied (AllTraffic denies everything else).
  std::vector<std::string> DenyOut;
  /// Per-host request transforms; the host must be in AllowOut too.
  std::map<std::string, std::vector<RequestRule>> Rules;
  /// SOCKS5 proxy for outbound traffic; unset = none.
  std::optional<EgressProxyConfig> EgressProxy;
  /// Whether sandbox URLs are public (create only; server default true).
  std::optional<bool> AllowPublicTraffic;
  /// Host name that replaces the request host on outbound requests (create
  /// only; may contain ${PORT}).
  std::string MaskRequestHost;

  /// Adds a header-injection rule for `host`. Go: WithRequestTransform.
  NetworkConfig& WithRequestTransform(
      const std::string& host, std::map<std::string, std::string> headers);
};

/// A NetworkConfig that blocks all outbound traffic. Go: DenyAllOutbound.
NetworkConfig DenyAllOutbound();
/// A NetworkConfig that allows only `hosts` out. Go: AllowOutbound.
NetworkConfig AllowOutbound(std::vector<std::string> hosts);

/// The body of Sandbox::UpdateNetwork: it replaces the whole mutable network
/// configuration, so an empty field clears that setting on the server.
/// Go: NetworkUpdateConfig.
struct NetworkUpdateConfig {
  /// IPs, CIDR blocks or domains allowed out.
  std::vector<std::string> AllowOut;
  /// IPs and CIDR blocks denied.
  std::vector<std::string> DenyOut;
  /// Per-host request transforms.
  std::map<std::string, std::vector<RequestRule>> Rules;
  /// SOCKS5 proxy for outbound traffic; unset = none.
  std::optional<EgressProxyConfig> EgressProxy;
  /// false is the same as DenyOut = {AllTraffic}.
  std::optional<bool> AllowInternetAccess;
};

/// One parameter of an MCP server: a string, a boolean, a number, a list of
/// strings, or any other JSON value through MCPValue::JSON. Go uses
/// `interface{}`; this keeps JSON types out of the public headers.
class MCPValue {
 public:
  /// A string parameter.
  MCPValue(std::string text);  // NOLINT(google-explicit-constructor)
  /// A string parameter.
  MCPValue(const char* text);  // NOLINT(google-explicit-constructor)
  /// A boolean parameter.
  MCPValue(bool value);  // NOLINT(google-explicit-constructor)
  /// A number parameter (any arithmetic type but bool).
  template <typename Number, std::enable_if_t<std::is_arithmetic_v<Number> &&
                                                  !std::is_same_v<Number, bool>,
                                              int> = 0>
  MCPValue(Number value)  // NOLINT(google-explicit-constructor)
      : json_(NumberText(value)) {}
  /// A list of strings.
  // NOLINTNEXTLINE(google-explicit-constructor)
  MCPValue(const std::vector<std::string>& list);
  /// Any JSON value written as JSON text (an object, an array of numbers,
  /// null); NewSandbox refuses text that is not JSON with
  /// InvalidArgumentError.
  static MCPValue JSON(std::string json_text);
  /// The value as JSON text, as it is sent.
  const std::string& JSONText() const noexcept { return json_; }

 private:
  struct Raw {};
  MCPValue(Raw, std::string json_text) : json_(std::move(json_text)) {}
  template <typename Number>
  static std::string NumberText(Number value) {
    if constexpr (std::is_floating_point_v<Number>) {
      return FloatText(static_cast<double>(value));
    } else {
      return std::to_string(value);
    }
  }
  static std::string FloatText(double value);
  std::string json_;
};

/// The MCP (Model Context Protocol) gateway of a sandbox (wire: `mcp`, an
/// object of servers): server name ("github", "browserbase", ...) -> its
/// parameters. The client sends it with the create request; starting the
/// gateway is up to the template, as with the Go SDK. Go: MCPConfig.
struct MCPConfig {
  /// Server name -> its parameters.
  std::map<std::string, std::map<std::string, MCPValue>> Integrations;
};

/// Automatic resume of a paused sandbox on inbound traffic (wire:
/// `autoResume`). Go: AutoResumeConfig.
struct AutoResumeConfig {
  /// Resume the paused sandbox when traffic reaches it.
  bool Enabled = false;
};

/// Metadata key of a leased sandbox's owner (see SandboxLease). An e2b-cpp
/// addition, stored as plain metadata so any E2B API keeps it.
inline constexpr const char* LeaseOwnerMetadataKey = "e2b-cpp.lease.owner";
/// Metadata key of a leased sandbox's expiry, RFC 3339 UTC
/// ("2026-12-07T16:00:00.000Z"). An e2b-cpp addition.
inline constexpr const char* LeaseExpiresMetadataKey = "e2b-cpp.lease.expires";

/// A lease on a new sandbox: who created it and until when it is needed,
/// written by NewSandbox as the metadata LeaseOwnerMetadataKey and
/// LeaseExpiresMetadataKey (now + TTL), so that Client::ReapSandboxes (or
/// the e2b-reap command) can kill it when its creator crashed before
/// Close. The lease is bookkeeping only: the sandbox's Timeout still ends
/// it, and nothing renews or enforces the lease. An e2b-cpp addition.
struct SandboxLease {
  /// Who holds the lease; empty = DefaultLeaseOwner().
  std::string Owner;
  /// How long the sandbox is needed from creation; must be positive.
  std::chrono::milliseconds TTL{0};
};

/// The lease owner used when SandboxLease::Owner is empty: E2B_LEASE_OWNER
/// when set, else "<user>@<host>" (the login name from USER, else the uid;
/// the host name), which stays the same across a crash and a restart of
/// the process, so the reaper finds what a crashed run left.
std::string DefaultLeaseOwner();

/// Configuration for NewSandbox. Empty Template means DefaultTemplate, a
/// Timeout of 0 means DefaultTimeout (seconds). The fields after EnvVars are
/// the Go SDK's later additions; their defaults send nothing new.
struct SandboxConfig {
  /// Template ID or alias.
  std::string Template = DefaultTemplate;
  /// Lifetime in seconds.
  int Timeout = DefaultTimeout;
  /// Environment variables of every command in the sandbox.
  std::map<std::string, std::string> EnvVars;
  /// envd demands the access token the API returns. Unlike Go (false), the
  /// default is true, as in the official SDKs.
  bool Secure = true;
  /// Internet access (wire: `allow_internet_access`); unset = server
  /// default (allowed).
  std::optional<bool> AllowInternetAccess;
  /// Outbound network rules; unset = server default (all allowed).
  std::optional<NetworkConfig> Network;
  /// Pause instead of kill when the timeout is reached.
  bool AutoPause = false;
  /// With AutoPause: keep memory (true, server default) or only the
  /// filesystem (false).
  std::optional<bool> AutoPauseMemory;
  /// Resume a paused sandbox on inbound traffic.
  std::optional<AutoResumeConfig> AutoResume;
  /// Key-value pairs for filtering (ListSandboxesV2, WithSandboxMetadata).
  std::map<std::string, std::string> Metadata;
  /// Volumes to mount at creation.
  std::vector<VolumeMount> VolumeMounts;
  /// The official SDKs' form of the timeout behaviour: OnTimeout "pause"
  /// (same as AutoPause) or "kill", AutoResume needs "pause". Combining it
  /// with a contradicting AutoPause/AutoResume is an error.
  std::optional<SandboxLifecycle> Lifecycle;
  /// MCP gateway configuration (wire: `mcp`); unset sends nothing.
  std::optional<MCPConfig> MCP;
  /// Lease metadata to add (see SandboxLease); unset sends none. Setting
  /// the lease keys in Metadata as well is refused. An e2b-cpp addition.
  std::optional<SandboxLease> Lease;
};

/// Details about a sandbox (GET /sandboxes/{id} and the listing).
struct SandboxInfo {
  std::string ID;  ///< wire: sandboxID
  /// Alias of the sandbox's template.
  std::string Alias;
  /// The API's clientID of the sandbox.
  std::string ClientID;
  std::string Template;  ///< wire: templateID
  std::string State;     ///< "running" or "paused"
  /// CPU cores.
  int CPUCount = 0;
  /// Memory in MiB.
  int MemoryMB = 0;
  /// Disk size in MiB.
  int DiskSizeMB = 0;
  std::string StartedAt;  ///< RFC 3339
  std::string EndAt;      ///< RFC 3339
  /// Version of envd in the sandbox.
  std::string EnvdVersion;
  /// What happens at the timeout.
  SandboxLifecycle Lifecycle;
  /// Volumes mounted in the sandbox.
  std::vector<VolumeMount> VolumeMounts;
  /// Metadata given at creation.
  std::map<std::string, std::string> Metadata;
  /// Network configuration (GET /sandboxes/{id} only).
  std::optional<NetworkConfig> Network;
  /// Internet access as created (GET /sandboxes/{id} only; unset = not
  /// reported).
  std::optional<bool> AllowInternetAccess;
  /// The sandbox domain the API reported (empty = the client's).
  std::string Domain;
};

/// One page of ListSandboxesV2; NextToken is empty on the last page.
/// Go: ListSandboxesV2Result.
struct ListSandboxesV2Result {
  /// The sandboxes of this page.
  std::vector<SandboxInfo> Sandboxes;
  /// Token of the next page; empty on the last one.
  std::string NextToken;
};

/// One structured log entry of a sandbox.
struct SandboxLogEntry {
  /// Severity ("debug", "info", "warn", "error").
  std::string Level;
  /// The log line.
  std::string Message;
  /// When it was logged (RFC 3339).
  std::string Timestamp;
  /// Structured fields of the entry.
  std::map<std::string, std::string> Fields;
};

/// One resource usage sample of a sandbox.
struct SandboxMetric {
  /// CPU cores.
  int CPUCount = 0;
  /// CPU use in percent.
  double CPUUsedPct = 0;
  /// Total memory in bytes.
  std::int64_t MemTotal = 0;
  /// Used memory in bytes.
  std::int64_t MemUsed = 0;
  /// Cached memory in bytes.
  std::int64_t MemCache = 0;
  /// Disk size in bytes.
  std::int64_t DiskTotal = 0;
  /// Used disk in bytes.
  std::int64_t DiskUsed = 0;
  /// When the sample was taken (RFC 3339).
  std::string Timestamp;
  /// The same time as a Unix timestamp.
  std::int64_t TimestampUnix = 0;
};

/// A sandbox snapshot; SnapshotID can be used as a template for NewSandbox.
struct SnapshotInfo {
  /// The snapshot's ID: a template for NewSandbox.
  std::string SnapshotID;
  /// The snapshot's names.
  std::vector<std::string> Names;
};

/// Result of ListSnapshots; NextToken is empty on the last page.
struct ListSnapshotsResult {
  /// The snapshots of this page.
  std::vector<SnapshotInfo> Snapshots;
  /// Token of the next page; empty on the last one.
  std::string NextToken;
};

/// The output of a completed command. A non-zero ExitCode is a result, not
/// an error. Stdout and Stderr hold the raw bytes the process wrote.
struct CommandResult {
  /// Everything the process wrote to stdout (see Truncated).
  std::string Stdout;
  /// Everything the process wrote to stderr (see Truncated).
  std::string Stderr;
  /// The process's exit code.
  int ExitCode = 0;
  /// Output beyond WithMaxOutputBytes was dropped from Stdout or Stderr.
  bool Truncated = false;
  /// envd's description of how the process ended when it did not exit 0
  /// ("exit status 3", "signal: killed"); empty after a clean exit.
  /// Go: CommandResult.Error.
  std::string Error;
};

/// A file or directory in the sandbox filesystem: the result of Write (which
/// fills Name, Path, Type and Metadata) and of Stat, List and Rename (all
/// fields). Go: FileInfo (the official SDKs' EntryInfo).
struct FileInfo {
  /// The last path element.
  std::string Name;
  /// The absolute path.
  std::string Path;
  /// "file", "directory", or "" when unknown. A symlink reports its
  /// target's type (and SymlinkTarget); "symlink" only when the target is
  /// unknown to the server (e.g. dangling).
  std::string Type;
  /// Size in bytes.
  std::int64_t Size = 0;
  /// Permission bits, e.g. 0644 (octal).
  std::uint32_t Mode = 0;
  /// ls-style permissions, e.g. "-rw-r--r--" or "drwxr-xr-x".
  std::string Permissions;
  /// Owning user name.
  std::string Owner;
  /// Owning group name.
  std::string Group;
  /// Modification time; the epoch when the server did not say.
  std::chrono::system_clock::time_point ModTime{};
  /// Set when the path is a symlink: where it points.
  std::optional<std::string> SymlinkTarget;
  /// User metadata stored with the file (envd >= 0.6.2).
  std::map<std::string, std::string> Metadata;
};

/// Configuration for CreateTemplate.
struct CreateTemplateConfig {
  /// Template name (required); may carry a tag: "my-template:v1".
  std::string Name;
  /// Tags for the build; the server defaults to {"default"}.
  std::vector<std::string> Tags;
  /// CPU cores for sandbox instances (0 = server default, min 1).
  int CPUCount = 0;
  /// Memory in MiB for sandbox instances (0 = server default, min 128).
  int MemoryMB = 0;
};

/// The response of CreateTemplate.
struct TemplateInfo {
  /// The new template's ID.
  std::string TemplateID;
  /// Its first build's ID.
  std::string BuildID;
  /// Whether the template is public.
  bool Public = false;
  /// Names (with tags).
  std::vector<std::string> Names;
  /// Tags of the build.
  std::vector<std::string> Tags;
  /// Aliases (the older form of names).
  std::vector<std::string> Aliases;
};

/// A template as returned by ListTemplates.
struct TemplateDetail {
  /// The template's ID.
  std::string TemplateID;
  /// Its latest build's ID.
  std::string BuildID;
  /// CPU cores of its sandboxes.
  int CPUCount = 0;
  /// Memory in MiB of its sandboxes.
  int MemoryMB = 0;
  /// Disk size in MiB of its sandboxes.
  int DiskSizeMB = 0;
  /// Whether the template is public.
  bool Public = false;
  /// Names (with tags).
  std::vector<std::string> Names;
  /// Aliases (the older form of names).
  std::vector<std::string> Aliases;
  /// Creation time (RFC 3339).
  std::string CreatedAt;
  /// Last update time (RFC 3339).
  std::string UpdatedAt;
  /// When a sandbox last started from it (RFC 3339); unset = never.
  std::optional<std::string> LastSpawnedAt;
  /// How many sandboxes started from it.
  std::int64_t SpawnCount = 0;
  /// How many builds it has had.
  int BuildCount = 0;
  /// envd version of its latest build.
  std::string EnvdVersion;
  /// Status of its latest build.
  std::string BuildStatus;
};

/// One build of a template.
struct TemplateBuild {
  /// The build's ID.
  std::string BuildID;
  /// "waiting", "building", "ready" or "error".
  std::string Status;
  /// Creation time (RFC 3339).
  std::string CreatedAt;
  /// Last update time (RFC 3339).
  std::string UpdatedAt;
  /// When the build finished (RFC 3339); empty while it runs.
  std::string FinishedAt;
  /// CPU cores of the template's sandboxes.
  int CPUCount = 0;
  /// Memory in MiB of the template's sandboxes.
  int MemoryMB = 0;
  /// Disk size in MiB of the template's sandboxes.
  int DiskSizeMB = 0;
  /// envd version the build installed.
  std::string EnvdVersion;
};

/// A template with its builds, as returned by GetTemplate.
struct TemplateWithBuilds {
  /// The template's ID.
  std::string TemplateID;
  /// Whether the template is public.
  bool Public = false;
  /// Names (with tags).
  std::vector<std::string> Names;
  /// Aliases (the older form of names).
  std::vector<std::string> Aliases;
  /// Creation time (RFC 3339).
  std::string CreatedAt;
  /// Last update time (RFC 3339).
  std::string UpdatedAt;
  /// When a sandbox last started from it (RFC 3339); unset = never.
  std::optional<std::string> LastSpawnedAt;
  /// How many sandboxes started from it.
  std::int64_t SpawnCount = 0;
  /// This page of its builds.
  std::vector<TemplateBuild> Builds;
};

/// Result of GetTemplate; NextToken pages the builds (empty on the last page).
struct GetTemplateResult {
  /// The template and a page of its builds.
  TemplateWithBuilds Template;
  /// Token of the next page of builds; empty on the last one.
  std::string NextToken;
};

/// One structured log entry of a template build.
struct BuildLogEntry {
  /// When it was logged (RFC 3339).
  std::string Timestamp;
  /// The log line.
  std::string Message;
  /// Severity ("debug", "info", "warn", "error").
  std::string Level;
  /// The build step it belongs to; empty for none.
  std::string Step;
};

// ---- the low-level template build API (Go: templates.go) ----

/// Whether a step's file bundle is cached server-side. Go: BuildFileStatus.
struct BuildFileStatus {
  /// The bundle is already cached; nothing to upload.
  bool Present = false;
  /// Presigned URL for UploadBuildFiles; set only when Present is false.
  std::string URL;
};

/// One build step. Go: TemplateStep.
struct TemplateStep {
  /// The instruction, sent as given: the Go docs name "run", "copy",
  /// "env", "workdir", "user"; the JS SDK sends "RUN", "COPY", "ENV",
  /// "WORKDIR", "USER".
  std::string Type;
  /// The instruction's arguments.
  std::vector<std::string> Args;
  /// SHA-256 (hex) of the file bundle of a "copy" step.
  std::string FilesHash;
  /// Skip the cache for this step.
  bool Force = false;
};

/// Credentials for a private base image. Type "aws" (AWS* fields), "gcp"
/// (ServiceAccountJSON) or a username/password registry (the Go docs say
/// "general", the JS SDK sends "registry"). Go: ImageRegistry.
struct ImageRegistry {
  /// "aws", "gcp", or a username/password registry type.
  std::string Type;
  std::string AWSAccessKeyID;      ///< wire: awsAccessKeyId
  std::string AWSSecretAccessKey;  ///< wire: awsSecretAccessKey
  std::string AWSRegion;           ///< wire: awsRegion
  std::string ServiceAccountJSON;  ///< wire: serviceAccountJson
  /// User name of a username/password registry.
  std::string Username;
  /// Password of a username/password registry.
  std::string Password;
};

/// What StartTemplateBuild builds. Empty strings and false are left out of
/// the request. Go: StartBuildConfig.
struct StartBuildConfig {
  /// Base Docker image, e.g. "python:3.11"; exclusive with FromTemplate.
  std::string FromImage;
  /// Base E2B template ID; exclusive with FromImage.
  std::string FromTemplate;
  /// Registry credentials for a private FromImage.
  std::optional<ImageRegistry> FromImageRegistry;
  /// Skip the build cache for every step.
  bool Force = false;
  /// The ordered build steps.
  std::vector<TemplateStep> Steps;
  /// Command run when a sandbox starts from the template.
  std::string StartCmd;
  /// Readiness check that must exit 0.
  std::string ReadyCmd;
};

/// Why a build failed. Go: BuildStatusReason.
struct BuildStatusReason {
  /// What went wrong.
  std::string Message;
  /// The step that failed; empty when none.
  std::string Step;
  /// The log entries that explain it.
  std::vector<BuildLogEntry> LogEntries;
};

/// A build's state and its logs from the requested offset. Go: BuildStatus.
struct BuildStatus {
  /// The template being built.
  std::string TemplateID;
  /// The build.
  std::string BuildID;
  /// "waiting", "building", "ready" or "error".
  std::string Status;
  /// Log lines from the requested offset.
  std::vector<std::string> Logs;
  /// The same logs as structured entries.
  std::vector<BuildLogEntry> LogEntries;
  /// Set when the build failed.
  std::optional<BuildStatusReason> Reason;
};

}  // namespace e2b

#endif  // E2B_TYPES_HPP_
