#include "support/faulty_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace e2b_test {
namespace {

constexpr int kPollSliceMs = 20;
// A client that sends nothing for this long is gone; the worker gives up.
constexpr auto kIdleLimit = std::chrono::seconds(10);

std::string Lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string Trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  const auto end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

void Reset(int fd) {
  linger option{};
  option.l_onoff = 1;
  option.l_linger = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(fd);
}

std::string ReasonOf(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

}  // namespace

FaultStep FaultStep::Json(
    int status, std::string body,
    std::vector<std::pair<std::string, std::string>> extra_headers) {
  FaultStep step;
  step.status = status;
  step.body = std::move(body);
  step.headers.emplace_back("Content-Type", "application/json");
  for (auto& header : extra_headers) step.headers.push_back(std::move(header));
  return step;
}

FaultStep FaultStep::Of(Kind kind) {
  FaultStep step;
  step.kind = kind;
  return step;
}

std::string FaultRequest::Header(const std::string& name) const {
  const std::string wanted = Lower(name);
  for (const auto& [key, value] : headers) {
    if (Lower(key) == wanted) return value;
  }
  return {};
}

FaultyServer::FaultyServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("faulty server: socket failed");
  int yes = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address),
                    &length) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("faulty server: bind/listen failed");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultyServer::~FaultyServer() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.join();
}

void FaultyServer::Push(FaultStep step) {
  std::lock_guard<std::mutex> lock(mutex_);
  script_.push_back(std::move(step));
}

void FaultyServer::Push(std::vector<FaultStep> steps) {
  for (auto& step : steps) Push(std::move(step));
}

std::string FaultyServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::size_t FaultyServer::request_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_.size();
}

std::vector<FaultRequest> FaultyServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

void FaultyServer::clear_requests() {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.clear();
}

void FaultyServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollSliceMs) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    std::lock_guard<std::mutex> lock(mutex_);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

FaultStep FaultyServer::NextStep() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (script_.empty()) {
    return FaultStep::Json(599, R"({"code":599,"message":"no step"})");
  }
  const std::size_t index = std::min(next_step_, script_.size() - 1);
  ++next_step_;
  return script_[index];
}

bool FaultyServer::ReadRequest(int fd, FaultRequest& request) {
  std::string data;
  const auto give_up = std::chrono::steady_clock::now() + kIdleLimit;
  auto fill = [&]() {
    while (!stopping_ && std::chrono::steady_clock::now() < give_up) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, kPollSliceMs) <= 0) continue;
      char buffer[16384];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  };
  std::size_t head_end;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return false;
  }
  request.received = std::chrono::steady_clock::now();
  const std::string head = data.substr(0, head_end);
  std::size_t line_end = head.find("\r\n");
  const std::string first = head.substr(0, line_end);
  const auto space1 = first.find(' ');
  const auto space2 = first.find(' ', space1 + 1);
  if (space1 == std::string::npos || space2 == std::string::npos) return false;
  request.method = first.substr(0, space1);
  request.target = first.substr(space1 + 1, space2 - space1 - 1);
  while (line_end != std::string::npos && line_end < head.size()) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos
                                                         : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    request.headers.emplace_back(line.substr(0, colon),
                                 Trim(line.substr(colon + 1)));
  }
  std::string body = data.substr(head_end + 4);
  if (Lower(request.Header("Expect")) == "100-continue") {
    if (!SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return false;
  }
  const std::string length = request.Header("Content-Length");
  if (!length.empty()) {
    const std::size_t want = std::stoull(length);
    data = std::move(body);
    while (data.size() < want) {
      if (!fill()) return false;
    }
    request.body = data.substr(0, want);
  } else if (Lower(request.Header("Transfer-Encoding")) == "chunked") {
    data = std::move(body);
    while (data.size() < 5 ||
           data.compare(data.size() - 5, 5, "0\r\n\r\n") != 0) {
      if (!fill()) return false;
    }
    request.body = std::move(data);  // still chunk-framed; enough for tests
  }
  return true;
}

bool FaultyServer::SendAll(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    if (stopping_) return false;
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, kPollSliceMs);
    if (ready < 0) return false;
    if (ready == 0) continue;
    const ssize_t n =
        ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Keeps the connection open and silent until the client gives up or the
// server stops.
void FaultyServer::Hold(int fd) {
  while (!stopping_) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kPollSliceMs) <= 0) continue;
    char buffer[4096];
    if (::recv(fd, buffer, sizeof buffer, 0) <= 0) break;
  }
}

void FaultyServer::Serve(int fd) {
  FaultRequest request;
  if (!ReadRequest(fd, request)) {
    ::close(fd);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
  }
  const FaultStep step = NextStep();
  using Kind = FaultStep::Kind;
  if (step.kind == Kind::kResetBeforeAnswer) {
    Reset(fd);
    return;
  }
  if (step.kind == Kind::kRaw) {
    SendAll(fd, step.body);
    ::shutdown(fd, SHUT_WR);
    Hold(fd);
    ::close(fd);
    return;
  }
  if (step.kind == Kind::kStall) {
    Hold(fd);
    ::close(fd);
    return;
  }
  std::string head = "HTTP/1.1 " + std::to_string(step.status) + " " +
                     ReasonOf(step.status) + "\r\n";
  for (const auto& [name, value] : step.headers) {
    head += name + ": " + value + "\r\n";
  }
  head += "Connection: close\r\n";
  if (step.kind == Kind::kLargeBody) {
    head +=
        step.chunked
            ? "Transfer-Encoding: chunked\r\n\r\n"
            : "Content-Length: " + std::to_string(step.large_size) + "\r\n\r\n";
    bool ok = SendAll(fd, head);
    const std::string piece(256 * 1024, 'x');
    std::uint64_t left = step.large_size;
    while (ok && left > 0) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, piece.size()));
      if (step.chunked) {
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
        ok = SendAll(fd, size_line) && SendAll(fd, piece.substr(0, n)) &&
             SendAll(fd, "\r\n");
      } else {
        ok = SendAll(fd, piece.substr(0, n));
      }
      left -= n;
    }
    if (ok && step.chunked) SendAll(fd, "0\r\n\r\n");
    ::close(fd);
    return;
  }
  head += "Content-Length: " + std::to_string(step.body.size()) + "\r\n\r\n";
  const std::size_t cut = std::min(step.cut, step.body.size());
  switch (step.kind) {
    case Kind::kTruncate:
      SendAll(fd, head + step.body.substr(0, cut));
      ::shutdown(fd, SHUT_WR);
      Hold(fd);  // until the client closes: its read sees a clean EOF
      ::close(fd);
      return;
    case Kind::kResetMidBody:
      SendAll(fd, head + step.body.substr(0, cut));
      // Let the bytes leave before the reset overtakes them.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      Reset(fd);
      return;
    case Kind::kStallMidBody:
      SendAll(fd, head + step.body.substr(0, cut));
      Hold(fd);
      ::close(fd);
      return;
    default:
      SendAll(fd, head + step.body);
      ::shutdown(fd, SHUT_WR);
      Hold(fd);
      ::close(fd);
      return;
  }
}

}  // namespace e2b_test
