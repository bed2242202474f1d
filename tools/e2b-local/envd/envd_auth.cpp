#include "envd/envd_auth.hpp"

#include "envd/envd_server.hpp"
#include "internal/sha256.hpp"
#include "util/base64.hpp"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

namespace e2b_local {
namespace {

// signature_expiration: absent, or unix seconds as 1 to 18 digits.
bool ParseExpiration(const httplib::Request& req,
                     std::optional<std::int64_t>& expiration) {
  expiration.reset();
  if (!req.has_param("signature_expiration")) return true;
  const std::string text = req.get_param_value("signature_expiration");
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  expiration = std::stoll(text);
  return true;
}

}  // namespace

std::optional<std::string> TrafficTokenRefused(const LocalSandbox& sandbox,
                                               const httplib::Request& req) {
  if (sandbox.traffic_access_token.empty()) return std::nullopt;
  // The edge reads the header with Go's Header.Get: the first value, and an
  // empty one counts as missing.
  const std::string token = req.get_header_value(kTrafficTokenHeader);
  const std::string header = kTrafficTokenHeader;
  if (token.empty()) {
    return "Sandbox is secured with traffic access token. Token header '" +
           header + "' is missing";
  }
  if (ConstantTimeEquals(token, sandbox.traffic_access_token)) {
    return std::nullopt;
  }
  return "Sandbox is secured with traffic access token. Provided token in "
         "header '" +
         header + "' is invalid";
}

std::optional<std::string> EnvdCredentialsRefused(const LocalSandbox& sandbox,
                                                  const httplib::Request& req,
                                                  const char* files_operation) {
  if (sandbox.access_token.empty()) return std::nullopt;
  // An empty header counts as none, as in envd.
  const std::string token = req.get_header_value("X-Access-Token");
  if (!token.empty()) {
    if (ConstantTimeEquals(token, sandbox.access_token)) return std::nullopt;
    return std::string(kEnvdUnauthorized);
  }
  if (files_operation == nullptr) return std::string(kEnvdUnauthorized);
  std::optional<std::int64_t> expiration;
  if (!ParseExpiration(req, expiration)) {
    return std::string("invalid signature expiration");
  }
  if (expiration) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (*expiration < now) return std::string("signature is already expired");
  }
  if (!FilesSignatureMatches(req, files_operation, sandbox.access_token)) {
    return std::string(kEnvdUnauthorized);
  }
  return std::nullopt;
}

std::string SignFilesRequest(const std::string& path,
                             const std::string& operation,
                             const std::string& username,
                             const std::string& access_token,
                             std::optional<std::int64_t> expiration) {
  std::string text =
      path + ":" + operation + ":" + username + ":" + access_token;
  if (expiration) text += ":" + std::to_string(*expiration);
  const auto digest = e2b::internal::Sha256Digest(text);
  return "v1_" +
         Base64EncodeNoPad(std::string_view(
             reinterpret_cast<const char*>(digest.data()), digest.size()));
}

bool FilesSignatureMatches(const httplib::Request& req,
                           const std::string& operation,
                           const std::string& access_token) {
  std::optional<std::int64_t> expiration;
  if (access_token.empty() || !req.has_param("signature") ||
      !ParseExpiration(req, expiration)) {
    return false;
  }
  const std::string expected = SignFilesRequest(
      req.get_param_value("path"), operation, req.get_param_value("username"),
      access_token, expiration);
  return ConstantTimeEquals(req.get_param_value("signature"), expected);
}

}  // namespace e2b_local
