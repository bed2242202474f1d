// FormatUtcTimestamp and the two formatters built on it (the control
// plane's milliseconds and envd's nanoseconds), and UnixMillis.

#include "util/utc_timestamp.hpp"

#include "control/wire.hpp"
#include "envd/entry_info.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

namespace e2b_local {
namespace {

TEST(UtcTimestampTest, FractionIsZeroPaddedToTheDigitsAsked) {
  EXPECT_EQ(FormatUtcTimestamp(0, 0, 3), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtcTimestamp(1735787045, 5, 3), "2025-01-02T03:04:05.005Z");
  EXPECT_EQ(FormatUtcTimestamp(1735787045, 123, 9),
            "2025-01-02T03:04:05.000000123Z");
  EXPECT_EQ(FormatUtcTimestamp(951782400, 7, 1), "2000-02-29T00:00:00.7Z");
}

TEST(UtcTimestampTest, ControlPlaneMillisecondsBeforeAndAfterTheEpoch) {
  EXPECT_EQ(FormatTimestamp(std::int64_t{1735787045123}),
            "2025-01-02T03:04:05.123Z");
  EXPECT_EQ(FormatTimestamp(std::int64_t{-1}), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(std::int64_t{-1000}), "1969-12-31T23:59:59.000Z");
}

TEST(UtcTimestampTest, EnvdNanoseconds) {
  struct timespec ts {};
  ts.tv_sec = 1735787045;
  ts.tv_nsec = 42;
  EXPECT_EQ(FormatTimestamp(ts), "2025-01-02T03:04:05.000000042Z");
}

TEST(UtcTimestampTest, UnixMillisTruncatesToMilliseconds) {
  using std::chrono::system_clock;
  EXPECT_EQ(UnixMillis(system_clock::time_point{}), 0);
  const auto time = system_clock::time_point{} +
                    std::chrono::seconds(1735787045) +
                    std::chrono::microseconds(123999);
  EXPECT_EQ(UnixMillis(time), 1735787045123);
  EXPECT_EQ(FormatTimestamp(time), "2025-01-02T03:04:05.123Z");
}

}  // namespace
}  // namespace e2b_local
