// Network rules of a sandbox, both ways:
//   - outbound: a sandbox created with an allowlist (AllowOutbound) cannot
//     reach other addresses, and UpdateNetwork tightens a running sandbox's
//     rules to deny everything;
//   - inbound: a web server started in the sandbox is reached from here at
//     the host name GetHost(port) gives, and a sandbox created with
//     Network.AllowPublicTraffic = false answers only requests that carry
//     its TrafficAccessToken.
// The outbound checks use documentation addresses (RFC 5737) that the
// firewall refuses inside the sandbox, so nothing leaves this machine.
//
// Against E2B the URL is https://<GetHost(port)>; against e2b-local
// (E2B_SANDBOX_URL set) the request goes to its envd listener with
// GetHost(port) as the Host header, which is how its edge routes it.

#include <e2b/e2b.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

namespace {

int Fail(const std::string& what) {
  std::cerr << "error: " << what << std::endl;
  return 1;
}

struct HttpAnswer {
  long status = 0;  // 0: no answer at all
  std::string body;
  std::string error;
};

size_t Append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// GET / from `port` of the sandbox, with `token` as the traffic access
// token when it is not empty.
HttpAnswer Fetch(const e2b::Sandbox& sandbox, int port,
                 const std::string& token = {}) {
  const std::string host = sandbox.GetHost(port);
  const char* local = std::getenv("E2B_SANDBOX_URL");
  const std::string url = local != nullptr && *local != '\0'
                              ? std::string(local) + "/"
                              : "https://" + host + "/";
  HttpAnswer answer;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    answer.error = "curl_easy_init failed";
    return answer;
  }
  curl_slist* headers = nullptr;
  if (local != nullptr && *local != '\0') {
    headers = curl_slist_append(headers, ("Host: " + host).c_str());
  }
  if (!token.empty()) {
    headers = curl_slist_append(headers,
                                ("e2b-traffic-access-token: " + token).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  } else {
    answer.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

// Starts `python3 -m http.server` on `port` serving `page` as index.html
// and waits until it answers through GetHost (a 502 until it listens).
bool ServePage(const e2b::Sandbox& sandbox, int port, const std::string& page,
               const std::string& token = {}) {
  const std::string dir = "/tmp/www" + std::to_string(port);
  sandbox.Filesystem.WriteString(dir + "/index.html", page);
  sandbox.Commands.StartShell("cd " + dir + " && exec python3 -m http.server " +
                              std::to_string(port) + " --bind 0.0.0.0");
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Fetch(sandbox, port, token).status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Whether a TCP connection from inside the sandbox to `address`:80 fails
// at once, as the firewall makes it (a route that merely drops packets
// would take the whole 3 s).
bool ConnectionRefused(const e2b::Sandbox& sandbox,
                       const std::string& address) {
  const auto start = std::chrono::steady_clock::now();
  e2b::CommandResult r = sandbox.Commands.Run(
      "python3", {"-c", "import socket; socket.create_connection(('" + address +
                            "', 80), 3)"});
  const auto took = std::chrono::steady_clock::now() - start;
  std::cout
      << "  connect to " << address << ": exit " << r.ExitCode << ", "
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms" << std::endl;
  return r.ExitCode != 0 && took < std::chrono::milliseconds(2500);
}

int Outbound(e2b::Client& client) {
  std::cout << "Outbound: a sandbox that may reach only 203.0.113.0/24"
            << std::endl;
  e2b::SandboxConfig cfg;
  cfg.Network = e2b::AllowOutbound({"203.0.113.0/24"});
  e2b::Sandbox sandbox = client.NewSandbox(cfg);
  e2b::SandboxCloser closer(sandbox);
  if (!ConnectionRefused(sandbox, "198.51.100.7")) {
    return Fail("a sandbox with an allowlist reached an address outside it");
  }

  std::cout << "Tightening the running sandbox: deny all outbound traffic"
            << std::endl;
  e2b::NetworkUpdateConfig update;
  update.DenyOut = {e2b::AllTraffic};
  sandbox.UpdateNetwork(update);
  if (!ConnectionRefused(sandbox, "203.0.113.7")) {
    return Fail("after UpdateNetwork the once-allowed range is reachable");
  }
  return 0;
}

int Inbound(e2b::Client& client) {
  std::cout << "Inbound: a web server in the sandbox, reached at GetHost"
            << std::endl;
  e2b::Sandbox sandbox = client.NewSandbox();
  e2b::SandboxCloser closer(sandbox);
  if (!ServePage(sandbox, 8000, "hello from the sandbox\n")) {
    return Fail("the server in the sandbox never answered at " +
                sandbox.GetHost(8000));
  }
  HttpAnswer page = Fetch(sandbox, 8000);
  std::cout << "  GET " << sandbox.GetHost(8000) << " -> " << page.status
            << ": " << page.body;
  if (page.body != "hello from the sandbox\n") {
    return Fail("unexpected page: " + page.body);
  }
  HttpAnswer closed = Fetch(sandbox, 8001);
  std::cout << "  GET " << sandbox.GetHost(8001) << " (nothing listens) -> "
            << closed.status << std::endl;
  if (closed.status != 502) {
    return Fail("a closed port answered " + std::to_string(closed.status));
  }

  std::cout << "Inbound to a private sandbox (AllowPublicTraffic = false)"
            << std::endl;
  e2b::SandboxConfig cfg;
  cfg.Network = e2b::NetworkConfig{};
  cfg.Network->AllowPublicTraffic = false;  // needs Secure, the default
  e2b::Sandbox secured = client.NewSandbox(cfg);
  e2b::SandboxCloser secured_closer(secured);
  if (secured.TrafficAccessToken.empty()) {
    return Fail("a private sandbox came without a TrafficAccessToken");
  }
  if (!ServePage(secured, 8000, "private page\n", secured.TrafficAccessToken)) {
    return Fail("the private server never answered with the token");
  }
  HttpAnswer without = Fetch(secured, 8000);
  std::cout << "  without the token -> " << without.status << std::endl;
  if (without.status != 403) {
    return Fail("a private port answered " + std::to_string(without.status) +
                " without the token");
  }
  HttpAnswer with = Fetch(secured, 8000, secured.TrafficAccessToken);
  std::cout << "  with the token -> " << with.status << ": " << with.body;
  if (with.status != 200 || with.body != "private page\n") {
    return Fail("the token did not open the private port");
  }
  return 0;
}

}  // namespace

int main() {
  try {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    e2b::Client client = e2b::NewClient();
    if (int rc = Outbound(client); rc != 0) return rc;
    if (int rc = Inbound(client); rc != 0) return rc;
    std::cout << "Network rules hold both ways." << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
}
