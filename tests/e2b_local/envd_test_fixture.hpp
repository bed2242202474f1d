#ifndef E2B_LOCAL_TESTS_ENVD_TEST_FIXTURE_HPP_
#define E2B_LOCAL_TESTS_ENVD_TEST_FIXTURE_HPP_

// A real envd listener on 127.0.0.1 over fake sandboxes whose roots are
// temporary directories; shared by the envd, /files and filesystem tests.

#include "envd/envd_server.hpp"
#include "internal/connect_envelope.hpp"
#include "sandbox/local_sandbox.hpp"
#include "support/background_listen.hpp"
#include "util/failure.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "e2b-envd-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class FakeInstance : public SandboxInstance {
 public:
  explicit FakeInstance(std::string root) : root_(std::move(root)) {}
  const std::string& RootPath() const override { return root_; }
  const std::string& UpperDir() const override { return root_; }
  std::optional<SandboxUser> LookupUser(
      const std::string& name) const override {
    if (name == "user") return SandboxUser{"user", 1000, 1000, "/home/user"};
    if (name == "root") return SandboxUser{"root", 0, 0, "/root"};
    return std::nullopt;
  }
  std::unique_ptr<SandboxProcess> Spawn(const SpawnOptions&) override {
    throw SpawnError("internal", "processes are not part of this test");
  }
  void Freeze() override {}
  void Thaw() override {}
  void Halt() override {}
  void Boot() override {}
  void Destroy() override {}
  ResourceUsage Usage() override { return {}; }
  void UpdateNetwork(const EgressPolicy&) override {}

 private:
  std::string root_;
};

class FakeDirectory : public SandboxDirectory {
 public:
  std::shared_ptr<LocalSandbox> Find(const std::string& id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sandboxes_.find(id);
    return it == sandboxes_.end() ? nullptr : it->second;
  }
  std::vector<std::shared_ptr<LocalSandbox>> List() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<LocalSandbox>> out;
    for (const auto& [id, sandbox] : sandboxes_) out.push_back(sandbox);
    return out;
  }
  void Add(std::shared_ptr<LocalSandbox> sandbox) {
    std::lock_guard<std::mutex> lock(mu_);
    sandboxes_[sandbox->id] = std::move(sandbox);
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<LocalSandbox>> sandboxes_;
};

inline void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Decodes a whole Connect stream body; fails the test on bad framing.
inline std::vector<e2b::internal::Envelope> DecodeStream(
    const std::string& body) {
  e2b::internal::EnvelopeDecoder decoder;
  decoder.Feed(body);
  std::vector<e2b::internal::Envelope> out;
  while (auto envelope = decoder.Next()) out.push_back(std::move(*envelope));
  EXPECT_FALSE(decoder.HasPartial());
  return out;
}

inline std::string Envelope(const nlohmann::json& message) {
  return e2b::internal::EncodeEnvelope(0, message.dump());
}

class EnvdFixture : public ::testing::Test {
 public:
  static constexpr const char* kOpen = "isbxopen";
  static constexpr const char* kSecure = "isbxsecure";
  static constexpr const char* kToken = "envd-token-123";

 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    root_ = dir_.path() + "/open";
    secure_root_ = dir_.path() + "/secure";
    for (const auto& root : {root_, secure_root_}) {
      std::filesystem::create_directories(root + "/home/user");
      std::filesystem::create_directories(root + "/root");
      WriteFile(root + "/etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\n"
                "user:x:1000:1000::/home/user:/bin/sh\n");
      WriteFile(root + "/etc/group", "root:x:0:\nuser:x:1000:\n");
      if (chown((root + "/home/user").c_str(), 1000, 1000) != 0) {
        FAIL() << "chown";
      }
    }
    open_ = AddSandbox(kOpen, root_, "");
    secure_ = AddSandbox(kSecure, secure_root_, kToken);
    envd_ = std::make_unique<EnvdServer>(
        sandboxes_, [this](const std::string& id) { ResumePaused(id); });
    envd_->Mount(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = e2b_test::ListenInBackground(server_);
  }

  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::shared_ptr<LocalSandbox> AddSandbox(const std::string& id,
                                           const std::string& root,
                                           const std::string& token) {
    auto sandbox = std::make_shared<LocalSandbox>();
    sandbox->id = id;
    sandbox->access_token = token;
    sandbox->instance = std::make_unique<FakeInstance>(root);
    sandboxes_.Add(sandbox);
    return sandbox;
  }

  /// What the control plane's resume does, recorded; throws a Failure for
  /// `resume_failure_` when set.
  void ResumePaused(const std::string& id) {
    resumed_.push_back(id);
    if (resume_failure_) throw Failure(*resume_failure_, "cannot resume");
    auto sandbox = sandboxes_.Find(id);
    std::lock_guard<std::mutex> lock(sandbox->mu);
    sandbox->status = SandboxStatus::kRunning;
  }

  /// A client addressed to `sandbox` by header (empty: no routing).
  std::unique_ptr<httplib::Client> Client(const std::string& sandbox = kOpen) {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
    // Generous: a 100,000-entry listing takes over 20 s under TSan.
    client->set_read_timeout(120, 0);
    if (!sandbox.empty()) {
      client->set_default_headers({{"E2b-Sandbox-Id", sandbox}});
    }
    return client;
  }

  httplib::Result Unary(const std::string& method, const nlohmann::json& body,
                        const std::string& sandbox = kOpen,
                        httplib::Headers headers = {}) {
    return Client(sandbox)->Post(method.c_str(), headers, body.dump(),
                                 "application/json");
  }

  /// Calls a stream RPC and returns its messages; `end` gets the
  /// end-of-stream payload.
  std::vector<nlohmann::json> Stream(const std::string& method,
                                     const nlohmann::json& body,
                                     nlohmann::json* end,
                                     const std::string& sandbox = kOpen,
                                     httplib::Headers headers = {}) {
    auto res = Client(sandbox)->Post(method.c_str(), headers, Envelope(body),
                                     "application/connect+json");
    std::vector<nlohmann::json> messages;
    if (!res) {
      ADD_FAILURE() << "no response";
      return messages;
    }
    EXPECT_EQ(res->status, 200);
    auto envelopes = DecodeStream(res->body);
    EXPECT_FALSE(envelopes.empty());
    for (std::size_t i = 0; i < envelopes.size(); ++i) {
      bool last = i + 1 == envelopes.size();
      EXPECT_EQ(envelopes[i].EndStream(), last);
      auto json = nlohmann::json::parse(envelopes[i].payload);
      if (last) {
        if (end) *end = json;
      } else {
        messages.push_back(json);
      }
    }
    return messages;
  }

  TempDir dir_;
  std::string root_, secure_root_;
  FakeDirectory sandboxes_;
  std::shared_ptr<LocalSandbox> open_, secure_;
  std::unique_ptr<EnvdServer> envd_;
  std::vector<std::string> resumed_;  ///< IDs ResumePaused was called for
  std::optional<Failure::Reason> resume_failure_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace e2b_local::testing

#endif  // E2B_LOCAL_TESTS_ENVD_TEST_FIXTURE_HPP_
