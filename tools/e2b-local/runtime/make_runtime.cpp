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
  char dir_template[] = "/tmp/e2b-local-probe-XXXXXX";
  if (!mkdtemp(dir_template)) {
    return std::string("cannot create a probe directory: ") +
           std::strerror(errno);
  }
  std::string dir = dir_template;
  std::string upper = dir + "/upper", work = dir + "/work",
              merged = dir + "/merged";
  std::string options = "lowerdir=/,upperdir=" + upper + ",workdir=" + work;
  mkdir(upper.c_str(), 0755);
  mkdir(work.c_str(), 0755);
  mkdir(merged.c_str(), 0755);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    std::filesystem::remove_all(dir);
    return "pipe failed";
  }
  // Stage codes go back through the pipe; the child only makes syscalls.
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    int stage = 0;
    if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
                CLONE_NEWNET) != 0) {
      stage = 1;
    } else if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) !=
               0) {
      stage = 2;
    } else if (mount("overlay", merged.c_str(), "overlay", 0,
                     options.c_str()) != 0) {
      stage = 3;
    }
    int report[2] = {stage, errno};
    if (write(fds[1], report, sizeof report) < 0) _exit(2);
    _exit(stage == 0 ? 0 : 1);
  }
  close(fds[1]);
  int report[2] = {-1, 0};
  ssize_t n = -1;
  if (child > 0) {
    do {
      n = read(fds[0], report, sizeof report);
    } while (n < 0 && errno == EINTR);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close(fds[0]);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (child < 0) return std::string("fork failed: ") + std::strerror(errno);
  if (n != static_cast<ssize_t>(sizeof report)) return "probe process failed";
  switch (report[0]) {
    case 0:
      return "";
    case 1:
      return std::string(
                 "unshare of mount/pid/uts/ipc/net namespaces "
                 "failed: ") +
             std::strerror(report[1]);
    case 2:
      return std::string("making mounts private failed: ") +
             std::strerror(report[1]);
    default:
      return std::string("overlayfs with lowerdir=/ failed: ") +
             std::strerror(report[1]);
  }
}

}  // namespace runtime_internal

std::unique_ptr<SandboxRuntime> MakeRuntime(IsolationMode mode) {
  if (mode == IsolationMode::kNone) {
    std::cerr << "e2b-local: WARNING: isolation mode 'none': sandbox "
                 "processes run directly on this host, NOTHING IS ISOLATED\n";
    return runtime_internal::MakeUnisolatedRuntime();
  }
  std::string reason = runtime_internal::ProbeNamespaces();
  if (reason.empty()) return runtime_internal::MakeNamespaceRuntime();
  if (mode == IsolationMode::kNamespaces) {
    throw std::runtime_error("namespace isolation unavailable: " + reason);
  }
  std::cerr << "e2b-local: WARNING: namespace isolation unavailable (" << reason
            << "); falling back to isolation mode 'none': sandbox processes "
               "run directly on this host, NOTHING IS ISOLATED\n";
  return runtime_internal::MakeUnisolatedRuntime();
}

}  // namespace e2b_local
