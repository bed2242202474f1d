// The control-plane JSON mapping: lenient input, strict output, and clear
// errors for the wrong shapes.

#include "internal/json_mapping.hpp"

#include <e2b/errors.hpp>
#include <e2b/types.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace {

using e2b::internal::ParseResponse;
using nlohmann::json;

// The message ParseResponse throws for `body`, or "" when it parses.
template <typename T>
std::string ParseError(const std::string& body) {
  try {
    ParseResponse<T>(body, "GET /op");
    return "";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_EQ(e.Message().rfind("malformed response from GET /op: ", 0), 0u)
        << e.Message();
    return e.Message();
  }
}

TEST(JsonMappingTest, MissingAndNullFieldsKeepDefaults) {
  auto info = ParseResponse<e2b::SandboxInfo>(
      R"({"sandboxID":null,"cpuCount":null,"lifecycle":null})", "op");
  EXPECT_EQ(info.ID, "");
  EXPECT_EQ(info.CPUCount, 0);
  EXPECT_FALSE(info.Lifecycle.AutoResume);
  auto metric = ParseResponse<e2b::SandboxMetric>("{}", "op");
  EXPECT_EQ(metric.MemTotal, 0);
  EXPECT_EQ(metric.CPUUsedPct, 0);
}

TEST(JsonMappingTest, UnknownFieldsAreIgnored) {
  auto snap = ParseResponse<e2b::SnapshotInfo>(
      R"({"snapshotID":"s","future":{"nested":[1,{"x":null}]},"n":1})", "op");
  EXPECT_EQ(snap.SnapshotID, "s");
}

TEST(JsonMappingTest, IntegersAsNumbersOrStrings) {
  auto metric = ParseResponse<e2b::SandboxMetric>(
      R"({"memTotal":"9223372036854775807","memUsed":-5,"cpuCount":"4",
          "diskUsed":3.0,"cpuUsedPct":"12.5","timestampUnix":1e3})",
      "op");
  EXPECT_EQ(metric.MemTotal, 9223372036854775807);
  EXPECT_EQ(metric.MemUsed, -5);
  EXPECT_EQ(metric.CPUCount, 4);
  EXPECT_EQ(metric.DiskUsed, 3);
  EXPECT_DOUBLE_EQ(metric.CPUUsedPct, 12.5);
  EXPECT_EQ(metric.TimestampUnix, 1000);
}

TEST(JsonMappingTest, WrongTypesAreReportedByField) {
  EXPECT_NE(
      ParseError<e2b::SandboxInfo>(R"({"cpuCount":"four"})").find("cpuCount"),
      std::string::npos);
  EXPECT_NE(
      ParseError<e2b::SandboxInfo>(R"({"cpuCount":1.5})").find("cpuCount"),
      std::string::npos);
  EXPECT_NE(ParseError<e2b::SandboxInfo>(R"({"cpuCount":3000000000})")
                .find("out of range"),
            std::string::npos);
  EXPECT_NE(
      ParseError<e2b::SandboxInfo>(R"({"sandboxID":7})").find("sandboxID"),
      std::string::npos);
  EXPECT_NE(ParseError<e2b::TemplateInfo>(R"({"public":"yes"})").find("public"),
            std::string::npos);
  EXPECT_NE(ParseError<e2b::TemplateInfo>(R"({"names":"a"})").find("names"),
            std::string::npos);
  EXPECT_NE(ParseError<e2b::TemplateInfo>(R"({"names":["a",1]})").find("names"),
            std::string::npos);
  EXPECT_NE(
      ParseError<e2b::SandboxInfo>(R"({"lifecycle":"kill"})").find("lifecycle"),
      std::string::npos);
  EXPECT_NE(ParseError<e2b::SandboxInfo>(R"({"volumeMounts":[{"name":1}]})")
                .find("volumeMounts"),
            std::string::npos);
  EXPECT_NE(
      ParseError<e2b::SandboxMetric>(R"({"memTotal":"12x"})").find("memTotal"),
      std::string::npos);
  EXPECT_NE(ParseError<e2b::SandboxMetric>(R"({"cpuUsedPct":"abc"})")
                .find("cpuUsedPct"),
            std::string::npos);
  EXPECT_NE(
      ParseError<e2b::SandboxLogEntry>(R"({"fields":[1]})").find("fields"),
      std::string::npos);
}

// The tree-free decoder of frequent answers (DecodeFlat) takes the common
// case and hands everything else to the tree decoder; both must agree.
TEST(JsonMappingTest, FlatDecoderMatchesTheTreeDecoder) {
  const std::string body = R"( {"alias":"base","allowInternetAccess":false,
      "clientID":"c","cpuCount":2,"diskSizeMB":"1024","domain":null,
      "endAt":"2026-11-29T10:20:43.968Z","envdAccessToken":"tok",
      "envdVersion":"0.6.4","lifecycle":{"autoResume":true,"onTimeout":"pause"},
      "memoryMB":512,"metadata":{"k":"v","e":""},"sandboxID":"sbx1",
      "startedAt":"2026-11-29T10:20:28.968Z","state":"running",
      "templateID":"base","volumeMounts":[{"name":"v","path":"/data"}],
      "network":{"allowOut":["a"]},"future":{"x":[1,null]}} )";
  e2b::SandboxInfo flat;
  ASSERT_TRUE(e2b::internal::DecodeFlat(body, flat));
  e2b::SandboxInfo tree;
  e2b::internal::Decode(json::parse(body), tree);
  json a;
  json b;
  e2b::to_json(a, flat);
  e2b::to_json(b, tree);
  EXPECT_EQ(a, b);
  EXPECT_EQ(flat.ID, "sbx1");
  EXPECT_EQ(flat.DiskSizeMB, 1024);
  EXPECT_EQ(flat.Lifecycle.OnTimeout, "pause");
  EXPECT_TRUE(flat.Lifecycle.AutoResume);
  EXPECT_EQ(flat.Metadata.at("k"), "v");
  ASSERT_TRUE(flat.AllowInternetAccess.has_value());
  EXPECT_FALSE(*flat.AllowInternetAccess);
  ASSERT_EQ(flat.VolumeMounts.size(), 1u);
  ASSERT_TRUE(flat.Network.has_value());
  EXPECT_EQ(flat.Network->AllowOut, std::vector<std::string>{"a"});

  e2b::internal::CreatedSandbox created;
  ASSERT_TRUE(e2b::internal::DecodeFlat(
      R"({"sandboxID":"s","envdAccessToken":"t","domain":null})", created));
  EXPECT_EQ(created.SandboxID, "s");
  EXPECT_EQ(created.EnvdAccessToken, "t");
  EXPECT_EQ(created.Domain, "");
}

TEST(JsonMappingTest, FlatDecoderReadsSandboxListings) {
  const std::string body =
      R"([{"sandboxID":"a","cpuCount":2,"lifecycle":{"onTimeout":"kill"}},
          {"sandboxID":"b","metadata":{"k":"v"}}])";
  std::vector<e2b::SandboxInfo> flat;
  ASSERT_TRUE(e2b::internal::DecodeFlat(body, flat));
  std::vector<e2b::SandboxInfo> tree;
  e2b::internal::Decode(json::parse(body), tree);
  ASSERT_EQ(flat.size(), 2u);
  ASSERT_EQ(tree.size(), 2u);
  for (std::size_t i = 0; i < flat.size(); ++i) {
    json a;
    json b;
    e2b::to_json(a, flat[i]);
    e2b::to_json(b, tree[i]);
    EXPECT_EQ(a, b);
  }
  std::vector<e2b::SandboxInfo> empty;
  EXPECT_TRUE(e2b::internal::DecodeFlat(" [ ] ", empty));
  EXPECT_TRUE(empty.empty());
  for (const char* other :
       {"null", "[null]", "[{},]", "{}", "[{\"cpuCount\":\"x\"}]"}) {
    SCOPED_TRACE(other);
    std::vector<e2b::SandboxInfo> list;
    EXPECT_FALSE(e2b::internal::DecodeFlat(other, list));
  }
  // null is an empty listing, a bad item names its index (tree path).
  EXPECT_TRUE(
      ParseResponse<std::vector<e2b::SandboxInfo>>("null", "op").empty());
  EXPECT_NE(
      ParseError<std::vector<e2b::SandboxInfo>>(R"([{},{"cpuCount":"x"}])")
          .find("item 1"),
      std::string::npos);
}

TEST(JsonMappingTest, FlatDecoderLeavesTheRestToTheTreeDecoder) {
  struct Case {
    const char* body;
    const char* why;
  };
  for (const Case& c : {
           Case{R"({"sandboxID":"a","sandboxID":"b"})", "repeated member"},
           Case{R"({"metadata":{"k":1}})", "metadata value not a string"},
           Case{R"({"sandboxID":"a\u0062"})", "escape"},
           Case{R"({"cpuCount":"four"})", "wrong type"},
           Case{R"({"lifecycle":{"onTimeout":1}})", "wrong nested type"},
           Case{R"([])", "not an object"},
           Case{R"({"sandboxID":"a"} x)", "trailing text"},
           Case{R"({"sandboxID":"a")", "truncated"},
       }) {
    SCOPED_TRACE(c.why);
    e2b::SandboxInfo info;
    EXPECT_FALSE(e2b::internal::DecodeFlat(c.body, info));
  }
  // ParseResponse then gives the tree decoder's value or error.
  EXPECT_EQ(ParseResponse<e2b::SandboxInfo>(
                R"({"sandboxID":"a","sandboxID":"b"})", "op")
                .ID,
            "b");
  EXPECT_EQ(
      ParseResponse<e2b::SandboxInfo>(R"({"sandboxID":"a\u0062"})", "op").ID,
      "ab");
  EXPECT_EQ(ParseResponse<e2b::SandboxInfo>(R"({"metadata":{"k":1}})", "op")
                .Metadata.at("k"),
            "1");
  EXPECT_NE(ParseError<e2b::SandboxInfo>(R"({"lifecycle":{"onTimeout":1}})")
                .find("field 'lifecycle': field 'onTimeout'"),
            std::string::npos);
}

TEST(JsonMappingTest, TopLevelShapes) {
  EXPECT_NE(ParseError<e2b::SandboxInfo>("[]").find("expected a JSON object"),
            std::string::npos);
  EXPECT_NE(ParseError<std::vector<e2b::SandboxInfo>>("{}").find(
                "expected a JSON array"),
            std::string::npos);
  EXPECT_NE(ParseError<std::vector<e2b::SandboxInfo>>("[1]").find("item 0"),
            std::string::npos);
  EXPECT_TRUE(
      ParseResponse<std::vector<e2b::SandboxInfo>>("null", "op").empty());
}

TEST(JsonMappingTest, InvalidJsonNamesThePositionNotTheContent) {
  const std::string secret = "tok_very_secret";
  const std::string message = ParseError<e2b::SandboxInfo>(
      R"({"envdAccessToken":")" + secret + R"(", oops})");
  EXPECT_NE(message.find("invalid JSON at byte"), std::string::npos);
  EXPECT_EQ(message.find(secret), std::string::npos) << message;
  EXPECT_NE(ParseError<e2b::SandboxInfo>("").find("empty body"),
            std::string::npos);
  EXPECT_NE(ParseError<e2b::SandboxInfo>(R"({"a":)").find("invalid JSON"),
            std::string::npos);
  // Deep nesting is an error, not a crash.
  std::string deep(100000, '[');
  EXPECT_FALSE(ParseError<e2b::SandboxInfo>(deep).empty());
}

TEST(JsonMappingTest, LogsArrayField) {
  auto logs = e2b::internal::ParseArrayField<e2b::SandboxLogEntry>(
      R"({"logs":[{"message":"m","fields":{"a":"b","n":null,"o":{"x":1}}}]})",
      "logs", "op");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].Fields.at("a"), "b");
  EXPECT_EQ(logs[0].Fields.at("n"), "null");
  EXPECT_EQ(logs[0].Fields.at("o"), R"({"x":1})");
  EXPECT_THROW(
      e2b::internal::ParseArrayField<e2b::SandboxLogEntry>("[]", "logs", "op"),
      e2b::Error);
}

TEST(JsonMappingTest, CreatedSandbox) {
  auto created = ParseResponse<e2b::internal::CreatedSandbox>(
      R"({"sandboxID":"i1","templateID":"t","alias":"a","clientID":"c",
          "envdVersion":"0.6.4","envdAccessToken":"tok",
          "trafficAccessToken":null,"domain":"d.test"})",
      "op");
  EXPECT_EQ(created.SandboxID, "i1");
  EXPECT_EQ(created.TemplateID, "t");
  EXPECT_EQ(created.Alias, "a");
  EXPECT_EQ(created.ClientID, "c");
  EXPECT_EQ(created.EnvdVersion, "0.6.4");
  EXPECT_EQ(created.EnvdAccessToken, "tok");
  EXPECT_EQ(created.Domain, "d.test");
}

TEST(JsonMappingTest, RequestBodies) {
  e2b::SandboxConfig cfg;
  EXPECT_EQ(e2b::internal::NewSandboxBody(cfg),
            (json{{"templateID", "base"},
                  {"timeout", 300},
                  {"envVars", json::object()},
                  {"secure", true}}));
  cfg.Template = "";
  cfg.Timeout = 0;
  cfg.EnvVars = {{"K", "V"}};
  auto body = e2b::internal::NewSandboxBody(cfg);
  EXPECT_EQ(body["templateID"], "base");
  EXPECT_EQ(body["timeout"], 300);
  EXPECT_EQ(body["envVars"], (json{{"K", "V"}}));

  e2b::CreateTemplateConfig tpl;
  tpl.Name = "n";
  EXPECT_EQ(e2b::internal::CreateTemplateBody(tpl), (json{{"name", "n"}}));
  tpl.Tags = {"a"};
  tpl.CPUCount = 1;
  tpl.MemoryMB = 128;
  EXPECT_EQ(
      e2b::internal::CreateTemplateBody(tpl),
      (json{
          {"name", "n"}, {"tags", {"a"}}, {"cpuCount", 1}, {"memoryMB", 128}}));
}

TEST(JsonMappingTest, OutputUsesWireNamesAndRoundTrips) {
  e2b::TemplateDetail detail;
  detail.TemplateID = "t";
  detail.SpawnCount = 9007199254740993;
  detail.LastSpawnedAt = "2024";
  detail.Names = {"a"};
  json j = detail;
  EXPECT_EQ(j["templateID"], "t");
  EXPECT_EQ(j["spawnCount"], 9007199254740993);
  EXPECT_EQ(j["lastSpawnedAt"], "2024");
  auto back = ParseResponse<e2b::TemplateDetail>(j.dump(), "op");
  EXPECT_EQ(back.SpawnCount, detail.SpawnCount);
  EXPECT_EQ(back.LastSpawnedAt, detail.LastSpawnedAt);
  EXPECT_EQ(back.Names, detail.Names);
  detail.LastSpawnedAt.reset();
  j = detail;
  EXPECT_TRUE(j["lastSpawnedAt"].is_null());

  e2b::SandboxInfo info;
  info.ID = "i";
  info.Template = "base";
  info.Lifecycle.OnTimeout = "pause";
  info.VolumeMounts = {{"v", "/mnt"}};
  j = info;
  EXPECT_EQ(j["sandboxID"], "i");
  EXPECT_EQ(j["templateID"], "base");
  EXPECT_EQ(j["lifecycle"]["onTimeout"], "pause");
  EXPECT_EQ(j["volumeMounts"][0]["path"], "/mnt");
  auto info_back = ParseResponse<e2b::SandboxInfo>(j.dump(), "op");
  EXPECT_EQ(info_back.VolumeMounts.size(), 1u);
  EXPECT_EQ(info_back.Lifecycle.OnTimeout, "pause");

  e2b::TemplateWithBuilds with_builds;
  with_builds.Builds.resize(2);
  with_builds.Builds[1].BuildID = "b";
  j = with_builds;
  EXPECT_EQ(j["builds"][1]["buildID"], "b");
  EXPECT_EQ(
      ParseResponse<e2b::TemplateWithBuilds>(j.dump(), "op").Builds.size(), 2u);

  e2b::SandboxMetric metric;
  metric.CPUUsedPct = 1.5;
  j = metric;
  EXPECT_EQ(j["cpuUsedPct"], 1.5);
  e2b::SandboxLogEntry entry;
  entry.Fields = {{"a", "b"}};
  j = entry;
  EXPECT_EQ(j["fields"]["a"], "b");
  e2b::BuildLogEntry build_log;
  build_log.Step = "s";
  j = build_log;
  EXPECT_EQ(j["step"], "s");
  e2b::TemplateInfo tinfo;
  tinfo.Tags = {"x"};
  j = tinfo;
  EXPECT_EQ(j["tags"][0], "x");
  e2b::SnapshotInfo snap;
  snap.SnapshotID = "s";
  j = snap;
  EXPECT_EQ(j["snapshotID"], "s");
}

}  // namespace
