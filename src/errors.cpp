#include <e2b/errors.hpp>

#include <utility>

namespace e2b {
namespace {

std::string StatusWhat(int status_code, const std::string& message) {
  if (status_code == 0) return "e2b: " + message;
  return "e2b: status " + std::to_string(status_code) + ": " + message;
}

// "<status>: <message>" as the Go SDK's apiErrorFromCode writes it.
std::string WithStatus(int status_code, const std::string& message) {
  if (status_code == 0) return message;
  return std::to_string(status_code) + ": " + message;
}

std::string WithDetail(std::string what, const std::string& detail) {
  if (!detail.empty()) what += " (" + detail + ")";
  return what;
}

}  // namespace

Error::Error(int status_code, std::string message)
    : std::runtime_error(StatusWhat(status_code, message)),
      status_code_(status_code),
      message_(std::move(message)) {}

Error::Error(const std::string& what, int status_code, std::string message)
    : std::runtime_error(what),
      status_code_(status_code),
      message_(std::move(message)) {}

SandboxNotFoundError::SandboxNotFoundError(std::string sandbox_id,
                                           const std::string& message)
    : Error(WithDetail("e2b: sandbox not found: " + sandbox_id, message), 404,
            message.empty() ? "sandbox not found: " + sandbox_id : message),
      sandbox_id_(std::move(sandbox_id)) {}

FileNotFoundError::FileNotFoundError(std::string path,
                                     const std::string& message)
    : Error(WithDetail("e2b: file not found: " + path, message), 404,
            message.empty() ? "file not found: " + path : message),
      path_(std::move(path)) {}

TemplateNotFoundError::TemplateNotFoundError(std::string template_id,
                                             const std::string& message)
    : Error(WithDetail("e2b: template not found: " + template_id, message), 404,
            message.empty() ? "template not found: " + template_id : message),
      template_id_(std::move(template_id)) {}

namespace {

std::string BuildFailedWhat(const BuildStatusReason& reason) {
  std::string what = "e2b: template build failed: " + reason.Message;
  if (!reason.Step.empty()) what += " (step: " + reason.Step + ")";
  return what;
}

}  // namespace

TemplateBuildError::TemplateBuildError(std::string template_id,
                                       std::string build_id,
                                       BuildStatusReason reason)
    : Error(BuildFailedWhat(reason), 0, reason.Message),
      template_id_(std::move(template_id)),
      build_id_(std::move(build_id)),
      reason_(std::move(reason)) {}

TimeoutError::TimeoutError(const std::string& message)
    : Error("e2b: timeout: " + message, 0, message) {}

InvalidArgumentError::InvalidArgumentError(const std::string& message,
                                           int status_code)
    : Error("e2b: invalid argument: " + WithStatus(status_code, message),
            status_code, message) {}

AuthenticationError::AuthenticationError(const std::string& message,
                                         int status_code)
    : Error("e2b: authentication failed: " + WithStatus(status_code, message),
            status_code, message) {}

RateLimitError::RateLimitError(
    const std::string& message,
    std::optional<std::chrono::milliseconds> retry_after)
    : Error("e2b: rate limit exceeded: " + WithStatus(429, message), 429,
            message),
      retry_after_(retry_after) {}

VolumeError::VolumeError(int status_code, const std::string& message)
    : Error("e2b: volume error: status " + std::to_string(status_code) +
                (message.empty() ? std::string() : ": " + message),
            status_code, message) {}

VolumeNotFoundError::VolumeNotFoundError(std::string volume_id,
                                         const std::string& message)
    : Error(WithDetail("e2b: volume not found: " + volume_id, message), 404,
            message.empty() ? "volume not found: " + volume_id : message),
      volume_id_(std::move(volume_id)) {}

}  // namespace e2b
