// The libcurl implementation of HttpTransport.
//
// Every transfer runs on its own curl multi handle, driven in short slices
// from the calling thread, so a cancelled Context or a passed deadline is
// noticed within one slice even when the server sends nothing at all. Easy
// handles (with their multi handle) are pooled per transport; the
// connections themselves live in a CURLSH connection cache shared by all
// handles of the transport, so any handle reuses any idle connection.

#include "internal/ascii.hpp"
#include "internal/http_transport.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace e2b::internal {
namespace {

using Clock = std::chrono::steady_clock;

// How long one wait on the network may last before the Context is checked
// again: bounds the reaction time to Cancel().
constexpr std::chrono::milliseconds kSlice{50};
// Body bytes a streaming reader buffers before it pauses the transfer.
constexpr std::size_t kSpillLimit = std::size_t{256} * 1024;
// How long, and for how many more body bytes, a dropped streaming reader
// waits for the end of its body so that the connection can be reused.
constexpr std::chrono::milliseconds kFinishGrace{10};
constexpr std::size_t kFinishBytes = std::size_t{64} * 1024;
// curl's receive buffer per handle (its default is 16 KiB): larger reads
// mean fewer recv calls and write callbacks per MiB downloaded.
constexpr long kReceiveBufferBytes = 128L * 1024;

// What another attempt can do about a failed transfer (timeouts and
// cancellation are decided before this).
enum class Failure {
  kBeforeSend,  // no connection was made: the request never left
  kAfterSend,   // the connection broke; the request may have arrived
  kPermanent,   // the same on every attempt (TLS trust, URL, options, ...)
};

Failure ClassifyFailure(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:  // the handshake, before any request byte
      return Failure::kBeforeSend;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_AGAIN:
      return Failure::kAfterSend;
    default:
      return Failure::kPermanent;
  }
}

void GlobalInit() {
  static std::once_flag once;
  // A throw leaves the flag unset, so a later transport retries.
  std::call_once(once, [] {
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
      throw Error(0, std::string("initializing libcurl failed: ") +
                         curl_easy_strerror(rc));
    }
  });
}

// RFC 7230 token characters: what a method or a header name may contain.
bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool ok = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') ||
              (u >= 'A' && u <= 'Z') ||
              std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || u == 0) return false;
  }
  return true;
}

// A plain loop: find_first_of calls memchr once per character of `text`.
bool HasLineBreakOrNul(std::string_view text) {
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' ||
                           text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// The connection, DNS and TLS session caches shared by every handle of one
// transport, with one mutex per kind of data as libcurl asks.
class CurlShare {
 public:
  CurlShare() : share_(curl_share_init()) {
    if (share_ == nullptr) throw Error(0, "creating a curl share failed");
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlShare::Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlShare::Unlock);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~CurlShare() {
    // No easy handle uses the share any more; clearing the callbacks keeps
    // curl_share_cleanup from calling into a half-destroyed object.
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC,
                      static_cast<curl_lock_function>(nullptr));
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC,
                      static_cast<curl_unlock_function>(nullptr));
    curl_share_cleanup(share_);
  }
  CurlShare(const CurlShare&) = delete;
  CurlShare& operator=(const CurlShare&) = delete;

  CURLSH* get() const { return share_; }

 private:
  static std::mutex* MutexFor(void* self, curl_lock_data data) {
    auto index = static_cast<std::size_t>(data);
    auto& mutexes = static_cast<CurlShare*>(self)->mutexes_;
    return index < mutexes.size() ? &mutexes[index] : nullptr;
  }
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    if (std::mutex* m = MutexFor(self, data)) m->lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* self) {
    if (std::mutex* m = MutexFor(self, data)) m->unlock();
  }

  CURLSH* share_;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> mutexes_;
};

// The request header lines of a handle's last transfer, kept with the
// headers they were built from: calls of one client send the same headers
// again and again, and rebuilding curl's list (a line, a node and a copy
// per header) and checking every byte again cost more than comparing them.
struct HeaderLines {
  HeaderLines() = default;
  HeaderLines(const HeaderLines&) = delete;
  HeaderLines& operator=(const HeaderLines&) = delete;
  HeaderLines(HeaderLines&& other) noexcept { *this = std::move(other); }
  HeaderLines& operator=(HeaderLines&& other) noexcept {
    std::swap(list, other.list);
    std::swap(source, other.source);
    std::swap(upload, other.upload);
    std::swap(has_user_agent, other.has_user_agent);
    return *this;
  }
  ~HeaderLines() { curl_slist_free_all(list); }

  bool Matches(const HttpHeaders& headers, bool for_upload) const {
    return list != nullptr && upload == for_upload && source == headers;
  }

  curl_slist* list = nullptr;
  HttpHeaders source;   // validated
  bool upload = false;  // the call sends a body: ends with "Expect:" (and
                        // "Content-Type:" unless the headers name one)
  bool has_user_agent = false;
};

// An easy handle with its multi handle. Move-only: it owns its header
// lines, which curl reads while the handle is set up with them.
struct CurlHandle {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
  // The per-transport options are set (see CurlTransfer::ConfigureHandle).
  bool configured = false;
  // The last call's body was set as POSTFIELDS (Release clears it).
  bool post_fields = false;
  HeaderLines headers;
};

void DestroyHandle(CurlHandle& handle) {
  if (handle.multi != nullptr) curl_multi_cleanup(handle.multi);
  if (handle.easy != nullptr) curl_easy_cleanup(handle.easy);
  handle.multi = nullptr;
  handle.easy = nullptr;
}

// What a transport and the readers it handed out share: the options, the
// curl share and the pool of idle handles. Readers keep it alive, so a
// reader may outlive its transport.
class TransportState {
 public:
  explicit TransportState(HTTPClientOptions options)
      : options_(std::move(options)) {}
  ~TransportState() {
    for (CurlHandle& handle : idle_) DestroyHandle(handle);
  }
  TransportState(const TransportState&) = delete;
  TransportState& operator=(const TransportState&) = delete;

  const HTTPClientOptions& options() const { return options_; }

  CurlHandle Acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        CurlHandle handle = std::move(idle_.back());
        idle_.pop_back();
        return handle;
      }
    }
    CurlHandle handle;
    handle.easy = curl_easy_init();
    handle.multi = curl_multi_init();
    if (handle.easy == nullptr || handle.multi == nullptr) {
      DestroyHandle(handle);
      throw Error(0, "creating a curl handle failed");
    }
    // curl_easy_reset keeps the share, so this is set once per handle.
    curl_easy_setopt(handle.easy, CURLOPT_SHARE, share_.get());
    // The multi handle decides how many idle connections the shared cache
    // keeps (by default only four per easy handle).
    curl_multi_setopt(handle.multi, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(std::max<std::size_t>(
                          options_.MaxIdleConnections, 1)));
    // One transfer per connection at a time: an HTTP/2 connection is never
    // multiplexed between transfers of different multi handles (and so of
    // different threads); it is reused once idle.
    curl_multi_setopt(handle.multi, CURLMOPT_PIPELINING,
                      static_cast<long>(CURLPIPE_NOTHING));
    return handle;
  }

  // The easy handle must no longer be attached to its multi handle. After a
  // clean transfer the next one overwrites every per-request option, so the
  // handle keeps its configuration; anything else (an error, an abort, a
  // paused transfer) resets it to curl's defaults.
  void Release(CurlHandle&& handle, bool clean) {
    if (!clean) {
      curl_easy_reset(handle.easy);
      // curl_easy_reset keeps the share.
      handle.configured = false;
      handle.post_fields = false;
    } else {
      // The error buffer and an in-memory body belong to the finished
      // transfer; the handle must not keep pointers to them once they are
      // gone. (The next call sets its method after these.)
      curl_easy_setopt(handle.easy, CURLOPT_ERRORBUFFER, nullptr);
      if (handle.post_fields) {
        curl_easy_setopt(handle.easy, CURLOPT_POSTFIELDS, nullptr);
        curl_easy_setopt(handle.easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(-1));
        handle.post_fields = false;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (idle_.size() < options_.MaxIdleConnections) {
        idle_.push_back(std::move(handle));
        return;
      }
    }
    DestroyHandle(handle);
  }

 private:
  HTTPClientOptions options_;
  CurlShare share_;  // destroyed after the handles below
  std::mutex mutex_;
  std::vector<CurlHandle> idle_;
};

// One exchange. Used directly by Send and, as the BodyReader, by Open.
class CurlTransfer final : public BodyReader {
 public:
  enum class Mode { kBuffered, kStreaming };

  CurlTransfer(std::shared_ptr<TransportState> state,
               const HttpRequest& request, Mode mode)
      : state_(std::move(state)),
        mode_(mode),
        method_(request.method),
        url_(request.url),
        context_(request.context),
        stream_(request.body_stream),
        stream_size_(request.body_size),
        max_bytes_(request.max_response_bytes) {
    if (stream_ == nullptr) {
      if (mode_ == Mode::kStreaming) {
        // The upload may still run after Open returns.
        owned_body_ = request.body;
        body_ = owned_body_;
      } else {
        body_ = request.body;
      }
    }
    // A HEAD request sends no body (nor does curl read a response body).
    // Compared as views: a size check first, no call per comparison.
    const std::string_view method = method_;
    upload_ = method != "HEAD" &&
              (stream_ != nullptr || !body_.empty() || method == "POST" ||
               method == "PUT" || method == "PATCH");
    ComputeDeadline(request.timeout);
    Validate();
    handle_ = state_->Acquire();
    try {
      Configure(request);
      CURLMcode mc = curl_multi_add_handle(handle_.multi, handle_.easy);
      if (mc != CURLM_OK) {
        throw Error(0, Prefix() + "starting the transfer failed: " +
                           curl_multi_strerror(mc));
      }
      attached_ = true;
    } catch (...) {
      Detach();
      throw;
    }
  }

  ~CurlTransfer() override { Detach(); }

  CurlTransfer(const CurlTransfer&) = delete;
  CurlTransfer& operator=(const CurlTransfer&) = delete;

  HttpResponse Finish() {
    Pump([] { return false; });
    ThrowIfFailed();
    HttpResponse response;
    response.status = FinalStatus();
    response.headers = std::move(headers_);
    response.body = std::move(data_);
    return response;
  }

  void WaitForHeaders() {
    Pump([this] { return headers_done_; });
    if (!headers_done_) {
      ThrowIfFailed();
      // A complete exchange without a final header block; take what curl
      // reports.
      status_ = FinalStatus();
      headers_done_ = true;
    }
  }

  int Status() const override { return status_; }
  const HttpHeaders& Headers() const override { return headers_; }

  std::size_t Read(char* buffer, std::size_t size) override {
    if (size == 0) return 0;
    for (;;) {
      if (data_pos_ < data_.size()) {
        std::size_t n = std::min(size, data_.size() - data_pos_);
        std::memcpy(buffer, data_.data() + data_pos_, n);
        data_pos_ += n;
        if (data_pos_ == data_.size()) {
          data_.clear();
          data_pos_ = 0;
        }
        return n;
      }
      if (done_) {
        ThrowIfFailed();
        return 0;
      }
      if (paused_) {
        paused_ = false;
        // May deliver the held-back data to OnWrite right away.
        CURLcode rc = curl_easy_pause(handle_.easy, CURLPAUSE_CONT);
        if (rc != CURLE_OK) {
          throw Error(0, Prefix() + "resuming the transfer failed: " +
                             curl_easy_strerror(rc));
        }
        continue;
      }
      Pump([this] { return data_pos_ < data_.size(); });
    }
  }

 private:
  void ComputeDeadline(std::chrono::milliseconds timeout) {
    auto now = Clock::now();
    if (timeout.count() > 0) {
      deadline_ = now + timeout;
      request_timeout_ = timeout;
    }
    auto context_deadline = context_.Deadline();
    if (context_deadline && (!deadline_ || *context_deadline < *deadline_)) {
      deadline_ = context_deadline;
      deadline_is_context_ = true;
    }
  }

  // Which deadline passed, for the TimeoutError.
  std::string TimeoutText() const {
    if (deadline_is_context_) return "context deadline exceeded";
    return "request timed out after " +
           std::to_string(request_timeout_.count()) + " ms";
  }

  // What error messages start with; built only when one is thrown, since
  // redacting the URL is not free and most calls never fail.
  std::string Prefix() const {
    return method_ + " " + RedactedUrl(url_) + ": ";
  }

  void Validate() {
    if (!IsToken(method_)) {
      throw Error(0, "HTTP request " + RedactedUrl(url_) + ": invalid method");
    }
    if (HasLineBreakOrNul(url_)) {
      throw Error(0, Prefix() + "URL contains CR, LF or NUL");
    }
    // The headers are checked when their lines are built (SetHeaders).
    CheckContext();
  }

  void ValidateHeaders(const HttpHeaders& headers) const {
    for (const auto& [name, value] : headers) {
      if (!IsToken(name)) {
        throw Error(0, Prefix() +
                           "invalid header name (must be a non-empty "
                           "token without CR, LF, NUL or ':')");
      }
      if (HasLineBreakOrNul(value)) {
        throw Error(0, Prefix() + "value of header " + name +
                           " contains CR, LF or NUL");
      }
    }
  }

  template <typename T>
  void Set(CURLoption option, T value) {
    CURLcode rc = curl_easy_setopt(handle_.easy, option, value);
    if (rc != CURLE_OK) {
      throw Error(
          0, Prefix() + "configuring curl failed: " + curl_easy_strerror(rc));
    }
  }

  // Sets the request's header lines, reusing the handle's when they are
  // the same.
  void SetHeaders(const HttpHeaders& headers) {
    HeaderLines& lines = handle_.headers;
    if (!lines.Matches(headers, upload_)) {
      ValidateHeaders(headers);
      HeaderLines built;
      std::string line;
      auto append = [&](const std::string& text) {
        curl_slist* grown = curl_slist_append(built.list, text.c_str());
        if (grown == nullptr) throw Error(0, Prefix() + "out of memory");
        built.list = grown;
      };
      bool has_content_type = false;
      for (const auto& [name, value] : headers) {
        if (EqualsNoCase(name, "User-Agent")) built.has_user_agent = true;
        if (EqualsNoCase(name, "Content-Type")) has_content_type = true;
        // "Name;" is curl's way to send a header with an empty value.
        line.assign(name);
        line += value.empty() ? ";" : ": ";
        line += value;
        append(line);
      }
      // curl would otherwise wait for a 100 Continue before the body, and
      // label an in-memory body as a form.
      if (upload_) append("Expect:");
      if (upload_ && !has_content_type) append("Content-Type:");
      built.source = headers;
      built.upload = upload_;
      // The handle's old list is freed only once curl no longer has it.
      Set(CURLOPT_HTTPHEADER, built.list);
      lines = std::move(built);
    } else {
      Set(CURLOPT_HTTPHEADER, lines.list);
    }
    Set(CURLOPT_USERAGENT, lines.has_user_agent
                               ? static_cast<const char*>(nullptr)
                               : UserAgent().c_str());
  }

  // Options that are the same for every transfer of the transport: set once
  // per pooled handle, which keeps them until an unclean transfer makes
  // Release reset it.
  void ConfigureHandle() {
    const HTTPClientOptions& options = state_->options();
    Set(CURLOPT_NOSIGNAL, 1L);
    Set(CURLOPT_PROTOCOLS_STR, "http,https");
    Set(CURLOPT_FOLLOWLOCATION, 0L);
    Set(CURLOPT_HTTP_VERSION, options.EnableHTTP2
                                  ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                  : static_cast<long>(CURL_HTTP_VERSION_1_1));
    if (options.ConnectTimeout.count() > 0) {
      Set(CURLOPT_CONNECTTIMEOUT_MS,
          static_cast<long>(options.ConnectTimeout.count()));
    }
    Set(CURLOPT_SSL_VERIFYPEER, options.InsecureSkipTLSVerify ? 0L : 1L);
    Set(CURLOPT_SSL_VERIFYHOST, options.InsecureSkipTLSVerify ? 0L : 2L);
    if (!options.CAInfo.empty()) Set(CURLOPT_CAINFO, options.CAInfo.c_str());
    if (!options.CAPath.empty()) Set(CURLOPT_CAPATH, options.CAPath.c_str());
    if (!options.Proxy.empty()) Set(CURLOPT_PROXY, options.Proxy.c_str());
    Set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    Set(CURLOPT_TCP_KEEPALIVE, 1L);
    Set(CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    if (options.MaxIdleConnections == 0) Set(CURLOPT_FORBID_REUSE, 1L);
    Set(CURLOPT_HEADERFUNCTION, &CurlTransfer::OnHeader);
    Set(CURLOPT_WRITEFUNCTION, &CurlTransfer::OnWrite);
    Set(CURLOPT_READFUNCTION, &CurlTransfer::OnRead);
    Set(CURLOPT_SEEKFUNCTION, &CurlTransfer::OnSeek);
    handle_.configured = true;
  }

  // Everything a previous transfer on this handle may have set is set
  // again here, to this request's value or to curl's default.
  void Configure(const HttpRequest& request) {
    if (!handle_.configured) ConfigureHandle();
    errbuf_[0] = '\0';
    Set(CURLOPT_ERRORBUFFER, errbuf_);
    Set(CURLOPT_URL, url_.c_str());
    long timeout_ms = 0;
    if (deadline_) {
      // A backstop inside curl; Pump enforces the deadline itself.
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline_ - Clock::now());
      timeout_ms = static_cast<long>(std::max<long long>(left.count() + 1, 1));
    }
    Set(CURLOPT_TIMEOUT_MS, timeout_ms);

    SetHeaders(request.headers);

    Set(CURLOPT_HEADERDATA, this);
    Set(CURLOPT_WRITEDATA, this);
    Set(CURLOPT_READDATA, this);
    Set(CURLOPT_SEEKDATA, this);
    // Lets curl refuse early when Content-Length announces too much; a
    // streaming reader enforces its own limit (ReadAll).
    Set(CURLOPT_MAXFILESIZE_LARGE,
        static_cast<curl_off_t>(mode_ == Mode::kBuffered ? max_bytes_ : 0));

    // HTTPGET, POSTFIELDS, UPLOAD and NOBODY each set curl's method, the
    // last one winning, but not CUSTOMREQUEST: the verb is always set
    // explicitly, and the order below leaves the method this call needs.
    const std::string_view method = method_;
    const bool head = method == "HEAD";
    Set(CURLOPT_CUSTOMREQUEST, (method == "GET" && !upload_) || head
                                   ? static_cast<const char*>(nullptr)
                                   : method_.c_str());
    if (upload_ && stream_ == nullptr) {
      // A body in memory goes out with the headers, in one send, as a
      // POST whose verb CUSTOMREQUEST replaces; curl does not copy it.
      Set(CURLOPT_UPLOAD, 0L);
      Set(CURLOPT_NOBODY, 0L);
      Set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(-1));
      Set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
      Set(CURLOPT_POSTFIELDS, body_.empty() ? "" : body_.data());
      handle_.post_fields = true;
      return;
    }
    // UPLOAD 0 turns HEAD back into GET: NOBODY comes after it.
    Set(CURLOPT_UPLOAD, upload_ ? 1L : 0L);
    Set(CURLOPT_NOBODY, head ? 1L : 0L);
    if (!upload_ && !head) Set(CURLOPT_HTTPGET, 1L);
    curl_off_t size = -1;
    if (upload_) {
      // A stream goes through OnRead; unknown size means chunked transfer
      // encoding.
      if (stream_size_) size = static_cast<curl_off_t>(*stream_size_);
      stream_start_ = stream_->tellg();
    }
    Set(CURLOPT_INFILESIZE_LARGE, size);
  }

  // A reader dropped right after the last bytes it wanted (a Connect stream
  // stops at its end-of-stream message) usually leaves only the end of the
  // body unread: the chunked terminator, often still in flight. Letting
  // curl see it keeps the connection for reuse, where removing an
  // unfinished transfer would close it and the next call would pay for a
  // new one. Bounded in time and bytes, so a reader dropped in the middle
  // of a long or stalled body still aborts promptly.
  void FinishAbandoned() noexcept {
    if (mode_ != Mode::kStreaming || !attached_ || done_ || paused_) return;
    if (data_pos_ < data_.size()) return;  // unread data: not near the end
    if (context_.Cancelled() || DeadlinePassed()) return;
    const auto until = Clock::now() + kFinishGrace;
    for (;;) {
      int running = 0;
      if (curl_multi_perform(handle_.multi, &running) != CURLM_OK) return;
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(handle_.multi, &left)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == handle_.easy) {
          done_ = true;
          result_ = msg->data.result;
        }
      }
      if (done_ || paused_ || data_.size() > kFinishBytes) return;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - Clock::now());
      if (wait.count() <= 0) return;
      if (curl_multi_poll(handle_.multi, nullptr, 0,
                          static_cast<int>(wait.count()),
                          nullptr) != CURLM_OK) {
        return;
      }
    }
  }

  void Detach() {
    FinishAbandoned();
    if (attached_) {
      // Aborts an unfinished transfer; curl then closes its connection.
      curl_multi_remove_handle(handle_.multi, handle_.easy);
      attached_ = false;
    }
    if (handle_.easy != nullptr) {
      state_->Release(std::move(handle_),
                      done_ && result_ == CURLE_OK && !paused_);
      handle_ = CurlHandle{};
    }
  }

  bool DeadlinePassed() const {
    return deadline_ && Clock::now() >= *deadline_;
  }

  void CheckContext() const {
    if (context_.Cancelled()) throw Error(0, Prefix() + "context cancelled");
    if (DeadlinePassed()) throw TimeoutError(Prefix() + TimeoutText());
  }

  // Drives the transfer until `ready` holds or it is done, waiting on the
  // network in slices so cancellation and deadlines are seen promptly.
  template <typename Ready>
  void Pump(Ready ready) {
    while (!done_ && !ready()) {
      CheckContext();
      int running = 0;
      CURLMcode mc = curl_multi_perform(handle_.multi, &running);
      if (mc != CURLM_OK) {
        throw Error(0,
                    Prefix() + "transfer failed: " + curl_multi_strerror(mc));
      }
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(handle_.multi, &left)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == handle_.easy) {
          done_ = true;
          result_ = msg->data.result;
        }
      }
      if (done_ || ready()) break;
      auto slice = kSlice;
      if (deadline_) {
        auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
            *deadline_ - Clock::now());
        slice = std::clamp(left_ms + std::chrono::milliseconds(1),
                           std::chrono::milliseconds(1), kSlice);
      }
      mc = curl_multi_poll(handle_.multi, nullptr, 0,
                           static_cast<int>(slice.count()), nullptr);
      if (mc != CURLM_OK) {
        throw Error(0, Prefix() + "waiting for the network failed: " +
                           curl_multi_strerror(mc));
      }
    }
  }

  std::string Detail() const {
    std::string detail =
        errbuf_[0] != '\0' ? std::string(errbuf_) : curl_easy_strerror(result_);
    while (!detail.empty() &&
           (detail.back() == '\n' || detail.back() == '\r')) {
      detail.pop_back();
    }
    // Signed URLs carry their signature in the query: never echo it.
    auto query_begin = url_.find('?');
    const std::string query =
        query_begin == std::string::npos ? "" : url_.substr(query_begin + 1);
    if (!query.empty()) {
      for (auto at = detail.find(query); at != std::string::npos;
           at = detail.find(query)) {
        detail.replace(at, query.size(), "<redacted>");
      }
    }
    return detail;
  }

  void ThrowIfFailed() const {
    if (result_ == CURLE_OK) return;
    if (too_large_ || result_ == CURLE_FILESIZE_EXCEEDED) {
      throw Error(0, Prefix() + "response body exceeds the limit of " +
                         std::to_string(max_bytes_) + " bytes");
    }
    if (!upload_error_.empty()) throw Error(0, Prefix() + upload_error_);
    if (result_ == CURLE_ABORTED_BY_CALLBACK) CheckContext();
    if (result_ == CURLE_OPERATION_TIMEDOUT) {
      throw TimeoutError(Prefix() +
                         (DeadlinePassed() ? TimeoutText() : Detail()));
    }
    switch (ClassifyFailure(result_)) {
      case Failure::kBeforeSend:
        throw TransientTransportError(Prefix() + Detail(), false);
      case Failure::kAfterSend:
        throw TransientTransportError(Prefix() + Detail(), true);
      case Failure::kPermanent:
        break;
    }
    throw Error(0, Prefix() + Detail());
  }

  int FinalStatus() const {
    if (status_ != 0) return status_;
    long code = 0;
    curl_easy_getinfo(handle_.easy, CURLINFO_RESPONSE_CODE, &code);
    return static_cast<int>(code);
  }

  static int ParseStatusLine(std::string_view line) {
    auto space = line.find(' ');
    if (space == std::string_view::npos) return 0;
    int code = 0;
    std::size_t digits = 0;
    for (std::size_t i = space + 1; i < line.size() && digits < 3; ++i) {
      if (line[i] < '0' || line[i] > '9') return 0;
      code = code * 10 + (line[i] - '0');
      ++digits;
    }
    return digits == 3 ? code : 0;
  }

  static std::size_t OnHeader(char* data, std::size_t size, std::size_t count,
                              void* self) {
    auto* transfer = static_cast<CurlTransfer*>(self);
    std::size_t length = size * count;
    try {
      transfer->HandleHeaderLine(std::string_view(data, length));
    } catch (...) {
      return 0;  // aborts the transfer (out of memory)
    }
    return length;
  }

  void HandleHeaderLine(std::string_view line) {
    if (headers_done_) return;  // trailers of a chunked body
    if (line.substr(0, 5) == "HTTP/") {
      // A new header block (after 1xx): only the final one is reported.
      headers_.clear();
      block_status_ = ParseStatusLine(Trim(line));
      return;
    }
    std::string_view trimmed = Trim(line);
    if (trimmed.empty() &&
        (line.empty() || line[0] == '\r' || line[0] == '\n')) {
      if (block_status_ >= 200) {
        status_ = block_status_;
        headers_done_ = true;
      } else {
        headers_.clear();
      }
      return;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !headers_.empty()) {
      // Obsolete line folding continues the previous value.
      headers_.back().second += ' ';
      headers_.back().second += trimmed;
      return;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    // Responses carry a handful of headers: one allocation, not four.
    if (headers_.empty()) headers_.reserve(8);
    headers_.emplace_back(std::string(line.substr(0, colon)),
                          std::string(Trim(line.substr(colon + 1))));
  }

  static std::size_t OnWrite(char* data, std::size_t size, std::size_t count,
                             void* self) {
    auto* transfer = static_cast<CurlTransfer*>(self);
    std::size_t length = size * count;
    try {
      if (transfer->mode_ == Mode::kBuffered) {
        if (length > transfer->max_bytes_ - transfer->data_.size()) {
          transfer->too_large_ = true;
          return 0;  // stops reading: CURLE_WRITE_ERROR
        }
      } else if (transfer->data_.size() - transfer->data_pos_ >= kSpillLimit) {
        // Enough unread bytes: hold the network until the reader catches
        // up, so memory stays flat whatever the body size.
        transfer->paused_ = true;
        return CURL_WRITEFUNC_PAUSE;
      }
      transfer->data_.append(data, length);
    } catch (...) {
      return 0;
    }
    return length;
  }

  static std::size_t OnRead(char* buffer, std::size_t size, std::size_t count,
                            void* self) {
    auto* transfer = static_cast<CurlTransfer*>(self);
    std::size_t length = size * count;
    try {
      return transfer->ReadBody(buffer, length);
    } catch (...) {
      transfer->upload_error_ = "reading the request body stream failed";
      return CURL_READFUNC_ABORT;
    }
  }

  // The request body stream (a body in memory goes as POSTFIELDS).
  std::size_t ReadBody(char* buffer, std::size_t length) {
    if (stream_ == nullptr) return 0;
    if (stream_size_) {
      std::uint64_t left = *stream_size_ - sent_;
      if (left < length) length = static_cast<std::size_t>(left);
      if (length == 0) return 0;
    }
    stream_->read(buffer, static_cast<std::streamsize>(length));
    auto got = static_cast<std::size_t>(stream_->gcount());
    if (stream_->bad() || (got < length && !stream_->eof())) {
      upload_error_ = "reading the request body stream failed";
      return CURL_READFUNC_ABORT;
    }
    sent_ += got;
    if (got == 0 && stream_size_ && sent_ < *stream_size_) {
      // Without this the server would wait for the missing bytes forever.
      upload_error_ = "request body stream ended after " +
                      std::to_string(sent_) + " of " +
                      std::to_string(*stream_size_) + " bytes";
      return CURL_READFUNC_ABORT;
    }
    return got;
  }

  // curl rewinds the body when it retries a request on a reused
  // connection that turned out to be closed.
  static int OnSeek(void* self, curl_off_t offset, int origin) {
    auto* transfer = static_cast<CurlTransfer*>(self);
    if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
    if (transfer->stream_ == nullptr ||
        transfer->stream_start_ == std::streampos(-1)) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    try {
      transfer->stream_->clear();
      transfer->stream_->seekg(transfer->stream_start_ +
                               static_cast<std::streamoff>(offset));
      if (!*transfer->stream_) return CURL_SEEKFUNC_CANTSEEK;
    } catch (...) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    transfer->sent_ = static_cast<std::uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
  }

  std::shared_ptr<TransportState> state_;
  Mode mode_;
  std::string method_;
  std::string url_;
  Context context_;
  std::optional<Clock::time_point> deadline_;
  std::chrono::milliseconds request_timeout_{0};
  bool deadline_is_context_ = false;  // else the request's own timeout

  // Request body: a string (body_ views owned_body_ or the request's) or a
  // stream.
  std::string owned_body_;
  std::string_view body_;
  std::istream* stream_;
  std::optional<std::uint64_t> stream_size_;
  std::streampos stream_start_ = std::streampos(-1);
  std::uint64_t sent_ = 0;
  bool upload_ = false;
  std::string upload_error_;

  CurlHandle handle_;
  bool attached_ = false;
  char errbuf_[CURL_ERROR_SIZE] = {};

  // Response.
  int block_status_ = 0;
  int status_ = 0;
  bool headers_done_ = false;
  HttpHeaders headers_;
  std::size_t max_bytes_;
  std::string data_;  // the whole body (buffered) or unread bytes (streaming)
  std::size_t data_pos_ = 0;
  bool too_large_ = false;
  bool paused_ = false;
  bool done_ = false;
  CURLcode result_ = CURLE_OK;
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(const HTTPClientOptions& options)
      : state_(std::make_shared<TransportState>(options)) {}

  HttpResponse Send(const HttpRequest& request) override {
    CurlTransfer transfer(state_, request, CurlTransfer::Mode::kBuffered);
    return transfer.Finish();
  }

  std::unique_ptr<BodyReader> Open(const HttpRequest& request) override {
    auto transfer = std::make_unique<CurlTransfer>(
        state_, request, CurlTransfer::Mode::kStreaming);
    transfer->WaitForHeaders();
    return transfer;
  }

 private:
  std::shared_ptr<TransportState> state_;
};

}  // namespace

std::shared_ptr<HttpTransport> MakeCurlTransport(
    const HTTPClientOptions& options) {
  GlobalInit();
  return std::make_shared<CurlTransport>(options);
}

}  // namespace e2b::internal
