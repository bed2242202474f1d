#ifndef E2B_SRC_INTERNAL_CIVIL_TIME_HPP_
#define E2B_SRC_INTERNAL_CIVIL_TIME_HPP_

// Calendar arithmetic for the RFC 3339 timestamp reader of the JSON layer,
// free of time zones and timegm.

#include <cstdint>

namespace e2b::internal {

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day
/// 1-31), by Howard Hinnant's days_from_civil algorithm.
inline std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace e2b::internal

#endif  // E2B_SRC_INTERNAL_CIVIL_TIME_HPP_
