// The low-level template build API (Go HEAD's templates.go) against a real
// HTTP server: CheckBuildFiles, UploadBuildFiles (a presigned PUT, streamed),
// StartTemplateBuild and GetBuildStatus; the wire facts are in
// docs/protocol/template-builds.md.

#include "support/test_server.hpp"
#include "unit/api_test_fixture.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <istream>
#include <mutex>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

namespace {

using e2b_test::ApiTest;
using e2b_test::ExpectCleanError;
using e2b_test::kSanitized;
using e2b_test::RecordedRequest;
using e2b_test::TestServer;
using nlohmann::json;

class TemplateBuildsTest : public ApiTest {};

// ---- CheckBuildFiles ----

TEST_F(TemplateBuildsTest, CheckBuildFilesAsksForTheHashAndReadsTheAnswer) {
  auto client = MakeClient();
  Respond(201, R"({"present":false,"url":"https://storage/up?sig=1"})");
  const std::string hash(64, 'a');
  auto status = client.CheckBuildFiles("tpl/x", hash);
  EXPECT_FALSE(status.Present);
  EXPECT_EQ(status.URL, "https://storage/up?sig=1");
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/templates/tpl%2Fx/files/" + hash);
  EXPECT_EQ(r.raw_query, "");
  ExpectApiHeaders(r, false);

  // Cached: no URL; unknown fields (the JS SDK's `headers`) are ignored.
  Respond(201, R"({"present":true,"headers":{"x":"y"},"extra":1})");
  status = client.CheckBuildFiles("t1", hash);
  EXPECT_TRUE(status.Present);
  EXPECT_EQ(status.URL, "");
}

TEST_F(TemplateBuildsTest, CheckBuildFilesAcceptsOnly2xxItKnows) {
  auto client = MakeClient();
  Respond(200, R"({"present":true})");
  EXPECT_TRUE(client.CheckBuildFiles("t1", "h").Present);
  // 204 is not an answer this call knows: it has no status to read.
  Respond(204);
  EXPECT_THROW(client.CheckBuildFiles("t1", "h"), e2b::Error);
}

// ---- StartTemplateBuild ----

TEST_F(TemplateBuildsTest, StartTemplateBuildSendsEveryFieldByItsWireName) {
  auto client = MakeClient();
  Respond(202);
  e2b::StartBuildConfig cfg;
  cfg.FromImage = "python:3.11";
  cfg.FromImageRegistry = e2b::ImageRegistry{
      "aws", "AKIA", "secret", "eu-west-1", "{sa}", "user", "pass"};
  cfg.Force = true;
  cfg.Steps = {{"run", {"pip install x", "root"}, "", false},
               {"copy", {"src", "/app"}, std::string(64, 'f'), true},
               {"workdir", {}, "", false}};
  cfg.StartCmd = "python app.py";
  cfg.ReadyCmd = "curl localhost:8000";
  client.StartTemplateBuild("tpl/x", "b 1", cfg);
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/v2/templates/tpl%2Fx/builds/b%201");
  ExpectApiHeaders(r, true);
  EXPECT_EQ(BodyJson(r),
            (json{{"fromImage", "python:3.11"},
                  {"fromImageRegistry",
                   {{"type", "aws"},
                    {"awsAccessKeyId", "AKIA"},
                    {"awsSecretAccessKey", "secret"},
                    {"awsRegion", "eu-west-1"},
                    {"serviceAccountJson", "{sa}"},
                    {"username", "user"},
                    {"password", "pass"}}},
                  {"force", true},
                  {"steps",
                   {{{"type", "run"}, {"args", {"pip install x", "root"}}},
                    {{"type", "copy"},
                     {"args", {"src", "/app"}},
                     {"filesHash", std::string(64, 'f')},
                     {"force", true}},
                    {{"type", "workdir"}}}},
                  {"startCmd", "python app.py"},
                  {"readyCmd", "curl localhost:8000"}}))
      << r.body;
}

TEST_F(TemplateBuildsTest, StartTemplateBuildLeavesOutWhatIsNotSet) {
  auto client = MakeClient();
  Respond(202);
  e2b::StartBuildConfig cfg;
  cfg.FromTemplate = "base";
  e2b::ImageRegistry general;
  general.Type = "registry";
  general.Username = "u";
  cfg.FromImageRegistry = general;
  client.StartTemplateBuild("t1", "b1", cfg);
  // `steps` is always there, as an array (Go's tag has no omitempty).
  EXPECT_EQ(
      BodyJson(OnlyRequest()),
      (json{{"fromTemplate", "base"},
            {"fromImageRegistry", {{"type", "registry"}, {"username", "u"}}},
            {"steps", json::array()}}));
}

TEST_F(TemplateBuildsTest, StartTemplateBuildWantsExactly202) {
  auto client = MakeClient();
  Respond(200);
  try {
    client.StartTemplateBuild("t1", "b1", {});
    ADD_FAILURE() << "200 accepted";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 200);
  }
}

// ---- GetBuildStatus ----

TEST_F(TemplateBuildsTest, GetBuildStatusSendsOptionsAndReadsEveryField) {
  auto client = MakeClient();
  Respond(200, R"({"templateID":"t1","buildID":"b1","status":"error",
    "logs":["line 1","line 2"],
    "logEntries":[{"timestamp":"2025-01-01T00:00:00Z","message":"m",
                   "level":"info","step":"2"}],
    "reason":{"message":"step failed","step":"2",
              "logEntries":[{"timestamp":"t","message":"boom",
                             "level":"error"}]},
    "unknown":true})");
  auto s = client.GetBuildStatus(
      "tpl/x", "b1", e2b::WithBuildStatusLogsOffset(5),
      e2b::WithBuildStatusLimit(50), e2b::WithBuildStatusLevel("warn"));
  EXPECT_EQ(s.TemplateID, "t1");
  EXPECT_EQ(s.BuildID, "b1");
  EXPECT_EQ(s.Status, "error");
  EXPECT_EQ(s.Logs, (std::vector<std::string>{"line 1", "line 2"}));
  ASSERT_EQ(s.LogEntries.size(), 1u);
  EXPECT_EQ(s.LogEntries[0].Timestamp, "2025-01-01T00:00:00Z");
  EXPECT_EQ(s.LogEntries[0].Message, "m");
  EXPECT_EQ(s.LogEntries[0].Level, "info");
  EXPECT_EQ(s.LogEntries[0].Step, "2");
  ASSERT_TRUE(s.Reason.has_value());
  EXPECT_EQ(s.Reason->Message, "step failed");
  EXPECT_EQ(s.Reason->Step, "2");
  ASSERT_EQ(s.Reason->LogEntries.size(), 1u);
  EXPECT_EQ(s.Reason->LogEntries[0].Message, "boom");
  auto r = OnlyRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.raw_path, "/templates/tpl%2Fx/builds/b1/status");
  EXPECT_EQ(r.raw_query, "logsOffset=5&limit=50&level=warn");
  ExpectApiHeaders(r, false);
}

TEST_F(TemplateBuildsTest, GetBuildStatusWithoutOptionsOrReason) {
  auto client = MakeClient();
  Respond(200, R"({"templateID":"t1","buildID":"b1","status":"building",
    "logs":[],"logEntries":[],"reason":null})");
  auto s = client.GetBuildStatus(e2b::Context::Background(), "t1", "b1");
  EXPECT_EQ(s.Status, "building");
  EXPECT_TRUE(s.Logs.empty());
  EXPECT_FALSE(s.Reason.has_value());
  EXPECT_EQ(OnlyRequest().raw_query, "");
}

// ---- errors, shared ----

TEST_F(TemplateBuildsTest, StatusesMapAsGoHeadDoes) {
  struct Case {
    const char* name;
    std::function<void(const e2b::Client&)> call;
    bool template_404;  // a 404 is TemplateNotFoundError
    int success;
  };
  const std::vector<Case> cases = {
      {"CheckBuildFiles",
       [](const e2b::Client& c) { c.CheckBuildFiles("tpl/x:1", "h"); }, true,
       201},
      {"StartTemplateBuild",
       [](const e2b::Client& c) { c.StartTemplateBuild("tpl/x:1", "b", {}); },
       false, 202},
      {"GetBuildStatus",
       [](const e2b::Client& c) { c.GetBuildStatus("tpl/x:1", "b"); }, true,
       200},
  };
  auto client = MakeClient();
  for (const auto& c : cases) {
    for (int status : {400, 401, 403, 404, 409, 429, 500}) {
      SCOPED_TRACE(std::string(c.name) + " " + std::to_string(status));
      Respond(status, ErrorBody(status, "oops"));
      try {
        c.call(client);
        ADD_FAILURE() << "no exception";
      } catch (const e2b::TemplateNotFoundError& e) {
        EXPECT_TRUE(status == 404 && c.template_404);
        EXPECT_EQ(e.TemplateID(), "tpl/x:1");
        ExpectCleanError(e, 404, "oops");
      } catch (const e2b::Error& e) {
        EXPECT_FALSE(status == 404 && c.template_404);
        ExpectCleanError(e, status, "oops");
      }
    }
    if (c.success == 202) continue;  // StartTemplateBuild reads no body
    std::vector<std::string> malformed = {"{\"truncated\": ", "[1,2]"};
    if (c.success == 201) {
      malformed.push_back(R"({"present":"yes"})");
    } else {
      malformed.push_back(R"({"logs":"yes"})");
      malformed.push_back(R"({"reason":"yes"})");
      malformed.push_back(R"({"logEntries":[{"message":["yes"]}]})");
    }
    for (const std::string& body : malformed) {
      SCOPED_TRACE(std::string(c.name) + " " + body);
      Respond(c.success, body);
      try {
        c.call(client);
        ADD_FAILURE() << "accepted malformed JSON";
      } catch (const e2b::Error& e) {
        EXPECT_EQ(e.StatusCode(), 0);
        EXPECT_NE(e.Message().find("malformed response from"),
                  std::string::npos)
            << e.Message();
        EXPECT_EQ(std::string(e.what()).find("yes"), std::string::npos);
      }
    }
  }
}

// ---- UploadBuildFiles: a PUT to the storage service's URL ----

// The byte at `offset` of the generated upload.
char ByteAt(std::uint64_t offset) {
  return static_cast<char>((offset * 7 + offset / 4099) & 0xff);
}

// An istream of `size` generated bytes, produced 64 KiB at a time; with
// seekable, it answers the seeks that measure it (tellg, seekg to the end
// and back) without producing anything.
class GeneratedBuf : public std::streambuf {
 public:
  GeneratedBuf(std::uint64_t size, bool seekable)
      : size_(size), seekable_(seekable), block_(1 << 16) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (next_ >= size_) return traits_type::eof();
    const std::uint64_t n =
        std::min<std::uint64_t>(block_.size(), size_ - next_);
    for (std::uint64_t i = 0; i < n; ++i) block_[i] = ByteAt(next_ + i);
    next_ += n;
    setg(block_.data(), block_.data(), block_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

  pos_type seekoff(off_type off, std::ios_base::seekdir dir,
                   std::ios_base::openmode) override {
    if (!seekable_) return pos_type(off_type(-1));
    const auto current = static_cast<off_type>(next_) - (egptr() - gptr());
    off_type target = off;
    if (dir == std::ios_base::cur) target += current;
    if (dir == std::ios_base::end) target += static_cast<off_type>(size_);
    return seekpos(pos_type(target), std::ios_base::in);
  }

  pos_type seekpos(pos_type pos, std::ios_base::openmode) override {
    if (!seekable_ || off_type(pos) < 0 ||
        static_cast<std::uint64_t>(off_type(pos)) > size_) {
      return pos_type(off_type(-1));
    }
    next_ = static_cast<std::uint64_t>(off_type(pos));
    setg(nullptr, nullptr, nullptr);
    return pos;
  }

 private:
  std::uint64_t size_;
  bool seekable_;
  std::uint64_t next_ = 0;
  std::vector<char> block_;
};

std::uint64_t PeakRss() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

// What the storage service saw of one PUT, checked byte by byte as it
// arrived (never buffered).
struct ReceivedUpload {
  std::string method;
  std::string path;
  std::string query;
  httplib::Headers headers;
  std::uint64_t bytes = 0;
  std::uint64_t first_mismatch = UINT64_MAX;
};

class UploadBuildFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Put(
        ".*", [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
          ReceivedUpload got;
          got.method = req.method;
          got.path = req.path;
          got.headers = req.headers;
          for (const auto& [key, value] : req.params) {
            got.query += key + "=" + value + ";";
          }
          reader([&](const char* data, std::size_t size) {
            for (std::size_t i = 0; i < size; ++i) {
              if (data[i] != ByteAt(got.bytes + i) &&
                  got.first_mismatch == UINT64_MAX) {
                got.first_mismatch = got.bytes + i;
              }
            }
            got.bytes += size;
            return true;
          });
          std::lock_guard<std::mutex> lock(mutex_);
          received_.push_back(got);
          res.status = answer_status_;
          if (!answer_body_.empty()) {
            res.set_content(answer_body_, "application/xml");
          }
        });
    server_.Start();
  }

  e2b::Client MakeClient() const {
    e2b::ClientConfig cfg;
    cfg.APIKey = e2b_test::kTestApiKey;
    // The API is elsewhere: the upload must go to the URL it is given.
    cfg.APIBaseURL = "http://127.0.0.1:1";
    cfg.SandboxURL = "http://127.0.0.1:1";
    cfg.RequestTimeout = std::chrono::seconds(60);
    cfg.Retry.MaxAttempts = 1;
    return e2b::NewClient(cfg);
  }

  std::string UploadUrl() const {
    return server_.url() + "/bucket/obj.tar.gz?X-Amz-Signature=sig0123456789";
  }

  std::vector<ReceivedUpload> Received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

  static std::string Header(const ReceivedUpload& r, const char* name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string() : it->second;
  }

  TestServer server_;
  std::mutex mutex_;
  std::vector<ReceivedUpload> received_;
  int answer_status_ = 200;
  std::string answer_body_;
};

TEST_F(UploadBuildFilesTest, Streams32MiBWithContentLengthInBoundedMemory) {
  constexpr std::uint64_t kBig = std::uint64_t{32} << 20;
  auto client = MakeClient();
  GeneratedBuf source(kBig, /*seekable=*/true);
  std::istream in(&source);
  const std::uint64_t rss_before = PeakRss();
  client.UploadBuildFiles(UploadUrl(), in);
  if (!kSanitized) {
    EXPECT_LT(PeakRss() - rss_before, kBig / 2);
  }
  auto received = Received();
  ASSERT_EQ(received.size(), 1u);
  const auto& r = received[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.path, "/bucket/obj.tar.gz");
  EXPECT_EQ(r.query, "X-Amz-Signature=sig0123456789;");
  EXPECT_EQ(r.bytes, kBig);
  EXPECT_EQ(r.first_mismatch, UINT64_MAX);
  // Presigned URLs refuse chunked bodies; the URL is the credential.
  EXPECT_EQ(Header(r, "Content-Length"), std::to_string(kBig));
  EXPECT_EQ(r.headers.count("Transfer-Encoding"), 0u);
  EXPECT_EQ(r.headers.count("X-API-Key"), 0u);
  EXPECT_EQ(r.headers.count("Authorization"), 0u);
  EXPECT_EQ(r.headers.count("Content-Type"), 0u);
}

TEST_F(UploadBuildFilesTest,
       SendsFromTheStreamPositionAndChunkedWhenUnseekable) {
  auto client = MakeClient();
  // A seekable stream already partly read: only the rest is sent.
  GeneratedBuf seekable(1000, /*seekable=*/true);
  std::istream in(&seekable);
  in.seekg(100);
  answer_status_ = 201;  // any 2xx is a success
  client.UploadBuildFiles(e2b::Context::Background(), UploadUrl(), in);
  // Unseekable: chunked, every byte.
  GeneratedBuf pipe(300000, /*seekable=*/false);
  std::istream piped(&pipe);
  client.UploadBuildFiles(UploadUrl(), piped);
  auto received = Received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].bytes, 900u);
  // The server compares with the bytes from offset 0: the first sent byte
  // is ByteAt(100), so it differs at once (ByteAt(0) != ByteAt(100)).
  EXPECT_EQ(received[0].first_mismatch, 0u);
  EXPECT_EQ(Header(received[0], "Content-Length"), "900");
  EXPECT_EQ(received[1].bytes, 300000u);
  EXPECT_EQ(received[1].first_mismatch, UINT64_MAX);
  EXPECT_EQ(Header(received[1], "Transfer-Encoding"), "chunked");
  EXPECT_EQ(received[1].headers.count("X-API-Key"), 0u);
}

TEST_F(UploadBuildFilesTest, RefusalIsAnErrorWithoutTheUrlsSecrets) {
  auto client = MakeClient();
  answer_status_ = 403;
  // S3 quotes the signature it was given.
  answer_body_ =
      "<Error><Code>SignatureDoesNotMatch</Code>"
      "<SignatureProvided>sig0123456789</SignatureProvided></Error>";
  std::istringstream in("tar bytes");
  try {
    client.UploadBuildFiles(UploadUrl(), in);
    ADD_FAILURE() << "no exception";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 403);
    EXPECT_NE(e.Message().find("SignatureDoesNotMatch"), std::string::npos)
        << e.Message();
    EXPECT_EQ(std::string(e.what()).find("sig0123456789"), std::string::npos)
        << e.what();
    EXPECT_NE(e.Message().find("[REDACTED]"), std::string::npos) << e.Message();
  }
  answer_status_ = 500;
  answer_body_.clear();
  std::istringstream again("tar bytes");
  try {
    client.UploadBuildFiles(UploadUrl(), again);
    ADD_FAILURE() << "no exception";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 500);
  }
  EXPECT_THROW(client.UploadBuildFiles("", again), e2b::InvalidArgumentError);
}

}  // namespace
