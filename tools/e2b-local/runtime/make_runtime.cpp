#include "rootfs/base_rootfs.hpp"
#include "runtime/runtime_factories.hpp"
#include "runtime/sandbox_runtime.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

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

// The probe child has nothing to do: being created is the test.
int ProbeChild(void*) { return 0; }

std::string ProbeNamespaces() {
  if (geteuid() != 0) {
    return "namespace isolation needs root (running as uid " +
           std::to_string(geteuid()) + ")";
  }
  // clone() with the namespace flags, as sandbox init is started, rather
  // than fork() + unshare(): unshare(CLONE_NEWUSER) refuses a caller with
  // more than one thread, and a forked child can have one it did not ask
  // for (ThreadSanitizer starts its background thread in the child of a
  // single-threaded parent), which would make the probe fail where
  // sandboxes work.
  std::vector<char> stack(std::size_t{64} * 1024);
  const int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
                    CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP | SIGCHLD;
  const pid_t child =
      clone(ProbeChild, stack.data() + stack.size(), flags, nullptr);
  if (child < 0) {
    return std::string(
               "creating user/mount/pid/uts/ipc/net/cgroup namespaces "
               "failed: ") +
           std::strerror(errno);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return "";
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
