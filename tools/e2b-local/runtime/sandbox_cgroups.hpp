#ifndef E2B_LOCAL_RUNTIME_SANDBOX_CGROUPS_HPP_
#define E2B_LOCAL_RUNTIME_SANDBOX_CGROUPS_HPP_

// Per-sandbox cgroup v1 groups (freezer, cpuacct, memory, pids, cpu) under
// /sys/fs/cgroup/<controller>/e2b-local/<scope>/<id>, where the scope names
// the directory the sandboxes live in, so servers with different state
// directories never touch each other's groups. Each controller is optional:
// callers fall back to signals and /proc when one is missing.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace e2b_local::runtime_internal {

class SandboxCgroups {
 public:
  /// Creates what the host offers; never throws.
  SandboxCgroups(const std::string& scope, const std::string& sandbox_id);
  ~SandboxCgroups();
  SandboxCgroups(const SandboxCgroups&) = delete;
  SandboxCgroups& operator=(const SandboxCgroups&) = delete;

  /// The files a new, single-threaded process writes "0" to, to join the
  /// sandbox's groups: each group's `tasks`, which moves the writing thread
  /// alone. `cgroup.procs` would move the whole thread group, and for that
  /// the kernel takes a global lock whose first use after an idle moment
  /// waits for an RCU grace period: 5-20 ms on every sparse command start,
  /// against ~0.5 ms through `tasks` (measured on this kernel, 6.18).
  std::vector<std::string> AttachFiles() const;
  bool HasFreezer() const { return !freezer_.empty(); }
  /// Applies the sandbox's limits (0 = none): CPU quota of cpu_count
  /// cores, memory (and memory+swap) in MiB, most tasks. Returns the
  /// controllers that could not apply theirs ("" when all did).
  std::string SetLimits(int cpu_count, int memory_mb, int pids_max);
  /// Freezes (waiting until the kernel reports FROZEN) / thaws.
  bool Freeze();
  bool Thaw();
  /// Host pids in the group (freezer, else cpuacct, else memory).
  std::vector<pid_t> Pids() const;
  /// Total CPU time in nanoseconds, when cpuacct is available.
  std::optional<std::uint64_t> CpuNanos() const;
  /// Resident and page-cache bytes, when memory is available.
  std::optional<std::pair<std::int64_t, std::int64_t>> Memory() const;
  /// Kills what is left and removes the groups (retrying while tasks exit).
  void Remove();

 private:
  std::string freezer_, cpuacct_, memory_, pids_, cpu_;
};

/// The cgroup scope of sandboxes whose directories are in sandboxes_dir.
std::string CgroupScope(const std::string& sandboxes_dir);

/// Host directories of the scope's group in each controller (existing or
/// not), e.g. /sys/fs/cgroup/freezer/e2b-local/<scope>.
std::vector<std::string> CgroupScopeDirs(const std::string& scope);

/// Removes every group of the scope, thawing and killing what is left in
/// them: only for groups of a server that is gone. Returns how many groups
/// were removed.
int ReclaimCgroupScope(const std::string& scope);

/// Reads a whole small file; nullopt when it cannot be read.
std::optional<std::string> ReadSmallFile(const std::string& path);

/// CPU ticks (utime + stime) and resident bytes of one host process.
struct ProcSample {
  std::uint64_t cpu_ticks = 0;
  std::int64_t rss_bytes = 0;
};
std::optional<ProcSample> SampleProcess(pid_t pid);

/// Every pid in /proc.
std::vector<pid_t> AllPids();

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_SANDBOX_CGROUPS_HPP_
