#include "raw_curl_client.hpp"

#include "bench_support.hpp"

#include <e2b/version.hpp>

#include <sys/socket.h>

#include <chrono>
#include <cstdint>

namespace e2b_bench {
namespace {

// Header values e2b-cpp sends on these calls (src/internal/client_state.cpp,
// control_plane.cpp, commands.cpp, connect_client.cpp).
constexpr const char* kEnvdPort = "49983";
constexpr const char* kConnectTimeoutMs = "60000";

curl_slist* Append(curl_slist* list, const std::string& line) {
  curl_slist* next = curl_slist_append(list, line.c_str());
  if (next == nullptr) {
    curl_slist_free_all(list);
    throw BenchError("curl_slist_append failed");
  }
  return next;
}

}  // namespace

RawCurlClient::RawCurlClient(std::string api_url, std::string api_key,
                             std::string envd_url)
    : api_url_(std::move(api_url)),
      api_key_(std::move(api_key)),
      envd_url_(std::move(envd_url)),
      user_agent_(std::string("e2b-cpp/") + e2b::Version()),
      easy_(curl_easy_init()) {
  if (easy_ == nullptr) throw BenchError("curl_easy_init failed");
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &RawCurlClient::OnWrite);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETFUNCTION,
                   &RawCurlClient::OnOpenSocket);
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, user_agent_.c_str());
}

RawCurlClient::~RawCurlClient() { curl_easy_cleanup(easy_); }

std::size_t RawCurlClient::OnWrite(char* data, std::size_t size,
                                   std::size_t count, void* self) {
  auto* client = static_cast<RawCurlClient*>(self);
  if (client->streaming_ && !client->saw_first_message_) {
    client->saw_first_message_ = true;
    client->first_message_seconds_ = SecondsSince(client->stream_start_);
  }
  client->body_.append(data, size * count);
  return size * count;
}

curl_socket_t RawCurlClient::OnOpenSocket(void* self, curlsocktype purpose,
                                          curl_sockaddr* address) {
  (void)purpose;
  ++static_cast<RawCurlClient*>(self)->sockets_opened_;
  return socket(address->family, address->socktype, address->protocol);
}

long RawCurlClient::Perform(curl_slist* headers) {
  body_.clear();
  curl_easy_setopt(easy_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(easy_);
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    throw BenchError(std::string("raw curl: ") + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

void RawCurlClient::Info(const std::string& sandbox_id) {
  curl_slist* headers = nullptr;
  headers = Append(headers, "X-API-Key: " + api_key_);
  headers = Append(headers, "Accept: application/json");
  url_ = api_url_ + "/sandboxes/" + sandbox_id;
  curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
  streaming_ = false;
  const long status = Perform(headers);
  if (status != 200 || body_.empty()) {
    throw BenchError("raw Info: HTTP " + std::to_string(status));
  }
}

RawStreamTiming RawCurlClient::Start(const std::string& sandbox_id,
                                     const std::string& access_token,
                                     const std::string& start_json) {
  curl_slist* headers = nullptr;
  if (!access_token.empty()) {
    headers = Append(headers, "X-Access-Token: " + access_token);
  }
  headers = Append(headers, "E2b-Sandbox-Id: " + sandbox_id);
  headers = Append(headers, std::string("E2b-Sandbox-Port: ") + kEnvdPort);
  headers = Append(headers, "Keepalive-Ping-Interval: 50");
  headers = Append(headers, "Content-Type: application/connect+json");
  headers = Append(headers, "Connect-Protocol-Version: 1");
  headers =
      Append(headers, std::string("Connect-Timeout-Ms: ") + kConnectTimeoutMs);

  // One Connect envelope: flags 0, big-endian length, JSON payload.
  const auto size = static_cast<std::uint32_t>(start_json.size());
  request_body_.assign(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    request_body_.push_back(static_cast<char>((size >> shift) & 0xff));
  }
  request_body_ += start_json;
  url_ = envd_url_ + "/process.Process/Start";
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, request_body_.data());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(request_body_.size()));

  streaming_ = true;
  saw_first_message_ = false;
  stream_start_ = Clock::now();
  const long status = Perform(headers);
  RawStreamTiming timing;
  timing.total_seconds = SecondsSince(stream_start_);
  timing.first_message_seconds = first_message_seconds_;
  streaming_ = false;
  if (status != 200) {
    throw BenchError("raw Start: HTTP " + std::to_string(status));
  }
  // Walk the envelopes: the last one must be end-of-stream with "{}".
  std::size_t at = 0;
  bool ended = false;
  while (at + 5 <= body_.size()) {
    const auto flags = static_cast<unsigned char>(body_[at]);
    std::uint32_t length = 0;
    for (int i = 1; i <= 4; ++i) {
      length = (length << 8) | static_cast<unsigned char>(body_[at + i]);
    }
    if (at + 5 + length > body_.size()) break;
    if ((flags & 0x02) != 0) {
      ended = body_.compare(at + 5, length, "{}") == 0;
      at += 5 + length;
      break;
    }
    at += 5 + length;
  }
  if (!ended || at != body_.size()) {
    throw BenchError("raw Start: stream did not end cleanly");
  }
  return timing;
}

}  // namespace e2b_bench
