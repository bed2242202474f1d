#ifndef E2B_LOCAL_RUNTIME_RUNTIME_FACTORIES_HPP_
#define E2B_LOCAL_RUNTIME_RUNTIME_FACTORIES_HPP_

#include "runtime/sandbox_runtime.hpp"

#include <memory>
#include <string>
#include <vector>

namespace e2b_local::runtime_internal {

/// Why namespaced sandboxes cannot work here; "" when they can.
std::string ProbeNamespaces();
std::unique_ptr<SandboxRuntime> MakeNamespaceRuntime(
    const RuntimeOptions& options);
std::unique_ptr<SandboxRuntime> MakeUnisolatedRuntime();

/// Throws std::runtime_error unless spec.id can name a directory and a
/// cgroup (not empty, no '/', not "." or "..") and spec.dir is absolute.
/// Returns spec, so an instance checks it in its first member initializer,
/// before its cgroups or directories are made from it.
const SandboxSpec& CheckSandboxSpec(const SandboxSpec& spec);

/// Where the fallback keeps sandbox roots when uid 1000 cannot reach
/// sandboxes_dir: a root-owned, world-traversable directory of its own.
std::string FallbackRootsDir(const std::string& sandboxes_dir);

/// Mount points at or under `prefix` (a directory), deepest first, from
/// /proc/self/mountinfo with its octal escapes decoded.
std::vector<std::string> MountsUnder(const std::string& prefix);

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_RUNTIME_FACTORIES_HPP_
