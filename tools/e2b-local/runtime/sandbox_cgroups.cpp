#include "runtime/sandbox_cgroups.hpp"

#include "util/join_path.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace e2b_local::runtime_internal {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  if (!out) return false;
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

constexpr const char* kControllers[] = {"freezer", "cpuacct", "memory", "pids",
                                        "cpu"};

// Makes <root>/<controller>/e2b-local/<scope>/<id>; "" when the controller
// is not mounted as cgroup v1 or we may not create groups.
std::string MakeGroup(const std::string& controller, const std::string& scope,
                      const std::string& id) {
  std::string base = std::string(kCgroupRoot) + "/" + controller;
  struct stat st {};
  if (stat((base + "/cgroup.procs").c_str(), &st) != 0) return "";
  // Remove() drops an empty scope group: when that races with this mkdir
  // chain, the last mkdir fails with ENOENT and the chain is made again.
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::string dir = base;
    bool made = true;
    for (const auto* part : {"e2b-local", scope.c_str(), id.c_str()}) {
      dir += "/";
      dir += part;
      if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        made = false;
        break;
      }
    }
    if (made) return dir;
    if (errno != ENOENT) return "";
  }
  return "";
}

std::vector<pid_t> ReadPids(const std::string& dir) {
  std::vector<pid_t> pids;
  auto text = ReadSmallFile(dir + "/cgroup.procs");
  if (!text) return pids;
  std::istringstream in(*text);
  long pid = 0;
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

std::string CgroupScope(const std::string& sandboxes_dir) {
  // "/a//b/" and "/a/b" are one directory, so one scope.
  std::string dir =
      std::filesystem::path(sandboxes_dir).lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  // FNV-1a: stable across runs and builds, unlike std::hash.
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : dir) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  static const char kHex[] = "0123456789abcdef";
  std::string scope = "s-";
  for (int shift = 60; shift >= 0; shift -= 4)
    scope += kHex[(hash >> shift) & 15];
  return scope;
}

std::vector<std::string> CgroupScopeDirs(const std::string& scope) {
  std::vector<std::string> dirs;
  for (const char* controller : kControllers) {
    dirs.push_back(std::string(kCgroupRoot) + "/" + controller + "/e2b-local/" +
                   scope);
  }
  return dirs;
}

int ReclaimCgroupScope(const std::string& scope) {
  if (scope.empty() || scope.find('/') != std::string::npos) return 0;
  int removed = 0;
  for (const auto& scope_dir : CgroupScopeDirs(scope)) {
    DIR* dir = opendir(scope_dir.c_str());
    if (dir == nullptr) continue;
    std::vector<std::string> groups;
    while (struct dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      std::string path = JoinPath(scope_dir, name);
      // Only sub-groups are directories; the rest are control files.
      if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        groups.push_back(path);
      }
    }
    closedir(dir);
    for (const auto& group : groups) {
      // A frozen task cannot die: thaw first (a no-op outside freezer).
      WriteFile(group + "/freezer.state", "THAWED");
      for (int attempt = 0; attempt < 200; ++attempt) {
        if (rmdir(group.c_str()) == 0) {
          ++removed;
          break;
        }
        if (errno == ENOENT) break;
        for (pid_t pid : ReadPids(group)) kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    rmdir(scope_dir.c_str());
  }
  return removed;
}

SandboxCgroups::SandboxCgroups(const std::string& scope,
                               const std::string& sandbox_id) {
  if (geteuid() != 0 || scope.empty() || sandbox_id.empty() ||
      scope.find('/') != std::string::npos ||
      sandbox_id.find('/') != std::string::npos) {
    return;
  }
  freezer_ = MakeGroup("freezer", scope, sandbox_id);
  cpuacct_ = MakeGroup("cpuacct", scope, sandbox_id);
  memory_ = MakeGroup("memory", scope, sandbox_id);
  pids_ = MakeGroup("pids", scope, sandbox_id);
  // On hosts that mount cpu and cpuacct together this is the same group.
  cpu_ = MakeGroup("cpu", scope, sandbox_id);
}

std::string SandboxCgroups::SetLimits(int cpu_count, int memory_mb,
                                      int pids_max) {
  std::string missing;
  auto need = [&missing](bool ok, const char* what) {
    if (!ok) missing += (missing.empty() ? "" : ", ") + std::string(what);
  };
  if (memory_mb > 0) {
    const std::string bytes =
        std::to_string(static_cast<std::int64_t>(memory_mb) << 20);
    need(!memory_.empty() &&
             WriteFile(memory_ + "/memory.limit_in_bytes", bytes),
         "memory");
    // Without swap accounting the file is absent; there is no swap then.
    struct stat st {};
    if (!memory_.empty() &&
        stat((memory_ + "/memory.memsw.limit_in_bytes").c_str(), &st) == 0) {
      need(WriteFile(memory_ + "/memory.memsw.limit_in_bytes", bytes),
           "memory+swap");
    }
  }
  if (pids_max > 0) {
    need(!pids_.empty() &&
             WriteFile(pids_ + "/pids.max", std::to_string(pids_max)),
         "pids");
  }
  if (cpu_count > 0) {
    constexpr int kPeriodUs = 100000;
    need(
        !cpu_.empty() &&
            WriteFile(cpu_ + "/cpu.cfs_period_us", std::to_string(kPeriodUs)) &&
            WriteFile(cpu_ + "/cpu.cfs_quota_us",
                      std::to_string(static_cast<std::int64_t>(cpu_count) *
                                     kPeriodUs)),
        "cpu");
  }
  return missing;
}

SandboxCgroups::~SandboxCgroups() { Remove(); }

std::vector<std::string> SandboxCgroups::AttachFiles() const {
  std::vector<std::string> files;
  for (const auto* dir : {&freezer_, &cpuacct_, &memory_, &pids_, &cpu_}) {
    if (!dir->empty()) files.push_back(*dir + "/tasks");
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
  for (auto* dir : {&freezer_, &cpuacct_, &memory_, &pids_, &cpu_}) {
    if (dir->empty()) continue;
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (rmdir(dir->c_str()) == 0 || errno == ENOENT) break;
      for (pid_t pid : ReadPids(*dir)) kill(pid, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // The scope's group goes with its last sandbox (fails while others
    // remain), so state directories used once leave nothing behind.
    auto slash = dir->rfind('/');
    if (slash != std::string::npos) rmdir(dir->substr(0, slash).c_str());
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

}  // namespace e2b_local::runtime_internal
