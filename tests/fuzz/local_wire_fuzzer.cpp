// Fuzzes e2b-local's REST request parsing (tools/e2b-local/control/wire.*):
// JSON bodies and their typed fields, query integers, page tokens (and
// their round trip), the percent-decoders and the doubly encoded metadata
// filter, timestamps. A bad
// request may only end in ApiError 400; anything else escaping (a
// nlohmann exception, std::out_of_range, ...) would become a 500 or a crash.

#include "control/api_error.hpp"
#include "control/wire.hpp"
#include "fuzz_input.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace {

using e2b_fuzz::Check;
using nlohmann::json;
namespace local = e2b_local;

template <typename F>
void Expect400(F&& parse) {
  try {
    parse();
  } catch (const local::ApiError& e) {
    Check(e.status == 400, "request parsing failed with a non-400 status");
  }
}

void Body(const std::string& body, bool allow_empty) {
  Expect400([&] {
    const json object = local::ParseJsonObject(body, allow_empty);
    Check(object.is_object(), "ParseJsonObject returned a non-object");
    // The fields every handler reads, under the names they use.
    for (const char* name : {"timeout", "templateID", "autoPause", "metadata",
                             "envVars", "count", "cpuCount", "name"}) {
      Expect400([&] { local::OptionalInt(object, name); });
      Expect400([&] { local::OptionalBool(object, name); });
      Expect400([&] { local::OptionalString(object, name); });
      Expect400([&] { local::StringMap(object, name); });
    }
  });
}

void Query(const std::string& text) {
  Expect400([&] {
    const auto v = local::QueryInt(text, "limit", 100, 1, 100);
    Check(v >= 1 && v <= 100, "QueryInt out of its range");
  });
  Expect400([&] {
    local::QueryInt(text, "start", 0, std::numeric_limits<std::int64_t>::min(),
                    std::numeric_limits<std::int64_t>::max());
  });
  Expect400([&] { local::DecodePageToken(text, /*ascending=*/false); });
  Expect400([&] { local::DecodePageToken(text, /*ascending=*/true); });
  Expect400([&] { local::ParseMetadataFilter(text); });
  if (auto q = local::QueryUnescape(text)) {
    Check(q->size() <= text.size(), "QueryUnescape grew the text");
  }
  if (auto p = local::PathUnescape(text)) {
    Check(p->size() <= text.size(), "PathUnescape grew the text");
  }
}

void Timestamp(const std::string& text) {
  const auto ms = local::ParseTimestampMs(text);
  if (!ms) return;
  // Years 0000-9999 only, so the formatted form stays four digits wide.
  constexpr std::int64_t kYear10000Ms = 253402300800000;
  constexpr std::int64_t kYear0Ms = -62167219200000;
  if (*ms < kYear0Ms || *ms >= kYear10000Ms) return;
  const std::string formatted = local::FormatTimestamp(*ms);
  const auto again = local::ParseTimestampMs(formatted);
  Check(again.has_value() && *again == *ms, "timestamp does not round-trip",
        formatted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  const std::uint8_t mode = in.Byte();
  const std::string text = in.Rest();
  switch (mode % 4) {
    case 0:
      Body(text, (mode & 4) != 0);
      break;
    case 1:
      Query(text);
      break;
    case 2:
      Timestamp(text);
      break;
    default: {
      // A key as the lists make them: a time in years 0000-9999 and an ID
      // of sandbox-ID characters (IDs never hold the "__" separator).
      constexpr std::int64_t kYear10000Ms = 253402300800000;
      local::PageKey key;
      key.ms = static_cast<std::int64_t>(std::hash<std::string>{}(text) %
                                         kYear10000Ms);
      for (char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) key.id += c;
      }
      const bool ascending = (mode & 4) != 0;
      const auto back = local::DecodePageToken(
          local::EncodePageToken(key, ascending), ascending);
      Check(back.has_value() && back->ms == key.ms && back->id == key.id,
            "page token does not round-trip");
      Query(text);
      break;
    }
  }
  return 0;
}
