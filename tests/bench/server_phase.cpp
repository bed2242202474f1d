// e2b-local's own costs, so users know what the local server adds: sandbox
// create and kill latency, command start latency, memory per idle sandbox.

#include "bench_phases.hpp"
#include "raw_curl_client.hpp"

#include <e2b/e2b.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace e2b_bench {
namespace {

using nlohmann::json;

constexpr const char* kTrueStartJson =
    R"({"process":{"cmd":"true"},"stdin":false})";

struct MemorySample {
  std::uint64_t server_pss = 0;
  std::uint64_t server_rss = 0;
  std::uint64_t children_pss = 0;
  std::uint64_t children_rss = 0;
  std::size_t children = 0;
  std::map<std::string, int> commands;
};

std::string NamespaceOf(pid_t pid, const char* kind) {
  char target[128];
  const std::string link =
      "/proc/" + std::to_string(pid) + "/ns/" + std::string(kind);
  const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "";
}

std::string CommOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

MemorySample SampleMemory(pid_t server) {
  MemorySample m;
  m.server_pss = ProcessPssBytes(server);
  m.server_rss = ProcessRssBytes(server);
  for (pid_t pid : Descendants(server)) {
    m.children_pss += ProcessPssBytes(pid);
    m.children_rss += ProcessRssBytes(pid);
    ++m.children;
    ++m.commands[CommOf(pid)];
  }
  return m;
}

json ToJson(const MemorySample& m) {
  return {{"server_pss", m.server_pss},     {"server_rss", m.server_rss},
          {"children_pss", m.children_pss}, {"children_rss", m.children_rss},
          {"children", m.children},         {"commands", m.commands}};
}

}  // namespace

void RunServer(const Args& args) {
  const int creates = static_cast<int>(args.Int("create", 30));
  const int idle = static_cast<int>(args.Int("idle", 20));
  const int starts = static_cast<int>(args.Int("starts", 100));
  const std::string api_url = RequireEnv("E2B_API_URL");
  const std::string api_key = RequireEnv("E2B_API_KEY");
  const std::string envd_url = RequireEnv("E2B_SANDBOX_URL");

  e2b::Client client = e2b::NewClient();
  json result;

  // Create + kill, one at a time. One throw-away pair first warms the
  // connection and the server's template cache.
  client.NewSandbox().Close();
  std::vector<double> create_s, kill_s;
  for (int i = 0; i < creates; ++i) {
    auto start = Clock::now();
    e2b::Sandbox s = client.NewSandbox(BenchSandboxConfig(300));
    create_s.push_back(SecondsSince(start));
    start = Clock::now();
    s.Close();
    kill_s.push_back(SecondsSince(start));
  }
  result["create_seconds"] = ToJson(Summarize(create_s));
  result["kill_seconds"] = ToJson(Summarize(kill_s));
  std::cerr << "server: create/kill done\n";

  // Command start: request sent to the first stream message (the start
  // event with the pid), and the whole exchange, for `true`.
  {
    e2b::Sandbox s = client.NewSandbox(BenchSandboxConfig(300));
    e2b::SandboxCloser closer(s);
    RawCurlClient raw(api_url, api_key, envd_url);
    std::vector<double> first, total;
    for (int i = 0; i < starts + 3; ++i) {
      const auto t = raw.Start(s.ID, s.EnvdAccessToken(), kTrueStartJson);
      if (i < 3) continue;  // warm-up
      first.push_back(t.first_message_seconds);
      total.push_back(t.total_seconds);
    }
    result["command_start_seconds"] = ToJson(Summarize(first));
    result["command_total_seconds"] = ToJson(Summarize(total));
    // The same after 100 ms of quiet each, as commands of an interactive
    // session or a test suite arrive: work the kernel defers while a
    // machine is idle (e.g. RCU grace periods) shows up here, not above.
    std::vector<double> sparse;
    for (int i = 0; i < std::min(starts, 20); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      sparse.push_back(
          raw.Start(s.ID, s.EnvdAccessToken(), kTrueStartJson).total_seconds);
    }
    result["command_sparse_total_seconds"] = ToJson(Summarize(sparse));
  }
  std::cerr << "server: command start done\n";

  // Memory per idle sandbox: the server's growth plus every process it
  // started for them, divided by their number.
  const pid_t server = ListeningPid(PortOfUrl(api_url));
  if (server <= 0) {
    result["idle_memory"] = {{"error",
                              "cannot find the e2b-local process listening "
                              "on the API port (needs /proc access)"}};
  } else if (idle > 0) {
    const MemorySample before = SampleMemory(server);
    std::vector<e2b::Sandbox> sandboxes;
    for (int i = 0; i < idle; ++i) {
      sandboxes.push_back(client.NewSandbox(BenchSandboxConfig(300)));
    }
    // Let whatever each sandbox starts settle into idleness.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const MemorySample after = SampleMemory(server);
    // Which isolation the server used: sandbox processes in another PID
    // namespace than the server's mean namespaces.
    std::string isolation = "none (plain processes)";
    for (pid_t pid : Descendants(server)) {
      if (NamespaceOf(pid, "pid") != NamespaceOf(server, "pid")) {
        isolation = "namespaces";
        break;
      }
    }
    result["isolation"] = isolation;
    for (auto& s : sandboxes) s.Close();

    const auto delta = [](std::uint64_t a, std::uint64_t b) {
      return b > a ? static_cast<double>(b - a) : 0.0;
    };
    const double n = static_cast<double>(idle);
    json mem;
    mem["sandboxes"] = idle;
    mem["before"] = ToJson(before);
    mem["after"] = ToJson(after);
    mem["server_growth_pss_per_sandbox"] =
        delta(before.server_pss, after.server_pss) / n;
    mem["processes_pss_per_sandbox"] =
        delta(before.children_pss, after.children_pss) / n;
    mem["processes_rss_per_sandbox"] =
        delta(before.children_rss, after.children_rss) / n;
    mem["processes_per_sandbox"] =
        static_cast<double>(after.children - before.children) / n;
    mem["total_pss_per_sandbox"] =
        (delta(before.server_pss, after.server_pss) +
         delta(before.children_pss, after.children_pss)) /
        n;
    result["idle_memory"] = mem;
  }
  std::cerr << "server: idle memory done\n";
  WriteResult(args, result);
}

}  // namespace e2b_bench
