#ifndef E2B_LOCAL_RUNTIME_SANDBOX_USAGE_HPP_
#define E2B_LOCAL_RUNTIME_SANDBOX_USAGE_HPP_

// What SandboxInstance::Usage() reports, measured the same way by both
// runtimes: they differ only in how they find a sandbox's processes and
// which directory holds what the sandbox wrote.

#include "runtime/sandbox_cgroups.hpp"
#include "runtime/sandbox_runtime.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace e2b_local::runtime_internal {

/// CPU percentage between consecutive samples of a cumulative counter.
class CpuMeter {
 public:
  /// used_seconds: total CPU time consumed so far.
  double Sample(double used_seconds, int cpu_count);

 private:
  bool has_last_ = false;
  double last_used_ = 0;
  double last_wall_ = 0;
};

/// Sums st_blocks * 512 of every file under dir (not crossing devices).
std::int64_t DiskUsageBytes(const std::string& dir);

/// One sandbox's usage over time (the CPU percentage compares a sample
/// with the one before). Thread-safe.
class SandboxUsageMeter {
 public:
  /// Totals are the spec's (else the host's). CPU and memory come from the
  /// sandbox's cgroups; when a controller is missing they are summed from
  /// /proc over `processes()` (called only then). Disk total is the size
  /// of the filesystem of spec.dir; disk used is what is under
  /// `written_dir`, or, when it is empty (spec.dir is the sandbox's own
  /// disk), what that filesystem has in use.
  ResourceUsage Sample(const SandboxSpec& spec, const SandboxCgroups& cgroups,
                       const std::function<std::vector<pid_t>()>& processes,
                       const std::string& written_dir);

 private:
  std::mutex mu_;
  CpuMeter cpu_;
};

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_SANDBOX_USAGE_HPP_
