// ClientConfig::Logger, LogLevel and Observer (src/internal/observability.*,
// applied in src/internal/retry.cpp), at the HTTP level against the canned
// test server: one CallRecord per call, routes with placeholders, retries,
// transport failures, and log lines that never carry a secret.

#include "internal/observability.hpp"

#include "api_test_fixture.hpp"
#include "internal/http_transport.hpp"
#include "internal/retry.hpp"
#include "internal/url.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using e2b::CallErrorKind;
using e2b::CallRecord;
using e2b::LogLevel;
using e2b_test::kTestApiKey;

constexpr const char* kAccessToken = "tok_secret_abc";

// Saves E2B_DEBUG, clears it for the test and restores it afterwards.
class DebugEnvGuard {
 public:
  DebugEnvGuard() {
    if (const char* value = std::getenv("E2B_DEBUG")) saved_ = value;
    unsetenv("E2B_DEBUG");
  }
  ~DebugEnvGuard() {
    if (saved_) {
      setenv("E2B_DEBUG", saved_->c_str(), 1);
    } else {
      unsetenv("E2B_DEBUG");
    }
  }
  DebugEnvGuard(const DebugEnvGuard&) = delete;
  DebugEnvGuard& operator=(const DebugEnvGuard&) = delete;

 private:
  std::optional<std::string> saved_;
};

// Redirects file descriptor 2 into a temporary file until Take().
class StderrCapture {
 public:
  StderrCapture() : file_(std::tmpfile()) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    ::dup2(::fileno(file_), 2);
  }
  ~StderrCapture() {
    Restore();
    std::fclose(file_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  std::string Take() {
    Restore();
    std::rewind(file_);
    std::string out;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file_)) > 0) {
      out.append(buffer, n);
    }
    return out;
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }

  std::FILE* file_;
  int saved_ = -1;
};

int UnusedPort() {
  // Bind an ephemeral port and close it: nothing listens there afterwards.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

class ObservabilityTest : public e2b_test::ApiTest {
 protected:
  // A client whose log lines and records land in lines_ and records_.
  e2b::Client ObservedClient(int max_attempts = 1) {
    e2b::ClientConfig cfg;
    cfg.APIKey = kTestApiKey;
    cfg.APIBaseURL = server_.url();
    cfg.SandboxURL = server_.url();
    cfg.RequestTimeout = std::chrono::seconds(20);
    cfg.Retry.MaxAttempts = max_attempts;
    cfg.Retry.InitialBackoff = std::chrono::milliseconds(1);
    cfg.Retry.MaxBackoff = std::chrono::milliseconds(5);
    cfg.Logger = e2b::MakeLogger([this](LogLevel level, std::string_view line) {
      const std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back(std::string(e2b::LogLevelName(level)) + " " +
                       std::string(line));
    });
    cfg.Observer = e2b::MakeCallObserver([this](const CallRecord& record) {
      const std::lock_guard<std::mutex> lock(mutex_);
      records_.push_back(record);
    });
    return e2b::NewClient(cfg);
  }

  std::vector<CallRecord> Records() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return records_;
  }
  std::string Log() {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::string all;
    for (const auto& line : lines_) all += line + "\n";
    return all;
  }
  void Forget() {
    const std::lock_guard<std::mutex> lock(mutex_);
    records_.clear();
    lines_.clear();
  }

  static std::string Host(const std::string& url) {
    return url.substr(url.find("://") + 3);
  }

  // The secrets no log line may carry.
  void ExpectNoSecrets(const std::string& log) {
    EXPECT_EQ(log.find(kTestApiKey), std::string::npos) << log;
    EXPECT_EQ(log.find(kAccessToken), std::string::npos) << log;
  }

  DebugEnvGuard env_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<CallRecord> records_;
};

TEST_F(ObservabilityTest, SuccessIsOneRecordWithRouteStatusBytesAndRequestId) {
  const auto client = ObservedClient();
  const std::string body = "[]";
  Respond(200, body, {{"X-Request-Id", "req-42"}});
  client.ListSandboxes();
  const auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  const CallRecord& r = records[0];
  EXPECT_EQ(r.Method, "GET");
  EXPECT_EQ(r.Route, "/sandboxes");
  EXPECT_EQ(r.Host, Host(server_.url()));
  EXPECT_EQ(r.Status, 200);
  EXPECT_EQ(r.ResponseBytes, body.size());
  EXPECT_EQ(r.RequestBytes, 0u);
  EXPECT_EQ(r.RequestID, "req-42");
  EXPECT_EQ(r.Retries, 0);
  EXPECT_FALSE(r.Streamed);
  EXPECT_EQ(r.ErrorKind, CallErrorKind::kNone);
  EXPECT_GT(r.Duration.count(), 0);
  const std::string log = Log();
  EXPECT_NE(log.find("debug -> GET " + server_.url() + "/sandboxes"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("debug <- GET /sandboxes 200, 2 bytes in "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("request id req-42"), std::string::npos) << log;
  ExpectNoSecrets(log);
}

TEST_F(ObservabilityTest, NotFoundIsRecordedWithTheRouteNotTheId) {
  const auto client = ObservedClient();
  auto sandbox = MakeSandbox(client, "isecretid77");
  Forget();
  Respond(404, ErrorBody(404, "sandbox not found"));
  EXPECT_THROW(sandbox.Info(), e2b::SandboxNotFoundError);
  const auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].Method, "GET");
  EXPECT_EQ(records[0].Route, "/sandboxes/{sandboxID}");
  EXPECT_EQ(records[0].Status, 404);
  EXPECT_EQ(records[0].ErrorKind, CallErrorKind::kNone);
  EXPECT_EQ(records[0].Route.find("isecretid77"), std::string::npos);
  ExpectNoSecrets(Log());
}

TEST_F(ObservabilityTest, RetriedAnswerIsOneRecordWithItsRetries) {
  const auto client = ObservedClient(3);
  Respond(503, ErrorBody(503, "busy"));
  Respond(200, "[]");
  client.ListSandboxes();
  const auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].Status, 200);
  EXPECT_EQ(records[0].Retries, 1);
  const std::string log = Log();
  EXPECT_NE(log.find("info retry 1 of GET /sandboxes in "), std::string::npos)
      << log;
  EXPECT_NE(log.find("ms: status 503"), std::string::npos) << log;
  EXPECT_NE(log.find(", 1 retries"), std::string::npos) << log;
}

TEST_F(ObservabilityTest, ExhaustedRetriesReportTheLastAnswer) {
  const auto client = ObservedClient(2);
  Respond(503, ErrorBody(503, "busy"));
  Respond(503, ErrorBody(503, "still busy"));
  EXPECT_THROW(client.ListSandboxes(), e2b::Error);
  const auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].Status, 503);
  EXPECT_EQ(records[0].Retries, 1);
}

TEST_F(ObservabilityTest, TransportFailureHasStatusZeroAndItsKind) {
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  const std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort());
  cfg.APIBaseURL = url;
  cfg.Retry.MaxAttempts = 2;
  cfg.Retry.InitialBackoff = std::chrono::milliseconds(1);
  cfg.Retry.MaxBackoff = std::chrono::milliseconds(1);
  std::vector<CallRecord> records;
  std::vector<std::string> lines;
  cfg.Observer = e2b::MakeCallObserver(
      [&](const CallRecord& record) { records.push_back(record); });
  cfg.Logger = e2b::MakeLogger([&](LogLevel level, std::string_view line) {
    lines.push_back(std::string(e2b::LogLevelName(level)) + " " +
                    std::string(line));
  });
  const auto client = e2b::NewClient(cfg);
  EXPECT_THROW(client.ListSandboxes(), e2b::Error);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].Status, 0);
  EXPECT_EQ(records[0].ErrorKind, CallErrorKind::kNetwork);
  EXPECT_EQ(records[0].Retries, 1);
  EXPECT_EQ(records[0].Host, Host(url));
  EXPECT_FALSE(records[0].ErrorMessage.empty());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("warn <- GET /sandboxes network failure", 0), 0u)
      << lines.back();
}

TEST_F(ObservabilityTest, CancelledCallIsRecordedAsCancelled) {
  // A server of its own whose answer waits until the test is over.
  std::atomic<bool> done{false};
  e2b_test::TestServer slow;
  slow.server().Get(
      "/sandboxes", [&done](const httplib::Request&, httplib::Response& res) {
        for (int i = 0; i < 500 && !done; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        res.set_content("[]", "application/json");
      });
  slow.Start();
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = slow.url();
  std::vector<CallRecord> records;
  cfg.Observer = e2b::MakeCallObserver(
      [&](const CallRecord& record) { records.push_back(record); });
  const auto client = e2b::NewClient(cfg);
  const auto ctx = e2b::Context::WithCancel();
  std::thread canceller([ctx] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ctx.Cancel();
  });
  EXPECT_THROW(client.ListSandboxes(ctx), e2b::Error);
  canceller.join();
  done = true;
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].Status, 0);
  EXPECT_EQ(records[0].ErrorKind, CallErrorKind::kCancelled);
  EXPECT_GE(records[0].Duration, std::chrono::milliseconds(100));
}

TEST_F(ObservabilityTest, EnvdCallsCarryTheirRoutesAndStreamsAreLogged) {
  const auto client = ObservedClient();
  auto sandbox = MakeSandbox(client);
  {
    const auto records = Records();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].Method, "POST");
    EXPECT_EQ(records[0].Route, "/sandboxes");
    EXPECT_EQ(records[0].Status, 201);
    EXPECT_GT(records[0].RequestBytes, 0u);
  }
  Forget();
  Respond(200, "file text");
  EXPECT_EQ(sandbox.Filesystem.ReadString("/home/user/a.txt"), "file text");
  Respond(200, R"([{"name":"b.txt","type":"file","path":"/home/user/b.txt"}])");
  sandbox.Filesystem.WriteString("/home/user/b.txt", "hello");
  Respond(204);
  sandbox.Close();
  const auto records = Records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].Method, "GET");
  EXPECT_EQ(records[0].Route, "/files");
  EXPECT_EQ(records[1].Method, "POST");
  EXPECT_EQ(records[1].Route, "/files");
  EXPECT_EQ(records[1].Status, 200);
  EXPECT_EQ(records[2].Method, "DELETE");
  EXPECT_EQ(records[2].Route, "/sandboxes/{sandboxID}");
  EXPECT_EQ(records[2].Status, 204);
  const std::string log = Log();
  // The path is no secret; the access token (a header) never shows.
  EXPECT_NE(log.find("/files?path=%2Fhome%2Fuser%2Fa.txt"), std::string::npos)
      << log;
  // A download is read as a stream: the record comes at its headers, the
  // end is logged.
  EXPECT_TRUE(records[0].Streamed);
  EXPECT_FALSE(records[1].Streamed);
  EXPECT_NE(log.find("stream ended: GET /files, 9 bytes"), std::string::npos)
      << log;
  ExpectNoSecrets(log);
}

TEST_F(ObservabilityTest, ObserverAndLoggerExceptionsAreSwallowed) {
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = server_.url();
  cfg.Retry.MaxAttempts = 1;
  int observed = 0;
  cfg.Observer = e2b::MakeCallObserver([&](const CallRecord&) {
    ++observed;
    throw std::runtime_error("observer failed");
  });
  cfg.Logger = e2b::MakeLogger(
      [](LogLevel, std::string_view) { throw std::runtime_error("no log"); });
  const auto client = e2b::NewClient(cfg);
  Respond(200, "[]");
  EXPECT_NO_THROW(client.ListSandboxes());
  Respond(404, ErrorBody(404, "nope"));
  EXPECT_FALSE(client.KillSandbox("abc"));
  EXPECT_EQ(observed, 2);
}

TEST_F(ObservabilityTest, LogLevelFiltersLines) {
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = server_.url();
  cfg.Retry.MaxAttempts = 2;
  cfg.Retry.InitialBackoff = std::chrono::milliseconds(1);
  cfg.Retry.MaxBackoff = std::chrono::milliseconds(1);
  cfg.LogLevel = LogLevel::kInfo;
  std::vector<std::string> lines;
  cfg.Logger = e2b::MakeLogger([&](LogLevel level, std::string_view line) {
    EXPECT_NE(level, LogLevel::kDebug);
    lines.emplace_back(line);
  });
  const auto client = e2b::NewClient(cfg);
  Respond(503, ErrorBody(503, "busy"));
  Respond(200, "[]");
  client.ListSandboxes();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("retry 1 of GET /sandboxes", 0), 0u) << lines[0];
}

// ---- redaction --------------------------------------------------------------

TEST(LoggableUrlTest, SignedUrlsLoseEveryQueryValue) {
  using e2b::internal::LoggableUrl;
  EXPECT_EQ(
      LoggableUrl("https://49983-id.e2b.app/files?path=%2Fa&username=user&"
                  "signature=v1_abcdef&signature_expiration=123"),
      "https://49983-id.e2b.app/files?path=REDACTED&username=REDACTED&"
      "signature=REDACTED&signature_expiration=REDACTED");
  EXPECT_EQ(LoggableUrl("https://api.e2b.app/upload?token=tok_upload_secret"),
            "https://api.e2b.app/upload?token=REDACTED");
  EXPECT_EQ(LoggableUrl("https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=A&"
                        "X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeef"),
            "https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=REDACTED&"
            "X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED");
  EXPECT_EQ(LoggableUrl("https://storage.googleapis.com/b/o?X-Goog-Signature="
                        "feed&X-Goog-Date=1"),
            "https://storage.googleapis.com/b/o?X-Goog-Signature=REDACTED&"
            "X-Goog-Date=REDACTED");
}

TEST(LoggableUrlTest, KnownSecretParamsAreAlwaysRedacted) {
  using e2b::internal::LoggableUrl;
  EXPECT_EQ(LoggableUrl("http://h/x?path=%2Fa&access_token=abc&api_key=k&"
                        "limit=5&flag"),
            "http://h/x?path=%2Fa&access_token=REDACTED&api_key=REDACTED&"
            "limit=5&flag");
  EXPECT_EQ(LoggableUrl("http://user:pass@h/x?a=1#frag"), "http://h/x?a=1");
  EXPECT_EQ(LoggableUrl("http://h/x?a=\r\n"), "http://h/x?a=??");
  EXPECT_EQ(e2b::internal::UrlHost("https://u:p@h.example:8443/p?q"),
            "h.example:8443");
}

// Signed URLs at the HTTP level: a presigned upload and a signed download
// URL sent through the decorator every client exchange uses.
TEST_F(ObservabilityTest, SignedUrlsAreRedactedInLogLines) {
  std::vector<std::string> lines;
  auto obs = std::make_shared<e2b::internal::Observability>();
  obs->logger = e2b::MakeLogger(
      [&](LogLevel, std::string_view line) { lines.emplace_back(line); });
  std::vector<CallRecord> records;
  obs->observer = e2b::MakeCallObserver(
      [&](const CallRecord& record) { records.push_back(record); });
  e2b::RetryPolicy policy;
  policy.MaxAttempts = 1;
  const auto transport = e2b::internal::MakeRetryingTransport(
      e2b::internal::MakeCurlTransport({}), policy,
      e2b::internal::ApiRetryRule(), obs);

  e2b::internal::HttpRequest download;
  download.url = server_.url() +
                 "/files?path=%2Fa&signature=v1_sig_secret&"
                 "signature_expiration=99";
  download.headers = {{"X-Access-Token", kAccessToken},
                      {"e2b-traffic-access-token", "traffic_secret_1"},
                      {"Authorization", "Bearer bearer_secret_2"},
                      {"X-API-Key", kTestApiKey}};
  download.operation = "GET /files";
  download.route = "/files";
  Respond(200, "abc");
  transport->Open(download)->ReadAll(1024);

  e2b::internal::HttpRequest upload;
  upload.method = "PUT";
  upload.url = server_.url() + "/upload?token=tok_upload_secret";
  upload.body = "data";
  upload.operation = "PUT {uploadURL}";
  upload.route = "{uploadURL}";
  Respond(200);
  transport->Send(upload);

  std::string log;
  for (const auto& line : lines) log += line + "\n";
  for (const char* secret :
       {"v1_sig_secret", "tok_upload_secret", "traffic_secret_1",
        "bearer_secret_2", kAccessToken, kTestApiKey}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << "\n" << log;
  }
  EXPECT_NE(log.find("signature=REDACTED"), std::string::npos) << log;
  EXPECT_NE(log.find("token=REDACTED"), std::string::npos) << log;
  EXPECT_NE(log.find("stream ended: GET /files, 3 bytes"), std::string::npos)
      << log;
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].Streamed);
  EXPECT_EQ(records[0].Route, "/files");
  EXPECT_EQ(records[1].Route, "{uploadURL}");
  EXPECT_EQ(records[1].RequestBytes, 4u);
}

// ---- E2B_DEBUG --------------------------------------------------------------

TEST(DebugLoggingRequestedTest, ReadsTheVariable) {
  using e2b::internal::DebugLoggingRequested;
  EXPECT_FALSE(DebugLoggingRequested(nullptr));
  EXPECT_FALSE(DebugLoggingRequested(""));
  EXPECT_FALSE(DebugLoggingRequested("0"));
  EXPECT_FALSE(DebugLoggingRequested("false"));
  EXPECT_FALSE(DebugLoggingRequested("FALSE"));
  EXPECT_TRUE(DebugLoggingRequested("1"));
  EXPECT_TRUE(DebugLoggingRequested("true"));
}

TEST_F(ObservabilityTest, E2bDebugWritesDebugLinesToStderr) {
  setenv("E2B_DEBUG", "1", 1);
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = server_.url();
  cfg.Retry.MaxAttempts = 1;
  const auto client = e2b::NewClient(cfg);
  StderrCapture capture;
  Respond(200, "[]");
  client.ListSandboxes();
  const std::string err = capture.Take();
  EXPECT_NE(err.find("e2b debug: -> GET " + server_.url() + "/sandboxes\n"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("e2b debug: <- GET /sandboxes 200"), std::string::npos)
      << err;
  EXPECT_EQ(err.find(kTestApiKey), std::string::npos) << err;
}

TEST_F(ObservabilityTest, AConfiguredLoggerReplacesTheStderrOne) {
  setenv("E2B_DEBUG", "true", 1);
  const auto client = ObservedClient();
  StderrCapture capture;
  Respond(200, "[]");
  client.ListSandboxes();
  EXPECT_EQ(capture.Take(), "");
  EXPECT_FALSE(Log().empty());
}

TEST_F(ObservabilityTest, NothingIsLoggedWithoutLoggerOrE2bDebug) {
  e2b::ClientConfig cfg;
  cfg.APIKey = kTestApiKey;
  cfg.APIBaseURL = server_.url();
  cfg.Retry.MaxAttempts = 1;
  EXPECT_EQ(e2b::internal::ResolveObservability(cfg), nullptr);
  setenv("E2B_DEBUG", "0", 1);
  EXPECT_EQ(e2b::internal::ResolveObservability(cfg), nullptr);
  const auto client = e2b::NewClient(cfg);
  StderrCapture capture;
  Respond(200, "[]");
  client.ListSandboxes();
  EXPECT_EQ(capture.Take(), "");
}

}  // namespace
