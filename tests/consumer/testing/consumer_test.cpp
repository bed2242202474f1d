// Uses the installed e2b::testing. run.sh has no e2b-local to give it, so
// it runs ConsumerTest with E2B_LOCAL_BIN naming a missing file and expects
// the test to fail (not skip) with the fixture's error; FakeConsumerTest
// needs no server and must pass.

#include <e2b/testing/fake_e2b.hpp>
#include <e2b/testing/local_server.hpp>

#include <gtest/gtest.h>

namespace {

class ConsumerTest : public e2b::testing::LocalServerTest {};

TEST_F(ConsumerTest, RunsACommand) {
  e2b::Sandbox sandbox = NewSandbox();
  EXPECT_EQ(sandbox.Commands.Run("echo", {"hi"}).Stdout, "hi\n");
}

TEST(FakeConsumerTest, RunsACommandAgainstTheFake) {
  e2b::testing::FakeE2B fake;
  fake.OnCommand("echo hi", [](const e2b::testing::FakeCommandCall&) {
    e2b::testing::FakeCommandResult result;
    result.Stdout = "hi\n";
    return result;
  });
  e2b::Client client = fake.NewClient();
  e2b::Sandbox sandbox = client.NewSandbox();
  EXPECT_EQ(sandbox.Commands.Run("echo", {"hi"}).Stdout, "hi\n");
  sandbox.Filesystem.WriteString("/home/user/a.txt", "x");
  EXPECT_EQ(fake.FileContent(sandbox.ID, "/home/user/a.txt"), "x");
  sandbox.Close();
  EXPECT_TRUE(fake.Sandboxes().empty());
}

}  // namespace
