#ifndef E2B_LOCAL_ENVD_ENTRY_INFO_HPP_
#define E2B_LOCAL_ENVD_ENTRY_INFO_HPP_

// EntryInfo as envd sends it (PROTOCOL.md 4.2), per-file upload metadata,
// and owner/group names read from the sandbox's own /etc/passwd and
// /etc/group.

#include "envd/sandbox_paths.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <sys/types.h>

#include <ctime>
#include <map>
#include <optional>
#include <string>

namespace e2b_local {

/// "-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx" (with setuid/setgid/sticky).
std::string FormatPermissions(mode_t mode);
/// RFC 3339 in UTC with nanoseconds: "2025-01-02T03:04:05.123456789Z".
std::string FormatTimestamp(const struct timespec& ts);

/// File metadata lives in xattrs "user.e2b.<key>", as in envd: uploads set
/// them, and so may anything inside the sandbox (setfattr).
inline constexpr const char kMetadataXattrPrefix[] = "user.e2b.";
/// The metadata of an open file or directory (empty when none or
/// unsupported); entries whose key or value is not UTF-8 are left out.
std::map<std::string, std::string> ReadFileMetadata(int fd);
/// Replaces the metadata of an open file. Throws PathError.
void WriteFileMetadata(int fd, const std::map<std::string, std::string>& meta);

/// Builds EntryInfo JSON for paths of one sandbox; caches the name tables.
class EntryInfoBuilder {
 public:
  explicit EntryInfoBuilder(const SandboxFs& fs) : fs_(fs) {}

  /// EntryInfo of `path` (a clean absolute sandbox path). Throws PathError.
  nlohmann::json Build(const std::string& path);

  std::string OwnerName(uid_t uid);
  std::string GroupName(gid_t gid);

 private:
  void LoadNames();

  const SandboxFs& fs_;
  bool names_loaded_ = false;
  std::map<unsigned, std::string> users_;
  std::map<unsigned, std::string> groups_;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_ENTRY_INFO_HPP_
