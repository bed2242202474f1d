// Forks one sandbox into three copies and shows that each fork starts with
// the parent's files and then goes its own way: a fork's writes are seen
// neither by the parent nor by the other forks, and the parent's writes
// after the fork are not seen by the forks.
//
// A fork boots from a snapshot of its parent, so expensive setup can be
// done once and then branched into parallel workers. Client::ForkSandbox
// does the same for a sandbox known only by its ID.

#include <e2b/e2b.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* kSeedPath = "/home/user/seed.txt";
constexpr const char* kSeed = "shared state\n";
// Written by the parent after the fork.
constexpr const char* kLaterPath = "/home/user/after-fork.txt";

int Fail(const std::string& message) {
  std::cerr << "error: " << message << std::endl;
  return 1;
}

// The message of a ForkResult's Err.
std::string ErrorText(const std::exception_ptr& err) {
  try {
    std::rethrow_exception(err);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

std::string WorkerLine(std::size_t i) {
  return "worker " + std::to_string(i) + " was here";
}

// Checks that fork `i` has the parent's seed but not what the parent wrote
// after the fork, then appends the fork's own line to the seed.
int CheckInheritedThenBranch(const e2b::Sandbox& fork, std::size_t i) {
  using namespace std::chrono_literals;
  const std::string inherited = fork.Filesystem.ReadString(kSeedPath);
  std::cout << "fork " << i << ": inherited " << kSeedPath << ": " << inherited;
  if (inherited != kSeed) {
    return Fail("fork " + fork.ID + " does not have the parent's " + kSeedPath);
  }
  if (fork.Filesystem.Exists(kLaterPath)) {
    return Fail("fork " + fork.ID + " sees " + kLaterPath +
                ", which the parent wrote after the fork");
  }
  const std::string append =
      "echo '" + WorkerLine(i) + "' >> " + std::string(kSeedPath);
  e2b::CommandResult appended =
      fork.Commands.Run("sh", {"-c", append}, e2b::WithTimeout(30s));
  if (appended.ExitCode != 0) {
    return Fail("fork " + fork.ID + ": appending to the seed exited with " +
                std::to_string(appended.ExitCode) + ": " + appended.Stderr);
  }
  std::cout << "fork " << i << ": appended '" << WorkerLine(i) << "'"
            << std::endl;
  return 0;
}

// Checks that fork `i`'s seed has its own line and no other fork's.
int CheckOwnChangeOnly(const e2b::Sandbox& fork, std::size_t i) {
  const std::string want = kSeed + WorkerLine(i) + "\n";
  const std::string got = fork.Filesystem.ReadString(kSeedPath);
  if (got != want) {
    return Fail("fork " + fork.ID + " has\n" + got + "instead of\n" + want);
  }
  return 0;
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  try {
    e2b::Client client = e2b::NewClient();

    std::cout << "Creating the parent sandbox..." << std::endl;
    e2b::Sandbox parent = client.NewSandbox();
    e2b::SandboxCloser parent_closer(parent);
    std::cout << "Parent sandbox: " << parent.ID << std::endl;

    std::cout << "Writing " << kSeedPath << " in the parent" << std::endl;
    parent.Filesystem.WriteString(kSeedPath, kSeed);

    std::cout << "Forking the parent into 3 sandboxes (2 minutes each)..."
              << std::endl;
    std::vector<e2b::ForkResult> results =
        parent.Fork(e2b::WithForkCount(3), e2b::WithForkTimeout(2min));

    // Every fork that started is a sandbox of its own: close each one,
    // whatever happens below. A fork that did not start has only an Err.
    std::deque<e2b::SandboxCloser> fork_closers;
    std::vector<e2b::Sandbox> forks;
    for (std::size_t i = 0; i < results.size(); ++i) {
      const e2b::ForkResult& result = results[i];
      if (!result.OK()) {
        std::cout << "fork " << i
                  << ": did not start: " << ErrorText(result.Err) << std::endl;
        continue;
      }
      fork_closers.emplace_back(*result.Sandbox);
      forks.push_back(*result.Sandbox);
      std::cout << "fork " << i << ": " << result.Sandbox->ID << std::endl;
    }
    if (results.size() != 3) {
      return Fail("asked for 3 forks, got " + std::to_string(results.size()) +
                  " results");
    }
    if (forks.size() != results.size()) {
      return Fail(std::to_string(results.size() - forks.size()) +
                  " of 3 forks did not start");
    }

    // The parent changes after the fork: the forks must not see it.
    std::cout << "Writing " << kLaterPath << " in the parent" << std::endl;
    parent.Filesystem.WriteString(kLaterPath, "written after the fork\n");

    for (std::size_t i = 0; i < forks.size(); ++i) {
      if (forks[i].ID == parent.ID) return Fail("a fork has the parent's ID");
      if (int rc = CheckInheritedThenBranch(forks[i], i)) return rc;
    }
    for (std::size_t i = 0; i < forks.size(); ++i) {
      if (int rc = CheckOwnChangeOnly(forks[i], i)) return rc;
    }
    std::cout << "Each fork has its own change and no other fork's."
              << std::endl;
    const std::string in_parent = parent.Filesystem.ReadString(kSeedPath);
    if (in_parent != kSeed) {
      return Fail("a fork's write reached the parent, which now has\n" +
                  in_parent);
    }
    std::cout << "The parent still has the original: " << in_parent;

    std::cout << "Closing the " << forks.size() << " forks and the parent."
              << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}
