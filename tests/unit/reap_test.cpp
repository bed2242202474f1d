// Leases and the reaper (src/reap.cpp, src/internal/reap_selection.cpp):
// the lease metadata NewSandbox sends, the selection rule with a fixed
// clock, and ReapSandboxes against a real HTTP server (every page listed
// before the first kill, 404 tolerated, failures recorded per sandbox,
// nothing sent for refused options).

#include "internal/civil_time.hpp"
#include "internal/reap_selection.hpp"
#include "unit/api_test_fixture.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

using e2b_test::ApiTest;
using e2b_test::kTestApiKey;
using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::system_clock;

class ReapTest : public ApiTest {};

std::string CreatedAnswer() {
  return json{{"sandboxID", "inew"},
              {"templateID", "base"},
              {"envdVersion", "0.6.4"},
              {"envdAccessToken", "tok"}}
      .dump();
}

json Listed(const std::string& id, const std::string& started_at,
            const std::map<std::string, std::string>& metadata = {},
            const std::string& state = "running") {
  return json{{"sandboxID", id},
              {"templateID", "base"},
              {"state", state},
              {"startedAt", started_at},
              {"metadata", metadata}};
}

std::map<std::string, std::string> Lease(const std::string& owner,
                                         system_clock::time_point expires) {
  return {
      {e2b::LeaseOwnerMetadataKey, owner},
      {e2b::LeaseExpiresMetadataKey, e2b::internal::FormatRfc3339Utc(expires)}};
}

std::vector<e2b_test::RecordedRequest> Deletes(
    const std::vector<e2b_test::RecordedRequest>& requests) {
  std::vector<e2b_test::RecordedRequest> out;
  for (const auto& r : requests) {
    if (r.method == "DELETE") out.push_back(r);
  }
  return out;
}

// ---- leases on NewSandbox --------------------------------------------------

TEST_F(ReapTest, LeaseWritesOwnerAndExpiryBesideTheMetadata) {
  auto client = MakeClient();
  Respond(201, CreatedAnswer());
  e2b::SandboxConfig cfg;
  cfg.Metadata = {{"job", "42"}};
  cfg.Lease = e2b::SandboxLease{"ci-runner-7", minutes(10)};
  const auto before = system_clock::now();
  client.NewSandbox(cfg);
  const auto after = system_clock::now();

  const json body = BodyJson(OnlyRequest());
  ASSERT_TRUE(body.contains("metadata")) << body.dump();
  const auto& metadata = body["metadata"];
  EXPECT_EQ(metadata.size(), 3u) << metadata.dump();
  EXPECT_EQ(metadata.value("job", ""), "42");
  EXPECT_EQ(metadata.value(e2b::LeaseOwnerMetadataKey, ""), "ci-runner-7");
  const std::string expires = metadata.value(e2b::LeaseExpiresMetadataKey, "");
  ASSERT_EQ(expires.size(), 24u) << expires;
  EXPECT_EQ(expires.back(), 'Z');
  // Fixed-width UTC text orders like the times it names.
  EXPECT_GE(expires, e2b::internal::FormatRfc3339Utc(
                         before + minutes(10) - std::chrono::milliseconds(1)));
  EXPECT_LE(expires, e2b::internal::FormatRfc3339Utc(after + minutes(10)));
}

TEST_F(ReapTest, LeaseWithoutOwnerTakesTheDefaultOwner) {
  ::setenv("E2B_LEASE_OWNER", "owner-from-env", 1);
  EXPECT_EQ(e2b::DefaultLeaseOwner(), "owner-from-env");
  auto client = MakeClient();
  Respond(201, CreatedAnswer());
  e2b::SandboxConfig cfg;
  cfg.Lease = e2b::SandboxLease{"", seconds(30)};
  client.NewSandbox(cfg);
  ::unsetenv("E2B_LEASE_OWNER");
  const json body = BodyJson(OnlyRequest());
  EXPECT_EQ(body["metadata"].value(e2b::LeaseOwnerMetadataKey, ""),
            "owner-from-env");

  // Without the variable: "<user>@<host>", never empty on either side.
  const std::string owner = e2b::DefaultLeaseOwner();
  const auto at = owner.find('@');
  ASSERT_NE(at, std::string::npos) << owner;
  EXPECT_GT(at, 0u) << owner;
  EXPECT_LT(at + 1, owner.size()) << owner;
}

TEST_F(ReapTest, MalformedLeasesAreRefusedBeforeSending) {
  auto client = MakeClient();
  const auto refused = [&](e2b::SandboxConfig cfg, const char* part) {
    try {
      client.NewSandbox(cfg);
      ADD_FAILURE() << "accepted: " << part;
    } catch (const e2b::InvalidArgumentError& e) {
      EXPECT_EQ(e.StatusCode(), 0);
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << e.what();
    }
  };
  e2b::SandboxConfig cfg;
  cfg.Lease = e2b::SandboxLease{"me", seconds(0)};
  refused(cfg, "TTL must be positive");
  cfg.Lease = e2b::SandboxLease{"me", seconds(-5)};
  refused(cfg, "TTL must be positive");
  cfg.Lease = e2b::SandboxLease{"  ", seconds(5)};
  refused(cfg, "Owner is empty");
  cfg.Lease = e2b::SandboxLease{"me\nyou", seconds(5)};
  refused(cfg, "control characters");
  cfg.Lease = e2b::SandboxLease{"me", seconds(5)};
  cfg.Metadata = {{e2b::LeaseExpiresMetadataKey, "2000-01-01T00:00:00Z"}};
  refused(cfg, "must not set the lease keys");
  EXPECT_TRUE(server_.requests().empty());
}

// ---- the selection rule ----------------------------------------------------

TEST(ReapSelectionTest, ExpiredMatchesOnlyLeasesThatHavePassed) {
  const auto now = system_clock::now();
  e2b::ReapOptions opts;
  opts.Expired = true;
  e2b::SandboxInfo sandbox;
  sandbox.StartedAt = e2b::internal::FormatRfc3339Utc(now - hours(2));

  sandbox.Metadata = Lease("a", now - seconds(1));
  EXPECT_TRUE(e2b::internal::ReapSelects(sandbox, opts, now));
  sandbox.Metadata = Lease("a", now + seconds(60));
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));
  sandbox.Metadata = {{e2b::LeaseExpiresMetadataKey, "soon"}};
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));
  sandbox.Metadata.clear();  // no lease: never expired
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));
}

TEST(ReapSelectionTest, CriteriaAndOwnerMustAllMatch) {
  const auto now = system_clock::now();
  e2b::SandboxInfo sandbox;
  sandbox.StartedAt = e2b::internal::FormatRfc3339Utc(now - minutes(30));
  sandbox.Metadata = Lease("alice", now - seconds(1));
  sandbox.Metadata["job"] = "42";

  e2b::ReapOptions opts;
  opts.OlderThan = minutes(20);
  EXPECT_TRUE(e2b::internal::ReapSelects(sandbox, opts, now));
  opts.OlderThan = minutes(40);
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));

  opts.OlderThan.reset();
  opts.Metadata = {{"job", "42"}};
  EXPECT_TRUE(e2b::internal::ReapSelects(sandbox, opts, now));
  opts.Metadata = {{"job", "43"}};
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));
  opts.Metadata = {{"job", "42"}, {"other", "x"}};
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));

  opts.Metadata = {{"job", "42"}};
  opts.Expired = true;
  opts.Owner = "alice";
  EXPECT_TRUE(e2b::internal::ReapSelects(sandbox, opts, now));
  opts.Owner = "bob";
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));

  // An owner filter never matches a sandbox without a lease.
  opts = {};
  opts.OlderThan = seconds(0);
  opts.Owner = "alice";
  sandbox.Metadata = {{"job", "42"}};
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));
  opts.Owner.reset();
  EXPECT_TRUE(e2b::internal::ReapSelects(sandbox, opts, now));
  sandbox.StartedAt = "yesterday";
  EXPECT_FALSE(e2b::internal::ReapSelects(sandbox, opts, now));
}

// ---- ReapSandboxes over HTTP -----------------------------------------------

TEST_F(ReapTest, OptionsWithoutACriterionAreRefusedBeforeSending) {
  auto client = MakeClient();
  e2b::ReapOptions none;
  none.Owner = "alice";
  none.DryRun = true;
  EXPECT_THROW(client.ReapSandboxes(none), e2b::InvalidArgumentError);
  e2b::ReapOptions negative;
  negative.OlderThan = seconds(-1);
  EXPECT_THROW(client.ReapSandboxes(negative), e2b::InvalidArgumentError);
  e2b::ReapOptions empty_owner;
  empty_owner.Expired = true;
  empty_owner.Owner = "";
  EXPECT_THROW(client.ReapSandboxes(empty_owner), e2b::InvalidArgumentError);
  e2b::ReapOptions empty_key;
  empty_key.Metadata = {{"", "x"}};
  EXPECT_THROW(client.ReapSandboxes(empty_key), e2b::InvalidArgumentError);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(ReapTest, ListsEveryPageThenKillsTheSelected) {
  auto client = MakeClient();
  const auto now = system_clock::now();
  const std::string old = e2b::internal::FormatRfc3339Utc(now - hours(1));
  Respond(200,
          json::array({Listed("iexpired", old, Lease("ci", now - seconds(5))),
                       Listed("ifresh", old, Lease("ci", now + hours(1)))})
              .dump(),
          {{"X-Next-Token", "page2"}});
  Respond(200, json::array({Listed("ipaused", old, Lease("ci", now - hours(1)),
                                   "paused")})
                   .dump());
  Respond(204);
  Respond(204);

  e2b::ReapOptions opts;
  opts.Expired = true;
  opts.Owner = "ci";
  const auto report = client.ReapSandboxes(opts);
  EXPECT_EQ(report.Selected, (std::vector<std::string>{"iexpired", "ipaused"}));
  EXPECT_EQ(report.Killed, (std::vector<std::string>{"iexpired", "ipaused"}));
  EXPECT_EQ(report.Skipped, std::vector<std::string>{"ifresh"});
  EXPECT_TRUE(report.Gone.empty());
  EXPECT_TRUE(report.Failed.empty());

  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 4u);
  // Both pages before the first kill, the owner as a server-side filter,
  // running and paused.
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/v2/sandboxes");
  EXPECT_EQ(
      requests[0].raw_query,
      "metadata=e2b-cpp.lease.owner%253Dci&state=running%2Cpaused&limit=100");
  EXPECT_EQ(requests[1].raw_query,
            "metadata=e2b-cpp.lease.owner%253Dci&state=running%2Cpaused&"
            "limit=100&nextToken=page2");
  EXPECT_EQ(requests[2].method, "DELETE");
  EXPECT_EQ(requests[2].raw_path, "/sandboxes/iexpired");
  EXPECT_EQ(requests[3].raw_path, "/sandboxes/ipaused");
}

TEST_F(ReapTest, GoneSandboxesAreToleratedAndFailuresRecordedPerSandbox) {
  auto client = MakeClient();
  const auto now = system_clock::now();
  const std::string old = e2b::internal::FormatRfc3339Utc(now - hours(3));
  Respond(200,
          json::array({Listed("i1", old), Listed("i2", old), Listed("i3", old)})
              .dump());
  Respond(404, ErrorBody(404, "sandbox not found"));
  Respond(500, ErrorBody(500, "storage down"));
  Respond(204);

  e2b::ReapOptions opts;
  opts.OlderThan = hours(2);
  const auto report = client.ReapSandboxes(opts);
  EXPECT_EQ(report.Gone, std::vector<std::string>{"i1"});
  ASSERT_EQ(report.Failed.size(), 1u);
  EXPECT_EQ(report.Failed[0].SandboxID, "i2");
  EXPECT_EQ(report.Failed[0].StatusCode, 500);
  EXPECT_NE(report.Failed[0].Message.find("storage down"), std::string::npos)
      << report.Failed[0].Message;
  EXPECT_EQ(report.Failed[0].Message.find(kTestApiKey), std::string::npos);
  EXPECT_EQ(report.Killed, std::vector<std::string>{"i3"});
  EXPECT_EQ(Deletes(server_.requests()).size(), 3u);
}

TEST_F(ReapTest, DryRunKillsNothingAndAFailedListingKillsNothing) {
  auto client = MakeClient();
  const auto now = system_clock::now();
  const std::string old = e2b::internal::FormatRfc3339Utc(now - hours(3));
  // The server ignored the metadata filter: the client checks again.
  Respond(200, json::array({Listed("imatch", old, {{"job", "7"}}),
                            Listed("iother", old, {{"job", "8"}}),
                            Listed("inone", old)})
                   .dump());
  e2b::ReapOptions opts;
  opts.Metadata = {{"job", "7"}};
  opts.DryRun = true;
  const auto report = client.ReapSandboxes(opts);
  EXPECT_EQ(report.Selected, std::vector<std::string>{"imatch"});
  EXPECT_TRUE(report.Killed.empty());
  EXPECT_EQ(report.Skipped, (std::vector<std::string>{"iother", "inone"}));
  EXPECT_EQ(OnlyRequest().raw_query,
            "metadata=job%253D7&state=running%2Cpaused&limit=100");

  server_.clear_requests();
  Respond(200, json::array({Listed("imatch", old, {{"job", "7"}})}).dump(),
          {{"X-Next-Token", "p2"}});
  Respond(401, ErrorBody(401, "bad key"));
  opts.DryRun = false;
  EXPECT_THROW(client.ReapSandboxes(opts), e2b::AuthenticationError);
  EXPECT_TRUE(Deletes(server_.requests()).empty());
}

}  // namespace
