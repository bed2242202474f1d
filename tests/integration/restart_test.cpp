// e2b-local restarted under its sandboxes, as E2B's API servers restart
// under theirs: paused sandboxes (with or without memory) and snapshots
// survive a clean stop and a crash (SIGKILL), running sandboxes that asked
// to pause at their timeout are paused by a clean stop, the rest end, and
// saves a crash cut short are removed and reported.

#include "integration/e2b_local_fixture.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace e2b_test {
namespace {

class RestartTest : public E2bLocalTest,
                    public ::testing::WithParamInterface<bool> {
 protected:
  std::map<std::string, std::string> States(const e2b::Client& client) {
    std::map<std::string, std::string> out;
    for (const auto& s : client.ListSandboxesV2().Sandboxes) {
      out[s.ID] = s.State;
    }
    return out;
  }
};

TEST_P(RestartTest, PausedSandboxesAndSnapshotsSurvive) {
  const bool crash = GetParam();
  e2b::Sandbox frozen = NewSandbox();
  frozen.Filesystem.WriteString("/home/user/frozen.txt", "kept in memory");
  frozen.Commands.StartShell("sleep 600");
  frozen.Pause();
  e2b::Sandbox halted = NewSandbox();
  halted.Filesystem.WriteString("/tmp/halted.txt", "kept on disk");
  halted.Pause(e2b::WithKeepMemory(false));
  e2b::SandboxConfig auto_cfg = Config();
  auto_cfg.AutoPause = true;
  auto_cfg.Metadata = {{"role", "auto-pause"}};
  e2b::Sandbox auto_pause = NewSandbox(auto_cfg);
  auto_pause.Filesystem.WriteString("/home/user/auto.txt", "paused at stop");
  e2b::Sandbox running = NewSandbox();
  e2b::Sandbox source = NewSandbox();
  source.Filesystem.WriteString("/home/user/snap.txt", "in the snapshot");
  const e2b::SnapshotInfo snapshot = source.CreateSnapshot("restart-snap");

  // What a crash in the middle of a snapshot and of a pause leaves.
  const std::string state = Server().TempDir() + "/state";
  std::filesystem::create_directories(state + "/layers/cut-short/home");
  std::filesystem::create_directories(state +
                                      "/paused/icutshort0000000000/layer");

  Server().Restart(crash);
  ASSERT_TRUE(Server().Ok()) << Server().StartError();
  const e2b::Client client = Server().NewClient();

  auto states = States(client);
  EXPECT_EQ(states[frozen.ID], "paused");
  EXPECT_EQ(states[halted.ID], "paused");
  // A crash gives no chance to pause: a running sandbox is gone then.
  if (crash) {
    EXPECT_EQ(states.count(auto_pause.ID), 0u);
  } else {
    EXPECT_EQ(states[auto_pause.ID], "paused");
  }
  EXPECT_EQ(states.count(running.ID), 0u);
  EXPECT_EQ(states.count(source.ID), 0u);
  EXPECT_EQ(states.count("icutshort0000000000"), 0u);
  EXPECT_FALSE(std::filesystem::exists(state + "/layers/cut-short"));
  EXPECT_FALSE(std::filesystem::exists(state + "/paused/icutshort0000000000"));
  const std::string log = Server().StderrTail(1 << 16);
  EXPECT_NE(log.find("cut-short"), std::string::npos) << log;
  EXPECT_NE(log.find("icutshort0000000000"), std::string::npos) << log;
  EXPECT_NE(log.find("recovered " + std::to_string(crash ? 2 : 3) +
                     " paused sandbox(es)"),
            std::string::npos)
      << log;

  // Back with their files, without their processes (memory does not
  // outlive the server), and with the same identity: metadata, token.
  e2b::Sandbox back = client.Connect(frozen.ID, 120);
  EXPECT_EQ(back.EnvdAccessToken(), frozen.EnvdAccessToken());
  EXPECT_EQ(back.Filesystem.ReadString("/home/user/frozen.txt"),
            "kept in memory");
  EXPECT_TRUE(back.Commands.List().empty());
  EXPECT_EQ(back.Commands.Run("echo", {"back"}).Stdout, "back\n");
  e2b::Sandbox back2 = client.Connect(halted.ID, 120);
  EXPECT_EQ(back2.Filesystem.ReadString("/tmp/halted.txt"), "kept on disk");
  if (!crash) {
    e2b::Sandbox back3 = client.Connect(auto_pause.ID, 120);
    EXPECT_EQ(back3.Filesystem.ReadString("/home/user/auto.txt"),
              "paused at stop");
    EXPECT_EQ(back3.Info().Metadata.at("role"), "auto-pause");
    back3.Close();
  }

  // The snapshot is still there and still starts sandboxes.
  bool listed = false;
  for (const auto& s : client.ListSnapshots().Snapshots) {
    if (s.SnapshotID == snapshot.SnapshotID) listed = true;
  }
  EXPECT_TRUE(listed);
  e2b::SandboxConfig from_snapshot = Config();
  from_snapshot.Template = snapshot.SnapshotID;
  e2b::Sandbox fresh = client.NewSandbox(from_snapshot);
  EXPECT_EQ(fresh.Filesystem.ReadString("/home/user/snap.txt"),
            "in the snapshot");
  fresh.Close();
  back.Close();
  back2.Close();
  EXPECT_TRUE(client.DeleteSnapshot(snapshot.SnapshotID));
}

INSTANTIATE_TEST_SUITE_P(StopOrCrash, RestartTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Crash" : "CleanStop";
                         });

}  // namespace
}  // namespace e2b_test
