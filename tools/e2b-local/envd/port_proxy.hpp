#ifndef E2B_LOCAL_ENVD_PORT_PROXY_HPP_
#define E2B_LOCAL_ENVD_PORT_PROXY_HPP_

// What E2B's edge does for a sandbox port other than envd's: the request is
// forwarded as HTTP/1.1 to that port on the sandbox's loopback, and the
// answer streamed back. The connection is made from a socket created in the
// sandbox's network namespace (SandboxInstance::OpenTcpSocket), so no host
// port is ever opened and the sandbox cannot choose where the server
// connects: always 127.0.0.1:<port> inside its own namespace.

#include "http/listener.hpp"
#include "sandbox/local_sandbox.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace httplib {
class ContentReader;
struct Request;
struct Response;
}  // namespace httplib

namespace e2b_local {

/// The port envd listens on inside an E2B sandbox.
inline constexpr int kEnvdPort = 49983;

/// The sandbox port a request is addressed to: E2b-Sandbox-Port; else
/// envd's when E2b-Sandbox-Id names the sandbox; else the `<port>` of a
/// `<port>-<id>.` Host; else envd's. nullopt when the port named is not a
/// number in 1-65535 (the edge's 400 "Invalid sandbox port").
std::optional<int> SandboxPortFromRequest(const httplib::Request& req);

struct PortProxyLimits {
  /// Connecting (a closed port on loopback is refused at once).
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  /// How long the sandbox's server may stay silent: before its response
  /// head, and between body bytes in either direction (for an upgraded
  /// connection: how long no byte may move either way). The edge's idle
  /// timeout is 620 s.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(620)};
  /// Most bytes of response head (status line, headers, interim answers).
  std::size_t max_head_bytes = std::size_t{64} << 10;
};

/// Why nothing of the sandbox server's answer was forwarded.
struct PortForwardFailure {
  enum class Kind {
    kClosed,       ///< refused, or closed without an answer: the edge's 502
    kTimeout,      ///< silent for idle_timeout before its head: 504
    kBadResponse,  ///< not HTTP, or a head over max_head_bytes: 502
    kUnsupported,  ///< an upgrade on a connection that cannot be taken: 501
    kBadRequest,   ///< a request target that is not origin-form: 400
    kNoNetwork,    ///< the runtime gives no socket in the sandbox: 502
  };
  Kind kind = Kind::kClosed;
  std::string detail;  ///< for the answer's message; never a secret
};

/// Forwards `req` (method, target, headers without hop-by-hop ones and
/// without e2b-traffic-access-token / X-Access-Token, body) to
/// 127.0.0.1:`port` in `sandbox`'s network namespace. Once the response
/// head arrived it is set on `res` with a provider streaming the body, and
/// nullopt is returned; otherwise the failure is returned and `res` holds
/// at most "Connection: close" (when the request body could not be read
/// whole). Either way the request body has been read or discarded.
/// `reader` is the request body when httplib has not read it (null:
/// req.body). Buffers at most max_head_bytes plus 64 KiB of body.
std::optional<PortForwardFailure> ForwardToSandboxPort(
    LocalSandbox& sandbox, int port, const httplib::Request& req,
    httplib::Response& res, const httplib::ContentReader* reader,
    const PortProxyLimits& limits);

/// Whether `req` asks to switch protocols (Connection: Upgrade, or an
/// Upgrade header): WebSocket, h2c and the like.
bool IsUpgradeRequest(const httplib::Request& req);

/// Takes the client's connection of the request being handled
/// (TakeRequestConnection, or a test's stand-in).
using ConnectionTaker = std::function<std::optional<TakenConnection>()>;

/// Forwards an upgrade request to 127.0.0.1:`port` in `sandbox`'s network
/// namespace as ForwardToSandboxPort does a plain one (same headers and
/// Host), keeping "Connection: Upgrade" and Upgrade. Once the server's
/// answer head arrived, the client's connection is taken and that answer
/// written on it: after a 101, bytes are relayed both ways (half-closes
/// passed on, 64 KiB buffered per direction) until both sides closed,
/// either failed, no byte moved for idle_timeout, or the server stops;
/// any other answer goes back with "Connection: close" and its body. A
/// failure before then is returned, nothing written, as for
/// ForwardToSandboxPort.
std::optional<PortForwardFailure> TunnelToSandboxPort(
    LocalSandbox& sandbox, int port, const httplib::Request& req,
    const httplib::ContentReader* reader, const ConnectionTaker& take,
    const PortProxyLimits& limits);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_PORT_PROXY_HPP_
