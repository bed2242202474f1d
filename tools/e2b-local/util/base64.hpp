#ifndef E2B_LOCAL_UTIL_BASE64_HPP_
#define E2B_LOCAL_UTIL_BASE64_HPP_

#include <optional>
#include <string>
#include <string_view>

namespace e2b_local {

/// Standard base64 with padding (what protobuf JSON uses for bytes).
std::string Base64Encode(std::string_view data);
/// Standard base64 without padding (envd's signed URLs).
std::string Base64EncodeNoPad(std::string_view data);
/// Accepts standard and URL-safe alphabets, padded or not; nullopt when
/// the input is not base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace e2b_local

#endif  // E2B_LOCAL_UTIL_BASE64_HPP_
