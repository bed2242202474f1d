// Volumes against e2b-local: what the content API writes, a sandbox that
// mounts the volume reads, and the reverse; two sandboxes share one volume
// without corrupting each other's files; the data outlives sandbox kills,
// a destroyed mount and a server restart (clean and SIGKILL).

#include "integration/e2b_local_fixture.hpp"

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace e2b_test {
namespace {

class VolumesTest : public E2bLocalTest {
 protected:
  void TearDown() override {
    for (const auto& id : volumes_) {
      try {
        Server().NewClient().DestroyVolume(id);
      } catch (const std::exception&) {
        // The server may be down after a failed restart; nothing to clean.
      }
    }
    E2bLocalTest::TearDown();
  }

  e2b::Volume NewVolume(const std::string& label) {
    e2b::Volume volume =
        Server().NewClient().CreateVolume(label + "-" + RandomHex(4));
    volumes_.push_back(volume.VolumeID);
    return volume;
  }

  e2b::Sandbox NewSandboxWith(const e2b::Volume& volume,
                              const std::string& path) {
    e2b::SandboxConfig cfg = Config();
    cfg.VolumeMounts = {volume.AsMount(path)};
    return NewSandbox(cfg);
  }

 private:
  std::vector<std::string> volumes_;
};

TEST_F(VolumesTest, ApiWritesAreReadInsideAndSandboxWritesThroughTheApi) {
  e2b::Volume volume = NewVolume("both-ways");
  volume.WriteFileString("/config.txt", "from the API\n");
  volume.MakeDir("/nested/dir", e2b::WithVolumeForce(true));

  e2b::Sandbox sb = NewSandboxWith(volume, "/mnt/data");
  EXPECT_EQ(sb.Commands.Run("cat", {"/mnt/data/config.txt"}).Stdout,
            "from the API\n");
  const e2b::SandboxInfo info = sb.Info();
  ASSERT_EQ(info.VolumeMounts.size(), 1u);
  EXPECT_EQ(info.VolumeMounts[0].Name, volume.Name);
  EXPECT_EQ(info.VolumeMounts[0].Path, "/mnt/data");

  // As the sandbox's user (uid 1000), and through envd's file API.
  sb.Commands.Run("sh", {"-c", "echo -n inside > /mnt/data/nested/dir/a.txt"});
  sb.Filesystem.WriteString("/mnt/data/by-envd.txt", "envd");
  EXPECT_EQ(volume.ReadFileString("/nested/dir/a.txt"), "inside");
  EXPECT_EQ(volume.ReadFileString("/by-envd.txt"), "envd");
  const e2b::VolumeEntryStat stat = volume.GetInfo("/nested/dir/a.txt");
  EXPECT_EQ(stat.Type, e2b::VolumeFileTypeFile);
  EXPECT_EQ(stat.Size, 6);
  EXPECT_EQ(stat.UID, 1000);
  EXPECT_EQ(stat.GID, 1000);

  // What the API sets is what the sandbox sees.
  volume.UpdateMetadata("/config.txt", e2b::WithVolumeUID(1234),
                        e2b::WithVolumeMode(0640));
  EXPECT_EQ(
      sb.Commands.Run("stat", {"-c", "%u %a", "/mnt/data/config.txt"}).Stdout,
      "1234 640\n");
}

TEST_F(VolumesTest, TwoSandboxesShareOneVolumeWithoutTearingFiles) {
  e2b::Volume volume = NewVolume("shared");
  e2b::Sandbox first = NewSandboxWith(volume, "/mnt/shared");
  e2b::Sandbox second = NewSandboxWith(volume, "/data");
  // Each writes its own file and, many times, replaces one common file by
  // rename: the common file is always exactly one writer's whole content.
  const std::string script_a =
      "for i in $(seq 1 200); do head -c 65536 /dev/zero | tr '\\0' a > "
      "/mnt/shared/.a.tmp && mv /mnt/shared/.a.tmp /mnt/shared/common; done; "
      "seq 1 5000 > /mnt/shared/only-a.txt";
  const std::string script_b =
      "for i in $(seq 1 200); do head -c 65536 /dev/zero | tr '\\0' b > "
      "/data/.b.tmp && mv /data/.b.tmp /data/common; done; "
      "seq 1 7000 > /data/only-b.txt";
  std::thread a([&] { first.Commands.Run("sh", {"-c", script_a}); });
  second.Commands.Run("sh", {"-c", script_b});
  a.join();
  const std::string common = volume.ReadFileString("/common");
  ASSERT_EQ(common.size(), 65536u);
  EXPECT_TRUE(common == std::string(65536, 'a') ||
              common == std::string(65536, 'b'));
  std::ostringstream a_lines, b_lines;
  for (int i = 1; i <= 5000; ++i) a_lines << i << "\n";
  for (int i = 1; i <= 7000; ++i) b_lines << i << "\n";
  EXPECT_EQ(volume.ReadFileString("/only-a.txt"), a_lines.str());
  EXPECT_EQ(second.Commands.Run("cat", {"/data/only-a.txt"}).Stdout,
            a_lines.str());
  EXPECT_EQ(first.Commands.Run("cat", {"/mnt/shared/only-b.txt"}).Stdout,
            b_lines.str());
}

TEST_F(VolumesTest, DataOutlivesSandboxesAndForksKeepTheMount) {
  e2b::Volume volume = NewVolume("outlives");
  {
    e2b::Sandbox sb = NewSandboxWith(volume, "/mnt/v");
    sb.Commands.Run("sh", {"-c", "echo kept > /mnt/v/kept.txt"});
    std::vector<e2b::ForkResult> forks = sb.Fork(e2b::WithForkCount(1));
    ASSERT_EQ(forks.size(), 1u);
    ASSERT_TRUE(forks[0].OK());
    e2b::SandboxCloser closer(*forks[0].Sandbox);
    EXPECT_EQ(forks[0].Sandbox->Commands.Run("cat", {"/mnt/v/kept.txt"}).Stdout,
              "kept\n");
    sb.Close();
  }
  EXPECT_EQ(volume.ReadFileString("/kept.txt"), "kept\n");
  // A paused sandbox that lost its memory boots with its volume again.
  e2b::Sandbox again = NewSandboxWith(volume, "/mnt/v");
  again.Pause(e2b::WithKeepMemory(false));
  again.Resume(120);
  EXPECT_EQ(again.Commands.Run("cat", {"/mnt/v/kept.txt"}).Stdout, "kept\n");
}

TEST_F(VolumesTest, DestroyingAMountedVolumeAnswersAsE2bDoes) {
  e2b::Client client = Server().NewClient();
  e2b::Volume volume = NewVolume("destroy-mounted");
  volume.WriteFileString("/x.txt", "x");
  e2b::Sandbox sb = NewSandboxWith(volume, "/mnt/gone");
  // E2B deletes the volume at once and its data in the background,
  // mounted or not.
  EXPECT_TRUE(client.DestroyVolume(volume.VolumeID));
  EXPECT_FALSE(client.DestroyVolume(volume.VolumeID));
  EXPECT_THROW(client.GetVolumeInfo(volume.VolumeID), e2b::VolumeNotFoundError);
  // The sandbox lives on; the volume's directory no longer takes files.
  const e2b::CommandResult wrote =
      sb.Commands.Run("sh", {"-c", "echo y > /mnt/gone/y.txt"},
                      e2b::WithCommandExitError(false));
  EXPECT_NE(wrote.ExitCode, 0);
  EXPECT_EQ(sb.Commands.Run("echo", {"alive"}).Stdout, "alive\n");
  // Bad mounts are refused with E2B's reasons.
  e2b::SandboxConfig cfg = Config();
  const e2b::Volume live = NewVolume("live");
  cfg.VolumeMounts = {{volume.Name, "/mnt/a"}, {live.Name, "relative"}};
  try {
    NewSandbox(cfg);
    ADD_FAILURE() << "a destroyed volume was mounted";
  } catch (const e2b::InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("volume mount #0: volume '" +
                                         volume.Name + "' not found"),
              std::string::npos)
        << e.what();
    EXPECT_NE(
        std::string(e.what()).find("volume mount #1: path must be absolute"),
        std::string::npos)
        << e.what();
  }
}

class VolumeRestartTest : public VolumesTest,
                          public ::testing::WithParamInterface<bool> {};

TEST_P(VolumeRestartTest, VolumesAndTheirMountsSurviveARestart) {
  const bool crash = GetParam();
  e2b::Volume volume = NewVolume(crash ? "crash" : "stop");
  volume.WriteFileString("/before.txt", "before the restart");
  e2b::Sandbox sb = NewSandboxWith(volume, "/mnt/v");
  sb.Commands.Run("sh", {"-c", "echo -n from-sandbox > /mnt/v/in.txt"});
  sb.Pause();

  Server().Restart(crash);
  ASSERT_TRUE(Server().Ok()) << Server().StartError();
  e2b::Client client = Server().NewClient();
  const e2b::VolumeAndToken info = client.GetVolumeInfo(volume.VolumeID);
  EXPECT_EQ(info.Name, volume.Name);
  EXPECT_EQ(info.Token, volume.Token);
  bool listed = false;
  for (const auto& v : client.ListVolumes()) {
    listed = listed || v.VolumeID == volume.VolumeID;
  }
  EXPECT_TRUE(listed);
  e2b::Volume reconnected = client.ConnectVolume(volume.VolumeID);
  EXPECT_EQ(reconnected.ReadFileString("/before.txt"), "before the restart");
  EXPECT_EQ(reconnected.ReadFileString("/in.txt"), "from-sandbox");

  // The paused sandbox comes back with its mount.
  e2b::Sandbox resumed = client.Connect(sb.ID, 120);
  e2b::SandboxCloser closer(resumed);
  EXPECT_EQ(resumed.Commands.Run("cat", {"/mnt/v/before.txt"}).Stdout,
            "before the restart");
}

INSTANTIATE_TEST_SUITE_P(StopAndCrash, VolumeRestartTest,
                         ::testing::Values(false, true), [](const auto& info) {
                           return info.param ? "Crash" : "Stop";
                         });

}  // namespace
}  // namespace e2b_test
