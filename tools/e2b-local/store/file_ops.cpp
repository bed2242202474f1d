#include "store/file_ops.hpp"

#include "util/join_path.hpp"
#include "util/unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace e2b_local {
namespace {

[[noreturn]] void Fail(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

// Whether another mount sits on the directory `path`. A bind mount of a
// directory of the same filesystem (a volume inside a sandbox's root)
// keeps st_dev, so comparing devices alone would walk into it.
bool IsMountPoint(const std::string& path, const struct stat& st,
                  dev_t device) {
  if (st.st_dev != device) return true;
  struct statx stx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
              STATX_BASIC_STATS, &stx) != 0) {
    return false;
  }
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

void WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail("cannot write", path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

std::string DirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

constexpr char kOverlayPrefix[] = "trusted.overlay.";
constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";

// overlay_attrs: whether trusted.overlay.* travels too (a verbatim copy of
// an upper layer needs its opaque markers; a merge writes its own).
void CopyXattrs(const std::string& src, const std::string& dst,
                bool overlay_attrs = true) {
  ssize_t size = ::llistxattr(src.c_str(), nullptr, 0);
  if (size <= 0) return;
  std::vector<char> names(static_cast<size_t>(size));
  size = ::llistxattr(src.c_str(), names.data(), names.size());
  if (size <= 0) return;
  for (ssize_t i = 0; i < size;) {
    std::string name(&names[static_cast<size_t>(i)]);
    i += static_cast<ssize_t>(name.size()) + 1;
    if (!overlay_attrs && name.rfind(kOverlayPrefix, 0) == 0) continue;
    ssize_t vsize = ::lgetxattr(src.c_str(), name.c_str(), nullptr, 0);
    if (vsize < 0) continue;
    std::vector<char> value(static_cast<size_t>(vsize) + 1);
    vsize = ::lgetxattr(src.c_str(), name.c_str(), value.data(), value.size());
    if (vsize < 0) continue;
    // Best effort: some namespaces (security.*) may be refused; the
    // overlay markers (trusted.overlay.*) work as root.
    ::lsetxattr(dst.c_str(), name.c_str(), value.data(),
                static_cast<size_t>(vsize), 0);
  }
}

void CopyMetadata(const std::string& dst, const struct stat& st) {
  ::lchown(dst.c_str(), st.st_uid, st.st_gid);  // best effort when not root
  if (!S_ISLNK(st.st_mode)) ::chmod(dst.c_str(), st.st_mode & 07777);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

// False when src was removed before it could be opened (a copy of a live
// tree, such as a running sandbox's snapshot, skips it as already deleted).
bool CopyRegularFile(const std::string& src, const std::string& dst,
                     const struct stat& st) {
  UniqueFd in(::open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (in.get() < 0) {
    if (errno == ENOENT) return false;
    Fail("cannot open", src);
  }
  UniqueFd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                      st.st_mode & 0777));
  if (out.get() < 0) Fail("cannot create", dst);
  std::vector<char> buffer(1 << 16);
  while (true) {
    ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail("cannot read", src);
    }
    if (n == 0) break;
    WriteAll(out.get(), buffer.data(), static_cast<size_t>(n), dst);
  }
  return true;
}

void CopyEntry(const std::string& src, const std::string& dst, dev_t device,
               bool overlay_attrs = true);

void CopyDirectoryContents(const std::string& src, const std::string& dst,
                           dev_t device) {
  auto names = DirectoryNames(src);
  if (!names) {
    if (errno == ENOENT) return;  // removed while we were copying
    Fail("cannot open directory", src);
  }
  for (const auto& name : *names) {
    CopyEntry(JoinPath(src, name), JoinPath(dst, name), device);
  }
}

void CopyEntry(const std::string& src, const std::string& dst, dev_t device,
               bool overlay_attrs) {
  struct stat st {};
  if (::lstat(src.c_str(), &st) != 0) {
    if (errno == ENOENT) return;  // removed while we were copying
    Fail("cannot stat", src);
  }
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(dst.c_str(), 0700) != 0 && errno != EEXIST) {
      Fail("cannot create directory", dst);
    }
    // Mount points (e.g. /proc or a volume inside a sandbox) are kept as
    // empty directories.
    if (!IsMountPoint(src, st, device)) {
      CopyDirectoryContents(src, dst, device);
    }
  } else if (S_ISREG(st.st_mode)) {
    if (!CopyRegularFile(src, dst, st)) return;
  } else if (S_ISLNK(st.st_mode)) {
    std::vector<char> target(static_cast<size_t>(st.st_size) + 256);
    ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
    if (n < 0) {
      if (errno == ENOENT) return;
      Fail("cannot read link", src);
    }
    std::string text(target.data(), static_cast<size_t>(n));
    if (::symlink(text.c_str(), dst.c_str()) != 0) {
      Fail("cannot create symlink", dst);
    }
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ||
             S_ISFIFO(st.st_mode)) {
    if (::mknod(dst.c_str(), st.st_mode, st.st_rdev) != 0) {
      Fail("cannot create node", dst);
    }
  } else {
    return;  // sockets do not survive a snapshot
  }
  CopyXattrs(src, dst, overlay_attrs);
  CopyMetadata(dst, st);
}

bool IsWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool IsOpaqueDir(const std::string& path) {
  char value[4] = {0};
  ssize_t n = ::lgetxattr(path.c_str(), kOpaqueXattr, value, sizeof value);
  return n == 1 && value[0] == 'y';
}

void MarkOpaque(const std::string& path) {
  if (::lsetxattr(path.c_str(), kOpaqueXattr, "y", 1, 0) != 0) {
    Fail("cannot mark opaque", path);
  }
}

void MakeWhiteout(const std::string& path) {
  if (::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
    Fail("cannot create whiteout", path);
  }
}

// Stacks directory src on top of directory dst (both exist).
void MergeDirectory(const std::string& src, const std::string& dst,
                    dev_t device, LayerMergeMode mode) {
  const bool overlay = mode == LayerMergeMode::kOverlayUpper;
  auto names = DirectoryNames(src);
  if (!names) Fail("cannot open directory", src);
  for (const auto& name : *names) {
    const std::string from = JoinPath(src, name), to = JoinPath(dst, name);
    struct stat st {};
    if (::lstat(from.c_str(), &st) != 0) Fail("cannot stat", from);
    struct stat below {};
    const bool exists = ::lstat(to.c_str(), &below) == 0;
    if (!exists && errno != ENOENT) Fail("cannot stat", to);
    if (IsWhiteout(st)) {
      // Deleted in this layer: whatever the layers below had goes, and in
      // an upper layer the marker stays to keep hiding the host's entry.
      if (exists) RemoveTree(to);
      if (overlay) MakeWhiteout(to);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (exists) RemoveTree(to);
      CopyEntry(from, to, device, /*overlay_attrs=*/false);
      continue;
    }
    const bool opaque = IsOpaqueDir(from);
    // A directory over a non-directory (a file or a whiteout) hides the
    // host's entry of that name just as an opaque one does.
    bool mark_opaque = opaque;
    if (exists && (!S_ISDIR(below.st_mode) || opaque)) {
      mark_opaque = mark_opaque || !S_ISDIR(below.st_mode);
      RemoveTree(to);
    } else if (exists) {
      mark_opaque = IsOpaqueDir(to);
    }
    if (::mkdir(to.c_str(), 0700) != 0 && errno != EEXIST) {
      Fail("cannot create directory", to);
    }
    if (!IsMountPoint(from, st, device)) {
      MergeDirectory(from, to, device, mode);
    }
    CopyXattrs(from, to, /*overlay_attrs=*/false);
    if (overlay && mark_opaque) MarkOpaque(to);
    CopyMetadata(to, st);
  }
}

}  // namespace

void WriteFileAtomically(const std::string& path, const std::string& data) {
  static std::atomic<std::uint64_t> counter{0};
  std::string temp = path + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(counter.fetch_add(1));
  {
    UniqueFd fd(
        ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) Fail("cannot create", temp);
    try {
      WriteAll(fd.get(), data.data(), data.size(), temp);
      if (::fsync(fd.get()) != 0) Fail("cannot fsync", temp);
    } catch (...) {
      ::unlink(temp.c_str());
      throw;
    }
    if (::close(fd.Release()) != 0) {
      ::unlink(temp.c_str());
      Fail("cannot close", temp);
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    Fail("cannot rename over", path);
  }
  UniqueFd dir(
      ::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

std::optional<std::string> ReadFileIfExists(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    Fail("cannot open", path);
  }
  std::string out;
  char buffer[1 << 15];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail("cannot read", path);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

void MakeDirs(const std::string& path, bool private_dir) {
  if (path.empty()) throw std::runtime_error("empty directory path");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    bool last = pos == std::string::npos;
    mode_t mode = (last && private_dir) ? 0700 : 0755;
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      Fail("cannot create directory", prefix);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) Fail("cannot stat", path);
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    Fail("not a directory:", path);
  }
}

void CopyTree(const std::string& src, const std::string& dst) {
  struct stat st {};
  if (::lstat(src.c_str(), &st) != 0) Fail("cannot stat", src);
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    Fail("cannot copy", src);
  }
  MakeDirs(dst);
  CopyDirectoryContents(src, dst, st.st_dev);
  CopyXattrs(src, dst);
  CopyMetadata(dst, st);
}

void MergeLayer(const std::string& src, const std::string& dst,
                LayerMergeMode mode) {
  struct stat st {};
  if (::lstat(src.c_str(), &st) != 0) Fail("cannot stat", src);
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    Fail("cannot merge", src);
  }
  MakeDirs(dst);
  MergeDirectory(src, dst, st.st_dev, mode);
}

namespace {

// `top`: the tree's own root, which may be a mount point itself.
void RemoveTreeOnDevice(const std::string& path, dev_t device,
                        bool top = false) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    Fail("cannot stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (!top && IsMountPoint(path, st, device)) {
      // A mount left behind (a sandbox root that failed to unmount, a
      // volume bound into one): never delete through it.
      errno = EBUSY;
      Fail("refusing to remove across a mount point", path);
    }
    // Read-only directories inside a layer still have to go.
    ::chmod(path.c_str(), 0700);
    auto names = DirectoryNames(path);
    if (!names) Fail("cannot open directory", path);
    for (const auto& name : *names)
      RemoveTreeOnDevice(JoinPath(path, name), device);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
      Fail("cannot remove directory", path);
    }
  } else if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    Fail("cannot remove", path);
  }
}

}  // namespace

void MakeReplacingLayer(const std::string& dir,
                        const std::vector<std::string>& hide) {
  auto names = DirectoryNames(dir);
  if (!names) Fail("cannot list", dir);
  const std::set<std::string> present(names->begin(), names->end());
  for (const auto& name : *names) {
    const std::string path = JoinPath(dir, name);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      MarkOpaque(path);
    }
  }
  for (const auto& name : hide) {
    if (name.empty() || name == "." || name == ".." ||
        name.find('/') != std::string::npos || present.count(name) != 0) {
      continue;
    }
    MakeWhiteout(JoinPath(dir, name));
  }
}

std::optional<std::vector<std::string>> DirectoryNames(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> stream(::opendir(dir.c_str()),
                                             ::closedir);
  if (!stream) return std::nullopt;
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(stream.get())) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  return names;
}

void RemoveTree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    Fail("cannot stat", path);
  }
  RemoveTreeOnDevice(path, st.st_dev, /*top=*/true);
}

}  // namespace e2b_local
