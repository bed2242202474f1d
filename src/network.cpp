// Helpers that build NetworkConfig values, as the Go SDK's network.go
// offers them.

#include <e2b/types.hpp>

#include <utility>

namespace e2b {

NetworkConfig& NetworkConfig::WithRequestTransform(
    const std::string& host, std::map<std::string, std::string> headers) {
  RequestRule rule;
  rule.Transform.Headers = std::move(headers);
  Rules[host].push_back(std::move(rule));
  return *this;
}

NetworkConfig DenyAllOutbound() {
  NetworkConfig config;
  config.DenyOut = {AllTraffic};
  return config;
}

NetworkConfig AllowOutbound(std::vector<std::string> hosts) {
  NetworkConfig config;
  config.DenyOut = {AllTraffic};
  config.AllowOut = std::move(hosts);
  return config;
}

}  // namespace e2b
