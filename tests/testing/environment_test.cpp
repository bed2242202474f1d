// LocalServerEnvironment: one real e2b-local for the whole program, used by
// every LocalServerTest suite instead of one server per suite. Runs as one
// process (ctest `testing.environment`), so both suites see the server.

#include <e2b/testing/local_server.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using e2b::testing::LocalServerEnvironment;

// The API URL the first suite saw, to compare with the second's.
std::string first_api_url;

class FirstSuite : public e2b::testing::LocalServerTest {};
class SecondSuite : public e2b::testing::LocalServerTest {};

TEST_F(FirstSuite, UsesTheEnvironmentsServer) {
  ASSERT_NE(LocalServerEnvironment::Current(), nullptr);
  EXPECT_EQ(&Server(), LocalServerEnvironment::Current()->Server());
  first_api_url = Server().APIURL();
  e2b::Sandbox sandbox = NewSandbox();
  EXPECT_EQ(sandbox.Commands.Run("echo", {"one"}).Stdout, "one\n");
}

TEST_F(SecondSuite, SharesItAndSeesTheFirstSuitesSandboxClosed) {
  EXPECT_EQ(&Server(), LocalServerEnvironment::Current()->Server());
  ASSERT_FALSE(first_api_url.empty()) << "FirstSuite did not run first";
  EXPECT_EQ(Server().APIURL(), first_api_url);
  EXPECT_TRUE(Client().ListSandboxes().empty());
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new LocalServerEnvironment());
  return RUN_ALL_TESTS();
}
