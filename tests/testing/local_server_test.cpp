// e2b::testing::LocalServer's start, stop and failure paths, against shell
// scripts that stand in for e2b-local (a real one is exercised by every
// integration test and by examples/testing).

#include <e2b/testing/local_server.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using e2b::testing::LocalServer;
using e2b::testing::LocalServerError;
using e2b::testing::LocalServerOptions;
using Reason = e2b::testing::LocalServerError::Reason;
using namespace std::chrono_literals;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A scratch directory with executable scripts in it.
class LocalServerScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (fs::temp_directory_path() / "e2b-testing-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes an executable /bin/sh script with `body`.
  std::string Script(const std::string& name, const std::string& body) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    chmod(path.c_str(), 0755);
    return path.string();
  }

  // A stand-in that records its pid and arguments, prints the three lines
  // (with `key`, or the key it was given) and waits for SIGTERM.
  std::string FakeServer(const std::string& key = "") {
    const std::string print_key = key.empty() ? "$key" : "'" + key + "'";
    return Script("fake-e2b-local",
                  "echo $$ > '" + (dir_ / "pid").string() +
                      "'\n"
                      "echo \"$@\" > '" +
                      (dir_ / "args").string() +
                      "'\n"
                      "key=\n"
                      "while [ $# -gt 0 ]; do\n"
                      "  [ \"$1\" = --api-key ] && key=$2\n"
                      "  shift\n"
                      "done\n"
                      "echo 'ready' >&2\n"
                      "echo E2B_API_URL=http://127.0.0.1:1\n"
                      "echo E2B_SANDBOX_URL=http://127.0.0.1:2\n"
                      "echo E2B_API_KEY=" +
                      print_key +
                      "\n"
                      "trap 'exit 0' TERM\n"
                      "while :; do sleep 0.05; done\n");
  }

  pid_t RecordedPid() const {
    return static_cast<pid_t>(std::stol(ReadFile(dir_ / "pid")));
  }

  fs::path dir_;
};

// Whether `pid` still exists (after its parent reaped it, it does not).
bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

TEST_F(LocalServerScriptTest, StartsParsesAndStops) {
  LocalServerOptions options;
  options.Binary = FakeServer();
  options.ExtraArgs = {"--extra-flag", "value"};
  std::optional<LocalServer> server;
  server.emplace(options);

  EXPECT_EQ(server->APIURL(), "http://127.0.0.1:1");
  EXPECT_EQ(server->SandboxURL(), "http://127.0.0.1:2");
  EXPECT_EQ(server->APIKey().rfind("e2b_", 0), 0U) << server->APIKey();
  EXPECT_EQ(server->APIKey().size(), 44U);
  EXPECT_TRUE(server->Running());
  EXPECT_EQ(server->Pid(), RecordedPid());
  EXPECT_EQ(server->StateDir(), server->TempDir() + "/state");
  EXPECT_TRUE(fs::is_directory(server->StateDir()));
  EXPECT_NE(server->StderrTail().find("ready"), std::string::npos);

  const std::string args = ReadFile(dir_ / "args");
  EXPECT_NE(args.find("--host 127.0.0.1 --api-port 0 --envd-port 0"),
            std::string::npos)
      << args;
  EXPECT_NE(args.find("--state-dir " + server->StateDir()), std::string::npos);
  EXPECT_NE(args.find("--extra-flag value"), std::string::npos) << args;

  const e2b::ClientConfig cfg = server->MakeClientConfig();
  EXPECT_EQ(cfg.APIKey, server->APIKey());
  EXPECT_EQ(cfg.APIBaseURL, server->APIURL());
  EXPECT_EQ(cfg.SandboxURL, server->SandboxURL());

  const pid_t pid = server->Pid();
  const std::string temp_dir = server->TempDir();
  server->Stop();
  EXPECT_FALSE(server->Running());
  EXPECT_EQ(server->Pid(), -1);
  EXPECT_FALSE(Alive(pid));
  EXPECT_FALSE(fs::exists(temp_dir));
  server->Stop();  // idempotent
}

TEST_F(LocalServerScriptTest, GivenKeyAndStateDirAreUsedAndStateIsKept) {
  LocalServerOptions options;
  options.Binary = FakeServer();
  options.APIKey = "e2b_given";
  options.StateDir = (dir_ / "my-state").string();
  {
    LocalServer server(options);
    EXPECT_EQ(server.APIKey(), "e2b_given");
    EXPECT_EQ(server.StateDir(), options.StateDir);
  }
  EXPECT_TRUE(fs::is_directory(options.StateDir));
}

TEST_F(LocalServerScriptTest, RestartKeepsKeyAndStartsANewProcess) {
  LocalServerOptions options;
  options.Binary = FakeServer();
  LocalServer server(options);
  const std::string key = server.APIKey();
  const pid_t first = server.Pid();
  server.Restart(e2b::testing::StopMode::kCrash);
  EXPECT_FALSE(Alive(first));
  EXPECT_TRUE(server.Running());
  EXPECT_NE(server.Pid(), first);
  EXPECT_EQ(server.APIKey(), key);
  EXPECT_EQ(server.APIURL(), "http://127.0.0.1:1");
}

TEST_F(LocalServerScriptTest, MissingBinaryIsATypedError) {
  LocalServerOptions options;
  options.Binary = (dir_ / "no-such-e2b-local").string();
  try {
    LocalServer server(options);
    FAIL() << "started a binary that does not exist";
  } catch (const LocalServerError& e) {
    EXPECT_EQ(e.WhatFailed(), Reason::kBinaryNotFound);
    EXPECT_NE(std::string(e.what()).find("no-such-e2b-local"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(LocalServerScriptTest, BadE2bLocalBinIsNotSilentlyReplaced) {
  const char* saved = std::getenv("E2B_LOCAL_BIN");
  const std::string restore = saved != nullptr ? saved : "";
  const std::string bogus = (dir_ / "bogus").string();
  setenv("E2B_LOCAL_BIN", bogus.c_str(), 1);
  try {
    LocalServer::DefaultBinary();
    ADD_FAILURE() << "DefaultBinary accepted a missing E2B_LOCAL_BIN";
  } catch (const LocalServerError& e) {
    EXPECT_EQ(e.WhatFailed(), Reason::kBinaryNotFound);
    EXPECT_NE(std::string(e.what()).find(bogus), std::string::npos);
  }
  if (saved != nullptr) {
    setenv("E2B_LOCAL_BIN", restore.c_str(), 1);
  } else {
    unsetenv("E2B_LOCAL_BIN");
  }
}

TEST_F(LocalServerScriptTest, EarlyExitReportsStatusAndStderr) {
  LocalServerOptions options;
  options.Binary = Script("dies", "echo 'boom: cannot bind' >&2\nexit 3\n");
  try {
    LocalServer server(options);
    FAIL() << "a server that exits at once counted as started";
  } catch (const LocalServerError& e) {
    EXPECT_EQ(e.WhatFailed(), Reason::kStartFailed);
    const std::string what = e.what();
    EXPECT_NE(what.find("exited with code 3"), std::string::npos) << what;
    EXPECT_NE(what.find("boom: cannot bind"), std::string::npos) << what;
  }
}

TEST_F(LocalServerScriptTest, SilentServerTimesOutAndIsKilled) {
  LocalServerOptions options;
  options.Binary = Script(
      "silent", "echo $$ > '" + (dir_ / "pid").string() + "'\nexec sleep 30\n");
  options.StartupTimeout = 300ms;
  options.StopTimeout = 2s;
  const auto start = std::chrono::steady_clock::now();
  try {
    LocalServer server(options);
    FAIL() << "a server that never printed its URLs counted as started";
  } catch (const LocalServerError& e) {
    EXPECT_EQ(e.WhatFailed(), Reason::kStartTimeout);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_FALSE(Alive(RecordedPid()));
}

TEST_F(LocalServerScriptTest, WrongKeyIsRejected) {
  LocalServerOptions options;
  options.Binary = FakeServer("e2b_not_the_one_given");
  try {
    LocalServer server(options);
    FAIL() << "a server that printed another API key counted as started";
  } catch (const LocalServerError& e) {
    EXPECT_EQ(e.WhatFailed(), Reason::kStartFailed);
    EXPECT_NE(std::string(e.what()).find("API key"), std::string::npos);
  }
  EXPECT_FALSE(Alive(RecordedPid()));
}

}  // namespace
