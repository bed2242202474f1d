#include "bench_support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace e2b_bench {
namespace {

// The first number on the line of a /proc status-like file that starts with
// `key`, times 1024 (the files report kB); 0 when absent.
std::uint64_t KiloField(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0) {
      return std::strtoull(line.c_str() + key.size(), nullptr, 10) * 1024;
    }
  }
  return 0;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return pids;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && pid > 0) {
      pids.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(dir);
  return pids;
}

pid_t ParentOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // The command name may contain spaces and parentheses: parse after the
  // last ')'. Fields: ") S ppid ...".
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  long ppid = -1;
  rest >> state >> ppid;
  return static_cast<pid_t>(ppid);
}

// Inodes of sockets listening on `port` (tcp and tcp6).
std::set<std::string> ListeningInodes(int port) {
  std::set<std::string> inodes;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retr, uid, tmo,
          inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retr >>
          uid >> tmo >> inode;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos || state != "0A") continue;
      if (std::strtol(local.c_str() + colon + 1, nullptr, 16) == port) {
        inodes.insert(inode);
      }
    }
  }
  return inodes;
}

std::string ReadFirstLine(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

Summary Summarize(std::vector<double> samples) {
  Summary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const auto rank = [&](double q) {
    const auto index = static_cast<std::size_t>(
        std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::min(samples.size() - 1, index == 0 ? 0 : index - 1)];
  };
  const std::size_t n = samples.size();
  s.median =
      n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
  s.p10 = rank(0.10);
  s.p90 = rank(0.90);
  s.min = samples.front();
  s.max = samples.back();
  return s;
}

std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw BenchError(std::string(name) +
                     " is not set (run through tools/bench.sh or "
                     "tools/with-e2b-local.sh)");
  }
  return value;
}

std::uint64_t SelfPeakRssBytes() {
  return KiloField("/proc/self/status", "VmHWM:");
}

ChildRun RunChild(const std::vector<std::string>& argv,
                  const std::string& stdout_path) {
  if (argv.empty()) throw BenchError("RunChild: empty command");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                     stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  ChildRun run;
  const auto start = Clock::now();
  pid_t pid = -1;
  const int rc =
      posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw BenchError("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) throw BenchError("wait4 failed for " + argv[0]);
  }
  run.wall_seconds = SecondsSince(start);
  run.peak_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  run.exit_status =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::uint64_t ProcessPssBytes(pid_t pid) {
  return KiloField("/proc/" + std::to_string(pid) + "/smaps_rollup", "Pss:");
}

std::uint64_t ProcessRssBytes(pid_t pid) {
  return KiloField("/proc/" + std::to_string(pid) + "/status", "VmRSS:");
}

std::vector<pid_t> Descendants(pid_t root) {
  std::map<pid_t, std::vector<pid_t>> children;
  for (pid_t pid : AllPids()) children[ParentOf(pid)].push_back(pid);
  std::vector<pid_t> out;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    const pid_t parent = todo.back();
    todo.pop_back();
    for (pid_t child : children[parent]) {
      out.push_back(child);
      todo.push_back(child);
    }
  }
  return out;
}

pid_t ListeningPid(int port) {
  const auto inodes = ListeningInodes(port);
  if (inodes.empty()) return -1;
  for (pid_t pid : AllPids()) {
    const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* dir = opendir(fd_dir.c_str());
    if (dir == nullptr) continue;
    pid_t found = -1;
    while (dirent* entry = readdir(dir)) {
      char target[128];
      const std::string link = fd_dir + "/" + entry->d_name;
      const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      const std::string text(target);
      if (text.rfind("socket:[", 0) == 0 &&
          inodes.count(text.substr(8, text.size() - 9)) > 0) {
        found = pid;
        break;
      }
    }
    closedir(dir);
    if (found > 0) return found;
  }
  return -1;
}

int PortOfUrl(const std::string& url) {
  const auto scheme = url.find("://");
  const auto host_start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto slash = url.find('/', host_start);
  const std::string host = url.substr(host_start, slash - host_start);
  const auto colon = host.rfind(':');
  if (colon == std::string::npos || host.back() == ']') {
    throw BenchError("URL has no explicit port: " + url);
  }
  const int port = std::atoi(host.c_str() + colon + 1);
  if (port <= 0 || port > 65535) throw BenchError("bad port in URL: " + url);
  return port;
}

ConnectionCounter::ConnectionCounter(int port) : port_(port) {
  Poll(before_);
  poller_ = std::thread([this] {
    while (!stop_.load()) {
      Poll(seen_);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

ConnectionCounter::~ConnectionCounter() {
  if (poller_.joinable()) Stop();
}

std::size_t ConnectionCounter::Stop() {
  stop_.store(true);
  if (poller_.joinable()) poller_.join();
  Poll(seen_);
  std::size_t opened = 0;
  for (const auto& key : seen_) opened += before_.count(key) == 0 ? 1 : 0;
  return opened;
}

void ConnectionCounter::Poll(std::set<std::string>& into) const {
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const auto lc = local.rfind(':');
      const auto rc = remote.rfind(':');
      if (lc == std::string::npos || rc == std::string::npos) continue;
      const long lport = std::strtol(local.c_str() + lc + 1, nullptr, 16);
      const long rport = std::strtol(remote.c_str() + rc + 1, nullptr, 16);
      // One key per connection whichever side's socket is still visible:
      // the client's ephemeral address.
      if (rport == port_) {
        into.insert(local);
      } else if (lport == port_ && state != "0A") {
        into.insert(remote);
      }
    }
  }
}

std::map<std::string, std::string> MachineInfo() {
  std::map<std::string, std::string> info;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        const auto colon = line.find(':');
        info["cpu"] = line.substr(colon + 2);
        break;
      }
    }
  }
  info["cores"] = std::to_string(std::thread::hardware_concurrency());
  info["memory"] =
      std::to_string(KiloField("/proc/meminfo", "MemTotal:") >> 20) + " MiB";
  utsname u{};
  if (uname(&u) == 0) {
    info["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  }
  info["loadavg"] = ReadFirstLine("/proc/loadavg");
  return info;
}

}  // namespace e2b_bench
