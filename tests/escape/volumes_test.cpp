// Attacks through volumes: a volume is a directory of the host that
// sandboxes write into and the server reads and writes for the content
// API. Root in a sandbox plants symlinks, FIFOs and hard links in it; the
// content API must stay inside the volume, the mount must stay nosuid and
// nodev, and a snapshot whose mount path is a symlink at the host must
// still bind the volume inside the new sandbox.

#include "escape/escape_support.hpp"

#include <string>
#include <vector>

namespace e2b_test {
namespace escape {
namespace {

class VolumeEscapeTest : public EscapeTest {
 protected:
  void TearDown() override {
    for (const auto& id : volumes_) {
      try {
        Server().NewClient().DestroyVolume(id);
      } catch (const std::exception&) {
      }
    }
    EscapeTest::TearDown();
  }

  e2b::Volume NewVolume() {
    e2b::Volume volume =
        Server().NewClient().CreateVolume("escape-" + RandomHex(5));
    volumes_.push_back(volume.VolumeID);
    return volume;
  }

  e2b::Sandbox Mounting(const e2b::Volume& volume, const std::string& path,
                        e2b::SandboxConfig cfg = Config()) {
    cfg.VolumeMounts = {volume.AsMount(path)};
    return NewSandbox(cfg);
  }

 private:
  std::vector<std::string> volumes_;
};

TEST_F(VolumeEscapeTest, ContentApiStaysInsideTheVolume) {
  e2b::Volume volume = NewVolume();
  e2b::Sandbox attacker = Mounting(volume, "/mnt/v");
  const std::string canary = Canary().Dir();
  e2b::CommandResult planted = Shell(
      attacker, "root",
      "cd /mnt/v && ln -s " + canary + " evil-dir && ln -s " +
          Canary().Path("secret.txt") + " evil-file && ln -s " +
          Canary().Path("hostname") + " evil-hostname && ln -s / root-link " +
          "&& ln -s ../../../../../../.. up-link && ln -s /proc/1/root " +
          "proc-link && mkfifo fifo && mkdir -p deep && ln -s /etc/shadow " +
          "deep/shadow && (ln /etc/shadow hard 2>/dev/null || true)");
  ASSERT_EQ(planted.ExitCode, 0) << planted.Stderr;
  const auto attempt = [](auto&& fn) {
    try {
      fn();
    } catch (const e2b::Error&) {
      // Refusing is fine; reading or changing the canary is not.
    }
  };
  for (const char* path : {"/evil-file", "/evil-dir/secret.txt",
                           "/root-link" /*dir*/, "/up-link/etc/passwd",
                           "/proc-link/etc/passwd", "/deep/shadow", "/hard"}) {
    SCOPED_TRACE(path);
    attempt([&] {
      EXPECT_EQ(volume.ReadFileString(path).find(Canary().Secret()),
                std::string::npos);
    });
    attempt([&] {
      for (const auto& e : volume.List(path, e2b::WithVolumeDepth(3))) {
        EXPECT_NE(e.Name, "secret.txt") << "listed the host canary";
      }
    });
  }
  // A FIFO is not read (that would hang the request).
  const auto fifo_start = std::chrono::steady_clock::now();
  attempt([&] { volume.ReadFileString("/fifo"); });
  EXPECT_LT(std::chrono::steady_clock::now() - fifo_start, 20s);
  // Writes, metadata changes and removals through the links.
  attempt([&] {
    volume.WriteFileString("/evil-hostname", "pwned",
                           e2b::WithVolumeForce(true));
  });
  attempt([&] {
    volume.WriteFileString("/evil-dir/uploaded", "x",
                           e2b::WithVolumeForce(true));
  });
  attempt([&] {
    volume.UpdateMetadata("/evil-file", e2b::WithVolumeMode(0777),
                          e2b::WithVolumeUID(0));
  });
  attempt([&] { volume.UpdateMetadata("/evil-dir", e2b::WithVolumeMode(0)); });
  attempt(
      [&] { volume.MakeDir("/evil-dir/made", e2b::WithVolumeForce(true)); });
  attempt([&] { volume.Remove("/evil-dir/passwd"); });
  attempt([&] { volume.Remove("/root-link/home"); });
  // The links themselves go; the canary (checked by TearDown) stays.
  volume.Remove("/evil-dir");
  volume.Remove("/up-link");
  // The listing of the whole volume reports links as links.
  for (const auto& e : volume.List("/", e2b::WithVolumeDepth(10))) {
    if (e.Name == "root-link" || e.Name == "evil-file") {
      EXPECT_EQ(e.Type, e2b::VolumeFileTypeSymlink) << e.Path;
    }
  }
}

TEST_F(VolumeEscapeTest, TheMountIsNosuidAndNodevAndLinksCannotLeaveIt) {
  e2b::Volume volume = NewVolume();
  e2b::Sandbox attacker = Mounting(volume, "/mnt/v");
  ProbeRun run = RunProbe(attacker, "root", R"(
import os, shutil
for line in open('/proc/self/mountinfo'):
    f = line.split()
    if f[4] == '/mnt/v':
        put('opts', f[5])
shutil.copy('/usr/bin/id', '/mnt/v/id')
os.chown('/mnt/v/id', 0, 0)
os.chmod('/mnt/v/id', 0o4755)
probe('mknod', lambda: os.mknod('/mnt/v/null', 0o20666, os.makedev(1, 3)))
probe('hardlink_out', lambda: os.link('/etc/passwd', '/mnt/v/passwd'))
probe('rename_out', lambda: os.rename('/mnt/v/id', '/usr/local/bin/id2'))
)");
  const std::string opts = run.Get("opts");
  EXPECT_NE(opts.find("nosuid"), std::string::npos) << run.Describe();
  EXPECT_NE(opts.find("nodev"), std::string::npos) << run.Describe();
  EXPECT_NE(run.Get("mknod"), "None") << run.Describe();
  EXPECT_EQ(run.Get("hardlink_out"), "EXDEV") << run.Describe();
  EXPECT_EQ(run.Get("rename_out"), "EXDEV") << run.Describe();
  // The setuid bit does not lift the sandbox's user to root.
  e2b::CommandResult id = Shell(attacker, "user", "/mnt/v/id -u");
  EXPECT_EQ(id.Stdout, "1000\n") << id.Stderr;
}

TEST_F(VolumeEscapeTest, ASnapshotsSymlinkedMountPathStaysInTheSandbox) {
  e2b::Volume volume = NewVolume();
  volume.WriteFileString("/marker.txt", "volume");
  // /mnt becomes a link at the host canary's directory, then a snapshot:
  // the link resolves inside the sandbox (where it leads nowhere), never on
  // the host.
  e2b::CommandResult planted = Shell(
      Target(), "root", "rm -rf /mnt && ln -s " + Canary().Dir() + " /mnt");
  ASSERT_EQ(planted.ExitCode, 0) << planted.Stderr;
  auto ctx = e2b::Context::WithTimeout(60s);
  e2b::SnapshotInfo snap = Target().CreateSnapshot(ctx);
  e2b::SandboxConfig cfg = Config();
  cfg.Template = snap.SnapshotID;
  try {
    e2b::Sandbox sb = Mounting(volume, "/mnt/v", cfg);
    e2b::CommandResult seen = Shell(sb, "user", "cat /mnt/v/marker.txt");
    EXPECT_EQ(seen.Stdout, "volume") << seen.Stderr;
  } catch (const e2b::InvalidArgumentError& e) {
    // A link that leads nowhere inside the sandbox, as `mkdir -p` refuses.
    EXPECT_NE(std::string(e.what()).find("path '/mnt/v' cannot be a directory"),
              std::string::npos)
        << e.what();
  }
  // TearDown checks that nothing appeared in or changed under the canary.
}

}  // namespace
}  // namespace escape
}  // namespace e2b_test
