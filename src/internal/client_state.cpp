#include "internal/client_state.hpp"

namespace e2b::internal {

namespace {
constexpr const char* kEnvdPort = "49983";
}  // namespace

HttpHeaders SandboxState::EnvdHeaders() const {
  HttpHeaders headers;
  if (!access_token.empty())
    headers.emplace_back("X-Access-Token", access_token);
  // Always sent, so one envd endpoint (E2B_SANDBOX_URL, e2b-local) can route
  // every sandbox; the edge ignores them on per-sandbox host names.
  headers.emplace_back("E2b-Sandbox-Id", id);
  headers.emplace_back("E2b-Sandbox-Port", kEnvdPort);
  headers.emplace_back("User-Agent", UserAgent());
  return headers;
}

std::string EnvdBaseUrl(const ClientState& client, const std::string& id,
                        const std::string& domain) {
  if (!client.sandbox_url.empty()) return client.sandbox_url;
  const char* scheme = client.plain_http ? "http://" : "https://";
  return std::string(scheme) + kEnvdPort + "-" + id + "." + domain;
}

}  // namespace e2b::internal
