// A sandbox's life beyond create and close:
//   1. extend its timeout, pause it (IsRunning is false while paused),
//      resume it and find the files written before the pause;
//   2. take a named snapshot, then delete it;
//   3. connect to it by ID from a second client, as another process would;
//   4. let a sandbox created with AutoPause reach its timeout, watch it be
//      paused instead of killed, and resume it with Client::Connect.
// A paused sandbox keeps its filesystem and memory, so work resumes where
// it left off.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

namespace {

constexpr const char* kStatePath = "/home/user/state.txt";

int Fail(const std::string& message) {
  std::cerr << "error: " << message << std::endl;
  return 1;
}

// Polls Info() until the sandbox reports `want` or `limit` has passed;
// returns whether it did. Prints each state seen, so a hang is diagnosable.
bool WaitForState(const e2b::Sandbox& sandbox, const std::string& want,
                  std::chrono::seconds limit) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string last;
  while (true) {
    const std::string state = sandbox.Info().State;
    if (state != last) {
      std::cout << "  state: " << state << std::endl;
      last = state;
    }
    if (state == want) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(250ms);
  }
}

// Step 1: SetTimeout, Pause, IsRunning while paused, Resume.
int PauseAndResume(const e2b::Sandbox& sandbox) {
  sandbox.SetTimeout(600);
  std::cout << "Timeout extended to 600 s; ends at " << sandbox.Info().EndAt
            << std::endl;

  std::cout << "Pausing..." << std::endl;
  sandbox.Pause();
  const std::string paused_state = sandbox.Info().State;
  const bool running_while_paused = sandbox.IsRunning();
  std::cout << "Paused: state " << paused_state << ", IsRunning "
            << std::boolalpha << running_while_paused << std::endl;
  if (paused_state != "paused") {
    return Fail("Info() reports state " + paused_state + " after Pause()");
  }
  if (running_while_paused) return Fail("IsRunning() is true while paused");

  std::cout << "Resuming with a 300 s lifetime..." << std::endl;
  sandbox.Resume(300);
  if (!sandbox.IsRunning()) return Fail("IsRunning() is false after Resume()");
  const std::string state = sandbox.Filesystem.ReadString(kStatePath);
  std::cout << "Resumed; " << kStatePath << ": " << state;
  if (state != "before pause\n") {
    return Fail(std::string(kStatePath) + " did not survive the pause");
  }
  return 0;
}

// Step 2: CreateSnapshot with a name, DeleteSnapshot.
int SnapshotAndDelete(const e2b::Client& client, const e2b::Sandbox& sandbox) {
  std::cout << "Taking snapshot 'example-checkpoint'..." << std::endl;
  const e2b::SnapshotInfo snapshot =
      sandbox.CreateSnapshot("example-checkpoint");
  std::cout << "Snapshot " << snapshot.SnapshotID << ", names:";
  for (const std::string& name : snapshot.Names) std::cout << " " << name;
  std::cout << std::endl;
  if (snapshot.SnapshotID.empty()) return Fail("the snapshot has no ID");
  // Its ID could start new sandboxes as a template. Deleted at once, so
  // that neither a later failure nor success leaves it behind.
  if (!client.DeleteSnapshot(snapshot.SnapshotID)) {
    return Fail("DeleteSnapshot(" + snapshot.SnapshotID +
                ") found no such snapshot");
  }
  std::cout << "Snapshot deleted." << std::endl;
  return 0;
}

// Step 3: Client::Connect by ID from a second client; both handles reach
// the same sandbox.
int ConnectFromSecondClient(const e2b::Sandbox& sandbox) {
  e2b::Client other_client = e2b::NewClient();
  std::cout << "Connecting to " << sandbox.ID << " from a second client..."
            << std::endl;
  e2b::Sandbox other = other_client.Connect(sandbox.ID, 120);
  const std::string seen = other.Filesystem.ReadString(kStatePath);
  std::cout << "The second handle reads " << kStatePath << ": " << seen;
  if (other.ID != sandbox.ID || seen != "before pause\n") {
    return Fail("the connected handle does not see the sandbox's files");
  }
  other.Filesystem.WriteString(kStatePath, "written through Connect\n");
  const std::string back = sandbox.Filesystem.ReadString(kStatePath);
  std::cout << "The first handle reads back: " << back;
  if (back != "written through Connect\n") {
    return Fail("a write through the connected handle is not seen");
  }
  return 0;
}

// Step 4: AutoPause at the timeout, then Connect resumes.
int AutoPauseAndConnect(const e2b::Client& client) {
  using namespace std::chrono_literals;
  e2b::SandboxConfig config;
  config.AutoPause = true;  // at the timeout: pause, not kill
  config.Timeout = 60;
  std::cout << "Creating a sandbox with AutoPause..." << std::endl;
  e2b::Sandbox sandbox = client.NewSandbox(config);
  e2b::SandboxCloser closer(sandbox);
  std::cout << "Sandbox created: " << sandbox.ID
            << " (on timeout: " << sandbox.Info().Lifecycle.OnTimeout << ")"
            << std::endl;
  sandbox.Filesystem.WriteString(kStatePath, "before auto-pause\n");

  // Shortened after the write, so the timeout cannot strike before it.
  std::cout << "Setting its timeout to 1 s and waiting for the auto-pause..."
            << std::endl;
  sandbox.SetTimeout(1);
  if (!WaitForState(sandbox, "paused", 20s)) {
    return Fail("the sandbox did not pause within 20 s of its timeout");
  }
  bool listed = false;
  for (const e2b::SandboxInfo& s :
       client.ListSandboxesV2(e2b::WithSandboxState("paused")).Sandboxes) {
    if (s.ID == sandbox.ID) listed = true;
  }
  std::cout << "Listed among paused sandboxes: " << std::boolalpha << listed
            << std::endl;
  if (!listed) return Fail("ListSandboxesV2(paused) does not list it");
  if (sandbox.IsRunning()) return Fail("IsRunning() is true while paused");

  std::cout << "Connecting resumes it..." << std::endl;
  e2b::Sandbox resumed = client.Connect(sandbox.ID, 60);
  const std::string state = resumed.Info().State;
  const std::string content = resumed.Filesystem.ReadString(kStatePath);
  std::cout << "After Connect: state " << state << ", " << kStatePath << ": "
            << content;
  if (state != "running") {
    return Fail("Connect() left the sandbox " + state);
  }
  if (content != "before auto-pause\n") {
    return Fail(std::string(kStatePath) + " did not survive the auto-pause");
  }
  return 0;
}

}  // namespace

int main() {
  try {
    e2b::Client client = e2b::NewClient();

    std::cout << "Creating sandbox..." << std::endl;
    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);
    std::cout << "Sandbox created: " << sandbox.ID << std::endl;
    sandbox.Filesystem.WriteString(kStatePath, "before pause\n");

    if (int rc = PauseAndResume(sandbox)) return rc;
    if (int rc = SnapshotAndDelete(client, sandbox)) return rc;
    if (int rc = ConnectFromSecondClient(sandbox)) return rc;
    if (int rc = AutoPauseAndConnect(client)) return rc;
    std::cout << "Done." << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}
