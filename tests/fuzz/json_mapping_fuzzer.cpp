// Fuzzes every control-plane response decoder (src/internal/json_mapping.*,
// fork results and batch metrics included):
// whatever the body, decoding ends in a value or in e2b::Error(0,
// "malformed response ...") -- never another exception, a crash or UB --
// and the message never repeats a value from the body (bodies carry access
// tokens; the seeds put "SECRET" into string values to watch for that).
// What decodes must survive the library's own to_json and decode again to
// the same thing. The JSON reader must agree with nlohmann on every body.
// Where the tree-free decoder (DecodeFlat) accepts a body,
// the JSON-tree decoder must accept it too and give the same value.

#include "fuzz_input.hpp"
#include "internal/json_mapping.hpp"

#include <e2b/errors.hpp>
#include <e2b/types.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using e2b_fuzz::Check;
using nlohmann::json;
namespace internal = e2b::internal;

const std::string kOperation = "GET /fuzz";

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void CheckError(const e2b::Error& e) {
  Check(e.StatusCode() == 0, "decoding error with an HTTP status", e.what());
  const std::string what = e.what();
  Check(what.find("malformed response from " + kOperation) != std::string::npos,
        "decoding error does not name the operation", what);
  Check(what.find("SECRET") == std::string::npos,
        "a body value leaked into the error", what);
}

template <typename T>
json ToJson(const T& value) {
  json j;
  to_json(j, value);
  return j;
}

template <typename T>
json ToJson(const std::vector<T>& values) {
  json j = json::array();
  for (const auto& v : values) j.push_back(ToJson(v));
  return j;
}

// Decodes T; when that works, to_json -> decode -> to_json must be stable.
template <typename T>
void Roundtrip(const std::string& body) {
  T decoded;
  try {
    decoded = internal::ParseResponse<T>(body, kOperation);
  } catch (const e2b::Error& e) {
    CheckError(e);
    return;
  }
  const std::string first = Dump(ToJson(decoded));
  T again;
  try {
    again = internal::ParseResponse<T>(first, kOperation);
  } catch (const e2b::Error& e) {
    e2b_fuzz::Fail("the library's own JSON does not decode", e.what());
  }
  Check(Dump(ToJson(again)) == first, "decode(to_json(x)) != x", first);
}

template <typename T>
void ArrayField(const std::string& body, const char* key) {
  try {
    auto items = internal::ParseArrayField<T>(body, key, kOperation);
    const std::string first = Dump(json{{key, ToJson(items)}});
    auto again = internal::ParseArrayField<T>(first, key, kOperation);
    Check(Dump(json{{key, ToJson(again)}}) == first,
          "array field does not round-trip", first);
  } catch (const e2b::Error& e) {
    CheckError(e);
  }
}

std::string Fields(const internal::CreatedSandbox& c) {
  return Dump(json::array({c.SandboxID, c.TemplateID, c.Alias, c.ClientID,
                           c.EnvdVersion, c.EnvdAccessToken, c.Domain}));
}

std::string Fields(const e2b::SandboxInfo& info) { return Dump(ToJson(info)); }

std::string Fields(const std::vector<e2b::SandboxInfo>& list) {
  return Dump(ToJson(list));
}

// The library's JSON reader (a fast path for the common subset in front of
// nlohmann) accepts exactly what nlohmann accepts, with the same value.
void ReaderMatchesNlohmann(const std::string& text) {
  const auto fast = internal::TryParseJson(text);
  json slow;
  try {
    slow = json::parse(text, nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    slow = json(json::value_t::discarded);
  }
  if (slow.is_discarded()) {
    Check(!fast.has_value(), "the reader accepts what nlohmann refuses", text);
    return;
  }
  Check(fast.has_value(), "the reader refuses what nlohmann accepts", text);
  Check(*fast == slow, "the reader and nlohmann disagree", text);
}

// DecodeFlat's answer, when it gives one, is the tree decoder's.
template <typename T>
void FlatMatchesTree(const std::string& body) {
  T flat{};
  if (!internal::DecodeFlat(body, flat)) return;
  T tree{};
  try {
    internal::Decode(internal::ParseJsonBody(body, kOperation), tree);
  } catch (const std::exception& e) {
    e2b_fuzz::Fail("DecodeFlat accepted what the tree decoder refuses",
                   e.what());
  }
  Check(Fields(flat) == Fields(tree), "DecodeFlat and the tree decoder differ",
        Fields(flat) + " vs " + Fields(tree));
}

void Created(const std::string& body) {
  FlatMatchesTree<internal::CreatedSandbox>(body);
  try {
    internal::ParseResponse<internal::CreatedSandbox>(body, kOperation);
  } catch (const e2b::Error& e) {
    CheckError(e);
  }
}

void ForkResults(const std::string& body) {
  try {
    for (const auto& entry : internal::ParseForkResults(body, kOperation)) {
      Check(entry.malformed.find("SECRET") == std::string::npos,
            "a body value leaked into a fork entry's error", entry.malformed);
      Check((entry.kind == internal::ForkEntryWire::Kind::kMalformed) ==
                !entry.malformed.empty(),
            "a malformed fork entry without a reason (or the reverse)");
    }
  } catch (const e2b::Error& e) {
    CheckError(e);
  }
}

void SandboxesMetrics(const std::string& body) {
  try {
    internal::ParseSandboxesMetrics(body, kOperation);
  } catch (const e2b::Error& e) {
    CheckError(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  const std::uint8_t which = in.Byte();
  const std::string body = in.Rest();
  ReaderMatchesNlohmann(body);
  switch (which % 18) {
    case 0:
      Created(body);
      break;
    case 1:
      FlatMatchesTree<e2b::SandboxInfo>(body);
      Roundtrip<e2b::SandboxInfo>(body);
      break;
    case 2:
      FlatMatchesTree<std::vector<e2b::SandboxInfo>>(body);
      Roundtrip<std::vector<e2b::SandboxInfo>>(body);
      break;
    case 3:
      Roundtrip<std::vector<e2b::SandboxMetric>>(body);
      break;
    case 4:
      ArrayField<e2b::SandboxLogEntry>(body, "logs");
      break;
    case 5:
      Roundtrip<e2b::SnapshotInfo>(body);
      break;
    case 6:
      Roundtrip<std::vector<e2b::SnapshotInfo>>(body);
      break;
    case 7:
      Roundtrip<std::vector<e2b::TemplateDetail>>(body);
      break;
    case 8:
      Roundtrip<e2b::TemplateInfo>(body);
      break;
    case 9:
      Roundtrip<e2b::TemplateWithBuilds>(body);
      break;
    case 10:
      ArrayField<e2b::BuildLogEntry>(body, "logs");
      break;
    case 11:
      Roundtrip<e2b::TemplateBuild>(body);
      break;
    case 12:
      Roundtrip<e2b::NetworkConfig>(body);
      break;
    case 13:
      Roundtrip<e2b::SandboxMetric>(body);
      break;
    case 14:
      Roundtrip<e2b::SandboxLifecycle>(body);
      break;
    case 15:
      Roundtrip<e2b::VolumeMount>(body);
      break;
    case 16:
      ForkResults(body);
      break;
    default:
      SandboxesMetrics(body);
      break;
  }
  return 0;
}
