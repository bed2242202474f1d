#ifndef E2B_INTERNAL_SHA256_HPP_
#define E2B_INTERNAL_SHA256_HPP_

// SHA-256 (FIPS 180-4), self-written so signing envd file URLs needs no
// crypto library in the link.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace e2b::internal {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  /// The digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> Finish();

 private:
  void Block(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

/// The SHA-256 digest of `data`.
std::array<std::uint8_t, 32> Sha256Digest(std::string_view data);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_SHA256_HPP_
