// Attacks through template builds: every step runs in a build sandbox and
// an uploaded archive is unpacked only by the sandbox's own tar, so an
// archive with `..`, absolute and symlinked member names, and steps that go
// for the host's files, must leave the host untouched; upload links must
// not write outside the build-file store.

#include "escape/escape_support.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

namespace e2b_test {
namespace escape {
namespace {

class TemplateBuildEscapeTest : public EscapeTest {
 protected:
  // Runs the build to its end; returns its status and every log line.
  std::pair<std::string, std::string> BuildToEnd(
      const e2b::Client& client, const e2b::TemplateInfo& info,
      const e2b::StartBuildConfig& cfg) {
    client.StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
    std::string logs;
    int offset = 0;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::minutes(5);
    for (;;) {
      e2b::BuildStatus status =
          client.GetBuildStatus(info.TemplateID, info.BuildID,
                                e2b::WithBuildStatusLogsOffset(offset));
      for (const auto& e : status.LogEntries) logs += e.Message + "\n";
      offset += static_cast<int>(status.LogEntries.size());
      const bool done = status.Status == "ready" || status.Status == "error";
      if ((done && status.LogEntries.empty()) ||
          std::chrono::steady_clock::now() > deadline) {
        if (status.Reason) logs += "reason: " + status.Reason->Message + "\n";
        return {status.Status, logs};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
};

TEST_F(TemplateBuildEscapeTest, HostileArchiveAndStepsStayInTheBuildSandbox) {
  const e2b::Client client = Server().NewClient();
  const std::string canary = Canary().Dir();
  // The archive: a member climbing out with "..", an absolute one, and a
  // symlink to the canary directory with a member written through it.
  const std::string stage = Server().TempDir() + "/evil-" + RandomHex(4);
  const std::string archive = stage + ".tar.gz";
  const std::string make =
      "set -e; mkdir -p '" + stage + "/files'; cd '" + stage +
      "'; echo pwned > p1; echo pwned > p2; echo pwned > p3; "
      "ln -s '" +
      canary +
      "' files/link; "
      "tar -czPf '" +
      archive +
      "' files/link "
      "--transform='s|^p1$|../../../../../../../../../.." +
      canary + "/planted-rel|' --transform='s|^p2$|" + canary +
      "/planted-abs|' --transform='s|^p3$|files/link/planted-via-link|' "
      "p1 p2 p3";
  ASSERT_EQ(std::system(("bash -c \"" + make + "\"").c_str()), 0) << make;
  const std::string hash(64, 'e');

  e2b::CreateTemplateConfig create;
  create.Name = "escape-build-" + RandomHex(4);
  e2b::TemplateInfo info = client.CreateTemplate(create);
  e2b::BuildFileStatus link = client.CheckBuildFiles(info.TemplateID, hash);
  ASSERT_FALSE(link.Present);
  std::ifstream in(archive, std::ios::binary);
  client.UploadBuildFiles(link.URL, in);

  e2b::StartBuildConfig cfg;
  e2b::TemplateStep copy;
  copy.Type = "COPY";
  copy.Args = {"files", "/opt/evil/"};
  copy.FilesHash = hash;
  e2b::TemplateStep run;
  run.Type = "RUN";
  run.Args = {"cat " + Canary().Path("secret.txt") + "; echo pwned > " +
                  canary +
                  "/planted-run; "
                  "ls -la /opt/evil /opt/evil/link/ 2>&1; true",
              "root"};
  cfg.Steps = {copy, run};
  const auto [status, logs] = BuildToEnd(client, info, cfg);
  // Whether it builds is secondary; what it reached is not.
  EXPECT_EQ(Canary().Changes(), "") << logs;
  EXPECT_EQ(logs.find(Canary().Secret()), std::string::npos) << logs;
  EXPECT_EQ(logs.find(Server().APIKey()), std::string::npos);
  EXPECT_TRUE(status == "ready" || status == "error") << status << logs;
}

// An image in the images directory is as hostile as an upload: its layers
// climb out with "..", name absolute paths and write through a symlink to a
// host directory, and its manifest points a layer at ../../ paths.
TEST_F(TemplateBuildEscapeTest, HostileImageLayersStayInTheImportSandbox) {
  const e2b::Client client = Server().NewClient();
  const std::string canary = Canary().Dir();
  const std::string images = Server().TempDir() + "/state/images";
  const std::string stage = Server().TempDir() + "/evil-image-" + RandomHex(4);
  const std::string make =
      "set -e; mkdir -p '" + stage + "/layer' '" + images + "'; cd '" + stage +
      "/layer'; echo pwned > p1; echo pwned > p2; echo pwned > p3; "
      "ln -s '" +
      canary +
      "' link; "
      "tar -cPf ../l1.tar link "
      "--transform='s|^p1$|../../../../../../../../../.." +
      canary + "/planted-rel|' --transform='s|^p2$|" + canary +
      "/planted-abs|' --transform='s|^p3$|link/planted-via-link|' p1 p2 p3; "
      "cd ..; echo '{\\\"config\\\":{}}' > config.json; "
      "echo '[{\\\"Config\\\":\\\"config.json\\\",\\\"Layers\\\":"
      "[\\\"l1.tar\\\"]}]' > manifest.json; tar -cf '" +
      images +
      "/evil:1.tar' manifest.json config.json l1.tar; "
      "echo '[{\\\"Config\\\":\\\"config.json\\\",\\\"Layers\\\":"
      "[\\\"../../../../../../..'" +
      canary +
      "'/secret.txt\\\"]}]' > "
      "manifest.json; tar -cf '" +
      images +
      "/evil:2.tar' manifest.json "
      "config.json l1.tar";
  ASSERT_EQ(std::system(("bash -c \"" + make + "\"").c_str()), 0) << make;

  for (const std::string image : {"evil:1", "evil:2"}) {
    SCOPED_TRACE(image);
    e2b::CreateTemplateConfig create;
    create.Name = "escape-image-" + RandomHex(4);
    e2b::TemplateInfo info = client.CreateTemplate(create);
    e2b::StartBuildConfig cfg;
    cfg.FromImage = image;
    const auto [status, logs] = BuildToEnd(client, info, cfg);
    EXPECT_EQ(Canary().Changes(), "") << logs;
    EXPECT_EQ(logs.find(Canary().Secret()), std::string::npos) << logs;
    // evil:1 may build (its tricks land inside the image); evil:2 names a
    // layer outside the archive and must not.
    if (image == "evil:2") {
      EXPECT_EQ(status, "error") << logs;
    } else {
      std::cout << image << ": " << status << "\n";
    }
  }
}

TEST_F(TemplateBuildEscapeTest, UploadLinksWriteOnlyTheirOwnHash) {
  const e2b::Client client = Server().NewClient();
  e2b::CreateTemplateConfig create;
  create.Name = "escape-upload-" + RandomHex(4);
  e2b::TemplateInfo info = client.CreateTemplate(create);
  const std::string hash(64, 'c');
  e2b::BuildFileStatus link = client.CheckBuildFiles(info.TemplateID, hash);
  ASSERT_FALSE(link.Present);
  const std::string token = link.URL.substr(link.URL.find("token="));
  const std::string base = link.URL.substr(0, link.URL.find("/build-files/"));
  // The token of one hash does not write another, nor a path.
  for (const std::string& target :
       {std::string(64, 'd'), std::string("..%2F..%2F..%2Fescaped"),
        std::string("%2E%2E"), std::string("..")}) {
    SCOPED_TRACE(target);
    std::istringstream body("x");
    EXPECT_THROW(client.UploadBuildFiles(
                     base + "/build-files/" + target + "?" + token, body),
                 e2b::Error);
  }
  EXPECT_FALSE(
      client.CheckBuildFiles(info.TemplateID, std::string(64, 'd')).Present);
  EXPECT_NE(::access((Server().TempDir() + "/state/escaped").c_str(), F_OK), 0);
  EXPECT_NE(::access((Server().TempDir() + "/escaped").c_str(), F_OK), 0);
  // The right one works once.
  std::istringstream body("not really a tar");
  client.UploadBuildFiles(link.URL, body);
  EXPECT_TRUE(client.CheckBuildFiles(info.TemplateID, hash).Present);
  std::istringstream again("again");
  EXPECT_THROW(client.UploadBuildFiles(link.URL, again), e2b::Error);
}

}  // namespace
}  // namespace escape
}  // namespace e2b_test
