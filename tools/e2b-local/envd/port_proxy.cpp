#include "envd/port_proxy.hpp"

#include "envd/files_handler.hpp"
#include "util/http_text.hpp"
#include "util/poll_one.hpp"

#include <curl/curl.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
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

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The client's headers as the sandbox's server gets them: without
// hop-by-hop ones and the edge's own, and with `host` (the sandbox's
// maskRequestHost) as Host when it is not empty.
HeaderList ForwardedRequestHeaders(const httplib::Request& req,
                                   const std::string& host) {
  const std::set<std::string> listed = AllConnectionListed(req.headers);
  HeaderList out;
  for (const auto& [name, value] : req.headers) {
    const std::string lower = Lowercase(name);
    if (HopByHopHeaders().count(lower) != 0 ||
        EdgeOnlyHeaders().count(lower) != 0 || listed.count(lower) != 0) {
      continue;
    }
    if (lower == "host" && !host.empty()) continue;  // masked below
    out.emplace_back(name, value);
  }
  if (!host.empty()) out.emplace_back("Host", host);
  return out;
}

// The sandbox server's headers as the client gets them: without hop-by-hop
// ones.
HeaderList ForwardedResponseHeaders(const HeaderList& headers) {
  const std::set<std::string> listed = AllConnectionListed(headers);
  HeaderList out;
  for (const auto& [name, value] : headers) {
    const std::string lower = Lowercase(name);
    if (HopByHopHeaders().count(lower) == 0 && listed.count(lower) == 0) {
      out.emplace_back(name, value);
    }
  }
  return out;
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
    bool has_accept = false;
    for (const auto& [name, value] : ForwardedRequestHeaders(req, host_)) {
      if (Lowercase(name) == "accept") has_accept = true;
      AddHeader(name, value);
    }
    // Nothing the client did not send: no default Accept, no
    // "Expect: 100-continue" round trip.
    if (!has_accept) AddHeader("Accept:");
    AddHeader("Expect:");
  }

  void AddHeader(const std::string& line) {
    headers_ = curl_slist_append(headers_, line.c_str());
  }

  // curl's syntax for a header with an empty value is "Name;".
  void AddHeader(const std::string& name, const std::string& value) {
    AddHeader(value.empty() ? name + ";" : name + ": " + value);
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

// Hands the request body to `sink` piece by piece; false when it stopped
// early (the connection is then out of step and is closed after the
// answer).
bool ReadRequestBody(
    const httplib::Request& req, const httplib::ContentReader* reader,
    const std::function<bool(const char*, std::size_t)>& sink) {
  if (reader == nullptr) {
    return req.body.empty() || sink(req.body.data(), req.body.size());
  }
  if (req.is_multipart_form_data()) {
    // httplib's reader would parse a multipart body into parts instead of
    // handing its bytes over. Its Content-Type is already among the
    // forwarded headers, so httplib is shown another. httplib's Request is
    // a non-const object handed over as const (see ConfigureServer).
    auto& headers = const_cast<httplib::Request&>(req).headers;
    headers.erase("Content-Type");
    headers.emplace("Content-Type", "application/octet-stream");
  }
  bool sink_ok = true;
  const bool read_ok = (*reader)([&](const char* data, std::size_t size) {
    sink_ok = sink(data, size);
    return sink_ok;
  });
  return read_ok && sink_ok;
}

// Streams the request body into the exchange; false when it stopped early.
bool SendBody(UpstreamExchange& exchange, const httplib::Request& req,
              const httplib::ContentReader* reader) {
  const bool ok =
      ReadRequestBody(req, reader, [&](const char* data, std::size_t size) {
        return exchange.Upload(data, size);
      });
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

// The edge forwards origin-form targets only; the 400 otherwise.
std::optional<PortForwardFailure> TargetRefused(const httplib::Request& req) {
  if (!req.target.empty() && req.target[0] == '/') return std::nullopt;
  return PortForwardFailure{PortForwardFailure::Kind::kBadRequest,
                            "only origin-form request targets (/path?query) "
                            "are forwarded"};
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
  HeaderList headers;
  for (auto& [name, value] : ForwardedResponseHeaders(exchange->Headers())) {
    if (Lowercase(name) == "content-type") {
      content_type = value;
    } else {
      headers.emplace_back(std::move(name), std::move(value));
    }
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

// ---- Upgraded connections (WebSocket and other protocol switches) ----
//
// curl cannot hand over a connection after "101 Switching Protocols", so
// an upgrade request is written and its answer head read on the socket
// directly; after it, bytes are relayed as they are.

// Connects the non-blocking `fd` to 127.0.0.1:`port`; nullopt once it is.
std::optional<PortForwardFailure> ConnectLoopback(
    int fd, int port, const PortProxyLimits& limits) {
  using Kind = PortForwardFailure::Kind;
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(static_cast<std::uint16_t>(port));
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target),
                sizeof target) == 0) {
    return std::nullopt;
  }
  if (errno != EINPROGRESS) return PortForwardFailure{Kind::kClosed, ""};
  if ((PollOne(fd, POLLOUT, limits.connect_timeout) & (POLLOUT | POLLERR)) ==
      0) {
    return PortForwardFailure{Kind::kClosed, "connecting timed out"};
  }
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 ||
      error != 0) {
    return PortForwardFailure{Kind::kClosed, std::strerror(error)};
  }
  return std::nullopt;
}

// Sends all of `data` on the non-blocking `fd`, waiting at most `idle` for
// room each time; false when the peer is gone or does not read.
bool SendWithin(int fd, const char* data, std::size_t size,
                std::chrono::milliseconds idle) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if ((PollOne(fd, POLLOUT, idle) & POLLOUT) == 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

// "Name: value\r\n" at the end of a head being written.
void AppendHeaderLine(std::string& head, const std::string& name,
                      const std::string& value) {
  head.append(name).append(": ").append(value).append("\r\n");
}

// The request line and headers of an upgrade request as the sandbox's
// server gets them; `body_framing` is its Content-Length or
// Transfer-Encoding line, or empty.
std::string UpgradeRequestHead(const httplib::Request& req,
                               const std::string& host,
                               const std::string& body_framing) {
  std::string head = req.method + " " + req.target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : ForwardedRequestHeaders(req, host)) {
    AppendHeaderLine(head, name, value);
  }
  head += "Connection: Upgrade\r\n";
  if (req.has_header("Upgrade")) {
    head += "Upgrade: " + req.get_header_value("Upgrade") + "\r\n";
  }
  return head + body_framing + "\r\n";
}

// Writes the upgrade request, its body included, on `fd`; false when the
// server did not take it all (the request body has then been discarded).
bool SendUpgradeRequest(int fd, const httplib::Request& req,
                        const httplib::ContentReader* reader,
                        const std::string& host,
                        const PortProxyLimits& limits) {
  const auto [body_size, has_body] = RequestBodySize(req, reader);
  const bool chunked = has_body && !body_size;
  std::string framing;
  if (chunked) framing = "Transfer-Encoding: chunked\r\n";
  if (body_size) framing = "Content-Length: " + std::to_string(*body_size);
  if (body_size) framing += "\r\n";
  const std::string head = UpgradeRequestHead(req, host, framing);
  bool sent = SendWithin(fd, head.data(), head.size(), limits.idle_timeout);
  auto send_piece = [&](const char* data, std::size_t size) {
    if (!sent || size == 0) return sent;
    if (chunked) {
      char size_line[32];
      const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", size);
      sent = SendWithin(fd, size_line, static_cast<std::size_t>(n),
                        limits.idle_timeout);
    }
    sent = sent && SendWithin(fd, data, size, limits.idle_timeout);
    if (chunked) sent = sent && SendWithin(fd, "\r\n", 2, limits.idle_timeout);
    return sent;
  };
  if (!has_body) return sent;
  const bool body_ok = ReadRequestBody(req, reader, send_piece);
  if (!body_ok && reader != nullptr) DiscardRequestBody(req, *reader);
  if (chunked && sent) {
    sent = SendWithin(fd, "0\r\n\r\n", 5, limits.idle_timeout);
  }
  return sent && body_ok;
}

struct ResponseHead {
  int status = 0;
  std::string reason;
  HeaderList headers;
};

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Field values and reason phrases: no control characters but tab.
bool IsFieldText(const std::string& text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// "HTTP/1.x NNN reason"; false when it is not one.
bool ParseStatusLine(const std::string& line, ResponseHead& head) {
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 ||
      (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
      !AllDigits(line.substr(9, 3)) || (line.size() > 12 && line[12] != ' ')) {
    return false;
  }
  head.status = std::stoi(line.substr(9, 3));
  head.reason = line.size() > 13 ? line.substr(13) : "";
  return head.status >= 100 && IsFieldText(head.reason);
}

// One response head (its lines without the empty one that ends it);
// nullopt when it is not HTTP/1.x.
std::optional<ResponseHead> ParseResponseHead(const std::string& text) {
  ResponseHead head;
  std::size_t start = 0;
  bool first = true;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    start = end + 1;
    if (first) {
      if (!ParseStatusLine(line, head)) return std::nullopt;
      first = false;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string::npos ||
        !std::all_of(line.begin(),
                     line.begin() + static_cast<std::ptrdiff_t>(colon),
                     IsTokenChar)) {
      return std::nullopt;
    }
    std::string value = TrimWhitespace(line.substr(colon + 1));
    if (!IsFieldText(value)) return std::nullopt;
    head.headers.emplace_back(line.substr(0, colon), std::move(value));
  }
  if (first) return std::nullopt;
  return head;
}

// Where the head in `data` ends (after its empty line), or npos.
std::size_t HeadEnd(const std::string& data) {
  const std::size_t crlf = data.find("\n\r\n");
  const std::size_t lf = data.find("\n\n");
  if (crlf == std::string::npos && lf == std::string::npos) {
    return std::string::npos;
  }
  return crlf < lf ? crlf + 3 : lf + 2;
}

// The sandbox server's final answer head to an upgrade request (interim
// 1xx answers but 101 skipped) and the bytes that followed it.
struct UpstreamAnswer {
  ResponseHead head;
  std::string rest;
};

// Reads from `fd` until `data` holds a whole head; a failure if the server
// closes, stays silent for idle_timeout, or sends more than max_head_bytes
// (counting every interim head).
std::optional<PortForwardFailure> ReadHeadBytes(int fd, std::string& data,
                                                std::size_t& head_bytes,
                                                const PortProxyLimits& limits) {
  using Kind = PortForwardFailure::Kind;
  char buffer[16384];
  while (HeadEnd(data) == std::string::npos) {
    if (head_bytes + data.size() > limits.max_head_bytes) {
      return PortForwardFailure{Kind::kBadResponse,
                                "its response head is larger than " +
                                    std::to_string(limits.max_head_bytes) +
                                    " bytes"};
    }
    if ((PollOne(fd, POLLIN, limits.idle_timeout) &
         (POLLIN | POLLHUP | POLLERR)) == 0) {
      return PortForwardFailure{
          Kind::kTimeout, "it did not answer within " +
                              std::to_string(limits.idle_timeout.count()) +
                              " ms"};
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      return PortForwardFailure{Kind::kClosed, "closed without an answer"};
    }
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return std::nullopt;
}

std::optional<PortForwardFailure> ReadUpstreamAnswer(
    int fd, const PortProxyLimits& limits, UpstreamAnswer& answer) {
  std::string data;
  std::size_t head_bytes = 0;
  for (;;) {
    if (auto failure = ReadHeadBytes(fd, data, head_bytes, limits)) {
      return failure;
    }
    const std::size_t end = HeadEnd(data);
    head_bytes += end;
    if (head_bytes > limits.max_head_bytes) {
      return PortForwardFailure{PortForwardFailure::Kind::kBadResponse,
                                "its response head is too large"};
    }
    auto head = ParseResponseHead(data.substr(0, HeadEnd(data) - 2));
    if (!head) {
      return PortForwardFailure{PortForwardFailure::Kind::kBadResponse,
                                "its answer is not HTTP/1.1"};
    }
    data.erase(0, end);
    if (head->status >= 200 || head->status == 101) {
      answer.head = std::move(*head);
      answer.rest = std::move(data);
      return std::nullopt;
    }
  }
}

// The value of the first header `name` (lowercase), if any.
std::optional<std::string> FindHeader(const HeaderList& headers,
                                      const std::string& name) {
  for (const auto& [key, value] : headers) {
    if (Lowercase(key) == name) return value;
  }
  return std::nullopt;
}

// The head the client gets: the server's without hop-by-hop headers; after
// a 101 with Connection and Upgrade, else with the body's framing as the
// server sent it (the body is relayed as it is) and "Connection: close".
std::string ClientHead(const ResponseHead& head) {
  std::string out =
      "HTTP/1.1 " + std::to_string(head.status) + " " + head.reason + "\r\n";
  for (const auto& [name, value] : ForwardedResponseHeaders(head.headers)) {
    AppendHeaderLine(out, name, value);
  }
  const bool upgraded = head.status == 101;
  for (const char* kept : {"upgrade", "content-length", "transfer-encoding"}) {
    const bool framing = std::strcmp(kept, "upgrade") != 0;
    if (framing == upgraded) continue;
    for (const auto& [name, value] : head.headers) {
      if (Lowercase(name) == kept) AppendHeaderLine(out, name, value);
    }
  }
  out += upgraded ? "Connection: Upgrade\r\n" : "Connection: close\r\n";
  return out + "\r\n";
}

// Bytes relayed between the client and the sandbox's server, in bounded
// buffers, on the calling thread: poll(2) waits on both sockets, so a
// silent connection costs no CPU.
class ByteRelay {
 public:
  // One direction.
  struct Flow {
    int from = -1;
    int to = -1;
    std::string pending;      // read from `from`, not yet written to `to`
    std::size_t written = 0;  // of `pending`
    bool eof = false;         // `from` sends no more (or is not read)
    bool shut = false;        // `to` was told so (shutdown SHUT_WR)
    std::optional<unsigned long long> remaining;  // most bytes still read
  };

  ByteRelay(int client, int server, const PortProxyLimits& limits,
            std::function<bool()> stopping)
      : limits_(limits), stopping_(std::move(stopping)) {
    to_server_.from = to_client_.to = client;
    to_server_.to = to_client_.from = server;
  }

  Flow& ToClient() { return to_client_; }
  Flow& ToServer() { return to_server_; }

  // Until both directions ended, either socket failed, nothing moved for
  // idle_timeout, or the server stops.
  void Run() {
    last_progress_ = Clock::now();
    Clock::time_point next_stop_check = last_progress_;
    while (!Finished(to_client_) || !Finished(to_server_)) {
      if (!Step(to_client_) || !Step(to_server_)) return;
      if (Finished(to_client_) && Finished(to_server_)) return;
      const auto now = Clock::now();
      if (now - last_progress_ >= limits_.idle_timeout) return;
      if (now >= next_stop_check) {
        if (stopping_ && stopping_()) return;
        next_stop_check = now + std::chrono::milliseconds(kPollSliceMs);
      }
      if (!Wait()) return;
    }
  }

 private:
  static bool Finished(const Flow& flow) { return flow.eof && flow.shut; }

  // Waits until a socket can move bytes (or a slice passed).
  bool Wait() {
    pollfd fds[2] = {{to_server_.from, 0, 0}, {to_client_.from, 0, 0}};
    for (const Flow* flow : {&to_server_, &to_client_}) {
      const std::size_t held = flow->pending.size() - flow->written;
      if (!flow->eof && held < kMaxPendingBody) {
        (flow->from == fds[0].fd ? fds[0] : fds[1]).events |= POLLIN;
      }
      if (held > 0) (flow->to == fds[0].fd ? fds[0] : fds[1]).events |= POLLOUT;
    }
    // A socket waited on for nothing must not wake poll with POLLHUP.
    for (pollfd& p : fds) {
      if (p.events == 0) p.fd = -1;
    }
    const int rc = ::poll(fds, 2, kPollSliceMs);
    return rc >= 0 || errno == EINTR;
  }

  // Reads what `from` has (room allowing) and writes what `to` takes;
  // false when a socket failed.
  bool Step(Flow& flow) {
    if (!Read(flow) || !Write(flow)) return false;
    if (flow.eof && flow.written == flow.pending.size() && !flow.shut) {
      ::shutdown(flow.to, SHUT_WR);  // the half-close, passed on
      flow.shut = true;
    }
    return true;
  }

  bool Read(Flow& flow) {
    if (flow.written > 0) {
      flow.pending.erase(0, flow.written);
      flow.written = 0;
    }
    while (!flow.eof && flow.pending.size() < kMaxPendingBody) {
      std::size_t room = kMaxPendingBody - flow.pending.size();
      if (flow.remaining)
        room = std::min<unsigned long long>(room, *flow.remaining);
      char buffer[16384];
      const ssize_t n = ::recv(flow.from, buffer, std::min(room, sizeof buffer),
                               MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n < 0) return false;
      if (n == 0) {
        flow.eof = true;
        break;
      }
      flow.pending.append(buffer, static_cast<std::size_t>(n));
      last_progress_ = Clock::now();
      if (flow.remaining) {
        *flow.remaining -= static_cast<unsigned long long>(n);
        if (*flow.remaining == 0) flow.eof = true;
      }
    }
    return true;
  }

  bool Write(Flow& flow) {
    while (flow.written < flow.pending.size()) {
      const ssize_t n = ::send(flow.to, flow.pending.data() + flow.written,
                               flow.pending.size() - flow.written,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) return false;
      flow.written += static_cast<std::size_t>(n);
      last_progress_ = Clock::now();
    }
    return true;
  }

  const PortProxyLimits limits_;
  std::function<bool()> stopping_;
  Flow to_client_;
  Flow to_server_;
  Clock::time_point last_progress_;
};

// The body length of a non-101 answer the relay stops after; nullopt:
// until the server closes (chunked, or no framing).
std::optional<unsigned long long> RelayedBodyLength(const httplib::Request& req,
                                                    const ResponseHead& head) {
  if (HasNoBody(req, head.status)) return 0;
  if (FindHeader(head.headers, "transfer-encoding")) return std::nullopt;
  const auto length = FindHeader(head.headers, "content-length");
  if (!length || !AllDigits(*length) || length->size() > 18) {
    return std::nullopt;
  }
  return std::stoull(*length);
}

void SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Writes the server's answer on the client's connection and relays what
// follows: both ways after a 101, else the answer's body.
void RelayAnswer(int server, TakenConnection& client,
                 const httplib::Request& req, UpstreamAnswer& answer,
                 const PortProxyLimits& limits) {
  SetNonBlocking(client.fd);
  ByteRelay relay(client.fd, server, limits, client.stopping);
  auto& to_client = relay.ToClient();
  auto& to_server = relay.ToServer();
  to_client.pending = ClientHead(answer.head);
  if (answer.head.status == 101) {
    to_client.pending += answer.rest;
    to_server.pending = std::move(client.early_bytes);
  } else {
    // The client's connection ends with this answer; the server's too,
    // and most servers close once they read that.
    to_server.eof = to_server.shut = true;
    ::shutdown(server, SHUT_WR);
    auto length = RelayedBodyLength(req, answer.head);
    if (length && answer.rest.size() > *length) answer.rest.resize(*length);
    if (length) *length -= answer.rest.size();
    to_client.pending += answer.rest;
    to_client.remaining = length;
    to_client.eof = length == 0ULL;
  }
  relay.Run();
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
  if (auto refused = TargetRefused(req)) {
    return refuse(refused->kind, refused->detail);
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

bool IsUpgradeRequest(const httplib::Request& req) {
  return req.has_header("Upgrade") ||
         AllConnectionListed(req.headers).count("upgrade") != 0;
}

std::optional<PortForwardFailure> TunnelToSandboxPort(
    LocalSandbox& sandbox, int port, const httplib::Request& req,
    const httplib::ContentReader* reader, const ConnectionTaker& take,
    const PortProxyLimits& limits) {
  using Kind = PortForwardFailure::Kind;
  auto refuse = [&](PortForwardFailure failure) {
    if (reader != nullptr) DiscardRequestBody(req, *reader);
    return failure;
  };
  if (auto refused = TargetRefused(req)) return refuse(*refused);
  UniqueFd socket;
  try {
    socket = sandbox.instance->OpenTcpSocket();
  } catch (const std::exception& e) {
    return refuse({Kind::kNoNetwork, e.what()});
  }
  if (!socket.valid()) return refuse({Kind::kNoNetwork, "no socket"});
  SetNonBlocking(socket.get());
  if (auto failure = ConnectLoopback(socket.get(), port, limits)) {
    return refuse(*failure);
  }
  if (!SendUpgradeRequest(socket.get(), req, reader,
                          MaskedHost(sandbox.mask_request_host, port),
                          limits)) {
    return PortForwardFailure{Kind::kClosed, "it did not take the request"};
  }
  UpstreamAnswer answer;
  if (auto failure = ReadUpstreamAnswer(socket.get(), limits, answer)) {
    return failure;
  }
  std::optional<TakenConnection> client;
  if (take) client = take();
  if (!client) {
    return PortForwardFailure{Kind::kUnsupported,
                              "this listener cannot switch protocols"};
  }
  RelayAnswer(socket.get(), *client, req, answer, limits);
  return std::nullopt;
}

}  // namespace e2b_local
