#ifndef E2B_LOCAL_ENVD_FILESYSTEM_SERVICE_HPP_
#define E2B_LOCAL_ENVD_FILESYSTEM_SERVICE_HPP_

// filesystem.Filesystem (PROTOCOL.md 4.2): Stat, ListDir, MakeDir, Move,
// Remove, the WatchDir stream and the polling watchers. Registered with
// RegisterFilesystemService (connect_rpc.hpp).

#include "envd/connect_rpc.hpp"
#include "envd/sandbox_paths.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace e2b_local {

/// Maps a failed path operation to the Connect error envd sends.
ConnectError PathErrorToConnect(const PathError& error);

/// inotify on one directory (optionally its whole tree), producing
/// FilesystemEvent JSON with names relative to the watched directory.
class DirWatcher {
 public:
  /// Throws ConnectError (not_found, invalid_argument, ...).
  DirWatcher(std::shared_ptr<const SandboxFs> fs, const std::string& path,
             bool recursive, bool include_entry);
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
  nlohmann::json MakeEvent(const std::string& relative, const char* type);

  std::shared_ptr<const SandboxFs> fs_;
  std::string path_;
  bool recursive_;
  bool include_entry_;
  int inotify_fd_ = -1;
  std::map<int, std::string> watches_;  ///< wd -> path relative to path_
};

/// The polling watchers of one sandbox (CreateWatcher and friends).
class WatcherTable {
 public:
  std::string Add(std::unique_ptr<DirWatcher> watcher);
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
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_FILESYSTEM_SERVICE_HPP_
