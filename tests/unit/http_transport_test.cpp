#include "internal/http_transport.hpp"

#include "support/background_listen.hpp"
#include "support/test_server.hpp"

#include <e2b/errors.hpp>
#include <e2b/http_client.hpp>
#include <e2b/version.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace e2b::internal {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A byte pattern whose every position is predictable, so a body can be
// checked without keeping a copy of it.
char PatternByte(std::uint64_t i) {
  return static_cast<char>((i * 131 + i / 251) & 0xff);
}

std::string Pattern(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = PatternByte(i);
  return out;
}

std::string HeaderOf(const e2b_test::RecordedRequest& request,
                     const std::string& name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string("<absent>") : it->second;
}

class HttpTransportTest : public ::testing::Test {
 protected:
  // A transport that keeps one idle handle: calls in a row share it.
  static std::shared_ptr<HttpTransport> SingleHandleTransport() {
    HTTPClientOptions options;
    options.MaxIdleConnections = 1;
    return MakeCurlTransport(options);
  }

  void TearDown() override { release_.store(true); }

  HttpRequest Request(const std::string& method, const std::string& path) {
    HttpRequest request;
    request.method = method;
    request.url = server_.url() + path;
    return request;
  }

  // A handler that never answers until the test ends (bounded, so the
  // server can always shut down).
  void RegisterStall(const std::string& path) {
    server_.server().Get(
        path, [this](const httplib::Request&, httplib::Response& response) {
          auto until = Clock::now() + std::chrono::seconds(8);
          while (!release_.load() && Clock::now() < until) {
            std::this_thread::sleep_for(milliseconds(10));
          }
          response.set_content("late", "text/plain");
        });
  }

  std::atomic<bool> release_{false};
  e2b_test::TestServer server_;
  std::shared_ptr<HttpTransport> transport_ = MakeCurlTransport({});
};

TEST_F(HttpTransportTest, SendsExactRequestOnTheWire) {
  server_.server().Post("/sandboxes/a/b", [](const httplib::Request&,
                                             httplib::Response& response) {
    response.status = 201;
    response.set_header("X-Reply", "yes");
    response.set_content(R"({"ok":true})", "application/json");
  });
  server_.Start();

  HttpRequest request = Request("POST", "/sandboxes/a%2Fb?x=a%2Fb%20c&y=");
  request.headers = {{"Content-Type", "application/json"},
                     {"X-API-Key", "key-123"},
                     {"X-Empty", ""}};
  request.body = R"({"templateID":"base"})";
  HttpResponse response = transport_->Send(request);

  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, R"({"ok":true})");
  EXPECT_EQ(response.Header("x-reply"), "yes");
  EXPECT_EQ(response.Header("CONTENT-TYPE"), "application/json");

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& seen = requests[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.raw_path, "/sandboxes/a%2Fb");
  EXPECT_EQ(seen.path, "/sandboxes/a/b");
  EXPECT_EQ(seen.raw_query, "x=a%2Fb%20c&y=");
  EXPECT_EQ(seen.body, R"({"templateID":"base"})");
  EXPECT_EQ(HeaderOf(seen, "Content-Type"), "application/json");
  EXPECT_EQ(HeaderOf(seen, "X-API-Key"), "key-123");
  EXPECT_EQ(HeaderOf(seen, "Content-Length"),
            std::to_string(request.body.size()));
  EXPECT_EQ(HeaderOf(seen, "User-Agent"), UserAgent());
  EXPECT_EQ(HeaderOf(seen, "Accept-Encoding"), "<absent>");
  EXPECT_EQ(HeaderOf(seen, "Expect"), "<absent>");
  EXPECT_EQ(HeaderOf(seen, "Transfer-Encoding"), "<absent>");
}

TEST_F(HttpTransportTest, GetAndDeleteSendNoBody) {
  server_.server().Get(
      "/a", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("got", "text/plain");
      });
  server_.server().Delete(
      "/a", [](const httplib::Request&, httplib::Response& response) {
        response.status = 204;
      });
  server_.Start();

  EXPECT_EQ(transport_->Send(Request("GET", "/a")).body, "got");
  HttpResponse deleted = transport_->Send(Request("DELETE", "/a"));
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(deleted.body, "");

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].method, "DELETE");
  for (const auto& seen : requests) {
    EXPECT_EQ(HeaderOf(seen, "Content-Length"), "<absent>");
    EXPECT_EQ(HeaderOf(seen, "Transfer-Encoding"), "<absent>");
    EXPECT_EQ(seen.body, "");
  }
}

TEST_F(HttpTransportTest, ReusedHandleCarriesNothingOver) {
  // One pooled handle serves every call in turn: whatever a call sets (a
  // verb, an upload, a header list, a user agent, a size limit, a timeout)
  // must not leak into the next.
  auto record = [](const httplib::Request&, httplib::Response& response) {
    response.set_content("body", "text/plain");
  };
  server_.server().Get("/r", record);
  server_.server().Post("/r", record);
  server_.server().Put("/r", record);
  server_.server().Delete("/r", record);
  server_.server().Patch("/r", record);
  server_.server().Options("/r", record);
  server_.Start();
  auto transport = SingleHandleTransport();

  HttpRequest post = Request("POST", "/r");
  post.headers = {{"X-One", "1"}, {"User-Agent", "custom/1"}};
  post.body = "abc";
  post.timeout = milliseconds(5000);
  EXPECT_EQ(transport->Send(post).body, "body");
  HttpResponse head = transport->Send(Request("HEAD", "/r"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(transport->Send(Request("GET", "/r")).body, "body");
  std::istringstream stream("streamed");
  HttpRequest put = Request("PUT", "/r");
  put.body_stream = &stream;
  EXPECT_EQ(transport->Send(put).body, "body");
  EXPECT_EQ(transport->Send(Request("DELETE", "/r")).body, "body");
  EXPECT_EQ(transport->Send(Request("OPTIONS", "/r")).body, "body");
  HttpRequest patch = Request("PATCH", "/r");
  patch.body = "p";
  EXPECT_EQ(transport->Send(patch).body, "body");
  EXPECT_EQ(transport->Send(Request("GET", "/r")).body, "body");

  // Sequential calls on a handle that is kept: one connection throughout.
  EXPECT_EQ(server_.connections(), 1u);
  // A failed call resets the handle; the next one is still right.
  HttpRequest small = Request("GET", "/r");
  small.max_response_bytes = 2;
  EXPECT_THROW(transport->Send(small), Error);
  HttpRequest last = Request("GET", "/r");
  EXPECT_EQ(transport->Send(last).body, "body");

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 10u);
  struct Expected {
    const char* method;
    const char* body;
    const char* content_length;
    const char* transfer_encoding;
  };
  const Expected expected[] = {{"POST", "abc", "3", "<absent>"},
                               {"HEAD", "", "<absent>", "<absent>"},
                               {"GET", "", "<absent>", "<absent>"},
                               {"PUT", "streamed", "<absent>", "chunked"},
                               {"DELETE", "", "<absent>", "<absent>"},
                               {"OPTIONS", "", "<absent>", "<absent>"},
                               {"PATCH", "p", "1", "<absent>"},
                               {"GET", "", "<absent>", "<absent>"},
                               {"GET", "", "<absent>", "<absent>"},
                               {"GET", "", "<absent>", "<absent>"}};
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const auto& seen = requests[i];
    EXPECT_EQ(seen.method, expected[i].method);
    EXPECT_EQ(seen.body, expected[i].body);
    EXPECT_EQ(HeaderOf(seen, "Content-Length"), expected[i].content_length);
    EXPECT_EQ(HeaderOf(seen, "Transfer-Encoding"),
              expected[i].transfer_encoding);
    EXPECT_EQ(HeaderOf(seen, "X-One"), i == 0 ? "1" : "<absent>");
    EXPECT_EQ(HeaderOf(seen, "User-Agent"), i == 0 ? "custom/1" : UserAgent());
    EXPECT_EQ(HeaderOf(seen, "Expect"), "<absent>");
  }
}

TEST_F(HttpTransportTest, HeaderLinesFollowEveryRequestOnAReusedHandle) {
  // A pooled handle keeps the header lines of its last call and reuses
  // them when the next call sends the same headers: any difference (a
  // value, a header more or less, an empty value, a body) must be sent as
  // the new call says, also after a failed call reset the handle.
  auto record = [](const httplib::Request&, httplib::Response& response) {
    response.set_content("body", "text/plain");
  };
  server_.server().Get("/h", record);
  server_.server().Post("/h", record);
  server_.Start();
  auto transport = SingleHandleTransport();

  const HttpHeaders base = {{"X-API-Key", "key-1"}, {"Accept", "text/plain"}};
  struct Step {
    const char* method;
    HttpHeaders headers;
    std::size_t max_response_bytes;  // 2 makes the call fail
  };
  const std::size_t kAny = HttpRequest{}.max_response_bytes;
  const Step steps[] = {
      {"GET", base, kAny},
      {"GET", base, kAny},
      {"GET", {{"X-API-Key", "key-2"}, {"Accept", "text/plain"}}, kAny},
      {"GET", {{"X-API-Key", "key-2"}}, kAny},
      {"GET", {{"X-API-Key", "key-2"}, {"X-Empty", ""}}, kAny},
      {"POST", {{"X-API-Key", "key-2"}, {"X-Empty", ""}}, kAny},
      {"GET", {{"X-API-Key", "key-2"}, {"X-Empty", ""}}, kAny},
      {"GET", base, 2},
      {"GET", base, kAny},
      {"GET", {}, kAny},
  };
  for (const Step& step : steps) {
    HttpRequest request = Request(step.method, "/h");
    request.headers = step.headers;
    request.max_response_bytes = step.max_response_bytes;
    if (step.max_response_bytes == 2) {
      EXPECT_THROW(transport->Send(request), Error);
    } else {
      EXPECT_EQ(transport->Send(request).body, "body");
    }
  }

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), std::size(steps));
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const auto& seen = requests[i];
    const HttpHeaders& sent = steps[i].headers;
    EXPECT_EQ(seen.method, steps[i].method);
    // (The test server drops headers with an empty value, so X-Empty only
    // changes the header set here.)
    for (const char* name : {"X-API-Key", "Accept"}) {
      // curl's own Accept when the request names none.
      std::string expected = std::string(name) == "Accept" ? "*/*" : "<absent>";
      for (const auto& [key, value] : sent) {
        if (key == name) expected = value;
      }
      EXPECT_EQ(HeaderOf(seen, name), expected) << name;
    }
    EXPECT_EQ(HeaderOf(seen, "User-Agent"), UserAgent());
    EXPECT_EQ(HeaderOf(seen, "Expect"), "<absent>");
    EXPECT_EQ(HeaderOf(seen, "Content-Length"),
              std::string(steps[i].method) == "POST" ? "0" : "<absent>");
  }
  // The failed call's handle was reset, so it opened a second connection.
  EXPECT_EQ(server_.connections(), 2u);
}

TEST_F(HttpTransportTest, PostWithoutBodySendsZeroContentLength) {
  server_.server().Post(
      "/pause", [](const httplib::Request&, httplib::Response& response) {
        response.status = 204;
      });
  server_.Start();
  EXPECT_EQ(transport_->Send(Request("POST", "/pause")).status, 204);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(HeaderOf(requests[0], "Content-Length"), "0");
  EXPECT_EQ(HeaderOf(requests[0], "Content-Type"), "<absent>");
}

TEST_F(HttpTransportTest, StatusesAreDataNotErrors) {
  server_.server().Get(
      "/missing", [](const httplib::Request&, httplib::Response& response) {
        response.status = 404;
        response.set_content(R"({"message":"nope"})", "application/json");
      });
  server_.server().Get(
      "/broken", [](const httplib::Request&, httplib::Response& response) {
        response.status = 503;
      });
  server_.server().Get(
      "/moved", [](const httplib::Request&, httplib::Response& response) {
        response.status = 302;
        response.set_header("Location", "/missing");
      });
  server_.Start();

  HttpResponse missing = transport_->Send(Request("GET", "/missing"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"message":"nope"})");
  EXPECT_EQ(transport_->Send(Request("GET", "/broken")).status, 503);
  // Redirects are not followed: the caller sees the 302 itself.
  HttpResponse moved = transport_->Send(Request("GET", "/moved"));
  EXPECT_EQ(moved.status, 302);
  EXPECT_EQ(moved.Header("location"), "/missing");
  EXPECT_EQ(server_.requests().size(), 3u);
}

TEST_F(HttpTransportTest, ResponseHeadersKeepNamesAndRepeats) {
  server_.server().Get(
      "/h", [](const httplib::Request&, httplib::Response& response) {
        response.set_header("X-Next-Token", "abc");
        response.set_header("Set-Cookie", "a=1");
        response.set_header("Set-Cookie", "b=2");
      });
  server_.Start();
  HttpResponse response = transport_->Send(Request("GET", "/h"));
  EXPECT_EQ(FindHeader(response.headers, "x-next-token"), "abc");
  int cookies = 0;
  bool exact_name = false;
  for (const auto& [name, value] : response.headers) {
    if (name == "Set-Cookie") ++cookies;
    if (name == "X-Next-Token") exact_name = true;
  }
  EXPECT_EQ(cookies, 2);
  EXPECT_TRUE(exact_name);
  EXPECT_EQ(FindHeader(response.headers, "X-Absent"), std::nullopt);
}

TEST_F(HttpTransportTest, RequestUserAgentWins) {
  server_.server().Get("/ua",
                       [](const httplib::Request&, httplib::Response&) {});
  server_.Start();
  HttpRequest request = Request("GET", "/ua");
  request.headers = {{"user-agent", "custom/1"}};
  transport_->Send(request);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.count("User-Agent"), 1u);
  EXPECT_EQ(HeaderOf(requests[0], "User-Agent"), "custom/1");
}

TEST(UserAgentTest, NamesLibraryAndVersion) {
  EXPECT_EQ(UserAgent(), std::string("e2b-cpp/") + E2B_VERSION_STRING);
  EXPECT_EQ(UserAgent(), std::string("e2b-cpp/") + e2b::Version());
}

TEST_F(HttpTransportTest, ThousandSequentialCallsShareOneConnection) {
  server_.server().Get(
      "/ping", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("pong", "text/plain");
      });
  server_.Start();
  for (int i = 0; i < 1000; ++i) {
    HttpResponse response = transport_->Send(Request("GET", "/ping"));
    ASSERT_EQ(response.status, 200) << "call " << i;
    ASSERT_EQ(response.body, "pong");
  }
  EXPECT_EQ(server_.requests().size(), 1000u);
  EXPECT_EQ(server_.connections(), 1u);
}

TEST_F(HttpTransportTest, ManyThreadsShareOneTransport) {
  server_.server().Post("/echo", [](const httplib::Request& request,
                                    httplib::Response& response) {
    response.set_content(request.body, "text/plain");
  });
  server_.Start();
  constexpr int kThreads = 32;
  constexpr int kCalls = 50;
  std::atomic<int> ok{0};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        HttpRequest request = Request("POST", "/echo");
        request.body = std::to_string(t) + ":" + std::to_string(i);
        try {
          HttpResponse response = transport_->Send(request);
          if (response.status == 200 && response.body == request.body) ++ok;
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(errors_mutex);
          errors.push_back(e.what());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kCalls);
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i) {
    ADD_FAILURE() << errors[i];
  }
  // Pooled: far fewer connections than calls.
  EXPECT_LE(server_.connections(), static_cast<std::size_t>(kThreads) * 2);
}

// Runs `call` from kThreads threads kCalls times each; returns the errors.
std::vector<std::string> RunConcurrently(int threads, int calls,
                                         const std::function<void(int)>& call) {
  std::mutex mutex;
  std::vector<std::string> errors;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < calls; ++i) {
        try {
          call(t);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mutex);
          errors.push_back(e.what());
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  return errors;
}

TEST_F(HttpTransportTest, ConcurrentCallsKeepTheirConnections) {
  server_.server().Get(
      "/ping", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("pong", "text/plain");
      });
  server_.Start();
  constexpr int kThreads = 32;
  HTTPClientOptions options;
  options.MaxIdleConnections = kThreads;
  auto transport = MakeCurlTransport(options);
  std::atomic<int> ok{0};
  auto errors = RunConcurrently(kThreads, 50, [&](int) {
    if (transport->Send(Request("GET", "/ping")).body == "pong") ++ok;
  });
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i) {
    ADD_FAILURE() << errors[i];
  }
  EXPECT_EQ(ok.load(), kThreads * 50);
  // Every thread holds at most one connection at a time, and the pool keeps
  // as many idle: a connection is only replaced, never churned.
  EXPECT_LE(server_.connections(), options.MaxIdleConnections + 2);
}

TEST_F(HttpTransportTest, StreamsReadToTheirEndKeepTheirConnections) {
  // Like a Connect stream: the reader stops at the last message it expects
  // and never asks for the end of the body, whose terminating chunk the
  // server sends separately.
  const std::string kMessage = "last message";
  server_.server().Post("/stream", [&](const httplib::Request&,
                                       httplib::Response& response) {
    response.set_chunked_content_provider(
        "application/connect+json", [&](std::size_t, httplib::DataSink& sink) {
          sink.write(kMessage.data(), kMessage.size());
          sink.done();
          return true;
        });
  });
  server_.Start();
  constexpr int kThreads = 32;
  HTTPClientOptions options;
  options.MaxIdleConnections = kThreads;
  auto transport = MakeCurlTransport(options);
  std::atomic<int> ok{0};
  auto errors = RunConcurrently(kThreads, 50, [&](int) {
    auto reader = transport->Open(Request("POST", "/stream"));
    std::string got(kMessage.size(), '\0');
    std::size_t have = 0;
    while (have < got.size()) {
      std::size_t n = reader->Read(&got[have], got.size() - have);
      if (n == 0) break;
      have += n;
    }
    if (got == kMessage) ++ok;
  });
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i) {
    ADD_FAILURE() << errors[i];
  }
  EXPECT_EQ(ok.load(), kThreads * 50);
  EXPECT_LE(server_.connections(), options.MaxIdleConnections + 2);
}

TEST_F(HttpTransportTest, DroppingAStalledStreamReturnsPromptly) {
  server_.server().Get(
      "/stalled", [this](const httplib::Request&, httplib::Response& response) {
        response.set_chunked_content_provider(
            "text/plain", [this](std::size_t offset, httplib::DataSink& sink) {
              if (offset == 0) return sink.write("x", 1);
              auto until = Clock::now() + std::chrono::seconds(8);
              while (!release_.load() && Clock::now() < until) {
                std::this_thread::sleep_for(milliseconds(10));
              }
              sink.done();
              return true;
            });
      });
  server_.Start();
  auto reader = transport_->Open(Request("GET", "/stalled"));
  char byte;
  ASSERT_EQ(reader->Read(&byte, 1), 1u);
  // Waiting for the body's end must stay a short grace, not the 8 s the
  // server would take.
  auto started = Clock::now();
  reader.reset();
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(4));
}

TEST_F(HttpTransportTest, StreamsLargeBodyInSmallPieces) {
  constexpr std::uint64_t kSize = std::uint64_t{64} << 20;
  server_.server().Get(
      "/big", [](const httplib::Request&, httplib::Response& response) {
        response.set_chunked_content_provider(
            "application/octet-stream",
            [](std::size_t offset, httplib::DataSink& sink) {
              if (offset >= kSize) {
                sink.done();
                return true;
              }
              std::string chunk(
                  std::min<std::uint64_t>(64 * 1024, kSize - offset), '\0');
              for (std::size_t i = 0; i < chunk.size(); ++i) {
                chunk[i] = PatternByte(offset + i);
              }
              return sink.write(chunk.data(), chunk.size());
            });
      });
  server_.Start();

  auto reader = transport_->Open(Request("GET", "/big"));
  EXPECT_EQ(reader->Status(), 200);
  EXPECT_EQ(FindHeader(reader->Headers(), "content-type"),
            "application/octet-stream");
  std::uint64_t total = 0;
  std::uint64_t mismatches = 0;
  char buffer[4096];
  while (std::size_t n = reader->Read(buffer, sizeof buffer)) {
    for (std::size_t i = 0; i < n; ++i) {
      if (buffer[i] != PatternByte(total + i)) ++mismatches;
    }
    total += n;
  }
  EXPECT_EQ(total, kSize);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(reader->Read(buffer, sizeof buffer), 0u);
}

TEST_F(HttpTransportTest, DestroyingReaderMidBodyAbortsCleanly) {
  std::atomic<bool> provider_stopped{false};
  server_.server().Get(
      "/endless", [&](const httplib::Request&, httplib::Response& response) {
        response.set_chunked_content_provider(
            "application/octet-stream",
            [&](std::size_t offset, httplib::DataSink& sink) {
              // Far more than anyone reads; stops when the client goes away.
              if (offset >= (std::size_t{1} << 30)) {
                sink.done();
                return true;
              }
              std::string chunk(64 * 1024, 'x');
              return sink.write(chunk.data(), chunk.size());
            },
            [&](bool) { provider_stopped = true; });
      });
  server_.server().Get(
      "/after", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("still fine", "text/plain");
      });
  server_.Start();

  {
    auto reader = transport_->Open(Request("GET", "/endless"));
    char buffer[8192];
    std::size_t total = 0;
    while (total < (1u << 20)) {
      std::size_t n = reader->Read(buffer, sizeof buffer);
      ASSERT_GT(n, 0u);
      total += n;
    }
  }
  EXPECT_EQ(transport_->Send(Request("GET", "/after")).body, "still fine");
  // The server notices the closed connection instead of sending 1 GiB.
  auto until = Clock::now() + std::chrono::seconds(5);
  while (!provider_stopped && Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(provider_stopped.load());
}

TEST_F(HttpTransportTest, OpenDeliversStatusAndSmallBody) {
  server_.server().Get(
      "/small", [](const httplib::Request&, httplib::Response& response) {
        response.status = 404;
        response.set_content("not here", "text/plain");
      });
  server_.Start();
  auto reader = transport_->Open(Request("GET", "/small"));
  EXPECT_EQ(reader->Status(), 404);
  EXPECT_EQ(reader->ReadAll(1024), "not here");
}

TEST_F(HttpTransportTest, ReadAllEnforcesLimit) {
  server_.server().Get(
      "/kb", [](const httplib::Request&, httplib::Response& response) {
        response.set_content(std::string(100000, 'k'), "text/plain");
      });
  server_.Start();
  auto reader = transport_->Open(Request("GET", "/kb"));
  EXPECT_THROW(reader->ReadAll(1000), e2b::Error);
  auto whole = transport_->Open(Request("GET", "/kb"));
  EXPECT_EQ(whole->ReadAll(100000).size(), 100000u);
}

TEST_F(HttpTransportTest, StreamsUploadChunkedWhenSizeUnknown) {
  server_.server().Post("/upload", [](const httplib::Request& request,
                                      httplib::Response& response) {
    response.set_content(std::to_string(request.body.size()), "text/plain");
  });
  server_.Start();
  const std::string payload = Pattern(5 << 20);
  std::istringstream stream(payload);
  HttpRequest request = Request("POST", "/upload");
  request.headers = {{"Content-Type", "application/octet-stream"}};
  request.body_stream = &stream;
  HttpResponse response = transport_->Send(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::to_string(payload.size()));
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(HeaderOf(requests[0], "Transfer-Encoding"), "chunked");
  EXPECT_EQ(HeaderOf(requests[0], "Expect"), "<absent>");
  EXPECT_TRUE(requests[0].body == payload) << "body differs";
}

TEST_F(HttpTransportTest, StreamsUploadWithContentLengthWhenSizeKnown) {
  server_.server().Put("/upload", [](const httplib::Request& request,
                                     httplib::Response& response) {
    response.set_content(std::to_string(request.body.size()), "text/plain");
  });
  server_.Start();
  const std::string payload = Pattern(3 << 20);
  std::istringstream stream(payload);
  HttpRequest request = Request("PUT", "/upload");
  request.body_stream = &stream;
  request.body_size = payload.size();
  HttpResponse response = transport_->Send(request);
  EXPECT_EQ(response.body, std::to_string(payload.size()));
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(HeaderOf(requests[0], "Content-Length"),
            std::to_string(payload.size()));
  EXPECT_EQ(HeaderOf(requests[0], "Transfer-Encoding"), "<absent>");
  EXPECT_TRUE(requests[0].body == payload) << "body differs";
}

TEST_F(HttpTransportTest, UploadStreamShorterThanDeclaredSizeFails) {
  server_.server().Post("/upload",
                        [](const httplib::Request&, httplib::Response&) {});
  server_.Start();
  std::istringstream stream("only ten b");
  HttpRequest request = Request("POST", "/upload");
  request.body_stream = &stream;
  request.body_size = 100;
  request.timeout = milliseconds(5000);
  try {
    transport_->Send(request);
    FAIL() << "no error";
  } catch (const e2b::TimeoutError& e) {
    FAIL() << "should fail at once, not time out: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(std::string(e.what()).find("10 of 100"), std::string::npos)
        << e.what();
  }
}

TEST_F(HttpTransportTest, MaxResponseBytesIsEnforced) {
  server_.server().Get(
      "/sized", [](const httplib::Request&, httplib::Response& response) {
        response.set_content(std::string(1 << 20, 's'), "text/plain");
      });
  server_.server().Get(
      "/chunked", [](const httplib::Request&, httplib::Response& response) {
        response.set_chunked_content_provider(
            "text/plain", [](std::size_t offset, httplib::DataSink& sink) {
              if (offset >= (std::size_t{256} << 20)) {
                sink.done();
                return true;
              }
              std::string chunk(16 * 1024, 'c');
              return sink.write(chunk.data(), chunk.size());
            });
      });
  server_.server().Get(
      "/exact", [](const httplib::Request&, httplib::Response& response) {
        response.set_content(std::string(1000, 'e'), "text/plain");
      });
  server_.Start();

  for (const char* path : {"/sized", "/chunked"}) {
    HttpRequest request = Request("GET", path);
    request.max_response_bytes = 1000;
    try {
      transport_->Send(request);
      ADD_FAILURE() << path << ": no error";
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 0);
      EXPECT_NE(std::string(e.what()).find("exceeds"), std::string::npos)
          << e.what();
    }
  }
  HttpRequest exact = Request("GET", "/exact");
  exact.max_response_bytes = 1000;
  EXPECT_EQ(transport_->Send(exact).body.size(), 1000u);
}

TEST_F(HttpTransportTest, StalledServerTimesOut) {
  RegisterStall("/stall");
  server_.Start();
  HttpRequest request = Request("GET", "/stall");
  request.timeout = milliseconds(300);
  auto start = Clock::now();
  EXPECT_THROW(transport_->Send(request), e2b::TimeoutError);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST_F(HttpTransportTest, ContextDeadlineTimesOutOpen) {
  RegisterStall("/stall");
  server_.Start();
  HttpRequest request = Request("GET", "/stall");
  request.context = Context::WithTimeout(milliseconds(300));
  auto start = Clock::now();
  EXPECT_THROW(transport_->Open(request), e2b::TimeoutError);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST_F(HttpTransportTest, StalledBodyTimesOutWhileReading) {
  server_.server().Get(
      "/half", [this](const httplib::Request&, httplib::Response& response) {
        response.set_chunked_content_provider(
            "text/plain", [this](std::size_t offset, httplib::DataSink& sink) {
              if (offset == 0) return sink.write("first", 5);
              auto until = Clock::now() + std::chrono::seconds(15);
              while (!release_.load() && Clock::now() < until) {
                std::this_thread::sleep_for(milliseconds(10));
              }
              sink.done();
              return true;
            });
      });
  server_.Start();
  HttpRequest request = Request("GET", "/half");
  // Long enough for the first bytes to arrive on a loaded machine under
  // TSan (500 ms was not), short against the 15 s stall.
  request.timeout = std::chrono::seconds(2);
  auto reader = transport_->Open(request);
  char buffer[16];
  EXPECT_EQ(reader->Read(buffer, sizeof buffer), 5u);
  auto start = Clock::now();
  EXPECT_THROW(reader->Read(buffer, sizeof buffer), e2b::TimeoutError);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
}

TEST_F(HttpTransportTest, CancelFromAnotherThreadAbortsStalledCall) {
  RegisterStall("/stall");
  server_.Start();
  HttpRequest request = Request("GET", "/stall");
  request.context = Context::WithCancel();
  std::thread canceller([context = request.context] {
    std::this_thread::sleep_for(milliseconds(200));
    context.Cancel();
  });
  auto start = Clock::now();
  try {
    transport_->Send(request);
    ADD_FAILURE() << "no error";
  } catch (const e2b::TimeoutError& e) {
    ADD_FAILURE() << "cancel reported as timeout: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(std::string(e.what()).find("cancel"), std::string::npos)
        << e.what();
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
  canceller.join();
}

TEST_F(HttpTransportTest, DoneContextFailsBeforeSending) {
  server_.server().Get("/x",
                       [](const httplib::Request&, httplib::Response&) {});
  server_.Start();
  HttpRequest cancelled = Request("GET", "/x");
  cancelled.context = Context::WithCancel();
  cancelled.context.Cancel();
  EXPECT_THROW(transport_->Send(cancelled), e2b::Error);
  HttpRequest expired = Request("GET", "/x");
  expired.context = Context::WithDeadline(Clock::now() - milliseconds(1));
  EXPECT_THROW(transport_->Send(expired), e2b::TimeoutError);
  EXPECT_TRUE(server_.requests().empty());
}

int UnusedPort() {
  // Bind an ephemeral port and close it: nothing listens there afterwards.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

TEST(HttpTransportErrorTest, ConnectionRefusedNamesHostButNotQuery) {
  auto transport = MakeCurlTransport({});
  HttpRequest request;
  request.method = "GET";
  request.url = "http://127.0.0.1:" + std::to_string(UnusedPort()) +
                "/files?path=%2Fx&signature=TOPSECRET";
  request.headers = {{"X-Access-Token", "TOKENVALUE"}};
  try {
    transport->Send(request);
    FAIL() << "no error";
  } catch (const e2b::Error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(what.find("GET http://127.0.0.1:"), std::string::npos) << what;
    EXPECT_NE(what.find("/files"), std::string::npos) << what;
    EXPECT_EQ(what.find("TOPSECRET"), std::string::npos) << what;
    EXPECT_EQ(what.find("signature"), std::string::npos) << what;
    EXPECT_EQ(what.find("TOKENVALUE"), std::string::npos) << what;
  }
}

TEST_F(HttpTransportTest, RejectsLineBreaksInHeaders) {
  server_.server().Get("/x",
                       [](const httplib::Request&, httplib::Response&) {});
  server_.Start();
  const HttpHeaders bad[] = {
      {{"X-Token", "secret\r\nX-Injected: 1"}},
      {{"X-Token", "secret\nmore"}},
      {{"X-Token", std::string("sec\0ret", 7)}},
      {{"X-Bad\r\nName", "v"}},
      {{"X-Bad: Name", "v"}},
      {{"", "v"}},
  };
  for (const auto& headers : bad) {
    HttpRequest request = Request("GET", "/x");
    request.headers = headers;
    try {
      transport_->Send(request);
      ADD_FAILURE() << "accepted header " << headers[0].first;
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 0);
      EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos)
          << e.what();
    }
  }
  HttpRequest bad_method = Request("GE T", "/x");
  EXPECT_THROW(transport_->Send(bad_method), e2b::Error);
  EXPECT_TRUE(server_.requests().empty());
}

TEST(HttpTransportErrorTest, RejectsNonHttpSchemes) {
  auto transport = MakeCurlTransport({});
  HttpRequest request;
  request.url = "file:///etc/passwd";
  EXPECT_THROW(transport->Send(request), e2b::Error);
}

TEST_F(HttpTransportTest, HttpClientExposesItsTransport) {
  server_.server().Get(
      "/c", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("via client", "text/plain");
      });
  server_.Start();
  HTTPClientOptions options;
  options.MaxIdleConnections = 2;
  HTTPClient client(options);
  EXPECT_EQ(client.Options().MaxIdleConnections, 2u);
  std::shared_ptr<HttpTransport> transport = TransportOf(client);
  ASSERT_NE(transport, nullptr);
  EXPECT_EQ(transport, TransportOf(client));
  EXPECT_EQ(transport->Send(Request("GET", "/c")).body, "via client");
}

TEST_F(HttpTransportTest, NoIdleConnectionsMeansNoReuse) {
  server_.server().Get("/n",
                       [](const httplib::Request&, httplib::Response&) {});
  server_.Start();
  HTTPClientOptions options;
  options.MaxIdleConnections = 0;
  auto transport = MakeCurlTransport(options);
  for (int i = 0; i < 3; ++i) transport->Send(Request("GET", "/n"));
  EXPECT_EQ(server_.connections(), 3u);
}

TEST_F(HttpTransportTest, BodyIsPulledOnlyAsItIsRead) {
  // Shared with the handler: the server thread keeps producing after the
  // test body returns (the fixture stops the server later), so a reference
  // to a local here was a stack-use-after-return (found by AddressSanitizer).
  auto produced = std::make_shared<std::atomic<std::size_t>>(0);
  server_.server().Get("/huge", [produced](const httplib::Request&,
                                           httplib::Response& response) {
    response.set_chunked_content_provider(
        "application/octet-stream",
        [produced](std::size_t offset, httplib::DataSink& sink) {
          if (offset >= (std::size_t{1} << 30)) {
            sink.done();
            return true;
          }
          std::string chunk(64 * 1024, 'h');
          bool ok = sink.write(chunk.data(), chunk.size());
          *produced = offset + chunk.size();
          return ok;
        });
  });
  server_.Start();
  auto reader = transport_->Open(Request("GET", "/huge"));
  char byte;
  ASSERT_EQ(reader->Read(&byte, 1), 1u);
  // A client that drained the network in the background would pull most of
  // the 1 GiB body meanwhile; pulled on demand (and paused past the spill
  // limit), only the socket buffers fill: a few MiB on loopback.
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_EQ(reader->Read(&byte, 1), 1u);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_LT(produced->load(), std::size_t{32} << 20);
}

TEST_F(HttpTransportTest, ReaderOutlivesItsTransport) {
  server_.server().Get(
      "/body", [](const httplib::Request&, httplib::Response& response) {
        response.set_content(Pattern(2 << 20), "application/octet-stream");
      });
  server_.Start();
  auto transport = MakeCurlTransport({});
  auto reader = transport->Open(Request("GET", "/body"));
  transport.reset();
  EXPECT_TRUE(reader->ReadAll(4 << 20) == Pattern(2 << 20));
}

TEST_F(HttpTransportTest, OpenSendsRequestBody) {
  server_.server().Post("/rpc", [](const httplib::Request& request,
                                   httplib::Response& response) {
    response.set_content("echo:" + request.body, "application/connect+json");
  });
  server_.Start();
  HttpRequest request = Request("POST", "/rpc");
  request.headers = {{"Content-Type", "application/connect+json"}};
  request.body = "frame-bytes";
  auto reader = transport_->Open(request);
  request.body.clear();  // Open keeps its own copy of the body
  EXPECT_EQ(reader->Status(), 200);
  EXPECT_EQ(reader->ReadAll(1024), "echo:frame-bytes");
}

TEST_F(HttpTransportTest, ProxyOptionIsHonoured) {
  // The test server plays the proxy: it receives the absolute-form target.
  server_.server().Get(
      ".*", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("from proxy", "text/plain");
      });
  server_.Start();
  HTTPClientOptions options;
  options.Proxy = server_.url();
  auto transport = MakeCurlTransport(options);
  HttpRequest request;
  request.url = "http://sandbox.e2b.invalid/health?x=1";
  HttpResponse response = transport->Send(request);
  EXPECT_EQ(response.body, "from proxy");
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].raw_path, "http://sandbox.e2b.invalid/health");
}

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
// A TLS server with a throwaway self-signed certificate for 127.0.0.1.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/e2b-tls-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -days 1 -subj /CN=127.0.0.1 -addext "
        "subjectAltName=IP:127.0.0.1 -keyout " +
        dir_ + "/key.pem -out " + dir_ + "/cert.pem >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      GTEST_SKIP() << "openssl could not make a test certificate";
    }
    server_ = std::make_unique<httplib::SSLServer>((dir_ + "/cert.pem").c_str(),
                                                   (dir_ + "/key.pem").c_str());
    ASSERT_TRUE(server_->is_valid());
    server_->Get("/tls",
                 [](const httplib::Request&, httplib::Response& response) {
                   response.set_content("secure", "text/plain");
                 });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = e2b_test::ListenInBackground(*server_);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    if (!dir_.empty()) {
      std::system(("rm -rf " + dir_).c_str());
    }
  }
  HttpRequest Request() const {
    HttpRequest request;
    request.url = "https://127.0.0.1:" + std::to_string(port_) + "/tls";
    return request;
  }

  std::string dir_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(TlsTest, VerifiesCertificatesByDefault) {
  auto transport = MakeCurlTransport({});
  try {
    transport->Send(Request());
    FAIL() << "self-signed certificate accepted";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(std::string(e.what()).find("https://127.0.0.1"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(TlsTest, TrustsConfiguredCaFile) {
  HTTPClientOptions options;
  options.CAInfo = dir_ + "/cert.pem";
  HttpResponse response = MakeCurlTransport(options)->Send(Request());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "secure");
}

TEST_F(TlsTest, InsecureSkipsVerification) {
  HTTPClientOptions options;
  options.InsecureSkipTLSVerify = true;
  options.EnableHTTP2 = false;
  EXPECT_EQ(MakeCurlTransport(options)->Send(Request()).body, "secure");
}
#endif  // CPPHTTPLIB_OPENSSL_SUPPORT

}  // namespace
}  // namespace e2b::internal
