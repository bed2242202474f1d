// One Client and one sandbox used from many threads at once.

#include "integration/e2b_local_fixture.hpp"

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace e2b_test {
namespace {

class ConcurrencyTest : public E2bLocalTest {};

TEST_F(ConcurrencyTest, EightThreadsTimesTenRunsOnOneSandbox) {
  e2b::Sandbox sb = NewSandbox();
  constexpr int kThreads = 8;
  constexpr int kRuns = 10;
  std::mutex mu;
  std::vector<std::string> failures;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        const std::string tag =
            "thread-" + std::to_string(t) + "-run-" + std::to_string(i);
        try {
          e2b::CommandResult r = sb.Commands.Run(
              "sh",
              {"-c", "printf '%s' \"$1\"; printf '%s' \"$1\" >&2; exit $2",
               "sh", tag, std::to_string(i)});
          if (r.Stdout != tag || r.Stderr != tag || r.ExitCode != i) {
            std::lock_guard<std::mutex> lock(mu);
            failures.push_back(tag + ": stdout '" + r.Stdout + "' stderr '" +
                               r.Stderr + "' exit " +
                               std::to_string(r.ExitCode));
          } else {
            ++ok;
          }
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(tag + ": threw " + e.what());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(ok.load(), kThreads * kRuns);
}

TEST_F(ConcurrencyTest, ParallelFilesAndControlCallsOnTwoSandboxes) {
  e2b::Sandbox a = NewSandbox();
  e2b::Sandbox b = NewSandbox();
  std::mutex mu;
  std::vector<std::string> failures;
  auto record = [&](const std::string& f) {
    std::lock_guard<std::mutex> lock(mu);
    failures.push_back(f);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const e2b::Sandbox& sb = (t % 2 == 0) ? a : b;
      for (int i = 0; i < 5; ++i) {
        const std::string path = "/home/user/t" + std::to_string(t) + "/f" +
                                 std::to_string(i) + ".txt";
        const std::string text(1000 + static_cast<std::size_t>(t * 100 + i),
                               static_cast<char>('a' + t));
        try {
          sb.Filesystem.WriteString(path, text);
          if (sb.Filesystem.ReadString(path) != text) {
            record(path + ": content differs");
          }
          if (sb.Info().ID != sb.ID)
            record(path + ": Info returned another ID");
          Client().ListSandboxes();
        } catch (const std::exception& e) {
          record(path + ": threw " + e.what());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  // Each sandbox holds only its own threads' files.
  EXPECT_EQ(a.Commands.Run("ls", {"/home/user"}).Stdout, "t0\nt2\n");
  EXPECT_EQ(b.Commands.Run("ls", {"/home/user"}).Stdout, "t1\nt3\n");
}

}  // namespace
}  // namespace e2b_test
