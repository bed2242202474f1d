#ifndef E2B_ERRORS_HPP_
#define E2B_ERRORS_HPP_

#include <stdexcept>
#include <string>

namespace e2b {

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

  int StatusCode() const noexcept { return status_code_; }
  const std::string& Message() const noexcept { return message_; }

 protected:
  Error(std::string what, int status_code, std::string message);

 private:
  int status_code_;
  std::string message_;
};

/// The sandbox does not exist (any more). Go: *SandboxNotFoundError.
class SandboxNotFoundError : public Error {
 public:
  explicit SandboxNotFoundError(std::string sandbox_id,
                                std::string message = {});
  const std::string& SandboxID() const noexcept { return sandbox_id_; }

 private:
  std::string sandbox_id_;
};

/// The path does not exist in the sandbox. Go: *FileNotFoundError.
class FileNotFoundError : public Error {
 public:
  explicit FileNotFoundError(std::string path, std::string message = {});
  const std::string& Path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// The template does not exist. Go: *TemplateNotFoundError.
class TemplateNotFoundError : public Error {
 public:
  explicit TemplateNotFoundError(std::string template_id,
                                 std::string message = {});
  const std::string& TemplateID() const noexcept { return template_id_; }

 private:
  std::string template_id_;
};

/// A deadline passed: a per-call timeout, a Context deadline, or the server's
/// deadline_exceeded. Go: *TimeoutError.
class TimeoutError : public Error {
 public:
  explicit TimeoutError(std::string message);
};

}  // namespace e2b

#endif  // E2B_ERRORS_HPP_
