#ifndef E2B_SRC_INTERNAL_REAP_SELECTION_HPP_
#define E2B_SRC_INTERNAL_REAP_SELECTION_HPP_

// The pure part of leases and reaping: the lease metadata NewSandbox sends
// and the rule that picks the sandboxes ReapSandboxes kills, kept free of
// I/O so it is tested with a fixed clock.

#include <e2b/reap.hpp>
#include <e2b/types.hpp>

#include <chrono>
#include <map>
#include <string>

namespace e2b::internal {

/// cfg.Metadata with the lease keys of cfg.Lease (owner, now + TTL) added;
/// cfg.Metadata unchanged when there is no lease. Throws
/// InvalidArgumentError for a TTL that is not positive, an owner with
/// control characters or only blanks, or Metadata that already has a lease
/// key.
std::map<std::string, std::string> MetadataWithLease(
    const SandboxConfig& cfg, std::chrono::system_clock::time_point now);

/// Throws InvalidArgumentError unless `opts` has a criterion (Expired,
/// OlderThan, Metadata) and well-formed values.
void CheckReapOptions(const ReapOptions& opts);

/// The pairs the listing can filter on: opts.Metadata and the owner key.
std::map<std::string, std::string> ReapListFilter(const ReapOptions& opts);

/// Whether `sandbox` matches every criterion and the owner filter of
/// `opts` at time `now`. A StartedAt or lease expiry that does not parse
/// matches nothing.
bool ReapSelects(const SandboxInfo& sandbox, const ReapOptions& opts,
                 std::chrono::system_clock::time_point now);

}  // namespace e2b::internal

#endif  // E2B_SRC_INTERNAL_REAP_SELECTION_HPP_
