// Creates a sandbox, runs `echo hello` in it and prints the output.
//
// Configuration comes from the environment: E2B_API_KEY, and optionally
// E2B_API_URL / E2B_DOMAIN / E2B_SANDBOX_URL for another server.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>

int main() {
  using namespace std::chrono_literals;
  try {
    e2b::Client client = e2b::NewClient();

    std::cout << "Creating sandbox..." << std::endl;
    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);
    std::cout << "Sandbox created: " << sandbox.ID << std::endl;

    std::cout << "Running: echo hello" << std::endl;
    e2b::CommandResult result =
        sandbox.Commands.Run("echo", {"hello"}, e2b::WithTimeout(30s));
    std::cout << "Exit code: " << result.ExitCode << std::endl;
    std::cout << "Stdout: " << result.Stdout;
    if (!result.Stderr.empty()) std::cout << "Stderr: " << result.Stderr;

    if (result.ExitCode != 0) {
      std::cerr << "error: echo exited with code " << result.ExitCode
                << std::endl;
      return 1;
    }
    if (result.Stdout != "hello\n") {
      std::cerr << "error: unexpected output from echo" << std::endl;
      return 1;
    }
    std::cout << "Done." << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}
