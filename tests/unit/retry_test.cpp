// Retries (ClientConfig::Retry) through the public API against a faulty
// server: which calls are retried and which never are, counted on the
// server; the waits (backoff, its cap, Retry-After); and the Context and
// RequestTimeout ending a wait. The pure helpers (backoff arithmetic,
// Retry-After parsing) are tested directly.

#include "internal/retry.hpp"

#include "internal/http_transport.hpp"
#include "support/background_listen.hpp"
#include "support/faulty_server.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using e2b_test::FaultStep;
using e2b_test::FaultyServer;
using Kind = FaultStep::Kind;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kKey = "e2b_feedfacefeedfacefeedfacefeedfacefeedface";
constexpr const char* kToken = "tok_retry_secret_0123456789";

std::string ErrorBody(int status, const std::string& message) {
  // The key in the server's text proves it is redacted from messages.
  return R"({"code":)" + std::to_string(status) + R"(,"message":")" + message +
         " " + kKey + R"("})";
}

std::string CreatedBody(const std::string& id = "isbxretry01") {
  return R"({"sandboxID":")" + id +
         R"(","templateID":"base","envdVersion":"0.6.13","envdAccessToken":")" +
         kToken + R"("})";
}

constexpr const char* kInfoBody =
    R"({"sandboxID":"isbxretry01","templateID":"base","state":"running"})";

void ExpectNoSecret(const e2b::Error& e) {
  const std::string what = e.what();
  EXPECT_EQ(what.find(kKey), std::string::npos) << what;
  EXPECT_EQ(what.find(kToken), std::string::npos) << what;
  EXPECT_EQ(e.Message().find(kKey), std::string::npos) << e.Message();
}

milliseconds Gap(const std::vector<e2b_test::FaultRequest>& requests,
                 std::size_t i) {
  return std::chrono::duration_cast<milliseconds>(requests[i].received -
                                                  requests[i - 1].received);
}

// An HTTP-date (IMF-fixdate) `ahead` from now.
std::string HttpDateIn(std::chrono::seconds ahead) {
  const std::time_t at =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) +
      ahead.count();
  std::tm tm{};
  gmtime_r(&at, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

class RetryTest : public ::testing::Test {
 protected:
  // Short waits so the tests stay fast; no jitter so gaps are predictable.
  static e2b::RetryPolicy FastPolicy() {
    e2b::RetryPolicy policy;
    policy.MaxAttempts = 3;
    policy.InitialBackoff = milliseconds(20);
    policy.MaxBackoff = milliseconds(200);
    policy.Jitter = 0;
    return policy;
  }

  e2b::Client MakeClient(e2b::RetryPolicy policy = FastPolicy(),
                         milliseconds timeout = std::chrono::seconds(5)) {
    e2b::ClientConfig cfg;
    cfg.APIKey = kKey;
    cfg.APIBaseURL = server_.url();
    cfg.SandboxURL = server_.url();
    cfg.RequestTimeout = timeout;
    cfg.Retry = policy;
    return e2b::NewClient(cfg);
  }

  // A sandbox from a canned create; the create request is forgotten.
  e2b::Sandbox MakeSandbox(const e2b::Client& client) {
    server_.Push(FaultStep::Json(201, CreatedBody()));
    e2b::Sandbox sandbox = client.NewSandbox();
    server_.clear_requests();
    return sandbox;
  }

  FaultyServer server_;
};

// ---- what is retried
// ---------------------------------------------------------

TEST_F(RetryTest, ControlPlaneReadsRetryTransientStatuses) {
  auto client = MakeClient();
  for (int status : {429, 502, 503, 504}) {
    SCOPED_TRACE(status);
    server_.clear_requests();
    server_.Push(FaultStep::Json(status, ErrorBody(status, "later")));
    server_.Push(FaultStep::Json(200, "[]"));
    EXPECT_TRUE(client.ListSandboxes().empty());
    EXPECT_EQ(server_.request_count(), 2u);
  }
}

TEST_F(RetryTest, GivesUpAfterMaxAttemptsWithTheLastAnswer) {
  auto client = MakeClient();
  server_.Push(FaultStep::Json(503, ErrorBody(503, "busy")));
  try {
    client.ListSandboxes();
    FAIL() << "no exception";
  } catch (const e2b::TimeoutError& e) {
    FAIL() << "a refused call is not a timeout: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 503);
    EXPECT_NE(e.Message().find("busy"), std::string::npos) << e.Message();
    ExpectNoSecret(e);
  }
  EXPECT_EQ(server_.request_count(), 3u);
}

TEST_F(RetryTest, MaxAttemptsOneTurnsRetriesOff) {
  auto policy = FastPolicy();
  policy.MaxAttempts = 1;
  auto client = MakeClient(policy);
  server_.Push(FaultStep::Json(503, ErrorBody(503, "busy")));
  EXPECT_THROW(client.ListSandboxes(), e2b::Error);
  EXPECT_EQ(server_.request_count(), 1u);
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  EXPECT_THROW(client.ListSandboxes(), e2b::Error);
  EXPECT_EQ(server_.request_count(), 2u);
}

TEST_F(RetryTest, DefinitiveAnswersAreNotRetried) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  for (int status : {400, 401, 403, 404, 409, 500, 501}) {
    SCOPED_TRACE(status);
    server_.clear_requests();
    server_.Push(FaultStep::Json(status, ErrorBody(status, "no")));
    EXPECT_THROW(sandbox.Info(), e2b::Error);
    EXPECT_EQ(server_.request_count(), 1u);
  }
}

TEST_F(RetryTest, ConnectionFailuresBeforeTheAnswerAreRetried) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);

  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  server_.Push(FaultStep::Json(200, kInfoBody));
  EXPECT_EQ(sandbox.Info().ID, "isbxretry01");
  EXPECT_EQ(server_.request_count(), 2u);

  server_.clear_requests();
  FaultStep cut = FaultStep::Json(200, R"([{"sandboxID":"isbxretry01"}])");
  cut.kind = Kind::kTruncate;
  cut.cut = 5;
  server_.Push(cut);
  server_.Push(FaultStep::Json(200, "[]"));
  EXPECT_TRUE(client.ListSandboxes().empty());
  EXPECT_EQ(server_.request_count(), 2u);

  server_.clear_requests();
  FaultStep reset = FaultStep::Json(200, kInfoBody);
  reset.kind = Kind::kResetMidBody;
  reset.cut = 10;
  server_.Push(reset);
  server_.Push(FaultStep::Json(200, kInfoBody));
  EXPECT_EQ(sandbox.Info().ID, "isbxretry01");
  EXPECT_EQ(server_.request_count(), 2u);
}

TEST_F(RetryTest, NonIdempotentCallsAreNeverRetried) {
  auto client = MakeClient();
  // Each server echoes the secret it knows: the API its key, envd the
  // sandbox's access token.
  const std::string envd_text = std::string("busy ") + kToken;
  struct Case {
    const char* name;
    FaultStep api;
    FaultStep envd;
  };
  const std::vector<Case> faults = {
      {"503", FaultStep::Json(503, ErrorBody(503, "busy")),
       FaultStep::Json(
           503, R"({"code":"unavailable","message":")" + envd_text + R"("})")},
      {"429",
       FaultStep::Json(429, ErrorBody(429, "slow"), {{"Retry-After", "0"}}),
       FaultStep::Json(
           429,
           R"({"code":"resource_exhausted","message":")" + envd_text + R"("})",
           {{"Retry-After", "0"}})},
      {"reset", FaultStep::Of(Kind::kResetBeforeAnswer),
       FaultStep::Of(Kind::kResetBeforeAnswer)},
  };
  for (const auto& fault : faults) {
    SCOPED_TRACE(fault.name);
    server_.clear_requests();
    server_.Push(fault.api);
    try {
      client.NewSandbox();
      ADD_FAILURE() << "NewSandbox: no exception";
    } catch (const e2b::Error& e) {
      ExpectNoSecret(e);
    }
    EXPECT_EQ(server_.request_count(), 1u) << "NewSandbox";

    auto sandbox = MakeSandbox(client);
    struct Call {
      const char* name;
      bool envd;
      std::function<void()> run;
    };
    const std::vector<Call> calls = {
        {"Resume", false, [&] { sandbox.Resume(60); }},
        {"CreateSnapshot", false, [&] { sandbox.CreateSnapshot("s"); }},
        {"Fork", false, [&] { sandbox.Fork(); }},
        {"CreateTemplate", false,
         [&] {
           e2b::CreateTemplateConfig cfg;
           cfg.Name = "t";
           client.CreateTemplate(cfg);
         }},
        {"WriteString", true,
         [&] { sandbox.Filesystem.WriteString("/a", "x"); }},
        {"MakeDir", true, [&] { sandbox.Filesystem.MakeDir("/d"); }},
        {"Remove", true, [&] { sandbox.Filesystem.Remove("/d"); }},
        {"Commands.Run", true, [&] { sandbox.Commands.Run("true", {}); }},
    };
    for (const auto& call : calls) {
      SCOPED_TRACE(call.name);
      server_.clear_requests();
      server_.Push(call.envd ? fault.envd : fault.api);
      try {
        call.run();
        ADD_FAILURE() << "no exception";
      } catch (const e2b::Error& e) {
        ExpectNoSecret(e);
      }
      EXPECT_EQ(server_.request_count(), 1u);
    }
  }
}

TEST_F(RetryTest, IdempotentPostsAreRetried) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  using Call = std::function<void()>;
  const std::vector<std::pair<const char*, Call>> calls = {
      {"SetTimeout", [&] { sandbox.SetTimeout(60); }},
      {"Pause", [&] { sandbox.Pause(); }},
      {"Refresh", [&] { sandbox.Refresh(); }},
      {"Metrics", [&] { sandbox.Metrics(); }},
  };
  for (const auto& [name, call] : calls) {
    SCOPED_TRACE(name);
    server_.clear_requests();
    server_.Push(FaultStep::Json(503, ErrorBody(503, "busy")));
    server_.Push(FaultStep::Json(200, "[]"));
    EXPECT_NO_THROW(call());
    EXPECT_EQ(server_.request_count(), 2u);
  }
  server_.clear_requests();
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  server_.Push(FaultStep::Json(200, CreatedBody()));
  EXPECT_EQ(client.Connect("isbxretry01").ID, "isbxretry01");
  EXPECT_EQ(server_.request_count(), 2u);
}

TEST_F(RetryTest, DeleteWhoseAnswerWasLostCountsAsDone) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  // The first DELETE may have killed it; the retry then finds nothing.
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  server_.Push(FaultStep::Json(404, ErrorBody(404, "not found")));
  EXPECT_NO_THROW(sandbox.Close());
  EXPECT_EQ(server_.request_count(), 2u);

  server_.clear_requests();
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  server_.Push(FaultStep::Json(404, ErrorBody(404, "not found")));
  EXPECT_TRUE(client.KillSandbox("isbxretry01"));
  EXPECT_EQ(server_.request_count(), 2u);

  // Without a lost answer a 404 still means "nothing to kill".
  server_.clear_requests();
  server_.Push(FaultStep::Json(404, ErrorBody(404, "not found")));
  EXPECT_FALSE(client.KillSandbox("isbxretry01"));
  server_.Push(FaultStep::Json(404, ErrorBody(404, "not found")));
  EXPECT_THROW(sandbox.Close(), e2b::SandboxNotFoundError);
}

TEST_F(RetryTest, EnvdReadsAreRetried) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);

  server_.Push(FaultStep::Json(503, R"({"code":"unavailable","message":"x"})"));
  server_.Push(FaultStep::Json(
      200, R"({"entry":{"name":"a","type":"FILE_TYPE_FILE","path":"/a"}})"));
  EXPECT_EQ(sandbox.Filesystem.Stat("/a").Name, "a");
  EXPECT_EQ(server_.request_count(), 2u);

  server_.clear_requests();
  server_.Push(FaultStep::Json(429, R"({"code":"resource_exhausted"})"));
  server_.Push(FaultStep::Json(200, R"({"entries":[]})"));
  EXPECT_TRUE(sandbox.Filesystem.List("/").empty());
  EXPECT_EQ(server_.request_count(), 2u);

  server_.clear_requests();
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  server_.Push(FaultStep::Json(200, R"({"entry":{"name":"a"}})"));
  EXPECT_TRUE(sandbox.Filesystem.Exists("/a"));
  EXPECT_EQ(server_.request_count(), 2u);

  FaultStep file;
  file.body = "hello";
  file.headers = {{"Content-Type", "application/octet-stream"}};
  server_.clear_requests();
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  server_.Push(file);
  EXPECT_EQ(sandbox.Filesystem.ReadString("/a"), "hello");
  EXPECT_EQ(server_.request_count(), 2u);

  server_.clear_requests();
  server_.Push(FaultStep::Json(504, ErrorBody(504, "slow")));
  server_.Push(file);
  auto stream = sandbox.Filesystem.Read("/a");
  std::string text((std::istreambuf_iterator<char>(*stream)),
                   std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "hello");
  EXPECT_EQ(server_.request_count(), 2u);

  server_.clear_requests();
  FaultStep down = FaultStep::Json(503, "");
  FaultStep up;
  up.status = 204;
  server_.Push(down);
  server_.Push(up);
  EXPECT_TRUE(sandbox.IsRunning());
  EXPECT_EQ(server_.request_count(), 2u);

  // Process RPCs that only read or set a state.
  server_.clear_requests();
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  server_.Push(FaultStep::Json(
      200, R"({"processes":[{"pid":7,"config":{"cmd":"sleep"}}]})"));
  const auto processes = sandbox.Commands.List();
  ASSERT_EQ(processes.size(), 1u);
  EXPECT_EQ(processes[0].PID, 7u);
  EXPECT_EQ(server_.request_count(), 2u);
}

TEST_F(RetryTest, EdgeSandboxNotFoundIsNotRetried) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  server_.Push(FaultStep::Json(
      502,
      R"({"sandboxId":"isbxretry01","message":"The sandbox was not found","code":502})"));
  EXPECT_THROW(sandbox.Filesystem.ReadString("/a"), e2b::SandboxNotFoundError);
  EXPECT_EQ(server_.request_count(), 1u);
  server_.clear_requests();
  EXPECT_FALSE(sandbox.IsRunning());
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(RetryTest, ReadIsNeverRetriedOnceBytesReachedTheCaller) {
  auto client = MakeClient();
  auto sandbox = MakeSandbox(client);
  FaultStep broken;
  broken.kind = Kind::kResetMidBody;
  broken.body = std::string(200000, 'a');
  broken.cut = 100000;
  server_.Push(broken);
  FaultStep whole;
  whole.body = std::string(200000, 'b');
  server_.Push(whole);

  auto stream = sandbox.Filesystem.Read("/big");
  std::string got;
  char buffer[4096];
  while (stream->read(buffer, sizeof buffer) || stream->gcount() > 0) {
    got.append(buffer, static_cast<std::size_t>(stream->gcount()));
    if (stream->eof()) break;
  }
  EXPECT_TRUE(stream->bad()) << "a cut download must not look complete";
  EXPECT_LT(got.size(), 200000u);
  EXPECT_EQ(got.find('b'), std::string::npos) << "bytes of a second attempt";
  EXPECT_EQ(server_.request_count(), 1u);
}

// ---- how long it waits
// -------------------------------------------------------

TEST_F(RetryTest, RetryAfterSecondsIsHonoured) {
  auto policy = FastPolicy();
  policy.MaxBackoff = std::chrono::seconds(5);
  auto client = MakeClient(policy);
  server_.Push(
      FaultStep::Json(429, ErrorBody(429, "slow"), {{"Retry-After", "1"}}));
  server_.Push(FaultStep::Json(200, "[]"));
  client.ListSandboxes();
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(Gap(requests, 1), milliseconds(990));
  EXPECT_LT(Gap(requests, 1), milliseconds(2500));
}

TEST_F(RetryTest, RetryAfterHttpDateIsHonoured) {
  auto policy = FastPolicy();
  policy.MaxBackoff = std::chrono::seconds(5);
  auto client = MakeClient(policy);
  // Whole seconds: the wait is between one and two seconds.
  server_.Push(
      FaultStep::Json(503, ErrorBody(503, "later"),
                      {{"Retry-After", HttpDateIn(std::chrono::seconds(2))}}));
  server_.Push(FaultStep::Json(200, "[]"));
  client.ListSandboxes();
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(Gap(requests, 1), milliseconds(900));
  EXPECT_LT(Gap(requests, 1), milliseconds(3000));
}

TEST_F(RetryTest, RetryAfterIsCappedByMaxBackoff) {
  auto policy = FastPolicy();
  policy.MaxBackoff = milliseconds(300);
  auto client = MakeClient(policy);
  server_.Push(
      FaultStep::Json(503, ErrorBody(503, "later"), {{"Retry-After", "30"}}));
  server_.Push(FaultStep::Json(200, "[]"));
  const auto start = Clock::now();
  client.ListSandboxes();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(Gap(requests, 1), milliseconds(290));
}

TEST_F(RetryTest, BackoffGrowsExponentiallyUpToTheCap) {
  e2b::RetryPolicy policy;
  policy.MaxAttempts = 4;
  policy.InitialBackoff = milliseconds(100);
  policy.BackoffMultiplier = 2;
  policy.MaxBackoff = milliseconds(250);
  policy.Jitter = 0;
  auto client = MakeClient(policy);
  server_.Push(FaultStep::Json(503, ErrorBody(503, "busy")));
  EXPECT_THROW(client.ListSandboxes(), e2b::Error);
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 4u);
  const milliseconds expected[] = {milliseconds(100), milliseconds(200),
                                   milliseconds(250)};
  for (std::size_t i = 1; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_GE(Gap(requests, i), expected[i - 1] - milliseconds(5));
    // Generous: a loaded machine delays, it never shortens.
    EXPECT_LT(Gap(requests, i), expected[i - 1] + milliseconds(600));
  }
}

TEST_F(RetryTest, AWaitBeyondTheDeadlineIsNotStarted) {
  auto policy = FastPolicy();
  policy.MaxBackoff = std::chrono::seconds(10);
  auto client = MakeClient(policy);
  server_.Push(
      FaultStep::Json(503, ErrorBody(503, "later"), {{"Retry-After", "5"}}));
  const auto start = Clock::now();
  try {
    client.ListSandboxes(e2b::Context::WithTimeout(std::chrono::seconds(1)));
    FAIL() << "no exception";
  } catch (const e2b::Error& e) {
    // The server's answer, not a timeout: it says more.
    EXPECT_EQ(e.StatusCode(), 503);
  }
  EXPECT_LT(Clock::now() - start, milliseconds(800));
  EXPECT_EQ(server_.request_count(), 1u);

  // ClientConfig::RequestTimeout bounds the whole call the same way.
  auto short_client = MakeClient(policy, std::chrono::seconds(1));
  server_.clear_requests();
  const auto again = Clock::now();
  EXPECT_THROW(short_client.ListSandboxes(), e2b::Error);
  EXPECT_LT(Clock::now() - again, milliseconds(800));
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(RetryTest, CancellingTheContextEndsTheWait) {
  auto policy = FastPolicy();
  policy.MaxBackoff = std::chrono::seconds(10);
  auto client = MakeClient(policy);
  server_.Push(
      FaultStep::Json(503, ErrorBody(503, "later"), {{"Retry-After", "3"}}));
  // Within RequestTimeout (5 s), so the wait starts.
  auto ctx = e2b::Context::WithCancel();
  std::thread canceller([ctx] {
    std::this_thread::sleep_for(milliseconds(200));
    ctx.Cancel();
  });
  const auto start = Clock::now();
  try {
    client.ListSandboxes(ctx);
    ADD_FAILURE() << "no exception";
  } catch (const e2b::TimeoutError& e) {
    ADD_FAILURE() << "a cancel is not a timeout: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cancel"), std::string::npos)
        << e.what();
  }
  canceller.join();
  EXPECT_LT(Clock::now() - start, milliseconds(1500));
  EXPECT_EQ(server_.request_count(), 1u);
}

// ---- failures before the request left
// ---------------------------------------------------------------

// A port with a socket bound but not listening: connecting to it is
// refused at once, and no other test can take the port meanwhile.
class RefusedPort {
 public:
  RefusedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot bind a loopback socket");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~RefusedPort() { ::close(fd_); }
  RefusedPort(const RefusedPort&) = delete;
  RefusedPort& operator=(const RefusedPort&) = delete;
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(RetryTest, TransportSaysWhetherTheRequestMayHaveArrived) {
  const auto transport = e2b::internal::MakeCurlTransport({});
  RefusedPort refused;
  e2b::internal::HttpRequest request;
  request.url = refused.url() + "/sandboxes";
  request.timeout = std::chrono::seconds(5);
  try {
    transport->Send(request);
    ADD_FAILURE() << "a refused connection gave an answer";
  } catch (const e2b::internal::TransientTransportError& e) {
    EXPECT_FALSE(e.RequestMayHaveArrived()) << e.what();
  }

  // Reset after the request arrived; then a truncated answer.
  server_.Push(FaultStep::Of(Kind::kResetBeforeAnswer));
  FaultStep cut = FaultStep::Json(200, kInfoBody);
  cut.kind = Kind::kTruncate;
  cut.cut = 5;
  server_.Push(cut);
  request.url = server_.url() + "/sandboxes";
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    try {
      transport->Send(request);
      ADD_FAILURE() << "a broken answer was accepted";
    } catch (const e2b::internal::TransientTransportError& e) {
      EXPECT_TRUE(e.RequestMayHaveArrived()) << e.what();
    }
  }
  EXPECT_EQ(server_.request_count(), 2u);

  // A header with a line break never leaves and never becomes transient.
  request.headers.emplace_back("X-Test", "a\r\nb");
  try {
    transport->Send(request);
    ADD_FAILURE() << "a header with CR/LF was sent";
  } catch (const e2b::internal::TransientTransportError& e) {
    ADD_FAILURE() << "treated as transient: " << e.what();
  } catch (const e2b::Error&) {
  }
}

TEST_F(RetryTest, CallsThatAreNotIdempotentRetryARefusedConnection) {
  RefusedPort refused;
  // Through the retry loop on the real transport: every attempt is counted.
  const auto transport = e2b::internal::MakeCurlTransport({});
  e2b::internal::HttpRequest request;
  request.method = "POST";
  request.url = refused.url() + "/sandboxes";
  request.body = "{}";
  e2b::internal::RetryOutcome outcome;
  EXPECT_THROW(
      e2b::internal::SendWithRetry(*transport, request, FastPolicy(),
                                   e2b::internal::UnsentRetryRule(), &outcome),
      e2b::Error);
  EXPECT_EQ(outcome.attempts, 3);

  // Through the public API, for the API and for envd: the waits between
  // attempts (20 ms, then 40 ms, no jitter) show that each call retried.
  e2b::ClientConfig cfg;
  cfg.APIKey = kKey;
  cfg.APIBaseURL = refused.url();
  cfg.SandboxURL = refused.url();
  cfg.RequestTimeout = std::chrono::seconds(5);
  cfg.Retry = FastPolicy();
  cfg.Retry.InitialBackoff = milliseconds(100);
  const auto retrying = e2b::NewClient(cfg);
  auto start = Clock::now();
  EXPECT_THROW(retrying.NewSandbox(), e2b::Error);
  EXPECT_GE(Clock::now() - start, milliseconds(300));

  cfg.APIBaseURL = server_.url();
  const auto client = e2b::NewClient(cfg);
  auto sandbox = MakeSandbox(client);
  const std::vector<std::pair<const char*, std::function<void()>>> calls = {
      {"Commands.Run", [&] { sandbox.Commands.Run("true", {}); }},
      {"WriteString", [&] { sandbox.Filesystem.WriteString("/a", "x"); }},
      {"MakeDir", [&] { sandbox.Filesystem.MakeDir("/d"); }},
      {"Commands.Kill", [&] { sandbox.Commands.Kill(7); }},
  };
  for (const auto& [name, call] : calls) {
    SCOPED_TRACE(name);
    start = Clock::now();
    try {
      call();
      ADD_FAILURE() << "no exception";
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 0) << e.what();
      ExpectNoSecret(e);
    }
    EXPECT_GE(Clock::now() - start, milliseconds(300));
  }
  EXPECT_EQ(server_.request_count(), 0u);
}

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
// An API server with a throwaway self-signed certificate: the client refuses
// it at once (a certificate failure is not worth another attempt) and
// talks to it once its CA is supplied.
TEST(RetryTlsTest, UntrustedCertificateFailsAtOnceUnlessTheCaIsSupplied) {
  char dir_template[] = "/tmp/e2b-retry-tls-XXXXXX";
  const char* made = ::mkdtemp(dir_template);
  ASSERT_NE(made, nullptr);
  const std::string dir = made;
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 1 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::system(("rm -rf " + dir).c_str());
    GTEST_SKIP() << "openssl could not make a test certificate";
  }
  httplib::SSLServer server((dir + "/cert.pem").c_str(),
                            (dir + "/key.pem").c_str());
  ASSERT_TRUE(server.is_valid());
  // Close after each answer so stop() need not wait out a kept-alive
  // connection.
  server.set_keep_alive_max_count(1);
  server.set_read_timeout(1, 0);
  std::atomic<int> requests{0};
  server.Get("/sandboxes", [&](const httplib::Request&, httplib::Response& r) {
    ++requests;
    r.set_content("[]", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread = e2b_test::ListenInBackground(server);

  e2b::ClientConfig cfg;
  cfg.APIKey = kKey;
  cfg.APIBaseURL = "https://127.0.0.1:" + std::to_string(port);
  cfg.Retry.InitialBackoff = std::chrono::seconds(1);
  const auto start = Clock::now();
  try {
    e2b::NewClient(cfg).ListSandboxes();
    ADD_FAILURE() << "an untrusted certificate was accepted";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(std::string(e.what()).find("certificate"), std::string::npos)
        << e.what();
    ExpectNoSecret(e);
  }
  // A retry would have waited InitialBackoff first.
  EXPECT_LT(Clock::now() - start, milliseconds(900));
  EXPECT_EQ(requests.load(), 0);

  e2b::HTTPClientOptions options;
  options.CAInfo = dir + "/cert.pem";
  cfg.HTTPClient = std::make_shared<e2b::HTTPClient>(options);
  EXPECT_TRUE(e2b::NewClient(cfg).ListSandboxes().empty());
  EXPECT_EQ(requests.load(), 1);
  cfg.HTTPClient.reset();

  server.stop();
  thread.join();
  std::system(("rm -rf " + dir).c_str());
}
#endif  // CPPHTTPLIB_OPENSSL_SUPPORT

// ---- the pure parts
// ----------------------------------------------------------

TEST(RetryPolicyTest, BackoffDelayDoublesCapsAndJitters) {
  e2b::RetryPolicy policy;
  policy.InitialBackoff = milliseconds(100);
  policy.MaxBackoff = milliseconds(1000);
  policy.BackoffMultiplier = 2;
  policy.Jitter = 0;
  using e2b::internal::BackoffDelay;
  EXPECT_EQ(BackoffDelay(policy, 1, 0.5), milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 2, 0.5), milliseconds(200));
  EXPECT_EQ(BackoffDelay(policy, 4, 0.5), milliseconds(800));
  EXPECT_EQ(BackoffDelay(policy, 5, 0.5), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(policy, 60, 0.5), milliseconds(1000));
  policy.Jitter = 0.5;
  EXPECT_EQ(BackoffDelay(policy, 2, 0.0), milliseconds(200));
  EXPECT_EQ(BackoffDelay(policy, 2, 1.0), milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 2, 0.5), milliseconds(150));
  policy.Jitter = 1;
  EXPECT_EQ(BackoffDelay(policy, 3, 1.0), milliseconds(0));
}

TEST(RetryPolicyTest, ParsesRetryAfterInEveryForm) {
  using e2b::internal::ParseRetryAfter;
  // 1994-11-06 08:49:37 UTC
  const auto now =
      std::chrono::system_clock::time_point(std::chrono::seconds(784111777));
  EXPECT_EQ(ParseRetryAfter("120", now), milliseconds(120000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", now),
            milliseconds(86400000));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now),
            milliseconds(10000));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:40 GMT", now),
            milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:50:37 1994", now),
            milliseconds(60000));
  // A date in the past means "now".
  EXPECT_EQ(ParseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", now),
            milliseconds(0));
  for (const char* bad :
       {"", "soon", "-5", "1.5", "Sun, 06 Foo 1994 08:49:47 GMT",
        "Sun, 06 Nov 1994 25:49:47 GMT", "Nov 1994"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseRetryAfter(bad, now).has_value());
  }
}

TEST(RetryPolicyTest, OnlyTransientTransportErrorsAreRetried) {
  using e2b::internal::ApiRetryRule;
  using e2b::internal::IsTransientFailure;
  using e2b::internal::TransientTransportError;
  using e2b::internal::UnsentRetryRule;
  const auto background = e2b::Context::Background();
  const TransientTransportError refused("GET x: connection refused", false);
  const TransientTransportError reset("GET x: connection reset", true);
  EXPECT_TRUE(IsTransientFailure(refused, background, ApiRetryRule()));
  EXPECT_TRUE(IsTransientFailure(reset, background, ApiRetryRule()));
  // A call that is not idempotent: only when the request never left.
  EXPECT_TRUE(IsTransientFailure(refused, background, UnsentRetryRule()));
  EXPECT_FALSE(IsTransientFailure(reset, background, UnsentRetryRule()));
  // Any other failure is permanent, whatever its text says.
  EXPECT_FALSE(IsTransientFailure(
      e2b::Error(0, "GET x: Recv failure: Connection reset by peer"),
      background, ApiRetryRule()));
  EXPECT_FALSE(IsTransientFailure(e2b::TimeoutError("GET x: timed out"),
                                  background, ApiRetryRule()));
  EXPECT_FALSE(
      IsTransientFailure(e2b::Error(503, "busy"), background, ApiRetryRule()));
  auto cancelled = e2b::Context::WithCancel();
  cancelled.Cancel();
  EXPECT_FALSE(IsTransientFailure(refused, cancelled, ApiRetryRule()));
}

}  // namespace
