#include "internal/url.hpp"

#include "internal/ascii.hpp"

#include <e2b/errors.hpp>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace e2b::internal {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(text[i]) != AsciiLower(prefix[i])) return false;
  }
  return true;
}

// Query parameter names whose values may be credentials.
bool IsSecretParam(std::string_view name) {
  for (std::string_view word : {"token", "signature", "sig", "key",
                                "credential", "secret", "password"}) {
    if (ContainsNoCase(name, word)) return true;
  }
  return false;
}

// Names that mark a signed URL, whose every value (expiry, key id, policy)
// is part of what the signature covers.
bool MarksSignedUrl(std::string_view name) {
  return EqualsNoCase(name, "signature") || EqualsNoCase(name, "sig") ||
         EqualsNoCase(name, "token") || StartsWithNoCase(name, "x-amz-") ||
         StartsWithNoCase(name, "x-goog-");
}

void AppendPrintable(std::string& out, std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
}

}  // namespace

std::string LoggableUrl(std::string_view url) {
  std::string out = RedactedUrl(url);
  const auto query_start = url.find('?');
  if (query_start == std::string_view::npos) return out;
  std::string_view query = url.substr(query_start + 1);
  query = query.substr(0, query.find('#'));
  std::vector<std::pair<std::string_view, bool>> params;  // text, has value
  bool signed_url = false;
  for (std::string_view rest = query; !rest.empty();) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const std::string name = PercentDecode(pair.substr(0, pair.find('=')));
    signed_url = signed_url || MarksSignedUrl(name);
    params.emplace_back(pair, pair.find('=') != std::string_view::npos);
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  char separator = '?';
  for (const auto& [pair, has_value] : params) {
    const std::string_view name = pair.substr(0, pair.find('='));
    out += separator;
    separator = '&';
    AppendPrintable(out, name);
    if (!has_value) continue;
    out += '=';
    if (signed_url || IsSecretParam(PercentDecode(name))) {
      out += "REDACTED";
    } else {
      AppendPrintable(out, pair.substr(name.size() + 1));
    }
  }
  return out;
}

std::string UrlHost(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string out;
  AppendPrintable(out, authority);
  return out;
}

std::string RedactedUrl(std::string_view url) {
  std::string_view shown = url.substr(0, url.find_first_of("?#"));
  std::string_view prefix;
  auto scheme_end = shown.find("://");
  if (scheme_end != std::string_view::npos) {
    auto authority_begin = scheme_end + 3;
    auto authority_end = shown.find('/', authority_begin);
    auto at = shown.rfind('@', authority_end);
    if (at != std::string_view::npos && at >= authority_begin) {
      prefix = shown.substr(0, authority_begin);
      shown.remove_prefix(at + 1);
    }
  }
  // The scheme part is filtered too: a control character before "://"
  // must not reach a log line either.
  std::string out;
  out.reserve(prefix.size() + shown.size());
  for (std::string_view part : {prefix, shown}) {
    for (char c : part) {
      auto u = static_cast<unsigned char>(c);
      out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (IsUnreserved(u)) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0f];
    }
  }
  return out;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

Query& Query::Add(std::string_view key, std::string_view value) {
  params_.emplace_back(std::string(key), std::string(value));
  return *this;
}

std::string Query::Encode() const {
  std::string out;
  for (const auto& [key, value] : params_) {
    out += out.empty() ? '?' : '&';
    out += PercentEncode(key);
    out += '=';
    out += PercentEncode(value);
  }
  return out;
}

std::string JoinUrl(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string out(base);
  if (!path.empty() && path.front() != '/') out += '/';
  out += path;
  return out;
}

void ValidateBaseUrl(std::string_view url, std::string_view what) {
  auto fail = [&](const std::string& why) {
    throw Error(0, std::string(what) + ": invalid URL \"" + RedactedUrl(url) +
                       "\": " + why);
  };
  std::size_t scheme_len = 0;
  if (StartsWithNoCase(url, "http://")) {
    scheme_len = 7;
  } else if (StartsWithNoCase(url, "https://")) {
    scheme_len = 8;
  } else {
    fail("must start with http:// or https://");
  }
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) fail("contains a space or control character");
  }
  std::string_view authority = url.substr(scheme_len);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) fail("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') fail("malformed host");
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{}
                                           : authority.substr(colon);
  }
  if (host.empty()) fail("has no host");
  if (!rest.empty()) {
    std::string_view port = rest.substr(1);
    if (port.empty() || port.size() > 5) fail("malformed port");
    long value = 0;
    for (char c : port) {
      if (c < '0' || c > '9') fail("malformed port");
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) fail("port out of range");
  }
}

}  // namespace e2b::internal
