#include "internal/client_state.hpp"
#include "internal/envd_api.hpp"
#include "internal/process_stream.hpp"

#include <e2b/errors.hpp>
#include <e2b/pty.hpp>

#include <nlohmann/json.hpp>

#include <utility>

namespace e2b {
namespace {

using nlohmann::json;

std::optional<std::chrono::milliseconds> LifetimeOf(const PtyParams& params) {
  if (params.Timeout.count() < 0 || params.RequestTimeout.count() < 0) {
    throw InvalidArgumentError("Pty: a timeout is negative", 0);
  }
  return internal::ProcessLifetime(params.NoTimeout, params.Timeout);
}

const internal::SandboxState& Require(
    const std::shared_ptr<internal::SandboxState>& state) {
  if (!state || !state->client) {
    throw Error(0, "process call on a service without sandbox");
  }
  return *state;
}

std::string_view View(const std::vector<std::uint8_t>& data) {
  return std::string_view(reinterpret_cast<const char*>(data.data()),
                          data.size());
}

}  // namespace

PtyService::PtyService(const CommandService& commands)
    : state_(commands.state_) {}

PtyService::PtyService(std::shared_ptr<internal::SandboxState> state)
    : state_(std::move(state)) {}

CommandHandle PtyService::CreateImpl(const Context& ctx, std::uint32_t cols,
                                     std::uint32_t rows,
                                     const PtyParams& params) const {
  if (!state_ || !state_->client) {
    throw Error(0, "Pty.Create called on a PtyService without sandbox");
  }
  if (cols == 0 || rows == 0) {
    throw InvalidArgumentError(
        "Pty.Create: columns and rows must be at least 1", 0);
  }
  const auto lifetime = LifetimeOf(params);
  internal::ProcessStart start;
  start.cmd = "/bin/bash";
  start.args = {"-i", "-l"};
  // What an interactive terminal expects unless the caller says otherwise.
  start.envs = {
      {"TERM", "xterm-256color"}, {"LANG", "C.UTF-8"}, {"LC_ALL", "C.UTF-8"}};
  for (const auto& [key, value] : params.EnvVars) start.envs[key] = value;
  start.cwd = params.Cwd;
  start.tag = params.Tag;
  start.pty_cols_rows = std::make_pair(cols, rows);

  internal::StreamSpec spec;
  spec.state = state_;
  spec.call = internal::ProcessStreamCall(*state_, "/process.Process/Start",
                                          params.User, lifetime);
  spec.request = internal::StartRequest(start);
  spec.callbacks.on_pty = params.OnData;
  spec.pty = true;
  spec.request_timeout = params.RequestTimeout;
  return CommandHandle(std::make_shared<internal::CommandHandleOwner>(
      internal::CommandStream::Open(std::move(spec), ctx)));
}

CommandHandle PtyService::ConnectImpl(const Context& ctx, std::uint32_t pid,
                                      const PtyParams& params) const {
  if (!state_ || !state_->client) {
    throw Error(0, "Pty.Connect called on a PtyService without sandbox");
  }
  const auto lifetime = LifetimeOf(params);
  internal::StreamSpec spec;
  spec.state = state_;
  spec.call = internal::ProcessStreamCall(*state_, "/process.Process/Connect",
                                          std::string(), lifetime);
  spec.request = json{{"process", internal::PidSelector(pid)}};
  spec.callbacks.on_pty = params.OnData;
  spec.pty = true;
  spec.request_timeout = params.RequestTimeout;
  return CommandHandle(std::make_shared<internal::CommandHandleOwner>(
      internal::CommandStream::Open(std::move(spec), ctx)));
}

void PtyService::SendInput(std::uint32_t pid, std::string_view data) const {
  SendInput(Context::Background(), pid, data);
}

void PtyService::SendInput(const Context& ctx, std::uint32_t pid,
                           std::string_view data) const {
  const auto& s = Require(state_);
  s.client->envd->SendInput(ctx, s, internal::PidSelector(pid), data,
                            /*pty=*/true, std::chrono::milliseconds{0});
}

void PtyService::SendInput(std::uint32_t pid,
                           const std::vector<std::uint8_t>& data) const {
  SendInput(Context::Background(), pid, View(data));
}

void PtyService::SendInput(const Context& ctx, std::uint32_t pid,
                           const std::vector<std::uint8_t>& data) const {
  SendInput(ctx, pid, View(data));
}

void PtyService::Resize(std::uint32_t pid, std::uint32_t cols,
                        std::uint32_t rows) const {
  Resize(Context::Background(), pid, cols, rows);
}

void PtyService::Resize(const Context& ctx, std::uint32_t pid,
                        std::uint32_t cols, std::uint32_t rows) const {
  const auto& s = Require(state_);
  if (cols == 0 || rows == 0) {
    throw InvalidArgumentError(
        "Pty.Resize: columns and rows must be at least 1", 0);
  }
  s.client->envd->ResizePty(ctx, s, internal::PidSelector(pid), cols, rows,
                            std::chrono::milliseconds{0});
}

bool PtyService::Kill(std::uint32_t pid) const {
  return Kill(Context::Background(), pid);
}

bool PtyService::Kill(const Context& ctx, std::uint32_t pid) const {
  const auto& s = Require(state_);
  return s.client->envd->SendSignal(ctx, s, internal::PidSelector(pid),
                                    ProcessSignal::Kill,
                                    std::chrono::milliseconds{0});
}

// ---- options
// -------------------------------------------------------------------

PtyOption WithPtyEnv(std::map<std::string, std::string> envs) {
  return PtyOption([v = std::move(envs)](PtyParams& p) {
    for (const auto& [key, value] : v) p.EnvVars[key] = value;
  });
}

PtyOption WithPtyCwd(std::string cwd) {
  return PtyOption([v = std::move(cwd)](PtyParams& p) { p.Cwd = v; });
}

PtyOption WithPtyUser(std::string user) {
  return PtyOption([v = std::move(user)](PtyParams& p) { p.User = v; });
}

PtyOption WithPtyTimeout(std::chrono::milliseconds timeout) {
  // As in Go: zero or negative disables the lifetime.
  return PtyOption([timeout](PtyParams& p) {
    p.NoTimeout = timeout.count() <= 0;
    p.Timeout = p.NoTimeout ? std::chrono::milliseconds(0) : timeout;
  });
}

PtyOption WithPtyNoTimeout() {
  return PtyOption([](PtyParams& p) { p.NoTimeout = true; });
}

PtyOption WithPtyRequestTimeout(std::chrono::milliseconds timeout) {
  return PtyOption([timeout](PtyParams& p) { p.RequestTimeout = timeout; });
}

PtyOption WithPtyOnData(OutputBytesCallback callback) {
  return PtyOption([cb = std::move(callback)](PtyParams& p) { p.OnData = cb; });
}

PtyOption WithPtyTag(std::string tag) {
  return PtyOption([v = std::move(tag)](PtyParams& p) { p.Tag = v; });
}

}  // namespace e2b
