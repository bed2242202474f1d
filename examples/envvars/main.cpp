// Environment variables at two levels: for the whole sandbox
// (SandboxConfig::EnvVars) and for one command (WithEnv), which adds to and
// overrides the sandbox's.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <map>
#include <string>

namespace {

// Prints the variable as the sandbox sees it and checks its value.
bool Check(const e2b::Sandbox& sandbox, const std::string& name,
           const std::string& want,
           const std::map<std::string, std::string>& command_env = {}) {
  using namespace std::chrono_literals;
  // printenv prints nothing and exits 1 for an unset variable.
  e2b::CommandResult r = sandbox.Commands.Run(
      "printenv", {name}, e2b::WithEnv(command_env), e2b::WithTimeout(30s));
  std::string got = r.Stdout;
  if (!got.empty() && got.back() == '\n') got.pop_back();
  std::cout << "  " << name << "=" << got << " (exit " << r.ExitCode << ")"
            << std::endl;
  if (r.ExitCode != 0 || got != want) {
    std::cerr << "error: " << name << " is \"" << got << "\", want \"" << want
              << "\"" << std::endl;
    return false;
  }
  return true;
}

}  // namespace

int main() {
  try {
    e2b::Client client = e2b::NewClient();

    e2b::SandboxConfig config;
    config.EnvVars = {{"SANDBOX_VAR", "from-sandbox"},
                      {"SHARED_VAR", "sandbox-value"}};
    std::cout << "Creating sandbox with SANDBOX_VAR and SHARED_VAR..."
              << std::endl;
    e2b::Sandbox sandbox = client.NewSandbox(config);
    e2b::SandboxCloser closer(sandbox);
    std::cout << "Sandbox created: " << sandbox.ID << std::endl;

    bool ok = true;
    std::cout << "Sandbox-level variables:" << std::endl;
    ok &= Check(sandbox, "SANDBOX_VAR", "from-sandbox");
    ok &= Check(sandbox, "SHARED_VAR", "sandbox-value");

    std::cout << "Command-level variables (WithEnv):" << std::endl;
    const std::map<std::string, std::string> command_env = {
        {"COMMAND_VAR", "from-command"}, {"SHARED_VAR", "command-value"}};
    ok &= Check(sandbox, "COMMAND_VAR", "from-command", command_env);
    ok &= Check(sandbox, "SHARED_VAR", "command-value", command_env);
    ok &= Check(sandbox, "SANDBOX_VAR", "from-sandbox", command_env);

    if (!ok) return 1;
    std::cout << "All environment variables are as expected." << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}
