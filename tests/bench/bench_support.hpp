#ifndef E2B_BENCH_BENCH_SUPPORT_HPP_
#define E2B_BENCH_BENCH_SUPPORT_HPP_

// Measurement helpers shared by the benchmark subcommands: clocks and
// statistics, memory from /proc, child processes with their own rusage, and
// counting the TCP connections opened to a port.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace e2b_bench {

/// A benchmark that cannot produce an honest number (bad setup, a failed
/// call where none may fail). main() prints it and exits non-zero.
struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Order statistics of a sample (seconds, bytes, whatever was put in).
struct Summary {
  std::size_t count = 0;
  double median = 0;
  double p10 = 0;
  double p90 = 0;
  double min = 0;
  double max = 0;
};

/// Nearest-rank percentiles; an empty sample gives all zeros.
Summary Summarize(std::vector<double> samples);

/// The value of a required environment variable; throws BenchError.
std::string RequireEnv(const char* name);

/// Peak resident set of this process (VmHWM) in bytes.
std::uint64_t SelfPeakRssBytes();

/// Result of a child process run to completion.
struct ChildRun {
  int exit_status = -1;  ///< exit code, or 128 + signal
  double wall_seconds = 0;
  std::uint64_t peak_rss_bytes = 0;  ///< ru_maxrss of that child alone
};

/// Runs argv[0] (looked up on PATH) with stdout to `stdout_path` (empty =
/// inherit) and waits for it with wait4, so the peak RSS is the child's own.
ChildRun RunChild(const std::vector<std::string>& argv,
                  const std::string& stdout_path = {});

/// Proportional set size of a process (smaps_rollup), 0 when it is gone.
std::uint64_t ProcessPssBytes(pid_t pid);

/// Resident set size of a process (VmRSS), 0 when it is gone.
std::uint64_t ProcessRssBytes(pid_t pid);

/// Every live descendant of `root` (not `root` itself).
std::vector<pid_t> Descendants(pid_t root);

/// The process that listens on 127.0.0.1:`port` (found through the socket
/// inode), or -1.
pid_t ListeningPid(int port);

/// The port of an http://host:port URL; throws BenchError when absent.
int PortOfUrl(const std::string& url);

/// Counts the client-side TCP connections to a local port opened while it
/// runs: a background thread polls /proc/net/tcp{,6} and collects the local
/// ports of sockets whose peer is `port`. Closed client sockets linger in
/// TIME_WAIT for a minute, so short-lived connections are still seen.
class ConnectionCounter {
 public:
  explicit ConnectionCounter(int port);
  ~ConnectionCounter();
  ConnectionCounter(const ConnectionCounter&) = delete;
  ConnectionCounter& operator=(const ConnectionCounter&) = delete;

  /// Stops polling and returns the number of connections opened since
  /// construction (sockets seen before construction are not counted).
  std::size_t Stop();

 private:
  void Poll(std::set<std::string>& into) const;

  int port_;
  std::set<std::string> before_;
  std::set<std::string> seen_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

/// A machine description for the report (CPU model, cores, memory, kernel,
/// load average at the time of the call).
std::map<std::string, std::string> MachineInfo();

}  // namespace e2b_bench

#endif  // E2B_BENCH_BENCH_SUPPORT_HPP_
