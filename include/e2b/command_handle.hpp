#ifndef E2B_COMMAND_HANDLE_HPP_
#define E2B_COMMAND_HANDLE_HPP_

#include <e2b/context.hpp>
#include <e2b/errors.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace e2b {

namespace internal {
class CommandStream;
struct CommandHandleOwner;
}  // namespace internal

/// Signals a process can be sent (envd's Signal enum).
enum class ProcessSignal {
  Kill = 9,   ///< SIGKILL: ends the process at once
  Term = 15,  ///< SIGTERM: asks the process to end
};

/// A process running in the sandbox (Commands.List). Go: ProcessInfo.
struct ProcessInfo {
  /// The process ID in the sandbox.
  std::uint32_t PID = 0;
  std::string Tag;  ///< empty when the process has none
  /// The command that was started.
  std::string Cmd;
  /// Its arguments.
  std::vector<std::string> Args;
  /// Environment variables given at start.
  std::map<std::string, std::string> Envs;
  std::string Cwd;  ///< empty when not set at start
};

/// A non-zero exit code, thrown only where the caller opted in
/// (WithCommandExitError). The result is kept. Go: *CommandExitError.
class CommandExitError : public Error {
 public:
  /// `error` is envd's description of the exit ("exit status 3").
  CommandExitError(CommandResult result, const std::string& error);
  /// The process's exit code (never 0).
  int ExitCode() const noexcept { return result_.ExitCode; }
  /// What the process wrote to stdout.
  const std::string& Stdout() const noexcept { return result_.Stdout; }
  /// What the process wrote to stderr.
  const std::string& Stderr() const noexcept { return result_.Stderr; }
  /// The whole result, as Run would have returned it.
  const CommandResult& Result() const noexcept { return result_; }

 private:
  CommandResult result_;
};

/// A command or PTY session running in the sandbox, started with
/// Commands.Start/StartShell, attached with Commands.Connect or created with
/// Pty.Create. Its output is read in the background from the moment it is
/// returned: callbacks run on that reader thread, and Stdout()/Stderr()
/// hold what arrived so far. Copies share the process; destroying the last
/// copy disconnects (the process keeps running). Thread-safe.
/// Go: *CommandHandle.
class CommandHandle {
 public:
  /// An empty handle; every call throws Error.
  CommandHandle() = default;

  /// The process ID in the sandbox. Go: CommandHandle.PID.
  std::uint32_t PID() const;
  /// True for a PTY session (output arrives as PTY data).
  bool IsPty() const;

  /// Blocks until the process ends and returns its result (a non-zero exit
  /// code is a result unless WithCommandExitError was given). Throws what
  /// broke the stream, Error when the handle was disconnected first, and
  /// TimeoutError/Error when `ctx` expires/is cancelled (the process keeps
  /// running). Go: CommandHandle.Wait.
  CommandResult Wait() const;
  /// Wait, bounded by `ctx` (its deadline and cancellation).
  CommandResult Wait(const Context& ctx) const;
  /// Wait with callbacks for the output (WithWaitOnStdout, WithWaitOnStderr,
  /// WithWaitOnPty; see WaitParams for when they run). Go: Wait(ctx, opts...).
  template <typename... Opts>
  CommandResult Wait(const WaitOption& first, const Opts&... rest) const {
    return WaitImpl(Context::Background(),
                    ApplyOptions(WaitParams{}, first, rest...));
  }
  /// Wait with callbacks, bounded by `ctx`.
  template <typename... Opts>
  CommandResult Wait(const Context& ctx, const WaitOption& first,
                     const Opts&... rest) const {
    return WaitImpl(ctx, ApplyOptions(WaitParams{}, first, rest...));
  }

  /// Kills the process (SIGKILL); false when it no longer exists.
  /// Go: CommandHandle.Kill.
  bool Kill() const;
  /// Kill, bounded by `ctx` (its deadline and cancellation).
  bool Kill(const Context& ctx) const;
  /// Sends `signal`; false when the process no longer exists.
  bool SendSignal(ProcessSignal signal) const;
  /// SendSignal, bounded by `ctx` (its deadline and cancellation).
  bool SendSignal(const Context& ctx, ProcessSignal signal) const;

  /// Writes to the process's stdin (started WithStdin; PTY sessions take
  /// Pty.SendInput). Go: CommandHandle.SendStdin.
  void SendStdin(std::string_view data) const;
  /// SendStdin, bounded by `ctx` (its deadline and cancellation).
  void SendStdin(const Context& ctx, std::string_view data) const;
  /// SendStdin with bytes.
  void SendStdin(const std::vector<std::uint8_t>& data) const;
  /// SendStdin with bytes, bounded by `ctx`.
  void SendStdin(const Context& ctx,
                 const std::vector<std::uint8_t>& data) const;
  /// Closes the process's stdin (EOF). Go: CommandHandle.CloseStdin.
  void CloseStdin() const;
  /// CloseStdin, bounded by `ctx` (its deadline and cancellation).
  void CloseStdin(const Context& ctx) const;

  /// The raw stdout bytes received so far (PTY output for a PTY session).
  std::string Stdout() const;
  /// The raw stderr bytes received so far.
  std::string Stderr() const;
  /// The exit code once the end of the process was received.
  /// Go: CommandHandle.ExitCode.
  std::optional<int> ExitCode() const;

  /// Stops receiving output without killing the process; no callback runs
  /// after it returns (unless called from a callback). Reattach with
  /// Commands.Connect. Go: CommandHandle.Disconnect.
  void Disconnect() const;

 private:
  friend class CommandService;
  friend class PtyService;
  explicit CommandHandle(std::shared_ptr<internal::CommandHandleOwner> owner);
  CommandResult WaitImpl(const Context& ctx, const WaitParams& params) const;
  internal::CommandStream& Stream() const;

  std::shared_ptr<internal::CommandHandleOwner> owner_;
};

}  // namespace e2b

#endif  // E2B_COMMAND_HANDLE_HPP_
