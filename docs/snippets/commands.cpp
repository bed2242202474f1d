// Snippets of docs/guide/commands.md: run a command, stream its output,
// run one in the background and talk to its stdin. Runs against E2B or
// e2b-local and exits non-zero when something differs.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>

int main() {
  using namespace std::chrono_literals;
  try {
    e2b::Client client = e2b::NewClient();
    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);

    // [START commands_run]
    e2b::CommandResult result = sandbox.Commands.Run(
        "ls", {"-la"}, e2b::WithCwd("/tmp"), e2b::WithTimeout(30s));
    std::cout << result.Stdout;
    if (result.ExitCode != 0) {  // a non-zero exit is a result, not an error
      std::cerr << result.Stderr;
    }

    // A shell line, with its environment and user.
    e2b::CommandResult shell = sandbox.Commands.RunShell(
        "echo \"$NAME\" && whoami", e2b::WithEnv({{"NAME", "docs"}}),
        e2b::WithUser("root"));
    // [END commands_run]

    // [START commands_stream]
    std::string seen;
    sandbox.Commands.Run(
        "sh", {"-c", "for i in 1 2 3; do echo $i; sleep 0.1; done"},
        e2b::WithOnStdout([&](const std::string& chunk) {
          seen += chunk;  // called on this thread as output arrives
        }));
    // [END commands_stream]

    // [START commands_background]
    e2b::CommandHandle cat =
        sandbox.Commands.Start("cat", {}, e2b::WithStdin());
    cat.SendStdin("hello from stdin\n");
    cat.CloseStdin();  // EOF: cat exits
    e2b::CommandResult done = cat.Wait();

    // A long-running process, found again by its tag and killed.
    e2b::CommandHandle server = sandbox.Commands.Start(
        "sleep", {"600"}, e2b::WithTag("sleeper"), e2b::WithNoTimeout());
    std::vector<e2b::ProcessInfo> processes = sandbox.Commands.List();
    bool killed = sandbox.Commands.Kill(server.PID());
    // [END commands_background]

    if (result.ExitCode != 0 || shell.Stdout != "docs\nroot\n" ||
        seen != "1\n2\n3\n" || done.Stdout != "hello from stdin\n" ||
        processes.empty() || !killed) {
      std::cerr << "error: unexpected command results\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
