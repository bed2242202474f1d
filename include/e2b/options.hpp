#ifndef E2B_OPTIONS_HPP_
#define E2B_OPTIONS_HPP_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace e2b {

/// The C++ form of Go's functional options: a small callable applied to a
/// parameter struct. Calls take them as trailing variadic arguments:
/// `sandbox.Commands.Run("ls", {}, WithCwd("/tmp"), WithTimeout(5s))`.
template <typename Params>
class Option {
 public:
  /// Wraps the function that sets the option's fields.
  explicit Option(std::function<void(Params&)> apply)
      : apply_(std::move(apply)) {}
  /// Applies the option to `params`.
  void Apply(Params& params) const {
    if (apply_) apply_(params);
  }

 private:
  std::function<void(Params&)> apply_;
};

/// Builds a parameter struct from a pack of options, rejecting at compile
/// time any argument that is not an option for this call.
template <typename Params, typename... Opts>
Params ApplyOptions(Params params, const Opts&... opts) {
  static_assert((std::is_convertible_v<const Opts&, Option<Params>> && ...),
                "argument is not an option of this call");
  (static_cast<Option<Params>>(opts).Apply(params), ...);
  return params;
}

// ---- Sandbox::Logs --------------------------------------------------------

/// Parameters of Sandbox::Logs (GET /v2/sandboxes/{id}/logs).
struct LogsParams {
  std::optional<std::string> Direction;  ///< "forward" or "backward"
  std::optional<std::string> Level;      ///< minimum level
  /// Maximum number of entries.
  std::optional<int> Limit;
  /// Only entries containing this text.
  std::optional<std::string> Search;
  std::optional<std::int64_t> Cursor;  ///< start, milliseconds since epoch
};
/// An option of Sandbox::Logs.
using LogsOption = Option<LogsParams>;
/// Sort order: "forward" (oldest first) or "backward" (newest first).
LogsOption WithDirection(std::string direction);
/// Minimum level: "debug", "info", "warn" or "error".
LogsOption WithLevel(std::string level);
/// Maximum number of entries (server default 1000).
LogsOption WithLimit(int limit);
/// Case-sensitive substring filter on the message.
LogsOption WithSearch(std::string query);

// ---- Sandbox::Refresh and Sandbox::Pause ---------------------------------

/// Parameters of Sandbox::Refresh (POST /sandboxes/{id}/refreshes).
struct RefreshParams {
  /// Seconds to keep the sandbox alive from now (0-MaxRefreshDuration);
  /// unset = the server's default.
  std::optional<int> Duration;
};
/// An option of Sandbox::Refresh.
using RefreshOption = Option<RefreshParams>;
/// Keep the sandbox alive `duration_seconds` from now (0-3600; more or
/// less is refused with InvalidArgumentError before sending).
/// Go: WithRefreshDuration.
RefreshOption WithRefreshDuration(int duration_seconds);

/// Parameters of Sandbox::Pause (POST /sandboxes/{id}/pause).
struct PauseParams {
  /// Full memory snapshot (true) or the filesystem only (false: resuming
  /// cold-boots from disk, and auto-resume on traffic is impossible);
  /// unset = the server's default (memory kept).
  std::optional<bool> KeepMemory;
};
/// An option of Sandbox::Pause.
using PauseOption = Option<PauseParams>;
/// Whether the pause keeps memory (default true). Go: WithKeepMemory.
PauseOption WithKeepMemory(bool keep);

// ---- Client::ListSnapshots ------------------------------------------------

/// Parameters of Client::ListSnapshots.
struct ListSnapshotsParams {
  /// Page size.
  std::optional<int> Limit;
  /// Page token from a previous ListSnapshotsResult.
  std::optional<std::string> NextToken;
  /// Only snapshots of this sandbox.
  std::optional<std::string> SandboxID;
};
/// An option of Client::ListSnapshots.
using ListSnapshotsOption = Option<ListSnapshotsParams>;
/// Maximum number of snapshots per page (default 100).
ListSnapshotsOption WithSnapshotLimit(int limit);
/// Page token from a previous ListSnapshotsResult.
ListSnapshotsOption WithSnapshotNextToken(std::string token);
/// Only snapshots taken from this sandbox.
ListSnapshotsOption WithSnapshotSandboxID(std::string sandbox_id);

// ---- Client::GetTemplate --------------------------------------------------

/// Parameters of Client::GetTemplate (the paging of its builds).
struct GetTemplateParams {
  /// Maximum number of builds.
  std::optional<int> Limit;
  /// Page token from a previous GetTemplateResult.
  std::optional<std::string> NextToken;
};
/// An option of Client::GetTemplate.
using GetTemplateOption = Option<GetTemplateParams>;
/// Maximum number of builds to return (1-100, default 100).
GetTemplateOption WithTemplateBuildsLimit(int limit);
/// Page token from a previous GetTemplateResult.
GetTemplateOption WithTemplateBuildsNextToken(std::string token);

// ---- Client::GetTemplateBuildLogs -----------------------------------------

/// Parameters of Client::GetTemplateBuildLogs.
struct BuildLogParams {
  std::optional<std::int64_t> Cursor;  ///< milliseconds
  /// "forward" or "backward".
  std::optional<std::string> Direction;
  /// Minimum level: "debug", "info", "warn" or "error".
  std::optional<std::string> Level;
  /// Maximum number of entries.
  std::optional<int> Limit;
  std::optional<std::string> Source;  ///< "temporary" or "persistent"
};
/// An option of Client::GetTemplateBuildLogs.
using BuildLogOption = Option<BuildLogParams>;
/// Logs from this time on, in milliseconds since the epoch.
BuildLogOption WithBuildLogCursor(std::int64_t ms);
/// "forward" or "backward".
BuildLogOption WithBuildLogDirection(std::string direction);
/// Minimum level: "debug", "info", "warn" or "error".
BuildLogOption WithBuildLogLevel(std::string level);
/// Maximum number of entries.
BuildLogOption WithBuildLogLimit(int limit);
/// Which logs: "temporary" or "persistent".
BuildLogOption WithBuildLogSource(std::string source);

// ---- Client::GetBuildStatus -----------------------------------------------

/// Parameters of Client::GetBuildStatus.
struct BuildStatusParams {
  std::optional<int> LogsOffset;  ///< index of the first log to return
  std::optional<int> Limit;       ///< 0-100, server default 100
  /// Minimum level: "debug", "info", "warn" or "error".
  std::optional<std::string> Level;
};
/// An option of Client::GetBuildStatus.
using BuildStatusOption = Option<BuildStatusParams>;
/// Logs from this index on, for incremental polling.
BuildStatusOption WithBuildStatusLogsOffset(int offset);
/// Maximum number of log entries (0-100, default 100).
BuildStatusOption WithBuildStatusLimit(int limit);
/// Minimum severity: "debug", "info", "warn" or "error".
BuildStatusOption WithBuildStatusLevel(std::string level);

// ---- Client::ListSandboxesV2 and Client::NewSandboxPaginator ------------

/// Parameters of GET /v2/sandboxes.
struct ListSandboxesV2Params {
  std::vector<std::string> State;  ///< "running", "paused"; empty = both
  std::map<std::string, std::string> Metadata;  ///< all pairs must match
  std::optional<int> Limit;                     ///< page size, 1-100
  /// Page token from a previous ListSandboxesV2Result.
  std::optional<std::string> NextToken;
  std::optional<std::string> Template;      ///< template ID or alias
  std::optional<std::string> Order;         ///< "asc" or "desc" (default)
  std::optional<std::string> StartedAfter;  ///< RFC 3339 date-time
};
/// An option of Client::ListSandboxesV2 and NewSandboxPaginator.
using ListSandboxesV2Option = Option<ListSandboxesV2Params>;
/// Only sandboxes in these states (sent as one comma-separated value).
/// Go: WithSandboxState.
ListSandboxesV2Option WithSandboxState(std::vector<std::string> states);
/// The Go spelling: WithSandboxState("running", "paused").
template <
    typename First, typename... More,
    std::enable_if_t<std::is_convertible_v<const First&, std::string>, int> = 0>
ListSandboxesV2Option WithSandboxState(const First& state,
                                       const More&... more) {
  return WithSandboxState(
      std::vector<std::string>{std::string(state), std::string(more)...});
}
/// Only sandboxes whose metadata has all these pairs. Go:
/// WithSandboxMetadata.
ListSandboxesV2Option WithSandboxMetadata(
    std::map<std::string, std::string> metadata);
/// Page size (1-100, server default 100). Go: WithSandboxLimit.
ListSandboxesV2Option WithSandboxLimit(int limit);
/// Page token from a previous ListSandboxesV2Result. Go:
/// WithSandboxNextToken.
ListSandboxesV2Option WithSandboxNextToken(std::string token);
/// Only sandboxes of this template (ID or alias).
ListSandboxesV2Option WithSandboxTemplate(std::string template_id);
/// "asc" (oldest first) or "desc" (newest first, the default) by start time.
ListSandboxesV2Option WithSandboxOrder(std::string order);
/// Only sandboxes started after this RFC 3339 time.
ListSandboxesV2Option WithSandboxStartedAfter(std::string rfc3339);
/// Only sandboxes started after this time (sent as RFC 3339 UTC).
ListSandboxesV2Option WithSandboxStartedAfter(
    std::chrono::system_clock::time_point time);

// ---- Client::ForkSandbox and Sandbox::Fork --------------------------------

/// Parameters of Client::ForkSandbox and Sandbox::Fork.
struct ForkParams {
  /// Number of forks.
  int Count = 1;
  /// Lifetime of each fork; unset = DefaultTimeout. Sent in whole seconds
  /// (rounded up).
  std::optional<std::chrono::milliseconds> Timeout;
};
/// An option of Client::ForkSandbox and Sandbox::Fork.
using ForkOption = Option<ForkParams>;
/// Number of forks (at least 1, default 1; the API allows up to 100).
/// Go: WithForkCount.
ForkOption WithForkCount(int count);
/// Lifetime of each fork. Go: WithForkTimeout.
ForkOption WithForkTimeout(std::chrono::milliseconds timeout);
/// WithForkTimeout with any std::chrono duration.
template <typename Rep, typename Period>
ForkOption WithForkTimeout(std::chrono::duration<Rep, Period> timeout) {
  return WithForkTimeout(
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}

// ---- CommandService::Run --------------------------------------------------

/// Text output callback: UTF-8 text, never a character split across calls
/// (invalid bytes arrive as U+FFFD).
using OutputTextCallback = std::function<void(const std::string&)>;
/// Raw output callback: the bytes exactly as the process wrote them.
using OutputBytesCallback =
    std::function<void(const std::vector<std::uint8_t>&)>;

/// Parameters of Commands.Run, Start and their shell forms, set by the With*
/// command options.
struct RunParams {
  /// Environment variables of the command (WithEnv).
  std::map<std::string, std::string> EnvVars;
  /// Working directory (WithCwd).
  std::string Cwd;
  /// User the command runs as (WithUser).
  std::string User;
  std::chrono::milliseconds Timeout{0};  ///< 0 = DefaultCommandTimeout
  /// No process lifetime at all (WithNoTimeout); Timeout is then ignored.
  bool NoTimeout = false;
  /// Bounds each request and, for streams, the wait for the process to
  /// start (0 = the client's RequestTimeout); never the process lifetime.
  std::chrono::milliseconds RequestTimeout{0};
  /// Called with each chunk of stdout as text (WithOnStdout).
  OutputTextCallback OnStdout;
  /// Called with each chunk of stderr as text (WithOnStderr).
  OutputTextCallback OnStderr;
  /// Called with each chunk of stdout as bytes.
  OutputBytesCallback OnStdoutBytes;
  /// Called with each chunk of stderr as bytes.
  OutputBytesCallback OnStderrBytes;
  /// Keep a stdin pipe open for SendStdin (default: closed at start).
  bool Stdin = false;
  /// Tag to find the process by in List and ConnectByTag.
  std::optional<std::string> Tag;
  /// Throw CommandExitError for a non-zero exit code.
  bool ExitError = false;
  /// The most output bytes kept of each of stdout and stderr (0 = all).
  std::size_t MaxOutputBytes = 0;
};
/// An option of Commands.Run, Start and their shell forms.
using RunOption = Option<RunParams>;
/// Environment variables for the command (added to the sandbox's).
RunOption WithEnv(std::map<std::string, std::string> envs);
/// Working directory of the command.
RunOption WithCwd(std::string cwd);
/// Sandbox user that runs the command ("user" or "root").
RunOption WithUser(std::string user);
/// Command timeout (default DefaultCommandTimeout); also bounds the process
/// lifetime on the server. Zero or negative disables it, as in Go (the same
/// as WithNoTimeout); RunParams::Timeout set directly keeps 0 = default.
RunOption WithTimeout(std::chrono::milliseconds timeout);
/// WithTimeout with any std::chrono duration.
template <typename Rep, typename Period>
RunOption WithTimeout(std::chrono::duration<Rep, Period> timeout) {
  return WithTimeout(
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}
/// No process lifetime: the process runs until it ends or is killed (the
/// stream survives idle periods through envd keepalives).
RunOption WithNoTimeout();
/// Per-request limit of the calls behind a command (the start handshake of
/// Start/Connect, and unary calls), distinct from the process lifetime
/// (WithTimeout). Go: the request context's deadline.
RunOption WithRequestTimeout(std::chrono::milliseconds timeout);
/// WithRequestTimeout with any std::chrono duration.
template <typename Rep, typename Period>
RunOption WithRequestTimeout(std::chrono::duration<Rep, Period> timeout) {
  return WithRequestTimeout(
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}
/// Called with each stdout chunk as it arrives, decoded as UTF-8 without
/// ever splitting a character. Go: WithOnStdout.
RunOption WithOnStdout(OutputTextCallback callback);
/// Called with each stderr chunk as it arrives (UTF-8, as WithOnStdout).
/// Go: WithOnStderr.
RunOption WithOnStderr(OutputTextCallback callback);
/// Called with each stdout chunk's raw bytes as they arrive.
RunOption WithOnStdoutBytes(OutputBytesCallback callback);
/// Called with each stderr chunk's raw bytes as they arrive.
RunOption WithOnStderrBytes(OutputBytesCallback callback);
/// Keeps the process's stdin open so SendStdin/CloseStdin can feed it.
/// Go: WithStdin.
RunOption WithStdin(bool enabled = true);
/// Tags the process so List shows it and ConnectByTag finds it.
RunOption WithTag(std::string tag);
/// Keeps at most `bytes` of stdout and of stderr in the result (and in
/// CommandHandle::Stdout/Stderr and the WithWaitOn* replay); what comes
/// after is dropped and CommandResult::Truncated says so. Streaming
/// callbacks (WithOnStdout and friends) still see every byte. Without it a
/// command that prints 3 GiB holds 3 GiB in the client.
RunOption WithMaxOutputBytes(std::size_t bytes);
/// Makes Run and Wait throw CommandExitError when the exit code is not 0
/// (the newest Go SDK's behaviour); by default it is a result.
RunOption WithCommandExitError(bool enabled = true);

/// The options of Commands.Connect: the RunOptions it reads (callbacks,
/// WithTimeout, WithRequestTimeout, WithCommandExitError) under Go HEAD's
/// name. Go: ConnectOption.
using ConnectOption = RunOption;
/// Called with each stdout chunk's raw bytes of an attached process (the
/// same as WithOnStdoutBytes). Go: WithConnectOnStdout.
ConnectOption WithConnectOnStdout(OutputBytesCallback callback);
/// Called with each stderr chunk's raw bytes of an attached process.
/// Go: WithConnectOnStderr.
ConnectOption WithConnectOnStderr(OutputBytesCallback callback);

// ---- CommandHandle::Wait ----------------------------------------------------

/// Callbacks of one Wait call. They run on the thread that called Wait,
/// first with the output that arrived before Wait (so together they see
/// all of it, as in Go, where output is read by Wait), then with each new
/// chunk until the process ends. Order within a stream is kept; between
/// stdout and stderr it is only as fine as the chunks a wake-up finds.
struct WaitParams {
  /// Called with each chunk of stdout.
  OutputBytesCallback OnStdout;
  /// Called with each chunk of stderr.
  OutputBytesCallback OnStderr;
  OutputBytesCallback OnPty;  ///< a PTY session's output
};
/// An option of CommandHandle::Wait.
using WaitOption = Option<WaitParams>;
/// Go: WithWaitOnStdout.
WaitOption WithWaitOnStdout(OutputBytesCallback callback);
/// Go: WithWaitOnStderr.
WaitOption WithWaitOnStderr(OutputBytesCallback callback);
/// Go: WithWaitOnPty.
WaitOption WithWaitOnPty(OutputBytesCallback callback);

// ---- FilesystemService ----------------------------------------------------

/// Progress of a transfer: bytes moved so far and the expected total (0 when
/// unknown). The one callback type of every transfer that reports
/// progress: sandbox files (WithReadProgress, WithWriteProgress), volume
/// files (WithVolumeReadProgress, WithVolumeWriteProgress), template file
/// bundles (Client::UploadBuildFiles, BuildConfig::UploadProgress).
/// Guarantees, for all of them: called on the thread that called the transfer
/// (a download stream's: the thread that reads it), never on a thread of the
/// library, one call at a time, after every chunk moved, with
/// `transferred` never decreasing. It must not call back into the same
/// transfer, and should return quickly: the transfer waits for it.
using ProgressFunc =
    std::function<void(std::uint64_t transferred, std::uint64_t total)>;

/// Options of Read, ReadBytes, ReadString, DownloadFile, DownloadDir and of
/// the metadata calls that take a ReadOption in Go (List, Stat, Exists,
/// Remove, WatchDir); each call uses the fields that apply to it.
struct ReadParams {
  /// User the call acts as (WithFileUser).
  std::string User;
  std::chrono::milliseconds Timeout{0};  ///< 0 = no per-call limit
  /// Reads: first byte to transfer (sent as a Range request).
  std::uint64_t Offset = 0;
  /// Reads: at most this many bytes from Offset; unset = to the end.
  std::optional<std::uint64_t> Length;
  /// Reads: how many times a transfer that broke mid-way (connection reset
  /// or closed early) is resumed from the byte where it stopped.
  int ResumeAttempts = 0;
  /// Reads: progress of the download.
  ProgressFunc Progress;
  /// List: how many levels below the path to list (1 = its children).
  std::uint32_t Depth = 1;
};
/// Options of Write, WriteBytes, WriteString, WriteFiles, UploadFile,
/// UploadDir and of MakeDir and Rename.
struct WriteParams {
  /// User the call acts as (WithFileUser).
  std::string User;
  std::chrono::milliseconds Timeout{0};  ///< 0 = no per-call limit
  /// Uploads: metadata stored with each written file (`X-Metadata-<key>`);
  /// an upload without metadata clears a file's earlier metadata.
  std::map<std::string, std::string> Metadata;
  /// Uploads: progress of the request body.
  ProgressFunc Progress;
};
/// Options of the streaming WatchDir.
struct WatchParams {
  /// User the watch acts as (WithFileUser).
  std::string User;
  /// Ends the watch after this long (0 = until Stop).
  std::chrono::milliseconds Timeout{0};
  /// Also report changes in subdirectories.
  bool Recursive = false;
  /// Events carry the FileInfo of the changed path.
  bool IncludeEntry = false;
};
/// Options of DownloadURL and UploadURL.
struct SignedURLParams {
  /// User the URL acts as.
  std::string User;
  /// Lifetime of the signature; unset = it never expires.
  std::optional<std::chrono::seconds> Expiration;
};
/// An option of the read and metadata calls (ReadParams).
using ReadOption = Option<ReadParams>;
/// An option of the write calls (WriteParams).
using WriteOption = Option<WriteParams>;
/// An option of the streaming WatchDir (WatchParams).
using WatchOption = Option<WatchParams>;
/// An option of DownloadURL and UploadURL.
using SignedURLOption = Option<SignedURLParams>;

/// The result of WithFileUser: usable wherever a filesystem call takes a
/// user (ReadOption, WriteOption, WatchOption).
class FileUserOption {
 public:
  /// An option that sets the user to `user`.
  explicit FileUserOption(std::string user) : user_(std::move(user)) {}
  /// As an option of the read and metadata calls.
  operator ReadOption() const {  // NOLINT(google-explicit-constructor)
    return ReadOption([u = user_](ReadParams& p) { p.User = u; });
  }
  /// As an option of the write calls.
  operator WriteOption() const {  // NOLINT(google-explicit-constructor)
    return WriteOption([u = user_](WriteParams& p) { p.User = u; });
  }
  /// As an option of WatchDir.
  operator WatchOption() const {  // NOLINT(google-explicit-constructor)
    return WatchOption([u = user_](WatchParams& p) { p.User = u; });
  }

 private:
  std::string user_;
};
/// Sandbox user for a file operation (sent as the `username` query of
/// /files and as `Authorization: Basic` on filesystem RPCs). Go:
/// WithFileUser.
FileUserOption WithFileUser(std::string user);
/// Per-call timeout of a read-side call. Go: WithReadTimeout.
ReadOption WithReadTimeout(std::chrono::milliseconds timeout);
/// Per-call timeout of a write-side call. Go: WithWriteTimeout.
WriteOption WithWriteTimeout(std::chrono::milliseconds timeout);
/// Reads only `length` bytes (unset = to the end) starting at `offset`.
ReadOption WithReadRange(std::uint64_t offset,
                         std::optional<std::uint64_t> length = std::nullopt);
/// Resumes a download that broke mid-way up to `attempts` times.
ReadOption WithReadResume(int attempts);
/// Reports download progress.
ReadOption WithReadProgress(ProgressFunc progress);
/// List depth (1 = direct children). JS: list(path, {depth}).
ReadOption WithDepth(std::uint32_t depth);
/// Reports upload progress.
WriteOption WithWriteProgress(ProgressFunc progress);
/// Metadata stored with the written files. JS: write(.., {metadata}).
WriteOption WithFileMetadata(std::map<std::string, std::string> metadata);
/// Watch subdirectories too.
WatchOption WithRecursive(bool recursive = true);
/// Events carry the changed entry's FileInfo.
WatchOption WithIncludeEntry(bool include = true);
/// Ends the watch after `timeout` (0 = until stopped).
WatchOption WithWatchTimeout(std::chrono::milliseconds timeout);
/// User the signed URL acts as (empty = the sandbox default user). Go:
/// WithSignedURLUser.
SignedURLOption WithSignedURLUser(std::string user);
/// How long the signed URL stays valid (whole seconds). Go:
/// WithSignedURLExpiration.
SignedURLOption WithSignedURLExpiration(std::chrono::seconds expiration);
/// WithSignedURLExpiration with any std::chrono duration (truncated to whole
/// seconds).
template <typename Rep, typename Period>
SignedURLOption WithSignedURLExpiration(
    std::chrono::duration<Rep, Period> expiration) {
  return WithSignedURLExpiration(
      std::chrono::duration_cast<std::chrono::seconds>(expiration));
}

}  // namespace e2b

#endif  // E2B_OPTIONS_HPP_
