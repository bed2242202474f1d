#ifndef E2B_TESTS_UNIT_API_TEST_FIXTURE_HPP_
#define E2B_TESTS_UNIT_API_TEST_FIXTURE_HPP_

// Shared by the control-plane tests: a TestServer that answers every
// request with the next canned response, a Client pointed at it, and
// checks of the headers every API call must carry.

#include "support/test_server.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace e2b_test {

// Looks like a real key so that a leak would be obvious in any message.
// Sanitizers keep freed memory in quarantine, so peak-RSS bounds only hold
// in plain builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

inline constexpr const char* kTestApiKey =
    "e2b_0123456789abcdef0123456789abcdef01234567";

struct CannedResponse {
  int status = 200;
  std::string body;
  httplib::Headers headers;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto handler = [this](const httplib::Request&, httplib::Response& res) {
      CannedResponse next;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (queue_.empty()) {
          next = {599, R"({"code":599,"message":"no canned response"})", {}};
        } else {
          next = std::move(queue_.front());
          queue_.pop_front();
        }
      }
      res.status = next.status;
      for (const auto& [name, value] : next.headers) {
        res.set_header(name, value);
      }
      if (!next.body.empty()) res.set_content(next.body, "application/json");
    };
    auto& s = server_.server();
    s.Get(".*", handler);
    s.Post(".*", handler);
    s.Put(".*", handler);
    s.Patch(".*", handler);
    s.Delete(".*", handler);
    server_.Start();
  }

  /// Queues the answer to the next request.
  void Respond(int status, std::string body = {},
               httplib::Headers headers = {}) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back({status, std::move(body), std::move(headers)});
  }

  /// The API's error body for `status`, with the API key in the message to
  /// prove it is redacted.
  static std::string ErrorBody(int status, const std::string& message) {
    return nlohmann::json{{"code", status},
                          {"message", message + " " + kTestApiKey}}
        .dump();
  }

  e2b::Client MakeClient() const {
    e2b::ClientConfig cfg;
    cfg.APIKey = kTestApiKey;
    cfg.APIBaseURL = server_.url();
    cfg.SandboxURL = server_.url();
    cfg.RequestTimeout = std::chrono::seconds(20);
    // One canned answer per call: a retried 429/5xx would eat the next
    // test's answer. Retries are tested in retry_test.cpp.
    cfg.Retry.MaxAttempts = 1;
    return e2b::NewClient(cfg);
  }

  /// A sandbox created through a canned 201; the create request is
  /// forgotten.
  e2b::Sandbox MakeSandbox(const e2b::Client& client,
                           const std::string& id = "isandbox123") {
    Respond(201, nlohmann::json{{"sandboxID", id},
                                {"templateID", "base"},
                                {"envdVersion", "0.6.4"},
                                {"envdAccessToken", "tok_secret_abc"}}
                     .dump());
    e2b::Sandbox sandbox = client.NewSandbox();
    server_.clear_requests();
    return sandbox;
  }

  /// The one request the server received.
  RecordedRequest OnlyRequest() const {
    auto requests = server_.requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? RecordedRequest{} : requests.back();
  }

  static std::string Header(const RecordedRequest& r, const char* name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string() : it->second;
  }

  /// X-API-Key, User-Agent and Accept on every call; Content-Type exactly
  /// when there is a JSON body.
  static void ExpectApiHeaders(const RecordedRequest& r, bool json_body) {
    EXPECT_EQ(Header(r, "X-API-Key"), kTestApiKey);
    EXPECT_EQ(Header(r, "User-Agent").rfind("e2b-cpp/", 0), 0u)
        << Header(r, "User-Agent");
    EXPECT_EQ(Header(r, "Accept"), "application/json");
    if (json_body) {
      EXPECT_EQ(Header(r, "Content-Type"), "application/json");
    } else {
      EXPECT_EQ(r.headers.count("Content-Type"), 0u);
    }
  }

  static nlohmann::json BodyJson(const RecordedRequest& r) {
    return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  }

  TestServer server_;

 private:
  std::mutex mutex_;
  std::deque<CannedResponse> queue_;
};

/// The checks every mapped error must pass: status, the server's message,
/// and no API key anywhere.
/// True when `e` has the type the Go SDK gives an API answer of `status`.
inline bool HasTypeOfStatus(const e2b::Error& e, int status) {
  const bool invalid =
      dynamic_cast<const e2b::InvalidArgumentError*>(&e) != nullptr;
  const bool auth =
      dynamic_cast<const e2b::AuthenticationError*>(&e) != nullptr;
  const bool rate = dynamic_cast<const e2b::RateLimitError*>(&e) != nullptr;
  return invalid == (status == 400) &&
         auth == (status == 401 || status == 403) && rate == (status == 429);
}

inline void ExpectCleanError(const e2b::Error& e, int status,
                             const std::string& message_part) {
  EXPECT_EQ(e.StatusCode(), status);
  EXPECT_TRUE(HasTypeOfStatus(e, status)) << status << ": " << e.what();
  EXPECT_NE(e.Message().find(message_part), std::string::npos) << e.Message();
  EXPECT_EQ(std::string(e.what()).find(kTestApiKey), std::string::npos)
      << e.what();
  EXPECT_EQ(e.Message().find(kTestApiKey), std::string::npos) << e.Message();
}

}  // namespace e2b_test

#endif  // E2B_TESTS_UNIT_API_TEST_FIXTURE_HPP_
