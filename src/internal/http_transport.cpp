// The transport-independent parts of the HTTP layer; the libcurl transport
// itself lives in curl_transport.cpp.

#include "internal/http_transport.hpp"

#include "internal/ascii.hpp"

#include <e2b/errors.hpp>
#include <e2b/version.hpp>

#include <memory>

namespace e2b::internal {
std::optional<std::string> FindHeader(const HttpHeaders& headers,
                                      std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsNoCase(key, name)) return value;
  }
  return std::nullopt;
}

std::string BodyReader::ReadAll(std::size_t max_bytes) {
  std::string out;
  constexpr std::size_t kChunk = std::size_t{64} * 1024;
  // Not zeroed: Read fills what it returns.
  const std::unique_ptr<char[]> buffer(new char[kChunk]);
  for (;;) {
    std::size_t n = Read(buffer.get(), kChunk);
    if (n == 0) break;
    // out.size() never exceeds max_bytes, so the subtraction cannot wrap.
    if (n > max_bytes - out.size()) {
      throw Error(0, "response body exceeds the limit of " +
                         std::to_string(max_bytes) + " bytes");
    }
    out.append(buffer.get(), n);
  }
  return out;
}

const std::string& UserAgent() {
  static const std::string agent = std::string("e2b-cpp/") + E2B_VERSION_STRING;
  return agent;
}

}  // namespace e2b::internal
