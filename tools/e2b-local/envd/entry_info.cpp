#include "envd/entry_info.hpp"

#include "util/utc_timestamp.hpp"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

namespace e2b_local {
namespace {

// Bound on the sandbox's /etc/passwd and /etc/group: the sandbox owns
// them, so a huge (or endless) one must cost the server nothing.
constexpr std::size_t kMaxNameFileSize = 1u << 20;

// A name table inside the sandbox; empty when missing, not a regular file
// or over the bound (ids are then shown as numbers).
std::string ReadNameFile(const SandboxFs& fs, const std::string& path) {
  return ReadRegularFile(fs, path, kMaxNameFileSize).value_or(std::string());
}

// name:x:id:... lines into id -> name (first name wins, like getpwuid).
void ParseIdFile(const std::string& text,
                 std::map<unsigned, std::string>& out) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t a = line.find(':');
    if (a == std::string::npos) continue;
    std::size_t b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::size_t c = line.find(':', b + 1);
    std::string id = line.substr(
        b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
    if (id.empty() || id.size() > 10 ||
        id.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    unsigned long value = std::stoul(id);
    if (value > 0xffffffffUL) continue;
    out.emplace(static_cast<unsigned>(value), line.substr(0, a));
  }
}

char TypeChar(mode_t mode) {
  if (S_ISDIR(mode)) return 'd';
  if (S_ISLNK(mode)) return 'l';
  if (S_ISCHR(mode)) return 'c';
  if (S_ISBLK(mode)) return 'b';
  if (S_ISFIFO(mode)) return 'p';
  if (S_ISSOCK(mode)) return 's';
  return '-';
}

const char* FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "FILE_TYPE_DIRECTORY";
  if (S_ISLNK(mode)) return "FILE_TYPE_SYMLINK";
  return "FILE_TYPE_FILE";
}

}  // namespace

std::string FormatPermissions(mode_t mode) {
  std::string out(10, '-');
  out[0] = TypeChar(mode);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) {
    if ((mode & (0400u >> i)) != 0)
      out[static_cast<std::size_t>(i + 1)] = rwx[i];
  }
  if ((mode & S_ISUID) != 0) out[3] = (mode & S_IXUSR) ? 's' : 'S';
  if ((mode & S_ISGID) != 0) out[6] = (mode & S_IXGRP) ? 's' : 'S';
  if ((mode & S_ISVTX) != 0) out[9] = (mode & S_IXOTH) ? 't' : 'T';
  return out;
}

std::string FormatTimestamp(const struct timespec& ts) {
  return FormatUtcTimestamp(ts.tv_sec, static_cast<long>(ts.tv_nsec), 9);
}

std::map<std::string, std::string> ReadFileMetadata(int fd) {
  std::map<std::string, std::string> out;
  std::vector<char> names(4096);
  ssize_t n = flistxattr(fd, names.data(), names.size());
  if (n < 0 && errno == ERANGE) {
    ssize_t need = flistxattr(fd, nullptr, 0);
    if (need <= 0) return out;
    names.resize(static_cast<std::size_t>(need));
    n = flistxattr(fd, names.data(), names.size());
  }
  if (n <= 0) return out;
  const std::string prefix = kMetadataXattrPrefix;
  std::size_t pos = 0;
  while (pos < static_cast<std::size_t>(n)) {
    std::string name(names.data() + pos);
    pos += name.size() + 1;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    std::vector<char> value(4096);
    ssize_t len = fgetxattr(fd, name.c_str(), value.data(), value.size());
    if (len < 0) continue;
    out[name.substr(prefix.size())] =
        std::string(value.data(), static_cast<std::size_t>(len));
  }
  return out;
}

void WriteFileMetadata(int fd, const std::map<std::string, std::string>& meta) {
  for (const auto& [key, value] : ReadFileMetadata(fd)) {
    (void)value;
    std::string name = kMetadataXattrPrefix + key;
    fremovexattr(fd, name.c_str());
  }
  for (const auto& [key, value] : meta) {
    std::string name = kMetadataXattrPrefix + key;
    if (fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) != 0) {
      int err = errno;
      throw PathError(err, "cannot store metadata '" + key +
                               "': " + std::string(std::strerror(err)));
    }
  }
}

void EntryInfoBuilder::LoadNames() {
  if (names_loaded_) return;
  names_loaded_ = true;
  ParseIdFile(ReadNameFile(fs_, "/etc/passwd"), users_);
  ParseIdFile(ReadNameFile(fs_, "/etc/group"), groups_);
}

std::string EntryInfoBuilder::OwnerName(uid_t uid) {
  LoadNames();
  auto it = users_.find(uid);
  return it == users_.end() ? std::to_string(uid) : it->second;
}

std::string EntryInfoBuilder::GroupName(gid_t gid) {
  LoadNames();
  auto it = groups_.find(gid);
  return it == groups_.end() ? std::to_string(gid) : it->second;
}

nlohmann::json EntryInfoBuilder::Build(const std::string& path) {
  struct stat st = fs_.Lstat(path);
  auto [parent, name] = SplitParent(path);
  (void)parent;
  nlohmann::json entry;
  entry["name"] = name.empty() ? "/" : name;
  entry["type"] = FileTypeName(st.st_mode);
  entry["path"] = path;
  entry["size"] = std::to_string(static_cast<long long>(st.st_size));
  // Permission bits only, as envd's FileMode.Perm(): setuid, setgid and
  // sticky show in `permissions`, never in `mode`.
  entry["mode"] = static_cast<unsigned>(st.st_mode & 0777);
  entry["permissions"] = FormatPermissions(st.st_mode);
  entry["owner"] = OwnerName(fs_.SandboxUid(st.st_uid));
  entry["group"] = GroupName(fs_.SandboxGid(st.st_gid));
  entry["modifiedTime"] = FormatTimestamp(st.st_mtim);
  if (S_ISLNK(st.st_mode)) {
    // A symlink reports its target's type and where it leads; a dangling
    // one stays FILE_TYPE_SYMLINK with the raw link text made absolute.
    try {
      struct stat target = fs_.Stat(path);
      entry["type"] = FileTypeName(target.st_mode);
      entry["symlinkTarget"] = fs_.RealPath(path);
    } catch (const PathError&) {
      std::string link = fs_.ReadLink(path);
      entry["symlinkTarget"] =
          link.empty() || link[0] == '/'
              ? CleanAbsolutePath(link.empty() ? "/" : link)
              : CleanAbsolutePath(parent + "/" + link);
    }
  } else if (S_ISREG(st.st_mode)) {
    try {
      UniqueFd fd =
          fs_.Open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
      auto meta = ReadFileMetadata(fd.get());
      if (!meta.empty()) entry["metadata"] = meta;
    } catch (const PathError&) {
      // Unreadable metadata does not hide the entry.
    }
  }
  return entry;
}

}  // namespace e2b_local
