#ifndef E2B_ERRORS_HPP_
#define E2B_ERRORS_HPP_

#include <e2b/types.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace e2b {
namespace internal {
struct ErrorAccess;
}  // namespace internal

/// Every error the library throws derives from Error (Go: *e2b.Error).
/// StatusCode() is the HTTP status, or 0 for failures that are not an HTTP
/// answer (network, TLS, cancelled, malformed response). Message() is the
/// server's `message` when its body has one. No message ever contains an API
/// key or an access token.
class Error : public std::runtime_error {
 public:
  /// what() reads "e2b: status <code>: <message>" (or "e2b: <message>"
  /// when code is 0), like the Go Error() string.
  Error(int status_code, std::string message);

  /// The HTTP status of the failed answer; 0 when it was not an HTTP answer
  /// (network, TLS, cancelled, malformed response, refused before sending).
  int StatusCode() const noexcept { return status_code_; }
  /// The server's message (its `message` field), else a description of the
  /// failure.
  const std::string& Message() const noexcept { return message_; }
  /// The request id the server sent with the failed answer (its
  /// X-Request-Id header), for support requests and logs; empty when it
  /// sent none or the failure was not an answer.
  const std::string& RequestID() const noexcept { return request_id_; }

 protected:
  /// For subclasses that format what() themselves.
  Error(const std::string& what, int status_code, std::string message);

 private:
  friend struct internal::ErrorAccess;
  int status_code_;
  std::string message_;
  std::string request_id_;
};

/// The sandbox does not exist (any more). Go: *SandboxNotFoundError.
class SandboxNotFoundError : public Error {
 public:
  /// Status 404; `message` is the server's, empty = a default text naming the
  /// sandbox.
  explicit SandboxNotFoundError(std::string sandbox_id,
                                const std::string& message = {});
  /// The sandbox ID that was not found.
  const std::string& SandboxID() const noexcept { return sandbox_id_; }

 private:
  std::string sandbox_id_;
};

/// The path does not exist in the sandbox. Go: *FileNotFoundError.
class FileNotFoundError : public Error {
 public:
  /// Status 404; `message` is the server's, empty = a default text naming the
  /// path.
  explicit FileNotFoundError(std::string path, const std::string& message = {});
  /// The path that was not found.
  const std::string& Path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// The template does not exist. Go: *TemplateNotFoundError.
class TemplateNotFoundError : public Error {
 public:
  /// Status 404; `message` is the server's, empty = a default text naming the
  /// template.
  explicit TemplateNotFoundError(std::string template_id,
                                 const std::string& message = {});
  /// The template ID or alias that was not found.
  const std::string& TemplateID() const noexcept { return template_id_; }

 private:
  std::string template_id_;
};

/// A template build ended with status "error" (TemplateBuilder::Build).
/// Message() is the reason's message. Go: *TemplateBuildError.
class TemplateBuildError : public Error {
 public:
  /// what() reads "e2b: template build failed: <message>", with
  /// " (step: <step>)" when the reason names a step.
  TemplateBuildError(std::string template_id, std::string build_id,
                     BuildStatusReason reason);
  /// The template whose build failed.
  const std::string& TemplateID() const noexcept { return template_id_; }
  /// The failed build.
  const std::string& BuildID() const noexcept { return build_id_; }
  /// The server's reason: message, step and log entries.
  const BuildStatusReason& Reason() const noexcept { return reason_; }

 private:
  std::string template_id_;
  std::string build_id_;
  BuildStatusReason reason_;
};

/// A deadline passed: a per-call timeout, a Context deadline, or the server's
/// deadline_exceeded. Go: *TimeoutError.
class TimeoutError : public Error {
 public:
  /// `message` says which deadline passed.
  explicit TimeoutError(const std::string& message);
};

/// An argument was refused: by the server (an API answer 400, envd's
/// invalid_argument; StatusCode() 400) or by the client before sending
/// (StatusCode() 0: a fork count below 1, a signed-URL expiration on an
/// unsecured sandbox). Go: *InvalidArgumentError.
class InvalidArgumentError : public Error {
 public:
  /// what() reads "e2b: invalid argument: <message>" (with "<status>: "
  /// before the message when status_code is not 0).
  explicit InvalidArgumentError(const std::string& message,
                                int status_code = 400);
};

/// The API key or access token was refused: an API answer 401 or 403, or
/// envd's unauthenticated/permission_denied. Go: *AuthenticationError.
class AuthenticationError : public Error {
 public:
  /// what() reads "e2b: authentication failed: <status>: <message>".
  explicit AuthenticationError(const std::string& message,
                               int status_code = 401);
};

/// Too many requests (HTTP 429), after the retry policy gave up (or when it
/// allows no retries). Go: *RateLimitError.
class RateLimitError : public Error {
 public:
  /// what() reads "e2b: rate limit exceeded: 429: <message>".
  explicit RateLimitError(
      const std::string& message,
      std::optional<std::chrono::milliseconds> retry_after = std::nullopt);
  /// How long the server asked to wait (its Retry-After, seconds or an
  /// HTTP-date, measured when the answer arrived); empty when it sent none.
  std::optional<std::chrono::milliseconds> RetryAfter() const noexcept {
    return retry_after_;
  }

 private:
  std::optional<std::chrono::milliseconds> retry_after_;
};

/// A volume management or content call failed with a status that is not a
/// not-found (the content API's 409 for an existing path, 400 for a bad
/// path or depth, 401/403 for a refused token, ...): every such status of
/// a volume call, as in Go. Message() is the body's `message`, or the
/// trimmed body. Go: *VolumeError.
class VolumeError : public Error {
 public:
  /// what() reads "e2b: volume error: status <code>: <message>" (without
  /// ": <message>" when it is empty).
  VolumeError(int status_code, const std::string& message);
};

/// The volume does not exist (a management call answered 404). A path
/// missing inside a volume is a FileNotFoundError. Go:
/// *VolumeNotFoundError.
class VolumeNotFoundError : public Error {
 public:
  /// Status 404; `message` is the server's, empty = a default text naming the
  /// volume.
  explicit VolumeNotFoundError(std::string volume_id,
                               const std::string& message = {});
  /// The volume ID that was not found.
  const std::string& VolumeID() const noexcept { return volume_id_; }

 private:
  std::string volume_id_;
};

}  // namespace e2b

#endif  // E2B_ERRORS_HPP_
