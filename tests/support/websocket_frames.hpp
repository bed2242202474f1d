#ifndef E2B_TESTS_SUPPORT_WEBSOCKET_FRAMES_HPP_
#define E2B_TESTS_SUPPORT_WEBSOCKET_FRAMES_HPP_

// Just enough of RFC 6455 for tests to speak WebSocket through e2b-local's
// proxy on blocking sockets: the handshake's fixed example key (RFC 6455
// 1.3) and frame encoding and decoding.

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace e2b_test {

/// RFC 6455's example Sec-WebSocket-Key and the Sec-WebSocket-Accept a
/// server must answer it with.
inline constexpr const char kWebSocketKey[] = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr const char kWebSocketAccept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

inline constexpr std::uint8_t kTextFrame = 0x1;
inline constexpr std::uint8_t kBinaryFrame = 0x2;
inline constexpr std::uint8_t kCloseFrame = 0x8;

/// One final frame; masked (as a client must) when `masked`.
inline std::string EncodeFrame(std::uint8_t opcode, const std::string& payload,
                               bool masked) {
  std::string out;
  out += static_cast<char>(0x80 | opcode);
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(mask_bit | n);
  } else if (n < 65536) {
    out += static_cast<char>(mask_bit | 126);
    for (int shift = 8; shift >= 0; shift -= 8) {
      out += static_cast<char>((n >> shift) & 0xff);
    }
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out += static_cast<char>((n >> shift) & 0xff);
    }
  }
  const char mask[4] = {'\x12', '\x34', '\x56', '\x78'};
  if (masked) out.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out += masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i];
  }
  return out;
}

/// Exactly `n` bytes from `fd`; nullopt on EOF or error.
inline std::optional<std::string> RecvExactly(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, &out[got], n - got, 0);
    if (r <= 0) return std::nullopt;
    got += static_cast<std::size_t>(r);
  }
  return out;
}

struct WebSocketFrame {
  std::uint8_t opcode = 0;
  std::string payload;  ///< unmasked
};

/// The next frame on `fd`; nullopt on EOF, error, or a frame over 64 MiB.
inline std::optional<WebSocketFrame> ReadFrame(int fd) {
  auto start = RecvExactly(fd, 2);
  if (!start) return std::nullopt;
  WebSocketFrame frame;
  frame.opcode = static_cast<std::uint8_t>((*start)[0]) & 0x0f;
  const auto second = static_cast<std::uint8_t>((*start)[1]);
  std::uint64_t n = second & 0x7f;
  if (n >= 126) {
    auto length = RecvExactly(fd, n == 126 ? 2 : 8);
    if (!length) return std::nullopt;
    n = 0;
    for (char c : *length) n = (n << 8) | static_cast<std::uint8_t>(c);
  }
  if (n > (std::uint64_t{64} << 20)) return std::nullopt;
  std::string mask(4, '\0');
  if ((second & 0x80) != 0) {
    auto read = RecvExactly(fd, 4);
    if (!read) return std::nullopt;
    mask = *read;
  }
  auto payload = RecvExactly(fd, static_cast<std::size_t>(n));
  if (!payload) return std::nullopt;
  for (std::size_t i = 0; i < payload->size(); ++i) {
    (*payload)[i] = static_cast<char>((*payload)[i] ^ mask[i % 4]);
  }
  frame.payload = std::move(*payload);
  return frame;
}

}  // namespace e2b_test

#endif  // E2B_TESTS_SUPPORT_WEBSOCKET_FRAMES_HPP_
