// The fallback when namespaces are refused: commands run directly on the
// host under a per-sandbox directory. Nothing is isolated; MakeRuntime says
// so loudly.

#include "runtime/background_removal.hpp"
#include "runtime/process_launcher.hpp"
#include "runtime/runtime_factories.hpp"
#include "runtime/sandbox_accounts.hpp"
#include "runtime/sandbox_cgroups.hpp"
#include "runtime/sandbox_run_state.hpp"
#include "runtime/sandbox_usage.hpp"
#include "store/file_ops.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

namespace e2b_local::runtime_internal {
namespace {

namespace fs = std::filesystem;

// The process group (= session, the launcher calls setsid) of a command, so
// signals reach its children too.
bool GroupAlive(pid_t pgid) { return kill(-pgid, 0) == 0; }

class UnisolatedInstance : public SandboxInstance {
 public:
  explicit UnisolatedInstance(const SandboxSpec& spec)
      : spec_(CheckSandboxSpec(spec)),
        cgroups_(CgroupScope(fs::path(spec.dir).parent_path()), spec.id) {
    try {
      Setup();
    } catch (...) {
      Destroy();
      throw;
    }
  }

  ~UnisolatedInstance() override { Destroy(); }
  UnisolatedInstance(const UnisolatedInstance&) = delete;
  UnisolatedInstance& operator=(const UnisolatedInstance&) = delete;

  const std::string& RootPath() const override { return root_; }
  const std::string& UpperDir() const override { return root_; }

  std::optional<SandboxUser> LookupUser(
      const std::string& name) const override {
    auto user = BuiltInSandboxUser(name);
    // Without the right to switch, every command runs as the server does.
    if (user && !can_switch_) {
      user->uid = getuid();
      user->gid = getgid();
    }
    return user;
  }

  std::unique_ptr<SandboxProcess> Spawn(const SpawnOptions& options) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      state_.CheckCanSpawn();
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
    target.cgroup_attach = cgroups_.AttachFiles();
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
    state_.Freeze();
  }

  void Thaw() override {
    std::lock_guard<std::mutex> lock(mu_);
    state_.Thaw();
  }

  // Its processes are the sandbox: ending them is the whole halt, and a
  // boot has nothing to start until the next Spawn.
  void Halt() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!state_.BeginHalt()) return;
    KillProcesses();
  }

  void Boot() override {
    std::lock_guard<std::mutex> lock(mu_);
    state_.BeginBoot();
  }

  void Destroy() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!state_.BeginDestroy()) return;
    KillProcesses();
    cgroups_.Remove();
    RemoveSandboxTree(spec_.dir, spec_.remove_dir_in_background);
    if (relocated_) RemoveSandboxTree(root_, spec_.remove_dir_in_background);
  }

  // The host's network is the sandbox's: nothing to enforce (the loud
  // warning at start says so), but a policy E2B rejects is still rejected.
  void UpdateNetwork(const EgressPolicy& policy) override {
    ValidateEgressPolicy(policy);
  }

  ResourceUsage Usage() override {
    // Everything written is under the root: there are no layers below it.
    return usage_.Sample(
        spec_, cgroups_, [this] { return GroupMembers(); }, root_);
  }

 private:
  // With mu_ held.
  void KillProcesses() {
    SignalGroups(SIGKILL);
    for (pid_t pid : cgroups_.Pids()) kill(pid, SIGKILL);
  }

  void Setup() {
    // Its commands see the host's paths: a volume bound under root_ would
    // not be where they look.
    if (!spec_.volumes.empty()) {
      throw std::runtime_error(
          "volume mounts need sandboxes of their own (--isolation "
          "namespaces)");
    }
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
    if (can_switch_ &&
        !Traversable(spec_.dir, kSandboxUserUid, kSandboxUserGid)) {
      std::string base = FallbackRootsDir(fs::path(spec_.dir).parent_path());
      MakeOwnedDir(base);
      if (!Traversable(base, kSandboxUserUid, kSandboxUserGid)) {
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
      if (chown((root_ + "/home/user").c_str(), kSandboxUserUid,
                kSandboxUserGid) != 0) {
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
      struct stat st {};
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
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
      throw std::runtime_error(path +
                               " exists but is not a private directory of "
                               "this user; remove it");
    }
    chmod(path.c_str(), 0711);
  }

  // Host processes of the command groups, for Usage() without cgroups.
  std::vector<pid_t> GroupMembers() {
    std::set<pid_t> groups;
    {
      std::lock_guard<std::mutex> lock(mu_);
      groups = groups_;
    }
    std::vector<pid_t> members;
    for (pid_t pid : AllPids()) {
      pid_t pgid = getpgid(pid);
      if (pgid >= 0 && groups.count(pgid) != 0) members.push_back(pid);
    }
    return members;
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
  SandboxRunState state_{cgroups_, [this](int signo) { SignalGroups(signo); }};
  SandboxUsageMeter usage_;
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

}  // namespace e2b_local::runtime_internal
