// Fuzzes URL building (src/internal/url.*): percent-encoding round trips,
// query strings that parse back to what was added, JoinUrl's joining rule,
// RedactedUrl never showing a query, fragment, user info or control
// character, and ValidateBaseUrl accepting only http(s) URLs with a host
// and failing with e2b::Error alone.

#include "fuzz_input.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace {

using e2b_fuzz::Check;
using namespace e2b::internal;

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

bool IsUpperHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

void CheckEncoding(const std::string& text) {
  const std::string encoded = PercentEncode(text);
  bool all_unreserved = true;
  for (char c : text) all_unreserved = all_unreserved && IsUnreserved(c);
  Check((encoded == text) == all_unreserved, "encoding changed a safe text");
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%') {
      Check(i + 2 < encoded.size() && IsUpperHex(encoded[i + 1]) &&
                IsUpperHex(encoded[i + 2]),
            "malformed escape produced", encoded);
      i += 2;
    } else {
      Check(IsUnreserved(encoded[i]), "reserved character left", encoded);
    }
  }
  Check(PercentDecode(encoded) == text, "decode(encode(x)) != x", text);
  Check(PercentDecode(encoded, true) == text, "'+' leaked into an encoding");
  // Decoding never grows a text and is total on any input.
  Check(PercentDecode(text).size() <= text.size(), "decode grew the text");
  Check(PercentDecode(text, true).size() <= text.size(), "decode grew");
}

void CheckQuery(e2b_fuzz::FuzzInput& in) {
  std::vector<std::pair<std::string, std::string>> params;
  Query query;
  const int count = in.Byte() % 6;
  for (int i = 0; i < count; ++i) {
    std::string key = in.ShortString();
    std::string value = in.ShortString();
    query.Add(key, value);
    params.emplace_back(std::move(key), std::move(value));
  }
  Check(query.empty() == params.empty(), "Query::empty is wrong");
  const std::string encoded = query.Encode();
  if (params.empty()) {
    Check(encoded.empty(), "an empty query is not empty");
    return;
  }
  Check(encoded.front() == '?', "query does not start with '?'");
  // Split it back as a server would.
  std::vector<std::pair<std::string, std::string>> parsed;
  std::size_t start = 1;
  while (start <= encoded.size()) {
    std::size_t amp = encoded.find('&', start);
    if (amp == std::string::npos) amp = encoded.size();
    const std::string pair = encoded.substr(start, amp - start);
    const std::size_t eq = pair.find('=');
    Check(eq != std::string::npos, "parameter without '='", encoded);
    parsed.emplace_back(PercentDecode(pair.substr(0, eq), true),
                        PercentDecode(pair.substr(eq + 1), true));
    start = amp + 1;
  }
  Check(parsed == params, "query does not parse back", encoded);
}

void CheckJoin(const std::string& base, const std::string& path) {
  const std::string joined = JoinUrl(base, path);
  std::string trimmed = base;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  Check(joined.compare(0, trimmed.size(), trimmed) == 0, "base lost");
  std::string tail = joined.substr(trimmed.size());
  if (path.empty()) {
    Check(tail.empty(), "empty path added something");
  } else {
    Check(tail == (path.front() == '/' ? path : "/" + path),
          "path not joined with exactly one '/'", joined);
  }
}

void CheckRedaction(const std::string& url) {
  const std::string shown = RedactedUrl(url);
  for (char c : shown) {
    auto u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u != 0x7f, "control character shown", shown);
    Check(c != '#', "fragment shown", shown);
  }
  const std::size_t cut = url.find_first_of("?#");
  if (cut != std::string::npos) {
    Check(shown == RedactedUrl(url.substr(0, cut)),
          "query or fragment changed the redacted URL", shown);
  }
  if (shown.find('?') == std::string::npos) {
    Check(RedactedUrl(shown) == shown, "RedactedUrl is not idempotent", shown);
  }
}

// Userinfo ("user:password@") never shows.
void CheckUserInfo(const std::string& user, const std::string& host,
                   const std::string& path) {
  for (char c : host) {
    if (c == '@' || c == '/' || c == '?' || c == '#') return;
  }
  for (char c : user) {
    if (c == '/' || c == '?' || c == '#') return;
  }
  const std::string p = path.empty() || path.front() == '/' ? path : "";
  Check(RedactedUrl("https://" + user + "@" + host + p) ==
            RedactedUrl("https://" + host + p),
        "user info shown");
}

void CheckValidation(const std::string& url) {
  bool valid = true;
  try {
    ValidateBaseUrl(url, "fuzz");
  } catch (const e2b::Error& e) {
    valid = false;
    Check(e.StatusCode() == 0, "validation error with an HTTP status");
  }
  if (!valid) return;
  std::string lower;
  for (char c : url.substr(0, 8)) {
    lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  Check(lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0,
        "accepted a non-http(s) URL", url);
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    Check(u > 0x20 && u != 0x7f, "accepted a control character", url);
  }
  const std::size_t begin = url.find("://") + 3;
  Check(begin < url.size() && url.find_first_of("/?#", begin) != begin,
        "accepted a URL without a host", url);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  const std::string a = in.ShortString();
  const std::string b = in.ShortString();
  const std::string c = in.ShortString();
  CheckEncoding(a);
  CheckJoin(a, b);
  CheckRedaction(a);
  CheckUserInfo(a, b, c);
  CheckValidation(a);
  CheckValidation("http://" + a);
  CheckValidation("https://" + b + ":" + c);
  CheckQuery(in);
  const std::string rest = in.Rest();
  CheckEncoding(rest);
  CheckRedaction(rest);
  CheckValidation(rest);
  return 0;
}
