#ifndef E2B_INTERNAL_UTF8_DECODER_HPP_
#define E2B_INTERNAL_UTF8_DECODER_HPP_

// Incremental UTF-8 decoding for output callbacks: envd cuts output into
// chunks anywhere, so a character may straddle two chunks.

#include <string>
#include <string_view>

namespace e2b::internal {

/// Turns a byte stream, fed chunk by chunk, into valid UTF-8 text. A
/// character split across chunks is held back until it completes; invalid
/// input becomes U+FFFD, one per maximal invalid subpart (the WHATWG
/// decoder's rule), so the text never depends on where the chunks were cut.
class Utf8StreamDecoder {
 public:
  /// The text of `bytes` that is complete so far.
  std::string Decode(std::string_view bytes);
  /// The text of a sequence left incomplete at the end (U+FFFD), then a
  /// fresh state.
  std::string Flush();

 private:
  void Reset();

  std::string pending_;  ///< bytes of the character being decoded
  int needed_ = 0;       ///< continuation bytes still expected
  unsigned char lower_ = 0x80;
  unsigned char upper_ = 0xBF;
};

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_UTF8_DECODER_HPP_
