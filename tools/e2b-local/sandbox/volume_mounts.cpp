#include "sandbox/volume_mounts.hpp"

#include "envd/sandbox_paths.hpp"

#include <nlohmann/json.hpp>

namespace e2b_local {

void to_json(nlohmann::json& j, const SandboxVolumeMount& mount) {
  j = nlohmann::json{{"name", mount.name}, {"path", mount.path}};
}

void from_json(const nlohmann::json& j, SandboxVolumeMount& mount) {
  j.at("name").get_to(mount.name);
  j.at("path").get_to(mount.path);
}

std::optional<std::string> InvalidMountPathReason(const std::string& path) {
  // E2B's reasons, in its order (packages/api sandbox_create.go).
  if (path.empty()) return "path cannot be empty";
  if (path[0] != '/') return "path must be absolute";
  if (path.find('\0') != std::string::npos || CleanAbsolutePath(path) != path) {
    return "path must not contain any '.' or '..' components";
  }
  // E2B takes "/" too; here it would hide the sandbox's whole filesystem.
  if (path == "/") return "path cannot be the root";
  return std::nullopt;
}

}  // namespace e2b_local
