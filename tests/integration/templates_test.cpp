// Template calls against a real e2b-local: create, list, get (with build
// paging), build logs, delete.

#include "integration/e2b_local_fixture.hpp"

#include <algorithm>
#include <set>
#include <string>

namespace e2b_test {
namespace {

class TemplatesTest : public E2bLocalTest {};

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const e2b::TemplateDetail* FindTemplate(
    const std::vector<e2b::TemplateDetail>& list, const std::string& id) {
  for (const auto& t : list) {
    if (t.TemplateID == id) return &t;
  }
  return nullptr;
}

TEST_F(TemplatesTest, CreateListGetLogsDelete) {
  const std::string name = "it-template-" + RandomHex(4);
  e2b::CreateTemplateConfig cfg;
  cfg.Name = name;
  cfg.CPUCount = 2;
  cfg.MemoryMB = 1024;
  e2b::TemplateInfo created = Client().CreateTemplate(cfg);
  ASSERT_FALSE(created.TemplateID.empty());
  ASSERT_FALSE(created.BuildID.empty());
  EXPECT_FALSE(created.Public);
  EXPECT_TRUE(
      std::any_of(created.Names.begin(), created.Names.end(),
                  [&](const std::string& n) { return n.rfind(name, 0) == 0; }))
      << "names do not carry " << name;
  EXPECT_TRUE(Contains(created.Tags, "default"));

  // Listed with its resources.
  std::vector<e2b::TemplateDetail> list = Client().ListTemplates();
  const e2b::TemplateDetail* listed = FindTemplate(list, created.TemplateID);
  ASSERT_NE(listed, nullptr) << created.TemplateID << " not listed";
  EXPECT_EQ(listed->CPUCount, 2);
  EXPECT_EQ(listed->MemoryMB, 1024);
  EXPECT_EQ(listed->BuildID, created.BuildID);
  EXPECT_GE(listed->BuildCount, 1);
  EXPECT_TRUE(ParseRFC3339(listed->CreatedAt).has_value()) << listed->CreatedAt;
  EXPECT_FALSE(listed->BuildStatus.empty());

  // Get: the template and its one build.
  e2b::GetTemplateResult got = Client().GetTemplate(created.TemplateID);
  EXPECT_EQ(got.Template.TemplateID, created.TemplateID);
  EXPECT_TRUE(got.NextToken.empty());
  ASSERT_EQ(got.Template.Builds.size(), 1u);
  EXPECT_EQ(got.Template.Builds[0].BuildID, created.BuildID);
  EXPECT_EQ(got.Template.Builds[0].CPUCount, 2);
  EXPECT_EQ(got.Template.Builds[0].MemoryMB, 1024);
  EXPECT_FALSE(got.Template.Builds[0].Status.empty());
  EXPECT_TRUE(got.Template.SpawnCount == 0);

  // A second create under the same name adds a build to the same template.
  e2b::TemplateInfo again = Client().CreateTemplate(cfg);
  EXPECT_EQ(again.TemplateID, created.TemplateID);
  EXPECT_NE(again.BuildID, created.BuildID);

  // Build paging, one per page.
  std::set<std::string> builds;
  e2b::GetTemplateResult page =
      Client().GetTemplate(created.TemplateID, e2b::WithTemplateBuildsLimit(1));
  ASSERT_EQ(page.Template.Builds.size(), 1u);
  builds.insert(page.Template.Builds[0].BuildID);
  ASSERT_FALSE(page.NextToken.empty()) << "no next page with 2 builds";
  page =
      Client().GetTemplate(created.TemplateID, e2b::WithTemplateBuildsLimit(1),
                           e2b::WithTemplateBuildsNextToken(page.NextToken));
  ASSERT_EQ(page.Template.Builds.size(), 1u);
  builds.insert(page.Template.Builds[0].BuildID);
  EXPECT_TRUE(page.NextToken.empty());
  EXPECT_EQ(builds, (std::set<std::string>{created.BuildID, again.BuildID}));
  EXPECT_EQ(Client().GetTemplate(created.TemplateID).Template.Builds.size(),
            2u);

  // Build logs.
  std::vector<e2b::BuildLogEntry> logs =
      Client().GetTemplateBuildLogs(created.TemplateID, created.BuildID);
  ASSERT_FALSE(logs.empty());
  for (const auto& e : logs) {
    EXPECT_FALSE(e.Message.empty());
    EXPECT_FALSE(e.Level.empty());
    EXPECT_TRUE(ParseRFC3339(e.Timestamp).has_value()) << e.Timestamp;
  }
  EXPECT_LE(Client()
                .GetTemplateBuildLogs(created.TemplateID, created.BuildID,
                                      e2b::WithBuildLogLimit(1),
                                      e2b::WithBuildLogDirection("backward"),
                                      e2b::WithBuildLogLevel("debug"))
                .size(),
            1u);
  EXPECT_THROW(Client().GetTemplateBuildLogs(
                   created.TemplateID, "00000000-0000-0000-0000-000000000000"),
               e2b::TemplateNotFoundError);

  // Delete: gone from get, list and delete.
  Client().DeleteTemplate(created.TemplateID);
  try {
    Client().GetTemplate(created.TemplateID);
    FAIL() << "GetTemplate after delete did not throw";
  } catch (const e2b::TemplateNotFoundError& e) {
    EXPECT_EQ(e.TemplateID(), created.TemplateID);
    EXPECT_EQ(e.StatusCode(), 404);
  }
  EXPECT_EQ(FindTemplate(Client().ListTemplates(), created.TemplateID),
            nullptr);
  EXPECT_THROW(Client().DeleteTemplate(created.TemplateID),
               e2b::TemplateNotFoundError);
}

TEST_F(TemplatesTest, UnknownTemplateIsTemplateNotFound) {
  const std::string id = "no-such-template-" + RandomHex(4);
  try {
    Client().GetTemplate(id);
    FAIL() << "GetTemplate of an unknown id did not throw";
  } catch (const e2b::TemplateNotFoundError& e) {
    EXPECT_EQ(e.TemplateID(), id);
  }
  EXPECT_THROW(Client().DeleteTemplate(id), e2b::TemplateNotFoundError);
  EXPECT_THROW(Client().GetTemplateBuildLogs(id, "some-build"),
               e2b::TemplateNotFoundError);
}

TEST_F(TemplatesTest, CreateTemplateValidatesItsInput) {
  e2b::CreateTemplateConfig cfg;  // no name
  try {
    Client().CreateTemplate(cfg);
    FAIL() << "CreateTemplate without a name did not throw";
  } catch (const e2b::Error& e) {
    // Refused before sending (status 0) or by the server (400).
    EXPECT_TRUE(e.StatusCode() == 0 || e.StatusCode() == 400) << e.what();
    EXPECT_NE(std::string(e.what()).find("ame"), std::string::npos)
        << "the error does not name the missing field: " << e.what();
  }
  cfg.Name = "it-bad-mem-" + RandomHex(4);
  cfg.MemoryMB = 64;  // below the 128 MiB minimum
  try {
    Client().CreateTemplate(cfg);
    FAIL() << "CreateTemplate with 64 MiB did not throw";
  } catch (const e2b::Error& e) {
    EXPECT_TRUE(e.StatusCode() == 0 || e.StatusCode() == 400) << e.what();
  }
}

TEST_F(TemplatesTest, NewSandboxFromUnknownTemplateIs404) {
  e2b::SandboxConfig cfg = Config();
  cfg.Template = "no-such-template-" + RandomHex(4);
  try {
    NewSandbox(cfg);
    FAIL() << "NewSandbox with an unknown template did not throw";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 404) << e.what();
  }
}

TEST_F(TemplatesTest, TemplateWithTagsAndSnapshotsAreNotTemplates) {
  e2b::CreateTemplateConfig cfg;
  cfg.Name = "it-tagged-" + RandomHex(4);
  cfg.Tags = {"v1", "stable"};
  e2b::TemplateInfo created = Client().CreateTemplate(cfg);
  EXPECT_TRUE(Contains(created.Tags, "v1"));
  EXPECT_TRUE(Contains(created.Tags, "stable"));

  // A snapshot is listed by ListSnapshots, not by ListTemplates.
  e2b::Sandbox sb = NewSandbox();
  e2b::SnapshotInfo snap = sb.CreateSnapshot();
  for (const auto& t : Client().ListTemplates()) {
    EXPECT_NE(t.TemplateID, snap.SnapshotID);
  }
  Client().DeleteTemplate(created.TemplateID);
}

}  // namespace
}  // namespace e2b_test
