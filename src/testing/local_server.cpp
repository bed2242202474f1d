#include <e2b/testing/local_server.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>

// Where e2b-local is found when neither the options nor E2B_LOCAL_BIN name
// it; set by the build (src/testing/CMakeLists.txt).
#ifndef E2B_TESTING_INSTALLED_LOCAL_BIN
#define E2B_TESTING_INSTALLED_LOCAL_BIN ""
#endif
#ifndef E2B_TESTING_BUILD_TREE_LOCAL_BIN
#define E2B_TESTING_BUILD_TREE_LOCAL_BIN ""
#endif

namespace e2b::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return "exited with code " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "stopped (status " + std::to_string(status) + ")";
}

std::string RandomKey() {
  unsigned char raw[20] = {};
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  urandom.read(reinterpret_cast<char*>(raw), sizeof raw);
  if (!urandom) {
    throw LocalServerError(LocalServerError::Reason::kStartFailed,
                           "cannot read /dev/urandom for an API key");
  }
  static const char* const digits = "0123456789abcdef";
  std::string key = "e2b_";
  for (unsigned char b : raw) {
    key.push_back(digits[b >> 4]);
    key.push_back(digits[b & 0xF]);
  }
  return key;
}

bool IsExecutable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0 &&
         !std::filesystem::is_directory(path);
}

// Mount points (as this process sees them) at or below `dir`. Removing a
// directory with a live mount below it could reach into the mounted tree
// (a sandbox root the server failed to unmount), so it is kept then.
std::vector<std::string> MountsBelow(const std::string& dir) {
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    if (!(fields >> id >> parent >> dev >> root >> mount_point)) continue;
    if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) {
      found.push_back(mount_point);
    }
  }
  return found;
}

// The URLs and key the server prints on stdout once both listeners are
// bound.
struct StartupLines {
  std::string api_url;
  std::string sandbox_url;
  std::string api_key;
  bool Complete() const {
    return !api_url.empty() && !sandbox_url.empty() && !api_key.empty();
  }
};

StartupLines ParseStartupLines(const std::string& text) {
  StartupLines found;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto take = [&line](const char* prefix, std::string& into) {
      const std::size_t n = std::strlen(prefix);
      if (line.compare(0, n, prefix) == 0) into = line.substr(n);
    };
    take("E2B_API_URL=", found.api_url);
    take("E2B_SANDBOX_URL=", found.sandbox_url);
    take("E2B_API_KEY=", found.api_key);
  }
  return found;
}

}  // namespace

LocalServerError::LocalServerError(Reason reason, const std::string& message)
    : Error("e2b: " + message, 0, message), reason_(reason) {}

struct LocalServer::Impl {
  LocalServerOptions options;
  pid_t pid = -1;
  std::string binary;
  std::string api_url;
  std::string sandbox_url;
  std::string api_key;
  std::string temp_dir;
  std::string state_dir;
  std::string stdout_path;
  std::string stderr_path;
  // Set once the constructor succeeded: a failed Restart keeps the temp
  // dir (the state the test may want to look at) for Stop to remove.
  bool started = false;

  void MakeTempDir();
  void Launch();
  pid_t Fork(std::vector<std::string> args, int out_fd, int err_fd,
             int null_fd) const;
  void WaitForStartupLines();
  [[noreturn]] void FailStart(LocalServerError::Reason reason,
                              const std::string& what);
  std::string StderrTail(std::size_t max_bytes) const;
  void EndProcess(StopMode mode) noexcept;
  void RemoveTempDir() noexcept;
};

std::string LocalServer::DefaultBinary() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("E2B_LOCAL_BIN");
      env != nullptr && *env != '\0') {
    // An explicit choice: no fallback that would hide a typo.
    if (IsExecutable(env)) return env;
    throw LocalServerError(
        LocalServerError::Reason::kBinaryNotFound,
        std::string("E2B_LOCAL_BIN='") + env + "' is not an executable file");
  }
  candidates.emplace_back(E2B_TESTING_INSTALLED_LOCAL_BIN);
  candidates.emplace_back(E2B_TESTING_BUILD_TREE_LOCAL_BIN);
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::istringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (!dir.empty()) candidates.push_back(dir + "/e2b-local");
    }
  }
  std::string tried;
  for (const std::string& candidate : candidates) {
    if (candidate.empty()) continue;
    if (IsExecutable(candidate)) return candidate;
    tried += (tried.empty() ? "" : ", ") + candidate;
  }
  throw LocalServerError(
      LocalServerError::Reason::kBinaryNotFound,
      "no e2b-local executable found (tried " + tried +
          "); build it (-DE2B_BUILD_LOCAL_SERVER=ON), install it, or set "
          "E2B_LOCAL_BIN");
}

LocalServer::LocalServer(LocalServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.Binary.empty()) {
    impl_->binary = DefaultBinary();
  } else if (IsExecutable(impl_->options.Binary)) {
    impl_->binary = impl_->options.Binary;
  } else {
    throw LocalServerError(LocalServerError::Reason::kBinaryNotFound,
                           "e2b-local binary '" + impl_->options.Binary +
                               "' is not an executable file");
  }
  impl_->api_key =
      impl_->options.APIKey.empty() ? RandomKey() : impl_->options.APIKey;
  impl_->MakeTempDir();
  impl_->Launch();
  impl_->started = true;
}

LocalServer::~LocalServer() { Stop(); }
LocalServer::LocalServer(LocalServer&&) noexcept = default;
LocalServer& LocalServer::operator=(LocalServer&& other) noexcept {
  if (this != &other) {
    Stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void LocalServer::Impl::MakeTempDir() {
  std::error_code ec;
  std::string base = std::filesystem::temp_directory_path(ec).string();
  if (ec || base.empty()) base = "/tmp";
  const std::string pattern = base + "/e2b-local-test-XXXXXX";
  std::vector<char> dir(pattern.begin(), pattern.end());
  dir.push_back('\0');
  if (mkdtemp(dir.data()) == nullptr) {
    FailStart(LocalServerError::Reason::kStartFailed,
              "mkdtemp(" + pattern + ") failed: " + std::strerror(errno));
  }
  temp_dir = dir.data();
  state_dir = options.StateDir.empty() ? temp_dir + "/state" : options.StateDir;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    FailStart(LocalServerError::Reason::kStartFailed,
              "cannot create " + state_dir + ": " + ec.message());
  }
  stdout_path = temp_dir + "/e2b-local.stdout";
  stderr_path = temp_dir + "/e2b-local.stderr";
}

void LocalServer::Impl::FailStart(LocalServerError::Reason reason,
                                  const std::string& what) {
  // The log goes into the message before the temp dir holding it goes.
  std::string message = what;
  if (!stderr_path.empty()) {
    message += "; e2b-local stderr (tail):\n" + StderrTail(4000);
  }
  EndProcess(StopMode::kGraceful);
  if (!started) RemoveTempDir();
  throw LocalServerError(reason, message);
}

void LocalServer::Impl::Launch() {
  std::vector<std::string> args = {
      binary, "--host",      "127.0.0.1", "--api-port", "0",    "--envd-port",
      "0",    "--state-dir", state_dir,   "--api-key",  api_key};
  args.insert(args.end(), options.ExtraArgs.begin(), options.ExtraArgs.end());

  const int out_fd =
      open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  // Appended: after a Restart the tail holds both runs.
  const int err_fd = open(stderr_path.c_str(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int open_errno = errno;
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    for (int fd : {out_fd, err_fd, null_fd}) {
      if (fd >= 0) close(fd);
    }
    FailStart(LocalServerError::Reason::kStartFailed,
              std::string("cannot open the server's log files: ") +
                  std::strerror(open_errno));
  }
  const pid_t child = Fork(std::move(args), out_fd, err_fd, null_fd);
  const int fork_errno = errno;
  close(out_fd);
  close(err_fd);
  close(null_fd);
  if (child < 0) {
    FailStart(LocalServerError::Reason::kStartFailed,
              std::string("fork failed: ") + std::strerror(fork_errno));
  }
  pid = child;
  WaitForStartupLines();
}

pid_t LocalServer::Impl::Fork(std::vector<std::string> args, int out_fd,
                              int err_fd, int null_fd) const {
  // Everything the child needs is prepared before fork: only
  // async-signal-safe calls may run between fork and exec.
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child == 0) {
    // Die with the test process even when it crashes before teardown.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    // Its own process group, so whatever it leaves behind can be found.
    setpgid(0, 0);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return child;
}

void LocalServer::Impl::WaitForStartupLines() {
  const auto deadline = Clock::now() + options.StartupTimeout;
  StartupLines lines;
  for (;;) {
    lines = ParseStartupLines(ReadWholeFile(stdout_path));
    if (lines.Complete()) break;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      FailStart(LocalServerError::Reason::kStartFailed,
                "e2b-local (" + binary + ") " + DescribeWaitStatus(status) +
                    " before printing its URLs");
    }
    if (Clock::now() > deadline) {
      FailStart(LocalServerError::Reason::kStartTimeout,
                "e2b-local (" + binary +
                    ") did not print E2B_API_URL/E2B_SANDBOX_URL/E2B_API_KEY "
                    "within " +
                    std::to_string(options.StartupTimeout.count()) + " ms");
    }
    std::this_thread::sleep_for(20ms);
  }
  if (lines.api_key != api_key) {
    FailStart(LocalServerError::Reason::kStartFailed,
              "e2b-local printed an API key other than the one passed with "
              "--api-key");
  }
  if (lines.api_url.rfind("http://127.0.0.1:", 0) != 0 ||
      lines.sandbox_url.rfind("http://127.0.0.1:", 0) != 0) {
    FailStart(LocalServerError::Reason::kStartFailed,
              "e2b-local printed unexpected URLs: " + lines.api_url + " and " +
                  lines.sandbox_url);
  }
  api_url = lines.api_url;
  sandbox_url = lines.sandbox_url;
}

std::string LocalServer::Impl::StderrTail(std::size_t max_bytes) const {
  if (stderr_path.empty()) return "(no log)";
  std::string all = ReadWholeFile(stderr_path);
  if (all.size() > max_bytes) all = "..." + all.substr(all.size() - max_bytes);
  return all;
}

void LocalServer::Impl::EndProcess(StopMode mode) noexcept {
  if (pid <= 0) return;
  if (mode == StopMode::kCrash) {
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    // What it started goes too, as a machine's crash would take it.
    kill(-pid, SIGKILL);
    pid = -1;
    return;
  }
  kill(pid, SIGTERM);
  const auto deadline = Clock::now() + options.StopTimeout;
  int status = 0;
  bool reaped = false;
  while (Clock::now() < deadline) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      reaped = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  if (!reaped) {
    std::cerr << "e2b-local ignored SIGTERM for " << options.StopTimeout.count()
              << " ms; sending SIGKILL\n";
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    std::cerr << "e2b-local did not exit cleanly on SIGTERM: "
              << DescribeWaitStatus(status) << "\n";
  }
  // Anything still in the server's process group outlived it: report the
  // leak, then make sure it does not outlive the test either.
  if (kill(-pid, 0) == 0) {
    std::cerr << "e2b-local left processes behind in its process group; "
                 "killing them\n";
    kill(-pid, SIGKILL);
  }
  pid = -1;
}

void LocalServer::Impl::RemoveTempDir() noexcept {
  if (temp_dir.empty()) return;
  if (options.KeepTempDir || std::getenv("E2B_TESTING_KEEP_TMP") != nullptr) {
    std::cerr << "keeping e2b-local's temp dir " << temp_dir << "\n";
  } else if (auto mounts = MountsBelow(temp_dir); !mounts.empty()) {
    std::cerr << "not removing " << temp_dir << ": " << mounts.size()
              << " mount(s) still below it, first " << mounts.front() << "\n";
  } else {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir, ec);
    if (ec) {
      std::cerr << "cannot remove " << temp_dir << ": " << ec.message() << "\n";
    }
  }
  temp_dir.clear();
}

const std::string& LocalServer::APIURL() const { return impl_->api_url; }
const std::string& LocalServer::SandboxURL() const {
  return impl_->sandbox_url;
}
const std::string& LocalServer::APIKey() const { return impl_->api_key; }
const std::string& LocalServer::TempDir() const { return impl_->temp_dir; }
const std::string& LocalServer::StateDir() const { return impl_->state_dir; }
pid_t LocalServer::Pid() const { return impl_ ? impl_->pid : -1; }

bool LocalServer::Running() const {
  if (!impl_ || impl_->pid <= 0) return false;
  // Signal 0 sees a zombie as alive: ask waitpid without reaping it.
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(impl_->pid), &info,
             WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  return info.si_pid == 0;
}

ClientConfig LocalServer::MakeClientConfig() const {
  ClientConfig cfg;
  cfg.APIKey = impl_->api_key;
  cfg.APIBaseURL = impl_->api_url;
  cfg.SandboxURL = impl_->sandbox_url;
  return cfg;
}

Client LocalServer::NewClient() const {
  return e2b::NewClient(MakeClientConfig());
}

std::string LocalServer::StderrTail(std::size_t max_bytes) const {
  return impl_ ? impl_->StderrTail(max_bytes) : "(no log)";
}

void LocalServer::Restart(StopMode mode) {
  impl_->EndProcess(mode);
  impl_->api_url.clear();
  impl_->sandbox_url.clear();
  impl_->Launch();
}

void LocalServer::Stop() noexcept {
  if (!impl_) return;
  impl_->EndProcess(StopMode::kGraceful);
  impl_->RemoveTempDir();
}

}  // namespace e2b::testing
