// The envd listener's proxy to other sandbox ports (envd/port_proxy.*),
// against servers in this process that play a sandbox's: well-behaved ones
// and hostile ones (endless heads and bodies, silence, garbage). The fake
// sandboxes' sockets are the host's; that they are made in the sandbox's
// namespace is the integration tests' business (port_proxy_test.cpp there).

#include "envd/port_proxy.hpp"

#include "envd/envd_auth.hpp"
#include "envd_test_fixture.hpp"
#include "runtime/sanitizers.hpp"
#include "support/background_listen.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A fake sandbox whose "network" is the host's loopback, so servers of this
// test play its ports.
class LoopbackInstance : public FakeInstance {
 public:
  using FakeInstance::FakeInstance;
  UniqueFd OpenTcpSocket() override {
    return UniqueFd(
        socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  }
};

// A TCP server on 127.0.0.1 that runs `behaviour` on each connection's
// socket, one thread each, until it is destroyed.
class RawServer {
 public:
  using Behaviour = std::function<void(int fd, const std::atomic<bool>& stop)>;

  explicit RawServer(Behaviour behaviour) : behaviour_(std::move(behaviour)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
            0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
            0) {
      throw std::runtime_error("cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~RawServer() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : connections_) t.join();
    close(listen_fd_);
  }

  int port() const { return port_; }

 private:
  void Accept() {
    for (;;) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) < 0 || stop_) return;
      if ((p.revents & POLLIN) == 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      connections_.emplace_back([this, fd] {
        behaviour_(fd, stop_);
        close(fd);
      });
    }
  }

  Behaviour behaviour_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> connections_;
};

// Reads the request head (enough for these servers: bodies are not read).
void ReadHead(int fd) {
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<std::size_t>(n));
  }
}

bool SendAll(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Sends `piece` until the peer goes away or the server stops.
void SendForever(int fd, const std::atomic<bool>& stop,
                 const std::string& piece) {
  while (!stop && SendAll(fd, piece)) {
  }
}

std::size_t ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

class PortProxyTest : public ::testing::Test {
 protected:
  static constexpr const char* kPublic = "isbxpublic";
  static constexpr const char* kPrivate = "isbxprivate";
  static constexpr const char* kTrafficToken = "traffic-token-456";

  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    public_ = Add(kPublic, "");
    private_ = Add(kPrivate, kTrafficToken);
    PortProxyLimits limits;
    limits.idle_timeout = 1s;
    limits.max_head_bytes = 8192;
    envd_ = std::make_unique<EnvdServer>(
        sandboxes_,
        [this](const std::string& id) {
          resumed_.push_back(id);
          auto sandbox = sandboxes_.Find(id);
          std::lock_guard<std::mutex> lock(sandbox->mu);
          sandbox->status = SandboxStatus::kRunning;
        },
        limits);
    envd_->Mount(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = e2b_test::ListenInBackground(server_);
  }

  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::shared_ptr<LocalSandbox> Add(const std::string& id,
                                    const std::string& traffic_token) {
    auto sandbox = std::make_shared<LocalSandbox>();
    sandbox->id = id;
    sandbox->traffic_access_token = traffic_token;
    sandbox->instance = std::make_unique<LoopbackInstance>(dir_.path());
    sandboxes_.Add(sandbox);
    return sandbox;
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(20, 0);
    return client;
  }

  static std::string Host(int port, const std::string& id) {
    return std::to_string(port) + "-" + id + ".e2b.local";
  }

  httplib::Result Get(int port, const std::string& path = "/",
                      const std::string& id = kPublic,
                      httplib::Headers headers = {}) {
    headers.emplace("Host", Host(port, id));
    return Client().Get(path.c_str(), headers);
  }

  TempDir dir_;
  FakeDirectory sandboxes_;
  std::shared_ptr<LocalSandbox> public_, private_;
  std::vector<std::string> resumed_;
  std::unique_ptr<EnvdServer> envd_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// A well-behaved server: answers each request with its method and target.
class EchoServer {
 public:
  EchoServer() {
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Seen-Token",
                     req.get_header_value(kTrafficTokenHeader) + "|" +
                         req.get_header_value("X-Access-Token"));
      res.set_content(req.method + " " + req.target + " " + req.body,
                      "text/plain");
    };
    server_.Get(".*", echo);
    server_.Post(".*", echo);
    server_.Put(".*", echo);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = e2b_test::ListenInBackground(server_);
  }
  ~EchoServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(SandboxPortFromRequestTest, HeadersThenHostThenEnvd) {
  auto port_of = [](httplib::Headers headers) {
    httplib::Request req;
    req.headers = std::move(headers);
    return SandboxPortFromRequest(req);
  };
  EXPECT_EQ(port_of({{"Host", "3000-abc.e2b.app"}}), 3000);
  EXPECT_EQ(port_of({{"Host", "49983-abc.e2b.app"}}), kEnvdPort);
  EXPECT_EQ(port_of({{"Host", "127.0.0.1:49983"}}), kEnvdPort);
  EXPECT_EQ(port_of({{"Host", "localhost"}}), kEnvdPort);
  EXPECT_EQ(port_of({}), kEnvdPort);
  EXPECT_EQ(port_of({{"Host", "my-server.example"}}), kEnvdPort);
  EXPECT_EQ(port_of({{"E2b-Sandbox-Id", "abc"}, {"Host", "3000-x.e2b.app"}}),
            kEnvdPort);
  EXPECT_EQ(port_of({{"E2b-Sandbox-Id", "abc"}, {"E2b-Sandbox-Port", "8080"}}),
            8080);
  EXPECT_EQ(port_of({{"Host", "0-abc.e2b.app"}}), std::nullopt);
  EXPECT_EQ(port_of({{"Host", "65536-abc.e2b.app"}}), std::nullopt);
  EXPECT_EQ(port_of({{"Host", "99999999999999999999-abc.e2b.app"}}),
            std::nullopt);
  EXPECT_EQ(port_of({{"E2b-Sandbox-Port", "http"}}), std::nullopt);
  EXPECT_EQ(port_of({{"E2b-Sandbox-Port", ""}}), std::nullopt);
}

TEST_F(PortProxyTest, ForwardsAndKeepsEdgeCredentialsAtTheEdge) {
  EchoServer echo;
  auto res = Client().Post("/a/b?c=d",
                           {{"Host", Host(echo.port(), kPrivate)},
                            {kTrafficTokenHeader, kTrafficToken},
                            {"X-Access-Token", "envd-token"}},
                           "payload", "text/plain");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "POST /a/b?c=d payload");
  EXPECT_EQ(res->get_header_value("X-Seen-Token"), "|");
  // No CORS headers of envd's on a forwarded answer.
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
}

TEST_F(PortProxyTest, TrafficTokenIsRequiredOnlyWhereThereIsOne) {
  EchoServer echo;
  auto missing = Get(echo.port(), "/", kPrivate);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 403);
  EXPECT_EQ(json::parse(missing->body),
            (json{{"sandboxId", kPrivate},
                  {"message",
                   "Sandbox is secured with traffic access token. Token "
                   "header 'e2b-traffic-access-token' is missing"},
                  {"code", 403}}));
  auto wrong = Get(echo.port(), "/", kPrivate,
                   {{kTrafficTokenHeader, "traffic-token-457"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  EXPECT_EQ(json::parse(wrong->body)["message"],
            "Sandbox is secured with traffic access token. Provided token "
            "in header 'e2b-traffic-access-token' is invalid");
  EXPECT_EQ(wrong->body.find("traffic-token-45"), std::string::npos);
  auto right =
      Get(echo.port(), "/", kPrivate, {{kTrafficTokenHeader, kTrafficToken}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  auto open = Get(echo.port(), "/", kPublic);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 200);
  // envd's own port never asks for it.
  auto health = Client().Get("/health", {{"Host", Host(kEnvdPort, kPrivate)}});
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 204);
}

TEST_F(PortProxyTest, PausedSandboxWakesForItsTrafficToken) {
  EchoServer echo;
  for (const auto& sandbox : {public_, private_}) {
    std::lock_guard<std::mutex> lock(sandbox->mu);
    sandbox->status = SandboxStatus::kPaused;
    sandbox->auto_resume = true;
  }
  auto refused = Get(echo.port(), "/", kPrivate);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_TRUE(resumed_.empty());
  auto woke =
      Get(echo.port(), "/", kPrivate, {{kTrafficTokenHeader, kTrafficToken}});
  ASSERT_TRUE(woke);
  EXPECT_EQ(woke->status, 200);
  auto public_woke = Get(echo.port(), "/", kPublic);
  ASSERT_TRUE(public_woke);
  EXPECT_EQ(public_woke->status, 200);
  EXPECT_EQ(resumed_, (std::vector<std::string>{kPrivate, kPublic}));
}

TEST_F(PortProxyTest, ClosedPortAndUnknownSandboxAreTheEdgesAnswers) {
  int closed_port;
  {
    RawServer gone([](int, const std::atomic<bool>&) {});
    closed_port = gone.port();
  }
  auto closed = Get(closed_port);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, 502);
  EXPECT_EQ(json::parse(closed->body),
            (json{{"sandboxId", kPublic},
                  {"message", "The sandbox is running but port is not open"},
                  {"port", closed_port},
                  {"code", 502}}));
  auto unknown = Get(closed_port, "/", "isbxnobody");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 502);
  EXPECT_EQ(json::parse(unknown->body)["message"], "The sandbox was not found");
  // An answer that closes before any byte is a closed port too, as at the
  // edge.
  RawServer hangs_up([](int fd, const std::atomic<bool>&) { ReadHead(fd); });
  auto hung_up = Get(hangs_up.port());
  ASSERT_TRUE(hung_up);
  EXPECT_EQ(hung_up->status, 502);
}

TEST_F(PortProxyTest, WebSocketUpgradesAreRefusedClearly) {
  EchoServer echo;
  auto res = Get(echo.port(), "/ws", kPublic,
                 {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 501);
  EXPECT_NE(
      json::parse(res->body)["message"].get<std::string>().find("WebSocket"),
      std::string::npos);
}

TEST_F(PortProxyTest, SilentServerTimesOutWith504) {
  RawServer silent([](int fd, const std::atomic<bool>& stop) {
    ReadHead(fd);
    while (!stop) std::this_thread::sleep_for(20ms);
  });
  const auto start = std::chrono::steady_clock::now();
  auto res = Get(silent.port());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 504);
  EXPECT_EQ(json::parse(res->body)["code"], 504);
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
}

TEST_F(PortProxyTest, EndlessHeadIsCutAt502) {
  RawServer many_headers([](int fd, const std::atomic<bool>& stop) {
    ReadHead(fd);
    if (!SendAll(fd, "HTTP/1.1 200 OK\r\n")) return;
    SendForever(fd, stop, "X-Again: " + std::string(100, 'a') + "\r\n");
  });
  RawServer one_line([](int fd, const std::atomic<bool>& stop) {
    ReadHead(fd);
    if (!SendAll(fd, "HTTP/1.1 200 OK\r\nX-Long: ")) return;
    SendForever(fd, stop, std::string(4096, 'a'));
  });
  for (int port : {many_headers.port(), one_line.port()}) {
    auto res = Get(port);
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 502) << port;
    EXPECT_EQ(json::parse(res->body)["port"], port);
  }
}

TEST_F(PortProxyTest, GarbageIsABadGateway) {
  RawServer garbage([](int fd, const std::atomic<bool>&) {
    ReadHead(fd);
    SendAll(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  auto res = Get(garbage.port());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
}

TEST_F(PortProxyTest, EndlessBodyStreamsInBoundedMemory) {
  RawServer endless([](int fd, const std::atomic<bool>& stop) {
    ReadHead(fd);
    if (!SendAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) {
      return;
    }
    std::string chunk(65536, 'z');
    SendForever(fd, stop, "10000\r\n" + chunk + "\r\n");
  });
  const std::size_t before = ResidentBytes();
  std::size_t received = 0;
  auto res = Client().Get("/", {{"Host", Host(endless.port(), kPublic)}},
                          [&](const char*, std::size_t n) {
                            received += n;
                            return received < (std::size_t{256} << 20);
                          });
  EXPECT_GE(received, std::size_t{256} << 20);
  // 256 MiB went through; the server held a few pieces of it at a time.
  // Sanitizer runtimes keep freed memory resident (ASan's quarantine, TSan's
  // shadow), so the bound is measured only in the normal build.
  if (!runtime_internal::kAddressSanitizer &&
      !runtime_internal::kThreadSanitizer) {
    EXPECT_LT(ResidentBytes(), before + (std::size_t{48} << 20));
  }
  // And it still answers.
  EchoServer echo;
  auto after = Get(echo.port());
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(PortProxyTest, ServerThatStallsMidBodyIsCutOff) {
  RawServer stalls([](int fd, const std::atomic<bool>& stop) {
    ReadHead(fd);
    SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf");
    while (!stop) std::this_thread::sleep_for(20ms);
  });
  const auto start = std::chrono::steady_clock::now();
  auto res = Get(stalls.port());
  // The head went out already: the connection is cut, the body short.
  EXPECT_FALSE(res && res->status == 200 && res->body.size() == 100);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace e2b_local::testing
