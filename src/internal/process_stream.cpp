#include "internal/process_stream.hpp"

#include "internal/base64.hpp"
#include "internal/envd_stub.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <utility>

namespace e2b::internal {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// How often a wait re-checks a Context (which cannot notify).
constexpr std::chrono::milliseconds kPollSlice{50};

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
  const auto it = data.find(field);
  if (it == data.end() || it->is_null()) return;
  if (!it->is_string())
    Fail(procedure, std::string(field) + " is not a string");
  DecodeBase64(it->get_ref<const std::string&>(), field, out, procedure);
}

// sint32 is a JSON number; accept a decimal string as lenient parsers do.
int ExitCodeOf(const json& end, const std::string& procedure) {
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
  Fail(procedure, "end event has an invalid exitCode");
}

// uint32 as a number, or a decimal string.
std::optional<std::uint32_t> Uint32Of(const json& value) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<unsigned long long>();
    if (v <= 0xFFFFFFFFULL) return static_cast<std::uint32_t>(v);
  } else if (value.is_number_integer()) {
    const auto v = value.get<long long>();
    if (v >= 0 && v <= 0xFFFFFFFFLL) return static_cast<std::uint32_t>(v);
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty() || text.size() > 10) return std::nullopt;
    unsigned long long v = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned long long>(c - '0');
    }
    if (v <= 0xFFFFFFFFULL) return static_cast<std::uint32_t>(v);
  }
  return std::nullopt;
}

std::string StringOf(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>()
                                               : std::string();
}

std::vector<std::uint8_t> Bytes(const std::string& data) {
  return std::vector<std::uint8_t>(data.begin(), data.end());
}

}  // namespace

// ---- events and output -----------------------------------------------------

ProcessEvent ParseProcessEvent(const json& message,
                               const std::string& procedure) {
  ProcessEvent result;
  const auto event = message.find("event");
  if (event == message.end() || event->is_null()) return result;
  if (!event->is_object()) Fail(procedure, "event is not a JSON object");
  if (const auto start = event->find("start"); start != event->end()) {
    if (!start->is_object())
      Fail(procedure, "start event is not a JSON object");
    result.kind = ProcessEvent::Kind::kStart;
    const auto pid = start->find("pid");
    if (pid != start->end() && !pid->is_null()) {
      auto value = Uint32Of(*pid);
      if (!value) Fail(procedure, "start event has an invalid pid");
      result.pid = *value;
    }
  } else if (const auto data = event->find("data"); data != event->end()) {
    if (!data->is_object()) Fail(procedure, "data event is not a JSON object");
    result.kind = ProcessEvent::Kind::kData;
    DecodeOutput(*data, "stdout", result.out, procedure);
    DecodeOutput(*data, "stderr", result.err, procedure);
    DecodeOutput(*data, "pty", result.pty, procedure);
  } else if (const auto end = event->find("end"); end != event->end()) {
    if (!end->is_object()) Fail(procedure, "end event is not a JSON object");
    result.kind = ProcessEvent::Kind::kEnd;
    result.exit_code = ExitCodeOf(*end, procedure);
    result.error = StringOf(*end, "error");
    if (result.error.empty()) result.error = StringOf(*end, "status");
  } else if (event->contains("keepalive")) {
    result.kind = ProcessEvent::Kind::kKeepalive;
  }
  return result;
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
    // envd reads the user from Basic auth with an empty password.
    call.headers.emplace_back("Authorization",
                              "Basic " + Base64Encode(user + ":"));
  }
  call.server_timeout = lifetime;
  call.http_timeout =
      lifetime ? *lifetime + kStreamGrace : std::chrono::milliseconds{0};
  return call;
}

std::vector<ProcessInfo> ParseProcessList(const json& response) {
  const std::string procedure = "process.Process/List";
  std::vector<ProcessInfo> out;
  const auto processes = response.find("processes");
  if (processes == response.end() || processes->is_null()) return out;
  if (!processes->is_array()) Fail(procedure, "processes is not an array");
  for (const auto& item : *processes) {
    if (!item.is_object()) Fail(procedure, "a process is not a JSON object");
    ProcessInfo info;
    if (const auto pid = item.find("pid"); pid != item.end()) {
      auto value = Uint32Of(*pid);
      if (!value) Fail(procedure, "a process has an invalid pid");
      info.PID = *value;
    }
    info.Tag = StringOf(item, "tag");
    if (const auto config = item.find("config");
        config != item.end() && config->is_object()) {
      info.Cmd = StringOf(*config, "cmd");
      info.Cwd = StringOf(*config, "cwd");
      if (const auto args = config->find("args");
          args != config->end() && args->is_array()) {
        for (const auto& arg : *args) {
          if (arg.is_string()) info.Args.push_back(arg.get<std::string>());
        }
      }
      if (const auto envs = config->find("envs");
          envs != config->end() && envs->is_object()) {
        for (const auto& [key, value] : envs->items()) {
          if (value.is_string()) info.Envs[key] = value.get<std::string>();
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

// ---- CommandStream
// -------------------------------------------------------------

CommandStream::CommandStream(StreamSpec spec)
    : spec_(std::move(spec)),
      request_timeout_(spec_.request_timeout.count() > 0
                           ? spec_.request_timeout
                           : spec_.state->client->request_timeout),
      procedure_(spec_.call.procedure.substr(
          spec_.call.procedure.rfind('/', 0) == 0 ? 1 : 0)),
      stream_ctx_(Context::WithCancel()) {
  spec_.call.context = stream_ctx_;
}

EnvdStub& CommandStream::Envd() const { return *spec_.state->client->envd; }

CommandStream::~CommandStream() {
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (thread_.joinable()) {
    stream_ctx_.Cancel();
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

std::shared_ptr<CommandStream> CommandStream::Open(StreamSpec spec,
                                                   const Context& ctx) {
  if (!spec.state || !spec.state->client || !spec.state->client->envd) {
    throw Error(0, "process call on a service without sandbox");
  }
  std::shared_ptr<CommandStream> stream(new CommandStream(std::move(spec)));
  {
    std::lock_guard<std::mutex> lock(stream->thread_mutex_);
    // The thread keeps the stream alive while it reads.
    stream->thread_ = std::thread([self = stream] { self->ReadLoop(); });
  }
  const auto limit = Clock::now() + stream->request_timeout_;
  std::unique_lock<std::mutex> lock(stream->mutex_);
  while (!stream->started_ && !stream->finished_) {
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
    std::exception_ptr error = stream->error_;
    lock.unlock();
    stream->Disconnect();
    if (error) std::rethrow_exception(error);
    Fail(stream->procedure_, "stream finished before the process started");
  }
  return stream;
}

void CommandStream::Record(const ProcessEvent& event,
                           OutputDispatcher& dispatcher) {
  bool deliver = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stdout_.append(event.out);
    stdout_.append(event.pty);
    stderr_.append(event.err);
    deliver = !disconnected_;
  }
  if (deliver) dispatcher.Deliver(event);
}

void CommandStream::ReadLoop() {
  OutputDispatcher dispatcher(spec_.callbacks);
  try {
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
          bool deliver = false;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!started_) Fail(procedure_, "end before the start event");
            deliver = !disconnected_;
          }
          // Text held by the decoders reaches the callbacks before Wait
          // can return.
          if (deliver) dispatcher.Finish();
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
    if (!ended)
      Fail(procedure_, "stream finished without the process end event");
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    // A disconnect's abort is not an error. An error after the end event
    // still counts: envd reports a lifetime that ran out as
    // deadline_exceeded after the killed process's end, and Run reports it
    // the same way.
    if (!disconnected_) error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  finished_ = true;
  changed_.notify_all();
}

CommandResult CommandStream::Wait(const Context& ctx) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!finished_ && !disconnected_) {
    if (ctx.Done()) {
      lock.unlock();
      ctx.ThrowIfDone("CommandHandle.Wait");
    }
    changed_.wait_for(lock, kPollSlice);
  }
  if (error_) std::rethrow_exception(error_);
  if (!exit_code_) {
    throw Error(0, procedure_ + ": process " + std::to_string(pid_) +
                       " was disconnected before it ended");
  }
  CommandResult result{stdout_, stderr_, *exit_code_};
  if (spec_.exit_error && result.ExitCode != 0) {
    throw CommandExitError(std::move(result), end_error_);
  }
  return result;
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

void CommandStream::Disconnect() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    disconnected_ = true;
    changed_.notify_all();
  }
  stream_ctx_.Cancel();
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // called from a callback: the loop ends by itself
  } else {
    thread_.join();
  }
}

CommandHandleOwner::~CommandHandleOwner() {
  if (stream) stream->Disconnect();
}

}  // namespace e2b::internal
