#ifndef E2B_LOCAL_HTTP_LISTENER_HPP_
#define E2B_LOCAL_HTTP_LISTENER_HPP_

// e2b-local's listening loop. httplib's own loop gives every accepted
// connection a thread that polls it every ~10 ms until its next request:
// 1,100 idle sockets cost ~1.8 cores and, at the thread cap, stopped the
// accept loop. Here a connection waiting for a request (its first, or the
// next on a kept-alive connection) sits in one epoll set and costs no
// thread; it gets a thread only while a request is being read, handled and
// answered (a Connect stream keeps its thread for as long as it runs).
// Idle connections are closed after the keep-alive timeout, a request whose
// head does not arrive within the head timeout is dropped, and past the
// connection cap the oldest idle connection makes room.

#include "http/server_setup.hpp"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace e2b_local {

struct ListenerLimits {
  /// Requests being handled at once (each holds a thread); more wait.
  std::size_t max_active = 4096;
  /// Connections waiting for a request; past it the oldest is closed.
  std::size_t max_idle = 16384;
  /// How long a connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{
      std::chrono::seconds(kKeepAliveTimeoutSeconds)};
  /// How long the request line and headers may take to arrive.
  std::chrono::milliseconds head_timeout{std::chrono::seconds(30)};
};

/// An httplib::Server (handlers, timeouts and limits as ConfigureServer
/// sets them) served by the loop above. Thread-safe: Serve on one thread,
/// Stop from any.
class Listener : public httplib::Server {
 public:
  explicit Listener(ListenerKind kind, ListenerLimits limits = {});
  ~Listener() override;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// Binds host:port (any free port for 0) with ApplyListenSocketOptions
  /// and a SOMAXCONN backlog. Returns the port, or -1.
  int Bind(const std::string& host, int port);
  /// Accepts and serves until Stop; returns at once if Stop came first.
  void Serve();
  /// Stops accepting, closes idle connections and waits (at most
  /// `drain`) for requests in progress. Idempotent.
  void Stop(std::chrono::milliseconds drain = std::chrono::seconds(5));

  /// Connections waiting for a request / being served (for tests).
  std::size_t IdleConnections() const;
  std::size_t ActiveConnections() const;

 private:
  struct Shared;
  void Dispatch(int fd);
  void ServeConnection(int fd);
  void ParkIdle(int fd);
  void CloseExpiredIdle();

  ListenerLimits limits_;
  int listen_fd_ = -1;
  std::unique_ptr<Shared> shared_;
};

/// A client connection taken out of httplib's hands by a handler, to speak
/// another protocol on it (a WebSocket tunnel after "101 Switching
/// Protocols").
struct TakenConnection {
  int fd = -1;  ///< the client's socket; the listener closes it later
  /// What the client sent after the request, read already.
  std::string early_bytes;
  /// True once the listener is stopping: a long tunnel should end.
  std::function<bool()> stopping;
};

/// Takes the connection of the request being handled on this thread: from
/// then on httplib neither reads nor writes it (its answer is dropped),
/// and the listener closes it once the handler returned. nullopt when the
/// request did not come through a Listener, or was taken already.
std::optional<TakenConnection> TakeRequestConnection();

/// Called by ConfigureServer's pre-routing handler: the request head has
/// arrived, so the head timeout no longer applies (a body may take as long
/// as the read timeout allows per read).
void NoteRequestHeadReceived();

}  // namespace e2b_local

#endif  // E2B_LOCAL_HTTP_LISTENER_HPP_
