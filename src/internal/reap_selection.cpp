#include "internal/reap_selection.hpp"

#include "internal/civil_time.hpp"
#include "internal/json_mapping.hpp"

#include <e2b/errors.hpp>

#include <algorithm>

namespace e2b::internal {

namespace {

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

void CheckOwner(const std::string& owner, const char* what) {
  const bool blank = std::all_of(owner.begin(), owner.end(),
                                 [](char c) { return c == ' ' || c == '\t'; });
  if (blank) {
    throw InvalidArgumentError(std::string(what) + " is empty", 0);
  }
  if (std::any_of(owner.begin(), owner.end(), IsControl)) {
    throw InvalidArgumentError(
        std::string(what) + " must not contain control characters", 0);
  }
}

const std::string* Find(const std::map<std::string, std::string>& metadata,
                        const char* key) {
  const auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

}  // namespace

std::map<std::string, std::string> MetadataWithLease(
    const SandboxConfig& cfg, std::chrono::system_clock::time_point now) {
  std::map<std::string, std::string> metadata = cfg.Metadata;
  if (!cfg.Lease) return metadata;
  const SandboxLease& lease = *cfg.Lease;
  if (lease.TTL <= std::chrono::milliseconds::zero()) {
    throw InvalidArgumentError("SandboxConfig.Lease.TTL must be positive", 0);
  }
  if (metadata.count(LeaseOwnerMetadataKey) != 0 ||
      metadata.count(LeaseExpiresMetadataKey) != 0) {
    throw InvalidArgumentError(
        "SandboxConfig.Metadata must not set the lease keys when "
        "SandboxConfig.Lease is set",
        0);
  }
  const std::string owner =
      lease.Owner.empty() ? DefaultLeaseOwner() : lease.Owner;
  CheckOwner(owner, "SandboxConfig.Lease.Owner");
  metadata[LeaseOwnerMetadataKey] = owner;
  metadata[LeaseExpiresMetadataKey] = FormatRfc3339Utc(
      now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                lease.TTL));
  return metadata;
}

void CheckReapOptions(const ReapOptions& opts) {
  if (!opts.Expired && !opts.OlderThan && opts.Metadata.empty()) {
    throw InvalidArgumentError(
        "ReapSandboxes: no criterion (Expired, OlderThan or Metadata); "
        "refusing to select every sandbox",
        0);
  }
  if (opts.OlderThan && *opts.OlderThan < std::chrono::milliseconds::zero()) {
    throw InvalidArgumentError("ReapSandboxes: OlderThan must not be negative",
                               0);
  }
  for (const auto& [key, value] : opts.Metadata) {
    if (key.empty()) {
      throw InvalidArgumentError("ReapSandboxes: a Metadata key is empty", 0);
    }
  }
  if (opts.Owner) CheckOwner(*opts.Owner, "ReapSandboxes: Owner");
}

std::map<std::string, std::string> ReapListFilter(const ReapOptions& opts) {
  std::map<std::string, std::string> filter = opts.Metadata;
  // A Metadata pair for the owner key that contradicts Owner stays as the
  // user wrote it; ReapSelects then matches nothing, as it should.
  if (opts.Owner) filter.emplace(LeaseOwnerMetadataKey, *opts.Owner);
  return filter;
}

bool ReapSelects(const SandboxInfo& sandbox, const ReapOptions& opts,
                 std::chrono::system_clock::time_point now) {
  // The listing was filtered by the server; every pair is checked again
  // because a kill must never rest on a filter the server ignored.
  for (const auto& [key, value] : opts.Metadata) {
    const std::string* have = Find(sandbox.Metadata, key.c_str());
    if (have == nullptr || *have != value) return false;
  }
  if (opts.Owner) {
    const std::string* owner = Find(sandbox.Metadata, LeaseOwnerMetadataKey);
    if (owner == nullptr || *owner != *opts.Owner) return false;
  }
  if (opts.Expired) {
    const std::string* expires =
        Find(sandbox.Metadata, LeaseExpiresMetadataKey);
    if (expires == nullptr) return false;
    const auto at = ParseRfc3339(*expires);
    if (!at || *at > now) return false;
  }
  if (opts.OlderThan) {
    const auto started = ParseRfc3339(sandbox.StartedAt);
    if (!started || now - *started < *opts.OlderThan) return false;
  }
  return true;
}

}  // namespace e2b::internal
