// NewClient's configuration resolution (explicit config, then the
// environment, then defaults; PROTOCOL.md section 1.1), the envd URL and
// headers, and the request timeout.

#include "internal/client_state.hpp"
#include "internal/control_plane.hpp"
#include "unit/api_test_fixture.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using e2b::internal::ResolveClientState;
using e2b_test::kTestApiKey;

// Clears the E2B variables for one test and restores them afterwards.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : kNames) {
      const char* value = std::getenv(name);
      if (value != nullptr) saved_[name] = value;
      unsetenv(name);
    }
  }
  ~EnvGuard() {
    for (const char* name : kNames) {
      auto it = saved_.find(name);
      if (it == saved_.end()) {
        unsetenv(name);
      } else {
        setenv(name, it->second.c_str(), 1);
      }
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

  void Set(const char* name, const std::string& value) {
    setenv(name, value.c_str(), 1);
  }

 private:
  static constexpr const char* kNames[] = {"E2B_API_KEY", "E2B_API_URL",
                                           "E2B_DOMAIN", "E2B_SANDBOX_URL",
                                           "E2B_DEBUG"};
  std::map<std::string, std::string> saved_;
};

e2b::ClientConfig WithKey() {
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  return cfg;
}

TEST(ClientConfigTest, MissingApiKeyIsAnError) {
  EnvGuard env;
  try {
    e2b::NewClient();
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_EQ(e.Message(),
              "no API key: set ClientConfig.APIKey or E2B_API_KEY");
  }
}

TEST(ClientConfigTest, DefaultsWithOnlyAKey) {
  EnvGuard env;
  env.Set("E2B_API_KEY", "e2b_fromenv");
  auto state = ResolveClientState({});
  EXPECT_EQ(state->api_key, "e2b_fromenv");
  EXPECT_EQ(state->api_base_url, "https://api.e2b.app");
  EXPECT_EQ(state->api_base_url, e2b::DefaultAPIBaseURL);
  EXPECT_EQ(state->sandbox_domain, "e2b.app");
  EXPECT_EQ(state->sandbox_url, "");
  EXPECT_FALSE(state->plain_http);
  EXPECT_FALSE(state->debug);
  EXPECT_EQ(state->request_timeout, std::chrono::milliseconds(60000));
  EXPECT_NE(state->transport, nullptr);
}

TEST(ClientConfigTest, ExplicitConfigWinsOverEnvironment) {
  EnvGuard env;
  env.Set("E2B_API_KEY", "e2b_fromenv");
  env.Set("E2B_API_URL", "https://env.example.test");
  env.Set("E2B_DOMAIN", "env.example.test");
  env.Set("E2B_SANDBOX_URL", "http://envd.example.test:1234");
  e2b::ClientConfig cfg;
  cfg.APIKey = "e2b_explicit";
  cfg.APIBaseURL = "http://127.0.0.1:3000/";
  cfg.SandboxDomain = "mine.example.test";
  cfg.SandboxURL = "http://127.0.0.1:49983//";
  cfg.RequestTimeout = std::chrono::milliseconds(1234);
  auto state = ResolveClientState(cfg);
  EXPECT_EQ(state->api_key, "e2b_explicit");
  EXPECT_EQ(state->api_base_url, "http://127.0.0.1:3000");
  EXPECT_EQ(state->sandbox_domain, "mine.example.test");
  EXPECT_EQ(state->sandbox_url, "http://127.0.0.1:49983");
  EXPECT_TRUE(state->plain_http);
  EXPECT_EQ(state->request_timeout, std::chrono::milliseconds(1234));
}

TEST(ClientConfigTest, ApiUrlAndDomainFromEnvironment) {
  EnvGuard env;
  env.Set("E2B_DOMAIN", "example.test");
  auto state = ResolveClientState(WithKey());
  EXPECT_EQ(state->api_base_url, "https://api.example.test");
  EXPECT_EQ(state->sandbox_domain, "example.test");

  env.Set("E2B_API_URL", "HTTP://localhost:8080");
  state = ResolveClientState(WithKey());
  EXPECT_EQ(state->api_base_url, "HTTP://localhost:8080");
  EXPECT_TRUE(state->plain_http);
  EXPECT_EQ(state->sandbox_domain, "example.test");
}

TEST(ClientConfigTest, SandboxUrlWithSchemeIsAFullEnvdUrl) {
  EnvGuard env;
  env.Set("E2B_SANDBOX_URL", "http://127.0.0.1:49983/");
  env.Set("E2B_DOMAIN", "example.test");
  auto state = ResolveClientState(WithKey());
  EXPECT_EQ(state->sandbox_url, "http://127.0.0.1:49983");
  EXPECT_EQ(state->sandbox_domain, "example.test");
}

TEST(ClientConfigTest, SandboxUrlWithoutSchemeIsTheDomain) {
  EnvGuard env;
  env.Set("E2B_SANDBOX_URL", "sandbox.example.test");
  env.Set("E2B_DOMAIN", "other.example.test");
  auto state = ResolveClientState(WithKey());
  EXPECT_EQ(state->sandbox_url, "");
  EXPECT_EQ(state->sandbox_domain, "sandbox.example.test");
  // The API host still comes from E2B_DOMAIN.
  EXPECT_EQ(state->api_base_url, "https://api.other.example.test");
}

TEST(ClientConfigTest, DebugModeUsesLocalhost) {
  EnvGuard env;
  env.Set("E2B_DEBUG", "TrUe");
  auto state = ResolveClientState(WithKey());
  EXPECT_TRUE(state->debug);
  EXPECT_EQ(state->api_base_url, "http://localhost:3000");
  EXPECT_EQ(state->sandbox_url, "http://localhost:49983");
  EXPECT_TRUE(state->plain_http);

  // Explicit settings still win in debug mode.
  env.Set("E2B_API_URL", "http://127.0.0.1:1");
  env.Set("E2B_SANDBOX_URL", "http://127.0.0.1:2");
  state = ResolveClientState(WithKey());
  EXPECT_EQ(state->api_base_url, "http://127.0.0.1:1");
  EXPECT_EQ(state->sandbox_url, "http://127.0.0.1:2");

  env.Set("E2B_DEBUG", "1");
  env.Set("E2B_API_URL", "");
  env.Set("E2B_SANDBOX_URL", "");
  state = ResolveClientState(WithKey());
  EXPECT_FALSE(state->debug);
  EXPECT_EQ(state->api_base_url, "https://api.e2b.app");
}

TEST(ClientConfigTest, RejectsBadSettings) {
  EnvGuard env;
  auto expect_error = [](e2b::ClientConfig cfg) {
    try {
      ResolveClientState(cfg);
      ADD_FAILURE() << "accepted";
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 0);
      EXPECT_EQ(std::string(e.what()).find(kTestApiKey), std::string::npos);
    }
  };
  auto cfg = WithKey();
  cfg.APIBaseURL = "ftp://example.test";
  expect_error(cfg);
  cfg.APIBaseURL = "not a url";
  expect_error(cfg);
  cfg = WithKey();
  cfg.SandboxURL = "http://";
  expect_error(cfg);
  cfg = WithKey();
  cfg.SandboxDomain = "example.test/evil";
  expect_error(cfg);
  cfg = WithKey();
  cfg.RequestTimeout = std::chrono::milliseconds(-1);
  expect_error(cfg);
  cfg = WithKey();
  cfg.APIKey = std::string(kTestApiKey) + "\r\nX-Evil: 1";
  expect_error(cfg);

  env.Set("E2B_API_URL", "://broken");
  expect_error(WithKey());
}

TEST(ClientConfigTest, RetryPolicyDefaultsAndValidation) {
  EnvGuard env;
  auto state = ResolveClientState(WithKey());
  EXPECT_EQ(state->retry.MaxAttempts, 3);
  EXPECT_EQ(state->retry.InitialBackoff, std::chrono::milliseconds(200));
  EXPECT_EQ(state->retry.MaxBackoff, std::chrono::milliseconds(5000));
  EXPECT_EQ(state->retry.BackoffMultiplier, 2.0);
  EXPECT_EQ(state->retry.Jitter, 0.2);
  EXPECT_NE(state->envd_read_transport, nullptr);

  auto expect_error = [](const e2b::RetryPolicy& policy, const char* field) {
    auto cfg = WithKey();
    cfg.Retry = policy;
    try {
      ResolveClientState(cfg);
      ADD_FAILURE() << "accepted a bad " << field;
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 0);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos)
          << e.what();
    }
  };
  e2b::RetryPolicy policy;
  policy.MaxAttempts = 0;
  expect_error(policy, "MaxAttempts");
  policy = {};
  policy.InitialBackoff = std::chrono::milliseconds(-1);
  expect_error(policy, "InitialBackoff");
  policy = {};
  policy.MaxBackoff = std::chrono::milliseconds(100);
  expect_error(policy, "MaxBackoff");
  policy = {};
  policy.BackoffMultiplier = 0.5;
  expect_error(policy, "BackoffMultiplier");
  policy.BackoffMultiplier = std::numeric_limits<double>::infinity();
  expect_error(policy, "BackoffMultiplier");
  policy = {};
  policy.Jitter = 1.5;
  expect_error(policy, "Jitter");
  policy.Jitter = std::numeric_limits<double>::quiet_NaN();
  expect_error(policy, "Jitter");

  // One attempt (no retries) and no waits at all are fine.
  auto cfg = WithKey();
  cfg.Retry.MaxAttempts = 1;
  cfg.Retry.InitialBackoff = std::chrono::milliseconds(0);
  cfg.Retry.MaxBackoff = std::chrono::milliseconds(0);
  cfg.Retry.Jitter = 1;
  EXPECT_EQ(ResolveClientState(cfg)->retry.MaxAttempts, 1);
}

TEST(ClientConfigTest, SharedHttpClientSharesTheTransport) {
  EnvGuard env;
  auto http = std::make_shared<e2b::HTTPClient>();
  auto cfg = WithKey();
  cfg.HTTPClient = http;
  auto a = ResolveClientState(cfg);
  auto b = ResolveClientState(cfg);
  EXPECT_EQ(a->transport, b->transport);
  auto own = ResolveClientState(WithKey());
  EXPECT_NE(own->transport, a->transport);
}

TEST(ClientConfigTest, EnvdBaseUrl) {
  e2b::internal::ClientState state;
  state.sandbox_domain = "e2b.app";
  EXPECT_EQ(e2b::internal::EnvdBaseUrl(state, "iabc", "e2b.app"),
            "https://49983-iabc.e2b.app");
  EXPECT_EQ(e2b::internal::EnvdBaseUrl(state, "iabc", "eu.example.test"),
            "https://49983-iabc.eu.example.test");
  state.plain_http = true;
  EXPECT_EQ(e2b::internal::EnvdBaseUrl(state, "iabc", "localhost:8080"),
            "http://49983-iabc.localhost:8080");
  state.sandbox_url = "http://127.0.0.1:49983";
  EXPECT_EQ(e2b::internal::EnvdBaseUrl(state, "iabc", "e2b.app"),
            "http://127.0.0.1:49983");
}

TEST(ClientConfigTest, EnvdHeaders) {
  e2b::internal::SandboxState sandbox;
  sandbox.id = "iabc";
  sandbox.access_token = "tok_1";
  auto headers = sandbox.EnvdHeaders();
  EXPECT_EQ(e2b::internal::FindHeader(headers, "X-Access-Token"),
            std::optional<std::string>("tok_1"));
  EXPECT_EQ(e2b::internal::FindHeader(headers, "E2b-Sandbox-Id"),
            std::optional<std::string>("iabc"));
  EXPECT_EQ(e2b::internal::FindHeader(headers, "E2b-Sandbox-Port"),
            std::optional<std::string>("49983"));
  EXPECT_EQ(e2b::internal::FindHeader(headers, "User-Agent"),
            std::optional<std::string>(e2b::internal::UserAgent()));

  sandbox.access_token.clear();
  headers = sandbox.EnvdHeaders();
  EXPECT_FALSE(e2b::internal::FindHeader(headers, "X-Access-Token"));
  EXPECT_TRUE(e2b::internal::FindHeader(headers, "E2b-Sandbox-Id"));
}

class ClientEnvTest : public e2b_test::ApiTest {};

TEST_F(ClientEnvTest, KeyAndUrlFromTheEnvironmentReachTheServer) {
  EnvGuard env;
  env.Set("E2B_API_KEY", kTestApiKey);
  env.Set("E2B_API_URL", server_.url() + "/");
  auto client = e2b::NewClient();
  Respond(200, "[]");
  EXPECT_TRUE(client.ListSandboxes().empty());
  auto r = OnlyRequest();
  EXPECT_EQ(r.raw_path, "/sandboxes");
  ExpectApiHeaders(r, false);
}

TEST_F(ClientEnvTest, ClientCopiesShareConnections) {
  auto client = MakeClient();
  e2b::Client copy = client;
  for (int i = 0; i < 3; ++i) {
    Respond(200, "[]");
    client.ListTemplates();
    Respond(200, "[]");
    copy.ListTemplates();
  }
  EXPECT_EQ(server_.requests().size(), 6u);
  EXPECT_EQ(server_.connections(), 1u);
}

TEST_F(ClientEnvTest, OneClientServesManyThreads) {
  auto client = MakeClient();
  constexpr int kThreads = 8;
  constexpr int kCalls = 10;
  for (int i = 0; i < kThreads * kCalls; ++i) Respond(200, "[]");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&client, &ok] {
      for (int i = 0; i < kCalls; ++i) {
        try {
          if (client.ListTemplates().empty()) ++ok;
        } catch (const std::exception&) {
          // Counted as a failure below.
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kCalls);
  EXPECT_EQ(server_.requests().size(),
            static_cast<std::size_t>(kThreads * kCalls));
}

TEST(ClientTimeoutTest, RequestTimeoutAndContextDeadlineBoundEveryCall) {
  e2b_test::TestServer server;
  server.server().Get(
      "/templates", [](const httplib::Request&, httplib::Response& res) {
        // Far longer than the limits below, so the outcome never depends on
        // the machine's speed.
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        res.set_content("[]", "application/json");
      });
  server.Start();
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = server.url();
  cfg.RequestTimeout = std::chrono::milliseconds(100);
  auto client = e2b::NewClient(cfg);
  try {
    client.ListTemplates();
    ADD_FAILURE() << "no timeout";
  } catch (const e2b::TimeoutError& e) {
    EXPECT_EQ(std::string(e.what()).find(kTestApiKey), std::string::npos);
  }

  cfg.RequestTimeout = std::chrono::milliseconds(0);
  auto unlimited = e2b::NewClient(cfg);
  EXPECT_THROW(unlimited.ListTemplates(
                   e2b::Context::WithTimeout(std::chrono::milliseconds(100))),
               e2b::TimeoutError);
}

}  // namespace
