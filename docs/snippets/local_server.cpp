// Snippets of docs/guide/local-server.md: point a Client at e2b-local. Run
// it under tools/with-e2b-local.sh, which starts the server and exports
// its E2B_* variables; exits non-zero when something differs.

#include <e2b/e2b.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

int main() {
  try {
    // [START local_server_config]
    // What `e2b-local` prints at start (E2B_API_URL=..., E2B_SANDBOX_URL=...,
    // E2B_API_KEY=...); exported, NewClient() alone reads the same values.
    e2b::ClientConfig config;
    config.APIBaseURL = Env("E2B_API_URL");      // http://127.0.0.1:3000
    config.SandboxURL = Env("E2B_SANDBOX_URL");  // http://127.0.0.1:49983
    config.APIKey = Env("E2B_API_KEY");
    e2b::Client client = e2b::NewClient(config);

    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);
    e2b::CommandResult result = sandbox.Commands.Run("uname", {"-s"});
    // [END local_server_config]

    if (result.Stdout != "Linux\n") {
      std::cerr << "error: unexpected uname output: " << result.Stdout;
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
