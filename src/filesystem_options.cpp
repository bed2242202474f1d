// The filesystem options added beyond the seed (the seed's WithFileUser,
// WithReadTimeout and WithWriteTimeout live in options.cpp).

#include <e2b/options.hpp>

#include <utility>

namespace e2b {

ReadOption WithReadRange(std::uint64_t offset,
                         std::optional<std::uint64_t> length) {
  return ReadOption([offset, length](ReadParams& p) {
    p.Offset = offset;
    p.Length = length;
  });
}

ReadOption WithReadResume(int attempts) {
  return ReadOption([attempts](ReadParams& p) { p.ResumeAttempts = attempts; });
}

ReadOption WithReadProgress(ProgressFunc progress) {
  return ReadOption([progress = std::move(progress)](ReadParams& p) {
    p.Progress = progress;
  });
}

ReadOption WithDepth(std::uint32_t depth) {
  return ReadOption([depth](ReadParams& p) { p.Depth = depth; });
}

WriteOption WithWriteProgress(ProgressFunc progress) {
  return WriteOption([progress = std::move(progress)](WriteParams& p) {
    p.Progress = progress;
  });
}

WriteOption WithFileMetadata(std::map<std::string, std::string> metadata) {
  return WriteOption([metadata = std::move(metadata)](WriteParams& p) {
    p.Metadata = metadata;
  });
}

WatchOption WithRecursive(bool recursive) {
  return WatchOption([recursive](WatchParams& p) { p.Recursive = recursive; });
}

WatchOption WithIncludeEntry(bool include) {
  return WatchOption([include](WatchParams& p) { p.IncludeEntry = include; });
}

WatchOption WithWatchTimeout(std::chrono::milliseconds timeout) {
  return WatchOption([timeout](WatchParams& p) { p.Timeout = timeout; });
}

SignedURLOption WithSignedURLUser(std::string user) {
  return SignedURLOption(
      [user = std::move(user)](SignedURLParams& p) { p.User = user; });
}

SignedURLOption WithSignedURLExpiration(std::chrono::seconds expiration) {
  return SignedURLOption(
      [expiration](SignedURLParams& p) { p.Expiration = expiration; });
}

}  // namespace e2b
