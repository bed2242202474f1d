// The lifecycle calls beyond the seed (Connect, ListSandboxesV2 and its
// paginator, KillSandbox, Fork, Refresh, UpdateNetwork, IsRunning, GetHost,
// DeleteSnapshot, batch metrics, the newer SandboxConfig fields) against a
// real HTTP server: exact method, path, escaped query and body, and every
// documented status mapping.

#include "internal/control_plane.hpp"
#include "internal/json_mapping.hpp"
#include "unit/api_test_fixture.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using e2b_test::ApiTest;
using e2b_test::ExpectCleanError;
using e2b_test::kTestApiKey;
using nlohmann::json;

class LifecycleV2Test : public ApiTest {};

std::string SandboxAnswer(const std::string& id,
                          const std::string& token = "tok_conn") {
  return json{{"sandboxID", id},
              {"templateID", "base"},
              {"envdVersion", "0.6.4"},
              {"envdAccessToken", token}}
      .dump();
}

// ---- Connect ----------------------------------------------------------------

TEST_F(LifecycleV2Test, ConnectToRunningSandbox) {
  auto client = MakeClient();
  Respond(200, SandboxAnswer("irun"));
  auto sandbox = client.Connect("irun", 120);
  EXPECT_EQ(sandbox.ID, "irun");
  EXPECT_EQ(sandbox.EnvdAccessToken(), "tok_conn");
  EXPECT_EQ(sandbox.EnvdVersion(), "0.6.4");
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/v2/sandboxes/irun/connect");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(BodyJson(r), (json{{"timeout", 120}}));
}

TEST_F(LifecycleV2Test, ConnectResumesPausedSandboxAndDefaultsTimeout) {
  auto client = MakeClient();
  Respond(201, SandboxAnswer("ipaused"));
  auto sandbox = client.Connect(e2b::Context::Background(), "ipaused");
  EXPECT_EQ(sandbox.ID, "ipaused");
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"timeout", e2b::DefaultTimeout}}));
}

TEST_F(LifecycleV2Test, ConnectEscapesTheId) {
  auto client = MakeClient();
  Respond(404, ErrorBody(404, "sandbox not found"));
  EXPECT_THROW(client.Connect("a/b c"), e2b::SandboxNotFoundError);
  EXPECT_EQ(OnlyRequest().raw_path, "/v2/sandboxes/a%2Fb%20c/connect");
}

TEST_F(LifecycleV2Test, ConnectStatusMapping) {
  auto client = MakeClient();
  Respond(404, ErrorBody(404, "no such sandbox"));
  try {
    client.Connect("igone");
    FAIL() << "no exception";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "igone");
    ExpectCleanError(e, 404, "no such sandbox");
  }
  // The API rejects a malformed ID with 400 "invalid sandbox ID": such a
  // sandbox cannot exist.
  Respond(400, ErrorBody(400, "Invalid sandbox ID"));
  EXPECT_THROW(client.Connect("BAD"), e2b::SandboxNotFoundError);
  // Any other 400 stays a plain Error.
  Respond(400, ErrorBody(400, "timeout too large"));
  try {
    client.Connect("iok", 999999);
    FAIL() << "no exception";
  } catch (const e2b::SandboxNotFoundError&) {
    FAIL() << "a 400 that is not about the ID is not a not-found";
  } catch (const e2b::Error& e) {
    ExpectCleanError(e, 400, "timeout too large");
  }
  for (int status : {401, 409, 500, 503}) {
    Respond(status, ErrorBody(status, "nope"));
    try {
      client.Connect("iok");
      FAIL() << status;
    } catch (const e2b::SandboxNotFoundError&) {
      FAIL() << status;
    } catch (const e2b::Error& e) {
      ExpectCleanError(e, status, "nope");
    }
  }
  // A 204 is not an answer with a sandbox in it.
  Respond(204);
  EXPECT_THROW(client.Connect("iok"), e2b::Error);
}

TEST_F(LifecycleV2Test, ConnectRejectsBadInputWithoutACall) {
  auto client = MakeClient();
  EXPECT_THROW(client.Connect(""), e2b::Error);
  EXPECT_THROW(client.Connect("iok", -1), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(LifecycleV2Test, ConnectRejectsMalformedAnswers) {
  auto client = MakeClient();
  Respond(200, "not json");
  EXPECT_THROW(client.Connect("iok"), e2b::Error);
  Respond(200, R"({"sandboxID":"evil.host/x"})");
  EXPECT_THROW(client.Connect("iok"), e2b::Error);
  Respond(200, R"({"sandboxID":"iok","envdAccessToken":"a\r\nX: y"})");
  try {
    client.Connect("iok");
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_EQ(std::string(e.what()).find("X: y"), std::string::npos);
  }
}

// ---- ListSandboxesV2 --------------------------------------------------------

TEST_F(LifecycleV2Test, ListV2WithoutOptions) {
  auto client = MakeClient();
  Respond(200, R"([{"sandboxID":"i1","templateID":"base","state":"running",
                    "metadata":{"env":"dev"},"startedAt":"2025-01-01T00:00:00Z"},
                   {"sandboxID":"i2","state":"paused","metadata":null}])");
  auto result = client.ListSandboxesV2();
  ASSERT_EQ(result.Sandboxes.size(), 2u);
  EXPECT_EQ(result.Sandboxes[0].ID, "i1");
  EXPECT_EQ(result.Sandboxes[0].State, "running");
  EXPECT_EQ(result.Sandboxes[0].Metadata,
            (std::map<std::string, std::string>{{"env", "dev"}}));
  EXPECT_EQ(result.Sandboxes[1].State, "paused");
  EXPECT_TRUE(result.Sandboxes[1].Metadata.empty());
  EXPECT_EQ(result.NextToken, "");
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/v2/sandboxes");
  EXPECT_EQ(r.raw_query, "");
  ExpectApiHeaders(r, false);
}

TEST_F(LifecycleV2Test, ListV2SendsEveryFilterEscaped) {
  auto client = MakeClient();
  Respond(200, "[]", {{"X-Next-Token", "tok/next=="}});
  auto result = client.ListSandboxesV2(
      e2b::Context::Background(), e2b::WithSandboxState("running", "paused"),
      e2b::WithSandboxMetadata({{"env", "dev"}}), e2b::WithSandboxLimit(10),
      e2b::WithSandboxNextToken("a+b/c="), e2b::WithSandboxTemplate("my/tpl"),
      e2b::WithSandboxOrder("asc"),
      e2b::WithSandboxStartedAfter("2025-01-02T03:04:05Z"));
  EXPECT_EQ(result.NextToken, "tok/next==");
  EXPECT_EQ(OnlyRequest().raw_query,
            "metadata=env%253Ddev&state=running%2Cpaused&template=my%2Ftpl&"
            "order=asc&startedAfter=2025-01-02T03%3A04%3A05Z&limit=10&"
            "nextToken=a%2Bb%2Fc%3D");
}

TEST_F(LifecycleV2Test, MetadataFilterIsEncodedAsTheServerDecodesIt) {
  // PROTOCOL.md 2.1: the value is pe(pe(k)=pe(v)&...), then query-encoded.
  EXPECT_EQ(e2b::internal::EncodeMetadataFilter({}), "");
  EXPECT_EQ(e2b::internal::EncodeMetadataFilter({{"a", "1"}, {"b", "2"}}),
            "a%3D1%26b%3D2");
  EXPECT_EQ(e2b::internal::EncodeMetadataFilter({{"k&=", "v %+/"}}),
            "k%2526%253D%3Dv%2520%2525%252B%252F");

  auto client = MakeClient();
  Respond(200, "[]");
  client.ListSandboxesV2(
      e2b::WithSandboxMetadata({{"user id", "a&b=c"}, {"x", "+"}}));
  auto r = OnlyRequest();
  EXPECT_EQ(r.raw_query,
            "metadata=user%252520id%253Da%252526b%25253Dc%2526x%253D%25252B");
  // Decoding as the server does (query decoding, then the whole value, then
  // each key and value) gives the pairs back.
  std::string value = r.raw_query.substr(std::string("metadata=").size());
  std::string once = e2b::internal::PercentDecode(value);
  std::string inner = e2b::internal::PercentDecode(once, true);
  EXPECT_EQ(inner, "user%20id=a%26b%3Dc&x=%2B");
}

TEST_F(LifecycleV2Test, ListV2OptionsAddUp) {
  auto client = MakeClient();
  Respond(200, "[]");
  client.ListSandboxesV2(
      e2b::WithSandboxMetadata({{"a", "1"}}),
      e2b::WithSandboxMetadata({{"b", "2"}}),
      e2b::WithSandboxState(std::vector<std::string>{"paused"}));
  EXPECT_EQ(OnlyRequest().raw_query,
            "metadata=a%253D1%2526b%253D2&state=paused");
}

TEST_F(LifecycleV2Test, StartedAfterFromATimePoint) {
  auto client = MakeClient();
  Respond(200, "[]");
  const auto t = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1735787045123LL));  // 2025-01-02 03:04:05.123
  client.ListSandboxesV2(e2b::WithSandboxStartedAfter(t));
  EXPECT_EQ(OnlyRequest().raw_query,
            "startedAfter=2025-01-02T03%3A04%3A05.123Z");
}

TEST_F(LifecycleV2Test, ListV2RejectsBadStatesAndMapsErrors) {
  auto client = MakeClient();
  EXPECT_THROW(client.ListSandboxesV2(e2b::WithSandboxState("running,x")),
               e2b::Error);
  EXPECT_THROW(client.ListSandboxesV2(e2b::WithSandboxState("")), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
  for (int status : {400, 401, 404, 500}) {
    Respond(status, ErrorBody(status, "list failed"));
    try {
      client.ListSandboxesV2();
      FAIL() << status;
    } catch (const e2b::Error& e) {
      ExpectCleanError(e, status, "list failed");
    }
  }
  Respond(200, R"({"sandboxes":[]})");
  EXPECT_THROW(client.ListSandboxesV2(), e2b::Error);
  Respond(200, R"([{"sandboxID":"i1","metadata":["x"]}])");
  EXPECT_THROW(client.ListSandboxesV2(), e2b::Error);
}

// ---- SandboxPaginator -------------------------------------------------------

TEST_F(LifecycleV2Test, PaginatorFollowsNextToken) {
  auto client = MakeClient();
  auto paginator = client.NewSandboxPaginator(e2b::WithSandboxLimit(1),
                                              e2b::WithSandboxState("running"));
  EXPECT_TRUE(paginator.HasNext());
  EXPECT_TRUE(server_.requests().empty());

  Respond(200, R"([{"sandboxID":"i1"}])", {{"X-Next-Token", "p2"}});
  auto page1 = paginator.NextItems();
  ASSERT_EQ(page1.size(), 1u);
  EXPECT_EQ(page1[0].ID, "i1");
  EXPECT_TRUE(paginator.HasNext());
  EXPECT_EQ(paginator.NextToken(), "p2");

  // A failed fetch leaves the cursor, so the same page can be retried.
  Respond(500, ErrorBody(500, "flaky"));
  EXPECT_THROW(paginator.NextItems(), e2b::Error);
  EXPECT_TRUE(paginator.HasNext());
  EXPECT_EQ(paginator.NextToken(), "p2");

  Respond(200, R"([{"sandboxID":"i2"}])");
  auto page2 = paginator.NextItems(e2b::Context::Background());
  ASSERT_EQ(page2.size(), 1u);
  EXPECT_EQ(page2[0].ID, "i2");
  EXPECT_FALSE(paginator.HasNext());
  EXPECT_EQ(paginator.NextToken(), "");

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].raw_query, "state=running&limit=1");
  EXPECT_EQ(requests[1].raw_query, "state=running&limit=1&nextToken=p2");
  EXPECT_EQ(requests[2].raw_query, "state=running&limit=1&nextToken=p2");

  EXPECT_THROW(paginator.NextItems(), e2b::Error);
  EXPECT_EQ(server_.requests().size(), 3u);
}

TEST_F(LifecycleV2Test, PaginatorStartsAtAGivenToken) {
  auto client = MakeClient();
  auto paginator =
      client.NewSandboxPaginator(e2b::WithSandboxNextToken("start"));
  EXPECT_EQ(paginator.NextToken(), "start");
  Respond(200, "[]");
  EXPECT_TRUE(paginator.NextItems().empty());
  EXPECT_FALSE(paginator.HasNext());
  EXPECT_EQ(OnlyRequest().raw_query, "nextToken=start");
}

// ---- KillSandbox
// --------------------------------------------------------------

TEST_F(LifecycleV2Test, KillSandboxById) {
  auto client = MakeClient();
  Respond(204);
  EXPECT_TRUE(client.KillSandbox("ikill"));
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.raw_path, "/sandboxes/ikill");
  ExpectApiHeaders(r, false);

  Respond(200);
  EXPECT_TRUE(client.KillSandbox(e2b::Context::Background(), "ikill"));
  Respond(404, ErrorBody(404, "not found"));
  EXPECT_FALSE(client.KillSandbox("ikill"));
  for (int status : {401, 500}) {
    Respond(status, ErrorBody(status, "kill failed"));
    try {
      client.KillSandbox("ikill");
      FAIL() << status;
    } catch (const e2b::Error& e) {
      ExpectCleanError(e, status, "kill failed");
    }
  }
  EXPECT_THROW(client.KillSandbox(""), e2b::Error);
}

// ---- DeleteSnapshot
// -----------------------------------------------------------

TEST_F(LifecycleV2Test, DeleteSnapshot) {
  auto client = MakeClient();
  Respond(204);
  EXPECT_TRUE(client.DeleteSnapshot("team/snap:default"));
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.raw_path, "/templates/team%2Fsnap%3Adefault");
  ExpectApiHeaders(r, false);

  Respond(404, ErrorBody(404, "gone"));
  EXPECT_FALSE(client.DeleteSnapshot(e2b::Context::Background(), "x"));
  Respond(400, ErrorBody(400, "still in use by sandboxes"));
  try {
    client.DeleteSnapshot("x");
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    ExpectCleanError(e, 400, "still in use");
  }
  Respond(401, ErrorBody(401, "bad key"));
  EXPECT_THROW(client.DeleteSnapshot("x"), e2b::Error);
  EXPECT_THROW(client.DeleteSnapshot(""), e2b::Error);
}

// ---- GetSandboxesMetrics
// ------------------------------------------------------

TEST_F(LifecycleV2Test, BatchMetrics) {
  auto client = MakeClient();
  Respond(200, R"({"sandboxes":{
      "i1":{"cpuCount":2,"cpuUsedPct":12.5,"memUsed":100,"memTotal":"4096",
            "timestampUnix":1700000000},
      "i2":{"cpuCount":1}}})");
  auto metrics = client.GetSandboxesMetrics({"i1", "i2", "i3"});
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics["i1"].CPUCount, 2);
  EXPECT_DOUBLE_EQ(metrics["i1"].CPUUsedPct, 12.5);
  EXPECT_EQ(metrics["i1"].MemTotal, 4096);
  EXPECT_EQ(metrics["i1"].TimestampUnix, 1700000000);
  EXPECT_EQ(metrics["i2"].CPUCount, 1);
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/sandboxes/metrics");
  EXPECT_EQ(r.raw_query, "sandbox_ids=i1%2Ci2%2Ci3");
  ExpectApiHeaders(r, false);
}

TEST_F(LifecycleV2Test, BatchMetricsInputAndErrors) {
  auto client = MakeClient();
  EXPECT_TRUE(client.GetSandboxesMetrics({}).empty());
  EXPECT_THROW(client.GetSandboxesMetrics({"a,b"}), e2b::Error);
  EXPECT_THROW(client.GetSandboxesMetrics({""}), e2b::Error);
  EXPECT_THROW(client.GetSandboxesMetrics(std::vector<std::string>(101, "i")),
               e2b::Error);
  EXPECT_TRUE(server_.requests().empty());

  Respond(400, ErrorBody(400, "bad ids"));
  try {
    client.GetSandboxesMetrics({"i1"});
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    ExpectCleanError(e, 400, "bad ids");
  }
  Respond(200, R"({"sandboxes":null})");
  EXPECT_TRUE(client.GetSandboxesMetrics({"i1"}).empty());
  Respond(200, R"([])");
  EXPECT_THROW(client.GetSandboxesMetrics({"i1"}), e2b::Error);
  Respond(200, R"({"sandboxes":{"i1":{"cpuCount":"many"}}})");
  EXPECT_THROW(client.GetSandboxesMetrics({"i1"}), e2b::Error);
}

// ---- Fork
// ---------------------------------------------------------------------

TEST_F(LifecycleV2Test, ForkWithPerForkResults) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "isrc");
  Respond(
      201,
      json::array(
          {
              json{{"sandbox", json::parse(SandboxAnswer("ifork1", "t1"))}},
              json{{"error",
                    {{"code", 429},
                     {"message", std::string("slow down ") + kTestApiKey}}}},
              json{{"error", {{"code", 404}, {"message", "no snapshot"}}}},
              json::object(),
              json{{"sandbox", {{"sandboxID", "bad/id"}}}},
          })
          .dump());
  auto results = sandbox.Fork(e2b::WithForkCount(5),
                              e2b::WithForkTimeout(std::chrono::minutes(2)));
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/sandboxes/isrc/fork");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(BodyJson(r), (json{{"count", 5}, {"timeout", 120}}));

  ASSERT_EQ(results.size(), 5u);
  ASSERT_TRUE(results[0].OK());
  EXPECT_EQ(results[0].Sandbox->ID, "ifork1");
  EXPECT_EQ(results[0].Sandbox->EnvdAccessToken(), "t1");
  EXPECT_FALSE(results[0].Err);
  for (std::size_t i = 1; i < results.size(); ++i) {
    EXPECT_FALSE(results[i].OK()) << i;
    ASSERT_TRUE(results[i].Err) << i;
  }
  auto error_of = [](const e2b::ForkResult& result) -> e2b::Error {
    try {
      std::rethrow_exception(result.Err);
    } catch (const e2b::SandboxNotFoundError&) {
      ADD_FAILURE() << "a per-fork error is never about the source sandbox";
      throw;
    } catch (const e2b::Error& e) {
      return e;
    }
  };
  // Typed as the Go SDK types embedded errors (apiErrorFromCode).
  try {
    std::rethrow_exception(results[1].Err);
  } catch (const e2b::RateLimitError& e) {
    ExpectCleanError(e, 429, "slow down");
  }
  ExpectCleanError(error_of(results[2]), 404, "no snapshot");
  EXPECT_EQ(error_of(results[3]).StatusCode(), 0);
  EXPECT_EQ(error_of(results[4]).StatusCode(), 0);
  EXPECT_NE(error_of(results[4]).Message().find("malformed"),
            std::string::npos);
}

TEST_F(LifecycleV2Test, ForkDefaultsAndClientForm) {
  auto client = MakeClient();
  Respond(201,
          json::array({json{{"sandbox", json::parse(SandboxAnswer("if1"))}}})
              .dump());
  auto results = client.ForkSandbox("isrc");
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].OK());
  auto r = OnlyRequest();
  EXPECT_EQ(r.raw_path, "/sandboxes/isrc/fork");
  EXPECT_EQ(BodyJson(r),
            (json{{"count", 1}, {"timeout", e2b::DefaultTimeout}}));

  // Timeouts are whole seconds, rounded up.
  server_.clear_requests();
  Respond(200, "[]");
  EXPECT_TRUE(
      client
          .ForkSandbox(e2b::Context::Background(), "isrc",
                       e2b::WithForkTimeout(std::chrono::milliseconds(1500)))
          .empty());
  EXPECT_EQ(BodyJson(OnlyRequest())["timeout"], 2);
}

TEST_F(LifecycleV2Test, ForkWholeRequestFailures) {
  auto client = MakeClient();
  EXPECT_THROW(client.ForkSandbox("isrc", e2b::WithForkCount(0)), e2b::Error);
  EXPECT_THROW(client.ForkSandbox(
                   "isrc", e2b::WithForkTimeout(std::chrono::seconds(-1))),
               e2b::Error);
  EXPECT_THROW(client.ForkSandbox(""), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());

  Respond(404, ErrorBody(404, "source gone"));
  try {
    client.ForkSandbox("isrc");
    FAIL() << "no exception";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "isrc");
    ExpectCleanError(e, 404, "source gone");
  }
  Respond(400, ErrorBody(400, "invalid sandbox ID"));
  EXPECT_THROW(client.ForkSandbox("isrc"), e2b::SandboxNotFoundError);
  for (int status : {401, 409, 500, 503}) {
    Respond(status, ErrorBody(status, "fork refused"));
    try {
      client.ForkSandbox("isrc");
      FAIL() << status;
    } catch (const e2b::SandboxNotFoundError&) {
      FAIL() << status;
    } catch (const e2b::Error& e) {
      ExpectCleanError(e, status, "fork refused");
    }
  }
  Respond(201, R"({"sandbox":{}})");
  EXPECT_THROW(client.ForkSandbox("isrc"), e2b::Error);
  Respond(201, "[");
  EXPECT_THROW(client.ForkSandbox("isrc"), e2b::Error);
}

// ---- Refresh
// ------------------------------------------------------------------

TEST_F(LifecycleV2Test, Refresh) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iref");
  Respond(204);
  sandbox.Refresh();
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/sandboxes/iref/refreshes");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(r.body, "{}");

  server_.clear_requests();
  Respond(204);
  sandbox.Refresh(std::chrono::minutes(5));
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"duration", 300}}));

  server_.clear_requests();
  Respond(204);
  sandbox.RefreshWithContext(e2b::Context::Background(),
                             std::chrono::milliseconds(100));
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"duration", 1}}));

  server_.clear_requests();
  Respond(204);
  sandbox.RefreshWithContext(e2b::Context::Background());
  EXPECT_EQ(OnlyRequest().body, "{}");
}

TEST_F(LifecycleV2Test, RefreshStatusMapping) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iref");
  Respond(404, ErrorBody(404, "gone"));
  EXPECT_THROW(sandbox.Refresh(), e2b::SandboxNotFoundError);
  Respond(400, ErrorBody(400, "invalid sandbox id"));
  EXPECT_THROW(sandbox.Refresh(), e2b::SandboxNotFoundError);
  Respond(400, ErrorBody(400, "duration must be at most 1800"));
  try {
    sandbox.Refresh(e2b::WithRefreshDuration(e2b::MaxRefreshDuration));
    FAIL() << "no exception";
  } catch (const e2b::SandboxNotFoundError&) {
    FAIL() << "not a not-found";
  } catch (const e2b::InvalidArgumentError& e) {
    ExpectCleanError(e, 400, "at most 1800");
  }
  Respond(401, ErrorBody(401, "bad key"));
  EXPECT_THROW(sandbox.Refresh(), e2b::Error);
}

TEST_F(LifecycleV2Test, RefreshOptionsAsInGoHead) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iref");
  Respond(204);
  sandbox.Refresh(e2b::WithRefreshDuration(90));
  auto r = OnlyRequest();
  EXPECT_EQ(r.raw_path, "/sandboxes/iref/refreshes");
  EXPECT_EQ(BodyJson(r), (json{{"duration", 90}}));

  server_.clear_requests();
  Respond(204);
  sandbox.RefreshWithContext(e2b::Context::Background(),
                             e2b::WithRefreshDuration(0));
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"duration", 0}}));

  // The last option wins, as in Go.
  server_.clear_requests();
  Respond(204);
  sandbox.Refresh(e2b::WithRefreshDuration(10),
                  e2b::WithRefreshDuration(e2b::MaxRefreshDuration));
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"duration", 3600}}));
}

TEST_F(LifecycleV2Test, RefreshRefusesDurationsOutsideTheRangeBeforeSending) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iref");
  server_.clear_requests();
  for (int bad : {-1, e2b::MaxRefreshDuration + 1, 1 << 30}) {
    try {
      sandbox.Refresh(e2b::WithRefreshDuration(bad));
      FAIL() << bad << " accepted";
    } catch (const e2b::InvalidArgumentError& e) {
      EXPECT_EQ(e.StatusCode(), 0);
      EXPECT_NE(std::string(e.what()).find("between 0 and 3600"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_THROW(sandbox.Refresh(std::chrono::seconds(-1)),
               e2b::InvalidArgumentError);
  EXPECT_THROW(sandbox.Refresh(std::chrono::hours(2)),
               e2b::InvalidArgumentError);
  // 3600 s and a bit rounds up past the limit.
  EXPECT_THROW(sandbox.Refresh(std::chrono::milliseconds(3600001)),
               e2b::InvalidArgumentError);
  EXPECT_TRUE(server_.requests().empty());
}

// ---- UpdateNetwork
// ------------------------------------------------------------

TEST_F(LifecycleV2Test, UpdateNetworkSendsOnlySetFields) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "inet");
  Respond(204);
  e2b::NetworkUpdateConfig cfg;
  cfg.AllowOut = {"example.com", "10.0.0.0/8"};
  cfg.DenyOut = {e2b::AllTraffic};
  cfg.Rules["example.com"].push_back(
      e2b::RequestRule{e2b::RequestTransform{{{"X-Token", "v"}}}});
  cfg.EgressProxy = e2b::EgressProxyConfig{"proxy:1080", "u", ""};
  cfg.AllowInternetAccess = false;
  sandbox.UpdateNetwork(cfg);
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.raw_path, "/sandboxes/inet/network");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(
      BodyJson(r),
      (json{{"allowOut", {"example.com", "10.0.0.0/8"}},
            {"denyOut", {"0.0.0.0/0"}},
            {"rules",
             {{"example.com",
               {{{"transform", {{"headers", {{"X-Token", "v"}}}}}}}}}},
            {"egressProxy", {{"address", "proxy:1080"}, {"username", "u"}}},
            {"allow_internet_access", false}}));

  server_.clear_requests();
  Respond(204);
  sandbox.UpdateNetworkWithContext(e2b::Context::Background(), {});
  EXPECT_EQ(OnlyRequest().body, "{}");

  Respond(404, ErrorBody(404, "gone"));
  EXPECT_THROW(sandbox.UpdateNetwork({}), e2b::SandboxNotFoundError);
  Respond(409, ErrorBody(409, "sandbox is paused"));
  try {
    sandbox.UpdateNetwork({});
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    ExpectCleanError(e, 409, "paused");
  }
}

// ---- Pause(keepMemory)
// ----------------------------------------------------------

TEST_F(LifecycleV2Test, PauseSendsMemoryNotKeepMemory) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "ipause");
  Respond(204);
  sandbox.Pause(false);
  auto r = OnlyRequest();
  EXPECT_EQ(r.raw_path, "/sandboxes/ipause/pause");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(BodyJson(r), (json{{"memory", false}}));
  server_.clear_requests();
  Respond(409, ErrorBody(409, "already paused"));
  sandbox.PauseWithContext(e2b::Context::Background(), true);
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"memory", true}}));
  Respond(404, ErrorBody(404, "gone"));
  EXPECT_THROW(sandbox.Pause(true), e2b::SandboxNotFoundError);
}

TEST_F(LifecycleV2Test, PauseOptionsAsInGoHead) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "ipause");
  // Without options nothing is sent: the server's default (memory kept).
  Respond(204);
  sandbox.Pause();
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/sandboxes/ipause/pause");
  EXPECT_TRUE(r.body.empty()) << r.body;

  server_.clear_requests();
  Respond(204);
  sandbox.Pause(e2b::WithKeepMemory(false));
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"memory", false}}));

  server_.clear_requests();
  Respond(204);
  sandbox.PauseWithContext(e2b::Context::Background(),
                           e2b::WithKeepMemory(true));
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"memory", true}}));
}

TEST_F(LifecycleV2Test, TrafficAccessTokenComesFromTheCreateAnswer) {
  auto client = MakeClient();
  json answer = json::parse(SandboxAnswer("itraffic"));
  answer["trafficAccessToken"] = "traffic_tok";
  Respond(201, answer.dump());
  auto sandbox = client.NewSandbox();
  EXPECT_EQ(sandbox.TrafficAccessToken, "traffic_tok");

  // Connect and a sandbox without one.
  Respond(200, SandboxAnswer("iplain"));
  EXPECT_EQ(client.Connect("iplain", 60).TrafficAccessToken, "");
  answer["sandboxID"] = "iconn";
  Respond(200, answer.dump());
  EXPECT_EQ(client.Connect("iconn", 60).TrafficAccessToken, "traffic_tok");

  // A token that would split a header is a malformed answer, not a header.
  answer["trafficAccessToken"] = "a\r\nX-Evil: 1";
  Respond(201, answer.dump());
  try {
    client.NewSandbox();
    FAIL() << "accepted a token with a line break";
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()).find("trafficAccessToken"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("X-Evil"), std::string::npos);
  }
}

TEST_F(LifecycleV2Test, McpConfigIsSentAsTheMcpObject) {
  e2b::SandboxConfig cfg;
  e2b::MCPConfig mcp;
  mcp.Integrations["github"] = {{"githubPersonalAccessToken", "ghp_x"}};
  mcp.Integrations["rustMcpFilesystem"] = {
      {"allowWrite", true},
      {"allowedDirectories", std::vector<std::string>{"/home/user"}},
      {"maxBytes", 1048576},
      {"ratio", 0.5},
      {"extra", e2b::MCPValue::JSON(R"({"a":[1,null]})")}};
  cfg.MCP = mcp;
  EXPECT_EQ(e2b::internal::NewSandboxBody(cfg)["mcp"],
            (json{{"github", {{"githubPersonalAccessToken", "ghp_x"}}},
                  {"rustMcpFilesystem",
                   {{"allowWrite", true},
                    {"allowedDirectories", {"/home/user"}},
                    {"maxBytes", 1048576},
                    {"ratio", 0.5},
                    {"extra", {{"a", {1, nullptr}}}}}}}));

  // An empty config is an empty object (Go sends the same); none is nothing.
  cfg.MCP = e2b::MCPConfig{};
  EXPECT_EQ(e2b::internal::NewSandboxBody(cfg)["mcp"], json::object());
  cfg.MCP.reset();
  EXPECT_FALSE(e2b::internal::NewSandboxBody(cfg).contains("mcp"));

  // Raw text that is not JSON fails before any request.
  auto client = MakeClient();
  cfg.MCP = e2b::MCPConfig{{{"srv", {{"p", e2b::MCPValue::JSON("{nope")}}}}};
  try {
    client.NewSandbox(cfg);
    FAIL() << "accepted invalid JSON";
  } catch (const e2b::InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("'p' of 'srv'"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(server_.requests().empty());
  EXPECT_THROW(e2b::MCPValue(std::string("\xff")), e2b::InvalidArgumentError);
  EXPECT_EQ(e2b::MCPValue("x\"y").JSONText(), "\"x\\\"y\"");
}

// Every argument the client refuses before sending is an
// InvalidArgumentError with status 0, as Go HEAD's client-side checks are.
TEST_F(LifecycleV2Test, ClientSideRefusalsAreInvalidArgumentErrors) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iargs");
  auto expect_refused = [&](const char* what, auto&& call) {
    try {
      call();
      ADD_FAILURE() << what << ": accepted";
    } catch (const e2b::InvalidArgumentError& e) {
      EXPECT_EQ(e.StatusCode(), 0) << what;
      EXPECT_EQ(std::string(e.what()).rfind("e2b: invalid argument: ", 0), 0u)
          << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": " << e.what();
    }
  };
  expect_refused("Connect with an empty ID", [&] { client.Connect(""); });
  expect_refused("KillSandbox with an empty ID",
                 [&] { client.KillSandbox(""); });
  expect_refused("a negative sandbox timeout", [&] {
    e2b::SandboxConfig cfg;
    cfg.Timeout = -1;
    client.NewSandbox(cfg);
  });
  expect_refused("contradicting lifecycle", [&] {
    e2b::SandboxConfig cfg;
    cfg.AutoPause = true;
    cfg.Lifecycle = e2b::SandboxLifecycle{false, "kill"};
    client.NewSandbox(cfg);
  });
  expect_refused("an empty command", [&] { sandbox.Commands.Run("", {}); });
  expect_refused("a negative command timeout", [&] {
    e2b::RunParams params;
    params.Timeout = std::chrono::milliseconds(-5);
    sandbox.Commands.Run("true", {},
                         e2b::RunOption([params](e2b::RunParams& p) {
                           p.Timeout = params.Timeout;
                         }));
  });
  expect_refused("a zero-size PTY", [&] { sandbox.Pty.Create(0, 0); });
  expect_refused("SetTimeout below 0", [&] { sandbox.SetTimeout(-1); });
  expect_refused("a bad retry policy", [] {
    e2b::ClientConfig cfg;
    cfg.APIKey = "e2b_key";
    cfg.Retry.Jitter = 2;
    e2b::NewClient(cfg);
  });
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(LifecycleV2Test, BoolIsAnOptionalBool) {
  e2b::SandboxConfig cfg;
  cfg.AllowInternetAccess = e2b::Bool(false);
  EXPECT_EQ(e2b::internal::NewSandboxBody(cfg)["allow_internet_access"], false);
  static_assert(e2b::Bool(true).value());
}

// ---- IsRunning
// ----------------------------------------------------------------

TEST_F(LifecycleV2Test, IsRunningAsksEnvdHealth) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "ihealth");
  Respond(204);
  EXPECT_TRUE(sandbox.IsRunning());
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/health");
  EXPECT_EQ(Header(r, "E2b-Sandbox-Id"), "ihealth");
  EXPECT_EQ(Header(r, "E2b-Sandbox-Port"), "49983");
  EXPECT_EQ(r.headers.count("X-Access-Token"), 0u);
  EXPECT_EQ(r.headers.count("X-API-Key"), 0u);

  Respond(200);
  EXPECT_TRUE(sandbox.IsRunningWithContext(e2b::Context::Background()));
  Respond(502, R"({"sandboxId":"ihealth","message":"The sandbox was not found",
                   "code":502})");
  EXPECT_FALSE(sandbox.IsRunning());
  // Any other answer is a sign the sandbox is not running, as in Go.
  for (int status : {400, 401, 404, 410, 500}) {
    Respond(status, ErrorBody(status, "envd broke"));
    EXPECT_FALSE(sandbox.IsRunning()) << status;
  }

  auto cancelled = e2b::Context::WithCancel();
  cancelled.Cancel();
  EXPECT_THROW(sandbox.IsRunningWithContext(cancelled), e2b::Error);
}

TEST_F(LifecycleV2Test, IsRunningReportsNetworkFailures) {
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = server_.url();
  // Nothing listens on port 1 of loopback.
  cfg.SandboxURL = "http://127.0.0.1:1";
  auto client = e2b::NewClient(cfg);
  auto sandbox = MakeSandbox(client, "inet");
  try {
    sandbox.IsRunning();
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
  }
}

// ---- GetHost
// ------------------------------------------------------------------

TEST_F(LifecycleV2Test, GetHostUsesTheSandboxDomain) {
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = server_.url();
  cfg.SandboxDomain = "example.dev";
  auto client = e2b::NewClient(cfg);
  auto sandbox = MakeSandbox(client, "ihost");
  EXPECT_EQ(sandbox.GetHost(3000), "3000-ihost.example.dev");
  EXPECT_EQ(sandbox.GetHost(1), "1-ihost.example.dev");
  EXPECT_EQ(sandbox.GetHost(65535), "65535-ihost.example.dev");
  EXPECT_THROW(sandbox.GetHost(0), e2b::Error);
  EXPECT_THROW(sandbox.GetHost(65536), e2b::Error);
  EXPECT_THROW(sandbox.GetHost(-80), e2b::Error);

  // The domain the API returns wins.
  Respond(201, json{{"sandboxID", "iother"}, {"domain", "eu.e2b.dev"}}.dump());
  auto other = client.NewSandbox();
  EXPECT_EQ(other.GetHost(8080), "8080-iother.eu.e2b.dev");

  EXPECT_THROW(e2b::Sandbox().GetHost(80), e2b::Error);
}

TEST_F(LifecycleV2Test, GetHostWithASandboxUrlOverrideKeepsTheEdgeName) {
  auto client = MakeClient();  // SandboxURL = the test server
  auto sandbox = MakeSandbox(client, "ihost");
  EXPECT_EQ(sandbox.GetHost(5173), "5173-ihost.e2b.app");
}

TEST_F(LifecycleV2Test, GetHostInDebugModeIsLocalhost) {
  // E2B_DEBUG as the official SDKs read it; restored whatever happens.
  struct DebugEnv {
    std::optional<std::string> saved;
    DebugEnv() {
      if (const char* v = std::getenv("E2B_DEBUG")) saved = v;
      setenv("E2B_DEBUG", "true", 1);
    }
    ~DebugEnv() {
      if (saved) {
        setenv("E2B_DEBUG", saved->c_str(), 1);
      } else {
        unsetenv("E2B_DEBUG");
      }
    }
  } debug;
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "idebug");
  EXPECT_EQ(sandbox.GetHost(3000), "localhost:3000");
}

TEST_F(LifecycleV2Test, NewCallsOnAnEmptySandboxFailCleanly) {
  e2b::Sandbox empty;
  EXPECT_THROW(empty.Refresh(), e2b::Error);
  EXPECT_THROW(empty.UpdateNetwork({}), e2b::Error);
  EXPECT_THROW(empty.Fork(), e2b::Error);
  EXPECT_THROW(empty.IsRunning(), e2b::Error);
  EXPECT_THROW(empty.Pause(false), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
}

// ---- SandboxConfig additions
// ----------------------------------------------------

TEST_F(LifecycleV2Test, NewSandboxSendsTheNewerFields) {
  auto client = MakeClient();
  e2b::SandboxConfig cfg;
  cfg.Template = "tpl";
  cfg.Timeout = 60;
  cfg.Secure = false;
  cfg.AllowInternetAccess = false;
  cfg.Network = e2b::AllowOutbound({"api.example.com"});
  cfg.Network->AllowPublicTraffic = false;
  cfg.Network->MaskRequestHost = "h:${PORT}";
  cfg.Network->WithRequestTransform("api.example.com", {{"Auth", "x"}});
  cfg.AutoPause = true;
  cfg.AutoPauseMemory = false;
  cfg.AutoResume = e2b::AutoResumeConfig{true};
  cfg.Metadata = {{"env", "dev"}};
  cfg.VolumeMounts = {{"vol", "/data"}};
  Respond(201, SandboxAnswer("inew"));
  client.NewSandbox(cfg);
  EXPECT_EQ(BodyJson(OnlyRequest()),
            (json{{"templateID", "tpl"},
                  {"timeout", 60},
                  {"envVars", json::object()},
                  {"secure", false},
                  {"allow_internet_access", false},
                  {"network",
                   {{"allowOut", {"api.example.com"}},
                    {"denyOut", {"0.0.0.0/0"}},
                    {"allowPublicTraffic", false},
                    {"maskRequestHost", "h:${PORT}"},
                    {"rules",
                     {{"api.example.com",
                       {{{"transform", {{"headers", {{"Auth", "x"}}}}}}}}}}}},
                  {"autoPause", true},
                  {"autoPauseMemory", false},
                  {"autoResume", {{"enabled", true}}},
                  {"metadata", {{"env", "dev"}}},
                  {"volumeMounts", {{{"name", "vol"}, {"path", "/data"}}}}}));
}

TEST_F(LifecycleV2Test, DefaultConfigSendsOnlyTheSeedFields) {
  auto body = e2b::internal::NewSandboxBody(e2b::SandboxConfig{});
  EXPECT_EQ(body, (json{{"templateID", "base"},
                        {"timeout", e2b::DefaultTimeout},
                        {"envVars", json::object()},
                        {"secure", true}}));
  EXPECT_EQ(e2b::DenyAllOutbound().DenyOut,
            std::vector<std::string>{e2b::AllTraffic});
  EXPECT_TRUE(e2b::DenyAllOutbound().AllowOut.empty());
}

TEST_F(LifecycleV2Test, LifecycleFormMapsToAutoPauseAndAutoResume) {
  e2b::SandboxConfig cfg;
  cfg.Lifecycle = e2b::SandboxLifecycle{true, "pause"};
  auto body = e2b::internal::NewSandboxBody(cfg);
  EXPECT_EQ(body["autoPause"], true);
  EXPECT_EQ(body["autoResume"], (json{{"enabled", true}}));

  cfg.Lifecycle = e2b::SandboxLifecycle{false, "kill"};
  body = e2b::internal::NewSandboxBody(cfg);
  EXPECT_FALSE(body.contains("autoPause"));
  EXPECT_EQ(body["autoResume"], (json{{"enabled", false}}));

  auto rejects = [](e2b::SandboxConfig c) {
    EXPECT_THROW(e2b::internal::NewSandboxBody(c), e2b::Error);
  };
  cfg = {};
  cfg.Lifecycle = e2b::SandboxLifecycle{false, "sleep"};
  rejects(cfg);
  cfg.Lifecycle = e2b::SandboxLifecycle{true, "kill"};
  rejects(cfg);
  cfg.Lifecycle = e2b::SandboxLifecycle{false, "kill"};
  cfg.AutoPause = true;
  rejects(cfg);
  cfg = {};
  cfg.Lifecycle = e2b::SandboxLifecycle{true, "pause"};
  cfg.AutoResume = e2b::AutoResumeConfig{false};
  rejects(cfg);
  cfg = {};
  cfg.AutoPauseMemory = true;  // without AutoPause
  rejects(cfg);
  cfg = {};
  cfg.VolumeMounts = {{"", "/data"}};
  rejects(cfg);

  // Nothing reaches the network for a rejected config.
  auto client = MakeClient();
  cfg = {};
  cfg.Lifecycle = e2b::SandboxLifecycle{false, "sleep"};
  EXPECT_THROW(client.NewSandbox(cfg), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(LifecycleV2Test, InfoReadsMetadataNetworkAndInternetAccess) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "iinfo");
  Respond(200, R"({"sandboxID":"iinfo","state":"running",
      "metadata":{"k":"v"},"allowInternetAccess":false,"domain":"x.dev",
      "network":{"allowOut":["a.com"],"denyOut":["0.0.0.0/0"],
                 "allowPublicTraffic":false,"maskRequestHost":"m",
                 "egressProxy":{"address":"p:1","username":"u"},
                 "rules":{"a.com":[{"transform":{"headers":{"H":"1"}}}]}}})");
  auto info = sandbox.Info();
  EXPECT_EQ(info.Metadata, (std::map<std::string, std::string>{{"k", "v"}}));
  ASSERT_TRUE(info.AllowInternetAccess.has_value());
  EXPECT_FALSE(*info.AllowInternetAccess);
  EXPECT_EQ(info.Domain, "x.dev");
  ASSERT_TRUE(info.Network.has_value());
  EXPECT_EQ(info.Network->AllowOut, std::vector<std::string>{"a.com"});
  EXPECT_EQ(info.Network->DenyOut, std::vector<std::string>{"0.0.0.0/0"});
  EXPECT_EQ(info.Network->AllowPublicTraffic, std::optional<bool>(false));
  EXPECT_EQ(info.Network->MaskRequestHost, "m");
  ASSERT_TRUE(info.Network->EgressProxy.has_value());
  EXPECT_EQ(info.Network->EgressProxy->Address, "p:1");
  ASSERT_EQ(info.Network->Rules.count("a.com"), 1u);
  EXPECT_EQ(info.Network->Rules["a.com"][0].Transform.Headers.at("H"), "1");

  Respond(200, R"({"sandboxID":"iinfo","network":{"rules":{"a":[7]}}})");
  EXPECT_THROW(sandbox.Info(), e2b::Error);
  Respond(200, R"({"sandboxID":"iinfo","allowInternetAccess":"yes"})");
  EXPECT_THROW(sandbox.Info(), e2b::Error);
  Respond(200, R"({"sandboxID":"iinfo","network":null,"metadata":null})");
  auto bare = sandbox.Info();
  EXPECT_FALSE(bare.Network.has_value());
  EXPECT_FALSE(bare.AllowInternetAccess.has_value());
}

}  // namespace
