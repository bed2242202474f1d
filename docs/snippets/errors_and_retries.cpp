// Snippets of docs/guide/errors-and-retries.md: the error hierarchy, the
// retry policy and deadlines. Runs against E2B or e2b-local and exits
// non-zero when something differs.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>

int main() {
  using namespace std::chrono_literals;
  try {
    // [START errors_retry_policy]
    e2b::ClientConfig config;
    config.Retry.MaxAttempts = 5;  // the first attempt included; 1 = none
    config.Retry.InitialBackoff = 100ms;
    config.Retry.MaxBackoff = 2s;
    config.RequestTimeout = 30s;  // bounds each call, retries included
    e2b::Client client = e2b::NewClient(config);
    // [END errors_retry_policy]

    // [START errors_catch]
    int caught = 0;
    try {
      client.Connect("no-such-sandbox");
    } catch (const e2b::SandboxNotFoundError& e) {
      std::cout << "gone: " << e.SandboxID() << "\n";
      ++caught;
    } catch (const e2b::RateLimitError&) {
      std::cout << "rate limited even after the retries\n";
    } catch (const e2b::Error& e) {
      // Every e2b failure: StatusCode() is 0 when no HTTP answer came.
      std::cout << e.StatusCode() << " " << e.Message() << " request "
                << e.RequestID() << "\n";
    }
    // [END errors_catch]

    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);

    // [START errors_deadline]
    e2b::Context ctx = e2b::Context::WithTimeout(2s);
    try {
      sandbox.Commands.RunWithContext(ctx, "sleep", {"10"});
    } catch (const e2b::TimeoutError& e) {
      std::cout << "deadline passed: " << e.what() << "\n";
      ++caught;
    }
    // [END errors_deadline]

    // [START errors_exit_code]
    e2b::CommandResult result = sandbox.Commands.Run("false", {});
    std::cout << "exit code " << result.ExitCode << "\n";  // 1, no exception
    try {
      sandbox.Commands.Run("false", {}, e2b::WithCommandExitError());
    } catch (const e2b::CommandExitError& e) {
      std::cout << "opted in: exit code " << e.ExitCode() << "\n";
      ++caught;
    }
    // [END errors_exit_code]

    if (caught != 3 || result.ExitCode != 1) {
      std::cerr << "error: expected three typed errors, caught " << caught
                << "\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
