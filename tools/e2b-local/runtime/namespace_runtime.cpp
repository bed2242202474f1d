// Namespaced sandboxes: an overlayfs root (base root filesystem + template
// layers + a writable layer in the state directory) visible to the server
// at RootPath(), and a sandbox init (tools/e2b-local/init/) that is PID 1 of
// the sandbox's own user, mount, PID, UTS, IPC, network and cgroup
// namespaces, starts every command and holds nothing of the server.

#include "envd/sandbox_paths.hpp"
#include "runtime/background_removal.hpp"
#include "runtime/runtime_factories.hpp"
#include "runtime/sandbox_accounts.hpp"
#include "runtime/sandbox_cgroups.hpp"
#include "runtime/sandbox_disk.hpp"
#include "runtime/sandbox_init.hpp"
#include "runtime/sandbox_run_state.hpp"
#include "runtime/sandbox_usage.hpp"
#include "runtime/volume_binds.hpp"
#include "store/file_ops.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>

namespace e2b_local::runtime_internal {
namespace {

namespace fs = std::filesystem;

std::string Errno(int err) { return std::strerror(err); }

// passwd and group files are a few KiB; a sandbox that makes them huge (or
// points them at /dev/zero) gets the built-in accounts instead.
constexpr std::size_t kMaxAccountsFile = 1 << 20;
// Every sandbox gets at most this many tasks unless the spec says less: a
// fork bomb stays inside its sandbox.
constexpr int kDefaultPidsMax = 1024;

bool IsMounted(const std::string& path) {
  auto mounts = MountsUnder(path);
  return std::find(mounts.begin(), mounts.end(), path) != mounts.end();
}

std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream split(line);
  std::string field;
  while (std::getline(split, field, ':')) fields.push_back(field);
  return fields;
}

// passwd/group text with `entry` as the line for `name`, and no other line
// claiming the same id (so `user` is 1000 whatever a template did).
std::string WithAccount(const std::string& text, const std::string& name,
                        const std::string& entry, const std::string& id) {
  std::istringstream in(text);
  std::string line, out;
  bool have = false;
  while (std::getline(in, line)) {
    auto fields = SplitFields(line);
    if (!fields.empty() && fields[0] == name) {
      have = true;
      out += entry + "\n";
    } else if (fields.size() < 3 || fields[2] != id) {
      out += line + "\n";
    }
  }
  if (!have) out += entry + "\n";
  return out;
}

class NamespaceInstance : public SandboxInstance {
 public:
  // `disks` limits what the sandbox writes; null when spec.disk_mb is 0.
  NamespaceInstance(const SandboxSpec& spec, const RuntimeOptions& options,
                    const InitImage& image, SandboxDiskPool* disks)
      : spec_(CheckSandboxSpec(spec)),
        options_(options),
        image_(image),
        disks_(disks),
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
  NamespaceInstance(const NamespaceInstance&) = delete;
  NamespaceInstance& operator=(const NamespaceInstance&) = delete;

  const std::string& RootPath() const override { return root_; }
  const std::string& UpperDir() const override { return upper_; }

  std::optional<SandboxUser> LookupUser(
      const std::string& name) const override {
    if (name.empty()) return std::nullopt;
    std::optional<std::string> passwd;
    try {
      passwd = ReadRegularFile(*fs_, "/etc/passwd", kMaxAccountsFile);
    } catch (const std::exception&) {
    }
    std::istringstream in(passwd.value_or(""));
    std::string line;
    while (std::getline(in, line)) {
      auto fields = SplitFields(line);
      if (fields.size() < 6 || fields[0] != name) continue;
      SandboxUser user;
      user.name = name;
      user.uid =
          static_cast<uid_t>(std::strtoul(fields[2].c_str(), nullptr, 10));
      user.gid =
          static_cast<gid_t>(std::strtoul(fields[3].c_str(), nullptr, 10));
      user.home = fields[5].empty() ? "/" : fields[5];
      return user;
    }
    return BuiltInSandboxUser(name);
  }

  uid_t HostUid(uid_t id) const override { return ToHost(id); }
  gid_t HostGid(gid_t id) const override { return ToHost(id); }
  uid_t SandboxUid(uid_t id) const override { return ToSandbox(id); }
  gid_t SandboxGid(gid_t id) const override { return ToSandbox(id); }

  std::unique_ptr<SandboxProcess> Spawn(const SpawnOptions& options) override {
    std::shared_ptr<SandboxInit> init;
    {
      std::lock_guard<std::mutex> lock(mu_);
      state_.CheckCanSpawn();
      init = init_;  // Halt or Destroy may drop init_ meanwhile
    }
    if (!init) throw SpawnError("internal", "the sandbox is not running");
    return init->Spawn(options);
  }

  void Freeze() override {
    std::lock_guard<std::mutex> lock(mu_);
    state_.Freeze();
  }

  void Thaw() override {
    std::lock_guard<std::mutex> lock(mu_);
    state_.Thaw();
  }

  void Halt() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!state_.BeginHalt()) return;
    EndInit();
  }

  void Boot() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!state_.BeginBoot()) return;
    try {
      LaunchInit();
    } catch (...) {
      // Halted again: a later Boot may try once more.
      EndInit();
      state_.BeginHalt();
      throw;
    }
  }

  void Destroy() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!state_.BeginDestroy()) return;
    EndInit();
    fs_.reset();
    if (mounted_) {
      if (umount2(root_.c_str(), 0) != 0) umount2(root_.c_str(), MNT_DETACH);
      mounted_ = IsMounted(root_);
    }
    cgroups_.Remove();
    // Its processes and overlay are gone: the disk's contents are dropped
    // with it and spec_.dir is an empty host directory again.
    if (disk_) disks_->Release(*std::exchange(disk_, std::nullopt));
    if (!mounted_) {
      RemoveSandboxTree(spec_.dir, spec_.remove_dir_in_background);
    }
  }

  void UpdateNetwork(const EgressPolicy& policy) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (network_) {
      network_->Update(policy);
    } else if (state_.Destroyed()) {
      throw std::runtime_error("the sandbox is gone");
    } else {
      ValidateEgressPolicy(policy);  // halted: applied at the next Boot
    }
    spec_.network = policy;
  }

  UniqueFd OpenTcpSocket() override {
    // Under mu_, so Destroy cannot close the namespace meanwhile.
    std::lock_guard<std::mutex> lock(mu_);
    if (!network_) throw std::runtime_error("the sandbox is gone");
    return network_->OpenTcpSocket();
  }

  ResourceUsage Usage() override {
    // With a disk of its own, its filesystem counts what the sandbox wrote.
    return usage_.Sample(
        spec_, cgroups_, [this] { return cgroups_.Pids(); },
        disk_ ? std::string() : upper_);
  }

 private:
  std::uint32_t ToHost(std::uint32_t id) const {
    const IdRange& ids = options_.ids;
    return ids.base + (id < ids.count ? id : 65534u);
  }
  std::uint32_t ToSandbox(std::uint32_t id) const {
    const IdRange& ids = options_.ids;
    return id >= ids.base && id - ids.base < ids.count ? id - ids.base : 65534u;
  }

  void Start() {
    // overlayfs options cannot escape these characters.
    for (const std::string& path : {spec_.dir, options_.base_rootfs}) {
      if (path.find_first_of(",:\n") != std::string::npos) {
        throw std::runtime_error("unsupported character in " + path);
      }
    }
    // The writable layer lives on the sandbox's own disk, mounted on its
    // directory, so a full disk is ENOSPC inside and nothing on the host.
    std::error_code ec;
    if (disks_ && spec_.disk_mb > 0) {
      fs::create_directories(spec_.dir, ec);
      if (ec) {
        throw std::runtime_error("cannot create " + spec_.dir + ": " +
                                 ec.message());
      }
      disk_ = disks_->Limit(spec_.dir, spec_.disk_mb);
    }
    for (const auto* dir : {&upper_, &work_, &root_}) {
      fs::create_directories(*dir, ec);
      if (ec) {
        throw std::runtime_error("cannot create " + *dir + ": " + ec.message());
      }
    }
    // The sandbox's root owns its writable layer's top.
    if (chown(upper_.c_str(), ToHost(0), ToHost(0)) != 0) {
      throw std::runtime_error("cannot chown " + upper_ + ": " + Errno(errno));
    }
    // Template layers are stacked into the upper layer, bottom first, so a
    // snapshot (a copy of the upper layer) needs only the base below it.
    for (auto layer = spec_.layers.rbegin(); layer != spec_.layers.rend();
         ++layer) {
      if (*layer == "/") continue;
      MergeLayer(*layer, upper_, LayerMergeMode::kOverlayUpper);
    }
    // Markers we do not write (redirects, metacopy, index) must not appear
    // in an upper layer that later becomes a snapshot. "volatile": a
    // sandbox's files do not outlive it, so its fsyncs need not reach the
    // disk (without it, every unmount synced the whole host filesystem).
    const std::string options = "lowerdir=" + options_.base_rootfs +
                                ",upperdir=" + upper_ + ",workdir=" + work_ +
                                ",redirect_dir=off,metacopy=off,index=off";
    if (mount("overlay", root_.c_str(), "overlay", MS_NODEV,
              (options + ",volatile").c_str()) != 0 &&
        mount("overlay", root_.c_str(), "overlay", MS_NODEV, options.c_str()) !=
            0) {
      throw std::runtime_error("mounting the sandbox overlay failed: " +
                               Errno(errno));
    }
    mounted_ = true;
    fs_ = std::make_unique<SandboxFs>(root_);
    PrepareFiles();
    // Bound on the host, under the root init pivots into: its namespace
    // copies the mounts, and envd's file API (on the host) sees them too.
    for (const VolumeBind& volume : spec_.volumes) {
      BindVolume(*fs_, volume.host_dir, volume.path, ToHost(0), ToHost(0));
    }
    std::string missing = cgroups_.SetLimits(
        spec_.cpu_count, spec_.memory_mb,
        spec_.pids_max > 0 ? spec_.pids_max : kDefaultPidsMax);
    if (!missing.empty()) {
      throw std::runtime_error("cannot apply the sandbox's " + missing +
                               " limit (cgroup v1 controller missing?)");
    }
    LaunchInit();
  }

  // Ends init, and with it every process of the sandbox: init is PID 1 of
  // the sandbox's PID namespace, and the kernel ends the rest with it. The
  // overlay, the disk and the cgroups stay. With mu_ held.
  void EndInit() {
    network_.reset();
    if (init_) init_->Kill();
    init_.reset();
  }

  // Starts init on the mounted root and attaches the network (at creation,
  // and again at each Boot after a Halt). With mu_ held, or before the
  // instance is shared.
  void LaunchInit() {
    InitLaunch launch;
    launch.image = &image_;
    launch.root = root_;
    launch.hostname = Hostname();
    launch.ids = options_.ids;
    launch.cgroup_attach = cgroups_.AttachFiles();
    init_ = std::make_shared<SandboxInit>(launch);
    // The network is attached while init builds its view. The firewall is
    // in place before the sandbox runs any command: init only starts what
    // the server asks for, and that is after Create.
    network_ = SandboxNetwork::Attach(init_->HostPid(), spec_.network);
    init_->WaitReady();
    WriteRegularFile(*fs_, "/etc/resolv.conf", network_->ResolvConf(),
                     ToHost(0), ToHost(0), 0644);
  }

  // What the server writes into a new sandbox, through the one
  // path-resolution helper: the layers below may come from a snapshot of
  // another sandbox, whose /etc entries may be symlinks aimed at the host.
  void PrepareFiles() {
    const uid_t root_uid = ToHost(0);
    const gid_t root_gid = ToHost(0);
    auto rewrite = [&](const std::string& path, const std::string& name,
                       const std::string& entry, const std::string& id) {
      auto text = ReadRegularFile(*fs_, path, kMaxAccountsFile);
      WriteRegularFile(*fs_, path,
                       WithAccount(text.value_or(""), name, entry, id),
                       root_uid, root_gid, 0644);
    };
    fs_->MakeDirs("/etc", root_uid, root_gid);
    rewrite("/etc/passwd", "user", "user:x:1000:1000::/home/user:/bin/bash",
            "1000");
    rewrite("/etc/group", "user", "user:x:1000:", "1000");
    fs_->MakeDirs("/home", root_uid, root_gid);
    if (!fs_->Exists("/home/user", false)) {
      fs_->MakeDirs("/home/user", ToHost(kSandboxUserUid),
                    ToHost(kSandboxUserGid));
    }
    const std::string name = Hostname();
    WriteRegularFile(*fs_, "/etc/hostname", name + "\n", root_uid, root_gid,
                     0644);
    // sudo and others resolve the hostname; without a line here they wait
    // for DNS and complain on stderr.
    WriteRegularFile(*fs_, "/etc/hosts",
                     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                     "ip6-loopback\n127.0.1.1\t" +
                         name + "\n",
                     root_uid, root_gid, 0644);
  }

  std::string Hostname() const {
    std::string name = spec_.hostname.empty() ? spec_.id : spec_.hostname;
    if (name.size() > 64) name.resize(64);
    return name;
  }

  SandboxSpec spec_;
  const RuntimeOptions& options_;
  const InitImage& image_;
  SandboxDiskPool* disks_;
  std::optional<std::uint32_t> disk_;  // guarded by mu_ after Start
  std::string root_, upper_, work_;
  SandboxCgroups cgroups_;
  mutable std::mutex mu_;
  std::unique_ptr<SandboxFs> fs_;
  std::shared_ptr<SandboxInit> init_;
  std::unique_ptr<SandboxNetwork> network_;
  bool mounted_ = false;
  SandboxRunState state_{cgroups_, [this](int signo) {
                           for (pid_t pid : cgroups_.Pids()) kill(pid, signo);
                         }};
  SandboxUsageMeter usage_;
};

class NamespaceRuntime : public SandboxRuntime {
 public:
  explicit NamespaceRuntime(RuntimeOptions options)
      : options_(std::move(options)),
        image_(options_.init_binary.empty() ? FindInitBinary()
                                            : options_.init_binary) {
    if (options_.base_rootfs.empty() || options_.base_rootfs[0] != '/') {
      throw std::runtime_error(
          "the namespaced runtime needs an absolute base root filesystem");
    }
  }
  std::unique_ptr<SandboxInstance> Create(const SandboxSpec& spec) override {
    SandboxDiskPool* disks = nullptr;
    if (spec.disk_mb > 0 && !spec.dir.empty()) {
      disks = &DisksFor(fs::path(spec.dir).parent_path().string(), nullptr);
    }
    return std::make_unique<NamespaceInstance>(spec, options_, image_, disks);
  }

  std::string Prepare(const std::string& sandboxes_dir) override {
    std::string report;
    try {
      DisksFor(sandboxes_dir, &report);
    } catch (const std::exception& e) {
      report = e.what();
    }
    return report;
  }

  const char* Name() const override { return "namespaces"; }

 private:
  // The disk pool of one sandboxes directory, made on first use: after what
  // a dead server left there is released, and with a warning on stderr
  // (and in *report) when limits cannot be enforced on this host.
  SandboxDiskPool& DisksFor(const std::string& sandboxes_dir,
                            std::string* report) {
    std::lock_guard<std::mutex> lock(disks_mu_);
    auto& pool = disks_[sandboxes_dir];
    if (!pool) {
      std::string text = ReclaimDiskPool(sandboxes_dir);
      pool = std::make_unique<SandboxDiskPool>(sandboxes_dir);
      if (!pool->Enforced()) {
        std::cerr << "e2b-local: WARNING: sandbox disk limits (diskSizeMB) "
                     "are not enforced: "
                  << pool->Why() << "\n";
        text += (text.empty() ? "" : "; ") + std::string("disk limits off: ") +
                pool->Why();
      }
      if (report) *report = text;
    }
    return *pool;
  }

  RuntimeOptions options_;
  InitImage image_;
  std::mutex disks_mu_;
  // Declared last: destroyed first, after every instance is gone.
  std::map<std::string, std::unique_ptr<SandboxDiskPool>> disks_;
};

}  // namespace

std::unique_ptr<SandboxRuntime> MakeNamespaceRuntime(
    const RuntimeOptions& options) {
  return std::make_unique<NamespaceRuntime>(options);
}

}  // namespace e2b_local::runtime_internal
