#include "envd/sandbox_paths.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace e2b_local {
namespace {

constexpr int kMaxAttempts = 16;

int RawOpenat2(int dirfd, const std::string& path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  // The kernel rejects a mode without O_CREAT / O_TMPFILE.
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    how.mode = mode;
  }
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    long fd = syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename or mount raced the resolution; retry.
    if (errno != EAGAIN && errno != EINTR) return -1;
  }
  errno = EAGAIN;
  return -1;
}

std::string ErrnoText(int error_number) {
  return std::string(std::strerror(error_number));
}

std::vector<std::string> ChildNames(int dir_fd, const std::string& name) {
  int list_fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0) {
    throw PathError(errno, "open '" + name + "': " + ErrnoText(errno));
  }
  DIR* dir = fdopendir(list_fd);
  if (dir == nullptr) {
    int err = errno;
    close(list_fd);
    throw PathError(err, "opendir '" + name + "': " + ErrnoText(err));
  }
  std::vector<std::string> children;
  while (dirent* entry = readdir(dir)) {
    std::string child = entry->d_name;
    if (child != "." && child != "..") children.push_back(std::move(child));
  }
  closedir(dir);
  return children;
}

// Removes parent_fd/name and everything below it without ever following a
// symlink: every step is relative to a descriptor opened with O_NOFOLLOW.
void RemoveTreeAt(int parent_fd, const std::string& name, int depth) {
  if (depth > 4096) throw PathError(ELOOP, "directory tree too deep");
  if (unlinkat(parent_fd, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) {
    throw PathError(errno, "remove '" + name + "': " + ErrnoText(errno));
  }
  int fd = openat(parent_fd, name.c_str(),
                  O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    throw PathError(errno, "open '" + name + "': " + ErrnoText(errno));
  }
  UniqueFd dir_fd(fd);
  // A writer racing us can refill the directory; retry a few times.
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    for (const auto& child : ChildNames(dir_fd.get(), name)) {
      RemoveTreeAt(dir_fd.get(), child, depth + 1);
    }
    if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0 ||
        errno == ENOENT) {
      return;
    }
    if (errno != ENOTEMPTY && errno != EEXIST) break;
  }
  throw PathError(errno, "remove '" + name + "': " + ErrnoText(errno));
}

}  // namespace

bool ChownRefusedToNonRoot(int error_number) {
  return error_number == EPERM && geteuid() != 0;
}

std::string CleanAbsolutePath(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t slash = path.find('/', i);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(i, slash - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    i = slash + 1;
  }
  std::string out;
  for (const auto& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

std::string ResolveClientPath(const std::string& path,
                              const SandboxUser& user) {
  if (path.find('\0') != std::string::npos) {
    throw PathError(EINVAL, "path contains a NUL byte");
  }
  if (user.home.empty() || user.home[0] != '/') {
    throw PathError(EINVAL, "user '" + user.name + "' has no home directory");
  }
  if (path.empty() || path == "~") return CleanAbsolutePath(user.home);
  if (path[0] == '~') {
    if (path[1] != '/') {
      throw PathError(EINVAL, "cannot resolve path '" + path +
                                  "': only '~' and '~/...' are supported");
    }
    return CleanAbsolutePath(user.home + path.substr(1));
  }
  if (path[0] == '/') return CleanAbsolutePath(path);
  return CleanAbsolutePath(user.home + "/" + path);
}

std::pair<std::string, std::string> SplitParent(const std::string& abs_path) {
  std::string clean = CleanAbsolutePath(abs_path);
  if (clean == "/") return {"/", ""};
  std::size_t slash = clean.rfind('/');
  std::string parent = slash == 0 ? "/" : clean.substr(0, slash);
  return {parent, clean.substr(slash + 1)};
}

std::string DescribePathErrno(int error_number, const std::string& path) {
  switch (error_number) {
    case ENOENT:
      return "path '" + path + "' does not exist";
    case ENOTDIR:
      return "a component of path '" + path + "' is not a directory";
    case ELOOP:
      return "path '" + path +
             "' has too many levels of symbolic links or a forbidden link";
    case EISDIR:
      return "path '" + path + "' is a directory";
    case EEXIST:
      return "path '" + path + "' already exists";
    default:
      return "path '" + path + "': " + ErrnoText(error_number);
  }
}

SandboxFs::SandboxFs(const std::string& root_path,
                     const SandboxInstance* instance)
    : instance_(instance) {
  int fd = open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw PathError(errno, "cannot open sandbox root: " + ErrnoText(errno));
  }
  root_.Reset(fd);
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  root_path_ =
      n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : root_path;
}

UniqueFd SandboxFs::Open(const std::string& path, int flags,
                         mode_t mode) const {
  int fd = RawOpenat2(root_.get(), path, flags, mode);
  if (fd < 0) {
    int err = errno;
    throw PathError(err, DescribePathErrno(err, path));
  }
  return UniqueFd(fd);
}

std::pair<UniqueFd, std::string> SandboxFs::OpenParent(
    const std::string& path) const {
  auto [parent, name] = SplitParent(path);
  if (name.empty()) {
    throw PathError(EINVAL, "the operation is not allowed on '/'");
  }
  return {Open(parent, O_PATH | O_DIRECTORY), name};
}

struct stat SandboxFs::Stat(const std::string& path) const {
  UniqueFd fd = Open(path, O_PATH);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    throw PathError(errno, DescribePathErrno(errno, path));
  }
  return st;
}

struct stat SandboxFs::Lstat(const std::string& path) const {
  UniqueFd fd = Open(path, O_PATH | O_NOFOLLOW);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    throw PathError(errno, DescribePathErrno(errno, path));
  }
  return st;
}

bool SandboxFs::Exists(const std::string& path, bool follow) const {
  int fd = RawOpenat2(root_.get(), path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  if (errno == ENOENT) return false;
  int err = errno;
  throw PathError(err, DescribePathErrno(err, path));
}

bool SandboxFs::MakeDirs(const std::string& path, uid_t uid, gid_t gid) const {
  std::string clean = CleanAbsolutePath(path);
  if (clean == "/") return false;
  // Walk down from the root: each prefix is resolved inside the root, so a
  // symlinked component leads where it would inside the sandbox.
  std::string prefix;
  bool created_last = false;
  std::size_t i = 1;
  while (i <= clean.size()) {
    std::size_t slash = clean.find('/', i);
    if (slash == std::string::npos) slash = clean.size();
    std::string parent = prefix.empty() ? "/" : prefix;
    std::string name = clean.substr(i, slash - i);
    prefix += "/" + name;
    i = slash + 1;
    created_last = false;
    int fd = RawOpenat2(root_.get(), prefix, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0) {
      close(fd);
      continue;
    }
    if (errno == ENOTDIR)
      throw PathError(EEXIST, DescribePathErrno(EEXIST, prefix) +
                                  " and is not a directory");
    if (errno != ENOENT) {
      int err = errno;
      throw PathError(err, DescribePathErrno(err, prefix));
    }
    UniqueFd parent_fd = Open(parent, O_PATH | O_DIRECTORY);
    if (mkdirat(parent_fd.get(), name.c_str(), 0755) != 0) {
      if (errno == EEXIST) {
        // Lost a race with another creator, or a dangling symlink.
        int again = RawOpenat2(root_.get(), prefix, O_PATH | O_DIRECTORY, 0);
        if (again >= 0) {
          close(again);
          continue;
        }
        throw PathError(EEXIST, DescribePathErrno(EEXIST, prefix) +
                                    " and is not a directory");
      }
      int err = errno;
      throw PathError(err, DescribePathErrno(err, prefix));
    }
    if (fchownat(parent_fd.get(), name.c_str(), uid, gid,
                 AT_SYMLINK_NOFOLLOW) != 0 &&
        !ChownRefusedToNonRoot(errno)) {
      int err = errno;
      throw PathError(err, "chown '" + prefix + "': " + ErrnoText(err));
    }
    created_last = true;
  }
  return created_last;
}

void SandboxFs::Rename(const std::string& from, const std::string& to) const {
  auto [from_dir, from_name] = OpenParent(from);
  auto [to_dir, to_name] = OpenParent(to);
  if (renameat(from_dir.get(), from_name.c_str(), to_dir.get(),
               to_name.c_str()) != 0) {
    int err = errno;
    throw PathError(err,
                    "rename '" + from + "' to '" + to + "': " + ErrnoText(err));
  }
}

void SandboxFs::RemoveAll(const std::string& path) const {
  std::pair<UniqueFd, std::string> parent;
  try {
    parent = OpenParent(path);
  } catch (const PathError& e) {
    if (e.error_number() == ENOENT || e.error_number() == ENOTDIR) return;
    throw;
  }
  try {
    RemoveTreeAt(parent.first.get(), parent.second, 0);
  } catch (const PathError& e) {
    throw PathError(e.error_number(),
                    "remove '" + path + "': " + ErrnoText(e.error_number()));
  }
}

std::string SandboxFs::ReadLink(const std::string& path) const {
  UniqueFd fd = Open(path, O_PATH | O_NOFOLLOW);
  std::vector<char> buf(4096);
  for (;;) {
    ssize_t n = readlinkat(fd.get(), "", buf.data(), buf.size());
    if (n < 0) {
      int err = errno;
      throw PathError(err, DescribePathErrno(err, path));
    }
    if (static_cast<std::size_t>(n) < buf.size()) {
      return std::string(buf.data(), static_cast<std::size_t>(n));
    }
    if (buf.size() > (1u << 20)) throw PathError(ENAMETOOLONG, path);
    buf.resize(buf.size() * 2);
  }
}

std::string SandboxFs::RealPath(const std::string& path) const {
  UniqueFd fd = Open(path, O_PATH);
  std::string resolved = SandboxPathOfFd(fd.get(), root_path_);
  if (resolved.empty()) {
    throw PathError(EXDEV, "path '" + path + "' resolves outside the root");
  }
  return resolved;
}

std::vector<std::string> SandboxFs::ListNames(const std::string& path) const {
  UniqueFd fd = Open(path, O_RDONLY | O_DIRECTORY);
  DIR* dir = fdopendir(fd.get());
  if (dir == nullptr) {
    int err = errno;
    throw PathError(err, DescribePathErrno(err, path));
  }
  fd.Release();  // owned by dir now
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> ReadRegularFile(const SandboxFs& fs,
                                           const std::string& path,
                                           std::size_t max_bytes) {
  // O_PATH opens nothing: no FIFO blocks, no device driver runs. Only once
  // the inode is known to be a regular file is it opened for reading,
  // through the descriptor, so a rename in between cannot swap it.
  UniqueFd handle;
  try {
    handle = fs.Open(path, O_PATH);
  } catch (const PathError&) {
    return std::nullopt;
  }
  struct stat st {};
  if (fstat(handle.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return std::nullopt;
  }
  std::string reopen = "/proc/self/fd/" + std::to_string(handle.get());
  UniqueFd fd(
      open(reopen.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    // The file may grow after fstat: the bound holds for what is read.
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      return std::nullopt;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void WriteRegularFile(const SandboxFs& fs, const std::string& path,
                      const std::string& content, uid_t uid, gid_t gid,
                      mode_t mode) {
  auto [dir, name] = fs.OpenParent(path);
  // A fresh name created with O_EXCL never follows anything; renameat then
  // replaces whatever entry `name` is (a symlink included) without
  // following it.
  static std::atomic<unsigned> counter{0};
  std::string temp_name;
  UniqueFd fd;
  for (int attempt = 0; attempt < kMaxAttempts && !fd.valid(); ++attempt) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    temp_name = ".e2b-tmp-" + std::to_string(getpid()) + "-" +
                std::to_string(counter.fetch_add(1)) + "-" +
                std::to_string(now.tv_nsec);
    fd.Reset(openat(dir.get(), temp_name.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600));
    if (!fd.valid() && errno != EEXIST) break;
  }
  if (!fd.valid()) {
    int err = errno;
    throw PathError(err,
                    "create a file beside '" + path + "': " + ErrnoText(err));
  }
  // A structured binding cannot be captured in C++17 (clang refuses).
  const int dir_fd = dir.get();
  auto fail = [&](const std::string& what) {
    int err = errno;
    unlinkat(dir_fd, temp_name.c_str(), 0);
    throw PathError(err, what + " '" + path + "': " + ErrnoText(err));
  };
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n =
        write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write");
    written += static_cast<std::size_t>(n);
  }
  if (fchown(fd.get(), uid, gid) != 0 && !ChownRefusedToNonRoot(errno)) {
    fail("chown");
  }
  // After chown, which clears setuid/setgid bits.
  if (fchmod(fd.get(), mode) != 0) fail("chmod");
  fd.Reset();
  if (renameat(dir.get(), temp_name.c_str(), dir.get(), name.c_str()) != 0) {
    fail("replace");
  }
}

std::string SandboxPathOfFd(int fd, const std::string& host_root) {
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  if (n <= 0) return {};
  std::string host(buf, static_cast<std::size_t>(n));
  if (host_root == "/") return host;
  if (host == host_root) return "/";
  if (host.size() > host_root.size() &&
      host.compare(0, host_root.size(), host_root) == 0 &&
      host[host_root.size()] == '/') {
    return host.substr(host_root.size());
  }
  return {};
}

}  // namespace e2b_local
