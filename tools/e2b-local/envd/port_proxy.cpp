#include "envd/port_proxy.hpp"

#include "envd/files_handler.hpp"
#include "util/http_text.hpp"

#include <curl/curl.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <vector>

namespace e2b_local {
namespace {

using Clock = std::chrono::steady_clock;

// Body bytes held between the sandbox's server and the client: past this
// the transfer pauses until the client took them.
constexpr std::size_t kMaxPendingBody = std::size_t{64} << 10;
// How often a wait looks at the clock.
constexpr int kPollSliceMs = 200;

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// 1-65535, else nullopt.
std::optional<int> ParsePort(const std::string& text) {
  if (!AllDigits(text) || text.size() > 5) return std::nullopt;
  const int port = std::stoi(text);
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

// Hop-by-hop headers (RFC 9110 7.6.1) and what curl or httplib frame
// themselves; lowercase.
const std::set<std::string>& HopByHopHeaders() {
  static const std::set<std::string> kHeaders = {"connection",
                                                 "keep-alive",
                                                 "proxy-connection",
                                                 "proxy-authenticate",
                                                 "proxy-authorization",
                                                 "te",
                                                 "trailer",
                                                 "transfer-encoding",
                                                 "upgrade",
                                                 "content-length",
                                                 "expect"};
  return kHeaders;
}

// Request headers that stay at the edge: its credentials, and what httplib
// adds to a parsed request about the connection.
const std::set<std::string>& EdgeOnlyHeaders() {
  static const std::set<std::string> kHeaders = {"e2b-traffic-access-token",
                                                 "x-access-token",
                                                 "remote_addr",
                                                 "remote_port",
                                                 "local_addr",
                                                 "local_port"};
  return kHeaders;
}

// The header names a Connection header lists, lowercase.
std::set<std::string> ConnectionListed(const std::string& value) {
  std::set<std::string> names;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string name =
        Lowercase(TrimWhitespace(value.substr(start, comma - start)));
    if (!name.empty()) names.insert(name);
    start = comma + 1;
  }
  return names;
}

template <typename Headers>
std::set<std::string> AllConnectionListed(const Headers& headers) {
  std::set<std::string> names;
  for (const auto& [name, value] : headers) {
    if (Lowercase(name) != "connection") continue;
    auto listed = ConnectionListed(value);
    names.insert(listed.begin(), listed.end());
  }
  return names;
}

// One HTTP/1.1 exchange with a sandbox's server, driven by the thread that
// asks for its next step (curl multi, so a wait is bounded and the body
// moves in both directions without a thread of its own).
class UpstreamExchange {
 public:
  /// `host`: the Host the sandbox's server sees instead of the client's
  /// (the sandbox's maskRequestHost), empty to keep the client's.
  UpstreamExchange(UniqueFd socket, int port, std::string host,
                   const PortProxyLimits& limits)
      : socket_(std::move(socket)),
        port_(port),
        host_(std::move(host)),
        limits_(limits) {}

  ~UpstreamExchange() {
    if (multi_ != nullptr && easy_ != nullptr) {
      curl_multi_remove_handle(multi_, easy_);
    }
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }

  UpstreamExchange(const UpstreamExchange&) = delete;
  UpstreamExchange& operator=(const UpstreamExchange&) = delete;

  // Prepares the request; false when curl cannot (out of memory).
  bool Start(const httplib::Request& req, std::optional<long long> body_size,
             bool has_body) {
    easy_ = curl_easy_init();
    multi_ = curl_multi_init();
    if (easy_ == nullptr || multi_ == nullptr) return false;
    url_ = "http://127.0.0.1:" + std::to_string(port_) + req.target;
    SetRequestHeaders(req);
    curl_easy_setopt(easy_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    ConfigureConnection();
    ConfigureCallbacks();
    if (req.method == "HEAD") curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
    if (has_body) {
      curl_easy_setopt(easy_, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(easy_, CURLOPT_INFILESIZE_LARGE,
                       static_cast<curl_off_t>(body_size.value_or(-1)));
    }
    last_progress_ = Clock::now();
    return curl_multi_add_handle(multi_, easy_) == CURLM_OK;
  }

  // Hands the next piece of the request body over and moves the transfer
  // until it is taken; false when the exchange ended or went silent first.
  bool Upload(const char* data, std::size_t size) {
    in_data_ = data;
    in_size_ = size;
    curl_easy_pause(easy_, CURLPAUSE_CONT);
    Pump([this] { return in_size_ == 0; });
    const bool taken = in_size_ == 0;
    in_size_ = 0;
    return taken && !done_ && !timed_out_;
  }

  void EndUpload() {
    in_eof_ = true;
    curl_easy_pause(easy_, CURLPAUSE_CONT);
  }

  // Moves the transfer until the final response head arrived; nullopt then,
  // else why not.
  std::optional<PortForwardFailure> AwaitHead() {
    Pump([this] { return head_complete_; });
    if (head_complete_) return std::nullopt;
    return Failure();
  }

  int Status() const { return status_; }
  const std::vector<std::pair<std::string, std::string>>& Headers() const {
    return headers_in_;
  }
  // The declared body length, when the server gave one.
  std::optional<long long> ContentLength() const {
    curl_off_t length = -1;
    curl_easy_getinfo(easy_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    if (length < 0) return std::nullopt;
    return static_cast<long long>(length);
  }

  // Writes the next body bytes to `sink`; false when the body cannot be
  // completed (the server failed or went silent, or the client is gone).
  // `finished` is set once the body ended cleanly.
  bool NextBody(httplib::DataSink& sink, bool& finished) {
    finished = false;
    if (pending_.empty() && !done_) {
      Pump([this] { return !pending_.empty(); });
    }
    if (!pending_.empty()) {
      std::string chunk;
      chunk.swap(pending_);
      // Room again: a write paused for want of it may go on.
      curl_easy_pause(easy_, CURLPAUSE_CONT);
      return sink.write(chunk.data(), chunk.size());
    }
    if (done_ && result_ == CURLE_OK) {
      finished = true;
      return true;
    }
    return false;
  }

 private:
  void SetRequestHeaders(const httplib::Request& req) {
    const std::set<std::string> listed = AllConnectionListed(req.headers);
    bool has_accept = false;
    for (const auto& [name, value] : req.headers) {
      const std::string lower = Lowercase(name);
      if (HopByHopHeaders().count(lower) != 0 ||
          EdgeOnlyHeaders().count(lower) != 0 || listed.count(lower) != 0) {
        continue;
      }
      if (lower == "accept") has_accept = true;
      if (lower == "host" && !host_.empty()) continue;  // masked below
      // curl's syntax for a header with an empty value is "Name;".
      AddHeader(value.empty() ? name + ";" : name + ": " + value);
    }
    // Nothing the client did not send: no default Accept, no
    // "Expect: 100-continue" round trip.
    if (!host_.empty()) AddHeader("Host: " + host_);
    if (!has_accept) AddHeader("Accept:");
    AddHeader("Expect:");
  }

  void AddHeader(const std::string& line) {
    headers_ = curl_slist_append(headers_, line.c_str());
  }

  void ConfigureConnection() {
    curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http");
    // Never a proxy of the host's environment, never DNS, never elsewhere.
    curl_easy_setopt(easy_, CURLOPT_PROXY, "");
    curl_easy_setopt(easy_, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
    // The path goes as the client wrote it, as the edge forwards it.
    curl_easy_setopt(easy_, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(limits_.connect_timeout.count()));
    // Body bytes as they are, compressed or not.
    curl_easy_setopt(easy_, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(easy_, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
    curl_easy_setopt(easy_, CURLOPT_OPENSOCKETDATA, this);
  }

  void ConfigureCallbacks() {
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(easy_, CURLOPT_READDATA, this);
  }

  // curl's only socket: the one made in the sandbox's namespace, and only
  // for 127.0.0.1:port_ (whatever curl made of the URL).
  static curl_socket_t OpenSocket(void* self_ptr, curlsocktype purpose,
                                  curl_sockaddr* address) {
    auto* self = static_cast<UpstreamExchange*>(self_ptr);
    if (purpose != CURLSOCKTYPE_IPCXN || address == nullptr ||
        address->family != AF_INET || !self->socket_.valid() ||
        address->addrlen < sizeof(sockaddr_in)) {
      return CURL_SOCKET_BAD;
    }
    sockaddr_in target{};
    std::memcpy(&target, &address->addr, sizeof target);
    if (target.sin_addr.s_addr != htonl(INADDR_LOOPBACK) ||
        ntohs(target.sin_port) != self->port_) {
      return CURL_SOCKET_BAD;
    }
    return self->socket_.Release();
  }

  static std::size_t OnHeader(char* data, std::size_t size, std::size_t n,
                              void* self_ptr) {
    auto* self = static_cast<UpstreamExchange*>(self_ptr);
    const std::size_t bytes = size * n;
    self->last_progress_ = Clock::now();
    self->head_bytes_ += bytes;
    if (self->head_bytes_ > self->limits_.max_head_bytes) {
      self->head_too_large_ = true;
      return 0;  // curl ends the transfer with a write error
    }
    if (self->head_complete_) return bytes;  // trailers: not forwarded
    self->TakeHeaderLine(std::string(data, bytes));
    return bytes;
  }

  void TakeHeaderLine(const std::string& raw) {
    std::string line = raw;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.pop_back();
    }
    if (line.rfind("HTTP/", 0) == 0) {
      // A new head: an interim 1xx answer is followed by the final one.
      headers_in_.clear();
      const std::size_t space = line.find(' ');
      status_ = space == std::string::npos
                    ? 0
                    : std::atoi(line.substr(space + 1, 3).c_str());
      return;
    }
    if (line.empty()) {
      if (status_ >= 200) head_complete_ = true;
      return;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) return;
    headers_in_.emplace_back(TrimWhitespace(line.substr(0, colon)),
                             TrimWhitespace(line.substr(colon + 1)));
  }

  static std::size_t OnBody(char* data, std::size_t size, std::size_t n,
                            void* self_ptr) {
    auto* self = static_cast<UpstreamExchange*>(self_ptr);
    const std::size_t bytes = size * n;
    if (self->pending_.size() >= kMaxPendingBody) return CURL_WRITEFUNC_PAUSE;
    self->last_progress_ = Clock::now();
    self->pending_.append(data, bytes);
    return bytes;
  }

  static std::size_t OnRead(char* buffer, std::size_t size, std::size_t n,
                            void* self_ptr) {
    auto* self = static_cast<UpstreamExchange*>(self_ptr);
    if (self->in_size_ > 0) {
      const std::size_t bytes = std::min(size * n, self->in_size_);
      std::memcpy(buffer, self->in_data_, bytes);
      self->in_data_ += bytes;
      self->in_size_ -= bytes;
      self->last_progress_ = Clock::now();
      return bytes;
    }
    if (self->in_eof_) return 0;
    return CURL_READFUNC_PAUSE;
  }

  // Runs the transfer until `ready`, its end, or idle_timeout without a
  // byte either way.
  void Pump(const std::function<bool()>& ready) {
    for (;;) {
      int running = 0;
      curl_multi_perform(multi_, &running);
      CollectResult();
      if (ready() || done_) return;
      if (Clock::now() - last_progress_ >= limits_.idle_timeout) {
        timed_out_ = true;
        return;
      }
      int ready_fds = 0;
      curl_multi_poll(multi_, nullptr, 0, kPollSliceMs, &ready_fds);
    }
  }

  void CollectResult() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy_) {
        done_ = true;
        result_ = msg->data.result;
      }
    }
  }

  PortForwardFailure Failure() const {
    using Kind = PortForwardFailure::Kind;
    if (head_too_large_) {
      return {Kind::kBadResponse, "its response head is larger than " +
                                      std::to_string(limits_.max_head_bytes) +
                                      " bytes"};
    }
    if (timed_out_ || result_ == CURLE_OPERATION_TIMEDOUT) {
      return {Kind::kTimeout, "it did not answer within " +
                                  std::to_string(limits_.idle_timeout.count()) +
                                  " ms"};
    }
    switch (result_) {
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_BAD_CONTENT_ENCODING:
        return {Kind::kBadResponse,
                std::string("its answer is not HTTP/1.1: ") +
                    curl_easy_strerror(result_)};
      default:
        return {Kind::kClosed, curl_easy_strerror(result_)};
    }
  }

  UniqueFd socket_;
  const int port_;
  const std::string host_;
  const PortProxyLimits limits_;
  std::string url_;
  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;

  Clock::time_point last_progress_;
  bool done_ = false;
  bool timed_out_ = false;
  CURLcode result_ = CURLE_OK;

  std::size_t head_bytes_ = 0;
  bool head_too_large_ = false;
  bool head_complete_ = false;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_in_;
  std::string pending_;

  const char* in_data_ = nullptr;
  std::size_t in_size_ = 0;
  bool in_eof_ = false;
};

bool IsUpgrade(const httplib::Request& req) {
  return req.has_header("Upgrade") ||
         ConnectionListed(req.get_header_value("Connection")).count("upgrade");
}

// The request body's declared size (nullopt: chunked), and whether there
// is one at all.
std::pair<std::optional<long long>, bool> RequestBodySize(
    const httplib::Request& req, const httplib::ContentReader* reader) {
  if (reader == nullptr) {
    // httplib read it already; no body and "Content-Length: 0" (which
    // ConfigureServer adds to every request without framing) are alike.
    if (req.body.empty()) return {std::nullopt, false};
    return {static_cast<long long>(req.body.size()), true};
  }
  if (req.has_header("Content-Length")) {
    const std::string text =
        TrimWhitespace(req.get_header_value("Content-Length"));
    if (AllDigits(text) && text.size() < 18) {
      return {std::stoll(text), true};
    }
  }
  return {std::nullopt, true};
}

// Streams the request body into the exchange; false when it stopped early
// (the connection is then out of step and is closed after the answer).
bool SendBody(UpstreamExchange& exchange, const httplib::Request& req,
              const httplib::ContentReader* reader) {
  bool ok = true;
  if (reader != nullptr && req.is_multipart_form_data()) {
    // httplib's reader would parse a multipart body into parts instead of
    // handing its bytes over. Its Content-Type is already among the
    // forwarded headers, so httplib is shown another. httplib's Request is
    // a non-const object handed over as const (see ConfigureServer).
    auto& headers = const_cast<httplib::Request&>(req).headers;
    headers.erase("Content-Type");
    headers.emplace("Content-Type", "application/octet-stream");
  }
  if (reader == nullptr) {
    ok = req.body.empty() || exchange.Upload(req.body.data(), req.body.size());
  } else {
    bool upstream_ok = true;
    const bool read_ok = (*reader)([&](const char* data, std::size_t size) {
      upstream_ok = exchange.Upload(data, size);
      return upstream_ok;
    });
    ok = read_ok && upstream_ok;
  }
  exchange.EndUpload();
  return ok;
}

// The sandbox's maskRequestHost with ${PORT} replaced by the port, as E2B's
// edge rewrites the Host of every request to a sandbox port.
std::string MaskedHost(const std::string& mask, int port) {
  static const std::string kPortVariable = "${PORT}";
  std::string out;
  std::size_t from = 0;
  for (std::size_t at = mask.find(kPortVariable); at != std::string::npos;
       at = mask.find(kPortVariable, from)) {
    out.append(mask, from, at - from).append(std::to_string(port));
    from = at + kPortVariable.size();
  }
  return out.append(mask, from, std::string::npos);
}

bool HasNoBody(const httplib::Request& req, int status) {
  return req.method == "HEAD" || status < 200 || status == 204 || status == 304;
}

// The sandbox server's status and headers on `res`, with a provider that
// streams its body.
void SetResponse(const std::shared_ptr<UpstreamExchange>& exchange,
                 const httplib::Request& req, httplib::Response& res) {
  res.status = exchange->Status();
  std::string content_type;
  const std::set<std::string> listed = AllConnectionListed(exchange->Headers());
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : exchange->Headers()) {
    const std::string lower = Lowercase(name);
    if (HopByHopHeaders().count(lower) != 0 || listed.count(lower) != 0) {
      continue;
    }
    if (lower == "content-type") {
      content_type = value;
      continue;
    }
    headers.emplace_back(name, value);
  }
  if (!HasNoBody(req, res.status)) {
    if (auto length = exchange->ContentLength()) {
      // httplib asks until `length` bytes went out: a body that ended
      // before is a short one, and the connection is cut.
      res.set_content_provider(
          static_cast<std::size_t>(*length), content_type,
          [exchange](std::size_t, std::size_t, httplib::DataSink& sink) {
            bool finished = false;
            return exchange->NextBody(sink, finished) && !finished;
          });
    } else {
      res.set_chunked_content_provider(
          content_type, [exchange](std::size_t, httplib::DataSink& sink) {
            bool finished = false;
            if (!exchange->NextBody(sink, finished)) return false;
            if (finished) sink.done();
            return true;
          });
    }
    // httplib set the header above; without one from the server, none.
    if (content_type.empty()) res.headers.erase("Content-Type");
  } else if (!content_type.empty()) {
    headers.emplace_back("Content-Type", content_type);
  }
  for (auto& [name, value] : headers) {
    res.headers.emplace(std::move(name), std::move(value));
  }
}

}  // namespace

std::optional<int> SandboxPortFromRequest(const httplib::Request& req) {
  if (req.has_header("E2b-Sandbox-Port")) {
    return ParsePort(TrimWhitespace(req.get_header_value("E2b-Sandbox-Port")));
  }
  if (!TrimWhitespace(req.get_header_value("E2b-Sandbox-Id")).empty()) {
    return kEnvdPort;
  }
  const std::string host =
      Lowercase(TrimWhitespace(req.get_header_value("Host")));
  if (host.empty() || host[0] == '[') return kEnvdPort;
  const std::string label = host.substr(0, host.find_first_of(".:"));
  const std::size_t dash = label.find('-');
  // A first label that routes nothing (an IP, "localhost") is envd's own.
  if (dash == std::string::npos || !AllDigits(label.substr(0, dash))) {
    return kEnvdPort;
  }
  return ParsePort(label.substr(0, dash));
}

std::optional<PortForwardFailure> ForwardToSandboxPort(
    LocalSandbox& sandbox, int port, const httplib::Request& req,
    httplib::Response& res, const httplib::ContentReader* reader,
    const PortProxyLimits& limits) {
  using Kind = PortForwardFailure::Kind;
  auto refuse = [&](Kind kind, std::string detail) {
    if (reader != nullptr) DiscardRequestBody(req, *reader);
    return PortForwardFailure{kind, std::move(detail)};
  };
  if (IsUpgrade(req)) {
    return refuse(Kind::kUnsupported,
                  "e2b-local does not forward protocol upgrades (WebSocket) "
                  "to sandbox ports yet");
  }
  if (req.target.empty() || req.target[0] != '/') {
    return refuse(Kind::kBadRequest,
                  "only origin-form request targets (/path?query) are "
                  "forwarded");
  }
  UniqueFd socket;
  try {
    socket = sandbox.instance->OpenTcpSocket();
  } catch (const std::exception& e) {
    return refuse(Kind::kNoNetwork, e.what());
  }
  auto exchange = std::make_shared<UpstreamExchange>(
      std::move(socket), port, MaskedHost(sandbox.mask_request_host, port),
      limits);
  const auto [body_size, has_body] = RequestBodySize(req, reader);
  if (!exchange->Start(req, body_size, has_body)) {
    return PortForwardFailure{Kind::kClosed, "cannot start the request"};
  }
  const bool body_sent = has_body ? SendBody(*exchange, req, reader) : true;
  // What the client still sends of its body would be read as a request.
  if (!body_sent) res.set_header("Connection", "close");
  if (auto failure = exchange->AwaitHead()) return failure;
  SetResponse(exchange, req, res);
  return std::nullopt;
}

}  // namespace e2b_local
