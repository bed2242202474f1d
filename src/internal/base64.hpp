#ifndef E2B_INTERNAL_BASE64_HPP_
#define E2B_INTERNAL_BASE64_HPP_

// Base64 for protobuf `bytes` fields in the Connect JSON codec and for the
// Basic authorization header. Output is always standard base64 with padding
// (what protobuf JSON emits); input is accepted in every form a server may
// send: standard or URL-safe alphabet, with or without padding.

#include <optional>
#include <string>
#include <string_view>

namespace e2b::internal {

/// Standard alphabet (RFC 4648 section 4) with '=' padding.
std::string Base64Encode(std::string_view bytes);

/// Decodes standard or URL-safe base64, padded or not. Returns nullopt for
/// anything else (characters outside the alphabets, misplaced padding, a
/// length that cannot come from an encoder).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_BASE64_HPP_
