#include "internal/base64.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace e2b::internal {
namespace {

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, EncodesBasicAuthUser) {
  EXPECT_EQ(Base64Encode("root:"), "cm9vdDo=");
  EXPECT_EQ(Base64Encode("user:"), "dXNlcjo=");
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string encoded = Base64Encode(all);
  EXPECT_EQ(
      encoded.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
      std::string::npos);
  auto decoded = Base64Decode(encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, all);
}

TEST(Base64Test, RoundTripsEveryLengthModuloThree) {
  std::mt19937 rng(7);
  for (std::size_t length = 0; length < 100; ++length) {
    std::string bytes;
    for (std::size_t i = 0; i < length; ++i) {
      bytes.push_back(static_cast<char>(rng() & 0xff));
    }
    auto decoded = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(decoded) << length;
    EXPECT_EQ(*decoded, bytes) << length;
  }
}

TEST(Base64Test, DecodesUnpaddedInput) {
  EXPECT_EQ(Base64Decode("Zg").value(), "f");
  EXPECT_EQ(Base64Decode("Zm8").value(), "fo");
  EXPECT_EQ(Base64Decode("Zm9vYg").value(), "foob");
  EXPECT_EQ(Base64Decode("").value(), "");
}

TEST(Base64Test, DecodesUrlSafeAlphabet) {
  // 0xfb 0xff 0xbf encodes to "+/+/" (standard) or "-_-_" (URL-safe).
  const std::string bytes("\xfb\xff\xbf", 3);
  ASSERT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64Decode("-_-_").value(), bytes);
  EXPECT_EQ(Base64Decode("+/+/").value(), bytes);
  EXPECT_EQ(Base64Decode("-_8").value(), std::string("\xfb\xff", 2));
  EXPECT_EQ(Base64Decode("-_8=").value(), std::string("\xfb\xff", 2));
}

TEST(Base64Test, RejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("Z"));         // 6 bits cannot be a byte
  EXPECT_FALSE(Base64Decode("Zm9vY"));     // same after a full group
  EXPECT_FALSE(Base64Decode("Zg==="));     // too much padding
  EXPECT_FALSE(Base64Decode("Zg="));       // padded but not a multiple of 4
  EXPECT_FALSE(Base64Decode("Z=g="));      // padding in the middle
  EXPECT_FALSE(Base64Decode("Zm9v\nYg"));  // whitespace
  EXPECT_FALSE(Base64Decode("Zm 9v"));
  EXPECT_FALSE(Base64Decode("Zm9v*g=="));
  EXPECT_FALSE(Base64Decode(std::string("Zm\0v", 4)));
  EXPECT_FALSE(Base64Decode("===="));
}

}  // namespace
}  // namespace e2b::internal
