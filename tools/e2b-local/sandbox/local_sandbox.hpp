#ifndef E2B_LOCAL_SANDBOX_LOCAL_SANDBOX_HPP_
#define E2B_LOCAL_SANDBOX_LOCAL_SANDBOX_HPP_

// One sandbox as e2b-local knows it: what the control plane reports, the
// runtime instance, and the per-sandbox state of the envd services.

#include "runtime/sandbox_runtime.hpp"
#include "sandbox/volume_mounts.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace e2b_local {

enum class SandboxStatus { kRunning, kPaused, kKilled };

struct LogEntry {
  std::chrono::system_clock::time_point timestamp;
  std::string level;  ///< debug, info, warn, error
  std::string message;
  std::map<std::string, std::string> fields;
};

/// Structured, append-only sandbox log. Thread-safe.
class SandboxLog {
 public:
  void Add(std::string level, std::string message,
           std::map<std::string, std::string> fields = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back(LogEntry{std::chrono::system_clock::now(),
                                std::move(level), std::move(message),
                                std::move(fields)});
  }
  std::vector<LogEntry> Entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<LogEntry> entries_;
};

/// Per-sandbox state of one envd service, created on first use.
template <typename T>
class ServiceSlot {
 public:
  std::shared_ptr<T> GetOrCreate(
      const std::function<std::shared_ptr<T>()>& make) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!value_) value_ = make();
    return value_;
  }
  std::shared_ptr<T> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return value_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<T> value_;
};

class ProcessTable;  // envd/process_service.cpp
class WatcherTable;  // envd/filesystem_service.cpp

struct LocalSandbox {
  // Fixed at creation.
  std::string id;
  std::string template_id;
  std::string alias;
  std::string client_id;
  std::string envd_version;
  std::string access_token;  ///< envdAccessToken; enforced on envd
  std::string traffic_access_token;
  /// network.maskRequestHost: the Host a sandbox port's server sees (may
  /// hold ${PORT}); empty keeps the client's.
  std::string mask_request_host;
  std::map<std::string, std::string> env_vars;
  std::map<std::string, std::string> metadata;
  /// The user and working directory of calls that name none, as the
  /// template's build left them; empty: "user" and that user's home.
  std::string default_user;
  std::string default_workdir;
  /// A template build's own sandbox: invisible to the API and to envd.
  bool internal = false;
  /// The volumes it was created with (bound into its root by the runtime).
  std::vector<SandboxVolumeMount> volume_mounts;
  int cpu_count = 2;
  int memory_mb = 512;
  int disk_size_mb = 1024;
  bool allow_internet_access = true;
  bool secure = true;
  std::chrono::system_clock::time_point started_at;
  std::unique_ptr<SandboxInstance> instance;

  // Changing over the sandbox's life: guarded by mu.
  mutable std::mutex mu;
  SandboxStatus status = SandboxStatus::kRunning;
  std::chrono::system_clock::time_point end_at;
  bool auto_pause = false;        ///< on timeout: pause instead of kill
  bool auto_pause_memory = true;  ///< that pause keeps memory (autoPauseMemory)
  bool auto_resume = false;
  /// Paused without its memory (its processes ended, SandboxInstance::Halt):
  /// resuming boots it afresh, and traffic does not auto-resume it.
  bool halted = false;

  SandboxLog log;
  ServiceSlot<ProcessTable> processes;
  ServiceSlot<WatcherTable> watchers;

  SandboxStatus Status() const {
    std::lock_guard<std::mutex> lock(mu);
    return status;
  }
};

/// Lookup of live sandboxes, implemented by the control plane's registry.
class SandboxDirectory {
 public:
  virtual ~SandboxDirectory() = default;
  /// The sandbox with this ID unless killed; nullptr when unknown.
  virtual std::shared_ptr<LocalSandbox> Find(const std::string& id) const = 0;
  /// Every sandbox not yet killed (running and paused), e.g. to route a
  /// signed envd URL that names no sandbox.
  virtual std::vector<std::shared_ptr<LocalSandbox>> List() const = 0;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_SANDBOX_LOCAL_SANDBOX_HPP_
