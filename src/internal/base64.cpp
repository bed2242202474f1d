#include "internal/base64.hpp"

#include <array>
#include <cstdint>

namespace e2b::internal {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::int8_t kInvalid = -1;

// One table for both alphabets: '+' and '-' both mean 62, '/' and '_' 63.
constexpr std::array<std::int8_t, 256> MakeDecodeTable() {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] =
        static_cast<std::int8_t>(i);
  }
  table[static_cast<unsigned char>('-')] = 62;
  table[static_cast<unsigned char>('_')] = 63;
  return table;
}

constexpr std::array<std::int8_t, 256> kDecodeTable = MakeDecodeTable();

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto byte_at = [&bytes](std::size_t index) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[index]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group =
        (byte_at(i) << 16) | (byte_at(i + 1) << 8) | byte_at(i + 2);
    out.push_back(kAlphabet[(group >> 18) & 0x3f]);
    out.push_back(kAlphabet[(group >> 12) & 0x3f]);
    out.push_back(kAlphabet[(group >> 6) & 0x3f]);
    out.push_back(kAlphabet[group & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t group = byte_at(i) << 16;
    out.push_back(kAlphabet[(group >> 18) & 0x3f]);
    out.push_back(kAlphabet[(group >> 12) & 0x3f]);
    out.append("==");
  } else if (rest == 2) {
    const std::uint32_t group = (byte_at(i) << 16) | (byte_at(i + 1) << 8);
    out.push_back(kAlphabet[(group >> 18) & 0x3f]);
    out.push_back(kAlphabet[(group >> 12) & 0x3f]);
    out.push_back(kAlphabet[(group >> 6) & 0x3f]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  // Padding may only appear at the end, and only as much as completes the
  // last 4-character group.
  std::size_t data_length = text.size();
  while (data_length > 0 && text[data_length - 1] == '=') --data_length;
  const std::size_t padding = text.size() - data_length;
  if (padding > 2) return std::nullopt;
  if (padding > 0 && text.size() % 4 != 0) return std::nullopt;
  // A single leftover character carries only 6 bits: never a valid encoding.
  if (data_length % 4 == 1) return std::nullopt;

  std::string out;
  out.reserve(data_length / 4 * 3 + 2);
  std::uint32_t accumulator = 0;
  int bits = 0;
  for (std::size_t i = 0; i < data_length; ++i) {
    const std::int8_t value = kDecodeTable[static_cast<unsigned char>(text[i])];
    if (value == kInvalid) return std::nullopt;
    accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace e2b::internal
