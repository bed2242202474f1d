#ifndef E2B_REAP_HPP_
#define E2B_REAP_HPP_

// Cleanup after a crash: which sandboxes Client::ReapSandboxes kills, and
// what it reports. An e2b-cpp addition; it uses only the listing and kill
// calls every E2B API has.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace e2b {

/// What Client::ReapSandboxes kills. A sandbox is selected when it matches
/// every criterion given (Expired, OlderThan, Metadata) and the Owner
/// filter; at least one criterion is required, so an empty ReapOptions
/// (a typo, a missing flag) is refused instead of killing everything.
struct ReapOptions {
  /// Criterion: the sandbox has a lease (SandboxLease) whose expiry has
  /// passed. Sandboxes without a lease never match it.
  bool Expired = false;
  /// Criterion: the sandbox started at least this long ago (by the
  /// listing's StartedAt); must not be negative.
  std::optional<std::chrono::milliseconds> OlderThan;
  /// Criterion: the sandbox's metadata has all these pairs.
  std::map<std::string, std::string> Metadata;
  /// Filter: only sandboxes whose lease owner is this; unset = any owner
  /// (and sandboxes without a lease, for OlderThan and Metadata). Must not
  /// be empty when set.
  std::optional<std::string> Owner;
  /// Select and report, kill nothing.
  bool DryRun = false;
};

/// A sandbox ReapSandboxes selected but could not kill.
struct ReapFailure {
  /// The sandbox whose kill failed.
  std::string SandboxID;
  /// The HTTP status of the refusal; 0 when no answer came (network).
  int StatusCode = 0;
  /// The error's what().
  std::string Message;
};

/// What ReapSandboxes did. Every listed sandbox is either in Selected or
/// in Skipped; after a kill run each selected one is also in exactly one
/// of Killed, Gone and Failed (a dry run leaves those three empty).
struct ReapReport {
  /// The sandboxes that matched, in listing order.
  std::vector<std::string> Selected;
  /// Selected and killed (empty in a dry run).
  std::vector<std::string> Killed;
  /// Selected but already gone when the kill came (404): nothing left.
  std::vector<std::string> Gone;
  /// Selected, and the kill failed; the others were still tried.
  std::vector<ReapFailure> Failed;
  /// Listed but not selected.
  std::vector<std::string> Skipped;
};

}  // namespace e2b

#endif  // E2B_REAP_HPP_
