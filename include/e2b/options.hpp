#ifndef E2B_OPTIONS_HPP_
#define E2B_OPTIONS_HPP_

#include <chrono>
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
  explicit Option(std::function<void(Params&)> apply)
      : apply_(std::move(apply)) {}
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
  std::optional<int> Limit;
  std::optional<std::string> Search;
  std::optional<std::int64_t> Cursor;  ///< start, milliseconds since epoch
};
using LogsOption = Option<LogsParams>;
/// Sort order: "forward" (oldest first) or "backward" (newest first).
LogsOption WithDirection(std::string direction);
/// Minimum level: "debug", "info", "warn" or "error".
LogsOption WithLevel(std::string level);
/// Maximum number of entries (server default 1000).
LogsOption WithLimit(int limit);
/// Case-sensitive substring filter on the message.
LogsOption WithSearch(std::string query);

// ---- Client::ListSnapshots ------------------------------------------------

struct ListSnapshotsParams {
  std::optional<int> Limit;
  std::optional<std::string> NextToken;
  std::optional<std::string> SandboxID;
};
using ListSnapshotsOption = Option<ListSnapshotsParams>;
/// Maximum number of snapshots per page (default 100).
ListSnapshotsOption WithSnapshotLimit(int limit);
/// Page token from a previous ListSnapshotsResult.
ListSnapshotsOption WithSnapshotNextToken(std::string token);
/// Only snapshots taken from this sandbox.
ListSnapshotsOption WithSnapshotSandboxID(std::string sandbox_id);

// ---- Client::GetTemplate --------------------------------------------------

struct GetTemplateParams {
  std::optional<int> Limit;
  std::optional<std::string> NextToken;
};
using GetTemplateOption = Option<GetTemplateParams>;
/// Maximum number of builds to return (1-100, default 100).
GetTemplateOption WithTemplateBuildsLimit(int limit);
/// Page token from a previous GetTemplateResult.
GetTemplateOption WithTemplateBuildsNextToken(std::string token);

// ---- Client::GetTemplateBuildLogs -----------------------------------------

struct BuildLogParams {
  std::optional<std::int64_t> Cursor;  ///< milliseconds
  std::optional<std::string> Direction;
  std::optional<std::string> Level;
  std::optional<int> Limit;
  std::optional<std::string> Source;  ///< "temporary" or "persistent"
};
using BuildLogOption = Option<BuildLogParams>;
BuildLogOption WithBuildLogCursor(std::int64_t ms);
BuildLogOption WithBuildLogDirection(std::string direction);
BuildLogOption WithBuildLogLevel(std::string level);
BuildLogOption WithBuildLogLimit(int limit);
BuildLogOption WithBuildLogSource(std::string source);

// ---- Client::ListSandboxesV2 and Client::NewSandboxPaginator ------------

/// Parameters of GET /v2/sandboxes.
struct ListSandboxesV2Params {
  std::vector<std::string> State;  ///< "running", "paused"; empty = both
  std::map<std::string, std::string> Metadata;  ///< all pairs must match
  std::optional<int> Limit;                     ///< page size, 1-100
  std::optional<std::string> NextToken;
  std::optional<std::string> Template;      ///< template ID or alias
  std::optional<std::string> Order;         ///< "asc" or "desc" (default)
  std::optional<std::string> StartedAfter;  ///< RFC 3339 date-time
};
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

struct ForkParams {
  int Count = 1;
  /// Lifetime of each fork; unset = DefaultTimeout. Sent in whole seconds
  /// (rounded up).
  std::optional<std::chrono::milliseconds> Timeout;
};
using ForkOption = Option<ForkParams>;
/// Number of forks (at least 1, default 1; the API allows up to 100).
/// Go: WithForkCount.
ForkOption WithForkCount(int count);
/// Lifetime of each fork. Go: WithForkTimeout.
ForkOption WithForkTimeout(std::chrono::milliseconds timeout);
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

struct RunParams {
  std::map<std::string, std::string> EnvVars;
  std::string Cwd;
  std::string User;
  std::chrono::milliseconds Timeout{0};  ///< 0 = DefaultCommandTimeout
  /// No process lifetime at all (WithNoTimeout); Timeout is then ignored.
  bool NoTimeout = false;
  /// Bounds each request and, for streams, the wait for the process to
  /// start (0 = the client's RequestTimeout); never the process lifetime.
  std::chrono::milliseconds RequestTimeout{0};
  OutputTextCallback OnStdout;
  OutputTextCallback OnStderr;
  OutputBytesCallback OnStdoutBytes;
  OutputBytesCallback OnStderrBytes;
  /// Keep a stdin pipe open for SendStdin (default: closed at start).
  bool Stdin = false;
  /// Tag to find the process by in List and ConnectByTag.
  std::optional<std::string> Tag;
  /// Throw CommandExitError for a non-zero exit code.
  bool ExitError = false;
};
using RunOption = Option<RunParams>;
/// Environment variables for the command (added to the sandbox's).
RunOption WithEnv(std::map<std::string, std::string> envs);
/// Working directory of the command.
RunOption WithCwd(std::string cwd);
/// Sandbox user that runs the command ("user" or "root").
RunOption WithUser(std::string user);
/// Command timeout (default DefaultCommandTimeout); also bounds the process
/// lifetime on the server.
RunOption WithTimeout(std::chrono::milliseconds timeout);
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
/// Makes Run and Wait throw CommandExitError when the exit code is not 0
/// (the newest Go SDK's behaviour); by default it is a result.
RunOption WithCommandExitError(bool enabled = true);

// ---- FilesystemService ----------------------------------------------------

struct ReadParams {
  std::string User;
  std::chrono::milliseconds Timeout{0};  ///< 0 = no per-call limit
};
struct WriteParams {
  std::string User;
  std::chrono::milliseconds Timeout{0};  ///< 0 = no per-call limit
};
using ReadOption = Option<ReadParams>;
using WriteOption = Option<WriteParams>;

/// The result of WithFileUser: usable as a ReadOption and as a WriteOption.
class FileUserOption {
 public:
  explicit FileUserOption(std::string user) : user_(std::move(user)) {}
  operator ReadOption() const {  // NOLINT(google-explicit-constructor)
    return ReadOption([u = user_](ReadParams& p) { p.User = u; });
  }
  operator WriteOption() const {  // NOLINT(google-explicit-constructor)
    return WriteOption([u = user_](WriteParams& p) { p.User = u; });
  }

 private:
  std::string user_;
};
/// Sandbox user for a file operation; a ReadOption and a WriteOption.
FileUserOption WithFileUser(std::string user);
/// Per-call timeout of a Read, ReadBytes or ReadString.
ReadOption WithReadTimeout(std::chrono::milliseconds timeout);
/// Per-call timeout of a Write, WriteBytes or WriteString.
WriteOption WithWriteTimeout(std::chrono::milliseconds timeout);

}  // namespace e2b

#endif  // E2B_OPTIONS_HPP_
