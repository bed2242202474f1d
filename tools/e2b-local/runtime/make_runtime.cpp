#include "rootfs/base_rootfs.hpp"
#include "runtime/runtime_factories.hpp"
#include "runtime/sandbox_runtime.hpp"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace e2b_local {
namespace runtime_internal {

const SandboxSpec& CheckSandboxSpec(const SandboxSpec& spec) {
  if (spec.dir.empty() || spec.dir[0] != '/' || spec.id.empty() ||
      spec.id.find('/') != std::string::npos || spec.id == "." ||
      spec.id == "..") {
    throw std::runtime_error("invalid sandbox id or directory");
  }
  return spec;
}

std::string ProbeNamespaces() {
  if (geteuid() != 0) {
    return "namespace isolation needs root (running as uid " +
           std::to_string(geteuid()) + ")";
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  // The errno goes back through the pipe; the child only makes syscalls.
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    int err = 0;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
                CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP) != 0) {
      err = errno;
    }
    if (write(fds[1], &err, sizeof err) < 0) _exit(2);
    _exit(err == 0 ? 0 : 1);
  }
  close(fds[1]);
  int err = -1;
  ssize_t n = -1;
  if (child > 0) {
    do {
      n = read(fds[0], &err, sizeof err);
    } while (n < 0 && errno == EINTR);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close(fds[0]);
  if (child < 0) return std::string("fork failed: ") + std::strerror(errno);
  if (n != static_cast<ssize_t>(sizeof err)) return "probe process failed";
  if (err == 0) return "";
  return std::string(
             "unshare of user/mount/pid/uts/ipc/net/cgroup namespaces "
             "failed: ") +
         std::strerror(err);
}

}  // namespace runtime_internal

std::unique_ptr<SandboxRuntime> MakeRuntime(IsolationMode mode,
                                            const RuntimeOptions& options) {
  if (mode == IsolationMode::kNone) {
    std::cerr << "e2b-local: WARNING: isolation mode 'none': sandbox "
                 "processes run directly on this host as its users, with the "
                 "host's files and network. NOTHING IS ISOLATED: never run "
                 "untrusted code this way\n";
    return runtime_internal::MakeUnisolatedRuntime();
  }
  std::string reason = runtime_internal::ProbeNamespaces();
  if (!reason.empty()) {
    throw std::runtime_error(
        "sandbox isolation is unavailable: " + reason +
        " (run as root on Linux with user namespaces; '--isolation none' "
        "runs sandboxes unisolated, only for trusted code)");
  }
  return runtime_internal::MakeNamespaceRuntime(options);
}

std::unique_ptr<SandboxRuntime> MakeRuntime(IsolationMode mode) {
  RuntimeOptions options;
  if (mode != IsolationMode::kNone) {
    BaseRootfsOptions rootfs;
    rootfs.ids = options.ids;
    options.base_rootfs = EnsureBaseRootfs(rootfs);
  }
  return MakeRuntime(mode, options);
}

}  // namespace e2b_local
