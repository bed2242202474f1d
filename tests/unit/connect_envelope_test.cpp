#include "internal/connect_envelope.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace e2b::internal {
namespace {

std::vector<Envelope> DrainAll(EnvelopeDecoder& decoder) {
  std::vector<Envelope> out;
  while (auto envelope = decoder.Next()) out.push_back(std::move(*envelope));
  return out;
}

std::string SampleStream() {
  std::string stream;
  stream += EncodeEnvelope(0, R"({"event":{"start":{"pid":42}}})");
  stream += EncodeEnvelope(0, "");
  stream += EncodeEnvelope(0, std::string(70000, 'x'));
  stream += EncodeEnvelope(0, std::string("\0\x01\xff", 3));
  stream += EncodeEnvelope(kEnvelopeEndStream, "{}");
  return stream;
}

void ExpectSample(const std::vector<Envelope>& envelopes) {
  ASSERT_EQ(envelopes.size(), 5u);
  EXPECT_EQ(envelopes[0].payload, R"({"event":{"start":{"pid":42}}})");
  EXPECT_EQ(envelopes[1].payload, "");
  EXPECT_EQ(envelopes[2].payload, std::string(70000, 'x'));
  EXPECT_EQ(envelopes[3].payload, std::string("\0\x01\xff", 3));
  EXPECT_EQ(envelopes[4].payload, "{}");
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(envelopes[i].EndStream());
  EXPECT_TRUE(envelopes[4].EndStream());
  EXPECT_FALSE(envelopes[4].Compressed());
}

TEST(ConnectEnvelopeTest, EncodesFlagAndBigEndianLength) {
  const std::string frame = EncodeEnvelope(kEnvelopeEndStream, "{}");
  ASSERT_EQ(frame.size(), 7u);
  EXPECT_EQ(frame, std::string("\x02\x00\x00\x00\x02{}", 7));
  const std::string big = EncodeEnvelope(0, std::string(0x010203, 'a'));
  EXPECT_EQ(big.substr(0, 5), std::string("\x00\x00\x01\x02\x03", 5));
}

TEST(ConnectEnvelopeTest, DecodesWholeStreamAtOnce) {
  EnvelopeDecoder decoder;
  decoder.Feed(SampleStream());
  ExpectSample(DrainAll(decoder));
  EXPECT_FALSE(decoder.HasPartial());
}

TEST(ConnectEnvelopeTest, DecodesOneByteAtATime) {
  const std::string stream = SampleStream();
  EnvelopeDecoder decoder;
  std::vector<Envelope> envelopes;
  for (char c : stream) {
    decoder.Feed(std::string_view(&c, 1));
    for (auto& e : DrainAll(decoder)) envelopes.push_back(std::move(e));
  }
  ExpectSample(envelopes);
  EXPECT_FALSE(decoder.HasPartial());
}

TEST(ConnectEnvelopeTest, DecodesAtRandomSplits) {
  const std::string stream = SampleStream();
  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    EnvelopeDecoder decoder;
    std::vector<Envelope> envelopes;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      const std::size_t n =
          std::min<std::size_t>(1 + rng() % 9000, stream.size() - pos);
      decoder.Feed(std::string_view(stream).substr(pos, n));
      pos += n;
      for (auto& e : DrainAll(decoder)) envelopes.push_back(std::move(e));
    }
    ExpectSample(envelopes);
  }
}

TEST(ConnectEnvelopeTest, ReportsPartialEnvelope) {
  const std::string frame = EncodeEnvelope(0, "hello");
  for (std::size_t cut = 1; cut < frame.size(); ++cut) {
    EnvelopeDecoder decoder;
    decoder.Feed(frame.substr(0, cut));
    EXPECT_FALSE(decoder.Next()) << cut;
    EXPECT_TRUE(decoder.HasPartial()) << cut;
  }
}

TEST(ConnectEnvelopeTest, ZeroLengthPayloadIsAnEnvelope) {
  EnvelopeDecoder decoder;
  decoder.Feed(std::string("\x00\x00\x00\x00\x00", 5));
  auto envelope = decoder.Next();
  ASSERT_TRUE(envelope);
  EXPECT_EQ(envelope->payload, "");
  EXPECT_EQ(envelope->flags, 0);
  EXPECT_FALSE(decoder.HasPartial());
  EXPECT_FALSE(decoder.Next());
}

TEST(ConnectEnvelopeTest, RejectsOversizedLengthBeforeBuffering) {
  EnvelopeDecoder decoder(1024);
  // Declares 4 GiB - 1 but sends only the header: must fail at once, not
  // wait for (or allocate) the payload.
  decoder.Feed(std::string("\x00\xff\xff\xff\xff", 5));
  EXPECT_THROW(decoder.Next(), EnvelopeError);
}

TEST(ConnectEnvelopeTest, AcceptsPayloadAtTheLimit) {
  EnvelopeDecoder decoder(1024);
  decoder.Feed(EncodeEnvelope(0, std::string(1024, 'a')));
  auto envelope = decoder.Next();
  ASSERT_TRUE(envelope);
  EXPECT_EQ(envelope->payload.size(), 1024u);
  decoder.Feed(EncodeEnvelope(0, std::string(1025, 'a')));
  EXPECT_THROW(decoder.Next(), EnvelopeError);
}

TEST(ConnectEnvelopeTest, KeepsCompressedFlag) {
  EnvelopeDecoder decoder;
  decoder.Feed(EncodeEnvelope(kEnvelopeCompressed, "zz"));
  auto envelope = decoder.Next();
  ASSERT_TRUE(envelope);
  EXPECT_TRUE(envelope->Compressed());
  EXPECT_FALSE(envelope->EndStream());
}

}  // namespace
}  // namespace e2b::internal
