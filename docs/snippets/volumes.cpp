// Snippets of docs/guide/volumes.md: create a volume, use its files
// without a sandbox, mount it into one, destroy it. Runs against E2B or
// e2b-local and exits non-zero when something differs.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>

int main() {
  try {
    e2b::Client client = e2b::NewClient();
    // Volume names are unique per team: a suffix keeps reruns apart.
    const std::string name =
        "docs-" +
        std::to_string(
            std::chrono::system_clock::now().time_since_epoch().count());

    // [START volumes_create]
    e2b::Volume volume = client.CreateVolume(name);
    volume.WriteFileString("/config/app.txt", "persisted\n",
                           e2b::WithVolumeForce(true));
    std::string text = volume.ReadFileString("/config/app.txt");
    for (const e2b::VolumeEntryStat& entry :
         volume.List("/", e2b::WithVolumeDepth(2))) {
      std::cout << entry.Path << "\n";
    }
    // [END volumes_create]

    // [START volumes_mount]
    e2b::SandboxConfig cfg;
    cfg.VolumeMounts = {volume.AsMount("/mnt/data")};
    e2b::Sandbox sandbox = client.NewSandbox(cfg);
    e2b::CommandResult seen =
        sandbox.Commands.Run("cat", {"/mnt/data/config/app.txt"});
    sandbox.Close();
    // [END volumes_mount]

    // [START volumes_destroy]
    bool destroyed = client.DestroyVolume(volume.VolumeID);
    // [END volumes_destroy]

    if (text != "persisted\n" || seen.Stdout != "persisted\n" || !destroyed) {
      std::cerr << "error: unexpected volume contents\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
