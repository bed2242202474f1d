// The lifecycle calls beyond the seed against a real e2b-local: Connect
// (running and paused), the v2 listing and its paginator, KillSandbox,
// Refresh, UpdateNetwork, IsRunning, GetHost, DeleteSnapshot, batch
// metrics, Fork, Pause(keepMemory) and the newer SandboxConfig fields.

#include "integration/e2b_local_fixture.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;

class LifecycleV2Test : public E2bLocalTest {
 protected:
  // A sandbox that the fixture closes at TearDown, tagged with this test's
  // own metadata so listings can be filtered to this test alone.
  e2b::Sandbox Tagged(const std::map<std::string, std::string>& extra = {}) {
    e2b::SandboxConfig cfg = Config();
    cfg.Metadata = {{"suite", suite_}};
    for (const auto& [k, v] : extra) cfg.Metadata[k] = v;
    return NewSandbox(cfg);
  }

  std::vector<std::string> Ids(const std::vector<e2b::SandboxInfo>& list) {
    std::vector<std::string> ids;
    for (const auto& s : list) ids.push_back(s.ID);
    return ids;
  }

  const std::string suite_ = "v2-" + RandomHex(6);
};

double Now() { return static_cast<double>(std::time(nullptr)); }

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST_F(LifecycleV2Test, ConnectToARunningSandbox) {
  e2b::Sandbox sb = NewSandbox();
  sb.Filesystem.WriteString("/home/user/connect.txt", "seen by the copy");
  e2b::Sandbox again = Client().Connect(sb.ID, 600);
  EXPECT_EQ(again.ID, sb.ID);
  EXPECT_FALSE(again.EnvdAccessToken().empty());
  EXPECT_EQ(again.Filesystem.ReadString("/home/user/connect.txt"),
            "seen by the copy");
  EXPECT_EQ(again.Commands.Run("echo", {"connected"}).Stdout, "connected\n");
  auto end = ParseRFC3339(again.Info().EndAt);
  ASSERT_TRUE(end.has_value());
  EXPECT_NEAR(*end - Now(), 600, 60);
}

TEST_F(LifecycleV2Test, ConnectResumesAPausedSandbox) {
  e2b::Sandbox sb = NewSandbox();
  sb.Filesystem.WriteString("/home/user/paused.txt", "kept");
  sb.Pause();
  EXPECT_EQ(sb.Info().State, "paused");
  EXPECT_FALSE(sb.IsRunning());

  e2b::Sandbox resumed = Client().Connect(e2b::Context::Background(), sb.ID);
  EXPECT_EQ(resumed.ID, sb.ID);
  EXPECT_EQ(sb.Info().State, "running");
  EXPECT_TRUE(sb.IsRunning());
  EXPECT_EQ(resumed.Filesystem.ReadString("/home/user/paused.txt"), "kept");
}

TEST_F(LifecycleV2Test, ConnectToAnUnknownSandboxIsNotFound) {
  try {
    Client().Connect("i00000000000000000000", 60);
    FAIL() << "no exception";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "i00000000000000000000");
  }
  e2b::Sandbox sb = NewSandbox();
  sb.Close();
  EXPECT_THROW(Client().Connect(sb.ID), e2b::SandboxNotFoundError);
}

// As E2B's filesystem-only pause: the processes end at the pause, and the
// resume boots the sandbox afresh on the files it had (home, /tmp, /etc);
// with memory kept (the default) the processes survive.
TEST_F(LifecycleV2Test, PauseWithoutMemoryKeepsFilesButNotProcesses) {
  e2b::Sandbox sb = NewSandbox();
  sb.Filesystem.WriteString("/home/user/fs-only.txt", "on disk");
  sb.Filesystem.WriteString("/tmp/in-tmp.txt", "in /tmp");
  const auto sleeper = sb.Commands.StartShell("sleep 600");
  auto with_memory = sb.Commands.StartShell("sleep 601");
  const auto listed = [&sb](std::uint32_t pid) {
    for (const auto& p : sb.Commands.List()) {
      if (p.PID == pid) return true;
    }
    return false;
  };
  // The sleeps the sandbox's own /proc shows.
  const auto sleeps = [&sb] {
    return sb.Commands
        .Run("sh", {"-c", "cat /proc/[0-9]*/comm 2>/dev/null | grep -c sleep"})
        .Stdout;
  };
  // The shells exec their sleeps a moment after the start returns: count
  // only once both are sleeping, so the count after the resume means
  // survival, not a race with the exec.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (sleeps() != "2\n" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(sleeps(), "2\n");
  sb.Pause();  // memory kept
  Client().Connect(sb.ID, 120);
  EXPECT_TRUE(listed(sleeper.PID()));
  EXPECT_TRUE(listed(with_memory.PID()));
  EXPECT_EQ(sleeps(), "2\n");

  sb.Pause(e2b::WithKeepMemory(false));
  EXPECT_EQ(sb.Info().State, "paused");
  EXPECT_FALSE(sb.IsRunning());
  Client().Connect(sb.ID, 120);
  EXPECT_EQ(sb.Info().State, "running");
  EXPECT_EQ(sb.Filesystem.ReadString("/home/user/fs-only.txt"), "on disk");
  EXPECT_EQ(sb.Filesystem.ReadString("/tmp/in-tmp.txt"), "in /tmp");
  EXPECT_TRUE(sb.Commands.List().empty());
  // A fresh boot: no process of the old one is left, and it works.
  EXPECT_EQ(sleeps(), "0\n");
  EXPECT_EQ(sb.Commands.Run("cat", {"/home/user/fs-only.txt"}).Stdout,
            "on disk");
  sb.Filesystem.WriteString("/home/user/after.txt", "after the boot");
  EXPECT_EQ(sb.Commands.Run("cat", {"/home/user/after.txt"}).Stdout,
            "after the boot");
}

TEST_F(LifecycleV2Test, ListV2FiltersByMetadataStateTemplateAndTime) {
  e2b::Sandbox a = Tagged({{"role", "a"}, {"odd key&=", "v +%/&="}});
  e2b::Sandbox b = Tagged({{"role", "b"}});
  b.Pause();

  auto all =
      Ids(Client()
              .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}))
              .Sandboxes);
  EXPECT_EQ(all.size(), 2u);
  EXPECT_TRUE(Contains(all, a.ID));
  EXPECT_TRUE(Contains(all, b.ID));

  // Keys and values with &, =, %, + and spaces survive the double encoding.
  auto odd = Ids(Client()
                     .ListSandboxesV2(e2b::WithSandboxMetadata(
                         {{"suite", suite_}, {"odd key&=", "v +%/&="}}))
                     .Sandboxes);
  EXPECT_EQ(odd, std::vector<std::string>{a.ID});
  EXPECT_TRUE(Client()
                  .ListSandboxesV2(e2b::WithSandboxMetadata(
                      {{"suite", suite_}, {"odd key&=", "v +%/&"}}))
                  .Sandboxes.empty());

  auto paused =
      Client().ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                               e2b::WithSandboxState("paused"));
  ASSERT_EQ(paused.Sandboxes.size(), 1u);
  EXPECT_EQ(paused.Sandboxes[0].ID, b.ID);
  EXPECT_EQ(paused.Sandboxes[0].State, "paused");
  EXPECT_EQ(paused.Sandboxes[0].Metadata.at("role"), "b");

  auto both =
      Ids(Client()
              .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                               e2b::WithSandboxState("running", "paused"))
              .Sandboxes);
  EXPECT_EQ(both.size(), 2u);

  EXPECT_EQ(Client()
                .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                                 e2b::WithSandboxTemplate("base"))
                .Sandboxes.size(),
            2u);
  EXPECT_TRUE(
      Client()
          .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                           e2b::WithSandboxTemplate("no-such-template"))
          .Sandboxes.empty());

  auto asc =
      Ids(Client()
              .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                               e2b::WithSandboxOrder("asc"))
              .Sandboxes);
  auto desc =
      Ids(Client()
              .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                               e2b::WithSandboxOrder("desc"))
              .Sandboxes);
  ASSERT_EQ(asc.size(), 2u);
  EXPECT_EQ(asc, (std::vector<std::string>{desc.rbegin(), desc.rend()}));

  const auto future = std::chrono::system_clock::now() + std::chrono::hours(1);
  EXPECT_TRUE(
      Client()
          .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                           e2b::WithSandboxStartedAfter(future))
          .Sandboxes.empty());
  const auto past = std::chrono::system_clock::now() - std::chrono::hours(1);
  EXPECT_EQ(Client()
                .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                                 e2b::WithSandboxStartedAfter(past))
                .Sandboxes.size(),
            2u);

  try {
    Client().ListSandboxesV2(e2b::WithSandboxState("sleeping"));
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 400) << e.what();
  }
}

TEST_F(LifecycleV2Test, PaginatorWalksEveryPageOnce) {
  std::set<std::string> created;
  for (int i = 0; i < 3; ++i) created.insert(Tagged().ID);

  auto first = Client().ListSandboxesV2(
      e2b::WithSandboxMetadata({{"suite", suite_}}), e2b::WithSandboxLimit(2));
  EXPECT_EQ(first.Sandboxes.size(), 2u);
  EXPECT_FALSE(first.NextToken.empty());

  e2b::SandboxPaginator pages = Client().NewSandboxPaginator(
      e2b::WithSandboxMetadata({{"suite", suite_}}), e2b::WithSandboxLimit(1));
  std::vector<std::string> seen;
  int fetched = 0;
  while (pages.HasNext()) {
    ASSERT_LT(++fetched, 10) << "the paginator does not end";
    for (const auto& s : pages.NextItems()) seen.push_back(s.ID);
  }
  EXPECT_EQ(fetched, 3);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created);
  EXPECT_EQ(seen.size(), created.size());
  EXPECT_THROW(pages.NextItems(), e2b::Error);
}

// As E2B's API: startedAfter is at-or-after (a sandbox's own StartedAt
// lists it), and the paginator pages by key, so sandboxes created while
// it walks the list neither repeat a sandbox nor push one off a page.
TEST_F(LifecycleV2Test, StartedAfterIsInclusiveAndPagingIsStable) {
  e2b::Sandbox first = Tagged();
  const std::string started_at = first.Info().StartedAt;
  ASSERT_FALSE(started_at.empty());
  std::this_thread::sleep_for(5ms);
  e2b::Sandbox second = Tagged();
  auto since =
      Ids(Client()
              .ListSandboxesV2(e2b::WithSandboxMetadata({{"suite", suite_}}),
                               e2b::WithSandboxStartedAfter(started_at))
              .Sandboxes);
  EXPECT_EQ(since, (std::vector<std::string>{second.ID, first.ID}));
  auto after_second =
      Ids(Client()
              .ListSandboxesV2(
                  e2b::WithSandboxMetadata({{"suite", suite_}}),
                  e2b::WithSandboxStartedAfter(second.Info().StartedAt))
              .Sandboxes);
  EXPECT_EQ(after_second, std::vector<std::string>{second.ID});

  std::this_thread::sleep_for(5ms);
  e2b::Sandbox third = Tagged();
  e2b::SandboxPaginator pages = Client().NewSandboxPaginator(
      e2b::WithSandboxMetadata({{"suite", suite_}}), e2b::WithSandboxLimit(1));
  std::vector<std::string> seen;
  std::vector<e2b::Sandbox> created_meanwhile;
  while (pages.HasNext()) {
    ASSERT_LT(seen.size(), 10u) << "the paginator does not end";
    for (const auto& s : pages.NextItems()) seen.push_back(s.ID);
    created_meanwhile.push_back(Tagged());  // newer than every cursor
  }
  EXPECT_EQ(seen, (std::vector<std::string>{third.ID, second.ID, first.ID}));
}

// A sandbox that is killed or times out, as on E2B: the command and watch
// streams in flight are cut (not ended with the killed process's exit),
// and the client, finding the edge's 502 at /health, reports
// SandboxNotFoundError; later envd calls get that 502 and report the same.
class EndedSandboxTest : public LifecycleV2Test,
                         public ::testing::WithParamInterface<bool> {};

TEST_P(EndedSandboxTest, StreamsInFlightAndLaterCallsAreSandboxNotFound) {
  const bool by_timeout = GetParam();
  e2b::Sandbox sb = NewSandbox();
  e2b::CommandHandle running = sb.Commands.StartShell("echo up; sleep 60");
  e2b::WatchStreamHandle watch =
      sb.Filesystem.WatchDir("/tmp", [](const e2b::FilesystemEvent&) {});
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (running.Stdout().find("up") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  if (by_timeout) {
    sb.SetTimeout(1);
  } else {
    ASSERT_TRUE(Client().KillSandbox(sb.ID));
  }
  try {
    running.Wait();
    FAIL() << "the stream of an ended sandbox ended normally";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), sb.ID);
    EXPECT_NE(std::string(e.what()).find("killed or reached its end of life"),
              std::string::npos)
        << e.what();
  } catch (const e2b::Error& e) {
    ADD_FAILURE() << "in flight: " << typeid(e).name() << ": " << e.what();
  }
  try {
    sb.Commands.Run("true", {});
    FAIL() << "a command ran in an ended sandbox";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), sb.ID);
  } catch (const e2b::Error& e) {
    ADD_FAILURE() << typeid(e).name() << ": " << e.what();
  }
  try {
    sb.Filesystem.ReadString("/etc/hostname");
    FAIL() << "a file was read in an ended sandbox";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), sb.ID);
  } catch (const e2b::Error& e) {
    ADD_FAILURE() << typeid(e).name() << ": " << e.what();
  }
  EXPECT_FALSE(sb.IsRunning());
  try {
    watch.Wait();
    FAIL() << "the watch of an ended sandbox ended normally";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), sb.ID);
  } catch (const e2b::Error& e) {
    ADD_FAILURE() << "watch: " << typeid(e).name() << ": " << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(KilledOrTimedOut, EndedSandboxTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "TimedOut" : "Killed";
                         });

TEST_F(LifecycleV2Test, KillSandboxById) {
  e2b::Sandbox sb = NewSandbox();
  EXPECT_TRUE(Client().KillSandbox(sb.ID));
  EXPECT_THROW(sb.Info(), e2b::SandboxNotFoundError);
  EXPECT_FALSE(Client().KillSandbox(sb.ID));
  EXPECT_FALSE(Client().KillSandbox("i00000000000000000000"));
}

TEST_F(LifecycleV2Test, RefreshExtendsTheLifetime) {
  e2b::Sandbox sb = NewSandbox();
  sb.SetTimeout(30);
  sb.Refresh(10min);
  auto end = ParseRFC3339(sb.Info().EndAt);
  ASSERT_TRUE(end.has_value());
  EXPECT_NEAR(*end - Now(), 600, 60);
  sb.Refresh();  // the server's default duration; must not shorten it
  auto later = ParseRFC3339(sb.Info().EndAt);
  ASSERT_TRUE(later.has_value());
  EXPECT_GE(*later, *end - 1);
  // Go HEAD's form; the limit is checked before sending.
  sb.Refresh(e2b::WithRefreshDuration(e2b::MaxRefreshDuration));
  auto longest = ParseRFC3339(sb.Info().EndAt);
  ASSERT_TRUE(longest.has_value());
  EXPECT_NEAR(*longest - Now(), 3600, 60);
  EXPECT_THROW(sb.Refresh(2h), e2b::InvalidArgumentError);
  sb.Close();
  EXPECT_THROW(sb.Refresh(), e2b::SandboxNotFoundError);
}

TEST_F(LifecycleV2Test, UpdateNetworkReplacesTheConfig) {
  e2b::SandboxConfig cfg = Config();
  cfg.Network = e2b::AllowOutbound({"example.com"});
  e2b::Sandbox sb = NewSandbox(cfg);
  auto info = sb.Info();
  ASSERT_TRUE(info.Network.has_value());
  EXPECT_EQ(info.Network->AllowOut, std::vector<std::string>{"example.com"});

  e2b::NetworkUpdateConfig update;
  update.AllowOut = {"10.0.0.0/8"};
  update.DenyOut = {e2b::AllTraffic};
  sb.UpdateNetwork(update);
  info = sb.Info();
  ASSERT_TRUE(info.Network.has_value());
  EXPECT_EQ(info.Network->AllowOut, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(info.Network->DenyOut, std::vector<std::string>{"0.0.0.0/0"});

  sb.Close();
  EXPECT_THROW(sb.UpdateNetwork(update), e2b::SandboxNotFoundError);
}

TEST_F(LifecycleV2Test, IsRunningFollowsTheSandbox) {
  e2b::Sandbox sb = NewSandbox();
  EXPECT_TRUE(sb.IsRunning());
  sb.Pause();
  EXPECT_FALSE(sb.IsRunning());
  sb.Resume(60);
  EXPECT_TRUE(sb.IsRunningWithContext(e2b::Context::WithTimeout(10s)));
  sb.Close();
  EXPECT_FALSE(sb.IsRunning());
}

TEST_F(LifecycleV2Test, GetHostNamesThePortAndSandbox) {
  e2b::Sandbox sb = NewSandbox();
  const std::string host = sb.GetHost(8080);
  EXPECT_EQ(host.rfind("8080-" + sb.ID + ".", 0), 0u) << host;
  EXPECT_GT(host.size(), ("8080-" + sb.ID + ".").size());
  EXPECT_THROW(sb.GetHost(0), e2b::Error);
}

TEST_F(LifecycleV2Test, DeleteSnapshot) {
  e2b::Sandbox sb = NewSandbox();
  e2b::SnapshotInfo snap = sb.CreateSnapshot();
  ASSERT_FALSE(snap.SnapshotID.empty());
  EXPECT_TRUE(Client().DeleteSnapshot(snap.SnapshotID));
  auto listed = Client().ListSnapshots(e2b::WithSnapshotSandboxID(sb.ID));
  for (const auto& s : listed.Snapshots) {
    EXPECT_NE(s.SnapshotID, snap.SnapshotID) << "deleted snapshot still listed";
  }
  EXPECT_FALSE(Client().DeleteSnapshot(snap.SnapshotID));
  EXPECT_FALSE(Client().DeleteSnapshot("no-such-snapshot:default"));
}

TEST_F(LifecycleV2Test, BatchMetrics) {
  e2b::Sandbox a = NewSandbox();
  e2b::Sandbox b = NewSandbox();
  auto metrics =
      Client().GetSandboxesMetrics({a.ID, b.ID, "i00000000000000000000"});
  EXPECT_EQ(metrics.count("i00000000000000000000"), 0u);
  for (const auto& id : {a.ID, b.ID}) {
    ASSERT_EQ(metrics.count(id), 1u) << id;
    EXPECT_GE(metrics[id].CPUCount, 1);
    EXPECT_GT(metrics[id].MemTotal, 0);
    EXPECT_GT(metrics[id].TimestampUnix, 0);
  }
  EXPECT_TRUE(Client().GetSandboxesMetrics({}).empty());
}

TEST_F(LifecycleV2Test, ForkCopiesTheSandbox) {
  e2b::Sandbox sb = NewSandbox();
  sb.Filesystem.WriteString("/home/user/fork.txt", "from the source");
  std::vector<e2b::ForkResult> forks =
      sb.Fork(e2b::WithForkCount(2), e2b::WithForkTimeout(90s));
  ASSERT_EQ(forks.size(), 2u);
  std::set<std::string> ids;
  std::vector<std::unique_ptr<e2b::SandboxCloser>> closers;
  for (auto& fork : forks) {
    if (!fork.OK()) {
      try {
        std::rethrow_exception(fork.Err);
      } catch (const e2b::Error& e) {
        ADD_FAILURE() << "fork failed: " << e.what();
      }
      continue;
    }
    closers.push_back(std::make_unique<e2b::SandboxCloser>(*fork.Sandbox));
    ids.insert(fork.Sandbox->ID);
    EXPECT_NE(fork.Sandbox->ID, sb.ID);
    EXPECT_EQ(fork.Sandbox->Filesystem.ReadString("/home/user/fork.txt"),
              "from the source");
    auto end = ParseRFC3339(fork.Sandbox->Info().EndAt);
    ASSERT_TRUE(end.has_value());
    EXPECT_NEAR(*end - Now(), 90, 45);
  }
  EXPECT_EQ(ids.size(), 2u);
  // The source keeps running, unchanged.
  EXPECT_EQ(sb.Info().State, "running");
  EXPECT_EQ(sb.Filesystem.ReadString("/home/user/fork.txt"), "from the source");

  EXPECT_THROW(Client().ForkSandbox("i00000000000000000000"),
               e2b::SandboxNotFoundError);
}

TEST_F(LifecycleV2Test, NewerSandboxConfigFieldsShowInInfo) {
  e2b::SandboxConfig cfg = Config();
  cfg.Metadata = {{"suite", suite_}, {"owner", "it"}};
  cfg.Lifecycle = e2b::SandboxLifecycle{true, "pause"};
  cfg.AutoPauseMemory = true;
  cfg.AllowInternetAccess = false;
  e2b::Sandbox sb = NewSandbox(cfg);
  e2b::SandboxInfo info = sb.Info();
  EXPECT_EQ(info.Metadata, cfg.Metadata);
  EXPECT_EQ(info.Lifecycle.OnTimeout, "pause");
  EXPECT_TRUE(info.Lifecycle.AutoResume);
  if (info.AllowInternetAccess) {
    EXPECT_FALSE(*info.AllowInternetAccess);
  }
  EXPECT_EQ(sb.Commands.Run("echo", {"configured"}).Stdout, "configured\n");

  e2b::SandboxConfig plain = Config();
  plain.AutoPause = false;
  e2b::Sandbox other = NewSandbox(plain);
  EXPECT_EQ(other.Info().Lifecycle.OnTimeout, "kill");
}

// Go HEAD's MCP configuration is accepted with the create request, and a
// command's abnormal end is described in CommandResult.Error.
TEST_F(LifecycleV2Test, McpConfigAndCommandResultError) {
  e2b::SandboxConfig cfg = Config();
  e2b::MCPConfig mcp;
  mcp.Integrations["github"] = {{"githubPersonalAccessToken", "ghp_x"},
                                {"readOnly", true}};
  cfg.MCP = mcp;
  e2b::Sandbox sb = NewSandbox(cfg);
  EXPECT_TRUE(sb.TrafficAccessToken.empty());
  e2b::CommandResult ok = sb.Commands.Run("true", {});
  EXPECT_EQ(ok.ExitCode, 0);
  EXPECT_EQ(ok.Error, "");
  e2b::CommandResult bad = sb.Commands.Run("sh", {"-c", "exit 3"});
  EXPECT_EQ(bad.ExitCode, 3);
  EXPECT_EQ(bad.Error, "exit status 3");
}

}  // namespace
}  // namespace e2b_test
