// Fault injection through the public API: a raw-socket server that cuts
// bodies short, resets connections, stalls, sends invalid JSON, lies about
// Content-Type and sends more than the library buffers. Every fault must
// end in a typed e2b error with a clear message that carries no secret --
// never a crash, a hang, or a short answer passed off as a whole one.

#include "support/faulty_server.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace {

using e2b_test::FaultStep;
using e2b_test::FaultyServer;
using Kind = FaultStep::Kind;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kKey = "e2b_c0ffeec0ffeec0ffeec0ffeec0ffeec0ffee00";
constexpr const char* kToken = "tok_fault_secret_9876543210";

std::string CreatedBody() {
  return std::string(R"({"sandboxID":"isbxfault01","templateID":"base",)"
                     R"("envdVersion":"0.6.13","envdAccessToken":")") +
         kToken + R"("})";
}

// The checks every fault's error must pass.
void ExpectClean(const e2b::Error& e, const std::string& part) {
  const std::string what = e.what();
  EXPECT_NE(what.find(part), std::string::npos) << what;
  EXPECT_EQ(what.find(kKey), std::string::npos) << what;
  EXPECT_EQ(what.find(kToken), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

// Runs `call`, which must throw exactly e2b::Error (not a subclass such as
// TimeoutError) with `status`; returns it for more checks.
template <typename Call>
e2b::Error ExpectError(Call call, int status) {
  try {
    call();
  } catch (const e2b::TimeoutError& e) {
    ADD_FAILURE() << "unexpected timeout: " << e.what();
    return e;
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), status) << e.what();
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an e2b::Error: " << e.what();
  }
  ADD_FAILURE() << "no exception";
  return e2b::Error(-1, "none");
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  e2b::Client MakeClient(milliseconds timeout = std::chrono::seconds(10),
                         int attempts = 3) {
    e2b::ClientConfig cfg;
    cfg.APIKey = kKey;
    cfg.APIBaseURL = server_.url();
    cfg.SandboxURL = server_.url();
    cfg.RequestTimeout = timeout;
    cfg.Retry.MaxAttempts = attempts;
    cfg.Retry.InitialBackoff = milliseconds(10);
    cfg.Retry.MaxBackoff = milliseconds(50);
    return e2b::NewClient(cfg);
  }

  e2b::Sandbox MakeSandbox(const e2b::Client& client) {
    server_.Push(FaultStep::Json(201, CreatedBody()));
    e2b::Sandbox sandbox = client.NewSandbox();
    server_.clear_requests();
    return sandbox;
  }

  FaultyServer server_;
};

// ---- truncated bodies and resets
// ---------------------------------------------

TEST_F(FaultInjectionTest, TruncatedBodyIsAnErrorNotAShortAnswer) {
  auto client = MakeClient();
  FaultStep cut = FaultStep::Json(201, CreatedBody());
  cut.kind = Kind::kTruncate;
  cut.cut = 20;
  server_.Push(cut);
  // A create is not retried: the sandbox may exist now.
  auto e = ExpectError([&] { client.NewSandbox(); }, 0);
  ExpectClean(e, "POST");
  EXPECT_EQ(server_.request_count(), 1u);

  // A read is retried, and when every attempt is cut the error says so.
  server_.clear_requests();
  FaultStep list = FaultStep::Json(200, R"([{"sandboxID":"isbxfault01"}])");
  list.kind = Kind::kTruncate;
  list.cut = 10;
  server_.Push(list);
  e = ExpectError([&] { client.ListSandboxes(); }, 0);
  ExpectClean(e, "GET");
  EXPECT_EQ(server_.request_count(), 3u);
}

TEST_F(FaultInjectionTest, TruncatedDownloadFailsEveryReadForm) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  FaultStep cut;
  cut.kind = Kind::kTruncate;
  cut.body = std::string(100000, 'd');
  cut.cut = 40000;
  server_.Push(cut);
  auto e = ExpectError([&] { sandbox.Filesystem.ReadString("/f"); }, 0);
  ExpectClean(e, "/files");
  // The body had begun: no second attempt.
  EXPECT_EQ(server_.request_count(), 1u);

  server_.clear_requests();
  auto stream = sandbox.Filesystem.Read("/f");
  std::string got;
  char buffer[8192];
  while (stream->read(buffer, sizeof buffer) || stream->gcount() > 0) {
    got.append(buffer, static_cast<std::size_t>(stream->gcount()));
  }
  EXPECT_TRUE(stream->bad());
  EXPECT_LE(got.size(), 40000u);
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(FaultInjectionTest, ResetMidStreamEndsACommandWithAnError) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  // A Connect stream whose connection is reset after a partial envelope.
  FaultStep reset;
  reset.kind = Kind::kResetMidBody;
  reset.headers = {{"Content-Type", "application/connect+json"}};
  reset.body = std::string("\x00\x00\x00\x01\x00", 5) + std::string(300, '{');
  reset.cut = 30;
  server_.Push(reset);
  auto e = ExpectError([&] { sandbox.Commands.Run("sleep", {"1"}); }, 0);
  ExpectClean(e, "");
  // The stream is not retried; after it broke the client asked /health
  // whether the sandbox is gone (reset too, so the stream's error stands).
  std::size_t starts = 0;
  for (const auto& request : server_.requests()) {
    if (request.target == "/process.Process/Start") {
      ++starts;
    } else {
      EXPECT_EQ(request.target, "/health");
    }
  }
  EXPECT_EQ(starts, 1u);
}

// ---- a stalled server
// ----------------------------------------------------------

// The timeout fires no sooner than set and within 20% of it (plus a little
// scheduling slack), and a timeout is never retried.
void ExpectTimelyTimeout(const std::function<void()>& call,
                         milliseconds setting) {
  const auto start = Clock::now();
  try {
    call();
    ADD_FAILURE() << "no exception";
  } catch (const e2b::TimeoutError& e) {
    ExpectClean(e, "");
  } catch (const e2b::Error& e) {
    ADD_FAILURE() << "not a TimeoutError: " << e.what();
  }
  const auto elapsed =
      std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_GE(elapsed, setting - milliseconds(5));
  EXPECT_LE(elapsed, setting * 12 / 10 + milliseconds(100));
}

TEST_F(FaultInjectionTest, StalledServerTimesOutOnTimeAndOnce) {
  const milliseconds setting(1000);
  auto client = MakeClient(setting);
  server_.Push(FaultStep::Json(201, CreatedBody()));
  auto sandbox = client.NewSandbox();
  server_.clear_requests();
  server_.Push(FaultStep::Of(Kind::kStall));

  // RequestTimeout on a control-plane read.
  ExpectTimelyTimeout([&] { sandbox.Info(); }, setting);
  EXPECT_EQ(server_.request_count(), 1u);

  // A Context deadline with a long RequestTimeout.
  auto patient = MakeClient(std::chrono::seconds(60));
  server_.clear_requests();
  ExpectTimelyTimeout(
      [&] { patient.ListSandboxes(e2b::Context::WithTimeout(setting)); },
      setting);
  EXPECT_EQ(server_.request_count(), 1u);

  // An envd RPC.
  server_.clear_requests();
  ExpectTimelyTimeout([&] { sandbox.Filesystem.Stat("/a"); }, setting);
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(FaultInjectionTest, StallMidBodyTimesOutOnTime) {
  const milliseconds setting(1000);
  auto client = MakeClient(std::chrono::seconds(60));
  auto sandbox = MakeSandbox(client);
  FaultStep stall;
  stall.kind = Kind::kStallMidBody;
  stall.body = std::string(50000, 's');
  stall.cut = 1000;
  server_.Push(stall);
  ExpectTimelyTimeout(
      [&] {
        sandbox.Filesystem.ReadString("/slow", e2b::WithReadTimeout(setting));
      },
      setting);
  EXPECT_EQ(server_.request_count(), 1u);
}

// ---- malformed answers
// ---------------------------------------------------------

TEST_F(FaultInjectionTest, InvalidJsonIsAMalformedResponseError) {
  auto client = MakeClient();
  server_.Push(FaultStep::Json(200, R"([{"sandboxID": "isbx", )"));
  auto e = ExpectError([&] { client.ListSandboxes(); }, 0);
  ExpectClean(e, "GET /sandboxes");
  // A well-formed HTTP answer with bad JSON is not worth repeating.
  EXPECT_EQ(server_.request_count(), 1u);

  server_.clear_requests();
  server_.Push(FaultStep::Json(201, R"({"sandboxID": 12, "envdAccessToken": )"
                                    R"(")" +
                                        std::string(kToken)));
  e = ExpectError([&] { client.NewSandbox(); }, 0);
  ExpectClean(e, "POST /sandboxes");

  auto sandbox = MakeSandbox(client);
  server_.Push(FaultStep::Json(200, "{not json"));
  e = ExpectError([&] { sandbox.Filesystem.Stat("/a"); }, 0);
  ExpectClean(e, "Stat");
  EXPECT_EQ(server_.request_count(), 1u);

  // Valid JSON of the wrong shape.
  server_.Push(FaultStep::Json(200, R"({"sandboxes": 5})"));
  e = ExpectError([&] { client.ListSandboxes(); }, 0);
  ExpectClean(e, "GET /sandboxes");
}

TEST_F(FaultInjectionTest, WrongContentTypesAreRejectedClearly) {
  auto client = MakeClient();
  FaultStep html;
  html.status = 200;
  html.headers = {{"Content-Type", "text/html"}};
  html.body = "<html><body>Welcome to the captive portal</body></html>";
  server_.Push(html);
  auto e = ExpectError([&] { client.ListSandboxes(); }, 0);
  ExpectClean(e, "GET /sandboxes");

  // A command stream that is an HTML page is not read as envelopes.
  auto sandbox = MakeSandbox(client);
  server_.Push(html);
  e = ExpectError([&] { sandbox.Commands.Run("ls", {}); }, 0);
  ExpectClean(e, "content type");
  EXPECT_EQ(server_.request_count(), 1u);

  // A proxy's HTML error page: the status, and a one-line message.
  server_.clear_requests();
  FaultStep proxy;
  proxy.status = 504;
  proxy.headers = {{"Content-Type", "text/html"}};
  proxy.body = "<html>\n<head><title>504 Gateway Time-out</title></head>\n" +
               std::string(5000, ' ') + "</html>";
  server_.Push(proxy);
  e = ExpectError([&] { sandbox.Info(); }, 504);
  ExpectClean(e, "504 Gateway Time-out");
  EXPECT_LE(e.Message().size(), 1100u);
  EXPECT_EQ(server_.request_count(), 3u);
}

TEST_F(FaultInjectionTest, AnswersThatAreNotHttpAreErrors) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  const std::vector<std::string> garbage = {
      "SSH-2.0-OpenSSH_9.2\r\n",
      std::string("\x00\xff\x13\x37 binary", 12),
      "HTTP/1.1 2x0 Maybe\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 5\r\n\r\n[]",
  };
  for (const auto& text : garbage) {
    SCOPED_TRACE(text);
    FaultStep raw = FaultStep::Of(Kind::kRaw);
    raw.body = text;
    server_.clear_requests();
    server_.Push(raw);
    auto e = ExpectError([&] { sandbox.Info(); }, 0);
    ExpectClean(e, "");
    // Retried or not, a call ends after at most MaxAttempts.
    EXPECT_LE(server_.request_count(), 3u);
    server_.clear_requests();
    e = ExpectError([&] { sandbox.Filesystem.WriteString("/a", "x"); }, 0);
    ExpectClean(e, "");
    EXPECT_EQ(server_.request_count(), 1u);
  }
}

// ---- oversized bodies
// ----------------------------------------------------------

TEST_F(FaultInjectionTest, OversizedBodiesAreCappedNotBuffered) {
  auto client = MakeClient();
  // Control-plane answers are buffered up to 64 MiB.
  FaultStep huge;
  huge.kind = Kind::kLargeBody;
  huge.headers = {{"Content-Type", "application/json"}};
  huge.large_size = (std::uint64_t{64} << 20) + 1;
  server_.Push(huge);
  auto e = ExpectError([&] { client.ListSandboxes(); }, 0);
  ExpectClean(e, "exceeds the limit");
  // The same answer would come again: not retried.
  EXPECT_EQ(server_.request_count(), 1u);

  // Connect answers up to 16 MiB, also without a Content-Length.
  auto sandbox = MakeSandbox(client);
  FaultStep stream = huge;
  stream.chunked = true;
  stream.large_size = (std::uint64_t{16} << 20) + 4096;
  server_.Push(stream);
  e = ExpectError([&] { sandbox.Filesystem.Stat("/a"); }, 0);
  ExpectClean(e, "exceeds the limit");
  EXPECT_EQ(server_.request_count(), 1u);

  // An error body is read only as far as its message needs.
  server_.clear_requests();
  FaultStep error = huge;
  error.status = 500;
  error.large_size = std::uint64_t{8} << 20;
  server_.Push(error);
  e = ExpectError([&] { sandbox.Filesystem.ReadString("/a"); }, 500);
  EXPECT_LE(e.Message().size(), 1100u);
  ExpectClean(e, "xxxx");
}

// The API knows a sandbox's envd access token too; a sandbox-scoped call
// scrubs it from the server's text like the API key.
TEST_F(FaultInjectionTest, SandboxScopedErrorsRedactTheAccessToken) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  server_.Push(
      FaultStep::Json(500, std::string(R"({"code":500,"message":"token )") +
                               kToken + " and key " + kKey + R"( rejected"})"));
  auto e = ExpectError([&] { sandbox.Info(); }, 500);
  ExpectClean(e, "rejected");
  EXPECT_NE(e.Message().find("[REDACTED] and key [REDACTED]"),
            std::string::npos)
      << e.Message();
}

// The library writes no log line of its own, so none can carry a secret:
// whatever fails, and however the server's text quotes the key and the
// token, nothing reaches stdout or stderr (errors are only thrown).
TEST_F(FaultInjectionTest, NothingIsWrittenToStdoutOrStderr) {
  auto client = MakeClient(std::chrono::seconds(10), 2);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  auto sandbox = MakeSandbox(client);
  const std::string text = std::string("token ") + kToken + " key " + kKey;
  server_.Push(
      FaultStep::Json(401, R"({"code":401,"message":")" + text + R"("})"));
  EXPECT_THROW(client.NewSandbox(), e2b::Error);
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  EXPECT_THROW(sandbox.Info(), e2b::Error);
  server_.Push(FaultStep::Json(
      500, R"({"code":"internal","message":")" + text + R"("})"));
  EXPECT_THROW(sandbox.Commands.Run("true", {}), e2b::Error);
  server_.Push(FaultStep::Json(200, "{not json " + text));
  EXPECT_THROW(sandbox.Filesystem.Stat("/a"), e2b::Error);
  const std::string out = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
}

}  // namespace
