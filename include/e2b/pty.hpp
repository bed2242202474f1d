#ifndef E2B_PTY_HPP_
#define E2B_PTY_HPP_

#include <e2b/command_handle.hpp>
#include <e2b/commands.hpp>
#include <e2b/context.hpp>
#include <e2b/options.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace e2b {

namespace internal {
struct SandboxState;
}  // namespace internal

/// Parameters of Pty.Create and Pty.Connect.
struct PtyParams {
  /// Added to TERM=xterm-256color, LANG=C.UTF-8, LC_ALL=C.UTF-8 (and
  /// overriding them).
  std::map<std::string, std::string> EnvVars;
  /// Working directory of the shell.
  std::string Cwd;
  /// User the shell runs as.
  std::string User;
  std::chrono::milliseconds Timeout{0};         ///< 0 = DefaultCommandTimeout
  bool NoTimeout = false;                       ///< no lifetime at all
  std::chrono::milliseconds RequestTimeout{0};  ///< 0 = client default
  OutputBytesCallback OnData;                   ///< raw terminal output
  /// Tag to find the session by in Commands.List.
  std::optional<std::string> Tag;
};
/// An option of Pty.Create and Pty.Connect.
using PtyOption = Option<PtyParams>;
/// Environment variables of the shell. Go: WithPtyEnv.
PtyOption WithPtyEnv(std::map<std::string, std::string> envs);
/// Working directory of the shell. Go: WithPtyCwd.
PtyOption WithPtyCwd(std::string cwd);
/// Sandbox user that runs the shell. Go: WithPtyUser.
PtyOption WithPtyUser(std::string user);
/// Lifetime of the PTY (default DefaultCommandTimeout); zero or negative
/// disables it, as in Go. Go: WithPtyTimeout.
PtyOption WithPtyTimeout(std::chrono::milliseconds timeout);
/// WithPtyTimeout with any std::chrono duration.
template <typename Rep, typename Period>
PtyOption WithPtyTimeout(std::chrono::duration<Rep, Period> timeout) {
  return WithPtyTimeout(
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}
/// No lifetime: the shell runs until it exits or is killed.
PtyOption WithPtyNoTimeout();
/// Limit of the start handshake and of each request (not the lifetime).
PtyOption WithPtyRequestTimeout(std::chrono::milliseconds timeout);
/// Called with each chunk of raw terminal output as it arrives, on the
/// handle's reader thread. Go: WithPtyOnData.
PtyOption WithPtyOnData(OutputBytesCallback callback);
/// Tags the PTY process (List, Commands.ConnectByTag).
PtyOption WithPtyTag(std::string tag);

/// Interactive terminals in a sandbox: a login shell (`/bin/bash -i -l`)
/// on a pseudo-terminal. Cheap to copy; thread-safe. Go: *PtyService.
class PtyService {
 public:
  PtyService() = default;
  /// The PTY service of the sandbox `commands` belongs to.
  explicit PtyService(const CommandService& commands);

  /// Starts a shell on a `cols` x `rows` terminal and returns once it runs.
  /// Output reaches WithPtyOnData. Go: PtyService.Create.
  template <typename... Opts>
  CommandHandle Create(std::uint32_t cols, std::uint32_t rows,
                       const Opts&... opts) const {
    return Create(Context::Background(), cols, rows, opts...);
  }
  /// Create, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  CommandHandle Create(const Context& ctx, std::uint32_t cols,
                       std::uint32_t rows, const Opts&... opts) const {
    return CreateImpl(ctx, cols, rows, ApplyOptions(PtyParams{}, opts...));
  }

  /// Attaches to a running PTY. Go: PtyService.Connect.
  template <typename... Opts>
  CommandHandle Connect(std::uint32_t pid, const Opts&... opts) const {
    return Connect(Context::Background(), pid, opts...);
  }
  /// Connect, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  CommandHandle Connect(const Context& ctx, std::uint32_t pid,
                        const Opts&... opts) const {
    return ConnectImpl(ctx, pid, ApplyOptions(PtyParams{}, opts...));
  }

  /// Sends keystrokes (raw bytes) to the PTY. Go: PtyService.SendInput.
  void SendInput(std::uint32_t pid, std::string_view data) const;
  /// SendInput, bounded by `ctx` (its deadline and cancellation).
  void SendInput(const Context& ctx, std::uint32_t pid,
                 std::string_view data) const;
  /// SendInput with bytes.
  void SendInput(std::uint32_t pid,
                 const std::vector<std::uint8_t>& data) const;
  /// SendInput with bytes, bounded by `ctx`.
  void SendInput(const Context& ctx, std::uint32_t pid,
                 const std::vector<std::uint8_t>& data) const;
  /// Changes the terminal size. Go: PtyService.Resize.
  void Resize(std::uint32_t pid, std::uint32_t cols, std::uint32_t rows) const;
  /// Resize, bounded by `ctx` (its deadline and cancellation).
  void Resize(const Context& ctx, std::uint32_t pid, std::uint32_t cols,
              std::uint32_t rows) const;
  /// Kills the PTY's shell (SIGKILL); false when it no longer exists.
  /// Go: PtyService.Kill.
  bool Kill(std::uint32_t pid) const;
  /// Kill, bounded by `ctx` (its deadline and cancellation).
  bool Kill(const Context& ctx, std::uint32_t pid) const;

 private:
  friend class Sandbox;
  explicit PtyService(std::shared_ptr<internal::SandboxState> state);
  CommandHandle CreateImpl(const Context& ctx, std::uint32_t cols,
                           std::uint32_t rows, const PtyParams& params) const;
  CommandHandle ConnectImpl(const Context& ctx, std::uint32_t pid,
                            const PtyParams& params) const;

  std::shared_ptr<internal::SandboxState> state_;
};

}  // namespace e2b

#endif  // E2B_PTY_HPP_
