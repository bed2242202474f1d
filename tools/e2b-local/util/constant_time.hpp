#ifndef E2B_LOCAL_UTIL_CONSTANT_TIME_HPP_
#define E2B_LOCAL_UTIL_CONSTANT_TIME_HPP_

#include <string>

namespace e2b_local {

/// Compares secrets in time independent of where they differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace e2b_local

#endif  // E2B_LOCAL_UTIL_CONSTANT_TIME_HPP_
