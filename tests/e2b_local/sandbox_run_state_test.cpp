// SandboxRunState without a freezer cgroup: pausing falls back to signals.

#include "runtime/sandbox_run_state.hpp"

#include "runtime/sandbox_runtime.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <vector>

namespace e2b_local {
namespace runtime_internal {
namespace {

class SandboxRunStateTest : public ::testing::Test {
 protected:
  SandboxCgroups no_cgroups_{"", "run-state"};  // an empty scope makes none
  std::vector<int> sent_;
  SandboxRunState state_{no_cgroups_,
                         [this](int signo) { sent_.push_back(signo); }};
};

TEST_F(SandboxRunStateTest, PauseAndResumeSignalOnceEach) {
  EXPECT_NO_THROW(state_.CheckCanSpawn());
  state_.Freeze();
  state_.Freeze();
  EXPECT_EQ(sent_, std::vector<int>{SIGSTOP});
  EXPECT_THROW(state_.CheckCanSpawn(), SpawnError);
  state_.Thaw();
  state_.Thaw();
  EXPECT_EQ(sent_, (std::vector<int>{SIGSTOP, SIGCONT}));
  EXPECT_NO_THROW(state_.CheckCanSpawn());
}

TEST_F(SandboxRunStateTest, DestroyThawsAPausedSandboxOnce) {
  state_.Freeze();
  EXPECT_TRUE(state_.BeginDestroy());
  EXPECT_EQ(sent_, (std::vector<int>{SIGSTOP, SIGCONT}));
  EXPECT_FALSE(state_.BeginDestroy());
  state_.Freeze();
  state_.Thaw();
  EXPECT_EQ(sent_.size(), 2u) << "a destroyed sandbox is not signalled";
  try {
    state_.CheckCanSpawn();
    FAIL() << "spawned in a destroyed sandbox";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind, "internal");
    EXPECT_STREQ(e.what(), "the sandbox is destroyed");
  }
}

TEST_F(SandboxRunStateTest, DestroyOfARunningSandboxSendsNothing) {
  EXPECT_TRUE(state_.BeginDestroy());
  EXPECT_TRUE(sent_.empty());
}

}  // namespace
}  // namespace runtime_internal
}  // namespace e2b_local
