#include "runtime/sandbox_disk.hpp"

#include "runtime/sandbox_usage.hpp"
#include "util/join_path.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace e2b_local {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kBlockSize = 4096;
// Attached, empty loop devices kept ready, and at most kept after a burst
// of kills (each holds a kernel thread and an empty file).
constexpr std::size_t kSpareTarget = 8;
constexpr std::size_t kSpareMax = 64;
// mkfs scratch files; a dead server's are removed by ReclaimDiskPool.
constexpr const char* kTemplatePrefix = ".disk-template-";
// Where the constructor mounts its trial disk.
constexpr const char* kProbeName = ".disk-probe";

std::string Errno(int err) { return std::strerror(err); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string FindProgram(const std::string& name) {
  std::string path = "/usr/sbin:/sbin:/usr/bin:/bin";
  if (const char* env = std::getenv("PATH")) {
    path = std::string(env) + ":" + path;
  }
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty() || dir[0] != '/') continue;
    std::string candidate = JoinPath(dir, name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool KernelHasFilesystem(const std::string& type) {
  std::ifstream in("/proc/filesystems");
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.rfind('\t');
    if (line.substr(tab == std::string::npos ? 0 : tab + 1) == type) {
      return true;
    }
  }
  return false;
}

// Runs argv (no shell), returning its exit status and what it printed.
int RunProgram(const std::vector<std::string>& args, std::string* output) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe: " + Errno(errno));
  }
  Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int err =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.Reset();
  if (err != 0) {
    throw std::runtime_error("cannot run " + args[0] + ": " + Errno(err));
  }
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(read_end.get(), buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (output->size() < 4096) output->append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void WriteAll(int fd, const char* data, std::size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw std::runtime_error("writing a disk image: " + Errno(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
}

std::string Canonical(const std::string& path) {
  std::error_code ec;
  std::string out = fs::weakly_canonical(path, ec).string();
  if (ec || out.empty()) out = fs::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

using Extents = std::vector<std::pair<off_t, std::string>>;

// The byte ranges of the first `size` bytes of fd that are not holes.
Extents ReadExtents(int fd, std::int64_t size) {
  Extents extents;
  for (off_t pos = 0; pos < size;) {
    const off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: no data after pos
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = size;
    std::string bytes(static_cast<std::size_t>(hole - data), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done,
                                data + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        throw std::runtime_error("reading a disk image: " + Errno(errno));
      }
      done += static_cast<std::size_t>(n);
    }
    extents.emplace_back(data, std::move(bytes));
    pos = hole;
  }
  return extents;
}

// Formats the file at `path` (open as `fd`) as an empty ext4 of `size`
// bytes and returns the byte ranges mkfs wrote (the rest are holes).
Extents FormatImage(const std::string& mkfs, int fd, const std::string& path,
                    std::int64_t size) {
  // Emptied first, so nothing of an earlier attempt passes for metadata.
  if (::ftruncate(fd, 0) != 0 || ::ftruncate(fd, size) != 0) {
    throw std::runtime_error("cannot size a disk image: " + Errno(errno));
  }
  // No journal: the overlay above is mounted "volatile" and a sandbox's
  // disk never outlives a crash. No reserved blocks: the whole size is the
  // sandbox's. Inode tables are left unwritten (the image is sparse, so
  // they read as zeros), which keeps what each sandbox copies small.
  std::string output;
  const int status =
      RunProgram({mkfs, "-q", "-F", "-t", "ext4", "-T", "default", "-b",
                  std::to_string(kBlockSize), "-m", "0", "-O",
                  "^has_journal,^resize_inode", "-E",
                  "lazy_itable_init=1,nodiscard,root_owner=0:0", path},
                 &output);
  if (status != 0) {
    throw std::runtime_error("mkfs.ext4 failed for a " +
                             std::to_string(size >> 20) +
                             " MiB disk: " + output);
  }
  return ReadExtents(fd, size);
}

// s_free_blocks_count of the ext4 superblock (at byte 1024), -1 when the
// extents do not hold one.
std::int64_t SuperblockFreeBlocks(const Extents& extents) {
  constexpr off_t kSuperblock = 1024;
  for (const auto& [offset, bytes] : extents) {
    if (offset > kSuperblock ||
        offset + static_cast<off_t>(bytes.size()) < kSuperblock + 1024) {
      continue;
    }
    const auto* sb = reinterpret_cast<const unsigned char*>(bytes.data()) +
                     (kSuperblock - offset);
    auto u32 = [sb](int at) {
      return static_cast<std::uint32_t>(sb[at]) |
             static_cast<std::uint32_t>(sb[at + 1]) << 8 |
             static_cast<std::uint32_t>(sb[at + 2]) << 16 |
             static_cast<std::uint32_t>(sb[at + 3]) << 24;
    };
    if ((sb[0x38] | sb[0x39] << 8) != 0xEF53) return -1;
    return static_cast<std::int64_t>(u32(0x0C)) |
           static_cast<std::int64_t>(u32(0x158)) << 32;
  }
  return -1;
}

}  // namespace

namespace runtime_internal {

/// A loop device attached to an unnamed image file in sandboxes_dir. It
/// detaches by itself once neither `loop` nor a mount holds it
/// (LO_FLAGS_AUTOCLEAR), so no device outlives the server or its mounts,
/// and the unnamed file is freed with it.
struct LoopDisk {
  int index = -1;
  std::string device;
  Fd loop, image;
  std::int64_t size = 0;
  // The root of its released filesystem, detached from the tree but held
  // open, so that the filesystem is torn down (inodes evicted, dirty pages
  // written) by the thread that closes this, not by Release.
  Fd released_root;
};

}  // namespace runtime_internal

namespace {

using runtime_internal::LoopDisk;

int OpenUnnamedFile(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR)) return fd;
  std::string path = dir + "/" + kTemplatePrefix + "XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

// Attaches a new, empty image file in `dir` to a free loop device: the
// slow part of a disk (waits for an RCU grace period or two), which is why
// devices are reused.
std::unique_ptr<LoopDisk> AttachNew(const std::string& dir, int loop_control) {
  auto disk = std::make_unique<LoopDisk>();
  disk->image = Fd(OpenUnnamedFile(dir));
  if (disk->image.get() < 0) {
    throw std::runtime_error("cannot create a disk image in " + dir + ": " +
                             Errno(errno));
  }
  for (int attempt = 0; attempt < 64; ++attempt) {
    disk->index = ::ioctl(loop_control, LOOP_CTL_GET_FREE);
    if (disk->index < 0) {
      throw std::runtime_error("no free loop device: " + Errno(errno));
    }
    disk->device = "/dev/loop" + std::to_string(disk->index);
    disk->loop = Fd(::open(disk->device.c_str(), O_RDWR | O_CLOEXEC));
    if (disk->loop.get() < 0) {
      throw std::runtime_error("cannot open " + disk->device + ": " +
                               Errno(errno));
    }
    loop_config config{};
    std::memset(&config, 0, sizeof config);
    config.fd = static_cast<std::uint32_t>(disk->image.get());
    config.block_size = kBlockSize;
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    int rc = ::ioctl(disk->loop.get(), LOOP_CONFIGURE, &config);
    if (rc != 0 && (errno == EINVAL || errno == ENOTTY)) {
      // Before Linux 5.8: the two-step form.
      rc = ::ioctl(disk->loop.get(), LOOP_SET_FD, disk->image.get());
      if (rc == 0) {
        loop_info64 info{};
        std::memset(&info, 0, sizeof info);
        info.lo_flags = LO_FLAGS_AUTOCLEAR;
        if (::ioctl(disk->loop.get(), LOOP_SET_STATUS64, &info) != 0) {
          const int err = errno;
          ::ioctl(disk->loop.get(), LOOP_CLR_FD, 0);
          throw std::runtime_error("cannot configure " + disk->device + ": " +
                                   Errno(err));
        }
      }
    }
    if (rc == 0) return disk;
    // Another process took the device between GET_FREE and CONFIGURE.
    if (errno != EBUSY) {
      throw std::runtime_error("cannot attach " + disk->device + ": " +
                               Errno(errno));
    }
  }
  throw std::runtime_error("no free loop device: every one was taken");
}

// Fills the device's image with the empty filesystem of `tmpl`.
void Format(LoopDisk& disk, const Extents& extents, std::int64_t size) {
  if (::ftruncate(disk.image.get(), size) != 0) {
    throw std::runtime_error("cannot size a disk image: " + Errno(errno));
  }
  for (const auto& [offset, bytes] : extents) {
    WriteAll(disk.image.get(), bytes.data(), bytes.size(), offset);
  }
  if (disk.size != size) {
    if (::ioctl(disk.loop.get(), LOOP_SET_CAPACITY, 0) != 0) {
      throw std::runtime_error("cannot resize " + disk.device + ": " +
                               Errno(errno));
    }
    disk.size = size;
  }
}

// Empties a released device for its next sandbox: drops what the block
// device caches of the old filesystem (a new one is written under it) and
// frees the image's blocks. False when the device cannot be reused: its
// filesystem is still mounted somewhere (a process kept a file open on it,
// a mount namespace copied it), which an exclusive open detects.
bool Reset(LoopDisk& disk) {
  disk.released_root.Reset();
  Fd exclusive(::open(disk.device.c_str(), O_RDWR | O_EXCL | O_CLOEXEC));
  if (exclusive.get() < 0) return false;
  exclusive.Reset();
  if (::ioctl(disk.loop.get(), BLKFLSBUF, 0) != 0) return false;
  if (::ftruncate(disk.image.get(), 0) != 0) return false;
  return true;
}

}  // namespace

/// A formatted empty filesystem of one size: the byte ranges mkfs wrote.
/// Unchanged once size is set (under build_mu).
struct SandboxDiskPool::Template {
  std::mutex build_mu;
  std::int64_t size = 0;
  Extents extents;
};

struct SandboxDiskPool::Limited {
  std::string dir;
  std::unique_ptr<LoopDisk> disk;  // null when not enforced
  Fd root;                         // the mounted root, for statfs
};

SandboxDiskPool::SandboxDiskPool(std::string sandboxes_dir, int prepare_mb)
    : dir_(std::move(sandboxes_dir)), prepare_mb_(std::max(prepare_mb, 1)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    throw std::runtime_error("cannot create " + dir_ + ": " + ec.message());
  }
  if (::geteuid() != 0) {
    why_ = "mounting per-sandbox disks needs root";
    return;
  }
  if (!KernelHasFilesystem("ext4")) {
    why_ = "the kernel has no ext4";
    return;
  }
  mkfs_ = FindProgram("mkfs.ext4");
  if (mkfs_.empty()) {
    why_ = "mkfs.ext4 not found (Debian package e2fsprogs)";
    return;
  }
  debugfs_ = FindProgram("debugfs");
  loop_control_ = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (loop_control_ < 0) {
    why_ = "no loop devices: /dev/loop-control: " + Errno(errno);
    return;
  }
  // One disk mounted and unmounted: the only way to learn that the kernel
  // lets us (a container may have /dev/loop-control and still refuse). It
  // becomes the first spare.
  try {
    const Template& tmpl = TemplateFor(prepare_mb_);
    auto disk = AttachNew(dir_, loop_control_);
    const std::string probe = dir_ + "/" + kProbeName;
    ::mkdir(probe.c_str(), 0700);
    Limited limited;
    try {
      MountOn(*disk, tmpl, probe, limited);
    } catch (...) {
      ::rmdir(probe.c_str());
      throw;
    }
    limited.root.Reset();
    ::umount2(probe.c_str(), UMOUNT_NOFOLLOW);
    ::rmdir(probe.c_str());
    if (!Reset(*disk)) throw std::runtime_error("cannot empty a disk image");
    spares_.push_back(std::move(disk));
    enforced_ = true;
  } catch (const std::exception& e) {
    why_ = std::string("cannot mount a loop-backed disk: ") + e.what();
    return;
  }
  keeper_ = std::thread([this] { KeepSpares(); });
}

SandboxDiskPool::~SandboxDiskPool() {
  {
    std::lock_guard<std::mutex> lock(spares_mu_);
    stopping_ = true;
  }
  spares_cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  std::map<std::uint32_t, std::unique_ptr<Limited>> limited;
  {
    std::lock_guard<std::mutex> lock(mu_);
    limited.swap(limited_);
  }
  for (auto& [id, entry] : limited) {
    entry->root.Reset();
    if (entry->disk) {
      ::umount2(entry->dir.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    }
  }
  // Closing the devices detaches them (autoclear), the busy ones once
  // their lazily unmounted filesystem is let go.
  limited.clear();
  spares_.clear();
  dirty_.clear();
  if (loop_control_ >= 0) ::close(loop_control_);
}

const SandboxDiskPool::Template& SandboxDiskPool::TemplateFor(int limit_mb) {
  Template* slot = nullptr;
  {
    std::lock_guard<std::mutex> lock(templates_mu_);
    auto& entry = templates_[limit_mb];
    if (!entry) entry = std::make_unique<Template>();
    slot = entry.get();
  }
  // Formatting one size does not hold up disks of the sizes already made.
  std::lock_guard<std::mutex> build(slot->build_mu);
  if (slot->size == 0) BuildTemplate(limit_mb, *slot);
  return *slot;
}

void SandboxDiskPool::BuildTemplate(int limit_mb, Template& tmpl) {
  std::string path = dir_ + "/" + kTemplatePrefix + "XXXXXX";
  Fd image(::mkostemp(path.data(), O_CLOEXEC));
  if (image.get() < 0) {
    throw std::runtime_error("cannot create a disk image in " + dir_ + ": " +
                             Errno(errno));
  }
  struct Unlink {
    explicit Unlink(std::string image) : path(std::move(image)) {}
    Unlink(const Unlink&) = delete;
    Unlink& operator=(const Unlink&) = delete;
    ~Unlink() { ::unlink(path.c_str()); }
    std::string path;
  } unlink_later{path};
  // The sandbox must be able to store limit_mb MiB of files, as with a
  // quota: the filesystem is made larger by its metadata and by the
  // clusters ext4 keeps back from unprivileged writers (2%, at most 4096),
  // growing it until what mkfs reports free covers that.
  const std::int64_t wanted = static_cast<std::int64_t>(limit_mb) << 8;
  std::int64_t blocks = wanted + wanted / 50 + wanted / 64 + 64;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::int64_t size = blocks * kBlockSize;
    Extents extents = FormatImage(mkfs_, image.get(), path, size);
    const std::int64_t free_blocks = SuperblockFreeBlocks(extents);
    if (free_blocks < 0) {
      throw std::runtime_error("mkfs.ext4 wrote no readable superblock");
    }
    const std::int64_t usable =
        free_blocks - std::min<std::int64_t>(blocks / 50, 4096);
    if (usable < wanted) {
      blocks += wanted - usable + 16;
      continue;
    }
    // The caller's directory must look empty: no lost+found (e2fsck would
    // recreate it; nothing else needs it). Done once here, not per disk.
    if (!debugfs_.empty()) {
      std::string output;
      if (RunProgram({debugfs_, "-w", "-R", "rmdir lost+found", path},
                     &output) == 0) {
        extents = ReadExtents(image.get(), size);
      }
    }
    tmpl.extents = std::move(extents);
    tmpl.size = size;
    return;
  }
  throw std::runtime_error("cannot size a " + std::to_string(limit_mb) +
                           " MiB disk");
}

void SandboxDiskPool::MountOn(LoopDisk& disk, const Template& tmpl,
                              const std::string& dir, Limited& limited) {
  struct stat dir_st {};
  if (::lstat(dir.c_str(), &dir_st) != 0 || !S_ISDIR(dir_st.st_mode)) {
    throw std::runtime_error("not a directory: " + dir);
  }
  Format(disk, tmpl.extents, tmpl.size);
  // nodev: layers hold no device nodes. noinit_itable: the unwritten inode
  // tables need no zeroing (they are holes). nobarrier: no cache flushes,
  // which the loop device turns into an fsync of the image file; they made
  // mount, unmount and every fsync inside a sandbox wait 5-60 ms for the
  // host's disk, for data that does not outlive the sandbox anyway (the
  // overlay on it is "volatile" too).
  if (::mount(disk.device.c_str(), dir.c_str(), "ext4", MS_NODEV | MS_NOATIME,
              "noinit_itable,nobarrier") != 0) {
    throw std::runtime_error("cannot mount " + disk.device + " on " + dir +
                             ": " + Errno(errno));
  }
  limited.dir = dir;
  limited.root = Fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  // The directory the caller made, as it was: owner, mode, and empty
  // (lost+found is already gone unless debugfs was missing).
  if (limited.root.get() < 0 ||
      (::unlinkat(limited.root.get(), "lost+found", AT_REMOVEDIR) != 0 &&
       errno != ENOENT) ||
      ::fchown(limited.root.get(), dir_st.st_uid, dir_st.st_gid) != 0 ||
      ::fchmod(limited.root.get(), dir_st.st_mode & 07777) != 0) {
    const int err = errno;
    limited.root.Reset();
    if (::umount2(dir.c_str(), UMOUNT_NOFOLLOW) != 0) {
      ::umount2(dir.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    }
    throw std::runtime_error("cannot prepare the disk on " + dir + ": " +
                             Errno(err));
  }
}

std::unique_ptr<LoopDisk> SandboxDiskPool::TakeSpare() {
  {
    std::lock_guard<std::mutex> lock(spares_mu_);
    if (!spares_.empty()) {
      auto disk = std::move(spares_.back());
      spares_.pop_back();
      if (spares_.size() < kSpareTarget) spares_cv_.notify_all();
      return disk;
    }
  }
  spares_cv_.notify_all();
  // A burst outran the keeper: pay for a device now.
  return AttachNew(dir_, loop_control_);
}

void SandboxDiskPool::Recycle(std::unique_ptr<LoopDisk> disk) {
  {
    std::lock_guard<std::mutex> lock(spares_mu_);
    if (stopping_) return;  // closing it detaches it
    dirty_.push_back(std::move(disk));
  }
  spares_cv_.notify_all();
}

// Background: empties released devices and attaches new ones while fewer
// than kSpareTarget are ready.
void SandboxDiskPool::KeepSpares() {
  std::unique_lock<std::mutex> lock(spares_mu_);
  auto backoff_until = std::chrono::steady_clock::time_point();
  while (!stopping_) {
    const bool can_attach = std::chrono::steady_clock::now() >= backoff_until;
    if (!dirty_.empty()) {
      auto disk = std::move(dirty_.back());
      dirty_.pop_back();
      lock.unlock();
      const bool reusable = Reset(*disk);
      lock.lock();
      if (reusable && spares_.size() < kSpareMax) {
        spares_.push_back(std::move(disk));
      } else {
        lock.unlock();
        disk.reset();  // detaches it
        lock.lock();
      }
    } else if (spares_.size() < kSpareTarget && can_attach) {
      lock.unlock();
      std::unique_ptr<LoopDisk> disk;
      try {
        disk = AttachNew(dir_, loop_control_);
      } catch (const std::exception& e) {
        std::cerr << "e2b-local: attaching a spare sandbox disk: " << e.what()
                  << "\n";
      }
      lock.lock();
      if (disk) {
        spares_.push_back(std::move(disk));
      } else {
        backoff_until =
            std::chrono::steady_clock::now() + std::chrono::seconds(5);
      }
    } else if (spares_.size() < kSpareTarget) {
      spares_cv_.wait_until(lock, backoff_until);
    } else {
      spares_cv_.wait(lock);
    }
  }
}

std::uint32_t SandboxDiskPool::Limit(const std::string& dir, int limit_mb) {
  if (limit_mb < 1) {
    throw std::invalid_argument("disk limit must be at least 1 MiB");
  }
  auto limited = std::make_unique<Limited>();
  limited->dir = dir;
  if (enforced_) {
    const Template& tmpl = TemplateFor(limit_mb);
    auto disk = TakeSpare();
    try {
      MountOn(*disk, tmpl, dir, *limited);
    } catch (...) {
      Recycle(std::move(disk));
      throw;
    }
    limited->disk = std::move(disk);
  }
  std::lock_guard<std::mutex> lock(mu_);
  const std::uint32_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;
  limited_[id] = std::move(limited);
  return id;
}

void SandboxDiskPool::Release(std::uint32_t id) {
  std::unique_ptr<Limited> limited;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = limited_.find(id);
    if (it == limited_.end()) return;
    limited = std::move(it->second);
    limited_.erase(it);
  }
  if (!limited->disk) return;
  // Lazily, so this only detaches the mount from the directory; the
  // background thread lets the filesystem go and reuses the device when
  // nothing else holds it.
  ::umount2(limited->dir.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  limited->disk->released_root = std::move(limited->root);
  Recycle(std::move(limited->disk));
}

std::int64_t SandboxDiskPool::Used(std::uint32_t id) const {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = limited_.find(id);
  if (it == limited_.end()) return -1;
  const Limited& limited = *it->second;
  if (!limited.disk) {
    // A walk of the tree: not under the lock every sandbox needs.
    const std::string dir = limited.dir;
    lock.unlock();
    return runtime_internal::DiskUsageBytes(dir);
  }
  struct statfs st {};
  if (::fstatfs(limited.root.get(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.f_blocks - st.f_bfree) *
         static_cast<std::int64_t>(st.f_bsize);
}

std::int64_t SandboxDiskPool::Capacity(std::uint32_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = limited_.find(id);
  if (it == limited_.end() || !it->second->disk) return -1;
  struct statfs st {};
  if (::fstatfs(it->second->root.get(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.f_blocks) *
         static_cast<std::int64_t>(st.f_bsize);
}

std::string ReclaimDiskPool(const std::string& sandboxes_dir) {
  if (sandboxes_dir.empty() || sandboxes_dir[0] != '/') return "";
  const std::string dir = Canonical(sandboxes_dir);
  if (dir == "/") return "";
  std::ostringstream report;
  // Disks mounted on sandbox directories: ext4 from a loop device. Lazily,
  // as sandbox processes of the dead server may still hold them.
  int unmounted = 0;
  {
    std::vector<std::string> targets;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string id, parent, devno, root, mount_point, field;
      if (!(fields >> id >> parent >> devno >> root >> mount_point)) continue;
      while (fields >> field && field != "-") {
      }
      std::string type, source;
      fields >> type >> source;
      if (type != "ext4" || source.rfind("/dev/loop", 0) != 0) continue;
      if (mount_point.rfind(dir + "/", 0) != 0) continue;
      // Paths with escaped characters are not ours (sandbox ids are plain).
      if (mount_point.find('\\') != std::string::npos) continue;
      targets.push_back(mount_point);
    }
    std::sort(targets.begin(), targets.end(),
              [](const std::string& a, const std::string& b) {
                return a.size() > b.size();
              });
    for (const auto& target : targets) {
      if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
        ++unmounted;
      }
    }
  }
  if (unmounted > 0) report << "unmounted " << unmounted << " disk(s); ";
  // Loop devices over images inside sandboxes_dir that nothing holds any
  // more (the others detach by themselves when their last user goes).
  int detached = 0;
  std::error_code ec;
  for (fs::directory_iterator it("/sys/block", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("loop", 0) != 0) continue;
    std::ifstream backing(it->path() / "loop" / "backing_file");
    std::string file;
    if (!std::getline(backing, file)) continue;
    if (file.rfind(dir + "/", 0) != 0) continue;
    Fd loop(::open(("/dev/" + name).c_str(), O_RDWR | O_CLOEXEC));
    if (loop.get() >= 0 && ::ioctl(loop.get(), LOOP_CLR_FD, 0) == 0) {
      ++detached;
    }
  }
  if (detached > 0) report << "detached " << detached << " loop device(s); ";
  // Formatting scratch files of a server that died while making one.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kTemplatePrefix, 0) == 0) {
      ::unlink(it->path().c_str());
    } else if (name == kProbeName) {
      std::error_code ignored;
      ::umount2(it->path().c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
      fs::remove_all(it->path(), ignored);
    }
  }
  std::string text = report.str();
  if (text.size() >= 2) text.resize(text.size() - 2);
  return text;
}

}  // namespace e2b_local
