// Signed /files URLs: a download or upload link a browser or another
// program can use without the envd access token.

#include "internal/filesystem_call.hpp"
#include "internal/filesystem_mapping.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>
#include <e2b/filesystem.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace e2b {

using internal::FilesystemCall;

std::string FilesystemService::SignedURLImpl(
    const std::string& path, const char* operation,
    const SignedURLParams& params) const {
  FilesystemCall call(state_, "Filesystem.DownloadURL");
  const auto& state = call.State();
  internal::Query query;
  if (!path.empty()) query.Add("path", path);
  if (!params.User.empty()) query.Add("username", params.User);
  if (state.access_token.empty()) {
    if (params.Expiration) {
      throw InvalidArgumentError(
          "signature expiration can be used only when the sandbox is "
          "secured (has an access token)",
          0);
    }
  } else {
    std::optional<std::int64_t> expiration;
    if (params.Expiration) {
      if (params.Expiration->count() <= 0) {
        throw InvalidArgumentError("signed URL expiration must be positive", 0);
      }
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      expiration = now + params.Expiration->count();
    }
    query.Add("signature",
              internal::FilesSignature(path, operation, params.User,
                                       state.access_token, expiration));
    if (expiration) {
      query.Add("signature_expiration", std::to_string(*expiration));
    }
  }
  return internal::JoinUrl(state.envd_url, "/files") + query.Encode();
}

}  // namespace e2b
