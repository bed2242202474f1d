// Snippets of docs/guide/sandboxes.md: create a sandbox, read its details,
// extend its life and list the running ones. Runs against E2B or e2b-local
// (E2B_API_KEY, E2B_API_URL, E2B_SANDBOX_URL from the environment) and
// exits non-zero when something differs.

#include <e2b/e2b.hpp>

#include <algorithm>
#include <exception>
#include <iostream>

int main() {
  try {
    // [START sandboxes_create]
    e2b::Client client = e2b::NewClient();  // E2B_API_KEY, E2B_API_URL, ...

    e2b::SandboxConfig cfg;
    cfg.Timeout = 120;  // seconds until the sandbox is killed
    cfg.EnvVars = {{"GREETING", "hello"}};
    cfg.Metadata = {{"purpose", "docs"}};
    e2b::Sandbox sandbox = client.NewSandbox(cfg);
    e2b::SandboxCloser closer(sandbox);  // kills it at the end of the scope
    std::cout << "sandbox " << sandbox.ID << "\n";
    // [END sandboxes_create]

    // [START sandboxes_info]
    e2b::SandboxInfo info = sandbox.Info();
    std::cout << info.Template << " " << info.State << " until " << info.EndAt
              << "\n";

    sandbox.SetTimeout(300);  // now 300 s from now
    bool running = sandbox.IsRunning();

    std::vector<e2b::SandboxInfo> all = client.ListSandboxes();
    bool listed = std::any_of(
        all.begin(), all.end(),
        [&](const e2b::SandboxInfo& s) { return s.ID == sandbox.ID; });
    // [END sandboxes_info]

    // [START sandboxes_connect]
    e2b::Sandbox again = client.Connect(sandbox.ID);
    e2b::CommandResult env = again.Commands.Run("printenv", {"GREETING"});
    // [END sandboxes_connect]

    if (info.State != "running" || !running || !listed ||
        env.Stdout != "hello\n") {
      std::cerr << "error: unexpected sandbox state\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
