#include "util/constant_time.hpp"

#include <algorithm>
#include <cstddef>

namespace e2b_local {

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  // Compare over the longer length so timing reveals neither the position
  // of the first difference nor a shared prefix.
  std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace e2b_local
