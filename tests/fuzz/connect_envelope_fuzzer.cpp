// Fuzzes the Connect envelope decoder shared by the client and e2b-local:
// any byte stream, fed whole or cut into chunks, must decode to the same
// envelopes (or the same EnvelopeError at the same place), re-encoding them
// must give back the bytes consumed, and a declared length above the limit
// must be refused before anything is buffered for it.

#include "fuzz_input.hpp"
#include "internal/connect_envelope.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using e2b::internal::EncodeEnvelope;
using e2b::internal::Envelope;
using e2b::internal::EnvelopeDecoder;
using e2b::internal::EnvelopeError;
using e2b_fuzz::Check;

struct Decoded {
  std::vector<Envelope> envelopes;
  bool error = false;
  bool partial = false;
};

void Drain(EnvelopeDecoder& decoder, Decoded& out) {
  while (auto envelope = decoder.Next()) {
    out.envelopes.push_back(std::move(*envelope));
  }
}

Decoded Decode(const std::string& stream, std::size_t limit,
               std::size_t chunk) {
  Decoded out;
  EnvelopeDecoder decoder(limit);
  try {
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      decoder.Feed(std::string_view(stream).substr(at, chunk));
      Drain(decoder, out);
    }
    if (stream.empty()) Drain(decoder, out);
    out.partial = decoder.HasPartial();
  } catch (const EnvelopeError&) {
    out.error = true;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  const std::uint8_t limit_byte = in.Byte();
  // Small limits make the over-limit path reachable; 255 is the default.
  const std::size_t limit =
      limit_byte == 255 ? std::size_t{64} << 20 : std::size_t{limit_byte} * 3;
  const std::size_t chunk = static_cast<std::size_t>(in.Byte() % 16) + 1;
  const std::string stream = in.Rest();

  const Decoded whole = Decode(stream, limit, stream.size() + 1);
  const Decoded pieces = Decode(stream, limit, chunk);

  Check(whole.error == pieces.error, "chunking changed the error");
  Check(whole.envelopes.size() == pieces.envelopes.size(),
        "chunking changed the envelope count");
  std::string reencoded;
  for (std::size_t i = 0; i < whole.envelopes.size(); ++i) {
    const Envelope& a = whole.envelopes[i];
    const Envelope& b = pieces.envelopes[i];
    Check(a.flags == b.flags && a.payload == b.payload,
          "chunking changed an envelope");
    Check(a.payload.size() <= limit, "payload above the limit accepted");
    reencoded += EncodeEnvelope(a.flags, a.payload);
  }
  Check(stream.compare(0, reencoded.size(), reencoded) == 0,
        "re-encoding differs from the input");
  if (!whole.error) {
    Check(whole.partial == (reencoded.size() < stream.size()),
          "HasPartial disagrees with the bytes left over");
    Check(whole.partial == pieces.partial, "chunking changed HasPartial");
  } else {
    // The error is about the envelope right after the decoded ones: its
    // header is complete and declares more than the limit.
    Check(stream.size() - reencoded.size() >= 5, "error without a header");
    const auto* h = reinterpret_cast<const unsigned char*>(stream.data() +
                                                           reencoded.size());
    const std::size_t declared = (std::size_t{h[1]} << 24) |
                                 (std::size_t{h[2]} << 16) |
                                 (std::size_t{h[3]} << 8) | std::size_t{h[4]};
    Check(declared > limit, "error for a length within the limit");
  }
  return 0;
}
