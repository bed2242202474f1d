#ifndef E2B_SRC_TESTING_FAKE_E2B_IMPL_HPP_
#define E2B_SRC_TESTING_FAKE_E2B_IMPL_HPP_

// FakeE2B's state and request handlers, shared by its three files:
// fake_e2b.cpp (server, routing, failure injection, the public class),
// fake_e2b_control_plane.cpp (REST) and fake_e2b_envd.cpp (envd).

#include "testing/fake_e2b_memfs.hpp"

#include <e2b/testing/fake_e2b.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace e2b::testing {
namespace internal {

inline constexpr const char* kJson = "application/json";

enum class Protocol { kRest, kConnectUnary, kConnectStream, kEnvdHttp };

// A request after classification: which route it is, who it addresses.
struct Classified {
  std::string route;
  std::string sandbox_id;
  Protocol protocol = Protocol::kRest;
  std::vector<std::string> segments;  // control plane: decoded path parts
};

/// RFC 3339 UTC with whole seconds, as the API's timestamps.
std::string FormatRfc3339(std::chrono::system_clock::time_point at);
/// A control-plane or envd HTTP error: {"code": status, "message": ..}.
void RestError(httplib::Response& res, int status, const std::string& message);
/// The body as a JSON object; nullopt for anything else.
std::optional<nlohmann::json> ParseObject(const std::string& body);

}  // namespace internal

struct FakeE2B::Impl {
  struct SandboxRecord {
    FakeSandbox info;
    std::string envd_version;
    std::chrono::system_clock::time_point started;
    internal::MemFilesystem files;
  };
  struct Failure {
    int status = 0;
    int times = 0;
  };
  using Handler = std::function<FakeCommandResult(const FakeCommandCall&)>;

  explicit Impl(FakeE2BOptions opts) : options(std::move(opts)) {}

  FakeE2BOptions options;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  mutable std::mutex mu;
  std::mt19937_64 rng{std::random_device{}()};
  std::vector<SandboxRecord> sandboxes;  // creation order
  std::map<std::string, Handler> handlers;
  std::map<std::string, Failure> failures;
  std::vector<FakeCall> calls;
  std::vector<FakeCommandCall> commands;
  std::uint32_t next_pid = 1000;

  SandboxRecord* FindLocked(const std::string& id) {
    for (auto& record : sandboxes) {
      if (record.info.ID == id) return &record;
    }
    return nullptr;
  }

  void Handle(const httplib::Request& req, httplib::Response& res);
  internal::Classified Classify(const httplib::Request& req) const;
  bool TakeFailure(const std::string& route, int& status);

  // Control plane.
  void HandleRest(const httplib::Request& req, const internal::Classified& c,
                  httplib::Response& res);
  void CreateSandbox(const httplib::Request& req, httplib::Response& res);
  void ListSandboxes(const httplib::Request& req, bool v2,
                     httplib::Response& res);
  void SandboxOperation(const httplib::Request& req,
                        const internal::Classified& c, httplib::Response& res);
  nlohmann::json CreatedJson(const SandboxRecord& record) const;
  SandboxInfo InfoOf(const SandboxRecord& record) const;

  // envd.
  bool AuthorizeEnvd(const httplib::Request& req, const internal::Classified& c,
                     httplib::Response& res);
  void HandleEnvd(const httplib::Request& req, const internal::Classified& c,
                  httplib::Response& res);
  void StartProcess(const httplib::Request& req, const internal::Classified& c,
                    httplib::Response& res);
  void FilesystemRpc(const std::string& method, const nlohmann::json& body,
                     const internal::Classified& c, httplib::Response& res);
  void DownloadFile(const httplib::Request& req, const internal::Classified& c,
                    httplib::Response& res);
  void UploadFiles(const httplib::Request& req, const internal::Classified& c,
                   httplib::Response& res);
  Handler FindHandler(const std::string& command) const;
};

}  // namespace e2b::testing

#endif  // E2B_SRC_TESTING_FAKE_E2B_IMPL_HPP_
