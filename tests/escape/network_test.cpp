// Network attacks: reaching the server's ports, the host's loopback and the
// host's abstract unix sockets from inside a sandbox, raw sockets, changing
// the host's `lo`, and starving the server of connections from the host side.
// Only loopback targets are ever contacted: the server's own ports, a
// listener this test opens on 127.0.0.1, and the host's own addresses.

#include "escape/escape_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace e2b_test {
namespace escape {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// Tries a TCP connect to each host:port of ARGS[0] (comma separated) and puts
// `connect.<host>:<port>` = OK or the errno name.
constexpr const char* kConnectProbe = R"PY(
for target in ARGS[0].split(','):
    host, port = target.rsplit(':', 1)
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    def connect():
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(1.0)
        try:
            s.connect((host, int(port)))
        except socket.timeout:
            return 'ETIMEDOUT'
        finally:
            s.close()
        return 'OK'
    probe('connect.' + target, connect)
)PY";

class NetworkTest : public EscapeTest,
                    public ::testing::WithParamInterface<bool> {
 protected:
  e2b::Sandbox Attacker() {
    return GetParam() ? Target() : NewOfflineSandbox();
  }
};

TEST_P(NetworkTest, ServerPortsAndHostLoopbackAreUnreachable) {
  LoopbackListener listener;
  ASSERT_GT(listener.Port(), 0);
  e2b::Sandbox sandbox = Attacker();
  std::vector<std::string> ports = {std::to_string(ApiPort()),
                                    std::to_string(EnvdPort()),
                                    std::to_string(listener.Port())};
  std::vector<std::string> hosts = {"127.0.0.1", "::1"};
  for (const auto& a : HostAddresses()) hosts.push_back(a);
  std::vector<std::string> targets;
  for (const auto& h : hosts) {
    for (const auto& p : ports) targets.push_back(h + ":" + p);
  }
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(sandbox, user, kConnectProbe, {Join(targets)});
    for (const auto& t : targets) {
      EXPECT_NE(run.Get("connect." + t), "OK")
          << "the sandbox reached " << t << " of the host\n"
          << run.Describe();
      EXPECT_NE(run.Get("connect." + t), "(missing)") << run.Describe();
    }
  }
  EXPECT_EQ(listener.Accepted(), 0)
      << "a sandbox connected to a listener on the host's 127.0.0.1";
}

TEST_P(NetworkTest, HostAbstractUnixSocketsAreUnreachable) {
  // Abstract unix sockets belong to the network namespace, not to the
  // filesystem: a sandbox in the host's namespace reaches every one of them
  // (D-Bus, container runtimes' control sockets, ...).
  AbstractSocketListener listener;
  ASSERT_FALSE(listener.Name().empty());
  e2b::Sandbox sandbox = Attacker();
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(sandbox, user,
                            "def connect():\n"
                            "    s = socket.socket(socket.AF_UNIX)\n"
                            "    s.settimeout(1.0)\n"
                            "    s.connect('\\0' + ARGS[0])\n"
                            "    s.close()\n"
                            "    return 'OK'\n"
                            "probe('abstract', connect)\n",
                            {listener.Name()});
    EXPECT_TRUE(Refused(run, "abstract",
                        {"ECONNREFUSED", "ENOENT", "EPERM", "EACCES"}));
  }
  EXPECT_EQ(listener.Accepted(), 0);
}

INSTANTIATE_TEST_SUITE_P(Escape, NetworkTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "WithInternet"
                                             : "WithoutInternet";
                         });

class RawNetworkTest : public EscapeTest {};

TEST_F(RawNetworkTest, RawAndPacketSocketsAreRefused) {
  // CAP_NET_RAW is not in the sandbox's set: no spoofed packets, no sniffing.
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(
        Target(), user,
        "probe('raw', lambda: (socket.socket(socket.AF_INET, socket.SOCK_RAW, "
        "socket.IPPROTO_ICMP).close(), 'OK')[1])\n"
        "probe('packet', lambda: (socket.socket(socket.AF_PACKET, "
        "socket.SOCK_RAW, 0).close(), 'OK')[1])\n");
    EXPECT_TRUE(Refused(run, "raw", {"EPERM", "EACCES"}));
    EXPECT_TRUE(Refused(run, "packet", {"EPERM", "EACCES", "EAFNOSUPPORT"}));
  }
}

TEST_F(RawNetworkTest, LoopbackCannotBeReconfigured) {
  // SIOCSIFMTU and SIOCSIFFLAGS on `lo` with the values it already has:
  // accepted only with CAP_NET_ADMIN, which the sandbox must not hold (with
  // it, the server's nft rules in the sandbox's namespace could be undone).
  ProbeRun run = RunProbe(Target(), "root", R"PY(
import fcntl
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
req = struct.pack('16sH22x', b'lo', 0)
def same_mtu():
    cur = fcntl.ioctl(s, 0x8921, struct.pack('16si20x', b'lo', 0))
    fcntl.ioctl(s, 0x8922, cur)
    return 'OK'
def same_flags():
    cur = fcntl.ioctl(s, 0x8913, req)
    fcntl.ioctl(s, 0x8914, cur)
    return 'OK'
probe('mtu', same_mtu)
probe('flags', same_flags)
)PY");
  EXPECT_TRUE(Refused(run, "mtu", {"EPERM", "EACCES"}));
  EXPECT_TRUE(Refused(run, "flags", {"EPERM", "EACCES"}));
}

// ---- connection starvation, from the host side ----------------------------

class ConnectionFloodTest : public EscapeTest,
                            public ::testing::WithParamInterface<bool> {};

TEST_P(ConnectionFloodTest, HealthAnswersUnder1100IdleConnections) {
  // Half the connections send nothing, half send a request line and never
  // finish their headers (slowloris): idle and header timeouts, and a
  // bounded connection count, must keep /health answering.
  constexpr int kConnections = 1100;
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < kConnections + 200) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, kConnections + 400);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  ASSERT_GE(limit.rlim_cur, static_cast<rlim_t>(kConnections + 200))
      << "RLIMIT_NOFILE too low for this test";
  const int port = GetParam() ? EnvdPort() : ApiPort();
  std::vector<int> fds;
  int connected = 0;
  for (int i = 0; i < kConnections; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      continue;
    }
    ++connected;
    if (i % 2 == 1) {
      static const char kPartial[] = "GET /health HTTP/1.1\r\nHost: x\r\n";
      (void)!send(fd, kPartial, sizeof kPartial - 1, MSG_NOSIGNAL);
    }
  }
  EXPECT_GT(connected, kConnections / 2);
  EXPECT_TRUE(HealthAnswers(Server().APIURL(), 2000ms));
  EXPECT_TRUE(HealthAnswers(Server().SandboxURL(), 2000ms));
  // A real request through the API still works too.
  try {
    auto ctx = e2b::Context::WithTimeout(5s);
    EXPECT_EQ(Target().Commands.RunWithContext(ctx, "/bin/true", {}).ExitCode,
              0);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "a command failed during the flood: " << e.what();
  }
  for (int fd : fds) close(fd);
}

INSTANTIATE_TEST_SUITE_P(Escape, ConnectionFloodTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "EnvdPort" : "ApiPort";
                         });

}  // namespace
}  // namespace escape
}  // namespace e2b_test
