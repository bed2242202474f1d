#ifndef E2B_SANDBOX_HPP_
#define E2B_SANDBOX_HPP_

#include <e2b/commands.hpp>
#include <e2b/context.hpp>
#include <e2b/filesystem.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <memory>
#include <string>
#include <vector>

namespace e2b {

namespace internal {
struct SandboxState;
}  // namespace internal

/// A running E2B sandbox. Returned by Client::NewSandbox; cheap to copy and
/// move (copies refer to the same remote sandbox) and usable after its
/// Client is gone. Destroying the object does not kill the sandbox: call
/// Close() (or hold a SandboxCloser). Thread-safe. Go: *Sandbox.
class Sandbox {
 public:
  /// The sandbox ID.
  std::string ID;
  /// Command execution in the sandbox.
  CommandService Commands;
  /// File reads and writes in the sandbox.
  FilesystemService Filesystem;

  Sandbox() = default;

  /// Kills the sandbox (DELETE /sandboxes/{id}). Go: Close.
  void Close() const;
  void CloseWithContext(const Context& ctx) const;

  /// Details of the sandbox. Go: Info.
  SandboxInfo Info() const;
  SandboxInfo InfoWithContext(const Context& ctx) const;

  /// Sets the sandbox to end `timeout_seconds` from now. Go: SetTimeout.
  void SetTimeout(int timeout_seconds) const;
  void SetTimeoutWithContext(const Context& ctx, int timeout_seconds) const;

  /// Pauses the sandbox, keeping its state. A sandbox that is already paused
  /// (HTTP 409) counts as success, unlike Go's Pause. Go: Pause.
  void Pause() const;
  void PauseWithContext(const Context& ctx) const;

  /// Resumes a paused sandbox with a new lifetime in seconds. Go: Resume.
  void Resume(int timeout_seconds) const;
  void ResumeWithContext(const Context& ctx, int timeout_seconds) const;

  /// Resource usage samples. Go: Metrics.
  std::vector<SandboxMetric> Metrics() const;
  std::vector<SandboxMetric> MetricsWithContext(const Context& ctx) const;

  /// Structured log entries; options WithDirection, WithLevel, WithLimit,
  /// WithSearch. Go: Logs.
  template <typename... Opts>
  std::vector<SandboxLogEntry> Logs(const Opts&... opts) const {
    return LogsWithContext(Context::Background(), opts...);
  }
  template <typename... Opts>
  std::vector<SandboxLogEntry> LogsWithContext(const Context& ctx,
                                               const Opts&... opts) const {
    return LogsImpl(ctx, ApplyOptions(LogsParams{}, opts...));
  }

  /// Snapshots the sandbox; the result's SnapshotID can start new
  /// sandboxes. An empty name lets the server choose. Go: CreateSnapshot.
  SnapshotInfo CreateSnapshot(const Context& ctx,
                              const std::string& name = {}) const;
  SnapshotInfo CreateSnapshot(const std::string& name = {}) const;

  /// The envd access token of this sandbox (empty when it has none).
  /// Treat it as a secret.
  const std::string& EnvdAccessToken() const;
  /// The envd version the server reported at creation.
  const std::string& EnvdVersion() const;

 private:
  friend class Client;
  friend class SandboxCloser;
  explicit Sandbox(std::shared_ptr<internal::SandboxState> state);
  std::vector<SandboxLogEntry> LogsImpl(const Context& ctx,
                                        const LogsParams& params) const;

  std::shared_ptr<internal::SandboxState> state_;
};

/// RAII stand-in for Go's `defer sandbox.Close()`: closes the sandbox when
/// the closer goes out of scope, swallowing errors (a sandbox that is gone
/// already is fine). Call Release() to keep the sandbox alive.
class SandboxCloser {
 public:
  explicit SandboxCloser(Sandbox sandbox) : sandbox_(std::move(sandbox)) {}
  SandboxCloser(const SandboxCloser&) = delete;
  SandboxCloser& operator=(const SandboxCloser&) = delete;
  ~SandboxCloser();
  void Release() noexcept { released_ = true; }

 private:
  Sandbox sandbox_;
  bool released_ = false;
};

}  // namespace e2b

#endif  // E2B_SANDBOX_HPP_
