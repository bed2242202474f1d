#ifndef E2B_HTTP_CLIENT_HPP_
#define E2B_HTTP_CLIENT_HPP_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace e2b {

namespace internal {
class HttpTransport;
}  // namespace internal

/// Settings of the HTTP layer (libcurl underneath). Proxies are also taken
/// from the usual environment variables (http_proxy, https_proxy, no_proxy)
/// as curl users expect, unless Proxy is set.
struct HTTPClientOptions {
  /// Limit for establishing a connection (TCP + TLS).
  std::chrono::milliseconds ConnectTimeout{10000};
  /// Proxy URL (e.g. "http://proxy:3128"); empty = curl's environment rules.
  std::string Proxy;
  /// CA bundle file and directory for TLS verification; empty = system.
  std::string CAInfo;
  /// CA certificate directory (see CAInfo); empty = system.
  std::string CAPath;
  /// Turns TLS certificate and host name verification off. Never do this
  /// outside tests.
  bool InsecureSkipTLSVerify = false;
  /// Idle connections kept open for reuse.
  std::size_t MaxIdleConnections = 32;
  /// Offer HTTP/2 to TLS servers (plain http:// stays on HTTP/1.1).
  bool EnableHTTP2 = true;
};

/// A pooled HTTP client (the C++ stand-in for Go's *http.Client): keeps
/// connections alive and reuses them per host. Thread-safe; share one
/// between Clients to share their connections.
class HTTPClient {
 public:
  /// A client with its own connection pool, configured by `options`.
  explicit HTTPClient(HTTPClientOptions options = {});
  /// The options this client was created with.
  const HTTPClientOptions& Options() const noexcept { return options_; }

 private:
  friend std::shared_ptr<internal::HttpTransport> TransportOf(
      const HTTPClient& client);
  HTTPClientOptions options_;
  std::shared_ptr<internal::HttpTransport> transport_;
};

}  // namespace e2b

#endif  // E2B_HTTP_CLIENT_HPP_
