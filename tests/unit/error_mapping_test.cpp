// Status + body -> exception, message extraction and secret redaction.

#include "internal/error_mapping.hpp"

#include <e2b/errors.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <typeinfo>

namespace {

using e2b::internal::ErrorMessageFromBody;
using e2b::internal::HttpStatusText;
using e2b::internal::kMaxErrorMessageBytes;
using e2b::internal::NotFoundKind;
using e2b::internal::NotFoundSubject;
using e2b::internal::RedactSecrets;
using e2b::internal::ThrowHttpError;

TEST(ErrorMessageFromBodyTest, PrefersTheJsonMessage) {
  EXPECT_EQ(ErrorMessageFromBody(R"({"code":404,"message":"not here"})"),
            "not here");
  EXPECT_EQ(ErrorMessageFromBody("  {\"message\": \"  padded\\n \"} "),
            "padded");
}

TEST(ErrorMessageFromBodyTest, FallsBackToTheRawBody) {
  EXPECT_EQ(ErrorMessageFromBody("plain text failure\n"), "plain text failure");
  // JSON without a usable message: the whole body.
  EXPECT_EQ(ErrorMessageFromBody(R"({"code":500})"), R"({"code":500})");
  EXPECT_EQ(ErrorMessageFromBody(R"({"message":42})"), R"({"message":42})");
  EXPECT_EQ(ErrorMessageFromBody(R"({"message":""})"), R"({"message":""})");
  EXPECT_EQ(ErrorMessageFromBody("{broken json"), "{broken json");
  EXPECT_EQ(ErrorMessageFromBody(""), "");
  EXPECT_EQ(ErrorMessageFromBody(" \r\n\t"), "");
}

TEST(ErrorMessageFromBodyTest, ControlCharactersBecomeSpaces) {
  EXPECT_EQ(ErrorMessageFromBody(std::string("a\r\nb\0c\x7f", 7)), "a  b c");
}

TEST(ErrorMessageFromBodyTest, HugeBodiesAreCut) {
  const std::string huge(10 << 20, 'x');
  const std::string message = ErrorMessageFromBody(huge);
  EXPECT_LE(message.size(), kMaxErrorMessageBytes + 3);
  EXPECT_EQ(message.substr(message.size() - 3), "...");

  const std::string long_message =
      R"({"message":")" + std::string(5000, 'm') + R"("})";
  EXPECT_LE(ErrorMessageFromBody(long_message).size(),
            kMaxErrorMessageBytes + 3);
}

TEST(ErrorMessageFromBodyTest, CutNeverSplitsUtf8) {
  // Two-byte characters straddling the limit.
  std::string text;
  while (text.size() < kMaxErrorMessageBytes + 10) text += "\xC3\xA9";
  text = "x" + text;  // odd offset: the limit falls inside a character
  const std::string message = ErrorMessageFromBody(text);
  const std::string kept = message.substr(0, message.size() - 3);
  ASSERT_FALSE(kept.empty());
  EXPECT_NE(static_cast<unsigned char>(kept.back()), 0xC3);
  EXPECT_EQ((kept.size() - 1) % 2, 0u);
}

TEST(RedactSecretsTest, ReplacesEveryOccurrence) {
  EXPECT_EQ(RedactSecrets("key e2b_x and e2b_x again", {"e2b_x"}),
            "key [REDACTED] and [REDACTED] again");
  EXPECT_EQ(RedactSecrets("token tok", {"", "tok"}), "[REDACTED]en [REDACTED]");
  EXPECT_EQ(RedactSecrets("nothing", {}), "nothing");
  // A secret that contains the replacement does not loop.
  EXPECT_EQ(RedactSecrets("[REDACTED]", {"[REDACTED]"}), "[REDACTED]");
}

TEST(ThrowHttpErrorTest, NotFoundFollowsTheSubject) {
  const std::string body = R"({"code":404,"message":"gone"})";
  try {
    ThrowHttpError(404, body, {NotFoundKind::kSandbox, "isb"}, {});
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "isb");
    EXPECT_EQ(e.StatusCode(), 404);
    EXPECT_EQ(e.Message(), "gone");
    EXPECT_NE(std::string(e.what()).find("sandbox not found: isb"),
              std::string::npos);
  }
  try {
    ThrowHttpError(404, body, {NotFoundKind::kTemplate, "t/x"}, {});
  } catch (const e2b::TemplateNotFoundError& e) {
    EXPECT_EQ(e.TemplateID(), "t/x");
    EXPECT_EQ(e.Message(), "gone");
  }
  try {
    ThrowHttpError(404, body, {NotFoundKind::kFile, "/a/b"}, {});
  } catch (const e2b::FileNotFoundError& e) {
    EXPECT_EQ(e.Path(), "/a/b");
  }
  try {
    ThrowHttpError(404, "", NotFoundSubject{}, {});
  } catch (const e2b::SandboxNotFoundError&) {
    FAIL() << "untyped 404 became typed";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 404);
    EXPECT_EQ(e.Message(), "Not Found");
    EXPECT_STREQ(e.what(), "e2b: status 404: Not Found");
  }
  // A typed 404 with an empty body keeps the error's own message.
  try {
    ThrowHttpError(404, "", {NotFoundKind::kSandbox, "isb"}, {});
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.Message(), "sandbox not found: isb");
  }
}

TEST(ThrowHttpErrorTest, OtherStatusesArePlainErrors) {
  for (int status : {402, 409, 410, 500, 502, 503, 504}) {
    try {
      ThrowHttpError(status, R"({"code":1,"message":"why"})",
                     {NotFoundKind::kSandbox, "isb"}, {});
    } catch (const e2b::Error& e) {
      EXPECT_EQ(typeid(e), typeid(e2b::Error)) << status;
      EXPECT_EQ(e.StatusCode(), status);
      EXPECT_EQ(e.Message(), "why");
      EXPECT_EQ(std::string(e.what()),
                "e2b: status " + std::to_string(status) + ": why");
      EXPECT_EQ(e.RequestID(), "");
    }
  }
}

// Go HEAD's apiErrorFromCode and process RPC mapping: 400, 401/403 and 429
// have their own types, with the status and the server's message kept.
TEST(ThrowHttpErrorTest, StatusesAreTypedAsInTheGoSdk) {
  const auto body = R"({"code":1,"message":"why"})";
  try {
    ThrowHttpError(400, body, {NotFoundKind::kSandbox, "isb"}, {});
  } catch (const e2b::InvalidArgumentError& e) {
    EXPECT_EQ(e.StatusCode(), 400);
    EXPECT_EQ(e.Message(), "why");
    EXPECT_STREQ(e.what(), "e2b: invalid argument: 400: why");
  }
  for (int status : {401, 403}) {
    try {
      ThrowHttpError(status, body, {}, {});
    } catch (const e2b::AuthenticationError& e) {
      EXPECT_EQ(e.StatusCode(), status);
      EXPECT_EQ(e.Message(), "why");
      EXPECT_EQ(std::string(e.what()), "e2b: authentication failed: " +
                                           std::to_string(status) + ": why");
    }
  }
  try {
    ThrowHttpError(429, "", {}, {});
  } catch (const e2b::RateLimitError& e) {
    EXPECT_EQ(e.StatusCode(), 429);
    EXPECT_EQ(e.Message(), "Too Many Requests");
    EXPECT_STREQ(e.what(), "e2b: rate limit exceeded: 429: Too Many Requests");
    EXPECT_FALSE(e.RetryAfter().has_value());
  }
}

TEST(ThrowHttpErrorTest, RateLimitKeepsRetryAfter) {
  const e2b::internal::HttpHeaders seconds = {{"retry-after", "7"}};
  try {
    ThrowHttpError(429, "{}", {}, {}, &seconds);
  } catch (const e2b::RateLimitError& e) {
    ASSERT_TRUE(e.RetryAfter().has_value());
    EXPECT_EQ(*e.RetryAfter(), std::chrono::seconds(7));
  }
  const e2b::internal::HttpHeaders garbage = {{"Retry-After", "soon"}};
  try {
    ThrowHttpError(429, "{}", {}, {}, &garbage);
  } catch (const e2b::RateLimitError& e) {
    EXPECT_FALSE(e.RetryAfter().has_value());
  }
}

TEST(ThrowHttpErrorTest, RequestIdIsKeptCleanedAndRedacted) {
  const std::string key = "e2b_abcdef0123456789";
  for (int status : {400, 401, 404, 429, 500}) {
    SCOPED_TRACE(status);
    const e2b::internal::HttpHeaders headers = {
        {"X-Request-ID", "req-42\r\nx:" + key}};
    try {
      ThrowHttpError(status, "{}", {NotFoundKind::kFile, "/f"}, {key},
                     &headers);
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.RequestID(), "req-42  x:[REDACTED]");
    }
  }
  const e2b::internal::HttpHeaders control = {{"x-request-id", "a\tb\x01"}};
  try {
    ThrowHttpError(500, "{}", {}, {}, &control);
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.RequestID(), "a b");
  }
  const e2b::internal::HttpHeaders huge = {
      {"X-Request-Id", std::string(5000, 'r')}};
  try {
    ThrowHttpError(500, "{}", {}, {}, &huge);
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.RequestID(), std::string(128, 'r'));
  }
}

TEST(ThrowHttpErrorTest, SecretsNeverReachTheMessage) {
  const std::string key = "e2b_abcdef0123456789";
  const std::string token = "envd_tok_987";
  for (int status : {401, 404, 500}) {
    try {
      ThrowHttpError(status,
                     R"({"message":"bad key )" + key + " or " + token + "\"}",
                     {NotFoundKind::kSandbox, "isb"}, {key, token});
    } catch (const e2b::Error& e) {
      EXPECT_EQ(std::string(e.what()).find(key), std::string::npos);
      EXPECT_EQ(std::string(e.what()).find(token), std::string::npos);
      EXPECT_EQ(e.Message().find(key), std::string::npos);
      EXPECT_NE(e.Message().find("[REDACTED]"), std::string::npos);
    }
  }
  // In a non-JSON body too.
  try {
    ThrowHttpError(400, "echo: " + key, {}, {key});
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.Message(), "echo: [REDACTED]");
  }
}

TEST(HttpStatusTextTest, KnownAndUnknown) {
  EXPECT_EQ(HttpStatusText(429), "Too Many Requests");
  EXPECT_EQ(HttpStatusText(503), "Service Unavailable");
  EXPECT_EQ(HttpStatusText(599), "HTTP 599");
}

}  // namespace
