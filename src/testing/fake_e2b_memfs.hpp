#ifndef E2B_SRC_TESTING_FAKE_E2B_MEMFS_HPP_
#define E2B_SRC_TESTING_FAKE_E2B_MEMFS_HPP_

// The in-memory filesystem of one FakeE2B sandbox: absolute, normalized
// paths to files and directories. Not thread-safe (FakeE2B locks around it).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace e2b::testing::internal {

/// The home directory relative paths resolve against, as envd's default
/// user.
inline constexpr const char* kFakeHome = "/home/user";

struct MemNode {
  bool directory = false;
  std::string content;
  std::map<std::string, std::string> metadata;
  std::chrono::system_clock::time_point modified;
};

/// An entry as the Filesystem service reports it.
struct MemEntry {
  std::string path;
  std::string name;
  const MemNode* node = nullptr;
};

/// Why an operation failed, in envd's terms.
enum class MemStatus {
  kOk,
  kNotFound,       // the path (or a move's source) does not exist
  kIsDirectory,    // a file operation met a directory
  kNotDirectory,   // a directory operation (or a parent) met a file
  kAlreadyExists,  // MakeDir of an existing directory
  kInvalidPath,    // the path cannot be resolved (NUL byte, ~otheruser)
};

class MemFilesystem {
 public:
  MemFilesystem();

  /// `path` made absolute (relative to kFakeHome, "~" = kFakeHome) with "."
  /// and ".." resolved; nullopt when it cannot be resolved.
  static std::optional<std::string> Resolve(std::string_view path);

  const MemNode* Find(const std::string& abs) const;
  MemStatus WriteFile(const std::string& abs, std::string content,
                      std::map<std::string, std::string> metadata);
  MemStatus MakeDir(const std::string& abs);
  /// Removes `abs` and everything below it; a missing path is no error.
  void Remove(const std::string& abs);
  MemStatus Move(const std::string& from, const std::string& to);
  /// Entries below directory `abs`, up to `depth` levels (>= 1).
  MemStatus List(const std::string& abs, unsigned depth,
                 std::vector<MemEntry>& out) const;

 private:
  MemStatus MakeParents(const std::string& abs);

  std::map<std::string, MemNode> nodes_;
};

/// The last component of an absolute path ("/" for the root).
std::string BaseName(const std::string& abs);

}  // namespace e2b::testing::internal

#endif  // E2B_SRC_TESTING_FAKE_E2B_MEMFS_HPP_
