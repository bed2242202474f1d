#ifndef E2B_INTERNAL_JSON_MAPPING_HPP_
#define E2B_INTERNAL_JSON_MAPPING_HPP_

// The one JSON layer of the client: how every wire message is read and
// written. The control-plane types are mapped here (PROTOCOL.md section
// 2.2); envd's messages (filesystem_mapping.cpp, process_stream.cpp) and
// error answers (error_mapping.cpp, connect_client.cpp) read their fields
// through the readers declared here, so there is one contract:
//
// Messages (answers and stream messages) are read leniently:
//   - a missing or null field keeps its default; unknown fields are ignored;
//   - integers arrive as JSON numbers or as decimal strings (protobuf JSON
//     sends int64 as strings), out of range is an error;
//   - enums arrive by name or by number; an unknown one reads as the type's
//     "unknown" value (the server may be newer than the client);
//   - protobuf messages may use the field's original name (`modified_time`)
//     instead of its JSON name (`modifiedTime`): ProtoField picks the one
//     present;
//   - a field of the wrong type (a string where a number belongs, an object
//     for an array, a value that is not a timestamp) throws
//     JsonMappingError naming the field, never its value (values may be
//     secrets). The caller turns it into e2b::Error(0, "malformed ...") for
//     its operation: ParseResponse does for the control plane, as Go's
//     encoding/json and protojson refuse such a message.
//
// Error answers are read best effort (ParseJsonObject, StringMember): an
// error is already being reported, so a body that is not the expected JSON
// never throws; the status code decides.
//
// Output is strict: request bodies hold exactly the fields that are set.

#include <e2b/types.hpp>
#include <e2b/volume.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace e2b {

namespace internal {

/// A JSON value does not have the shape a type needs. The message names the
/// field, never its value (values may be secrets such as access tokens).
class JsonMappingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The Sandbox object of create/resume/connect answers.
struct CreatedSandbox {
  std::string SandboxID;
  std::string TemplateID;
  std::string Alias;
  std::string ClientID;
  std::string EnvdVersion;
  std::string EnvdAccessToken;
  std::string TrafficAccessToken;
  std::string Domain;
};

void from_json(const nlohmann::json& j, CreatedSandbox& out);

/// One entry of a fork answer: a sandbox, or an error with the server's code
/// and message (each entry stands alone: one bad entry fails only its
/// fork).
struct ForkEntryWire {
  enum class Kind {
    kSandbox,     ///< `sandbox` holds the new sandbox
    kError,       ///< `code` and `message` say why it failed
    kUnreported,  ///< neither a sandbox nor an error
    kMalformed,   ///< `malformed` says what is wrong with the entry
  };
  Kind kind = Kind::kUnreported;
  CreatedSandbox sandbox;
  int code = 0;
  std::string message;
  std::string malformed;
};

/// The body of POST /sandboxes/{id}/fork: a JSON array of entries; throws
/// as ThrowMalformedResponse when it is not an array.
std::vector<ForkEntryWire> ParseForkResults(std::string_view body,
                                            const std::string& operation);

/// The body of GET /sandboxes/metrics: {"sandboxes": {id: metric}} (a
/// missing or null map is empty); throws as ThrowMalformedResponse.
std::map<std::string, SandboxMetric> ParseSandboxesMetrics(
    std::string_view body, const std::string& operation);

/// Throws e2b::Error(0, "malformed response from <operation>: <why>").
[[noreturn]] void ThrowMalformedResponse(const std::string& operation,
                                         const std::string& why);

/// Parses `body` as JSON; invalid JSON throws as ThrowMalformedResponse
/// (naming the byte offset, never the content).
nlohmann::json ParseJsonBody(std::string_view body,
                             const std::string& operation);

/// Parses `text` as JSON: the value nlohmann::json::parse gives, reached
/// faster for the common subset (plain ASCII strings, integers); nullopt
/// when `text` is not valid JSON. Never throws for bad input.
std::optional<nlohmann::json> TryParseJson(std::string_view text);

/// Decodes `body` straight into a default-constructed `out`, without the
/// JSON tree ParseJsonBody builds, for the answers of frequent calls
/// (Sandbox::Info, create, connect, sandbox listings). Covers the common case
/// only; false means "take the tree path" (`out` is then unspecified), which
/// gives the canonical value or error. When it returns true, `out` equals what
/// the tree path gives (the json_mapping fuzzer checks this).
bool DecodeFlat(std::string_view body, CreatedSandbox& out);
bool DecodeFlat(std::string_view body, SandboxInfo& out);
bool DecodeFlat(std::string_view body, std::vector<SandboxInfo>& out);

/// A process event message (envd's StartResponse or ConnectResponse) as
/// DecodeFlat reads it: which event it is and its fields as sent, output
/// still base64. ParseProcessEvent (process_stream.hpp) checks and decodes
/// it exactly as it does the JSON tree of the same message.
struct ProcessEventText {
  enum class Kind { kNone, kStart, kData, kEnd, kKeepalive };
  Kind kind = Kind::kNone;
  std::uint32_t pid = 0;
  std::string stdout_base64;
  std::string stderr_base64;
  std::string pty_base64;
  int exit_code = 0;
  std::string error;
  std::string status;
};

/// The common shape of a process event (one event kind, plain fields);
/// false for anything else, which the tree path then parses or rejects.
/// Every command's output arrives this way, so Commands.Run and output
/// streaming skip the JSON tree per message.
bool DecodeFlat(std::string_view message, ProcessEventText& out);

/// Whether T has a DecodeFlat overload.
template <typename T, typename = void>
struct HasFlatDecoder : std::false_type {};
template <typename T>
struct HasFlatDecoder<T, std::void_t<decltype(DecodeFlat(std::string_view(),
                                                         std::declval<T&>()))>>
    : std::true_type {};

/// The request body of POST /sandboxes: template and timeout with their
/// defaults applied, envVars, and secure: true (so envd demands a token).
nlohmann::json NewSandboxBody(const SandboxConfig& cfg);

/// The request body of PUT /sandboxes/{id}/network: only the fields that
/// are set (an omitted field is cleared by the server either way).
nlohmann::json NetworkUpdateBody(const NetworkUpdateConfig& cfg);

/// The request body of POST /v3/templates; optional fields only when set.
nlohmann::json CreateTemplateBody(const CreateTemplateConfig& cfg);

/// The request body of POST /v2/templates/{id}/builds/{buildID}: `steps`
/// always (an array, [] when there are none), every other field only when
/// set, as Go's omitempty tags say.
nlohmann::json StartBuildBody(const StartBuildConfig& cfg);

/// The request body of PATCH /volumecontent/{id}/path: only the fields
/// that are set ({} when none is).
nlohmann::json VolumeMetadataBody(const VolumeMetadataParams& params);

// Field readers shared by the from_json overloads; `key` is named in errors.
void ReadField(const nlohmann::json& j, const char* key, std::string& out);
void ReadField(const nlohmann::json& j, const char* key, int& out);
void ReadField(const nlohmann::json& j, const char* key, std::int64_t& out);
void ReadField(const nlohmann::json& j, const char* key, double& out);
void ReadField(const nlohmann::json& j, const char* key, bool& out);
void ReadField(const nlohmann::json& j, const char* key,
               std::optional<std::string>& out);
void ReadField(const nlohmann::json& j, const char* key,
               std::vector<std::string>& out);
void ReadField(const nlohmann::json& j, const char* key,
               std::map<std::string, std::string>& out);

void ReadField(const nlohmann::json& j, const char* key, std::uint32_t& out);
/// An RFC 3339 date-time (a google.protobuf.Timestamp).
void ReadField(const nlohmann::json& j, const char* key,
               std::chrono::system_clock::time_point& out);

/// Which of a protobuf field's two names `j` uses: `proto_name` when only
/// it is present (and not null), else `json_name`.
const char* ProtoField(const nlohmann::json& j, const char* json_name,
                       const char* proto_name);

/// Throws JsonMappingError unless `j` is an object (`what` names it).
void RequireObject(const nlohmann::json& j, const char* what);

/// Best effort, for error answers: the JSON object `text` holds, or nullopt
/// (invalid JSON or not an object). Never throws.
std::optional<nlohmann::json> ParseJsonObject(std::string_view text);

/// Best effort, for error answers: the string member `key` of `j`; empty
/// when `j` is not an object or the member is missing or not a string.
std::string StringMember(const nlohmann::json& j, const char* key);

/// Parses an RFC 3339 date-time ("2025-01-02T03:04:05.123456789Z",
/// "...+02:00"); nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(
    std::string_view text);

}  // namespace internal

// ADL hooks for the public types (nlohmann finds them in namespace e2b).
void from_json(const nlohmann::json& j, SandboxLifecycle& out);
void from_json(const nlohmann::json& j, VolumeMount& out);
void from_json(const nlohmann::json& j, SandboxInfo& out);
void from_json(const nlohmann::json& j, SandboxLogEntry& out);
void from_json(const nlohmann::json& j, SandboxMetric& out);
void from_json(const nlohmann::json& j, SnapshotInfo& out);
void from_json(const nlohmann::json& j, TemplateInfo& out);
void from_json(const nlohmann::json& j, TemplateDetail& out);
void from_json(const nlohmann::json& j, TemplateBuild& out);
void from_json(const nlohmann::json& j, TemplateWithBuilds& out);
void from_json(const nlohmann::json& j, BuildLogEntry& out);
void from_json(const nlohmann::json& j, BuildFileStatus& out);
void from_json(const nlohmann::json& j, BuildStatusReason& out);
void from_json(const nlohmann::json& j, BuildStatus& out);
void from_json(const nlohmann::json& j, EgressProxyConfig& out);
void from_json(const nlohmann::json& j, RequestRule& out);
void from_json(const nlohmann::json& j, NetworkConfig& out);
void from_json(const nlohmann::json& j, VolumeInfo& out);
void from_json(const nlohmann::json& j, VolumeAndToken& out);
/// The content API's entry; its times are RFC 3339 with or without
/// fractional seconds, and an empty time string reads as the epoch (Go's
/// zero time).
void from_json(const nlohmann::json& j, VolumeEntryStat& out);

void to_json(nlohmann::json& j, const SandboxLifecycle& in);
void to_json(nlohmann::json& j, const VolumeMount& in);
void to_json(nlohmann::json& j, const SandboxInfo& in);
void to_json(nlohmann::json& j, const SandboxLogEntry& in);
void to_json(nlohmann::json& j, const SandboxMetric& in);
void to_json(nlohmann::json& j, const SnapshotInfo& in);
void to_json(nlohmann::json& j, const TemplateInfo& in);
void to_json(nlohmann::json& j, const TemplateDetail& in);
void to_json(nlohmann::json& j, const TemplateBuild& in);
void to_json(nlohmann::json& j, const TemplateWithBuilds& in);
void to_json(nlohmann::json& j, const BuildLogEntry& in);
/// Only the fields that are set (the API treats absent as default).
void to_json(nlohmann::json& j, const EgressProxyConfig& in);
void to_json(nlohmann::json& j, const RequestRule& in);
void to_json(nlohmann::json& j, const NetworkConfig& in);

namespace internal {

/// Converts `j` to T through the from_json overloads (found by ADL).
template <typename T>
void Decode(const nlohmann::json& j, T& out) {
  from_json(j, out);
}

/// A JSON array of T (null = empty).
template <typename T>
void Decode(const nlohmann::json& j, std::vector<T>& out) {
  out.clear();
  if (j.is_null()) return;
  if (!j.is_array()) throw JsonMappingError("expected a JSON array");
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    T item{};
    try {
      Decode(j[i], item);
    } catch (const JsonMappingError& e) {
      throw JsonMappingError("item " + std::to_string(i) + ": " + e.what());
    }
    out.push_back(std::move(item));
  }
}

/// `{"<key>": [T...]}` (the logs answers); a missing or null array is
/// empty.
template <typename T>
std::vector<T> ReadArrayField(const nlohmann::json& j, const char* key) {
  RequireObject(j, "response");
  std::vector<T> out;
  auto it = j.find(key);
  if (it == j.end()) return out;
  try {
    Decode(*it, out);
  } catch (const JsonMappingError& e) {
    throw JsonMappingError(std::string("field '") + key + "': " + e.what());
  }
  return out;
}

/// Parses `body` and converts it to T; every failure is an e2b::Error(0,
/// "malformed response from <operation>: ...").
template <typename T>
T ParseResponse(std::string_view body, const std::string& operation) {
  if constexpr (HasFlatDecoder<T>::value) {
    T out{};
    if (DecodeFlat(body, out)) return out;
  }
  const nlohmann::json j = ParseJsonBody(body, operation);
  try {
    T out{};
    Decode(j, out);
    return out;
  } catch (const JsonMappingError& e) {
    ThrowMalformedResponse(operation, e.what());
  }
}

/// As ParseResponse, for the `{"<key>": [T...]}` answers.
template <typename T>
std::vector<T> ParseArrayField(std::string_view body, const char* key,
                               const std::string& operation) {
  const nlohmann::json j = ParseJsonBody(body, operation);
  try {
    return ReadArrayField<T>(j, key);
  } catch (const JsonMappingError& e) {
    ThrowMalformedResponse(operation, e.what());
  }
}

}  // namespace internal

}  // namespace e2b

#endif  // E2B_INTERNAL_JSON_MAPPING_HPP_
