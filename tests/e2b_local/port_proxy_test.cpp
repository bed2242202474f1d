// The envd listener's proxy to other sandbox ports (envd/port_proxy.*),
// against servers in this process that play a sandbox's: well-behaved ones
// and hostile ones (endless heads and bodies, silence, garbage). The fake
// sandboxes' sockets are the host's; that they are made in the sandbox's
// namespace is the integration tests' business (port_proxy_test.cpp there).

#include "envd/port_proxy.hpp"

#include "envd/envd_auth.hpp"
#include "envd_test_fixture.hpp"
#include "http/listener.hpp"
#include "runtime/sanitizers.hpp"
#include "support/background_listen.hpp"
#include "support/websocket_frames.hpp"
#include "util/http_text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
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
    // e2b-local's own listener, as in main: an upgrade needs it.
    port_ = server_.Bind("127.0.0.1", 0);
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.Serve(); });
  }

  void TearDown() override {
    server_.Stop();
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
  Listener server_{ListenerKind::kEnvd};
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

// ---- Upgrades (WebSocket) ----

// Reads a request or answer head byte by byte (nothing after it is taken);
// empty on EOF before its end.
std::string ReadHeadText(int fd) {
  std::string head;
  char c;
  while (head.size() < 65536 && recv(fd, &c, 1, 0) == 1) {
    head += c;
    if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) {
      return head;
    }
  }
  return {};
}

// What a fake sandbox server saw of the upgrade request.
class SeenHead {
 public:
  void Set(std::string head) {
    std::lock_guard<std::mutex> lock(mu_);
    head_ = std::move(head);
  }
  std::string Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return head_;
  }

 private:
  mutable std::mutex mu_;
  std::string head_;
};

constexpr const char kSwitching[] =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    "\r\nX-From-Sandbox: yes\r\n\r\n";

// A WebSocket server: answers the handshake and echoes every frame until a
// close frame (echoed too) or EOF.
RawServer::Behaviour WebSocketEcho(SeenHead* seen) {
  return [seen](int fd, const std::atomic<bool>&) {
    std::string head = ReadHeadText(fd);
    if (seen != nullptr) seen->Set(head);
    if (head.empty() || !SendAll(fd, kSwitching)) return;
    while (auto frame = e2b_test::ReadFrame(fd)) {
      if (!SendAll(fd, e2b_test::EncodeFrame(frame->opcode, frame->payload,
                                             false)) ||
          frame->opcode == e2b_test::kCloseFrame) {
        return;
      }
    }
  };
}

// A client connection that sent an upgrade request to the listener, and
// the answer's head.
struct UpgradeClient {
  int fd = -1;
  int status = 0;
  std::string head;

  UpgradeClient() = default;
  UpgradeClient(const UpgradeClient&) = delete;
  UpgradeClient& operator=(const UpgradeClient&) = delete;
  ~UpgradeClient() {
    if (fd >= 0) close(fd);
  }

  bool Send(const std::string& data) const { return SendAll(fd, data); }
  // Everything until EOF (or the 10 s receive timeout).
  std::string ReadToEnd() const {
    std::string out;
    char buf[16384];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // The answer's body: Content-Length bytes (a kept-alive error answer),
  // else everything until EOF.
  std::string ReadBody() const {
    const std::string key = "\r\nContent-Length: ";
    const std::size_t at = head.find(key);
    if (at == std::string::npos) return ReadToEnd();
    const auto n = std::strtoul(head.c_str() + at + key.size(), nullptr, 10);
    return e2b_test::RecvExactly(fd, n).value_or("");
  }
  bool HeadHas(const std::string& line) const {
    return head.find("\r\n" + line + "\r\n") != std::string::npos;
  }
};

class PortProxyUpgradeTest : public PortProxyTest {
 protected:
  std::unique_ptr<UpgradeClient> Upgrade(int port,
                                         const std::string& id = kPublic,
                                         const std::string& extra = "",
                                         const std::string& path = "/ws") {
    auto client = std::make_unique<UpgradeClient>();
    client->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval ten_seconds{10, 0};
    setsockopt(client->fd, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds,
               sizeof ten_seconds);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    if (connect(client->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
        0) {
      return client;
    }
    client->Send("GET " + path + " HTTP/1.1\r\nHost: " + Host(port, id) +
                 "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
                 e2b_test::kWebSocketKey + "\r\n" + extra + "\r\n");
    client->head = ReadHeadText(client->fd);
    if (client->head.size() > 12) {
      client->status = std::atoi(client->head.substr(9, 3).c_str());
    }
    return client;
  }

  // Waits until no connection holds a listener thread.
  bool NoneActiveWithin(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (server_.ActiveConnections() == 0) return true;
      std::this_thread::sleep_for(20ms);
    }
    return server_.ActiveConnections() == 0;
  }
};

TEST_F(PortProxyUpgradeTest, WebSocketEchoesThroughTheProxy) {
  SeenHead seen;
  RawServer ws(WebSocketEcho(&seen));
  auto client = Upgrade(ws.port(), kPublic,
                        "X-Access-Token: envd-token\r\n"
                        "e2b-traffic-access-token: t\r\nX-Test: 1\r\n");
  ASSERT_EQ(client->status, 101) << client->head;
  EXPECT_TRUE(client->HeadHas("Connection: Upgrade")) << client->head;
  EXPECT_TRUE(client->HeadHas("Upgrade: websocket")) << client->head;
  EXPECT_TRUE(client->HeadHas(std::string("Sec-WebSocket-Accept: ") +
                              e2b_test::kWebSocketAccept));
  EXPECT_TRUE(client->HeadHas("X-From-Sandbox: yes"));
  for (const std::string& text :
       std::vector<std::string>{"hello", "", std::string(200, 'x')}) {
    ASSERT_TRUE(
        client->Send(e2b_test::EncodeFrame(e2b_test::kTextFrame, text, true)));
    auto echo = e2b_test::ReadFrame(client->fd);
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->opcode, e2b_test::kTextFrame);
    EXPECT_EQ(echo->payload, text);
  }
  ASSERT_TRUE(
      client->Send(e2b_test::EncodeFrame(e2b_test::kCloseFrame, "", true)));
  auto close_echo = e2b_test::ReadFrame(client->fd);
  ASSERT_TRUE(close_echo);
  EXPECT_EQ(close_echo->opcode, e2b_test::kCloseFrame);
  // The server closed: so does the proxy, and its thread is free again.
  EXPECT_EQ(client->ReadToEnd(), "");
  EXPECT_TRUE(NoneActiveWithin(3s));
  // The server saw the handshake, not the edge's credentials.
  const std::string head = seen.Get();
  EXPECT_NE(head.find("\r\nUpgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(head.find("\r\nConnection: Upgrade\r\n"), std::string::npos);
  EXPECT_NE(head.find(e2b_test::kWebSocketKey), std::string::npos);
  EXPECT_NE(head.find("\r\nX-Test: 1\r\n"), std::string::npos);
  EXPECT_EQ(head.find("envd-token"), std::string::npos);
  EXPECT_EQ(Lowercase(head).find("e2b-traffic-access-token"),
            std::string::npos);
  EXPECT_EQ(head.rfind("GET /ws HTTP/1.1\r\n", 0), 0u) << head;
}

TEST_F(PortProxyUpgradeTest, LargeFramesGoBothWaysAtOnce) {
  RawServer ws(WebSocketEcho(nullptr));
  auto client = Upgrade(ws.port());
  ASSERT_EQ(client->status, 101);
  constexpr int kFrames = 8;
  auto payload = [](int i) {
    std::string data(std::size_t{1} << 20, '\0');
    for (std::size_t j = 0; j < data.size(); ++j) {
      data[j] =
          static_cast<char>((j * 31 + static_cast<std::size_t>(i)) & 0xff);
    }
    return data;
  };
  std::thread writer([&] {
    for (int i = 0; i < kFrames; ++i) {
      if (!client->Send(e2b_test::EncodeFrame(e2b_test::kBinaryFrame,
                                              payload(i), true))) {
        return;
      }
    }
  });
  for (int i = 0; i < kFrames; ++i) {
    auto echo = e2b_test::ReadFrame(client->fd);
    ASSERT_TRUE(echo) << i;
    EXPECT_EQ(echo->opcode, e2b_test::kBinaryFrame);
    EXPECT_TRUE(echo->payload == payload(i)) << i;
  }
  writer.join();
}

TEST_F(PortProxyUpgradeTest, HalfCloseIsPassedOnAndTheAnswerStillArrives) {
  RawServer counts([](int fd, const std::atomic<bool>&) {
    if (ReadHeadText(fd).empty() || !SendAll(fd, kSwitching)) return;
    std::size_t total = 0;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
      total += static_cast<std::size_t>(n);
    }
    // The client's end arrived as EOF; this side still talks.
    SendAll(fd, "got " + std::to_string(total));
  });
  auto client = Upgrade(counts.port());
  ASSERT_EQ(client->status, 101);
  ASSERT_TRUE(client->Send(std::string(100000, 'q')));
  ASSERT_EQ(shutdown(client->fd, SHUT_WR), 0);
  EXPECT_EQ(client->ReadToEnd(), "got 100000");
  EXPECT_TRUE(NoneActiveWithin(3s));
}

TEST_F(PortProxyUpgradeTest, AnswerOtherThan101IsAPlainResponse) {
  RawServer refuses([](int fd, const std::atomic<bool>& stop) {
    if (ReadHeadText(fd).empty()) return;
    SendAll(fd,
            "HTTP/1.1 100 Continue\r\n\r\n"
            "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 5\r\n"
            "Keep-Alive: timeout=5\r\nX-Why: versions\r\n\r\nnope!"
            "NOT-PART-OF-IT");
    // Keeps its end open: the answer's length ends the relay.
    while (!stop) std::this_thread::sleep_for(20ms);
  });
  const auto start = std::chrono::steady_clock::now();
  auto client = Upgrade(refuses.port());
  EXPECT_EQ(client->status, 426) << client->head;
  EXPECT_TRUE(client->HeadHas("Content-Length: 5"));
  EXPECT_TRUE(client->HeadHas("X-Why: versions"));
  EXPECT_TRUE(client->HeadHas("Connection: close"));
  EXPECT_FALSE(client->HeadHas("Keep-Alive: timeout=5"));
  EXPECT_EQ(client->ReadToEnd(), "nope!");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(PortProxyUpgradeTest, EdgeRulesApplyAsForPlainRequests) {
  RawServer ws(WebSocketEcho(nullptr));
  auto json_of = [](const UpgradeClient& c) {
    return json::parse(c.ReadBody(), nullptr, false);
  };
  auto missing = Upgrade(ws.port(), kPrivate);
  EXPECT_EQ(missing->status, 403);
  EXPECT_EQ(json_of(*missing)["code"], 403);
  auto allowed =
      Upgrade(ws.port(), kPrivate,
              std::string(kTrafficTokenHeader) + ": " + kTrafficToken + "\r\n");
  EXPECT_EQ(allowed->status, 101);
  int closed_port;
  {
    RawServer gone([](int, const std::atomic<bool>&) {});
    closed_port = gone.port();
  }
  auto closed = Upgrade(closed_port);
  EXPECT_EQ(closed->status, 502);
  EXPECT_EQ(json_of(*closed)["message"],
            "The sandbox is running but port is not open");
  auto unknown = Upgrade(ws.port(), "isbxnobody");
  EXPECT_EQ(unknown->status, 502);
  EXPECT_EQ(json_of(*unknown)["message"], "The sandbox was not found");
  auto bad_port = Upgrade(0);
  EXPECT_EQ(bad_port->status, 400);
  // envd's own port never switches protocols.
  auto envd = Upgrade(kEnvdPort, kPublic, "", "/health");
  EXPECT_EQ(envd->status, 204) << envd->head;
}

TEST_F(PortProxyUpgradeTest, HostileAnswersToAnUpgradeAreTheEdgesErrors) {
  RawServer garbage([](int fd, const std::atomic<bool>&) {
    ReadHeadText(fd);
    SendAll(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  RawServer silent([](int fd, const std::atomic<bool>& stop) {
    ReadHeadText(fd);
    while (!stop) std::this_thread::sleep_for(20ms);
  });
  RawServer endless_head([](int fd, const std::atomic<bool>& stop) {
    ReadHeadText(fd);
    if (!SendAll(fd, "HTTP/1.1 101 Switching Protocols\r\n")) return;
    SendForever(fd, stop, "X-Again: " + std::string(100, 'a') + "\r\n");
  });
  RawServer closes([](int fd, const std::atomic<bool>&) { ReadHeadText(fd); });
  const std::vector<std::pair<int, int>> cases = {{garbage.port(), 502},
                                                  {silent.port(), 504},
                                                  {endless_head.port(), 502},
                                                  {closes.port(), 502}};
  for (const auto& [port, status] : cases) {
    auto client = Upgrade(port);
    EXPECT_EQ(client->status, status) << port << client->head;
    EXPECT_EQ(json::parse(client->ReadBody(), nullptr, false)["port"], port);
  }
  EXPECT_TRUE(NoneActiveWithin(3s));
}

TEST_F(PortProxyUpgradeTest, EndlessStreamAfter101EndsWhenTheClientLeaves) {
  RawServer endless([](int fd, const std::atomic<bool>& stop) {
    if (ReadHeadText(fd).empty() || !SendAll(fd, kSwitching)) return;
    SendForever(fd, stop, std::string(65536, 'z'));
  });
  const std::size_t before = ResidentBytes();
  auto client = Upgrade(endless.port());
  ASSERT_EQ(client->status, 101);
  std::size_t received = 0;
  char buf[65536];
  while (received < (std::size_t{256} << 20)) {
    const ssize_t n = recv(client->fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    received += static_cast<std::size_t>(n);
  }
  if (!runtime_internal::kAddressSanitizer &&
      !runtime_internal::kThreadSanitizer) {
    EXPECT_LT(ResidentBytes(), before + (std::size_t{48} << 20));
  }
  close(client->fd);
  client->fd = -1;
  EXPECT_TRUE(NoneActiveWithin(3s));
}

TEST_F(PortProxyUpgradeTest, SilentTunnelIsCutAfterTheIdleTimeout) {
  RawServer mute([](int fd, const std::atomic<bool>& stop) {
    if (ReadHeadText(fd).empty() || !SendAll(fd, kSwitching)) return;
    while (!stop) std::this_thread::sleep_for(20ms);
  });
  auto client = Upgrade(mute.port());
  ASSERT_EQ(client->status, 101);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client->ReadToEnd(), "");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(NoneActiveWithin(3s));
}

}  // namespace
}  // namespace e2b_local::testing
