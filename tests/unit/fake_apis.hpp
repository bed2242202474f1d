#ifndef E2B_TESTS_UNIT_FAKE_APIS_HPP_
#define E2B_TESTS_UNIT_FAKE_APIS_HPP_

// Fakes of the internal service APIs, so that the logic of the public handles
// (argument checks, defaults, how answers become results) is tested without
// a socket. Each operation a test expects is given as a std::function; any
// other call fails the test with the operation's name. `calls` lists the
// operations in the order they were made.

#include "internal/client_state.hpp"
#include "internal/control_plane_api.hpp"
#include "internal/envd_api.hpp"

#include <e2b/e2b.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace e2b_test {

// What both fakes share: the operations called, in order, and the rule that
// an operation a test did not program fails loudly.
class FakeCalls {
 public:
  std::vector<std::string> calls;

 protected:
  template <typename F>
  F& Use(F& behaviour, const char* operation) {
    calls.emplace_back(operation);
    if (!behaviour) {
      throw e2b::Error(0, std::string("fake API: unexpected ") + operation);
    }
    return behaviour;
  }
};

class FakeControlPlaneApi : public e2b::internal::ControlPlaneApi,
                            public FakeCalls {
 public:
  using Ctx = e2b::Context;
  using Sandbox = e2b::internal::SandboxState;
  using Created = e2b::internal::CreatedSandbox;

  std::function<Created(const e2b::SandboxConfig&, const std::string&)>
      on_create;
  std::function<Created(const std::string&, int)> on_connect;
  std::function<e2b::ListSandboxesV2Result(const e2b::ListSandboxesV2Params&)>
      on_list_v2;
  std::function<bool(const std::string&)> on_kill;
  std::function<std::map<std::string, e2b::SandboxMetric>(
      const std::vector<std::string>&)>
      on_sandboxes_metrics;
  std::function<std::vector<e2b::internal::ForkEntryWire>(const std::string&,
                                                          int, std::int64_t)>
      on_fork;
  std::function<void(const Sandbox&)> on_close;
  std::function<e2b::SandboxInfo(const Sandbox&)> on_get;
  std::function<void(const Sandbox&, int)> on_set_timeout;
  std::function<void(const Sandbox&, std::optional<bool>)> on_pause;
  std::function<void(const Sandbox&, int)> on_resume;
  std::function<void(const Sandbox&, std::optional<std::int64_t>)> on_refresh;

  Created CreateSandbox(const Ctx&, const e2b::SandboxConfig& cfg,
                        const std::string& template_id) override {
    return Use(on_create, "CreateSandbox")(cfg, template_id);
  }
  Created ConnectSandbox(const Ctx&, const std::string& id,
                         int timeout) override {
    return Use(on_connect, "ConnectSandbox")(id, timeout);
  }
  std::vector<e2b::SandboxInfo> ListSandboxes(const Ctx&) override {
    return Unexpected<std::vector<e2b::SandboxInfo>>("ListSandboxes");
  }
  e2b::ListSandboxesV2Result ListSandboxesV2(
      const Ctx&, const e2b::ListSandboxesV2Params& params) override {
    return Use(on_list_v2, "ListSandboxesV2")(params);
  }
  bool KillSandbox(const Ctx&, const std::string& id) override {
    return Use(on_kill, "KillSandbox")(id);
  }
  std::map<std::string, e2b::SandboxMetric> GetSandboxesMetrics(
      const Ctx&, const std::vector<std::string>& ids) override {
    return Use(on_sandboxes_metrics, "GetSandboxesMetrics")(ids);
  }
  std::vector<e2b::internal::ForkEntryWire> ForkSandbox(
      const Ctx&, const std::string& id, int count,
      std::int64_t timeout) override {
    return Use(on_fork, "ForkSandbox")(id, count, timeout);
  }
  void CloseSandbox(const Ctx&, const Sandbox& s) override {
    Use(on_close, "CloseSandbox")(s);
  }
  e2b::SandboxInfo GetSandbox(const Ctx&, const Sandbox& s) override {
    return Use(on_get, "GetSandbox")(s);
  }
  void SetSandboxTimeout(const Ctx&, const Sandbox& s, int seconds) override {
    Use(on_set_timeout, "SetSandboxTimeout")(s, seconds);
  }
  void PauseSandbox(const Ctx&, const Sandbox& s,
                    std::optional<bool> keep_memory) override {
    Use(on_pause, "PauseSandbox")(s, keep_memory);
  }
  void ResumeSandbox(const Ctx&, const Sandbox& s, int seconds) override {
    Use(on_resume, "ResumeSandbox")(s, seconds);
  }
  std::vector<e2b::SandboxMetric> GetSandboxMetrics(const Ctx&,
                                                    const Sandbox&) override {
    return Unexpected<std::vector<e2b::SandboxMetric>>("GetSandboxMetrics");
  }
  std::vector<e2b::SandboxLogEntry> GetSandboxLogs(
      const Ctx&, const Sandbox&, const e2b::LogsParams&) override {
    return Unexpected<std::vector<e2b::SandboxLogEntry>>("GetSandboxLogs");
  }
  e2b::SnapshotInfo CreateSnapshot(const Ctx&, const Sandbox&,
                                   const std::string&) override {
    return Unexpected<e2b::SnapshotInfo>("CreateSnapshot");
  }
  void RefreshSandbox(const Ctx&, const Sandbox& s,
                      std::optional<std::int64_t> duration) override {
    Use(on_refresh, "RefreshSandbox")(s, duration);
  }
  void UpdateNetwork(const Ctx&, const Sandbox&,
                     const e2b::NetworkUpdateConfig&) override {
    Unexpected<void>("UpdateNetwork");
  }
  bool DeleteSnapshot(const Ctx&, const std::string&) override {
    return Unexpected<bool>("DeleteSnapshot");
  }
  e2b::ListSnapshotsResult ListSnapshots(
      const Ctx&, const e2b::ListSnapshotsParams&) override {
    return Unexpected<e2b::ListSnapshotsResult>("ListSnapshots");
  }
  std::vector<e2b::TemplateDetail> ListTemplates(const Ctx&) override {
    return Unexpected<std::vector<e2b::TemplateDetail>>("ListTemplates");
  }
  e2b::TemplateInfo CreateTemplate(const Ctx&,
                                   const e2b::CreateTemplateConfig&) override {
    return Unexpected<e2b::TemplateInfo>("CreateTemplate");
  }
  void DeleteTemplate(const Ctx&, const std::string&) override {
    Unexpected<void>("DeleteTemplate");
  }
  e2b::GetTemplateResult GetTemplate(const Ctx&, const std::string&,
                                     const e2b::GetTemplateParams&) override {
    return Unexpected<e2b::GetTemplateResult>("GetTemplate");
  }
  std::vector<e2b::BuildLogEntry> GetTemplateBuildLogs(
      const Ctx&, const std::string&, const std::string&,
      const e2b::BuildLogParams&) override {
    return Unexpected<std::vector<e2b::BuildLogEntry>>("GetTemplateBuildLogs");
  }
  e2b::BuildFileStatus CheckBuildFiles(const Ctx&, const std::string&,
                                       const std::string&) override {
    return Unexpected<e2b::BuildFileStatus>("CheckBuildFiles");
  }
  void UploadBuildFiles(const Ctx&, const std::string&, std::istream&,
                        std::optional<std::uint64_t>) override {
    Unexpected<void>("UploadBuildFiles");
  }
  void StartTemplateBuild(const Ctx&, const std::string&, const std::string&,
                          const e2b::StartBuildConfig&) override {
    Unexpected<void>("StartTemplateBuild");
  }
  e2b::BuildStatus GetBuildStatus(const Ctx&, const std::string&,
                                  const std::string&,
                                  const e2b::BuildStatusParams&) override {
    return Unexpected<e2b::BuildStatus>("GetBuildStatus");
  }
  e2b::VolumeAndToken CreateVolume(const Ctx&, const std::string&) override {
    return Unexpected<e2b::VolumeAndToken>("CreateVolume");
  }
  e2b::VolumeAndToken GetVolume(const Ctx&, const std::string&) override {
    return Unexpected<e2b::VolumeAndToken>("GetVolume");
  }
  std::vector<e2b::VolumeInfo> ListVolumes(const Ctx&) override {
    return Unexpected<std::vector<e2b::VolumeInfo>>("ListVolumes");
  }
  bool DestroyVolume(const Ctx&, const std::string&) override {
    return Unexpected<bool>("DestroyVolume");
  }

  template <typename R>
  R Unexpected(const char* operation) {
    calls.emplace_back(operation);
    throw e2b::Error(0, std::string("fake API: unexpected ") + operation);
  }
};

/// A process stream that yields the given events, then ends (or throws
/// `error_at_end` when set).
class FakeProcessEvents : public e2b::internal::ProcessEventStream {
 public:
  explicit FakeProcessEvents(std::deque<e2b::internal::ProcessEvent> events,
                             std::exception_ptr error_at_end = nullptr)
      : events_(std::move(events)), error_at_end_(std::move(error_at_end)) {}
  std::optional<e2b::internal::ProcessEvent> Next() override {
    if (events_.empty()) {
      if (error_at_end_) std::rethrow_exception(error_at_end_);
      return std::nullopt;
    }
    auto event = std::move(events_.front());
    events_.pop_front();
    return event;
  }

 private:
  std::deque<e2b::internal::ProcessEvent> events_;
  std::exception_ptr error_at_end_;
};

class FakeEnvdApi : public e2b::internal::EnvdApi, public FakeCalls {
 public:
  using Ctx = e2b::Context;
  using Sandbox = e2b::internal::SandboxState;
  using Json = nlohmann::json;

  std::function<bool(const Sandbox&)> on_health;
  std::function<std::unique_ptr<e2b::internal::ProcessEventStream>(
      const e2b::internal::ConnectCall&, const Json&)>
      on_open_process_stream;
  std::function<bool(const Json&, e2b::ProcessSignal)> on_send_signal;
  std::function<void(const Json&, std::string_view, bool)> on_send_input;
  std::function<void(const Json&, std::uint32_t, std::uint32_t)> on_resize;

  bool Health(const Ctx&, const Sandbox& s) override {
    return Use(on_health, "Health")(s);
  }
  std::unique_ptr<e2b::internal::ProcessEventStream> OpenProcessStream(
      const Sandbox&, const e2b::internal::ConnectCall& call,
      const Json& request) override {
    return Use(on_open_process_stream, "OpenProcessStream")(call, request);
  }
  std::vector<e2b::ProcessInfo> ListProcesses(
      const Ctx&, const Sandbox&, std::chrono::milliseconds) override {
    calls.emplace_back("ListProcesses");
    throw e2b::Error(0, "fake API: unexpected ListProcesses");
  }
  bool SendSignal(const Ctx&, const Sandbox&, const Json& selector,
                  e2b::ProcessSignal signal,
                  std::chrono::milliseconds) override {
    return Use(on_send_signal, "SendSignal")(selector, signal);
  }
  void SendInput(const Ctx&, const Sandbox&, const Json& selector,
                 std::string_view data, bool pty,
                 std::chrono::milliseconds) override {
    Use(on_send_input, "SendInput")(selector, data, pty);
  }
  void CloseStdin(const Ctx&, const Sandbox&, const Json&,
                  std::chrono::milliseconds) override {
    calls.emplace_back("CloseStdin");
    throw e2b::Error(0, "fake API: unexpected CloseStdin");
  }
  void ResizePty(const Ctx&, const Sandbox&, const Json& selector,
                 std::uint32_t cols, std::uint32_t rows,
                 std::chrono::milliseconds) override {
    Use(on_resize, "ResizePty")(selector, cols, rows);
  }

  std::function<std::vector<e2b::FileInfo>(const std::string&, std::uint32_t)>
      on_list_dir;
  std::function<e2b::FileInfo(const std::string&)> on_stat;
  std::function<std::string(const std::string&, bool)> on_create_watcher;
  std::function<std::vector<e2b::FilesystemEvent>(const std::string&)>
      on_get_watcher_events;
  std::function<bool(const std::string&)> on_remove_watcher;
  std::function<std::vector<e2b::FileInfo>(e2b::internal::FileUpload&)>
      on_upload;
  std::function<std::unique_ptr<e2b::internal::WatchEventStream>(
      const std::string&, const e2b::WatchParams&)>
      on_open_watch_stream;

  std::vector<e2b::FileInfo> ListDir(const Ctx&, const Sandbox&,
                                     const std::string& path,
                                     std::uint32_t depth, const std::string&,
                                     std::chrono::milliseconds) override {
    return Use(on_list_dir, "ListDir")(path, depth);
  }
  e2b::FileInfo Stat(const Ctx&, const Sandbox&, const std::string& path,
                     const std::string&, std::chrono::milliseconds) override {
    return Use(on_stat, "Stat")(path);
  }
  bool MakeDir(const Ctx&, const Sandbox&, const std::string&,
               const std::string&, std::chrono::milliseconds) override {
    calls.emplace_back("MakeDir");
    throw e2b::Error(0, "fake API: unexpected MakeDir");
  }
  void Remove(const Ctx&, const Sandbox&, const std::string&,
              const std::string&, std::chrono::milliseconds) override {
    calls.emplace_back("Remove");
    throw e2b::Error(0, "fake API: unexpected Remove");
  }
  e2b::FileInfo Move(const Ctx&, const Sandbox&, const std::string&,
                     const std::string&, const std::string&,
                     std::chrono::milliseconds) override {
    calls.emplace_back("Move");
    throw e2b::Error(0, "fake API: unexpected Move");
  }
  std::string CreateWatcher(const Ctx&, const Sandbox&, const std::string& path,
                            bool recursive, const std::string&,
                            std::chrono::milliseconds) override {
    return Use(on_create_watcher, "CreateWatcher")(path, recursive);
  }
  std::vector<e2b::FilesystemEvent> GetWatcherEvents(
      const Ctx&, const Sandbox&, const std::string& watcher_id,
      const std::string&) override {
    return Use(on_get_watcher_events, "GetWatcherEvents")(watcher_id);
  }
  std::unique_ptr<e2b::internal::WatchEventStream> OpenWatchStream(
      const Ctx&, const Sandbox&, const std::string& path,
      const e2b::WatchParams& params) override {
    return Use(on_open_watch_stream, "OpenWatchStream")(path, params);
  }
  std::vector<e2b::FileInfo> UploadFiles(
      const Ctx&, const Sandbox&, e2b::internal::FileUpload upload) override {
    return Use(on_upload, "UploadFiles")(upload);
  }
  std::unique_ptr<e2b::internal::BodyReader> OpenFile(
      const Ctx&, const Sandbox&, const e2b::internal::FileDownload&) override {
    calls.emplace_back("OpenFile");
    throw e2b::Error(0, "fake API: unexpected OpenFile");
  }
  bool RemoveWatcher(const Ctx&, const Sandbox&, const std::string& watcher_id,
                     const std::string&) override {
    return Use(on_remove_watcher, "RemoveWatcher")(watcher_id);
  }
};

/// A watch stream that yields the given events, then ends.
class FakeWatchEvents : public e2b::internal::WatchEventStream {
 public:
  explicit FakeWatchEvents(std::deque<e2b::FilesystemEvent> events)
      : events_(std::move(events)) {}
  std::optional<e2b::FilesystemEvent> Next() override {
    if (events_.empty()) return std::nullopt;
    auto event = std::move(events_.front());
    events_.pop_front();
    return event;
  }

 private:
  std::deque<e2b::FilesystemEvent> events_;
};

/// A transport that fails every exchange: behind the fakes, so that a call
/// that should have gone to a service API cannot reach the network.
class NoNetworkTransport : public e2b::internal::HttpTransport {
 public:
  e2b::internal::HttpResponse Send(
      const e2b::internal::HttpRequest& request) override {
    throw e2b::Error(0, "fake: " + request.operation + " used the network");
  }
  std::unique_ptr<e2b::internal::BodyReader> Open(
      const e2b::internal::HttpRequest& request) override {
    throw e2b::Error(0, "fake: " + request.operation + " used the network");
  }
};

/// The answer of a create or connect for sandbox `id`.
inline e2b::internal::CreatedSandbox Created(const std::string& id) {
  e2b::internal::CreatedSandbox created;
  created.SandboxID = id;
  created.EnvdVersion = "0.5.7";
  created.EnvdAccessToken = "token-" + id;
  return created;
}

/// A Client whose calls go to the given fakes instead of the network.
inline e2b::Client ClientWithFakes(
    std::shared_ptr<e2b::internal::ControlPlaneApi> control_plane,
    std::shared_ptr<e2b::internal::EnvdApi> envd = nullptr) {
  auto state = std::make_shared<e2b::internal::ClientState>();
  state->api_key = "fake-api-key";
  state->api_base_url = "http://api.invalid";
  state->sandbox_domain = "fake.invalid";
  state->control_plane = std::move(control_plane);
  state->envd = std::move(envd);
  state->transport = std::make_shared<NoNetworkTransport>();
  return e2b::internal::ClientAccess::Make(std::move(state));
}

}  // namespace e2b_test

#endif  // E2B_TESTS_UNIT_FAKE_APIS_HPP_
