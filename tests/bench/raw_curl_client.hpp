#ifndef E2B_BENCH_RAW_CURL_CLIENT_HPP_
#define E2B_BENCH_RAW_CURL_CLIENT_HPP_

// The floor of the call-overhead comparison: the least code that performs the
// same HTTP exchange as e2b-cpp (same method, URL, headers and body) on one
// reused libcurl easy handle, checking only what it must to know the call
// worked.

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <vector>

namespace e2b_bench {

struct RawStreamTiming {
  double first_message_seconds = 0;  ///< request start to the first envelope
  double total_seconds = 0;          ///< request start to end-of-stream
};

class RawCurlClient {
 public:
  RawCurlClient(std::string api_url, std::string api_key, std::string envd_url);
  ~RawCurlClient();
  RawCurlClient(const RawCurlClient&) = delete;
  RawCurlClient& operator=(const RawCurlClient&) = delete;

  /// GET /sandboxes/{id}; throws BenchError unless 200 with a body.
  void Info(const std::string& sandbox_id);

  /// POST /process.Process/Start with one Connect envelope holding
  /// `start_json`, read until the end-of-stream envelope; throws BenchError
  /// unless the stream ends cleanly.
  RawStreamTiming Start(const std::string& sandbox_id,
                        const std::string& access_token,
                        const std::string& start_json);

  /// Connections this handle opened so far (CURLOPT_OPENSOCKETFUNCTION).
  long ConnectionsOpened() const { return sockets_opened_; }

 private:
  static std::size_t OnWrite(char* data, std::size_t size, std::size_t count,
                             void* self);
  static curl_socket_t OnOpenSocket(void* self, curlsocktype purpose,
                                    curl_sockaddr* address);
  long Perform(curl_slist* headers);

  std::string api_url_;
  std::string api_key_;
  std::string envd_url_;
  std::string user_agent_;
  CURL* easy_ = nullptr;
  std::string body_;
  std::string url_;
  std::string request_body_;
  // Stream bookkeeping while a Start response arrives.
  bool streaming_ = false;
  bool saw_first_message_ = false;
  std::chrono::steady_clock::time_point stream_start_{};
  double first_message_seconds_ = 0;
  long sockets_opened_ = 0;
};

}  // namespace e2b_bench

#endif  // E2B_BENCH_RAW_CURL_CLIENT_HPP_
