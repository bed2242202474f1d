// Testing your own code against a real (local) E2B: e2b::testing's fixture
// starts e2b-local on free loopback ports before the suite and stops it
// after, and each test gets a client for it. Link e2b::testing and
// GTest::gtest_main; the server binary is found through E2B_LOCAL_BIN, the
// installed e2b-local or PATH (docs/testing.md).

#include <e2b/e2b.hpp>
#include <e2b/testing/local_server.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;

// The code under test: counts the words of `text` with wc inside a sandbox.
int CountWordsInSandbox(const e2b::Sandbox& sandbox, const std::string& text) {
  sandbox.Filesystem.WriteString("/tmp/words.txt", text);
  const e2b::CommandResult wc = sandbox.Commands.Run(
      "wc", {"-w", "/tmp/words.txt"}, e2b::WithTimeout(30s));
  return std::stoi(wc.Stdout);
}

// One e2b-local for the tests of this suite (SetUpTestSuite starts it).
class SandboxTest : public e2b::testing::LocalServerTest {};

TEST_F(SandboxTest, RunsACommand) {
  // NewSandbox's sandboxes are closed when the test ends, however it ends.
  e2b::Sandbox sandbox = NewSandbox();
  const e2b::CommandResult result =
      sandbox.Commands.Run("echo", {"hello"}, e2b::WithTimeout(30s));
  EXPECT_EQ(result.ExitCode, 0);
  EXPECT_EQ(result.Stdout, "hello\n");
}

TEST_F(SandboxTest, WritesAndReadsAFile) {
  e2b::Sandbox sandbox = NewSandbox();
  sandbox.Filesystem.WriteString("/home/user/note.txt", "written by a test\n");
  EXPECT_EQ(sandbox.Filesystem.ReadString("/home/user/note.txt"),
            "written by a test\n");
  EXPECT_TRUE(sandbox.Filesystem.Exists("/home/user/note.txt"));
}

TEST_F(SandboxTest, CountsWords) {
  e2b::Sandbox sandbox = NewSandbox();
  EXPECT_EQ(CountWordsInSandbox(sandbox, "one two three\nfour\n"), 4);
  EXPECT_EQ(CountWordsInSandbox(sandbox, ""), 0);
}

TEST_F(SandboxTest, SeesOnlyItsOwnServer) {
  // The client talks to this suite's server, with its random API key.
  e2b::Sandbox sandbox = NewSandbox();
  const auto listed = Client().ListSandboxes();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed.front().ID, sandbox.ID);
}

}  // namespace
