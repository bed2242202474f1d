#ifndef E2B_LOCAL_ENVD_PROCESS_SERVICE_HPP_
#define E2B_LOCAL_ENVD_PROCESS_SERVICE_HPP_

// process.Process (PROTOCOL.md 4.1): Start and Connect streams, List,
// SendInput, SendSignal, CloseStdin, Update. Registered with
// RegisterProcessService (connect_rpc.hpp).

#include "envd/connect_rpc.hpp"
#include "runtime/sandbox_runtime.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace e2b_local {

/// One process started through envd. Its output is read by one pump thread
/// and fanned out to every subscribed stream (Start plus any Connect).
class ManagedProcess : public std::enable_shared_from_this<ManagedProcess> {
 public:
  /// Queued ProcessEvent messages ({"event": {...}}) with their data size.
  struct Subscriber {
    std::deque<std::pair<nlohmann::json, std::size_t>> queue;
    std::size_t queued_bytes = 0;
    bool attached = true;
  };

  ManagedProcess(std::unique_ptr<SandboxProcess> process, nlohmann::json config,
                 std::optional<std::string> tag, bool pty);
  ~ManagedProcess();
  ManagedProcess(const ManagedProcess&) = delete;
  ManagedProcess& operator=(const ManagedProcess&) = delete;

  std::uint32_t Pid() const { return pid_; }
  const std::optional<std::string>& Tag() const { return tag_; }
  const nlohmann::json& Config() const { return config_; }
  bool IsPty() const { return pty_; }
  SandboxProcess& Process() { return *process_; }

  /// Starts the pump. lifetime: kill the process when it elapses. on_end
  /// runs once with the exit status (after every subscriber got the end).
  void Run(std::optional<std::chrono::milliseconds> lifetime,
           std::function<void(const ExitStatus&)> on_end);

  /// nullptr when the process already ended (replay its end instead).
  std::shared_ptr<Subscriber> Subscribe();
  void Unsubscribe(const std::shared_ptr<Subscriber>& subscriber);
  /// Waits until a message is queued or `until`; nullopt on timeout.
  std::optional<nlohmann::json> Next(
      const std::shared_ptr<Subscriber>& subscriber,
      std::chrono::steady_clock::time_point until);

  bool Ended() const;
  /// The end event message, once ended.
  std::optional<nlohmann::json> EndMessage() const;
  std::optional<std::chrono::steady_clock::time_point> EndedAt() const;
  /// True when the lifetime elapsed and the process was killed for it.
  bool LifetimeExpired() const;

 private:
  struct OutputSource;

  /// The process's output descriptors: its PTY, else stdout and stderr.
  std::vector<OutputSource> OutputSources() const;
  /// The pump thread: output until the process ends, then the end event.
  void Pump(std::optional<std::chrono::steady_clock::time_point> deadline);
  /// Publishes output until the process exited (`wake_fd` readable; -1:
  /// already treated as exited) and its descriptors are drained or
  /// kDrainLimit passed. Drops each source at its EOF.
  void ForwardOutput(
      std::vector<OutputSource>& sources, int wake_fd,
      std::optional<std::chrono::steady_clock::time_point> deadline);
  /// Records the end and queues it for every subscriber, after on_end_.
  void PublishEnd(const ExitStatus& status);
  void Publish(const nlohmann::json& message, std::size_t bytes,
               std::optional<std::chrono::steady_clock::time_point> deadline);
  /// Kills the process once its lifetime is over (caller holds mu_).
  void EnforceLifetime(
      std::optional<std::chrono::steady_clock::time_point> deadline);

  std::unique_ptr<SandboxProcess> process_;
  const std::uint32_t pid_;
  const nlohmann::json config_;
  const std::optional<std::string> tag_;
  const bool pty_;
  std::function<void(const ExitStatus&)> on_end_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  std::optional<nlohmann::json> end_message_;
  std::optional<std::chrono::steady_clock::time_point> ended_at_;
  bool lifetime_expired_ = false;
};

/// The envd processes of one sandbox: running ones, and ended ones for 30 s
/// so a late Connect can replay their end. Thread-safe.
class ProcessTable {
 public:
  void Add(std::shared_ptr<ManagedProcess> process);
  /// Includes recently ended processes when include_ended.
  std::shared_ptr<ManagedProcess> FindByPid(std::uint32_t pid,
                                            bool include_ended) const;
  std::shared_ptr<ManagedProcess> FindByTag(const std::string& tag,
                                            bool include_ended) const;
  std::vector<std::shared_ptr<ManagedProcess>> Running() const;

 private:
  void Prune() const;

  mutable std::mutex mu_;
  mutable std::vector<std::shared_ptr<ManagedProcess>> processes_;
};

/// The environment a sandbox's processes start with: PATH, HOME, USER and
/// LOGNAME for `user`, then the sandbox's own variables.
std::map<std::string, std::string> SandboxProcessEnv(
    const LocalSandbox& sandbox, const SandboxUser& user);

/// Starts a process nobody watches (a template's start command) as an envd
/// process: listed, connectable and signalable like any other, its output
/// dropped until someone connects. Returns its pid; throws SpawnError.
std::uint32_t StartUnattendedProcess(
    const std::shared_ptr<LocalSandbox>& sandbox, const SpawnOptions& options,
    const std::string& cmd);

/// The handlers, exposed for tests (the registry routes to these).
void ProcessStart(EnvdCall& call, const nlohmann::json& request,
                  StreamWriter& out);
void ProcessConnect(EnvdCall& call, const nlohmann::json& request,
                    StreamWriter& out);
nlohmann::json ProcessList(EnvdCall& call, const nlohmann::json& request);
nlohmann::json ProcessSendInput(EnvdCall& call, const nlohmann::json& request);
nlohmann::json ProcessSendSignal(EnvdCall& call, const nlohmann::json& request);
nlohmann::json ProcessCloseStdin(EnvdCall& call, const nlohmann::json& request);
nlohmann::json ProcessUpdate(EnvdCall& call, const nlohmann::json& request);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_PROCESS_SERVICE_HPP_
