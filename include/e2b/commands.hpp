#ifndef E2B_COMMANDS_HPP_
#define E2B_COMMANDS_HPP_

#include <e2b/command_handle.hpp>
#include <e2b/context.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace e2b {

namespace internal {
struct SandboxState;
}  // namespace internal

/// Runs commands in a sandbox through envd's process.Process service.
/// Cheap to copy; thread-safe. Go: *CommandService.
class CommandService {
 public:
  CommandService() = default;

  /// Runs `cmd` with `args` (no shell: cmd is looked up on PATH) and blocks
  /// until it ends. A non-zero exit code is returned, not thrown (unless
  /// WithCommandExitError). Options: WithEnv, WithCwd, WithUser,
  /// WithTimeout, WithNoTimeout, WithOnStdout/WithOnStderr (+Bytes),
  /// WithStdin, WithTag, WithCommandExitError. Callbacks run on the calling
  /// thread. Go: CommandService.Run.
  template <typename... Opts>
  CommandResult Run(const std::string& cmd,
                    const std::vector<std::string>& args,
                    const Opts&... opts) const {
    return RunWithContext(Context::Background(), cmd, args, opts...);
  }

  /// Run with a Context for cancellation and deadline.
  /// Go: CommandService.RunWithContext.
  template <typename... Opts>
  CommandResult RunWithContext(const Context& ctx, const std::string& cmd,
                               const std::vector<std::string>& args,
                               const Opts&... opts) const {
    return RunImpl(ctx, cmd, args, ApplyOptions(RunParams{}, opts...));
  }

  /// Runs a shell command line as the official SDKs do:
  /// `/bin/bash -l -c "<command>"`, blocking like Run.
  template <typename... Opts>
  CommandResult RunShell(const std::string& command,
                         const Opts&... opts) const {
    return RunShell(Context::Background(), command, opts...);
  }
  /// RunShell, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  CommandResult RunShell(const Context& ctx, const std::string& command,
                         const Opts&... opts) const {
    return RunImpl(ctx, kShell, ShellArgs(command),
                   ApplyOptions(RunParams{}, opts...));
  }

  /// Go HEAD's Run: `command` is a shell command line (`/bin/bash -l -c`),
  /// and a non-zero exit throws CommandExitError (which carries the output
  /// and exit code); WithCommandExitError(false) returns it as a result
  /// instead. Go: CommandService.Run(ctx, cmd, opts...).
  template <typename... Opts>
  CommandResult Run(const Context& ctx, const std::string& command,
                    const Opts&... opts) const {
    RunParams params;
    params.ExitError = true;
    return RunImpl(ctx, kShell, ShellArgs(command),
                   ApplyOptions(std::move(params), opts...));
  }

  /// Starts `cmd` with `args` (no shell) in the background and returns once
  /// the process has started. The lifetime (WithTimeout, default
  /// DefaultCommandTimeout; WithNoTimeout for none) is enforced by envd;
  /// `ctx` and WithRequestTimeout bound only the start. Go:
  /// CommandService.Start.
  template <typename... Opts>
  CommandHandle Start(const std::string& cmd,
                      const std::vector<std::string>& args,
                      const Opts&... opts) const {
    return Start(Context::Background(), cmd, args, opts...);
  }
  /// Start, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  CommandHandle Start(const Context& ctx, const std::string& cmd,
                      const std::vector<std::string>& args,
                      const Opts&... opts) const {
    return StartImpl(ctx, cmd, args, ApplyOptions(RunParams{}, opts...));
  }

  /// Go HEAD's Start: a shell command line, whose handle's Wait throws
  /// CommandExitError for a non-zero exit (WithCommandExitError(false) for a
  /// result). Go: CommandService.Start(ctx, cmd, opts...).
  template <typename... Opts>
  CommandHandle Start(const Context& ctx, const std::string& command,
                      const Opts&... opts) const {
    RunParams params;
    params.ExitError = true;
    return StartImpl(ctx, kShell, ShellArgs(command),
                     ApplyOptions(std::move(params), opts...));
  }

  /// Start for a shell command line (`/bin/bash -l -c "<command>"`).
  template <typename... Opts>
  CommandHandle StartShell(const std::string& command,
                           const Opts&... opts) const {
    return StartShell(Context::Background(), command, opts...);
  }
  /// StartShell, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  CommandHandle StartShell(const Context& ctx, const std::string& command,
                           const Opts&... opts) const {
    return StartImpl(ctx, kShell, ShellArgs(command),
                     ApplyOptions(RunParams{}, opts...));
  }

  /// Attaches to a running process (started by any client). Output from
  /// the moment of attaching reaches the callbacks of `opts`. The stream
  /// lasts as long as the process (as in Go) unless WithTimeout bounds how
  /// long it stays attached. Go: CommandService.Connect.
  template <typename... Opts>
  CommandHandle Connect(std::uint32_t pid, const Opts&... opts) const {
    return Connect(Context::Background(), pid, opts...);
  }
  /// Connect, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  CommandHandle Connect(const Context& ctx, std::uint32_t pid,
                        const Opts&... opts) const {
    return ConnectImpl(ctx, pid, std::nullopt,
                       ApplyOptions(RunParams{}, opts...));
  }
  /// Connect to the process started WithTag(tag).
  template <typename... Opts>
  CommandHandle ConnectByTag(const std::string& tag,
                             const Opts&... opts) const {
    return ConnectByTag(Context::Background(), tag, opts...);
  }
  /// ConnectByTag, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  CommandHandle ConnectByTag(const Context& ctx, const std::string& tag,
                             const Opts&... opts) const {
    return ConnectImpl(ctx, 0, tag, ApplyOptions(RunParams{}, opts...));
  }

  /// The processes running in the sandbox (commands and PTYs).
  /// Go: CommandService.List.
  std::vector<ProcessInfo> List() const;
  /// List, bounded by `ctx` (its deadline and cancellation).
  std::vector<ProcessInfo> List(const Context& ctx) const;

  /// Kills a process (SIGKILL); false when no such process exists.
  /// Go: CommandService.Kill.
  bool Kill(std::uint32_t pid) const;
  /// Kill, bounded by `ctx` (its deadline and cancellation).
  bool Kill(const Context& ctx, std::uint32_t pid) const;
  /// Sends SIGTERM or SIGKILL; false when no such process exists.
  bool SendSignal(std::uint32_t pid, ProcessSignal signal) const;
  /// SendSignal, bounded by `ctx` (its deadline and cancellation).
  bool SendSignal(const Context& ctx, std::uint32_t pid,
                  ProcessSignal signal) const;

  /// Writes to the stdin of a process started WithStdin.
  /// Go: CommandService.SendStdin.
  void SendStdin(std::uint32_t pid, std::string_view data) const;
  /// SendStdin, bounded by `ctx` (its deadline and cancellation).
  void SendStdin(const Context& ctx, std::uint32_t pid,
                 std::string_view data) const;
  /// SendStdin with bytes.
  void SendStdin(std::uint32_t pid,
                 const std::vector<std::uint8_t>& data) const;
  /// SendStdin with bytes, bounded by `ctx`.
  void SendStdin(const Context& ctx, std::uint32_t pid,
                 const std::vector<std::uint8_t>& data) const;
  /// Closes the stdin of a process started WithStdin (EOF).
  void CloseStdin(std::uint32_t pid) const;
  /// CloseStdin, bounded by `ctx` (its deadline and cancellation).
  void CloseStdin(const Context& ctx, std::uint32_t pid) const;

 private:
  friend class Sandbox;
  friend class PtyService;
  static constexpr const char* kShell = "/bin/bash";
  static std::vector<std::string> ShellArgs(const std::string& command) {
    return {"-l", "-c", command};
  }
  explicit CommandService(std::shared_ptr<internal::SandboxState> state);
  CommandResult RunImpl(const Context& ctx, const std::string& cmd,
                        const std::vector<std::string>& args,
                        const RunParams& params) const;
  CommandHandle StartImpl(const Context& ctx, const std::string& cmd,
                          const std::vector<std::string>& args,
                          const RunParams& params) const;
  CommandHandle ConnectImpl(const Context& ctx, std::uint32_t pid,
                            const std::optional<std::string>& tag,
                            const RunParams& params) const;
  const internal::SandboxState& State(const char* call) const;

  std::shared_ptr<internal::SandboxState> state_;
};

}  // namespace e2b

#endif  // E2B_COMMANDS_HPP_
