// Commands beyond the seed against a real e2b-local: streamed output and
// its order, huge output byte-exact, stdin, signals and exit statuses,
// background handles shared between clients, tags, and PTYs.

#include "integration/e2b_local_fixture.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;

// Polls `done` until it holds or `limit` passes (no timing assertion: the
// limit only bounds a failing test).
bool Eventually(const std::function<bool()>& done,
                std::chrono::milliseconds limit = 8000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class CommandsV2Test : public E2bLocalTest {
 protected:
  void SetUp() override {
    E2bLocalTest::SetUp();
    if (HasFatalFailure()) return;
    sandbox_ = NewSandbox();
  }

  bool Listed(std::uint32_t pid) {
    for (const auto& p : sandbox_.Commands.List()) {
      if (p.PID == pid) return true;
    }
    return false;
  }

  e2b::Sandbox sandbox_;
};

// Each line is only sent after the previous answer arrived, so the order of
// what the callbacks saw is fixed, and output provably streams while the
// process still runs.
TEST_F(CommandsV2Test, StreamedChunksArriveInOrderWhileTheProcessRuns) {
  std::mutex mutex;
  std::string out;
  std::string err;
  std::vector<std::string> log;  // "o:<text>" / "e:<text>" in arrival order
  e2b::CommandHandle handle = sandbox_.Commands.StartShell(
      "while read -r l; do echo \"out-$l\"; echo \"err-$l\" >&2; done; "
      "echo bye",
      e2b::WithStdin(), e2b::WithOnStdout([&](const std::string& t) {
        std::lock_guard<std::mutex> lock(mutex);
        out += t;
        log.push_back("o:" + t);
      }),
      e2b::WithOnStderr([&](const std::string& t) {
        std::lock_guard<std::mutex> lock(mutex);
        err += t;
        log.push_back("e:" + t);
      }));
  std::string expected_out;
  std::string expected_err;
  for (int i = 1; i <= 5; ++i) {
    handle.SendStdin(std::to_string(i) + "\n");
    expected_out += "out-" + std::to_string(i) + "\n";
    expected_err += "err-" + std::to_string(i) + "\n";
    ASSERT_TRUE(Eventually([&] {
      std::lock_guard<std::mutex> lock(mutex);
      return out == expected_out && err == expected_err;
    })) << "round "
        << i << ": out=" << out << " err=" << err;
    EXPECT_FALSE(handle.ExitCode().has_value());
  }
  handle.CloseStdin();
  const e2b::CommandResult result = handle.Wait();
  EXPECT_EQ(result.ExitCode, 0);
  EXPECT_EQ(result.Stdout, expected_out + "bye\n");
  EXPECT_EQ(result.Stderr, expected_err);
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(out, result.Stdout);
  // Round i's output precedes round i+1's in arrival order.
  int round = 1;
  for (const auto& entry : log) {
    for (int later = round + 1; later <= 5; ++later) {
      if (entry.find("-" + std::to_string(later) + "\n") != std::string::npos) {
        round = later;
      }
    }
    for (int earlier = 1; earlier < round; ++earlier) {
      EXPECT_EQ(entry.find("-" + std::to_string(earlier) + "\n"),
                std::string::npos)
          << "round " << earlier << " output after round " << round;
    }
  }
}

TEST_F(CommandsV2Test, FiftyMiBOutputIsByteExactInResultAndCallback) {
  // A 1 MiB pseudo-random block (every byte value, invalid UTF-8 galore)
  // printed 50 times. (Text callbacks are covered below: decoding 50 MiB
  // byte by byte would only slow a Debug build down.)
  std::mt19937 random(20240607);
  std::vector<std::uint8_t> block(1u << 20);
  for (auto& b : block) b = static_cast<std::uint8_t>(random());
  sandbox_.Filesystem.WriteBytes("/tmp/block.bin", block);
  constexpr int kCopies = 50;

  std::size_t streamed = 0;
  std::size_t mismatches = 0;
  e2b::CommandResult r = sandbox_.Commands.RunShell(
      "for i in $(seq " + std::to_string(kCopies) +
          "); do cat /tmp/block.bin; done",
      e2b::WithTimeout(60s),
      e2b::WithOnStdoutBytes([&](const std::vector<std::uint8_t>& chunk) {
        std::size_t done = 0;
        while (done < chunk.size()) {
          const std::size_t at = streamed % block.size();
          const std::size_t n =
              std::min(chunk.size() - done, block.size() - at);
          if (std::memcmp(chunk.data() + done, block.data() + at, n) != 0) {
            ++mismatches;
          }
          done += n;
          streamed += n;
        }
      }));
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  EXPECT_EQ(streamed, block.size() * kCopies);
  EXPECT_EQ(mismatches, 0u);
  ASSERT_EQ(r.Stdout.size(), block.size() * kCopies);
  for (int copy = 0; copy < kCopies; ++copy) {
    ASSERT_EQ(std::memcmp(r.Stdout.data() + copy * block.size(), block.data(),
                          block.size()),
              0)
        << "copy " << copy << " differs";
  }
}

TEST_F(CommandsV2Test, TextCallbacksNeverSplitACharacter) {
  // 3000 four-byte characters in one write: envd's chunks cut some of them.
  std::vector<std::string> chunks;
  e2b::CommandResult r = sandbox_.Commands.RunShell(
      "for i in $(seq 3000); do printf '\\360\\237\\214\\215'; done",
      e2b::WithOnStdout([&](const std::string& t) { chunks.push_back(t); }));
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  std::string joined;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.size() % 4, 0u) << "a chunk split a character";
    joined += c;
  }
  std::string expected;
  for (int i = 0; i < 3000; ++i) expected += "\xF0\x9F\x8C\x8D";
  EXPECT_EQ(joined, expected);
  EXPECT_EQ(r.Stdout, expected);
}

TEST_F(CommandsV2Test, StdinRoundTripIncludingBinaryAndEof) {
  e2b::CommandHandle handle =
      sandbox_.Commands.Start("cat", {}, e2b::WithStdin(true));
  std::string sent;
  for (int i = 0; i < 256; ++i) sent.push_back(static_cast<char>(i));
  handle.SendStdin(sent);
  handle.SendStdin(std::vector<std::uint8_t>{'e', 'n', 'd', '\n'});
  sandbox_.Commands.SendStdin(handle.PID(), "by pid\n");
  handle.CloseStdin();
  const e2b::CommandResult r = handle.Wait();
  EXPECT_EQ(r.ExitCode, 0);
  EXPECT_EQ(r.Stdout, sent + "end\nby pid\n");
}

TEST_F(CommandsV2Test, StdinIsClosedUnlessAsked) {
  // Without WithStdin a reader sees EOF at once instead of hanging.
  e2b::CommandResult r = sandbox_.Commands.RunShell("cat; echo eof");
  EXPECT_EQ(r.ExitCode, 0);
  EXPECT_EQ(r.Stdout, "eof\n");
  e2b::CommandHandle handle = sandbox_.Commands.Start("cat", {});
  EXPECT_EQ(handle.Wait().ExitCode, 0);
}

TEST_F(CommandsV2Test, KillTermAndExitStatuses) {
  e2b::CommandHandle killed = sandbox_.Commands.Start("sleep", {"30"});
  EXPECT_TRUE(Listed(killed.PID()));
  EXPECT_TRUE(killed.Kill());
  e2b::CommandResult r = killed.Wait();
  EXPECT_EQ(r.ExitCode, -1);
  EXPECT_TRUE(Eventually([&] { return !Listed(killed.PID()); }));
  EXPECT_FALSE(sandbox_.Commands.Kill(killed.PID()));  // already gone

  // SIGTERM reaches the process's trap.
  e2b::CommandHandle termed = sandbox_.Commands.StartShell(
      "trap 'echo got-term; exit 7' TERM; echo ready; "
      "while true; do sleep 0.1; done",
      e2b::WithNoTimeout());
  ASSERT_TRUE(Eventually([&] { return termed.Stdout() == "ready\n"; }));
  EXPECT_TRUE(
      sandbox_.Commands.SendSignal(termed.PID(), e2b::ProcessSignal::Term));
  r = termed.Wait();
  EXPECT_EQ(r.ExitCode, 7);
  EXPECT_EQ(r.Stdout, "ready\ngot-term\n");

  // Opt-in typed error.
  try {
    sandbox_.Commands.RunShell("echo partial; exit 4",
                               e2b::WithCommandExitError());
    ADD_FAILURE() << "no CommandExitError";
  } catch (const e2b::CommandExitError& e) {
    EXPECT_EQ(e.ExitCode(), 4);
    EXPECT_EQ(e.Stdout(), "partial\n");
    EXPECT_NE(e.Message().find("4"), std::string::npos) << e.Message();
  }
  EXPECT_EQ(sandbox_.Commands.RunShell("exit 4").ExitCode, 4);
}

TEST_F(CommandsV2Test, LifetimeEndsTheProcessButNotTheStart) {
  e2b::CommandHandle handle = sandbox_.Commands.Start(
      "sleep", {"30"}, e2b::WithTimeout(1s), e2b::WithRequestTimeout(20s));
  const std::uint32_t pid = handle.PID();
  try {
    const e2b::CommandResult r = handle.Wait();
    ADD_FAILURE() << "Wait returned exit code " << r.ExitCode;
  } catch (const e2b::TimeoutError&) {
    // envd's deadline_exceeded: the lifetime ran out
  }
  EXPECT_TRUE(Eventually([&] { return !Listed(pid); }));
}

// A silent process outlives every request-level limit: the client's
// RequestTimeout and WithRequestTimeout bound only the start handshake, the
// stream itself stays open (envd keepalives, no client-side deadline) for
// as long as the process runs, for the starting and for an attached client.
TEST_F(CommandsV2Test, IdleStreamOutlivesRequestTimeouts) {
  e2b::ClientConfig cfg;
  cfg.APIKey = Server().APIKey();
  cfg.APIBaseURL = Server().APIURL();
  cfg.SandboxURL = Server().SandboxURL();
  cfg.RequestTimeout = 1s;
  e2b::Client impatient = e2b::NewClient(cfg);
  e2b::Sandbox sandbox = impatient.Connect(sandbox_.ID, 120);

  const auto started = std::chrono::steady_clock::now();
  e2b::CommandHandle handle = sandbox.Commands.StartShell(
      "echo begin; sleep 4; echo end", e2b::WithNoTimeout(),
      e2b::WithRequestTimeout(1s));
  e2b::CommandHandle attached =
      sandbox.Commands.Connect(handle.PID(), e2b::WithRequestTimeout(1s));
  std::string streamed;
  const e2b::CommandResult r = sandbox.Commands.RunShell(
      "sleep 3; echo quiet-run", e2b::WithNoTimeout(),
      e2b::WithRequestTimeout(1s),
      e2b::WithOnStdout([&](const std::string& t) { streamed += t; }));
  EXPECT_EQ(r.ExitCode, 0);
  EXPECT_EQ(r.Stdout, "quiet-run\n");
  EXPECT_EQ(streamed, "quiet-run\n");

  const e2b::CommandResult first = handle.Wait();
  EXPECT_EQ(first.ExitCode, 0);
  EXPECT_EQ(first.Stdout, "begin\nend\n");
  const e2b::CommandResult second = attached.Wait();
  EXPECT_EQ(second.ExitCode, 0);
  EXPECT_NE(second.Stdout.find("end\n"), std::string::npos) << second.Stdout;
  // The streams really were idle for longer than every request limit.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 4s);
}

TEST_F(CommandsV2Test, SecondClientConnectsAndWaits) {
  e2b::CommandHandle first = sandbox_.Commands.StartShell(
      "echo started; read -r line; echo \"got $line\"; exit 3",
      e2b::WithStdin(), e2b::WithTag("worker"));
  ASSERT_TRUE(Eventually([&] { return first.Stdout() == "started\n"; }));
  first.Disconnect();  // the process keeps running

  e2b::Client other_client = Server().NewClient();
  e2b::Sandbox other = other_client.Connect(sandbox_.ID, 120);
  bool tagged = false;
  for (const auto& p : other.Commands.List()) {
    if (p.PID == first.PID()) {
      tagged = p.Tag == "worker";
      EXPECT_EQ(p.Cmd, "/bin/bash");
    }
  }
  EXPECT_TRUE(tagged);

  std::mutex mutex;
  std::string seen;
  e2b::CommandHandle attached = other.Commands.ConnectByTag(
      "worker", e2b::WithOnStdout([&](const std::string& t) {
        std::lock_guard<std::mutex> lock(mutex);
        seen += t;
      }));
  EXPECT_EQ(attached.PID(), first.PID());
  other.Commands.SendStdin(attached.PID(), "hello\n");
  const e2b::CommandResult r = attached.Wait();
  EXPECT_EQ(r.ExitCode, 3);
  EXPECT_EQ(r.Stdout, "got hello\n");  // only what came after attaching
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(seen, "got hello\n");
  EXPECT_THROW(first.Wait(), e2b::Error);  // it was disconnected
}

TEST_F(CommandsV2Test, ConnectToAMissingProcessFails) {
  EXPECT_THROW(sandbox_.Commands.Connect(999999), e2b::Error);
  EXPECT_FALSE(sandbox_.Commands.Kill(999999));
}

TEST_F(CommandsV2Test, PtyEchoResizeAndExit) {
  e2b::PtyService pty(sandbox_.Commands);
  std::mutex mutex;
  std::string screen;
  e2b::CommandHandle handle =
      pty.Create(80, 24, e2b::WithPtyEnv({{"PS1", "$ "}}),
                 e2b::WithPtyOnData([&](const std::vector<std::uint8_t>& b) {
                   std::lock_guard<std::mutex> lock(mutex);
                   screen.append(b.begin(), b.end());
                 }));
  EXPECT_TRUE(handle.IsPty());
  auto screen_has = [&](const std::string& text) {
    return Eventually([&] {
      std::lock_guard<std::mutex> lock(mutex);
      return screen.find(text) != std::string::npos;
    });
  };
  pty.SendInput(handle.PID(), "echo pty-$((40+2)) $TERM\n");
  EXPECT_TRUE(screen_has("pty-42 xterm-256color")) << screen;
  pty.Resize(handle.PID(), 123, 45);
  pty.SendInput(handle.PID(), "stty size\n");
  EXPECT_TRUE(screen_has("45 123")) << screen;
  pty.SendInput(handle.PID(), "exit 5\n");
  // Go HEAD's WithWaitOnPty: the whole session's output, on this thread.
  std::string waited;
  const e2b::CommandResult r =
      handle.Wait(e2b::WithWaitOnPty([&](const std::vector<std::uint8_t>& b) {
                    waited.append(b.begin(), b.end());
                  }),
                  e2b::WithWaitOnStdout([&](const std::vector<std::uint8_t>&) {
                    ADD_FAILURE() << "a PTY session has no separate stdout";
                  }));
  EXPECT_EQ(r.ExitCode, 5);
  EXPECT_NE(r.Stdout.find("pty-42"), std::string::npos);
  EXPECT_EQ(waited, r.Stdout);
}

// A command that prints 20 MB keeps 1 KiB of it, and says so; a callback
// still counts every byte.
TEST_F(CommandsV2Test, MaxOutputBytesBoundsWhatRunKeeps) {
  std::size_t streamed = 0;
  const e2b::CommandResult r = sandbox_.Commands.Run(
      "head", {"-c", "20000000", "/dev/zero"}, e2b::WithMaxOutputBytes(1024),
      e2b::WithOnStdoutBytes(
          [&](const std::vector<std::uint8_t>& b) { streamed += b.size(); }));
  EXPECT_EQ(r.ExitCode, 0);
  EXPECT_EQ(r.Stdout, std::string(1024, '\0'));
  EXPECT_TRUE(r.Truncated);
  EXPECT_EQ(streamed, 20000000u);
}

TEST_F(CommandsV2Test, PtyKill) {
  e2b::PtyService pty(sandbox_.Commands);
  e2b::CommandHandle handle = pty.Create(80, 24);
  EXPECT_TRUE(pty.Kill(handle.PID()));
  EXPECT_EQ(handle.Wait().ExitCode, -1);
  EXPECT_FALSE(pty.Kill(handle.PID()));
}

}  // namespace
}  // namespace e2b_test
