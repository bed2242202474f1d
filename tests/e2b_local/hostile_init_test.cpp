// The server's side of the init protocol against an init that lies
// (hostile_init/hostile_init.cpp, run in a real sandbox in place of
// e2b-sandbox-init): what code that took over a sandbox's PID 1 could send.
// Forged, malformed and flooding answers must leave the server with the
// right answer or a clear SpawnError, no descriptor it did not ask for, and
// no hang.

#include "rootfs/base_rootfs.hpp"
#include "runtime/sandbox_runtime.hpp"
#include "runtime/sanitizers.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

namespace e2b_local {
namespace {

using runtime_internal::kThreadSanitizer;

int OpenDescriptors() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory's own descriptor
}

// Reads `fd` to EOF (or for at most 10 s).
std::string ReadAll(int fd) {
  std::string out;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) break;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  return out;
}

class HostileInitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "namespaces need root";
    if (kThreadSanitizer) GTEST_SKIP() << "no namespaced runtime under TSAN";
    RuntimeOptions options;
    BaseRootfsOptions rootfs;
    rootfs.ids = options.ids;
    try {
      options.base_rootfs = EnsureBaseRootfs(rootfs);
      options.init_binary = E2B_HOSTILE_INIT_BINARY;
      runtime_ = MakeRuntime(IsolationMode::kNamespaces, options);
    } catch (const std::exception& e) {
      GTEST_SKIP() << e.what();
    }
    char dir[] = "/tmp/e2b-hostile-init-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    state_ = dir;
  }

  void TearDown() override {
    if (state_.empty()) return;
    ReclaimLeftovers(state_ + "/sandboxes");
    std::error_code ec;
    std::filesystem::remove_all(state_, ec);
  }

  // A sandbox whose init behaves as `mode` (see hostile_init.cpp).
  std::unique_ptr<SandboxInstance> Sandbox(const std::string& mode) {
    SandboxSpec spec;
    spec.id = "sbx-" + mode;
    spec.dir = state_ + "/sandboxes/" + spec.id;
    spec.hostname = mode;
    spec.network.internet = false;
    return runtime_->Create(spec);
  }

  static SpawnOptions Options(bool pty = false) {
    SpawnOptions options;
    options.argv = {"true"};
    options.user = SandboxUser{"user", 1000, 1000, "/home/user"};
    options.env = {{"PATH", "/usr/bin:/bin"}};
    options.pty = pty;
    return options;
  }

  static std::string SpawnError(SandboxInstance& sandbox, bool pty = false) {
    try {
      sandbox.Spawn(Options(pty));
    } catch (const e2b_local::SpawnError& e) {
      return e.what();
    }
    return "(started)";
  }

  std::unique_ptr<SandboxRuntime> runtime_;
  std::string state_;
};

TEST_F(HostileInitTest, ForgedAnswersAreIgnoredAndExtraDescriptorsClosed) {
  const int before = OpenDescriptors();
  {
    auto sandbox = Sandbox("forge");
    for (std::uint32_t expected_pid : {100u, 101u}) {
      auto process = sandbox->Spawn(Options());
      // The answer to this request, not the ones to requests never made.
      EXPECT_EQ(process->Pid(), expected_pid);
      // The pipe sent along with it is not the process's output.
      EXPECT_EQ(ReadAll(process->StdoutFd()), "");
      ExitStatus status = process->Wait();
      EXPECT_TRUE(status.exited);
      EXPECT_EQ(status.exit_code, 7);
    }
    // A pipe is no terminal.
    EXPECT_NE(SpawnError(*sandbox, true).find("no terminal"),
              std::string::npos);
    sandbox->Destroy();
  }
  // Every descriptor init sent was closed.
  EXPECT_EQ(OpenDescriptors(), before);
}

TEST_F(HostileInitTest, AFloodOfAnswersToNothingDoesNotHideTheRealOne) {
  auto sandbox = Sandbox("flood");
  auto process = sandbox->Spawn(Options());
  EXPECT_EQ(process->Pid(), 100u);
  EXPECT_EQ(process->Wait().exit_code, 7);
  sandbox->Destroy();
}

TEST_F(HostileInitTest, AnImpossibleFailureIsStillAClearError) {
  auto sandbox = Sandbox("fail");
  const std::string error = SpawnError(*sandbox);
  EXPECT_NE(error, "(started)");
  EXPECT_FALSE(error.empty());
  sandbox->Destroy();
}

TEST_F(HostileInitTest, AnInitThatExitsEndsRequestsAtOnce) {
  auto sandbox = Sandbox("die");
  EXPECT_NE(SpawnError(*sandbox).find("the sandbox is gone"),
            std::string::npos);
  // And every later one.
  EXPECT_NE(SpawnError(*sandbox).find("the sandbox is gone"),
            std::string::npos);
  sandbox->Destroy();
}

}  // namespace
}  // namespace e2b_local
