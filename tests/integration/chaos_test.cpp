// e2b-local under attack: a bounded, seeded run of random and malformed
// requests against both of a live server's ports -- bad JSON, wrong types,
// huge bodies, broken Connect envelopes, bad multipart, path escapes, wrong
// keys and tokens, random methods and paths, raw garbage on the socket --
// while a victim sandbox keeps a file and a running process.
//
// Afterwards the server must still answer /health, the victim's file and
// process must be intact, the host files the requests aimed at untouched,
// and every answer must have been sane. The only 5xx allowed are envd's
// documented 502 for a request routed to a sandbox that is not running
// (the chaos may legitimately pause or kill its own target sandbox) and
// Connect's 501 `unimplemented` for an unknown RPC or process selector.
//
// The seed is fixed; E2B_CHAOS_SEED=<n> explores another run, and every
// failure names the seed and the request index that reproduces it.
// E2B_CHAOS_VERBOSE=1 prints every request slower than half a second.

#include "integration/e2b_local_fixture.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define E2B_CHAOS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define E2B_CHAOS_SANITIZED 1
#endif
#endif
#ifdef E2B_CHAOS_SANITIZED
// Sanitized builds (tools/sanitize.sh) run several times slower: fewer
// requests, and more patience before an answer counts as missing.
constexpr int kRequests = 1000;
constexpr int kAnswerBoundSeconds = 30;
#else
constexpr int kRequests = 2500;
constexpr int kAnswerBoundSeconds = 5;
#endif
constexpr std::uint64_t kDefaultSeed = 20261129;

constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

// Random strings are not always UTF-8; the JSON text carries U+FFFD then.
std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, kReplace);
}

int PortOf(const std::string& url) {
  const std::size_t colon = url.rfind(':');
  return colon == std::string::npos ? -1 : std::atoi(url.c_str() + colon + 1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Sends `bytes` on a fresh connection, half-closes it, and returns the HTTP
// status of the answer: 0 when the server closed without one (-1 when it
// neither answered nor closed within the bound).
int SendRaw(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -2;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -2;
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse early and close
    sent += static_cast<std::size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string answer;
  const auto deadline = Clock::now() + 3s;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - Clock::now())
                          .count();
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      close(fd);
      return answer.empty() ? -1 : 0;
    }
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
    if (answer.size() > 64 * 1024) break;
  }
  close(fd);
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12) return 0;
  return std::atoi(answer.c_str() + 9);
}

// The random request generator. Everything comes from one seeded engine,
// so a run is reproducible.
class Chaos {
 public:
  Chaos(std::uint64_t seed, std::string host_dir) : rng_(seed) {
    const std::string sentinel = host_dir + "/sentinel";
    paths_ = {"/home/user/chaos.txt",
              "/home/user",
              "chaos-relative.txt",
              "..",
              "../../../../../.." + sentinel,
              "/proc/1/root" + sentinel,
              "/proc/self/root" + sentinel,
              "/proc/self/cwd/../../.." + sentinel,
              "/home/user/escape" + sentinel,
              "/home/user/escape" + host_dir,
              host_dir,
              sentinel,
              "/",
              "",
              "~/x",
              "/dev/zero",
              "/proc/self/environ",
              std::string("/home/user/nul\0byte", 19),
              "/home/user/" + std::string(300, 'a'),
              std::string(5000, '/') + "x",
              "\xff\xfe",
              "%2e%2e/%2e%2e" + sentinel};
  }

  std::size_t Below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool Chance(int percent) { return static_cast<int>(Below(100)) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& from) {
    return from[Below(from.size())];
  }

  std::string Bytes(std::size_t max) {
    std::string out(Below(max + 1), '\0');
    for (char& c : out) c = static_cast<char>(Below(256));
    return out;
  }

  std::string Path() { return Pick(paths_); }

  std::string Str() {
    switch (Below(6)) {
      case 0:
        return Path();
      case 1:
        return Bytes(40);
      case 2:
        return std::string(Below(3) == 0 ? 70000 : 20, 'x');
      case 3:
        return "user";
      case 4:
        return "root";
      default:
        return "";
    }
  }

  nlohmann::json Value(int depth = 0) {
    switch (Below(depth > 2 ? 9 : 11)) {
      case 0:
        return nullptr;
      case 1:
        return Chance(50);
      case 2:
        return static_cast<std::int64_t>(Below(1000)) - 10;
      case 3:
        return Pick(std::vector<std::int64_t>{-1, 0, 2147483647, 2147483648LL,
                                              -9223372036854775807LL - 1,
                                              9223372036854775807LL});
      case 4:
        return 1e300;
      case 5:
      case 6:
        return Str();
      case 7:
        return nlohmann::json::array();
      case 8:
        return nlohmann::json::object();
      case 9: {
        nlohmann::json a = nlohmann::json::array();
        for (std::size_t i = Below(4); i > 0; --i)
          a.push_back(Value(depth + 1));
        return a;
      }
      default:
        return Object(depth + 1);
    }
  }

  nlohmann::json Object(int depth = 0) {
    static const std::vector<std::string> fields = {
        "timeout",   "templateID", "autoPause",   "metadata",   "envVars",
        "count",     "duration",   "memory",      "name",       "tags",
        "cpuCount",  "memoryMB",   "network",     "autoResume", "path",
        "depth",     "source",     "destination", "process",    "pid",
        "signal",    "input",      "tag",         "selector",   "watcherId",
        "recursive", "stdin",      "cmd",         "args",       "envs",
        "cwd",       "stdout",     "pty",         "size",       "allowOut"};
    nlohmann::json o = nlohmann::json::object();
    for (std::size_t i = Below(5); i > 0; --i) {
      o[Pick(fields)] = Value(depth);
    }
    return o;
  }

  // A JSON-ish body: valid objects of wrong or right types, broken JSON,
  // garbage, deep nesting, now and then a huge one.
  std::string JsonBody() {
    switch (Below(12)) {
      case 0:
        return "";
      case 1:
        return "{}";
      case 2:
        return Pick(std::vector<std::string>{
            "{", "[", "{\"timeout\":}", "nul", "{\"a\":1}}", "\"str\"", "[]",
            "null", "1e99999", "{\"timeout\":1e400}", "\xef\xbb\xbf{}",
            "{\"templateID\":\"\\ud800\"}", "{\"a\":\"\xff\"}"});
      case 3:
        return Bytes(300);
      case 4:
        return std::string(Below(2) == 0 ? 5000 : 200, '[') +
               std::string(100, ']');
      case 5:
        if (Chance(25)) {
          return "{\"name\":\"" +
                 std::string(Below(2) == 0 ? 900000 : 100000, 'n') + "\"}";
        }
        return Dump(Object());
      default:
        return Dump(Object());
    }
  }

  std::string Envelope(std::uint8_t flags, const std::string& payload) {
    std::string out(1, static_cast<char>(flags));
    const auto n = static_cast<std::uint32_t>(payload.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((n >> shift) & 0xFF));
    }
    return out + payload;
  }

  // A server-streaming request body: mostly well framed, often not.
  std::string StreamBody() {
    const std::string payload = JsonBody();
    switch (Below(8)) {
      case 0:
        return payload;  // no envelope at all
      case 1:
        return Envelope(static_cast<std::uint8_t>(Below(256)), payload);
      case 2:
        return Envelope(0, payload).substr(0, Below(payload.size() + 5));
      case 3:
        return Envelope(0, payload) + Envelope(0, "{}");
      case 4:
        return std::string("\x00\xff\xff\xff\xff", 5) + payload;
      case 5:
        return Envelope(2, "{}");
      default:
        return Envelope(0, payload);
    }
  }

  std::string MultipartBody(std::string* content_type) {
    const std::string boundary = "chaos" + std::to_string(Below(1000000));
    std::string part = "--" + boundary +
                       "\r\nContent-Disposition: form-data; name=\"file\"; "
                       "filename=\"" +
                       Str() +
                       "\"\r\nContent-Type: "
                       "application/octet-stream\r\n\r\n" +
                       Bytes(200) + "\r\n--" + boundary + "--\r\n";
    switch (Below(7)) {
      case 0:
        *content_type = "multipart/form-data";  // no boundary
        return part;
      case 1:
        *content_type = "multipart/form-data; boundary=other";
        return part;
      case 2:
        *content_type = "multipart/form-data; boundary=" + boundary;
        return part.substr(0, Below(part.size()));
      case 3:
        *content_type = "application/octet-stream";
        return Bytes(2000);
      case 4:
        *content_type = Str();
        return Bytes(500);
      default:
        *content_type = "multipart/form-data; boundary=" + boundary;
        return part;
    }
  }

  // Raw bytes for a socket: garbage, half requests, lies about lengths.
  std::string RawRequest() {
    switch (Below(8)) {
      case 0:
        return Bytes(4096);
      case 1:
        return "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " +
               std::string(100000, 'h') + "\r\n\r\n";
      case 2:
        return "POST /sandboxes HTTP/1.1\r\nHost: x\r\nContent-Length: "
               "100000\r\n\r\n{\"templateID\":";
      case 3:
        return "POST /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
               "chunked\r\n\r\nzz\r\nabc\r\n";
      case 4:
        return "GET /" + std::string(70000, 'p') + " HTTP/1.1\r\n\r\n";
      case 5:
        return "\r\n\r\n\r\n";
      case 6:
        return "GET /health HTTP/9.9\r\nContent-Length: -5\r\n\r\n";
      default:
        return Pick(std::vector<std::string>{"GET", "POST", "BREW"}) + " " +
               Bytes(60) + " HTTP/1.1\r\n" + Bytes(200) + "\r\n\r\n";
    }
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> paths_;
};

class ChaosTest : public E2bLocalTest {};

TEST_F(ChaosTest, RandomAndMalformedRequestsHarmNothing) {
  // httplib's client writes without MSG_NOSIGNAL; a server that refuses
  // a request early and closes must not kill the test with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::uint64_t seed = kDefaultSeed;
  if (const char* s = std::getenv("E2B_CHAOS_SEED")) {
    seed = std::strtoull(s, nullptr, 10);
  }
  const int api_port = PortOf(Server().APIURL());
  const int envd_port = PortOf(Server().SandboxURL());
  ASSERT_GT(api_port, 0);
  ASSERT_GT(envd_port, 0);

  // Host files the requests aim at.
  const std::string host_dir = Server().TempDir() + "/host-" + RandomHex(4);
  std::filesystem::create_directories(host_dir);
  const std::string sentinel_text = "host file " + RandomHex(8);
  { std::ofstream(host_dir + "/sentinel") << sentinel_text; }

  // The victim: never addressed with valid credentials.
  e2b::Sandbox victim = NewSandbox();
  const std::string victim_text = "victim " + RandomHex(16);
  victim.Filesystem.WriteString("/home/user/victim.txt", victim_text);
  e2b::CommandHandle victim_process =
      victim.Commands.Start("sleep", {"300"}, e2b::WithTimeout(300s));
  const std::uint32_t victim_pid = victim_process.PID();

  // The target: attacked with valid credentials too, so requests get past
  // authentication into the handlers. A symlink out of its home, to the
  // top of its own root, invites escapes.
  e2b::Sandbox target = NewSandbox();
  target.Commands.Run("ln", {"-s", "/", "/home/user/escape"});
  const std::string token = target.EnvdAccessToken();
  const std::string victim_token = victim.EnvdAccessToken();
  const std::string key = Server().APIKey();

  Chaos chaos(seed, host_dir);
  const std::vector<std::string> methods = {"GET",     "POST",  "PUT",
                                            "DELETE",  "PATCH", "HEAD",
                                            "OPTIONS", "BREW",  "get"};
  const std::vector<std::string> api_routes = {
      "/sandboxes",
      "/v2/sandboxes",
      "/sandboxes/{id}",
      "/sandboxes/{id}/timeout",
      "/sandboxes/{id}/refreshes",
      "/sandboxes/{id}/pause",
      "/sandboxes/{id}/resume",
      "/sandboxes/{id}/connect",
      "/v2/sandboxes/{id}/connect",
      "/sandboxes/{id}/fork",
      "/sandboxes/{id}/snapshots",
      "/sandboxes/{id}/logs",
      "/v2/sandboxes/{id}/logs",
      "/sandboxes/{id}/metrics",
      "/sandboxes/metrics",
      "/sandboxes/{id}/network",
      "/snapshots",
      "/templates",
      "/templates/{id}",
      "/v3/templates",
      "/v2/templates/{id}",
      "/templates/{id}/builds/{id}/status",
      "/templates/{id}/builds/{id}/logs",
      "/health",
      "/",
      "/{id}"};
  const std::vector<std::string> queries = {"",
                                            "?limit=0",
                                            "?limit=-1",
                                            "?limit=99999999999999999999",
                                            "?nextToken=%zz",
                                            "?nextToken=AAAA",
                                            "?metadata=a%3D%zz",
                                            "?metadata=%3D%3D",
                                            "?state=running,bogus",
                                            "?startedAfter=2262-13-40",
                                            "?start=1&end=0",
                                            "?sandbox_ids=,,,",
                                            "?level=loud",
                                            "?cursor=x",
                                            "?direction=up",
                                            "?order=sideways"};
  const std::vector<std::string> rpcs = {
      "/process.Process/Start",
      "/process.Process/List",
      "/process.Process/SendInput",
      "/process.Process/SendSignal",
      "/process.Process/CloseStdin",
      "/process.Process/Update",
      "/filesystem.Filesystem/Stat",
      "/filesystem.Filesystem/ListDir",
      "/filesystem.Filesystem/MakeDir",
      "/filesystem.Filesystem/Move",
      "/filesystem.Filesystem/Remove",
      "/filesystem.Filesystem/CreateWatcher",
      "/filesystem.Filesystem/GetWatcherEvents",
      "/filesystem.Filesystem/RemoveWatcher",
      "/process.Process/Nope",
      "/a.B/C"};
  const std::set<std::string> stream_rpcs = {"/process.Process/Start"};

  std::vector<std::string> failures;
  std::map<int, int> statuses;
  int answered = 0;
  const auto started = Clock::now();

  for (int i = 0; i < kRequests; ++i) {
    const std::string where =
        "seed " + std::to_string(seed) + " request " + std::to_string(i);
    const std::size_t kind = chaos.Below(20);
    if (kind == 0) {  // raw bytes on either port
      const bool api = chaos.Chance(50);
      const int status =
          SendRaw(api ? api_port : envd_port, chaos.RawRequest());
      ++statuses[status];
      if (status == -1) {
        failures.push_back(where + ": raw request neither answered nor closed");
      } else if (status >= 500) {
        failures.push_back(where + ": raw request answered " +
                           std::to_string(status));
      }
      continue;
    }

    httplib::Request req;
    bool api = false;
    bool victim_routed = false;
    if (kind < 9) {  // the control plane
      api = true;
      const bool aim_at_victim = chaos.Chance(15);
      victim_routed = aim_at_victim;
      std::vector<std::string> ids = {
          target.ID, "nope" + RandomHex(2), "..", "%2e%2e", "%zz",
          "a%2Fb",   std::string(300, 'i'), "%00"};
      const std::string id = aim_at_victim ? victim.ID : chaos.Pick(ids);
      std::string path = chaos.Pick(api_routes);
      for (std::size_t at; (at = path.find("{id}")) != std::string::npos;) {
        path.replace(at, 4, id);
      }
      if (chaos.Chance(5)) path = "/" + chaos.Bytes(30);
      req.method = chaos.Pick(methods);
      req.path = path + chaos.Pick(queries);
      const std::size_t auth = chaos.Below(10);
      if (!aim_at_victim && auth < 6) {
        req.headers.emplace("X-API-Key", key);
      } else if (auth < 8) {
        req.headers.emplace("X-API-Key",
                            key.substr(0, chaos.Below(key.size() + 1)) + "x");
      } else if (auth < 9) {
        req.headers.emplace("X-API-Key", "");
      }
      req.body = chaos.JsonBody();
      req.headers.emplace("Content-Type",
                          chaos.Chance(80) ? "application/json" : chaos.Str());
    } else {  // envd
      const std::size_t route = chaos.Below(10);
      std::string routed_id;
      if (route < 7) {
        routed_id = target.ID;
      } else if (route < 8) {
        routed_id = victim.ID;
        victim_routed = true;
      } else if (route < 9) {
        routed_id = chaos.Str();
      }
      if (!routed_id.empty() || chaos.Chance(50)) {
        if (chaos.Chance(80)) {
          req.headers.emplace("E2b-Sandbox-Id", routed_id);
        } else {
          req.headers.emplace("Host", "49983-" + routed_id + ".localhost");
        }
      }
      const std::size_t auth = chaos.Below(10);
      if (!victim_routed && auth < 7) {
        req.headers.emplace("X-Access-Token", token);
      } else if (auth < 9) {
        req.headers.emplace("X-Access-Token", token + "x");
      }
      if (chaos.Chance(30)) {
        req.headers.emplace(
            "Authorization",
            chaos.Pick(std::vector<std::string>{
                "Basic cm9vdDo=", "Basic dXNlcjo=", "Basic !!!", "Basic ",
                "Basic Ym9ndXM6", "Bearer x", "Basic " + chaos.Bytes(20)}));
      }
      const std::size_t what = chaos.Below(10);
      if (what < 3) {  // /files
        std::string query =
            "?path=" + httplib::detail::encode_query_param(chaos.Path());
        if (chaos.Chance(30)) query += "&username=" + chaos.Str();
        if (chaos.Chance(20)) {
          query += "&signature=v1_" + RandomHex(8) +
                   "&signature_expiration=" + chaos.Str();
        }
        req.path = "/files" + query;
        if (chaos.Chance(50)) {
          req.method = "GET";
        } else {
          req.method = "POST";
          std::string content_type;
          req.body = chaos.MultipartBody(&content_type);
          req.headers.emplace("Content-Type", content_type);
        }
      } else {  // Connect RPCs
        req.method = chaos.Chance(90) ? "POST" : chaos.Pick(methods);
        req.path = chaos.Pick(rpcs);
        const bool stream = stream_rpcs.count(req.path) != 0;
        req.body = stream ? chaos.StreamBody() : chaos.JsonBody();
        if (stream && chaos.Chance(20)) {
          // The victim's PID, inside a well-formed stream request.
          req.body = chaos.Envelope(
              0, nlohmann::json{{"process",
                                 {{"cmd", chaos.Str()}, {"args", {"x"}}}}}
                     .dump(-1, ' ', false, kReplace));
        }
        if (!stream && chaos.Chance(15)) {
          // Signals and input for the victim's PID, sent to the target.
          req.body = nlohmann::json{{"process", {{"pid", victim_pid}}},
                                    {"signal", "SIGNAL_SIGKILL"}}
                         .dump(-1, ' ', false, kReplace);
        }
        if (req.path == "/filesystem.Filesystem/Remove" ||
            req.path == "/filesystem.Filesystem/Move") {
          // Deleting or moving a whole tree of the target (its root, or
          // root's home: the sandbox image is the host's, so that is
          // gigabytes) is legitimate and only slow; keep the run bounded.
          req.headers.erase("Authorization");
          auto body = nlohmann::json::parse(req.body, nullptr, false);
          if (body.is_object()) {
            for (const char* field : {"path", "source", "destination"}) {
              auto it = body.find(field);
              if (it != body.end() && it->is_string() &&
                  (*it == "/" || *it == ".." || *it == "/home")) {
                *it = "/home/user/chaos.txt";
              }
            }
            req.body = Dump(body);
          }
        }
        const std::vector<std::string> types = {
            stream ? "application/connect+json" : "application/json",
            "application/proto",
            "",
            "application/json; charset=utf-8",
            "application/connect+json; x=y",
            "text/plain"};
        req.headers.emplace("Content-Type", chaos.Chance(70)
                                                ? types.front()
                                                : chaos.Pick(types));
        if (chaos.Chance(30)) {
          req.headers.emplace(
              "Connect-Timeout-Ms",
              chaos.Pick(std::vector<std::string>{"100", "abc", "99999999999",
                                                  "-1", "0", " 5 ", "1e3"}));
        }
        if (chaos.Chance(10)) {
          req.headers.emplace("Keepalive-Ping-Interval", chaos.Str());
        }
      }
    }

    // A line break in a header value would end the header block early and
    // leave a POST without a length, which the server waits on until its
    // read timeout; broken framing is the raw requests' business.
    httplib::Headers headers;
    for (auto [name, value] : req.headers) {
      value.erase(std::remove_if(value.begin(), value.end(),
                                 [](char c) { return c == '\r' || c == '\n'; }),
                  value.end());
      headers.emplace(name, value);
    }
    req.headers = std::move(headers);
    httplib::Client client("127.0.0.1", api ? api_port : envd_port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(kAnswerBoundSeconds, 0);
    client.set_write_timeout(kAnswerBoundSeconds, 0);
    const auto sent_at = Clock::now();
    auto result = client.send(req);
    if (std::getenv("E2B_CHAOS_VERBOSE") != nullptr &&
        Clock::now() - sent_at > 500ms) {
      std::cout << where << " took "
                << std::chrono::duration<double>(Clock::now() - sent_at).count()
                << " s: " << req.method << " " << req.path.substr(0, 120)
                << " body " << req.body.substr(0, 200) << "\n";
      for (const auto& [name, value] : req.headers) {
        std::cout << "  " << name << ": " << value.substr(0, 100) << "\n";
      }
    }
    if (!result) {
      // The server may answer a request before reading all of its body (a
      // refusal, or a method that takes none) and close, so the client
      // fails writing; no answer at all (a read timeout) is a failure.
      if (result.error() != httplib::Error::Write) {
        failures.push_back(where + ": no answer to " + req.method + " " +
                           req.path.substr(0, 80) + " (" +
                           httplib::to_string(result.error()) + "), body " +
                           req.body.substr(0, 120));
      }
      ++statuses[-3];
      continue;
    }
    ++answered;
    const int status = result->status;
    ++statuses[status];
    // envd's documented 5xx: 502 for a sandbox that is not running, and
    // Connect's `unimplemented` (501) for an RPC or process selector it
    // does not know, as the real envd answers.
    const bool documented_5xx =
        !api && (status == 502 ||
                 (status == 501 &&
                  result->body.find("\"unimplemented\"") != std::string::npos));
    if (status < 200 || status > 599 || (status >= 500 && !documented_5xx)) {
      failures.push_back(where + ": " + req.method + " " +
                         req.path.substr(0, 80) + " answered " +
                         std::to_string(status) + ": " +
                         result->body.substr(0, 200));
    }
    if (victim_routed && status >= 200 && status < 300 &&
        req.method != "OPTIONS" && req.path.rfind("/health", 0) != 0) {
      failures.push_back(where +
                         ": a request for the victim without its "
                         "credentials succeeded: " +
                         req.method + " " + req.path.substr(0, 80));
    }
    // Secrets only go to callers that already hold one: an error answer
    // never echoes the API key or an access token, whatever was sent.
    const std::string& answer = result->body;
    if (status >= 400 && (answer.find(key) != std::string::npos ||
                          answer.find(token) != std::string::npos ||
                          answer.find(victim_token) != std::string::npos)) {
      failures.push_back(where + ": a " + std::to_string(status) +
                         " answer carries a secret: " + req.method + " " +
                         req.path.substr(0, 80));
    }
    // Error bodies that claim JSON are the documented shapes: the control
    // plane's {"code": <status>, "message"} and Connect's {"code", "message"}.
    if (status >= 400 && req.method != "HEAD" &&
        result->get_header_value("Content-Type").rfind("application/json", 0) ==
            0) {
      const auto body = nlohmann::json::parse(answer, nullptr, false);
      const bool shaped =
          body.is_object() && body.contains("message") &&
          body["message"].is_string() && body.contains("code") &&
          (api ? body["code"] == status
               : body["code"].is_string() || body["code"] == status);
      if (!shaped) {
        failures.push_back(where + ": malformed " + std::to_string(status) +
                           " body for " + req.method + " " +
                           req.path.substr(0, 80) + ": " +
                           answer.substr(0, 200));
      }
    }
  }
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - started).count();

  // Nor does the server's log (its stderr) name a secret after all that.
  const std::string log = Server().StderrTail(std::size_t{64} << 20);
  EXPECT_EQ(log.find(key), std::string::npos) << "the API key is in the log";
  EXPECT_EQ(log.find(token), std::string::npos) << "a token is in the log";
  EXPECT_EQ(log.find(victim_token), std::string::npos)
      << "the victim's token is in the log";

  // The server still answers, on both ports.
  httplib::Client api_client("127.0.0.1", api_port);
  auto health = api_client.Get("/health");
  ASSERT_TRUE(health) << "the control plane no longer answers";
  EXPECT_EQ(health->status, 200);
  httplib::Client envd_client("127.0.0.1", envd_port);
  auto envd_health = envd_client.Get("/health");
  ASSERT_TRUE(envd_health) << "envd no longer answers";
  EXPECT_EQ(envd_health->status, 204);

  // The victim is untouched: its file, its process, and it still works.
  EXPECT_TRUE(victim.IsRunning());
  EXPECT_EQ(victim.Filesystem.ReadString("/home/user/victim.txt"), victim_text);
  bool process_alive = false;
  for (const auto& p : victim.Commands.List()) {
    if (p.PID == victim_pid) process_alive = true;
  }
  EXPECT_TRUE(process_alive) << "the victim's process is gone";
  EXPECT_EQ(victim.Commands.Run("echo", {"still here"}).Stdout, "still here\n");

  // The host's files are as they were.
  EXPECT_EQ(ReadFile(host_dir + "/sentinel"), sentinel_text);
  std::vector<std::string> host_entries;
  for (const auto& e : std::filesystem::directory_iterator(host_dir)) {
    host_entries.push_back(e.path().filename().string());
  }
  EXPECT_EQ(host_entries, std::vector<std::string>{"sentinel"});

  // Sandboxes the chaos created (a fork, a lucky create) go too.
  for (const auto& info : Client().ListSandboxes()) {
    if (info.ID != victim.ID && info.ID != target.ID) {
      try {
        Client().KillSandbox(info.ID);
      } catch (const std::exception&) {
      }
    }
  }
  victim_process.Kill();

  for (std::size_t i = 0; i < failures.size() && i < 20; ++i) {
    ADD_FAILURE() << failures[i];
  }
  EXPECT_EQ(failures.size(), 0u);
  std::ostringstream counts;
  for (const auto& [status, n] : statuses) counts << " " << status << "x" << n;
  std::cout << "[ chaos    ] seed " << seed << ": " << kRequests
            << " requests (" << answered << " HTTP answers) in " << elapsed
            << " s; statuses" << counts.str() << "\n";
}

}  // namespace
}  // namespace e2b_test
