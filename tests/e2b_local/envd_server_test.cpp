#include "envd/envd_server.hpp"

#include "e2b_local/envd_test_fixture.hpp"
#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace e2b_local {
namespace {

using nlohmann::json;
using testing::DecodeStream;
using testing::Envelope;

class EnvdServerTest : public testing::EnvdFixture {};

TEST_F(EnvdServerTest, HealthAnswers204WithoutAuth) {
  auto res = Client("")->Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  res = Client(kSecure)->Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
}

TEST_F(EnvdServerTest, UnknownSandboxGets502Body) {
  auto res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}}, "inope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  auto body = json::parse(res->body);
  EXPECT_EQ(body, (json{{"sandboxId", "inope"},
                        {"message", "The sandbox was not found"},
                        {"code", 502}}));
  EXPECT_EQ(Client("inope")->Get("/health")->status, 502);
}

TEST_F(EnvdServerTest, KilledAndPausedSandboxesGet502) {
  {
    std::lock_guard<std::mutex> lock(open_->mu);
    open_->status = SandboxStatus::kPaused;
  }
  auto res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  {
    std::lock_guard<std::mutex> lock(open_->mu);
    open_->status = SandboxStatus::kKilled;
  }
  EXPECT_EQ(Unary("/filesystem.Filesystem/Stat", {{"path", "/"}})->status, 502);
}

void SetStatus(LocalSandbox& sandbox, SandboxStatus status, bool auto_resume) {
  std::lock_guard<std::mutex> lock(sandbox.mu);
  sandbox.status = status;
  sandbox.auto_resume = auto_resume;
}

TEST_F(EnvdServerTest, PausedSandboxWithoutAutoResumeAnswersLikeTheEdge) {
  SetStatus(*open_, SandboxStatus::kPaused, false);
  // Every kind of request answers at once, none waits on the frozen
  // sandbox: an RPC, a stream, /files and the routed health check.
  const json not_found{{"sandboxId", kOpen},
                       {"message", "The sandbox was not found"},
                       {"code", 502}};
  auto res = Unary("/filesystem.Filesystem/ListDir", {{"path", "/"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(json::parse(res->body), not_found);
  res = Client()->Post("/process.Process/Start", Envelope({}),
                       "application/connect+json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(json::parse(res->body), not_found);
  res = Client()->Get("/files?path=/etc/passwd");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  res =
      Client()->Post("/files?path=/tmp/x", "data", "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(Client()->Get("/health")->status, 502);
  EXPECT_TRUE(resumed_.empty());
  EXPECT_EQ(open_->Status(), SandboxStatus::kPaused);
}

TEST_F(EnvdServerTest, PausedSandboxWithAutoResumeResumesOnRequest) {
  SetStatus(*open_, SandboxStatus::kPaused, true);
  auto res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(resumed_, std::vector<std::string>{kOpen});
  EXPECT_EQ(open_->Status(), SandboxStatus::kRunning);
  // Running now: no second resume.
  EXPECT_EQ(Unary("/filesystem.Filesystem/Stat", {{"path", "/"}})->status, 200);
  EXPECT_EQ(resumed_.size(), 1u);
}

TEST_F(EnvdServerTest, AutoResumeNeedsTheSandboxCredentials) {
  SetStatus(*secure_, SandboxStatus::kPaused, true);
  auto res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}}, kSecure,
                   {{"X-Access-Token", "wrong"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  auto body = json::parse(res->body);
  EXPECT_EQ(body["sandboxId"], kSecure);
  EXPECT_EQ(body["code"], 403);
  EXPECT_EQ(body["message"],
            "This sandbox can't be resumed with the credentials provided. "
            "Check your access token and try again.");
  EXPECT_EQ(Client(kSecure)->Get("/health")->status, 403);
  EXPECT_TRUE(resumed_.empty());
  res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}}, kSecure,
              {{"X-Access-Token", kToken}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(resumed_, std::vector<std::string>{kSecure});
}

TEST_F(EnvdServerTest, FailedAutoResumeAnswersInsteadOfHanging) {
  SetStatus(*open_, SandboxStatus::kPaused, true);
  resume_failure_ = Failure::Reason::kLimitReached;
  auto res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(json::parse(res->body)["code"], 429);
  resume_failure_ = Failure::Reason::kInternal;
  res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(json::parse(res->body)["message"], "The sandbox was not found");
}

TEST_F(EnvdServerTest, MissingRoutingIsAClearError) {
  auto res =
      Client("")->Post("/filesystem.Filesystem/Stat", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("E2b-Sandbox-Id"), std::string::npos);
}

TEST_F(EnvdServerTest, RoutesByHostPrefix) {
  auto client = Client("");
  httplib::Headers host{{"Host", std::string("49983-") + kOpen + ".localhost"}};
  auto res = client->Post("/filesystem.Filesystem/Stat", host,
                          R"({"path":"/etc"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["entry"]["path"], "/etc");
  httplib::Headers other{{"Host", "49983-inope.e2b.local:49983"}};
  res = client->Post("/filesystem.Filesystem/Stat", other, R"({"path":"/"})",
                     "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(json::parse(res->body)["sandboxId"], "inope");
}

TEST_F(EnvdServerTest, SandboxIdParsing) {
  httplib::Request req;
  req.set_header("Host", "49983-abc123.example.com:8080");
  EXPECT_EQ(SandboxIdFromRequest(req), "abc123");
  httplib::Request plain;
  plain.set_header("Host", "localhost:49983");
  EXPECT_EQ(SandboxIdFromRequest(plain), "");
  httplib::Request header;
  header.set_header("Host", "49983-abc.x");
  header.set_header("E2b-Sandbox-Id", "fromheader");
  EXPECT_EQ(SandboxIdFromRequest(header), "fromheader");
}

TEST_F(EnvdServerTest, AccessTokenIsEnforcedOnRpcs) {
  auto res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}}, kSecure);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body),
            (json{{"code", 401},
                  {"message",
                   "unauthorized access, please provide a valid access token "
                   "or method signing if supported"}}));
  EXPECT_EQ(res->body.find(kToken), std::string::npos);
  res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}}, kSecure,
              {{"X-Access-Token", "wrong"}});
  EXPECT_EQ(res->status, 401);
  res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}}, kSecure,
              {{"X-Access-Token", kToken}});
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(EnvdServerTest, BasicAuthSelectsUser) {
  auto res = Unary("/filesystem.Filesystem/Stat", {{"path", "~"}}, kOpen,
                   {{"Authorization", "Basic " + Base64Encode("root:")}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["entry"]["path"], "/root");
  res = Unary("/filesystem.Filesystem/Stat", {{"path", "~"}});
  EXPECT_EQ(json::parse(res->body)["entry"]["path"], "/home/user");

  res = Unary("/filesystem.Filesystem/Stat", {{"path", "~"}}, kOpen,
              {{"Authorization", "Basic " + Base64Encode("mallory:")}});
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body),
            (json{{"code", "unauthenticated"},
                  {"message", "invalid username: 'mallory'"}}));
  res = Unary("/filesystem.Filesystem/Stat", {{"path", "~"}}, kOpen,
              {{"Authorization", "Basic %%%not-base64"}});
  EXPECT_EQ(res->status, 401);
}

TEST_F(EnvdServerTest, UnaryFramingErrors) {
  auto client = Client();
  auto res =
      client->Post("/filesystem.Filesystem/Stat", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["code"], "invalid_argument");

  res = client->Post("/filesystem.Filesystem/Stat", "{not json",
                     "application/json");
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["code"], "invalid_argument");

  res =
      client->Post("/filesystem.Filesystem/Stat", "[1,2]", "application/json");
  EXPECT_EQ(res->status, 400);

  res = client->Post("/filesystem.Filesystem/Stat", R"({"path":"/"})",
                     "application/proto");
  EXPECT_EQ(res->status, 415);

  res = client->Post("/filesystem.Filesystem/Stat", R"({"path":"/"})",
                     "application/json; charset=utf-8");
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");

  res = client->Post("/filesystem.Filesystem/Stat", R"({"path":7})",
                     "application/json");
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["code"], "invalid_argument");
}

TEST_F(EnvdServerTest, UnknownRpcIsUnimplemented) {
  auto res = Unary("/filesystem.Filesystem/Nope", json::object());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["code"], "unimplemented");
  // The client still works on the same connection afterwards.
  auto client = Client();
  client->set_keep_alive(true);
  EXPECT_EQ(client->Post("/x.Y/Z", "{}", "application/json")->status, 404);
  EXPECT_EQ(client
                ->Post("/filesystem.Filesystem/Stat", R"({"path":"/"})",
                       "application/json")
                ->status,
            200);
}

// HandleRpc's checks answer in a fixed order: credentials, then the
// procedure, then the content type, then the headers; a request failing
// several gets the first one's answer.
TEST_F(EnvdServerTest, RpcChecksAnswerInOrder) {
  const char* unknown = "/filesystem.Filesystem/Nope";
  auto res = Client(kSecure)->Post(unknown, {{"X-Access-Token", "wrong"}}, "{}",
                                   "application/proto");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["code"], 401);

  res = Client()->Post(unknown,
                       {{"Authorization", "Basic " + Base64Encode("mallory:")}},
                       "{}", "application/proto");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["code"], "unauthenticated");

  res = Client()->Post(unknown, "{}", "application/proto");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body),
            (json{{"code", "unimplemented"},
                  {"message", std::string(unknown) + " is not implemented"}}));

  res = Client()->Post("/filesystem.Filesystem/Stat",
                       {{"Connect-Timeout-Ms", "bad"}}, R"({"path":"/"})",
                       "application/proto");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  EXPECT_EQ(res->get_header_value("Accept-Post"), "application/json");
  EXPECT_EQ(json::parse(res->body),
            (json{{"code", "unknown"},
                  {"message",
                   "unsupported content type; this endpoint takes "
                   "application/json"}}));
  res = Client()->Post("/filesystem.Filesystem/WatchDir", R"({"path":"/"})",
                       "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  EXPECT_EQ(res->get_header_value("Accept-Post"), "application/connect+json");

  // A stream answers 200 even for a bad header; the error ends the stream.
  json end;
  auto messages = Stream("/filesystem.Filesystem/WatchDir", {{"path", "/"}},
                         &end, kOpen, {{"Connect-Timeout-Ms", "bad"}});
  EXPECT_TRUE(messages.empty());
  EXPECT_EQ(end["error"],
            (json{{"code", "invalid_argument"},
                  {"message", "invalid Connect-Timeout-Ms header: 'bad'"}}));
}

TEST_F(EnvdServerTest, BadTimeoutHeaderIsInvalidArgument) {
  auto res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}}, kOpen,
                   {{"Connect-Timeout-Ms", "12345678901"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = Unary("/filesystem.Filesystem/Stat", {{"path", "/"}}, kOpen,
              {{"Connect-Timeout-Ms", "5000"}});
  EXPECT_EQ(res->status, 200);
}

TEST_F(EnvdServerTest, OversizedBodyIsRejected) {
  std::string big(17u << 20, ' ');
  big[0] = '{';
  big.back() = '}';
  auto res =
      Client()->Post("/filesystem.Filesystem/Stat", big, "application/json");
  // Either the answer arrives or the server closed the connection early;
  // it never crashes and keeps serving.
  if (res) {
    EXPECT_EQ(res->status, 429);
    EXPECT_EQ(json::parse(res->body)["code"], "resource_exhausted");
  }
  EXPECT_EQ(Client("")->Get("/health")->status, 204);
}

TEST_F(EnvdServerTest, StreamErrorsGoIntoEndOfStream) {
  json end;
  auto messages = Stream("/filesystem.Filesystem/WatchDir",
                         {{"path", "/does/not/exist"}}, &end);
  EXPECT_TRUE(messages.empty());
  EXPECT_EQ(end["error"]["code"], "not_found");

  // A body that is not one complete envelope.
  auto client = Client();
  std::string truncated = Envelope({{"path", "/"}});
  truncated.pop_back();
  auto res = client->Post("/filesystem.Filesystem/WatchDir", truncated,
                          "application/connect+json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/connect+json");
  auto envelopes = DecodeStream(res->body);
  ASSERT_EQ(envelopes.size(), 1u);
  EXPECT_TRUE(envelopes[0].EndStream());
  EXPECT_EQ(json::parse(envelopes[0].payload)["error"]["code"],
            "invalid_argument");

  // Unary content type on a stream method.
  res = client->Post("/filesystem.Filesystem/WatchDir", R"({"path":"/"})",
                     "application/json");
  EXPECT_EQ(res->status, 415);
}

TEST_F(EnvdServerTest, StreamHonoursDeadline) {
  json end;
  auto messages =
      Stream("/filesystem.Filesystem/WatchDir", {{"path", "/home/user"}}, &end,
             kOpen, {{"Connect-Timeout-Ms", "300"}});
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages[0], json({{"start", json::object()}}));
  EXPECT_EQ(end["error"]["code"], "deadline_exceeded");
}

TEST_F(EnvdServerTest, CorsPreflight) {
  httplib::Client client("127.0.0.1", port_);
  httplib::Request req;
  req.method = "OPTIONS";
  req.path = "/filesystem.Filesystem/Stat";
  req.set_header("Origin", "http://example.com");
  req.set_header("Access-Control-Request-Headers", "x-access-token");
  auto res = client.send(req);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Headers"),
            "x-access-token");
}

// A broken multipart body must not turn an answer already decided (no
// such sandbox, a wrong token, an unsupported content type) into httplib's
// 400 while the body still says 401 or 502; the chaos test found the
// status and the body disagreeing.
TEST_F(EnvdServerTest, BrokenMultipartKeepsTheDecidedStatus) {
  const std::string broken = "--b\r\nContent-Disposition: form-data; na";
  const char* type = "multipart/form-data; boundary=b";
  auto res = Client("inope")->Post("/files?path=/x", broken, type);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(json::parse(res->body)["code"], 502);

  res = Client(kSecure)->Post("/files?path=/x", {{"X-Access-Token", "wrong"}},
                              broken, type);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["code"], 401);

  res = Client(kSecure)->Post("/filesystem.Filesystem/Stat",
                              {{"X-Access-Token", kToken}}, broken, type);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);

  res =
      Client(kOpen)->Post("/files?path=/x&username=nobody-here", broken, type);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["code"], 401);

  // A body that is broken on its own is still a 400.
  res = Client(kOpen)->Post("/files?path=/home/user/x", broken, type);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

// The Connect framing HandleRpc applies, as pure functions (the fuzzer
// local_connect_framing runs them on hostile input).

std::string ErrorCodeOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const ConnectError& e) {
    return e.code;
  }
  return "";
}

TEST(RpcFramingTest, BasicAuthUser) {
  EXPECT_EQ(BasicAuthUser("Basic " + Base64Encode("root:")), "root");
  EXPECT_EQ(BasicAuthUser("  bAsIc   " + Base64Encode("ann:pw:x") + " "),
            "ann");
  EXPECT_EQ(BasicAuthUser(""), std::nullopt);
  EXPECT_EQ(BasicAuthUser("Bearer abc"), std::nullopt);
  EXPECT_EQ(BasicAuthUser("Basic " + Base64Encode(":pw")), std::nullopt);
  EXPECT_EQ(ErrorCodeOf([] { BasicAuthUser("Basic !!!"); }), "unauthenticated");
}

TEST(RpcFramingTest, ConnectTimeout) {
  EXPECT_EQ(ParseConnectTimeout(std::nullopt), std::nullopt);
  EXPECT_EQ(ParseConnectTimeout(std::string(" 1500 ")),
            std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseConnectTimeout(std::string("9999999999")),
            std::chrono::milliseconds(9999999999LL));
  for (const char* bad : {"", "-1", "1e3", "12345678901", "0x10", "1 2"}) {
    EXPECT_EQ(ErrorCodeOf([&] { ParseConnectTimeout(std::string(bad)); }),
              "invalid_argument")
        << bad;
  }
}

TEST(RpcFramingTest, KeepaliveIntervalFallsBackTo90s) {
  EXPECT_EQ(ParseKeepaliveInterval("15"), std::chrono::seconds(15));
  EXPECT_EQ(ParseKeepaliveInterval(" 7 "), std::chrono::seconds(7));
  for (const char* bad : {"", "0", "-5", "abc", "1234567890"}) {
    EXPECT_EQ(ParseKeepaliveInterval(bad), std::chrono::seconds(90)) << bad;
  }
}

TEST(RpcFramingTest, ContentTypes) {
  EXPECT_TRUE(RpcContentTypeMatches("application/json", true));
  EXPECT_TRUE(RpcContentTypeMatches(" Application/JSON ; charset=utf-8", true));
  EXPECT_FALSE(RpcContentTypeMatches("application/connect+json", true));
  EXPECT_TRUE(RpcContentTypeMatches("application/connect+json", false));
  EXPECT_FALSE(RpcContentTypeMatches("application/json", false));
  EXPECT_FALSE(RpcContentTypeMatches("", false));
}

TEST(RpcFramingTest, UnaryRequest) {
  EXPECT_EQ(DecodeUnaryRequest(R"({"path":"/x"})"), json({{"path", "/x"}}));
  for (const char* bad : {"", "[]", "null", "{", "\"s\"", "{} {}"}) {
    EXPECT_EQ(ErrorCodeOf([&] { DecodeUnaryRequest(bad); }), "invalid_argument")
        << bad;
  }
}

TEST(RpcFramingTest, StreamRequestTakesExactlyOneEnvelope) {
  const std::string one = e2b::internal::EncodeEnvelope(0, R"({"path":"/x"})");
  EXPECT_EQ(DecodeStreamRequest(one), json({{"path", "/x"}}));
  const std::vector<std::string> bad = {
      "",
      R"({"path":"/x"})",                            // no envelope
      one.substr(0, one.size() - 1),                 // truncated
      one + e2b::internal::EncodeEnvelope(0, "{}"),  // two
      e2b::internal::EncodeEnvelope(1, "{}"),        // compressed
      e2b::internal::EncodeEnvelope(2, "{}"),        // end of stream
      e2b::internal::EncodeEnvelope(0, "[]"),        // not an object
      std::string("\0\xff\xff\xff\xff", 5)           // over the 16 MiB cap
  };
  for (const auto& body : bad) {
    EXPECT_EQ(ErrorCodeOf([&] { DecodeStreamRequest(body); }),
              "invalid_argument")
        << json(body).dump(-1, ' ', true, json::error_handler_t::replace);
  }
}

}  // namespace
}  // namespace e2b_local
