#include "internal/envd_api.hpp"
#include "internal/process_stream.hpp"

#include <e2b/command_handle.hpp>
#include <e2b/errors.hpp>

#include <string>
#include <utility>

namespace e2b {
namespace {

std::string ExitWhat(int code, const std::string& error) {
  std::string what = "e2b: command exited with code " + std::to_string(code);
  if (!error.empty()) what += ": " + error;
  return what;
}

std::string_view View(const std::vector<std::uint8_t>& data) {
  return std::string_view(reinterpret_cast<const char*>(data.data()),
                          data.size());
}

}  // namespace

// `error` is read twice while the base's arguments are built (in an
// unspecified order), so it is taken by reference and copied once, by Error.
CommandExitError::CommandExitError(CommandResult result,
                                   const std::string& error)
    : Error(ExitWhat(result.ExitCode, error), 0, error),
      result_(std::move(result)) {}

CommandHandle::CommandHandle(
    std::shared_ptr<internal::CommandHandleOwner> owner)
    : owner_(std::move(owner)) {}

internal::CommandStream& CommandHandle::Stream() const {
  if (!owner_ || !owner_->stream) {
    throw Error(0, "CommandHandle: the handle is empty");
  }
  return *owner_->stream;
}

std::uint32_t CommandHandle::PID() const { return Stream().Pid(); }

bool CommandHandle::IsPty() const { return Stream().IsPty(); }

CommandResult CommandHandle::Wait() const {
  return Wait(Context::Background());
}

CommandResult CommandHandle::Wait(const Context& ctx) const {
  return Stream().Wait(ctx);
}

CommandResult CommandHandle::WaitImpl(const Context& ctx,
                                      const WaitParams& params) const {
  internal::CommandStream& stream = Stream();
  stream.FollowOutput(ctx, params);
  return stream.Wait(ctx);
}

bool CommandHandle::Kill() const { return Kill(Context::Background()); }

bool CommandHandle::Kill(const Context& ctx) const {
  return SendSignal(ctx, ProcessSignal::Kill);
}

bool CommandHandle::SendSignal(ProcessSignal signal) const {
  return SendSignal(Context::Background(), signal);
}

bool CommandHandle::SendSignal(const Context& ctx, ProcessSignal signal) const {
  auto& stream = Stream();
  return stream.Envd().SendSignal(ctx, stream.Sandbox(),
                                  internal::PidSelector(stream.Pid()), signal,
                                  stream.RequestTimeout());
}

void CommandHandle::SendStdin(std::string_view data) const {
  SendStdin(Context::Background(), data);
}

void CommandHandle::SendStdin(const Context& ctx, std::string_view data) const {
  auto& stream = Stream();
  if (stream.IsPty()) {
    throw Error(0,
                "CommandHandle.SendStdin: a PTY has no stdin; use "
                "Pty.SendInput");
  }
  stream.Envd().SendInput(ctx, stream.Sandbox(),
                          internal::PidSelector(stream.Pid()), data,
                          /*pty=*/false, stream.RequestTimeout());
}

void CommandHandle::SendStdin(const std::vector<std::uint8_t>& data) const {
  SendStdin(Context::Background(), View(data));
}

void CommandHandle::SendStdin(const Context& ctx,
                              const std::vector<std::uint8_t>& data) const {
  SendStdin(ctx, View(data));
}

void CommandHandle::CloseStdin() const { CloseStdin(Context::Background()); }

void CommandHandle::CloseStdin(const Context& ctx) const {
  auto& stream = Stream();
  if (stream.IsPty()) {
    throw Error(0, "CommandHandle.CloseStdin: a PTY has no stdin");
  }
  stream.Envd().CloseStdin(ctx, stream.Sandbox(),
                           internal::PidSelector(stream.Pid()),
                           stream.RequestTimeout());
}

std::string CommandHandle::Stdout() const { return Stream().Stdout(); }

std::string CommandHandle::Stderr() const { return Stream().Stderr(); }

std::optional<int> CommandHandle::ExitCode() const {
  return Stream().ExitCode();
}

void CommandHandle::Disconnect() const { Stream().Disconnect(); }

}  // namespace e2b
