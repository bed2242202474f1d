#include "internal/http_transport.hpp"

#include <e2b/http_client.hpp>

#include <utility>

namespace e2b {

HTTPClient::HTTPClient(HTTPClientOptions options)
    : options_(std::move(options)),
      transport_(internal::MakeCurlTransport(options_)) {}

std::shared_ptr<internal::HttpTransport> TransportOf(const HTTPClient& client) {
  return client.transport_;
}

}  // namespace e2b
