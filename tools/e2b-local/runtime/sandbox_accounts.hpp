#ifndef E2B_LOCAL_RUNTIME_SANDBOX_ACCOUNTS_HPP_
#define E2B_LOCAL_RUNTIME_SANDBOX_ACCOUNTS_HPP_

// The two accounts every sandbox has, as E2B templates define them: `user`
// (1000:1000, home /home/user), the default for commands, and `root`.

#include "runtime/sandbox_runtime.hpp"

#include <sys/types.h>

#include <optional>
#include <string>

namespace e2b_local::runtime_internal {

constexpr uid_t kSandboxUserUid = 1000;
constexpr gid_t kSandboxUserGid = 1000;

/// "user" or "root" as a sandbox defines them; nullopt for any other name.
std::optional<SandboxUser> BuiltInSandboxUser(const std::string& name);

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_SANDBOX_ACCOUNTS_HPP_
