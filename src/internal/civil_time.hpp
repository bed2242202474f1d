#ifndef E2B_SRC_INTERNAL_CIVIL_TIME_HPP_
#define E2B_SRC_INTERNAL_CIVIL_TIME_HPP_

// Calendar arithmetic for RFC 3339 timestamps (the JSON layer's reader,
// the options' and leases' writer), free of time zones, timegm and the
// non-reentrant gmtime.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

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

/// `time` as RFC 3339 in UTC with milliseconds
/// ("2026-12-07T16:00:00.000Z"), by the inverse of DaysFromCivil (valid for
/// any Gregorian date).
inline std::string FormatRfc3339Utc(
    std::chrono::system_clock::time_point time) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto ms_total =
      duration_cast<milliseconds>(time.time_since_epoch()).count();
  std::int64_t days = ms_total / 86400000;
  std::int64_t ms_of_day = ms_total % 86400000;
  if (ms_of_day < 0) {
    ms_of_day += 86400000;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe =
      (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char text[160];
  std::snprintf(
      text, sizeof(text), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
      static_cast<long long>(year), static_cast<long long>(month),
      static_cast<long long>(day), static_cast<long long>(ms_of_day / 3600000),
      static_cast<long long>(ms_of_day / 60000 % 60),
      static_cast<long long>(ms_of_day / 1000 % 60),
      static_cast<long long>(ms_of_day % 1000));
  return text;
}

}  // namespace e2b::internal

#endif  // E2B_SRC_INTERNAL_CIVIL_TIME_HPP_
