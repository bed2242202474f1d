// Template calls against a real HTTP server: paths with encoded IDs, query
// parameters, bodies, pagination headers and status mapping.

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
using nlohmann::json;

class TemplatesTest : public ApiTest {};

TEST_F(TemplatesTest, ListTemplatesParsesEveryField) {
  auto client = MakeClient();
  Respond(200, R"([{"templateID":"t1","buildID":"b1","cpuCount":2,
    "memoryMB":512,"diskSizeMB":1024,"public":true,"aliases":["a"],
    "names":["team/t1"],"createdAt":"c","updatedAt":"u",
    "createdBy":{"id":"x"},"lastSpawnedAt":"2024-01-01T00:00:00Z",
    "spawnCount":"9007199254740993","buildCount":3,"envdVersion":"0.6.4",
    "buildStatus":"ready"},
    {"templateID":"t2","lastSpawnedAt":null,"spawnCount":0}])");
  auto templates = client.ListTemplates();
  ASSERT_EQ(templates.size(), 2u);
  const auto& t = templates[0];
  EXPECT_EQ(t.TemplateID, "t1");
  EXPECT_EQ(t.BuildID, "b1");
  EXPECT_EQ(t.CPUCount, 2);
  EXPECT_EQ(t.MemoryMB, 512);
  EXPECT_EQ(t.DiskSizeMB, 1024);
  EXPECT_TRUE(t.Public);
  EXPECT_EQ(t.Aliases, std::vector<std::string>{"a"});
  EXPECT_EQ(t.Names, std::vector<std::string>{"team/t1"});
  EXPECT_EQ(t.CreatedAt, "c");
  EXPECT_EQ(t.UpdatedAt, "u");
  EXPECT_EQ(t.LastSpawnedAt,
            std::optional<std::string>("2024-01-01T00:00:00Z"));
  EXPECT_EQ(t.SpawnCount, 9007199254740993);
  EXPECT_EQ(t.BuildCount, 3);
  EXPECT_EQ(t.EnvdVersion, "0.6.4");
  EXPECT_EQ(t.BuildStatus, "ready");
  EXPECT_FALSE(templates[1].LastSpawnedAt.has_value());

  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/templates");
  EXPECT_EQ(r.raw_query, "");
  ExpectApiHeaders(r, false);
}

TEST_F(TemplatesTest, CreateTemplateSendsOnlyGivenFields) {
  auto client = MakeClient();
  Respond(202, R"({"templateID":"t1","buildID":"b1","public":false,
    "names":["my-template"],"tags":["v1","latest"],"aliases":[]})");
  e2b::CreateTemplateConfig cfg;
  cfg.Name = "my-template";
  cfg.Tags = {"v1", "latest"};
  cfg.CPUCount = 2;
  cfg.MemoryMB = 1024;
  auto info = client.CreateTemplate(cfg);
  EXPECT_EQ(info.TemplateID, "t1");
  EXPECT_EQ(info.BuildID, "b1");
  EXPECT_FALSE(info.Public);
  EXPECT_EQ(info.Names, std::vector<std::string>{"my-template"});
  EXPECT_EQ(info.Tags, (std::vector<std::string>{"v1", "latest"}));
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/v3/templates");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(BodyJson(r), (json{{"name", "my-template"},
                               {"tags", {"v1", "latest"}},
                               {"cpuCount", 2},
                               {"memoryMB", 1024}}));

  server_.clear_requests();
  Respond(202, R"({"templateID":"t2","buildID":"b2"})");
  e2b::CreateTemplateConfig minimal;
  minimal.Name = "bare:tag";
  client.CreateTemplate(e2b::Context::Background(), minimal);
  EXPECT_EQ(BodyJson(OnlyRequest()), (json{{"name", "bare:tag"}}));
}

TEST_F(TemplatesTest, CreateTemplateValidatesBeforeSending) {
  auto client = MakeClient();
  EXPECT_THROW(client.CreateTemplate(e2b::CreateTemplateConfig{}), e2b::Error);
  e2b::CreateTemplateConfig negative;
  negative.Name = "x";
  negative.MemoryMB = -1;
  EXPECT_THROW(client.CreateTemplate(negative), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(TemplatesTest, CreateTemplateOnlyAccepts202) {
  auto client = MakeClient();
  e2b::CreateTemplateConfig cfg;
  cfg.Name = "x";
  Respond(202, "not json");
  EXPECT_THROW(client.CreateTemplate(cfg), e2b::Error);
  Respond(400, ErrorBody(400, "name too long"));
  try {
    client.CreateTemplate(cfg);
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    ExpectCleanError(e, 400, "name too long");
  }
}

TEST_F(TemplatesTest, GetTemplateEncodesTheIdAndPagesBuilds) {
  auto client = MakeClient();
  Respond(200, R"({"templateID":"team/name:tag","public":true,
    "names":["team/name"],"aliases":null,"createdAt":"c","updatedAt":"u",
    "lastSpawnedAt":null,"spawnCount":5,
    "builds":[{"buildID":"b1","status":"ready","createdAt":"c1",
      "updatedAt":"u1","finishedAt":"f1","cpuCount":2,"memoryMB":512,
      "diskSizeMB":null,"envdVersion":"0.6.4"},{"buildID":"b2"}]})",
          {{"X-Next-Token", "page+2/=="}});
  auto result =
      client.GetTemplate("team/name:tag", e2b::WithTemplateBuildsLimit(2),
                         e2b::WithTemplateBuildsNextToken("a/b+c=="));
  EXPECT_EQ(result.NextToken, "page+2/==");
  EXPECT_EQ(result.Template.TemplateID, "team/name:tag");
  EXPECT_TRUE(result.Template.Public);
  EXPECT_EQ(result.Template.SpawnCount, 5);
  EXPECT_FALSE(result.Template.LastSpawnedAt.has_value());
  ASSERT_EQ(result.Template.Builds.size(), 2u);
  EXPECT_EQ(result.Template.Builds[0].BuildID, "b1");
  EXPECT_EQ(result.Template.Builds[0].Status, "ready");
  EXPECT_EQ(result.Template.Builds[0].FinishedAt, "f1");
  EXPECT_EQ(result.Template.Builds[0].MemoryMB, 512);
  EXPECT_EQ(result.Template.Builds[0].DiskSizeMB, 0);
  EXPECT_EQ(result.Template.Builds[1].BuildID, "b2");

  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/templates/team%2Fname%3Atag");
  EXPECT_EQ(r.raw_query, "limit=2&nextToken=a%2Fb%2Bc%3D%3D");
  ExpectApiHeaders(r, false);

  // Last page: no header, empty token.
  Respond(200, R"({"templateID":"t"})");
  EXPECT_EQ(client.GetTemplate("t").NextToken, "");
  EXPECT_EQ(server_.requests().back().raw_query, "");
}

TEST_F(TemplatesTest, DeleteTemplateAccepts204And200) {
  auto client = MakeClient();
  Respond(204);
  client.DeleteTemplate("team/name:tag");
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.raw_path, "/templates/team%2Fname%3Atag");
  ExpectApiHeaders(r, false);
  Respond(200, "{}");
  EXPECT_NO_THROW(client.DeleteTemplate(e2b::Context::Background(), "t"));
}

TEST_F(TemplatesTest, BuildLogsEncodeEveryParameter) {
  auto client = MakeClient();
  Respond(200, R"({"logs":[{"timestamp":"t1","message":"step 1",
    "level":"info","step":"build"},{"timestamp":"t2","message":"done",
    "level":"info","step":null}]})");
  auto logs = client.GetTemplateBuildLogs(
      "tpl/x", "build 1", e2b::WithBuildLogCursor(1700000000000),
      e2b::WithBuildLogLimit(50), e2b::WithBuildLogDirection("forward"),
      e2b::WithBuildLogLevel("debug"), e2b::WithBuildLogSource("persistent"));
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].Message, "step 1");
  EXPECT_EQ(logs[0].Step, "build");
  EXPECT_EQ(logs[1].Step, "");
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/templates/tpl%2Fx/builds/build%201/logs");
  EXPECT_EQ(r.raw_query,
            "cursor=1700000000000&limit=50&direction=forward&level=debug&"
            "source=persistent");
  ExpectApiHeaders(r, false);

  Respond(200, "{}");
  EXPECT_TRUE(client.GetTemplateBuildLogs("t", "b").empty());
}

TEST_F(TemplatesTest, EveryStatusMapsToItsError) {
  struct Case {
    const char* name;
    std::function<void(const e2b::Client&)> call;
    bool template_404;
  };
  const std::vector<Case> cases = {
      {"ListTemplates", [](const e2b::Client& c) { c.ListTemplates(); }, false},
      {"CreateTemplate",
       [](const e2b::Client& c) {
         e2b::CreateTemplateConfig cfg;
         cfg.Name = "tpl/x:1";
         c.CreateTemplate(cfg);
       },
       false},
      {"GetTemplate", [](const e2b::Client& c) { c.GetTemplate("tpl/x:1"); },
       true},
      {"DeleteTemplate",
       [](const e2b::Client& c) { c.DeleteTemplate("tpl/x:1"); }, true},
      {"GetTemplateBuildLogs",
       [](const e2b::Client& c) { c.GetTemplateBuildLogs("tpl/x:1", "b"); },
       true},
  };
  auto client = MakeClient();
  for (const auto& c : cases) {
    for (int status : {400, 401, 403, 404, 409, 429, 500}) {
      SCOPED_TRACE(std::string(c.name) + " " + std::to_string(status));
      Respond(status, ErrorBody(status, "oops"));
      try {
        c.call(client);
        ADD_FAILURE() << "no exception";
      } catch (const e2b::TemplateNotFoundError& e) {
        EXPECT_TRUE(status == 404 && c.template_404);
        EXPECT_EQ(e.TemplateID(), "tpl/x:1");
        ExpectCleanError(e, 404, "oops");
      } catch (const e2b::SandboxNotFoundError&) {
        ADD_FAILURE() << "template call mapped to SandboxNotFoundError";
      } catch (const e2b::Error& e) {
        EXPECT_FALSE(status == 404 && c.template_404);
        ExpectCleanError(e, status, "oops");
      }
    }
    const bool create = std::string(c.name) == "CreateTemplate";
    Respond(create ? 202 : 200, "{\"truncated\": ");
    // A truncated success body is malformed (DeleteTemplate ignores the
    // body of its 200).
    if (std::string(c.name) != "DeleteTemplate") {
      try {
        c.call(client);
        ADD_FAILURE() << c.name << ": accepted truncated JSON";
      } catch (const e2b::Error& e) {
        EXPECT_EQ(e.StatusCode(), 0);
        EXPECT_NE(e.Message().find("malformed response from"),
                  std::string::npos)
            << e.Message();
      }
    } else {
      EXPECT_NO_THROW(c.call(client));
    }
  }
}

}  // namespace
