#ifndef E2B_INTERNAL_ASCII_HPP_
#define E2B_INTERNAL_ASCII_HPP_

// ASCII helpers for protocol text (header names and values, HTTP dates,
// version strings, server error phrases): case folding, locale-independent
// unlike std::tolower, and unsigned decimal numbers.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
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
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                     [](char a, char b) {
                       return AsciiLower(a) == AsciiLower(b);
                     }) != text.end();
}

/// The value of `text` when it is 1 to `max_digits` ASCII digits (no sign,
/// no space), else nullopt. `max_digits` of at most 19 cannot overflow.
inline std::optional<std::uint64_t> ParseDecimal(std::string_view text,
                                                 std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_ASCII_HPP_
