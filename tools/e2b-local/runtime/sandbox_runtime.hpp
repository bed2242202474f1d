#ifndef E2B_LOCAL_RUNTIME_SANDBOX_RUNTIME_HPP_
#define E2B_LOCAL_RUNTIME_SANDBOX_RUNTIME_HPP_

// The platform layer of e2b-local: how a sandbox's filesystem and processes
// are made. Two implementations: Linux namespaces + overlayfs, and the
// unisolated fallback ("none").

#include "runtime/sandbox_network.hpp"

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace e2b_local {

enum class IsolationMode { kAuto, kNamespaces, kNone };

/// The host ids a sandbox's ids map to: sandbox id N is host id base + N,
/// for N < count. Every namespaced sandbox uses the same range (its root is
/// an unprivileged host uid that owns nothing outside sandbox layers).
struct IdRange {
  uid_t base = 1000000000;
  uid_t count = 65536;
};

/// An account inside a sandbox.
struct SandboxUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

/// One resource usage sample.
struct ResourceUsage {
  int cpu_count = 0;
  double cpu_used_pct = 0;
  std::int64_t mem_used = 0, mem_total = 0, mem_cache = 0;
  std::int64_t disk_used = 0, disk_total = 0;
};

/// How a process ended, in envd's terms.
struct ExitStatus {
  bool exited = false;  ///< true when it exited (not killed by a signal)
  int exit_code = 0;    ///< -1 when killed by a signal
  std::string status;   ///< "exit status 1", "signal: killed"
};

struct SpawnOptions {
  std::vector<std::string> argv;  ///< argv[0] looked up on PATH in the sandbox
  std::map<std::string, std::string> env;  ///< the complete environment
  std::string cwd;                         ///< path inside the sandbox
  SandboxUser user;
  bool pty = false;
  std::uint16_t cols = 80, rows = 24;
  bool stdin_pipe = false;  ///< false: stdin is /dev/null
};

/// A process started in a sandbox. Thread-safe.
class SandboxProcess {
 public:
  virtual ~SandboxProcess() = default;
  /// The pid reported to clients.
  virtual std::uint32_t Pid() const = 0;
  /// Read ends of stdout/stderr, or the PTY master (-1 when absent). Owned
  /// by the process object.
  virtual int StdoutFd() const = 0;
  virtual int StderrFd() const = 0;
  virtual int PtyFd() const = 0;
  /// Writes to stdin (or the PTY); false when closed or absent.
  virtual bool WriteInput(const std::string& data) = 0;
  virtual void CloseStdin() = 0;
  virtual void Signal(int signo) = 0;
  virtual bool Resize(std::uint16_t cols, std::uint16_t rows) = 0;
  /// Blocks until the process ends.
  virtual ExitStatus Wait() = 0;
};

/// The on-disk and in-kernel parts of one sandbox. Thread-safe.
class SandboxInstance {
 public:
  virtual ~SandboxInstance() = default;
  /// Host path whose contents are the sandbox's "/". File operations
  /// resolve client paths under it with RESOLVE_IN_ROOT semantics.
  virtual const std::string& RootPath() const = 0;
  /// The writable layer (what a snapshot copies). Runtimes stack the
  /// template layers into it at creation, so a copy of it is a complete
  /// layer over the host's "/" that needs none of the layers it came from.
  virtual const std::string& UpperDir() const = 0;
  /// "user" (uid 1000, home /home/user) and "root" always exist. Ids are
  /// the sandbox's own (what `id` prints inside).
  virtual std::optional<SandboxUser> LookupUser(
      const std::string& name) const = 0;
  /// The host ids files in RootPath() carry for sandbox ids, and back
  /// (ids outside the range come back as 65534, nobody). Identity for the
  /// unisolated runtime.
  virtual uid_t HostUid(uid_t sandbox_uid) const { return sandbox_uid; }
  virtual gid_t HostGid(gid_t sandbox_gid) const { return sandbox_gid; }
  virtual uid_t SandboxUid(uid_t host_uid) const { return host_uid; }
  virtual gid_t SandboxGid(gid_t host_gid) const { return host_gid; }
  /// Starts a process; throws SpawnError.
  virtual std::unique_ptr<SandboxProcess> Spawn(
      const SpawnOptions& options) = 0;
  /// Stops / continues every process of the sandbox.
  virtual void Freeze() = 0;
  virtual void Thaw() = 0;
  /// A filesystem-only pause: ends every process (their memory is freed)
  /// and keeps the filesystem; Spawn fails until Boot() starts the sandbox
  /// afresh on it (a new init, the network attached again), as E2B
  /// cold-boots a sandbox paused without its memory. Both idempotent;
  /// nothing once destroyed.
  virtual void Halt() = 0;
  virtual void Boot() = 0;
  /// Kills every process and releases mounts. Idempotent.
  virtual void Destroy() = 0;
  /// PUT /sandboxes/{id}/network: the new egress policy, applied at once.
  /// Throws std::invalid_argument for a policy E2B rejects.
  virtual void UpdateNetwork(const EgressPolicy& policy) = 0;
  virtual ResourceUsage Usage() = 0;
  /// An unconnected, non-blocking IPv4 TCP socket in the sandbox's network
  /// namespace, so that connecting it to 127.0.0.1 reaches the sandbox's
  /// own loopback and never the host's (the envd port's proxy to sandbox
  /// ports). Throws std::runtime_error when there is none: the default,
  /// kept by the unisolated runtime, whose sandboxes share the host's
  /// network, so forwarding there would open the host's loopback services.
  virtual UniqueFd OpenTcpSocket() {
    throw std::runtime_error(
        "this sandbox has no network of its own (--isolation none), so its "
        "ports cannot be forwarded");
  }
};

/// Spawn failures: kind "invalid_argument" (bad cwd), else "internal".
struct SpawnError : std::runtime_error {
  SpawnError(std::string kind_, const std::string& message)
      : std::runtime_error(message), kind(std::move(kind_)) {}
  std::string kind;
};

/// A volume inside a sandbox: its host directory, bound at `path` (a clean
/// absolute sandbox path other than "/").
struct VolumeBind {
  std::string host_dir;
  std::string path;
};

struct SandboxSpec {
  std::string id;
  /// Read-only template layers, topmost first; empty = the base template.
  /// Layers are stacked on the base root filesystem ("/" in the list is
  /// ignored). They are copied into the sandbox's writable layer, so they
  /// may be deleted once Create returns.
  std::vector<std::string> layers;
  /// Directory owned by this sandbox (upper, work, merged, ...).
  std::string dir;
  std::string hostname;
  /// allow_internet_access and NetworkConfig's allowOut/denyOut. The
  /// unisolated runtime cannot enforce it (it shares the host's network).
  EgressPolicy network;
  /// Enforced (cgroups) and reported as the totals of Usage(); 0 = the
  /// host's, unlimited.
  int cpu_count = 0;
  int memory_mb = 0;
  /// Most processes and threads at once; 0 = unlimited.
  int pids_max = 0;
  /// MiB the sandbox may write (its writable layer: what it adds to or
  /// changes in the template); past it writes fail with ENOSPC. 0 =
  /// unlimited. The namespaced runtime enforces it where the host allows
  /// loop-mounted disks (SandboxRuntime::Prepare says when it does not).
  int disk_mb = 0;
  /// Volumes bound into the root before init starts, in order (a later
  /// path may lie inside an earlier volume). They stay bound across
  /// Halt/Boot and go with Destroy; their contents are never copied,
  /// snapshotted or removed with the sandbox.
  std::vector<VolumeBind> volumes;
  /// Destroy() renames `dir` away and deletes it on a background thread
  /// (RemoveTreeInBackground) instead of before it returns; the registry
  /// sets this so a kill does not wait for the disk.
  bool remove_dir_in_background = false;
};

/// How the namespaced runtime builds sandboxes.
struct RuntimeOptions {
  /// The base template: a root filesystem owned by `ids` (see
  /// rootfs/base_rootfs.hpp), the lowest layer of every sandbox. Never the
  /// host's "/".
  std::string base_rootfs;
  IdRange ids;
  /// The init binary; empty = FindInitBinary().
  std::string init_binary;
};

class SandboxRuntime {
 public:
  virtual ~SandboxRuntime() = default;
  virtual std::unique_ptr<SandboxInstance> Create(const SandboxSpec& spec) = 0;
  /// Gets `sandboxes_dir` (where specs' `dir`s are made) ready: releases
  /// what a server that died left of its per-sandbox disks and prepares
  /// new ones, so the first Create does not wait for that. Call after
  /// ReclaimLeftovers, while no sandbox of the directory is live; Create
  /// does it by itself for a directory not prepared yet. Returns what it
  /// reclaimed and a warning when disk limits cannot be enforced, for logs.
  /// Never throws.
  virtual std::string Prepare(const std::string& sandboxes_dir) {
    (void)sandboxes_dir;
    return "";
  }
  /// "namespaces" or "none".
  virtual const char* Name() const = 0;
};

/// Releases what sandboxes whose `dir` is in sandboxes_dir left behind when
/// a server using that directory died: overlay mounts under it, their
/// cgroups (killing tasks still in them) and the fallback's roots. Nothing
/// of other directories is touched. Call only while no sandbox of
/// sandboxes_dir is live. Never throws; returns what it did, for logs.
std::string ReclaimLeftovers(const std::string& sandboxes_dir);

/// kAuto and kNamespaces need the kernel's namespaces and throw when they
/// are unavailable, naming why; kNone is the unisolated fallback (with a
/// loud warning on stderr every start).
std::unique_ptr<SandboxRuntime> MakeRuntime(IsolationMode mode,
                                            const RuntimeOptions& options);
/// The same with the default ids and the cached base root filesystem
/// (EnsureBaseRootfs with default options; built on first use).
std::unique_ptr<SandboxRuntime> MakeRuntime(IsolationMode mode);

}  // namespace e2b_local

#endif  // E2B_LOCAL_RUNTIME_SANDBOX_RUNTIME_HPP_
