#include "runtime/volume_binds.hpp"

#include "envd/sandbox_paths.hpp"
#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace e2b_local {
namespace {

std::string FdPath(const UniqueFd& fd) {
  return "/proc/self/fd/" + std::to_string(fd.get());
}

[[noreturn]] void Fail(const std::string& what, const std::string& path,
                       int error_number) {
  throw std::runtime_error("cannot mount the volume at " + path + ": " + what +
                           ": " + std::strerror(error_number));
}

}  // namespace

void BindVolume(const SandboxFs& fs, const std::string& host_dir,
                const std::string& path, uid_t uid, gid_t gid) {
  if (path.empty() || path[0] != '/' || path == "/") {
    throw std::invalid_argument("cannot mount a volume at '" + path + "'");
  }
  UniqueFd source(
      ::open(host_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (source.get() < 0) Fail("the volume's directory is missing", path, errno);
  UniqueFd target;
  try {
    fs.MakeDirs(path, uid, gid);
    target = fs.Open(path, O_PATH | O_DIRECTORY);
  } catch (const PathError& e) {
    throw VolumePathError("path '" + path +
                          "' cannot be a directory in the sandbox: " +
                          std::strerror(e.error_number()));
  }
  // Through /proc/self/fd, mount(2) lands on the very directory resolved
  // above, whatever the path's components are by now.
  if (::mount(FdPath(source).c_str(), FdPath(target).c_str(), nullptr, MS_BIND,
              nullptr) != 0) {
    Fail("bind mount", path, errno);
  }
  // The flags of a bind mount are set by a remount of the new mount, found
  // the same way (the old descriptor names the directory beneath it).
  UniqueFd mounted;
  try {
    mounted = fs.Open(path, O_PATH | O_DIRECTORY);
  } catch (const PathError& e) {
    // Left to the unmount of the whole root when the sandbox goes.
    Fail("reopen", path, e.error_number());
  }
  if (::mount(nullptr, FdPath(mounted).c_str(), nullptr,
              MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, nullptr) != 0) {
    const int error_number = errno;
    ::umount2(FdPath(mounted).c_str(), MNT_DETACH);
    Fail("remount nosuid,nodev", path, error_number);
  }
}

}  // namespace e2b_local
