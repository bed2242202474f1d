#ifndef E2B_TESTS_ESCAPE_ESCAPE_SUPPORT_HPP_
#define E2B_TESTS_ESCAPE_ESCAPE_SUPPORT_HPP_

// The escape suite's tools. Every attack runs inside a sandbox through the
// public API and aims only at things this test process made for it (a canary
// directory, a victim process, loopback listeners), so an attack that works
// today shows up as a failed assertion and not as damage to the machine.

#include "integration/e2b_local_fixture.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace e2b_test {
namespace escape {

using namespace std::chrono_literals;

// ---- attack scripts ---------------------------------------------------------

/// What a probe script printed: its `key=value` lines, and the raw result.
struct ProbeRun {
  e2b::CommandResult result;
  std::map<std::string, std::string> values;
  /// The value of `key`, or "(missing)" when the script never printed it.
  std::string Get(const std::string& key) const;
  /// Stdout, stderr and the exit code, for failure messages.
  std::string Describe() const;
};

/// Runs a python3 script inside the sandbox as `user` ("user" or "root"),
/// bounded by `timeout`. The script body runs after a prelude that defines
/// `sc(name, *args)` (a raw syscall; returns (result, errno)), `call(fn,
/// *args)` for a libc function, `ename(errno)` ("OK" for 0), `put(key,
/// value)`, `probe(key, fn)` (puts fn()'s value, or the errno name of the
/// OSError it raised), the constants of kPreludeConstants and `ARGS` (the
/// extra arguments).
ProbeRun RunProbe(const e2b::Sandbox& sandbox, const std::string& user,
                  const std::string& body,
                  const std::vector<std::string>& args = {},
                  std::chrono::milliseconds timeout = 30s);

/// Prints `text` when E2B_ESCAPE_VERBOSE is set (what an attack saw).
void Note(const std::string& text);

/// Passes when `key`'s value is one of `refusals` (errno names such as
/// "EPERM"): the probe was stopped before it could act.
::testing::AssertionResult Refused(const ProbeRun& run, const std::string& key,
                                   std::initializer_list<const char*> refusals =
                                       {"EPERM", "EACCES", "EROFS", "ENOSYS"});

// ---- the host side
// ------------------------------------------------------------

/// A directory on the host (under the temp dir, outside the server's state)
/// with known files that attacks try to read, change or delete. World
/// readable, so only the sandbox boundary, never file permissions, can keep
/// a sandbox from reading it.
class HostCanary {
 public:
  HostCanary();
  ~HostCanary();
  HostCanary(const HostCanary&) = delete;
  HostCanary& operator=(const HostCanary&) = delete;

  bool Ok() const { return !dir_.empty(); }
  const std::string& Dir() const { return dir_; }
  /// Host path of one canary file (secret.txt, hostname, passwd, group,
  /// resolv.conf).
  std::string Path(const std::string& name) const;
  /// The random secret inside secret.txt (never sent into a sandbox).
  const std::string& Secret() const { return secret_; }
  /// Empty when every file still has its content and the directory holds
  /// nothing else; otherwise what changed.
  std::string Changes() const;

 private:
  std::string dir_;
  std::string secret_;
  std::map<std::string, std::string> files_;
};

/// A `sleep` on the host that attacks try to signal.
class HostVictim {
 public:
  HostVictim();
  ~HostVictim();
  HostVictim(const HostVictim&) = delete;
  HostVictim& operator=(const HostVictim&) = delete;
  pid_t Pid() const { return pid_; }
  /// A word unique to this victim's command line.
  const std::string& Marker() const { return marker_; }
  bool Alive();

 private:
  pid_t pid_ = -1;
  std::string marker_;
};

/// A TCP listener on 127.0.0.1 of the host counting accepted connections.
class LoopbackListener {
 public:
  LoopbackListener();
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;
  int Port() const { return port_; }
  int Accepted() const { return accepted_.load(); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// A listening abstract unix socket in the host's network namespace.
class AbstractSocketListener {
 public:
  AbstractSocketListener();
  ~AbstractSocketListener();
  AbstractSocketListener(const AbstractSocketListener&) = delete;
  AbstractSocketListener& operator=(const AbstractSocketListener&) = delete;
  /// The name without the leading NUL byte.
  const std::string& Name() const { return name_; }
  int Accepted() const { return accepted_.load(); }

 private:
  int fd_ = -1;
  std::string name_;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// The fixture's e2b-local process (a child of this test process), or -1.
pid_t ServerPid();
/// VmRSS of `pid` in KiB, or -1.
std::int64_t RssKiB(pid_t pid);
/// The port of an "http://127.0.0.1:PORT" URL (0 when there is none).
int PortOf(const std::string& url);
/// The inode numbers of this process's namespaces, by name (mnt, net, ...).
std::map<std::string, std::string> HostNamespaces();
/// The host's non-loopback IPv4 addresses.
std::vector<std::string> HostAddresses();
/// GET /health on `url` within `bound`.
::testing::AssertionResult HealthAnswers(const std::string& url,
                                         std::chrono::milliseconds bound);

/// Watches the server's memory while an attack runs: if it grows by more
/// than `limit_mib` the server's process group is killed (so an unbounded
/// read cannot take the machine down) and Tripped() says so.
class RssWatchdog {
 public:
  RssWatchdog(pid_t pid, std::int64_t limit_mib);
  ~RssWatchdog();
  RssWatchdog(const RssWatchdog&) = delete;
  RssWatchdog& operator=(const RssWatchdog&) = delete;
  bool Tripped() const { return tripped_.load(); }
  /// The largest growth seen, in MiB.
  std::int64_t PeakGrowthMiB() const { return peak_kib_.load() / 1024; }

 private:
  pid_t pid_;
  std::int64_t baseline_kib_;
  std::int64_t limit_kib_;
  std::atomic<bool> tripped_{false};
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> peak_kib_{0};
  std::thread thread_;
};

/// A second e2b-local with extra flags (the fixture's takes none), on free
/// ports with its own state directory; stopped and removed when destroyed.
class ExtraServer {
 public:
  explicit ExtraServer(const std::vector<std::string>& extra_flags);
  bool Ok() const { return server_.has_value(); }
  const std::string& Error() const { return error_; }
  e2b::Client NewClient() const { return server_->NewClient(); }
  const std::string& APIURL() const { return server_->APIURL(); }
  const std::string& APIKey() const { return server_->APIKey(); }

 private:
  std::optional<e2b::testing::LocalServer> server_;
  std::string error_;
};

// ---- the fixture ------------------------------------------------------------

/// A sandbox that is not attacked, to show that attacks on one sandbox leave
/// the others alone.
struct Bystander {
  e2b::Sandbox sandbox;
  std::string marker;  ///< content of /home/user/bystander.txt
};

/// Every escape test: a host canary, a sandbox to attack from, and after the
/// test the checks every attack shares (canary untouched, server alive and
/// answering on both ports).
class EscapeTest : public E2bLocalTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// The attacker's sandbox (created in SetUp, internet access on).
  const e2b::Sandbox& Target() const { return target_; }
  const HostCanary& Canary() const { return *canary_; }
  pid_t ServerProcess() const { return server_pid_; }
  int ApiPort() const;
  int EnvdPort() const;

  /// A sandbox without internet access.
  e2b::Sandbox NewOfflineSandbox();
  Bystander NewBystander();
  ::testing::AssertionResult Intact(const Bystander& bystander);
  /// Runs a shell command line (bash -c) as `user`, bounded.
  e2b::CommandResult Shell(const e2b::Sandbox& sandbox, const std::string& user,
                           const std::string& command,
                           std::chrono::milliseconds timeout = 30s);

 private:
  std::unique_ptr<HostCanary> canary_;
  e2b::Sandbox target_;
  pid_t server_pid_ = -1;
};

/// The users every attack is tried as.
inline const char* const kUsers[] = {"user", "root"};

}  // namespace escape
}  // namespace e2b_test

#endif  // E2B_TESTS_ESCAPE_ESCAPE_SUPPORT_HPP_
