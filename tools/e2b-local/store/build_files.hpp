#ifndef E2B_LOCAL_STORE_BUILD_FILES_HPP_
#define E2B_LOCAL_STORE_BUILD_FILES_HPP_

// The upload storage of template builds (docs/protocol/template-builds.md):
// the archive of each COPY step, kept by its files hash in
// <state-dir>/build-files/<hash> so a later build with the same files
// skips the upload. Uploads go through one-time links (a random token per
// link, valid for an hour) because the client sends no API key with them,
// as with E2B's presigned storage URLs. Thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace e2b_local {

class BuildFileStore {
 public:
  /// Largest archive accepted (bytes).
  static constexpr std::uint64_t kMaxArchive = std::uint64_t{4} << 30;

  /// Creates <state_dir>/build-files and removes uploads a crash cut short.
  explicit BuildFileStore(const std::string& state_dir);

  /// Whether `hash` is a files hash: 64 lower-case hex digits.
  static bool IsHash(const std::string& hash);

  /// Whether the archive for `hash` is stored.
  bool Has(const std::string& hash) const;
  /// Its path; nullopt when not stored.
  std::optional<std::string> PathOf(const std::string& hash) const;

  /// A token that lets one upload of `hash` happen within the hour.
  std::string IssueUploadToken(const std::string& hash);
  /// Whether `token` is a live upload token for `hash` (constant time).
  bool CheckUploadToken(const std::string& hash,
                        const std::string& token) const;

  /// Stores an upload: `read` calls its sink with each chunk (the sink
  /// returns false past kMaxArchive) and returns whether the body arrived
  /// whole. Written to a temporary file and renamed into place, so a
  /// reader never sees half an archive; the token is spent on success.
  /// Throws std::length_error past the limit, std::runtime_error for a
  /// truncated body or a disk failure.
  void Store(const std::string& hash, const std::string& token,
             const std::function<bool(
                 const std::function<bool(const char*, std::size_t)>&)>& read);

 private:
  struct Grant {
    std::string hash;
    std::chrono::steady_clock::time_point expires;
  };

  std::string dir_;
  mutable std::mutex mu_;
  std::map<std::string, Grant> grants_;  ///< by token
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_STORE_BUILD_FILES_HPP_
