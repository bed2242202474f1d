// Sandbox ports other than envd's through e2b-local's envd listener, as
// through E2B's edge: a web server started in a sandbox is reached with the
// Host Sandbox::GetHost names, while the connection goes to the listener.

#include "integration/e2b_local_fixture.hpp"
#include "support/background_listen.hpp"
#include "support/websocket_frames.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Answers every GET and POST with what reached it: method, path, three
// headers and the body, so a test sees what the proxy forwarded.
constexpr const char kEchoServer[] = R"(import http.server, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        head = [self.command, self.path, self.headers.get("X-Test"),
                self.headers.get("e2b-traffic-access-token"),
                self.headers.get("X-Access-Token"), self.headers.get("Host")]
        out = (" ".join(str(h) for h in head) + "\n").encode() + body
        self.send_response(201)
        self.send_header("Content-Length", str(len(out)))
        self.send_header("X-Reply", "echo")
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
)";

// An RFC 6455 echo server from python's standard library: it answers the
// handshake with the Sec-WebSocket-Accept the key asks for (and, for the
// test, the Host and traffic token it saw), then echoes every frame until a
// close frame.
constexpr const char kWebSocketEchoServer[] =
    R"(import base64, hashlib, socket, struct, sys, threading
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
def exactly(c, n):
    out = b""
    while len(out) < n:
        d = c.recv(n - len(out))
        if not d:
            raise EOFError
        out += d
    return out
def frame(op, data):
    n = len(data)
    if n < 126:
        return bytes([0x80 | op, n]) + data
    if n < 65536:
        return bytes([0x80 | op, 126]) + struct.pack(">H", n) + data
    return bytes([0x80 | op, 127]) + struct.pack(">Q", n) + data
def serve(c):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            d = c.recv(4096)
            if not d:
                return
            head += d
        fields = {}
        for line in head.split(b"\r\n")[1:]:
            if b":" in line:
                k, v = line.split(b":", 1)
                fields[k.strip().lower()] = v.strip()
        accept = base64.b64encode(hashlib.sha1(fields.get(b"sec-websocket-key", b"") + GUID).digest())
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Accept: " + accept + b"\r\nX-Seen-Host: " + fields.get(b"host", b"-") +
                  b"\r\nX-Seen-Token: " + fields.get(b"e2b-traffic-access-token", b"-") + b"\r\n\r\n")
        while True:
            b0, b1 = exactly(c, 2)
            n = b1 & 127
            if n == 126:
                n = struct.unpack(">H", exactly(c, 2))[0]
            elif n == 127:
                n = struct.unpack(">Q", exactly(c, 8))[0]
            mask = exactly(c, 4) if b1 & 128 else b"\0\0\0\0"
            data = exactly(c, n)
            data = (int.from_bytes(data, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
            c.sendall(frame(b0 & 15, data))
            if b0 & 15 == 8:
                return
    except (EOFError, OSError):
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
)";

class PortProxyTest : public E2bLocalTest {
 protected:
  // A client of the envd listener (where GetHost's names lead).
  httplib::Client Listener() const {
    httplib::Client client(Server().SandboxURL());
    client.set_read_timeout(30, 0);
    return client;
  }

  httplib::Result Get(const e2b::Sandbox& sandbox, int port,
                      const std::string& path, httplib::Headers headers = {}) {
    headers.emplace("Host", sandbox.GetHost(port));
    return Listener().Get(path.c_str(), headers);
  }

  // `python3 -m http.server` on `port` serving `body` as /index.html, and
  // waits until it answers through the proxy.
  void ServeFile(const e2b::Sandbox& sandbox, int port, const std::string& body,
                 httplib::Headers headers = {}) {
    sandbox.Filesystem.WriteString(
        "/tmp/www" + std::to_string(port) + "/index.html", body);
    sandbox.Commands.StartShell("cd /tmp/www" + std::to_string(port) +
                                " && exec python3 -m http.server " +
                                std::to_string(port));
    AwaitListening(sandbox, port, headers);
  }

  void ServeEcho(const e2b::Sandbox& sandbox, int port) {
    sandbox.Filesystem.WriteString("/tmp/echo.py", kEchoServer);
    sandbox.Commands.Start("python3", {"/tmp/echo.py", std::to_string(port)});
    AwaitListening(sandbox, port, {});
  }

  // A connection to the envd listener that sent a WebSocket upgrade
  // request for `port` of `sandbox` and read the answer's head; the socket
  // is closed with it.
  struct Upgraded {
    int fd = -1;
    int status = 0;
    std::string head;
    ~Upgraded() {
      if (fd >= 0) close(fd);
    }
    bool HeadHas(const std::string& line) const {
      return head.find("\r\n" + line + "\r\n") != std::string::npos;
    }
  };

  std::unique_ptr<Upgraded> Upgrade(const e2b::Sandbox& sandbox, int port,
                                    const std::string& extra = "") const {
    auto up = std::make_unique<Upgraded>();
    const std::string url = Server().SandboxURL();
    const int listener_port = std::stoi(url.substr(url.rfind(':') + 1));
    up->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{30, 0};
    setsockopt(up->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(listener_port));
    if (connect(up->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return up;
    }
    const std::string request =
        "GET /chat HTTP/1.1\r\nHost: " + sandbox.GetHost(port) +
        "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
        kWebSocketKey + "\r\n" + extra + "\r\n";
    if (send(up->fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return up;
    }
    char c;
    while (up->head.size() < 65536 && recv(up->fd, &c, 1, 0) == 1) {
      up->head += c;
      if (up->head.size() > 4 &&
          up->head.compare(up->head.size() - 4, 4, "\r\n\r\n") == 0) {
        up->status = std::atoi(up->head.substr(9, 3).c_str());
        break;
      }
    }
    return up;
  }

  void AwaitListening(const e2b::Sandbox& sandbox, int port,
                      const httplib::Headers& headers) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto res = Get(sandbox, port, "/", headers);
      if (res && res->status != 502) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "nothing listens on port " << port << " after 30 s";
  }
};

TEST_F(PortProxyTest, ReachesAWebServerStartedInTheSandbox) {
  e2b::Sandbox sandbox = NewSandbox();
  ServeFile(sandbox, 8000, "hello from " + sandbox.ID);
  auto res = Get(sandbox, 8000, "/index.html");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "hello from " + sandbox.ID);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html");
  // python's own 404 comes through as it is.
  auto missing = Get(sandbox, 8000, "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(PortProxyTest, ForwardsMethodTargetHeadersAndBodyButNotTokens) {
  e2b::Sandbox sandbox = NewSandbox();
  ServeEcho(sandbox, 8001);
  const std::string body(3 << 20, 'b');  // more than one pause of the body
  httplib::Headers headers = {{"Host", sandbox.GetHost(8001)},
                              {"X-Test", "forwarded"},
                              {"e2b-traffic-access-token", "edge-only"},
                              {"X-Access-Token", "edge-only-too"}};
  auto res = Listener().Post("/echo/a%20b?x=1&y=2", headers, body,
                             "application/octet-stream");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->get_header_value("X-Reply"), "echo");
  const std::string expected_head =
      "POST /echo/a%20b?x=1&y=2 forwarded None "
      "None " +
      sandbox.GetHost(8001) + "\n";
  ASSERT_GE(res->body.size(), expected_head.size());
  EXPECT_EQ(res->body.substr(0, expected_head.size()), expected_head);
  EXPECT_TRUE(res->body.substr(expected_head.size()) == body)
      << "the body came back with " << res->body.size() << " bytes";

  // Routing by header, as the SDKs do for a local envd URL.
  auto by_header = Listener().Get("/by-header", {{"E2b-Sandbox-Id", sandbox.ID},
                                                 {"E2b-Sandbox-Port", "8001"}});
  ASSERT_TRUE(by_header);
  EXPECT_EQ(by_header->status, 201);
  EXPECT_EQ(by_header->body.rfind("GET /by-header ", 0), 0u) << by_header->body;
}

TEST_F(PortProxyTest, ClosedPortIsTheEdgesBadGateway) {
  e2b::Sandbox sandbox = NewSandbox();
  auto res = Get(sandbox, 8999, "/");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(json::parse(res->body),
            (json{{"sandboxId", sandbox.ID},
                  {"message", "The sandbox is running but port is not open"},
                  {"port", 8999},
                  {"code", 502}}));
}

TEST_F(PortProxyTest, UnknownSandboxIsTheEdgesNotFound) {
  auto res = Listener().Get("/", {{"Host", "8000-nosuchsandbox.e2b.app"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(json::parse(res->body),
            (json{{"sandboxId", "nosuchsandbox"},
                  {"message", "The sandbox was not found"},
                  {"code", 502}}));
}

TEST_F(PortProxyTest, PortsOutsideOneTo65535AreRefused) {
  e2b::Sandbox sandbox = NewSandbox();
  for (const std::string& host :
       {"0-" + sandbox.ID + ".e2b.app", "65536-" + sandbox.ID + ".e2b.app",
        "123456789012-" + sandbox.ID + ".e2b.app"}) {
    auto res = Listener().Get("/", {{"Host", host}});
    ASSERT_TRUE(res) << host;
    EXPECT_EQ(res->status, 400) << host;
    EXPECT_EQ(res->body, "Invalid sandbox port\n") << host;
  }
  for (const char* port : {"abc", "0", "65536", "-1", "80 80"}) {
    auto res = Listener().Get(
        "/", {{"E2b-Sandbox-Id", sandbox.ID}, {"E2b-Sandbox-Port", port}});
    ASSERT_TRUE(res) << port;
    EXPECT_EQ(res->status, 400) << port;
  }
}

TEST_F(PortProxyTest, EachSandboxIsReachedOnlyOnItsOwnLoopback) {
  e2b::Sandbox a = NewSandbox();
  e2b::Sandbox b = NewSandbox();
  ServeFile(a, 8000, "I am A");
  ServeFile(b, 8000, "I am B");
  for (int i = 0; i < 3; ++i) {
    auto from_a = Get(a, 8000, "/index.html");
    auto from_b = Get(b, 8000, "/index.html");
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->body, "I am A");
    EXPECT_EQ(from_b->body, "I am B");
  }
  // A server on the host's loopback is no sandbox's port.
  httplib::Server host_server;
  host_server.Get(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("the host", "text/plain");
  });
  const int host_port = host_server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(host_port, 0);
  std::thread serving = ListenInBackground(host_server);
  auto res = Get(a, host_port, "/");
  host_server.stop();
  serving.join();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(res->body.find("the host"), std::string::npos);
}

TEST_F(PortProxyTest, PrivateTrafficNeedsTheTrafficToken) {
  e2b::SandboxConfig cfg = Config();
  cfg.Secure = true;
  cfg.Network.emplace();
  cfg.Network->AllowPublicTraffic = false;
  e2b::Sandbox sandbox = NewSandbox(cfg);
  const std::string token = sandbox.TrafficAccessToken;
  ASSERT_FALSE(token.empty());
  EXPECT_NE(token, sandbox.EnvdAccessToken());
  ServeFile(sandbox, 8000, "private", {{"e2b-traffic-access-token", token}});

  auto without = Get(sandbox, 8000, "/index.html");
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 403);
  auto wrong = Get(sandbox, 8000, "/index.html",
                   {{"e2b-traffic-access-token", token + "x"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  EXPECT_EQ(wrong->body.find(token), std::string::npos);
  auto right =
      Get(sandbox, 8000, "/index.html", {{"e2b-traffic-access-token", token}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  EXPECT_EQ(right->body, "private");
  // The connect answer carries it too; envd's port does not ask for it.
  EXPECT_EQ(Client().Connect(sandbox.ID).TrafficAccessToken, token);
  EXPECT_EQ(sandbox.Commands.Run("true", {}).ExitCode, 0);
  EXPECT_EQ(Server().StderrTail(1 << 20).find(token), std::string::npos);
}

TEST_F(PortProxyTest, PrivateTrafficNeedsSecure) {
  e2b::SandboxConfig cfg = Config();
  cfg.Secure = false;
  cfg.Network.emplace();
  cfg.Network->AllowPublicTraffic = false;
  try {
    NewSandbox(cfg);
    FAIL() << "created a private sandbox without secure";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 400);
    EXPECT_NE(std::string(e.what()).find(
                  "You cannot create a sandbox without public access unless "
                  "you enable secure envd access via 'secure' flag."),
              std::string::npos)
        << e.what();
  }
  // Public sandboxes have no token.
  EXPECT_TRUE(NewSandbox().TrafficAccessToken.empty());
}

// network.maskRequestHost is the Host the sandbox's server sees, with
// ${PORT} the port asked for; a value that would split the header is 400.
TEST_F(PortProxyTest, MaskRequestHostIsTheHostTheServerSees) {
  e2b::SandboxConfig cfg = Config();
  cfg.Network.emplace();
  cfg.Network->MaskRequestHost = "app-${PORT}.internal:${PORT}";
  e2b::Sandbox sandbox = NewSandbox(cfg);
  ServeEcho(sandbox, 8001);
  auto res = Get(sandbox, 8001, "/masked");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "GET /masked None None None app-8001.internal:8001\n");

  e2b::SandboxConfig bad = Config();
  bad.Network.emplace();
  bad.Network->MaskRequestHost = "a\r\nX-Injected: 1";
  try {
    NewSandbox(bad);
    FAIL() << "accepted a mask with a line break";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 400) << e.what();
  }
}

// A WebSocket server in a private sandbox, through the edge: the handshake
// needs the traffic token, the server sees the masked Host and no token,
// and frames (one larger than the proxy's buffers) come back.
TEST_F(PortProxyTest, WebSocketReachesAServerInTheSandbox) {
  e2b::SandboxConfig cfg = Config();
  cfg.Secure = true;
  cfg.Network.emplace();
  cfg.Network->AllowPublicTraffic = false;
  cfg.Network->MaskRequestHost = "ws-${PORT}.internal";
  e2b::Sandbox sandbox = NewSandbox(cfg);
  const std::string token_line =
      "e2b-traffic-access-token: " + sandbox.TrafficAccessToken + "\r\n";
  sandbox.Filesystem.WriteString("/tmp/ws.py", kWebSocketEchoServer);
  sandbox.Commands.Start("python3", {"/tmp/ws.py", "8765"});
  std::unique_ptr<Upgraded> up;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  do {
    up = Upgrade(sandbox, 8765, token_line);
    if (up->status == 101) break;
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(up->status, 101) << up->head;
  EXPECT_TRUE(
      up->HeadHas(std::string("Sec-WebSocket-Accept: ") + kWebSocketAccept))
      << up->head;
  EXPECT_TRUE(up->HeadHas("Upgrade: websocket"));
  EXPECT_TRUE(up->HeadHas("X-Seen-Host: ws-8765.internal")) << up->head;
  EXPECT_TRUE(up->HeadHas("X-Seen-Token: -")) << up->head;

  std::string big(300000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>(i * 7);
  }
  for (const auto& [opcode, payload] :
       {std::pair<std::uint8_t, std::string>{kTextFrame, "hello sandbox"},
        {kBinaryFrame, big}}) {
    const std::string frame = EncodeFrame(opcode, payload, true);
    ASSERT_EQ(send(up->fd, frame.data(), frame.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(frame.size()));
    auto echo = ReadFrame(up->fd);
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->opcode, opcode);
    EXPECT_TRUE(echo->payload == payload) << echo->payload.size();
  }
  const std::string close_frame = EncodeFrame(kCloseFrame, "", true);
  send(up->fd, close_frame.data(), close_frame.size(), MSG_NOSIGNAL);
  auto closing = ReadFrame(up->fd);
  ASSERT_TRUE(closing);
  EXPECT_EQ(closing->opcode, kCloseFrame);
  char byte;
  EXPECT_EQ(recv(up->fd, &byte, 1, 0), 0);  // the server closed: so did we

  // Without the token, the edge's 403; on a closed port, its 502.
  EXPECT_EQ(Upgrade(sandbox, 8765)->status, 403);
  EXPECT_EQ(Upgrade(sandbox, 8766, token_line)->status, 502);
}

}  // namespace
}  // namespace e2b_test
