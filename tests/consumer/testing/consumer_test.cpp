// Uses the installed e2b::testing fixture. run.sh has no e2b-local to give
// it, so it runs this with E2B_LOCAL_BIN naming a missing file and expects
// the test to fail (not skip) with the fixture's error.

#include <e2b/testing/local_server.hpp>

#include <gtest/gtest.h>

namespace {

class ConsumerTest : public e2b::testing::LocalServerTest {};

TEST_F(ConsumerTest, RunsACommand) {
  e2b::Sandbox sandbox = NewSandbox();
  EXPECT_EQ(sandbox.Commands.Run("echo", {"hi"}).Stdout, "hi\n");
}

}  // namespace
