#include "internal/process_stream.hpp"

#include "internal/base64.hpp"
#include "internal/envd_api.hpp"
#include "internal/filesystem_mapping.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace e2b::internal {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(const std::string& procedure, const std::string& what) {
  throw Error(0, procedure + ": " + what);
}

void DecodeBase64(std::string_view text, const char* field, std::string& out,
                  const std::string& procedure) {
  auto bytes = Base64Decode(text);
  if (!bytes) Fail(procedure, std::string(field) + " is not valid base64");
  out = std::move(*bytes);
}

void DecodeOutput(const json& data, const char* field, std::string& out,
                  const std::string& procedure) {
  std::string text;
  ReadField(data, field, text);
  DecodeBase64(text, field, out, procedure);
}

// The event of kind `name` in `event`, null when it is another kind.
const json* EventOfKind(const json& event, const char* name) {
  const auto it = event.find(name);
  if (it == event.end()) return nullptr;
  RequireObject(*it, (std::string(name) + " event").c_str());
  return &*it;
}

ProcessEvent ReadProcessEvent(const json& message,
                              const std::string& procedure) {
  ProcessEvent result;
  const auto event = message.find("event");
  if (event == message.end() || event->is_null()) return result;
  RequireObject(*event, "event");
  if (const json* start = EventOfKind(*event, "start")) {
    result.kind = ProcessEvent::Kind::kStart;
    ReadField(*start, "pid", result.pid);
  } else if (const json* data = EventOfKind(*event, "data")) {
    result.kind = ProcessEvent::Kind::kData;
    DecodeOutput(*data, "stdout", result.out, procedure);
    DecodeOutput(*data, "stderr", result.err, procedure);
    DecodeOutput(*data, "pty", result.pty, procedure);
  } else if (const json* end = EventOfKind(*event, "end")) {
    result.kind = ProcessEvent::Kind::kEnd;
    ReadField(*end, ProtoField(*end, "exitCode", "exit_code"),
              result.exit_code);
    ReadField(*end, "error", result.error);
    if (result.error.empty()) ReadField(*end, "status", result.error);
  } else if (event->contains("keepalive")) {
    result.kind = ProcessEvent::Kind::kKeepalive;
  }
  return result;
}

ProcessInfo ReadProcessInfo(const json& item) {
  RequireObject(item, "process");
  ProcessInfo info;
  ReadField(item, "pid", info.PID);
  ReadField(item, "tag", info.Tag);
  const auto config = item.find("config");
  if (config != item.end() && !config->is_null()) {
    RequireObject(*config, "field 'config'");
    ReadField(*config, "cmd", info.Cmd);
    ReadField(*config, "args", info.Args);
    ReadField(*config, "envs", info.Envs);
    ReadField(*config, "cwd", info.Cwd);
  }
  return info;
}

std::vector<std::uint8_t> Bytes(const std::string& data) {
  return std::vector<std::uint8_t>(data.begin(), data.end());
}

}  // namespace

// ---- events and output -----------------------------------------------------

ProcessEvent ParseProcessEvent(const json& message,
                               const std::string& procedure) {
  try {
    return ReadProcessEvent(message, procedure);
  } catch (const JsonMappingError& e) {
    Fail(procedure, std::string("malformed process event: ") + e.what());
  }
}

ProcessEvent ParseProcessEvent(const ProcessEventText& message,
                               const std::string& procedure) {
  using Kind = ProcessEventText::Kind;
  ProcessEvent result;
  switch (message.kind) {
    case Kind::kNone:
      break;
    case Kind::kStart:
      result.kind = ProcessEvent::Kind::kStart;
      result.pid = message.pid;
      break;
    case Kind::kData:
      result.kind = ProcessEvent::Kind::kData;
      // In the tree decoder's order, so a message with two bad fields
      // names the same one.
      DecodeBase64(message.stdout_base64, "stdout", result.out, procedure);
      DecodeBase64(message.stderr_base64, "stderr", result.err, procedure);
      DecodeBase64(message.pty_base64, "pty", result.pty, procedure);
      break;
    case Kind::kEnd:
      result.kind = ProcessEvent::Kind::kEnd;
      result.exit_code = message.exit_code;
      result.error = message.error.empty() ? message.status : message.error;
      break;
    case Kind::kKeepalive:
      result.kind = ProcessEvent::Kind::kKeepalive;
      break;
  }
  return result;
}

std::optional<ProcessEvent> NextProcessEvent(ConnectStreamReader& reader,
                                             const std::string& procedure) {
  const std::string* payload = reader.NextPayload();
  if (payload == nullptr) return std::nullopt;
  ProcessEventText text;
  if (DecodeFlat(*payload, text)) return ParseProcessEvent(text, procedure);
  return ParseProcessEvent(reader.ParseMessage(*payload), procedure);
}

void OutputDispatcher::Deliver(const ProcessEvent& event) {
  if (!event.out.empty()) {
    if (callbacks_.on_stdout_bytes)
      callbacks_.on_stdout_bytes(Bytes(event.out));
    if (callbacks_.on_stdout) {
      const std::string text = stdout_text_.Decode(event.out);
      if (!text.empty()) callbacks_.on_stdout(text);
    }
  }
  if (!event.err.empty()) {
    if (callbacks_.on_stderr_bytes)
      callbacks_.on_stderr_bytes(Bytes(event.err));
    if (callbacks_.on_stderr) {
      const std::string text = stderr_text_.Decode(event.err);
      if (!text.empty()) callbacks_.on_stderr(text);
    }
  }
  if (!event.pty.empty() && callbacks_.on_pty)
    callbacks_.on_pty(Bytes(event.pty));
}

void OutputDispatcher::Finish() {
  if (callbacks_.on_stdout) {
    const std::string text = stdout_text_.Flush();
    if (!text.empty()) callbacks_.on_stdout(text);
  }
  if (callbacks_.on_stderr) {
    const std::string text = stderr_text_.Flush();
    if (!text.empty()) callbacks_.on_stderr(text);
  }
}

// ---- selectors, stream calls and answers
// --------------------------------------------------------------

json StartRequest(const ProcessStart& start) {
  json process = {{"cmd", start.cmd}};
  if (!start.args.empty()) process["args"] = start.args;
  if (!start.envs.empty()) process["envs"] = start.envs;
  if (!start.cwd.empty()) process["cwd"] = start.cwd;
  json request{{"process", std::move(process)}};
  if (start.stdin_open) request["stdin"] = *start.stdin_open;
  if (start.pty_cols_rows) {
    const auto [cols, rows] = *start.pty_cols_rows;
    request["pty"] = {{"size", {{"cols", cols}, {"rows", rows}}}};
  }
  if (start.tag) request["tag"] = *start.tag;
  return request;
}

namespace {

bool AppendCapped(std::string& into, std::string_view data, std::size_t cap) {
  if (cap == 0 || into.size() + data.size() <= cap) {
    into.append(data);
    return false;
  }
  into.append(data.substr(0, cap > into.size() ? cap - into.size() : 0));
  return true;
}

}  // namespace

bool AppendOutput(const ProcessEvent& event, std::string& out, std::string& err,
                  std::size_t cap) {
  bool cut = AppendCapped(out, event.out, cap);
  cut = AppendCapped(out, event.pty, cap) || cut;
  return AppendCapped(err, event.err, cap) || cut;
}

json PidSelector(std::uint32_t pid) { return json{{"pid", pid}}; }
json TagSelector(const std::string& tag) { return json{{"tag", tag}}; }

std::optional<std::chrono::milliseconds> ProcessLifetime(
    bool no_timeout, std::chrono::milliseconds timeout) {
  if (no_timeout) return std::nullopt;
  return timeout.count() > 0 ? timeout : DefaultCommandTimeout;
}

ConnectCall ProcessStreamCall(
    const SandboxState& sandbox, const char* procedure, const std::string& user,
    std::optional<std::chrono::milliseconds> lifetime) {
  ConnectCall call;
  call.procedure = procedure;
  call.headers = sandbox.EnvdHeaders();
  call.headers.emplace_back("Keepalive-Ping-Interval", kKeepalivePingSeconds);
  if (!user.empty()) {
    call.headers.emplace_back("Authorization", BasicAuthorization(user));
  }
  call.server_timeout = lifetime;
  call.http_timeout =
      lifetime ? *lifetime + kStreamGrace : std::chrono::milliseconds{0};
  return call;
}

std::vector<ProcessInfo> ParseProcessList(const json& response) {
  try {
    return ReadArrayField<ProcessInfo>(response, "processes");
  } catch (const JsonMappingError& e) {
    Fail("process.Process/List", std::string("malformed answer: ") + e.what());
  }
}

// ---- CommandStream
// -------------------------------------------------------------

CommandStream::CommandStream(StreamSpec spec)
    : spec_(std::move(spec)),
      request_timeout_(spec_.request_timeout.count() > 0
                           ? spec_.request_timeout
                           : spec_.state->client->request_timeout),
      procedure_(spec_.call.procedure.substr(
          spec_.call.procedure.rfind('/', 0) == 0 ? 1 : 0)) {
  spec_.call.context = reader_.StreamContext();
}

EnvdApi& CommandStream::Envd() const { return *spec_.state->client->envd; }

CommandStream::~CommandStream() = default;

std::shared_ptr<CommandStream> CommandStream::Open(StreamSpec spec,
                                                   const Context& ctx) {
  if (!spec.state || !spec.state->client || !spec.state->client->envd) {
    throw Error(0, "process call on a service without sandbox");
  }
  std::shared_ptr<CommandStream> stream(new CommandStream(std::move(spec)));
  // The thread keeps the stream alive while it reads; its end wakes the
  // wait for the start below.
  stream->reader_.Start([self = stream] { self->ReadLoop(); },
                        [raw = stream.get()] {
                          std::lock_guard<std::mutex> lock(raw->mutex_);
                          raw->changed_.notify_all();
                        });
  const auto limit = Clock::now() + stream->request_timeout_;
  std::unique_lock<std::mutex> lock(stream->mutex_);
  while (!stream->started_ && stream->reader_.Running()) {
    const auto now = Clock::now();
    if (ctx.Done() || now >= limit) {
      lock.unlock();
      stream->Disconnect();
      ctx.ThrowIfDone(stream->procedure_.c_str());
      throw TimeoutError(
          stream->procedure_ + ": the process did not start within " +
          std::to_string(stream->request_timeout_.count()) + " ms");
    }
    stream->changed_.wait_for(
        lock, std::min<Clock::duration>(kPollSlice, limit - now));
  }
  if (!stream->started_) {
    std::exception_ptr error = stream->reader_.Failure();
    lock.unlock();
    stream->Disconnect();
    if (error) std::rethrow_exception(error);
    Fail(stream->procedure_, "stream finished before the process started");
  }
  return stream;
}

void CommandStream::Record(const ProcessEvent& event,
                           OutputDispatcher& dispatcher) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (AppendOutput(event, stdout_, stderr_, spec_.max_output_bytes)) {
      truncated_ = true;
    }
  }
  changed_.notify_all();  // for FollowOutput
  if (!reader_.Stopped()) dispatcher.Deliver(event);
}

// Throws, for the BackgroundStream to record, when the stream breaks or
// breaks the protocol. An error after the end event still counts: envd
// reports a lifetime that ran out as deadline_exceeded after the killed
// process's end, and Run reports it the same way.
void CommandStream::ReadLoop() {
  OutputDispatcher dispatcher(spec_.callbacks);
  auto events =
      Envd().OpenProcessStream(*spec_.state, spec_.call, spec_.request);
  bool ended = false;
  while (auto next = events->Next()) {
    const ProcessEvent& event = *next;
    if (ended) continue;  // nothing is expected after the end
    switch (event.kind) {
      case ProcessEvent::Kind::kStart: {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!started_) {
          pid_ = event.pid;
          started_ = true;
          changed_.notify_all();
        }
        break;
      }
      case ProcessEvent::Kind::kData: {
        bool started = false;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          started = started_;
        }
        if (!started) Fail(procedure_, "output before the start event");
        Record(event, dispatcher);
        break;
      }
      case ProcessEvent::Kind::kEnd: {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (!started_) Fail(procedure_, "end before the start event");
        }
        // Text held by the decoders reaches the callbacks before Wait
        // can return.
        if (!reader_.Stopped()) dispatcher.Finish();
        std::lock_guard<std::mutex> lock(mutex_);
        exit_code_ = event.exit_code;
        end_error_ = event.error;
        ended = true;
        changed_.notify_all();
        break;
      }
      case ProcessEvent::Kind::kKeepalive:
      case ProcessEvent::Kind::kOther:
        break;
    }
  }
  if (!ended) Fail(procedure_, "stream finished without the process end event");
}

CommandResult CommandStream::Wait(const Context& ctx) {
  reader_.Wait(ctx, "CommandHandle.Wait");
  std::lock_guard<std::mutex> lock(mutex_);
  if (!exit_code_) {
    throw Error(0, procedure_ + ": process " + std::to_string(pid_) +
                       " was disconnected before it ended");
  }
  CommandResult result{stdout_, stderr_, *exit_code_, truncated_,
                       *exit_code_ != 0 ? end_error_ : std::string()};
  if (spec_.exit_error && result.ExitCode != 0) {
    throw CommandExitError(std::move(result), end_error_);
  }
  return result;
}

void CommandStream::FollowOutput(const Context& ctx, const WaitParams& params) {
  const OutputBytesCallback& on_stdout =
      spec_.pty ? params.OnPty : params.OnStdout;
  const OutputBytesCallback& on_stderr = params.OnStderr;
  if (!on_stdout && !on_stderr) return;
  std::size_t out_seen = 0;
  std::size_t err_seen = 0;
  while (true) {
    // Read before copying: once the reader is done, this copy is the last.
    const bool live = reader_.Running() && !reader_.Stopped();
    std::vector<std::uint8_t> out;
    std::vector<std::uint8_t> err;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (live && stdout_.size() == out_seen && stderr_.size() == err_seen) {
        changed_.wait_for(lock, kPollSlice);
      }
      out.assign(stdout_.begin() + static_cast<std::ptrdiff_t>(out_seen),
                 stdout_.end());
      err.assign(stderr_.begin() + static_cast<std::ptrdiff_t>(err_seen),
                 stderr_.end());
      out_seen = stdout_.size();
      err_seen = stderr_.size();
    }
    if (!out.empty() && on_stdout) on_stdout(out);
    if (!err.empty() && on_stderr) on_stderr(err);
    if (!live) return;
    ctx.ThrowIfDone("CommandHandle.Wait");
  }
}

std::string CommandStream::Stdout() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stdout_;
}

std::string CommandStream::Stderr() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stderr_;
}

std::optional<int> CommandStream::ExitCode() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return exit_code_;
}

void CommandStream::Disconnect() { reader_.Stop(); }

CommandHandleOwner::~CommandHandleOwner() {
  if (stream) stream->Disconnect();
}

}  // namespace e2b::internal

namespace e2b {

// The ProcessInfo adapter of the JSON layer (found by ADL, so
// ReadArrayField reads process listings).
void from_json(const nlohmann::json& j, ProcessInfo& out) {
  out = internal::ReadProcessInfo(j);
}

}  // namespace e2b
