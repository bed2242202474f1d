#include "internal/filesystem_mapping.hpp"

#include "internal/ascii.hpp"
#include "internal/base64.hpp"
#include "internal/error_mapping.hpp"
#include "internal/json_mapping.hpp"
#include "internal/sha256.hpp"

#include <e2b/errors.hpp>

namespace e2b::internal {
namespace {

using nlohmann::json;

// An enum member: its name or number, or null when missing; any other type
// is the wrong one.
const json* EnumMember(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  if (!it->is_string() && !it->is_number_integer()) {
    throw JsonMappingError(std::string("field '") + key +
                           "': expected an enum name or number, got " +
                           it->type_name());
  }
  return &*it;
}

FileInfo ReadEntry(const json& entry) {
  RequireObject(entry, "filesystem entry");
  FileInfo info;
  ReadField(entry, "name", info.Name);
  ReadField(entry, "path", info.Path);
  if (const json* type = EnumMember(entry, "type")) {
    info.Type = FileTypeName(*type);
  }
  ReadField(entry, "size", info.Size);
  ReadField(entry, "mode", info.Mode);
  ReadField(entry, "permissions", info.Permissions);
  ReadField(entry, "owner", info.Owner);
  ReadField(entry, "group", info.Group);
  ReadField(entry, ProtoField(entry, "modifiedTime", "modified_time"),
            info.ModTime);
  ReadField(entry, ProtoField(entry, "symlinkTarget", "symlink_target"),
            info.SymlinkTarget);
  ReadField(entry, "metadata", info.Metadata);
  return info;
}

FilesystemEvent ReadEvent(const json& event) {
  RequireObject(event, "filesystem event");
  FilesystemEvent out;
  ReadField(event, "name", out.Name);
  const json* type = EnumMember(event, "type");
  out.Type = type != nullptr ? EventTypeName(*type) : "unknown";
  const auto entry = event.find("entry");
  if (entry != event.end() && !entry->is_null()) {
    try {
      out.Entry = ReadEntry(*entry);
    } catch (const JsonMappingError& e) {
      throw JsonMappingError(std::string("field 'entry': ") + e.what());
    }
  }
  return out;
}

// An entry of the POST /files answer (envd's REST EntryInfo: the type is a
// plain string there).
FileInfo ReadUploadEntry(const json& entry) {
  RequireObject(entry, "upload answer entry");
  FileInfo info;
  ReadField(entry, "name", info.Name);
  ReadField(entry, "path", info.Path);
  ReadField(entry, "type", info.Type);
  ReadField(entry, "metadata", info.Metadata);
  return info;
}

// Runs `read`, a JsonMappingError becoming e2b::Error(0, "<what>: ...").
template <typename Read>
auto Malformed(const std::string& what, Read&& read) {
  try {
    return read();
  } catch (const JsonMappingError& e) {
    throw Error(0, what + ": " + e.what());
  }
}

}  // namespace

std::string FileTypeName(const json& type) {
  if (type.is_string()) {
    const std::string name = type.get<std::string>();
    if (name == "FILE_TYPE_FILE") return "file";
    if (name == "FILE_TYPE_DIRECTORY") return "directory";
    if (name == "FILE_TYPE_SYMLINK") return "symlink";
    return "";
  }
  if (type.is_number_integer()) {
    switch (type.get<std::int64_t>()) {
      case 1:
        return "file";
      case 2:
        return "directory";
      case 3:
        return "symlink";
      default:
        return "";
    }
  }
  return "";
}

std::string EventTypeName(const json& type) {
  static constexpr const char* kNames[] = {"unknown", "create", "write",
                                           "remove",  "rename", "chmod"};
  if (type.is_string()) {
    const std::string name = type.get<std::string>();
    constexpr std::string_view kPrefix = "EVENT_TYPE_";
    if (name.rfind(kPrefix, 0) == 0) {
      std::string lower;
      for (char c : name.substr(kPrefix.size())) {
        lower.push_back(AsciiLower(c));
      }
      for (int i = 1; i < 6; ++i) {
        if (lower == kNames[i]) return lower;
      }
    }
    return "unknown";
  }
  if (type.is_number_integer()) {
    const auto value = type.get<std::int64_t>();
    if (value >= 1 && value <= 5) return kNames[value];
  }
  return "unknown";
}

std::vector<FileInfo> ParseUploadEntries(std::string_view body) {
  const auto entries = TryParseJson(body).value_or(json());
  if (!entries.is_array()) {
    throw Error(0, "POST /files: the upload answer is not a JSON array");
  }
  if (entries.empty()) {
    throw Error(0, "POST /files: the upload answer lists no file");
  }
  std::vector<FileInfo> out;
  out.reserve(entries.size());
  for (const auto& entry : entries) {
    out.push_back(Malformed("POST /files: malformed upload answer",
                            [&] { return ReadUploadEntry(entry); }));
  }
  return out;
}

FileInfo EntryOfAnswer(const json& answer, const char* procedure) {
  const auto it = answer.find("entry");
  if (it == answer.end() || it->is_null()) {
    throw Error(0, std::string(procedure) + ": the answer has no entry");
  }
  return Malformed(std::string(procedure) + ": malformed answer",
                   [&] { return ReadEntry(*it); });
}

void RethrowForPath(const std::string& path) {
  try {
    throw;
  } catch (const SandboxNotFoundError&) {
    throw;
  } catch (const TimeoutError&) {
    throw;
  } catch (const FileNotFoundError&) {
    throw;
  } catch (const Error& e) {
    if (e.StatusCode() == 404) {
      ThrowWithRequestID(FileNotFoundError(path, e.Message()), e.RequestID());
    }
    throw;
  }
}

std::vector<FileInfo> EntriesOfAnswer(const json& answer,
                                      const char* procedure) {
  return Malformed(std::string(procedure) + ": malformed answer",
                   [&] { return ReadArrayField<FileInfo>(answer, "entries"); });
}

std::vector<FilesystemEvent> EventsOfAnswer(const json& answer,
                                            const char* procedure) {
  return Malformed(std::string(procedure) + ": malformed answer", [&] {
    return ReadArrayField<FilesystemEvent>(answer, "events");
  });
}

std::string WatcherIdOfAnswer(const json& answer, const char* procedure) {
  std::string id =
      Malformed(std::string(procedure) + ": malformed answer", [&] {
        RequireObject(answer, "response");
        std::string value;
        ReadField(answer, "watcherId", value);
        return value;
      });
  if (id.empty()) {
    throw Error(0, std::string(procedure) + ": the answer has no watcherId");
  }
  return id;
}

WatchStreamMessage ReadWatchStreamMessage(const json& message) {
  return Malformed("WatchDir: malformed stream message", [&] {
    // Some servers wrap the message in "event"; accepted too.
    const auto wrapped = message.find("event");
    const json& inner =
        wrapped != message.end() && wrapped->is_object() ? *wrapped : message;
    WatchStreamMessage out;
    if (inner.contains("start")) {
      out.kind = WatchStreamMessage::Kind::kStart;
    } else if (const auto fs = inner.find("filesystem"); fs != inner.end()) {
      out.kind = WatchStreamMessage::Kind::kEvent;
      out.event = ReadEvent(*fs);
    }
    return out;
  });
}

FileInfo FileInfoFromEntry(const json& entry) {
  return Malformed("malformed filesystem entry",
                   [&] { return ReadEntry(entry); });
}

FilesystemEvent FilesystemEventFromJson(const json& event) {
  return Malformed("malformed filesystem event",
                   [&] { return ReadEvent(event); });
}

std::string FilesSignature(std::string_view path, std::string_view operation,
                           std::string_view user, std::string_view token,
                           std::optional<std::int64_t> expiration) {
  std::string raw;
  raw.append(path).append(":").append(operation).append(":");
  raw.append(user).append(":").append(token);
  if (expiration) raw.append(":").append(std::to_string(*expiration));
  const auto digest = Sha256Digest(raw);
  std::string encoded = Base64Encode(std::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return "v1_" + encoded;
}

std::string BasicAuthorization(std::string_view user) {
  std::string credentials(user);
  credentials.push_back(':');
  return "Basic " + Base64Encode(credentials);
}

}  // namespace e2b::internal

namespace e2b {

void from_json(const nlohmann::json& j, FileInfo& out) {
  out = internal::ReadEntry(j);
}

void from_json(const nlohmann::json& j, FilesystemEvent& out) {
  out = internal::ReadEvent(j);
}

}  // namespace e2b
