#include "http/listener.hpp"

#include "util/poll_one.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace e2b_local {
namespace {

using Clock = std::chrono::steady_clock;

int Millis(Clock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, 24LL * 3600 * 1000));
}

void AddressOf(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  int rc =
      peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size)
           : ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  if (rc != 0) return;
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&address), size, host,
                    sizeof host, service, sizeof service,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

// One connection as httplib's request parser and writers see it: reads are
// buffered (httplib reads the head byte by byte) and bounded by the read
// timeout and, until the head is in, by the head deadline.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int fd, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd),
        read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms) {}

  void StartRequest(Clock::time_point head_deadline) {
    head_deadline_ = head_deadline;
    head_pending_ = true;
  }
  void HeadReceived() { head_pending_ = false; }
  bool HasBuffered() const { return begin_ < end_; }
  bool Taken() const { return taken_; }

  // Hands the socket to a handler: what is buffered goes with it, and
  // httplib's reads and writes fail from now on, so it ends the exchange.
  std::string Take() {
    taken_ = true;
    std::string early(buffer_ + begin_, end_ - begin_);
    begin_ = end_ = 0;
    return early;
  }

  bool is_readable() const override {
    if (taken_) return false;
    return HasBuffered() ||
           (PollOne(fd_, POLLIN, std::chrono::milliseconds(ReadWaitMs())) &
            POLLIN) != 0;
  }
  bool is_writable() const override {
    if (taken_) return false;
    return (PollOne(fd_, POLLOUT,
                    std::chrono::milliseconds(write_timeout_ms_)) &
            POLLOUT) != 0 &&
           PeerStillThere();
  }

  ssize_t read(char* ptr, size_t size) override {
    if (taken_) return -1;
    if (!HasBuffered()) {
      int wait = ReadWaitMs();
      if (wait <= 0 || (PollOne(fd_, POLLIN, std::chrono::milliseconds(wait)) &
                        (POLLIN | POLLHUP | POLLERR)) == 0) {
        return -1;
      }
      ssize_t n = 0;
      do {
        n = ::recv(fd_, buffer_, sizeof buffer_, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    std::size_t take = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, take);
    begin_ += take;
    return static_cast<ssize_t>(take);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (taken_) return -1;
    if ((PollOne(fd_, POLLOUT, std::chrono::milliseconds(write_timeout_ms_)) &
         POLLOUT) == 0)
      return -1;
    ssize_t n = 0;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(fd_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(fd_, false, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  int ReadWaitMs() const {
    if (!head_pending_) return read_timeout_ms_;
    return std::min(read_timeout_ms_, Millis(head_deadline_ - Clock::now()));
  }

  // What httplib asks before each write of a long response: a peer that
  // has closed its end (EOF pending) is gone, so a stream stops at once.
  bool PeerStillThere() const {
    if (HasBuffered()) return true;
    short revents = PollOne(fd_, POLLIN, std::chrono::milliseconds(0));
    if ((revents & (POLLERR | POLLHUP)) != 0) return false;
    if ((revents & POLLIN) == 0) return true;
    char byte = 0;
    ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
  }

  int fd_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  bool head_pending_ = false;
  bool taken_ = false;
  Clock::time_point head_deadline_;
  char buffer_[16384]{};
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

thread_local ConnectionStream* current_stream = nullptr;
// Whether the listener serving current_stream is stopping.
thread_local std::function<bool()> current_stopping;

int TimeoutMs(time_t sec, time_t usec) {
  return static_cast<int>(sec * 1000 + usec / 1000);
}

}  // namespace

std::optional<TakenConnection> TakeRequestConnection() {
  if (current_stream == nullptr || current_stream->Taken()) {
    return std::nullopt;
  }
  TakenConnection taken;
  taken.fd = current_stream->socket();
  taken.early_bytes = current_stream->Take();
  taken.stopping = current_stopping;
  return taken;
}

void NoteRequestHeadReceived() {
  if (current_stream != nullptr) current_stream->HeadReceived();
}

struct Listener::Shared {
  mutable std::mutex mu;
  std::condition_variable cv;
  int epoll_fd = -1;
  int wake_fd = -1;
  bool stopping = false;
  std::chrono::milliseconds drain{5000};
  std::size_t active = 0;
  std::deque<int> waiting;  ///< readable, waiting for a thread
  std::map<int, Clock::time_point> idle;
  std::multimap<Clock::time_point, int> idle_by_deadline;

  // With mu held.
  void ForgetIdle(int fd) {
    auto it = idle.find(fd);
    if (it == idle.end()) return;
    auto range = idle_by_deadline.equal_range(it->second);
    for (auto i = range.first; i != range.second; ++i) {
      if (i->second == fd) {
        idle_by_deadline.erase(i);
        break;
      }
    }
    idle.erase(it);
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  }
};

Listener::Listener(ListenerKind kind, ListenerLimits limits)
    : limits_(limits), shared_(std::make_unique<Shared>()) {
  ConfigureServer(*this, kind);
  shared_->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  shared_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Listener::~Listener() {
  Stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (shared_->epoll_fd >= 0) ::close(shared_->epoll_fd);
  if (shared_->wake_fd >= 0) ::close(shared_->wake_fd);
}

int Listener::Bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  if (::getaddrinfo(bare.c_str(), std::to_string(port).c_str(), &hints,
                    &found) != 0) {
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                  a->ai_protocol);
    if (fd < 0) continue;
    if (ApplyListenSocketOptions(fd) &&
        ::bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        ::listen(fd, SOMAXCONN) == 0) {
      break;
    }
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) return -1;
  std::string ip;
  int bound = -1;
  AddressOf(fd, false, ip, bound);
  if (bound <= 0) {
    ::close(fd);
    return -1;
  }
  listen_fd_ = fd;
  // httplib's response writers stop streaming once svr_sock_ is invalid
  // (its notion of "shutting down"), so it holds the listening socket
  // while we serve, as it would under httplib's own loop.
  svr_sock_ = fd;
  return bound;
}

void Listener::Serve() {
  Shared& s = *shared_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.stopping || listen_fd_ < 0 || s.epoll_fd < 0 || s.wake_fd < 0) {
      return;
    }
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.fd = s.wake_fd;
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.wake_fd, &ev);

  std::vector<epoll_event> events(256);
  for (;;) {
    int n = ::epoll_wait(s.epoll_fd, events.data(),
                         static_cast<int>(events.size()), 1000);
    {
      std::lock_guard<std::mutex> lock(s.mu);
      if (s.stopping) break;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == s.wake_fd) {
        std::uint64_t count = 0;
        while (::read(s.wake_fd, &count, sizeof count) > 0) {
        }
      } else if (fd == listen_fd_) {
        for (;;) {
          int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
          if (conn < 0) {
            // EMFILE and friends: the connection stays queued; the next
            // round retries once descriptors are free again.
            break;
          }
          ParkIdle(conn);
        }
      } else {
        bool was_idle = false;
        {
          std::lock_guard<std::mutex> lock(s.mu);
          was_idle = s.idle.count(fd) != 0;
          s.ForgetIdle(fd);
        }
        if (was_idle) Dispatch(fd);
      }
    }
    CloseExpiredIdle();
  }

  // Stopped: no new connections, idle ones closed, running requests given
  // the drain time to finish.
  std::unique_lock<std::mutex> lock(s.mu);
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_DEL, listen_fd_, nullptr);
  ::close(listen_fd_);
  listen_fd_ = -1;
  while (!s.idle.empty()) {
    int fd = s.idle.begin()->first;
    s.ForgetIdle(fd);
    ::close(fd);
  }
  for (int fd : s.waiting) ::close(fd);
  s.waiting.clear();
  s.cv.wait_for(lock, s.drain, [&] { return s.active == 0; });
}

void Listener::Stop(std::chrono::milliseconds drain) {
  Shared& s = *shared_;
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.stopping) return;
  s.stopping = true;
  s.drain = drain;
  svr_sock_ = INVALID_SOCKET;  // ends running streams, as httplib's stop()
  std::uint64_t one = 1;
  if (s.wake_fd >= 0) {
    ssize_t ignored = ::write(s.wake_fd, &one, sizeof one);
    (void)ignored;
  }
}

std::size_t Listener::IdleConnections() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->idle.size();
}

std::size_t Listener::ActiveConnections() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->active;
}

void Listener::ParkIdle(int fd) {
  Shared& s = *shared_;
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.stopping) {
    ::close(fd);
    return;
  }
  if (s.idle.size() >= limits_.max_idle && !s.idle_by_deadline.empty()) {
    // Room for this one: the connection that has waited longest goes.
    int oldest = s.idle_by_deadline.begin()->second;
    s.ForgetIdle(oldest);
    ::close(oldest);
  }
  auto deadline = Clock::now() + limits_.idle_timeout;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = fd;
  if (::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    return;
  }
  s.idle[fd] = deadline;
  s.idle_by_deadline.emplace(deadline, fd);
}

void Listener::CloseExpiredIdle() {
  Shared& s = *shared_;
  std::lock_guard<std::mutex> lock(s.mu);
  const auto now = Clock::now();
  while (!s.idle_by_deadline.empty() &&
         s.idle_by_deadline.begin()->first <= now) {
    int fd = s.idle_by_deadline.begin()->second;
    s.ForgetIdle(fd);
    ::close(fd);
  }
}

void Listener::Dispatch(int fd) {
  Shared& s = *shared_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.active >= limits_.max_active) {
      s.waiting.push_back(fd);
      return;
    }
    ++s.active;
  }
  try {
    std::thread([this, fd] {
      int next = fd;
      while (next >= 0) {
        ServeConnection(next);
        Shared& shared = *shared_;
        std::lock_guard<std::mutex> lock(shared.mu);
        if (!shared.waiting.empty() && !shared.stopping) {
          next = shared.waiting.front();
          shared.waiting.pop_front();
        } else {
          next = -1;
          --shared.active;
          shared.cv.notify_all();
        }
      }
    }).detach();
  } catch (const std::system_error&) {
    ::close(fd);
    std::lock_guard<std::mutex> lock(s.mu);
    --s.active;
    s.cv.notify_all();
  }
}

void Listener::ServeConnection(int fd) {
  ConnectionStream stream(fd, TimeoutMs(read_timeout_sec_, read_timeout_usec_),
                          TimeoutMs(write_timeout_sec_, write_timeout_usec_));
  current_stream = &stream;
  current_stopping = [this] {
    std::lock_guard<std::mutex> lock(shared_->mu);
    return shared_->stopping;
  };
  for (;;) {
    stream.StartRequest(Clock::now() + limits_.head_timeout);
    bool connection_closed = false;
    bool ok = false;
    try {
      ok = process_request(stream, /*close_connection=*/false,
                           connection_closed, nullptr);
    } catch (...) {
      ok = false;  // a handler that throws must not take the server down
    }
    bool stopping = false;
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      stopping = shared_->stopping;
    }
    if (!ok || connection_closed || stopping || stream.Taken()) break;
    // A pipelined request already here is served on this thread; otherwise
    // the connection waits for its next request without one.
    if (stream.HasBuffered() ||
        (PollOne(fd, POLLIN, std::chrono::milliseconds(0)) & POLLIN) != 0) {
      continue;
    }
    current_stream = nullptr;
    ParkIdle(fd);
    return;
  }
  current_stream = nullptr;
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

}  // namespace e2b_local
