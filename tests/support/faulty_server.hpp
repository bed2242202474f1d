#ifndef E2B_TESTS_SUPPORT_FAULTY_SERVER_HPP_
#define E2B_TESTS_SUPPORT_FAULTY_SERVER_HPP_

// A deliberately misbehaving HTTP/1.1 server on 127.0.0.1 for fault
// injection: raw sockets, so it can do what no well-behaved server library
// would -- cut a body short, reset the connection, stall, lie about
// Content-Length or Content-Type. Each request gets the next scripted step
// (the last step repeats once the script runs out); every answer closes its
// connection, so one request is one connection and one attempt.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace e2b_test {

struct FaultStep {
  enum class Kind {
    /// A complete answer: status, headers, body (Content-Length added).
    kRespond,
    /// Declares Content-Length: body.size(), sends the first `cut` bytes,
    /// then closes normally (FIN).
    kTruncate,
    /// Closes with a TCP reset (SO_LINGER 0) before any answer.
    kResetBeforeAnswer,
    /// Sends the headers and the first `cut` bytes of the body, then resets.
    kResetMidBody,
    /// Reads the request and never answers (until the server stops).
    kStall,
    /// Sends the headers and the first `cut` bytes, then never sends more.
    kStallMidBody,
    /// Status and headers, then `large_size` bytes of 'x' generated on the
    /// fly (chunked when `chunked`, else with that Content-Length).
    kLargeBody,
    /// Sends `body` as is, instead of any HTTP answer, then closes.
    kRaw,
  };
  Kind kind = Kind::kRespond;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t cut = 0;
  std::uint64_t large_size = 0;
  bool chunked = false;

  /// A JSON answer (Content-Type: application/json).
  static FaultStep Json(
      int status, std::string body,
      std::vector<std::pair<std::string, std::string>> extra_headers = {});
  static FaultStep Of(Kind kind);
};

struct FaultRequest {
  std::string method;
  std::string target;  ///< path and query as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::steady_clock::time_point received;
  std::string Header(const std::string& name) const;  ///< case-insensitive
};

class FaultyServer {
 public:
  /// Listens on 127.0.0.1 on a free port and accepts at once.
  FaultyServer();
  /// Stops: stalled connections are closed, every thread joined.
  ~FaultyServer();
  FaultyServer(const FaultyServer&) = delete;
  FaultyServer& operator=(const FaultyServer&) = delete;

  /// Appends steps to the script.
  void Push(FaultStep step);
  void Push(std::vector<FaultStep> steps);

  /// "http://127.0.0.1:<port>"
  std::string url() const;

  /// Requests received so far (complete heads, bodies read).
  std::size_t request_count() const;
  std::vector<FaultRequest> requests() const;
  /// Forgets the requests received so far (the script stays).
  void clear_requests();

 private:
  void AcceptLoop();
  void Serve(int fd);
  FaultStep NextStep();
  bool ReadRequest(int fd, FaultRequest& request);
  bool SendAll(int fd, const std::string& data);
  void Hold(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::vector<FaultStep> script_;
  std::size_t next_step_ = 0;
  std::vector<FaultRequest> requests_;
};

}  // namespace e2b_test

#endif  // E2B_TESTS_SUPPORT_FAULTY_SERVER_HPP_
