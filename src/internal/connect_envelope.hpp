#ifndef E2B_INTERNAL_CONNECT_ENVELOPE_HPP_
#define E2B_INTERNAL_CONNECT_ENVELOPE_HPP_

// Connect streaming envelopes: 1 flag byte, 4-byte big-endian length, then
// the payload; and the error-code table of the protocol. Shared by the
// client library and e2b-local, so it depends on nothing but the standard
// library.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace e2b::internal {

inline constexpr std::uint8_t kEnvelopeCompressed = 0x01;
inline constexpr std::uint8_t kEnvelopeEndStream = 0x02;
inline constexpr std::size_t kEnvelopeHeaderSize = 5;

struct Envelope {
  std::uint8_t flags = 0;
  std::string payload;
  bool EndStream() const { return (flags & kEnvelopeEndStream) != 0; }
  bool Compressed() const { return (flags & kEnvelopeCompressed) != 0; }
};

/// A malformed envelope stream (length above the limit).
class EnvelopeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The HTTP status a Connect server uses for an error code name
/// ("not_found" -> 404); 500 for names it does not know.
int ConnectCodeHttpStatus(std::string_view code);

/// Frames one message.
std::string EncodeEnvelope(std::uint8_t flags, std::string_view payload);

/// Incremental decoder: Feed() bytes as they arrive, split anywhere, and
/// take complete envelopes with Next().
class EnvelopeDecoder {
 public:
  explicit EnvelopeDecoder(std::size_t max_payload = std::size_t{64} << 20)
      : max_payload_(max_payload) {}
  void Feed(std::string_view bytes);
  /// The next complete envelope, or nullopt when more bytes are needed.
  /// Throws EnvelopeError when a declared length exceeds max_payload.
  std::optional<Envelope> Next();
  /// True when bytes of an incomplete envelope are buffered (a stream that
  /// ends now is truncated).
  bool HasPartial() const { return buffer_.size() > consumed_; }

 private:
  std::size_t max_payload_;
  std::string buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_CONNECT_ENVELOPE_HPP_
