#ifndef E2B_INTERNAL_ASCII_HPP_
#define E2B_INTERNAL_ASCII_HPP_

// ASCII case folding for protocol text (header names, HTTP-date month
// names, server error phrases): locale-independent, unlike std::tolower.

#include <algorithm>
#include <string_view>

namespace e2b::internal {

constexpr char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

inline bool ContainsNoCase(std::string_view text, std::string_view needle) {
  auto it = std::search(
      text.begin(), text.end(), needle.begin(), needle.end(),
      [](char a, char b) { return AsciiLower(a) == AsciiLower(b); });
  return it != text.end();
}

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_ASCII_HPP_
