// Snippets of docs/guide/threading.md: one Client and one Sandbox shared by
// several threads, and a call cancelled from another thread. Runs against
// E2B or e2b-local and exits non-zero when something differs.

#include <e2b/e2b.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

int main() {
  using namespace std::chrono_literals;
  try {
    // [START threading_shared]
    e2b::Client client = e2b::NewClient();
    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);

    std::atomic<int> ok{0};
    std::vector<std::thread> workers;
    for (int i = 0; i < 4; ++i) {
      workers.emplace_back([&sandbox, &ok, i] {
        // Handles are thread-safe: each thread uses the same sandbox.
        const std::string path = "/tmp/worker-" + std::to_string(i);
        sandbox.Filesystem.WriteString(path, std::to_string(i));
        if (sandbox.Filesystem.ReadString(path) == std::to_string(i)) ++ok;
      });
    }
    for (std::thread& worker : workers) worker.join();
    // [END threading_shared]

    // [START threading_cancel]
    e2b::Context ctx = e2b::Context::WithCancel();
    std::thread canceller([ctx] {
      std::this_thread::sleep_for(500ms);
      ctx.Cancel();  // safe from any thread; aborts the transfer at once
    });
    bool cancelled = false;
    try {
      sandbox.Commands.RunWithContext(ctx, "sleep", {"30"});
    } catch (const e2b::Error&) {  // a cancelled call throws e2b::Error
      cancelled = ctx.Cancelled();
    }
    canceller.join();
    // [END threading_cancel]

    if (ok != 4 || !cancelled) {
      std::cerr << "error: a worker failed or the call was not cancelled\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
