// Client::NewSandbox/ListSandboxes and every Sandbox lifecycle call against
// a real HTTP server: method, path, query, headers, body, and the mapping of
// each documented status.

#include "internal/control_plane.hpp"
#include "unit/api_test_fixture.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace {

using e2b_test::ApiTest;
using e2b_test::ExpectCleanError;
using e2b_test::kTestApiKey;
using nlohmann::json;

class SandboxLifecycleTest : public ApiTest {};

TEST_F(SandboxLifecycleTest, NewSandboxSendsDefaultsAndParsesTheAnswer) {
  auto client = MakeClient();
  Respond(201, json{{"sandboxID", "iabc123"},
                    {"templateID", "base"},
                    {"envdVersion", "0.6.4"},
                    {"envdAccessToken", "tok_123"},
                    {"domain", nullptr},
                    {"unknownField", {1, 2, 3}}}
                   .dump());
  e2b::Sandbox sandbox = client.NewSandbox();
  EXPECT_EQ(sandbox.ID, "iabc123");
  EXPECT_EQ(sandbox.EnvdVersion(), "0.6.4");
  EXPECT_EQ(sandbox.EnvdAccessToken(), "tok_123");

  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/sandboxes");
  EXPECT_EQ(r.raw_query, "");
  ExpectApiHeaders(r, /*json_body=*/true);
  EXPECT_EQ(BodyJson(r), (json{{"templateID", "base"},
                               {"timeout", 300},
                               {"envVars", json::object()},
                               {"secure", true}}));
}

TEST_F(SandboxLifecycleTest, NewSandboxSendsTemplateTimeoutAndEnvVars) {
  auto client = MakeClient();
  Respond(201, R"({"sandboxID":"i1","envdVersion":"0.6.4"})");
  e2b::SandboxConfig cfg;
  cfg.Template = "team/my-template:v1";
  cfg.Timeout = 42;
  cfg.EnvVars = {{"A", "1"}, {"B", "two words"}};
  e2b::Sandbox sandbox = client.NewSandbox(cfg);
  EXPECT_EQ(sandbox.EnvdAccessToken(), "");
  EXPECT_EQ(BodyJson(OnlyRequest()),
            (json{{"templateID", "team/my-template:v1"},
                  {"timeout", 42},
                  {"envVars", {{"A", "1"}, {"B", "two words"}}},
                  {"secure", true}}));
}

TEST_F(SandboxLifecycleTest, NewSandboxEmptyTemplateAndZeroTimeoutUseDefaults) {
  auto client = MakeClient();
  Respond(201, R"({"sandboxID":"i1"})");
  e2b::SandboxConfig cfg;
  cfg.Template = "";
  cfg.Timeout = 0;
  client.NewSandbox(cfg);
  auto body = BodyJson(OnlyRequest());
  EXPECT_EQ(body["templateID"], "base");
  EXPECT_EQ(body["timeout"], 300);
}

TEST_F(SandboxLifecycleTest, NewSandboxNegativeTimeoutFailsWithoutARequest) {
  auto client = MakeClient();
  e2b::SandboxConfig cfg;
  cfg.Timeout = -1;
  EXPECT_THROW(client.NewSandbox(cfg), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(SandboxLifecycleTest, NewSandbox404IsTemplateNotFound) {
  auto client = MakeClient();
  Respond(404, ErrorBody(404, "template 'nope' not found"));
  e2b::SandboxConfig cfg;
  cfg.Template = "nope";
  try {
    client.NewSandbox(cfg);
    FAIL() << "no exception";
  } catch (const e2b::TemplateNotFoundError& e) {
    EXPECT_EQ(e.TemplateID(), "nope");
    ExpectCleanError(e, 404, "template 'nope' not found");
  }
}

TEST_F(SandboxLifecycleTest, NewSandboxRejectsUnusableAnswers) {
  auto client = MakeClient();
  const std::vector<std::string> bodies = {
      "not json",
      "",
      R"([1,2])",
      R"({"envdVersion":"0.6.4"})",
      R"({"sandboxID":42})",
      R"({"sandboxID":"a/b"})",
      R"({"sandboxID":"i1","domain":"evil.com/path"})",
      R"({"sandboxID":"i1","envdAccessToken":["tok_secret"]})",
      R"({"sandboxID":"i1","envdAccessToken":"tok_secret)"};
  for (const auto& body : bodies) {
    Respond(201, body);
    try {
      client.NewSandbox();
      ADD_FAILURE() << "accepted: " << body;
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 0) << body;
      EXPECT_EQ(
          e.Message().rfind("malformed response from POST /sandboxes: ", 0), 0u)
          << e.Message();
      EXPECT_EQ(std::string(e.what()).find("tok_secret"), std::string::npos)
          << e.what();
    }
  }
}

TEST_F(SandboxLifecycleTest, SandboxUsesTheDomainTheApiReturned) {
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = "https://api.example.test";
  cfg.SandboxDomain = "example.test";
  auto client_state = e2b::internal::ResolveClientState(cfg);

  e2b::internal::CreatedSandbox created;
  created.SandboxID = "iabc";
  created.Domain = "eu.example.test";
  created.EnvdAccessToken = "tok";
  created.EnvdVersion = "0.6.4";
  auto state = e2b::internal::NewSandboxState(client_state, created, "op");
  EXPECT_EQ(state->domain, "eu.example.test");
  EXPECT_EQ(state->envd_url, "https://49983-iabc.eu.example.test");
  EXPECT_EQ(state->access_token, "tok");
  EXPECT_EQ(state->envd_version, "0.6.4");
  EXPECT_EQ(state->client, client_state);

  created.Domain.clear();
  state = e2b::internal::NewSandboxState(client_state, created, "op");
  EXPECT_EQ(state->domain, "example.test");
  EXPECT_EQ(state->envd_url, "https://49983-iabc.example.test");
}

TEST_F(SandboxLifecycleTest, ListSandboxesParsesEveryField) {
  auto client = MakeClient();
  Respond(200, R"([
    {"sandboxID":"i1","templateID":"base","alias":"py","clientID":"c1",
     "state":"running","cpuCount":2,"memoryMB":"512","diskSizeMB":1024,
     "startedAt":"2024-01-01T00:00:00Z","endAt":"2024-01-01T00:05:00Z",
     "envdVersion":"0.6.4","metadata":{"k":"v"},
     "volumeMounts":[{"name":"vol","path":"/mnt/vol"}]},
    {"sandboxID":"i2","alias":null}
  ])");
  auto list = client.ListSandboxes();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].ID, "i1");
  EXPECT_EQ(list[0].Template, "base");
  EXPECT_EQ(list[0].Alias, "py");
  EXPECT_EQ(list[0].ClientID, "c1");
  EXPECT_EQ(list[0].State, "running");
  EXPECT_EQ(list[0].CPUCount, 2);
  EXPECT_EQ(list[0].MemoryMB, 512);
  EXPECT_EQ(list[0].DiskSizeMB, 1024);
  EXPECT_EQ(list[0].StartedAt, "2024-01-01T00:00:00Z");
  EXPECT_EQ(list[0].EndAt, "2024-01-01T00:05:00Z");
  EXPECT_EQ(list[0].EnvdVersion, "0.6.4");
  ASSERT_EQ(list[0].VolumeMounts.size(), 1u);
  EXPECT_EQ(list[0].VolumeMounts[0].Path, "/mnt/vol");
  EXPECT_EQ(list[1].ID, "i2");
  EXPECT_EQ(list[1].Alias, "");

  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/sandboxes");
  ExpectApiHeaders(r, /*json_body=*/false);
}

TEST_F(SandboxLifecycleTest, ListSandboxesEmptyAndMalformed) {
  auto client = MakeClient();
  Respond(200, "[]");
  EXPECT_TRUE(client.ListSandboxes().empty());
  Respond(200, R"({"sandboxes":[]})");
  try {
    client.ListSandboxes();
    FAIL() << "accepted an object";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(e.Message().find("malformed response from GET /sandboxes"),
              std::string::npos);
  }
  Respond(200, R"([{"sandboxID":"i1","cpuCount":"many"}])");
  try {
    client.ListSandboxes();
    FAIL() << "accepted a bad cpuCount";
  } catch (const e2b::Error& e) {
    EXPECT_NE(e.Message().find("cpuCount"), std::string::npos) << e.Message();
  }
}

TEST_F(SandboxLifecycleTest, CloseSendsDeleteAndAccepts200And204) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iclose1");
  Respond(204);
  sandbox.Close();
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.raw_path, "/sandboxes/iclose1");
  ExpectApiHeaders(r, /*json_body=*/false);
  // The envd token never goes to the API.
  EXPECT_EQ(r.headers.count("X-Access-Token"), 0u);

  Respond(200, "{}");
  EXPECT_NO_THROW(sandbox.CloseWithContext(e2b::Context::Background()));
}

TEST_F(SandboxLifecycleTest, InfoParsesDetail) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iinfo");
  Respond(200, R"({"sandboxID":"iinfo","templateID":"tpl","clientID":"c",
    "state":"paused","cpuCount":4,"memoryMB":2048,"diskSizeMB":"4096",
    "startedAt":"s","endAt":"e","envdVersion":"0.6.4",
    "envdAccessToken":"tok","allowInternetAccess":null,
    "lifecycle":{"autoResume":true,"onTimeout":"pause"},
    "volumeMounts":null})");
  auto info = sandbox.Info();
  EXPECT_EQ(info.ID, "iinfo");
  EXPECT_EQ(info.Template, "tpl");
  EXPECT_EQ(info.State, "paused");
  EXPECT_EQ(info.CPUCount, 4);
  EXPECT_EQ(info.MemoryMB, 2048);
  EXPECT_EQ(info.DiskSizeMB, 4096);
  EXPECT_TRUE(info.Lifecycle.AutoResume);
  EXPECT_EQ(info.Lifecycle.OnTimeout, "pause");
  EXPECT_TRUE(info.VolumeMounts.empty());
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/sandboxes/iinfo");
  ExpectApiHeaders(r, false);
}

TEST_F(SandboxLifecycleTest, SetTimeoutPostsSeconds) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "itime");
  Respond(204);
  sandbox.SetTimeout(120);
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/sandboxes/itime/timeout");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(BodyJson(r), (json{{"timeout", 120}}));
  Respond(200);
  EXPECT_NO_THROW(sandbox.SetTimeout(1));
  EXPECT_THROW(sandbox.SetTimeout(-5), e2b::Error);
}

TEST_F(SandboxLifecycleTest, PauseTreats409AlreadyPausedAsSuccess) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "ipause");
  Respond(204);
  sandbox.Pause();
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/sandboxes/ipause/pause");
  ExpectApiHeaders(r, false);
  EXPECT_EQ(r.body, "");

  Respond(409, ErrorBody(409, "sandbox is already paused"));
  EXPECT_NO_THROW(sandbox.Pause());
  Respond(200);
  EXPECT_NO_THROW(sandbox.Pause());
}

TEST_F(SandboxLifecycleTest, ResumePostsTimeoutAndAcceptsEverySuccess) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iresume");
  Respond(201, R"({"sandboxID":"iresume"})");
  sandbox.Resume(60);
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/sandboxes/iresume/resume");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(BodyJson(r), (json{{"timeout", 60}}));
  Respond(200, "{}");
  EXPECT_NO_THROW(sandbox.Resume(1));
  Respond(204);
  EXPECT_NO_THROW(sandbox.ResumeWithContext(e2b::Context::Background(), 1));
  EXPECT_THROW(sandbox.Resume(-1), e2b::Error);
}

TEST_F(SandboxLifecycleTest, MetricsParsesSamples) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "imetrics");
  Respond(200, R"([{"timestamp":"2024-01-01T00:00:00Z",
    "timestampUnix":1704067200,"cpuCount":2,"cpuUsedPct":12.5,
    "memUsed":"1073741824","memTotal":4294967296,"memCache":1,
    "diskUsed":2,"diskTotal":9007199254740993}])");
  auto metrics = sandbox.Metrics();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].TimestampUnix, 1704067200);
  EXPECT_EQ(metrics[0].CPUCount, 2);
  EXPECT_DOUBLE_EQ(metrics[0].CPUUsedPct, 12.5);
  EXPECT_EQ(metrics[0].MemUsed, 1073741824);
  EXPECT_EQ(metrics[0].MemTotal, 4294967296);
  EXPECT_EQ(metrics[0].DiskTotal, 9007199254740993);
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/sandboxes/imetrics/metrics");
  ExpectApiHeaders(r, false);
}

TEST_F(SandboxLifecycleTest, LogsEncodesEveryQueryValue) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "ilogs");
  Respond(200, R"({"logs":[{"timestamp":"t","level":"info","message":"hi",
    "fields":{"k":"v","n":3}}]})");
  auto logs =
      sandbox.Logs(e2b::WithDirection("backward"), e2b::WithLevel("warn"),
                   e2b::WithLimit(10), e2b::WithSearch("a b&c=d/é"));
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].Message, "hi");
  EXPECT_EQ(logs[0].Level, "info");
  EXPECT_EQ(logs[0].Fields.at("k"), "v");
  EXPECT_EQ(logs[0].Fields.at("n"), "3");
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/v2/sandboxes/ilogs/logs");
  EXPECT_EQ(r.raw_query,
            "limit=10&direction=backward&level=warn&search=a%20b%26c%3Dd%2F%C3%"
            "A9");
  ExpectApiHeaders(r, false);

  Respond(200, R"({"logs":null})");
  EXPECT_TRUE(sandbox.LogsWithContext(e2b::Context::Background()).empty());
  EXPECT_EQ(server_.requests().back().raw_query, "");
  Respond(200, R"({"logs":{"oops":1}})");
  EXPECT_THROW(sandbox.Logs(), e2b::Error);
}

TEST_F(SandboxLifecycleTest, CopiesShareTheSandbox) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "ishared");
  e2b::Sandbox copy = sandbox;
  e2b::Sandbox moved = std::move(copy);
  EXPECT_EQ(moved.ID, "ishared");
  EXPECT_EQ(moved.EnvdAccessToken(), sandbox.EnvdAccessToken());
  Respond(204);
  moved.Close();
  EXPECT_EQ(OnlyRequest().raw_path, "/sandboxes/ishared");
}

TEST_F(SandboxLifecycleTest, SandboxOutlivesItsClient) {
  e2b::Sandbox sandbox;
  {
    auto client = MakeClient();
    sandbox = MakeSandbox(client, "iorphan");
  }
  Respond(204);
  EXPECT_NO_THROW(sandbox.Close());
}

TEST_F(SandboxLifecycleTest, DefaultConstructedSandboxFailsClearly) {
  e2b::Sandbox sandbox;
  EXPECT_EQ(sandbox.EnvdAccessToken(), "");
  EXPECT_EQ(sandbox.EnvdVersion(), "");
  EXPECT_THROW(sandbox.Close(), e2b::Error);
  EXPECT_THROW(sandbox.Info(), e2b::Error);
  EXPECT_THROW(sandbox.Metrics(), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(SandboxLifecycleTest, CloserClosesOnScopeExitAndSwallowsErrors) {
  auto client = MakeClient();
  {
    e2b::SandboxCloser closer(MakeSandbox(client, "icloser"));
    Respond(204);
  }
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.raw_path, "/sandboxes/icloser");

  server_.clear_requests();
  EXPECT_NO_THROW({
    e2b::SandboxCloser closer(MakeSandbox(client, "igone"));
    Respond(404, ErrorBody(404, "sandbox not found"));
  });
  EXPECT_EQ(server_.requests().size(), 1u);

  {
    e2b::SandboxCloser closer(MakeSandbox(client, "ikept"));
    closer.Release();
  }
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(SandboxLifecycleTest, CancelledContextSendsNothing) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "icancel");
  auto ctx = e2b::Context::WithCancel();
  ctx.Cancel();
  EXPECT_THROW(sandbox.InfoWithContext(ctx), e2b::Error);
  EXPECT_THROW(client.ListSandboxes(ctx), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
}

// ---- every error status of every call ---------------------------------------

enum class Expect { kError, kSandboxNotFound, kTemplateNotFound };

struct ErrorCase {
  const char* name;
  std::function<void(const e2b::Client&, const e2b::Sandbox&)> call;
  Expect on404;
};

class SandboxErrorTest : public ApiTest {};

TEST_F(SandboxErrorTest, EveryStatusMapsToItsError) {
  const std::vector<ErrorCase> cases = {
      {"NewSandbox",
       [](const e2b::Client& c, const e2b::Sandbox&) { c.NewSandbox(); },
       Expect::kTemplateNotFound},
      {"ListSandboxes",
       [](const e2b::Client& c, const e2b::Sandbox&) { c.ListSandboxes(); },
       Expect::kError},
      {"Close", [](const e2b::Client&, const e2b::Sandbox& s) { s.Close(); },
       Expect::kSandboxNotFound},
      {"Info", [](const e2b::Client&, const e2b::Sandbox& s) { s.Info(); },
       Expect::kSandboxNotFound},
      {"SetTimeout",
       [](const e2b::Client&, const e2b::Sandbox& s) { s.SetTimeout(10); },
       Expect::kSandboxNotFound},
      {"Pause", [](const e2b::Client&, const e2b::Sandbox& s) { s.Pause(); },
       Expect::kSandboxNotFound},
      {"Resume",
       [](const e2b::Client&, const e2b::Sandbox& s) { s.Resume(10); },
       Expect::kSandboxNotFound},
      {"Metrics",
       [](const e2b::Client&, const e2b::Sandbox& s) { s.Metrics(); },
       Expect::kSandboxNotFound},
      {"Logs", [](const e2b::Client&, const e2b::Sandbox& s) { s.Logs(); },
       Expect::kSandboxNotFound},
      {"CreateSnapshot",
       [](const e2b::Client&, const e2b::Sandbox& s) { s.CreateSnapshot(); },
       Expect::kSandboxNotFound},
  };
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "ierr");
  for (const auto& c : cases) {
    for (int status : {400, 401, 403, 404, 409, 429, 500, 503}) {
      // Pause's 409 ("already paused") is a success, tested above.
      if (status == 409 && std::string(c.name) == "Pause") continue;
      SCOPED_TRACE(std::string(c.name) + " " + std::to_string(status));
      Respond(status, ErrorBody(status, "failure-" + std::to_string(status)));
      try {
        c.call(client, sandbox);
        ADD_FAILURE() << "no exception";
      } catch (const e2b::SandboxNotFoundError& e) {
        EXPECT_EQ(status, 404);
        EXPECT_EQ(c.on404, Expect::kSandboxNotFound);
        EXPECT_EQ(e.SandboxID(), "ierr");
        ExpectCleanError(e, 404, "failure-404");
      } catch (const e2b::TemplateNotFoundError& e) {
        EXPECT_EQ(status, 404);
        EXPECT_EQ(c.on404, Expect::kTemplateNotFound);
        EXPECT_EQ(e.TemplateID(), "base");
        ExpectCleanError(e, 404, "failure-404");
      } catch (const e2b::Error& e) {
        EXPECT_TRUE(status != 404 || c.on404 == Expect::kError);
        ExpectCleanError(e, status, "failure-" + std::to_string(status));
        EXPECT_EQ(e.Message(),
                  "failure-" + std::to_string(status) + " [REDACTED]");
      }
    }
    // A body that is not JSON: its text is the message.
    Respond(502, "<html>Bad Gateway</html>");
    try {
      c.call(client, sandbox);
      ADD_FAILURE() << c.name << ": no exception";
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 502) << c.name;
      EXPECT_EQ(e.Message(), "<html>Bad Gateway</html>") << c.name;
    }
    // No body at all: the reason phrase.
    Respond(500);
    try {
      c.call(client, sandbox);
      ADD_FAILURE() << c.name << ": no exception";
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 500) << c.name;
      EXPECT_EQ(e.Message(), "Internal Server Error") << c.name;
    }
  }
}

// A 429 that outlasted the retry policy: RateLimitError with the wait the
// server asked for, and the request id of that answer (any status).
TEST_F(SandboxErrorTest, ErrorsCarryRetryAfterAndRequestId) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "irate");
  Respond(429, ErrorBody(429, "slow down"),
          {{"Retry-After", "12"}, {"X-Request-Id", "req-429"}});
  try {
    sandbox.SetTimeout(30);
    ADD_FAILURE() << "no exception";
  } catch (const e2b::RateLimitError& e) {
    ExpectCleanError(e, 429, "slow down");
    ASSERT_TRUE(e.RetryAfter().has_value());
    EXPECT_EQ(*e.RetryAfter(), std::chrono::seconds(12));
    EXPECT_EQ(e.RequestID(), "req-429");
  }
  Respond(401, ErrorBody(401, "bad key"),
          {{"X-Request-Id", std::string("req-") + kTestApiKey}});
  try {
    client.ListSandboxes();
    ADD_FAILURE() << "no exception";
  } catch (const e2b::AuthenticationError& e) {
    ExpectCleanError(e, 401, "bad key");
    EXPECT_EQ(e.RequestID(), "req-[REDACTED]");
  }
  Respond(404, ErrorBody(404, "gone"), {{"X-Request-Id", "req-404"}});
  try {
    sandbox.Info();
    ADD_FAILURE() << "no exception";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.RequestID(), "req-404");
  }
  Respond(500, ErrorBody(500, "oops"));
  try {
    sandbox.Info();
    ADD_FAILURE() << "no exception";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.RequestID(), "");
  }
}

}  // namespace
