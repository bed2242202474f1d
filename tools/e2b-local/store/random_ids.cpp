#include "store/random_ids.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <vector>

namespace e2b_local {
namespace {

std::vector<std::uint8_t> RandomBytes(std::size_t count) {
  std::vector<std::uint8_t> out(count);
  std::size_t filled = 0;
  while (filled < count) {
    ssize_t n = getrandom(out.data() + filled, count - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    filled += static_cast<std::size_t>(n);
  }
  return out;
}

std::string FromAlphabet(std::size_t count, const char* alphabet,
                         unsigned size) {
  // Rejection sampling keeps every character equally likely.
  const unsigned limit = 256 - (256 % size);
  std::string out;
  out.reserve(count);
  while (out.size() < count) {
    for (std::uint8_t b : RandomBytes(count * 2)) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % size]);
      if (out.size() == count) break;
    }
  }
  return out;
}

}  // namespace

std::string RandomAlnum(std::size_t count) {
  return FromAlphabet(count, "abcdefghijklmnopqrstuvwxyz0123456789", 36);
}

std::string RandomHex(std::size_t count) {
  return FromAlphabet(count, "0123456789abcdef", 16);
}

std::string RandomUuid() {
  auto b = RandomBytes(16);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  char text[37];
  std::snprintf(text, sizeof(text),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%"
                "02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]);
  return text;
}

std::string NewSandboxId() { return "i" + RandomAlnum(20); }

std::string NewApiKey() { return "e2b_" + RandomHex(40); }

}  // namespace e2b_local
