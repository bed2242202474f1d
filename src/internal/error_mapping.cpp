#include "internal/error_mapping.hpp"

#include "internal/json_mapping.hpp"
#include "internal/retry.hpp"

#include <e2b/errors.hpp>

#include <chrono>

namespace e2b::internal {
namespace {

// Replaces control characters (a body may hold anything) so that a message
// stays one printable line, and trims surrounding whitespace.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  const auto begin = out.find_first_not_of(' ');
  if (begin == std::string::npos) return {};
  const auto end = out.find_last_not_of(' ');
  return out.substr(begin, end - begin + 1);
}

// Cuts at most kMaxErrorMessageBytes without splitting a UTF-8 sequence.
std::string Truncate(std::string text) {
  if (text.size() <= kMaxErrorMessageBytes) return text;
  std::size_t cut = kMaxErrorMessageBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  text.resize(cut);
  text += "...";
  return text;
}

}  // namespace

std::string PrintableServerText(std::string_view text) {
  // Truncate before cleaning so a multi-megabyte text costs nothing.
  return Truncate(Printable(text.substr(0, kMaxErrorMessageBytes * 4)));
}

std::string ErrorMessageFromBody(std::string_view body) {
  // Only look for a JSON message in bodies that can be one; a huge non-JSON
  // body is not worth parsing.
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '{') {
    if (const auto parsed = ParseJsonObject(body)) {
      std::string message = Printable(StringMember(*parsed, "message"));
      if (!message.empty()) return Truncate(std::move(message));
    }
  }
  return PrintableServerText(body);
}

std::string RedactSecrets(std::string text,
                          const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), "[REDACTED]");
      pos += 10;
    }
  }
  return text;
}

std::string HttpStatusText(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 507:
      return "Insufficient Storage";
    default:
      return "HTTP " + std::to_string(status);
  }
}

std::string RequestIdOf(const HttpHeaders* headers,
                        const std::vector<std::string>& secrets) {
  if (headers == nullptr) return {};
  const auto id = FindHeader(*headers, "X-Request-Id");
  if (!id) return {};
  constexpr std::size_t kMaxRequestIdBytes = 128;
  return RedactSecrets(
      PrintableServerText(std::string_view(*id).substr(0, kMaxRequestIdBytes)),
      secrets);
}

void ThrowHttpError(int status, std::string_view body,
                    const NotFoundSubject& subject,
                    const std::vector<std::string>& secrets,
                    const HttpHeaders* headers) {
  std::string message = RedactSecrets(ErrorMessageFromBody(body), secrets);
  if (status == 404) {
    // The typed errors carry the ID in their what(); the server's text only
    // adds detail.
    switch (subject.kind) {
      case NotFoundKind::kSandbox:
        ThrowAnswerError(SandboxNotFoundError(subject.id, message), headers,
                         secrets);
      case NotFoundKind::kTemplate:
        ThrowAnswerError(TemplateNotFoundError(subject.id, message), headers,
                         secrets);
      case NotFoundKind::kFile:
        ThrowAnswerError(FileNotFoundError(subject.id, message), headers,
                         secrets);
      case NotFoundKind::kVolume:
        ThrowAnswerError(VolumeNotFoundError(subject.id, message), headers,
                         secrets);
      case NotFoundKind::kNone:
        break;
    }
  }
  if (message.empty()) message = HttpStatusText(status);
  switch (status) {
    case 400:
      ThrowAnswerError(InvalidArgumentError(message, status), headers, secrets);
    case 401:
    case 403:
      ThrowAnswerError(AuthenticationError(message, status), headers, secrets);
    case 429: {
      std::optional<std::chrono::milliseconds> wait;
      if (headers != nullptr) {
        if (auto value = FindHeader(*headers, "Retry-After")) {
          wait = ParseRetryAfter(*value, std::chrono::system_clock::now());
        }
      }
      ThrowAnswerError(RateLimitError(message, wait), headers, secrets);
    }
    default:
      ThrowAnswerError(Error(status, std::move(message)), headers, secrets);
  }
}

void ThrowVolumeHttpError(int status, std::string_view body,
                          const NotFoundSubject& subject,
                          const std::vector<std::string>& secrets,
                          const HttpHeaders* headers) {
  if (status == 404 && subject.kind != NotFoundKind::kNone) {
    ThrowHttpError(status, body, subject, secrets, headers);
  }
  ThrowAnswerError(
      VolumeError(status, RedactSecrets(ErrorMessageFromBody(body), secrets)),
      headers, secrets);
}

}  // namespace e2b::internal
