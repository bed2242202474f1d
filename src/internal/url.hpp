#ifndef E2B_INTERNAL_URL_HPP_
#define E2B_INTERNAL_URL_HPP_

// URL building: every path segment and query value goes through
// PercentEncode (PROTOCOL.md section 6, bug 1 of the Go SDK).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace e2b::internal {

/// Percent-encodes everything but RFC 3986 unreserved characters
/// (A-Z a-z 0-9 - . _ ~), so '/' and ':' in IDs are encoded too.
std::string PercentEncode(std::string_view text);

/// Decodes %XX escapes (and, when plus_is_space, '+' as space). Malformed
/// escapes are kept literally.
std::string PercentDecode(std::string_view text, bool plus_is_space = false);

/// Builds "?k=v&k2=v2" with keys and values percent-encoded; empty when no
/// parameter was added.
class Query {
 public:
  Query& Add(std::string_view key, std::string_view value);
  std::string Encode() const;
  bool empty() const { return params_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

/// Joins a base URL (trailing '/' ignored) and a path that starts with '/'.
std::string JoinUrl(std::string_view base, std::string_view path);

/// The URL as error messages may show it: without query string, fragment
/// and user info (signed URLs carry signatures in the query).
std::string RedactedUrl(std::string_view url);

/// The URL as log lines may show it: RedactedUrl plus the query, with the
/// value of every parameter that may be a secret (a name holding token,
/// signature, sig, key, credential, secret or password) replaced by
/// "REDACTED", and every value redacted when the URL is signed (a
/// signature, sig, token, X-Amz-* or X-Goog-* parameter).
std::string LoggableUrl(std::string_view url);

/// "host[:port]" of an http(s) URL, without user info; empty when there is
/// no "://".
std::string UrlHost(std::string_view url);

/// Throws e2b::Error when the URL is not http:// or https:// with a host.
void ValidateBaseUrl(std::string_view url, std::string_view what);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_URL_HPP_
