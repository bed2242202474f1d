#ifndef E2B_INTERNAL_FILESYSTEM_MAPPING_HPP_
#define E2B_INTERNAL_FILESYSTEM_MAPPING_HPP_

// Wire mapping of the filesystem service (PROTOCOL.md sections 3 and 4.2):
// EntryInfo and FilesystemEvent JSON to the public types, read by
// json_mapping.hpp's contract (a field of the wrong type is an e2b::Error
// "malformed ..."), v1 file URL signatures and the Basic authorization that
// carries the user on filesystem RPCs.

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

/// An EntryInfo message; throws e2b::Error when it is malformed.
FileInfo FileInfoFromEntry(const nlohmann::json& entry);

/// The entries of a POST /files answer (a non-empty JSON array); throws
/// e2b::Error when it is not one or an entry is malformed.
std::vector<FileInfo> ParseUploadEntries(std::string_view body);

/// The `entry` of a Stat/MakeDir/Move answer; throws e2b::Error naming
/// `procedure` when there is none or it is malformed.
FileInfo EntryOfAnswer(const nlohmann::json& answer, const char* procedure);

/// The `entries` of a ListDir answer (missing or null: none); throws
/// e2b::Error naming `procedure` when malformed.
std::vector<FileInfo> EntriesOfAnswer(const nlohmann::json& answer,
                                      const char* procedure);

/// The `events` of a GetWatcherEvents answer (missing or null: none);
/// throws e2b::Error naming `procedure` when malformed.
std::vector<FilesystemEvent> EventsOfAnswer(const nlohmann::json& answer,
                                            const char* procedure);

/// The `watcherId` of a CreateWatcher answer; throws e2b::Error naming
/// `procedure` when it is missing, empty or malformed.
std::string WatcherIdOfAnswer(const nlohmann::json& answer,
                              const char* procedure);

/// A message of the WatchDir stream: {"start":{}}, {"filesystem":{..}},
/// {"keepalive":{}}, possibly wrapped in "event".
struct WatchStreamMessage {
  enum class Kind { kOther, kStart, kEvent };
  Kind kind = Kind::kOther;
  std::optional<FilesystemEvent> event;  ///< set for kEvent
};

/// Reads a WatchDir stream message; throws e2b::Error when malformed.
WatchStreamMessage ReadWatchStreamMessage(const nlohmann::json& message);

/// Rethrows the exception being handled, a plain 404 (envd's not_found) as
/// FileNotFoundError for `path`. Call only from a catch block.
[[noreturn]] void RethrowForPath(const std::string& path);

/// A FilesystemEvent message; throws e2b::Error when it is malformed.
FilesystemEvent FilesystemEventFromJson(const nlohmann::json& event);

/// "FILE_TYPE_FILE" / 1 -> "file", directory, symlink; "" otherwise.
std::string FileTypeName(const nlohmann::json& type);

/// "EVENT_TYPE_CREATE" / 1 -> "create", ... ; "unknown" otherwise.
std::string EventTypeName(const nlohmann::json& type);

/// The v1 signature of a /files request: "v1_" + unpadded standard base64
/// of sha256("<path>:<operation>:<user>:<token>[:<expiration>]").
std::string FilesSignature(std::string_view path, std::string_view operation,
                           std::string_view user, std::string_view token,
                           std::optional<std::int64_t> expiration);

/// "Basic " + base64("<user>:"): how envd RPCs learn the user.
std::string BasicAuthorization(std::string_view user);

}  // namespace e2b::internal

namespace e2b {

// The EntryInfo and FilesystemEvent adapters of the JSON layer (found by
// ADL, so internal::Decode and ReadArrayField read these types too).
void from_json(const nlohmann::json& j, FileInfo& out);
void from_json(const nlohmann::json& j, FilesystemEvent& out);

}  // namespace e2b

#endif  // E2B_INTERNAL_FILESYSTEM_MAPPING_HPP_
