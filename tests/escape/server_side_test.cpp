// Attacks on the server through what it reads and writes for a sandbox:
// symlinks planted where snapshot, fork and sandbox start write, /etc/passwd
// pointed at an endless file, listings and watches without bounds, requests
// to a paused sandbox, and more sandboxes than the server allows.

#include "escape/escape_support.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace e2b_test {
namespace escape {
namespace {

using Clock = std::chrono::steady_clock;

class ServerSideTest : public EscapeTest {
 protected:
  // Root in the sandbox replaces the files the server writes or reads with
  // symlinks to the host canary.
  void PlantEtcSymlinks(const e2b::Sandbox& sandbox) {
    std::string cmd;
    for (const char* name : {"hostname", "passwd", "group", "resolv.conf"}) {
      cmd += "ln -sfn " + Canary().Path(name) + " /etc/" + name + " && ";
    }
    e2b::CommandResult r = Shell(sandbox, "root", cmd + "true");
    ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  }
};

TEST_F(ServerSideTest, SnapshotAndItsSandboxesDoNotFollowEtcSymlinks) {
  PlantEtcSymlinks(Target());
  if (HasFatalFailure()) return;
  try {
    auto ctx = e2b::Context::WithTimeout(60s);
    e2b::SnapshotInfo snap = Target().CreateSnapshot(ctx);
    e2b::SandboxConfig cfg = Config();
    cfg.Template = snap.SnapshotID;
    e2b::Sandbox from_snapshot = NewSandbox(cfg);
    // A command and a file read as `user` make the server look users up.
    Shell(from_snapshot, "user", "true", 10s);
    from_snapshot.Filesystem.Stat(ctx, "/home/user", e2b::WithFileUser("user"));
  } catch (const e2b::Error&) {
    // Refusing a sandbox whose /etc is broken is fine; writing through the
    // links is not (TearDown compares the canary).
  }
  Shell(Target(), "user", "true", 10s);
}

TEST_F(ServerSideTest, ForkDoesNotFollowEtcSymlinks) {
  PlantEtcSymlinks(Target());
  if (HasFatalFailure()) return;
  try {
    auto ctx = e2b::Context::WithTimeout(60s);
    auto forks = Target().Fork(ctx, e2b::WithForkCount(1));
    for (auto& f : forks) {
      if (f.OK()) {
        e2b::SandboxCloser close(*f.Sandbox);
        Shell(*f.Sandbox, "user", "true", 10s);
      }
    }
  } catch (const e2b::Error&) {
  }
}

// A filesystem-only pause and its resume: the server writes
// /etc/resolv.conf again at the new boot, and saves the sandbox's files for
// a restart; neither may follow what the sandbox planted.
TEST_F(ServerSideTest,
       RebootAfterAFilesystemOnlyPauseDoesNotFollowEtcSymlinks) {
  PlantEtcSymlinks(Target());
  if (HasFatalFailure()) return;
  try {
    auto ctx = e2b::Context::WithTimeout(60s);
    Target().PauseWithContext(ctx, e2b::WithKeepMemory(false));
    Client().Connect(ctx, Target().ID);
    Shell(Target(), "user", "true", 10s);
  } catch (const e2b::Error&) {
    // Refusing to boot a sandbox whose /etc is broken is fine; writing
    // through the links is not (TearDown compares the canary).
  }
}

TEST_F(ServerSideTest, PasswdPointingAtAnEndlessFileCostsTheServerNothing) {
  // Each envd request that names a user looks it up in the sandbox's
  // /etc/passwd. Pointed at /dev/zero, an unbounded read grows the server
  // without end; the watchdog kills it at +1 GiB so the machine survives.
  e2b::CommandResult r =
      Shell(Target(), "root",
            "ln -sfn /dev/zero /etc/passwd && ln -sfn /dev/zero /etc/group");
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  RssWatchdog watchdog(ServerProcess(), 1024);
  auto answers_promptly = [&](const char* what, auto&& call) {
    const auto start = Clock::now();
    try {
      call(e2b::Context::WithTimeout(10s));
    } catch (const e2b::TimeoutError& e) {
      ADD_FAILURE() << what << " did not answer within 10 s: " << e.what();
    } catch (const e2b::Error&) {
      // An error is an answer.
    }
    EXPECT_LT(Clock::now() - start, 5s) << what << " was slow";
  };
  answers_promptly("a command as user", [&](const e2b::Context& ctx) {
    Target().Commands.RunWithContext(ctx, "/bin/true", {},
                                     e2b::WithUser("user"));
  });
  answers_promptly("a file stat as user", [&](const e2b::Context& ctx) {
    Target().Filesystem.Stat(ctx, "/home/user", e2b::WithFileUser("user"));
  });
  answers_promptly("a file write as user", [&](const e2b::Context& ctx) {
    Target().Filesystem.WriteString(ctx, "/home/user/x", "x",
                                    e2b::WithFileUser("user"));
  });
  EXPECT_FALSE(watchdog.Tripped())
      << "e2b-local grew by more than 1 GiB and was killed";
  EXPECT_LT(watchdog.PeakGrowthMiB(), 100)
      << "e2b-local grew by " << watchdog.PeakGrowthMiB() << " MiB";
}

TEST_F(ServerSideTest, ListingWithAHugeDepthIsBounded) {
  // 25,000 files and a 300-deep chain of directories: a listing with an
  // unbounded depth must stop at the server's caps (on entries or on depth),
  // with a clear error or a truncated answer, never all of it.
  constexpr int kFiles = 25000;
  constexpr int kDepth = 300;
  ProbeRun made =
      RunProbe(Target(), "user", R"PY(
base = '/home/user/tree'
os.makedirs(base + '/wide')
for i in range(int(ARGS[0])):
    os.close(os.open('%s/wide/%d' % (base, i), os.O_CREAT | os.O_WRONLY, 0o644))
p = base + '/deep'
os.makedirs(p)
for i in range(int(ARGS[1])):
    p += '/d'
    os.mkdir(p)
put('made', 'yes')
)PY",
               {std::to_string(kFiles), std::to_string(kDepth)}, 120s);
  ASSERT_EQ(made.Get("made"), "yes") << made.Describe();
  RssWatchdog watchdog(ServerProcess(), 1024);
  const auto start = Clock::now();
  try {
    auto entries =
        Target().Filesystem.List(e2b::Context::WithTimeout(60s),
                                 "/home/user/tree", e2b::WithDepth(1000000));
    Note("listed " + std::to_string(entries.size()) + " entries");
    EXPECT_LT(entries.size(), static_cast<std::size_t>(kFiles + kDepth))
        << "the listing returned every entry: no cap on depth or entries";
  } catch (const e2b::TimeoutError& e) {
    ADD_FAILURE() << "the listing did not end within 60 s: " << e.what();
  } catch (const e2b::Error& e) {
    Note(std::string("listing refused: ") + e.what());
    // StatusCode 0: the client gave up on an answer that was too large,
    // which means the server sent it all.
    EXPECT_NE(e.StatusCode(), 0) << "no cap on the server's side: " << e.what();
    EXPECT_FALSE(e.Message().empty()) << "a cap must say what was exceeded";
  }
  EXPECT_LT(Clock::now() - start, 30s);
  EXPECT_FALSE(watchdog.Tripped());
}

TEST_F(ServerSideTest, ListingASymlinkLoopIsBounded) {
  // Symlinks to "." and ".." in every level: a server that follows them
  // while recursing lists forever (exponentially).
  e2b::CommandResult r =
      Shell(Target(), "user",
            "mkdir -p /home/user/loop/a/b && cd /home/user/loop && "
            "ln -s . self && ln -s .. up && ln -s /home/user/loop a/back && "
            "ln -s / a/b/root");
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  RssWatchdog watchdog(ServerProcess(), 1024);
  const auto start = Clock::now();
  try {
    auto entries = Target().Filesystem.List(
        e2b::Context::WithTimeout(30s), "/home/user/loop", e2b::WithDepth(64));
    Note("listed " + std::to_string(entries.size()) + " entries");
    EXPECT_LT(entries.size(), 100u) << "the listing followed symlinks";
  } catch (const e2b::TimeoutError& e) {
    ADD_FAILURE() << "the listing did not end within 30 s: " << e.what();
  } catch (const e2b::Error&) {
  }
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_FALSE(watchdog.Tripped());
}

// The inotify watches `pid` holds (from its descriptors' fdinfo).
int InotifyWatches(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  int watches = 0;
  while (dirent* e = readdir(d)) {
    std::ifstream in(dir + "/" + e->d_name);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("inotify wd:", 0) == 0) ++watches;
    }
  }
  closedir(d);
  return watches;
}

TEST_F(ServerSideTest, RecursiveWatchesAreCapped) {
  // Each recursive watch of a 400-directory tree costs 400 inotify watches
  // of the server's user, a limit the whole host shares
  // (fs.inotify.max_user_watches). A sandbox's budget must end, with a
  // clear error, before 100 such watches (40,000 inotify watches).
  constexpr int kDirs = 400;
  constexpr int kWatchers = 100;
  int host_max = 0;
  std::ifstream("/proc/sys/fs/inotify/max_user_watches") >> host_max;
  ASSERT_GT(host_max, kDirs * kWatchers * 2)
      << "this host's inotify limit is too small to run the test safely";
  e2b::CommandResult r = Shell(
      Target(), "user",
      "mkdir -p /home/user/w && cd /home/user/w && mkdir $(seq -f d%g 1 " +
          std::to_string(kDirs) + ")");
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  std::vector<e2b::WatchHandle> handles;
  std::string refusal;
  for (int i = 0; i < kWatchers; ++i) {
    try {
      handles.push_back(Target().Filesystem.WatchDir(
          e2b::Context::WithTimeout(10s), "/home/user/w", true));
    } catch (const e2b::Error& e) {
      refusal = e.what();
      break;
    }
  }
  const int held = InotifyWatches(ServerProcess());
  Note(std::to_string(handles.size()) + " watches accepted, server holds " +
       std::to_string(held) + " inotify watches; refusal: " + refusal);
  for (auto& h : handles) {
    try {
      h.Stop();
    } catch (const e2b::Error&) {
    }
  }
  EXPECT_FALSE(refusal.empty())
      << kWatchers << " recursive watches of " << kDirs
      << " directories were all accepted; the server held " << held
      << " inotify watches";
  EXPECT_NE(refusal.find_first_not_of(' '), std::string::npos);
}

TEST_F(ServerSideTest, AProcessStartInAPausedSandboxAnswers) {
  Target().Pause();
  const auto start = Clock::now();
  try {
    Target().Commands.RunWithContext(e2b::Context::WithTimeout(10s),
                                     "/bin/true", {});
  } catch (const e2b::TimeoutError& e) {
    ADD_FAILURE() << "a process start in a paused sandbox hung: " << e.what();
  } catch (const e2b::Error& e) {
    Note(std::string("paused start: ") + e.what());  // an answer
  }
  EXPECT_LT(Clock::now() - start, 10s);
  try {
    Target().Filesystem.ReadString(e2b::Context::WithTimeout(10s),
                                   "/etc/hostname");
  } catch (const e2b::TimeoutError& e) {
    ADD_FAILURE() << "a file read in a paused sandbox hung: " << e.what();
  } catch (const e2b::Error&) {
  }
}

TEST_F(ServerSideTest, SandboxesBeyondTheCapAnswer429) {
  // A server of its own, capped at two sandboxes.
  ExtraServer capped({"--max-sandboxes", "2"});
  ASSERT_TRUE(capped.Ok()) << capped.Error();
  e2b::Client client = capped.NewClient();
  std::vector<std::unique_ptr<e2b::SandboxCloser>> closers;
  for (int i = 0; i < 2; ++i) {
    closers.push_back(
        std::make_unique<e2b::SandboxCloser>(client.NewSandbox(Config())));
  }
  try {
    e2b::Sandbox third = client.NewSandbox(Config());
    e2b::SandboxCloser close(third);
    ADD_FAILURE() << "a third sandbox was created past --max-sandboxes 2";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 429) << e.what();
    EXPECT_FALSE(e.Message().empty());
  }
}

}  // namespace
}  // namespace escape
}  // namespace e2b_test
