#include "runtime/sandbox_network.hpp"

#include "runtime/clone_memory.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace e2b_local {
namespace {

// E2B's ALL_TRAFFIC: the one unspecified CIDR its API accepts.
constexpr char kAllTraffic[] = "0.0.0.0/0";
// E2B sandboxes resolve through 8.8.8.8 and E2B allows it whenever allowOut
// holds domains; DNS through slirp4netns's forwarder follows the same rule.
constexpr std::array<unsigned char, 4> kE2bNameserver = {8, 8, 8, 8};
// slirp4netns's fixed virtual network (its --cidr default).
constexpr char kDnsForwarder4[] = "10.0.2.3";
constexpr char kDnsForwarder6[] = "fd00::3";

// Never reachable, whatever allowOut says: E2B's DeniedSandboxCIDRs (private,
// loopback, link-local incl. metadata 169.254.169.254, unique-local) plus what
// could reach a host service without being an interface address: "this
// network", multicast and broadcast, IPv4-mapped IPv6.
constexpr const char* kAlwaysDenied[] = {
    "0.0.0.0/8",      "10.0.0.0/8",    "100.64.0.0/10",  "127.0.0.0/8",
    "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4",
    "240.0.0.0/4",    "::/128",        "::1/128",        "::ffff:0:0/96",
    "fc00::/7",       "fe80::/10",     "ff00::/8"};

struct Cidr {
  int family = AF_UNSPEC;
  std::array<unsigned char, 16> addr{};
  int prefix = 0;

  int Bits() const { return family == AF_INET ? 32 : 128; }
  bool Unspecified() const {
    return std::all_of(addr.begin(), addr.begin() + Bits() / 8,
                       [](unsigned char b) { return b == 0; });
  }
  bool Contains(int fam, const unsigned char* ip) const {
    if (fam != family) return false;
    for (int bit = 0; bit < prefix; ++bit) {
      int mask = 0x80 >> (bit % 8);
      if ((addr[bit / 8] & mask) != (ip[bit / 8] & mask)) return false;
    }
    return true;
  }
  // Canonical text with host bits cleared, which nft requires.
  std::string Text() const {
    std::array<unsigned char, 16> net = addr;
    for (int bit = prefix; bit < Bits(); ++bit) {
      net[bit / 8] &= static_cast<unsigned char>(~(0x80 >> (bit % 8)));
    }
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(family, net.data(), buf, sizeof(buf));
    return prefix == Bits() ? std::string(buf)
                            : std::string(buf) + "/" + std::to_string(prefix);
  }
};

// An IP or CIDR as Go's net.ParseIP/ParseCIDR read them; nullopt otherwise.
std::optional<Cidr> ParseCidr(const std::string& text) {
  size_t slash = text.find('/');
  std::string ip = text.substr(0, slash);
  Cidr out;
  if (inet_pton(AF_INET, ip.c_str(), out.addr.data()) == 1) {
    out.family = AF_INET;
  } else if (ip.find(':') != std::string::npos &&
             inet_pton(AF_INET6, ip.c_str(), out.addr.data()) == 1) {
    out.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  out.prefix = out.Bits();
  if (slash != std::string::npos) {
    std::string bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 ||
        !std::all_of(bits.begin(), bits.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    out.prefix = std::stoi(bits);
    if (out.prefix > out.Bits()) return std::nullopt;
  }
  return out;
}

// E2B's IsSpecifiedIPOrCIDR.
bool IsSpecifiedIpOrCidr(const std::string& text) {
  if (text == kAllTraffic) return true;
  std::optional<Cidr> cidr = ParseCidr(text);
  return cidr && !cidr->Unspecified();
}

bool IsDomain(const std::string& entry) { return !ParseCidr(entry); }

// What the firewall and the helper must look like for one policy.
struct Plan {
  std::vector<std::string> always4, always6, allow4, allow6, deny4, deny6;
  bool dns = false;
  bool egress = false;  // whether slirp4netns must run
};

void AddTo(const Cidr& cidr, std::vector<std::string>& v4,
           std::vector<std::string>& v6) {
  (cidr.family == AF_INET ? v4 : v6).push_back(cidr.Text());
}

// Every address of the host's own interfaces (and their broadcast
// addresses): slirp4netns would connect to them from the host.
void AddHostAddresses(Plan& plan) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    throw std::runtime_error(std::string("getifaddrs: ") +
                             std::strerror(errno));
  }
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    for (sockaddr* sa :
         {it->ifa_addr,
          (it->ifa_flags & IFF_BROADCAST) ? it->ifa_broadaddr : nullptr}) {
      if (sa == nullptr) continue;
      Cidr host;
      host.family = sa->sa_family;
      if (sa->sa_family == AF_INET) {
        std::memcpy(host.addr.data(),
                    &reinterpret_cast<sockaddr_in*>(sa)->sin_addr, 4);
      } else if (sa->sa_family == AF_INET6) {
        std::memcpy(host.addr.data(),
                    &reinterpret_cast<sockaddr_in6*>(sa)->sin6_addr, 16);
      } else {
        continue;
      }
      host.prefix = host.Bits();
      AddTo(host, plan.always4, plan.always6);
    }
  }
  freeifaddrs(list);
}

Plan MakePlan(const EgressPolicy& policy) {
  Plan plan;
  for (const char* cidr : kAlwaysDenied) {
    AddTo(*ParseCidr(cidr), plan.always4, plan.always6);
  }
  AddHostAddresses(plan);

  bool has_domains = false;
  std::vector<Cidr> allow, deny;
  for (const std::string& entry : policy.allow_out) {
    if (std::optional<Cidr> cidr = ParseCidr(entry)) {
      allow.push_back(*cidr);
    } else {
      has_domains = true;  // fails closed, see EgressPolicy::allow_out
    }
  }
  bool deny_all = !policy.internet;
  for (const std::string& entry : policy.deny_out) {
    if (entry == kAllTraffic) deny_all = true;
    deny.push_back(*ParseCidr(entry));
  }
  if (deny_all) {
    // ALL_TRAFFIC names IPv4 only; the sandbox must not keep IPv6.
    deny.push_back(*ParseCidr("0.0.0.0/0"));
    deny.push_back(*ParseCidr("::/0"));
  }
  for (const Cidr& cidr : allow) AddTo(cidr, plan.allow4, plan.allow6);
  for (const Cidr& cidr : deny) AddTo(cidr, plan.deny4, plan.deny6);

  auto covers = [](const std::vector<Cidr>& list) {
    return std::any_of(list.begin(), list.end(), [](const Cidr& c) {
      return c.Contains(AF_INET, kE2bNameserver.data());
    });
  };
  plan.dns = has_domains || covers(allow) || !covers(deny);
  plan.egress = !deny_all || !allow.empty() || plan.dns;
  return plan;
}

void AppendSet(std::ostringstream& out, const char* name, const char* type,
               const std::vector<std::string>& elements) {
  out << "  set " << name << " { type " << type
      << "; flags interval; auto-merge;";
  if (!elements.empty()) {
    out << " elements = { ";
    for (size_t i = 0; i < elements.size(); ++i) {
      out << (i ? ", " : "") << elements[i];
    }
    out << " }";
  }
  out << " }\n";
}

// One nft script replacing the table atomically: the kernel never holds a
// half-written ruleset. Order: the sandbox's own loopback, neighbour
// discovery with slirp4netns, DNS, the host (never), allowOut, denyOut.
std::string Ruleset(const Plan& plan) {
  std::ostringstream out;
  out << "table inet e2b_sandbox\n"
      << "delete table inet e2b_sandbox\n"
      << "table inet e2b_sandbox {\n";
  AppendSet(out, "always4", "ipv4_addr", plan.always4);
  AppendSet(out, "always6", "ipv6_addr", plan.always6);
  AppendSet(out, "allow4", "ipv4_addr", plan.allow4);
  AppendSet(out, "allow6", "ipv6_addr", plan.allow6);
  AppendSet(out, "deny4", "ipv4_addr", plan.deny4);
  AppendSet(out, "deny6", "ipv6_addr", plan.deny6);
  const char* reject4 = "reject with icmp type admin-prohibited";
  const char* reject6 = "reject with icmpv6 type admin-prohibited";
  out << "  chain output {\n"
      << "    type filter hook output priority filter; policy accept;\n"
      // By name: an interface index would be looked up through
      // libnftables' process-wide interface cache, filled in whichever
      // namespace asked first (creates failed under concurrency).
      << "    oifname \"lo\" accept\n"
      << "    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
         "nd-neighbor-advert } accept\n";
  if (plan.dns) {
    out << "    ip daddr " << kDnsForwarder4
        << " meta l4proto { tcp, udp } th dport 53 accept\n"
        << "    ip6 daddr " << kDnsForwarder6
        << " meta l4proto { tcp, udp } th dport 53 accept\n";
  }
  out << "    ip daddr @always4 " << reject4 << "\n"
      << "    ip6 daddr @always6 " << reject6 << "\n"
      << "    ip daddr @allow4 accept\n"
      << "    ip6 daddr @allow6 accept\n"
      << "    ip daddr @deny4 " << reject4 << "\n"
      << "    ip6 daddr @deny6 " << reject6 << "\n"
      << "  }\n"
      << "}\n";
  return out.str();
}

// The one T of this process, made on first use: the child of a fork (a
// test's stand-in for a server that dies) has no copy of a worker's thread
// and would wait for it forever, so it makes its own. Never destroyed: the
// thread may still wait for work at exit. T's constructor may be private
// when T befriends this function.
template <typename T>
T& PerProcess() {
  static std::mutex mu;
  static T* instance = nullptr;
  static pid_t owner = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (instance == nullptr || owner != getpid()) {
    instance = new T();
    owner = getpid();
  }
  return *instance;
}

// Runs nft scripts inside sandbox network namespaces, one at a time
// (libnftables keeps process-wide caches). setns() changes only the calling
// thread's namespace, so one long-lived thread enters each sandbox's and
// returns to its own: a thread made per script paid for a fresh stack and
// malloc arena, page faults that took 5-15 ms of a create here.
class NftWorker {
 public:
  static NftWorker& Instance() { return PerProcess<NftWorker>(); }

  // The error text, empty on success.
  std::string Run(int netns_fd, const std::string& script) {
    // The worker has its own descriptor table; it reopens ours by path.
    Job job{"/proc/" + std::to_string(getpid()) + "/task/" +
                std::to_string(gettid()) + "/fd/" + std::to_string(netns_fd),
            &script,
            {},
            false};
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(&job);
    cv_.notify_all();
    cv_.wait(lock, [&job] { return job.done; });
    return job.error;
  }

 private:
  struct Job {
    std::string netns_path;
    const std::string* script;
    std::string error;
    bool done;
  };

  friend NftWorker& PerProcess<NftWorker>();
  NftWorker() {
    std::thread([this] { Loop(); }).detach();
  }

  void Loop() {
    // libnftables waits for netlink answers with select(), which aborts the
    // process on a descriptor past FD_SETSIZE (1024): with a few hundred
    // sandboxes the server holds more. A private table holding only
    // stdio and what a script needs keeps its socket low. Not under TSan:
    // it tracks descriptors per process, so the worker's fd 4 and the main
    // thread's fd 4 looked like one descriptor closed and created at once
    // (a false race report, then a hung test); TSan runs never hold
    // hundreds of sandboxes.
    if (!runtime_internal::kThreadSanitizer && unshare(CLONE_FILES) == 0) {
      syscall(SYS_close_range, 3, ~0U, 0);
    }
    for (;;) {
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty(); });
        job = queue_.front();
        queue_.pop_front();
      }
      // Home is the main thread's namespace; no descriptor is kept for it
      // between scripts.
      UniqueFd home(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
      UniqueFd netns(open(job->netns_path.c_str(), O_RDONLY | O_CLOEXEC));
      std::string error = netns.valid() ? RunIn(netns.get(), *job->script)
                                        : "open " + job->netns_path + ": " +
                                              std::strerror(errno);
      // Back home, so no sandbox's namespace is held past its script.
      if (home.valid()) setns(home.get(), CLONE_NEWNET);
      std::lock_guard<std::mutex> lock(mu_);
      job->error = std::move(error);
      job->done = true;
      cv_.notify_all();
    }
  }

  static std::string RunIn(int netns_fd, const std::string& script) {
    if (setns(netns_fd, CLONE_NEWNET) != 0) {
      return std::string("setns: ") + std::strerror(errno);
    }
    nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (ctx == nullptr) return "nft_ctx_new failed";
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    std::string error;
    if (nft_run_cmd_from_buffer(ctx, script.c_str()) != 0) {
      const char* text = nft_ctx_get_error_buffer(ctx);
      error = text != nullptr && *text != '\0' ? text : "nft failed";
    }
    nft_ctx_free(ctx);
    return error;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
};

void RunNft(int netns_fd, const std::string& script) {
  std::string error = NftWorker::Instance().Run(netns_fd, script);
  if (!error.empty()) {
    throw std::runtime_error("sandbox firewall: " + error);
  }
}

// Makes the port proxy's sockets inside sandbox network namespaces. setns()
// changes only the calling thread's namespace, and a server thread left in
// a sandbox's namespace would make every later socket of its own there: so
// only this thread ever enters one, it does nothing else there but
// socket(), and should it fail to return home it refuses all later work.
// Unlike NftWorker it shares the server's descriptor table, since the
// socket it makes is the caller's.
class NamespaceSocketWorker {
 public:
  static NamespaceSocketWorker& Instance() {
    return PerProcess<NamespaceSocketWorker>();
  }

  // A socket made in the namespace `netns_fd` refers to, or -errno.
  int Run(int netns_fd) {
    Job job{netns_fd, -EIO, false};
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(&job);
    cv_.notify_all();
    cv_.wait(lock, [&job] { return job.done; });
    return job.result;
  }

 private:
  struct Job {
    int netns_fd;
    int result;
    bool done;
  };

  friend NamespaceSocketWorker& PerProcess<NamespaceSocketWorker>();
  NamespaceSocketWorker() {
    std::thread([this] { Loop(); }).detach();
  }

  void Loop() {
    UniqueFd home(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    bool stranded = !home.valid();
    for (;;) {
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty(); });
        job = queue_.front();
        queue_.pop_front();
      }
      int result = -EIO;
      if (!stranded) {
        if (setns(job->netns_fd, CLONE_NEWNET) != 0) {
          result = -errno;
        } else {
          int fd =
              socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
          result = fd >= 0 ? fd : -errno;
          // The socket made is right either way; only later jobs are at
          // risk when the way home fails.
          stranded = setns(home.get(), CLONE_NEWNET) != 0;
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      job->result = result;
      job->done = true;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
};

UniqueFd OpenNamespace(pid_t pid, const char* kind) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + kind;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    throw std::runtime_error("open " + path + ": " + std::strerror(errno));
  }
  return fd;
}

const char* SlirpBinary() {
  for (const char* path : {"/usr/bin/slirp4netns", "/usr/local/bin/slirp4netns",
                           "/bin/slirp4netns"}) {
    if (access(path, X_OK) == 0) return path;
  }
  throw std::runtime_error(
      "slirp4netns not found (Debian package slirp4netns); sandboxes with "
      "internet access need it");
}

// Fixed descriptor numbers in the helper, named in its arguments.
constexpr int kChildUserns = 3, kChildNetns = 4, kChildReady = 5,
              kChildExit = 6, kChildResolv = 7;

struct HelperExec {
  const char* binary;
  char* const* argv;
  char* const* envp;
  int fds[4];
  int devnull;
};

// In a vfork-style child (CLONE_VM|CLONE_VFORK) of the multithreaded server:
// async-signal-safe calls only, nothing written but its own stack, while the
// calling thread waits for the exec.
int ExecHelper(void* raw) {
  const HelperExec& exec = *static_cast<const HelperExec*>(raw);
  const int(&fds)[4] = exec.fds;
  const int devnull = exec.devnull;
  // Lift every descriptor above the targets first so dup2 cannot clobber one.
  int lifted[4];
  for (int i = 0; i < 4; ++i) {
    lifted[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD, 64);
    if (fds[i] >= 0 && lifted[i] < 0) _exit(120);
  }
  for (int i = 0; i < 4; ++i) {
    if (lifted[i] >= 0 && dup2(lifted[i], kChildUserns + i) < 0) _exit(121);
  }
  if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0) {
    _exit(122);
  }
  syscall(SYS_close_range, kChildExit + 1, ~0U, 0);

  // Handlers first (the child has its own copy of them), then the mask the
  // parent blocked for the clone: no server handler runs in shared memory.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setsid();

  // slirp4netns --enable-sandbox keeps /etc and /run of its mount namespace:
  // show it an empty /run (no host sockets) and an /etc with resolv.conf only.
  // The resolv.conf to keep is opened in the new namespace, as bind mounts
  // from another mount namespace are refused.
  if (unshare(CLONE_NEWNS) != 0 ||
      mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    _exit(123);
  }
  int resolv = open("/etc/resolv.conf", O_PATH | O_CLOEXEC);
  if (resolv >= 0 && resolv != kChildResolv) {
    if (dup2(resolv, kChildResolv) < 0) _exit(124);
    close(resolv);
  }
  if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=16k,mode=0755") != 0 ||
      mount("tmpfs", "/etc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=16k,mode=0755") != 0) {
    _exit(125);
  }
  if (resolv >= 0) {
    int file = open("/etc/resolv.conf", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (file < 0) _exit(126);
    close(file);
    if (mount("/proc/self/fd/7", "/etc/resolv.conf", nullptr, MS_BIND,
              nullptr) != 0) {
      _exit(126);
    }
    close(kChildResolv);
  }
  execve(exec.binary, exec.argv, exec.envp);
  _exit(127);
}

}  // namespace

void ValidateEgressPolicy(const EgressPolicy& policy) {
  for (const std::string& entry : policy.deny_out) {
    if (!IsSpecifiedIpOrCidr(entry)) {
      throw std::invalid_argument("invalid denied CIDR " + entry);
    }
  }
  bool has_domains = false;
  for (const std::string& entry : policy.allow_out) {
    if (IsDomain(entry)) {
      has_domains = true;
    } else if (!IsSpecifiedIpOrCidr(entry)) {
      throw std::invalid_argument("invalid allowed address " + entry);
    }
  }
  if (has_domains && std::find(policy.deny_out.begin(), policy.deny_out.end(),
                               kAllTraffic) == policy.deny_out.end()) {
    // E2B's ErrMsgDomainsRequireBlockAll.
    throw std::invalid_argument(
        "When specifying allowed domains in allow out, you must include "
        "'ALL_TRAFFIC' in deny out to block all other traffic.");
  }
}

SandboxNetwork::SandboxNetwork(UniqueFd userns, UniqueFd netns)
    : userns_(std::move(userns)), netns_(std::move(netns)) {}

std::unique_ptr<SandboxNetwork> SandboxNetwork::Attach(
    pid_t init_pid, const EgressPolicy& policy) {
  ValidateEgressPolicy(policy);
  UniqueFd userns = OpenNamespace(init_pid, "user");
  UniqueFd netns = OpenNamespace(init_pid, "net");
  std::unique_ptr<SandboxNetwork> network(
      new SandboxNetwork(std::move(userns), std::move(netns)));
  std::lock_guard<std::mutex> lock(network->mu_);
  network->ApplyLocked(policy, true);
  return network;
}

void SandboxNetwork::Update(const EgressPolicy& policy) {
  ValidateEgressPolicy(policy);
  std::lock_guard<std::mutex> lock(mu_);
  ApplyLocked(policy, false);
}

void SandboxNetwork::ApplyLocked(const EgressPolicy& policy, bool fresh) {
  Plan plan = MakePlan(policy);
  if (fresh) {
    // Nothing runs in a new namespace yet, so the helper may boot (~20 ms)
    // while the rules load; both are in place before Attach returns.
    if (plan.egress) SpawnHelperLocked();
    try {
      RunNft(netns_.get(), Ruleset(plan));
    } catch (...) {
      StopHelperLocked(nullptr);
      throw;
    }
    if (plan.egress) AwaitHelperLocked();
    return;
  }
  // Rules first, so no packet leaves under the old policy once the helper
  // (re)starts, and none is sent before the helper stops.
  RunNft(netns_.get(), Ruleset(plan));
  if (plan.egress && helper_pid_ < 0) {
    SpawnHelperLocked();
    AwaitHelperLocked();
  }
  if (!plan.egress && helper_pid_ >= 0) StopHelperLocked(nullptr);
}

void SandboxNetwork::SpawnHelperLocked() {
  const char* binary = SlirpBinary();
  int ready[2], lifeline[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  if (pipe2(lifeline, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  UniqueFd lifeline_read(lifeline[0]), lifeline_write(lifeline[1]);
  UniqueFd devnull(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull.valid()) {
    throw std::runtime_error(std::string("/dev/null: ") + std::strerror(errno));
  }

  // No port forwarding exists in slirp4netns without its API socket, which
  // is not enabled; --disable-host-loopback stops 10.0.2.2 reaching the
  // host's 127.0.0.1 (the firewall rejects 10.0.0.0/8 as well).
  std::vector<std::string> args = {
      binary,
      "--configure",
      "--mtu=65520",
      "--disable-host-loopback",
      "--enable-sandbox",
      "--enable-seccomp",
      "--enable-ipv6",
      "--ready-fd=" + std::to_string(kChildReady),
      "--exit-fd=" + std::to_string(kChildExit),
      "--userns-path=/proc/self/fd/" + std::to_string(kChildUserns),
      "--netns-type=path",
      "/proc/self/fd/" + std::to_string(kChildNetns),
      "eth0"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string path_env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env.data(), nullptr};
  HelperExec exec{
      binary,
      argv.data(),
      envp,
      {userns_.get(), netns_.get(), ready_write.get(), lifeline_read.get()},
      devnull.get()};

  // Like posix_spawn: the child borrows this memory until it execs, so no
  // page of the server turns copy-on-write (runtime/clone_memory.hpp).
  std::vector<char> stack(std::size_t{64} * 1024);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(
      ExecHelper, stack.data() + stack.size(),
      runtime_internal::kCloneBorrowMemory | CLONE_VFORK | SIGCHLD, &exec);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    throw std::runtime_error(std::string("clone: ") +
                             std::strerror(clone_errno));
  }
  ready_write.Reset();
  lifeline_read.Reset();
  helper_pid_ = pid;
  helper_pidfd_.Reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  lifeline_ = std::move(lifeline_write);
  helper_ready_ = std::move(ready_read);
}

void SandboxNetwork::AwaitHelperLocked() {
  UniqueFd ready_read = std::move(helper_ready_);
  // slirp4netns writes "1" once the interface is configured.
  pollfd wait{ready_read.get(), POLLIN, 0};
  int polled = 0;
  do {
    polled = poll(&wait, 1, 10000);
  } while (polled < 0 && errno == EINTR);
  char byte = 0;
  if (polled == 1 && read(ready_read.get(), &byte, 1) == 1 && byte == '1') {
    return;
  }
  int status = 0;
  pid_t dead = helper_pid_;
  StopHelperLocked(&status);
  std::string reason = polled == 0 ? "not ready after 10 s" : "exited";
  if (WIFEXITED(status)) {
    reason += " with status " + std::to_string(WEXITSTATUS(status));
  }
  throw std::runtime_error("slirp4netns (pid " + std::to_string(dead) + ") " +
                           reason);
}

void SandboxNetwork::StopHelperLocked(int* status) {
  if (helper_pid_ < 0) return;
  lifeline_.Reset();  // slirp4netns exits on its own on this
  if (helper_pidfd_.valid()) {
    syscall(SYS_pidfd_send_signal, helper_pidfd_.get(), SIGKILL, nullptr, 0);
  } else {
    kill(helper_pid_, SIGKILL);
  }
  int wstatus = 0;
  while (waitpid(helper_pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (status != nullptr) *status = wstatus;
  helper_pidfd_.Reset();
  helper_ready_.Reset();
  helper_pid_ = -1;
}

void SandboxNetwork::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  StopHelperLocked(nullptr);
}

std::vector<pid_t> SandboxNetwork::HelperPids() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (helper_pid_ < 0) return {};
  return {helper_pid_};
}

UniqueFd SandboxNetwork::OpenTcpSocket() const {
  std::lock_guard<std::mutex> lock(mu_);
  int fd = NamespaceSocketWorker::Instance().Run(netns_.get());
  if (fd < 0) {
    throw std::runtime_error(std::string("socket in the sandbox network: ") +
                             std::strerror(-fd));
  }
  return UniqueFd(fd);
}

std::string SandboxNetwork::ResolvConf() const {
  return std::string("nameserver ") + kDnsForwarder4 + "\n";
}

SandboxNetwork::~SandboxNetwork() { Stop(); }

}  // namespace e2b_local
