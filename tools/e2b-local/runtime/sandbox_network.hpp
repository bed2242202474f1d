#ifndef E2B_LOCAL_RUNTIME_SANDBOX_NETWORK_HPP_
#define E2B_LOCAL_RUNTIME_SANDBOX_NETWORK_HPP_

// The network of one sandbox: egress through a user-mode stack and an nftables
// firewall in the sandbox's own network namespace.
//
// Every sandbox has its own network namespace (created by the runtime together
// with its user namespace). Without egress it holds only `lo`. With egress a
// slirp4netns process gives it a tap interface (10.0.2.100/24, gateway
// 10.0.2.2, DNS forwarder 10.0.2.3; IPv6 fd00::100 by router advertisement)
// whose traffic leaves through ordinary sockets of the host. The firewall is an
// output chain in the sandbox's namespace; the sandbox has no CAP_NET_ADMIN
// there, so it cannot change it.
//
// Why slirp4netns and not pasta: pasta 0.0~git20230309 (Debian 12) needs
// ~30 MiB of private memory per idle instance and 200-400 ms to start here;
// slirp4netns 1.2 needs ~0.3 MiB private (3.4 MiB RSS, mostly shared
// libraries) and ~20-50 ms. Both run without port forwarding; slirp4netns also
// has --exit-fd, so it exits when the server's end of a pipe closes (also when
// the server dies), with no PR_SET_PDEATHSIG thread pitfalls.

#include "util/unique_fd.hpp"

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace e2b_local {

/// E2B's egress settings for one sandbox (NewSandbox.allow_internet_access and
/// NetworkConfig.allowOut/denyOut).
struct EgressPolicy {
  /// allow_internet_access. false denies all egress, as E2B does by replacing
  /// denyOut with 0.0.0.0/0; allowOut entries still open their addresses. With
  /// nothing allowed the namespace has only `lo` and no helper runs.
  bool internet = true;
  /// IPs, CIDRs (v4 or v6) and domain names. Allowed addresses win over denied
  /// ones, never over the host's own addresses and E2B's always-denied private
  /// ranges. Domain names are accepted as E2B accepts them (only together with
  /// 0.0.0.0/0 in deny_out) but open nothing: E2B enforces them with a
  /// transparent SNI/Host proxy that e2b-local does not have, so traffic to
  /// them stays denied (fails closed).
  std::vector<std::string> allow_out;
  /// IPs and CIDRs. "0.0.0.0/0" (E2B's ALL_TRAFFIC) also denies all of IPv6.
  std::vector<std::string> deny_out;
};

/// Throws std::invalid_argument, naming the entry, for a policy E2B's API
/// rejects with 400 (validateEgressRules): a denyOut entry that is not an IP or
/// CIDR, an unspecified address (0.0.0.0, ::, except 0.0.0.0/0), or domains in
/// allowOut without 0.0.0.0/0 in denyOut.
void ValidateEgressPolicy(const EgressPolicy& policy);

class SandboxNetwork {
 public:
  /// `init_pid` is a host pid whose /proc/<pid>/ns/net and ns/user are the
  /// sandbox's, new and running nothing of the sandbox's yet. Installs the
  /// firewall and, when anything is allowed out, starts slirp4netns (the two
  /// overlap) and waits until the interface is configured. Throws
  /// std::invalid_argument for a bad policy, std::runtime_error otherwise.
  static std::unique_ptr<SandboxNetwork> Attach(pid_t init_pid,
                                                const EgressPolicy& policy);

  /// PUT /sandboxes/{id}/network: replaces the whole policy (omitted fields
  /// arrive empty). Rules change atomically; the helper starts or stops when
  /// egress becomes possible or impossible. Same exceptions as Attach.
  void Update(const EgressPolicy& policy);

  /// Stops and reaps the helper. Idempotent; the destructor calls it.
  void Stop();

  /// Host pids this network owns (slirp4netns), for memory accounting.
  std::vector<pid_t> HelperPids() const;

  /// The /etc/resolv.conf the sandbox needs: slirp4netns's DNS forwarder.
  std::string ResolvConf() const;

  /// SandboxInstance::OpenTcpSocket: a non-blocking IPv4 TCP socket made
  /// inside this namespace (a socket keeps the namespace it was made in, so
  /// the caller connects it from the host). Throws std::runtime_error.
  UniqueFd OpenTcpSocket() const;

  ~SandboxNetwork();
  SandboxNetwork(const SandboxNetwork&) = delete;
  SandboxNetwork& operator=(const SandboxNetwork&) = delete;

 private:
  SandboxNetwork(UniqueFd userns, UniqueFd netns);
  // `fresh`: the namespace is new and runs nothing yet (Attach).
  void ApplyLocked(const EgressPolicy& policy, bool fresh);
  // Starts slirp4netns; AwaitHelperLocked waits until it configured the
  // interface (and stops it and throws if it does not).
  void SpawnHelperLocked();
  void AwaitHelperLocked();
  void StopHelperLocked(int* status);

  mutable std::mutex mu_;
  // Held so Update never re-resolves a pid that may have been reused.
  UniqueFd userns_;
  UniqueFd netns_;
  pid_t helper_pid_ = -1;
  UniqueFd helper_pidfd_;
  UniqueFd lifeline_;      // write end of slirp4netns's --exit-fd pipe
  UniqueFd helper_ready_;  // read end of its --ready-fd pipe until awaited
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_RUNTIME_SANDBOX_NETWORK_HPP_
