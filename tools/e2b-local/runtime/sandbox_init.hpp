#ifndef E2B_LOCAL_RUNTIME_SANDBOX_INIT_HPP_
#define E2B_LOCAL_RUNTIME_SANDBOX_INIT_HPP_

// The server's side of a sandbox's PID 1 (tools/e2b-local/init/): starting
// it in its namespaces, and asking it to start and signal commands over the
// control socket (runtime/init_protocol.hpp).

#include "runtime/sandbox_runtime.hpp"

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace e2b_local::runtime_internal {

/// The init binary, copied once into a sealed memfd that every sandbox
/// execs: nothing in a sandbox can change what the next one runs, even
/// through /proc/<pid>/exe.
class InitImage {
 public:
  /// Throws std::runtime_error when `path` cannot be read.
  explicit InitImage(const std::string& path);
  ~InitImage();
  InitImage(const InitImage&) = delete;
  InitImage& operator=(const InitImage&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

/// Where the init binary is: $E2B_SANDBOX_INIT, else beside the running
/// executable, else the install and build locations compiled in. Throws
/// std::runtime_error naming the places tried.
std::string FindInitBinary();

struct InitLaunch {
  const InitImage* image = nullptr;
  /// Host path of the sandbox's root (the overlay mount point).
  std::string root;
  std::string hostname;
  IdRange ids;
  /// cgroup files init joins before it execs (see SandboxCgroups).
  std::vector<std::string> cgroup_attach;
};

/// A running sandbox init. Thread-safe.
class SandboxInit {
 public:
  /// Starts init in new namespaces (they exist when this returns, so the
  /// network can be attached while init builds its view); throws
  /// std::runtime_error.
  explicit SandboxInit(const InitLaunch& launch);
  ~SandboxInit();
  SandboxInit(const SandboxInit&) = delete;
  SandboxInit& operator=(const SandboxInit&) = delete;

  /// Waits until init reports its view ready, before any Spawn; throws
  /// std::runtime_error naming the failed stage. Idempotent once it passed.
  void WaitReady();
  /// Host pid of init (its /proc/<pid>/ns/* are the sandbox's).
  pid_t HostPid() const;
  /// Starts a command (options.user in sandbox ids); throws SpawnError.
  std::unique_ptr<SandboxProcess> Spawn(const SpawnOptions& options);
  /// Ends init and with it every process of the sandbox. Idempotent.
  void Kill();

  struct Channel;

 private:
  std::shared_ptr<Channel> channel_;
};

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_SANDBOX_INIT_HPP_
