// Sandbox ports other than envd's through e2b-local's envd listener, as
// through E2B's edge: a web server started in a sandbox is reached with the
// Host Sandbox::GetHost names, while the connection goes to the listener.

#include "integration/e2b_local_fixture.hpp"
#include "support/background_listen.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
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

}  // namespace
}  // namespace e2b_test
