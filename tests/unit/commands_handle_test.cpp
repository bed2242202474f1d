// Commands beyond Run, against an in-process envd stand-in: output
// callbacks, background handles, the unary process RPCs, PTYs, and how each
// behaves when the stream stalls or breaks.

#include "internal/base64.hpp"
#include "internal/connect_envelope.hpp"
#include "support/test_server.hpp"

#include <e2b/client.hpp>
#include <e2b/commands.hpp>
#include <e2b/errors.hpp>
#include <e2b/pty.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace e2b {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "envd-token-handles-0123456789";

std::string Frame(const json& message) {
  return internal::EncodeEnvelope(0, message.dump());
}
std::string EndFrame(const json& end = json::object()) {
  return internal::EncodeEnvelope(internal::kEnvelopeEndStream, end.dump());
}
std::string Start(int pid = 7) {
  return Frame({{"event", {{"start", {{"pid", pid}}}}}});
}
std::string Out(const char* stream, const std::string& bytes) {
  return Frame(
      {{"event", {{"data", {{stream, internal::Base64Encode(bytes)}}}}}});
}
std::string Exit(const json& end = json::object()) {
  return Frame({{"event", {{"end", end}}}});
}
std::string Keepalive() {
  return Frame({{"event", {{"keepalive", json::object()}}}});
}

json Payload(const std::string& body) {
  internal::EnvelopeDecoder decoder;
  decoder.Feed(body);
  auto envelope = decoder.Next();
  if (!envelope) return nullptr;
  return json::parse(envelope->payload);
}

// One canned answer per procedure; a `stall` answer sends `body` and then
// keeps the stream open until the test ends.
struct Answer {
  std::string body;
  int status = 200;
  bool stall = false;
};

class CommandsHandleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Post("/sandboxes",
                          [](const httplib::Request&, httplib::Response& res) {
                            res.status = 201;
                            res.set_content(json{{"sandboxID", "isbxhandles01"},
                                                 {"templateID", "base"},
                                                 {"clientID", "c1"},
                                                 {"envdVersion", "0.6.13"},
                                                 {"envdAccessToken", kToken}}
                                                .dump(),
                                            "application/json");
                          });
    server_.server().Post(
        R"(/process\.Process/(\w+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          Answer answer;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = answers_.find(req.matches[1].str());
            if (it == answers_.end()) {
              res.status = 404;
              res.set_content(R"({"code":"unimplemented"})",
                              "application/json");
              return;
            }
            answer = it->second;
          }
          const bool stream = req.get_header_value("Content-Type") ==
                              "application/connect+json";
          const char* type =
              stream ? "application/connect+json" : "application/json";
          res.status = answer.status;
          if (!answer.stall) {
            res.set_content(answer.body, type);
            return;
          }
          auto sent = std::make_shared<bool>(false);
          res.set_chunked_content_provider(
              type, [this, answer, sent](std::size_t, httplib::DataSink& sink) {
                if (!*sent) {
                  *sent = true;
                  return answer.body.empty() ||
                         sink.write(answer.body.data(), answer.body.size());
                }
                for (int i = 0; i < 150 && !stop_; ++i) {
                  std::this_thread::sleep_for(20ms);
                }
                return false;
              });
        });
    server_.server().Get(
        "/health", [this](const httplib::Request&, httplib::Response& res) {
          res.status = health_status_;
          if (health_status_ == 502) {
            res.set_content(
                R"({"sandboxId":"isbxhandles01","message":"The sandbox was )"
                R"(not found","code":502})",
                "application/json");
          }
        });
    server_.Start();
    ClientConfig config;
    config.APIKey = "e2b_0123456789abcdef";
    config.APIBaseURL = server_.url();
    config.SandboxURL = server_.url();
    sandbox_ = NewClient(config).NewSandbox();
  }
  void TearDown() override { stop_ = true; }

  void Serve(const std::string& procedure, Answer answer) {
    std::lock_guard<std::mutex> lock(mutex_);
    answers_[procedure] = std::move(answer);
  }
  void ServeOk(const std::string& procedure) { Serve(procedure, {"{}"}); }

  e2b_test::RecordedRequest Request(const std::string& procedure) const {
    for (const auto& request : server_.requests()) {
      if (request.path == "/process.Process/" + procedure) return request;
    }
    ADD_FAILURE() << "no " << procedure << " request";
    return {};
  }
  static std::string Header(const e2b_test::RecordedRequest& request,
                            const char* name) {
    auto it = request.headers.find(name);
    return it == request.headers.end() ? "<absent>" : it->second;
  }

  e2b_test::TestServer server_;
  std::atomic<bool> stop_{false};
  std::atomic<int> health_status_{204};
  std::mutex mutex_;
  std::map<std::string, Answer> answers_;
  Sandbox sandbox_;
};

// ---- Run with callbacks
// ------------------------------------------------------

TEST_F(CommandsHandleTest, RunCallbacksGetWholeCharactersAndRawBytes) {
  // "é€" split inside both characters, then an invalid byte.
  Serve("Start", {Start() + Out("stdout", "a\xC3") + Out("stderr", "e1") +
                  Out("stdout", "\xA9\xE2\x82") + Out("stdout", "\xAC\xFF") +
                  Exit() + EndFrame()});
  std::vector<std::string> text;
  std::string raw;
  std::string err_text;
  std::string err_raw;
  const CommandResult result = sandbox_.Commands.Run(
      "x", {}, WithOnStdout([&](const std::string& t) { text.push_back(t); }),
      WithOnStdoutBytes([&](const std::vector<std::uint8_t>& b) {
        raw.append(b.begin(), b.end());
      }),
      WithOnStderr([&](const std::string& t) { err_text += t; }),
      WithOnStderrBytes([&](const std::vector<std::uint8_t>& b) {
        err_raw.append(b.begin(), b.end());
      }));
  // Each callback gets only whole characters (the invalid byte as U+FFFD).
  EXPECT_EQ(text, (std::vector<std::string>{"a", "\xC3\xA9",
                                            "\xE2\x82\xAC\xEF\xBF\xBD"}));
  EXPECT_EQ(raw, "a\xC3\xA9\xE2\x82\xAC\xFF");
  EXPECT_EQ(result.Stdout, raw);  // the result stays byte-exact
  EXPECT_EQ(err_text, "e1");
  EXPECT_EQ(err_raw, "e1");
}

TEST_F(CommandsHandleTest, RunCallbacksFireBeforeTheProcessEnds) {
  // The stream stalls after the first output: a callback that only ran at
  // the end would never see it before the deadline.
  Serve("Start", {Start() + Out("stdout", "early\n"), 200, true});
  std::atomic<bool> seen{false};
  EXPECT_THROW(
      sandbox_.Commands.RunWithContext(Context::WithTimeout(2s), "x", {},
                                       WithOnStdout([&](const std::string& t) {
                                         EXPECT_EQ(t, "early\n");
                                         seen = true;
                                       })),
      TimeoutError);
  EXPECT_TRUE(seen);
}

TEST_F(CommandsHandleTest, CommandExitErrorOnlyWhenAskedFor) {
  Serve("Start",
        {Start() + Out("stdout", "o") + Out("stderr", "bad") +
         Exit({{"exitCode", 3}, {"error", "exit status 3"}}) + EndFrame()});
  EXPECT_EQ(sandbox_.Commands.Run("x", {}).ExitCode, 3);
  try {
    sandbox_.Commands.Run("x", {}, WithCommandExitError());
    ADD_FAILURE() << "no CommandExitError";
  } catch (const CommandExitError& e) {
    EXPECT_EQ(e.ExitCode(), 3);
    EXPECT_EQ(e.Stdout(), "o");
    EXPECT_EQ(e.Stderr(), "bad");
    EXPECT_EQ(e.Message(), "exit status 3");
    EXPECT_STREQ(e.what(), "e2b: command exited with code 3: exit status 3");
  }
  Serve("Start", {Start() + Exit() + EndFrame()});
  EXPECT_EQ(sandbox_.Commands.Run("x", {}, WithCommandExitError()).ExitCode, 0);
}

TEST_F(CommandsHandleTest, RunShellUsesABashLoginShell) {
  Serve("Start", {Start() + Exit() + EndFrame()});
  sandbox_.Commands.RunShell("echo $HOME | wc -c", WithTag("t1"),
                             WithStdin(true), WithNoTimeout());
  const auto request = Request("Start");
  EXPECT_EQ(Payload(request.body),
            (json{{"process",
                   {{"cmd", "/bin/bash"},
                    {"args", {"-l", "-c", "echo $HOME | wc -c"}}}},
                  {"stdin", true},
                  {"tag", "t1"}}));
  EXPECT_EQ(Header(request, "Connect-Timeout-Ms"), "<absent>");
  EXPECT_EQ(Header(request, "Keepalive-Ping-Interval"), "50");
}

// Go HEAD's Run(ctx, cmd) and Start(ctx, cmd): a shell command line, and a
// non-zero exit is a CommandExitError unless the option says otherwise.
TEST_F(CommandsHandleTest, GoHeadRunIsAShellLineWithExitErrors) {
  Serve("Start",
        {Start() + Out("stdout", "o") +
         Exit({{"exitCode", 3}, {"error", "exit status 3"}}) + EndFrame()});
  const Context ctx = Context::Background();
  try {
    sandbox_.Commands.Run(ctx, "echo o; exit 3", WithCwd("/tmp"));
    ADD_FAILURE() << "no CommandExitError";
  } catch (const CommandExitError& e) {
    EXPECT_EQ(e.ExitCode(), 3);
    EXPECT_EQ(e.Stdout(), "o");
    EXPECT_EQ(e.Result().Error, "exit status 3");
  }
  EXPECT_EQ(Payload(Request("Start").body)["process"],
            (json{{"cmd", "/bin/bash"},
                  {"args", {"-l", "-c", "echo o; exit 3"}},
                  {"cwd", "/tmp"}}));
  const CommandResult kept =
      sandbox_.Commands.Run(ctx, "exit 3", WithCommandExitError(false));
  EXPECT_EQ(kept.ExitCode, 3);
  CommandHandle handle = sandbox_.Commands.Start(ctx, "exit 3");
  EXPECT_THROW(handle.Wait(), CommandExitError);
}

// ---- background handles
// ------------------------------------------------------------

TEST_F(CommandsHandleTest, StartReturnsAHandleThatWaitsForTheResult) {
  Serve("Start",
        {Start(412) + Keepalive() + Out("stdout", "hi\n") + Keepalive() +
         Out("stderr", "warn") +
         Exit({{"exitCode", 2}, {"error", "exit status 2"}}) + EndFrame()});
  std::mutex mutex;
  std::string streamed;
  CommandHandle handle =
      sandbox_.Commands.Start("sleep", {"1"}, WithTimeout(7s), WithUser("root"),
                              WithOnStdout([&](const std::string& t) {
                                std::lock_guard<std::mutex> lock(mutex);
                                streamed += t;
                              }));
  EXPECT_EQ(handle.PID(), 412u);
  EXPECT_FALSE(handle.IsPty());
  const CommandResult result = handle.Wait();
  EXPECT_EQ(result.Stdout, "hi\n");
  EXPECT_EQ(result.Stderr, "warn");
  EXPECT_EQ(result.ExitCode, 2);
  EXPECT_EQ(handle.ExitCode(), 2);
  EXPECT_EQ(handle.Stdout(), "hi\n");
  EXPECT_EQ(handle.Wait().ExitCode, 2);  // Wait again: same result
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(streamed, "hi\n");
  }
  const auto request = Request("Start");
  EXPECT_EQ(Header(request, "Connect-Timeout-Ms"), "7000");
  EXPECT_EQ(Header(request, "Authorization"), "Basic cm9vdDo=");
  EXPECT_EQ(Header(request, "X-Access-Token"), kToken);
  EXPECT_EQ(Payload(request.body),
            (json{{"process", {{"cmd", "sleep"}, {"args", {"1"}}}},
                  {"stdin", false}}));
}

TEST_F(CommandsHandleTest, WaitThrowsCommandExitErrorWhenAskedFor) {
  Serve("Start",
        {Start() + Exit({{"exitCode", -1}, {"status", "signal: killed"}}) +
         EndFrame()});
  CommandHandle handle =
      sandbox_.Commands.StartShell("sleep 100", WithCommandExitError());
  try {
    handle.Wait();
    ADD_FAILURE() << "no CommandExitError";
  } catch (const CommandExitError& e) {
    EXPECT_EQ(e.ExitCode(), -1);
    EXPECT_EQ(e.Message(), "signal: killed");
  }
}

TEST_F(CommandsHandleTest, StartFailsWithTheServersError) {
  Serve("Start", {EndFrame({{"error",
                             {{"code", "invalid_argument"},
                              {"message", "cwd '/nope' does not exist"}}}})});
  try {
    sandbox_.Commands.Start("pwd", {}, WithCwd("/nope"));
    ADD_FAILURE() << "Start succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 400);
    EXPECT_EQ(e.Message(), "cwd '/nope' does not exist");
  }
  Serve("Start", {Out("stdout", "x") + Exit() + EndFrame()});
  EXPECT_THROW(sandbox_.Commands.Start("x", {}), Error);  // no start event
  Serve("Start", {EndFrame()});
  EXPECT_THROW(sandbox_.Commands.Start("x", {}), Error);
  EXPECT_THROW(sandbox_.Commands.Start("", {}), Error);
}

// Go HEAD's Wait(ctx, WithWaitOnStdout/Stderr): the callbacks see all of the
// output, on the thread that waits, and the result is unchanged.
TEST_F(CommandsHandleTest, WaitCallbacksSeeAllOutputOnTheWaitingThread) {
  Serve("Start", {Start() + Out("stdout", "one ") + Out("stderr", "err") +
                  Out("stdout", "two") + Exit() + EndFrame()});
  auto handle = sandbox_.Commands.Start("x", {});
  std::string out;
  std::string err;
  std::vector<std::thread::id> threads;
  auto text = [](const std::vector<std::uint8_t>& b) {
    return std::string(b.begin(), b.end());
  };
  const auto result =
      handle.Wait(Context::Background(),
                  WithWaitOnStdout([&](const std::vector<std::uint8_t>& b) {
                    out += text(b);
                    threads.push_back(std::this_thread::get_id());
                  }),
                  WithWaitOnStderr([&](const std::vector<std::uint8_t>& b) {
                    err += text(b);
                    threads.push_back(std::this_thread::get_id());
                  }));
  EXPECT_EQ(out, "one two");
  EXPECT_EQ(err, "err");
  EXPECT_EQ(result.Stdout, "one two");
  EXPECT_EQ(result.Stderr, "err");
  ASSERT_FALSE(threads.empty());
  for (const auto& id : threads) EXPECT_EQ(id, std::this_thread::get_id());
  // A second Wait replays everything again: the output is kept.
  std::string again;
  handle.Wait(WithWaitOnStdout(
      [&](const std::vector<std::uint8_t>& b) { again += text(b); }));
  EXPECT_EQ(again, "one two");
}

// Output that arrives while Wait runs reaches its callbacks as it comes,
// and a cancelled Wait throws while the process runs on.
TEST_F(CommandsHandleTest, WaitCallbacksFollowALiveStream) {
  Serve("Start", {Start() + Out("stdout", "early"), 200, true});
  auto handle = sandbox_.Commands.Start("x", {});
  std::string out;
  auto ctx = Context::WithTimeout(Context::Background(), 300ms);
  EXPECT_THROW(handle.Wait(ctx, WithWaitOnStdout(
                                    [&](const std::vector<std::uint8_t>& b) {
                                      out.append(b.begin(), b.end());
                                    })),
               TimeoutError);
  EXPECT_EQ(out, "early");
}

// Go HEAD's Connect options: the attached process's raw bytes.
TEST_F(CommandsHandleTest, ConnectOptionsDeliverBytes) {
  Serve("Connect", {Start(21) + Out("stdout", "so") + Out("stderr", "se") +
                    Exit() + EndFrame()});
  std::string out;
  std::string err;
  ConnectOption on_out =
      WithConnectOnStdout([&](const std::vector<std::uint8_t>& b) {
        out.append(b.begin(), b.end());
      });
  sandbox_.Commands
      .Connect(21, on_out,
               WithConnectOnStderr([&](const std::vector<std::uint8_t>& b) {
                 err.append(b.begin(), b.end());
               }))
      .Wait();
  EXPECT_EQ(out, "so");
  EXPECT_EQ(err, "se");
}

// Go's WithTimeout: zero or negative means no lifetime at all.
TEST_F(CommandsHandleTest, ZeroOrNegativeTimeoutMeansNoLifetime) {
  for (auto timeout : {0ms, -1ms}) {
    server_.clear_requests();
    Serve("Start", {Start(7) + Exit() + EndFrame()});
    sandbox_.Commands.Start("x", {}, WithTimeout(timeout)).Wait();
    EXPECT_EQ(Header(Request("Start"), "Connect-Timeout-Ms"), "<absent>")
        << timeout.count();
  }
  // A later positive WithTimeout sets a lifetime again.
  server_.clear_requests();
  Serve("Start", {Start(7) + Exit() + EndFrame()});
  sandbox_.Commands.Start("x", {}, WithTimeout(0ms), WithTimeout(2s)).Wait();
  EXPECT_EQ(Header(Request("Start"), "Connect-Timeout-Ms"), "2000");
}

TEST_F(CommandsHandleTest, RequestTimeoutBoundsOnlyTheStart) {
  Serve("Start", {"", 200, true});  // headers, then nothing
  try {
    sandbox_.Commands.Start("x", {}, WithRequestTimeout(300ms));
    ADD_FAILURE() << "Start returned";
  } catch (const TimeoutError& e) {
    EXPECT_NE(std::string(e.what()).find("did not start"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(sandbox_.Commands.Start(Context::WithTimeout(300ms), "x",
                                       std::vector<std::string>{}),
               TimeoutError);
  // Once started, the handle outlives the start's limits.
  Serve("Start", {Start(9), 200, true});
  CommandHandle handle = sandbox_.Commands.Start(Context::WithTimeout(2s), "x",
                                                 {}, WithRequestTimeout(300ms));
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(handle.ExitCode().has_value());
  EXPECT_THROW(handle.Wait(Context::WithTimeout(100ms)), TimeoutError);
}

TEST_F(CommandsHandleTest, DisconnectStopsOutputWithoutKilling) {
  Serve("Start", {Start(5) + Out("stdout", "before"), 200, true});
  std::atomic<int> calls{0};
  CommandHandle handle = sandbox_.Commands.Start(
      "x", {}, WithOnStdout([&](const std::string&) { ++calls; }));
  for (int i = 0; i < 200 && handle.Stdout().empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(handle.Stdout(), "before");
  handle.Disconnect();
  const int after = calls;
  EXPECT_THROW(handle.Wait(), Error);
  EXPECT_EQ(calls, after);
  for (const auto& request : server_.requests()) {
    EXPECT_NE(request.path, "/process.Process/SendSignal");
  }
}

TEST_F(CommandsHandleTest, DroppingAStalledHandleDoesNotHang) {
  Serve("Start", {Start(5), 200, true});
  const auto started = std::chrono::steady_clock::now();
  {
    CommandHandle handle = sandbox_.Commands.Start("x", {});
    CommandHandle copy = handle;  // copies share the process
    EXPECT_EQ(copy.PID(), 5u);
  }
  // Well below the stand-in's 3 s stall: the stream was aborted.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
}

TEST_F(CommandsHandleTest, ABrokenStreamIsReportedByWait) {
  Serve("Start", {Start() + Out("stdout", "partial")});  // no end at all
  CommandHandle handle = sandbox_.Commands.Start("x", {});
  try {
    handle.Wait();
    ADD_FAILURE() << "Wait returned";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("process.Process/Start"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(handle.Stdout(), "partial");
}

// A stream cut mid-way (the stand-in drops the connection after its
// stall) is told apart by GET /health, as the official SDKs do: the edge's
// 502 means the sandbox was killed or timed out (SandboxNotFoundError);
// a healthy sandbox, or any other answer, leaves the transport's error.
TEST_F(CommandsHandleTest, ACutStreamIsSandboxNotFoundOnlyWhenTheEdgeSaysSo) {
  Serve("Start", {Start() + Out("stdout", "partial"), 200, /*stall=*/true});
  health_status_ = 502;
  CommandHandle gone = sandbox_.Commands.Start("x", {});
  try {
    gone.Wait();
    ADD_FAILURE() << "Wait returned";
  } catch (const SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "isbxhandles01");
    EXPECT_NE(std::string(e.what()).find("killed or reached its end of life"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(gone.Stdout(), "partial");

  for (int status : {204, 404, 503}) {
    health_status_ = status;
    CommandHandle cut = sandbox_.Commands.Start("x", {});
    try {
      cut.Wait();
      ADD_FAILURE() << "Wait returned";
    } catch (const SandboxNotFoundError& e) {
      ADD_FAILURE() << "health " << status << ": " << e.what();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("process.Process/Start"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST_F(CommandsHandleTest, ALifetimeThatRanOutIsATimeoutEvenAfterTheEnd) {
  // envd (and e2b-local) send the killed process's end, then
  // deadline_exceeded.
  Serve("Start",
        {Start() + Exit({{"exitCode", -1}, {"status", "signal: killed"}}) +
         EndFrame({{"error",
                    {{"code", "deadline_exceeded"},
                     {"message", "process exceeded its timeout"}}}})});
  CommandHandle handle = sandbox_.Commands.Start("sleep", {"9"});
  EXPECT_THROW(handle.Wait(), TimeoutError);
  EXPECT_EQ(handle.ExitCode(), -1);
  EXPECT_THROW(sandbox_.Commands.Run("sleep", {"9"}), TimeoutError);
}

TEST_F(CommandsHandleTest, ACallbackThatThrowsEndsTheStreamWithItsError) {
  Serve("Start", {Start() + Out("stdout", "x") + Exit() + EndFrame()});
  CommandHandle handle =
      sandbox_.Commands.Start("x", {}, WithOnStdout([](const std::string&) {
                                throw std::runtime_error("callback failed");
                              }));
  EXPECT_THROW(handle.Wait(), std::runtime_error);
}

TEST_F(CommandsHandleTest, HandleCallsTargetItsPid) {
  Serve("Start", {Start(77), 200, true});
  ServeOk("SendSignal");
  ServeOk("SendInput");
  ServeOk("CloseStdin");
  CommandHandle handle = sandbox_.Commands.Start("cat", {}, WithStdin());
  handle.SendStdin("line\n");
  handle.SendStdin(std::vector<std::uint8_t>{0, 255});
  handle.CloseStdin();
  EXPECT_TRUE(handle.SendSignal(ProcessSignal::Term));
  EXPECT_TRUE(handle.Kill());
  std::vector<json> bodies;
  for (const auto& request : server_.requests()) {
    if (request.path.rfind("/process.Process/", 0) != 0 ||
        request.path == "/process.Process/Start") {
      continue;
    }
    EXPECT_EQ(Header(request, "Content-Type"), "application/json");
    EXPECT_EQ(Header(request, "X-Access-Token"), kToken);
    bodies.push_back(json::parse(request.body));
  }
  EXPECT_EQ(
      bodies,
      (std::vector<json>{
          {{"process", {{"pid", 77}}}, {"input", {{"stdin", "bGluZQo="}}}},
          {{"process", {{"pid", 77}}}, {"input", {{"stdin", "AP8="}}}},
          {{"process", {{"pid", 77}}}},
          {{"process", {{"pid", 77}}}, {"signal", "SIGNAL_SIGTERM"}},
          {{"process", {{"pid", 77}}}, {"signal", "SIGNAL_SIGKILL"}},
      }));
}

// ---- service calls by pid
// --------------------------------------------------------------

TEST_F(CommandsHandleTest, KillOfAMissingProcessIsFalse) {
  Serve("SendSignal",
        {R"({"code":"not_found","message":"process with pid 9 not found"})",
         404});
  EXPECT_FALSE(sandbox_.Commands.Kill(9));
  EXPECT_FALSE(sandbox_.Commands.SendSignal(9, ProcessSignal::Term));
  Serve("SendSignal",
        {R"({"code":"unimplemented","message":"bad signal"})", 501});
  EXPECT_THROW(sandbox_.Commands.Kill(9), Error);
  Serve("SendSignal",
        {R"({"sandboxId":"isbxhandles01","message":"gone","code":502})", 502});
  EXPECT_THROW(sandbox_.Commands.Kill(9), SandboxNotFoundError);
}

TEST_F(CommandsHandleTest, StdinCallsByPidAndTheirErrors) {
  ServeOk("SendInput");
  ServeOk("CloseStdin");
  sandbox_.Commands.SendStdin(3, std::string_view("a\0b", 3));
  sandbox_.Commands.CloseStdin(3);
  EXPECT_EQ(json::parse(Request("SendInput").body),
            (json{{"process", {{"pid", 3}}}, {"input", {{"stdin", "YQBi"}}}}));
  Serve("SendInput",
        {R"({"code":"internal","message":"stdin is closed"})", 500});
  try {
    sandbox_.Commands.SendStdin(3, "x");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 500);
    EXPECT_EQ(e.Message(), "stdin is closed");
  }
}

TEST_F(CommandsHandleTest, ListMapsProcesses) {
  Serve("List", {R"({"processes":[
      {"pid":12,"tag":"web","config":{"cmd":"/bin/bash","args":["-l","-c","x"],
       "envs":{"A":"1"},"cwd":"/tmp"}},
      {"pid":"13","config":{"cmd":"sleep"}},
      {"config":{"cmd":"odd"},"future":true}]})"});
  const auto list = sandbox_.Commands.List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].PID, 12u);
  EXPECT_EQ(list[0].Tag, "web");
  EXPECT_EQ(list[0].Cmd, "/bin/bash");
  EXPECT_EQ(list[0].Args, (std::vector<std::string>{"-l", "-c", "x"}));
  EXPECT_EQ(list[0].Envs, (std::map<std::string, std::string>{{"A", "1"}}));
  EXPECT_EQ(list[0].Cwd, "/tmp");
  EXPECT_EQ(list[1].PID, 13u);
  EXPECT_EQ(list[1].Tag, "");
  EXPECT_EQ(list[2].PID, 0u);
  EXPECT_EQ(json::parse(Request("List").body), json::object());
  Serve("List", {"{}"});
  EXPECT_TRUE(sandbox_.Commands.List().empty());
  Serve("List", {R"({"processes":{}})"});
  EXPECT_THROW(sandbox_.Commands.List(), Error);
  Serve("List", {R"({"processes":[{"pid":-4}]})"});
  EXPECT_THROW(sandbox_.Commands.List(), Error);
  Serve("List", {"not json"});
  EXPECT_THROW(sandbox_.Commands.List(), Error);
}

TEST_F(CommandsHandleTest, ConnectByPidAndByTag) {
  Serve("Connect", {Start(21) + Out("stdout", "tail") + Exit() + EndFrame()});
  std::string seen;
  CommandHandle handle = sandbox_.Commands.Connect(
      21, WithOnStdout([&](const std::string& t) { seen += t; }));
  EXPECT_EQ(handle.PID(), 21u);
  EXPECT_EQ(handle.Wait().Stdout, "tail");
  EXPECT_EQ(seen, "tail");
  auto request = Request("Connect");
  EXPECT_EQ(Payload(request.body), (json{{"process", {{"pid", 21}}}}));
  EXPECT_EQ(Header(request, "Keepalive-Ping-Interval"), "50");
  // No hidden limit: the stream lasts as long as the process, as in Go.
  EXPECT_EQ(Header(request, "Connect-Timeout-Ms"), "<absent>");
  EXPECT_EQ(Header(request, "Authorization"), "<absent>");

  server_.clear_requests();
  sandbox_.Commands.Connect(21, WithTimeout(5s)).Wait();
  EXPECT_EQ(Header(Request("Connect"), "Connect-Timeout-Ms"), "5000");

  server_.clear_requests();
  sandbox_.Commands.ConnectByTag("web", WithNoTimeout()).Wait();
  request = Request("Connect");
  EXPECT_EQ(Payload(request.body), (json{{"process", {{"tag", "web"}}}}));
  EXPECT_EQ(Header(request, "Connect-Timeout-Ms"), "<absent>");

  EXPECT_THROW(sandbox_.Commands.ConnectByTag(""), Error);
  Serve("Connect",
        {EndFrame({{"error",
                    {{"code", "not_found"},
                     {"message", "process with pid 99 not found"}}}})});
  try {
    sandbox_.Commands.Connect(99);
    ADD_FAILURE() << "Connect succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 404);
    EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos);
  }
}

// ---- PTY
// ----------------------------------------------------------------------

TEST_F(CommandsHandleTest, PtyCreateSendsTheTerminalRequest) {
  Serve("Start", {Start(31) + Out("pty", "$ \x1b[0m") + Exit() + EndFrame()});
  ServeOk("SendInput");
  ServeOk("Update");
  ServeOk("SendSignal");
  std::string data;
  PtyService pty(sandbox_.Commands);
  CommandHandle handle =
      pty.Create(100, 30, WithPtyEnv({{"TERM", "dumb"}, {"X", "1"}}),
                 WithPtyCwd("/tmp"), WithPtyUser("root"),
                 WithPtyOnData([&](const std::vector<std::uint8_t>& b) {
                   data.append(b.begin(), b.end());
                 }));
  EXPECT_TRUE(handle.IsPty());
  EXPECT_EQ(handle.PID(), 31u);
  EXPECT_EQ(handle.Wait().Stdout, "$ \x1b[0m");
  EXPECT_EQ(data, "$ \x1b[0m");
  const auto request = Request("Start");
  EXPECT_EQ(Payload(request.body),
            (json{{"process",
                   {{"cmd", "/bin/bash"},
                    {"args", {"-i", "-l"}},
                    {"envs",
                     {{"TERM", "dumb"},
                      {"LANG", "C.UTF-8"},
                      {"LC_ALL", "C.UTF-8"},
                      {"X", "1"}}},
                    {"cwd", "/tmp"}}},
                  {"pty", {{"size", {{"cols", 100}, {"rows", 30}}}}}}));
  EXPECT_EQ(Header(request, "Authorization"), "Basic cm9vdDo=");

  pty.SendInput(31, "ls\n");
  pty.Resize(31, 120, 40);
  EXPECT_TRUE(pty.Kill(31));
  EXPECT_EQ(json::parse(Request("SendInput").body),
            (json{{"process", {{"pid", 31}}}, {"input", {{"pty", "bHMK"}}}}));
  EXPECT_EQ(json::parse(Request("Update").body),
            (json{{"process", {{"pid", 31}}},
                  {"pty", {{"size", {{"cols", 120}, {"rows", 40}}}}}}));
  EXPECT_THROW(handle.SendStdin("x"), Error);
  EXPECT_THROW(handle.CloseStdin(), Error);
  EXPECT_THROW(pty.Resize(31, 0, 10), Error);
  EXPECT_THROW(pty.Create(0, 24), Error);
}

TEST(CommandsHandleDefaultTest, EmptyObjectsThrow) {
  CommandHandle handle;
  EXPECT_THROW(handle.PID(), Error);
  EXPECT_THROW(handle.Wait(), Error);
  EXPECT_THROW(handle.Disconnect(), Error);
  CommandService commands;
  EXPECT_THROW(commands.Start("ls", {}), Error);
  EXPECT_THROW(commands.List(), Error);
  EXPECT_THROW(commands.Kill(1), Error);
  PtyService pty;
  EXPECT_THROW(pty.Create(80, 24), Error);
  EXPECT_THROW(pty.Kill(1), Error);
}

}  // namespace
}  // namespace e2b
