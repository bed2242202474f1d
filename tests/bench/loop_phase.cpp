// One client, one operation, N calls in a row: the unit to profile
// (valgrind --tool=callgrind --toggle-collect='*CallLoop*') and to compare
// per-call instruction counts of e2b-cpp against the raw libcurl floor,
// which, unlike wall time, a shared machine does not disturb.

#include "bench_phases.hpp"
#include "raw_curl_client.hpp"

#include <e2b/e2b.hpp>

#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace e2b_bench {
namespace {

using nlohmann::json;

constexpr const char* kDirectStartJson =
    R"({"process":{"args":["hi"],"cmd":"echo"},"stdin":false})";

// Kept out of line so callgrind can collect exactly the calls.
__attribute__((noinline)) std::vector<double> CallLoop(
    int calls, const std::function<void()>& call) {
  std::vector<double> seconds;
  seconds.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    call();
    seconds.push_back(SecondsSince(start));
  }
  return seconds;
}

}  // namespace

void RunLoop(const Args& args) {
  const std::string op = args.Require("op");
  const int calls = static_cast<int>(args.Int("calls", 1000));
  const int warmup = static_cast<int>(args.Int("warmup", 5));
  if (calls <= 0 || warmup < 0) {
    throw BenchError("--calls must be positive and --warmup not negative");
  }
  const std::string api_url = RequireEnv("E2B_API_URL");
  const std::string api_key = RequireEnv("E2B_API_KEY");
  const std::string envd_url = RequireEnv("E2B_SANDBOX_URL");

  e2b::Client client = e2b::NewClient();
  e2b::Sandbox sandbox = client.NewSandbox(BenchSandboxConfig(600));
  e2b::SandboxCloser closer(sandbox);
  RawCurlClient raw(api_url, api_key, envd_url);
  const std::string token = sandbox.EnvdAccessToken();

  std::function<void()> call;
  if (op == "info") {
    call = [&] {
      if (sandbox.Info().ID != sandbox.ID) {
        throw BenchError("Info returned another ID");
      }
    };
  } else if (op == "raw-info") {
    call = [&] { raw.Info(sandbox.ID); };
  } else if (op == "run") {
    call = [&] {
      const auto r = sandbox.Commands.Run("echo", {"hi"});
      if (r.ExitCode != 0 || r.Stdout != "hi\n") {
        throw BenchError("Commands.Run returned exit " +
                         std::to_string(r.ExitCode));
      }
    };
  } else if (op == "raw-run") {
    call = [&] { raw.Start(sandbox.ID, token, kDirectStartJson); };
  } else {
    throw BenchError("--op must be info, raw-info, run or raw-run, not '" + op +
                     "'");
  }
  for (int i = 0; i < warmup; ++i) call();
  const Summary s = Summarize(CallLoop(calls, call));
  json result;
  result["op"] = op;
  result["calls"] = calls;
  result["seconds"] = ToJson(s);
  std::cout << result.dump() << "\n";
  if (args.named.count("out")) WriteResult(args, result);
}

}  // namespace e2b_bench
