#include "internal/client_state.hpp"
#include "internal/control_plane.hpp"
#include "internal/control_plane_api.hpp"
#include "internal/envd_api.hpp"
#include "internal/error_mapping.hpp"
#include "internal/json_mapping.hpp"

#include <e2b/errors.hpp>
#include <e2b/sandbox.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <utility>

namespace e2b {
namespace {

const internal::SandboxState& Require(
    const std::shared_ptr<internal::SandboxState>& state) {
  if (!state) {
    throw Error(0,
                "sandbox is not initialized (a default-constructed Sandbox); "
                "use one returned by Client::NewSandbox");
  }
  return *state;
}

internal::ControlPlaneApi& Api(const internal::SandboxState& sandbox) {
  return *sandbox.client->control_plane;
}

// Whole seconds, rounded up as the official SDKs do (500 ms -> 1 s).
std::int64_t CeilSeconds(std::chrono::milliseconds d) {
  return (d.count() + 999) / 1000;
}

// One element of a fork answer: a running fork or the reason it failed.
// A malformed element fails only that fork, not the others.
struct ForkEntryOutcome {
  std::shared_ptr<internal::SandboxState> state;
  std::exception_ptr error;
};

ForkEntryOutcome ForkEntry(
    const std::shared_ptr<const internal::ClientState>& client,
    const internal::ForkEntryWire& entry, const std::string& operation) {
  using Kind = internal::ForkEntryWire::Kind;
  ForkEntryOutcome result;
  try {
    switch (entry.kind) {
      case Kind::kSandbox:
        result.state =
            internal::NewSandboxState(client, entry.sandbox, operation);
        return result;
      case Kind::kMalformed:
        internal::ThrowMalformedResponse(operation, entry.malformed);
      case Kind::kUnreported:
        throw Error(0, "the fork failed to start for an unreported reason");
      case Kind::kError:
        break;
    }
    // Typed as a whole answer of that status would be (the Go SDK's
    // apiErrorFromCode); a 404 here is about what this fork needed (its
    // snapshot), not the source, so it stays a plain Error.
    if (entry.code > 0) {
      internal::ThrowHttpError(entry.code, entry.message, {},
                               {client->api_key});
    }
    std::string message = internal::RedactSecrets(
        internal::ErrorMessageFromBody(entry.message), {client->api_key});
    if (message.empty()) message = "the fork failed to start";
    throw Error(0, std::move(message));
  } catch (const Error&) {
    result.error = std::current_exception();
  }
  return result;
}

void RequireNonNegative(int seconds, const char* what) {
  if (seconds < 0) {
    throw InvalidArgumentError(
        std::string(what) + ": timeout must not be negative", 0);
  }
}

}  // namespace

Sandbox::Sandbox(std::shared_ptr<internal::SandboxState> state)
    : ID(state->id),
      TrafficAccessToken(state->traffic_access_token),
      Commands(state),
      Filesystem(state),
      Pty(state),
      state_(std::move(state)) {}

void Sandbox::Close() const { CloseWithContext(Context::Background()); }

void Sandbox::CloseWithContext(const Context& ctx) const {
  const auto& s = Require(state_);
  Api(s).CloseSandbox(ctx, s);
}

SandboxInfo Sandbox::Info() const {
  return InfoWithContext(Context::Background());
}

SandboxInfo Sandbox::InfoWithContext(const Context& ctx) const {
  const auto& s = Require(state_);
  return Api(s).GetSandbox(ctx, s);
}

void Sandbox::SetTimeout(int timeout_seconds) const {
  SetTimeoutWithContext(Context::Background(), timeout_seconds);
}

void Sandbox::SetTimeoutWithContext(const Context& ctx,
                                    int timeout_seconds) const {
  const auto& s = Require(state_);
  RequireNonNegative(timeout_seconds, "SetTimeout");
  Api(s).SetSandboxTimeout(ctx, s, timeout_seconds);
}

void Sandbox::PauseImpl(const Context& ctx, const PauseParams& params) const {
  const auto& s = Require(state_);
  Api(s).PauseSandbox(ctx, s, params.KeepMemory);
}

void Sandbox::Resume(int timeout_seconds) const {
  ResumeWithContext(Context::Background(), timeout_seconds);
}

void Sandbox::ResumeWithContext(const Context& ctx, int timeout_seconds) const {
  const auto& s = Require(state_);
  RequireNonNegative(timeout_seconds, "Resume");
  Api(s).ResumeSandbox(ctx, s, timeout_seconds);
}

std::vector<SandboxMetric> Sandbox::Metrics() const {
  return MetricsWithContext(Context::Background());
}

std::vector<SandboxMetric> Sandbox::MetricsWithContext(
    const Context& ctx) const {
  const auto& s = Require(state_);
  return Api(s).GetSandboxMetrics(ctx, s);
}

std::vector<SandboxLogEntry> Sandbox::LogsImpl(const Context& ctx,
                                               const LogsParams& params) const {
  const auto& s = Require(state_);
  return Api(s).GetSandboxLogs(ctx, s, params);
}

SnapshotInfo Sandbox::CreateSnapshot(const Context& ctx,
                                     const std::string& name) const {
  const auto& s = Require(state_);
  return Api(s).CreateSnapshot(ctx, s, name);
}

SnapshotInfo Sandbox::CreateSnapshot(const std::string& name) const {
  return CreateSnapshot(Context::Background(), name);
}

void Sandbox::Pause(bool keep_memory) const {
  PauseWithContext(Context::Background(), keep_memory);
}

void Sandbox::PauseWithContext(const Context& ctx, bool keep_memory) const {
  PauseImpl(ctx, PauseParams{keep_memory});
}

void Sandbox::RefreshImpl(
    const Context& ctx,
    std::optional<std::chrono::milliseconds> duration) const {
  const auto& s = Require(state_);
  std::optional<std::int64_t> seconds;
  if (duration) {
    seconds = duration->count() < 0 ? -1 : CeilSeconds(*duration);
    if (*seconds < 0 || *seconds > MaxRefreshDuration) {
      throw InvalidArgumentError("Refresh: duration must be between 0 and " +
                                     std::to_string(MaxRefreshDuration) +
                                     " seconds",
                                 0);
    }
  }
  Api(s).RefreshSandbox(ctx, s, seconds);
}

void Sandbox::UpdateNetwork(const NetworkUpdateConfig& cfg) const {
  UpdateNetworkWithContext(Context::Background(), cfg);
}

void Sandbox::UpdateNetworkWithContext(const Context& ctx,
                                       const NetworkUpdateConfig& cfg) const {
  const auto& s = Require(state_);
  Api(s).UpdateNetwork(ctx, s, cfg);
}

std::vector<ForkResult> Sandbox::ForkImpl(const Context& ctx,
                                          const ForkParams& params) const {
  const auto& s = Require(state_);
  return ForkByID(s.client, ctx, s.id, params);
}

std::vector<ForkResult> Sandbox::ForkByID(
    const std::shared_ptr<const internal::ClientState>& client,
    const Context& ctx, const std::string& sandbox_id,
    const ForkParams& params) {
  if (sandbox_id.empty())
    throw InvalidArgumentError("Fork: the sandbox ID is empty", 0);
  if (params.Count < 1) {
    throw InvalidArgumentError("Fork: WithForkCount must be at least 1, got " +
                                   std::to_string(params.Count),
                               0);
  }
  std::int64_t timeout = DefaultTimeout;
  if (params.Timeout) {
    if (params.Timeout->count() < 0) {
      throw InvalidArgumentError("Fork: WithForkTimeout must not be negative",
                                 0);
    }
    timeout = CeilSeconds(*params.Timeout);
  }
  const std::string operation = "POST /sandboxes/{sandboxID}/fork";
  const auto entries = client->control_plane->ForkSandbox(
      ctx, sandbox_id, params.Count, timeout);
  std::vector<ForkResult> results;
  results.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto outcome = ForkEntry(client, entries[i],
                             operation + " (fork " + std::to_string(i) + ")");
    ForkResult result;
    if (outcome.state) {
      result.Sandbox = Sandbox(std::move(outcome.state));
    } else {
      result.Err = outcome.error;
    }
    results.push_back(std::move(result));
  }
  return results;
}

bool Sandbox::IsRunning() const {
  return IsRunningWithContext(Context::Background());
}

bool Sandbox::IsRunningWithContext(const Context& ctx) const {
  const auto& s = Require(state_);
  return s.client->envd->Health(ctx, s);
}

std::string Sandbox::GetHost(int port) const {
  const auto& s = Require(state_);
  if (port < 1 || port > 65535) {
    throw Error(0,
                "GetHost: port " + std::to_string(port) + " is not in 1-65535");
  }
  if (s.client->debug) return "localhost:" + std::to_string(port);
  return std::to_string(port) + "-" + s.id + "." + s.domain;
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
