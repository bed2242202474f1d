// Creates a sandbox, prints what Info() reports about it and checks that
// ListSandboxes() lists it among the running sandboxes.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>

int main() {
  try {
    e2b::Client client = e2b::NewClient();

    std::cout << "Creating sandbox..." << std::endl;
    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);
    std::cout << "Sandbox created: " << sandbox.ID << std::endl;

    e2b::SandboxInfo info = sandbox.Info();
    std::cout << "Sandbox info:\n"
              << "  ID:          " << info.ID << "\n"
              << "  Template:    " << info.Template << "\n"
              << "  Alias:       " << info.Alias << "\n"
              << "  State:       " << info.State << "\n"
              << "  CPUs:        " << info.CPUCount << "\n"
              << "  Memory MB:   " << info.MemoryMB << "\n"
              << "  Disk MB:     " << info.DiskSizeMB << "\n"
              << "  Started at:  " << info.StartedAt << "\n"
              << "  Ends at:     " << info.EndAt << "\n"
              << "  envd:        " << info.EnvdVersion << std::endl;
    if (!info.Lifecycle.OnTimeout.empty()) {
      std::cout << "  On timeout:  " << info.Lifecycle.OnTimeout << std::endl;
    }
    for (const e2b::VolumeMount& mount : info.VolumeMounts) {
      std::cout << "  Volume:      " << mount.Name << " -> " << mount.Path
                << std::endl;
    }
    if (info.ID != sandbox.ID) {
      std::cerr << "error: Info() reports ID " << info.ID << ", want "
                << sandbox.ID << std::endl;
      return 1;
    }

    // The WithContext form bounds the call by a deadline.
    e2b::SandboxInfo again = sandbox.InfoWithContext(
        e2b::Context::WithTimeout(std::chrono::seconds(30)));
    std::cout << "Verified state with a 30 s deadline: " << again.State
              << std::endl;
    if (again.State != "running") {
      std::cerr << "error: a fresh sandbox should be running, not "
                << again.State << std::endl;
      return 1;
    }

    std::cout << "Listing running sandboxes..." << std::endl;
    bool listed = false;
    for (const e2b::SandboxInfo& s : client.ListSandboxes()) {
      std::cout << "  " << s.ID << " (" << s.Template << ", " << s.State << ")"
                << std::endl;
      if (s.ID == sandbox.ID) listed = true;
    }
    if (!listed) {
      std::cerr << "error: sandbox " << sandbox.ID
                << " is missing from ListSandboxes()" << std::endl;
      return 1;
    }
    std::cout << "The sandbox is listed. Done." << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}
