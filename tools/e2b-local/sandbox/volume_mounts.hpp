#ifndef E2B_LOCAL_SANDBOX_VOLUME_MOUNTS_HPP_
#define E2B_LOCAL_SANDBOX_VOLUME_MOUNTS_HPP_

// A sandbox's volumes as the API names them (SandboxVolumeMount: a volume
// name and a path in the sandbox), and their one JSON mapping, shared by
// the API's answers and the records of paused sandboxes.

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace e2b_local {

struct SandboxVolumeMount {
  std::string name;
  std::string path;
};

/// {"name": ..., "path": ...}. from_json throws nlohmann's type_error or
/// out_of_range for another shape (check what a client sent first).
void to_json(nlohmann::json& j, const SandboxVolumeMount& mount);
void from_json(const nlohmann::json& j, SandboxVolumeMount& mount);

/// Why E2B refuses `path` as a mount path ("path must be absolute", ...),
/// or nullopt when it is a clean absolute path other than "/".
std::optional<std::string> InvalidMountPathReason(const std::string& path);

}  // namespace e2b_local

#endif  // E2B_LOCAL_SANDBOX_VOLUME_MOUNTS_HPP_
