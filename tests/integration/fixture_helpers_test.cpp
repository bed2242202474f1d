// The fixture's own helpers: the checksum and generator the 100 MiB test
// relies on must really tell different data apart.

#include "integration/e2b_local_fixture.hpp"

#include <string>
#include <vector>

namespace e2b_test {
namespace {

std::string Drain(std::istream& in) {
  std::string out;
  std::vector<char> buf(1000);  // deliberately not a power of two
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    out.append(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  return out;
}

std::uint64_t DigestOf(const std::string& s) {
  Fnv1a h;
  h.Update(s.data(), s.size());
  return h.Digest();
}

TEST(FixtureHelpers, GeneratedStreamMatchesItsDigestAndSize) {
  for (std::uint64_t size :
       {0ull, 1ull, 7ull, 8ull, 9ull, 65536ull, 200003ull}) {
    auto in = GeneratedStream(size, 42);
    const std::string data = Drain(*in);
    EXPECT_EQ(data.size(), size);
    EXPECT_EQ(DigestOf(data), GeneratedDigest(size, 42)) << size;
  }
}

TEST(FixtureHelpers, DigestSeesEveryByteAndIgnoresSplitting) {
  auto in = GeneratedStream(100000, 9);
  std::string data = Drain(*in);
  const std::uint64_t whole = DigestOf(data);
  Fnv1a split;
  std::size_t pos = 0;
  for (std::size_t step : {1u, 3u, 8u, 13u, 4096u}) {
    split.Update(data.data() + pos, step);
    pos += step;
  }
  split.Update(data.data() + pos, data.size() - pos);
  EXPECT_EQ(split.Digest(), whole);

  std::string flipped = data;
  flipped[54321] ^= 0x01;
  EXPECT_NE(DigestOf(flipped), whole);
  EXPECT_NE(DigestOf(data.substr(0, data.size() - 1)), whole);
  EXPECT_NE(DigestOf(data + std::string(1, '\0')), whole);
  EXPECT_NE(GeneratedDigest(100000, 10), whole);
  // Not a constant stream.
  EXPECT_NE(data.substr(0, 1000), data.substr(1000, 1000));
}

TEST(FixtureHelpers, ParseRFC3339) {
  EXPECT_EQ(ParseRFC3339("1970-01-01T00:00:00Z"), 0.0);
  EXPECT_EQ(ParseRFC3339("2024-02-29T12:00:00Z"), 1709208000.0);
  EXPECT_EQ(ParseRFC3339("2024-02-29T14:00:00+02:00"), 1709208000.0);
  auto frac = ParseRFC3339("2024-02-29T12:00:00.250Z");
  ASSERT_TRUE(frac.has_value());
  EXPECT_DOUBLE_EQ(*frac, 1709208000.25);
  EXPECT_FALSE(ParseRFC3339("").has_value());
  EXPECT_FALSE(ParseRFC3339("2024-02-29").has_value());
  EXPECT_FALSE(ParseRFC3339("2024-02-29T12:00:00").has_value());
  EXPECT_FALSE(ParseRFC3339("2024-02-29T12:00:00Zjunk").has_value());
}

}  // namespace
}  // namespace e2b_test
