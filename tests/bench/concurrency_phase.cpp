// Concurrency: T threads x C Commands.Run on one Client, next to the same
// load from T raw libcurl handles (one connection each, the floor).

#include "bench_phases.hpp"
#include "raw_curl_client.hpp"

#include <e2b/e2b.hpp>

#include <atomic>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace e2b_bench {
namespace {

using nlohmann::json;

constexpr const char* kDirectStartJson =
    R"({"process":{"args":["hi"],"cmd":"echo"},"stdin":false})";

struct LoadResult {
  double seconds = 0;
  long calls = 0;
  long errors = 0;
  std::size_t connections = 0;
  std::string first_error;
};

// Runs `per_thread(thread_index)` on `threads` threads started together.
template <typename Fn>
double RunThreads(int threads, Fn per_thread) {
  std::vector<std::thread> pool;
  std::atomic<int> waiting{threads};
  std::atomic<bool> go{false};
  Clock::time_point start;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      waiting.fetch_sub(1);
      while (!go.load()) std::this_thread::yield();
      per_thread(t);
    });
  }
  while (waiting.load() > 0) std::this_thread::yield();
  start = Clock::now();
  go.store(true);
  for (auto& th : pool) th.join();
  return SecondsSince(start);
}

json ToJson(const LoadResult& r) {
  return {{"seconds", r.seconds},
          {"calls", r.calls},
          {"errors", r.errors},
          {"calls_per_second", r.seconds > 0 ? r.calls / r.seconds : 0},
          {"connections_opened", r.connections},
          {"first_error", r.first_error}};
}

}  // namespace

void RunConcurrency(const Args& args) {
  const int threads = static_cast<int>(args.Int("threads", 32));
  const int calls = static_cast<int>(args.Int("calls", 50));
  const int rounds = static_cast<int>(args.Int("rounds", 2));
  const std::string api_url = RequireEnv("E2B_API_URL");
  const std::string api_key = RequireEnv("E2B_API_KEY");
  const std::string envd_url = RequireEnv("E2B_SANDBOX_URL");
  const int envd_port = PortOfUrl(envd_url);

  // The sandbox is made by a separate client, so the measured Client starts
  // with no connection and every one it opens is counted.
  e2b::Sandbox sandbox = e2b::NewClient().NewSandbox(BenchSandboxConfig(900));
  e2b::SandboxCloser closer(sandbox);
  const std::string token = sandbox.EnvdAccessToken();

  std::vector<LoadResult> cpp_runs, raw_runs;
  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      LoadResult r;
      std::mutex mu;
      std::atomic<long> ok{0}, errors{0};
      const auto record_error = [&](const std::string& what) {
        errors.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        if (r.first_error.empty()) r.first_error = what;
      };
      if ((k + round) % 2 == 0) {
        // A fresh Client per round: one Client shared by all threads.
        e2b::Client client = e2b::NewClient();
        // Sandbox handles are bound to the client that created them, so the
        // measured client creates its own sandbox (on the API port, which
        // is not counted).
        e2b::Sandbox target = client.NewSandbox(BenchSandboxConfig(900));
        e2b::SandboxCloser target_closer(target);
        ConnectionCounter counter(envd_port);
        r.seconds = RunThreads(threads, [&](int) {
          for (int i = 0; i < calls; ++i) {
            try {
              const auto res = target.Commands.Run("echo", {"hi"});
              if (res.ExitCode != 0 || res.Stdout != "hi\n") {
                record_error("unexpected result: exit " +
                             std::to_string(res.ExitCode));
              } else {
                ok.fetch_add(1);
              }
            } catch (const std::exception& e) {
              record_error(e.what());
            }
          }
        });
        r.connections = counter.Stop();
        r.calls = ok.load() + errors.load();
        r.errors = errors.load();
        cpp_runs.push_back(r);
      } else {
        std::vector<std::unique_ptr<RawCurlClient>> clients;
        for (int t = 0; t < threads; ++t) {
          clients.push_back(
              std::make_unique<RawCurlClient>(api_url, api_key, envd_url));
        }
        r.seconds = RunThreads(threads, [&](int t) {
          for (int i = 0; i < calls; ++i) {
            try {
              clients[static_cast<std::size_t>(t)]->Start(sandbox.ID, token,
                                                          kDirectStartJson);
              ok.fetch_add(1);
            } catch (const std::exception& e) {
              record_error(e.what());
            }
          }
        });
        for (const auto& c : clients) {
          r.connections += static_cast<std::size_t>(c->ConnectionsOpened());
        }
        r.calls = ok.load() + errors.load();
        r.errors = errors.load();
        raw_runs.push_back(r);
      }
    }
    std::cerr << "concurrency: round " << round + 1 << "/" << rounds << "\n";
  }

  json result;
  result["threads"] = threads;
  result["calls_per_thread"] = calls;
  result["rounds"] = rounds;
  for (const auto& r : cpp_runs) result["e2b-cpp"].push_back(ToJson(r));
  for (const auto& r : raw_runs) result["raw-libcurl"].push_back(ToJson(r));
  WriteResult(args, result);
  for (const auto* runs : {&cpp_runs, &raw_runs}) {
    for (const auto& r : *runs) {
      if (r.errors > 0) {
        // `report` fails the run after writing the tables, so the error
        // still shows up in them.
        std::cerr << "concurrency: " << r.errors
                  << " calls failed; first: " << r.first_error << "\n";
      }
    }
  }
}

}  // namespace e2b_bench
