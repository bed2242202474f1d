#ifndef E2B_LOCAL_UTIL_HTTP_TEXT_HPP_
#define E2B_LOCAL_UTIL_HTTP_TEXT_HPP_

// Normalising HTTP header values the same way in every handler.

#include <string>

namespace e2b_local {

/// `text` with every letter lower-cased (header values compare so).
std::string Lowercase(std::string text);
/// `text` without leading and trailing white space.
std::string TrimWhitespace(std::string text);
/// "Type/Subtype; param=x" -> "type/subtype": a Content-Type's media type,
/// trimmed and lower-cased.
std::string MediaType(const std::string& content_type);

}  // namespace e2b_local

#endif  // E2B_LOCAL_UTIL_HTTP_TEXT_HPP_
