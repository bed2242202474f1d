// The built-in accounts and the spec check both runtimes share.

#include "runtime/sandbox_accounts.hpp"

#include "runtime/runtime_factories.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace e2b_local {
namespace runtime_internal {
namespace {

TEST(SandboxAccountsTest, UserAndRootAreBuiltIn) {
  auto user = BuiltInSandboxUser("user");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->name, "user");
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 1000u);
  EXPECT_EQ(user->home, "/home/user");
  auto root = BuiltInSandboxUser("root");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  EXPECT_EQ(root->home, "/root");
  EXPECT_FALSE(BuiltInSandboxUser("nobody"));
  EXPECT_FALSE(BuiltInSandboxUser(""));
}

TEST(SandboxSpecCheckTest, RejectsIdsThatAreNotOneDirectoryName) {
  SandboxSpec spec;
  spec.dir = "/tmp/e2b-spec-check/sbx";
  spec.id = "sbx";
  EXPECT_EQ(&CheckSandboxSpec(spec), &spec);
  for (const char* id : {"", ".", "..", "a/b", "/"}) {
    spec.id = id;
    EXPECT_THROW(CheckSandboxSpec(spec), std::runtime_error) << id;
  }
  spec.id = "sbx";
  for (const char* dir : {"", "relative/sbx"}) {
    spec.dir = dir;
    EXPECT_THROW(CheckSandboxSpec(spec), std::runtime_error) << dir;
  }
}

// Both runtimes check the spec before they make anything from it.
TEST(SandboxSpecCheckTest, ARuntimeRefusesABadIdBeforeTouchingTheHost) {
  char pattern[] = "/tmp/e2b-spec-check.XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string base = pattern;
  SandboxSpec spec;
  spec.id = "..";
  spec.dir = base + "/sbx";
  // The base root filesystem is not needed to refuse a spec.
  RuntimeOptions options;
  options.base_rootfs = base;
  std::vector<std::unique_ptr<SandboxRuntime>> runtimes;
  runtimes.push_back(MakeUnisolatedRuntime());
  runtimes.push_back(MakeNamespaceRuntime(options));
  for (auto& runtime : runtimes) {
    EXPECT_THROW(runtime->Create(spec), std::runtime_error) << runtime->Name();
    EXPECT_FALSE(std::filesystem::exists(spec.dir)) << runtime->Name();
  }
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
}

}  // namespace
}  // namespace runtime_internal
}  // namespace e2b_local
