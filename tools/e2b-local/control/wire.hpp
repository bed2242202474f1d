#ifndef E2B_LOCAL_CONTROL_WIRE_HPP_
#define E2B_LOCAL_CONTROL_WIRE_HPP_

// The control plane's JSON mapping (PROTOCOL.md section 2.2) and the small
// parsers its handlers share: request bodies, timestamps, page tokens and
// the doubly encoded metadata filter. Parse failures throw ApiError 400.

#include "sandbox/local_sandbox.hpp"
#include "sandbox/registry.hpp"
#include "store/template_store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace e2b_local {

/// RFC 3339 UTC with milliseconds: 2025-01-02T03:04:05.123Z.
std::string FormatTimestamp(std::int64_t unix_ms);
std::string FormatTimestamp(std::chrono::system_clock::time_point tp);
/// Accepts RFC 3339 with any fraction and a Z or ±hh:mm offset.
std::optional<std::int64_t> ParseTimestampMs(const std::string& text);

/// A request body as a JSON object; an empty body is `{}` when allowed.
nlohmann::json ParseJsonObject(const std::string& body, bool allow_empty);
/// An optional integer field ("12" strings are refused; 12.0 is accepted).
std::optional<std::int64_t> OptionalInt(const nlohmann::json& object,
                                        const char* name);
std::optional<bool> OptionalBool(const nlohmann::json& object,
                                 const char* name);
std::optional<std::string> OptionalString(const nlohmann::json& object,
                                          const char* name);
/// A string map field; null or absent = empty.
std::map<std::string, std::string> StringMap(const nlohmann::json& object,
                                             const char* name);
/// The volumeMounts field of a create: [{name, path}] with string members;
/// null or absent = none. Only the shape is checked here (the registry
/// answers for names and paths, as E2B does).
std::vector<SandboxVolumeMount> VolumeMountsField(const nlohmann::json& object,
                                                  const char* name);
/// A decimal query parameter in [min, max]; `fallback` when absent.
std::int64_t QueryInt(const std::string& text, const char* name,
                      std::int64_t fallback, std::int64_t min,
                      std::int64_t max);

/// Where a list page ends, as E2B's API pages its lists: by key (a time in
/// ms and an ID), never by offset, so items created or removed between two
/// requests neither repeat nor go missing.
struct PageKey {
  std::int64_t ms = 0;
  std::string id;
};

/// The order of a keyset-paged list: newest first (ties by ascending ID),
/// or with `ascending` oldest first (ties by descending ID), as E2B sorts.
bool PageKeyBefore(const PageKey& a, const PageKey& b, bool ascending);

/// The X-Next-Token after `last`: base64url("<RFC 3339>__<id>"), with
/// "__asc" appended for an ascending list, E2B's own cursor format.
std::string EncodePageToken(const PageKey& last, bool ascending);
/// The key a nextToken continues after; nullopt for an empty token. A token
/// that is not one, or was issued for the other order, is 400 "Invalid
/// next token".
std::optional<PageKey> DecodePageToken(const std::string& token,
                                       bool ascending);

/// Go's url.QueryUnescape; nullopt for a bad escape.
std::optional<std::string> QueryUnescape(const std::string& text);
/// Strict percent-decoding of one path segment ('+' stays '+').
std::optional<std::string> PathUnescape(const std::string& text);
/// The metadata filter of GET /sandboxes: the already query-decoded value,
/// decoded once more, split on '&' and '=', each side decoded again.
std::map<std::string, std::string> ParseMetadataFilter(
    const std::string& value);

nlohmann::json SandboxJson(const LocalSandbox& sandbox);
nlohmann::json ListedSandboxJson(const LocalSandbox& sandbox);
nlohmann::json SandboxDetailJson(const LocalSandbox& sandbox,
                                 const nlohmann::json& network);
nlohmann::json MetricJson(const MetricSample& sample);
nlohmann::json LogEntryJson(const LogEntry& entry);
nlohmann::json TemplateJson(const TemplateRecord& t);
nlohmann::json BuildJson(const BuildRecord& b);
nlohmann::json BuildLogJson(const BuildLogRecord& entry);
nlohmann::json SnapshotInfoJson(const TemplateRecord& t);
/// Numeric rank of a log level (debug < info < warn < error); -1 unknown.
int LogLevelRank(const std::string& level);

}  // namespace e2b_local

#endif  // E2B_LOCAL_CONTROL_WIRE_HPP_
