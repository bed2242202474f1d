// e2b-local's own costs, so users know what the local server adds: sandbox
// create and kill latency, the first command in a new sandbox, command start
// latency, memory per idle sandbox, and (--capacity N) how many idle
// sandboxes the machine holds.

#include "bench_phases.hpp"
#include "raw_curl_client.hpp"

#include <e2b/e2b.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
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

// Summary as JSON plus the nearest-rank p99, which Summary leaves out.
json SummaryJson(std::vector<double> samples) {
  json out = ToJson(Summarize(samples));
  if (!samples.empty()) {
    std::sort(samples.begin(), samples.end());
    const auto rank = static_cast<std::size_t>(
        std::ceil(0.99 * static_cast<double>(samples.size())));
    out["p99"] =
        samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
  }
  return out;
}

// /proc/meminfo in bytes: MemAvailable and the kernel's own pools, which
// the PSS of processes leaves out (cgroups, namespaces, mounts, loop
// disks, page tables).
std::map<std::string, double> HostMemory() {
  static const char* const kKeys[] = {
      "MemAvailable", "MemFree",    "Slab",  "SUnreclaim", "SReclaimable",
      "KernelStack",  "PageTables", "Shmem", "Buffers",    "Cached"};
  std::map<std::string, double> out;
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    if (std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* k) {
          return key == k;
        }) == std::end(kKeys)) {
      continue;
    }
    out[key] = std::strtod(line.c_str() + colon + 1, nullptr) * 1024.0;
  }
  return out;
}

// What each of `n` sandboxes took from the host between two samples
// (positive = less available / more used).
json HostMemoryPerSandbox(const std::map<std::string, double>& before,
                          const std::map<std::string, double>& after,
                          double n) {
  json out;
  for (const auto& [key, value] : after) {
    const auto it = before.find(key);
    if (it == before.end()) continue;
    const double delta = key == "MemAvailable" || key == "MemFree"
                             ? it->second - value
                             : value - it->second;
    out[key] = delta / n;
  }
  return out;
}

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

// Creates up to `target` idle sandboxes, one after another, and keeps them
// all: how many the machine holds, whether creating gets slower as they
// pile up, what each takes from the host, and whether the first and the
// last still run a command. Every sandbox is killed at the end.
json RunCapacity(e2b::Client& client, const std::string& api_url,
                 const std::string& api_key, const std::string& envd_url,
                 int target, double reserve_mib) {
  json out;
  out["target"] = target;
  out["reserve_mib"] = reserve_mib;
  RawCurlClient raw(api_url, api_key, envd_url);
  std::vector<e2b::Sandbox> sandboxes;
  std::vector<double> create_s;
  const auto host_before = HostMemory();
  const auto started = Clock::now();
  std::string stopped = "target reached";
  try {
    for (int i = 0; i < target; ++i) {
      if (HostMemory()["MemAvailable"] < reserve_mib * 1024 * 1024) {
        stopped = "host memory reserve reached";
        break;
      }
      const auto start = Clock::now();
      // Long enough to outlive the run, kill included.
      sandboxes.push_back(client.NewSandbox(BenchSandboxConfig(3600)));
      create_s.push_back(SecondsSince(start));
      if ((i + 1) % 100 == 0) {
        std::cerr << "server: capacity " << (i + 1) << " sandboxes\n";
      }
    }
  } catch (const std::exception& e) {
    stopped = std::string("create failed: ") + e.what();
  }
  out["created"] = sandboxes.size();
  out["stopped"] = stopped;
  out["create_total_seconds"] = SecondsSince(started);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto host_after = HostMemory();
  if (!sandboxes.empty()) {
    const double n = static_cast<double>(sandboxes.size());
    out["host_per_sandbox"] = HostMemoryPerSandbox(host_before, host_after, n);
    out["memavailable_drop_per_sandbox"] =
        out["host_per_sandbox"].value("MemAvailable", 0.0);
    // Create time over the first and the last tenth (at least one).
    const std::size_t window = std::max<std::size_t>(1, create_s.size() / 10);
    out["create_first_seconds"] = SummaryJson(std::vector<double>(
        create_s.begin(), create_s.begin() + static_cast<long>(window)));
    out["create_last_seconds"] = SummaryJson(std::vector<double>(
        create_s.end() - static_cast<long>(window), create_s.end()));
    out["create_seconds"] = SummaryJson(create_s);
    const auto command_runs = [&](const e2b::Sandbox& s) -> json {
      try {
        return raw.Start(s.ID, s.EnvdAccessToken(), kTrueStartJson)
            .total_seconds;
      } catch (const std::exception& e) {
        return std::string(e.what());
      }
    };
    out["first_sandbox_command_seconds"] = command_runs(sandboxes.front());
    out["last_sandbox_command_seconds"] = command_runs(sandboxes.back());
  }
  const auto cleanup = Clock::now();
  std::size_t kill_errors = 0;
  for (auto& s : sandboxes) {
    try {
      s.Close();
    } catch (const std::exception&) {
      ++kill_errors;
    }
  }
  out["kill_total_seconds"] = SecondsSince(cleanup);
  out["kill_errors"] = kill_errors;
  return out;
}

}  // namespace

void RunServer(const Args& args) {
  const int creates = static_cast<int>(args.Int("create", 30));
  const int idle = static_cast<int>(args.Int("idle", 20));
  const int starts = static_cast<int>(args.Int("starts", 100));
  const int capacity = static_cast<int>(args.Int("capacity", 0));
  // The capacity run stops before the host has less than this available.
  const double reserve_mib =
      static_cast<double>(args.Int("capacity-reserve-mib", 2048));
  const std::string api_url = RequireEnv("E2B_API_URL");
  const std::string api_key = RequireEnv("E2B_API_KEY");
  const std::string envd_url = RequireEnv("E2B_SANDBOX_URL");

  e2b::Client client = e2b::NewClient();
  json result;

  // Create, first command, kill, one sandbox at a time. One throw-away
  // pair first warms the connections and the server's template cache.
  // First command: from NewSandbox's return to the first stream message
  // (the start event) of `true` in that sandbox, on a kept-alive envd
  // connection, as an SDK's next call would be.
  RawCurlClient first_raw(api_url, api_key, envd_url);
  {
    e2b::Sandbox warm = client.NewSandbox(BenchSandboxConfig(300));
    first_raw.Start(warm.ID, warm.EnvdAccessToken(), kTrueStartJson);
    warm.Close();
  }
  std::vector<double> create_s, first_s, kill_s;
  for (int i = 0; i < creates; ++i) {
    auto start = Clock::now();
    e2b::Sandbox s = client.NewSandbox(BenchSandboxConfig(300));
    const auto created = Clock::now();
    create_s.push_back(std::chrono::duration<double>(created - start).count());
    const double gap = SecondsSince(created);
    first_s.push_back(gap +
                      first_raw.Start(s.ID, s.EnvdAccessToken(), kTrueStartJson)
                          .first_message_seconds);
    start = Clock::now();
    s.Close();
    kill_s.push_back(SecondsSince(start));
  }
  result["create_seconds"] = SummaryJson(create_s);
  result["first_command_seconds"] = SummaryJson(first_s);
  result["kill_seconds"] = SummaryJson(kill_s);
  std::cerr << "server: create/first command/kill done\n";

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
    result["command_start_seconds"] = SummaryJson(first);
    result["command_total_seconds"] = SummaryJson(total);
    // The same after 100 ms of quiet each, as commands of an interactive
    // session or a test suite arrive: work the kernel defers while a
    // machine is idle (e.g. RCU grace periods) shows up here, not above.
    std::vector<double> sparse;
    for (int i = 0; i < std::min(starts, 20); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      sparse.push_back(
          raw.Start(s.ID, s.EnvdAccessToken(), kTrueStartJson).total_seconds);
    }
    result["command_sparse_total_seconds"] = SummaryJson(sparse);
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
    const auto host_before = HostMemory();
    std::vector<e2b::Sandbox> sandboxes;
    for (int i = 0; i < idle; ++i) {
      sandboxes.push_back(client.NewSandbox(BenchSandboxConfig(300)));
    }
    // Let whatever each sandbox starts settle into idleness.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const MemorySample after = SampleMemory(server);
    const auto host_after = HostMemory();
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
    // The host's view, kernel memory included; other work on the machine
    // moves it too, so it is the honest upper figure, not a precise one.
    const json host = HostMemoryPerSandbox(host_before, host_after, n);
    mem["host_per_sandbox"] = host;
    mem["memavailable_drop_per_sandbox"] = host.value("MemAvailable", 0.0);
    result["idle_memory"] = mem;
  }
  std::cerr << "server: idle memory done\n";
  if (capacity > 0) {
    result["capacity"] =
        RunCapacity(client, api_url, api_key, envd_url, capacity, reserve_mib);
    std::cerr << "server: capacity done\n";
  }
  WriteResult(args, result);
}

}  // namespace e2b_bench
