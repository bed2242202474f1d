#ifndef E2B_INTERNAL_FILESYSTEM_MAPPING_HPP_
#define E2B_INTERNAL_FILESYSTEM_MAPPING_HPP_

// Wire mapping of the filesystem service (PROTOCOL.md sections 3 and 4.2):
// EntryInfo and FilesystemEvent JSON to the public types (lenient: missing
// fields are defaults, int64 as string or number, enums as name or
// number), RFC 3339 timestamps, v1 file URL signatures and the Basic
// authorization that carries the user on filesystem RPCs.

#include <e2b/filesystem.hpp>
#include <e2b/types.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace e2b::internal {

/// An EntryInfo message; throws e2b::Error when it is not a JSON object.
FileInfo FileInfoFromEntry(const nlohmann::json& entry);

/// The entries of a POST /files answer (a non-empty JSON array); throws
/// e2b::Error when it is not one.
std::vector<FileInfo> ParseUploadEntries(std::string_view body);

/// The `entry` of a Stat/MakeDir/Move answer; throws e2b::Error naming
/// `procedure` when there is none.
FileInfo EntryOfAnswer(const nlohmann::json& answer, const char* procedure);

/// Rethrows the exception being handled, a plain 404 (envd's not_found) as
/// FileNotFoundError for `path`. Call only from a catch block.
[[noreturn]] void RethrowForPath(const std::string& path);

/// A FilesystemEvent message; throws e2b::Error when it is not an object.
FilesystemEvent FilesystemEventFromJson(const nlohmann::json& event);

/// "FILE_TYPE_FILE" / 1 -> "file", directory, symlink; "" otherwise.
std::string FileTypeName(const nlohmann::json& type);

/// "EVENT_TYPE_CREATE" / 1 -> "create", ... ; "unknown" otherwise.
std::string EventTypeName(const nlohmann::json& type);

/// Parses an RFC 3339 date-time ("2025-01-02T03:04:05.123456789Z",
/// "...+02:00"); nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(
    std::string_view text);

/// The v1 signature of a /files request: "v1_" + unpadded standard base64
/// of sha256("<path>:<operation>:<user>:<token>[:<expiration>]").
std::string FilesSignature(std::string_view path, std::string_view operation,
                           std::string_view user, std::string_view token,
                           std::optional<std::int64_t> expiration);

/// "Basic " + base64("<user>:"): how envd RPCs learn the user.
std::string BasicAuthorization(std::string_view user);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_FILESYSTEM_MAPPING_HPP_
