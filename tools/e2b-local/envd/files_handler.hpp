#ifndef E2B_LOCAL_ENVD_FILES_HANDLER_HPP_
#define E2B_LOCAL_ENVD_FILES_HANDLER_HPP_

// envd's GET/POST /files (PROTOCOL.md 3): streamed downloads with Range,
// raw and multipart uploads streamed to disk, signed URLs, per-file
// metadata. Paths resolve inside the sandbox root (sandbox_paths.hpp).

#include "sandbox/local_sandbox.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace httplib {
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace e2b_local {

/// GET /files for a routed sandbox. The body goes out after this returns
/// and is cut if the sandbox stops running meanwhile.
void HandleFilesGet(const std::shared_ptr<LocalSandbox>& sandbox,
                    const httplib::Request& req, httplib::Response& res);
/// POST /files for a routed sandbox; reads the body through `reader`.
void HandleFilesPost(LocalSandbox& sandbox, const httplib::Request& req,
                     httplib::Response& res,
                     const httplib::ContentReader& reader);

/// envd's plain error body {"code": <status>, "message": ...}.
void SetEnvdHttpError(httplib::Response& res, int status,
                      const std::string& message);

/// Reads and discards what is left of a request body (bounded), so a
/// keep-alive connection stays in sync after an early answer.
void DiscardRequestBody(const httplib::Request& req,
                        const httplib::ContentReader& reader);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_FILES_HANDLER_HPP_
