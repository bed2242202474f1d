#include "envd/entry_info.hpp"

#include "util/utc_timestamp.hpp"

#include <fcntl.h>
#include <linux/limits.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

namespace e2b_local {
namespace {

// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or code
// points past U+10FFFF).
bool IsUtf8(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p++;
    if (c < 0x80) continue;
    int more = 0;
    unsigned min = 0, cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1, min = 0x80, cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2, min = 0x800, cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3, min = 0x10000, cp = c & 0x07u;
    } else {
      return false;
    }
    if (end - p < more) return false;
    for (int i = 0; i < more; ++i, ++p) {
      if ((*p & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (*p & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
  }
  return true;
}

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
      out[static_cast<std::size_t>(i) + 1] = rwx[i];
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
  // Sized by asking first (most entries have none); the sandbox may change
  // them meanwhile (setfattr), so a second try uses the kernel's maximum.
  const auto read = [](std::vector<char>& buf, std::size_t max,
                       const auto& call) {
    ssize_t n = call(nullptr, 0);
    if (n <= 0) return n;
    buf.resize(static_cast<std::size_t>(n));
    n = call(buf.data(), buf.size());
    if (n < 0 && errno == ERANGE) {
      buf.resize(max);
      n = call(buf.data(), buf.size());
    }
    return n;
  };
  std::vector<char> names;
  const ssize_t n = read(names, XATTR_LIST_MAX, [fd](char* b, std::size_t l) {
    return flistxattr(fd, b, l);
  });
  if (n <= 0) return out;
  const std::string prefix = kMetadataXattrPrefix;
  std::vector<char> value;
  std::size_t pos = 0;
  while (pos < static_cast<std::size_t>(n)) {
    std::string name(names.data() + pos);
    pos += name.size() + 1;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const ssize_t len =
        read(value, XATTR_SIZE_MAX, [&](char* b, std::size_t l) {
          return fgetxattr(fd, name.c_str(), b, l);
        });
    if (len < 0) continue;  // removed meanwhile
    std::string key = name.substr(prefix.size());
    std::string text(value.begin(), value.begin() + len);
    // EntryInfo's metadata is a map of strings, which must be UTF-8: an
    // entry set inside the sandbox that is not is left out, as envd does.
    if (key.empty() || !IsUtf8(key) || !IsUtf8(text)) continue;
    out.emplace(std::move(key), std::move(text));
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
  } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    // Set by uploads on files, and by anyone inside on anything.
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
