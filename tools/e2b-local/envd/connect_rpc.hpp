#ifndef E2B_LOCAL_ENVD_CONNECT_RPC_HPP_
#define E2B_LOCAL_ENVD_CONNECT_RPC_HPP_

// The contract between envd's HTTP layer (routing, auth, Connect framing:
// envd/envd_server.cpp) and the RPC services (process, filesystem). Handlers
// see parsed JSON and throw ConnectError; the HTTP layer turns that into a
// Connect error body (unary) or end-of-stream error (streaming).

#include "sandbox/local_sandbox.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace httplib {
struct Request;
}  // namespace httplib

namespace e2b_local {

/// A Connect error: code is the name ("not_found", "invalid_argument", ...).
struct ConnectError : std::runtime_error {
  ConnectError(std::string code_, const std::string& message)
      : std::runtime_error(message), code(std::move(code_)) {}
  std::string code;
};

/// One authenticated envd call.
struct EnvdCall {
  std::shared_ptr<LocalSandbox> sandbox;
  /// From `Authorization: Basic base64("<user>:")`, else the default user.
  SandboxUser user;
  bool user_from_header = false;
  const httplib::Request* http = nullptr;
  /// Connect-Timeout-Ms, when sent (for Start also the process lifetime).
  std::optional<std::chrono::milliseconds> timeout;
  /// Keepalive-Ping-Interval (default 90 s).
  std::chrono::seconds keepalive_interval{90};
};

/// Server-streaming output. Send returns false once the client is gone.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual bool Send(const nlohmann::json& message) = 0;
  virtual bool ClientConnected() const = 0;
};

using UnaryHandler =
    std::function<nlohmann::json(EnvdCall&, const nlohmann::json& request)>;
using StreamHandler = std::function<void(
    EnvdCall&, const nlohmann::json& request, StreamWriter& out)>;

/// RPC handlers by path ("/process.Process/Start").
class RpcRegistry {
 public:
  void AddUnary(const std::string& path, UnaryHandler handler) {
    unary_[path] = std::move(handler);
  }
  void AddStream(const std::string& path, StreamHandler handler) {
    stream_[path] = std::move(handler);
  }
  const UnaryHandler* FindUnary(const std::string& path) const {
    auto it = unary_.find(path);
    return it == unary_.end() ? nullptr : &it->second;
  }
  const StreamHandler* FindStream(const std::string& path) const {
    auto it = stream_.find(path);
    return it == stream_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, UnaryHandler> unary_;
  std::map<std::string, StreamHandler> stream_;
};

/// Registered by envd/process_service.cpp.
void RegisterProcessService(RpcRegistry& registry);
/// Registered by envd/filesystem_service.cpp.
void RegisterFilesystemService(RpcRegistry& registry);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ENVD_CONNECT_RPC_HPP_
