// The sandbox runtime against the real kernel: namespaces, overlayfs,
// users, PTYs, freezing and teardown.

#include "rootfs/base_rootfs.hpp"
#include "runtime/sandbox_cgroups.hpp"
#include "runtime/sandbox_runtime.hpp"
#include "runtime/sanitizers.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace e2b_local {
namespace {

// ThreadSanitizer restarts its background thread in forked children, and
// setns() into a mount namespace refuses multithreaded callers: under TSAN
// only the unisolated runtime can launch processes.
using runtime_internal::kThreadSanitizer;

namespace fs = std::filesystem;

// The namespaced runtime stacks sandboxes on the base root filesystem; CI
// prepares it (e2b-local --prepare-rootfs) before the tests.
RuntimeOptions TestRuntimeOptions() {
  RuntimeOptions options;
  BaseRootfsOptions rootfs;
  rootfs.ids = options.ids;
  options.base_rootfs = EnsureBaseRootfs(rootfs);
  return options;
}

struct Output {
  std::string out, err;
  ExitStatus status;
};

// Reads every output descriptor to EOF, then waits.
Output Collect(SandboxProcess& process) {
  Output result;
  struct Source {
    int fd;
    std::string* sink;
  };
  std::vector<Source> sources;
  if (process.PtyFd() >= 0) sources.push_back({process.PtyFd(), &result.out});
  if (process.StdoutFd() >= 0) {
    sources.push_back({process.StdoutFd(), &result.out});
  }
  if (process.StderrFd() >= 0) {
    sources.push_back({process.StderrFd(), &result.err});
  }
  while (!sources.empty()) {
    std::vector<pollfd> fds;
    for (const auto& s : sources) fds.push_back({s.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), 20000) <= 0) break;
    for (std::size_t i = fds.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sources[i].sink->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        sources.erase(sources.begin() + static_cast<long>(i));
      }
    }
  }
  result.status = process.Wait();
  return result;
}

std::map<std::string, std::string> BaseEnv(const SandboxUser& user) {
  return {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", user.home},
      {"USER", user.name},
      {"LOGNAME", user.name}};
}

bool IsMountedAnywhereUnder(const std::string& prefix) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(prefix) != std::string::npos) return true;
  }
  return false;
}

class RuntimeTest : public ::testing::TestWithParam<IsolationMode> {
 protected:
  void SetUp() override {
    if (GetParam() == IsolationMode::kNamespaces) {
      if (geteuid() != 0) GTEST_SKIP() << "namespaces need root";
      if (kThreadSanitizer) GTEST_SKIP() << "setns(mnt) fails under TSAN";
      try {
        runtime_ =
            MakeRuntime(IsolationMode::kNamespaces, TestRuntimeOptions());
      } catch (const std::exception& e) {
        GTEST_SKIP() << e.what();
      }
    } else {
      runtime_ = MakeRuntime(IsolationMode::kNone, RuntimeOptions{});
    }
    char dir[] = "/tmp/e2b-runtime-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    state_ = dir;
    // The fallback runs commands as uid 1000 on the host: it must be able
    // to reach its sandbox directory.
    chmod(state_.c_str(), 0711);
  }

  void TearDown() override {
    // Drops this test's (empty by now) cgroups.
    if (!state_.empty()) ReclaimLeftovers(state_ + "/sandboxes");
    std::error_code ec;
    if (!state_.empty()) fs::remove_all(state_, ec);
  }

  bool Isolated() const { return GetParam() == IsolationMode::kNamespaces; }

  std::unique_ptr<SandboxInstance> NewSandbox(const std::string& id,
                                              bool internet = true) {
    SandboxSpec spec;
    spec.id = id;
    spec.dir = state_ + "/sandboxes/" + id;
    spec.hostname = id;
    spec.network.internet = internet;
    return runtime_->Create(spec);
  }

  Output Run(SandboxInstance& sandbox, const std::vector<std::string>& argv,
             const std::string& user_name = "user", std::string cwd = "") {
    auto user = sandbox.LookupUser(user_name);
    EXPECT_TRUE(user.has_value());
    SpawnOptions options;
    options.argv = argv;
    options.user = *user;
    options.env = BaseEnv(*user);
    options.cwd = cwd;
    auto process = sandbox.Spawn(options);
    return Collect(*process);
  }

  std::unique_ptr<SandboxRuntime> runtime_;
  std::string state_;
};

TEST_P(RuntimeTest, RunsAsUserAndRoot) {
  auto sandbox = NewSandbox("sbx-users");
  auto user = sandbox->LookupUser("user");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->home, "/home/user");
  EXPECT_FALSE(sandbox->LookupUser("nobody-such"));
  auto id = Run(*sandbox, {"id", "-u"});
  EXPECT_EQ(id.status.status, "exit status 0");
  EXPECT_EQ(id.out, std::to_string(user->uid) + "\n");
  auto home = Run(*sandbox, {"sh", "-c", "echo $HOME; pwd"});
  if (Isolated()) {
    EXPECT_EQ(id.out, "1000\n");
    EXPECT_EQ(home.out, "/home/user\n/home/user\n");
    EXPECT_EQ(Run(*sandbox, {"id", "-un"}).out, "user\n");
    EXPECT_EQ(Run(*sandbox, {"hostname"}).out, "sbx-users\n");
    EXPECT_EQ(Run(*sandbox, {"id", "-u"}, "root").out, "0\n");
    EXPECT_EQ(Run(*sandbox, {"sh", "-c", "echo $HOME"}, "root").out, "/root\n");
  } else {
    std::string mapped = sandbox->RootPath() + "/home/user";
    EXPECT_EQ(home.out, mapped + "\n" + mapped + "\n");
  }
  sandbox->Destroy();
}

TEST_P(RuntimeTest, ExitCodesSignalsAndMissingThings) {
  auto sandbox = NewSandbox("sbx-exit");
  auto three = Run(*sandbox, {"sh", "-c", "echo err >&2; exit 3"});
  EXPECT_TRUE(three.status.exited);
  EXPECT_EQ(three.status.exit_code, 3);
  EXPECT_EQ(three.status.status, "exit status 3");
  EXPECT_EQ(three.err, "err\n");
  auto missing = Run(*sandbox, {"no-such-command-e2b"});
  EXPECT_EQ(missing.status.exit_code, 127);
  auto killed = Run(*sandbox, {"sh", "-c", "kill -KILL $$"});
  EXPECT_FALSE(killed.status.exited);
  EXPECT_EQ(killed.status.exit_code, -1);
  EXPECT_EQ(killed.status.status, "signal: killed");

  auto user = *sandbox->LookupUser("user");
  SpawnOptions options;
  options.argv = {"sleep", "30"};
  options.user = user;
  options.env = BaseEnv(user);
  auto sleeper = sandbox->Spawn(options);
  sleeper->Signal(SIGTERM);
  auto term = Collect(*sleeper);
  EXPECT_EQ(term.status.status, "signal: terminated");

  options.cwd = "/definitely/not/here";
  try {
    sandbox->Spawn(options);
    FAIL() << "expected SpawnError";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind, "invalid_argument");
    EXPECT_EQ(std::string(e.what()),
              "cwd '/definitely/not/here' does not exist");
  }
}

TEST_P(RuntimeTest, StdinPipeAndEnvironmentAreExact) {
  auto sandbox = NewSandbox("sbx-stdin");
  auto user = *sandbox->LookupUser("user");
  SpawnOptions options;
  options.argv = {"sh", "-c", "cat; env | sort"};
  options.user = user;
  options.env = {{"PATH", "/usr/bin:/bin"}, {"ONLY", "this"}};
  options.stdin_pipe = true;
  auto process = sandbox->Spawn(options);
  std::string binary("a\0b\xff\n", 5);
  EXPECT_TRUE(process->WriteInput(binary));
  process->CloseStdin();
  process->CloseStdin();
  EXPECT_FALSE(process->WriteInput("late"));
  auto result = Collect(*process);
  EXPECT_EQ(result.out.substr(0, 5), binary);
  // sh adds PWD (and bash SHLVL/_); nothing else of the server leaks in.
  EXPECT_NE(result.out.find("ONLY=this\n"), std::string::npos);
  EXPECT_EQ(result.out.find("HOME="), std::string::npos);
}

TEST_P(RuntimeTest, PtyEchoesAndResizes) {
  auto sandbox = NewSandbox("sbx-pty");
  auto user = *sandbox->LookupUser("user");
  SpawnOptions options;
  options.argv = {"sh", "-c", "stty size; read line; echo got:$line"};
  options.user = user;
  options.env = BaseEnv(user);
  options.pty = true;
  options.cols = 100;
  options.rows = 30;
  auto process = sandbox->Spawn(options);
  EXPECT_EQ(process->StdoutFd(), -1);
  ASSERT_GE(process->PtyFd(), 0);
  EXPECT_TRUE(process->Resize(100, 30));
  EXPECT_TRUE(process->WriteInput("hello\n"));
  auto result = Collect(*process);
  EXPECT_NE(result.out.find("30 100"), std::string::npos) << result.out;
  // The terminal echoes the input, then the program answers.
  EXPECT_NE(result.out.find("hello"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("got:hello"), std::string::npos) << result.out;
  EXPECT_EQ(result.status.exit_code, 0);
}

TEST_P(RuntimeTest, FreezeStopsProgressAndThawResumes) {
  auto sandbox = NewSandbox("sbx-freeze");
  auto user = *sandbox->LookupUser("user");
  SpawnOptions options;
  options.argv = {"sh", "-c", "while :; do echo tick; sleep 0.05; done"};
  options.user = user;
  options.env = BaseEnv(user);
  auto process = sandbox->Spawn(options);
  int fd = process->StdoutFd();
  char buf[4096];
  pollfd pfd{fd, POLLIN, 0};
  ASSERT_GT(poll(&pfd, 1, 10000), 0);
  sandbox->Freeze();
  // Drain what was written before the freeze took hold.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  while (poll(&pfd, 1, 0) > 0 && read(fd, buf, sizeof buf) > 0) {
  }
  EXPECT_EQ(poll(&pfd, 1, 500), 0) << "output while frozen";
  sandbox->Thaw();
  EXPECT_GT(poll(&pfd, 1, 10000), 0) << "no output after thaw";
  auto usage = sandbox->Usage();
  EXPECT_GT(usage.cpu_count, 0);
  EXPECT_GT(usage.mem_total, 0);
  EXPECT_GT(usage.disk_total, 0);
  process->Signal(SIGKILL);
  EXPECT_EQ(process->Wait().status, "signal: killed");
}

TEST_P(RuntimeTest, CommandsJoinEveryGroupOfTheirSandbox) {
  // A command joins the sandbox's freezer, cpuacct and memory groups (through
  // their `tasks` files), so pausing and usage see it.
  if (geteuid() != 0) GTEST_SKIP() << "cgroups need root";
  auto sandbox = NewSandbox("sbx-groups");
  const std::string groups = Run(*sandbox, {"cat", "/proc/self/cgroup"}).out;
  for (const char* controller : {"freezer", "cpuacct", "memory"}) {
    SCOPED_TRACE(controller);
    bool found = false;
    std::istringstream lines(groups);
    for (std::string line; std::getline(lines, line);) {
      // "<id>:<controllers>:<path>", e.g. "4:cpu,cpuacct:/e2b-local/...".
      const auto first = line.find(':');
      const auto second = line.find(':', first + 1);
      if (first == std::string::npos || second == std::string::npos) continue;
      const std::string names =
          "," + line.substr(first + 1, second - first - 1) + ",";
      if (names.find(std::string(",") + controller + ",") ==
          std::string::npos) {
        continue;
      }
      found = true;
      // Namespaced sandboxes have their own cgroup namespace rooted at
      // their group: "/" inside. The host side is checked below.
      const std::string path = line.substr(second + 1);
      if (Isolated()) {
        EXPECT_EQ(path, "/") << path;
      } else {
        EXPECT_EQ(path.rfind("/e2b-local/", 0), 0u) << path;
        EXPECT_EQ(path.substr(path.size() - std::string("/sbx-groups").size()),
                  "/sbx-groups")
            << path;
      }
    }
    if (!found) ADD_FAILURE() << "no " << controller << " line in\n" << groups;
    if (!Isolated()) continue;
    // From the host: the sandbox's group of this controller holds tasks.
    bool populated = false;
    const fs::path scopes =
        fs::path("/sys/fs/cgroup") / controller / "e2b-local";
    std::error_code ec;
    for (const auto& scope : fs::directory_iterator(scopes, ec)) {
      auto tasks = runtime_internal::ReadSmallFile(
          (scope.path() / "sbx-groups" / "tasks").string());
      if (tasks && !tasks->empty()) populated = true;
    }
    EXPECT_TRUE(populated) << controller;
  }
}

TEST_P(RuntimeTest, FilesFlowBetweenRootPathAndProcesses) {
  auto sandbox = NewSandbox("sbx-files");
  {
    std::ofstream out(sandbox->RootPath() + "/home/user/from-host.txt");
    out << "from host";
  }
  EXPECT_EQ(Run(*sandbox, {"cat", "from-host.txt"}).out, "from host");
  auto wrote =
      Run(*sandbox, {"sh", "-c", "printf inside > ~/from-sandbox.txt"});
  EXPECT_EQ(wrote.status.exit_code, 0) << wrote.err;
  std::ifstream in(sandbox->RootPath() + "/home/user/from-sandbox.txt");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "inside");
  EXPECT_GT(sandbox->Usage().disk_used, 0);
}

TEST_P(RuntimeTest, DestroyIsIdempotentAndCleansUp) {
  auto sandbox = NewSandbox("sbx-destroy");
  auto user = *sandbox->LookupUser("user");
  SpawnOptions options;
  options.argv = {"sleep", "60"};
  options.user = user;
  options.env = BaseEnv(user);
  auto process = sandbox->Spawn(options);
  std::string dir = state_ + "/sandboxes/sbx-destroy";
  sandbox->Destroy();
  sandbox->Destroy();
  EXPECT_EQ(process->Wait().status, "signal: killed");
  EXPECT_FALSE(IsMountedAnywhereUnder(dir));
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_THROW(sandbox->Spawn(options), SpawnError);
}

// Template layers (topmost first) are stacked on the host's "/": files
// appear, whiteouts delete in the namespaced runtime and are never copied
// as device nodes into the fallback's plain tree.
TEST_P(RuntimeTest, TemplateLayersAreStacked) {
  if (geteuid() != 0) GTEST_SKIP() << "whiteouts need root";
  const std::string lower = state_ + "/layers/lower";
  const std::string upper = state_ + "/layers/upper";
  fs::create_directories(lower + "/home/user");
  fs::create_directories(upper + "/etc");
  fs::create_directories(upper + "/home/user");
  std::ofstream(lower + "/home/user/greeting") << "old";
  std::ofstream(lower + "/home/user/dropped") << "x";
  std::ofstream(upper + "/home/user/greeting") << "new";
  ASSERT_EQ(mknod((upper + "/home/user/dropped").c_str(), S_IFCHR, 0), 0);
  ASSERT_EQ(mknod((upper + "/etc/issue").c_str(), S_IFCHR, 0), 0);
  SandboxSpec spec;
  spec.id = "sbx-layers";
  spec.dir = state_ + "/sandboxes/sbx-layers";
  spec.layers = {upper, lower, "/"};
  auto sandbox = runtime_->Create(spec);
  const std::string root = sandbox->RootPath();
  auto seen = Run(*sandbox,
                  {"sh", "-c", "cat greeting; test -e dropped; echo \" $?\""});
  EXPECT_EQ(seen.out, "new 1\n") << seen.err;
  if (Isolated()) {
    EXPECT_EQ(Run(*sandbox, {"sh", "-c", "test -e /etc/issue; echo $?"}).out,
              "1\n");
    EXPECT_TRUE(fs::exists("/etc/issue"));
  } else {
    EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/etc/issue")));
  }
  // The layers are copies: they may go once the sandbox exists.
  fs::remove_all(state_ + "/layers");
  EXPECT_EQ(Run(*sandbox, {"cat", "greeting"}).out, "new");
}

// spec.disk_mb bounds what the sandbox writes: ENOSPC inside at the limit,
// Usage() reports the disk, and Destroy gives the space back.
TEST_P(RuntimeTest, DiskWritesStopAtTheSpecsDiskSize) {
  if (!Isolated()) GTEST_SKIP() << "the fallback does not limit disks";
  SandboxSpec spec;
  spec.id = "sbx-disk";
  spec.dir = state_ + "/sandboxes/sbx-disk";
  spec.disk_mb = 16;
  auto sandbox = runtime_->Create(spec);
  auto fill = Run(*sandbox, {"sh", "-c",
                             "dd if=/dev/zero of=/home/user/fill bs=1M "
                             "count=40 2>&1; stat -c %s /home/user/fill"});
  EXPECT_NE(fill.out.find("No space left on device"), std::string::npos)
      << fill.out;
  const auto last = fill.out.rfind('\n', fill.out.size() - 2);
  const long long written = std::atoll(fill.out.c_str() + last + 1);
  EXPECT_GE(written, 15LL << 20) << "the disk holds less than its size";
  EXPECT_LE(written, 16LL << 20);
  ResourceUsage usage = sandbox->Usage();
  EXPECT_GE(usage.disk_total, 16LL << 20);
  EXPECT_LT(usage.disk_total, 24LL << 20);
  EXPECT_GE(usage.disk_used, 15LL << 20);
  // Nothing of it is on the host's filesystem below the sandbox.
  struct stat dir_st, parent_st;
  ASSERT_EQ(stat(spec.dir.c_str(), &dir_st), 0);
  ASSERT_EQ(stat((state_ + "/sandboxes").c_str(), &parent_st), 0);
  EXPECT_NE(dir_st.st_dev, parent_st.st_dev);
  EXPECT_EQ(Run(*sandbox, {"sh", "-c",
                           "rm /home/user/fill && echo ok > "
                           "/home/user/after && cat /home/user/after"})
                .out,
            "ok\n");
  sandbox->Destroy();
  // Another sandbox in the same directory starts with an empty disk.
  auto next = runtime_->Create(spec);
  EXPECT_EQ(Run(*next, {"sh", "-c", "test -e /home/user/after; echo $?"}).out,
            "1\n");
  next->Destroy();
}

// Two servers (here: two state directories) may use the same sandbox id;
// their cgroups must stay apart, or destroying one kills the other's
// processes (this made parallel test runs fail at random).
TEST_P(RuntimeTest, SameIdInAnotherStateDirIsUntouched) {
  auto mine = NewSandbox("sbx-same");
  SandboxSpec spec;
  spec.id = "sbx-same";
  spec.dir = state_ + "/other-sandboxes/sbx-same";
  auto theirs = runtime_->Create(spec);
  auto user = *theirs->LookupUser("user");
  SpawnOptions options;
  options.argv = {"sh", "-c", "read x; echo alive"};
  options.user = user;
  options.env = BaseEnv(user);
  options.stdin_pipe = true;
  auto process = theirs->Spawn(options);
  mine->Freeze();
  mine->Thaw();
  mine->Destroy();
  EXPECT_TRUE(process->WriteInput("go\n"));
  auto result = Collect(*process);
  EXPECT_EQ(result.out, "alive\n");
  EXPECT_EQ(result.status.status, "exit status 0");
  theirs->Destroy();
  ReclaimLeftovers(state_ + "/other-sandboxes");
}

// Loop devices whose image file is in `prefix` (a directory), as
// "loopN=image" (the image's name includes its inode number).
std::set<std::string> LoopDevicesBackedUnder(const std::string& prefix) {
  std::set<std::string> found;
  std::error_code ec;
  for (fs::directory_iterator it("/sys/block", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::ifstream backing(it->path() / "loop" / "backing_file");
    std::string file;
    if (std::getline(backing, file) && file.rfind(prefix + "/", 0) == 0) {
      // A freed device and an unnamed image's inode number are both reused
      // at once (a new spare of this test's own pool can be loopN over
      // "#ino (deleted)" again); diskseq grows with every attach.
      std::ifstream seq(it->path() / "diskseq");
      std::string attach;
      std::getline(seq, attach);
      found.insert(it->path().filename().string() + "@" + attach + "=" + file);
    }
  }
  return found;
}

bool Intersect(const std::set<std::string>& a, const std::set<std::string>& b) {
  for (const auto& item : a) {
    if (b.count(item) > 0) return true;
  }
  return false;
}

// A server killed with live sandboxes leaves their mounts, disks and
// cgroups; ReclaimLeftovers and Prepare (run by the next registry) release
// them.
TEST_P(RuntimeTest, LeftoversOfACrashedServerAreReclaimed) {
  pid_t server = fork();
  if (server == 0) {
    // Dies without destroying anything, as a crashed server would.
    try {
      SandboxSpec spec;
      spec.id = "sbx-crash";
      spec.dir = state_ + "/sandboxes/sbx-crash";
      spec.disk_mb = 8;
      auto sandbox = runtime_->Create(spec);
      auto user = *sandbox->LookupUser("user");
      SpawnOptions options;
      options.argv = {"sleep", "60"};
      options.user = user;
      options.env = BaseEnv(user);
      sandbox->Spawn(options).release();
      sandbox.release();
      _exit(0);
    } catch (...) {
      _exit(1);
    }
  }
  ASSERT_GT(server, 0);
  int status = 0;
  ASSERT_EQ(waitpid(server, &status, 0), server);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string dir = state_ + "/sandboxes/sbx-crash";
  if (Isolated()) {
    EXPECT_TRUE(IsMountedAnywhereUnder(dir));
  }
  // The crashed sandbox's disk (and the dead server's spares, unless
  // closing them already detached them).
  const auto left = LoopDevicesBackedUnder(state_);
  if (Isolated()) {
    EXPECT_FALSE(left.empty());
  }
  std::string report = ReclaimLeftovers(state_ + "/sandboxes");
  EXPECT_FALSE(IsMountedAnywhereUnder(dir)) << report;
  if (Isolated()) {
    EXPECT_NE(report.find("unmounted"), std::string::npos) << report;
  }
  // The group (with the sleep the fallback left running on the host) is
  // gone.
  const std::string scope =
      runtime_internal::CgroupScope(state_ + "/sandboxes");
  for (const auto& scope_dir : runtime_internal::CgroupScopeDirs(scope)) {
    EXPECT_FALSE(fs::exists(scope_dir + "/sbx-crash")) << scope_dir;
  }
  // The disk's loop device goes once nothing holds it (the kernel lets go
  // of a lazily unmounted filesystem in the background); Prepare frees
  // the ones that stay attached.
  runtime_->Prepare(state_ + "/sandboxes");
  for (int i = 0; i < 1000 && Intersect(left, LoopDevicesBackedUnder(state_));
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(Intersect(left, LoopDevicesBackedUnder(state_)));
  // Everything left is plain files now.
  std::error_code ec;
  fs::remove_all(dir, ec);
  EXPECT_FALSE(ec) << ec.message();
}

// The fallback runs commands as uid 1000 on the host: a state directory
// closed to that user (e.g. under /root) must still give usable sandboxes.
TEST_P(RuntimeTest, PrivateStateDirectoryStillWorks) {
  chmod(state_.c_str(), 0700);
  auto sandbox = NewSandbox("sbx-private");
  if (!Isolated() && geteuid() == 0) {
    // Moved out of reach of the closed state directory.
    EXPECT_NE(sandbox->RootPath().rfind(state_ + "/", 0), 0u);
  }
  {
    std::ofstream out(sandbox->RootPath() + "/home/user/note.txt");
    out << "from host";
  }
  auto user = *sandbox->LookupUser("user");
  auto home = Run(*sandbox, {"sh", "-c", "pwd; cat note.txt; echo hi > out"},
                  "user", user.home);
  EXPECT_EQ(home.status.status, "exit status 0") << home.err;
  EXPECT_EQ(home.out, (Isolated() ? std::string("/home/user")
                                  : sandbox->RootPath() + "/home/user") +
                          "\nfrom host");
  EXPECT_TRUE(fs::exists(sandbox->RootPath() + "/home/user/out"));
  // The default cwd (the home) works too.
  EXPECT_EQ(Run(*sandbox, {"cat", "out"}).out, "hi\n");
  const std::string root = sandbox->RootPath();
  sandbox->Destroy();
  EXPECT_FALSE(fs::exists(root));
}

// A volume is the host directory bound at its path: what a command writes
// there is in the volume (with the sandbox's ids mapped), what the host
// writes is seen inside, across a filesystem-only pause, and Destroy
// leaves the volume's files alone. A symlink on the way to the mount path
// (a snapshot's files are a sandbox's) resolves inside the root.
TEST_P(RuntimeTest, VolumesAreBoundAtTheirPathsAndOutliveTheSandbox) {
  const std::string volume = state_ + "/volume";
  fs::create_directories(volume);
  { std::ofstream(volume + "/from-host.txt") << "from host"; }
  SandboxSpec spec;
  spec.id = "sbx-volume";
  spec.dir = state_ + "/sandboxes/sbx-volume";
  spec.hostname = spec.id;
  spec.volumes = {VolumeBind{volume, "/mnt/data"}};
  if (!Isolated()) {
    EXPECT_THROW(runtime_->Create(spec), std::runtime_error);
    return;
  }
  chown(volume.c_str(), 1000000000, 1000000000);
  chmod(volume.c_str(), 0777);
  auto sandbox = runtime_->Create(spec);
  EXPECT_EQ(Run(*sandbox, {"cat", "/mnt/data/from-host.txt"}).out, "from host");
  auto wrote = Run(*sandbox, {"sh", "-c", "printf inside > /mnt/data/in.txt"});
  EXPECT_EQ(wrote.status.exit_code, 0) << wrote.err;
  std::ifstream in(volume + "/in.txt");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "inside");
  struct stat st {};
  ASSERT_EQ(stat((volume + "/in.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000001000u);  // sandbox uid 1000, mapped
  // envd's file API resolves under RootPath() on the host: same files.
  EXPECT_TRUE(fs::exists(sandbox->RootPath() + "/mnt/data/in.txt"));
  auto flags = Run(*sandbox, {"sh", "-c", "grep ' /mnt/data ' /proc/mounts"});
  EXPECT_NE(flags.out.find("nosuid"), std::string::npos) << flags.out;
  EXPECT_NE(flags.out.find("nodev"), std::string::npos) << flags.out;
  sandbox->Halt();
  sandbox->Boot();
  EXPECT_EQ(Run(*sandbox, {"cat", "/mnt/data/in.txt"}).out, "inside");
  sandbox->Destroy();
  EXPECT_TRUE(fs::exists(volume + "/in.txt"));
  EXPECT_TRUE(fs::exists(volume + "/from-host.txt"));
  EXPECT_FALSE(IsMountedAnywhereUnder(state_ + "/sandboxes"));

  // A layer whose /mnt is a symlink to the host's "/": the mount still
  // lands inside the sandbox's root.
  const std::string layer = state_ + "/layer";
  fs::create_directories(layer);
  fs::create_symlink("/", layer + "/mnt");
  spec.id = "sbx-volume-link";
  spec.dir = state_ + "/sandboxes/sbx-volume-link";
  spec.layers = {layer};
  auto linked = runtime_->Create(spec);
  EXPECT_FALSE(fs::exists("/data/in.txt"));
  EXPECT_EQ(Run(*linked, {"cat", "/data/in.txt"}).out, "inside");
  EXPECT_EQ(Run(*linked, {"cat", "/mnt/data/in.txt"}).out, "inside");
  linked->Destroy();
  EXPECT_TRUE(fs::exists(volume + "/in.txt"));
}

INSTANTIATE_TEST_SUITE_P(Modes, RuntimeTest,
                         ::testing::Values(IsolationMode::kNamespaces,
                                           IsolationMode::kNone),
                         [](const auto& info) {
                           return info.param == IsolationMode::kNamespaces
                                      ? std::string("Namespaces")
                                      : std::string("None");
                         });

// Isolation properties only the namespaced runtime has.
class NamespaceIsolationTest : public RuntimeTest {};

TEST_P(NamespaceIsolationTest, SeesOnlyItsOwnProcessesAndFiles) {
  auto a = NewSandbox("sbx-a");
  auto b = NewSandbox("sbx-b", /*internet=*/false);
  auto user = *b->LookupUser("user");
  SpawnOptions options;
  options.argv = {"sleep", "30"};
  options.user = user;
  options.env = BaseEnv(user);
  auto sleeper = b->Spawn(options);
  EXPECT_LT(sleeper->Pid(), 100u);

  // Only init and the pipeline itself (sh, ls, grep, wc) are in a's PID
  // namespace.
  auto ps = Run(*a, {"sh", "-c", "ls /proc | grep -E '^[0-9]+$' | wc -l"});
  EXPECT_LE(std::stoi(ps.out), 5) << ps.out;
  auto sleep_visible =
      Run(*a, {"sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"});
  EXPECT_EQ(sleep_visible.out.find("sleep 30"), std::string::npos);

  // b's files are invisible from a, even through the host's "/" layer.
  Run(*b, {"sh", "-c", "echo secret > /tmp/b-secret"});
  EXPECT_TRUE(fs::exists(b->RootPath() + "/tmp/b-secret"));
  EXPECT_NE(Run(*a, {"cat", "/tmp/b-secret"}).status.exit_code, 0);
  auto find =
      Run(*a, {"sh", "-c", "ls " + state_ + "/sandboxes 2>/dev/null | wc -l"},
          "root");
  EXPECT_EQ(find.out, "0\n");

  // Writes inside never reach the host.
  auto host_write =
      Run(*a, {"sh", "-c", "echo x > /etc/e2b-test-marker && echo ok"}, "root");
  EXPECT_EQ(host_write.out, "ok\n");
  EXPECT_FALSE(fs::exists("/etc/e2b-test-marker"));
  EXPECT_TRUE(fs::exists(a->RootPath() + "/etc/e2b-test-marker"));
  // PTYs come from the sandbox's own devpts.
  EXPECT_EQ(Run(*a, {"sh", "-c", "ls /dev/pts | wc -l"}).out.substr(0, 1), "1");
  // Without internet only loopback exists.
  auto links = Run(*b, {"sh", "-c", "ls /sys/class/net"});
  if (links.status.exit_code == 0) {
    EXPECT_EQ(links.out, "lo\n");
  }
  sleeper->Signal(SIGKILL);
  sleeper->Wait();
}

// A hidden path reached through a symlink is masked at its target, and the
// symlink stays a symlink.
INSTANTIATE_TEST_SUITE_P(Namespaces, NamespaceIsolationTest,
                         ::testing::Values(IsolationMode::kNamespaces));

}  // namespace
}  // namespace e2b_local
