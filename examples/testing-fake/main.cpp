// Unit-testing your own code that uses e2b::Client, with FakeE2B
// (e2b::testing) instead of E2B or e2b-local: the fake answers the
// control plane and envd on a loopback port, and the tests script the
// commands, inspect the files and inject failures.

#include <e2b/e2b.hpp>
#include <e2b/testing/fake_e2b.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

// ---- the code under test (in a real project, in your own library) ------

struct CheckReport {
  bool passed = false;
  std::string output;
};

// Runs a user's script in a fresh sandbox and reports whether it passed.
// The sandbox is always killed, also when a call fails.
CheckReport RunCheck(const e2b::Client& client, const std::string& script) {
  e2b::SandboxConfig cfg;
  cfg.Template = "python";
  cfg.Metadata = {{"purpose", "check"}};
  e2b::Sandbox sandbox = client.NewSandbox(cfg);
  e2b::SandboxCloser closer(sandbox);
  sandbox.Filesystem.WriteString("/work/check.py", script);
  e2b::CommandResult result =
      sandbox.Commands.RunShell("python3 /work/check.py");
  return CheckReport{result.ExitCode == 0, result.Stdout + result.Stderr};
}

// ---- its tests -------------------------------------------------------------

using e2b::testing::FakeCommandCall;
using e2b::testing::FakeCommandResult;

TEST(RunCheck, ReportsAPassingScriptAndCleansUp) {
  e2b::testing::FakeE2B fake;
  std::string seen_script;
  fake.OnCommand("python3", [&](const FakeCommandCall& call) {
    // The handler sees the sandbox's files as the client wrote them.
    seen_script = fake.FileContent(call.SandboxID, "/work/check.py").value();
    return FakeCommandResult{"ok\n", "", 0, ""};
  });

  CheckReport report = RunCheck(fake.NewClient(), "print('ok')");

  EXPECT_TRUE(report.passed);
  EXPECT_EQ(report.output, "ok\n");
  EXPECT_EQ(seen_script, "print('ok')");
  EXPECT_TRUE(fake.Sandboxes().empty());  // SandboxCloser killed it
  ASSERT_EQ(fake.Commands().size(), 1U);
  EXPECT_EQ(fake.Commands()[0].Command, "python3 /work/check.py");
}

TEST(RunCheck, ReportsAFailingScript) {
  e2b::testing::FakeE2B fake;
  fake.OnCommand("python3", [](const FakeCommandCall&) {
    return FakeCommandResult{"", "AssertionError\n", 1, ""};
  });

  CheckReport report = RunCheck(fake.NewClient(), "assert False");

  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.output, "AssertionError\n");
}

TEST(RunCheck, KillsTheSandboxWhenAnUploadFails) {
  e2b::testing::FakeE2B fake;
  fake.FailNext("POST /files", 500);

  EXPECT_THROW(RunCheck(fake.NewClient(), "print(1)"), e2b::Error);
  EXPECT_TRUE(fake.Sandboxes().empty());
  EXPECT_EQ(fake.CallsTo("DELETE /sandboxes/{sandboxID}").size(), 1U);
}

TEST(RunCheck, LetsAuthenticationErrorsThrough) {
  e2b::testing::FakeE2B fake;
  e2b::ClientConfig cfg = fake.Config();
  cfg.APIKey = "e2b_deadbeef";  // not the fake's key: 401

  EXPECT_THROW(RunCheck(e2b::NewClient(cfg), "print(1)"),
               e2b::AuthenticationError);
}

}  // namespace
