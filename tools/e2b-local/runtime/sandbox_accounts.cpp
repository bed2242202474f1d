#include "runtime/sandbox_accounts.hpp"

namespace e2b_local::runtime_internal {

std::optional<SandboxUser> BuiltInSandboxUser(const std::string& name) {
  if (name == "user") {
    return SandboxUser{"user", kSandboxUserUid, kSandboxUserGid, "/home/user"};
  }
  if (name == "root") return SandboxUser{"root", 0, 0, "/root"};
  return std::nullopt;
}

}  // namespace e2b_local::runtime_internal
