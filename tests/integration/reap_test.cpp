// Leases and the reaper against a real e2b-local: leased sandboxes whose
// lease ran out are killed (paused ones too), fresh, unleased and other
// owners' sandboxes survive, a dry run kills nothing, metadata matches;
// and the e2b-reap command does the same from the environment alone.

#include "integration/e2b_local_fixture.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;

class ReapTest : public E2bLocalTest {
 protected:
  void SetUp() override {
    E2bLocalTest::SetUp();
    owner_ = "reap-test-" + RandomHex(6);
  }

  // A sandbox the fixture closes at TearDown whatever the reaper did.
  e2b::Sandbox Leased(const std::string& owner, std::chrono::milliseconds ttl,
                      std::map<std::string, std::string> metadata = {}) {
    e2b::SandboxConfig cfg = Config();
    cfg.Metadata = std::move(metadata);
    cfg.Lease = e2b::SandboxLease{owner, ttl};
    return NewSandbox(cfg);
  }

  // The IDs of this API key's sandboxes, running and paused.
  std::set<std::string> Alive() const {
    std::set<std::string> ids;
    auto paginator = Client().NewSandboxPaginator(
        e2b::WithSandboxState("running", "paused"));
    while (paginator.HasNext()) {
      for (const auto& s : paginator.NextItems()) ids.insert(s.ID);
    }
    return ids;
  }

  static std::set<std::string> AsSet(const std::vector<std::string>& ids) {
    return {ids.begin(), ids.end()};
  }

  std::string owner_;
};

TEST_F(ReapTest, ExpiredLeasesOfTheOwnerAreKilledRunningAndPaused) {
  ASSERT_TRUE(Server().Ok()) << Server().StartError();
  auto expired = Leased(owner_, 1s);
  auto paused = Leased(owner_, 1s);
  paused.Pause();
  auto fresh = Leased(owner_, 1h);
  auto other_owner = Leased(owner_ + "-other", 1s);
  auto unleased = NewSandbox();
  std::this_thread::sleep_for(1500ms);

  e2b::ReapOptions opts;
  opts.Expired = true;
  opts.Owner = owner_;
  opts.DryRun = true;
  const auto dry = Client().ReapSandboxes(opts);
  EXPECT_EQ(AsSet(dry.Selected),
            (std::set<std::string>{expired.ID, paused.ID}));
  EXPECT_TRUE(dry.Killed.empty());
  EXPECT_EQ(AsSet(dry.Skipped), std::set<std::string>{fresh.ID});
  auto alive = Alive();
  EXPECT_EQ(alive.count(expired.ID) + alive.count(paused.ID), 2u)
      << "a dry run killed something";

  opts.DryRun = false;
  const auto report = Client().ReapSandboxes(opts);
  EXPECT_EQ(AsSet(report.Killed),
            (std::set<std::string>{expired.ID, paused.ID}));
  EXPECT_TRUE(report.Failed.empty()) << report.Failed.front().SandboxID << ": "
                                     << report.Failed.front().Message;
  alive = Alive();
  EXPECT_EQ(alive.count(expired.ID), 0u);
  EXPECT_EQ(alive.count(paused.ID), 0u);
  EXPECT_EQ(alive.count(fresh.ID), 1u);
  EXPECT_EQ(alive.count(other_owner.ID), 1u);
  EXPECT_EQ(alive.count(unleased.ID), 1u);

  // Reaping again finds nothing left to kill.
  const auto again = Client().ReapSandboxes(opts);
  EXPECT_TRUE(again.Selected.empty());
}

TEST_F(ReapTest, MetadataAndAgeSelectUnleasedSandboxesToo) {
  ASSERT_TRUE(Server().Ok()) << Server().StartError();
  const std::string job = RandomHex(6);
  e2b::SandboxConfig cfg = Config();
  cfg.Metadata = {{"job", job}};
  auto match = NewSandbox(cfg);
  cfg.Metadata = {{"job", job + "-other"}};
  auto other = NewSandbox(cfg);
  auto leased_match = Leased(owner_, 1h, {{"job", job}});

  e2b::ReapOptions opts;
  opts.Metadata = {{"job", job}};
  opts.OlderThan = 1h;  // nothing here is that old
  EXPECT_TRUE(Client().ReapSandboxes(opts).Selected.empty());

  opts.OlderThan = 0ms;
  const auto report = Client().ReapSandboxes(opts);
  EXPECT_EQ(AsSet(report.Killed),
            (std::set<std::string>{match.ID, leased_match.ID}));
  const auto alive = Alive();
  EXPECT_EQ(alive.count(match.ID), 0u);
  EXPECT_EQ(alive.count(leased_match.ID), 0u);
  EXPECT_EQ(alive.count(other.ID), 1u);

  e2b::ReapOptions nothing;
  nothing.Owner = owner_;
  EXPECT_THROW(Client().ReapSandboxes(nothing), e2b::InvalidArgumentError);
}

#ifdef E2B_REAP_BINARY

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs e2b-reap with the server's URL and key in its environment (never on
// its command line), stdout and stderr together.
CommandResult RunReap(const std::string& api_url, const std::string& api_key,
                      const std::string& args) {
  ::setenv("E2B_API_URL", api_url.c_str(), 1);
  ::setenv("E2B_API_KEY", api_key.c_str(), 1);
  ::unsetenv("E2B_DEBUG");
  const std::string command =
      std::string(E2B_REAP_BINARY) + " " + args + " 2>&1";
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  ::unsetenv("E2B_API_KEY");
  ::unsetenv("E2B_API_URL");
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

CommandResult RunReap(const LocalServer& server, const std::string& args) {
  return RunReap(server.APIURL(), server.APIKey(), args);
}

TEST_F(ReapTest, TheCommandReapsFromTheEnvironment) {
  ASSERT_TRUE(Server().Ok()) << Server().StartError();
  auto expired = Leased(owner_, 1s);
  auto fresh = Leased(owner_, 1h);
  std::this_thread::sleep_for(1500ms);

  const auto usage = RunReap(Server(), "--owner " + owner_);
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  EXPECT_NE(usage.output.find("no criterion"), std::string::npos)
      << usage.output;
  EXPECT_EQ(RunReap(Server(), "--older-than 5x").exit_code, 2);

  const auto dry = RunReap(Server(), "--expired --dry-run --owner " + owner_);
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("would kill " + expired.ID), std::string::npos)
      << dry.output;
  EXPECT_EQ(Alive().count(expired.ID), 1u) << "a dry run killed something";

  const auto run = RunReap(Server(), "--expired --owner " + owner_);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("killed " + expired.ID), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("1 killed, 0 gone, 0 failed, 1 skipped"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find(fresh.ID), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(Server().APIKey()), std::string::npos);
  const auto alive = Alive();
  EXPECT_EQ(alive.count(expired.ID), 0u);
  EXPECT_EQ(alive.count(fresh.ID), 1u);

  // A refused key: nothing listed, exit 3, and the key is not echoed.
  const std::string wrong_key = "e2b_" + RandomHex(20);
  const auto refused = RunReap(Server().APIURL(), wrong_key, "--expired");
  EXPECT_EQ(refused.exit_code, 3) << refused.output;
  EXPECT_EQ(refused.output.find(wrong_key), std::string::npos)
      << refused.output;
  EXPECT_EQ(Alive().count(fresh.ID), 1u);
}

#endif  // E2B_REAP_BINARY

}  // namespace
}  // namespace e2b_test
