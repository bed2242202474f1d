#ifndef E2B_LOCAL_ENVD_FILESYSTEM_SERVICE_HPP_
#define E2B_LOCAL_ENVD_FILESYSTEM_SERVICE_HPP_

// filesystem.Filesystem (PROTOCOL.md 4.2): Stat, ListDir, MakeDir, Move,
// Remove, the WatchDir stream and the polling watchers. Registered with
// RegisterFilesystemService (connect_rpc.hpp).

#include "envd/connect_rpc.hpp"
#include "envd/sandbox_paths.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace e2b_local {

/// Maps a failed path operation to the Connect error envd sends.
ConnectError PathErrorToConnect(const PathError& error);

/// The inotify instances and watches one sandbox's watchers (streams and
/// polling alike) may hold: at most kMaxWatchersPerSandbox instances and
/// kMaxWatchesPerSandbox watches, and never more than the server's share
/// (half) of the host's fs.inotify.max_user_instances / max_user_watches,
/// which every sandbox and the host's own services draw from. Thread-safe.
class WatchQuota {
 public:
  static constexpr std::size_t kMaxWatchersPerSandbox = 64;
  static constexpr std::size_t kMaxWatchesPerSandbox = 8192;

  WatchQuota() = default;
  ~WatchQuota();
  WatchQuota(const WatchQuota&) = delete;
  WatchQuota& operator=(const WatchQuota&) = delete;

  /// One inotify instance; throws ConnectError "resource_exhausted".
  void AcquireInstance();
  void ReleaseInstance();
  /// One watch; false when the sandbox or the server has none left.
  bool AcquireWatch();
  void ReleaseWatches(std::size_t count);

 private:
  std::mutex mu_;
  std::size_t instances_ = 0;
  std::size_t watches_ = 0;
};

/// inotify on one directory (optionally its whole tree), producing
/// FilesystemEvent JSON with names relative to the watched directory.
class DirWatcher {
 public:
  /// Throws ConnectError (not_found, invalid_argument, ...), and
  /// resource_exhausted when `quota` has no instance left or a recursive
  /// watch of the tree as it is now needs more watches than it has.
  /// Directories created later beyond the quota go unwatched.
  DirWatcher(std::shared_ptr<const SandboxFs> fs, std::string path,
             bool recursive, bool include_entry,
             std::shared_ptr<WatchQuota> quota);
  ~DirWatcher();
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  /// The inotify descriptor (readable when events are pending).
  int fd() const { return inotify_fd_; }
  /// Reads what is pending without blocking.
  std::vector<nlohmann::json> ReadEvents();

 private:
  void AddTree(const std::string& relative, std::vector<nlohmann::json>* seen,
               int depth);
  void AddWatch(const std::string& relative);
  std::string AbsolutePath(const std::string& relative) const;
  /// Closes the inotify descriptor and returns its quota.
  void Close();
  nlohmann::json MakeEvent(const std::string& relative, const char* type);

  std::shared_ptr<const SandboxFs> fs_;
  std::string path_;
  bool recursive_;
  bool include_entry_;
  std::shared_ptr<WatchQuota> quota_;
  int inotify_fd_ = -1;
  bool starting_ = true;  ///< in the constructor: over quota is an error
  std::map<int, std::string> watches_;  ///< wd -> path relative to path_
};

/// The polling watchers of one sandbox (CreateWatcher and friends).
class WatcherTable {
 public:
  std::string Add(std::unique_ptr<DirWatcher> watcher);
  /// The sandbox's quota, shared with its WatchDir streams.
  const std::shared_ptr<WatchQuota>& quota() const { return quota_; }
  /// Drains one watcher's events; nullopt-like empty + false when unknown.
  bool Drain(const std::string& id, std::vector<nlohmann::json>& events);
  bool Remove(const std::string& id);

 private:
  struct Entry {
    std::unique_ptr<DirWatcher> watcher;
    std::vector<nlohmann::json> pending;
  };
  std::mutex mu_;
  std::map<std::string, Entry> watchers_;
  std::shared_ptr<WatchQuota> quota_ = std::make_shared<WatchQuota>();
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_FILESYSTEM_SERVICE_HPP_
