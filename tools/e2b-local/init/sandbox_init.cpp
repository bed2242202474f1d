// e2b-sandbox-init: PID 1 of one sandbox.
//
// e2b-local clones a child into new user, mount, PID, UTS, IPC, network and
// cgroup namespaces, maps its ids, and that child execs this program at
// once, with a clean environment and only the control socket open (fd 3).
// Nothing of the server's memory survives the exec. This program then
//   1. reads its configuration from the socket (the hostname; the server
//      starts it in the sandbox's root directory, the overlay it mounted),
//   2. builds the sandbox's view: private /proc (sensitive files masked),
//      read-only /sys, a minimal /dev with its own devpts, and pivots into
//      the root, detaching every host mount,
//   3. installs the seccomp filter and drops to the container capability
//      set, which every command inherits,
//   4. serves the server: starts commands (as the asked user, with the
//      descriptors the server passes), signals them, reports how they end,
//      and reaps orphans, until the socket closes.
//
// It runs inside the sandbox, so code in the sandbox may take it over; it
// holds nothing the sandbox may not have, and the server trusts none of
// its answers (see runtime/init_protocol.hpp).

#include "init/confinement.hpp"
#include "runtime/init_protocol.hpp"

#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

namespace proto = e2b_local::init_protocol;
using proto::Kind;
using proto::Message;

constexpr int kCtl = proto::kControlFd;

void Send(const Message& message, int fd_to_pass = -1) {
  proto::SendMessage(kCtl, message, &fd_to_pass, fd_to_pass >= 0 ? 1 : 0);
}

[[noreturn]] void FailSetup(int stage) {
  Message ready;
  ready.kind = Kind::kReady;
  ready.a = stage;
  ready.b = errno;
  Send(ready);
  _exit(1);
}

// One datagram and up to `max_fds` descriptors; false on EOF or error. A
// message that had to be dropped comes back as an empty one.
bool Receive(char* buffer, std::size_t size, Message& message,
             std::vector<int>& fds, std::size_t max_fds) {
  message = Message{};
  return proto::ReceiveMessage(kCtl, buffer, size, message, fds, max_fds) !=
         proto::Received::kClosed;
}

void MakeDir(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    // Reported by the mount that follows.
  }
}

// A file to bind something onto (device nodes, masks).
bool MakeFile(const std::string& path) {
  int fd =
      open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return false;
  close(fd);
  return true;
}

// Binds `source` onto `target` read-only. The remount keeps the flags the
// kernel locked on the source (nosuid, nodev, noexec), or it is refused.
bool BindReadOnly(const char* source, const char* target,
                  unsigned long locked) {
  if (mount(source, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return false;
  }
  return mount(nullptr, target, nullptr,
               MS_BIND | MS_REMOUNT | MS_RDONLY | locked, nullptr) == 0;
}

void SetupView(const std::string& root, const std::string& hostname) {
  // Nothing mounted from here on may propagate back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    FailSetup(proto::kInitPrivate);
  }
  if (sethostname(hostname.data(), hostname.size()) != 0) {
    FailSetup(proto::kInitHostname);
  }
  // Every sandbox has its own network namespace; its loopback works.
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq request {};
  std::memset(&request, 0, sizeof request);
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  request.ifr_flags = IFF_UP | IFF_RUNNING;
  if (sock < 0 || ioctl(sock, SIOCSIFFLAGS, &request) != 0) {
    FailSetup(proto::kInitLoopback);
  }
  close(sock);
  const std::string proc = root + "/proc", sys = root + "/sys",
                    dev = root + "/dev";
  MakeDir(proc, 0555);
  if (mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0) {
    FailSetup(proto::kInitProc);
  }
  // Read-only and only this network namespace's view; optional, since
  // nothing needs it to start.
  MakeDir(sys, 0555);
  mount("sysfs", sys.c_str(), "sysfs",
        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  MakeDir(dev, 0755);
  if (mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC,
            "mode=0755,size=65536k") != 0) {
    FailSetup(proto::kInitDev);
  }
  for (const char* name :
       {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string host = std::string("/dev/") + name;
    std::string target = dev + "/" + name;
    if (!MakeFile(target) ||
        mount(host.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      FailSetup(proto::kInitDev);
    }
  }
  const std::string pts = dev + "/pts", shm = dev + "/shm";
  MakeDir(pts, 0755);
  if (mount("devpts", pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620,gid=5") != 0) {
    FailSetup(proto::kInitDevpts);
  }
  MakeDir(shm, 01777);
  if (mount("tmpfs", shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") !=
      0) {
    FailSetup(proto::kInitShm);
  }
  const std::pair<const char*, const char*> links[] = {
      {"pts/ptmx", "/ptmx"},
      {"/proc/self/fd", "/fd"},
      {"/proc/self/fd/0", "/stdin"},
      {"/proc/self/fd/1", "/stdout"},
      {"/proc/self/fd/2", "/stderr"}};
  for (const auto& link : links) {
    if (symlink(link.first, (dev + link.second).c_str()) != 0) {
      FailSetup(proto::kInitDev);
    }
  }
  // pivot_root(".", ".") stacks the old root on top of the new one; the
  // detach then drops every host mount from this namespace.
  if (chdir(root.c_str()) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
      umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) {
    FailSetup(proto::kInitPivot);
  }
}

// What Docker hides or freezes in /proc: host-wide kernel state that a
// sandbox could read secrets from or change.
void MaskProc() {
  const unsigned long proc_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  for (const char* path :
       {"/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/timer_list",
        "/proc/sched_debug", "/proc/latency_stats", "/proc/kallsyms",
        "/proc/kmsg", "/proc/kpagecount", "/proc/kpageflags",
        "/proc/kpagecgroup", "/proc/config.gz"}) {
    struct stat st {};
    if (lstat(path, &st) != 0) continue;
    if (mount("/dev/null", path, nullptr, MS_BIND, nullptr) != 0) {
      FailSetup(proto::kInitProcMasks);
    }
  }
  for (const char* path : {"/proc/acpi", "/proc/scsi", "/proc/driver"}) {
    struct stat st {};
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY | proc_flags, "size=0") != 0) {
      FailSetup(proto::kInitProcMasks);
    }
  }
  for (const char* path : {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
                           "/proc/bus", "/proc/fs"}) {
    struct stat st {};
    if (lstat(path, &st) != 0) continue;
    if (!BindReadOnly(path, path, proc_flags)) {
      FailSetup(proto::kInitProcMasks);
    }
  }
}

// ---- commands ----

struct SpawnRequest {
  std::uint32_t id = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool pty = false;
  std::uint16_t cols = 80, rows = 24;
  std::string cwd;
  std::vector<std::string> argv, env;
};

bool ParseSpawn(const Message& message, SpawnRequest& request) {
  request.id = message.id;
  request.uid = static_cast<uid_t>(message.a);
  request.gid = static_cast<gid_t>(message.b);
  request.pty = (static_cast<std::uint32_t>(message.c) & proto::kSpawnPty) != 0;
  request.cols =
      static_cast<std::uint16_t>(static_cast<std::uint32_t>(message.d) >> 16);
  request.rows = static_cast<std::uint16_t>(message.d & 0xffff);
  const auto& s = message.strings;
  if (s.size() < 3 || s[1] != "--") return false;
  request.cwd = s[0];
  std::size_t i = 2;
  for (; i < s.size() && s[i] != "--"; ++i) request.argv.push_back(s[i]);
  if (i == s.size() || request.argv.empty()) return false;
  for (++i; i < s.size(); ++i) request.env.push_back(s[i]);
  return true;
}

void Fail(std::uint32_t id, int stage, int err) {
  Message failed;
  failed.kind = Kind::kFailed;
  failed.id = id;
  failed.a = stage;
  failed.b = err;
  Send(failed);
}

struct ChildReport {
  int stage;
  int err;
};

[[noreturn]] void ChildFail(int status_fd, int stage) {
  ChildReport report{stage, errno};
  while (write(status_fd, &report, sizeof report) < 0 && errno == EINTR) {
  }
  _exit(127);
}

// Moves fd to a number >= 10 so that dup2 onto 0..2 never clobbers
// another source descriptor.
int Lift(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 10); }

[[noreturn]] void RunChild(const SpawnRequest& request,
                           std::vector<char*>& argv, std::vector<char*>& envp,
                           int status_fd, int in, int out, int err) {
  // Ignored signals survive exec (the server ignores SIGPIPE, and init
  // inherited that): commands start with every disposition at default.
  struct sigaction action {};
  std::memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo != SIGKILL && signo != SIGSTOP)
      sigaction(signo, &action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setsid();
  in = Lift(in);
  out = Lift(out);
  err = Lift(err);
  if (in < 0 || out < 0 || err < 0) ChildFail(status_fd, proto::kStageStdio);
  if (request.pty && ioctl(in, TIOCSCTTY, 0) < 0) {
    ChildFail(status_fd, proto::kStageStdio);
  }
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
    ChildFail(status_fd, proto::kStageStdio);
  }
  gid_t groups[1] = {request.gid};
  if (setgroups(1, groups) != 0 ||
      setresgid(request.gid, request.gid, request.gid) != 0 ||
      setresuid(request.uid, request.uid, request.uid) != 0) {
    ChildFail(status_fd, proto::kStageCredentials);
  }
  if (chdir(request.cwd.c_str()) != 0) {
    ChildFail(status_fd, proto::kStageChdir);
  }
  execve("/bin/sh", argv.data(), envp.data());
  ChildFail(status_fd, proto::kStageExec);
}

class Init {
 public:
  void Serve();

 private:
  void Spawn(const Message& message, std::vector<int>& fds);
  void ReapChildren();

  std::set<pid_t> children_;
};

void Init::Spawn(const Message& message, std::vector<int>& fds) {
  auto close_all = [&fds] {
    for (int fd : fds) close(fd);
    fds.clear();
  };
  SpawnRequest request;
  if (!ParseSpawn(message, request) || fds.size() != (request.pty ? 0u : 3u)) {
    close_all();
    Fail(message.id, proto::kStageProtocol, EINVAL);
    return;
  }
  int master = -1, slave = -1;
  if (request.pty) {
    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    int unlock = 0;
    if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) != 0 ||
        (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) <
            0) {
      int err = errno;
      if (master >= 0) close(master);
      Fail(request.id, proto::kStagePty, err);
      return;
    }
    struct winsize size {};
    std::memset(&size, 0, sizeof size);
    size.ws_col = request.cols;
    size.ws_row = request.rows;
    ioctl(master, TIOCSWINSZ, &size);
    fds = {slave, slave, slave};
  }
  std::vector<char*> argv, envp;
  for (auto& arg : request.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (auto& entry : request.env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  int status[2];
  if (pipe2(status, O_CLOEXEC) != 0) {
    int err = errno;
    if (master >= 0) close(master);
    close(slave >= 0 ? slave : -1);
    if (!request.pty) close_all();
    Fail(request.id, proto::kStageFork, err);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(status[0]);
    RunChild(request, argv, envp, status[1], fds[0], fds[1], fds[2]);
  }
  int fork_errno = errno;
  close(status[1]);
  if (request.pty) {
    close(slave);
    fds.clear();
  } else {
    close_all();
  }
  if (pid < 0) {
    close(status[0]);
    if (master >= 0) close(master);
    Fail(request.id, proto::kStageFork, fork_errno);
    return;
  }
  // exec closes the pipe; a report means the child failed before it.
  ChildReport report{0, 0};
  ssize_t n = 0;
  do {
    n = read(status[0], &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  close(status[0]);
  if (n == static_cast<ssize_t>(sizeof report)) {
    if (master >= 0) close(master);
    Fail(request.id, report.stage, report.err);
    return;  // the child exits; ReapChildren reaps it silently
  }
  children_.insert(pid);
  Message started;
  started.kind = Kind::kStarted;
  started.id = request.id;
  started.a = pid;
  Send(started, master);
  if (master >= 0) close(master);
}

void Init::ReapChildren() {
  int status = 0;
  pid_t pid = 0;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (children_.erase(pid) == 0) continue;  // an orphan we adopted
    Message exited;
    exited.kind = Kind::kExited;
    exited.a = pid;
    exited.b = status;
    Send(exited);
  }
}

void Init::Serve() {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  // Left uninitialised: only the pages a message fills become resident
  // (a zeroed buffer cost every sandbox 4 MiB and its first command the
  // page faults).
  std::unique_ptr<char[]> buffer(new char[proto::kMaxMessage]);
  std::vector<int> fds;
  for (;;) {
    struct pollfd pfds[2] = {{kCtl, POLLIN, 0}, {sfd, POLLIN, 0}};
    int ready = poll(pfds, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 100);
    if (ready < 0 && errno != EINTR) _exit(1);
    if (sfd >= 0 && (pfds[1].revents & POLLIN)) {
      struct signalfd_siginfo info {};
      while (read(sfd, &info, sizeof info) > 0) {
      }
    }
    ReapChildren();
    if (pfds[0].revents & POLLIN) {
      Message message;
      // The server closing its end (it exited or destroyed the sandbox)
      // ends the sandbox: pid 1 leaving takes the namespace with it.
      if (!Receive(buffer.get(), proto::kMaxMessage, message, fds,
                   proto::kMaxFds)) {
        _exit(0);
      }
      if (message.kind == Kind::kSpawn) {
        Spawn(message, fds);
      } else {
        for (int fd : fds) close(fd);
        if (message.kind == Kind::kSignal && children_.count(message.a) != 0) {
          kill(message.a, message.b);
        }
      }
      ReapChildren();
    } else if (pfds[0].revents & (POLLHUP | POLLERR)) {
      _exit(0);
    }
  }
}

}  // namespace

int main() {
  prctl(PR_SET_NAME, "e2b-init", 0, 0, 0);
  // Not dumpable: tracing init, copying its descriptors (pidfd_getfd) or
  // reading its memory then needs CAP_SYS_PTRACE, which no process of the
  // sandbox has; otherwise root inside could take over the control socket
  // and speak to the server as init. Commands are dumpable again once they
  // exec.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Signals only arrive through the signalfd; children reset the mask.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  std::vector<char> buffer(std::size_t{64} * 1024);
  Message config;
  std::vector<int> fds;
  if (!Receive(buffer.data(), buffer.size(), config, fds, 0) ||
      config.kind != Kind::kConfig || config.strings.size() != 1) {
    errno = EINVAL;
    FailSetup(proto::kInitConfig);
  }
  // The server started us in the sandbox's root directory.
  SetupView(".", config.strings[0]);
  MaskProc();
  if (int err = e2b_sandbox_init::InstallSeccompFilter(); err != 0) {
    errno = err;
    FailSetup(proto::kInitSeccomp);
  }
  if (int err = e2b_sandbox_init::DropCapabilities(); err != 0) {
    errno = err;
    FailSetup(proto::kInitCapabilities);
  }
  Message ready;
  ready.kind = Kind::kReady;
  Send(ready);
  Init().Serve();
}
