#include "internal/connect_envelope.hpp"

namespace e2b::internal {
namespace {

struct CodeStatus {
  const char* code;
  int status;
};

constexpr CodeStatus kCodeStatuses[] = {
    {"canceled", 499},
    {"unknown", 500},
    {"invalid_argument", 400},
    {"deadline_exceeded", 504},
    {"not_found", 404},
    {"already_exists", 409},
    {"permission_denied", 403},
    {"resource_exhausted", 429},
    {"failed_precondition", 400},
    {"aborted", 409},
    {"out_of_range", 400},
    {"unimplemented", 501},
    {"internal", 500},
    {"unavailable", 503},
    {"data_loss", 500},
    {"unauthenticated", 401},
};

}  // namespace

int ConnectCodeHttpStatus(std::string_view code) {
  for (const auto& entry : kCodeStatuses) {
    if (code == entry.code) return entry.status;
  }
  return 500;
}

std::string EncodeEnvelope(std::uint8_t flags, std::string_view payload) {
  if (payload.size() > 0xffffffffu) {
    throw EnvelopeError("connect envelope payload above 4 GiB");
  }
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.reserve(kEnvelopeHeaderSize + payload.size());
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((size >> 24) & 0xff));
  out.push_back(static_cast<char>((size >> 16) & 0xff));
  out.push_back(static_cast<char>((size >> 8) & 0xff));
  out.push_back(static_cast<char>(size & 0xff));
  out.append(payload);
  return out;
}

void EnvelopeDecoder::Feed(std::string_view bytes) {
  // Drop what was consumed before growing, so the buffer stays as small as
  // the largest envelope in flight.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<Envelope> EnvelopeDecoder::Next() {
  const std::size_t available = buffer_.size() - consumed_;
  if (available < kEnvelopeHeaderSize) return std::nullopt;
  const auto* header =
      reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  const std::size_t length =
      (std::size_t{header[1]} << 24) | (std::size_t{header[2]} << 16) |
      (std::size_t{header[3]} << 8) | std::size_t{header[4]};
  if (length > max_payload_) {
    throw EnvelopeError("connect envelope of " + std::to_string(length) +
                        " bytes exceeds the limit of " +
                        std::to_string(max_payload_));
  }
  if (available < kEnvelopeHeaderSize + length) return std::nullopt;
  Envelope envelope;
  envelope.flags = header[0];
  envelope.payload.assign(buffer_, consumed_ + kEnvelopeHeaderSize, length);
  consumed_ += kEnvelopeHeaderSize + length;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return envelope;
}

}  // namespace e2b::internal
