#include "internal/client_state.hpp"
#include "internal/control_plane.hpp"
#include "internal/json_mapping.hpp"

#include <e2b/errors.hpp>
#include <e2b/sandbox.hpp>

#include <utility>

namespace e2b {
namespace {

using internal::ApiCall;
using internal::ApiPath;
using internal::NotFoundKind;

const internal::SandboxState& Require(
    const std::shared_ptr<internal::SandboxState>& state) {
  if (!state) {
    throw Error(0,
                "sandbox is not initialized (a default-constructed Sandbox); "
                "use one returned by Client::NewSandbox");
  }
  return *state;
}

// A call scoped to one sandbox: its 404 means the sandbox is gone.
ApiCall SandboxCall(const internal::SandboxState& sandbox, const char* method,
                    std::string path, const char* operation) {
  ApiCall call;
  call.method = method;
  call.path = std::move(path);
  call.not_found = {NotFoundKind::kSandbox, sandbox.id};
  call.operation = operation;
  return call;
}

internal::HttpResponse Perform(const internal::SandboxState& sandbox,
                               const Context& ctx, const ApiCall& call) {
  return internal::CallApi(*sandbox.client, ctx, call);
}

void RequireNonNegative(int seconds, const char* what) {
  if (seconds < 0) {
    throw Error(0, std::string(what) + ": timeout must not be negative");
  }
}

}  // namespace

Sandbox::Sandbox(std::shared_ptr<internal::SandboxState> state)
    : ID(state->id),
      Commands(state),
      Filesystem(state),
      state_(std::move(state)) {}

void Sandbox::Close() const { CloseWithContext(Context::Background()); }

void Sandbox::CloseWithContext(const Context& ctx) const {
  const auto& s = Require(state_);
  auto call = SandboxCall(s, "DELETE", ApiPath({"sandboxes", s.id}),
                          "DELETE /sandboxes/{sandboxID}");
  call.success = {200, 204};
  Perform(s, ctx, call);
}

SandboxInfo Sandbox::Info() const {
  return InfoWithContext(Context::Background());
}

SandboxInfo Sandbox::InfoWithContext(const Context& ctx) const {
  const auto& s = Require(state_);
  auto call = SandboxCall(s, "GET", ApiPath({"sandboxes", s.id}),
                          "GET /sandboxes/{sandboxID}");
  call.success = {200};
  const auto response = Perform(s, ctx, call);
  return internal::ParseResponse<SandboxInfo>(response.body, call.operation);
}

void Sandbox::SetTimeout(int timeout_seconds) const {
  SetTimeoutWithContext(Context::Background(), timeout_seconds);
}

void Sandbox::SetTimeoutWithContext(const Context& ctx,
                                    int timeout_seconds) const {
  const auto& s = Require(state_);
  RequireNonNegative(timeout_seconds, "SetTimeout");
  auto call = SandboxCall(s, "POST", ApiPath({"sandboxes", s.id, "timeout"}),
                          "POST /sandboxes/{sandboxID}/timeout");
  call.body = nlohmann::json{{"timeout", timeout_seconds}};
  call.success = {200, 204};
  Perform(s, ctx, call);
}

void Sandbox::Pause() const { PauseWithContext(Context::Background()); }

void Sandbox::PauseWithContext(const Context& ctx) const {
  const auto& s = Require(state_);
  auto call = SandboxCall(s, "POST", ApiPath({"sandboxes", s.id, "pause"}),
                          "POST /sandboxes/{sandboxID}/pause");
  // 409 means "already paused": the caller's goal is reached, so it is a
  // success here (the Go SDK throws; the JS SDK returns false).
  call.success = {200, 204, 409};
  Perform(s, ctx, call);
}

void Sandbox::Resume(int timeout_seconds) const {
  ResumeWithContext(Context::Background(), timeout_seconds);
}

void Sandbox::ResumeWithContext(const Context& ctx, int timeout_seconds) const {
  const auto& s = Require(state_);
  RequireNonNegative(timeout_seconds, "Resume");
  auto call = SandboxCall(s, "POST", ApiPath({"sandboxes", s.id, "resume"}),
                          "POST /sandboxes/{sandboxID}/resume");
  call.body = nlohmann::json{{"timeout", timeout_seconds}};
  call.success = {200, 201, 204};
  Perform(s, ctx, call);
}

std::vector<SandboxMetric> Sandbox::Metrics() const {
  return MetricsWithContext(Context::Background());
}

std::vector<SandboxMetric> Sandbox::MetricsWithContext(
    const Context& ctx) const {
  const auto& s = Require(state_);
  // Unlike the Go SDK, a 404 here is a SandboxNotFoundError too.
  auto call = SandboxCall(s, "GET", ApiPath({"sandboxes", s.id, "metrics"}),
                          "GET /sandboxes/{sandboxID}/metrics");
  call.success = {200};
  const auto response = Perform(s, ctx, call);
  return internal::ParseResponse<std::vector<SandboxMetric>>(response.body,
                                                             call.operation);
}

std::vector<SandboxLogEntry> Sandbox::LogsImpl(const Context& ctx,
                                               const LogsParams& params) const {
  const auto& s = Require(state_);
  auto call = SandboxCall(s, "GET", ApiPath({"v2", "sandboxes", s.id, "logs"}),
                          "GET /v2/sandboxes/{sandboxID}/logs");
  if (params.Cursor) call.query.Add("cursor", std::to_string(*params.Cursor));
  if (params.Limit) call.query.Add("limit", std::to_string(*params.Limit));
  if (params.Direction) call.query.Add("direction", *params.Direction);
  if (params.Level) call.query.Add("level", *params.Level);
  if (params.Search) call.query.Add("search", *params.Search);
  call.success = {200};
  const auto response = Perform(s, ctx, call);
  return internal::ParseArrayField<SandboxLogEntry>(response.body, "logs",
                                                    call.operation);
}

SnapshotInfo Sandbox::CreateSnapshot(const Context& ctx,
                                     const std::string& name) const {
  const auto& s = Require(state_);
  auto call = SandboxCall(s, "POST", ApiPath({"sandboxes", s.id, "snapshots"}),
                          "POST /sandboxes/{sandboxID}/snapshots");
  // The API requires a body; {} lets the server pick the name.
  call.body = nlohmann::json::object();
  if (!name.empty()) (*call.body)["name"] = name;
  call.success = {201};
  const auto response = Perform(s, ctx, call);
  return internal::ParseResponse<SnapshotInfo>(response.body, call.operation);
}

SnapshotInfo Sandbox::CreateSnapshot(const std::string& name) const {
  return CreateSnapshot(Context::Background(), name);
}

const std::string& Sandbox::EnvdAccessToken() const {
  static const std::string kNone;
  return state_ ? state_->access_token : kNone;
}

const std::string& Sandbox::EnvdVersion() const {
  static const std::string kNone;
  return state_ ? state_->envd_version : kNone;
}

SandboxCloser::~SandboxCloser() {
  if (released_) return;
  try {
    sandbox_.Close();
  } catch (...) {
    // A destructor must not throw, and a sandbox that is already gone (or
    // unreachable now) will end at its own timeout anyway.
  }
}

}  // namespace e2b
