#include "support/test_server.hpp"

#include "support/background_listen.hpp"

#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

namespace e2b_test {

TestServer::TestServer() {
  // Enough workers that every keep-alive connection of a busy test gets its
  // own (httplib's default pool has 8, and a held connection pins one).
  server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server_.set_keep_alive_max_count(100000);
  // Without it, Nagle and delayed ACKs add ~40 ms to every small response.
  server_.set_tcp_nodelay(true);
  server_.set_read_timeout(30, 0);
  server_.set_write_timeout(30, 0);
  // Runs after the handler and before the response is written, so a request
  // is recorded before its client sees the answer.
  server_.set_post_routing_handler(
      [this](const httplib::Request& request, httplib::Response&) {
        Record(request);
      });
  // httplib's default socket options, plus a note of the listening socket.
  int listen_fd = -1;
  server_.set_socket_options([&listen_fd](socket_t fd) {
    listen_fd = fd;
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("test server: bind failed");
  // httplib listens with a backlog of 5: a burst of parallel connects then
  // overflows the accept queue and clients see resets. Listening again only
  // raises the backlog.
  if (listen_fd >= 0) ::listen(listen_fd, 1024);
}

TestServer::~TestServer() { Stop(); }

void TestServer::Start() {
  if (started_) return;
  started_ = true;
  thread_ = ListenInBackground(server_);
}

void TestServer::Stop() {
  if (!started_) {
    // Never served: run the accept loop briefly so stop() closes the socket.
    Start();
  }
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string TestServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::size_t TestServer::connections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peers_.size();
}

std::vector<RecordedRequest> TestServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

void TestServer::clear_requests() {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.clear();
}

void TestServer::Record(const httplib::Request& request) {
  RecordedRequest recorded;
  recorded.method = request.method;
  recorded.path = request.path;
  auto question = request.target.find('?');
  recorded.raw_path = request.target.substr(0, question);
  if (question != std::string::npos) {
    recorded.raw_query = request.target.substr(question + 1);
    auto hash = recorded.raw_query.find('#');
    if (hash != std::string::npos) recorded.raw_query.resize(hash);
  }
  recorded.headers = request.headers;
  recorded.body = request.body;
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.push_back(std::move(recorded));
  peers_.emplace(request.remote_addr, request.remote_port);
}

}  // namespace e2b_test
