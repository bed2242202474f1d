// Inputs the fuzzers (tests/fuzz/) found crashing or breaking an invariant
// in the client library, kept as plain tests so every build checks them,
// not only fuzzing runs. The raw inputs are in tests/fuzz/regressions/.

#include "internal/connect_client.hpp"
#include "internal/filesystem_mapping.hpp"
#include "internal/json_mapping.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>
#include <e2b/types.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace e2b::internal {
namespace {

// url fuzzer: RedactedUrl dropped user info but copied the scheme part
// unfiltered, so a control character before "://" reached the message.
// Fixed in src/internal/url.cpp.
TEST(FuzzRegressionTest, RedactedUrlFiltersControlCharactersInTheScheme) {
  const std::string shown = RedactedUrl(std::string("\xbcP\twP://@", 9));
  for (char c : shown) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u != 0x7f) << "control character in " << shown;
  }
  EXPECT_EQ(RedactedUrl("ht\ntp://user:pw@h/p"), "ht?tp://h/p");
}

// json_mapping fuzzer: a number too large for a double ("1e400") makes
// nlohmann throw out_of_range, which ParseJsonBody does not catch (it
// catches parse_error only), so a hostile or broken server crashed callers
// expecting e2b::Error -- with the body's text in the message.
TEST(FuzzRegressionTest, NumberOverflowIsAMalformedResponse) {
  for (const char* body :
       {"111e111111111111111-1111", "{\"cpuCount\": 1e400}", "[2e6844]"}) {
    try {
      ParseResponse<SandboxInfo>(body, "GET /sandboxes/{id}");
      ADD_FAILURE() << "accepted " << body;
    } catch (const Error& e) {
      EXPECT_EQ(e.StatusCode(), 0);
      EXPECT_NE(std::string(e.what()).find("malformed response"),
                std::string::npos);
      EXPECT_EQ(std::string(e.what()).find("e111111"), std::string::npos)
          << "body text in the message: " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an e2b::Error for " << body << ": " << e.what();
    }
  }
}

// json_mapping fuzzer: an integer field given as the float 2^63
// (9.223372036854775808e18) passed the range check, because INT64_MAX
// rounds up to 2^63 as a double, and was converted to int64 (undefined
// behaviour, UBSan: outside the range of representable values). Fixed in
// ReadInteger (src/internal/json_mapping.cpp).
TEST(FuzzRegressionTest, FloatJustAboveInt64IsRefused) {
  for (const char* body :
       {R"({"memUsed": 9.223372036854775807e18})",
        R"({"memUsed": 9223372036854775808.0})", R"({"memUsed": -9.3e18})"}) {
    try {
      ParseResponse<SandboxMetric>(body, "GET /sandboxes/{id}/metrics");
      ADD_FAILURE() << "accepted " << body;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected an integer"),
                std::string::npos)
          << e.what();
    }
  }
  // The largest double below 2^63 and -2^63 itself are int64 values.
  auto metric = ParseResponse<SandboxMetric>(
      R"({"memUsed": 9.2233720368547748e18, "memTotal": -9.223372036854775808e18})",
      "GET /sandboxes/{id}/metrics");
  EXPECT_EQ(metric.MemUsed, 9223372036854774784LL);
  EXPECT_EQ(metric.MemTotal, std::numeric_limits<std::int64_t>::min());
}

// envd_messages fuzzer: ParseRfc3339 converts seconds to the clock's
// nanoseconds without a range check; any date after 2262-04-11 overflows
// int64 (undefined behaviour, UBSan: chrono.h signed integer overflow) and
// in practice wraps to a time long before the epoch. envd sends
// modifiedTime, so a server can trigger it.
TEST(FuzzRegressionTest, Rfc3339AfterYear2262DoesNotWrapAround) {
  const auto before = ParseRfc3339("2262-01-01T00:00:00Z");
  ASSERT_TRUE(before.has_value());
  for (const char* text : {"2262-04-12T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    const auto later = ParseRfc3339(text);
    if (later) {
      EXPECT_GE(*later, *before) << text << " parsed to an earlier time";
    }
  }
}

// connect_stream fuzzer: ThrowConnectHttpError redacts secrets from the
// error body's message but not from its `code`; an unknown code becomes
// the message when there is none, so a server that puts the access token
// into "code" gets it into the exception text.
TEST(FuzzRegressionTest, ConnectErrorCodeIsRedactedToo) {
  const std::string secret = "SECRET-envd-token-0123";
  for (int status : {400, 404, 500}) {
    try {
      ThrowConnectHttpError(status, "{\"code\":\"not_f" + secret + "\"}", "sbx",
                            {secret});
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos)
          << e.what();
    }
  }
}

// tests/fuzz/regressions/connect_stream/edge-502-sandbox-id-not-redacted:
// the edge proxy's 502 names the sandbox, and that name went into what()
// unscrubbed, so an answer that echoes the access token there leaked it.
TEST(FuzzRegressionTest, EdgeSandboxIdIsRedacted) {
  const std::string secret = "SECRET-envd-token-0123";
  try {
    ThrowConnectHttpError(502,
                          "{\"sandboxId\":\"sb" + secret +
                              "box\",\"message\":\"gone\",\"code\":502}",
                          "sbx", {secret});
    FAIL() << "no error";
  } catch (const SandboxNotFoundError& e) {
    EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos)
        << e.what();
    EXPECT_EQ(e.SandboxID().find(secret), std::string::npos);
  }
}

}  // namespace
}  // namespace e2b::internal
