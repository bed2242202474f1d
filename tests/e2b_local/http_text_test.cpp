// Lowercase, TrimWhitespace and MediaType: how envd's handlers normalise
// header values.

#include "util/http_text.hpp"

#include <gtest/gtest.h>

namespace e2b_local {
namespace {

TEST(HttpTextTest, LowercaseAndTrim) {
  EXPECT_EQ(Lowercase("Basic ABC-xyz"), "basic abc-xyz");
  EXPECT_EQ(Lowercase(""), "");
  EXPECT_EQ(TrimWhitespace(" \t value with  inner space \r\n"),
            "value with  inner space");
  EXPECT_EQ(TrimWhitespace(" \t\r\n"), "");
  EXPECT_EQ(TrimWhitespace("x"), "x");
}

TEST(HttpTextTest, MediaTypeDropsParametersCaseAndSpace) {
  EXPECT_EQ(MediaType("Application/JSON; charset=utf-8"), "application/json");
  EXPECT_EQ(MediaType("  multipart/form-data ;boundary=x"),
            "multipart/form-data");
  EXPECT_EQ(MediaType("gzip"), "gzip");
  EXPECT_EQ(MediaType(";q=0"), "");
  EXPECT_EQ(MediaType(""), "");
}

}  // namespace
}  // namespace e2b_local
