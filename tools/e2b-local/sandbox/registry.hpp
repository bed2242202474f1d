#ifndef E2B_LOCAL_SANDBOX_REGISTRY_HPP_
#define E2B_LOCAL_SANDBOX_REGISTRY_HPP_

// Every live sandbox and its lifecycle: create, kill, pause/resume, the
// timeout clock (a background thread kills or pauses at endAt), metrics
// sampling, snapshots and forks. Failures throw Failure (util/failure.hpp)
// saying what went wrong; the control plane picks the HTTP status.
// Thread-safe.

#include "runtime/sandbox_runtime.hpp"
#include "sandbox/local_sandbox.hpp"
#include "sandbox/paused_store.hpp"
#include "store/template_store.hpp"
#include "util/failure.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {

// NOLINTNEXTLINE(bugprone-exception-escape): a null json never throws
struct CreateSandboxParams {
  std::string template_ref;
  int timeout_s = 15;
  bool auto_pause = false;
  bool auto_pause_memory = true;
  bool auto_resume = false;
  bool allow_internet_access = true;
  std::map<std::string, std::string> metadata;
  std::map<std::string, std::string> env_vars;
  nlohmann::json network = nullptr;  ///< NetworkConfig, kept as given
  /// Volumes to bind, checked by the registry as E2B checks them.
  std::vector<SandboxVolumeMount> volume_mounts;
  /// A template build's sandbox: hidden from Find and List (so from the API
  /// and envd), never saved at shutdown.
  bool internal = false;
  /// Start from these layers instead of the template's (a build resuming
  /// from a cached step); the template still gives the resources.
  std::optional<std::vector<std::string>> layers;
};

struct MetricSample {
  std::int64_t timestamp_ms = 0;
  ResourceUsage usage;
};

struct ForkOutcome {
  std::shared_ptr<LocalSandbox> sandbox;  ///< set on success
  std::optional<Failure> failure;         ///< set when this fork failed
};

struct RegistryOptions {
  std::chrono::milliseconds tick{200};  ///< how often endAt is checked
  std::chrono::milliseconds metrics_interval{5000};
  /// Longest timeout a client may ask for.
  int max_timeout_s = 24 * 3600;
  /// Running plus paused sandboxes at once (0: no cap). A start beyond it
  /// answers 429 with E2B's concurrency-limit message.
  std::size_t max_sandboxes = 0;
  /// The host directory of the volume with this name, nullopt when there
  /// is none (the volume store's). Unset: sandboxes cannot mount volumes.
  std::function<std::optional<std::string>(const std::string& name)>
      find_volume_dir;
  /// Runs a template's start command in a new sandbox and waits for its
  /// ready command (BuildOutputs); throws Failure when it is not ready.
  /// Unset: start commands are not run.
  std::function<void(const std::shared_ptr<LocalSandbox>& sandbox,
                     const BuildOutputs& outputs)>
      start_template;
};

class SandboxRegistry : public SandboxDirectory {
 public:
  /// Sandbox directories go to <store.StateDir()>/sandboxes; leftovers of a
  /// previous run (directories, mounts, cgroups) are removed unless another
  /// live registry holds the state directory. Paused sandboxes saved by a
  /// previous run (<state>/paused) come back paused, without their memory;
  /// saves and snapshot layers a crash cut short are removed. Starts the
  /// lifecycle thread.
  SandboxRegistry(SandboxRuntime& runtime, TemplateStore& store,
                  RegistryOptions options = {});
  ~SandboxRegistry() override;
  SandboxRegistry(const SandboxRegistry&) = delete;
  SandboxRegistry& operator=(const SandboxRegistry&) = delete;

  /// Stops the lifecycle thread and ends every sandbox: running ones that
  /// asked to pause at their timeout are paused (without memory) and,
  /// like the paused ones, saved for the next start; the rest are killed.
  /// Idempotent.
  void Shutdown();

  std::shared_ptr<LocalSandbox> Find(const std::string& id) const override;
  /// Like Find, but throws Failure kNotFound "sandbox '<id>' not found".
  std::shared_ptr<LocalSandbox> Get(const std::string& id) const;
  /// Live sandboxes (running and paused), oldest first.
  std::vector<std::shared_ptr<LocalSandbox>> List() const override;

  std::shared_ptr<LocalSandbox> Create(const CreateSandboxParams& params);
  void Kill(const std::string& id);
  /// endAt = now + seconds (overwrites).
  void SetTimeout(const std::string& id, int seconds);
  /// endAt = max(endAt, now + seconds).
  void Refresh(const std::string& id, int seconds) const;
  /// 409 when already paused. With `keep_memory` the processes are frozen
  /// and resume where they were; without, they end and only the
  /// filesystem is kept (E2B's `memory: false`).
  void Pause(const std::string& id, bool keep_memory = true);
  /// Resumes a paused sandbox; 409 when it is running. A sandbox paused
  /// without memory boots afresh, and so does one paused with it when
  /// `memory` is false (E2B's reboot on resume).
  std::shared_ptr<LocalSandbox> Resume(const std::string& id, int timeout_s,
                                       std::optional<bool> auto_pause,
                                       std::optional<bool> memory = {});
  /// Resumes when paused (returns true; `memory` as for Resume) or extends
  /// a running sandbox's endAt when the new one is later (returns false).
  bool Connect(const std::string& id, int timeout_s,
               std::optional<bool> memory = {});

  void SetNetwork(const std::string& id, nlohmann::json network);
  nlohmann::json Network(const std::string& id) const;

  /// New sandboxes with a copy of `id`'s filesystem.
  std::vector<ForkOutcome> Fork(const std::string& id,
                                std::optional<int> timeout_s, int count);
  /// Copies the sandbox's writable layer into a new template layer.
  ResolvedTemplate Snapshot(const std::string& id, const std::string& name);
  /// Copies the sandbox's writable layer into a new layer directory (see
  /// TemplateStore::NewLayer), a layer standing alone; returns its path and
  /// the build ID made with it.
  std::pair<std::string, std::string> CaptureLayer(const std::string& id);
  /// Copies the directory `path` the sandbox made (it must be absolute and
  /// lie wholly in the writable layer, e.g. an unpacked image) into a new
  /// layer that replaces the base root filesystem instead of extending it
  /// (MakeReplacingLayer); returns its path.
  std::string CaptureRootLayer(const std::string& id, const std::string& path);

  /// Samples in [start_ms, end_ms]; takes one now when none exist yet.
  std::vector<MetricSample> Metrics(const std::string& id,
                                    std::int64_t start_ms, std::int64_t end_ms);
  /// The newest sample of each known ID (unknown IDs are left out).
  std::map<std::string, MetricSample> LatestMetrics(
      const std::vector<std::string>& ids);

  /// DELETE /templates/{id}: 400 while a live sandbox uses it.
  void DeleteTemplate(const std::string& ref);

 private:
  struct OwnedLayer;
  struct Entry {
    std::shared_ptr<LocalSandbox> sandbox;
    std::string dir;
    std::vector<std::string> layers;  ///< topmost first
    nlohmann::json network = nullptr;
    std::deque<MetricSample> metrics;
  };

  /// Holds one of the max_sandboxes slots while a sandbox starts.
  class StartSlot;
  std::shared_ptr<LocalSandbox> Start(const ResolvedTemplate& resolved,
                                      const CreateSandboxParams& params,
                                      std::vector<std::string> layers);
  int CheckTimeout(int seconds) const;
  /// Throws Failure kInvalidArgument with E2B's text for every bad mount
  /// (unknown volume, bad or repeated path) or when volumes are off.
  void CheckVolumeMounts(const std::vector<SandboxVolumeMount>& mounts) const;
  /// Ends a sandbox; with `forget` also its save (a kill, not a stop).
  void KillEntry(const std::shared_ptr<Entry>& entry, const std::string& why,
                 bool forget = true);
  /// What a sandbox's start and a revived one share: its runtime spec.
  SandboxSpec SpecFor(const LocalSandbox& sandbox, const Entry& entry) const;
  /// Saves a paused (frozen or halted) sandbox to paused_. Caller holds
  /// the sandbox's mu.
  void SaveLocked(const Entry& entry);
  /// Brings back the paused sandboxes a previous run saved.
  void Recover();
  void Revive(const PausedSandbox& saved);
  std::shared_ptr<Entry> GetEntry(const std::string& id) const;
  /// Copies the writable layer (or its directory `subdir`) of the sandbox
  /// into a new layer, then `finish` (may be empty) under the sandbox's
  /// lock; a failure removes the layer and throws Failure (`failure` +
  /// what went wrong). Returns the layer's path and build ID.
  std::pair<std::string, std::string> CaptureInto(
      const std::string& id, const std::string& subdir,
      const std::function<void(const std::string& layer,
                               LocalSandbox& sandbox)>& finish,
      const char* failure);
  /// Copies the writable layer of a frozen (or already paused) sandbox.
  void CopyUpperLayer(Entry& entry, const std::string& target,
                      const std::string& subdir = "");
  void LifecycleLoop();
  void StartLifecycle();
  void Sample(const std::shared_ptr<Entry>& entry);

  SandboxRuntime& runtime_;
  TemplateStore& store_;
  const RegistryOptions options_;
  std::string sandboxes_dir_;
  std::string fork_layers_dir_;
  PausedStore paused_;
  int lock_fd_ = -1;  ///< flock on <state>/sandboxes.lock; -1: not ours
  std::atomic<bool> reclaimed_at_shutdown_{false};

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::size_t starting_ = 0;  ///< sandboxes being started, not yet entries
  bool stopping_ = false;
  std::condition_variable cv_;
  std::thread lifecycle_;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_SANDBOX_REGISTRY_HPP_
