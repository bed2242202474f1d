#ifndef E2B_BENCH_BENCH_PHASES_HPP_
#define E2B_BENCH_BENCH_PHASES_HPP_

// The benchmark phases (one subcommand each) and the report writer.

#include "bench_support.hpp"

#include <e2b/types.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace e2b_bench {

/// `--name value` flags and positional arguments of a subcommand.
struct Args {
  std::map<std::string, std::string> named;
  std::vector<std::string> positional;

  std::string Get(const std::string& name, const std::string& fallback) const;
  std::string Require(const std::string& name) const;
  long long Int(const std::string& name, long long fallback) const;
};

/// A "base" sandbox living `timeout_seconds`; set field by field so new
/// SandboxConfig members keep their defaults.
inline e2b::SandboxConfig BenchSandboxConfig(int timeout_seconds) {
  e2b::SandboxConfig cfg;
  cfg.Template = "base";
  cfg.Timeout = timeout_seconds;
  return cfg;
}

/// Summary as JSON (the unit is the caller's).
nlohmann::json ToJson(const Summary& s);

/// Writes `result` to the --out file of `args`.
void WriteResult(const Args& args, const nlohmann::json& result);

/// Per-call time of Sandbox::Info and Commands.Run: e2b-cpp, the raw libcurl
/// floor and the JS SDK, interleaved in rounds.
void RunOverhead(const Args& args);

/// 1 GiB (--bytes) up and down: e2b-cpp in a child process against the curl
/// command line, interleaved; throughput and each side's peak RSS.
void RunTransfer(const Args& args, const std::string& self_path);

/// The e2b-cpp side of one transfer round, in its own process so its peak
/// RSS is its own: prints one JSON line.
void RunTransferChild(const Args& args);

/// T threads x C Commands.Run on one Client: calls/s, errors, connections.
void RunConcurrency(const Args& args);

/// e2b-local's own costs: create/kill latency, command start latency and
/// memory per idle sandbox.
void RunServer(const Args& args);

/// --calls N of one operation (--op info|raw-info|run|raw-run) by one
/// client, for profilers; prints the per-call summary as JSON.
void RunLoop(const Args& args);

/// BENCHMARKS.md from the phases' JSON files.
void WriteReport(const Args& args);

}  // namespace e2b_bench

#endif  // E2B_BENCH_BENCH_PHASES_HPP_
