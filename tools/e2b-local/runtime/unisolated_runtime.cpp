// The fallback when namespaces are refused: commands run directly on the
// host under a per-sandbox directory. Nothing is isolated; MakeRuntime says
// so loudly.

#include "runtime/background_removal.hpp"
#include "runtime/process_launcher.hpp"
#include "runtime/runtime_factories.hpp"
#include "runtime/sandbox_cgroups.hpp"
#include "store/file_ops.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

namespace e2b_local {
namespace runtime_internal {
namespace {

namespace fs = std::filesystem;

// The process group (= session, the launcher calls setsid) of a command, so
// signals reach its children too.
bool GroupAlive(pid_t pgid) { return kill(-pgid, 0) == 0; }

constexpr uid_t kUserUid = 1000;
constexpr gid_t kUserGid = 1000;

class UnisolatedInstance : public SandboxInstance {
 public:
  explicit UnisolatedInstance(const SandboxSpec& spec)
      : spec_(spec),
        cgroups_(CgroupScope(fs::path(spec.dir).parent_path()), spec.id) {
    if (spec.dir.empty() || spec.dir[0] != '/' || spec.id.empty() ||
        spec.id.find('/') != std::string::npos || spec.id == "." ||
        spec.id == "..") {
      throw std::runtime_error("invalid sandbox id or directory");
    }
    try {
      Setup();
    } catch (...) {
      Destroy();
      throw;
    }
  }

  ~UnisolatedInstance() override { Destroy(); }

  const std::string& RootPath() const override { return root_; }
  const std::string& UpperDir() const override { return root_; }

  std::optional<SandboxUser> LookupUser(
      const std::string& name) const override {
    if (name == "user") {
      if (can_switch_) {
        return SandboxUser{"user", kUserUid, kUserGid, "/home/user"};
      }
      return SandboxUser{"user", getuid(), getgid(), "/home/user"};
    }
    if (name == "root") {
      if (can_switch_) return SandboxUser{"root", 0, 0, "/root"};
      return SandboxUser{"root", getuid(), getgid(), "/root"};
    }
    return std::nullopt;
  }

  std::unique_ptr<SandboxProcess> Spawn(const SpawnOptions& options) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (destroyed_) throw SpawnError("internal", "the sandbox is destroyed");
      if (frozen_) throw SpawnError("internal", "the sandbox is paused");
    }
    // Sandbox paths live under RootPath() on the host: map the cwd and HOME
    // so `~/x` and relative paths meet the files clients upload.
    SpawnOptions mapped = options;
    std::string cwd = options.cwd.empty() ? options.user.home : options.cwd;
    mapped.cwd = cwd.empty() || cwd[0] != '/' ? root_ + "/" + cwd : root_ + cwd;
    auto home = mapped.env.find("HOME");
    if (home != mapped.env.end() && !home->second.empty() &&
        home->second[0] == '/') {
      home->second = root_ + home->second;
    }
    LaunchTarget target;
    target.switch_user = can_switch_;
    target.cgroup_procs = cgroups_.ProcsFiles();
    std::unique_ptr<SandboxProcess> process;
    try {
      process = LaunchProcess(mapped, target);
    } catch (const SpawnError& e) {
      if (e.kind == "invalid_argument" &&
          std::string(e.what()).find("does not exist") != std::string::npos) {
        throw SpawnError("invalid_argument",
                         "cwd '" + cwd + "' does not exist");
      }
      throw;
    }
    std::lock_guard<std::mutex> lock(mu_);
    groups_.insert(static_cast<pid_t>(process->Pid()));
    return process;
  }

  void Freeze() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (destroyed_ || frozen_) return;
    if (!cgroups_.Freeze()) SignalGroups(SIGSTOP);
    frozen_ = true;
  }

  void Thaw() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (destroyed_ || !frozen_) return;
    if (!cgroups_.Thaw()) SignalGroups(SIGCONT);
    frozen_ = false;
  }

  void Destroy() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (destroyed_) return;
    destroyed_ = true;
    if (frozen_ && !cgroups_.Thaw()) SignalGroups(SIGCONT);
    SignalGroups(SIGKILL);
    for (pid_t pid : cgroups_.Pids()) kill(pid, SIGKILL);
    cgroups_.Remove();
    if (spec_.remove_dir_in_background) {
      RemoveTreeInBackground(spec_.dir);
      if (relocated_) RemoveTreeInBackground(root_);
    } else {
      std::error_code ec;
      fs::remove_all(spec_.dir, ec);
      if (relocated_) fs::remove_all(root_, ec);
    }
  }

  ResourceUsage Usage() override {
    ResourceUsage usage;
    usage.cpu_count =
        spec_.cpu_count > 0
            ? spec_.cpu_count
            : static_cast<int>(std::thread::hardware_concurrency());
    usage.mem_total =
        spec_.memory_mb > 0
            ? static_cast<std::int64_t>(spec_.memory_mb) * 1024 * 1024
            : static_cast<std::int64_t>(sysconf(_SC_PHYS_PAGES)) *
                  sysconf(_SC_PAGESIZE);
    auto cpu = cgroups_.CpuNanos();
    auto memory = cgroups_.Memory();
    if (!cpu || !memory) {
      std::set<pid_t> groups;
      {
        std::lock_guard<std::mutex> lock(mu_);
        groups = groups_;
      }
      std::uint64_t ticks = 0;
      std::int64_t rss = 0;
      for (pid_t pid : AllPids()) {
        pid_t pgid = getpgid(pid);
        if (pgid < 0 || groups.count(pgid) == 0) continue;
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
          cpu_meter_.Sample(static_cast<double>(*cpu) / 1e9, usage.cpu_count);
    }
    usage.mem_used = memory->first;
    usage.mem_cache = memory->second;
    usage.disk_used = DiskUsageBytes(root_);
    struct statvfs vfs;
    if (statvfs(spec_.dir.c_str(), &vfs) == 0) {
      usage.disk_total = static_cast<std::int64_t>(vfs.f_blocks) *
                         static_cast<std::int64_t>(vfs.f_frsize);
    }
    return usage;
  }

 private:
  void Setup() {
    can_switch_ = geteuid() == 0;
    root_ = spec_.dir + "/root";
    // Commands run as uid 1000 straight on the host, so they must be able
    // to pass through the (private) sandbox directory and every parent of
    // it. When a parent is closed to them (a state directory under /root,
    // say), the root moves to a directory of our own that they can reach.
    std::error_code ec;
    fs::create_directories(spec_.dir, ec);
    if (ec) {
      throw std::runtime_error("cannot create " + spec_.dir + ": " +
                               ec.message());
    }
    chmod(spec_.dir.c_str(), 0711);
    if (can_switch_ && !Traversable(spec_.dir, kUserUid, kUserGid)) {
      std::string base = FallbackRootsDir(fs::path(spec_.dir).parent_path());
      MakeOwnedDir(base);
      if (!Traversable(base, kUserUid, kUserGid)) {
        throw std::runtime_error("uid 1000 can reach neither " + spec_.dir +
                                 " nor " + base);
      }
      root_ = base + "/" + spec_.id;
      relocated_ = true;
      if (mkdir(root_.c_str(), 0755) != 0) {
        throw std::runtime_error("cannot create " + root_ + ": " +
                                 std::strerror(errno));
      }
    }
    fs::create_directories(root_ + "/home/user", ec);
    if (!ec) fs::create_directories(root_ + "/tmp", ec);
    if (!ec) fs::create_directories(root_ + "/root", ec);
    if (ec) {
      throw std::runtime_error("cannot create " + root_ + ": " + ec.message());
    }
    // No overlay here: a snapshot's or fork's layers become plain files.
    for (auto layer = spec_.layers.rbegin(); layer != spec_.layers.rend();
         ++layer) {
      if (*layer != "/") MergeLayer(*layer, root_, LayerMergeMode::kPlainTree);
    }
    chmod((root_ + "/tmp").c_str(), 01777);
    chmod(root_.c_str(), 0755);
    if (can_switch_) {
      if (chown((root_ + "/home/user").c_str(), kUserUid, kUserGid) != 0) {
        throw std::runtime_error("cannot chown " + root_ +
                                 "/home/user: " + std::strerror(errno));
      }
    }
  }

  // Whether uid/gid may search every directory from "/" down to `path`
  // (supplementary groups aside: uid 1000 is a plain user here).
  static bool Traversable(const std::string& path, uid_t uid, gid_t gid) {
    std::string prefix = "/";
    std::size_t pos = 0;
    while (true) {
      struct stat st;
      if (stat(prefix.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
      mode_t bit = st.st_uid == uid   ? S_IXUSR
                   : st.st_gid == gid ? S_IXGRP
                                      : S_IXOTH;
      if ((st.st_mode & bit) == 0) return false;
      if (pos == std::string::npos || prefix == path) return true;
      pos = path.find('/', pos + 1);
      prefix = path.substr(0, pos);
      if (prefix.empty()) return true;
    }
  }

  // A directory in a shared place (/tmp) is only used when it is really
  // ours: not a symlink, owned by us, writable by nobody else.
  static void MakeOwnedDir(const std::string& path) {
    if (mkdir(path.c_str(), 0711) != 0 && errno != EEXIST) {
      throw std::runtime_error("cannot create " + path + ": " +
                               std::strerror(errno));
    }
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
      throw std::runtime_error(path +
                               " exists but is not a private directory of "
                               "this user; remove it");
    }
    chmod(path.c_str(), 0711);
  }

  // Caller holds mu_. Groups that are gone are forgotten so a recycled
  // process group id is not signalled later.
  void SignalGroups(int signo) {
    for (auto it = groups_.begin(); it != groups_.end();) {
      if (!GroupAlive(*it)) {
        it = groups_.erase(it);
        continue;
      }
      kill(-*it, signo);
      ++it;
    }
  }

  SandboxSpec spec_;
  std::string root_;
  SandboxCgroups cgroups_;
  bool can_switch_ = false;
  bool relocated_ = false;  ///< root_ is under FallbackRootsDir
  std::mutex mu_;
  std::set<pid_t> groups_;
  bool frozen_ = false;
  bool destroyed_ = false;
  CpuMeter cpu_meter_;
};

class UnisolatedRuntime : public SandboxRuntime {
 public:
  std::unique_ptr<SandboxInstance> Create(const SandboxSpec& spec) override {
    return std::make_unique<UnisolatedInstance>(spec);
  }
  const char* Name() const override { return "none"; }
};

}  // namespace

std::unique_ptr<SandboxRuntime> MakeUnisolatedRuntime() {
  return std::make_unique<UnisolatedRuntime>();
}

}  // namespace runtime_internal
}  // namespace e2b_local
