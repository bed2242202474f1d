// FakeE2B (src/testing/fake_e2b.cpp) driven by the real e2b::Client, as
// users' tests use it: every assertion goes through the library's wire code.

#include <e2b/e2b.hpp>
#include <e2b/testing/fake_e2b.hpp>

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace {

using e2b::testing::FakeCommandCall;
using e2b::testing::FakeCommandResult;
using e2b::testing::FakeE2B;

class FakeE2BTest : public ::testing::Test {
 protected:
  FakeE2B fake_;
  e2b::Client client_ = fake_.NewClient();
};

TEST_F(FakeE2BTest, CreateRecordsTheConfigurationAndListKillForget) {
  e2b::SandboxConfig cfg;
  cfg.Template = "python";
  cfg.Timeout = 120;
  cfg.Metadata = {{"owner", "ci"}};
  cfg.EnvVars = {{"MODE", "test"}};
  e2b::Sandbox sandbox = client_.NewSandbox(cfg);

  auto recorded = fake_.Sandbox(sandbox.ID);
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->TemplateID, "python");
  EXPECT_EQ(recorded->TimeoutSeconds, 120);
  EXPECT_EQ(recorded->Metadata.at("owner"), "ci");
  EXPECT_EQ(recorded->EnvVars.at("MODE"), "test");
  EXPECT_EQ(recorded->State, "running");
  EXPECT_FALSE(recorded->EnvdAccessToken.empty());

  e2b::Sandbox other = client_.NewSandbox();
  auto listed = client_.ListSandboxes();
  ASSERT_EQ(listed.size(), 2U);
  auto page =
      client_.ListSandboxesV2(e2b::WithSandboxMetadata({{"owner", "ci"}}));
  ASSERT_EQ(page.Sandboxes.size(), 1U);
  EXPECT_EQ(page.Sandboxes[0].ID, sandbox.ID);
  EXPECT_EQ(page.Sandboxes[0].Template, "python");
  auto by_template = client_.ListSandboxesV2(e2b::WithSandboxTemplate("base"));
  ASSERT_EQ(by_template.Sandboxes.size(), 1U);
  EXPECT_EQ(by_template.Sandboxes[0].ID, other.ID);
  auto first = client_.ListSandboxesV2(e2b::WithSandboxLimit(1));
  ASSERT_EQ(first.Sandboxes.size(), 1U);
  EXPECT_EQ(first.Sandboxes[0].ID, other.ID);  // newest first
  auto second = client_.ListSandboxesV2(
      e2b::WithSandboxLimit(1), e2b::WithSandboxNextToken(first.NextToken));
  ASSERT_EQ(second.Sandboxes.size(), 1U);
  EXPECT_EQ(second.Sandboxes[0].ID, sandbox.ID);
  EXPECT_TRUE(second.NextToken.empty());

  EXPECT_EQ(sandbox.Info().Metadata.at("owner"), "ci");
  EXPECT_TRUE(client_.KillSandbox(sandbox.ID));
  EXPECT_FALSE(client_.KillSandbox(sandbox.ID));  // 404: nothing to kill
  ASSERT_EQ(fake_.Sandboxes().size(), 1U);
  EXPECT_EQ(fake_.Sandboxes()[0].ID, other.ID);
  EXPECT_THROW(sandbox.Info(), e2b::SandboxNotFoundError);
  EXPECT_EQ(fake_.CallsTo("DELETE /sandboxes/{sandboxID}").size(), 2U);
}

TEST_F(FakeE2BTest, PauseConnectAndTimeoutChangeState) {
  e2b::Sandbox sandbox = client_.NewSandbox();
  sandbox.SetTimeout(300);
  EXPECT_EQ(fake_.Sandbox(sandbox.ID)->TimeoutSeconds, 300);
  sandbox.Pause();
  EXPECT_EQ(fake_.Sandbox(sandbox.ID)->State, "paused");
  EXPECT_TRUE(client_.ListSandboxes().empty());  // v1 lists running only
  auto paused = client_.ListSandboxesV2(e2b::WithSandboxState("paused"));
  ASSERT_EQ(paused.Sandboxes.size(), 1U);
  EXPECT_EQ(paused.Sandboxes[0].State, "paused");
  // envd of a paused sandbox is unreachable, as behind E2B's edge.
  EXPECT_THROW(sandbox.Commands.RunShell("true"), e2b::Error);

  e2b::Sandbox again = client_.Connect(sandbox.ID, 60);
  EXPECT_EQ(fake_.Sandbox(sandbox.ID)->State, "running");
  EXPECT_EQ(fake_.Sandbox(sandbox.ID)->TimeoutSeconds, 60);
  fake_.OnCommand("true",
                  [](const FakeCommandCall&) { return FakeCommandResult{}; });
  EXPECT_EQ(again.Commands.RunShell("true").ExitCode, 0);
}

TEST_F(FakeE2BTest, CommandsAreAnsweredByTheLongestMatchingHandler) {
  fake_.OnCommand("git", [](const FakeCommandCall&) {
    return FakeCommandResult{"generic\n", "", 0, ""};
  });
  fake_.OnCommand("git status", [](const FakeCommandCall& call) {
    return FakeCommandResult{"on branch main in " + call.Cwd + "\n", "warn\n",
                             0, ""};
  });
  e2b::Sandbox sandbox = client_.NewSandbox();

  auto status = sandbox.Commands.RunShell(
      "git status --short", e2b::WithCwd("/repo"), e2b::WithEnv({{"A", "1"}}));
  EXPECT_EQ(status.Stdout, "on branch main in /repo\n");
  EXPECT_EQ(status.Stderr, "warn\n");
  EXPECT_EQ(status.ExitCode, 0);
  EXPECT_EQ(sandbox.Commands.RunShell("git log").Stdout, "generic\n");

  auto calls = fake_.Commands();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].Command, "git status --short");
  EXPECT_EQ(calls[0].Cmd, "/bin/bash");
  EXPECT_EQ(calls[0].Envs.at("A"), "1");
  EXPECT_EQ(calls[0].SandboxID, sandbox.ID);
}

TEST_F(FakeE2BTest, NonZeroExitsAndUnknownCommandsReachTheClientAsEnvdSends) {
  fake_.OnCommand("make", [](const FakeCommandCall&) {
    return FakeCommandResult{"", "boom\n", 2, ""};
  });
  e2b::Sandbox sandbox = client_.NewSandbox();

  auto result = sandbox.Commands.RunShell("make all");
  EXPECT_EQ(result.ExitCode, 2);
  EXPECT_EQ(result.Stderr, "boom\n");
  EXPECT_EQ(result.Error, "exit status 2");
  try {
    sandbox.Commands.Run(e2b::Context::Background(), "make all");
    FAIL() << "a non-zero exit must throw CommandExitError";
  } catch (const e2b::CommandExitError& e) {
    EXPECT_EQ(e.Result().ExitCode, 2);
  }

  auto missing = sandbox.Commands.RunShell("nosuchtool --flag");
  EXPECT_EQ(missing.ExitCode, 127);
  EXPECT_NE(missing.Stderr.find("nosuchtool: command not found"),
            std::string::npos);
  // Run without a shell: the command line is cmd and args.
  fake_.OnCommand("ls -la /tmp", [](const FakeCommandCall&) {
    return FakeCommandResult{"listing\n", "", 0, ""};
  });
  EXPECT_EQ(sandbox.Commands.Run("ls", {"-la", "/tmp"}).Stdout, "listing\n");
}

TEST_F(FakeE2BTest, HandlersMayWriteFilesTheClientThenReads) {
  e2b::Sandbox sandbox = client_.NewSandbox();
  fake_.OnCommand("build", [this](const FakeCommandCall& call) {
    fake_.WriteFile(call.SandboxID, "out/app.bin", "ELF");
    return FakeCommandResult{};
  });
  sandbox.Commands.RunShell("build");
  EXPECT_EQ(sandbox.Filesystem.ReadString("/home/user/out/app.bin"), "ELF");
}

TEST_F(FakeE2BTest, FilesRoundTripThroughTheInMemoryFilesystem) {
  e2b::Sandbox sandbox = client_.NewSandbox();
  auto info = sandbox.Filesystem.WriteString("/data/in.txt", "hello");
  EXPECT_EQ(info.Path, "/data/in.txt");
  EXPECT_EQ(fake_.FileContent(sandbox.ID, "/data/in.txt"), "hello");
  EXPECT_EQ(sandbox.Filesystem.ReadString("/data/in.txt"), "hello");

  sandbox.Filesystem.WriteString("notes.md", "# n");  // relative: home
  EXPECT_EQ(fake_.FileContent(sandbox.ID, "/home/user/notes.md"), "# n");

  EXPECT_TRUE(sandbox.Filesystem.MakeDir("/data/sub"));
  EXPECT_FALSE(sandbox.Filesystem.MakeDir("/data/sub"));  // already exists
  auto entries = sandbox.Filesystem.List("/data");
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back(entry.Name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"in.txt", "sub"}));

  auto stat = sandbox.Filesystem.Stat("/data/in.txt");
  EXPECT_EQ(stat.Type, "file");
  EXPECT_EQ(stat.Size, 5);
  EXPECT_TRUE(sandbox.Filesystem.Exists("/data"));

  auto moved = sandbox.Filesystem.Rename("/data/in.txt", "/data/sub/in.txt");
  EXPECT_EQ(moved.Path, "/data/sub/in.txt");
  EXPECT_FALSE(fake_.FileContent(sandbox.ID, "/data/in.txt").has_value());
  sandbox.Filesystem.Remove("/data");
  EXPECT_FALSE(sandbox.Filesystem.Exists("/data/sub/in.txt"));
  EXPECT_THROW(sandbox.Filesystem.ReadString("/data/sub/in.txt"),
               e2b::FileNotFoundError);
  EXPECT_THROW(sandbox.Filesystem.Stat("/nope"), e2b::FileNotFoundError);
}

TEST_F(FakeE2BTest, InjectedFailuresBecomeTypedErrors) {
  e2b::Sandbox sandbox = client_.NewSandbox();
  fake_.FailNext("GET /sandboxes/{sandboxID}", 404);
  EXPECT_THROW(sandbox.Info(), e2b::SandboxNotFoundError);
  EXPECT_NO_THROW(sandbox.Info());  // only the next one failed

  fake_.FailNext("POST /sandboxes", 401);
  EXPECT_THROW(client_.NewSandbox(), e2b::AuthenticationError);
  fake_.FailNext("POST /sandboxes", 400);
  EXPECT_THROW(client_.NewSandbox(), e2b::InvalidArgumentError);

  e2b::ClientConfig cfg = fake_.Config();
  cfg.Retry.MaxAttempts = 1;
  e2b::Client no_retry = e2b::NewClient(cfg);
  fake_.FailNext("GET /sandboxes", 429);
  EXPECT_THROW(no_retry.ListSandboxes(), e2b::RateLimitError);
  // With retries, one 503 is absorbed by the client.
  fake_.FailNext("GET /sandboxes", 503);
  EXPECT_NO_THROW(client_.ListSandboxes());
  EXPECT_EQ(fake_.CallsTo("GET /sandboxes").back().Status, 200);

  fake_.FailNext("GET /files", 404);
  sandbox.Filesystem.WriteString("/x", "1");
  EXPECT_THROW(sandbox.Filesystem.ReadString("/x"), e2b::FileNotFoundError);
  fake_.FailNext("POST /filesystem.Filesystem/Stat", 404);
  EXPECT_THROW(sandbox.Filesystem.Stat("/x"), e2b::FileNotFoundError);
  fake_.FailNext("POST /process.Process/Start", 401);
  EXPECT_THROW(sandbox.Commands.RunShell("true"), e2b::AuthenticationError);
  EXPECT_THROW(fake_.FailNext("GET /sandboxes", 200), e2b::Error);
}

TEST_F(FakeE2BTest, AWrongApiKeyIsAnAuthenticationError) {
  e2b::ClientConfig cfg = fake_.Config();
  cfg.APIKey = "e2b_0123456789abcdef";
  EXPECT_THROW(e2b::NewClient(cfg).NewSandbox(), e2b::AuthenticationError);
  EXPECT_TRUE(fake_.Sandboxes().empty());
  EXPECT_EQ(fake_.Calls().back().Status, 401);
}

TEST_F(FakeE2BTest, EnvdRefusesAWrongAccessTokenAndUnknownSandboxes) {
  e2b::Sandbox sandbox = client_.NewSandbox();
  httplib::Client http("127.0.0.1", std::stoi(fake_.URL().substr(17)));
  auto wrong = http.Get("/files?path=/x", {{"E2b-Sandbox-Id", sandbox.ID},
                                           {"X-Access-Token", "wrong"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto unknown = http.Get("/files?path=/x", {{"E2b-Sandbox-Id", "nosuch"}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 502);
  // The edge's Host routing reaches the same sandbox.
  sandbox.Filesystem.WriteString("/x", "via host");
  const std::string token = fake_.Sandbox(sandbox.ID)->EnvdAccessToken;
  auto by_host = http.Get("/files?path=/x",
                          {{"Host", "49983-" + sandbox.ID + ".e2b.local"},
                           {"X-Access-Token", token}});
  ASSERT_TRUE(by_host);
  EXPECT_EQ(by_host->status, 200);
  EXPECT_EQ(by_host->body, "via host");
}

TEST_F(FakeE2BTest, MalformedRequestsGetClearErrors) {
  e2b::Sandbox sandbox = client_.NewSandbox();
  const std::string key = fake_.Config().APIKey;
  const std::string token = fake_.Sandbox(sandbox.ID)->EnvdAccessToken;
  httplib::Client http("127.0.0.1", std::stoi(fake_.URL().substr(17)));
  auto bad_json = http.Post("/sandboxes", {{"X-API-Key", key}}, "{not json",
                            "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  auto bad_type = http.Post("/sandboxes", {{"X-API-Key", key}},
                            R"({"templateID": 7})", "application/json");
  ASSERT_TRUE(bad_type);
  EXPECT_EQ(bad_type->status, 400);
  const httplib::Headers envd{{"E2b-Sandbox-Id", sandbox.ID},
                              {"X-Access-Token", token}};
  auto bad_envelope =
      http.Post("/process.Process/Start", envd, std::string("\x00\x00", 2),
                "application/connect+json");
  ASSERT_TRUE(bad_envelope);
  EXPECT_EQ(bad_envelope->status, 400);
  auto bad_rpc =
      http.Post("/filesystem.Filesystem/Stat", envd, "[1]", "application/json");
  ASSERT_TRUE(bad_rpc);
  EXPECT_EQ(bad_rpc->status, 400);
  EXPECT_NE(bad_rpc->body.find("invalid_argument"), std::string::npos);
  auto watch = http.Post("/filesystem.Filesystem/WatchDir", envd, "",
                         "application/connect+json");
  ASSERT_TRUE(watch);
  EXPECT_EQ(watch->status, 200);  // Connect streams fail in the trailer
  EXPECT_NE(watch->body.find("unimplemented"), std::string::npos);
  auto unknown = http.Get("/templates/abc", {{"X-API-Key", key}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 501);
}

TEST_F(FakeE2BTest, ManyFilesGoAsOneMultipartUpload) {
  e2b::Sandbox sandbox = client_.NewSandbox();
  auto written = sandbox.Filesystem.WriteFiles(
      {e2b::WriteEntry{"/a/one.txt", "1", nullptr},
       e2b::WriteEntry{"two.txt", "22", nullptr}});
  ASSERT_EQ(written.size(), 2U);
  EXPECT_EQ(fake_.FileContent(sandbox.ID, "/a/one.txt"), "1");
  EXPECT_EQ(fake_.FileContent(sandbox.ID, "/home/user/two.txt"), "22");
}

TEST_F(FakeE2BTest, BackgroundCommandsDeliverTheirResultToWait) {
  fake_.OnCommand("sleep", [](const FakeCommandCall&) {
    return FakeCommandResult{"done\n", "", 0, ""};
  });
  e2b::Sandbox sandbox = client_.NewSandbox();
  e2b::CommandHandle handle = sandbox.Commands.Start("sleep", {"1"});
  e2b::CommandResult result = handle.Wait();
  EXPECT_EQ(result.Stdout, "done\n");
  EXPECT_EQ(result.ExitCode, 0);
}

TEST_F(FakeE2BTest, AThrowingHandlerFailsTheCommandNotTheServer) {
  fake_.OnCommand("crash", [](const FakeCommandCall&) -> FakeCommandResult {
    throw std::runtime_error("handler bug");
  });
  fake_.OnCommand("ok",
                  [](const FakeCommandCall&) { return FakeCommandResult{}; });
  e2b::Sandbox sandbox = client_.NewSandbox();
  try {
    sandbox.Commands.RunShell("crash");
    FAIL() << "the stream's error must reach the caller";
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()).find("handler bug"), std::string::npos);
  }
  EXPECT_EQ(sandbox.Commands.RunShell("ok").ExitCode, 0);
}

TEST_F(FakeE2BTest, UnsupportedCallsSayStatus501NotSandboxNotFound) {
  e2b::Sandbox sandbox = client_.NewSandbox();
  try {
    sandbox.Metrics();
    FAIL() << "metrics are not served";
  } catch (const e2b::SandboxNotFoundError&) {
    FAIL() << "an unserved route must not look like a missing sandbox";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 501);
    EXPECT_NE(e.Message().find("does not serve"), std::string::npos);
  }
}

}  // namespace
