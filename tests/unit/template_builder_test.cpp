// TemplateBuilder (Go HEAD's template_builder.go) against a real HTTP
// server: the request sequence of Build and BuildInBackground, the polling
// and its logs, the failure, the validation; and the COPY bundle of
// src/internal/build_bundle.cpp: its tar.gz, read back by the system's tar
// and gzip, and its files hash, checked against the official JS SDK's
// calculateFilesHash.

#include "internal/build_bundle.hpp"
#include "support/test_server.hpp"
#include "unit/api_test_fixture.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using e2b_test::ApiTest;
using e2b_test::RecordedRequest;
using nlohmann::json;

// A fresh directory, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string name =
        (fs::temp_directory_path() / "e2b-builder-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(name.data()), nullptr);
    path_ = name;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The build context is the working directory, as in Go: tests run in one.
class ChangeDir {
 public:
  explicit ChangeDir(const fs::path& to) : old_(fs::current_path()) {
    fs::current_path(to);
  }
  ~ChangeDir() { fs::current_path(old_); }

 private:
  fs::path old_;
};

void WriteFile(const fs::path& p, const std::string& content,
               fs::perms mode = fs::perms(0644)) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  fs::permissions(p, mode);
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The bundle of `src` under `context`, into a file; returns the hash.
std::string Bundle(const fs::path& context, const std::string& src,
                   const std::string& dest, const fs::path& out_path) {
  std::ofstream out(out_path, std::ios::binary);
  return e2b::internal::WriteBuildBundle(context, src, dest, out);
}

int Shell(const std::string& cmd) { return std::system(cmd.c_str()); }

// Points TMPDIR (where the builder spools its bundles) at `dir`.
class TempDirOverride {
 public:
  explicit TempDirOverride(const fs::path& dir) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old;
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~TempDirOverride() {
    if (old_.empty()) {
      ::unsetenv("TMPDIR");
    } else {
      ::setenv("TMPDIR", old_.c_str(), 1);
    }
  }

 private:
  std::string old_;
};

// ---- the request sequence ----

class TemplateBuilderTest : public ApiTest {
 protected:
  void RespondCreate() {
    Respond(202, R"({"templateID":"tpl1","buildID":"bld1","public":true,
      "names":["my-app"],"tags":["default"],"aliases":[]})");
  }
  static std::string StatusBody(const std::string& status,
                                const std::vector<std::string>& messages,
                                const json& reason = nullptr) {
    json entries = json::array();
    for (const auto& m : messages) {
      entries.push_back({{"timestamp", "2026-01-01T00:00:00Z"},
                         {"message", m},
                         {"level", "info"},
                         {"step", "1"}});
    }
    json body = {{"templateID", "tpl1"},
                 {"buildID", "bld1"},
                 {"status", status},
                 {"logs", json::array()},
                 {"logEntries", entries}};
    if (!reason.is_null()) body["reason"] = reason;
    return body.dump();
  }
};

TEST_F(TemplateBuilderTest, BuildSendsTheWholeSequenceAndStreamsTheLogs) {
  ScratchDir dir;
  WriteFile(dir.path() / "files/app/main.py", "print('hi')\n");
  ChangeDir cd(dir.path());
  ScratchDir spool;
  TempDirOverride tmpdir(spool.path());
  const std::string expected_hash =
      Bundle(dir.path(), "files/app", "/app", dir.path() / "expected.tar.gz");

  auto client = MakeClient();
  RespondCreate();
  Respond(201, json{{"present", false},
                    {"url", server_.url() + "/upload/obj?X-Amz-Signature=s"}}
                   .dump());
  Respond(200);  // the upload
  Respond(202);  // start
  Respond(200, StatusBody("building", {"one", "two"}));
  Respond(200, StatusBody("building", {}));
  Respond(200, StatusBody("ready", {"three"}));
  Respond(200, StatusBody("ready", {}));  // nothing left to drain

  std::vector<std::string> logs;
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  cfg.Tags = {"v1"};
  cfg.CPUCount = 2;
  cfg.MemoryMB = 1024;
  cfg.OnLog = [&](const e2b::BuildLogEntry& e) { logs.push_back(e.Message); };
  auto builder = e2b::NewTemplate()
                     .FromImage("python:3.11")
                     .Copy("files/app", "/app")
                     .SetEnvs({{"B", "2"}, {"A", "1"}})
                     .SetWorkdir("/app")
                     .SetUser("user")
                     .RunCmd("echo hi")
                     .SetStartCmd("python main.py")
                     .SetReadyCmd(e2b::WaitForPort(8000));
  const e2b::BuildResult result = builder.Build(client, cfg);
  EXPECT_EQ(result.TemplateID, "tpl1");
  EXPECT_EQ(result.BuildID, "bld1");
  EXPECT_EQ(result.Names, std::vector<std::string>{"my-app"});
  EXPECT_TRUE(result.Public);
  EXPECT_EQ(logs, (std::vector<std::string>{"one", "two", "three"}));

  const auto r = server_.requests();
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r[0].method, "POST");
  EXPECT_EQ(r[0].raw_path, "/v3/templates");
  EXPECT_EQ(BodyJson(r[0]), (json{{"name", "my-app"},
                                  {"tags", {"v1"}},
                                  {"cpuCount", 2},
                                  {"memoryMB", 1024}}));
  EXPECT_EQ(r[1].method, "GET");
  EXPECT_EQ(r[1].raw_path, "/templates/tpl1/files/" + expected_hash);
  EXPECT_EQ(r[2].method, "PUT");
  EXPECT_EQ(r[2].path, "/upload/obj");
  EXPECT_EQ(r[2].body, ReadFile(dir.path() / "expected.tar.gz"));
  EXPECT_EQ(Header(r[2], "Content-Length"), std::to_string(r[2].body.size()));
  EXPECT_EQ(r[2].headers.count("X-API-Key"), 0u);
  EXPECT_EQ(r[3].method, "POST");
  EXPECT_EQ(r[3].raw_path, "/v2/templates/tpl1/builds/bld1");
  const json steps = {
      {{"type", "COPY"},
       {"args", {"files/app", "/app"}},
       {"filesHash", expected_hash}},
      {{"type", "ENV"}, {"args", {"A", "1", "B", "2"}}},
      {{"type", "WORKDIR"}, {"args", {"/app"}}},
      {{"type", "USER"}, {"args", {"user"}}},
      {{"type", "RUN"}, {"args", {"echo hi"}}},
  };
  EXPECT_EQ(BodyJson(r[3]),
            (json{{"fromImage", "python:3.11"},
                  {"steps", steps},
                  {"startCmd", "python main.py"},
                  {"readyCmd",
                   "while ! ss -tln | grep -q ':8000 '; do sleep 0.1; done"}}))
      << r[3].body;
  const std::vector<std::string> offsets = {"0", "2", "2", "3"};
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    EXPECT_EQ(r[4 + i].method, "GET");
    EXPECT_EQ(r[4 + i].raw_path, "/templates/tpl1/builds/bld1/status");
    EXPECT_EQ(r[4 + i].raw_query, "logsOffset=" + offsets[i]);
  }
  // The spooled bundle is gone.
  EXPECT_TRUE(fs::is_empty(spool.path()));
}

TEST_F(TemplateBuilderTest, BuildSkipsTheUploadTheServerHas) {
  ScratchDir dir;
  WriteFile(dir.path() / "app.py", "x");
  ChangeDir cd(dir.path());
  auto client = MakeClient();
  RespondCreate();
  Respond(201, R"({"present":true})");
  Respond(202);
  Respond(200, StatusBody("ready", {}));
  Respond(200, StatusBody("ready", {}));
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  e2b::NewTemplate()
      .FromTemplate("base")
      .Copy("./app.py", "/app/")
      .Build(client, cfg);
  const auto r = server_.requests();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[1].method, "GET");
  EXPECT_EQ(r[2].method, "POST");
  EXPECT_EQ(r[2].raw_path, "/v2/templates/tpl1/builds/bld1");
  const json body = BodyJson(r[2]);
  EXPECT_EQ(body["fromTemplate"], "base");
  EXPECT_EQ(body["steps"][0]["args"], json({"./app.py", "/app/"}));
}

TEST_F(TemplateBuilderTest, ProgressReportsStagesStatusesAndUploadBytes) {
  ScratchDir dir;
  // Random bytes do not compress: the bundle spans several upload chunks.
  std::string big(300000, '\0');
  std::uint32_t x = 12345;
  for (char& c : big) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  WriteFile(dir.path() / "a/big.bin", big);
  WriteFile(dir.path() / "b.txt", "b");
  ChangeDir cd(dir.path());
  ScratchDir spool;
  TempDirOverride tmpdir(spool.path());
  auto client = MakeClient();
  RespondCreate();
  Respond(201, json{{"present", false},
                    {"url", server_.url() + "/upload/obj?X-Amz-Signature=s"}}
                   .dump());
  Respond(200);                         // step 2's upload
  Respond(201, R"({"present":true})");  // step 4: the server has it
  Respond(202);
  Respond(200, StatusBody("waiting", {}));
  Respond(200, StatusBody("building", {"x"}));
  Respond(200, StatusBody("building", {}));
  Respond(200, StatusBody("ready", {}));
  Respond(200, StatusBody("ready", {}));

  std::vector<e2b::BuildProgress> stages;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> bytes;
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  cfg.OnProgress = [&](const e2b::BuildProgress& p) { stages.push_back(p); };
  cfg.UploadProgress = [&](std::uint64_t sent, std::uint64_t total) {
    bytes.emplace_back(sent, total);
  };
  e2b::NewTemplate()
      .FromTemplate("base")
      .RunCmd("true")
      .Copy("a", "/a")
      .RunCmd("true")
      .Copy("b.txt", "/b.txt")
      .Build(client, cfg);

  ASSERT_EQ(stages.size(), 5u);
  EXPECT_EQ(stages[0].Stage, "uploading");
  EXPECT_EQ(stages[0].Step, 2);
  EXPECT_EQ(stages[0].StepCount, 4);
  EXPECT_EQ(stages[1].Stage, "uploading");
  EXPECT_EQ(stages[1].Step, 4);
  // Each status once, when it changes.
  const std::vector<std::string> statuses = {"waiting", "building", "ready"};
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    EXPECT_EQ(stages[2 + i].Stage, "building");
    EXPECT_EQ(stages[2 + i].Status, statuses[i]);
    EXPECT_EQ(stages[2 + i].Step, 0);
    EXPECT_EQ(stages[2 + i].StepCount, 4);
  }

  const auto r = server_.requests();
  ASSERT_GE(r.size(), 3u);
  ASSERT_EQ(r[2].method, "PUT");
  const std::uint64_t size = r[2].body.size();
  EXPECT_EQ(Header(r[2], "Content-Length"), std::to_string(size));
  ASSERT_GE(bytes.size(), 2u);  // one bundle, several chunks
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    EXPECT_EQ(bytes[i].second, size);
    if (i > 0) {
      EXPECT_GT(bytes[i].first, bytes[i - 1].first);
    }
  }
  EXPECT_EQ(bytes.back().first, size);
}

TEST_F(TemplateBuilderTest, AFailedUploadLeavesNoTemporaryFile) {
  ScratchDir dir;
  WriteFile(dir.path() / "app.py", "x");
  ChangeDir cd(dir.path());
  ScratchDir spool;
  TempDirOverride tmpdir(spool.path());
  auto client = MakeClient();
  RespondCreate();
  Respond(
      201,
      json{{"present", false}, {"url", server_.url() + "/up?sig=s"}}.dump());
  Respond(500, "storage down");
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  EXPECT_THROW(e2b::NewTemplate().Copy("app.py", "/app/").Build(client, cfg),
               e2b::Error);
  EXPECT_EQ(server_.requests().size(), 3u);  // no build was started
  EXPECT_TRUE(fs::is_empty(spool.path()));
}

TEST_F(TemplateBuilderTest, SkipCacheForcesTheStepsAfterItOrTheWholeBuild) {
  auto client = MakeClient();
  RespondCreate();
  Respond(202);
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  e2b::NewTemplate()
      .FromBaseImage()
      .RunCmd("a")
      .SkipCache()
      .RunCmd("b")
      .SetUser("root")
      .BuildInBackground(client, cfg);
  auto r = server_.requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(BodyJson(r[1]),
            (json{{"steps",
                   {{{"type", "RUN"}, {"args", {"a"}}},
                    {{"type", "RUN"}, {"args", {"b"}}, {"force", true}},
                    {{"type", "USER"}, {"args", {"root"}}, {"force", true}}}}}))
      << r[1].body;

  // Before the base: the whole build is forced; so is it by cfg.SkipCache.
  server_.clear_requests();
  RespondCreate();
  Respond(202);
  e2b::NewTemplate().SkipCache().FromImage("ubuntu").BuildInBackground(client,
                                                                       cfg);
  r = server_.requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(BodyJson(r[1]), (json{{"fromImage", "ubuntu"},
                                  {"force", true},
                                  {"steps", json::array()}}));
  server_.clear_requests();
  RespondCreate();
  Respond(202);
  cfg.SkipCache = true;
  e2b::NewTemplate().FromImage("ubuntu").BuildInBackground(client, cfg);
  EXPECT_EQ(BodyJson(server_.requests().at(1))["force"], true);
}

TEST_F(TemplateBuilderTest, InstallsRunAsRootWithTheJsSdkCommands) {
  auto client = MakeClient();
  RespondCreate();
  Respond(202);
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  e2b::NewTemplate()
      .SetUser("user")
      .AptInstall({"curl", "git"})
      .PipInstall({"numpy"})
      .PipInstall({})
      .NpmInstall({"typescript"})
      .BuildInBackground(client, cfg);
  const json steps = BodyJson(server_.requests().at(1))["steps"];
  EXPECT_EQ(steps,
            (json{{{"type", "USER"}, {"args", {"user"}}},
                  {{"type", "RUN"},
                   {"args",
                    {"apt-get update && DEBIAN_FRONTEND=noninteractive "
                     "DEBCONF_NOWARNINGS=yes apt-get install -y curl "
                     "git",
                     "root"}}},
                  {{"type", "RUN"}, {"args", {"pip install numpy", "root"}}},
                  {{"type", "RUN"}, {"args", {"pip install .", "root"}}},
                  {{"type", "RUN"},
                   {"args", {"npm install -g typescript", "root"}}}}));
}

TEST_F(TemplateBuilderTest, AFailedBuildDrainsTheLogsAndThrowsItsReason) {
  auto client = MakeClient();
  RespondCreate();
  Respond(202);
  Respond(200, StatusBody("building", {"one"}));
  Respond(200, StatusBody("error", {"two"},
                          json{{"message", "exit status 1"}, {"step", "3"}}));
  Respond(200, StatusBody("error", {"three"}));
  Respond(200, StatusBody("error", {}));
  std::vector<std::string> logs;
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  cfg.OnLog = [&](const e2b::BuildLogEntry& e) { logs.push_back(e.Message); };
  try {
    e2b::NewTemplate().RunCmd("false").Build(client, cfg);
    FAIL() << "no TemplateBuildError";
  } catch (const e2b::TemplateBuildError& e) {
    EXPECT_EQ(e.TemplateID(), "tpl1");
    EXPECT_EQ(e.BuildID(), "bld1");
    EXPECT_EQ(e.Reason().Message, "exit status 1");
    EXPECT_EQ(e.Reason().Step, "3");
    EXPECT_EQ(e.Message(), "exit status 1");
    EXPECT_STREQ(e.what(),
                 "e2b: template build failed: exit status 1 (step: 3)");
  }
  EXPECT_EQ(logs, (std::vector<std::string>{"one", "two", "three"}));
  const auto r = server_.requests();
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[3].raw_query, "logsOffset=1");
  EXPECT_EQ(r[4].raw_query, "logsOffset=2");
  EXPECT_EQ(r[5].raw_query, "logsOffset=3");
}

TEST_F(TemplateBuilderTest, TheContextEndsThePollingPromptly) {
  auto client = MakeClient();
  RespondCreate();
  Respond(202);
  for (int i = 0; i < 20; ++i) Respond(200, StatusBody("building", {}));
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(
      e2b::NewTemplate()
          .RunCmd("sleep 1000")
          .Build(e2b::Context::WithTimeout(std::chrono::milliseconds(300)),
                 client, cfg),
      e2b::TimeoutError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // Polled at 0 and 200 ms (on a slow machine maybe once); the wait after
  // ends at the deadline, not after the 20 answers.
  EXPECT_GE(server_.requests().size(), 3u);
  EXPECT_LE(server_.requests().size(), 4u);
}

TEST_F(TemplateBuilderTest, BuildInBackgroundReturnsOnceStarted) {
  auto client = MakeClient();
  RespondCreate();
  Respond(202);
  e2b::BuildConfig cfg;
  cfg.Name = "my-app";
  const auto result = e2b::NewTemplate().FromImage("node:20").BuildInBackground(
      e2b::Context::Background(), client, cfg);
  EXPECT_EQ(result.BuildID, "bld1");
  const auto r = server_.requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].raw_path, "/v2/templates/tpl1/builds/bld1");
}

TEST_F(TemplateBuilderTest, InvalidBuildsSendNothing) {
  ScratchDir dir;
  WriteFile(dir.path() / "inside/a.txt", "a");
  ChangeDir cd(dir.path() / "inside");
  auto client = MakeClient();
  e2b::BuildConfig no_name;
  EXPECT_THROW(e2b::NewTemplate().FromImage("x").Build(client, no_name),
               e2b::InvalidArgumentError);
  EXPECT_THROW(e2b::NewTemplate().BuildInBackground(client, no_name),
               e2b::InvalidArgumentError);
  e2b::BuildConfig cfg;
  cfg.Name = "n";
  for (const char* src :
       {"/etc/hostname", "../inside/a.txt", "a/../../x", "", "missing.txt"}) {
    try {
      e2b::NewTemplate().Copy(src, "/dst").Build(client, cfg);
      ADD_FAILURE() << src << " was accepted";
    } catch (const e2b::InvalidArgumentError& e) {
      EXPECT_EQ(e.StatusCode(), 0) << e.what();
    }
  }
  EXPECT_TRUE(server_.requests().empty());
}

TEST(TemplateBuilderReadyChecks, AreGoCommands) {
  EXPECT_EQ(e2b::WaitForPort(3000),
            "while ! ss -tln | grep -q ':3000 '; do sleep 0.1; done");
  EXPECT_EQ(e2b::WaitForURL("http://localhost:3000/health", 200),
            "while [ \"$(curl -s -o /dev/null -w '%{http_code}' "
            "'http://localhost:3000/health')\" != \"200\" ]; do sleep 0.1; "
            "done");
  EXPECT_EQ(e2b::WaitForProcess("nginx"),
            "while ! pgrep -x 'nginx' > /dev/null; do sleep 0.1; done");
  EXPECT_EQ(e2b::WaitForFile("/tmp/ready"),
            "while [ ! -f '/tmp/ready' ]; do sleep 0.1; done");
  EXPECT_EQ(e2b::WaitForTimeout(1500), "sleep 1.5");
  EXPECT_EQ(e2b::WaitForTimeout(100), "sleep 0.1");
  EXPECT_EQ(e2b::WaitForTimeout(0), "sleep 0.0");
}

// ---- the bundle ----

TEST(BuildBundle, SystemTarAndGzipReadItBack) {
  ScratchDir dir;
  const fs::path ctx = dir.path() / "ctx";
  const std::string long_dir(60, 'd');
  const std::string long_file(70, 'f');  // the path is > 150 bytes
  std::string big(200 * 1024 + 7, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 7919) % 251);
  }
  WriteFile(ctx / "files/app/main.py", "print('hi')\n");
  WriteFile(ctx / "files/app/run.sh", "#!/bin/sh\n", fs::perms(0755));
  WriteFile(ctx / "files/app/empty", "");
  WriteFile(ctx / "files/app/big.bin", big, fs::perms(0600));
  WriteFile(ctx / "files/app/nested/deeper/x.txt", "x");
  WriteFile(ctx / "files/app" / long_dir / long_file, "long");
  fs::create_symlink("nested/deeper/x.txt", ctx / "files/app/link");
  fs::permissions(ctx / "files/app/nested", fs::perms(0750));
  WriteFile(ctx / "files/outside.txt", "not copied");
  ASSERT_GT(("files/app/" + long_dir + "/" + long_file).size(), 140u);

  const fs::path tgz = dir.path() / "b.tar.gz";
  Bundle(ctx, "files/app", "/app", tgz);
  ASSERT_EQ(Shell("gzip -t '" + tgz.string() + "'"), 0);
  const fs::path out = dir.path() / "out";
  fs::create_directories(out);
  ASSERT_EQ(Shell("tar -xzf '" + tgz.string() + "' -C '" + out.string() + "'"),
            0);
  ASSERT_EQ(Shell("tar -tzf '" + tgz.string() + "' > '" +
                  (dir.path() / "list").string() + "'"),
            0);

  EXPECT_EQ(ReadFile(dir.path() / "list").substr(0, 10), "files/app/");
  EXPECT_FALSE(fs::exists(out / "files/outside.txt"));
  const fs::path app = out / "files/app";
  EXPECT_EQ(ReadFile(app / "main.py"), "print('hi')\n");
  EXPECT_EQ(ReadFile(app / "big.bin"), big);
  EXPECT_EQ(ReadFile(app / "empty"), "");
  EXPECT_TRUE(fs::is_regular_file(app / "empty"));
  EXPECT_EQ(ReadFile(app / "nested/deeper/x.txt"), "x");
  EXPECT_EQ(ReadFile(app / long_dir / long_file), "long");
  EXPECT_TRUE(fs::is_symlink(app / "link"));
  EXPECT_EQ(fs::read_symlink(app / "link"), "nested/deeper/x.txt");
  const auto perms = [](const fs::path& p) {
    return fs::status(p).permissions() & fs::perms::mask;
  };
  EXPECT_EQ(perms(app / "run.sh"), fs::perms(0755));
  EXPECT_EQ(perms(app / "big.bin"), fs::perms(0600));
  EXPECT_EQ(perms(app / "main.py"), fs::perms(0644));
  EXPECT_EQ(perms(app / "nested"), fs::perms(0750));
}

TEST(BuildBundle, GzipIsStoredBlocksWithTheRightTrailer) {
  EXPECT_EQ(e2b::internal::Crc32(0, "123456789", 9), 0xCBF43926U);
  std::ostringstream out;
  e2b::internal::GzipStoredWriter gz(out);
  const std::string data(65535 + 10, 'a');
  gz.Write(data.data(), data.size());
  gz.Finish();
  const std::string s = out.str();
  // header, two blocks (65535 and 10 bytes) of 5-byte heads, trailer
  ASSERT_EQ(s.size(), 10 + 5 + 65535 + 5 + 10 + 8);
  EXPECT_EQ(s[10], 0);          // not final, stored
  EXPECT_EQ(s[15 + 65535], 1);  // final, stored
}

// The JS SDK's calculateFilesHash, its logic written with node's fs instead
// of the glob package (the same walk: dot files, symlinks not followed,
// sorted by full path). Checked against the real function of e2b 2.51.0
// (dist/index.mjs, run with npm's own glob 13) on this tree; both gave the
// same hashes.
constexpr const char* kJsHash = R"JS(
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const [src, dest, ctx] = process.argv.slice(2);
const hash = crypto.createHash("sha256");
hash.update(`COPY ${src} ${dest}`);
const files = [];
const walk = (full) => {
  files.push(full);
  if (fs.lstatSync(full).isDirectory())
    for (const n of fs.readdirSync(full)) walk(path.join(full, n));
};
walk(path.join(ctx, src));
files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
for (const f of files) {
  hash.update(path.relative(ctx, f).split(path.sep).join("/"));
  const st = fs.lstatSync(f);
  hash.update(st.mode.toString());
  hash.update(st.size.toString());
  if (st.isSymbolicLink()) hash.update(fs.readlinkSync(f));
  else if (st.isFile()) hash.update(new Uint8Array(fs.readFileSync(f)));
}
console.log(hash.digest("hex"));
)JS";

TEST(BuildBundle, FilesHashIsTheJsSdksForAFile) {
  // Derived once with the JS function: a 0644 file "hello\n" at
  // files/a.txt, COPY files/a.txt /app/a.txt (mode 33188, size 6).
  ScratchDir dir;
  WriteFile(dir.path() / "files/a.txt", "hello\n");
  std::ostringstream sink;
  EXPECT_EQ(e2b::internal::WriteBuildBundle(dir.path(), "files/a.txt",
                                            "/app/a.txt", sink),
            "325d57dc4f7bf444bc475258c5f6c5d4d2abef3e1ebd2ef9d628891269abdf09");
}

TEST(BuildBundle, FilesHashIsTheJsSdksForATree) {
  if (Shell("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node is not installed";
  }
  ScratchDir dir;
  const fs::path ctx = dir.path() / "ctx";
  WriteFile(ctx / "files/app/main.py", "print('hi')\n");
  WriteFile(ctx / "files/app/.env", "A=1", fs::perms(0600));
  WriteFile(ctx / "files/app/sub/empty", "");
  WriteFile(ctx / "files/app/sub-dir.txt", "sorts after sub/");
  WriteFile(ctx / "files/app/big.bin", std::string(70000, 'z'));
  fs::create_symlink("main.py", ctx / "files/app/link");
  const fs::path script = dir.path() / "hash.js";
  std::ofstream(script) << kJsHash;
  const fs::path js_out = dir.path() / "js.txt";
  for (const auto& [src, dest] :
       std::vector<std::pair<std::string, std::string>>{
           {"files/app", "/app"},
           {"files", "/srv/"},
           {"files/app/link", "/l"}}) {
    ASSERT_EQ(Shell("node '" + script.string() + "' '" + src + "' '" + dest +
                    "' '" + ctx.string() + "' > '" + js_out.string() + "'"),
              0);
    std::ostringstream sink;
    EXPECT_EQ(e2b::internal::WriteBuildBundle(ctx, src, dest, sink) + "\n",
              ReadFile(js_out))
        << src;
  }
}

}  // namespace
