#ifndef E2B_LOCAL_UTIL_UTC_TIMESTAMP_HPP_
#define E2B_LOCAL_UTIL_UTC_TIMESTAMP_HPP_

#include <chrono>
#include <cstdint>
#include <string>

namespace e2b_local {

/// RFC 3339 in UTC with exactly `digits` (1 to 9) fraction digits, the one
/// formatter behind the control plane's and envd's timestamps:
/// FormatUtcTimestamp(1735787045, 123, 3) is "2025-01-02T03:04:05.123Z".
/// `fraction` counts units of 10^-digits seconds, in [0, 10^digits).
std::string FormatUtcTimestamp(std::int64_t seconds, long fraction, int digits);

/// Milliseconds since the Unix epoch, the control plane's and the state
/// store's unit of time.
std::int64_t UnixMillis(std::chrono::system_clock::time_point time);

}  // namespace e2b_local

#endif  // E2B_LOCAL_UTIL_UTC_TIMESTAMP_HPP_
