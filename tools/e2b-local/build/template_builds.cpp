#include "build/template_builds.hpp"

#include "build/image_import.hpp"
#include "envd/process_service.hpp"
#include "internal/sha256.hpp"
#include "store/random_ids.hpp"
#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace e2b_local {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxLogLine = 8192;
/// How long one step may run.
constexpr auto kStepTimeout = std::chrono::hours(1);
constexpr auto kReadyRetry = std::chrono::milliseconds(200);
/// Build log lines kept per build, and how they are batched to the store.
constexpr std::size_t kMaxBuildLogLines = 20000;
constexpr std::size_t kLogBatch = 2048;
constexpr auto kLogFlushEvery = std::chrono::milliseconds(500);
/// After the process exited, output is read until its pipes close, as long
/// as some arrives at least every kDrainIdle and at most kDrainBytes more
/// (the pipes' buffers hold far less): something it left running may hold
/// the pipes open, and may keep writing.
constexpr auto kDrainIdle = std::chrono::seconds(2);
constexpr std::size_t kDrainBytes = std::size_t{8} << 20;

// E2B's base image; offline it is e2b-local's own base root filesystem.
bool IsBaseImage(const std::string& image) {
  if (image.empty()) return true;
  std::string name = image.substr(0, image.find('@'));
  const auto slash = name.rfind('/');
  const auto colon = name.rfind(':');
  if (colon != std::string::npos &&
      (slash == std::string::npos || colon > slash)) {
    name.resize(colon);
  }
  return name == "e2bdev/base" || name == "docker.io/e2bdev/base" ||
         name == "index.docker.io/e2bdev/base";
}

std::string Upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Sha256Hex(const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : e2b::internal::Sha256Digest(text)) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

// Appends a length-prefixed field, so no two lists hash alike.
void HashField(std::string& out, const std::string& field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

// Splits output into lines for the build log, cutting very long ones.
class LineSplitter {
 public:
  explicit LineSplitter(std::function<void(const std::string&)> sink)
      : sink_(std::move(sink)) {}
  void Feed(const char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      if (data[i] == '\n' || pending_.size() >= kMaxLogLine) {
        Flush();
        if (data[i] == '\n') continue;
      }
      pending_ += data[i];
    }
  }
  void Flush() {
    if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
    if (!pending_.empty()) sink_(pending_);
    pending_.clear();
  }

 private:
  std::function<void(const std::string&)> sink_;
  std::string pending_;
};

// Writes `input` (when given) to the process's stdin, then closes it.
void FeedStdin(SandboxProcess& process, std::istream* input) {
  if (input == nullptr) return;
  std::string chunk(std::size_t{64} * 1024, '\0');
  while (*input) {
    input->read(&chunk[0], static_cast<std::streamsize>(chunk.size()));
    const auto n = static_cast<std::size_t>(input->gcount());
    if (n == 0 || !process.WriteInput(chunk.substr(0, n))) break;
  }
  process.CloseStdin();
}

// Reads once from a readable pipe into `splitter`; returns the bytes read
// and closes `fd` (sets it to -1; the process owns it) at its end.
std::size_t ReadOnce(pollfd& fd, LineSplitter& splitter) {
  char buf[4096];
  const ssize_t n = ::read(fd.fd, buf, sizeof buf);
  if (n > 0) {
    splitter.Feed(buf, static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
  }
  if (n == 0 || (errno != EINTR && errno != EAGAIN)) fd.fd = -1;
  return 0;
}

// After the pipes closed (or poll failed) before the exit was seen: waits
// for `wake_fd`, still killing at the deadline or on cancellation.
void AwaitExit(SandboxProcess& process, int wake_fd, Clock::time_point deadline,
               const std::function<bool()>& cancelled, bool& killed) {
  for (;;) {
    if (!killed && (Clock::now() >= deadline || cancelled())) {
      process.Signal(SIGKILL);
      killed = true;
    }
    pollfd wake{wake_fd, POLLIN, 0};
    const int ready = ::poll(&wake, 1, 100);
    if (ready > 0) return;
    if (ready < 0 && errno != EINTR) {
      process.Signal(SIGKILL);
      killed = true;
      return;
    }
  }
}

// Runs a process to its end, each output line to `on_line`; killed at
// `deadline` or when `cancelled` turns true. `input`, when given, is
// written to its stdin first. Output is read until both pipes close or,
// when something the process left running holds them open, until they
// stay silent kDrainIdle after it exited (kDrainBytes at most).
ExitStatus RunToEnd(SandboxInstance& instance, SpawnOptions options,
                    const std::function<void(const std::string&)>& on_line,
                    Clock::time_point deadline,
                    const std::function<bool()>& cancelled,
                    std::istream* input = nullptr,
                    const std::function<void()>& on_tick = nullptr) {
  options.stdin_pipe = input != nullptr;
  std::unique_ptr<SandboxProcess> process = instance.Spawn(options);
  int wake_fds[2] = {-1, -1};
  if (::pipe2(wake_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    process->Signal(SIGKILL);
    process->Wait();
    throw std::runtime_error("cannot make a pipe");
  }
  const UniqueFd wake_read(wake_fds[0]), wake_write(wake_fds[1]);
  ExitStatus status;
  std::thread waiter([&process, &status, &wake_write] {
    status = process->Wait();
    const char byte = 1;
    (void)!::write(wake_write.get(), &byte, 1);
  });
  FeedStdin(*process, input);
  LineSplitter out(on_line), err(on_line);
  std::array<pollfd, 3> fds{pollfd{process->StdoutFd(), POLLIN, 0},
                            pollfd{process->StderrFd(), POLLIN, 0},
                            pollfd{wake_read.get(), POLLIN, 0}};
  std::array<LineSplitter*, 2> splitters{&out, &err};
  bool killed = false;
  std::optional<Clock::time_point> exited_at;
  // Since when polls have found no output (unset while output flows): slow
  // handling of a burst never counts as silence.
  bool quiet = false;
  Clock::time_point quiet_since;
  std::size_t drained = 0;  // bytes read since the exit
  const auto draining = [&] {
    if (!exited_at) return true;
    return drained < kDrainBytes &&
           (!quiet || Clock::now() < quiet_since + kDrainIdle);
  };
  while ((fds[0].fd >= 0 || fds[1].fd >= 0) && draining()) {
    if (!killed && !exited_at && (Clock::now() >= deadline || cancelled())) {
      process->Signal(SIGKILL);
      killed = true;
    }
    const int ready = ::poll(fds.data(), fds.size(), 100);
    if (ready < 0 && errno != EINTR) break;
    if (on_tick) on_tick();
    const bool output = (fds[0].fd >= 0 && fds[0].revents != 0) ||
                        (fds[1].fd >= 0 && fds[1].revents != 0);
    if (!output && !quiet) quiet_since = Clock::now();
    quiet = !output;
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      exited_at = Clock::now();
      fds[2].fd = -1;
    }
    for (std::size_t i = 0; i < splitters.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const std::size_t n = ReadOnce(fds[i], *splitters[i]);
      if (exited_at) drained += n;
    }
  }
  if (!exited_at) {
    AwaitExit(*process, wake_read.get(), deadline, cancelled, killed);
  }
  waiter.join();
  out.Flush();
  err.Flush();
  if (killed && Clock::now() >= deadline) status.status = "timed out";
  return status;
}

// The context a step runs in (E2B's metadata.Context).
struct StepContext {
  std::string user;
  std::string workdir;  ///< empty: the user's home
  std::map<std::string, std::string> env;
};

// The copy script, run as root with its values as positional parameters
// (never spliced into the text): archive, source path inside the archive,
// target, owner, mode, working directory, user.
constexpr const char kCopyScript[] = R"sh(
set -eu
archive=$1 src=$2 target=$3 owner=$4 mode=$5 workdir=$6 user=$7
unpack=$(mktemp -d /tmp/e2b-build-files.XXXXXX)
trap 'rm -rf "$unpack" "$archive"' EXIT
tar -xf "$archive" -C "$unpack" --no-same-owner --no-same-permissions
if [ -z "$workdir" ]; then workdir=$(getent passwd "$user" | cut -d: -f6); fi
cd "${workdir:-/}"
case "$target" in /*) ;; *) target="$(pwd)/$target" ;; esac
entry="$unpack/$src"
if [ ! -e "$entry" ] && [ ! -L "$entry" ]; then
  echo "source path does not exist in the uploaded files: $src" >&2
  exit 1
fi
if [ -d "$entry" ] && [ ! -L "$entry" ]; then
  chown -R "$owner" "$entry"
  if [ -n "$mode" ]; then chmod -R "$mode" "$entry"; fi
  mkdir -p "$target"
  (cd "$entry" && tar -cf - .) |
    tar -xf - -C "$target" --keep-directory-symlink --no-overwrite-dir
else
  chown -h "$owner" "$entry"
  if [ -n "$mode" ] && [ ! -L "$entry" ]; then chmod "$mode" "$entry"; fi
  case "$target" in
    */) mkdir -p "$target"; mv -f "$entry" "$target" ;;
    *) mkdir -p "$(dirname "$target")"; mv -fT "$entry" "$target" ;;
  esac
fi
)sh";

// Creates the working directory (new directories owned by the user) and
// prints its real path.
constexpr const char kWorkdirScript[] = R"sh(
set -eu
target=$1 user=$2
first_new=""
check=$target
while [ ! -d "$check" ]; do first_new=$check; check=$(dirname "$check"); done
mkdir -p "$target"
if [ -n "$first_new" ]; then chown -R "$user:$user" "$first_new"; fi
cd "$target" && pwd
)sh";

// Adds the user when missing; with $2 = true, also to passwordless sudo.
constexpr const char kUserScript[] = R"sh(
set -eu
name=$1 sudoer=$2
if ! id -u "$name" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$name"
fi
if [ "$sudoer" = true ]; then
  mkdir -p /etc/sudoers.d
  printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$name" > "/etc/sudoers.d/$name"
  chmod 0440 "/etc/sudoers.d/$name"
fi
)sh";

// A COPY source's path without its glob part (what the server moves).
std::string CopySourcePath(const std::string& src) {
  std::string out;
  std::size_t start = 0;
  while (start <= src.size()) {
    std::size_t slash = src.find('/', start);
    if (slash == std::string::npos) slash = src.size();
    const std::string segment = src.substr(start, slash - start);
    if (segment.find_first_of("*?[{") != std::string::npos) break;
    if (!segment.empty() && segment != ".") {
      if (!out.empty()) out += '/';
      out += segment;
    }
    start = slash + 1;
  }
  return out.empty() ? "." : out;
}

// Kills a build's sandbox when the build is done with it, however it ends.
class SandboxKiller {
 public:
  SandboxKiller(SandboxRegistry& registry, std::string id)
      : registry_(registry), id_(std::move(id)) {}
  SandboxKiller(const SandboxKiller&) = delete;
  SandboxKiller& operator=(const SandboxKiller&) = delete;
  SandboxKiller(SandboxKiller&&) = delete;
  SandboxKiller& operator=(SandboxKiller&&) = delete;
  ~SandboxKiller() {
    try {
      registry_.Kill(id_);
    } catch (const std::exception&) {
      // Already gone.
    }
  }

 private:
  SandboxRegistry& registry_;
  std::string id_;
};

// Removes a file (when its path is set by then) at the end of a scope.
class FileRemover {
 public:
  explicit FileRemover(const std::string& path) : path_(path) {}
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;
  FileRemover(FileRemover&&) = delete;
  FileRemover& operator=(FileRemover&&) = delete;
  ~FileRemover() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

 private:
  const std::string& path_;
};

// `value` escaped for the inside of a shell's double quotes as E2B does it
// for ENV: $VAR still expands, `...` and $(...) do not run.
std::string DoubleQuoteEscaped(const std::string& value) {
  std::string escaped;
  for (std::size_t c = 0; c < value.size(); ++c) {
    const char ch = value[c];
    if (ch == '\\' || ch == '"' || ch == '`') escaped += '\\';
    if (ch == '$' && c + 1 < value.size() && value[c + 1] == '(') {
      escaped += '\\';
    }
    escaped += ch;
  }
  return escaped;
}

// Packs `dir` into the tar file `out` with the host's tar (no shell: the
// paths are arguments). True on success.
bool RunHostTar(const std::string& dir, const std::string& out) {
  const char* argv[] = {"tar",       "-C", dir.c_str(), "-cf",
                        out.c_str(), ".",  nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "tar", nullptr, nullptr,
                     const_cast<char* const*>(argv), environ) != 0) {
    return false;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class BuildFailed : public std::runtime_error {
 public:
  explicit BuildFailed(const std::string& message, std::string step = "")
      : std::runtime_error(message), step_(std::move(step)) {}
  const std::string& step() const { return step_; }

 private:
  std::string step_;
};

}  // namespace

void StartTemplateCommands(const std::shared_ptr<LocalSandbox>& sandbox,
                           const BuildOutputs& outputs,
                           std::chrono::milliseconds timeout) {
  const std::string user_name =
      outputs.user.empty() ? std::string("user") : outputs.user;
  auto user = sandbox->instance->LookupUser(user_name);
  if (!user) {
    throw Failure(Failure::Reason::kInternal,
                  "the template's user '" + user_name + "' does not exist");
  }
  SpawnOptions options;
  options.user = *user;
  options.env = SandboxProcessEnv(*sandbox, *user);
  options.cwd = outputs.workdir;
  if (!outputs.start_cmd.empty()) {
    options.argv = {"/bin/bash", "-l", "-c", outputs.start_cmd};
    try {
      StartUnattendedProcess(sandbox, options, outputs.start_cmd);
    } catch (const std::exception& e) {
      throw Failure(
          Failure::Reason::kInternal,
          std::string("cannot run the template's start command: ") + e.what());
    }
  }
  if (outputs.ready_cmd.empty()) return;
  const auto deadline = Clock::now() + timeout;
  options.argv = {"/bin/bash", "-l", "-c", outputs.ready_cmd};
  for (;;) {
    ExitStatus status;
    try {
      status = RunToEnd(
          *sandbox->instance, options, [](const std::string&) {}, deadline,
          [] { return false; });
    } catch (const std::exception& e) {
      throw Failure(
          Failure::Reason::kInternal,
          std::string("cannot run the template's ready command: ") + e.what());
    }
    if (status.exited && status.exit_code == 0) return;
    if (Clock::now() + kReadyRetry >= deadline) {
      throw Failure(
          Failure::Reason::kInternal,
          "the template's ready command did not succeed within " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(timeout)
                      .count()) +
              " s");
    }
    std::this_thread::sleep_for(kReadyRetry);
  }
}

// One build being executed.
class TemplateBuildService::Run {
 public:
  Run(TemplateBuildService& service, const Job& job)
      : service_(service), job_(job) {}

  void Execute();

 private:
  /// Queues a log line; lines reach the store (and clients polling the
  /// status) in batches, at most kLogFlushEvery after they were logged, so
  /// a chatty step does not rewrite the state file per line. Past
  /// kMaxBuildLogLines lines are only counted.
  void Log(const std::string& level, const std::string& message,
           const std::string& step = "") {
    if (kept_lines_ >= kMaxBuildLogLines) {
      ++dropped_lines_;
      return;
    }
    ++kept_lines_;
    BuildLogRecord entry;
    entry.timestamp_ms = NowMs();
    entry.level = level;
    entry.message = message;
    entry.step = step;
    pending_logs_.push_back(std::move(entry));
    FlushLogsIfDue();
  }

 public:
  /// Writes the queued log lines (and, at the end, how many were dropped).
  void FlushLogs(bool final = false) {
    if (final && dropped_lines_ > 0) {
      BuildLogRecord entry;
      entry.timestamp_ms = NowMs();
      entry.level = "warn";
      entry.message = "(" + std::to_string(dropped_lines_) +
                      " more log lines were not kept)";
      pending_logs_.push_back(std::move(entry));
      dropped_lines_ = 0;
    }
    if (!pending_logs_.empty()) {
      std::vector<BuildLogRecord> batch;
      batch.swap(pending_logs_);
      service_.templates_.AppendBuildLogs(job_.template_id, job_.build_id,
                                          std::move(batch));
    }
    // Counted from the end of the write, so a slow disk is not kept busy.
    last_flush_ = Clock::now();
  }

 private:
  void FlushLogsIfDue() {
    if (pending_logs_.size() >= kLogBatch ||
        Clock::now() - last_flush_ >= kLogFlushEvery) {
      FlushLogs();
    }
  }
  bool Cancelled() {
    std::lock_guard<std::mutex> lock(service_.mu_);
    return service_.stopping_;
  }
  /// Runs `argv` as `user` in the build sandbox; its output goes to the log
  /// under `step`. Returns the exit status.
  ExitStatus Exec(std::vector<std::string> argv, const std::string& user,
                  const std::string& step, bool log_output,
                  std::string* captured = nullptr,
                  std::istream* input = nullptr);
  /// Throws BuildFailed unless the status is a zero exit.
  static void Require(const ExitStatus& status, const std::string& what) {
    if (status.exited && status.exit_code == 0) return;
    throw BuildFailed(what + ": " + status.status);
  }
  void Source();
  /// FromImage: the image's files as a layer (image_layer_) and its config
  /// as the context, from the step cache or an import sandbox.
  void ImportImage(const std::string& ref);
  void Step(std::size_t index, const BuildStepSpec& step);
  void Copy(const BuildStepSpec& step, const std::string& label);
  /// Each step's chain key: the source and every step up to it.
  std::vector<std::string> StepKeys() const;
  /// The whole build's: the last step's key and the start/ready commands.
  std::string CacheKey(const std::vector<std::string>& step_keys) const;
  /// The deepest cached step the build can resume after (E2B's layer
  /// cache); nullopt when it starts from the source.
  std::optional<StepCacheEntry> ResumePoint(
      const std::vector<std::string>& keys, std::size_t& resume) const;
  void LogCached(std::size_t count);
  /// A build sandbox from the source (hidden, a day to live).
  CreateSandboxParams SandboxParams() const {
    CreateSandboxParams params;
    params.template_ref = source_ref_;
    params.timeout_s = 24 * 3600;
    params.internal = true;
    params.metadata = {{"e2b-local.build", job_.build_id}};
    return params;
  }
  void RunStep(const BuildStepSpec& step, const std::string& label);
  void EnvStep(const BuildStepSpec& step, const std::string& label);
  void WorkdirStep(const BuildStepSpec& step, const std::string& label);
  void UserStep(const BuildStepSpec& step, const std::string& label);

  TemplateBuildService& service_;
  const Job& job_;
  std::vector<BuildLogRecord> pending_logs_;
  Clock::time_point last_flush_ = Clock::now();
  std::size_t kept_lines_ = 0, dropped_lines_ = 0;
  std::shared_ptr<LocalSandbox> sandbox_;
  std::string source_ref_;
  std::string source_key_;
  std::string image_layer_;  ///< FromImage: the image's files
  StepContext ctx_;
};

ExitStatus TemplateBuildService::Run::Exec(std::vector<std::string> argv,
                                           const std::string& user_name,
                                           const std::string& step,
                                           bool log_output,
                                           std::string* captured,
                                           std::istream* input) {
  auto user = sandbox_->instance->LookupUser(user_name);
  if (!user) throw BuildFailed("user '" + user_name + "' does not exist");
  SpawnOptions options;
  options.argv = std::move(argv);
  options.user = *user;
  options.env = SandboxProcessEnv(*sandbox_, *user);
  for (const auto& [key, value] : ctx_.env) options.env[key] = value;
  options.cwd = ctx_.workdir.empty() ? user->home : ctx_.workdir;
  return RunToEnd(
      *sandbox_->instance, options,
      [&](const std::string& line) {
        if (captured != nullptr) {
          if (!captured->empty()) *captured += '\n';
          *captured += line;
        }
        if (log_output) Log("info", line, step);
      },
      Clock::now() + kStepTimeout, [this] { return Cancelled(); }, input,
      [this] { FlushLogsIfDue(); });
}

void TemplateBuildService::Run::ImportImage(const std::string& ref) {
  LocalImage image;
  try {
    image = FindLocalImage(service_.images_dir_, ref);
  } catch (const std::runtime_error& e) {
    throw BuildFailed(e.what());
  }
  source_ref_ = kBaseTemplateId;
  source_key_ = "image:" + ref + "@" + image.fingerprint;
  const std::string key = Sha256Hex(source_key_);
  if (!job_.request.force) {
    if (auto cached = service_.templates_.FindStepCache(key)) {
      image_layer_ = cached->layer;
      ctx_.user = cached->context.user;
      ctx_.workdir = cached->context.workdir;
      ctx_.env = cached->context.env_vars;
      Log("info", "CACHED image " + ref, "base");
      return;
    }
  }
  Log("info", "Importing image " + ref + " from " + image.path, "base");
  // A layout directory goes in as one tar the host's tar writes (reading
  // the operator's directory; nothing is unpacked on the host).
  std::string packed;
  const FileRemover remove_packed(packed);
  std::string archive_path = image.path;
  if (image.directory) {
    packed =
        service_.templates_.StateDir() + "/.image-" + RandomHex(8) + ".tar";
    if (!RunHostTar(image.path, packed)) {
      throw BuildFailed("cannot pack the OCI layout " + image.path);
    }
    archive_path = packed;
  }
  std::ifstream archive(archive_path, std::ios::binary);
  if (!archive) throw BuildFailed("cannot read " + archive_path);

  CreateSandboxParams params = SandboxParams();
  params.template_ref = kBaseTemplateId;
  sandbox_ = service_.registry_.Create(params);
  const SandboxKiller kill_on_exit(service_.registry_, sandbox_->id);
  std::string inside;
  Require(Exec({"/bin/sh", "-c",
                "f=$(mktemp /tmp/e2b-image-XXXXXX.tar) && cat > \"$f\" && "
                "echo \"$f\""},
               "root", "base", false, &inside, &archive),
          "cannot copy the image into the import sandbox");
  std::string output;
  Require(Exec({"python3", "-c", kImageImportScript, inside, ref}, "root",
               "base", true, &output),
          "cannot import image " + ref);
  ImageConfig config;
  try {
    config = ParseImageConfig(output);
  } catch (const std::runtime_error& e) {
    throw BuildFailed(e.what());
  }
  image_layer_ = service_.registry_.CaptureRootLayer(sandbox_->id, kImageRoot);
  // As E2B starts an image's steps: its config's variables, directory and
  // user (root when it names none).
  ctx_.user = config.user;
  ctx_.workdir = config.workdir;
  ctx_.env = config.env;
  BuildOutputs context;
  context.user = ctx_.user;
  context.workdir = ctx_.workdir;
  context.env_vars = ctx_.env;
  service_.templates_.AddStepCache(
      StepCacheEntry{key, image_layer_, context, 0});
  sandbox_.reset();
}

void TemplateBuildService::Run::Source() {
  const BuildRequest& req = job_.request;
  if (!req.from_template.empty()) {
    ResolvedTemplate parent = service_.templates_.Resolve(req.from_template);
    source_ref_ = req.from_template;
    source_key_ =
        "template:" + parent.tmpl.template_id + "/" + parent.build.build_id;
    ctx_.user =
        parent.build.outputs.user.empty() ? "user" : parent.build.outputs.user;
    ctx_.workdir = parent.build.outputs.workdir;
    ctx_.env = parent.build.outputs.env_vars;
    Log("info", "Building from template " + req.from_template);
    return;
  }
  if (!IsBaseImage(req.from_image)) {
    ImportImage(req.from_image);
    return;
  }
  source_ref_ = kBaseTemplateId;
  source_key_ = "image:e2bdev/base";
  // As E2B starts the steps of an image: as root, in the user's home.
  ctx_.user = "root";
  Log("info", "Building from the base image (e2bdev/base)");
}

std::vector<std::string> TemplateBuildService::Run::StepKeys() const {
  std::vector<std::string> keys;
  std::string chain = Sha256Hex(source_key_);
  for (const auto& step : job_.request.steps) {
    std::string text;
    HashField(text, chain);
    HashField(text, Upper(step.type));
    HashField(text, std::to_string(step.args.size()));
    for (const auto& arg : step.args) HashField(text, arg);
    HashField(text, step.files_hash);
    chain = Sha256Hex(text);
    keys.push_back(chain);
  }
  return keys;
}

std::string TemplateBuildService::Run::CacheKey(
    const std::vector<std::string>& step_keys) const {
  std::string text;
  HashField(text,
            step_keys.empty() ? Sha256Hex(source_key_) : step_keys.back());
  HashField(text, job_.request.start_cmd);
  HashField(text, job_.request.ready_cmd);
  return Sha256Hex(text);
}

std::optional<StepCacheEntry> TemplateBuildService::Run::ResumePoint(
    const std::vector<std::string>& keys, std::size_t& resume) const {
  resume = 0;
  std::optional<StepCacheEntry> found;
  if (job_.request.force) return found;
  const auto& steps = job_.request.steps;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    // A forced step runs again, and so does every step after it.
    if (steps[i].force) break;
    if (auto entry = service_.templates_.FindStepCache(keys[i])) {
      resume = i + 1;
      found = std::move(entry);
    }
  }
  return found;
}

void TemplateBuildService::Run::LogCached(std::size_t count) {
  const auto& steps = job_.request.steps;
  for (std::size_t i = 0; i < count; ++i) {
    std::string shown = Upper(steps[i].type);
    for (const auto& arg : steps[i].args) shown += " " + arg;
    Log("info",
        "CACHED [" + std::to_string(i + 1) + "/" +
            std::to_string(steps.size()) + "] " + shown,
        std::to_string(i + 1));
  }
}

void TemplateBuildService::Run::Copy(const BuildStepSpec& step,
                                     const std::string& label) {
  if (step.args.size() < 2) {
    throw BuildFailed("COPY needs a source and a destination");
  }
  auto archive_path = service_.files_.PathOf(step.files_hash);
  if (!archive_path) {
    throw BuildFailed("the files of COPY " + step.args[0] +
                      " were not uploaded");
  }
  std::ifstream archive(*archive_path, std::ios::binary);
  if (!archive) throw BuildFailed("cannot read the uploaded files");
  std::string owner = ctx_.user + ":" + ctx_.user;
  if (step.args.size() >= 3 && !step.args[2].empty()) {
    owner = step.args[2];
    if (owner.find(':') == std::string::npos) owner += ":" + owner;
  }
  const std::string mode = step.args.size() >= 4 ? step.args[3] : "";
  // The archive goes in through the sandbox's own `cat`: no host path is
  // ever opened on the sandbox's behalf.
  std::string inside;
  Require(Exec({"/bin/sh", "-c",
                "f=$(mktemp /tmp/e2b-build-XXXXXX.tar) && "
                "cat > \"$f\" && echo \"$f\""},
               "root", label, false, &inside, &archive),
          "cannot copy the files into the build sandbox");
  Require(Exec({"/bin/bash", "-c", kCopyScript, "copy", inside,
                CopySourcePath(step.args[0]), step.args[1], owner, mode,
                ctx_.workdir, ctx_.user},
               "root", label, true),
          "COPY " + step.args[0] + " " + step.args[1] + " failed");
}

void TemplateBuildService::Run::Step(std::size_t index,
                                     const BuildStepSpec& step) {
  const std::string type = Upper(step.type);
  const std::string label = std::to_string(index + 1);
  std::string shown = type;
  for (const auto& arg : step.args) shown += " " + arg;
  Log("info",
      "[" + label + "/" + std::to_string(job_.request.steps.size()) + "] " +
          shown,
      label);
  if (type == "RUN") {
    RunStep(step, label);
  } else if (type == "COPY") {
    Copy(step, label);
  } else if (type == "ENV") {
    EnvStep(step, label);
  } else if (type == "WORKDIR") {
    WorkdirStep(step, label);
  } else if (type == "USER") {
    UserStep(step, label);
  } else {
    throw BuildFailed("unknown step type '" + step.type + "'");
  }
}

void TemplateBuildService::Run::RunStep(const BuildStepSpec& step,
                                        const std::string& label) {
  if (step.args.empty()) throw BuildFailed("RUN needs a command");
  const std::string user =
      step.args.size() >= 2 && !step.args[1].empty() ? step.args[1] : ctx_.user;
  Require(Exec({"/bin/bash", "-l", "-c", step.args[0]}, user, label, true),
          "command '" + step.args[0] + "' failed");
}

void TemplateBuildService::Run::EnvStep(const BuildStepSpec& step,
                                        const std::string& label) {
  if (step.args.empty() || step.args.size() % 2 != 0) {
    throw BuildFailed("ENV needs key and value pairs");
  }
  for (std::size_t i = 0; i + 1 < step.args.size(); i += 2) {
    std::string value;
    Require(
        Exec({"/bin/bash", "-c",
              "printf '%s' \"" + DoubleQuoteEscaped(step.args[i + 1]) + "\""},
             "root", label, false, &value),
        "cannot evaluate " + step.args[i]);
    ctx_.env[step.args[i]] = value;
  }
}

void TemplateBuildService::Run::WorkdirStep(const BuildStepSpec& step,
                                            const std::string& label) {
  if (step.args.empty()) throw BuildFailed("WORKDIR needs a path");
  std::string path = step.args[0];
  if (path.empty() || path[0] != '/') {
    path =
        (ctx_.workdir.empty() ? std::string("/") : ctx_.workdir + "/") + path;
  }
  std::string real;
  Require(Exec({"/bin/bash", "-c", kWorkdirScript, "workdir", path, ctx_.user},
               "root", label, false, &real),
          "cannot create the working directory " + path);
  ctx_.workdir = real.empty() ? path : real;
}

void TemplateBuildService::Run::UserStep(const BuildStepSpec& step,
                                         const std::string& label) {
  if (step.args.empty() || step.args[0].empty()) {
    throw BuildFailed("USER needs a user name");
  }
  const bool sudoer = step.args.size() >= 2 && step.args[1] == "true";
  Require(Exec({"/bin/bash", "-c", kUserScript, "user", step.args[0],
                sudoer ? "true" : "false"},
               "root", label, true),
          "cannot create user " + step.args[0]);
  ctx_.user = step.args[0];
}

void TemplateBuildService::Run::Execute() {
  auto& templates = service_.templates_;
  const BuildRequest& req = job_.request;
  Source();
  const std::vector<std::string> keys = StepKeys();
  const std::string key = CacheKey(keys);
  const bool forced =
      req.force || std::any_of(req.steps.begin(), req.steps.end(),
                               [](const BuildStepSpec& s) { return s.force; });
  if (!forced) {
    if (auto cached = templates.FindCachedBuild(key)) {
      LogCached(req.steps.size());
      // Every line is stored before the status says ready: clients stop
      // reading logs once a ready build has no new ones.
      Log("info", "Build finished (all steps cached)");
      FlushLogs(true);
      templates.FinishBuild(job_.template_id, job_.build_id, cached->layers,
                            cached->outputs, key);
      return;
    }
  }
  std::size_t resume = 0;
  const std::optional<StepCacheEntry> from = ResumePoint(keys, resume);
  CreateSandboxParams params = SandboxParams();
  if (!image_layer_.empty()) {
    params.layers = std::vector<std::string>{image_layer_};
  }
  if (from) {
    params.layers = std::vector<std::string>{from->layer};
    ctx_.user = from->context.user;
    ctx_.workdir = from->context.workdir;
    ctx_.env = from->context.env_vars;
    LogCached(resume);
  }
  sandbox_ = service_.registry_.Create(params);
  const SandboxKiller kill_on_exit(service_.registry_, sandbox_->id);

  const auto context = [this] {
    BuildOutputs out;
    out.user = ctx_.user;
    out.workdir = ctx_.workdir;
    out.env_vars = ctx_.env;
    return out;
  };
  // The layer of the last step run; the cached one (or the image's) when
  // none ran.
  std::string layer = from ? from->layer : image_layer_;
  for (std::size_t i = resume; i < req.steps.size(); ++i) {
    if (Cancelled()) throw BuildFailed("e2b-local stopped during the build");
    try {
      Step(i, req.steps[i]);
    } catch (const BuildFailed& e) {
      throw BuildFailed("step " + std::to_string(i + 1) + ": " + e.what(),
                        std::to_string(i + 1));
    }
    // Every step's result is kept for later builds (the last one's layer is
    // the template's). ENV changes no file: it shares the layer before it.
    if (Upper(req.steps[i].type) != "ENV" ||
        (layer.empty() && i + 1 == req.steps.size())) {
      layer = service_.registry_.CaptureLayer(sandbox_->id).first;
    }
    if (!layer.empty()) {
      templates.AddStepCache(StepCacheEntry{keys[i], layer, context(), 0});
    }
  }
  if (layer.empty()) {
    // No step: the source's files, as a layer of this build.
    layer = service_.registry_.CaptureLayer(sandbox_->id).first;
  }
  BuildOutputs outputs = context();
  outputs.start_cmd = req.start_cmd;
  outputs.ready_cmd = req.ready_cmd;
  // The layer was taken before the start command runs: a sandbox starts it
  // afresh, on the files the steps left.
  if (!req.start_cmd.empty() || !req.ready_cmd.empty()) {
    if (!req.start_cmd.empty()) {
      Log("info", "Running start command: " + req.start_cmd);
    }
    if (!req.ready_cmd.empty()) {
      Log("info", "Waiting for template to be ready: " + req.ready_cmd);
    }
    sandbox_->env_vars.insert(ctx_.env.begin(), ctx_.env.end());
    try {
      StartTemplateCommands(sandbox_, outputs);
    } catch (const Failure& e) {
      throw BuildFailed(e.what());
    }
    Log("info", "Template is ready");
  }
  Log("info", "Build finished");
  FlushLogs(true);
  templates.FinishBuild(job_.template_id, job_.build_id, {layer}, outputs, key);
}

TemplateBuildService::TemplateBuildService(SandboxRegistry& registry,
                                           TemplateStore& templates,
                                           BuildFileStore& files,
                                           std::string images_dir)
    : registry_(registry),
      templates_(templates),
      files_(files),
      images_dir_(images_dir.empty() ? templates.StateDir() + "/images"
                                     : std::move(images_dir)) {
  for (const auto& t : templates_.List()) {
    for (const auto& b : t.builds) {
      if (b.status != "building") continue;
      templates_.SetBuildState(t.template_id, b.build_id, "error", {},
                               "e2b-local stopped during the build");
    }
  }
  worker_ = std::thread([this] { Work(); });
}

TemplateBuildService::~TemplateBuildService() { Shutdown(); }

void TemplateBuildService::Start(const std::string& template_id,
                                 const std::string& build_id,
                                 BuildRequest request) {
  ResolvedTemplate found = templates_.GetBuild(template_id, build_id);
  if (found.build.status != "waiting") {
    throw Failure(Failure::Reason::kConflict,
                  "build '" + build_id + "' was already started");
  }
  if (!request.from_image.empty() && !request.from_template.empty()) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "fromImage and fromTemplate are exclusive");
  }
  for (const auto& step : request.steps) {
    const std::string type = Upper(step.type);
    if (type != "RUN" && type != "COPY" && type != "ENV" && type != "WORKDIR" &&
        type != "USER") {
      throw Failure(Failure::Reason::kInvalidArgument,
                    "unknown step type '" + step.type + "'");
    }
    if (type == "COPY" && !files_.Has(step.files_hash)) {
      throw Failure(Failure::Reason::kInvalidArgument,
                    "the files of COPY step with hash '" + step.files_hash +
                        "' were not uploaded");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    throw Failure(Failure::Reason::kUnavailable, "e2b-local is shutting down");
  }
  templates_.SetBuildState(template_id, build_id, "building");
  queue_.push_back(Job{template_id, build_id, std::move(request)});
  cv_.notify_all();
}

void TemplateBuildService::Shutdown() {
  {
    // The running build sees stopping_ (its commands are killed) and ends.
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
}

void TemplateBuildService::Work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      if (stopping_) {
        lock.unlock();
        try {
          templates_.SetBuildState(job.template_id, job.build_id, "error", {},
                                   "e2b-local stopped before the build ran");
        } catch (const std::exception&) {
        }
        continue;
      }
    }
    Execute(job);
  }
}

void TemplateBuildService::Execute(const Job& job) {
  std::string reason, step;
  Run run(*this, job);
  try {
    run.Execute();
    run.FlushLogs(true);
    return;
  } catch (const BuildFailed& e) {
    reason = e.what();
    step = e.step();
  } catch (const Failure& e) {
    reason = e.what();
  } catch (const std::exception& e) {
    reason = std::string("internal error: ") + e.what();
  }
  try {
    run.FlushLogs(true);
    BuildLogRecord entry;
    entry.timestamp_ms = NowMs();
    entry.level = "error";
    entry.message = "Build failed: " + reason;
    entry.step = step;
    templates_.AppendBuildLog(job.template_id, job.build_id, entry);
    templates_.SetBuildState(job.template_id, job.build_id, "error", {}, reason,
                             step);
  } catch (const std::exception& e) {
    std::cerr << "e2b-local: cannot record the failure of build "
              << job.build_id << ": " << e.what() << "\n";
  }
}

}  // namespace e2b_local
