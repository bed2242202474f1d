// Sandbox lifecycle against a real e2b-local: create, info, list, timeout,
// pause/resume, snapshots, metrics, logs, close.

#include "integration/e2b_local_fixture.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <regex>
#include <set>
#include <thread>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;

class LifecycleTest : public E2bLocalTest {};

bool Listed(const std::vector<e2b::SandboxInfo>& list, const std::string& id) {
  return std::any_of(list.begin(), list.end(),
                     [&](const e2b::SandboxInfo& s) { return s.ID == id; });
}

double Now() { return static_cast<double>(std::time(nullptr)); }

TEST_F(LifecycleTest, CreateWithEnvVarsAndInfo) {
  const double before = Now();
  e2b::Sandbox sb = NewSandbox(Config({{"VALUE", "hello from env"}}));
  EXPECT_TRUE(std::regex_match(sb.ID, std::regex("i[a-z0-9]{20}"))) << sb.ID;
  EXPECT_EQ(sb.EnvdVersion(), "0.6.4");
  EXPECT_FALSE(sb.EnvdAccessToken().empty());

  e2b::CommandResult r = sb.Commands.Run("printenv", {"VALUE"});
  EXPECT_EQ(r.ExitCode, 0) << r.Stderr;
  EXPECT_EQ(r.Stdout, "hello from env\n");

  e2b::SandboxInfo info = sb.Info();
  EXPECT_EQ(info.ID, sb.ID);
  EXPECT_EQ(info.Template, "base");
  EXPECT_EQ(info.State, "running");
  EXPECT_EQ(info.EnvdVersion, "0.6.4");
  EXPECT_GE(info.CPUCount, 1);
  EXPECT_GT(info.MemoryMB, 0);
  ASSERT_FALSE(info.StartedAt.empty());
  ASSERT_FALSE(info.EndAt.empty());
  auto started = ParseRFC3339(info.StartedAt);
  auto end = ParseRFC3339(info.EndAt);
  ASSERT_TRUE(started.has_value()) << info.StartedAt;
  ASSERT_TRUE(end.has_value()) << info.EndAt;
  // Generous bounds: only wrong units or a wrong clock can miss them.
  EXPECT_GE(*started, before - 60);
  EXPECT_LE(*started, Now() + 60);
  EXPECT_NEAR(*end - *started, 120, 30) << info.StartedAt << " " << info.EndAt;
}

TEST_F(LifecycleTest, ListSandboxesContainsIt) {
  e2b::Sandbox a = NewSandbox();
  e2b::Sandbox b = NewSandbox();
  std::vector<e2b::SandboxInfo> list = Client().ListSandboxes();
  EXPECT_TRUE(Listed(list, a.ID));
  EXPECT_TRUE(Listed(list, b.ID));
  for (const auto& s : list) {
    if (s.ID != a.ID) continue;
    EXPECT_EQ(s.Template, "base");
    EXPECT_EQ(s.State, "running");
    EXPECT_FALSE(s.StartedAt.empty());
    EXPECT_FALSE(s.EndAt.empty());
  }
  a.Close();
  EXPECT_FALSE(Listed(Client().ListSandboxes(), a.ID));
  EXPECT_TRUE(Listed(Client().ListSandboxes(), b.ID));
}

TEST_F(LifecycleTest, SetTimeoutChangesEndAt) {
  e2b::Sandbox sb = NewSandbox();
  const std::string end_before = sb.Info().EndAt;
  auto before = ParseRFC3339(end_before);
  ASSERT_TRUE(before.has_value()) << end_before;

  sb.SetTimeout(900);
  const std::string end_after = sb.Info().EndAt;
  auto after = ParseRFC3339(end_after);
  ASSERT_TRUE(after.has_value()) << end_after;
  EXPECT_NE(end_before, end_after);
  // 120 s -> 900 s from now: about 780 s later.
  EXPECT_NEAR(*after - *before, 780, 60) << end_before << " -> " << end_after;
  EXPECT_NEAR(*after - Now(), 900, 60);

  // Shortening works too (SetTimeout overwrites, it does not extend).
  sb.SetTimeout(60);
  auto shorter = ParseRFC3339(sb.Info().EndAt);
  ASSERT_TRUE(shorter.has_value());
  EXPECT_NEAR(*shorter - Now(), 60, 30);
  EXPECT_EQ(sb.Info().State, "running");
}

TEST_F(LifecycleTest, PauseResumeKeepsFilesAndRunsCommands) {
  e2b::Sandbox sb = NewSandbox();
  sb.Filesystem.WriteString("/home/user/before-pause.txt", "kept across pause");
  e2b::CommandResult bg = sb.Commands.Run(
      "sh", {"-c", "echo in-tmp > /tmp/pause-marker && echo ok"});
  ASSERT_EQ(bg.ExitCode, 0) << bg.Stderr;

  sb.Pause();
  EXPECT_EQ(sb.Info().State, "paused");

  sb.Resume(120);
  e2b::SandboxInfo info = sb.Info();
  EXPECT_EQ(info.State, "running");
  EXPECT_EQ(sb.Filesystem.ReadString("/home/user/before-pause.txt"),
            "kept across pause");
  e2b::CommandResult r = sb.Commands.Run("cat", {"/tmp/pause-marker"});
  EXPECT_EQ(r.ExitCode, 0) << r.Stderr;
  EXPECT_EQ(r.Stdout, "in-tmp\n");
  r = sb.Commands.Run("echo", {"after", "resume"});
  EXPECT_EQ(r.Stdout, "after resume\n");
  auto end = ParseRFC3339(info.EndAt);
  ASSERT_TRUE(end.has_value()) << info.EndAt;
  EXPECT_NEAR(*end - Now(), 120, 60);

  // The pause and the resume are in the sandbox's log, in that order.
  std::vector<e2b::SandboxLogEntry> logs =
      sb.Logs(e2b::WithDirection("forward"));
  auto at = [&](const char* word) {
    for (std::size_t i = 0; i < logs.size(); ++i) {
      std::string m = logs[i].Message;
      for (auto& c : m) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (m.find(word) != std::string::npos) return static_cast<long>(i);
    }
    return -1L;
  };
  const long paused = at("pause");
  const long resumed = at("resume");
  EXPECT_GE(paused, 0) << "no pause entry in the logs";
  EXPECT_GT(resumed, paused) << "no resume entry after the pause entry";
}

TEST_F(LifecycleTest, PausingAPausedSandboxKeepsItPaused) {
  // The server answers 409; the library treats "already paused" as done
  // (as the official SDKs do, not the seed's error), so it must not fail
  // with anything but a plain status error, and the state stays paused.
  e2b::Sandbox sb = NewSandbox();
  sb.Pause();
  try {
    sb.Pause();
  } catch (const e2b::SandboxNotFoundError& e) {
    FAIL() << "already paused reported as not found: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 409) << e.what();
  }
  EXPECT_EQ(sb.Info().State, "paused");
  sb.Resume(60);
  EXPECT_EQ(sb.Info().State, "running");
  EXPECT_EQ(sb.Commands.Run("echo", {"back"}).Stdout, "back\n");
}

TEST_F(LifecycleTest, SnapshotListAndStartFromIt) {
  e2b::Sandbox sb = NewSandbox();
  sb.Filesystem.WriteString("/home/user/snap/data.txt", "snapshot payload");

  e2b::SnapshotInfo snap = sb.CreateSnapshot();
  ASSERT_FALSE(snap.SnapshotID.empty());

  e2b::ListSnapshotsResult listed =
      Client().ListSnapshots(e2b::WithSnapshotSandboxID(sb.ID));
  ASSERT_FALSE(listed.Snapshots.empty());
  EXPECT_TRUE(std::any_of(listed.Snapshots.begin(), listed.Snapshots.end(),
                          [&](const e2b::SnapshotInfo& s) {
                            return s.SnapshotID == snap.SnapshotID;
                          }))
      << "snapshot " << snap.SnapshotID << " not listed for " << sb.ID;

  // The filter really filters: another sandbox has no snapshots.
  e2b::Sandbox other = NewSandbox();
  e2b::ListSnapshotsResult none =
      Client().ListSnapshots(e2b::WithSnapshotSandboxID(other.ID));
  EXPECT_TRUE(none.Snapshots.empty());

  // The source keeps running after the snapshot.
  EXPECT_EQ(sb.Commands.Run("echo", {"still"}).Stdout, "still\n");

  e2b::SandboxConfig from_snap = Config();
  from_snap.Template = snap.SnapshotID;
  e2b::Sandbox clone = NewSandbox(from_snap);
  EXPECT_NE(clone.ID, sb.ID);
  EXPECT_EQ(clone.Filesystem.ReadString("/home/user/snap/data.txt"),
            "snapshot payload");
  // Writes in the clone do not leak back into the source.
  clone.Filesystem.WriteString("/home/user/snap/data.txt", "changed in clone");
  EXPECT_EQ(sb.Filesystem.ReadString("/home/user/snap/data.txt"),
            "snapshot payload");
}

TEST_F(LifecycleTest, NamedSnapshotAndPaging) {
  e2b::Sandbox sb = NewSandbox();
  const std::string name = "it-snap-" + RandomHex(4);
  e2b::SnapshotInfo a = sb.CreateSnapshot(name);
  ASSERT_FALSE(a.SnapshotID.empty());
  EXPECT_TRUE(std::any_of(a.Names.begin(), a.Names.end(),
                          [&](const std::string& n) {
                            return n.find(name) != std::string::npos;
                          }) ||
              a.SnapshotID.find(name) != std::string::npos)
      << a.SnapshotID;
  e2b::SnapshotInfo b = sb.CreateSnapshot();
  ASSERT_FALSE(b.SnapshotID.empty());
  EXPECT_NE(a.SnapshotID, b.SnapshotID);

  // Two snapshots, one per page.
  std::set<std::string> seen;
  e2b::ListSnapshotsResult page = Client().ListSnapshots(
      e2b::WithSnapshotSandboxID(sb.ID), e2b::WithSnapshotLimit(1));
  ASSERT_EQ(page.Snapshots.size(), 1u);
  seen.insert(page.Snapshots[0].SnapshotID);
  ASSERT_FALSE(page.NextToken.empty());
  page = Client().ListSnapshots(e2b::WithSnapshotSandboxID(sb.ID),
                                e2b::WithSnapshotLimit(1),
                                e2b::WithSnapshotNextToken(page.NextToken));
  ASSERT_EQ(page.Snapshots.size(), 1u);
  seen.insert(page.Snapshots[0].SnapshotID);
  EXPECT_TRUE(page.NextToken.empty());
  EXPECT_EQ(seen, (std::set<std::string>{a.SnapshotID, b.SnapshotID}));
}

TEST_F(LifecycleTest, MetricsHaveSaneValues) {
  e2b::Sandbox sb = NewSandbox();
  const double start = Now();
  ASSERT_EQ(sb.Commands
                .Run("sh", {"-c",
                            "i=0; while [ $i -lt 20000 ]; do "
                            "i=$((i+1)); done; echo $i"})
                .Stdout,
            "20000\n");
  // The server samples on its own schedule: poll for the first sample.
  std::vector<e2b::SandboxMetric> metrics;
  const auto deadline = std::chrono::steady_clock::now() + 8s;
  while (metrics.empty() && std::chrono::steady_clock::now() < deadline) {
    metrics = sb.Metrics();
    if (metrics.empty()) std::this_thread::sleep_for(250ms);
  }
  ASSERT_FALSE(metrics.empty()) << "no metrics sample within 8 s";
  for (const auto& m : metrics) {
    EXPECT_GE(m.CPUCount, 1);
    EXPECT_GE(m.CPUUsedPct, 0.0);
    EXPECT_LE(m.CPUUsedPct, 100.0 * std::max(1, m.CPUCount) + 1);
    EXPECT_GT(m.MemTotal, 0);
    EXPECT_GE(m.MemUsed, 0);
    EXPECT_GE(m.MemCache, 0);
    EXPECT_GT(m.DiskTotal, 0);
    EXPECT_GE(m.DiskUsed, 0);
    EXPECT_LE(m.DiskUsed, m.DiskTotal);
    EXPECT_GE(static_cast<double>(m.TimestampUnix), start - 120);
    EXPECT_LE(static_cast<double>(m.TimestampUnix), Now() + 60);
    if (!m.Timestamp.empty()) {
      auto ts = ParseRFC3339(m.Timestamp);
      ASSERT_TRUE(ts.has_value()) << m.Timestamp;
      EXPECT_NEAR(*ts, static_cast<double>(m.TimestampUnix), 2);
    }
  }
}

TEST_F(LifecycleTest, LogsRespectLimitDirectionAndSearch) {
  e2b::Sandbox sb = NewSandbox();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(sb.Commands.Run("true", {}).ExitCode, 0);
  }
  std::vector<e2b::SandboxLogEntry> all = sb.Logs();
  ASSERT_GE(all.size(), 2u) << "expected a created entry and command entries";
  const std::set<std::string> levels = {"debug", "info", "warn", "error"};
  for (const auto& e : all) {
    EXPECT_TRUE(levels.count(e.Level)) << e.Level;
    EXPECT_FALSE(e.Message.empty());
    EXPECT_TRUE(ParseRFC3339(e.Timestamp).has_value()) << e.Timestamp;
  }

  std::vector<e2b::SandboxLogEntry> one = sb.Logs(e2b::WithLimit(1));
  EXPECT_EQ(one.size(), 1u);

  std::vector<e2b::SandboxLogEntry> fwd =
      sb.Logs(e2b::WithDirection("forward"));
  std::vector<e2b::SandboxLogEntry> bwd =
      sb.Logs(e2b::WithDirection("backward"));
  ASSERT_GE(fwd.size(), 2u);
  ASSERT_EQ(fwd.size(), bwd.size());
  auto first = ParseRFC3339(fwd.front().Timestamp);
  auto last = ParseRFC3339(fwd.back().Timestamp);
  ASSERT_TRUE(first && last);
  EXPECT_LE(*first, *last);
  EXPECT_EQ(fwd.front().Message, bwd.back().Message);
  EXPECT_EQ(fwd.back().Message, bwd.front().Message);
  auto bfirst = ParseRFC3339(bwd.front().Timestamp);
  auto blast = ParseRFC3339(bwd.back().Timestamp);
  ASSERT_TRUE(bfirst && blast);
  EXPECT_GE(*bfirst, *blast);

  // Newest first, limited: the single newest entry.
  std::vector<e2b::SandboxLogEntry> newest =
      sb.Logs(e2b::WithDirection("backward"), e2b::WithLimit(1));
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].Message, bwd.front().Message);

  // Search: a substring of one message matches; nonsense matches nothing.
  const std::string needle = fwd.front().Message.substr(
      0, std::min<std::size_t>(6, fwd.front().Message.size()));
  std::vector<e2b::SandboxLogEntry> found = sb.Logs(e2b::WithSearch(needle));
  ASSERT_FALSE(found.empty());
  for (const auto& e : found) {
    EXPECT_NE(e.Message.find(needle), std::string::npos) << e.Message;
  }
  EXPECT_TRUE(sb.Logs(e2b::WithSearch("no such text " + RandomHex(8))).empty());
}

TEST_F(LifecycleTest, CloseThenInfoThrowsSandboxNotFound) {
  e2b::Sandbox sb = NewSandbox();
  const std::string id = sb.ID;
  sb.Close();
  try {
    sb.Info();
    FAIL() << "Info on a closed sandbox did not throw";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), id);
    EXPECT_EQ(e.StatusCode(), 404);
    EXPECT_NE(std::string(e.what()).find(id), std::string::npos) << e.what();
  }
  EXPECT_FALSE(Listed(Client().ListSandboxes(), id));
  // Closing again reports the sandbox as gone.
  EXPECT_THROW(sb.Close(), e2b::SandboxNotFoundError);
}

TEST_F(LifecycleTest, SandboxOutlivesItsClientHandleAndMoves) {
  e2b::Sandbox moved;
  {
    e2b::Client own = Server().NewClient();
    e2b::Sandbox sb = own.NewSandbox(Config());
    e2b::SandboxCloser closer(sb);
    moved = std::move(sb);
    // `own` goes away here; the sandbox handle must stay usable.
    closer.Release();
  }
  e2b::SandboxCloser closer(moved);
  EXPECT_EQ(moved.Commands.Run("echo", {"alive"}).Stdout, "alive\n");
  moved.Filesystem.WriteString("/home/user/x", "y");
  EXPECT_EQ(moved.Filesystem.ReadString("/home/user/x"), "y");
  EXPECT_EQ(moved.Info().State, "running");
}

TEST_F(LifecycleTest, SandboxCloserKillsTheSandbox) {
  std::string id;
  {
    e2b::Sandbox sb = Client().NewSandbox(Config());
    id = sb.ID;
    e2b::SandboxCloser closer(sb);
    EXPECT_TRUE(Listed(Client().ListSandboxes(), id));
  }
  EXPECT_FALSE(Listed(Client().ListSandboxes(), id));
}

}  // namespace
}  // namespace e2b_test
