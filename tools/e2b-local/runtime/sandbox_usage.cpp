#include "runtime/sandbox_usage.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>
#include <utility>

namespace e2b_local::runtime_internal {

double CpuMeter::Sample(double used_seconds, int cpu_count) {
  double wall = std::chrono::duration<double>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  double pct = 0;
  if (has_last_ && wall > last_wall_ && cpu_count > 0) {
    pct = (used_seconds - last_used_) / (wall - last_wall_) / cpu_count * 100;
    if (pct < 0) pct = 0;
    if (pct > 100) pct = 100;
  }
  has_last_ = true;
  last_used_ = used_seconds;
  last_wall_ = wall;
  return pct;
}

std::int64_t DiskUsageBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::int64_t total = 0;
  std::error_code ec;
  struct stat root_st {};
  if (lstat(dir.c_str(), &root_st) != 0) return 0;
  total += static_cast<std::int64_t>(root_st.st_blocks) * 512;
  fs::recursive_directory_iterator it(
      dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (lstat(it->path().c_str(), &st) != 0) continue;
    if (st.st_dev != root_st.st_dev) {
      if (S_ISDIR(st.st_mode)) it.disable_recursion_pending();
      continue;
    }
    total += static_cast<std::int64_t>(st.st_blocks) * 512;
  }
  return total;
}

ResourceUsage SandboxUsageMeter::Sample(
    const SandboxSpec& spec, const SandboxCgroups& cgroups,
    const std::function<std::vector<pid_t>()>& processes,
    const std::string& written_dir) {
  ResourceUsage usage;
  usage.cpu_count = spec.cpu_count > 0
                        ? spec.cpu_count
                        : static_cast<int>(std::thread::hardware_concurrency());
  usage.mem_total =
      spec.memory_mb > 0
          ? static_cast<std::int64_t>(spec.memory_mb) * 1024 * 1024
          : static_cast<std::int64_t>(sysconf(_SC_PHYS_PAGES)) *
                sysconf(_SC_PAGESIZE);
  auto cpu = cgroups.CpuNanos();
  auto memory = cgroups.Memory();
  if (!cpu || !memory) {
    std::uint64_t ticks = 0;
    std::int64_t rss = 0;
    for (pid_t pid : processes()) {
      if (auto sample = SampleProcess(pid)) {
        ticks += sample->cpu_ticks;
        rss += sample->rss_bytes;
      }
    }
    if (!cpu) {
      cpu = static_cast<std::uint64_t>(static_cast<double>(ticks) /
                                       sysconf(_SC_CLK_TCK) * 1e9);
    }
    if (!memory) memory = std::make_pair(rss, std::int64_t{0});
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    usage.cpu_used_pct =
        cpu_.Sample(static_cast<double>(*cpu) / 1e9, usage.cpu_count);
  }
  usage.mem_used = memory->first;
  usage.mem_cache = memory->second;
  struct statvfs vfs {};
  if (statvfs(spec.dir.c_str(), &vfs) == 0) {
    const auto block = static_cast<std::int64_t>(vfs.f_frsize);
    usage.disk_total = static_cast<std::int64_t>(vfs.f_blocks) * block;
    if (written_dir.empty()) {
      usage.disk_used =
          static_cast<std::int64_t>(vfs.f_blocks - vfs.f_bfree) * block;
    }
  }
  if (!written_dir.empty()) usage.disk_used = DiskUsageBytes(written_dir);
  return usage;
}

}  // namespace e2b_local::runtime_internal
