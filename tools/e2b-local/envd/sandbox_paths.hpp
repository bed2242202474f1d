#ifndef E2B_LOCAL_ENVD_SANDBOX_PATHS_HPP_
#define E2B_LOCAL_ENVD_SANDBOX_PATHS_HPP_

// Path handling inside one sandbox's root. Client paths are made absolute
// (relative to the user's home) and cleaned; every open, mkdir, rename and
// unlink then resolves them with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS) against a descriptor of the root, so `..`, absolute
// symlinks and /proc/<pid>/root links never leave the sandbox.

#include "runtime/sandbox_runtime.hpp"
#include "util/unique_fd.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace e2b_local {

/// A failed path operation: the errno and a message naming the path.
class PathError : public std::runtime_error {
 public:
  PathError(int error_number, const std::string& message)
      : std::runtime_error(message), error_number_(error_number) {}
  int error_number() const { return error_number_; }

 private:
  int error_number_;
};

/// Turns a client path into a clean absolute sandbox path: empty = home,
/// "~" and "~/x" relative to home, relative paths under home. Throws
/// PathError(EINVAL) for "~other", NUL bytes or a non-absolute home.
std::string ResolveClientPath(const std::string& path, const SandboxUser& user);

/// Lexically cleans an absolute path ("/a/./b/../c//" -> "/a/c").
std::string CleanAbsolutePath(const std::string& path);

/// "/a/b" -> {"/a", "b"}; "/" -> {"/", ""}.
std::pair<std::string, std::string> SplitParent(const std::string& abs_path);

/// One sandbox's root directory, opened once. Every method takes clean
/// absolute sandbox paths and throws PathError with errno on failure.
class SandboxFs {
 public:
  /// Opens `root_path` (a host directory). Throws PathError.
  explicit SandboxFs(const std::string& root_path)
      : SandboxFs(root_path, nullptr) {}
  /// Also translates ids: files carry host ids, clients see the sandbox's
  /// (`instance` outlives this object).
  SandboxFs(const std::string& root_path, const SandboxInstance& instance)
      : SandboxFs(root_path, &instance) {}

  /// Host ids for a sandbox user's files, and a file's ids as the sandbox
  /// sees them (identity without an instance).
  uid_t HostUid(uid_t id) const {
    return instance_ ? instance_->HostUid(id) : id;
  }
  gid_t HostGid(gid_t id) const {
    return instance_ ? instance_->HostGid(id) : id;
  }
  uid_t SandboxUid(uid_t id) const {
    return instance_ ? instance_->SandboxUid(id) : id;
  }
  gid_t SandboxGid(gid_t id) const {
    return instance_ ? instance_->SandboxGid(id) : id;
  }

  /// openat2 inside the root. `flags` as for open(2); O_CLOEXEC is added.
  UniqueFd Open(const std::string& path, int flags, mode_t mode = 0) const;
  /// The parent directory of `path` (opened O_PATH | O_DIRECTORY) and the
  /// last component; PathError(EINVAL) for "/".
  std::pair<UniqueFd, std::string> OpenParent(const std::string& path) const;

  /// stat following symlinks (inside the root) / not following the last.
  struct stat Stat(const std::string& path) const;
  struct stat Lstat(const std::string& path) const;
  /// false when the path (or, following, its target) does not exist.
  bool Exists(const std::string& path, bool follow = true) const;

  /// Creates `path` and missing parents (mode 0755), new directories owned
  /// by uid/gid. Returns true when `path` itself was created. EEXIST as a
  /// PathError when a component exists but is not a directory.
  bool MakeDirs(const std::string& path, uid_t uid, gid_t gid) const;
  /// rename(2) between two paths inside the root.
  void Rename(const std::string& from, const std::string& to) const;
  /// Removes a file, symlink or whole tree; a missing path is not an error.
  void RemoveAll(const std::string& path) const;
  /// The raw text of a symlink.
  std::string ReadLink(const std::string& path) const;
  /// Where `path` leads after following every symlink inside the root, as
  /// a sandbox path.
  std::string RealPath(const std::string& path) const;
  /// Names in a directory (not "." or ".."), sorted.
  std::vector<std::string> ListNames(const std::string& path) const;

  /// Host path of the root.
  const std::string& root_path() const { return root_path_; }
  int root_fd() const { return root_.get(); }

 private:
  // Both public constructors: `instance` null when ids are not translated.
  SandboxFs(const std::string& root_path, const SandboxInstance* instance);

  std::string root_path_;  ///< as the kernel reports it (symlinks resolved)
  UniqueFd root_;
  const SandboxInstance* instance_ = nullptr;
};

/// Reads a regular file inside the root (symlinks resolved inside the root
/// only), at most max_bytes; nullopt when missing, not regular, or larger
/// than max_bytes. A FIFO, device or directory there costs nothing: the
/// type is checked on an O_PATH descriptor before anything is opened for
/// reading.
std::optional<std::string> ReadRegularFile(const SandboxFs& fs,
                                           const std::string& path,
                                           std::size_t max_bytes);

/// Atomically replaces a regular file inside the root (temp file in the
/// same dir + renameat), never following a symlink at `path` (a symlink or
/// non-regular file there is replaced, not followed), owner uid/gid (host
/// ids), mode. The parent directory resolves inside the root. Throws
/// PathError (EISDIR when `path` is a directory).
void WriteRegularFile(const SandboxFs& fs, const std::string& path,
                      const std::string& content, uid_t uid, gid_t gid,
                      mode_t mode);

/// The sandbox path of an open descriptor (via /proc/self/fd), given the
/// host path of the root; empty when it is not under the root.
std::string SandboxPathOfFd(int fd, const std::string& host_root);

/// True when a chown failed only because the server does not run as root
/// (the unisolated fallback): the file keeps the server's owner then.
bool ChownRefusedToNonRoot(int error_number);

/// A message like "path '/x' does not exist" for an errno.
std::string DescribePathErrno(int error_number, const std::string& path);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_SANDBOX_PATHS_HPP_
