// Sandbox::CreateSnapshot and Client::ListSnapshots against a real HTTP
// server.

#include "unit/api_test_fixture.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace {

using e2b_test::ApiTest;
using e2b_test::ExpectCleanError;
using nlohmann::json;

class SnapshotsTest : public ApiTest {};

TEST_F(SnapshotsTest, CreateSnapshotWithName) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "isnap");
  Respond(201, R"({"snapshotID":"team/my-snap:default",
                   "names":["team/my-snap"]})");
  auto snapshot = sandbox.CreateSnapshot("my-snap");
  EXPECT_EQ(snapshot.SnapshotID, "team/my-snap:default");
  EXPECT_EQ(snapshot.Names, std::vector<std::string>{"team/my-snap"});
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/sandboxes/isnap/snapshots");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(BodyJson(r), (json{{"name", "my-snap"}}));
}

TEST_F(SnapshotsTest, CreateSnapshotWithoutNameSendsEmptyObject) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "isnap");
  Respond(201, R"({"snapshotID":"isnap:default","names":null})");
  auto snapshot = sandbox.CreateSnapshot(e2b::Context::Background());
  EXPECT_EQ(snapshot.SnapshotID, "isnap:default");
  EXPECT_TRUE(snapshot.Names.empty());
  auto r = OnlyRequest();
  ExpectApiHeaders(r, true);
  EXPECT_EQ(r.body, "{}");
}

TEST_F(SnapshotsTest, CreateSnapshotOnlyAccepts201) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client, "isnap");
  Respond(404, ErrorBody(404, "sandbox gone"));
  try {
    sandbox.CreateSnapshot();
    FAIL() << "no exception";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "isnap");
    ExpectCleanError(e, 404, "sandbox gone");
  }
  Respond(201, R"({"snapshotID":17})");
  try {
    sandbox.CreateSnapshot();
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(e.Message().find("snapshotID"), std::string::npos);
  }
}

TEST_F(SnapshotsTest, ListSnapshotsWithoutOptions) {
  auto client = MakeClient();
  Respond(200, R"([{"snapshotID":"a:default","names":["a"]},
                   {"snapshotID":"b:default"}])");
  auto result = client.ListSnapshots();
  ASSERT_EQ(result.Snapshots.size(), 2u);
  EXPECT_EQ(result.Snapshots[0].SnapshotID, "a:default");
  EXPECT_EQ(result.Snapshots[1].SnapshotID, "b:default");
  EXPECT_EQ(result.NextToken, "");
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/snapshots");
  EXPECT_EQ(r.raw_query, "");
  ExpectApiHeaders(r, false);
}

TEST_F(SnapshotsTest, ListSnapshotsEncodesOptionsAndReadsNextToken) {
  auto client = MakeClient();
  Respond(200, "[]", {{"x-next-token", "next/page=="}});
  auto result = client.ListSnapshots(
      e2b::Context::Background(), e2b::WithSnapshotSandboxID("isb 1&x"),
      e2b::WithSnapshotLimit(5), e2b::WithSnapshotNextToken("tok+/=="));
  EXPECT_TRUE(result.Snapshots.empty());
  EXPECT_EQ(result.NextToken, "next/page==");
  auto r = OnlyRequest();
  EXPECT_EQ(r.raw_query,
            "sandboxID=isb%201%26x&limit=5&nextToken=tok%2B%2F%3D%3D");
}

TEST_F(SnapshotsTest, ListSnapshotsErrors) {
  auto client = MakeClient();
  for (int status : {400, 401, 404, 429, 500}) {
    Respond(status, ErrorBody(status, "list failed"));
    try {
      client.ListSnapshots();
      ADD_FAILURE() << status << ": no exception";
    } catch (const e2b::SandboxNotFoundError&) {
      ADD_FAILURE() << "a listing has no sandbox to be missing";
    } catch (const e2b::Error& e) {
      ExpectCleanError(e, status, "list failed");
    }
  }
  Respond(200, R"({"snapshots":[]})");
  EXPECT_THROW(client.ListSnapshots(), e2b::Error);
}

}  // namespace
