#include "internal/control_plane.hpp"

#include "internal/url.hpp"

namespace e2b::internal {
std::string ApiPath(std::initializer_list<std::string_view> segments) {
  std::string path;
  for (std::string_view segment : segments) {
    path += '/';
    path += PercentEncode(segment);
  }
  return path;
}

std::string EncodeMetadataFilter(
    const std::map<std::string, std::string>& metadata) {
  std::string inner;
  for (const auto& [key, value] : metadata) {
    if (!inner.empty()) inner += '&';
    inner += PercentEncode(key);
    inner += '=';
    inner += PercentEncode(value);
  }
  return PercentEncode(inner);
}

}  // namespace e2b::internal
