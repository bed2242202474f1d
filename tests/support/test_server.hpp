#ifndef E2B_TESTS_SUPPORT_TEST_SERVER_HPP_
#define E2B_TESTS_SUPPORT_TEST_SERVER_HPP_

// An in-process HTTP server on 127.0.0.1 for unit tests: the library talks
// real HTTP to it, and tests inspect exactly what went over the wire.

#include <httplib.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace e2b_test {

struct RecordedRequest {
  std::string method;
  /// Decoded, as httplib routes on it.
  std::string path;
  /// The path exactly as sent, still percent-encoded.
  std::string raw_path;
  /// Exactly as sent, still percent-encoded, without '?'.
  std::string raw_query;
  httplib::Headers headers;
  /// Empty for handlers that read the body with a ContentReader.
  std::string body;
};

class TestServer {
 public:
  /// Binds 127.0.0.1 on a free port; register handlers, then Start().
  TestServer();
  /// Stops the server and joins its thread.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  httplib::Server& server() { return server_; }
  /// Serves in a background thread; returns once connections are accepted.
  void Start();
  /// Stops serving (also done by the destructor).
  void Stop();

  /// "http://127.0.0.1:<port>"
  std::string url() const;
  int port() const { return port_; }

  /// Distinct client TCP connections that sent at least one request.
  std::size_t connections() const;
  /// Every request received, in order.
  std::vector<RecordedRequest> requests() const;
  void clear_requests();

 private:
  void Record(const httplib::Request& request);

  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  bool started_ = false;
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  std::set<std::pair<std::string, int>> peers_;
};

}  // namespace e2b_test

#endif  // E2B_TESTS_SUPPORT_TEST_SERVER_HPP_
