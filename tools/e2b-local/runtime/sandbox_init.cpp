#include "runtime/sandbox_init.hpp"

#include "runtime/clone_memory.hpp"
#include "runtime/init_protocol.hpp"
#include "runtime/process_launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#ifndef E2B_SANDBOX_INIT_INSTALL_PATH
#define E2B_SANDBOX_INIT_INSTALL_PATH ""
#endif
#ifndef E2B_SANDBOX_INIT_BUILD_PATH
#define E2B_SANDBOX_INIT_BUILD_PATH ""
#endif

namespace e2b_local::runtime_internal {
namespace {

namespace proto = init_protocol;
using proto::Kind;
using proto::Message;

std::string ErrnoText(int err) { return std::strerror(err); }

// How long the server waits for init to answer before calling the sandbox
// wedged: a frozen or hijacked init must not hang a request forever.
constexpr auto kAnswerTimeout = std::chrono::seconds(30);

// Only a PTY master from the sandbox's own devpts is accepted where init
// passes one: anything else (a FIFO that blocks, a socket) is refused.
bool IsPtyMaster(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 &&
         minor(st.st_rdev) == 2;
}

struct ChildArgs {
  int sync_fd;
  int control_fd;
  int image_fd;
  const char* root;
};

// Runs in the clone child, which shares the multithreaded server's memory
// (CLONE_VM) until the exec replaces it: only async-signal-safe calls, no
// allocation, nothing written but its own stack (errno aside, and only on
// the failures that end it).
int ChildMain(void* raw) {
  const ChildArgs& args = *static_cast<const ChildArgs*>(raw);
  char go = 0;
  ssize_t n = 0;
  do {
    n = read(args.sync_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(125);
  // Now in the sandbox's cgroups: a cgroup namespace rooted there, so the
  // sandbox sees "/" and nothing of the host's hierarchy.
  if (unshare(CLONE_NEWCGROUP) != 0) _exit(125);
  // pivot_root refuses a mount this namespace inherited (it is locked):
  // init pivots into a bind of the root made here, in its own namespace,
  // with nothing propagating back to the host. The root travels as the
  // working directory, so no host path is in init's memory or argv.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount(args.root, args.root, nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
      chdir(args.root) != 0) {
    _exit(125);
  }
  // The ids are mapped now: become the sandbox's root, after the chdir
  // (the state directory is private to the host's root).
  // Raw syscalls: glibc's wrappers would try to change the ids of every
  // thread of the server this is a copy of, and wait for them forever.
  if (syscall(SYS_setresgid, 0, 0, 0) != 0 ||
      syscall(SYS_setresuid, 0, 0, 0) != 0) {
    _exit(125);
  }

  int control = fcntl(args.control_fd, F_DUPFD_CLOEXEC, 10);
  int image = fcntl(args.image_fd, F_DUPFD_CLOEXEC, 10);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (control < 0 || image < 0 || null_fd < 0) _exit(125);
  if (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0 ||
      dup2(control, proto::kControlFd) < 0 ||
      dup3(image, proto::kControlFd + 1, O_CLOEXEC) < 0) {
    _exit(125);
  }
  syscall(SYS_close_range, proto::kControlFd + 2, ~0U, 0);
  char name[] = "e2b-init";
  char* argv[] = {name, nullptr};
  char* envp[] = {nullptr};
  syscall(SYS_execveat, proto::kControlFd + 1, "", argv, envp, AT_EMPTY_PATH);
  _exit(126);
}

}  // namespace

// ---- InitImage ----

InitImage::InitImage(const std::string& path) {
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) {
    throw std::runtime_error("cannot open the sandbox init " + path + ": " +
                             ErrnoText(errno));
  }
  fd_ = static_cast<int>(syscall(SYS_memfd_create, "e2b-sandbox-init",
                                 MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd_ < 0) {
    int err = errno;
    close(src);
    throw std::runtime_error("memfd_create: " + ErrnoText(err));
  }
  char buffer[65536];
  ssize_t n = 0;
  bool ok = true;
  while ((n = read(src, buffer, sizeof buffer)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(fd_, buffer + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ok = false;
        break;
      }
      off += w;
    }
    if (!ok) break;
  }
  int err = errno;
  close(src);
  if (!ok ||
      fcntl(fd_, F_ADD_SEALS,
            F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
    if (ok) err = errno;
    close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot copy the sandbox init " + path + ": " +
                             ErrnoText(err));
  }
}

InitImage::~InitImage() {
  if (fd_ >= 0) close(fd_);
}

std::string FindInitBinary() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("E2B_SANDBOX_INIT"); env && *env) {
    candidates.emplace_back(env);
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    candidates.push_back(dir + "/e2b-sandbox-init");
  }
  for (const char* compiled :
       {E2B_SANDBOX_INIT_INSTALL_PATH, E2B_SANDBOX_INIT_BUILD_PATH}) {
    if (*compiled) candidates.emplace_back(compiled);
  }
  std::string tried;
  for (const auto& path : candidates) {
    if (access(path.c_str(), X_OK) == 0) return path;
    tried += (tried.empty() ? "" : ", ") + path;
  }
  throw std::runtime_error(
      "cannot find e2b-sandbox-init (set E2B_SANDBOX_INIT; tried: " + tried +
      ")");
}

// ---- the channel to one init ----

struct ProcessRecord {
  std::uint32_t pid = 0;
  bool exited = false;
  int wait_status = 0;
};

struct SandboxInit::Channel {
  int sock = -1;
  pid_t init_pid = 0;
  std::thread reader;
  // What the clone child reads until it execs (it shares our memory): kept
  // until init is ready or reaped.
  std::string root;
  ChildArgs child_args{};
  std::vector<char> child_stack;

  std::mutex send_mu;  // one datagram at a time, with its descriptors
  std::mutex mu;
  std::condition_variable cv;
  bool closed = false;  // init is gone (or killed): nothing more arrives
  std::uint32_t next_id = 1;
  struct Reply {
    bool done = false;
    bool ok = false;
    std::int32_t pid = 0, stage = 0, err = 0;
    int master = -1;
    std::shared_ptr<ProcessRecord> record;  // with ok
  };
  std::map<std::uint32_t, Reply> pending;
  std::map<std::uint32_t, std::shared_ptr<ProcessRecord>> live;  // by pid

  void ReadLoop();
  void Close();
};

void SandboxInit::Channel::ReadLoop() {
  std::vector<char> buffer(4096);
  std::vector<int> fds;
  for (;;) {
    Message parsed;
    // Init passes at most one descriptor (a PTY master); more is dropped.
    const proto::Received received = proto::ReceiveMessage(
        sock, buffer.data(), buffer.size(), parsed, fds, 1);
    if (received == proto::Received::kClosed) break;
    std::optional<Message> message;
    if (received == proto::Received::kMessage) message = std::move(parsed);
    int master = -1;
    std::lock_guard<std::mutex> lock(mu);
    if (message && message->kind == Kind::kStarted && fds.size() == 1 &&
        IsPtyMaster(fds[0])) {
      master = fds[0];
      fds.clear();
    }
    for (int fd : fds) close(fd);
    if (!message) continue;
    if (message->kind == Kind::kStarted || message->kind == Kind::kFailed) {
      auto it = pending.find(message->id);
      if (it == pending.end() || it->second.done) {
        if (master >= 0) close(master);
        continue;
      }
      Reply& reply = it->second;
      reply.done = true;
      reply.ok = message->kind == Kind::kStarted && message->a > 0;
      reply.pid = message->a;
      reply.stage = message->a;
      reply.err = message->b;
      reply.master = master;
      if (reply.ok) {
        reply.record = std::make_shared<ProcessRecord>();
        reply.record->pid = static_cast<std::uint32_t>(message->a);
        live[reply.record->pid] = reply.record;
      }
      cv.notify_all();
    } else if (message->kind == Kind::kExited) {
      auto it = live.find(static_cast<std::uint32_t>(message->a));
      if (it == live.end()) continue;
      it->second->exited = true;
      it->second->wait_status = message->b;
      live.erase(it);
      cv.notify_all();
    }
  }
  std::lock_guard<std::mutex> lock(mu);
  closed = true;
  cv.notify_all();
}

void SandboxInit::Channel::Close() {
  if (sock >= 0) shutdown(sock, SHUT_RDWR);
  if (init_pid > 0) {
    kill(init_pid, SIGKILL);
    int status = 0;
    while (waitpid(init_pid, &status, 0) < 0 && errno == EINTR) {
    }
    init_pid = 0;
  }
  if (reader.joinable()) reader.join();
  std::lock_guard<std::mutex> lock(mu);
  closed = true;
  for (auto& [id, reply] : pending) {
    if (reply.master >= 0) close(reply.master);
    reply.master = -1;
  }
  cv.notify_all();
}

namespace {

// A command started by init. Its pipes (or PTY master) are the server's;
// its end arrives as a kExited message.
class InitProcess : public SandboxProcess {
 public:
  InitProcess(std::shared_ptr<SandboxInit::Channel> channel,
              std::shared_ptr<ProcessRecord> record, int stdin_fd,
              int stdout_fd, int stderr_fd, int pty_fd)
      : channel_(std::move(channel)),
        record_(std::move(record)),
        stdin_fd_(stdin_fd),
        stdout_fd_(stdout_fd),
        stderr_fd_(stderr_fd),
        pty_fd_(pty_fd) {}
  InitProcess(const InitProcess&) = delete;
  InitProcess& operator=(const InitProcess&) = delete;

  ~InitProcess() override {
    SendSignal(SIGKILL);
    for (int* fd : {&stdin_fd_, &stdout_fd_, &stderr_fd_, &pty_fd_}) {
      if (*fd >= 0) close(*fd);
    }
  }

  std::uint32_t Pid() const override { return record_->pid; }
  int StdoutFd() const override { return stdout_fd_; }
  int StderrFd() const override { return stderr_fd_; }
  int PtyFd() const override { return pty_fd_; }

  bool WriteInput(const std::string& data) override {
    std::lock_guard<std::mutex> lock(input_mu_);
    return WriteAllNoSigpipe(stdin_fd_ >= 0 ? stdin_fd_ : pty_fd_, data);
  }

  void CloseStdin() override {
    std::lock_guard<std::mutex> lock(input_mu_);
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
  }

  void Signal(int signo) override { SendSignal(signo); }

  bool Resize(std::uint16_t cols, std::uint16_t rows) override {
    return ResizePty(pty_fd_, cols, rows);
  }

  ExitStatus Wait() override {
    std::unique_lock<std::mutex> lock(channel_->mu);
    channel_->cv.wait(lock,
                      [this] { return record_->exited || channel_->closed; });
    if (record_->exited) return DescribeWaitStatus(record_->wait_status);
    // init is gone, and with it every process of the sandbox.
    return DescribeWaitStatus(SIGKILL);
  }

 private:
  void SendSignal(int signo) {
    {
      std::lock_guard<std::mutex> lock(channel_->mu);
      if (record_->exited || channel_->closed) return;
    }
    Message message;
    message.kind = Kind::kSignal;
    message.a = static_cast<std::int32_t>(record_->pid);
    message.b = signo;
    std::lock_guard<std::mutex> send_lock(channel_->send_mu);
    proto::SendMessage(channel_->sock, message);
  }

  std::shared_ptr<SandboxInit::Channel> channel_;
  std::shared_ptr<ProcessRecord> record_;
  std::mutex input_mu_;
  int stdin_fd_, stdout_fd_, stderr_fd_, pty_fd_;
};

void WriteIdMap(pid_t pid, const char* file, const IdRange& ids) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  std::string line =
      "0 " + std::to_string(ids.base) + " " + std::to_string(ids.count) + "\n";
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, line.data(), line.size()) !=
                    static_cast<ssize_t>(line.size())) {
    int err = errno;
    if (fd >= 0) close(fd);
    throw std::runtime_error(std::string("writing ") + file + ": " +
                             ErrnoText(err));
  }
  close(fd);
}

void AttachToCgroups(pid_t pid, const std::vector<std::string>& files) {
  std::string text = std::to_string(pid);
  for (const auto& path : files) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text.data(), text.size()) !=
                      static_cast<ssize_t>(text.size())) {
      int err = errno;
      if (fd >= 0) close(fd);
      throw std::runtime_error("joining " + path + ": " + ErrnoText(err));
    }
    close(fd);
  }
}

}  // namespace

// ---- SandboxInit ----

SandboxInit::SandboxInit(const InitLaunch& launch)
    : channel_(std::make_shared<Channel>()) {
  Channel& channel = *channel_;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    throw std::runtime_error("socketpair: " + ErrnoText(errno));
  }
  channel_->sock = sv[0];
  // A spawn request carries argv and environment in one datagram.
  int size = static_cast<int>(proto::kMaxMessage + 4096);
  if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) != 0) {
    int err = errno;
    close(sv[0]);
    close(sv[1]);
    channel_->sock = -1;
    throw std::runtime_error("pipe: " + ErrnoText(err));
  }
  channel.root = launch.root;
  channel.child_args = {sync[0], sv[1], launch.image->fd(),
                        channel.root.c_str()};
  channel.child_stack.resize(std::size_t{64} * 1024);
  // CLONE_VM: the child borrows the server's memory until it execs instead
  // of copying its page tables. A copy made every page of the server
  // copy-on-write, and the faults (a TLB flush each, costly in a VM) slowed
  // everything the server did next: a create spent ~10 ms in them. Signals
  // stay blocked in the child, so no handler of the server runs there. The
  // child's switch to the sandbox's ids marks the shared memory not
  // dumpable, the server's too: no core dump of the server (it holds the
  // API key), which suits it.
  // Sanitized builds copy instead (runtime/clone_memory.hpp).
  int flags = kCloneBorrowMemory | CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
              CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid =
      clone(ChildMain, channel.child_stack.data() + channel.child_stack.size(),
            flags, &channel.child_args);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(sync[0]);
  close(sv[1]);
  if (pid < 0) {
    close(sync[1]);
    close(sv[0]);
    channel_->sock = -1;
    throw std::runtime_error("starting the sandbox init failed: " +
                             ErrnoText(clone_errno));
  }
  channel_->init_pid = pid;
  try {
    // Before init runs a single instruction of its own: ids mapped, and
    // inside the cgroups that every command inherits from it.
    WriteIdMap(pid, "uid_map", launch.ids);
    WriteIdMap(pid, "gid_map", launch.ids);
    AttachToCgroups(pid, launch.cgroup_attach);
    char go = 1;
    if (write(sync[1], &go, 1) != 1) {
      throw std::runtime_error("releasing the sandbox init: " +
                               ErrnoText(errno));
    }
    close(sync[1]);
    sync[1] = -1;
    Message config;
    config.kind = Kind::kConfig;
    config.strings = {launch.hostname};
    if (!proto::SendMessage(channel_->sock, config)) {
      throw std::runtime_error("the sandbox init did not start");
    }
  } catch (...) {
    if (sync[1] >= 0) close(sync[1]);
    channel_->Close();
    close(channel_->sock);
    channel_->sock = -1;
    throw;
  }
}

void SandboxInit::WaitReady() {
  if (channel_->reader.joinable()) return;
  try {
    struct pollfd pfd = {channel_->sock, POLLIN, 0};
    int polled = 0;
    do {
      polled = poll(
          &pfd, 1,
          static_cast<int>(std::chrono::milliseconds(kAnswerTimeout).count()));
    } while (polled < 0 && errno == EINTR);
    char buffer[256];
    ssize_t n =
        polled > 0 ? recv(channel_->sock, buffer, sizeof buffer, 0) : -1;
    auto ready = n > 0
                     ? proto::ParseMessage(buffer, static_cast<std::size_t>(n))
                     : std::nullopt;
    if (!ready || ready->kind != Kind::kReady || ready->a != proto::kInitOk) {
      std::string why = ready && ready->kind == Kind::kReady
                            ? std::string(proto::InitStageName(ready->a)) +
                                  ": " + ErrnoText(ready->b)
                        : polled == 0 ? "no answer"
                                      : "init exited before it was ready";
      throw std::runtime_error("sandbox init failed: " + why);
    }
  } catch (...) {
    channel_->Close();
    close(channel_->sock);
    channel_->sock = -1;
    throw;
  }
  // init runs its own image now.
  std::vector<char>().swap(channel_->child_stack);
  Channel* channel = channel_.get();
  channel_->reader = std::thread([channel] { channel->ReadLoop(); });
}

SandboxInit::~SandboxInit() {
  Kill();
  if (channel_->sock >= 0) close(channel_->sock);
  channel_->sock = -1;
}

pid_t SandboxInit::HostPid() const { return channel_->init_pid; }

void SandboxInit::Kill() { channel_->Close(); }

namespace {

// The kSpawn request for `command`; invalid_argument when it would not fit
// in one message.
Message SpawnRequest(const SpawnOptions& options,
                     const PreparedCommand& command) {
  Message request;
  request.kind = Kind::kSpawn;
  request.a = static_cast<std::int32_t>(options.user.uid);
  request.b = static_cast<std::int32_t>(options.user.gid);
  request.c = options.pty ? static_cast<std::int32_t>(proto::kSpawnPty) : 0;
  request.d = static_cast<std::int32_t>(
      (static_cast<std::uint32_t>(options.cols) << 16) | options.rows);
  request.strings.reserve(command.argv.size() + command.env.size() + 3);
  request.strings.push_back(command.cwd);
  request.strings.emplace_back("--");
  for (const auto& arg : command.argv) request.strings.push_back(arg);
  request.strings.emplace_back("--");
  for (const auto& entry : command.env) request.strings.push_back(entry);
  std::size_t size = sizeof(proto::Header);
  for (const auto& s : request.strings) size += s.size() + 1;
  if (size > proto::kMaxMessage) {
    throw SpawnError("invalid_argument",
                     "command line and environment are too large");
  }
  return request;
}

// A command's stdin, stdout and stderr without a PTY: the child's ends go
// to init with the spawn request, the server keeps the others (-1: none).
struct StdioPipes {
  int child[3] = {-1, -1, -1};
  int parent_in = -1, parent_out = -1, parent_err = -1;

  void CloseChildEnds() {
    for (int& fd : child) Close(fd);
  }
  void CloseAll() {
    CloseChildEnds();
    Close(parent_in);
    Close(parent_out);
    Close(parent_err);
  }

 private:
  static void Close(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

// Stdin is /dev/null unless `stdin_pipe`. Throws SpawnError (internal),
// with nothing left open, when a pipe cannot be made.
StdioPipes OpenStdioPipes(bool stdin_pipe) {
  StdioPipes pipes;
  int in[2] = {-1, -1}, out[2], err[2];
  bool ok = true;
  if (stdin_pipe) {
    ok = pipe2(in, O_CLOEXEC) == 0;
  } else {
    in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ok = in[0] >= 0;
  }
  pipes.child[0] = in[0];
  pipes.parent_in = in[1];
  if (ok && pipe2(out, O_CLOEXEC) == 0) {
    pipes.child[1] = out[1];
    pipes.parent_out = out[0];
  } else {
    ok = false;
  }
  if (ok && pipe2(err, O_CLOEXEC) == 0) {
    pipes.child[2] = err[1];
    pipes.parent_err = err[0];
  } else {
    ok = false;
  }
  if (!ok) {
    int e = errno;
    pipes.CloseAll();
    throw SpawnError("internal", "pipe: " + ErrnoText(e));
  }
  return pipes;
}

// Init's answer to request `id` (waited for only when the request was
// sent, at most kAnswerTimeout); the request is forgotten either way.
SandboxInit::Channel::Reply TakeReply(SandboxInit::Channel& channel,
                                      std::uint32_t id, bool sent) {
  std::unique_lock<std::mutex> lock(channel.mu);
  if (sent) {
    channel.cv.wait_for(lock, kAnswerTimeout, [&] {
      return channel.pending[id].done || channel.closed;
    });
  }
  SandboxInit::Channel::Reply reply = channel.pending[id];
  channel.pending.erase(id);
  return reply;
}

}  // namespace

std::unique_ptr<SandboxProcess> SandboxInit::Spawn(
    const SpawnOptions& options) {
  PreparedCommand command = PrepareCommand(options);
  Message request = SpawnRequest(options, command);
  StdioPipes pipes;
  if (!options.pty) pipes = OpenStdioPipes(options.stdin_pipe);

  std::uint32_t id = 0;
  {
    std::lock_guard<std::mutex> lock(channel_->mu);
    if (channel_->closed) {
      pipes.CloseAll();
      throw SpawnError("internal", "process start failed: the sandbox is gone");
    }
    id = channel_->next_id++;
    channel_->pending[id];
  }
  request.id = id;
  bool sent = false;
  {
    std::lock_guard<std::mutex> lock(channel_->send_mu);
    sent = proto::SendMessage(channel_->sock, request, pipes.child,
                              options.pty ? 0 : 3);
  }
  pipes.CloseChildEnds();
  const Channel::Reply reply = TakeReply(*channel_, id, sent);
  if (!reply.done || !reply.ok) {
    pipes.CloseAll();
    if (reply.master >= 0) close(reply.master);
    if (!sent || !reply.done) {
      throw SpawnError("internal", channel_->closed || !sent
                                       ? "process start failed: the sandbox "
                                         "is gone"
                                       : "process start timed out");
    }
    throw DescribeSpawnFailure(reply.stage, reply.err, command.cwd);
  }
  if (options.pty && reply.master < 0) {
    // A hijacked init answered without a usable PTY.
    pipes.CloseAll();
    throw SpawnError("internal", "process start failed: no terminal");
  }
  return std::make_unique<InitProcess>(channel_, reply.record, pipes.parent_in,
                                       pipes.parent_out, pipes.parent_err,
                                       reply.master);
}

}  // namespace e2b_local::runtime_internal
