#ifndef E2B_TYPES_HPP_
#define E2B_TYPES_HPP_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
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

/// Configuration for NewSandbox. Empty Template means DefaultTemplate, a
/// Timeout of 0 means DefaultTimeout (seconds).
struct SandboxConfig {
  std::string Template = DefaultTemplate;
  int Timeout = DefaultTimeout;
  std::map<std::string, std::string> EnvVars;
};

/// Lifecycle configuration of a sandbox (wire: `lifecycle`).
struct SandboxLifecycle {
  bool AutoResume = false;
  std::string OnTimeout;  ///< "kill" or "pause"
};

/// A volume mounted in the sandbox (wire: `volumeMounts[]`).
struct VolumeMount {
  std::string Name;
  std::string Path;
};

/// Details about a sandbox (GET /sandboxes/{id} and the listing).
struct SandboxInfo {
  std::string ID;  ///< wire: sandboxID
  std::string Alias;
  std::string ClientID;
  std::string Template;  ///< wire: templateID
  std::string State;     ///< "running" or "paused"
  int CPUCount = 0;
  int MemoryMB = 0;
  int DiskSizeMB = 0;
  std::string StartedAt;  ///< RFC 3339
  std::string EndAt;      ///< RFC 3339
  std::string EnvdVersion;
  SandboxLifecycle Lifecycle;
  std::vector<VolumeMount> VolumeMounts;
};

/// One structured log entry of a sandbox.
struct SandboxLogEntry {
  std::string Level;
  std::string Message;
  std::string Timestamp;
  std::map<std::string, std::string> Fields;
};

/// One resource usage sample of a sandbox.
struct SandboxMetric {
  int CPUCount = 0;
  double CPUUsedPct = 0;
  std::int64_t MemTotal = 0;
  std::int64_t MemUsed = 0;
  std::int64_t MemCache = 0;
  std::int64_t DiskTotal = 0;
  std::int64_t DiskUsed = 0;
  std::string Timestamp;
  std::int64_t TimestampUnix = 0;
};

/// A sandbox snapshot; SnapshotID can be used as a template for NewSandbox.
struct SnapshotInfo {
  std::string SnapshotID;
  std::vector<std::string> Names;
};

/// Result of ListSnapshots; NextToken is empty on the last page.
struct ListSnapshotsResult {
  std::vector<SnapshotInfo> Snapshots;
  std::string NextToken;
};

/// The output of a completed command. A non-zero ExitCode is a result, not
/// an error. Stdout and Stderr hold the raw bytes the process wrote.
struct CommandResult {
  std::string Stdout;
  std::string Stderr;
  int ExitCode = 0;
};

/// A file written to the sandbox filesystem.
struct FileInfo {
  std::string Name;
  std::string Path;
  std::string Type;
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
  std::string TemplateID;
  std::string BuildID;
  bool Public = false;
  std::vector<std::string> Names;
  std::vector<std::string> Tags;
  std::vector<std::string> Aliases;
};

/// A template as returned by ListTemplates.
struct TemplateDetail {
  std::string TemplateID;
  std::string BuildID;
  int CPUCount = 0;
  int MemoryMB = 0;
  int DiskSizeMB = 0;
  bool Public = false;
  std::vector<std::string> Names;
  std::vector<std::string> Aliases;
  std::string CreatedAt;
  std::string UpdatedAt;
  std::optional<std::string> LastSpawnedAt;
  std::int64_t SpawnCount = 0;
  int BuildCount = 0;
  std::string EnvdVersion;
  std::string BuildStatus;
};

/// One build of a template.
struct TemplateBuild {
  std::string BuildID;
  std::string Status;
  std::string CreatedAt;
  std::string UpdatedAt;
  std::string FinishedAt;
  int CPUCount = 0;
  int MemoryMB = 0;
  int DiskSizeMB = 0;
  std::string EnvdVersion;
};

/// A template with its builds, as returned by GetTemplate.
struct TemplateWithBuilds {
  std::string TemplateID;
  bool Public = false;
  std::vector<std::string> Names;
  std::vector<std::string> Aliases;
  std::string CreatedAt;
  std::string UpdatedAt;
  std::optional<std::string> LastSpawnedAt;
  std::int64_t SpawnCount = 0;
  std::vector<TemplateBuild> Builds;
};

/// Result of GetTemplate; NextToken pages the builds (empty on the last page).
struct GetTemplateResult {
  TemplateWithBuilds Template;
  std::string NextToken;
};

/// One structured log entry of a template build.
struct BuildLogEntry {
  std::string Timestamp;
  std::string Message;
  std::string Level;
  std::string Step;
};

}  // namespace e2b

#endif  // E2B_TYPES_HPP_
