// Transfers: Filesystem.Write/Read against the curl command line making the
// same /files request, each in its own process so peak RSS is per side.

#include "bench_phases.hpp"

#include <e2b/e2b.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace e2b_bench {
namespace {

using nlohmann::json;

constexpr std::size_t kChunk = std::size_t{1} << 20;
constexpr double kMiB = 1024.0 * 1024.0;

// Incompressible content, so nothing on the way can cheat with zeros.
void WriteSourceFile(const std::string& path, std::uint64_t bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::vector<std::uint64_t> words(kChunk / 8);
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  std::uint64_t left = bytes;
  while (left > 0) {
    for (auto& w : words) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      w = state;
    }
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(left, kChunk));
    out.write(reinterpret_cast<const char*>(words.data()),
              static_cast<std::streamsize>(n));
    left -= n;
  }
  if (!out.flush()) throw BenchError("cannot write " + path);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// Starts a fresh peak-RSS measurement (Linux: "5" to clear_refs resets
// VmHWM to the current RSS).
bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

struct CurlResult {
  double seconds = 0;
  std::uint64_t bytes = 0;
  std::uint64_t peak_rss = 0;
};

// Runs curl with -w "<code> <time_total> <size>" and checks the answer.
CurlResult RunCurl(std::vector<std::string> argv, const std::string& out_path,
                   std::uint64_t expected_bytes, const char* what) {
  const ChildRun run = RunChild(argv, out_path);
  std::istringstream fields(ReadFile(out_path));
  long code = 0;
  CurlResult result;
  double size = 0;
  fields >> code >> result.seconds >> size;
  result.bytes = static_cast<std::uint64_t>(size);
  result.peak_rss = run.peak_rss_bytes;
  if (run.exit_status != 0 || code != 200 || result.bytes != expected_bytes) {
    throw BenchError(std::string("curl ") + what + " failed: exit " +
                     std::to_string(run.exit_status) + ", HTTP " +
                     std::to_string(code) + ", " +
                     std::to_string(result.bytes) + " bytes");
  }
  return result;
}

json Side(const std::vector<double>& seconds, std::uint64_t bytes,
          const std::vector<double>& peaks) {
  std::vector<double> mib_s;
  for (double s : seconds)
    mib_s.push_back(static_cast<double>(bytes) / kMiB / s);
  return {{"seconds", ToJson(Summarize(seconds))},
          {"mib_per_s", ToJson(Summarize(mib_s))},
          {"peak_rss_bytes", ToJson(Summarize(peaks))}};
}

}  // namespace

void RunTransferChild(const Args& args) {
  const std::string source = args.Require("source");
  const auto bytes = static_cast<std::uint64_t>(args.Int("bytes", 0));
  const std::string remote = "/home/user/bench-cpp.bin";

  e2b::Client client = e2b::NewClient();
  e2b::Sandbox sandbox = client.NewSandbox(BenchSandboxConfig(900));
  e2b::SandboxCloser closer(sandbox);
  std::vector<char> buffer(kChunk);

  json out;
  out["peak_reset"] = ResetPeakRss();
  {
    std::ifstream in(source, std::ios::binary);
    if (!in) throw BenchError("cannot open " + source);
    const auto start = Clock::now();
    sandbox.Filesystem.Write(remote, in);
    out["up_seconds"] = SecondsSince(start);
  }
  out["up_peak_rss"] = SelfPeakRssBytes();

  ResetPeakRss();
  {
    const auto start = Clock::now();
    auto stream = sandbox.Filesystem.Read(remote);
    std::uint64_t got = 0;
    while (stream->read(buffer.data(), static_cast<std::streamsize>(kChunk)) ||
           stream->gcount() > 0) {
      got += static_cast<std::uint64_t>(stream->gcount());
    }
    if (stream->bad()) throw BenchError("Filesystem.Read stream failed");
    out["down_seconds"] = SecondsSince(start);
    if (got != bytes) {
      throw BenchError("Filesystem.Read returned " + std::to_string(got) +
                       " bytes, expected " + std::to_string(bytes));
    }
  }
  out["down_peak_rss"] = SelfPeakRssBytes();
  std::cout << out.dump() << std::endl;
}

void RunTransfer(const Args& args, const std::string& self_path) {
  const auto bytes =
      static_cast<std::uint64_t>(args.Int("bytes", std::int64_t{1} << 30));
  const int rounds = static_cast<int>(args.Int("rounds", 3));
  const char* tmp_env = std::getenv("TMPDIR");
  const std::string tmp =
      args.Get("tmp-dir", tmp_env != nullptr ? tmp_env : "/tmp");
  const std::string envd_url = RequireEnv("E2B_SANDBOX_URL");
  if (bytes == 0) throw BenchError("--bytes must be positive");

  const std::string tag = std::to_string(getpid());
  const std::string source = tmp + "/e2b-bench-source-" + tag + ".bin";
  const std::string out_path = tmp + "/e2b-bench-child-" + tag + ".out";
  struct Cleanup {
    std::vector<std::string> files;
    ~Cleanup() {
      for (const auto& f : files) std::remove(f.c_str());
    }
  } cleanup{{source, out_path}};
  WriteSourceFile(source, bytes);

  e2b::Client client = e2b::NewClient();
  e2b::Sandbox sandbox = client.NewSandbox(BenchSandboxConfig(900));
  e2b::SandboxCloser closer(sandbox);
  const std::string url =
      envd_url + "/files?path=%2Fhome%2Fuser%2Fbench-curl.bin";
  std::vector<std::string> headers = {"-H", "E2b-Sandbox-Id: " + sandbox.ID,
                                      "-H", "E2b-Sandbox-Port: 49983"};
  if (!sandbox.EnvdAccessToken().empty()) {
    headers.insert(headers.end(),
                   {"-H", "X-Access-Token: " + sandbox.EnvdAccessToken()});
  }

  std::vector<double> cpp_up, cpp_down, curl_up, curl_down;
  std::vector<double> cpp_up_rss, cpp_down_rss, curl_up_rss, curl_down_rss,
      cpp_process_rss;
  bool peak_reset = true;
  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      if ((k + round) % 2 == 0) {
        const ChildRun run =
            RunChild({self_path, "transfer-child", "--source", source,
                      "--bytes", std::to_string(bytes)},
                     out_path);
        if (run.exit_status != 0) {
          throw BenchError("e2b-cpp transfer child failed with status " +
                           std::to_string(run.exit_status));
        }
        const json r = json::parse(ReadFile(out_path));
        cpp_up.push_back(r.at("up_seconds").get<double>());
        cpp_down.push_back(r.at("down_seconds").get<double>());
        cpp_up_rss.push_back(r.at("up_peak_rss").get<double>());
        cpp_down_rss.push_back(r.at("down_peak_rss").get<double>());
        cpp_process_rss.push_back(static_cast<double>(run.peak_rss_bytes));
        peak_reset = peak_reset && r.at("peak_reset").get<bool>();
      } else {
        std::vector<std::string> up = {
            "curl", "-sS",
            "-o",   "/dev/null",
            "-w",   "%{http_code} %{time_total} %{size_upload}\n",
            "-X",   "POST",
            "-T",   source,
            "-H",   "Content-Type: application/octet-stream",
            "-H",   "Expect:"};
        up.insert(up.end(), headers.begin(), headers.end());
        up.push_back(url);
        const CurlResult u = RunCurl(up, out_path, bytes, "upload");
        curl_up.push_back(u.seconds);
        curl_up_rss.push_back(static_cast<double>(u.peak_rss));

        std::vector<std::string> down = {
            "curl", "-sS",
            "-o",   "/dev/null",
            "-w",   "%{http_code} %{time_total} %{size_download}\n"};
        down.insert(down.end(), headers.begin(), headers.end());
        down.push_back(url);
        const CurlResult d = RunCurl(down, out_path, bytes, "download");
        curl_down.push_back(d.seconds);
        curl_down_rss.push_back(static_cast<double>(d.peak_rss));
      }
    }
    std::cerr << "transfer: round " << round + 1 << "/" << rounds << "\n";
  }

  json result;
  result["bytes"] = bytes;
  result["rounds"] = rounds;
  result["peak_reset_per_direction"] = peak_reset;
  result["upload"]["e2b-cpp"] = Side(cpp_up, bytes, cpp_up_rss);
  result["upload"]["curl-cli"] = Side(curl_up, bytes, curl_up_rss);
  result["download"]["e2b-cpp"] = Side(cpp_down, bytes, cpp_down_rss);
  result["download"]["curl-cli"] = Side(curl_down, bytes, curl_down_rss);
  result["e2b_cpp_process_peak_rss"] = ToJson(Summarize(cpp_process_rss));
  for (const char* dir : {"upload", "download"}) {
    const double cpp = result[dir]["e2b-cpp"]["mib_per_s"]["median"];
    const double cli = result[dir]["curl-cli"]["mib_per_s"]["median"];
    result[dir]["cpp_over_curl_throughput"] = cli > 0 ? cpp / cli : 0;
  }
  WriteResult(args, result);
}

}  // namespace e2b_bench
