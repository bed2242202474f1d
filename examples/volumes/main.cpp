// Creates a persistent volume, writes, reads and lists files through the
// volume content API, then mounts the volume into a sandbox and reads the
// same file there. The volume is destroyed at the end, also on failure.
//
// Unlike a sandbox's filesystem, a volume outlives any one sandbox: what is
// written to it stays and can be mounted into other sandboxes later.
//
// Configuration comes from the environment: E2B_API_KEY, and optionally
// E2B_API_URL / E2B_DOMAIN / E2B_SANDBOX_URL for another server.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <utility>

namespace {

constexpr const char* kContent = "persisted in a volume\n";

int Fail(const std::string& message) {
  std::cerr << "error: " << message << std::endl;
  return 1;
}

// Destroys the volume when it goes out of scope, as Go's deferred
// DestroyVolume does; a failure is reported, not thrown.
class VolumeDestroyer {
 public:
  VolumeDestroyer(e2b::Client client, std::string volume_id)
      : client_(std::move(client)), volume_id_(std::move(volume_id)) {}
  VolumeDestroyer(const VolumeDestroyer&) = delete;
  VolumeDestroyer& operator=(const VolumeDestroyer&) = delete;
  ~VolumeDestroyer() {
    try {
      if (client_.DestroyVolume(volume_id_)) {
        std::cout << "Destroyed volume " << volume_id_ << std::endl;
      }
    } catch (const std::exception& e) {
      std::cerr << "error: destroying volume " << volume_id_ << ": " << e.what()
                << std::endl;
    }
  }

 private:
  e2b::Client client_;
  std::string volume_id_;
};

}  // namespace

int main() {
  using namespace std::chrono_literals;
  try {
    e2b::Client client = e2b::NewClient();

    // Names are unique per team: a suffix keeps reruns apart.
    const std::string name =
        "example-volume-" +
        std::to_string(
            std::chrono::system_clock::now().time_since_epoch().count() %
            1000000000);
    e2b::Volume vol = client.CreateVolume(name);
    VolumeDestroyer destroyer(client, vol.VolumeID);
    std::cout << "Created volume: " << vol.Name << " (" << vol.VolumeID << ")"
              << std::endl;

    // Written straight to the volume with its own token, no sandbox needed.
    vol.WriteFileString("/config.txt", kContent);
    const std::string got = vol.ReadFileString("/config.txt");
    std::cout << "Volume content: " << got;
    if (got != kContent) return Fail("the volume returned other content");

    std::cout << "Volume entries:" << std::endl;
    bool listed = false;
    for (const e2b::VolumeEntryStat& entry : vol.List("/")) {
      std::cout << "  " << entry.Name << " (" << entry.Size << " bytes)"
                << std::endl;
      listed = listed || entry.Name == "config.txt";
    }
    if (!listed) return Fail("config.txt is missing from the listing");

    // Mounted into a sandbox, the volume's files are on its filesystem.
    e2b::SandboxConfig cfg;
    cfg.Template = "base";
    cfg.VolumeMounts = {vol.AsMount("/mnt/data")};
    e2b::Sandbox sandbox = client.NewSandbox(cfg);
    e2b::SandboxCloser closer(sandbox);
    std::cout << "Sandbox created: " << sandbox.ID << std::endl;

    const e2b::CommandResult result = sandbox.Commands.Run(
        "cat", {"/mnt/data/config.txt"}, e2b::WithTimeout(30s));
    std::cout << "Read via sandbox mount: " << result.Stdout;
    if (result.ExitCode != 0) {
      return Fail("cat exited with code " + std::to_string(result.ExitCode) +
                  ": " + result.Stderr);
    }
    if (result.Stdout != kContent) {
      return Fail("the mounted file differs from what was written");
    }
    std::cout << "Done." << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
}
