#ifndef E2B_LOCAL_RUNTIME_SUBORDINATE_IDS_HPP_
#define E2B_LOCAL_RUNTIME_SUBORDINATE_IDS_HPP_

// Which host ids sandboxes run as. An administrator reserves them the way
// rootless container runtimes expect, with an entry for the account
// "e2b-local" in /etc/subuid and /etc/subgid ("e2b-local:200000:65536");
// without one, the built-in IdRange applies (sandbox_runtime.hpp). The
// account does not need to exist: the entries only keep the range apart
// from other users of subordinate ids.

#include "runtime/sandbox_runtime.hpp"

#include <optional>
#include <string>

namespace e2b_local {

/// The account whose subordinate ids sandboxes use.
inline constexpr const char* kSubordinateIdsAccount = "e2b-local";

/// The range named for `account` by the texts of /etc/subuid and
/// /etc/subgid: its first entry with at least 65,536 ids in each, of which
/// sandboxes use 65,536 (ids 0-65535 inside, 65534 being nobody). nullopt
/// when neither text names the account. Throws std::runtime_error, naming
/// the file and the fix, when the entries cannot be used: only one of the
/// files names it, too few ids, a range starting below 65,536 (it would
/// overlap ordinary host users) or past 2^32, or uid and gid ranges that
/// start at different ids (sandbox ids map to host ids by one offset).
std::optional<IdRange> SubordinateIdRange(
    const std::string& subuid_text, const std::string& subgid_text,
    const std::string& account = kSubordinateIdsAccount);

/// The range sandboxes run as on this host: SubordinateIdRange over the
/// files at `subuid_path` and `subgid_path` (a missing file names no one),
/// else the built-in default. `source` (optional) says which, for logs.
/// Throws std::runtime_error as SubordinateIdRange does, or when a file
/// exists but cannot be read.
IdRange ConfiguredIdRange(const std::string& subuid_path = "/etc/subuid",
                          const std::string& subgid_path = "/etc/subgid",
                          std::string* source = nullptr);

}  // namespace e2b_local

#endif  // E2B_LOCAL_RUNTIME_SUBORDINATE_IDS_HPP_
