#ifndef E2B_LOCAL_RUNTIME_SANDBOX_DISK_HPP_
#define E2B_LOCAL_RUNTIME_SANDBOX_DISK_HPP_

// Per-sandbox disk limits: writes inside a sandbox fail with ENOSPC, as on
// a full disk, once its writable layer holds its template's diskSizeMB.
//
// Each limited directory becomes the mount point of its own ext4
// filesystem, on a loop device over a sparse, unnamed image file in
// sandboxes_dir. The sandbox's overlay upper and work directories live in
// it, so `df /` inside the sandbox shows its disk as on E2B's VMs.
//
// Why not project quotas on one shared filesystem (XFS prjquota, ext4
// project quotas): they need CONFIG_XFS_QUOTA or CONFIG_QFMT_V2, which
// kernels such as this host's 6.18 leave out, and ext4's and btrfs's
// quotas fail with EDQUOT rather than ENOSPC. Loop devices and ext4 are in
// every kernel that runs containers.
//
// What makes it cheap: attaching a loop device waits for RCU grace
// periods (1-20 ms here), so devices are attached ahead of time and
// reused. Limit() copies a formatted empty filesystem's few written blocks
// (~100-250 KiB, formatted once per size) into a spare device's image and
// mounts it: ~0.5 ms. Release() detaches the mount; a background thread
// lets the filesystem go, empties the image and keeps spares attached.
// The disks are mounted without write barriers (their data never outlives
// the sandbox, like the overlay's "volatile"), so neither mount, unmount
// nor an fsync inside a sandbox waits for the host's disk.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {
namespace runtime_internal {
struct LoopDisk;
}  // namespace runtime_internal

class SandboxDiskPool {
 public:
  /// Prepares `sandboxes_dir` (creating it) and checks, with one disk of
  /// `prepare_mb` MiB (the size formatted ahead of time), that loop-backed
  /// filesystems can be mounted there. Never throws for "unsupported" (not
  /// root, no loop devices, no mkfs.ext4): then Enforced() is false and
  /// Why() says why. Throws std::runtime_error when the directory cannot be
  /// created. Construct it after the leftovers of an earlier run are gone
  /// (ReclaimLeftovers, ReclaimDiskPool).
  explicit SandboxDiskPool(std::string sandboxes_dir, int prepare_mb = 1024);
  /// Unmounts the disks still mounted (lazily when busy) and detaches every
  /// loop device it attached (a busy one once its filesystem is let go).
  ~SandboxDiskPool();
  SandboxDiskPool(const SandboxDiskPool&) = delete;
  SandboxDiskPool& operator=(const SandboxDiskPool&) = delete;

  bool Enforced() const { return enforced_; }
  /// Why limits are not enforced; empty when they are.
  const std::string& Why() const { return why_; }

  /// Limits the tree under `dir` (a new, empty directory inside
  /// sandboxes_dir) to limit_mb MiB of files by mounting a disk on it,
  /// keeping the directory's owner and mode. Returns an id for Release and
  /// Used. When not Enforced() it only records `dir`. The first call for a
  /// size not formatted yet runs mkfs.ext4 (~50-100 ms). Throws
  /// std::runtime_error when no disk can be made, std::invalid_argument for
  /// limit_mb < 1.
  std::uint32_t Limit(const std::string& dir, int limit_mb);

  /// Unmounts the disk of `id`. Call after the sandbox's overlay is
  /// unmounted and its processes are gone, and before its directory is
  /// renamed or removed (a mount point cannot be renamed). What the disk
  /// still caches is dropped, not written back. Afterwards the directory is
  /// an empty one on the host's filesystem again. Unknown ids are ignored.
  /// Never throws.
  void Release(std::uint32_t id);

  /// Bytes in use on the disk of `id` as `df` inside the sandbox shows
  /// them; when not Enforced(), the size of the files under its directory.
  /// -1 for an unknown id.
  std::int64_t Used(std::uint32_t id) const;

  /// Size of the disk of `id` as `df` shows it (a little more than its
  /// limit: ext4 keeps some space for itself); -1 for an unknown id or
  /// when not Enforced().
  std::int64_t Capacity(std::uint32_t id) const;

 private:
  struct Template;
  struct Limited;
  using LoopDisk = runtime_internal::LoopDisk;

  const Template& TemplateFor(int limit_mb);
  void BuildTemplate(int limit_mb, Template& tmpl);
  std::unique_ptr<LoopDisk> TakeSpare();
  void Recycle(std::unique_ptr<LoopDisk> disk);
  void MountOn(LoopDisk& disk, const Template& tmpl, const std::string& dir,
               Limited& limited);
  void KeepSpares();

  std::string dir_;
  bool enforced_ = false;
  std::string why_;
  std::string mkfs_, debugfs_;
  int loop_control_ = -1;

  mutable std::mutex mu_;
  std::uint32_t next_id_ = 1;
  std::map<std::uint32_t, std::unique_ptr<Limited>> limited_;

  std::mutex templates_mu_;
  std::map<int, std::unique_ptr<Template>> templates_;

  // Attached, empty loop devices, and released ones to empty.
  std::mutex spares_mu_;
  std::condition_variable spares_cv_;
  std::vector<std::unique_ptr<LoopDisk>> spares_, dirty_;
  bool stopping_ = false;
  int prepare_mb_ = 0;
  std::thread keeper_;
};

/// Unmounts the disks a server that died left mounted in sandboxes_dir and
/// detaches loop devices whose image is in sandboxes_dir. Call at start-up
/// after ReclaimLeftovers (which kills processes that may still hold the
/// disks) and before the leftover directories are deleted. Never throws;
/// returns what it did, for logs.
std::string ReclaimDiskPool(const std::string& sandboxes_dir);

}  // namespace e2b_local

#endif  // E2B_LOCAL_RUNTIME_SANDBOX_DISK_HPP_
