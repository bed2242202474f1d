// Call overhead: the same operation through e2b-cpp, the raw libcurl floor
// and the official JS SDK, in interleaved batches on one sandbox.

#include "bench_phases.hpp"
#include "raw_curl_client.hpp"

#include <e2b/e2b.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace e2b_bench {
namespace {

using nlohmann::json;

// One batch of calls: each call's wall time, and the CPU time (user and
// system, all threads) the client process spent on the whole batch. The
// CPU time is what the client itself costs: unlike wall time it does not
// include the server's work or waiting for a core on a loaded machine.
struct BatchResult {
  std::vector<double> seconds;
  double cpu_seconds = 0;
};

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The command line the JS SDK runs for commands.run("echo hi"), sent the
// same way by the other two clients.
const std::vector<std::string> kShellArgs = {"-l", "-c", "echo hi"};
// e2b-cpp's Start body for these calls, byte for byte (nlohmann sorts keys).
constexpr const char* kShellStartJson =
    R"({"process":{"args":["-l","-c","echo hi"],"cmd":"/bin/bash"},"stdin":false})";
constexpr const char* kDirectStartJson =
    R"({"process":{"args":["hi"],"cmd":"echo"},"stdin":false})";
constexpr int kNodeReplyTimeoutMs = 180000;

bool FileExists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// The JS SDK in a long-lived node process, fed one request per line.
class NodeWorker {
 public:
  NodeWorker(const std::string& js_dir, const std::string& sandbox_id) {
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) {
      throw BenchError("pipe failed");
    }
    const std::string script = js_dir + "/bench.mjs";
    pid_ = fork();
    if (pid_ < 0) throw BenchError("fork failed");
    if (pid_ == 0) {
      dup2(to_child[0], STDIN_FILENO);
      dup2(from_child[1], STDOUT_FILENO);
      close(to_child[0]);
      close(to_child[1]);
      close(from_child[0]);
      close(from_child[1]);
      if (chdir(js_dir.c_str()) != 0) _exit(126);
      execlp("node", "node", script.c_str(), sandbox_id.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    write_fd_ = to_child[1];
    read_fd_ = from_child[0];
    const json ready = ReadReply();
    if (!ready.value("ready", false)) {
      throw BenchError("JS SDK did not start: " + ready.dump());
    }
  }

  ~NodeWorker() {
    if (write_fd_ >= 0) {
      const char quit[] = "quit\n";
      (void)!write(write_fd_, quit, sizeof(quit) - 1);
      close(write_fd_);
    }
    if (read_fd_ >= 0) close(read_fd_);
    if (pid_ > 0) {
      // Give node a moment to exit on its own, then make sure it is gone.
      for (int i = 0; i < 50; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        usleep(100000);
      }
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  NodeWorker(const NodeWorker&) = delete;
  NodeWorker& operator=(const NodeWorker&) = delete;

  BatchResult Batch(const std::string& request) {
    const std::string line = request + "\n";
    if (write(write_fd_, line.data(), line.size()) !=
        static_cast<ssize_t>(line.size())) {
      throw BenchError("cannot write to the JS SDK process");
    }
    const json reply = ReadReply();
    if (reply.contains("error")) {
      throw BenchError("JS SDK call failed: " +
                       reply["error"].get<std::string>());
    }
    return {reply.at("seconds").get<std::vector<double>>(),
            reply.at("cpu_seconds").get<double>()};
  }

 private:
  json ReadReply() {
    while (true) {
      const auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        const std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        auto parsed = json::parse(line, nullptr, false);
        // Anything else node prints (warnings) is not a reply.
        if (parsed.is_object()) return parsed;
        continue;
      }
      pollfd p{read_fd_, POLLIN, 0};
      const int ready = poll(&p, 1, kNodeReplyTimeoutMs);
      if (ready <= 0) throw BenchError("the JS SDK process did not answer");
      char chunk[4096];
      const ssize_t n = read(read_fd_, chunk, sizeof(chunk));
      if (n <= 0) throw BenchError("the JS SDK process exited");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int write_fd_ = -1;
  int read_fd_ = -1;
  std::string buffer_;
};

using Batch = std::function<BatchResult(int)>;

// n calls of one(), which returns that call's wall time, with the
// batch's CPU time.
BatchResult MeasureBatch(int n, const std::function<double()>& one) {
  BatchResult result;
  const double cpu_start = ProcessCpuSeconds();
  for (int i = 0; i < n; ++i) result.seconds.push_back(one());
  result.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  return result;
}

Batch Timed(std::function<void()> call) {
  return [call = std::move(call)](int n) {
    return MeasureBatch(n, [&call] {
      const auto start = Clock::now();
      call();
      return SecondsSince(start);
    });
  };
}

struct Variant {
  std::string client;  // "e2b-cpp", "raw-libcurl", "js-sdk"
  Batch batch;
  std::vector<double> samples;
  std::vector<double> cpu_per_call = {};  // one per round
};

struct Operation {
  std::string name;
  std::string label;
  std::vector<Variant> variants;
  // Per round, the ratio of two clients' batch medians: both batches ran
  // back to back, so a load change between rounds cancels out.
  std::vector<double> cpp_over_raw = {};
  std::vector<double> js_over_cpp = {};
  // What a client that cost nothing could gain over the JS SDK at most.
  std::vector<double> js_over_raw = {};
  // The same for the client's CPU time per call.
  std::vector<double> cpu_cpp_over_raw = {};
  std::vector<double> cpu_js_over_cpp = {};
};

double Median(std::vector<double> values) { return Summarize(values).median; }

void CheckRun(const e2b::CommandResult& r) {
  if (r.ExitCode != 0 || r.Stdout != "hi\n") {
    throw BenchError("Commands.Run returned exit " +
                     std::to_string(r.ExitCode) + " and output '" + r.Stdout +
                     "'");
  }
}

}  // namespace

void RunOverhead(const Args& args) {
  const int rounds = static_cast<int>(args.Int("rounds", 10));
  const int batch = static_cast<int>(args.Int("batch", 20));
  const std::string js_dir = args.Get("js-dir", "");
  const bool require_js = args.Int("require-js", 0) != 0;

  const std::string api_url = RequireEnv("E2B_API_URL");
  const std::string api_key = RequireEnv("E2B_API_KEY");
  const std::string envd_url = RequireEnv("E2B_SANDBOX_URL");

  e2b::Client client = e2b::NewClient();
  e2b::Sandbox sandbox = client.NewSandbox(BenchSandboxConfig(900));
  e2b::SandboxCloser closer(sandbox);
  RawCurlClient raw(api_url, api_key, envd_url);
  const std::string token = sandbox.EnvdAccessToken();

  std::unique_ptr<NodeWorker> node;
  std::string js_status = "not run: no --js-dir";
  if (!js_dir.empty()) {
    if (!FileExists(js_dir + "/node_modules/e2b")) {
      js_status = "not run: " + js_dir + "/node_modules/e2b is missing";
    } else {
      node = std::make_unique<NodeWorker>(js_dir, sandbox.ID);
      js_status = "e2b@2.51.0 on node";
    }
  }
  if (!node && require_js) throw BenchError("JS SDK " + js_status);

  // --ops info,run_shell,run_direct: only these operations (default all).
  const std::string only = args.Get("ops", "");
  auto wanted = [&only](const std::string& name) {
    if (only.empty()) return true;
    const std::string list = "," + only + ",";
    return list.find("," + name + ",") != std::string::npos;
  };

  std::vector<double> command_start;
  std::vector<Operation> ops;
  {
    Operation info{"info", "Sandbox::Info() (GET /sandboxes/{id})", {}};
    info.variants.push_back({"e2b-cpp",
                             Timed([&] {
                               if (sandbox.Info().ID != sandbox.ID) {
                                 throw BenchError("Info returned another ID");
                               }
                             }),
                             {}});
    info.variants.push_back(
        {"raw-libcurl", Timed([&] { raw.Info(sandbox.ID); }), {}});
    if (node) {
      info.variants.push_back(
          {"js-sdk",
           [&](int n) { return node->Batch("info " + std::to_string(n)); },
           {}});
    }
    if (wanted(info.name)) ops.push_back(std::move(info));
  }
  {
    Operation run{"run_shell",
                  "Commands.Run: `/bin/bash -l -c \"echo hi\"` (the JS SDK's "
                  "command line)",
                  {}};
    run.variants.push_back(
        {"e2b-cpp",
         Timed(
             [&] { CheckRun(sandbox.Commands.Run("/bin/bash", kShellArgs)); }),
         {}});
    run.variants.push_back(
        {"raw-libcurl",
         Timed([&] { raw.Start(sandbox.ID, token, kShellStartJson); }),
         {}});
    if (node) {
      run.variants.push_back({"js-sdk",
                              [&](int n) {
                                return node->Batch("run " + std::to_string(n) +
                                                   " echo hi");
                              },
                              {}});
    }
    if (wanted(run.name)) ops.push_back(std::move(run));
  }
  {
    Operation run{"run_direct",
                  "Commands.Run: `echo hi` without a shell (envd stream "
                  "cost only)",
                  {}};
    run.variants.push_back(
        {"e2b-cpp",
         Timed([&] { CheckRun(sandbox.Commands.Run("echo", {"hi"})); }),
         {}});
    run.variants.push_back(
        {"raw-libcurl",
         [&](int n) {
           return MeasureBatch(n, [&] {
             const auto t = raw.Start(sandbox.ID, token, kDirectStartJson);
             command_start.push_back(t.first_message_seconds);
             return t.total_seconds;
           });
         },
         {}});
    if (wanted(run.name)) ops.push_back(std::move(run));
  }

  // Warm-up: connections, the sandbox's page cache, node's JIT.
  for (auto& op : ops) {
    for (auto& v : op.variants) v.batch(3);
  }
  command_start.clear();

  for (int round = 0; round < rounds; ++round) {
    for (auto& op : ops) {
      const std::size_t n = op.variants.size();
      std::map<std::string, double> round_median;
      std::map<std::string, double> round_cpu;
      for (std::size_t k = 0; k < n; ++k) {
        // Rotate who goes first so no client always follows another.
        auto& v = op.variants[(k + static_cast<std::size_t>(round)) % n];
        const BatchResult result = v.batch(batch);
        round_median[v.client] = Median(result.seconds);
        round_cpu[v.client] = result.cpu_seconds / batch;
        v.cpu_per_call.push_back(round_cpu[v.client]);
        v.samples.insert(v.samples.end(), result.seconds.begin(),
                         result.seconds.end());
      }
      // a / b for this round, when both clients ran.
      const auto ratio = [](std::map<std::string, double>& of, const char* a,
                            const char* b, std::vector<double>& into) {
        if (of.count(a) && of.count(b) && of[b] > 0) {
          into.push_back(of[a] / of[b]);
        }
      };
      ratio(round_median, "e2b-cpp", "raw-libcurl", op.cpp_over_raw);
      ratio(round_median, "js-sdk", "e2b-cpp", op.js_over_cpp);
      ratio(round_median, "js-sdk", "raw-libcurl", op.js_over_raw);
      ratio(round_cpu, "e2b-cpp", "raw-libcurl", op.cpu_cpp_over_raw);
      ratio(round_cpu, "js-sdk", "e2b-cpp", op.cpu_js_over_cpp);
    }
    std::cerr << "overhead: round " << round + 1 << "/" << rounds << "\n";
  }

  json result;
  result["rounds"] = rounds;
  result["batch"] = batch;
  result["js"] = js_status;
  result["raw_connections_opened"] = raw.ConnectionsOpened();
  for (const auto& op : ops) {
    json entry;
    entry["label"] = op.label;
    std::map<std::string, double> medians;
    for (const auto& v : op.variants) {
      const Summary s = Summarize(v.samples);
      entry["clients"][v.client] = ToJson(s);
      entry["cpu_per_call"][v.client] = ToJson(Summarize(v.cpu_per_call));
      medians[v.client] = s.median;
    }
    // The verdicts use the median of the per-round ratios (<key>), with
    // their spread (<key>_rounds); the ratio of the pooled medians is kept
    // for comparison.
    const auto put_ratios = [&entry](const std::string& key,
                                     const std::vector<double>& per_round) {
      if (per_round.empty()) return;
      entry[key] = Median(per_round);
      entry[key + "_rounds"] = ToJson(Summarize(per_round));
    };
    put_ratios("cpp_over_raw", op.cpp_over_raw);
    put_ratios("js_over_cpp", op.js_over_cpp);
    put_ratios("js_over_raw", op.js_over_raw);
    put_ratios("cpu_cpp_over_raw", op.cpu_cpp_over_raw);
    put_ratios("cpu_js_over_cpp", op.cpu_js_over_cpp);
    if (medians.count("raw-libcurl") && medians["raw-libcurl"] > 0) {
      entry["cpp_over_raw_pooled"] =
          medians["e2b-cpp"] / medians["raw-libcurl"];
    }
    if (medians.count("js-sdk") && medians["e2b-cpp"] > 0) {
      entry["js_over_cpp_pooled"] = medians["js-sdk"] / medians["e2b-cpp"];
    }
    result["operations"][op.name] = entry;
  }
  result["command_start_seconds"] = ToJson(Summarize(command_start));
  WriteResult(args, result);
}

}  // namespace e2b_bench
