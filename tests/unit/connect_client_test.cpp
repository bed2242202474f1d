#include "internal/connect_client.hpp"

#include "internal/connect_envelope.hpp"
#include "internal/http_transport.hpp"
#include "support/test_server.hpp"

#include <e2b/errors.hpp>
#include <e2b/http_client.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace e2b::internal {
namespace {

using nlohmann::json;

constexpr const char* kStreamType = "application/connect+json";

std::string Frame(const json& message) {
  return EncodeEnvelope(0, message.dump());
}

std::string EndFrame(const json& end = json::object()) {
  return EncodeEnvelope(kEnvelopeEndStream, end.dump());
}

class ConnectClientTest : public ::testing::Test {
 protected:
  void SetUp() override { transport_ = MakeCurlTransport(HTTPClientOptions{}); }

  // Serves `body` with `status` for every POST to the stream procedure.
  void ServeStream(std::string body, int status = 200,
                   std::string type = kStreamType) {
    server_.server().Post(
        "/pkg.Service/Stream",
        [body, status, type](const httplib::Request&, httplib::Response& res) {
          res.status = status;
          res.set_content(body, type.c_str());
        });
    server_.Start();
  }

  ConnectClient Client() {
    return ConnectClient(transport_, server_.url(), "sbx123", {"secret-token"});
  }

  ConnectCall Call(const std::string& procedure = "/pkg.Service/Stream") {
    ConnectCall call;
    call.procedure = procedure;
    call.headers.emplace_back("X-Access-Token", "secret-token");
    call.server_timeout = std::chrono::milliseconds(1500);
    call.http_timeout = std::chrono::milliseconds(8000);
    return call;
  }

  // Reads the whole stream, returning the messages.
  std::vector<json> ReadAll() {
    auto reader = Client().OpenServerStream(Call(), json{{"a", 1}});
    std::vector<json> messages;
    while (auto message = reader->Next()) messages.push_back(*message);
    // A finished reader stays finished.
    EXPECT_FALSE(reader->Next());
    return messages;
  }

  e2b_test::TestServer server_;
  std::shared_ptr<HttpTransport> transport_;
};

TEST_F(ConnectClientTest, StreamSendsOneEnvelopeWithConnectHeaders) {
  ServeStream(Frame({{"n", 1}}) + EndFrame());
  ReadAll();
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/pkg.Service/Stream");
  EXPECT_EQ(request.headers.find("Content-Type")->second, kStreamType);
  EXPECT_EQ(request.headers.find("Connect-Protocol-Version")->second, "1");
  EXPECT_EQ(request.headers.find("Connect-Timeout-Ms")->second, "1500");
  EXPECT_EQ(request.headers.find("X-Access-Token")->second, "secret-token");
  EXPECT_EQ(request.headers.count("Connect-Accept-Encoding"), 0u);
  EnvelopeDecoder decoder;
  decoder.Feed(request.body);
  auto envelope = decoder.Next();
  ASSERT_TRUE(envelope);
  EXPECT_EQ(envelope->flags, 0);
  EXPECT_EQ(json::parse(envelope->payload), (json{{"a", 1}}));
  EXPECT_FALSE(decoder.HasPartial());
}

TEST_F(ConnectClientTest, StreamYieldsMessagesInOrderThenEnds) {
  ServeStream(Frame({{"n", 1}}) + Frame({{"n", 2}}) + Frame(json::object()) +
              EndFrame());
  const auto messages = ReadAll();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0]["n"], 1);
  EXPECT_EQ(messages[1]["n"], 2);
  EXPECT_TRUE(messages[2].empty());
}

TEST_F(ConnectClientTest, EmptyEndOfStreamPayloadIsSuccess) {
  ServeStream(Frame({{"n", 1}}) + EncodeEnvelope(kEnvelopeEndStream, ""));
  EXPECT_EQ(ReadAll().size(), 1u);
}

TEST_F(ConnectClientTest, EndOfStreamWithTrailersOnlyIsSuccess) {
  ServeStream(EndFrame({{"metadata", {{"x-trailer", {"v"}}}}}));
  EXPECT_TRUE(ReadAll().empty());
}

struct EndErrorCase {
  const char* code;
  int status;
  bool timeout;
};

class ConnectEndErrorTest : public ConnectClientTest,
                            public ::testing::WithParamInterface<EndErrorCase> {
};

TEST_P(ConnectEndErrorTest, EndOfStreamErrorIsMapped) {
  const EndErrorCase c = GetParam();
  ServeStream(Frame({{"n", 1}}) +
              EndFrame({{"error", {{"code", c.code}, {"message", "boom"}}}}));
  auto reader = Client().OpenServerStream(Call(), json::object());
  ASSERT_TRUE(reader->Next());
  try {
    reader->Next();
    FAIL() << "no exception for " << c.code;
  } catch (const TimeoutError& e) {
    EXPECT_TRUE(c.timeout) << c.code;
    EXPECT_EQ(e.Message(), "boom");
  } catch (const Error& e) {
    EXPECT_FALSE(c.timeout) << c.code;
    EXPECT_EQ(e.StatusCode(), c.status) << c.code;
    EXPECT_EQ(e.Message(), "boom");
    // The Go SDK's process RPC mapping.
    const std::string code = c.code;
    EXPECT_EQ(dynamic_cast<const InvalidArgumentError*>(&e) != nullptr,
              code == "invalid_argument")
        << code;
    EXPECT_EQ(dynamic_cast<const AuthenticationError*>(&e) != nullptr,
              code == "unauthenticated" || code == "permission_denied")
        << code;
    EXPECT_EQ(dynamic_cast<const RateLimitError*>(&e), nullptr) << code;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Codes, ConnectEndErrorTest,
    ::testing::Values(EndErrorCase{"deadline_exceeded", 0, true},
                      EndErrorCase{"not_found", 404, false},
                      EndErrorCase{"unavailable", 503, false},
                      EndErrorCase{"unauthenticated", 401, false},
                      EndErrorCase{"invalid_argument", 400, false},
                      EndErrorCase{"permission_denied", 403, false},
                      EndErrorCase{"resource_exhausted", 429, false},
                      EndErrorCase{"canceled", 499, false},
                      EndErrorCase{"internal", 500, false},
                      EndErrorCase{"unimplemented", 501, false},
                      EndErrorCase{"no_such_code", 500, false}));

TEST_F(ConnectClientTest, ErrorsCarryTheAnswersRequestId) {
  server_.server().Post("/pkg.Service/Stream", [](const httplib::Request&,
                                                  httplib::Response& res) {
    res.set_header("X-Request-Id", "req-stream-1");
    res.set_content(
        EndFrame({{"error", {{"code", "internal"}, {"message", "x"}}}}),
        kStreamType);
  });
  server_.server().Post("/pkg.Service/Unary", [](const httplib::Request&,
                                                 httplib::Response& res) {
    res.status = 401;
    res.set_header("X-Request-Id", "req-unary-2 secret-token");
    res.set_content(R"({"code":"unauthenticated","message":"who"})",
                    "application/json");
  });
  server_.Start();
  try {
    auto reader = Client().OpenServerStream(Call(), json::object());
    reader->Next();
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 500);
    EXPECT_EQ(e.RequestID(), "req-stream-1");
  }
  try {
    Client().Unary(Call("/pkg.Service/Unary"), json::object());
    FAIL() << "no exception";
  } catch (const AuthenticationError& e) {
    EXPECT_EQ(e.StatusCode(), 401);
    EXPECT_EQ(e.Message(), "who");
    EXPECT_EQ(e.RequestID(), "req-unary-2 [REDACTED]");
  }
}

TEST_F(ConnectClientTest, EndOfStreamErrorWithoutMessageNamesTheCode) {
  ServeStream(EndFrame({{"error", {{"code", "not_found"}}}}));
  auto reader = Client().OpenServerStream(Call(), json::object());
  try {
    reader->Next();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 404);
    EXPECT_EQ(e.Message(), "not_found");
  }
}

// Every broken stream must surface as an e2b::Error with status 0, never
// as a clean end.
void ExpectBrokenStream(std::vector<json>* seen,
                        const std::function<std::vector<json>()>& read,
                        const std::string& needle) {
  try {
    *seen = read();
    ADD_FAILURE() << "broken stream read as success";
  } catch (const TimeoutError& e) {
    ADD_FAILURE() << "unexpected timeout: " << e.what();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 0) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("pkg.Service/Stream"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ConnectClientTest, StreamWithoutEndOfStreamIsAnError) {
  ServeStream(Frame({{"n", 1}}));
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "without its end-of-stream");
}

TEST_F(ConnectClientTest, EmptyStreamIsAnError) {
  ServeStream("");
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "without its end-of-stream");
}

TEST_F(ConnectClientTest, PartialEnvelopeIsAnError) {
  const std::string end = EndFrame();
  ServeStream(Frame({{"n", 1}}) + end.substr(0, end.size() - 1));
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "truncated");
}

TEST_F(ConnectClientTest, PartialHeaderIsAnError) {
  ServeStream(Frame({{"n", 1}}) + std::string("\x02\x00", 2));
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "truncated");
}

TEST_F(ConnectClientTest, OversizedEnvelopeIsAnError) {
  // Declares 2 GiB; the reader must refuse at once instead of waiting for
  // (or allocating) the payload.
  ServeStream(std::string("\x00\x80\x00\x00\x00", 5) + "xx");
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "exceeds the limit");
}

TEST_F(ConnectClientTest, CompressedEnvelopeIsAnError) {
  ServeStream(EncodeEnvelope(kEnvelopeCompressed, "xx") + EndFrame());
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "compress");
}

TEST_F(ConnectClientTest, MalformedMessageJsonIsAnError) {
  ServeStream(EncodeEnvelope(0, "{\"event\":") + EndFrame());
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "not a JSON object");
}

TEST_F(ConnectClientTest, NonObjectMessageIsAnError) {
  ServeStream(EncodeEnvelope(0, "[1,2]") + EndFrame());
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "not a JSON object");
}

TEST_F(ConnectClientTest, MalformedEndOfStreamIsAnError) {
  ServeStream(EncodeEnvelope(kEnvelopeEndStream, "nope"));
  std::vector<json> seen;
  ExpectBrokenStream(
      &seen, [this] { return ReadAll(); }, "end-of-stream message");
}

TEST_F(ConnectClientTest, DroppedConnectionMidStreamIsAnError) {
  const std::string first = Frame({{"n", 1}});
  server_.server().Post("/pkg.Service/Stream", [first](const httplib::Request&,
                                                       httplib::Response& res) {
    res.set_chunked_content_provider(
        kStreamType, [first](std::size_t offset, httplib::DataSink& sink) {
          if (offset == 0) {
            sink.write(first.data(), first.size());
            return true;
          }
          return false;  // drop the connection, no final chunk
        });
  });
  server_.Start();
  auto reader = Client().OpenServerStream(Call(), json::object());
  ASSERT_TRUE(reader->Next());
  EXPECT_THROW(reader->Next(), Error);
}

struct HttpErrorCase {
  int status;
  const char* body;
  int want_status;
  const char* want_message;
};

class ConnectHttpErrorTest
    : public ConnectClientTest,
      public ::testing::WithParamInterface<HttpErrorCase> {};

TEST_P(ConnectHttpErrorTest, NonOkAnswerIsMapped) {
  const HttpErrorCase c = GetParam();
  ServeStream(c.body, c.status, "application/json");
  try {
    Client().OpenServerStream(Call(), json::object());
    FAIL() << "no exception for HTTP " << c.status;
  } catch (const SandboxNotFoundError&) {
    FAIL() << "HTTP " << c.status << " is not an edge 502";
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), c.want_status) << c.status << " " << c.body;
    EXPECT_EQ(e.Message(), c.want_message) << c.status << " " << c.body;
    EXPECT_EQ(std::string(e.what()).find("secret-token"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, ConnectHttpErrorTest,
    ::testing::Values(
        HttpErrorCase{401, R"({"code":401,"message":"unauthorized access"})",
                      401, "unauthorized access"},
        HttpErrorCase{
            401,
            R"({"code":"unauthenticated","message":"invalid username: 'x'"})",
            401, "invalid username: 'x'"},
        HttpErrorCase{401, "", 401, "Unauthorized"},
        HttpErrorCase{404, "404 page not found\n", 404, "404 page not found"},
        HttpErrorCase{404, R"({"code":"not_found","message":"no pid"})", 404,
                      "no pid"},
        HttpErrorCase{503, R"({"code":"unavailable","message":"later"})", 503,
                      "later"},
        HttpErrorCase{503, "", 503, "Service Unavailable"},
        HttpErrorCase{502, "<html>Bad Gateway</html>", 502,
                      "<html>Bad Gateway</html>"},
        HttpErrorCase{400, R"({"code":"invalid_argument"})", 400,
                      "invalid_argument"},
        HttpErrorCase{415, "\x01\x02 binary \x7f", 415, "binary"}));

TEST_F(ConnectClientTest, NonConnectSuccessAnswerIsAnError) {
  ServeStream("<html>captive portal</html>", 200, "text/html");
  try {
    Client().OpenServerStream(Call(), json::object());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(std::string(e.what()).find("text/html"), std::string::npos);
  }
}

TEST_F(ConnectClientTest, ContentTypeMatchIgnoresCaseAndParameters) {
  ServeStream(Frame({{"n", 1}}) + EndFrame(), 200,
              "Application/Connect+JSON; charset=utf-8");
  EXPECT_EQ(ReadAll().size(), 1u);
}

TEST_F(ConnectClientTest, AccessTokenIsRedactedFromServerMessages) {
  ServeStream(EndFrame({{"error",
                         {{"code", "unauthenticated"},
                          {"message", "bad token secret-token given"}}}}));
  auto reader = Client().OpenServerStream(Call(), json::object());
  try {
    reader->Next();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("secret-token"), std::string::npos)
        << e.what();
    EXPECT_NE(e.Message().find("bad token"), std::string::npos);
  }
}

TEST_F(ConnectClientTest, HttpTimeoutCodeIsATimeout) {
  ServeStream(R"({"code":"deadline_exceeded","message":"too slow"})", 504,
              "application/json");
  EXPECT_THROW(Client().OpenServerStream(Call(), json::object()), TimeoutError);
}

TEST_F(ConnectClientTest, EdgeSandboxNotFoundIsTyped) {
  ServeStream(
      R"({"sandboxId":"iabc","message":"The sandbox was not found","code":502})",
      502, "application/json");
  try {
    Client().OpenServerStream(Call(), json::object());
    FAIL();
  } catch (const SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "iabc");
    EXPECT_EQ(e.StatusCode(), 404);
  }
}

TEST_F(ConnectClientTest, EdgeSandboxNotFoundWithoutIdUsesOurs) {
  ServeStream(R"({"sandboxId":"","message":"gone","code":502})", 502,
              "application/json");
  try {
    Client().OpenServerStream(Call(), json::object());
    FAIL();
  } catch (const SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "sbx123");
  }
}

TEST_F(ConnectClientTest, UnarySendsJsonAndParsesAnswer) {
  server_.server().Post("/pkg.Service/Unary", [](const httplib::Request& req,
                                                 httplib::Response& res) {
    auto in = json::parse(req.body);
    res.set_content(json{{"echo", in["x"]}}.dump(), "application/json");
  });
  server_.Start();
  ConnectCall call = Call("/pkg.Service/Unary");
  call.server_timeout.reset();
  const json answer = Client().Unary(call, json{{"x", "hi"}});
  EXPECT_EQ(answer, (json{{"echo", "hi"}}));
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.find("Content-Type")->second,
            "application/json");
  EXPECT_EQ(requests[0].headers.find("Connect-Protocol-Version")->second, "1");
  EXPECT_EQ(requests[0].headers.count("Connect-Timeout-Ms"), 0u);
  EXPECT_EQ(requests[0].body, R"({"x":"hi"})");
}

TEST_F(ConnectClientTest, UnaryEmptyAnswerIsEmptyObject) {
  server_.server().Post("/pkg.Service/Unary",
                        [](const httplib::Request&, httplib::Response& res) {
                          res.set_content("", "application/json");
                        });
  server_.Start();
  EXPECT_EQ(Client().Unary(Call("/pkg.Service/Unary"), json::object()),
            json::object());
}

TEST_F(ConnectClientTest, UnaryErrorsAreMapped) {
  server_.server().Post("/pkg.Service/Unary", [](const httplib::Request&,
                                                 httplib::Response& res) {
    res.status = 404;
    res.set_content(
        R"({"code":"not_found","message":"process with pid 412 not found"})",
        "application/json");
  });
  server_.server().Post("/pkg.Service/Bad",
                        [](const httplib::Request&, httplib::Response& res) {
                          res.set_content("[]", "application/json");
                        });
  server_.Start();
  try {
    Client().Unary(Call("/pkg.Service/Unary"), json::object());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 404);
    EXPECT_EQ(e.Message(), "process with pid 412 not found");
  }
  EXPECT_THROW(Client().Unary(Call("/pkg.Service/Bad"), json::object()), Error);
}

TEST_F(ConnectClientTest, InvalidUtf8RequestIsRejectedLocally) {
  server_.Start();
  EXPECT_THROW(Client().OpenServerStream(Call(), json{{"cmd", "\xff\xfe"}}),
               Error);
  EXPECT_TRUE(server_.requests().empty());
}

TEST(ConnectCodeTest, HttpStatusOfEveryCode) {
  EXPECT_EQ(ConnectCodeHttpStatus("canceled"), 499);
  EXPECT_EQ(ConnectCodeHttpStatus("unknown"), 500);
  EXPECT_EQ(ConnectCodeHttpStatus("invalid_argument"), 400);
  EXPECT_EQ(ConnectCodeHttpStatus("deadline_exceeded"), 504);
  EXPECT_EQ(ConnectCodeHttpStatus("not_found"), 404);
  EXPECT_EQ(ConnectCodeHttpStatus("already_exists"), 409);
  EXPECT_EQ(ConnectCodeHttpStatus("permission_denied"), 403);
  EXPECT_EQ(ConnectCodeHttpStatus("resource_exhausted"), 429);
  EXPECT_EQ(ConnectCodeHttpStatus("failed_precondition"), 400);
  EXPECT_EQ(ConnectCodeHttpStatus("aborted"), 409);
  EXPECT_EQ(ConnectCodeHttpStatus("out_of_range"), 400);
  EXPECT_EQ(ConnectCodeHttpStatus("unimplemented"), 501);
  EXPECT_EQ(ConnectCodeHttpStatus("internal"), 500);
  EXPECT_EQ(ConnectCodeHttpStatus("unavailable"), 503);
  EXPECT_EQ(ConnectCodeHttpStatus("data_loss"), 500);
  EXPECT_EQ(ConnectCodeHttpStatus("unauthenticated"), 401);
  EXPECT_EQ(ConnectCodeHttpStatus("NOT_FOUND"), 500);
}

TEST(ConnectCodeTest, CodeDerivedFromHttpStatus) {
  EXPECT_EQ(ConnectCodeForHttpStatus(400), "internal");
  EXPECT_EQ(ConnectCodeForHttpStatus(401), "unauthenticated");
  EXPECT_EQ(ConnectCodeForHttpStatus(403), "permission_denied");
  EXPECT_EQ(ConnectCodeForHttpStatus(404), "unimplemented");
  EXPECT_EQ(ConnectCodeForHttpStatus(429), "unavailable");
  EXPECT_EQ(ConnectCodeForHttpStatus(502), "unavailable");
  EXPECT_EQ(ConnectCodeForHttpStatus(503), "unavailable");
  EXPECT_EQ(ConnectCodeForHttpStatus(504), "unavailable");
  EXPECT_EQ(ConnectCodeForHttpStatus(418), "unknown");
}

}  // namespace
}  // namespace e2b::internal
