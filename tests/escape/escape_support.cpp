#include "escape/escape_support.hpp"

#include <httplib.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#ifndef E2B_LOCAL_BINARY
#define E2B_LOCAL_BINARY "e2b-local"
#endif

namespace e2b_test {
namespace escape {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out);
}

std::string MakeTempDir(const std::string& prefix) {
  std::error_code ec;
  std::string base = fs::temp_directory_path(ec).string();
  if (ec || base.empty()) base = "/tmp";
  std::string pattern = base + "/" + prefix + "-XXXXXX";
  std::vector<char> dir(pattern.begin(), pattern.end());
  dir.push_back('\0');
  if (mkdtemp(dir.data()) == nullptr) return {};
  return dir.data();
}

// True when something is mounted at or below `dir` (as this process sees
// it): removing such a tree could reach into the mounted file system.
bool HasMountBelow(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    if (!(fields >> id >> parent >> dev >> root >> mount_point)) continue;
    if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) {
      return true;
    }
  }
  return false;
}

// Lazily unmounts every mount at or below `dir`, deepest first.
void DetachMountsBelow(const std::string& dir) {
  if (dir.empty()) return;
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    if (!(fields >> id >> parent >> dev >> root >> mount_point)) continue;
    if (mount_point.rfind(dir + "/", 0) == 0) found.push_back(mount_point);
  }
  std::sort(found.begin(), found.end(),
            [](const std::string& a, const std::string& b) {
              return a.size() > b.size();
            });
  for (const auto& m : found) umount2(m.c_str(), MNT_DETACH);
}

void RemoveTree(const std::string& dir) {
  if (dir.empty()) return;
  if (HasMountBelow(dir)) {
    ADD_FAILURE() << "a mount appeared below " << dir << "; left in place";
    return;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The probe prelude. Syscall numbers come from this build's <sys/syscall.h>,
// so the table always matches the machine the sandbox runs on.
std::string Prelude() {
  std::ostringstream nr;
  nr << "NR = {"
     << "'kexec_load': " << SYS_kexec_load << ", "
     << "'kexec_file_load': " << SYS_kexec_file_load << ", "
     << "'init_module': " << SYS_init_module << ", "
     << "'finit_module': " << SYS_finit_module << ", "
     << "'delete_module': " << SYS_delete_module << ", "
     << "'bpf': " << SYS_bpf << ", "
     << "'perf_event_open': " << SYS_perf_event_open << ", "
     << "'userfaultfd': " << SYS_userfaultfd << ", "
     << "'name_to_handle_at': " << SYS_name_to_handle_at << ", "
     << "'open_by_handle_at': " << SYS_open_by_handle_at << ", "
     << "'add_key': " << SYS_add_key << ", "
     << "'keyctl': " << SYS_keyctl << ", "
     << "'request_key': " << SYS_request_key << ", "
     << "'pivot_root': " << SYS_pivot_root << ", "
     << "'reboot': " << SYS_reboot << ", "
     << "'swapon': " << SYS_swapon << ", "
     << "'setns': " << SYS_setns << ", "
     << "'unshare': " << SYS_unshare << ", "
     << "'ptrace': " << SYS_ptrace << ", "
     << "'pidfd_open': " << SYS_pidfd_open << ", "
     << "'pidfd_getfd': " << SYS_pidfd_getfd << ", "
     << "'process_vm_readv': " << SYS_process_vm_readv << ", "
     << "'mknodat': " << SYS_mknodat << ", "
     << "'clock_settime': " << SYS_clock_settime << ", "
     << "'clock_gettime': " << SYS_clock_gettime << ", "
     << "'settimeofday': " << SYS_settimeofday << ", "
     << "'gettimeofday': " << SYS_gettimeofday << "}\n";
  return R"PY(import ctypes, errno, os, re, socket, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
)PY" + nr.str() +
         R"PY(ARGS = sys.argv[1:]
def _a(v):
    if isinstance(v, bool): return ctypes.c_long(int(v))
    if isinstance(v, int): return ctypes.c_long(v)
    if isinstance(v, str): return ctypes.c_char_p(v.encode())
    return v
def sc(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(NR[name]), *[_a(v) for v in args])
    return r, (ctypes.get_errno() if r < 0 else 0)
def call(fn, *args):
    ctypes.set_errno(0)
    r = fn(*[_a(v) for v in args])
    return r, (ctypes.get_errno() if r < 0 else 0)
def ename(e):
    return "OK" if not e else errno.errorcode.get(e, "E%d" % e)
def put(k, v):
    sys.stdout.write("%s=%s\n" % (k, str(v).replace("\n", "\\n")))
    sys.stdout.flush()
def probe(k, fn):
    try:
        v = fn()
    except OSError as ex:
        v = ename(ex.errno)
    except Exception as ex:
        v = "EXC:%s:%s" % (type(ex).__name__, ex)
    put(k, v)
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_BIND, MS_REC, MS_PRIVATE = 1, 4096, 16384, 1 << 18
def private_mount_ns():
    # Mount attacks run in a mount namespace of their own when the sandbox
    # lets them make one, so one that works never touches any other mount.
    r, e = call(libc.unshare, CLONE_NEWNS)
    if r == 0:
        call(libc.mount, None, "/", None, MS_REC | MS_PRIVATE, None)
    return ename(e)
)PY";
}

}  // namespace

void Note(const std::string& text) {
  if (std::getenv("E2B_ESCAPE_VERBOSE") != nullptr) std::cerr << text << "\n";
}

// ---- probes -----------------------------------------------------------------

std::string ProbeRun::Get(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? "(missing)" : it->second;
}

std::string ProbeRun::Describe() const {
  std::string out = "exit " + std::to_string(result.ExitCode) +
                    "\n--- stdout ---\n" + result.Stdout.substr(0, 4000) +
                    "\n--- stderr ---\n" + result.Stderr.substr(0, 4000);
  return out;
}

ProbeRun RunProbe(const e2b::Sandbox& sandbox, const std::string& user,
                  const std::string& body, const std::vector<std::string>& args,
                  std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {"-c", Prelude() + body};
  argv.insert(argv.end(), args.begin(), args.end());
  ProbeRun run;
  run.result = sandbox.Commands.Run(
      "/usr/bin/python3", argv, e2b::WithUser(user), e2b::WithTimeout(timeout));
  std::istringstream lines(run.result.Stdout);
  std::string line;
  while (std::getline(lines, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    run.values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (std::getenv("E2B_ESCAPE_VERBOSE") != nullptr) {
    std::cerr << "---- probe as " << user << " ----\n"
              << run.Describe() << "\n";
  }
  return run;
}

::testing::AssertionResult Refused(
    const ProbeRun& run, const std::string& key,
    std::initializer_list<const char*> refusals) {
  const std::string value = run.Get(key);
  for (const char* r : refusals) {
    if (value == r) return ::testing::AssertionSuccess();
  }
  std::string expected;
  for (const char* r : refusals)
    expected += std::string(expected.empty() ? "" : "|") + r;
  return ::testing::AssertionFailure()
         << key << " = " << value << " (the attack was not refused; expected "
         << expected << ")\n"
         << run.Describe();
}

// ---- HostCanary
// ---------------------------------------------------------------

HostCanary::HostCanary() {
  dir_ = MakeTempDir("e2b-escape-canary");
  if (dir_.empty()) return;
  chmod(dir_.c_str(), 0755);
  secret_ = "e2b-escape-secret-" + RandomHex(16);
  files_ = {{"secret.txt", secret_ + "\n"},
            {"hostname", "canary-hostname-" + RandomHex(4) + "\n"},
            {"passwd", "canary-passwd-" + RandomHex(4) + "\n"},
            {"group", "canary-group-" + RandomHex(4) + "\n"},
            {"resolv.conf", "canary-resolv-" + RandomHex(4) + "\n"}};
  for (const auto& [name, content] : files_) {
    const std::string path = Path(name);
    if (!WriteFile(path, content) || chmod(path.c_str(), 0644) != 0) {
      RemoveTree(dir_);
      dir_.clear();
      return;
    }
  }
}

HostCanary::~HostCanary() { RemoveTree(dir_); }

std::string HostCanary::Path(const std::string& name) const {
  return dir_ + "/" + name;
}

std::string HostCanary::Changes() const {
  std::string changes;
  for (const auto& [name, content] : files_) {
    const std::string path = Path(name);
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
      changes += name + ": gone; ";
    } else if (!S_ISREG(st.st_mode)) {
      changes += name + ": no longer a regular file; ";
    } else if (ReadFile(path) != content) {
      changes += name + ": content changed; ";
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (files_.count(name) == 0) changes += name + ": appeared; ";
  }
  if (ec) changes += "cannot list " + dir_ + ": " + ec.message();
  return changes;
}

// ---- HostVictim
// ---------------------------------------------------------------

HostVictim::HostVictim() {
  // `sleep 1799.<random>`: a command line no other process has.
  std::string digits = std::to_string(std::stoull(RandomHex(3), nullptr, 16));
  marker_ = "1799." + digits;
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
      dup2(null_fd, 1);
      dup2(null_fd, 2);
    }
    execlp("sleep", "sleep", marker_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Let exec finish, so the marker is on the command line when looked at.
  for (int i = 0; i < 100 && pid_ > 0; ++i) {
    if (ReadFile("/proc/" + std::to_string(pid_) + "/cmdline").find(marker_) !=
        std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
}

HostVictim::~HostVictim() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool HostVictim::Alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

// ---- listeners
// ----------------------------------------------------------------

namespace {

void AcceptLoop(int fd, const std::atomic<bool>& stop, std::atomic<int>& n) {
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) {
      ++n;
      close(c);
    }
  }
}

}  // namespace

LoopbackListener::LoopbackListener() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd_, 64) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread(AcceptLoop, fd_, std::cref(stop_), std::ref(accepted_));
}

LoopbackListener::~LoopbackListener() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
}

AbstractSocketListener::AbstractSocketListener() {
  name_ = "e2b-escape-" + RandomHex(8);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name_.data(), name_.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                          name_.size());
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd_, 16) != 0) {
    name_.clear();
    return;
  }
  thread_ = std::thread(AcceptLoop, fd_, std::cref(stop_), std::ref(accepted_));
}

AbstractSocketListener::~AbstractSocketListener() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
}

// ---- host facts
// ---------------------------------------------------------------

pid_t ServerPid() {
  const pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    const std::string stat =
        ReadFile("/proc/" + std::string(entry->d_name) + "/stat");
    const auto open_paren = stat.find('(');
    const auto close_paren = stat.rfind(')');
    if (open_paren == std::string::npos || close_paren == std::string::npos) {
      continue;
    }
    const std::string comm =
        stat.substr(open_paren + 1, close_paren - open_paren - 1);
    std::istringstream rest(stat.substr(close_paren + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == self && comm == "e2b-local") {
      found = static_cast<pid_t>(pid);
      break;
    }
  }
  closedir(proc);
  return found;
}

std::int64_t RssKiB(pid_t pid) {
  std::istringstream status(
      ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

int PortOf(const std::string& url) {
  const auto colon = url.rfind(':');
  if (colon == std::string::npos) return 0;
  return std::atoi(url.c_str() + colon + 1);
}

std::map<std::string, std::string> HostNamespaces() {
  std::map<std::string, std::string> out;
  for (const char* name :
       {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"}) {
    char buf[128];
    const std::string link = std::string("/proc/self/ns/") + name;
    ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    if (n > 0) out[name] = std::string(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::vector<std::string> HostAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) == 0) continue;
    out.emplace_back(text);
  }
  freeifaddrs(list);
  return out;
}

::testing::AssertionResult HealthAnswers(const std::string& url,
                                         std::chrono::milliseconds bound) {
  httplib::Client client(url);
  const auto seconds = static_cast<time_t>(bound.count() / 1000);
  const auto micros = static_cast<time_t>((bound.count() % 1000) * 1000);
  client.set_connection_timeout(seconds, micros);
  client.set_read_timeout(seconds, micros);
  client.set_write_timeout(seconds, micros);
  const auto start = Clock::now();
  auto res = client.Get("/health");
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      Clock::now() - start);
  if (!res) {
    return ::testing::AssertionFailure()
           << url << "/health did not answer within " << bound.count()
           << " ms: " << httplib::to_string(res.error());
  }
  if (res->status != 200 && res->status != 204) {
    return ::testing::AssertionFailure()
           << url << "/health answered " << res->status;
  }
  if (took > bound) {
    return ::testing::AssertionFailure()
           << url << "/health took " << took.count() << " ms";
  }
  return ::testing::AssertionSuccess();
}

// ---- RssWatchdog
// --------------------------------------------------------------

RssWatchdog::RssWatchdog(pid_t pid, std::int64_t limit_mib)
    : pid_(pid), baseline_kib_(RssKiB(pid)), limit_kib_(limit_mib * 1024) {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      const std::int64_t rss = RssKiB(pid_);
      if (rss < 0) break;
      const std::int64_t growth = rss - baseline_kib_;
      if (growth > peak_kib_.load()) peak_kib_ = growth;
      if (growth > limit_kib_) {
        // The fixture started the server as the leader of its own process
        // group; its sandboxes go with it.
        tripped_ = true;
        kill(-pid_, SIGKILL);
        kill(pid_, SIGKILL);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
  });
}

RssWatchdog::~RssWatchdog() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

// ---- ExtraServer
// --------------------------------------------------------------

ExtraServer::ExtraServer(const std::vector<std::string>& extra_flags) {
  e2b::testing::LocalServerOptions options;
  options.Binary = E2B_LOCAL_BINARY;
  if (const char* override_bin = std::getenv("E2B_LOCAL_BIN");
      override_bin != nullptr && *override_bin != '\0') {
    options.Binary = override_bin;
  }
  options.ExtraArgs = extra_flags;
  try {
    server_.emplace(std::move(options));
  } catch (const e2b::testing::LocalServerError& e) {
    error_ = e.what();
  }
}

// ---- EscapeTest
// ---------------------------------------------------------------

void EscapeTest::SetUp() {
  E2bLocalTest::SetUp();
  if (HasFatalFailure()) return;
  canary_ = std::make_unique<HostCanary>();
  ASSERT_TRUE(canary_->Ok()) << "cannot create the host canary";
  server_pid_ = ServerPid();
  ASSERT_GT(server_pid_, 0) << "cannot find the e2b-local process";
  target_ = NewSandbox();
}

void EscapeTest::TearDown() {
  if (canary_) {
    EXPECT_EQ(canary_->Changes(), "")
        << "the host canary in " << canary_->Dir() << " was changed";
  }
  if (server_pid_ > 0) {
    if (kill(server_pid_, 0) != 0 || RssKiB(server_pid_) < 0) {
      ADD_FAILURE() << "e2b-local is gone after the attack";
      // Killed (by the watchdog, or crashed): it could not unmount its
      // sandboxes' roots, which would keep its temp dir from being removed.
      DetachMountsBelow(Server().TempDir());
    } else {
      EXPECT_TRUE(HealthAnswers(Server().APIURL(), 2000ms));
      EXPECT_TRUE(HealthAnswers(Server().SandboxURL(), 2000ms));
    }
  }
  E2bLocalTest::TearDown();
  canary_.reset();
}

int EscapeTest::ApiPort() const { return PortOf(Server().APIURL()); }
int EscapeTest::EnvdPort() const { return PortOf(Server().SandboxURL()); }

e2b::Sandbox EscapeTest::NewOfflineSandbox() {
  e2b::SandboxConfig cfg = Config();
  cfg.AllowInternetAccess = false;
  return NewSandbox(cfg);
}

Bystander EscapeTest::NewBystander() {
  Bystander b{NewSandbox(), "bystander-" + RandomHex(8)};
  b.sandbox.Filesystem.WriteString("/home/user/bystander.txt", b.marker);
  return b;
}

::testing::AssertionResult EscapeTest::Intact(const Bystander& b) {
  try {
    const auto ctx = e2b::Context::WithTimeout(10s);
    const std::string now =
        b.sandbox.Filesystem.ReadString(ctx, "/home/user/bystander.txt");
    if (now != b.marker) {
      return ::testing::AssertionFailure()
             << "the bystander's file changed: '" << now << "'";
    }
    e2b::CommandResult r = b.sandbox.Commands.RunWithContext(
        ctx, "/bin/true", {}, e2b::WithTimeout(10s));
    if (r.ExitCode != 0) {
      return ::testing::AssertionFailure()
             << "the bystander cannot run a command: " << r.Stderr;
    }
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "the bystander does not answer: " << e.what();
  }
  return ::testing::AssertionSuccess();
}

e2b::CommandResult EscapeTest::Shell(const e2b::Sandbox& sandbox,
                                     const std::string& user,
                                     const std::string& command,
                                     std::chrono::milliseconds timeout) {
  return sandbox.Commands.Run("/bin/bash", {"-c", command}, e2b::WithUser(user),
                              e2b::WithTimeout(timeout));
}

}  // namespace escape
}  // namespace e2b_test
