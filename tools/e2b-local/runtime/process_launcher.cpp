#include "runtime/process_launcher.hpp"

#include "runtime/init_protocol.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>

namespace e2b_local::runtime_internal {
namespace {

// What the launcher children report on the status pipe. Each message is
// written with one write() well under PIPE_BUF, so it arrives whole.
enum MessageKind : int {
  kHostPid = 1,   // helper: host pid of the command process
  kSandboxPid,    // command: its pid inside the sandbox's PID namespace
  kCgroupFailed,  // errno
  kSetnsFailed,   // errno
  kForkFailed,    // errno
  kStdioFailed,   // errno
  kCredFailed,    // errno
  kChdirFailed,   // errno
  kExecFailed,    // errno
};

struct LaunchMessage {
  int kind;
  int value;
};

void Report(int fd, int kind, int value) {
  LaunchMessage message{kind, value};
  while (write(fd, &message, sizeof message) < 0 && errno == EINTR) {
  }
}

// Handlers, ignored signals and the blocked mask survive fork (and ignored
// signals survive exec), so a command must not inherit the server's.
void ResetSignals() {
  struct sigaction action {};
  std::memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    sigaction(signo, &action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

std::string ErrnoText(int err) { return std::strerror(err); }

// A pidfd makes Signal() immune to pid reuse after the command ends; -1
// where the kernel headers have no pidfd_open (Signal() then uses kill()).
int OpenPidfd(pid_t target) {
  int pidfd = -1;
#ifdef SYS_pidfd_open
  pidfd = static_cast<int>(syscall(SYS_pidfd_open, target, 0));
  if (pidfd >= 0) fcntl(pidfd, F_SETFD, FD_CLOEXEC);
#else
  (void)target;
#endif
  return pidfd;
}

class PosixProcess : public SandboxProcess {
 public:
  PosixProcess(pid_t helper, pid_t target, std::uint32_t pid, int stdin_fd,
               int stdout_fd, int stderr_fd, int pty_fd)
      : helper_(helper),
        target_(target),
        pid_(pid),
        pidfd_(OpenPidfd(target)),
        stdin_fd_(stdin_fd),
        stdout_fd_(stdout_fd),
        stderr_fd_(stderr_fd),
        pty_fd_(pty_fd) {}
  PosixProcess(const PosixProcess&) = delete;
  PosixProcess& operator=(const PosixProcess&) = delete;

  ~PosixProcess() override {
    bool reaped = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reaped = reaped_ || waiting_;
    }
    if (!reaped) {
      SendSignal(SIGKILL);
      int status = 0;
      if (waitpid(helper_, &status, WNOHANG) == 0) {
        // Still stopping (e.g. frozen): reap in the background so no
        // zombie stays behind.
        pid_t helper = helper_;
        std::thread([helper] {
          int st = 0;
          while (waitpid(helper, &st, 0) < 0 && errno == EINTR) {
          }
        }).detach();
      }
    }
    CloseFd(stdin_fd_);
    CloseFd(stdout_fd_);
    CloseFd(stderr_fd_);
    CloseFd(pty_fd_);
    CloseFd(pidfd_);
  }

  std::uint32_t Pid() const override { return pid_; }
  int StdoutFd() const override { return stdout_fd_; }
  int StderrFd() const override { return stderr_fd_; }
  int PtyFd() const override { return pty_fd_; }

  bool WriteInput(const std::string& data) override {
    std::lock_guard<std::mutex> lock(input_mu_);
    return WriteAllNoSigpipe(stdin_fd_ >= 0 ? stdin_fd_ : pty_fd_, data);
  }

  void CloseStdin() override {
    std::lock_guard<std::mutex> lock(input_mu_);
    CloseFd(stdin_fd_);
  }

  void Signal(int signo) override { SendSignal(signo); }

  bool Resize(std::uint16_t cols, std::uint16_t rows) override {
    return ResizePty(pty_fd_, cols, rows);
  }

  ExitStatus Wait() override {
    std::unique_lock<std::mutex> lock(mu_);
    if (reaped_) return status_;
    if (waiting_) {
      cv_.wait(lock, [this] { return reaped_; });
      return status_;
    }
    waiting_ = true;
    lock.unlock();
    int status = 0;
    pid_t r = 0;
    do {
      r = waitpid(helper_, &status, 0);
    } while (r < 0 && errno == EINTR);
    ExitStatus result;
    if (r < 0) {
      result.exited = false;
      result.exit_code = -1;
      result.status = "wait failed: " + ErrnoText(errno);
    } else {
      result = DescribeWaitStatus(status);
    }
    lock.lock();
    status_ = result;
    reaped_ = true;
    cv_.notify_all();
    return status_;
  }

 private:
  void SendSignal(int signo) {
    std::lock_guard<std::mutex> lock(mu_);
    // After the helper is reaped the command is gone too and its pid may
    // belong to someone else.
    if (reaped_) return;
#ifdef SYS_pidfd_send_signal
    if (pidfd_ >= 0) {
      syscall(SYS_pidfd_send_signal, pidfd_, signo, nullptr, 0);
      return;
    }
#endif
    kill(target_, signo);
  }

  const pid_t helper_;
  const pid_t target_;
  const std::uint32_t pid_;
  int pidfd_ = -1;
  int stdin_fd_, stdout_fd_, stderr_fd_, pty_fd_;

  std::mutex input_mu_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool waiting_ = false;
  bool reaped_ = false;
  ExitStatus status_;
};

// Everything the children need, allocated before fork(). Moved, never
// copied: argv and envp point into the storage.
struct LaunchPlan {
  LaunchPlan() = default;
  LaunchPlan(LaunchPlan&&) = default;
  LaunchPlan(const LaunchPlan&) = delete;
  LaunchPlan& operator=(const LaunchPlan&) = delete;
  ~LaunchPlan() = default;

  std::vector<std::string> argv_storage, env_storage, ns_paths;
  std::vector<char*> argv, envp;
  std::vector<std::string> cgroup_attach;
  std::string cwd;
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  bool pty = false;
};

// Moves fd to a number >= 10 so that dup2 onto 0..2 never clobbers
// another source descriptor.
int Lift(int fd) { return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10); }

[[noreturn]] void RunCommand(const LaunchPlan& plan, int status_fd, int in_fd,
                             int out_fd, int err_fd) {
  ResetSignals();
  setsid();
  int in = Lift(in_fd), out = Lift(out_fd), err = Lift(err_fd);
  if (in < 0 || out < 0 || err < 0) {
    Report(status_fd, kStdioFailed, errno);
    _exit(127);
  }
  if (plan.pty) {
    // The slave becomes the controlling terminal of the new session.
    if (ioctl(in, TIOCSCTTY, 0) < 0) {
      Report(status_fd, kStdioFailed, errno);
      _exit(127);
    }
  }
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
    Report(status_fd, kStdioFailed, errno);
    _exit(127);
  }
  Report(status_fd, kSandboxPid, static_cast<int>(getpid()));
  if (plan.switch_user) {
    gid_t groups[1] = {plan.gid};
    if (setgroups(1, groups) < 0 || setgid(plan.gid) < 0 ||
        setuid(plan.uid) < 0) {
      Report(status_fd, kCredFailed, errno);
      _exit(127);
    }
  }
  if (chdir(plan.cwd.c_str()) < 0) {
    Report(status_fd, kChdirFailed, errno);
    _exit(127);
  }
  execve("/bin/sh", plan.argv.data(), plan.envp.data());
  Report(status_fd, kExecFailed, errno);
  _exit(127);
}

// Writes "0" to each cgroup file: the helper, and so the command it
// forks, joins the sandbox's cgroups.
void JoinCgroups(const LaunchPlan& plan, int status_fd) {
  for (const auto& path : plan.cgroup_attach) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) {
      Report(status_fd, kCgroupFailed, errno);
      _exit(127);
    }
    close(fd);
  }
}

// Enters the namespaces of the sandbox's init, every descriptor opened
// before the first setns.
void JoinNamespaces(const LaunchPlan& plan, int status_fd) {
  if (plan.ns_paths.empty()) return;
  int ns_fds[8];
  std::size_t count = std::min<std::size_t>(plan.ns_paths.size(), 8);
  for (std::size_t i = 0; i < count; ++i) {
    ns_fds[i] = open(plan.ns_paths[i].c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fds[i] < 0) {
      Report(status_fd, kSetnsFailed, errno);
      _exit(127);
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (setns(ns_fds[i], 0) < 0) {
      Report(status_fd, kSetnsFailed, errno);
      _exit(127);
    }
    close(ns_fds[i]);
  }
}

// Waits for the command and ends the same way: same exit code, same fatal
// signal (without a core file of the helper's own).
[[noreturn]] void MirrorEnd(pid_t child) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) _exit(127);
  }
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  int signo = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  kill(getpid(), signo);
  _exit(128 + signo);
}

// The helper joins the sandbox (cgroups, namespaces), forks the command
// and mirrors its end.
[[noreturn]] void RunHelper(const LaunchPlan& plan, int status_fd, int in_fd,
                            int out_fd, int err_fd) {
  ResetSignals();
  setsid();
  int keep[4] = {status_fd, in_fd, out_fd, err_fd};
  CloseDescriptorsExcept(keep, 4);
  JoinCgroups(plan, status_fd);
  JoinNamespaces(plan, status_fd);
  pid_t child = fork();
  if (child < 0) {
    Report(status_fd, kForkFailed, errno);
    _exit(127);
  }
  if (child == 0) RunCommand(plan, status_fd, in_fd, out_fd, err_fd);
  Report(status_fd, kHostPid, static_cast<int>(child));
  close(status_fd);
  close(in_fd);
  if (out_fd != in_fd) close(out_fd);
  if (err_fd != in_fd && err_fd != out_fd) close(err_fd);
  MirrorEnd(child);
}

struct Pipe {
  int read = -1, write = -1;
  void Open() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
      throw SpawnError("internal", "pipe: " + ErrnoText(errno));
    }
    read = fds[0];
    write = fds[1];
  }
  void Close() {
    CloseFd(read);
    CloseFd(write);
  }
};

// Opens a PTY master on ptmx_path (falling back to the host's) and its
// slave through TIOCGPTPEER, so no slave path lookup is needed.
void OpenPty(const std::string& ptmx_path, std::uint16_t cols,
             std::uint16_t rows, int& master, int& slave) {
  master = open(ptmx_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    throw SpawnError("internal", "open ptmx: " + ErrnoText(errno));
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
    int err = errno;
    close(master);
    throw SpawnError("internal", "unlock pty: " + ErrnoText(err));
  }
  slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int err = errno;
    close(master);
    throw SpawnError("internal", "open pty slave: " + ErrnoText(err));
  }
  struct winsize size {};
  std::memset(&size, 0, sizeof size);
  size.ws_col = cols;
  size.ws_row = rows;
  ioctl(master, TIOCSWINSZ, &size);
}

std::string ChildFailure(int kind, int err) {
  std::string reason = ErrnoText(err);
  switch (kind) {
    case kCgroupFailed:
      return "joining the sandbox cgroup failed: " + reason;
    case kSetnsFailed:
      return "entering the sandbox namespaces failed: " + reason;
    case kForkFailed:
      return "fork in the sandbox failed: " + reason;
    case kStdioFailed:
      return "setting up stdio failed: " + reason;
    case kCredFailed:
      return "switching user failed: " + reason;
    case kExecFailed:
      return "exec /bin/sh failed: " + reason;
    default:
      return "process start failed: " + reason;
  }
}

// The plan for a checked command: argv and envp point into their storage,
// the namespaces to join are those of the sandbox's init.
LaunchPlan MakeLaunchPlan(const SpawnOptions& options,
                          const LaunchTarget& target) {
  PreparedCommand command = PrepareCommand(options);
  LaunchPlan plan;
  plan.argv_storage = std::move(command.argv);
  plan.env_storage = std::move(command.env);
  plan.cwd = std::move(command.cwd);
  for (auto& arg : plan.argv_storage) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  for (auto& entry : plan.env_storage) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  plan.switch_user = target.switch_user;
  plan.uid = options.user.uid;
  plan.gid = options.user.gid;
  plan.pty = options.pty;
  plan.cgroup_attach = target.cgroup_attach;
  if (target.init_pid > 0) {
    // mnt last: after it the /proc paths of the host are out of reach (the
    // descriptors are all opened first anyway).
    for (const char* ns : {"ipc", "uts", "net", "pid", "mnt"}) {
      plan.ns_paths.push_back("/proc/" + std::to_string(target.init_pid) +
                              "/ns/" + ns);
    }
  }
  return plan;
}

// The descriptors of one launch: the parent's ends stay, the child's ends
// are closed after fork. All are O_CLOEXEC so concurrent launches do not
// leak them.
struct LaunchFds {
  Pipe status, in, out, err;
  int master = -1, slave = -1;
  int child_in = -1, child_out = -1, child_err = -1;
  int parent_in = -1, parent_out = -1, parent_err = -1;

  // A PTY, or pipes (stdin from /dev/null without stdin_pipe); throws
  // SpawnError after closing what it opened.
  void Open(const SpawnOptions& options, const std::string& ptmx_path) {
    try {
      status.Open();
      if (options.pty) {
        OpenPty(ptmx_path, options.cols, options.rows, master, slave);
        child_in = child_out = child_err = slave;
      } else {
        OpenPipes(options.stdin_pipe);
      }
    } catch (...) {
      status.Close();
      in.Close();
      out.Close();
      err.Close();
      if (master >= 0) close(master);
      if (slave >= 0) close(slave);
      throw;
    }
  }

  void OpenPipes(bool stdin_pipe) {
    if (stdin_pipe) {
      in.Open();
      child_in = in.read;
      parent_in = in.write;
    } else {
      child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (child_in < 0) {
        throw SpawnError("internal", "open /dev/null: " + ErrnoText(errno));
      }
      in.read = child_in;
    }
    out.Open();
    err.Open();
    child_out = out.write;
    child_err = err.write;
    parent_out = out.read;
    parent_err = err.read;
  }

  // In the parent after fork: the children hold their ends now.
  void CloseChildEnds(bool pty) {
    CloseFd(status.write);
    if (pty) {
      CloseFd(slave);
    } else {
      CloseFd(in.read);
      CloseFd(out.write);
      CloseFd(err.write);
    }
  }

  // When the launch fails after fork.
  void CloseParentEnds() {
    CloseFd(status.read);
    if (parent_in >= 0) close(parent_in);
    if (parent_out >= 0) close(parent_out);
    if (parent_err >= 0) close(parent_err);
    if (master >= 0) close(master);
  }
};

// Forks the helper (which runs the command); throws SpawnError when fork
// fails.
pid_t ForkHelper(const LaunchPlan& plan, LaunchFds& fds) {
  pid_t helper = fork();
  if (helper == 0) {
    close(fds.status.read);
    RunHelper(plan, fds.status.write, fds.child_in, fds.child_out,
              fds.child_err);
  }
  int fork_errno = errno;
  fds.CloseChildEnds(plan.pty);
  if (helper < 0) {
    fds.CloseParentEnds();
    throw SpawnError("internal", "fork: " + ErrnoText(fork_errno));
  }
  return helper;
}

// What the launcher children reported before exec closed the status pipe.
struct LaunchReport {
  pid_t host_pid = 0;
  long sandbox_pid = -1;
  int fail_kind = 0, fail_errno = 0;  ///< the first failure reported
  bool timed_out = false;

  bool Succeeded() const {
    return !timed_out && fail_kind == 0 && host_pid > 0 && sandbox_pid > 0;
  }
};

// Reads the children's reports until exec closes the pipe. A bound keeps a
// wedged sandbox (e.g. frozen) from hanging the caller forever.
LaunchReport ReadLaunchReports(int status_fd) {
  LaunchReport report;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      report.timed_out = true;
      break;
    }
    struct pollfd pfd = {status_fd, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    LaunchMessage message{};
    ssize_t n = read(status_fd, &message, sizeof message);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof message)) break;  // EOF: exec'd
    if (message.kind == kHostPid) {
      report.host_pid = message.value;
    } else if (message.kind == kSandboxPid) {
      report.sandbox_pid = message.value;
    } else if (report.fail_kind == 0) {
      report.fail_kind = message.kind;
      report.fail_errno = message.value;
    }
  }
  return report;
}

// The SpawnError for a launch that did not succeed: a bad cwd is the
// caller's, anything else internal.
SpawnError LaunchFailure(const LaunchReport& report, const std::string& cwd) {
  if (report.fail_kind == kChdirFailed) {
    return DescribeSpawnFailure(init_protocol::kStageChdir, report.fail_errno,
                                cwd);
  }
  if (report.timed_out) {
    return SpawnError("internal", "process start timed out");
  }
  if (report.fail_kind != 0) {
    return SpawnError("internal",
                      ChildFailure(report.fail_kind, report.fail_errno));
  }
  return SpawnError("internal", "process start failed: the sandbox is gone");
}

// Kills and reaps what was started, closes the parent's ends and throws
// the failure.
[[noreturn]] void AbandonLaunch(pid_t helper, const LaunchReport& report,
                                LaunchFds& fds, const std::string& cwd) {
  if (report.host_pid > 0) kill(report.host_pid, SIGKILL);
  kill(helper, SIGKILL);
  int st = 0;
  while (waitpid(helper, &st, 0) < 0 && errno == EINTR) {
  }
  fds.CloseParentEnds();
  throw LaunchFailure(report, cwd);
}

// "key=value" for the command's environment; invalid_argument for a name
// that is empty or has '=' or a NUL, or a value with a NUL.
std::string EnvironmentEntry(const std::string& key, const std::string& value) {
  if (key.empty() || key.find('=') != std::string::npos ||
      key.find('\0') != std::string::npos ||
      value.find('\0') != std::string::npos) {
    throw SpawnError("invalid_argument",
                     "invalid environment variable name '" + key + "'");
  }
  return key + "=" + value;
}

}  // namespace

PreparedCommand PrepareCommand(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    throw SpawnError("invalid_argument", "empty command");
  }
  PreparedCommand command;
  command.argv = {"/bin/sh", "-c", R"(exec "$0" "$@")"};
  for (const auto& arg : options.argv) {
    if (arg.find('\0') != std::string::npos) {
      throw SpawnError("invalid_argument", "argument contains a NUL byte");
    }
    command.argv.push_back(arg);
  }
  for (const auto& [key, value] : options.env) {
    command.env.push_back(EnvironmentEntry(key, value));
  }
  command.cwd = options.cwd.empty() ? options.user.home : options.cwd;
  if (command.cwd.empty()) command.cwd = "/";
  if (command.cwd.find('\0') != std::string::npos) {
    throw SpawnError("invalid_argument", "cwd contains a NUL byte");
  }
  return command;
}

SpawnError DescribeSpawnFailure(int stage, int error_number,
                                const std::string& cwd) {
  const std::string reason = ErrnoText(error_number);
  switch (stage) {
    case init_protocol::kStageChdir:
      if (error_number == ENOENT || error_number == ENOTDIR) {
        return SpawnError("invalid_argument",
                          "cwd '" + cwd + "' does not exist");
      }
      return SpawnError("invalid_argument",
                        "cwd '" + cwd + "' is not accessible: " + reason);
    case init_protocol::kStageFork:
      return SpawnError("internal", "fork in the sandbox failed: " + reason);
    case init_protocol::kStagePty:
      return SpawnError("internal", "opening a terminal failed: " + reason);
    case init_protocol::kStageStdio:
      return SpawnError("internal", "setting up stdio failed: " + reason);
    case init_protocol::kStageCredentials:
      return SpawnError("internal", "switching user failed: " + reason);
    case init_protocol::kStageExec:
      return SpawnError("internal", "exec /bin/sh failed: " + reason);
    default:
      return SpawnError("internal", "process start failed: " + reason);
  }
}

bool WriteAllNoSigpipe(int fd, const std::string& data) {
  if (fd < 0) return false;
  // A reader that went away must yield EPIPE here, not kill the server.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  bool ok = true;
  std::size_t offset = 0;
  while (offset < data.size()) {
    ssize_t n = write(fd, data.data() + offset, data.size() - offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, nullptr, &zero);
      }
      ok = false;
      break;
    }
    offset += static_cast<std::size_t>(n);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  return ok;
}

bool ResizePty(int fd, std::uint16_t cols, std::uint16_t rows) {
  if (fd < 0) return false;
  struct winsize size {};
  std::memset(&size, 0, sizeof size);
  size.ws_col = cols;
  size.ws_row = rows;
  return ioctl(fd, TIOCSWINSZ, &size) == 0;
}

void CloseDescriptorsExcept(const int* keep, int count) {
  int sorted[16];
  int n = 0;
  for (int i = 0; i < count && n < 16; ++i) {
    if (keep[i] >= 3) sorted[n++] = keep[i];
  }
  // Insertion sort: no library calls that might allocate.
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; --j) {
      int t = sorted[j];
      sorted[j] = sorted[j - 1];
      sorted[j - 1] = t;
    }
  }
  unsigned int low = 3;
  for (int i = 0; i <= n; ++i) {
    unsigned int high = i < n ? static_cast<unsigned int>(sorted[i]) : ~0U;
    if (high > low) {
      unsigned int last = i < n ? high - 1 : ~0U;
#ifdef SYS_close_range
      if (syscall(SYS_close_range, low, last, 0) == 0) {
        low = i < n ? high + 1 : low;
        continue;
      }
#endif
      unsigned int stop = i < n ? last : 65535U;
      for (unsigned int fd = low; fd <= stop; ++fd) close(static_cast<int>(fd));
    }
    if (i < n) low = static_cast<unsigned int>(sorted[i]) + 1;
  }
}

ExitStatus DescribeWaitStatus(int wait_status) {
  ExitStatus result;
  if (WIFEXITED(wait_status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(wait_status);
    result.status = "exit status " + std::to_string(result.exit_code);
    return result;
  }
  result.exited = false;
  result.exit_code = -1;
  if (!WIFSIGNALED(wait_status)) {
    result.status = "unknown wait status " + std::to_string(wait_status);
    return result;
  }
  // Go's names (syscall.Signal.String), which clients show to users.
  static const std::pair<int, const char*> kNames[] = {
      {SIGHUP, "hangup"},
      {SIGINT, "interrupt"},
      {SIGQUIT, "quit"},
      {SIGILL, "illegal instruction"},
      {SIGTRAP, "trace/breakpoint trap"},
      {SIGABRT, "aborted"},
      {SIGBUS, "bus error"},
      {SIGFPE, "floating point exception"},
      {SIGKILL, "killed"},
      {SIGUSR1, "user defined signal 1"},
      {SIGSEGV, "segmentation fault"},
      {SIGUSR2, "user defined signal 2"},
      {SIGPIPE, "broken pipe"},
      {SIGALRM, "alarm clock"},
      {SIGTERM, "terminated"},
      {SIGXCPU, "CPU time limit exceeded"},
      {SIGXFSZ, "file size limit exceeded"},
      {SIGVTALRM, "virtual timer expired"},
      {SIGPROF, "profiling timer expired"},
      {SIGSYS, "bad system call"},
  };
  int signo = WTERMSIG(wait_status);
  std::string name = "signal " + std::to_string(signo);
  for (const auto& entry : kNames) {
    if (entry.first == signo) name = entry.second;
  }
  result.status = "signal: " + name;
  if (WCOREDUMP(wait_status)) result.status += " (core dumped)";
  return result;
}

std::unique_ptr<SandboxProcess> LaunchProcess(const SpawnOptions& options,
                                              const LaunchTarget& target) {
  const LaunchPlan plan = MakeLaunchPlan(options, target);
  LaunchFds fds;
  fds.Open(options, target.ptmx_path);
  const pid_t helper = ForkHelper(plan, fds);
  const LaunchReport report = ReadLaunchReports(fds.status.read);
  if (!report.Succeeded()) AbandonLaunch(helper, report, fds, plan.cwd);
  CloseFd(fds.status.read);
  return std::make_unique<PosixProcess>(
      helper, report.host_pid, static_cast<std::uint32_t>(report.sandbox_pid),
      fds.parent_in, fds.parent_out, fds.parent_err, fds.master);
}

}  // namespace e2b_local::runtime_internal
