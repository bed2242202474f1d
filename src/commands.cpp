#include "internal/base64.hpp"
#include "internal/client_state.hpp"
#include "internal/connect_client.hpp"

#include <e2b/commands.hpp>
#include <e2b/errors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace e2b {
namespace {

using nlohmann::json;

constexpr const char* kStartProcedure = "/process.Process/Start";
// Asks envd for a keepalive after 50 s without output, so an idle command
// is not cut by an intermediary (envd's own default is 90 s).
constexpr const char* kKeepalivePingSeconds = "50";
// The client-side limit of the exchange exceeds the server's deadline by
// this much, so a command that times out on the server is reported with
// envd's deadline_exceeded rather than a bare client timeout.
constexpr std::chrono::milliseconds kClientGrace{5000};

[[noreturn]] void FailStart(const std::string& what) {
  throw Error(0, "process.Process/Start: " + what);
}

json StartRequest(const std::string& cmd, const std::vector<std::string>& args,
                  const RunParams& params) {
  json process = {{"cmd", cmd}};
  if (!args.empty()) process["args"] = args;
  if (!params.EnvVars.empty()) {
    json envs = json::object();
    for (const auto& [key, value] : params.EnvVars) envs[key] = value;
    process["envs"] = std::move(envs);
  }
  if (!params.Cwd.empty()) process["cwd"] = params.Cwd;
  // An absent "stdin" leaves a stdin pipe open and a command that reads it
  // would hang until the timeout (PROTOCOL.md section 6, bug 4).
  return json{{"process", std::move(process)}, {"stdin", false}};
}

// sint32 is a JSON number; accept a decimal string as lenient parsers do.
int ExitCodeOf(const json& end) {
  const auto it = end.find("exitCode");
  const auto code = it != end.end() ? it : end.find("exit_code");
  if (code == end.end() || code->is_null()) return 0;
  if (code->is_number_integer()) {
    const auto value = code->get<long long>();
    if (value >= -2147483648LL && value <= 2147483647LL) {
      return static_cast<int>(value);
    }
  } else if (code->is_string()) {
    const std::string text = code->get<std::string>();
    try {
      std::size_t used = 0;
      const int value = std::stoi(text, &used);
      if (used == text.size()) return value;
    } catch (const std::exception&) {
      // reported below
    }
  }
  FailStart("end event has an invalid exitCode");
}

void AppendOutput(const json& data, const char* field, std::string& out) {
  const auto it = data.find(field);
  if (it == data.end() || it->is_null()) return;
  if (!it->is_string()) FailStart(std::string(field) + " is not a string");
  auto bytes = internal::Base64Decode(it->get_ref<const std::string&>());
  if (!bytes) FailStart(std::string(field) + " is not valid base64");
  out.append(*bytes);
}

}  // namespace

CommandService::CommandService(std::shared_ptr<internal::SandboxState> state)
    : state_(std::move(state)) {}

CommandResult CommandService::RunImpl(const Context& ctx,
                                      const std::string& cmd,
                                      const std::vector<std::string>& args,
                                      const RunParams& params) const {
  if (!state_ || !state_->client) {
    throw Error(0, "Commands.Run called on a CommandService without sandbox");
  }
  if (cmd.empty()) throw Error(0, "Commands.Run: the command is empty");
  if (params.Timeout.count() < 0) {
    throw Error(0, "Commands.Run: the timeout is negative");
  }
  const std::chrono::milliseconds timeout =
      params.Timeout.count() > 0 ? params.Timeout : DefaultCommandTimeout;

  internal::ConnectCall call;
  call.procedure = kStartProcedure;
  call.headers = state_->EnvdHeaders();
  call.headers.emplace_back("Keepalive-Ping-Interval", kKeepalivePingSeconds);
  if (!params.User.empty()) {
    // envd reads the user from Basic auth with an empty password; the Go
    // seed's `User:` header is ignored by envd (PROTOCOL.md section 6).
    call.headers.emplace_back(
        "Authorization", "Basic " + internal::Base64Encode(params.User + ":"));
  }
  // The server deadline is also the process lifetime: never longer than
  // what the caller's context allows.
  std::chrono::milliseconds server_timeout = timeout;
  if (auto remaining = ctx.Remaining()) {
    server_timeout = std::max(std::chrono::milliseconds{1},
                              std::min(server_timeout, *remaining));
  }
  call.server_timeout = server_timeout;
  call.http_timeout = timeout + kClientGrace;
  call.context = ctx;

  internal::ConnectClient client(state_->client->transport, state_->envd_url,
                                 state_->id, {state_->access_token});
  auto stream = client.OpenServerStream(call, StartRequest(cmd, args, params));

  CommandResult result;
  bool ended = false;
  while (auto message = stream->Next()) {
    const auto event = message->find("event");
    if (event == message->end() || event->is_null()) continue;
    if (!event->is_object()) FailStart("event is not a JSON object");
    if (const auto data = event->find("data"); data != event->end()) {
      if (!data->is_object()) FailStart("data event is not a JSON object");
      AppendOutput(*data, "stdout", result.Stdout);
      AppendOutput(*data, "stderr", result.Stderr);
      AppendOutput(*data, "pty", result.Stdout);
    } else if (const auto end = event->find("end"); end != event->end()) {
      if (!end->is_object()) FailStart("end event is not a JSON object");
      result.ExitCode = ExitCodeOf(*end);
      ended = true;
    }
    // start{pid} and keepalive{} carry nothing a Run result needs.
  }
  if (!ended) {
    // The Go seed reports this as exit code 0; a command whose end nobody
    // saw has not succeeded.
    FailStart("stream finished without the process end event");
  }
  return result;
}

}  // namespace e2b
