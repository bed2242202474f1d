#include "internal/client_state.hpp"
#include "internal/connect_client.hpp"
#include "internal/envd_api.hpp"
#include "internal/process_stream.hpp"

#include <e2b/commands.hpp>
#include <e2b/errors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace e2b {
namespace {

using nlohmann::json;

constexpr const char* kStartProcedure = "/process.Process/Start";
constexpr const char* kConnectProcedure = "/process.Process/Connect";

[[noreturn]] void FailStart(const std::string& what) {
  throw Error(0, "process.Process/Start: " + what);
}

json StartRequest(const std::string& cmd, const std::vector<std::string>& args,
                  const RunParams& params) {
  internal::ProcessStart start;
  start.cmd = cmd;
  start.args = args;
  start.envs = params.EnvVars;
  start.cwd = params.Cwd;
  start.tag = params.Tag;
  start.stdin_open = params.Stdin;
  return internal::StartRequest(start);
}

internal::OutputCallbacks CallbacksOf(const RunParams& params) {
  internal::OutputCallbacks callbacks;
  callbacks.on_stdout = params.OnStdout;
  callbacks.on_stderr = params.OnStderr;
  callbacks.on_stdout_bytes = params.OnStdoutBytes;
  callbacks.on_stderr_bytes = params.OnStderrBytes;
  // A PTY's output is the process's stdout as far as a command sees it.
  callbacks.on_pty = params.OnStdoutBytes;
  return callbacks;
}

void CheckTimeouts(const char* call, const RunParams& params) {
  if (params.Timeout.count() < 0) {
    throw InvalidArgumentError(std::string(call) + ": the timeout is negative",
                               0);
  }
  if (params.RequestTimeout.count() < 0) {
    throw InvalidArgumentError(
        std::string(call) + ": the request timeout is negative", 0);
  }
}

// The lifetime envd enforces (Connect-Timeout-Ms); nullopt = none.
std::optional<std::chrono::milliseconds> LifetimeOf(const RunParams& params) {
  return internal::ProcessLifetime(params.NoTimeout, params.Timeout);
}

}  // namespace

CommandService::CommandService(std::shared_ptr<internal::SandboxState> state)
    : state_(std::move(state)) {}

const internal::SandboxState& CommandService::State(const char* call) const {
  if (!state_ || !state_->client) {
    throw Error(
        0, std::string(call) + " called on a CommandService without sandbox");
  }
  return *state_;
}

CommandResult CommandService::RunImpl(const Context& ctx,
                                      const std::string& cmd,
                                      const std::vector<std::string>& args,
                                      const RunParams& params) const {
  State("Commands.Run");
  if (cmd.empty())
    throw InvalidArgumentError("Commands.Run: the command is empty", 0);
  CheckTimeouts("Commands.Run", params);
  const auto lifetime = LifetimeOf(params);

  // The server deadline is also the process lifetime: never longer than
  // what the caller's context allows.
  std::optional<std::chrono::milliseconds> server_timeout = lifetime;
  if (auto remaining = ctx.Remaining()) {
    server_timeout = std::max(
        std::chrono::milliseconds{1},
        server_timeout ? std::min(*server_timeout, *remaining) : *remaining);
  }
  internal::ConnectCall call = internal::ProcessStreamCall(
      *state_, kStartProcedure, params.User, lifetime);
  call.server_timeout = server_timeout;
  call.context = ctx;
  auto stream = state_->client->envd->OpenProcessStream(
      *state_, call, StartRequest(cmd, args, params));

  internal::OutputDispatcher dispatcher(CallbacksOf(params));
  CommandResult result;
  bool ended = false;
  while (auto next = stream->Next()) {
    const internal::ProcessEvent& event = *next;
    if (event.kind == internal::ProcessEvent::Kind::kData) {
      if (internal::AppendOutput(event, result.Stdout, result.Stderr,
                                 params.MaxOutputBytes)) {
        result.Truncated = true;
      }
      dispatcher.Deliver(event);
    } else if (event.kind == internal::ProcessEvent::Kind::kEnd) {
      dispatcher.Finish();
      result.ExitCode = event.exit_code;
      // envd's status text ("exit status 0") is no error for a clean exit.
      if (event.exit_code != 0) result.Error = event.error;
      ended = true;
    }
    // start{pid} and keepalive{} carry nothing a Run result needs.
  }
  if (!ended) {
    // The Go seed reports this as exit code 0; a command whose end nobody
    // saw has not succeeded.
    FailStart("stream finished without the process end event");
  }
  if (params.ExitError && result.ExitCode != 0) {
    // A copy: `result` is moved while the arguments are built.
    const std::string message = result.Error;
    throw CommandExitError(std::move(result), message);
  }
  return result;
}

CommandHandle CommandService::StartImpl(const Context& ctx,
                                        const std::string& cmd,
                                        const std::vector<std::string>& args,
                                        const RunParams& params) const {
  State("Commands.Start");
  if (cmd.empty())
    throw InvalidArgumentError("Commands.Start: the command is empty", 0);
  CheckTimeouts("Commands.Start", params);
  const auto lifetime = LifetimeOf(params);
  internal::StreamSpec spec;
  spec.state = state_;
  spec.call = internal::ProcessStreamCall(*state_, kStartProcedure, params.User,
                                          lifetime);
  spec.request = StartRequest(cmd, args, params);
  spec.callbacks = CallbacksOf(params);
  spec.exit_error = params.ExitError;
  spec.max_output_bytes = params.MaxOutputBytes;
  spec.request_timeout = params.RequestTimeout;
  return CommandHandle(std::make_shared<internal::CommandHandleOwner>(
      internal::CommandStream::Open(std::move(spec), ctx)));
}

CommandHandle CommandService::ConnectImpl(const Context& ctx, std::uint32_t pid,
                                          const std::optional<std::string>& tag,
                                          const RunParams& params) const {
  State("Commands.Connect");
  if (tag && tag->empty()) {
    throw InvalidArgumentError("Commands.ConnectByTag: the tag is empty", 0);
  }
  CheckTimeouts("Commands.Connect", params);
  // As in Go, an attached stream has no lifetime of its own unless the
  // caller gives one: it lasts as long as the process.
  std::optional<std::chrono::milliseconds> lifetime;
  if (!params.NoTimeout && params.Timeout.count() > 0) {
    lifetime = params.Timeout;
  }
  internal::StreamSpec spec;
  spec.state = state_;
  // Connect takes no user: the process already runs as someone.
  spec.call = internal::ProcessStreamCall(*state_, kConnectProcedure,
                                          std::string(), lifetime);
  spec.request = json{{"process", tag ? internal::TagSelector(*tag)
                                      : internal::PidSelector(pid)}};
  spec.callbacks = CallbacksOf(params);
  spec.exit_error = params.ExitError;
  spec.max_output_bytes = params.MaxOutputBytes;
  spec.request_timeout = params.RequestTimeout;
  return CommandHandle(std::make_shared<internal::CommandHandleOwner>(
      internal::CommandStream::Open(std::move(spec), ctx)));
}

std::vector<ProcessInfo> CommandService::List() const {
  return List(Context::Background());
}

std::vector<ProcessInfo> CommandService::List(const Context& ctx) const {
  const auto& s = State("Commands.List");
  return s.client->envd->ListProcesses(ctx, s, std::chrono::milliseconds{0});
}

bool CommandService::Kill(std::uint32_t pid) const {
  return Kill(Context::Background(), pid);
}

bool CommandService::Kill(const Context& ctx, std::uint32_t pid) const {
  return SendSignal(ctx, pid, ProcessSignal::Kill);
}

bool CommandService::SendSignal(std::uint32_t pid, ProcessSignal signal) const {
  return SendSignal(Context::Background(), pid, signal);
}

bool CommandService::SendSignal(const Context& ctx, std::uint32_t pid,
                                ProcessSignal signal) const {
  const auto& s = State("Commands.SendSignal");
  return s.client->envd->SendSignal(ctx, s, internal::PidSelector(pid), signal,
                                    std::chrono::milliseconds{0});
}

void CommandService::SendStdin(std::uint32_t pid, std::string_view data) const {
  SendStdin(Context::Background(), pid, data);
}

void CommandService::SendStdin(const Context& ctx, std::uint32_t pid,
                               std::string_view data) const {
  const auto& s = State("Commands.SendStdin");
  s.client->envd->SendInput(ctx, s, internal::PidSelector(pid), data,
                            /*pty=*/false, std::chrono::milliseconds{0});
}

void CommandService::SendStdin(std::uint32_t pid,
                               const std::vector<std::uint8_t>& data) const {
  SendStdin(Context::Background(), pid, data);
}

void CommandService::SendStdin(const Context& ctx, std::uint32_t pid,
                               const std::vector<std::uint8_t>& data) const {
  SendStdin(ctx, pid,
            std::string_view(reinterpret_cast<const char*>(data.data()),
                             data.size()));
}

void CommandService::CloseStdin(std::uint32_t pid) const {
  CloseStdin(Context::Background(), pid);
}

void CommandService::CloseStdin(const Context& ctx, std::uint32_t pid) const {
  const auto& s = State("Commands.CloseStdin");
  s.client->envd->CloseStdin(ctx, s, internal::PidSelector(pid),
                             std::chrono::milliseconds{0});
}

}  // namespace e2b
