// SandboxNetwork against real namespaces: a stand-in sandbox init made with
// CLONE_NEWUSER|CLONE_NEWNET, probed by children that enter its network
// namespace. Nothing leaves this machine: every address probed is either the
// host's own, rejected inside the namespace, or loopback inside it.
#include "runtime/sandbox_network.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {
namespace {

using std::chrono::steady_clock;

bool HaveSlirp() { return access("/usr/bin/slirp4netns", X_OK) == 0; }

// A process in a new user and network namespace, mapped like a sandbox
// (uid 0 inside = host uid 1000000000), with lo up, waiting to be killed.
class FakeSandbox {
 public:
  FakeSandbox() {
    int go[2];
    if (pipe(go) != 0) throw std::runtime_error("pipe");
    // A fork that starts in the new namespaces (raw clone without a new
    // stack): unshare(CLONE_NEWUSER) in a forked child fails under TSan,
    // whose runtime starts a thread in the child.
    pid_ = static_cast<pid_t>(syscall(SYS_clone,
                                      CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD,
                                      nullptr, nullptr, nullptr, nullptr));
    if (pid_ < 0) throw std::runtime_error("clone");
    if (pid_ == 0) {
      close(go[1]);
      char byte;
      if (read(go[0], &byte, 1) != 1) _exit(2);  // maps written
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      ifreq req{};
      std::strcpy(req.ifr_name, "lo");
      ioctl(s, SIOCGIFFLAGS, &req);
      req.ifr_flags |= IFF_UP;
      if (ioctl(s, SIOCSIFFLAGS, &req) != 0) _exit(3);
      close(s);
      for (;;) pause();
    }
    close(go[0]);
    // Wait until the child has its own user namespace, then map it.
    std::string self_ns = NsLink(getpid(), "user");
    for (int i = 0; i < 2000 && NsLink(pid_, "user") == self_ns; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    std::string proc = "/proc/" + std::to_string(pid_);
    Write(proc + "/uid_map", "0 1000000000 65536");
    Write(proc + "/setgroups", "deny");
    Write(proc + "/gid_map", "0 1000000000 65536");
    if (write(go[1], "x", 1) != 1) throw std::runtime_error("go");
    close(go[1]);
    // lo is up once the child's lo answers.
    for (int i = 0; i < 2000 && InterfacesOf().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }
  ~FakeSandbox() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

  // Runs `probe` in a child inside the sandbox's network namespace; returns
  // its exit code.
  int Run(const std::function<int()>& probe) const {
    pid_t child = fork();
    if (child == 0) {
      std::string path = "/proc/" + std::to_string(pid_) + "/ns/net";
      int fd = open(path.c_str(), O_RDONLY);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(100);
      _exit(probe());
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 101;
  }

  // Names of the interfaces that are up inside.
  std::vector<std::string> InterfacesOf() const {
    std::vector<std::string> names;
    int pipefd[2];
    if (pipe(pipefd) != 0) return names;
    Run([&] {
      ifaddrs* list = nullptr;
      if (getifaddrs(&list) != 0) return 1;
      std::string out;
      for (ifaddrs* it = list; it; it = it->ifa_next) {
        if ((it->ifa_flags & IFF_UP) && it->ifa_addr &&
            it->ifa_addr->sa_family == AF_PACKET) {
          out += std::string(it->ifa_name) + "\n";
        }
      }
      return write(pipefd[1], out.data(), out.size()) ==
                     static_cast<ssize_t>(out.size())
                 ? 0
                 : 1;
    });
    close(pipefd[1]);
    std::string text;
    char buf[256];
    for (ssize_t n; (n = read(pipefd[0], buf, sizeof(buf))) > 0;) {
      text.append(buf, n);
    }
    close(pipefd[0]);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) names.push_back(line);
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  static std::string NsLink(pid_t pid, const char* kind) {
    char buf[64] = {};
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + kind;
    ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
    return n > 0 ? std::string(buf, n) : "";
  }
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("write " + path);
  }
  pid_t pid_ = -1;
};

// Connect result codes for probes: 0 connected, 1 refused/unreachable fast,
// 2 timed out, 3 other error.
int ConnectTo(const std::string& ip, int port, int timeout_ms = 1500) {
  sockaddr_storage addr{};
  socklen_t len;
  int family;
  if (ip.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = family = AF_INET6;
    a6->sin6_port = htons(port);
    inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr);
    len = sizeof(*a6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = family = AF_INET;
    a4->sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &a4->sin_addr);
    len = sizeof(*a4);
  }
  int s = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s < 0) return 3;
  if (connect(s, reinterpret_cast<sockaddr*>(&addr), len) == 0) return 0;
  if (errno != EINPROGRESS) return 1;
  pollfd p{s, POLLOUT, 0};
  if (poll(&p, 1, timeout_ms) == 0) return 2;
  int err = 0;
  socklen_t err_len = sizeof(err);
  getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &err_len);
  close(s);
  return err == 0 ? 0 : 1;
}

// A listener on the host, to prove the sandbox cannot reach it.
struct HostListener {
  explicit HostListener(const char* ip) {
    bool v6 = std::strchr(ip, ':') != nullptr;
    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage addr{};
    socklen_t len;
    if (v6) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
      a6->sin6_family = AF_INET6;
      inet_pton(AF_INET6, ip, &a6->sin6_addr);
      len = sizeof(*a6);
    } else {
      auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
      a4->sin_family = AF_INET;
      inet_pton(AF_INET, ip, &a4->sin_addr);
      len = sizeof(*a4);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(fd, 16) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error(std::string("listen ") + ip);
    }
    port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  ~HostListener() { close(fd); }
  bool HasPendingConnection() const {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }
  int fd = -1;
  int port = 0;
};

std::vector<std::string> HostAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* it = list; it; it = it->ifa_next) {
    if (!it->ifa_addr) continue;
    char buf[INET6_ADDRSTRLEN];
    if (it->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET,
                &reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr, buf,
                sizeof(buf));
      out.push_back(buf);
    } else if (it->ifa_addr->sa_family == AF_INET6) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(it->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) continue;  // needs a scope
      inet_ntop(AF_INET6, &a6->sin6_addr, buf, sizeof(buf));
      out.push_back(buf);
    }
  }
  freeifaddrs(list);
  return out;
}

// The sandbox's nft ruleset, listed from inside its namespace.
std::string ListRuleset(const FakeSandbox& sandbox) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return "";
  pid_t child = fork();
  if (child == 0) {
    std::string path = "/proc/" + std::to_string(sandbox.pid()) + "/ns/net";
    int fd = open(path.c_str(), O_RDONLY);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(100);
    dup2(pipefd[1], 1);
    execl("/usr/sbin/nft", "nft", "list", "ruleset", nullptr);
    _exit(127);
  }
  close(pipefd[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof(buf))) > 0;) {
    text.append(buf, n);
  }
  close(pipefd[0]);
  waitpid(child, nullptr, 0);
  return text;
}

bool ProcessGone(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("State:", 0) == 0)
      return line.find('Z') != std::string::npos;
  }
  return true;
}

class SandboxNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, nf_tables)";
    if (!HaveSlirp()) GTEST_SKIP() << "slirp4netns not installed";
  }
};

TEST(EgressPolicyValidation, RejectsWhatE2bRejects) {
  EXPECT_NO_THROW(ValidateEgressPolicy({}));
  EXPECT_NO_THROW(ValidateEgressPolicy(
      {true, {"1.1.1.1", "10.0.0.0/8", "2001:db8::/32"}, {"0.0.0.0/0"}}));
  EXPECT_NO_THROW(
      ValidateEgressPolicy({true, {"example.com"}, {"0.0.0.0/0", "8.8.8.8"}}));
  auto message = [](const EgressPolicy& policy) -> std::string {
    try {
      ValidateEgressPolicy(policy);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message({true, {}, {"10.0.0.0/33"}}),
            "invalid denied CIDR 10.0.0.0/33");
  EXPECT_EQ(message({true, {}, {"example.com"}}),
            "invalid denied CIDR example.com");
  EXPECT_EQ(message({true, {}, {"0.0.0.0"}}), "invalid denied CIDR 0.0.0.0");
  EXPECT_EQ(message({true, {}, {"::/0"}}), "invalid denied CIDR ::/0");
  EXPECT_EQ(message({true, {"0.0.0.0/8"}, {}}),
            "invalid allowed address 0.0.0.0/8");
  EXPECT_NE(message({true, {"example.com"}, {}}).find("ALL_TRAFFIC"),
            std::string::npos);
}

TEST_F(SandboxNetworkTest, WithoutInternetOnlyLoopbackAndNoHelper) {
  FakeSandbox sandbox;
  auto network = SandboxNetwork::Attach(sandbox.pid(), {false, {}, {}});
  EXPECT_TRUE(network->HelperPids().empty());
  EXPECT_EQ(sandbox.InterfacesOf(), std::vector<std::string>{"lo"});
  EXPECT_EQ(sandbox.Run([] { return ConnectTo("192.0.2.1", 80); }), 1);
}

TEST_F(SandboxNetworkTest, HostIsUnreachableAndLoopbackInsideWorks) {
  FakeSandbox sandbox;
  HostListener loopback("127.0.0.1");
  HostListener any4("0.0.0.0");
  HostListener any6("::");
  // allowOut naming the host must not open it.
  std::vector<std::string> allow = {"127.0.0.1", "10.0.2.2"};
  for (const std::string& ip : HostAddresses()) allow.push_back(ip);
  auto network = SandboxNetwork::Attach(sandbox.pid(), {true, allow, {}});
  ASSERT_EQ(network->HelperPids().size(), 1u);
  EXPECT_EQ(sandbox.InterfacesOf(), (std::vector<std::string>{"eth0", "lo"}));

  struct Target {
    std::string ip;
    int port;
  };
  std::vector<Target> targets = {{"127.0.0.1", loopback.port},
                                 {"10.0.2.2", loopback.port},  // gateway
                                 {"10.0.2.2", any4.port},
                                 {"::1", any6.port},
                                 {"169.254.169.254", 80}};
  for (const std::string& ip : HostAddresses()) {
    if (ip == "127.0.0.1" || ip == "::1") continue;
    targets.push_back(
        {ip, ip.find(':') == std::string::npos ? any4.port : any6.port});
  }
  for (const Target& target : targets) {
    auto start = steady_clock::now();
    int result = sandbox.Run([&] { return ConnectTo(target.ip, target.port); });
    EXPECT_NE(result, 0) << target.ip << ":" << target.port;
    EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(1400))
        << target.ip << " should fail fast";
  }
  EXPECT_FALSE(loopback.HasPendingConnection());
  EXPECT_FALSE(any4.HasPendingConnection());
  EXPECT_FALSE(any6.HasPendingConnection());

  // The sandbox's own loopback works.
  EXPECT_EQ(sandbox.Run([] {
    HostListener inside("127.0.0.1");
    return ConnectTo("127.0.0.1", inside.port);
  }),
            0);
  EXPECT_EQ(network->ResolvConf(), "nameserver 10.0.2.3\n");
}

TEST_F(SandboxNetworkTest, DenyAndAllowRulesAreInstalledAndDenyFailsFast) {
  FakeSandbox sandbox;
  auto network = SandboxNetwork::Attach(sandbox.pid(),
                                        {true,
                                         {"203.0.113.7", "2001:db8::1"},
                                         {"203.0.113.0/24", "198.51.100.9"}});
  std::string rules = ListRuleset(sandbox);
  EXPECT_NE(rules.find("203.0.113.0/24"), std::string::npos) << rules;
  EXPECT_NE(rules.find("203.0.113.7"), std::string::npos) << rules;
  EXPECT_NE(rules.find("198.51.100.9"), std::string::npos) << rules;
  EXPECT_NE(rules.find("2001:db8::1"), std::string::npos) << rules;
  EXPECT_NE(rules.find("dport 53 accept"), std::string::npos) << rules;
  for (const char* denied : {"203.0.113.5", "198.51.100.9"}) {
    auto start = steady_clock::now();
    EXPECT_EQ(sandbox.Run([&] { return ConnectTo(denied, 80); }), 1) << denied;
    EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(500));
  }

  // ALL_TRAFFIC also closes IPv6 and DNS.
  network->Update({true, {}, {"0.0.0.0/0"}});
  rules = ListRuleset(sandbox);
  EXPECT_NE(rules.find("::/0"), std::string::npos) << rules;
  EXPECT_EQ(rules.find("dport 53 accept"), std::string::npos) << rules;
  EXPECT_EQ(rules.find("203.0.113.7"), std::string::npos) << rules;
  EXPECT_EQ(sandbox.Run([] { return ConnectTo("2001:db8::5", 80); }), 1);
}

TEST_F(SandboxNetworkTest, UpdateStartsAndStopsTheHelper) {
  FakeSandbox sandbox;
  auto network = SandboxNetwork::Attach(sandbox.pid(), {true, {}, {}});
  ASSERT_EQ(network->HelperPids().size(), 1u);
  pid_t first = network->HelperPids()[0];

  network->Update({false, {}, {}});
  EXPECT_TRUE(network->HelperPids().empty());
  EXPECT_TRUE(ProcessGone(first));
  EXPECT_EQ(sandbox.InterfacesOf(), std::vector<std::string>{"lo"});

  // E2B keeps allowOut when internet access is off: egress to it only.
  network->Update({false, {"203.0.113.7"}, {}});
  ASSERT_EQ(network->HelperPids().size(), 1u);
  EXPECT_EQ(sandbox.InterfacesOf(), (std::vector<std::string>{"eth0", "lo"}));
  EXPECT_EQ(sandbox.Run([] { return ConnectTo("203.0.113.8", 80); }), 1);

  pid_t second = network->HelperPids()[0];
  network->Stop();
  network->Stop();
  EXPECT_TRUE(network->HelperPids().empty());
  EXPECT_TRUE(ProcessGone(second));
}

TEST_F(SandboxNetworkTest, HelperDiesWithTheServer) {
  FakeSandbox sandbox;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t server = fork();
  if (server == 0) {
    // A "server" that dies without stopping its network.
    try {
      auto network = SandboxNetwork::Attach(sandbox.pid(), {true, {}, {}});
      pid_t helper = network->HelperPids().at(0);
      if (write(pipefd[1], &helper, sizeof(helper)) != sizeof(helper)) {
        _exit(2);
      }
      network.release();
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  close(pipefd[1]);
  pid_t helper = -1;
  ASSERT_EQ(read(pipefd[0], &helper, sizeof(helper)),
            static_cast<ssize_t>(sizeof(helper)));
  close(pipefd[0]);
  waitpid(server, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = ProcessGone(helper);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "slirp4netns " << helper << " outlived the server";
  if (!gone) kill(helper, SIGKILL);
}

// Not a pass/fail test: prints Attach latency and the helper's memory.
TEST_F(SandboxNetworkTest, MeasureAttachAndHelperMemory) {
  std::vector<double> firewall_only;
  for (int i = 0; i < 9; ++i) {
    FakeSandbox sandbox;
    auto start = steady_clock::now();
    auto network = SandboxNetwork::Attach(sandbox.pid(), {false, {}, {}});
    firewall_only.push_back(
        std::chrono::duration<double, std::milli>(steady_clock::now() - start)
            .count());
  }
  std::sort(firewall_only.begin(), firewall_only.end());
  std::printf("Attach without internet (firewall only) p50 %.1f ms\n",
              firewall_only[firewall_only.size() / 2]);
  std::vector<double> millis;
  long rss_kb = 0, pss_kb = 0;
  for (int i = 0; i < 9; ++i) {
    FakeSandbox sandbox;
    auto start = steady_clock::now();
    auto network = SandboxNetwork::Attach(sandbox.pid(), {true, {}, {}});
    millis.push_back(
        std::chrono::duration<double, std::milli>(steady_clock::now() - start)
            .count());
    if (i == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::ifstream smaps("/proc/" +
                          std::to_string(network->HelperPids().at(0)) +
                          "/smaps_rollup");
      std::string key;
      long value;
      std::string unit;
      while (smaps >> key) {
        if (key == "Rss:" && smaps >> value >> unit) rss_kb = value;
        if (key == "Pss:" && smaps >> value >> unit) pss_kb = value;
      }
    }
  }
  std::sort(millis.begin(), millis.end());
  std::printf(
      "Attach p50 %.1f ms (min %.1f, max %.1f); slirp4netns RSS %ld "
      "KiB, PSS %ld KiB\n",
      millis[millis.size() / 2], millis.front(), millis.back(), rss_kb, pss_kb);
  EXPECT_GT(rss_kb, 0);
}

}  // namespace
}  // namespace e2b_local
