#ifndef E2B_LOCAL_SANDBOX_PAUSED_STORE_HPP_
#define E2B_LOCAL_SANDBOX_PAUSED_STORE_HPP_

// Paused sandboxes on disk, so that they outlive the server (a clean stop
// or a crash), as E2B's paused sandboxes outlive its API servers. Each is
// <dir>/<id>/layer, a copy of the sandbox's writable layer (a complete
// layer over the base, as snapshots are), and <dir>/<id>/sandbox.json,
// written last: a directory without it is a save a crash cut short.
// Thread-safe as far as callers save, forget and load different IDs (the
// registry holds the sandbox's lock); Load runs alone at start.

#include "sandbox/local_sandbox.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace e2b_local {

/// A saved sandbox as Load returns it: its settings (status, instance
/// and the rest of the running state are the caller's to set) and its
/// NetworkConfig as given at create.
// NOLINTNEXTLINE(bugprone-exception-escape): a null json never throws
struct PausedSandbox {
  std::shared_ptr<LocalSandbox> sandbox;
  nlohmann::json network = nullptr;
};

class PausedStore {
 public:
  /// Creates `dir` when missing.
  explicit PausedStore(std::string dir);

  /// Saves `sandbox`'s settings (the caller holds its mu), `network` and a
  /// copy of `upper`, replacing an earlier save of the same sandbox only
  /// once the new one is complete. Throws std::runtime_error.
  void Save(const LocalSandbox& sandbox, const nlohmann::json& network,
            const std::string& upper);
  /// Removes a sandbox's save (resumed or killed); logs a failure.
  void Forget(const std::string& id);
  /// The layer of a saved sandbox.
  std::string LayerOf(const std::string& id) const;

  struct Loaded {
    std::vector<PausedSandbox> sandboxes;
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
