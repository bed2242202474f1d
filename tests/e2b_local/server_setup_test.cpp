// How e2b-local's listeners are set up: TCP_NODELAY reaches the sockets
// httplib accepts (without it every response on a kept-alive connection
// stalls ~40 ms), and the listen backlog holds a burst of connects (with
// httplib's backlog of 5 the kernel drops or resets the rest).

#include "http/server_setup.hpp"

#include "http/listener.hpp"
#include "support/background_listen.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {
namespace {

using Clock = std::chrono::steady_clock;

int NoDelayOf(int fd) {
  int value = -1;
  socklen_t size = sizeof value;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size) != 0) {
    return -1;
  }
  return value;
}

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

int PortOf(int fd) {
  sockaddr_in address{};
  socklen_t size = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0 ||
      address.sin_family != AF_INET) {
    return -1;
  }
  return ntohs(address.sin_port);
}

// The listening socket of this process bound to `port`, found by scanning
// the descriptor table (httplib does not expose it).
int FindListeningSocket(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t size = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 ||
        listening == 0) {
      continue;
    }
    if (PortOf(fd) == port) return fd;
  }
  return -1;
}

// Runs the accept loop once and stops it, so httplib closes its socket
// (it only does that from a running server).
void StopNeverServed(httplib::Server& server) {
  std::thread thread = e2b_test::ListenInBackground(server);
  server.stop();
  thread.join();
}

TEST(ListenSocketOptionsTest, AcceptedSocketsInheritNoDelay) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  ASSERT_TRUE(ApplyListenSocketOptions(listener));
  EXPECT_EQ(NoDelayOf(listener), 1);
  sockaddr_in address = Loopback(0);
  ASSERT_EQ(
      ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address),
      0);
  ASSERT_EQ(::listen(listener, 16), 0);
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  sockaddr_in target = Loopback(PortOf(listener));
  ASSERT_EQ(
      ::connect(client, reinterpret_cast<sockaddr*>(&target), sizeof target),
      0);
  int accepted = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(accepted, 0);
  // What e2b-local relies on: httplib sets no option on accepted sockets.
  EXPECT_EQ(NoDelayOf(accepted), 1);
  ::close(accepted);
  ::close(client);
  ::close(listener);
}

TEST(ListenSocketOptionsTest, RejectsAnInvalidDescriptor) {
  EXPECT_FALSE(ApplyListenSocketOptions(-1));
}

TEST(BindListenerTest, ConfiguredListenerHasNoDelay) {
  httplib::Server server;
  ConfigureServer(server, ListenerKind::kEnvd);
  int port = BindListener(server, "127.0.0.1", 0);
  ASSERT_GT(port, 0);
  int fd = FindListeningSocket(port);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(NoDelayOf(fd), 1);
  StopNeverServed(server);
}

TEST(BindListenerTest, BindsTheRequestedPort) {
  // A free port: bind one, note it, release it.
  int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(probe, 0);
  sockaddr_in address = Loopback(0);
  ASSERT_EQ(
      ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  int wanted = PortOf(probe);
  ::close(probe);

  httplib::Server server;
  ConfigureServer(server, ListenerKind::kControlPlane);
  ASSERT_EQ(BindListener(server, "127.0.0.1", wanted), wanted);
  EXPECT_GE(FindListeningSocket(wanted), 0);
  // The port is taken now: a second listener fails cleanly.
  httplib::Server second;
  ConfigureServer(second, ListenerKind::kControlPlane);
  EXPECT_EQ(BindListener(second, "127.0.0.1", wanted), -1);
  StopNeverServed(server);
}

TEST(BindListenerTest, BacklogHoldsABurstOfConnects) {
  httplib::Server server;
  ConfigureServer(server, ListenerKind::kEnvd);
  int port = BindListener(server, "127.0.0.1", 0);
  ASSERT_GT(port, 0);
  // Nobody accepts yet: every connect that completes sits in the accept
  // queue. With a backlog of 5 only 6 would; the rest would hang in
  // SYN_SENT.
  constexpr int kClients = 64;
  std::vector<int> clients;
  sockaddr_in target = Loopback(port);
  for (int i = 0; i < kClients; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_GE(fd, 0);
    clients.push_back(fd);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target);
    ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << "connect " << i;
  }
  int connected = 0;
  auto until = Clock::now() + std::chrono::seconds(3);
  std::vector<bool> done(kClients, false);
  while (connected < kClients && Clock::now() < until) {
    std::vector<pollfd> fds;
    std::vector<int> index;
    for (int i = 0; i < kClients; ++i) {
      if (done[i]) continue;
      fds.push_back({clients[i], POLLOUT, 0});
      index.push_back(i);
    }
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      int error = 0;
      socklen_t size = sizeof error;
      ::getsockopt(fds[k].fd, SOL_SOCKET, SO_ERROR, &error, &size);
      ASSERT_EQ(error, 0) << "client " << index[k] << " was refused";
      done[index[k]] = true;
      ++connected;
    }
  }
  EXPECT_EQ(connected, kClients);
  // Closed before the accept loop starts, so the connection threads it
  // spawns see EOF at once and shutdown does not wait for them.
  for (int fd : clients) ::close(fd);
  StopNeverServed(server);
}

// Opens `count` TCP connections to 127.0.0.1:port that never send a byte;
// returns once the kernel has completed them all.
std::vector<int> OpenIdleConnections(int port, int count) {
  std::vector<int> fds;
  sockaddr_in target = Loopback(port);
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) !=
        0) {
      ::close(fd);
      break;
    }
    fds.push_back(fd);
  }
  return fds;
}

// A Listener serving on its own thread, stopped at the end of the test.
class ServedListener {
 public:
  explicit ServedListener(ListenerKind kind, ListenerLimits limits = {})
      : listener(kind, limits) {
    listener.Get("/health", [](const httplib::Request&,
                               httplib::Response& res) { res.status = 204; });
    port = listener.Bind("127.0.0.1", 0);
    thread = std::thread([this] { listener.Serve(); });
  }
  ~ServedListener() {
    listener.Stop();
    thread.join();
  }
  Listener listener;
  int port = -1;
  std::thread thread;
};

// 1,100 idle connections (what once stopped /health at 1,030, and with a
// polling thread each cost ~1.8 cores) hold no thread: /health on a fresh
// connection answers at once, on either listener.
TEST(ListenerTest, IdleConnectionsDoNotStarveHealth) {
  ASSERT_GE(RaiseOpenFileLimit(), 2500u)
      << "the test needs 2 x 1,100 descriptors";
  for (ListenerKind kind : {ListenerKind::kEnvd, ListenerKind::kControlPlane}) {
    ServedListener served(kind);
    ASSERT_GT(served.port, 0);
    std::vector<int> idle = OpenIdleConnections(served.port, 1100);
    ASSERT_EQ(idle.size(), 1100u);
    auto until = Clock::now() + std::chrono::seconds(5);
    while (served.listener.IdleConnections() < 1100 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(served.listener.IdleConnections(), 1100u);
    EXPECT_EQ(served.listener.ActiveConnections(), 0u);
    httplib::Client client("127.0.0.1", served.port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(2, 0);
    auto started = Clock::now();
    auto res = client.Get("/health");
    auto took = Clock::now() - started;
    ASSERT_TRUE(res) << "no answer with 1,100 idle connections open";
    EXPECT_EQ(res->status, 204);
    EXPECT_LT(took, std::chrono::seconds(1))
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
        << " ms";
    for (int fd : idle) ::close(fd);
  }
}

// Reads until the peer closes; true when it did within `limit`.
bool ClosedByPeerWithin(int fd, std::chrono::milliseconds limit) {
  auto until = Clock::now() + limit;
  char buf[256];
  while (Clock::now() < until) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

TEST(ListenerTest, IdleAndSlowHeadConnectionsAreClosed) {
  ListenerLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(300);
  limits.head_timeout = std::chrono::milliseconds(300);
  ServedListener served(ListenerKind::kEnvd, limits);
  auto idle = OpenIdleConnections(served.port, 1);
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_TRUE(ClosedByPeerWithin(idle[0], std::chrono::seconds(3)));
  ::close(idle[0]);
  // A head that never completes is cut at the head timeout, although
  // bytes keep arriving within the read timeout.
  auto slow = OpenIdleConnections(served.port, 1);
  ASSERT_EQ(slow.size(), 1u);
  const std::string head = "GET /health HTTP/1.1\r\nX-Slow: ";
  ASSERT_EQ(::send(slow[0], head.data(), head.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(head.size()));
  bool closed = false;
  auto until = Clock::now() + std::chrono::seconds(3);
  while (!closed && Clock::now() < until) {
    if (::send(slow[0], "a", 1, MSG_NOSIGNAL) != 1) break;
    closed = ClosedByPeerWithin(slow[0], std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(closed || Clock::now() < until) << "slow head never cut";
  ::close(slow[0]);
}

TEST(ListenerTest, KeptAliveConnectionsAndLongStreamsWork) {
  ListenerLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(500);
  ServedListener served(ListenerKind::kEnvd, limits);
  // A response that streams for longer than the idle timeout: it is not
  // idle and is never cut.
  served.listener.Get(
      "/stream", [](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider(
            "text/plain", [](size_t offset, httplib::DataSink& sink) {
              if (offset >= 8) {
                sink.done();
                return true;
              }
              std::this_thread::sleep_for(std::chrono::milliseconds(150));
              sink.write("x", 1);
              return true;
            });
      });
  httplib::Client client("127.0.0.1", served.port);
  client.set_keep_alive(true);
  for (int i = 0; i < 3; ++i) {
    auto res = client.Get("/health");
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->status, 204);
  }
  auto res = client.Get("/stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "xxxxxxxx");
  EXPECT_EQ(client.Get("/health")->status, 204);
}

// A POST without Content-Length or Transfer-Encoding has an empty body
// (RFC 9112 6.3) and is answered at once, instead of holding its connection
// thread until the read timeout (httplib's default reads until close).
TEST(ConfigureServerTest, BodyWithoutLengthIsEmpty) {
  httplib::Server server;
  ConfigureServer(server, ListenerKind::kControlPlane);
  server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("got " + std::to_string(req.body.size()), "text/plain");
  });
  int port = BindListener(server, "127.0.0.1", 0);
  ASSERT_GT(port, 0);
  std::thread thread = e2b_test::ListenInBackground(server);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in target = Loopback(port);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target),
            0);
  // The bound only stops a failing test from waiting out the 60 s read
  // timeout.
  auto exchange = [fd](const std::string& request, const std::string& want) {
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return std::string("send failed");
    }
    std::string answer;
    char buffer[4096];
    auto until = Clock::now() + std::chrono::seconds(10);
    while (answer.find(want) == std::string::npos && Clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      answer.append(buffer, static_cast<std::size_t>(n));
    }
    return answer;
  };
  std::string first = exchange("POST /echo HTTP/1.1\r\nHost: x\r\n\r\n", "got");
  EXPECT_NE(first.find("got 0"), std::string::npos) << first;
  // The connection is still in step: the next request is read as one.
  std::string second = exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "got");
  EXPECT_NE(second.find("got 3"), std::string::npos) << second;
  ::close(fd);
  server.stop();
  thread.join();
}

}  // namespace
}  // namespace e2b_local
