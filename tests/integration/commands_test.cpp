// Commands.Run against a real e2b-local: output, exit codes, options,
// timeouts, large and binary output.

#include "integration/e2b_local_fixture.hpp"

#include <chrono>
#include <string>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class CommandsTest : public E2bLocalTest {
 protected:
  void SetUp() override {
    E2bLocalTest::SetUp();
    if (HasFatalFailure()) return;
    sandbox_ = NewSandbox();
  }
  e2b::Sandbox sandbox_;
};

TEST_F(CommandsTest, StdoutStderrAndExitCode) {
  e2b::CommandResult r = sandbox_.Commands.Run(
      "sh",
      {"-c", "echo to-out; echo to-err >&2; printf 'no newline'; exit 3"});
  EXPECT_EQ(r.ExitCode, 3);
  EXPECT_EQ(r.Stdout, "to-out\nno newline");
  EXPECT_EQ(r.Stderr, "to-err\n");
}

TEST_F(CommandsTest, ExitCodesAreResultsNotErrors) {
  EXPECT_EQ(sandbox_.Commands.Run("true", {}).ExitCode, 0);
  EXPECT_EQ(sandbox_.Commands.Run("false", {}).ExitCode, 1);
  e2b::CommandResult r = sandbox_.Commands.Run("sh", {"-c", "exit 42"});
  EXPECT_EQ(r.ExitCode, 42);
  EXPECT_TRUE(r.Stdout.empty());
  EXPECT_TRUE(r.Stderr.empty());
}

TEST_F(CommandsTest, ArgumentsArePassedVerbatimWithoutAShell) {
  e2b::CommandResult r = sandbox_.Commands.Run(
      "printf", {"[%s]\\n", "a b", "$HOME", "*", "'q'", ""});
  EXPECT_EQ(r.ExitCode, 0) << r.Stderr;
  EXPECT_EQ(r.Stdout, "[a b]\n[$HOME]\n[*]\n['q']\n[]\n");
}

TEST_F(CommandsTest, WithEnvAddsVariables) {
  e2b::CommandResult r = sandbox_.Commands.Run(
      "sh", {"-c", "printf '%s|%s' \"$FOO\" \"$SECOND\""},
      e2b::WithEnv({{"FOO", "bar baz"}, {"SECOND", "x=y;z"}}));
  EXPECT_EQ(r.ExitCode, 0) << r.Stderr;
  EXPECT_EQ(r.Stdout, "bar baz|x=y;z");
  // Not leaked into later commands.
  r = sandbox_.Commands.Run("sh", {"-c", "printf '%s' \"${FOO-unset}\""});
  EXPECT_EQ(r.Stdout, "unset");
}

TEST_F(CommandsTest, WithCwdAndDefaultCwd) {
  EXPECT_EQ(sandbox_.Commands.Run("pwd", {}, e2b::WithCwd("/tmp")).Stdout,
            "/tmp\n");
  EXPECT_EQ(sandbox_.Commands.Run("pwd", {}).Stdout, "/home/user\n");
  sandbox_.Filesystem.WriteString("/home/user/work dir/f.txt", "x");
  EXPECT_EQ(sandbox_.Commands.Run("ls", {}, e2b::WithCwd("/home/user/work dir"))
                .Stdout,
            "f.txt\n");
}

TEST_F(CommandsTest, MissingCwdIsAnError) {
  EXPECT_THROW(
      sandbox_.Commands.Run("pwd", {}, e2b::WithCwd("/no/such/dir/here")),
      e2b::Error);
  // The sandbox is fine afterwards.
  EXPECT_EQ(sandbox_.Commands.Run("echo", {"ok"}).Stdout, "ok\n");
}

TEST_F(CommandsTest, DefaultUserAndRoot) {
  EXPECT_EQ(sandbox_.Commands.Run("id", {"-u"}).Stdout, "1000\n");
  EXPECT_EQ(sandbox_.Commands.Run("whoami", {}).Stdout, "user\n");
  EXPECT_EQ(sandbox_.Commands.Run("id", {"-u"}, e2b::WithUser("root")).Stdout,
            "0\n");
  EXPECT_EQ(sandbox_.Commands.Run("whoami", {}, e2b::WithUser("root")).Stdout,
            "root\n");
  EXPECT_EQ(sandbox_.Commands.Run("whoami", {}, e2b::WithUser("user")).Stdout,
            "user\n");
  // Root's home is its default working directory.
  EXPECT_EQ(
      sandbox_.Commands.Run("sh", {"-c", "echo $HOME"}, e2b::WithUser("root"))
          .Stdout,
      "/root\n");
}

TEST_F(CommandsTest, UnknownUserIsAnError) {
  EXPECT_THROW(sandbox_.Commands.Run("id", {}, e2b::WithUser("nosuchuser")),
               e2b::Error);
}

TEST_F(CommandsTest, WithTimeoutStopsALongCommand) {
  const auto start = Clock::now();
  try {
    sandbox_.Commands.Run("sleep", {"30"}, e2b::WithTimeout(1s));
    FAIL() << "sleep 30 with a 1 s timeout did not throw";
  } catch (const e2b::TimeoutError& e) {
    EXPECT_NE(std::string(e.what()), "");
  }
  // Far below the 30 s the command would take; no tighter bound so a loaded
  // machine cannot make this flaky.
  EXPECT_LT(Clock::now() - start, 15s);
  // The process was stopped on the server too: nothing named sleep remains.
  e2b::CommandResult r =
      sandbox_.Commands.Run("sh", {"-c", "ps -eo comm= | grep -cx sleep"});
  EXPECT_EQ(r.Stdout, "0\n") << "the timed-out process kept running";
}

TEST_F(CommandsTest, MissingCommandExits127) {
  e2b::CommandResult r =
      sandbox_.Commands.Run("definitely-not-a-command-e2b", {"x"});
  EXPECT_EQ(r.ExitCode, 127);
}

TEST_F(CommandsTest, LargeOutputIsByteExact) {
  const std::size_t size = 8u << 20;  // 8 MiB
  e2b::CommandResult r = sandbox_.Commands.Run(
      "sh", {"-c", "yes 0123456789abcdefghijklmnopqrstu | head -c " +
                       std::to_string(size)});
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  ASSERT_EQ(r.Stdout.size(), size);
  const std::string line = "0123456789abcdefghijklmnopqrstu\n";  // 32 bytes
  std::string expected;
  expected.reserve(size);
  while (expected.size() < size) expected += line;
  expected.resize(size);
  EXPECT_TRUE(r.Stdout == expected) << "8 MiB output differs";
  EXPECT_TRUE(r.Stderr.empty()) << r.Stderr;
}

TEST_F(CommandsTest, LargeStderrIsByteExact) {
  e2b::CommandResult r = sandbox_.Commands.Run(
      "sh", {"-c", "head -c 1048576 /dev/zero | tr '\\000' e >&2; echo done"});
  ASSERT_EQ(r.ExitCode, 0);
  EXPECT_EQ(r.Stdout, "done\n");
  EXPECT_EQ(r.Stderr, std::string(1u << 20, 'e'));
}

TEST_F(CommandsTest, BinaryOutputIsByteExact) {
  std::vector<std::uint8_t> all(256 * 16);
  for (std::size_t i = 0; i < all.size(); ++i) {
    all[i] = static_cast<std::uint8_t>(i % 256);
  }
  sandbox_.Filesystem.WriteBytes("/home/user/bytes.bin", all);
  e2b::CommandResult r = sandbox_.Commands.Run("cat", {"/home/user/bytes.bin"});
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  EXPECT_TRUE(r.Stdout == std::string(all.begin(), all.end()))
      << "binary stdout differs (size " << r.Stdout.size() << ")";

  // Random bytes produced inside the sandbox: stdout and the file agree.
  r = sandbox_.Commands.Run(
      "sh", {"-c", "head -c 65536 /dev/urandom | tee /tmp/rand.bin"});
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  ASSERT_EQ(r.Stdout.size(), 65536u);
  std::vector<std::uint8_t> file =
      sandbox_.Filesystem.ReadBytes("/tmp/rand.bin");
  EXPECT_TRUE(std::string(file.begin(), file.end()) == r.Stdout);
}

TEST_F(CommandsTest, NonUtf8OutputIsKept) {
  e2b::CommandResult r = sandbox_.Commands.Run("printf", {"\\377\\376\\000x"});
  ASSERT_EQ(r.ExitCode, 0);
  EXPECT_EQ(r.Stdout, std::string("\xff\xfe\0x", 4));
}

TEST_F(CommandsTest, StdinIsClosedSoReadersDoNotHang) {
  // A command reading stdin must see EOF at once (official SDK behaviour),
  // not wait for the command timeout.
  e2b::CommandResult r =
      sandbox_.Commands.Run("cat", {}, e2b::WithTimeout(20s));
  EXPECT_EQ(r.ExitCode, 0);
  EXPECT_EQ(r.Stdout, "");
}

TEST_F(CommandsTest, SandboxEnvVarsAndHostnameAreTheSandboxes) {
  e2b::CommandResult r = sandbox_.Commands.Run("hostname", {});
  EXPECT_EQ(r.Stdout, sandbox_.ID + "\n");
  r = sandbox_.Commands.Run("sh", {"-c", "echo $HOME:$USER"});
  EXPECT_EQ(r.Stdout, "/home/user:user\n");
}

}  // namespace
}  // namespace e2b_test
