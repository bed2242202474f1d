#ifndef E2B_INTERNAL_ERROR_MAPPING_HPP_
#define E2B_INTERNAL_ERROR_MAPPING_HPP_

// The one place where a non-success HTTP answer becomes an e2b exception
// (PROTOCOL.md section 6, without the Go SDK's bugs): the status decides the
// type, the body's `message` (or the trimmed raw body) the text, and every
// secret the caller names is scrubbed from that text.

#include "internal/http_transport.hpp"

#include <e2b/errors.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace e2b::internal {

/// Longest error message taken from a response body.
inline constexpr std::size_t kMaxErrorMessageBytes = 1024;

/// What a 404 of a call means.
enum class NotFoundKind {
  kNone,      ///< a plain Error(404, ...)
  kSandbox,   ///< SandboxNotFoundError(id)
  kTemplate,  ///< TemplateNotFoundError(id)
  kFile,      ///< FileNotFoundError(id = path)
  kVolume,    ///< VolumeNotFoundError(id)
};

struct NotFoundSubject {
  NotFoundKind kind = NotFoundKind::kNone;
  std::string id;
};

/// The human-readable message of an error body: the JSON `message` when the
/// body is an object with a non-empty string `message`, else the raw body;
/// control characters replaced, whitespace trimmed, cut to
/// kMaxErrorMessageBytes. Empty when the body has nothing readable.
std::string ErrorMessageFromBody(std::string_view body);

/// Server text made fit for an exception message: control characters
/// replaced by spaces, whitespace trimmed, cut to kMaxErrorMessageBytes
/// (at a UTF-8 boundary, "..." marking the cut).
std::string PrintableServerText(std::string_view text);

/// `text` with every non-empty secret replaced by "[REDACTED]".
std::string RedactSecrets(std::string text,
                          const std::vector<std::string>& secrets);

/// Sets what the public error types keep beside their constructor
/// arguments.
struct ErrorAccess {
  static void SetRequestID(Error& error, std::string request_id) {
    error.request_id_ = std::move(request_id);
  }
};

/// The request id of an answer (its X-Request-Id header): control
/// characters replaced, cut to 128 bytes, `secrets` redacted; empty when
/// there is none.
std::string RequestIdOf(const HttpHeaders* headers,
                        const std::vector<std::string>& secrets);

/// Throws `error` with `request_id` attached (one kept from another error).
template <typename E>
[[noreturn]] void ThrowWithRequestID(E error, const std::string& request_id) {
  ErrorAccess::SetRequestID(error, request_id);
  throw error;
}

/// Throws `error` with the request id of `headers` (may be null) attached.
template <typename E>
[[noreturn]] void ThrowAnswerError(E error, const HttpHeaders* headers,
                                   const std::vector<std::string>& secrets) {
  ErrorAccess::SetRequestID(error, RequestIdOf(headers, secrets));
  throw error;
}

/// Throws the exception for a non-success answer, as the Go SDK types it:
/// 404 as `subject` says, 400 InvalidArgumentError, 401 and 403
/// AuthenticationError, 429 RateLimitError (with the answer's
/// Retry-After), everything else e2b::Error(status, message). The message
/// is ErrorMessageFromBody (or the status' reason phrase when that is
/// empty) with `secrets` (API key, access tokens) redacted; the request id
/// comes from `headers` when given.
[[noreturn]] void ThrowHttpError(int status, std::string_view body,
                                 const NotFoundSubject& subject,
                                 const std::vector<std::string>& secrets,
                                 const HttpHeaders* headers = nullptr);

/// Throws the exception for a non-success answer of a volume call, as Go
/// HEAD's volume code types it: 404 as `subject` says (a volume's 404 is
/// VolumeNotFoundError, a content path's FileNotFoundError), every other
/// status (401, 403 and 429 included) VolumeError with
/// ErrorMessageFromBody (empty when the body has nothing readable) and
/// `secrets` redacted; the request id comes from `headers` when given.
[[noreturn]] void ThrowVolumeHttpError(int status, std::string_view body,
                                       const NotFoundSubject& subject,
                                       const std::vector<std::string>& secrets,
                                       const HttpHeaders* headers = nullptr);

/// The standard reason phrase of an HTTP status ("Not Found"), or
/// "HTTP <status>" for an unusual one.
std::string HttpStatusText(int status);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_ERROR_MAPPING_HPP_
