#include "http/server_setup.hpp"

#include "http/listener.hpp"

#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace e2b_local {

namespace {
constexpr std::size_t kControlPlaneMaxBody = 1 << 20;
}  // namespace

ConnectionThreadQueue::ConnectionThreadQueue(std::size_t max_connections)
    : max_connections_(max_connections == 0 ? 1 : max_connections),
      state_(std::make_shared<State>()) {}

ConnectionThreadQueue::~ConnectionThreadQueue() { shutdown(); }

void ConnectionThreadQueue::enqueue(std::function<void()> fn) {
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait(lock, [&] {
      return state_->active < max_connections_ || state_->shut_down;
    });
    ++state_->active;
  }
  auto finished = [](State& state) {
    std::lock_guard<std::mutex> lock(state.mu);
    --state.active;
    state.cv.notify_all();
  };
  try {
    std::thread([state = state_, fn = std::move(fn), finished]() mutable {
      try {
        fn();
      } catch (...) {
        // A handler that throws must not take the server down.
      }
      fn = nullptr;  // closes the socket before the slot is released
      finished(*state);
    }).detach();
  } catch (const std::system_error&) {
    // No thread for this connection: it is dropped (fn owned the socket).
    finished(*state_);
  }
}

void ConnectionThreadQueue::shutdown() {
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->shut_down = true;
  state_->cv.notify_all();
  state_->cv.wait_for(lock, state_->drain_timeout,
                      [&] { return state_->active == 0; });
}

void ConnectionThreadQueue::SetDrainTimeout(std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->drain_timeout = timeout;
}

std::size_t ConnectionThreadQueue::Active() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->active;
}

void SendJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void SendJsonError(httplib::Response& res, int status,
                   const std::string& message) {
  nlohmann::json body{{"code", status}, {"message", message}};
  // Invalid UTF-8 from a client (echoed in a message) must not throw.
  SendJson(res, status,
           body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::size_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return static_cast<std::size_t>(limit.rlim_cur);
}

bool ApplyListenSocketOptions(int fd) {
  int yes = 1;
  bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) == 0;
  ok = ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes) == 0 && ok;
  return ok;
}

int BindListener(httplib::Server& server, const std::string& host, int port) {
  // httplib does not expose the listening socket: note it as its options
  // are applied (for a host with several addresses, the last socket tried
  // is the one that bound).
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t fd) {
    listen_fd = fd;
    ApplyListenSocketOptions(fd);
  });
  int bound = -1;
  if (port == 0) {
    bound = server.bind_to_any_port(host);
  } else if (server.bind_to_port(host, port)) {
    bound = port;
  }
  server.set_socket_options([](socket_t fd) { ApplyListenSocketOptions(fd); });
  if (bound <= 0 || listen_fd < 0) return -1;
  // Listening again on a listening socket only changes its backlog. Should
  // the kernel refuse, the socket still listens with httplib's backlog.
  ::listen(listen_fd, SOMAXCONN);
  return bound;
}

void ConfigureServer(httplib::Server& server, ListenerKind kind) {
  server.new_task_queue = [] { return new ConnectionThreadQueue(); };
  // httplib applies this to the listening socket, which accepted sockets
  // inherit; the explicit option below covers a custom options callback.
  server.set_tcp_nodelay(true);
  server.set_socket_options([](socket_t fd) { ApplyListenSocketOptions(fd); });
  server.set_keep_alive_max_count(10000);
  // Before the first request and between requests: how long an idle
  // connection may hold its thread. Clients reconnect transparently (curl
  // and undici check a pooled connection before reusing it).
  server.set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  // While a request is being received: per read, so a stalled request
  // loses its thread after this long.
  server.set_read_timeout(kReadTimeoutSeconds, 0);
  // Only counts while the peer is not reading: a stream idle between
  // keepalives never writes, so it is never cut by this.
  server.set_write_timeout(300, 0);
  // RFC 9112 section 6.3: a request with neither Content-Length nor
  // Transfer-Encoding has an empty body. httplib instead reads a POST, PUT
  // or PATCH body until the peer closes, so such a request would hold its
  // connection thread for the whole read timeout before being answered.
  // The pre-routing handler runs before httplib reads the body: saying
  // "Content-Length: 0" makes it read none. httplib's Request is a
  // non-const object handed over as const, so the cast is well defined.
  server.set_pre_routing_handler(
      [](const httplib::Request& req, httplib::Response&) {
        NoteRequestHeadReceived();
        if (!req.has_header("Content-Length") &&
            !req.has_header("Transfer-Encoding")) {
          const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
  if (kind == ListenerKind::kControlPlane) {
    server.set_payload_max_length(kControlPlaneMaxBody);
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty())
            return httplib::Server::HandlerResponse::Unhandled;
          std::string message;
          switch (res.status) {
            case 400:
              message = "bad request";
              break;
            case 404:
              message = "not found";
              break;
            case 413:
              message = "request body too large (limit 1 MiB)";
              break;
            case 414:
              message = "request URI too long";
              break;
            case 405:
              message = "method not allowed";
              break;
            default:
              message = "HTTP error " + std::to_string(res.status);
          }
          SendJsonError(res, res.status, message);
          return httplib::Server::HandlerResponse::Handled;
        }));
  }
}

}  // namespace e2b_local
