#ifndef E2B_SANDBOX_HPP_
#define E2B_SANDBOX_HPP_

#include <e2b/commands.hpp>
#include <e2b/context.hpp>
#include <e2b/filesystem.hpp>
#include <e2b/options.hpp>
#include <e2b/pty.hpp>
#include <e2b/types.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace e2b {

namespace internal {
struct SandboxState;
struct ClientState;
}  // namespace internal

struct ForkResult;

/// A running E2B sandbox. Returned by Client::NewSandbox; cheap to copy and
/// move (copies refer to the same remote sandbox) and usable after its
/// Client is gone. Destroying the object does not kill the sandbox: call
/// Close() (or hold a SandboxCloser). Thread-safe. Go: *Sandbox.
class Sandbox {
 public:
  /// The sandbox ID.
  std::string ID;
  /// The token that opens this sandbox's URLs (GetHost) when it was created
  /// with Network.AllowPublicTraffic = false: send it as the
  /// `e2b-traffic-access-token` header. Empty otherwise. Treat it as a
  /// secret. Go: Sandbox.TrafficAccessToken.
  std::string TrafficAccessToken;
  /// Command execution in the sandbox.
  CommandService Commands;
  /// File reads and writes in the sandbox.
  FilesystemService Filesystem;
  /// Interactive terminals (PTYs) in the sandbox. Go: Sandbox.Pty.
  PtyService Pty;

  Sandbox() = default;

  /// Kills the sandbox (DELETE /sandboxes/{id}). Go: Close.
  void Close() const;
  /// Close, bounded by `ctx` (its deadline and cancellation).
  void CloseWithContext(const Context& ctx) const;

  /// Details of the sandbox. Go: Info.
  SandboxInfo Info() const;
  /// Info, bounded by `ctx` (its deadline and cancellation).
  SandboxInfo InfoWithContext(const Context& ctx) const;

  /// Sets the sandbox to end `timeout_seconds` from now. Go: SetTimeout.
  void SetTimeout(int timeout_seconds) const;
  /// SetTimeout, bounded by `ctx` (its deadline and cancellation).
  void SetTimeoutWithContext(const Context& ctx, int timeout_seconds) const;

  /// Pauses the sandbox, keeping its state; option WithKeepMemory(false)
  /// keeps only the filesystem (resume then cold-boots). A sandbox that is
  /// already paused (HTTP 409) counts as success, unlike Go's Pause.
  /// Go: Pause(opts ...PauseOption).
  template <typename... Opts>
  void Pause(const Opts&... opts) const {
    PauseImpl(Context::Background(), ApplyOptions(PauseParams{}, opts...));
  }
  /// Pause, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  void PauseWithContext(const Context& ctx, const Opts&... opts) const {
    PauseImpl(ctx, ApplyOptions(PauseParams{}, opts...));
  }

  /// Resumes a paused sandbox with a new lifetime in seconds. Go: Resume.
  void Resume(int timeout_seconds) const;
  /// Resume, bounded by `ctx` (its deadline and cancellation).
  void ResumeWithContext(const Context& ctx, int timeout_seconds) const;

  /// Resource usage samples. Go: Metrics.
  std::vector<SandboxMetric> Metrics() const;
  /// Metrics, bounded by `ctx` (its deadline and cancellation).
  std::vector<SandboxMetric> MetricsWithContext(const Context& ctx) const;

  /// Structured log entries; options WithDirection, WithLevel, WithLimit,
  /// WithSearch. Go: Logs.
  template <typename... Opts>
  std::vector<SandboxLogEntry> Logs(const Opts&... opts) const {
    return LogsWithContext(Context::Background(), opts...);
  }
  /// Logs, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  std::vector<SandboxLogEntry> LogsWithContext(const Context& ctx,
                                               const Opts&... opts) const {
    return LogsImpl(ctx, ApplyOptions(LogsParams{}, opts...));
  }

  /// Snapshots the sandbox; the result's SnapshotID can start new
  /// sandboxes. An empty name lets the server choose. Go: CreateSnapshot.
  SnapshotInfo CreateSnapshot(const Context& ctx,
                              const std::string& name = {}) const;
  /// CreateSnapshot without a Context (Context::Background()).
  SnapshotInfo CreateSnapshot(const std::string& name = {}) const;

  /// The same as Pause(WithKeepMemory(keep_memory)). The API's field is
  /// `memory`, as the official SDKs send it (Go HEAD sends `keepMemory`).
  void Pause(bool keep_memory) const;
  /// Pause, bounded by `ctx` (its deadline and cancellation).
  void PauseWithContext(const Context& ctx, bool keep_memory) const;

  /// Extends the sandbox's life (POST /sandboxes/{id}/refreshes): without
  /// options the server's default, with WithRefreshDuration(seconds) that
  /// long from now (0-MaxRefreshDuration, else InvalidArgumentError before
  /// sending). Go: Refresh(opts ...RefreshOption).
  template <typename... Opts>
  void Refresh(const Opts&... opts) const {
    RefreshWithContext(Context::Background(), opts...);
  }
  /// Refresh, bounded by `ctx` (its deadline and cancellation).
  template <typename... Opts>
  void RefreshWithContext(const Context& ctx, const Opts&... opts) const {
    const RefreshParams params = ApplyOptions(RefreshParams{}, opts...);
    RefreshImpl(ctx, params.Duration
                         ? std::optional<std::chrono::milliseconds>(
                               std::chrono::seconds(*params.Duration))
                         : std::nullopt);
  }
  /// The same with a std::chrono duration (whole seconds, rounded up).
  template <typename Rep, typename Period>
  void Refresh(std::chrono::duration<Rep, Period> duration) const {
    RefreshImpl(
        Context::Background(),
        std::chrono::duration_cast<std::chrono::milliseconds>(duration));
  }
  /// Refresh, bounded by `ctx` (its deadline and cancellation).
  template <typename Rep, typename Period>
  void RefreshWithContext(const Context& ctx,
                          std::chrono::duration<Rep, Period> duration) const {
    RefreshImpl(
        ctx, std::chrono::duration_cast<std::chrono::milliseconds>(duration));
  }

  /// Replaces the sandbox's mutable network configuration (PUT
  /// /sandboxes/{id}/network); fields left empty are cleared.
  /// Go: UpdateNetwork.
  void UpdateNetwork(const NetworkUpdateConfig& cfg) const;
  /// UpdateNetwork, bounded by `ctx` (its deadline and cancellation).
  void UpdateNetworkWithContext(const Context& ctx,
                                const NetworkUpdateConfig& cfg) const;

  /// Forks the sandbox into WithForkCount copies booted from one snapshot
  /// of it; one ForkResult per fork. Throws only when the whole request
  /// fails. Go: Fork.
  template <typename... Opts>
  std::vector<ForkResult> Fork(const Context& ctx, const Opts&... opts) const;
  /// Fork without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<ForkResult> Fork(const Opts&... opts) const;

  /// Whether envd answers its health check: `GET <envd>/health` 200/204 ->
  /// true, any other answer (502: sandbox gone or paused) -> false; only a
  /// failure to get an answer (network, timeout, cancelled) throws.
  /// Go: IsRunning.
  bool IsRunning() const;
  /// IsRunning, bounded by `ctx` (its deadline and cancellation).
  bool IsRunningWithContext(const Context& ctx) const;

  /// The host name that reaches `port` (1-65535) of this sandbox:
  /// "<port>-<id>.<domain>", the domain being the one the API returned,
  /// else the client's; "localhost:<port>" in E2B_DEBUG mode. With a
  /// SandboxURL override the same edge-style name is returned (a server
  /// such as e2b-local routes it by the Host header). Go: GetHost.
  std::string GetHost(int port) const;

  /// A URL that downloads `path` with a plain HTTP GET (signed when the
  /// sandbox has an access token); the same as Filesystem.DownloadURL.
  /// Go: DownloadURL.
  template <typename... Opts>
  std::string DownloadURL(const std::string& path, const Opts&... opts) const {
    return Filesystem.DownloadURL(path, opts...);
  }
  /// A URL that uploads to `path` with an HTTP POST; the same as
  /// Filesystem.UploadURL. Go: UploadURL.
  template <typename... Opts>
  std::string UploadURL(const std::string& path, const Opts&... opts) const {
    return Filesystem.UploadURL(path, opts...);
  }

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
  void PauseImpl(const Context& ctx, const PauseParams& params) const;
  void RefreshImpl(const Context& ctx,
                   std::optional<std::chrono::milliseconds> duration) const;
  std::vector<ForkResult> ForkImpl(const Context& ctx,
                                   const ForkParams& params) const;
  /// POST /sandboxes/{id}/fork for any sandbox ID (shared with
  /// Client::ForkSandbox).
  static std::vector<ForkResult> ForkByID(
      const std::shared_ptr<const internal::ClientState>& client,
      const Context& ctx, const std::string& sandbox_id,
      const ForkParams& params);

  std::shared_ptr<internal::SandboxState> state_;
};

/// The outcome of one requested fork: exactly one of Sandbox (a running
/// fork) and Err (why that fork did not start) is set. Err holds an
/// e2b::Error; rethrow it with std::rethrow_exception. Go: ForkResult.
struct ForkResult {
  /// The running fork, when it started.
  std::optional<e2b::Sandbox> Sandbox;
  /// Why the fork did not start, when it did not.
  std::exception_ptr Err;
  /// Whether the fork started (Sandbox is set).
  bool OK() const noexcept { return Sandbox.has_value(); }
};

template <typename... Opts>
std::vector<ForkResult> Sandbox::Fork(const Context& ctx,
                                      const Opts&... opts) const {
  return ForkImpl(ctx, ApplyOptions(ForkParams{}, opts...));
}

template <typename... Opts>
std::vector<ForkResult> Sandbox::Fork(const Opts&... opts) const {
  return Fork(Context::Background(), opts...);
}

/// RAII stand-in for Go's `defer sandbox.Close()`: closes the sandbox when
/// the closer goes out of scope, swallowing errors (a sandbox that is gone
/// already is fine). Call Release() to keep the sandbox alive.
class SandboxCloser {
 public:
  /// Takes over `sandbox`, to close it at the end of the scope.
  explicit SandboxCloser(Sandbox sandbox) : sandbox_(std::move(sandbox)) {}
  SandboxCloser(const SandboxCloser&) = delete;
  SandboxCloser& operator=(const SandboxCloser&) = delete;
  ~SandboxCloser();
  /// Keeps the sandbox running past the closer's scope.
  void Release() noexcept { released_ = true; }

 private:
  Sandbox sandbox_;
  bool released_ = false;
};

}  // namespace e2b

#endif  // E2B_SANDBOX_HPP_
