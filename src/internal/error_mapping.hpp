#ifndef E2B_INTERNAL_ERROR_MAPPING_HPP_
#define E2B_INTERNAL_ERROR_MAPPING_HPP_

// The one place where a non-success HTTP answer becomes an e2b exception
// (PROTOCOL.md section 6, without the Go SDK's bugs): the status decides the
// type, the body's `message` (or the trimmed raw body) the text, and every
// secret the caller names is scrubbed from that text.

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

/// `text` with every non-empty secret replaced by "[REDACTED]".
std::string RedactSecrets(std::string text,
                          const std::vector<std::string>& secrets);

/// Throws the exception for a non-success answer: 404 as `subject` says,
/// everything else e2b::Error(status, message). The message is
/// ErrorMessageFromBody (or the status' reason phrase when that is empty)
/// with `secrets` (API key, access tokens) redacted.
[[noreturn]] void ThrowHttpError(int status, std::string_view body,
                                 const NotFoundSubject& subject,
                                 const std::vector<std::string>& secrets);

/// The standard reason phrase of an HTTP status ("Not Found"), or
/// "HTTP <status>" for an unusual one.
std::string HttpStatusText(int status);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_ERROR_MAPPING_HPP_
