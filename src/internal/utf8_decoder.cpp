#include "internal/utf8_decoder.hpp"

namespace e2b::internal {
namespace {

constexpr const char kReplacement[] = "\xEF\xBF\xBD";

}  // namespace

void Utf8StreamDecoder::Reset() {
  pending_.clear();
  needed_ = 0;
  lower_ = 0x80;
  upper_ = 0xBF;
}

std::string Utf8StreamDecoder::Decode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + pending_.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (needed_ == 0) {
      ++i;
      if (byte <= 0x7F) {
        out.push_back(static_cast<char>(byte));
      } else if (byte >= 0xC2 && byte <= 0xDF) {
        needed_ = 1;
      } else if (byte >= 0xE0 && byte <= 0xEF) {
        // Excludes overlong forms (E0 80..9F) and surrogates (ED A0..BF).
        if (byte == 0xE0) lower_ = 0xA0;
        if (byte == 0xED) upper_ = 0x9F;
        needed_ = 2;
      } else if (byte >= 0xF0 && byte <= 0xF4) {
        // Excludes overlong forms and code points above U+10FFFF.
        if (byte == 0xF0) lower_ = 0x90;
        if (byte == 0xF4) upper_ = 0x8F;
        needed_ = 3;
      } else {
        out.append(kReplacement);
        continue;
      }
      if (needed_ > 0) pending_.push_back(static_cast<char>(byte));
      continue;
    }
    if (byte < lower_ || byte > upper_) {
      // The sequence so far is invalid; this byte is looked at afresh.
      Reset();
      out.append(kReplacement);
      continue;
    }
    ++i;
    lower_ = 0x80;
    upper_ = 0xBF;
    pending_.push_back(static_cast<char>(byte));
    if (--needed_ == 0) {
      out.append(pending_);
      pending_.clear();
    }
  }
  return out;
}

std::string Utf8StreamDecoder::Flush() {
  const bool incomplete = needed_ > 0;
  Reset();
  return incomplete ? std::string(kReplacement) : std::string();
}

}  // namespace e2b::internal
