#ifndef E2B_LOCAL_RUNTIME_RUNTIME_FACTORIES_HPP_
#define E2B_LOCAL_RUNTIME_RUNTIME_FACTORIES_HPP_

#include "runtime/sandbox_runtime.hpp"

#include <memory>
#include <string>
#include <vector>

namespace e2b_local {
namespace runtime_internal {

/// Why namespaced sandboxes cannot work here; "" when they can.
std::string ProbeNamespaces();
std::unique_ptr<SandboxRuntime> MakeNamespaceRuntime();
std::unique_ptr<SandboxRuntime> MakeUnisolatedRuntime();

/// Where the fallback keeps sandbox roots when uid 1000 cannot reach
/// sandboxes_dir: a root-owned, world-traversable directory of its own.
std::string FallbackRootsDir(const std::string& sandboxes_dir);

/// Mount points at or under `prefix` (a directory), deepest first, from
/// /proc/self/mountinfo with its octal escapes decoded.
std::vector<std::string> MountsUnder(const std::string& prefix);

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

}  // namespace runtime_internal
}  // namespace e2b_local

#endif  // E2B_LOCAL_RUNTIME_RUNTIME_FACTORIES_HPP_
