// Fuzzes the client's parsing of envd messages: process stream events,
// filesystem entries and watch events (with their RFC 3339 timestamps),
// base64 `bytes` fields and the incremental UTF-8 decoding of output. Only
// e2b::Error may come out; base64 and UTF-8 decoding must be exact
// inverses / independent of where the output was cut.

#include "fuzz_input.hpp"
#include "internal/base64.hpp"
#include "internal/filesystem_mapping.hpp"
#include "internal/json_mapping.hpp"
#include "internal/process_stream.hpp"
#include "internal/utf8_decoder.hpp"

#include <e2b/errors.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using e2b_fuzz::Check;
using nlohmann::json;
namespace internal = e2b::internal;

// Strict UTF-8 (no surrogates, no overlongs, at most U+10FFFF).
bool IsValidUtf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (int k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      const unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (d < l || d > h) return false;
    }
    i += n + 1;
  }
  return true;
}

void CheckUtf8(const std::string& bytes, std::size_t chunk) {
  internal::Utf8StreamDecoder whole;
  const std::string one = whole.Decode(bytes) + whole.Flush();
  internal::Utf8StreamDecoder pieces;
  std::string many;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    many += pieces.Decode(std::string_view(bytes).substr(at, chunk));
  }
  many += pieces.Flush();
  Check(one == many, "UTF-8 text depends on where output was cut");
  Check(IsValidUtf8(one), "decoder produced invalid UTF-8");
  if (IsValidUtf8(bytes)) Check(one == bytes, "valid UTF-8 was changed");
}

void CheckBase64(const std::string& bytes) {
  const std::string encoded = internal::Base64Encode(bytes);
  const auto decoded = internal::Base64Decode(encoded);
  Check(decoded.has_value() && *decoded == bytes, "base64 does not round-trip");
  // Whatever the server sends: decoding is total, and what decodes
  // re-encodes to a text that decodes to the same bytes.
  if (const auto any = internal::Base64Decode(bytes)) {
    const auto again = internal::Base64Decode(internal::Base64Encode(*any));
    Check(again.has_value() && *again == *any, "base64 decode is unstable");
  }
}

// What ParseProcessEvent gives: the event, or the error's text.
template <typename Message>
std::string EventOutcome(const Message& message) {
  try {
    const auto event =
        internal::ParseProcessEvent(message, "/process.Process/Start");
    return "kind " + std::to_string(static_cast<int>(event.kind)) + " pid " +
           std::to_string(event.pid) + " out " + event.out + " err " +
           event.err + " pty " + event.pty + " exit " +
           std::to_string(event.exit_code) + " error " + event.error;
  } catch (const e2b::Error& e) {
    return std::string("error ") + e.what();
  }
}

void CheckMessages(const std::string& text) {
  // Whatever the tree-free decoder accepts, it decodes as the tree path
  // does: the same event or the same error.
  internal::ProcessEventText flat;
  const bool flat_ok = internal::DecodeFlat(text, flat);
  const json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (flat_ok) {
    Check(message.is_object(), "flat decoder accepted a non-object");
    Check(EventOutcome(flat) == EventOutcome(message),
          "flat and tree process event decoding differ");
  }
  if (message.is_discarded()) return;
  EventOutcome(message);
  try {
    internal::FileInfoFromEntry(message);
  } catch (const e2b::Error&) {
  }
  try {
    internal::FilesystemEventFromJson(message);
  } catch (const e2b::Error&) {
  }
  internal::FileTypeName(message);
  internal::EventTypeName(message);
  if (message.is_string()) internal::ParseRfc3339(message.get<std::string>());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  const std::uint8_t mode = in.Byte();
  const std::string rest = in.Rest();
  switch (mode % 4) {
    case 0:
      CheckMessages(rest);
      break;
    case 1:
      internal::ParseRfc3339(rest);
      break;
    case 2:
      CheckBase64(rest);
      break;
    default:
      CheckUtf8(rest, static_cast<std::size_t>(mode >> 2) + 1);
      break;
  }
  return 0;
}
