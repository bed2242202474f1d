#include "runtime/sandbox_cgroups.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace e2b_local {
namespace runtime_internal {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  if (!out) return false;
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// Makes <root>/<controller>/e2b-local/<id>; "" when the controller is not
// mounted as cgroup v1 or we may not create groups.
std::string MakeGroup(const std::string& controller, const std::string& id) {
  std::string base = std::string(kCgroupRoot) + "/" + controller;
  struct stat st;
  if (stat((base + "/cgroup.procs").c_str(), &st) != 0) return "";
  std::string parent = base + "/e2b-local";
  if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) return "";
  std::string dir = parent + "/" + id;
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return "";
  return dir;
}

std::vector<pid_t> ReadPids(const std::string& dir) {
  std::vector<pid_t> pids;
  auto text = ReadSmallFile(dir + "/cgroup.procs");
  if (!text) return pids;
  std::istringstream in(*text);
  long pid;
  while (in >> pid) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

}  // namespace

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

SandboxCgroups::SandboxCgroups(const std::string& sandbox_id) {
  if (geteuid() != 0) return;
  freezer_ = MakeGroup("freezer", sandbox_id);
  cpuacct_ = MakeGroup("cpuacct", sandbox_id);
  memory_ = MakeGroup("memory", sandbox_id);
}

SandboxCgroups::~SandboxCgroups() { Remove(); }

std::vector<std::string> SandboxCgroups::ProcsFiles() const {
  std::vector<std::string> files;
  for (const auto* dir : {&freezer_, &cpuacct_, &memory_}) {
    if (!dir->empty()) files.push_back(*dir + "/cgroup.procs");
  }
  return files;
}

bool SandboxCgroups::Freeze() {
  if (freezer_.empty()) return false;
  if (!WriteFile(freezer_ + "/freezer.state", "FROZEN")) return false;
  // FREEZING may last a moment while tasks reach a safe point.
  for (int i = 0; i < 500; ++i) {
    auto state = ReadSmallFile(freezer_ + "/freezer.state");
    if (state && state->rfind("FROZEN", 0) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool SandboxCgroups::Thaw() {
  if (freezer_.empty()) return false;
  return WriteFile(freezer_ + "/freezer.state", "THAWED");
}

std::vector<pid_t> SandboxCgroups::Pids() const {
  for (const auto* dir : {&freezer_, &cpuacct_, &memory_}) {
    if (!dir->empty()) return ReadPids(*dir);
  }
  return {};
}

std::optional<std::uint64_t> SandboxCgroups::CpuNanos() const {
  if (cpuacct_.empty()) return std::nullopt;
  auto text = ReadSmallFile(cpuacct_ + "/cpuacct.usage");
  if (!text) return std::nullopt;
  return std::strtoull(text->c_str(), nullptr, 10);
}

std::optional<std::pair<std::int64_t, std::int64_t>> SandboxCgroups::Memory()
    const {
  if (memory_.empty()) return std::nullopt;
  auto text = ReadSmallFile(memory_ + "/memory.stat");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string key;
  std::int64_t value = 0, rss = 0, cache = 0;
  while (in >> key >> value) {
    if (key == "total_rss") rss = value;
    if (key == "total_cache") cache = value;
  }
  return std::make_pair(rss, cache);
}

void SandboxCgroups::Remove() {
  if (!freezer_.empty()) Thaw();
  for (auto* dir : {&freezer_, &cpuacct_, &memory_}) {
    if (dir->empty()) continue;
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (rmdir(dir->c_str()) == 0 || errno == ENOENT) break;
      for (pid_t pid : ReadPids(*dir)) kill(pid, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    dir->clear();
  }
}

std::optional<ProcSample> SampleProcess(pid_t pid) {
  auto stat = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  // The command name may hold spaces and parentheses: fields start after
  // the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(stat->substr(close + 2));
  std::string field;
  ProcSample sample;
  // Fields 3.. : state(3) ... utime(14) stime(15) ... rss(24).
  for (int index = 3; in >> field; ++index) {
    if (index == 14 || index == 15) {
      sample.cpu_ticks += std::strtoull(field.c_str(), nullptr, 10);
    } else if (index == 24) {
      sample.rss_bytes = std::strtoll(field.c_str(), nullptr, 10) *
                         static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
      break;
    }
  }
  return sample;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  DIR* dir = opendir("/proc");
  if (!dir) return pids;
  while (struct dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end && *end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
  }
  closedir(dir);
  return pids;
}

}  // namespace runtime_internal
}  // namespace e2b_local
