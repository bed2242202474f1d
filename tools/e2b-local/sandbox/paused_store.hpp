#ifndef E2B_LOCAL_SANDBOX_PAUSED_STORE_HPP_
#define E2B_LOCAL_SANDBOX_PAUSED_STORE_HPP_

// Paused sandboxes on disk, so that they outlive the server (a clean stop
// or a crash), as E2B's paused sandboxes outlive its API servers. Each is
// <dir>/<id>/layer, a copy of the sandbox's writable layer (a complete
// layer over the base, as snapshots are), and <dir>/<id>/sandbox.json,
// written last: a directory without it is a save a crash cut short.
// Thread-safe as far as callers save, forget and load different IDs (the
// registry holds the sandbox's lock); Load runs alone at start.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace e2b_local {

/// What a paused sandbox needs to come back with the same identity.
struct PausedRecord {
  std::string id;
  std::string template_id;
  std::string alias;
  std::string access_token;
  std::string traffic_access_token;
  std::string mask_request_host;
  std::map<std::string, std::string> env_vars;
  std::map<std::string, std::string> metadata;
  int cpu_count = 2;
  int memory_mb = 512;
  int disk_size_mb = 1024;
  bool allow_internet_access = true;
  std::int64_t started_ms = 0;
  bool auto_pause = false;
  bool auto_pause_memory = true;
  bool auto_resume = false;
  nlohmann::json network = nullptr;  ///< NetworkConfig, kept as given
};

class PausedStore {
 public:
  /// Creates `dir` when missing.
  explicit PausedStore(std::string dir);

  /// Saves `record` with a copy of `upper`, replacing an earlier save of
  /// the same sandbox only once the new one is complete. Throws
  /// std::runtime_error.
  void Save(const PausedRecord& record, const std::string& upper);
  /// Removes a sandbox's save (resumed or killed); logs a failure.
  void Forget(const std::string& id);
  /// The layer of a saved sandbox.
  std::string LayerOf(const std::string& id) const;

  struct Loaded {
    std::vector<PausedRecord> records;
    /// Saves removed as incomplete or unreadable, with the reason.
    std::vector<std::string> removed;
  };
  /// Every complete save; incomplete and unreadable ones are removed.
  Loaded Load();

 private:
  std::string dir_;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_SANDBOX_PAUSED_STORE_HPP_
