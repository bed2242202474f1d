#ifndef E2B_LOCAL_ENVD_ENVD_AUTH_HPP_
#define E2B_LOCAL_ENVD_ENVD_AUTH_HPP_

// Authentication on the envd port, in one place: the sandbox's access
// token, and the v1 signatures of /files URLs (PROTOCOL.md 3). RPCs,
// /files and the wake-up of a paused sandbox all ask EnvdCredentialsRefused.

#include "sandbox/local_sandbox.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace httplib {
struct Request;
}  // namespace httplib

namespace e2b_local {

/// envd's 401 message for a missing or wrong token or signature.
inline constexpr const char kEnvdUnauthorized[] =
    "unauthorized access, please provide a valid access token or method "
    "signing if supported";

/// envd's rule: a sandbox without an access token takes every request;
/// otherwise a non-empty X-Access-Token must be its token, or, for /files
/// (`files_operation` "read" or "write"; null for anything else), the URL
/// must carry an unexpired signature made with it. Returns nullopt when the
/// request may proceed, else the message of the 401.
std::optional<std::string> EnvdCredentialsRefused(const LocalSandbox& sandbox,
                                                  const httplib::Request& req,
                                                  const char* files_operation);

/// The header that carries a sandbox's traffic access token to the edge.
inline constexpr const char kTrafficTokenHeader[] = "e2b-traffic-access-token";

/// The edge's rule for sandbox ports other than envd's: a sandbox with a
/// traffic access token (created with network.allowPublicTraffic false)
/// takes only requests whose e2b-traffic-access-token header equals it
/// (compared in constant time). nullopt when the request may proceed,
/// else the message of the edge's 403 (missing or invalid).
std::optional<std::string> TrafficTokenRefused(const LocalSandbox& sandbox,
                                               const httplib::Request& req);

/// envd's signed-URL signature: "v1_" + base64 without padding of
/// sha256("<path>:<operation>:<username>:<token>[:<expiration>]").
std::string SignFilesRequest(const std::string& path,
                             const std::string& operation,
                             const std::string& username,
                             const std::string& access_token,
                             std::optional<std::int64_t> expiration);

/// Whether the request's `signature` (with `path`, `username` and an
/// optional `signature_expiration`) was made with `access_token` for
/// `operation` ("read" or "write"). Compares in constant time; does not
/// check expiry. False when the parameters are missing or malformed.
bool FilesSignatureMatches(const httplib::Request& req,
                           const std::string& operation,
                           const std::string& access_token);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_ENVD_AUTH_HPP_
