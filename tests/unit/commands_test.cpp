// Commands.Run against an in-process envd stand-in: the exact Start request
// on the wire, result assembly, and every way the stream can fail.

#include "internal/base64.hpp"
#include "internal/connect_envelope.hpp"
#include "support/test_server.hpp"

#include <e2b/client.hpp>
#include <e2b/commands.hpp>
#include <e2b/errors.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace e2b {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "envd-token-0123456789";
constexpr const char* kSandboxId = "isbxcommands01";

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
std::string Exit(const json& end) { return Frame({{"event", {{"end", end}}}}); }
std::string Keepalive() {
  return Frame({{"event", {{"keepalive", json::object()}}}});
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Post("/sandboxes",
                          [](const httplib::Request&, httplib::Response& res) {
                            res.status = 201;
                            res.set_content(json{{"sandboxID", kSandboxId},
                                                 {"templateID", "base"},
                                                 {"clientID", "c1"},
                                                 {"envdVersion", "0.6.13"},
                                                 {"envdAccessToken", kToken}}
                                                .dump(),
                                            "application/json");
                          });
  }

  // Answers every Start with `body` (HTTP `status`, `type`).
  void ServeStart(std::string body, int status = 200,
                  std::string type = "application/connect+json") {
    server_.server().Post(
        "/process.Process/Start",
        [body, status, type](const httplib::Request&, httplib::Response& res) {
          res.status = status;
          res.set_content(body, type.c_str());
        });
    server_.Start();
    ClientConfig config;
    config.APIKey = "e2b_0123456789abcdef";
    config.APIBaseURL = server_.url();
    config.SandboxURL = server_.url();
    sandbox_ = NewClient(config).NewSandbox();
  }

  e2b_test::RecordedRequest StartRequest() const {
    for (const auto& request : server_.requests()) {
      if (request.path == "/process.Process/Start") return request;
    }
    ADD_FAILURE() << "no Start request";
    return {};
  }

  static json StartPayload(const e2b_test::RecordedRequest& request) {
    internal::EnvelopeDecoder decoder;
    decoder.Feed(request.body);
    auto envelope = decoder.Next();
    EXPECT_TRUE(envelope);
    EXPECT_FALSE(decoder.HasPartial());
    if (!envelope) return nullptr;
    EXPECT_EQ(envelope->flags, 0);
    return json::parse(envelope->payload);
  }

  static std::string Header(const e2b_test::RecordedRequest& request,
                            const char* name) {
    auto it = request.headers.find(name);
    return it == request.headers.end() ? "<absent>" : it->second;
  }

  // A Start that sends its first event and then stalls (bounded, and
  // released when the test ends).
  void ServeStalledStart() {
    server_.server().Post(
        "/process.Process/Start",
        [this](const httplib::Request&, httplib::Response& res) {
          res.set_chunked_content_provider(
              "application/connect+json",
              [this](std::size_t offset, httplib::DataSink& sink) {
                if (offset == 0) {
                  const std::string first = Start();
                  return sink.write(first.data(), first.size());
                }
                for (int i = 0; i < 150 && !stop_; ++i) {
                  std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
                return false;
              });
        });
    ServeStart(EndFrame());
  }

  void TearDown() override { stop_ = true; }

  e2b_test::TestServer server_;
  std::atomic<bool> stop_{false};
  Sandbox sandbox_;
};

TEST_F(CommandsTest, SendsExactStartRequest) {
  ServeStart(Start() + Exit({{"exited", true}}) + EndFrame());
  sandbox_.Commands.Run("ls", {});
  const auto request = StartRequest();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(Header(request, "Content-Type"), "application/connect+json");
  EXPECT_EQ(Header(request, "Connect-Protocol-Version"), "1");
  EXPECT_EQ(Header(request, "Connect-Timeout-Ms"), "60000");
  EXPECT_EQ(Header(request, "Keepalive-Ping-Interval"), "50");
  EXPECT_EQ(Header(request, "X-Access-Token"), kToken);
  EXPECT_EQ(Header(request, "E2b-Sandbox-Id"), kSandboxId);
  EXPECT_EQ(Header(request, "E2b-Sandbox-Port"), "49983");
  EXPECT_EQ(Header(request, "Authorization"), "<absent>");
  EXPECT_EQ(Header(request, "User"), "<absent>");
  EXPECT_EQ(StartPayload(request),
            (json{{"process", {{"cmd", "ls"}}}, {"stdin", false}}));
}

TEST_F(CommandsTest, SendsArgsEnvCwdUserAndTimeout) {
  ServeStart(Start() + Exit({{"exited", true}}) + EndFrame());
  sandbox_.Commands.Run("/bin/echo", {"-n", "a b", ""},
                        WithEnv({{"A", "1"}, {"B", "x=y"}}), WithCwd("/tmp"),
                        WithUser("root"), WithTimeout(5s));
  const auto request = StartPayload(StartRequest());
  EXPECT_EQ(request, (json{{"process",
                            {{"cmd", "/bin/echo"},
                             {"args", {"-n", "a b", ""}},
                             {"envs", {{"A", "1"}, {"B", "x=y"}}},
                             {"cwd", "/tmp"}}},
                           {"stdin", false}}));
  const auto raw = StartRequest();
  EXPECT_EQ(Header(raw, "Authorization"), "Basic cm9vdDo=");
  EXPECT_EQ(Header(raw, "Connect-Timeout-Ms"), "5000");
  EXPECT_EQ(Header(raw, "User"), "<absent>");
}

TEST_F(CommandsTest, ContextDeadlineShortensServerTimeout) {
  ServeStart(Start() + Exit({{"exited", true}}) + EndFrame());
  sandbox_.Commands.RunWithContext(Context::WithTimeout(3s), "true", {});
  const long long ms = std::stoll(Header(StartRequest(), "Connect-Timeout-Ms"));
  EXPECT_GT(ms, 0);
  EXPECT_LE(ms, 3000);
}

TEST_F(CommandsTest, AssemblesOutputAcrossChunks) {
  ServeStart(
      Start(412) + Out("stdout", "hel") + Keepalive() + Out("stderr", "warn") +
      Out("stdout", "lo\n") + Out("stderr", "ing\n") +
      Exit({{"exited", true}, {"status", "exit status 0"}}) + EndFrame());
  const CommandResult result = sandbox_.Commands.Run("x", {});
  EXPECT_EQ(result.Stdout, "hello\n");
  EXPECT_EQ(result.Stderr, "warning\n");
  EXPECT_EQ(result.ExitCode, 0);
}

// WithMaxOutputBytes caps what the result keeps of each stream, says so,
// and leaves the streaming callbacks every byte.
TEST_F(CommandsTest, MaxOutputBytesCapsTheResultNotTheCallbacks) {
  ServeStart(Start(412) + Out("stdout", "hel") + Out("stderr", "warn") +
             Out("stdout", "lo\n") + Out("stderr", "ing\n") +
             Exit({{"exited", true}}) + EndFrame());
  std::string streamed;
  const CommandResult result = sandbox_.Commands.Run(
      "x", {}, WithMaxOutputBytes(4),
      WithOnStdout([&](const std::string& t) { streamed += t; }));
  EXPECT_EQ(result.Stdout, "hell");
  EXPECT_EQ(result.Stderr, "warn");
  EXPECT_TRUE(result.Truncated);
  EXPECT_EQ(streamed, "hello\n");
}

// Exactly at the cap nothing is lost, so nothing is truncated.
TEST_F(CommandsTest, MaxOutputBytesAtTheCapIsNotTruncated) {
  ServeStart(Start(412) + Out("stdout", "abcd") + Exit({{"exited", true}}) +
             EndFrame());
  const CommandResult exact =
      sandbox_.Commands.Run("x", {}, WithMaxOutputBytes(4));
  EXPECT_EQ(exact.Stdout, "abcd");
  EXPECT_FALSE(exact.Truncated);
}

// The same for a background handle.
TEST_F(CommandsTest, MaxOutputBytesCapsABackgroundHandle) {
  ServeStart(Start(412) + Out("stdout", "0123456789") +
             Exit({{"exited", true}}) + EndFrame());
  auto handle = sandbox_.Commands.Start("x", {}, WithMaxOutputBytes(3));
  const CommandResult waited = handle.Wait();
  EXPECT_EQ(waited.Stdout, "012");
  EXPECT_TRUE(waited.Truncated);
  EXPECT_EQ(handle.Stdout(), "012");
}

TEST_F(CommandsTest, KeepsBinaryOutputByteExact) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  // Split inside what would be a UTF-8 sequence, too.
  ServeStart(Start() + Out("stdout", all.substr(0, 129)) +
             Out("stdout", all.substr(129)) + Out("stderr", all) +
             Exit({{"exited", true}}) + EndFrame());
  const CommandResult result = sandbox_.Commands.Run("x", {});
  EXPECT_EQ(result.Stdout, all);
  EXPECT_EQ(result.Stderr, all);
}

TEST_F(CommandsTest, NonZeroExitIsAResult) {
  ServeStart(Start() + Out("stderr", "nope\n") +
             Exit({{"exitCode", 3},
                   {"exited", true},
                   {"status", "exit status 3"},
                   {"error", "exit status 3"}}) +
             EndFrame());
  const CommandResult result = sandbox_.Commands.Run("false", {});
  EXPECT_EQ(result.ExitCode, 3);
  EXPECT_EQ(result.Stderr, "nope\n");
  EXPECT_EQ(result.Error, "exit status 3");  // Go: CommandResult.Error
}

// A clean exit has no Error, even though envd's status names it.
TEST_F(CommandsTest, ResultErrorIsEmptyAfterACleanExit) {
  ServeStart(Start() + Exit({{"exited", true}, {"status", "exit status 0"}}) +
             EndFrame());
  EXPECT_EQ(sandbox_.Commands.Run("true", {}).Error, "");
}

// Without envd's error text, a signal is described by its status.
TEST_F(CommandsTest, ResultErrorOfASignalIsTheStatus) {
  ServeStart(
      Start() +
      Exit(
          {{"exitCode", -1}, {"exited", false}, {"status", "signal: killed"}}) +
      EndFrame());
  EXPECT_EQ(sandbox_.Commands.Run("sleep", {"9"}).Error, "signal: killed");
}

TEST_F(CommandsTest, ResultErrorOfABackgroundHandle) {
  ServeStart(Start() +
             Exit({{"exitCode", 2},
                   {"exited", true},
                   {"status", "exit status 2"},
                   {"error", "exit status 2"}}) +
             EndFrame());
  EXPECT_EQ(sandbox_.Commands.Start("x", {}).Wait().Error, "exit status 2");
}

TEST_F(CommandsTest, KilledBySignalIsMinusOne) {
  ServeStart(
      Start() +
      Exit(
          {{"exitCode", -1}, {"exited", false}, {"status", "signal: killed"}}) +
      EndFrame());
  EXPECT_EQ(sandbox_.Commands.Run("sleep", {"100"}).ExitCode, -1);
}

TEST_F(CommandsTest, ExitCodeAsStringIsAccepted) {
  ServeStart(Start() + Exit({{"exitCode", "127"}}) + EndFrame());
  EXPECT_EQ(sandbox_.Commands.Run("missing", {}).ExitCode, 127);
}

TEST_F(CommandsTest, DeadlineExceededIsTimeoutError) {
  ServeStart(Start() + Out("stdout", "partial") +
             EndFrame({{"error",
                        {{"code", "deadline_exceeded"},
                         {"message", "context deadline exceeded"}}}}));
  EXPECT_THROW(sandbox_.Commands.Run("sleep", {"100"}), TimeoutError);
}

TEST_F(CommandsTest, EndOfStreamErrorsAreMapped) {
  ServeStart(EndFrame({{"error",
                        {{"code", "invalid_argument"},
                         {"message", "cwd '/nope' does not exist"}}}}));
  try {
    sandbox_.Commands.Run("ls", {}, WithCwd("/nope"));
    FAIL();
  } catch (const TimeoutError&) {
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 400);
    EXPECT_EQ(e.Message(), "cwd '/nope' does not exist");
  }
}

TEST_F(CommandsTest, NotFoundKeepsMessage) {
  ServeStart(EndFrame(
      {{"error", {{"code", "not_found"}, {"message", "process gone"}}}}));
  try {
    sandbox_.Commands.Run("ls", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 404);
    EXPECT_EQ(e.Message(), "process gone");
  }
}

TEST_F(CommandsTest, UnauthenticatedIs401) {
  ServeStart(EndFrame({{"error",
                        {{"code", "unauthenticated"},
                         {"message", "invalid username: 'bob'"}}}}));
  try {
    sandbox_.Commands.Run("ls", {}, WithUser("bob"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 401);
  }
}

TEST_F(CommandsTest, MissingEndEventIsAnError) {
  ServeStart(Start() + Out("stdout", "hi") + EndFrame());
  try {
    sandbox_.Commands.Run("x", {});
    FAIL() << "a stream without end must not read as exit 0";
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(std::string(e.what()).find("end event"), std::string::npos);
  }
}

TEST_F(CommandsTest, MissingEndOfStreamIsAnError) {
  ServeStart(Start() + Out("stdout", "hi") + Exit({{"exited", true}}));
  EXPECT_THROW(sandbox_.Commands.Run("x", {}), Error);
}

TEST_F(CommandsTest, TruncatedEnvelopeIsAnError) {
  const std::string end = EndFrame();
  ServeStart(Start() + Exit({{"exited", true}}) + end.substr(0, 3));
  EXPECT_THROW(sandbox_.Commands.Run("x", {}), Error);
}

TEST_F(CommandsTest, MalformedFrameJsonIsAnError) {
  ServeStart(Start() + internal::EncodeEnvelope(0, "{\"event\":{\"data\"") +
             Exit({{"exited", true}}) + EndFrame());
  EXPECT_THROW(sandbox_.Commands.Run("x", {}), Error);
}

TEST_F(CommandsTest, InvalidBase64OutputIsAnError) {
  ServeStart(Start() + Frame({{"event", {{"data", {{"stdout", "!!!"}}}}}}) +
             Exit({{"exited", true}}) + EndFrame());
  EXPECT_THROW(sandbox_.Commands.Run("x", {}), Error);
}

TEST_F(CommandsTest, UrlSafeUnpaddedOutputIsAccepted) {
  ServeStart(Start() + Frame({{"event", {{"data", {{"stdout", "-_8"}}}}}}) +
             Exit({{"exited", true}}) + EndFrame());
  EXPECT_EQ(sandbox_.Commands.Run("x", {}).Stdout, std::string("\xfb\xff", 2));
}

TEST_F(CommandsTest, Http401WithoutConnectBody) {
  ServeStart(
      R"({"code":401,"message":"unauthorized access, please provide a valid access token"})",
      401, "application/json");
  try {
    sandbox_.Commands.Run("x", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 401);
    EXPECT_NE(e.Message().find("unauthorized access"), std::string::npos);
  }
}

TEST_F(CommandsTest, Http404WithoutBody) {
  ServeStart("", 404, "text/plain");
  try {
    sandbox_.Commands.Run("x", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 404);
  }
}

TEST_F(CommandsTest, Http503WithConnectBody) {
  ServeStart(R"({"code":"unavailable","message":"envd restarting"})", 503,
             "application/json");
  try {
    sandbox_.Commands.Run("x", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 503);
    EXPECT_EQ(e.Message(), "envd restarting");
  }
}

TEST_F(CommandsTest, EdgeBadGatewayIsSandboxNotFound) {
  ServeStart(std::string(R"({"sandboxId":")") + kSandboxId +
                 R"(","message":"The sandbox was not found","code":502})",
             502, "application/json");
  try {
    sandbox_.Commands.Run("x", {});
    FAIL();
  } catch (const SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), kSandboxId);
  }
}

TEST_F(CommandsTest, ErrorsNeverContainTheAccessToken) {
  ServeStart(EndFrame({{"error",
                        {{"code", "unauthenticated"},
                         {"message", std::string("bad token ") + kToken}}}}));
  try {
    sandbox_.Commands.Run("x", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos);
  }
}

TEST_F(CommandsTest, RejectsEmptyCommandLocally) {
  ServeStart(EndFrame());
  EXPECT_THROW(sandbox_.Commands.Run("", {}), Error);
}

TEST_F(CommandsTest, ContextDeadlineStopsAStalledRun) {
  ServeStalledStart();
  EXPECT_THROW(sandbox_.Commands.RunWithContext(Context::WithTimeout(300ms),
                                                "sleep", {"100"}),
               TimeoutError);
}

TEST_F(CommandsTest, CancelStopsAStalledRun) {
  ServeStalledStart();
  Context ctx = Context::WithCancel();
  std::thread canceller([ctx] {
    std::this_thread::sleep_for(200ms);
    ctx.Cancel();
  });
  try {
    sandbox_.Commands.RunWithContext(ctx, "sleep", {"100"});
    ADD_FAILURE() << "a cancelled Run returned";
  } catch (const TimeoutError& e) {
    ADD_FAILURE() << "cancel is not a timeout: " << e.what();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
  }
  canceller.join();
}

TEST(CommandsDefaultTest, DefaultServiceThrows) {
  CommandService commands;
  EXPECT_THROW(commands.Run("ls", {}), Error);
}

}  // namespace
}  // namespace e2b
