// Namespaced sandboxes: an overlayfs root visible to the server at
// RootPath(), and a long-lived init (pid 1 of its own PID namespace) whose
// mount, PID, UTS, IPC (and, without internet, network) namespaces every
// command joins.

#include "runtime/background_removal.hpp"
#include "runtime/process_launcher.hpp"
#include "runtime/runtime_factories.hpp"
#include "runtime/sandbox_accounts.hpp"
#include "runtime/sandbox_cgroups.hpp"
#include "runtime/sandbox_run_state.hpp"
#include "runtime/sandbox_usage.hpp"
#include "store/file_ops.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace e2b_local {
namespace runtime_internal {
namespace {

namespace fs = std::filesystem;

std::string Errno(int err) { return std::strerror(err); }

// Init's setup stages, reported on the ready pipe with errno.
enum InitStage : int {
  kInitReady = 0,
  kInitCgroup,
  kInitPrivate,
  kInitHostname,
  kInitLoopback,
  kInitHide,
  kInitProc,
  kInitDev,
  kInitDevpts,
  kInitShm,
  kInitPivot,
};

const char* StageName(int stage) {
  switch (stage) {
    case kInitCgroup:
      return "joining cgroups";
    case kInitPrivate:
      return "making mounts private";
    case kInitHostname:
      return "setting the hostname";
    case kInitLoopback:
      return "bringing up loopback";
    case kInitHide:
      return "masking host paths";
    case kInitProc:
      return "mounting /proc";
    case kInitDev:
      return "populating /dev";
    case kInitDevpts:
      return "mounting /dev/pts";
    case kInitShm:
      return "mounting /dev/shm";
    case kInitPivot:
      return "pivoting into the sandbox root";
    default:
      return "starting init";
  }
}

// Everything init needs, prepared before clone().
struct InitPlan {
  int ready_fd = -1;
  int lifeline_fd = -1;
  std::vector<std::string> cgroup_attach;
  std::string hostname;
  bool loopback_only = false;
  std::string root;
  std::vector<std::string> hide_targets;
  std::string proc, sys, dev, pts, shm, ptmx_link;
  std::vector<std::pair<std::string, std::string>> devices;  // host, target
  std::vector<std::pair<std::string, std::string>> links;    // target, path
};

void InitReport(int fd, int stage, int err) {
  int message[2] = {stage, err};
  while (write(fd, message, sizeof message) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void InitFail(const InitPlan& plan, int stage) {
  InitReport(plan.ready_fd, stage, errno);
  _exit(1);
}

int InitMain(void* arg) {
  const InitPlan& plan = *static_cast<const InitPlan*>(arg);
  int keep[2] = {plan.ready_fd, plan.lifeline_fd};
  CloseDescriptorsExcept(keep, 2);
  prctl(PR_SET_NAME, "e2b-init", 0, 0, 0);
  for (const auto& path : plan.cgroup_attach) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) InitFail(plan, kInitCgroup);
    close(fd);
  }
  // Nothing mounted from here on may propagate back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    InitFail(plan, kInitPrivate);
  }
  if (sethostname(plan.hostname.data(), plan.hostname.size()) != 0) {
    InitFail(plan, kInitHostname);
  }
  if (plan.loopback_only) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq request;
    std::memset(&request, 0, sizeof request);
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    request.ifr_flags = IFF_UP | IFF_RUNNING;
    if (sock < 0 || ioctl(sock, SIOCSIFFLAGS, &request) != 0) {
      InitFail(plan, kInitLoopback);
    }
    close(sock);
  }
  for (const auto& target : plan.hide_targets) {
    if (mount("tmpfs", target.c_str(), "tmpfs",
              MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k,mode=0755") != 0 &&
        errno != ENOENT) {
      InitFail(plan, kInitHide);
    }
  }
  mkdir(plan.proc.c_str(), 0555);
  if (mount("proc", plan.proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0) {
    InitFail(plan, kInitProc);
  }
  // Optional: some tools read /sys, none needs it.
  mount("sysfs", plan.sys.c_str(), "sysfs",
        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mkdir(plan.dev.c_str(), 0755);
  if (mount("tmpfs", plan.dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC,
            "mode=0755,size=65536k") != 0) {
    InitFail(plan, kInitDev);
  }
  for (const auto& device : plan.devices) {
    int fd = open(device.second.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) InitFail(plan, kInitDev);
    close(fd);
    if (mount(device.first.c_str(), device.second.c_str(), nullptr, MS_BIND,
              nullptr) != 0) {
      InitFail(plan, kInitDev);
    }
  }
  mkdir(plan.pts.c_str(), 0755);
  if (mount("devpts", plan.pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620,gid=5") != 0) {
    InitFail(plan, kInitDevpts);
  }
  mkdir(plan.shm.c_str(), 01777);
  if (mount("tmpfs", plan.shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
            "mode=1777") != 0) {
    InitFail(plan, kInitShm);
  }
  for (const auto& link : plan.links) {
    if (symlink(link.first.c_str(), link.second.c_str()) != 0) {
      InitFail(plan, kInitDev);
    }
  }
  // pivot_root(".", ".") stacks the old root on top of the new one; the
  // detach then drops every host mount from this namespace.
  if (chdir(plan.root.c_str()) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
      umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) {
    InitFail(plan, kInitPivot);
  }
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  InitReport(plan.ready_fd, kInitReady, 0);
  close(plan.ready_fd);
  // Reap orphans until the server closes the lifeline (it exited or
  // destroyed the sandbox); pid 1 leaving takes the namespace with it.
  for (;;) {
    struct pollfd fds[2] = {{plan.lifeline_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    int ready = poll(fds, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 1000);
    if (ready < 0 && errno != EINTR) _exit(1);
    if (fds[0].revents != 0) _exit(0);
    if (sfd >= 0 && fds[1].revents != 0) {
      struct signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) > 0) {
      }
    }
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {
    }
  }
}

bool IsMounted(const std::string& path) {
  auto mounts = MountsUnder(path);
  return std::find(mounts.begin(), mounts.end(), path) != mounts.end();
}

// /etc/passwd and /etc/group of the sandbox get a `user` (1000:1000) in
// place of whatever the template had at that id.
void PrepareUserAccount(const std::string& root) {
  auto rewrite = [](const std::string& path, const std::string& name,
                    const std::string& entry, const std::string& id) {
    std::ifstream in(path);
    std::string line, text;
    bool have = false;
    while (std::getline(in, line)) {
      auto first = line.find(':');
      std::string line_name = line.substr(0, first);
      std::string rest = first == std::string::npos ? "" : line.substr(first);
      // ":x:<id>:" is the id field of both passwd and group.
      bool same_id = rest.rfind(":x:" + id + ":", 0) == 0 ||
                     rest.rfind("::" + id + ":", 0) == 0;
      if (line_name == name) {
        have = true;
        text += entry + "\n";
      } else if (!same_id) {
        text += line + "\n";
      }
    }
    if (!have) text += entry + "\n";
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
  };
  std::error_code ec;
  fs::create_directories(root + "/etc", ec);
  rewrite(root + "/etc/passwd", "user",
          "user:x:1000:1000::/home/user:/bin/bash", "1000");
  rewrite(root + "/etc/group", "user", "user:x:1000:", "1000");
  std::string home = root + "/home/user";
  fs::create_directories(home, ec);
  if (ec || chown(home.c_str(), kSandboxUserUid, kSandboxUserGid) != 0 ||
      chmod(home.c_str(), 0750) != 0) {
    throw std::runtime_error("cannot prepare /home/user in the sandbox");
  }
}

std::optional<SandboxUser> LookupInPasswd(const std::string& passwd_path,
                                          const std::string& name) {
  if (name.empty()) return std::nullopt;
  std::ifstream in(passwd_path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::istringstream split(line);
    std::string field;
    while (std::getline(split, field, ':')) fields.push_back(field);
    if (fields.size() < 6 || fields[0] != name) continue;
    SandboxUser user;
    user.name = name;
    user.uid = static_cast<uid_t>(std::strtoul(fields[2].c_str(), nullptr, 10));
    user.gid = static_cast<gid_t>(std::strtoul(fields[3].c_str(), nullptr, 10));
    user.home = fields[5].empty() ? "/" : fields[5];
    return user;
  }
  return BuiltInSandboxUser(name);
}

class NamespaceInstance : public SandboxInstance {
 public:
  explicit NamespaceInstance(const SandboxSpec& spec)
      : spec_(CheckSandboxSpec(spec)),
        cgroups_(CgroupScope(fs::path(spec.dir).parent_path()), spec.id) {
    root_ = spec.dir + "/root";
    upper_ = spec.dir + "/upper";
    work_ = spec.dir + "/work";
    try {
      Start();
    } catch (...) {
      Destroy();
      throw;
    }
  }

  ~NamespaceInstance() override { Destroy(); }

  const std::string& RootPath() const override { return root_; }
  const std::string& UpperDir() const override { return upper_; }

  std::optional<SandboxUser> LookupUser(
      const std::string& name) const override {
    return LookupInPasswd(root_ + "/etc/passwd", name);
  }

  std::unique_ptr<SandboxProcess> Spawn(const SpawnOptions& options) override {
    LaunchTarget target;
    {
      std::lock_guard<std::mutex> lock(mu_);
      state_.CheckCanSpawn();
      target.init_pid = init_pid_;
    }
    target.cgroup_attach = cgroups_.AttachFiles();
    target.switch_user = true;
    target.ptmx_path =
        "/proc/" + std::to_string(target.init_pid) + "/root/dev/pts/ptmx";
    return LaunchProcess(options, target);
  }

  void Freeze() override {
    std::lock_guard<std::mutex> lock(mu_);
    state_.Freeze();
  }

  void Thaw() override {
    std::lock_guard<std::mutex> lock(mu_);
    state_.Thaw();
  }

  void Destroy() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!state_.BeginDestroy()) return;
    if (lifeline_ >= 0) close(lifeline_);
    lifeline_ = -1;
    if (init_pid_ > 0) {
      kill(init_pid_, SIGKILL);
      int status;
      while (waitpid(init_pid_, &status, 0) < 0 && errno == EINTR) {
      }
      init_pid_ = 0;
    }
    if (mounted_) {
      if (umount2(root_.c_str(), 0) != 0) umount2(root_.c_str(), MNT_DETACH);
      mounted_ = IsMounted(root_);
    }
    cgroups_.Remove();
    if (!mounted_) {
      RemoveSandboxTree(spec_.dir, spec_.remove_dir_in_background);
    }
  }

  ResourceUsage Usage() override {
    // upper_, not root_: the root shows the host's "/" below the files
    // of the sandbox.
    return usage_.Sample(
        spec_, cgroups_, [this] { return SandboxPids(); }, upper_);
  }

 private:
  void Start() {
    // overlayfs options cannot escape these characters.
    if (spec_.dir.find_first_of(",:\n") != std::string::npos) {
      throw std::runtime_error("unsupported character in sandbox directory");
    }
    std::error_code ec;
    for (const auto* dir : {&upper_, &work_, &root_}) {
      fs::create_directories(*dir, ec);
      if (ec) {
        throw std::runtime_error("cannot create " + *dir + ": " + ec.message());
      }
    }
    // Template layers live under the state directory, inside the host's
    // "/", and overlayfs refuses a lower layer nested in another one
    // (ELOOP). So they are stacked into the upper layer, bottom first, and
    // "/" stays the only lower layer: the base template copies nothing.
    for (auto layer = spec_.layers.rbegin(); layer != spec_.layers.rend();
         ++layer) {
      if (*layer == "/") continue;
      MergeLayer(*layer, upper_, LayerMergeMode::kOverlayUpper);
    }
    for (const auto& path : HiddenPaths()) MaskInUpper(path);
    // Markers we do not write (redirects, metacopy, index) must not appear
    // in an upper layer that later becomes a snapshot.
    std::string options = "lowerdir=/,upperdir=" + upper_ +
                          ",workdir=" + work_ +
                          ",redirect_dir=off,metacopy=off,index=off";
    // "volatile" (Linux 5.10+) drops overlayfs's syncs of the upper
    // filesystem, above all the syncfs of the whole host filesystem when
    // the sandbox is unmounted: on a busy disk that made every kill wait
    // for other programs' writeback. A sandbox's files do not outlive it
    // (kill deletes them, a restart reclaims them), so fsync inside a
    // sandbox protecting them from a host crash buys nothing. Older
    // kernels reject the option: mount without it.
    if (mount("overlay", root_.c_str(), "overlay", MS_NOSUID | MS_NODEV,
              (options + ",volatile").c_str()) != 0 &&
        mount("overlay", root_.c_str(), "overlay", MS_NOSUID | MS_NODEV,
              options.c_str()) != 0) {
      throw std::runtime_error("mounting the sandbox overlay failed: " +
                               Errno(errno));
    }
    mounted_ = true;
    PrepareUserAccount(root_);
    {
      std::ofstream hostname(root_ + "/etc/hostname", std::ios::trunc);
      hostname << Hostname() << "\n";
    }
    StartInit();
  }

  // Absolute, normalised host paths to mask ("/" itself never).
  std::vector<std::string> HiddenPaths() const {
    std::vector<std::string> hidden = spec_.hidden_paths;
    if (hidden.empty()) hidden.push_back(fs::path(spec_.dir).parent_path());
    std::vector<std::string> out;
    for (const auto& path : hidden) {
      if (path.empty() || path[0] != '/') continue;
      // Resolved, so a symlinked component (/var/run -> /run) is neither
      // replaced by a directory in the upper layer nor followed to the
      // host's "/" when init mounts the mask.
      std::error_code ec;
      std::string normal = fs::weakly_canonical(path, ec).string();
      if (ec || normal.empty()) {
        normal = fs::path(path).lexically_normal().string();
      }
      while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
      if (normal != "/") out.push_back(normal);
    }
    return out;
  }

  // An empty opaque directory in the upper layer hides the host's `path`
  // from everything that looks through the overlay, the server's own file
  // operations included (the tmpfs init mounts only exists in the
  // sandbox's mount namespace). Parents are created with the host's
  // metadata, as a copy-up would, so e.g. /tmp keeps its sticky bit.
  void MaskInUpper(const std::string& path) {
    struct stat host;
    if (lstat(path.c_str(), &host) != 0 || !S_ISDIR(host.st_mode)) return;
    std::string prefix;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      prefix = path.substr(0, pos);
      const std::string target = upper_ + prefix;
      struct stat original, current;
      if (lstat(prefix.c_str(), &original) != 0) return;
      const bool last = pos == std::string::npos;
      if (lstat(target.c_str(), &current) == 0) {
        if (!S_ISDIR(current.st_mode)) return;  // the layers replaced it
        if (!last) continue;
        // The template layers have something here: hide it too.
        RemoveTree(target);
      }
      if (mkdir(target.c_str(), original.st_mode & 07777) != 0) {
        throw std::runtime_error("cannot create " + target + ": " +
                                 Errno(errno));
      }
      if (chown(target.c_str(), original.st_uid, original.st_gid) != 0 ||
          chmod(target.c_str(), original.st_mode & 07777) != 0) {
        throw std::runtime_error("cannot copy the owner of " + prefix + " to " +
                                 target + ": " + Errno(errno));
      }
      if (last &&
          setxattr(target.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
        throw std::runtime_error("cannot mark " + target +
                                 " opaque: " + Errno(errno));
      }
    }
  }

  std::string Hostname() const {
    std::string name = spec_.hostname.empty() ? spec_.id : spec_.hostname;
    if (name.size() > 64) name.resize(64);
    return name;
  }

  void StartInit() {
    InitPlan plan;
    plan.cgroup_attach = cgroups_.AttachFiles();
    plan.hostname = Hostname();
    plan.loopback_only = !spec_.allow_internet_access;
    plan.root = root_;
    for (const auto& path : HiddenPaths()) {
      plan.hide_targets.push_back(root_ + path);
    }
    plan.proc = root_ + "/proc";
    plan.sys = root_ + "/sys";
    plan.dev = root_ + "/dev";
    plan.pts = root_ + "/dev/pts";
    plan.shm = root_ + "/dev/shm";
    for (const char* name :
         {"null", "zero", "full", "random", "urandom", "tty"}) {
      plan.devices.emplace_back(std::string("/dev/") + name,
                                root_ + "/dev/" + name);
    }
    plan.links = {{"pts/ptmx", root_ + "/dev/ptmx"},
                  {"/proc/self/fd", root_ + "/dev/fd"},
                  {"/proc/self/fd/0", root_ + "/dev/stdin"},
                  {"/proc/self/fd/1", root_ + "/dev/stdout"},
                  {"/proc/self/fd/2", root_ + "/dev/stderr"}};
    int ready[2], lifeline[2];
    if (pipe2(ready, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe: " + Errno(errno));
    }
    if (pipe2(lifeline, O_CLOEXEC) != 0) {
      close(ready[0]);
      close(ready[1]);
      throw std::runtime_error("pipe: " + Errno(errno));
    }
    plan.ready_fd = ready[1];
    plan.lifeline_fd = lifeline[0];
    lifeline_ = lifeline[1];
    int flags =
        CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
    if (!spec_.allow_internet_access) flags |= CLONE_NEWNET;
    std::vector<char> stack(256 * 1024);
    pid_t pid = clone(InitMain, stack.data() + stack.size(), flags, &plan);
    int clone_errno = errno;
    close(ready[1]);
    close(lifeline[0]);
    if (pid < 0) {
      close(ready[0]);
      throw std::runtime_error("starting the sandbox init failed: " +
                               Errno(clone_errno));
    }
    init_pid_ = pid;
    int message[2] = {-1, 0};
    ssize_t n = -1;
    struct pollfd pfd = {ready[0], POLLIN, 0};
    int polled;
    do {
      polled = poll(&pfd, 1, 30000);
    } while (polled < 0 && errno == EINTR);
    if (polled > 0) {
      do {
        n = read(ready[0], message, sizeof message);
      } while (n < 0 && errno == EINTR);
    }
    close(ready[0]);
    if (n != static_cast<ssize_t>(sizeof message) || message[0] != kInitReady) {
      std::string why =
          n == static_cast<ssize_t>(sizeof message)
              ? std::string(StageName(message[0])) + ": " + Errno(message[1])
              : "init did not start";
      throw std::runtime_error("sandbox init failed: " + why);
    }
  }

  // Every host process in the sandbox's PID namespace (for the signal
  // fallbacks when there is no freezer cgroup).
  std::vector<pid_t> SandboxPids() const {
    std::vector<pid_t> pids = cgroups_.Pids();
    if (!pids.empty() || init_pid_ <= 0) return pids;
    std::string ns =
        fs::read_symlink("/proc/" + std::to_string(init_pid_) + "/ns/pid")
            .string();
    for (pid_t pid : AllPids()) {
      std::error_code ec;
      auto link =
          fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/pid", ec);
      if (!ec && link.string() == ns) pids.push_back(pid);
    }
    return pids;
  }

  void SignalAll(int signo) {
    for (pid_t pid : SandboxPids()) kill(pid, signo);
  }

  SandboxSpec spec_;
  std::string root_, upper_, work_;
  SandboxCgroups cgroups_;
  mutable std::mutex mu_;
  pid_t init_pid_ = 0;
  int lifeline_ = -1;
  bool mounted_ = false;
  SandboxRunState state_{cgroups_, [this](int signo) { SignalAll(signo); }};
  SandboxUsageMeter usage_;
};

class NamespaceRuntime : public SandboxRuntime {
 public:
  std::unique_ptr<SandboxInstance> Create(const SandboxSpec& spec) override {
    return std::make_unique<NamespaceInstance>(spec);
  }
  const char* Name() const override { return "namespaces"; }
};

}  // namespace

std::unique_ptr<SandboxRuntime> MakeNamespaceRuntime() {
  return std::make_unique<NamespaceRuntime>();
}

}  // namespace runtime_internal
}  // namespace e2b_local
