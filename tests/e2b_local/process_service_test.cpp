// process.Process handlers called directly, with a recording StreamWriter,
// against real sandboxes (namespaced when possible, else the fallback).

#include "envd/process_service.hpp"

#include "runtime/sanitizers.hpp"
#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

namespace e2b_local {
namespace {

// ThreadSanitizer restarts its background thread in forked children, and
// setns() into a mount namespace refuses multithreaded callers: under TSAN
// only the unisolated runtime can launch processes.
using runtime_internal::kThreadSanitizer;

using json = nlohmann::json;
using namespace std::chrono_literals;

class RecordingWriter : public StreamWriter {
 public:
  /// accept: how many messages the "client" takes before it disconnects.
  explicit RecordingWriter(int accept = 1 << 30) : accept_(accept) {}

  bool Send(const json& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (accept_ <= 0) return false;
    --accept_;
    messages_.push_back(message);
    cv_.notify_all();
    return true;
  }
  bool ClientConnected() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return accept_ > 0;
  }
  std::vector<json> Messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  /// Waits until a message satisfying pred arrived.
  bool WaitFor(const std::function<bool(const json&)>& pred,
               std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const auto& m : messages_) {
        if (pred(m)) return true;
      }
      return false;
    });
  }
  std::uint32_t WaitPid() {
    EXPECT_TRUE(
        WaitFor([](const json& m) { return m["event"].contains("start"); }));
    for (const auto& m : Messages()) {
      if (m["event"].contains("start")) {
        return m["event"]["start"]["pid"].get<std::uint32_t>();
      }
    }
    return 0;
  }
  /// Concatenated decoded data of one kind ("stdout", "stderr", "pty").
  std::string Data(const std::string& kind) const {
    std::string out;
    for (const auto& m : Messages()) {
      const auto& event = m["event"];
      if (event.contains("data") && event["data"].contains(kind)) {
        out += *Base64Decode(event["data"][kind].get<std::string>());
      }
    }
    return out;
  }
  json End() const {
    for (const auto& m : Messages()) {
      if (m["event"].contains("end")) return m["event"]["end"];
    }
    return nullptr;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int accept_;
  std::vector<json> messages_;
};

class ProcessServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/e2b-process-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    state_ = dir;
    chmod(state_.c_str(), 0711);
    try {
      runtime_ = MakeRuntime(geteuid() == 0 && !kThreadSanitizer
                                 ? IsolationMode::kNamespaces
                                 : IsolationMode::kNone);
    } catch (const std::exception&) {
      runtime_ = MakeRuntime(IsolationMode::kNone);
    }
    sandbox_ = std::make_shared<LocalSandbox>();
    sandbox_->id = "sbx-proc";
    sandbox_->env_vars = {{"SANDBOX_VAR", "from-sandbox"}};
    SandboxSpec spec;
    spec.id = sandbox_->id;
    spec.dir = state_ + "/sandboxes/" + spec.id;
    sandbox_->instance = runtime_->Create(spec);
    RegisterProcessService(registry_);
  }

  void TearDown() override {
    if (sandbox_ && sandbox_->instance) sandbox_->instance->Destroy();
    std::error_code ec;
    std::filesystem::remove_all(state_, ec);
  }

  EnvdCall Call() {
    EnvdCall call;
    call.sandbox = sandbox_;
    call.user = *sandbox_->instance->LookupUser("user");
    return call;
  }

  // Runs Start on its own thread (as the HTTP layer does).
  std::thread StartAsync(json request, RecordingWriter& writer, EnvdCall call,
                         std::string* error_code = nullptr) {
    return std::thread([this, request, &writer, call, error_code]() mutable {
      try {
        (*registry_.FindStream("/process.Process/Start"))(call, request,
                                                          writer);
      } catch (const ConnectError& e) {
        if (error_code) *error_code = e.code;
      }
    });
  }

  json Unary(const std::string& method, const json& request) {
    EnvdCall call = Call();
    return (*registry_.FindUnary("/process.Process/" + method))(call, request);
  }

  std::string UnaryError(const std::string& method, const json& request) {
    try {
      Unary(method, request);
    } catch (const ConnectError& e) {
      return e.code;
    }
    return "ok";
  }

  static json Cmd(const std::string& script, bool with_stdin = false) {
    return json{{"process", {{"cmd", "/bin/sh"}, {"args", {"-c", script}}}},
                {"stdin", with_stdin}};
  }

  std::string state_;
  std::unique_ptr<SandboxRuntime> runtime_;
  std::shared_ptr<LocalSandbox> sandbox_;
  RpcRegistry registry_;
};

TEST_F(ProcessServiceTest, StartStreamsOutputInOrderThenEnd) {
  RecordingWriter writer;
  EnvdCall call = Call();
  ProcessStart(call,
               Cmd("echo a; sleep 0.3; echo b >&2; sleep 0.3; echo c; "
                   "echo $SANDBOX_VAR $USER; exit 4"),
               writer);
  auto messages = writer.Messages();
  ASSERT_GE(messages.size(), 5u);
  EXPECT_TRUE(messages.front()["event"].contains("start"));
  EXPECT_GT(messages.front()["event"]["start"]["pid"].get<int>(), 0);
  std::vector<std::string> kinds;
  for (const auto& m : messages) {
    if (m["event"].contains("data"))
      kinds.push_back(m["event"]["data"].begin().key());
  }
  ASSERT_GE(kinds.size(), 3u);
  EXPECT_EQ(kinds[0], "stdout");
  EXPECT_EQ(kinds[1], "stderr");
  EXPECT_EQ(kinds[2], "stdout");
  EXPECT_EQ(writer.Data("stdout"), "a\nc\nfrom-sandbox user\n");
  EXPECT_EQ(writer.Data("stderr"), "b\n");
  json end = messages.back()["event"]["end"];
  EXPECT_EQ(end["exitCode"], 4);
  EXPECT_EQ(end["exited"], true);
  EXPECT_EQ(end["status"], "exit status 4");
  EXPECT_EQ(end["error"], "exit status 4");

  bool started = false, ended = false;
  for (const auto& entry : sandbox_->log.Entries()) {
    if (entry.message == "process started") started = true;
    if (entry.message == "process ended") {
      ended = true;
      EXPECT_EQ(entry.fields.at("exitCode"), "4");
    }
  }
  EXPECT_TRUE(started);
  EXPECT_TRUE(ended);
}

TEST_F(ProcessServiceTest, SuccessfulEndOmitsDefaults) {
  RecordingWriter writer;
  EnvdCall call = Call();
  ProcessStart(call, json{{"process", {{"cmd", "true"}}}, {"stdin", false}},
               writer);
  EXPECT_EQ(writer.End(),
            (json{{"exited", true}, {"status", "exit status 0"}}));
}

TEST_F(ProcessServiceTest, OutputIsByteExactInBoundedChunks) {
  RecordingWriter writer;
  EnvdCall call = Call();
  ProcessStart(call, Cmd("seq 1 200000"), writer);
  std::string expected;
  for (int i = 1; i <= 200000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(writer.Data("stdout"), expected);
  for (const auto& m : writer.Messages()) {
    if (m["event"].contains("data")) {
      EXPECT_LE(
          Base64Decode(m["event"]["data"]["stdout"].get<std::string>())->size(),
          65536u);
    }
  }
}

TEST_F(ProcessServiceTest, StdinRoundTrip) {
  RecordingWriter writer;
  auto thread = StartAsync(Cmd("cat; echo done", true), writer, Call());
  std::uint32_t pid = writer.WaitPid();
  json selector{{"pid", pid}};
  EXPECT_EQ(Unary("SendInput", {{"process", selector},
                                {"input", {{"stdin", Base64Encode("hel")}}}}),
            json::object());
  EXPECT_EQ(Unary("SendInput", {{"process", selector},
                                {"input", {{"stdin", Base64Encode("lo\n")}}}}),
            json::object());
  EXPECT_EQ(UnaryError("SendInput", {{"process", selector},
                                     {"input", {{"pty", Base64Encode("x")}}}}),
            "internal");
  EXPECT_EQ(UnaryError("SendInput",
                       {{"process", selector}, {"input", {{"stdin", "***"}}}}),
            "invalid_argument");
  EXPECT_EQ(Unary("CloseStdin", {{"process", selector}}), json::object());
  thread.join();
  EXPECT_EQ(writer.Data("stdout"), "hello\ndone\n");
  EXPECT_EQ(writer.End()["status"], "exit status 0");
  // Gone now: closing again or writing is "not found".
  EXPECT_EQ(UnaryError("CloseStdin", {{"process", selector}}), "not_found");
}

TEST_F(ProcessServiceTest, CloseStdinTwiceIsFineAndClosedStdinRejectsInput) {
  RecordingWriter writer;
  auto thread = StartAsync(Cmd("sleep 30", true), writer, Call());
  json selector{{"pid", writer.WaitPid()}};
  EXPECT_EQ(UnaryError("CloseStdin", {{"process", selector}}), "ok");
  EXPECT_EQ(UnaryError("CloseStdin", {{"process", selector}}), "ok");
  EXPECT_EQ(UnaryError("SendInput",
                       {{"process", selector}, {"input", {{"stdin", "aGk="}}}}),
            "internal");
  EXPECT_EQ(Unary("SendSignal", {{"process", selector}, {"signal", 9}}),
            json::object());
  thread.join();
  EXPECT_EQ(writer.End()["status"], "signal: killed");
  EXPECT_EQ(writer.End()["exitCode"], -1);
  EXPECT_FALSE(writer.End().contains("exited"));
}

TEST_F(ProcessServiceTest, SigtermAndBadSignals) {
  RecordingWriter writer;
  auto thread = StartAsync(Cmd("sleep 30"), writer, Call());
  json selector{{"pid", writer.WaitPid()}};
  EXPECT_EQ(UnaryError("SendSignal",
                       {{"process", selector}, {"signal", "SIGNAL_SIGHUP"}}),
            "unimplemented");
  EXPECT_EQ(UnaryError("SendSignal", {{"process", selector}}), "unimplemented");
  EXPECT_EQ(Unary("SendSignal",
                  {{"process", selector}, {"signal", "SIGNAL_SIGTERM"}}),
            json::object());
  thread.join();
  EXPECT_EQ(writer.End()["status"], "signal: terminated");
  EXPECT_EQ(writer.End()["error"], "signal: terminated");
}

TEST_F(ProcessServiceTest, LifetimeExpiryKillsAndEndsWithDeadlineExceeded) {
  RecordingWriter writer;
  EnvdCall call = Call();
  call.timeout = 500ms;
  try {
    ProcessStart(call, Cmd("echo started; sleep 30"), writer);
    FAIL() << "expected deadline_exceeded";
  } catch (const ConnectError& e) {
    EXPECT_EQ(e.code, "deadline_exceeded");
  }
  EXPECT_EQ(writer.Data("stdout"), "started\n");
  EXPECT_EQ(writer.End()["status"], "signal: killed");
}

TEST_F(ProcessServiceTest, ListConnectAndReplay) {
  RecordingWriter starter;
  json request = Cmd("read x; echo got $x", true);
  request["tag"] = "my-tag";
  request["process"]["envs"] = {{"A", "1"}};
  request["process"]["cwd"] = "/tmp";
  auto thread = StartAsync(request, starter, Call());
  std::uint32_t pid = starter.WaitPid();

  json list = Unary("List", json::object());
  ASSERT_EQ(list["processes"].size(), 1u);
  EXPECT_EQ(list["processes"][0]["pid"], pid);
  EXPECT_EQ(list["processes"][0]["tag"], "my-tag");
  EXPECT_EQ(list["processes"][0]["config"]["cmd"], "/bin/sh");
  EXPECT_EQ(list["processes"][0]["config"]["envs"]["A"], "1");
  EXPECT_EQ(list["processes"][0]["config"]["cwd"], "/tmp");

  RecordingWriter watcher;
  std::thread connect([&] {
    EnvdCall call = Call();
    ProcessConnect(call, {{"process", {{"tag", "my-tag"}}}}, watcher);
  });
  EXPECT_EQ(watcher.WaitPid(), pid);
  Unary("SendInput", {{"process", {{"pid", std::to_string(pid)}}},
                      {"input", {{"stdin", Base64Encode("x\n")}}}});
  thread.join();
  connect.join();
  EXPECT_EQ(starter.Data("stdout"), "got x\n");
  EXPECT_EQ(watcher.Data("stdout"), "got x\n");
  EXPECT_EQ(watcher.End(), starter.End());

  // Ended: not listed, but Connect replays start + end.
  EXPECT_FALSE(Unary("List", json::object()).contains("processes"));
  RecordingWriter late;
  EnvdCall call = Call();
  ProcessConnect(call, {{"process", {{"pid", pid}}}}, late);
  ASSERT_EQ(late.Messages().size(), 2u);
  EXPECT_EQ(late.Messages()[0]["event"]["start"]["pid"], pid);
  EXPECT_EQ(late.End(), starter.End());
}

TEST_F(ProcessServiceTest, SelectorErrors) {
  EXPECT_EQ(UnaryError("SendSignal", {{"process", {{"pid", 999999}}},
                                      {"signal", "SIGNAL_SIGKILL"}}),
            "not_found");
  try {
    Unary("CloseStdin", {{"process", {{"pid", 4242}}}});
  } catch (const ConnectError& e) {
    EXPECT_EQ(std::string(e.what()), "process with pid 4242 not found");
  }
  EXPECT_EQ(UnaryError("CloseStdin", {{"process", {{"tag", "nope"}}}}),
            "not_found");
  EXPECT_EQ(UnaryError("CloseStdin", json::object()), "unimplemented");
  EXPECT_EQ(UnaryError("CloseStdin", {{"process", json::object()}}),
            "unimplemented");
  EXPECT_EQ(UnaryError("CloseStdin", {{"process", {{"pid", "abc"}}}}),
            "invalid_argument");
  EXPECT_EQ(UnaryError("List", json::array()), "invalid_argument");
  RecordingWriter writer;
  EnvdCall call = Call();
  EXPECT_THROW(ProcessConnect(call, {{"process", {{"pid", 77777}}}}, writer),
               ConnectError);
}

TEST_F(ProcessServiceTest, StartErrors) {
  RecordingWriter writer;
  EnvdCall call = Call();
  try {
    ProcessStart(call,
                 json{{"process", {{"cmd", "ls"}, {"cwd", "/no/such/dir"}}}},
                 writer);
    FAIL();
  } catch (const ConnectError& e) {
    EXPECT_EQ(e.code, "invalid_argument");
    EXPECT_EQ(std::string(e.what()), "cwd '/no/such/dir' does not exist");
  }
  EXPECT_THROW(ProcessStart(call, json{{"process", {{"cmd", ""}}}}, writer),
               ConnectError);
  EXPECT_THROW(
      ProcessStart(call, json{{"process", {{"cmd", "ls"}, {"args", "x"}}}},
                   writer),
      ConnectError);
  EXPECT_TRUE(writer.Messages().empty());
  // A missing command is an exit code, not an error.
  ProcessStart(
      call,
      json{{"process", {{"cmd", "no-such-command-e2b"}}}, {"stdin", false}},
      writer);
  EXPECT_EQ(writer.End()["exitCode"], 127);
}

TEST_F(ProcessServiceTest, KeepalivesWhileIdle) {
  RecordingWriter writer;
  EnvdCall call = Call();
  call.keepalive_interval = std::chrono::seconds(1);
  ProcessStart(call, Cmd("sleep 2.5"), writer);
  int keepalives = 0;
  for (const auto& m : writer.Messages()) {
    if (m["event"].contains("keepalive")) {
      ++keepalives;
      EXPECT_EQ(m, json::parse(R"({"event":{"keepalive":{}}})"));
    }
  }
  EXPECT_GE(keepalives, 1);
}

TEST_F(ProcessServiceTest, DisconnectedClientLeavesProcessRunning) {
  RecordingWriter writer(/*accept=*/1);  // takes the start event only
  EnvdCall call = Call();
  ProcessStart(call, Cmd("echo hi; sleep 30"), writer);
  json list = Unary("List", json::object());
  ASSERT_EQ(list["processes"].size(), 1u);
  auto pid = list["processes"][0]["pid"];
  EXPECT_EQ(Unary("SendSignal",
                  {{"process", {{"pid", pid}}}, {"signal", "SIGNAL_SIGKILL"}}),
            json::object());
}

TEST_F(ProcessServiceTest, PtyEchoResizeAndCloseStdin) {
  RecordingWriter writer;
  json request{{"process", {{"cmd", "/bin/sh"}}},
               {"pty", {{"size", {{"cols", 120}, {"rows", 40}}}}},
               {"stdin", false}};
  auto thread = StartAsync(request, writer, Call());
  json selector{{"pid", writer.WaitPid()}};
  EXPECT_EQ(UnaryError("CloseStdin", {{"process", selector}}), "unknown");
  EXPECT_EQ(UnaryError("SendInput",
                       {{"process", selector}, {"input", {{"stdin", "aGk="}}}}),
            "internal");
  EXPECT_EQ(
      Unary("Update", {{"process", selector},
                       {"pty", {{"size", {{"cols", 90}, {"rows", 33}}}}}}),
      json::object());
  Unary("SendInput",
        {{"process", selector},
         {"input", {{"pty", Base64Encode("stty size; exit 7\n")}}}});
  thread.join();
  std::string pty = writer.Data("pty");
  EXPECT_NE(pty.find("stty size"), std::string::npos) << pty;  // echo
  EXPECT_NE(pty.find("33 90"), std::string::npos) << pty;
  EXPECT_EQ(writer.End()["exitCode"], 7);
  EXPECT_EQ(writer.Data("stdout"), "");
}

TEST_F(ProcessServiceTest, UpdateOnPipeProcessFails) {
  RecordingWriter writer;
  auto thread = StartAsync(Cmd("sleep 30"), writer, Call());
  json selector{{"pid", writer.WaitPid()}};
  EXPECT_EQ(Unary("Update", {{"process", selector}}), json::object());
  EXPECT_EQ(
      UnaryError("Update", {{"process", selector},
                            {"pty", {{"size", {{"cols", 10}, {"rows", 10}}}}}}),
      "internal");
  Unary("SendSignal", {{"process", selector}, {"signal", "SIGNAL_SIGKILL"}});
  thread.join();
}

TEST_F(ProcessServiceTest, ManyConcurrentStreams) {
  constexpr int kCount = 8;
  std::vector<std::unique_ptr<RecordingWriter>> writers;
  std::vector<std::thread> threads;
  for (int i = 0; i < kCount; ++i) {
    writers.push_back(std::make_unique<RecordingWriter>());
    threads.push_back(StartAsync(Cmd("sleep 0.2; echo n" + std::to_string(i)),
                                 *writers.back(), Call()));
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(writers[i]->Data("stdout"), "n" + std::to_string(i) + "\n");
  }
}

}  // namespace
}  // namespace e2b_local
