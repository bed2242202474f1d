#ifndef E2B_LOCAL_HTTP_SERVER_SETUP_HPP_
#define E2B_LOCAL_HTTP_SERVER_SETUP_HPP_

// How both e2b-local listeners are configured: one thread per connection
// (an envd stream lives as long as its process, so a fixed pool would let a
// few streams starve everyone), up to a cap far above what idle clients
// hold, keep-alive and read timeouts that close idle and stalled
// connections, and a write timeout that never cuts a quiet stream.

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace e2b_local {

/// Connections each listener serves at once. Idle connections hold one
/// each until the keep-alive timeout closes them, so the cap sits far above
/// the ~1,000 idle sockets a client may leave open; beyond it the accept
/// loop waits for a slot.
inline constexpr std::size_t kMaxConnectionsPerListener = 8192;
/// A connection that sends nothing (before its first request or between
/// requests) is closed after this long.
inline constexpr int kKeepAliveTimeoutSeconds = 30;
/// A request whose bytes stop arriving for this long is dropped.
inline constexpr int kReadTimeoutSeconds = 30;

/// httplib task queue running each connection on its own thread, at most
/// `max_connections` at once (the accept loop waits for a free slot).
class ConnectionThreadQueue : public httplib::TaskQueue {
 public:
  explicit ConnectionThreadQueue(
      std::size_t max_connections = kMaxConnectionsPerListener);
  ~ConnectionThreadQueue() override;
  ConnectionThreadQueue(const ConnectionThreadQueue&) = delete;
  ConnectionThreadQueue& operator=(const ConnectionThreadQueue&) = delete;

  void enqueue(std::function<void()> fn) override;
  /// Waits for running connections to finish, at most the drain timeout.
  void shutdown() override;

  /// How long shutdown() waits for connections (default 5 s).
  void SetDrainTimeout(std::chrono::milliseconds timeout);
  std::size_t Active() const;

 private:
  // Shared with the connection threads, which may outlive the queue when
  // a connection does not end within the drain timeout.
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t active = 0;
    bool shut_down = false;
    std::chrono::milliseconds drain_timeout{5000};
  };
  const std::size_t max_connections_;
  std::shared_ptr<State> state_;
};

enum class ListenerKind { kControlPlane, kEnvd };

/// Raises this process's open-file soft limit to its hard limit, so every
/// connection slot can hold a socket (at the common soft limit of 1024,
/// accept() fails with EMFILE long before the cap). Returns the new soft
/// limit.
std::size_t RaiseOpenFileLimit();

/// Task queue, keep-alive, timeouts, payload limit (control plane: 1 MiB;
/// ControlPlane::Mount lifts it and bounds bodies itself, so that volume
/// uploads can stream),
/// TCP_NODELAY on the listening socket and, for the control plane, JSON
/// bodies for httplib's own errors.
void ConfigureServer(httplib::Server& server, ListenerKind kind);

/// The options every e2b-local listening socket gets: SO_REUSEADDR and
/// TCP_NODELAY. Linux copies TCP_NODELAY to the sockets accept() returns,
/// which matters because httplib writes a response's headers and body
/// with separate send() calls: under Nagle the body of every response on a
/// kept-alive connection waits ~40 ms for the client's delayed ACK.
/// Returns false when the kernel refused one of them.
bool ApplyListenSocketOptions(int fd);

/// Binds `server` (already configured) to host:port, any free port when
/// `port` is 0, and listens with a backlog of SOMAXCONN instead of
/// httplib's 5, which a burst of parallel clients overflows (the kernel
/// then resets their connections). Returns the port, or -1.
int BindListener(httplib::Server& server, const std::string& host, int port);

/// Writes the control plane's error body {"code": status, "message": ...}.
void SendJsonError(httplib::Response& res, int status,
                   const std::string& message);

/// Sends `body` as JSON with `status`.
void SendJson(httplib::Response& res, int status, const std::string& body);

}  // namespace e2b_local

#endif  // E2B_LOCAL_HTTP_SERVER_SETUP_HPP_
