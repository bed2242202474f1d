#include "envd/process_service.hpp"

#include "util/base64.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <limits>
#include <thread>

namespace e2b_local {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = std::size_t{32} * 1024;
// Per subscriber; past it the pump waits (the process then blocks on its
// pipe) rather than dropping output.
constexpr std::size_t kMaxQueuedBytes = std::size_t{4} * 1024 * 1024;
constexpr auto kEndedRetention = std::chrono::seconds(30);
// After the process exits, output still arriving (a background child
// holding the pipe) is forwarded for at most this long.
constexpr auto kDrainLimit = std::chrono::seconds(2);
constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

json Event(const char* kind, json body) {
  return json{{"event", json{{kind, std::move(body)}}}};
}

// A field by its JSON name or proto name; nullptr when absent or null.
const json* Field(const json& object, const char* json_name,
                  const char* proto_name = nullptr) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(json_name);
  if (it == object.end() && proto_name) it = object.find(proto_name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string GetString(const json& object, const char* name) {
  const json* value = Field(object, name);
  if (!value) return "";
  if (!value->is_string()) {
    throw ConnectError("invalid_argument",
                       std::string("field '") + name + "' must be a string");
  }
  return value->get<std::string>();
}

std::uint32_t ParseUint32(const json& value, const char* name) {
  std::uint64_t result = 0;
  if (value.is_number_unsigned()) {
    result = value.get<std::uint64_t>();
  } else if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    result = static_cast<std::uint64_t>(value.get<std::int64_t>());
  } else if (value.is_string() && !value.get<std::string>().empty() &&
             value.get<std::string>().size() <= 10 &&
             value.get<std::string>().find_first_not_of("0123456789") ==
                 std::string::npos) {
    result = std::stoull(value.get<std::string>());
  } else {
    throw ConnectError("invalid_argument",
                       std::string("field '") + name + "' must be a uint32");
  }
  if (result > std::numeric_limits<std::uint32_t>::max()) {
    throw ConnectError("invalid_argument",
                       std::string("field '") + name + "' is out of range");
  }
  return static_cast<std::uint32_t>(result);
}

void RequireObject(const json& request) {
  if (!request.is_object()) {
    throw ConnectError("invalid_argument", "request must be a JSON object");
  }
}

std::shared_ptr<LocalSandbox> SandboxOf(const EnvdCall& call) {
  if (!call.sandbox || !call.sandbox->instance) {
    throw ConnectError("unavailable", "sandbox is not running");
  }
  return call.sandbox;
}

std::shared_ptr<ProcessTable> TableOf(LocalSandbox& sandbox) {
  return sandbox.processes.GetOrCreate(
      [] { return std::make_shared<ProcessTable>(); });
}

// ProcessSelector {pid} | {tag}.
std::shared_ptr<ManagedProcess> Select(const EnvdCall& call,
                                       const json& request,
                                       bool include_ended) {
  RequireObject(request);
  auto table = TableOf(*SandboxOf(call));
  const json* selector = Field(request, "process");
  if (!selector || !selector->is_object()) {
    throw ConnectError("unimplemented", "invalid process selector");
  }
  if (const json* pid = Field(*selector, "pid")) {
    std::uint32_t value = ParseUint32(*pid, "pid");
    auto process = table->FindByPid(value, include_ended);
    if (!process) {
      throw ConnectError("not_found", "process with pid " +
                                          std::to_string(value) + " not found");
    }
    return process;
  }
  if (const json* tag = Field(*selector, "tag")) {
    if (!tag->is_string()) {
      throw ConnectError("invalid_argument", "field 'tag' must be a string");
    }
    auto process = table->FindByTag(tag->get<std::string>(), include_ended);
    if (!process) {
      throw ConnectError(
          "not_found",
          "process with tag " + tag->get<std::string>() + " not found");
    }
    return process;
  }
  throw ConnectError("unimplemented", "invalid process selector");
}

std::string DecodeBytes(const json& value, const char* name) {
  if (!value.is_string()) {
    throw ConnectError("invalid_argument",
                       std::string("field '") + name + "' must be base64");
  }
  auto decoded = Base64Decode(value.get<std::string>());
  if (!decoded) {
    throw ConnectError("invalid_argument",
                       std::string("field '") + name + "' is not valid base64");
  }
  return *decoded;
}

enum class ForwardResult { kEnded, kClientGone, kDeadline };

// Sends queued events to one stream, with keepalives while idle.
ForwardResult Forward(ManagedProcess& process,
                      const std::shared_ptr<ManagedProcess::Subscriber>& sub,
                      StreamWriter& out, std::chrono::seconds keepalive,
                      std::optional<Clock::time_point> call_deadline) {
  if (keepalive.count() <= 0) keepalive = std::chrono::seconds(90);
  auto last_sent = Clock::now();
  for (;;) {
    auto next_keepalive = last_sent + keepalive;
    // Wake at least every second to notice a client that went away.
    auto until =
        std::min(next_keepalive, Clock::now() + std::chrono::seconds(1));
    if (call_deadline) until = std::min(until, *call_deadline);
    auto message = process.Next(sub, until);
    if (message) {
      bool is_end = (*message)["event"].contains("end");
      if (!out.Send(*message)) return ForwardResult::kClientGone;
      last_sent = Clock::now();
      if (is_end) return ForwardResult::kEnded;
      continue;
    }
    auto now = Clock::now();
    if (call_deadline && now >= *call_deadline) return ForwardResult::kDeadline;
    if (!out.ClientConnected()) return ForwardResult::kClientGone;
    if (now >= next_keepalive) {
      if (!out.Send(Event("keepalive", json::object()))) {
        return ForwardResult::kClientGone;
      }
      last_sent = now;
    }
  }
}

std::string ExpandCwd(const std::string& cwd, const SandboxUser& user) {
  if (cwd.empty()) return user.home;
  if (cwd == "~") return user.home;
  if (cwd.rfind("~/", 0) == 0) return user.home + cwd.substr(1);
  if (cwd[0] != '/') return user.home + "/" + cwd;
  return cwd;
}

// A Start request's process config and options, checked.
struct StartRequest {
  std::string cmd;
  std::vector<std::string> args;
  std::map<std::string, std::string> envs;
  std::optional<std::string> cwd;  ///< as sent; nullopt when absent
  std::optional<std::string> tag;
  bool stdin_pipe = true;  ///< absent: the old default, a pipe left open
};

std::vector<std::string> ParseArgs(const json& process) {
  std::vector<std::string> args;
  const json* list = Field(process, "args");
  if (!list) return args;
  if (!list->is_array()) {
    throw ConnectError("invalid_argument", "field 'args' must be an array");
  }
  for (const auto& arg : *list) {
    if (!arg.is_string()) {
      throw ConnectError("invalid_argument", "args must be strings");
    }
    args.push_back(arg.get<std::string>());
  }
  return args;
}

std::map<std::string, std::string> ParseEnvs(const json& process) {
  std::map<std::string, std::string> envs;
  const json* map = Field(process, "envs");
  if (!map) return envs;
  if (!map->is_object()) {
    throw ConnectError("invalid_argument", "field 'envs' must be an object");
  }
  for (const auto& [key, value] : map->items()) {
    if (!value.is_string()) {
      throw ConnectError("invalid_argument", "envs values must be strings");
    }
    envs[key] = value.get<std::string>();
  }
  return envs;
}

// Throws ConnectError "invalid_argument" at the first bad field, in the
// order the fields are listed in StartRequest.
StartRequest ParseStartRequest(const json& request) {
  const json* process = Field(request, "process");
  if (!process || !process->is_object()) {
    throw ConnectError("invalid_argument", "missing process config");
  }
  StartRequest start;
  start.cmd = GetString(*process, "cmd");
  if (start.cmd.empty()) throw ConnectError("invalid_argument", "missing cmd");
  start.args = ParseArgs(*process);
  start.envs = ParseEnvs(*process);
  if (Field(*process, "cwd")) start.cwd = GetString(*process, "cwd");
  if (Field(request, "tag")) start.tag = GetString(request, "tag");
  if (const json* stdin_field = Field(request, "stdin")) {
    if (!stdin_field->is_boolean()) {
      throw ConnectError("invalid_argument", "field 'stdin' must be a bool");
    }
    start.stdin_pipe = stdin_field->get<bool>();
  }
  return start;
}

// The call's user; a call without one runs as the default user.
SandboxUser StartUser(const EnvdCall& call, LocalSandbox& sandbox) {
  if (!call.user.name.empty()) return call.user;
  auto fallback = sandbox.instance->LookupUser(
      sandbox.default_user.empty() ? "user" : sandbox.default_user);
  if (!fallback) throw ConnectError("internal", "no default user");
  return *fallback;
}

// A PTY's size from the request's pty.size; absent or 0 keeps the default,
// larger than 65535 is clamped.
void ApplyPtySize(const json& pty, SpawnOptions& options) {
  const json* size = Field(pty, "size");
  if (!size) return;
  std::uint32_t cols =
      Field(*size, "cols") ? ParseUint32((*size)["cols"], "cols") : 0;
  std::uint32_t rows =
      Field(*size, "rows") ? ParseUint32((*size)["rows"], "rows") : 0;
  if (cols > 0)
    options.cols =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(cols, 65535));
  if (rows > 0)
    options.rows =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(rows, 65535));
}

// The environment is layered: login defaults, then the sandbox's
// variables, then the request's.
SpawnOptions StartSpawnOptions(const StartRequest& start, const json& request,
                               const LocalSandbox& sandbox,
                               const SandboxUser& user) {
  SpawnOptions options;
  options.argv.push_back(start.cmd);
  options.argv.insert(options.argv.end(), start.args.begin(), start.args.end());
  options.env = SandboxProcessEnv(sandbox, user);
  for (const auto& [key, value] : start.envs) options.env[key] = value;
  options.cwd = ExpandCwd(start.cwd.value_or(sandbox.default_workdir), user);
  options.user = user;
  options.stdin_pipe = start.stdin_pipe;
  if (const json* pty = Field(request, "pty")) {
    options.pty = true;
    ApplyPtySize(*pty, options);
  }
  return options;
}

// A spawn failure becomes invalid_argument when the request was at fault
// (e.g. a missing cwd), else internal.
std::unique_ptr<SandboxProcess> SpawnStart(LocalSandbox& sandbox,
                                           const SpawnOptions& options) {
  try {
    return sandbox.instance->Spawn(options);
  } catch (const SpawnError& e) {
    throw ConnectError(
        e.kind == "invalid_argument" ? "invalid_argument" : "internal",
        e.what());
  }
}

// The ProcessConfig List reports: the fields as the request sent them.
json StartConfig(const StartRequest& start) {
  json config{{"cmd", start.cmd}};
  if (!start.args.empty()) config["args"] = start.args;
  if (!start.envs.empty()) config["envs"] = start.envs;
  if (start.cwd) config["cwd"] = *start.cwd;
  return config;
}

// Starts the process's pump, with its start and end in the sandbox log.
void RunLogged(ManagedProcess& managed,
               const std::shared_ptr<LocalSandbox>& sandbox,
               const std::string& cmd,
               std::optional<std::chrono::milliseconds> lifetime) {
  std::uint32_t pid = managed.Pid();
  sandbox->log.Add("info", "process started",
                   {{"pid", std::to_string(pid)}, {"cmd", cmd}});
  std::weak_ptr<LocalSandbox> weak = sandbox;
  managed.Run(lifetime, [weak, pid, cmd](const ExitStatus& status) {
    if (auto owner = weak.lock()) {
      owner->log.Add("info", "process ended",
                     {{"pid", std::to_string(pid)},
                      {"cmd", cmd},
                      {"exitCode", std::to_string(status.exit_code)}});
    }
  });
}

// The Start stream: the start event, then the output until the end. A
// client that leaves early leaves the process running.
void StreamStarted(ManagedProcess& managed,
                   const std::shared_ptr<ManagedProcess::Subscriber>& sub,
                   const EnvdCall& call, StreamWriter& out) {
  if (!out.Send(Event("start", json{{"pid", managed.Pid()}}))) {
    managed.Unsubscribe(sub);
    return;
  }
  auto result =
      Forward(managed, sub, out, call.keepalive_interval, std::nullopt);
  if (result != ForwardResult::kEnded) {
    managed.Unsubscribe(sub);
    return;
  }
  if (managed.LifetimeExpired()) {
    throw ConnectError("deadline_exceeded",
                       "process exceeded its timeout of " +
                           std::to_string(call.timeout->count()) +
                           " ms and was killed");
  }
}

// How long the pump's poll waits: short while draining after the exit,
// never past the lifetime deadline while the process runs.
int PollTimeout(bool exited, std::optional<Clock::time_point> deadline) {
  if (exited) return 100;
  if (!deadline) return 1000;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  *deadline - Clock::now())
                  .count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1000));
}

// The ProcessEvent end message for an exit status.
json EndEvent(const ExitStatus& status) {
  json end = json::object();
  if (status.exit_code != 0) end["exitCode"] = status.exit_code;
  if (status.exited) end["exited"] = true;
  end["status"] = status.status;
  if (!status.exited || status.exit_code != 0) end["error"] = status.status;
  return Event("end", std::move(end));
}

// Wait() blocks, so a thread of its own waits and then pokes the pump's
// poll loop through a pipe.
class ExitWaiter {
 public:
  explicit ExitWaiter(SandboxProcess& process)
      : have_wake_(pipe2(wake_, O_CLOEXEC) == 0), thread_([this, &process] {
          status_ = process.Wait();
          if (have_wake_) {
            while (write(wake_[1], "x", 1) < 0 && errno == EINTR) {
            }
          }
        }) {}
  ExitWaiter(const ExitWaiter&) = delete;
  ExitWaiter& operator=(const ExitWaiter&) = delete;
  ~ExitWaiter() {
    if (thread_.joinable()) Join();
  }

  // Readable once the process has exited; -1 without a pipe (the pump
  // then only drains).
  int WakeFd() const { return have_wake_ ? wake_[0] : -1; }
  // Waits for the process's exit.
  ExitStatus Join() {
    thread_.join();
    if (have_wake_) {
      close(wake_[0]);
      close(wake_[1]);
    }
    return status_;
  }

 private:
  int wake_[2] = {-1, -1};
  const bool have_wake_;
  ExitStatus status_;
  std::thread thread_;
};

}  // namespace

// ---------------------------------------------------------------------------
// ManagedProcess

ManagedProcess::ManagedProcess(std::unique_ptr<SandboxProcess> process,
                               json config, std::optional<std::string> tag,
                               bool pty)
    : process_(std::move(process)),
      pid_(process_->Pid()),
      config_(std::move(config)),
      tag_(std::move(tag)),
      pty_(pty) {}

ManagedProcess::~ManagedProcess() = default;

void ManagedProcess::Run(std::optional<std::chrono::milliseconds> lifetime,
                         std::function<void(const ExitStatus&)> on_end) {
  on_end_ = std::move(on_end);
  std::optional<Clock::time_point> deadline;
  if (lifetime && lifetime->count() > 0) deadline = Clock::now() + *lifetime;
  auto self = shared_from_this();
  std::thread([self, deadline] { self->Pump(deadline); }).detach();
}

void ManagedProcess::EnforceLifetime(
    std::optional<Clock::time_point> deadline) {
  if (!deadline || lifetime_expired_ || end_message_) return;
  if (Clock::now() < *deadline) return;
  lifetime_expired_ = true;
  process_->Signal(SIGKILL);
}

struct ManagedProcess::OutputSource {
  int fd;
  const char* kind;  ///< the data event's field: "stdout", "stderr", "pty"
};

std::vector<ManagedProcess::OutputSource> ManagedProcess::OutputSources()
    const {
  std::vector<OutputSource> sources;
  if (process_->PtyFd() >= 0) {
    sources.push_back({process_->PtyFd(), "pty"});
    return sources;
  }
  if (process_->StdoutFd() >= 0) {
    sources.push_back({process_->StdoutFd(), "stdout"});
  }
  if (process_->StderrFd() >= 0) {
    sources.push_back({process_->StderrFd(), "stderr"});
  }
  return sources;
}

void ManagedProcess::Pump(std::optional<Clock::time_point> deadline) {
  ExitWaiter waiter(*process_);
  std::vector<OutputSource> sources = OutputSources();
  ForwardOutput(sources, waiter.WakeFd(), deadline);
  PublishEnd(waiter.Join());
}

void ManagedProcess::ForwardOutput(std::vector<OutputSource>& sources,
                                   int wake_fd,
                                   std::optional<Clock::time_point> deadline) {
  bool exited = wake_fd < 0;
  std::optional<Clock::time_point> drain_until;
  std::string buffer(kReadChunk, '\0');
  for (;;) {
    if (exited && !drain_until) drain_until = Clock::now() + kDrainLimit;
    if (exited && (sources.empty() || Clock::now() >= *drain_until)) break;
    std::vector<pollfd> fds;
    fds.reserve(sources.size() + 1);
    for (const auto& source : sources) fds.push_back({source.fd, POLLIN, 0});
    if (!exited) fds.push_back({wake_fd, POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), PollTimeout(exited, deadline));
    if (ready < 0 && errno != EINTR) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      EnforceLifetime(deadline);
    }
    if (ready == 0 && exited) break;  // drained: nothing more came
    if (ready <= 0) continue;
    if (!exited && fds.back().revents != 0) exited = true;
    for (std::size_t i = sources.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      ssize_t n = read(sources[i].fd, buffer.data(), buffer.size());
      if (n > 0) {
        std::string chunk(buffer.data(), static_cast<std::size_t>(n));
        json message =
            Event("data", json{{sources[i].kind, Base64Encode(chunk)}});
        Publish(message, chunk.size(), deadline);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        // EOF, or EIO from a PTY whose last slave closed.
        sources.erase(sources.begin() + static_cast<long>(i));
      }
    }
  }
}

void ManagedProcess::PublishEnd(const ExitStatus& status) {
  json message = EndEvent(status);
  // Logged before the end goes out, so a client that saw the end finds the
  // entry.
  if (on_end_) on_end_(status);
  {
    std::lock_guard<std::mutex> lock(mu_);
    end_message_ = message;
    ended_at_ = Clock::now();
    for (auto& sub : subscribers_) sub->queue.emplace_back(message, 0);
    subscribers_.clear();
  }
  cv_.notify_all();
}

void ManagedProcess::Publish(const json& message, std::size_t bytes,
                             std::optional<Clock::time_point> deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    bool full = std::any_of(
        subscribers_.begin(), subscribers_.end(),
        [](const auto& sub) { return sub->queued_bytes > kMaxQueuedBytes; });
    if (!full) break;
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    EnforceLifetime(deadline);
  }
  for (auto& sub : subscribers_) {
    sub->queue.emplace_back(message, bytes);
    sub->queued_bytes += bytes;
  }
  lock.unlock();
  cv_.notify_all();
}

std::shared_ptr<ManagedProcess::Subscriber> ManagedProcess::Subscribe() {
  std::lock_guard<std::mutex> lock(mu_);
  if (end_message_) return nullptr;
  auto sub = std::make_shared<Subscriber>();
  subscribers_.push_back(sub);
  return sub;
}

void ManagedProcess::Unsubscribe(const std::shared_ptr<Subscriber>& sub) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sub->attached = false;
    subscribers_.erase(
        std::remove(subscribers_.begin(), subscribers_.end(), sub),
        subscribers_.end());
    sub->queue.clear();
    sub->queued_bytes = 0;
  }
  cv_.notify_all();  // the pump may be waiting for this one to drain
}

std::optional<json> ManagedProcess::Next(const std::shared_ptr<Subscriber>& sub,
                                         Clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, until, [&] { return !sub->queue.empty(); });
  if (sub->queue.empty()) return std::nullopt;
  auto item = std::move(sub->queue.front());
  sub->queue.pop_front();
  sub->queued_bytes -= item.second;
  lock.unlock();
  cv_.notify_all();
  return std::move(item.first);
}

bool ManagedProcess::Ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return end_message_.has_value();
}

std::optional<json> ManagedProcess::EndMessage() const {
  std::lock_guard<std::mutex> lock(mu_);
  return end_message_;
}

std::optional<Clock::time_point> ManagedProcess::EndedAt() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_at_;
}

bool ManagedProcess::LifetimeExpired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lifetime_expired_;
}

// ---------------------------------------------------------------------------
// ProcessTable

void ProcessTable::Prune() const {
  auto now = Clock::now();
  processes_.erase(std::remove_if(processes_.begin(), processes_.end(),
                                  [&](const auto& process) {
                                    auto ended = process->EndedAt();
                                    return ended &&
                                           now - *ended > kEndedRetention;
                                  }),
                   processes_.end());
}

void ProcessTable::Add(std::shared_ptr<ManagedProcess> process) {
  std::lock_guard<std::mutex> lock(mu_);
  Prune();
  processes_.push_back(std::move(process));
}

std::shared_ptr<ManagedProcess> ProcessTable::FindByPid(
    std::uint32_t pid, bool include_ended) const {
  std::lock_guard<std::mutex> lock(mu_);
  Prune();
  std::shared_ptr<ManagedProcess> ended;
  // Newest first: a pid reused inside the sandbox means the latest process.
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    if ((*it)->Pid() != pid) continue;
    if (!(*it)->Ended()) return *it;
    if (!ended) ended = *it;
  }
  return include_ended ? ended : nullptr;
}

std::shared_ptr<ManagedProcess> ProcessTable::FindByTag(
    const std::string& tag, bool include_ended) const {
  std::lock_guard<std::mutex> lock(mu_);
  Prune();
  std::shared_ptr<ManagedProcess> ended;
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    if (!(*it)->Tag() || *(*it)->Tag() != tag) continue;
    if (!(*it)->Ended()) return *it;
    if (!ended) ended = *it;
  }
  return include_ended ? ended : nullptr;
}

std::vector<std::shared_ptr<ManagedProcess>> ProcessTable::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  Prune();
  std::vector<std::shared_ptr<ManagedProcess>> running;
  for (const auto& process : processes_) {
    if (!process->Ended()) running.push_back(process);
  }
  return running;
}

std::map<std::string, std::string> SandboxProcessEnv(
    const LocalSandbox& sandbox, const SandboxUser& user) {
  std::map<std::string, std::string> env = {{"PATH", kDefaultPath},
                                            {"HOME", user.home},
                                            {"USER", user.name},
                                            {"LOGNAME", user.name}};
  for (const auto& [key, value] : sandbox.env_vars) env[key] = value;
  return env;
}

std::uint32_t StartUnattendedProcess(
    const std::shared_ptr<LocalSandbox>& sandbox, const SpawnOptions& options,
    const std::string& cmd) {
  json config{{"cmd", options.argv.empty() ? "" : options.argv.front()},
              {"cwd", options.cwd}};
  if (options.argv.size() > 1) {
    config["args"] =
        std::vector<std::string>(options.argv.begin() + 1, options.argv.end());
  }
  auto managed =
      std::make_shared<ManagedProcess>(sandbox->instance->Spawn(options),
                                       std::move(config), std::nullopt, false);
  TableOf(*sandbox)->Add(managed);
  RunLogged(*managed, sandbox, cmd, std::nullopt);
  return managed->Pid();
}

// ---------------------------------------------------------------------------
// Handlers

void ProcessStart(EnvdCall& call, const json& request, StreamWriter& out) {
  RequireObject(request);
  auto sandbox = SandboxOf(call);
  const StartRequest start = ParseStartRequest(request);
  const SpawnOptions options =
      StartSpawnOptions(start, request, *sandbox, StartUser(call, *sandbox));
  std::unique_ptr<SandboxProcess> spawned = SpawnStart(*sandbox, options);
  auto managed = std::make_shared<ManagedProcess>(
      std::move(spawned), StartConfig(start), start.tag, options.pty);
  auto sub = managed->Subscribe();
  TableOf(*sandbox)->Add(managed);
  RunLogged(*managed, sandbox, start.cmd, call.timeout);
  StreamStarted(*managed, sub, call, out);
}

void ProcessConnect(EnvdCall& call, const json& request, StreamWriter& out) {
  std::optional<Clock::time_point> deadline;
  if (call.timeout && call.timeout->count() > 0) {
    deadline = Clock::now() + *call.timeout;
  }
  auto process = Select(call, request, /*include_ended=*/true);
  auto sub = process->Subscribe();
  if (!out.Send(Event("start", json{{"pid", process->Pid()}}))) {
    if (sub) process->Unsubscribe(sub);
    return;
  }
  if (!sub) {
    // Ended recently: replay its end.
    out.Send(*process->EndMessage());
    return;
  }
  auto result = Forward(*process, sub, out, call.keepalive_interval, deadline);
  if (result == ForwardResult::kEnded) return;
  process->Unsubscribe(sub);
  if (result == ForwardResult::kDeadline) {
    throw ConnectError("deadline_exceeded", "connect timed out");
  }
}

json ProcessList(EnvdCall& call, const json& request) {
  RequireObject(request);
  auto table = TableOf(*SandboxOf(call));
  json processes = json::array();
  for (const auto& process : table->Running()) {
    json info{{"config", process->Config()}, {"pid", process->Pid()}};
    if (process->Tag()) info["tag"] = *process->Tag();
    processes.push_back(std::move(info));
  }
  json response = json::object();
  if (!processes.empty()) response["processes"] = std::move(processes);
  return response;
}

json ProcessSendInput(EnvdCall& call, const json& request) {
  auto process = Select(call, request, /*include_ended=*/false);
  const json* input = Field(request, "input");
  if (!input || !input->is_object()) {
    throw ConnectError("unimplemented", "invalid input type");
  }
  if (const json* pty = Field(*input, "pty")) {
    std::string data = DecodeBytes(*pty, "pty");
    if (!process->IsPty()) {
      throw ConnectError("internal", "pty not enabled for this process");
    }
    if (!process->Process().WriteInput(data)) {
      throw ConnectError("internal", "error writing to pty");
    }
    return json::object();
  }
  if (const json* in = Field(*input, "stdin")) {
    std::string data = DecodeBytes(*in, "stdin");
    if (process->IsPty() || !process->Process().WriteInput(data)) {
      throw ConnectError("internal", "stdin not enabled or closed");
    }
    return json::object();
  }
  throw ConnectError("unimplemented", "invalid input type");
}

json ProcessSendSignal(EnvdCall& call, const json& request) {
  auto process = Select(call, request, /*include_ended=*/false);
  const json* signal = Field(request, "signal");
  int signo = 0;
  if (signal && signal->is_string()) {
    const auto& name = signal->get_ref<const std::string&>();
    if (name == "SIGNAL_SIGKILL" || name == "9") signo = SIGKILL;
    if (name == "SIGNAL_SIGTERM" || name == "15") signo = SIGTERM;
  } else if (signal && signal->is_number_integer()) {
    auto number = signal->get<std::int64_t>();
    if (number == 9) signo = SIGKILL;
    if (number == 15) signo = SIGTERM;
  }
  if (signo == 0) {
    throw ConnectError(
        "unimplemented",
        "invalid signal: " + (signal ? signal->dump() : "unset"));
  }
  process->Process().Signal(signo);
  return json::object();
}

json ProcessCloseStdin(EnvdCall& call, const json& request) {
  auto process = Select(call, request, /*include_ended=*/false);
  if (process->IsPty()) {
    throw ConnectError("unknown",
                       "cannot close stdin for PTY process - send Ctrl+D "
                       "(0x04) instead");
  }
  process->Process().CloseStdin();
  return json::object();
}

json ProcessUpdate(EnvdCall& call, const json& request) {
  auto process = Select(call, request, /*include_ended=*/false);
  const json* pty = Field(request, "pty");
  if (!pty) return json::object();
  const json* size = Field(*pty, "size");
  if (!size || !size->is_object()) {
    throw ConnectError("invalid_argument", "missing pty size");
  }
  std::uint32_t cols =
      Field(*size, "cols") ? ParseUint32((*size)["cols"], "cols") : 0;
  std::uint32_t rows =
      Field(*size, "rows") ? ParseUint32((*size)["rows"], "rows") : 0;
  if (!process->IsPty() || cols == 0 || rows == 0 || cols > 65535 ||
      rows > 65535 ||
      !process->Process().Resize(static_cast<std::uint16_t>(cols),
                                 static_cast<std::uint16_t>(rows))) {
    throw ConnectError("internal", "error resizing pty");
  }
  return json::object();
}

void RegisterProcessService(RpcRegistry& registry) {
  registry.AddStream("/process.Process/Start", ProcessStart);
  registry.AddStream("/process.Process/Connect", ProcessConnect);
  registry.AddUnary("/process.Process/List", ProcessList);
  registry.AddUnary("/process.Process/SendInput", ProcessSendInput);
  registry.AddUnary("/process.Process/SendSignal", ProcessSendSignal);
  registry.AddUnary("/process.Process/CloseStdin", ProcessCloseStdin);
  registry.AddUnary("/process.Process/Update", ProcessUpdate);
}

}  // namespace e2b_local
