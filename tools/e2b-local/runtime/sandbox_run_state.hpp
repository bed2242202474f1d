#ifndef E2B_LOCAL_RUNTIME_SANDBOX_RUN_STATE_HPP_
#define E2B_LOCAL_RUNTIME_SANDBOX_RUN_STATE_HPP_

// Whether a sandbox runs, is paused or is destroyed, and how both runtimes
// pause it: with its freezer cgroup when the host has one, else by sending
// SIGSTOP / SIGCONT to each of its processes.

#include "runtime/sandbox_cgroups.hpp"

#include <functional>
#include <utility>

namespace e2b_local::runtime_internal {

/// Not thread-safe: an instance calls it under its own lock.
class SandboxRunState {
 public:
  /// Sends a signal to every process of the sandbox.
  using SignalAll = std::function<void(int signo)>;

  /// `cgroups` must outlive this; `signal_all` stands in for a missing
  /// freezer.
  SandboxRunState(SandboxCgroups& cgroups, SignalAll signal_all)
      : cgroups_(cgroups), signal_all_(std::move(signal_all)) {}

  /// Throws SpawnError("internal") when the sandbox is destroyed, paused
  /// or halted.
  void CheckCanSpawn() const;
  /// SandboxInstance::Freeze / Thaw; nothing when destroyed or already so.
  void Freeze();
  void Thaw();
  /// Marks the sandbox destroyed, thawing it first (a frozen task cannot
  /// die); false when it already was, so Destroy() stays idempotent.
  bool BeginDestroy();
  /// Marks it halted (SandboxInstance::Halt), thawing it first; false when
  /// it already is or is destroyed: then there is nothing to end.
  bool BeginHalt();
  /// Marks it running again; false unless it was halted (and not since
  /// destroyed): then there is nothing to boot.
  bool BeginBoot();
  bool Destroyed() const { return destroyed_; }

 private:
  // Thaws the freezer and continues stopped tasks.
  void Resume();

  SandboxCgroups& cgroups_;
  SignalAll signal_all_;
  bool frozen_ = false;
  bool stopped_ = false;  // frozen with SIGSTOP (the freezer did not finish)
  bool destroyed_ = false;
  bool halted_ = false;
};

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_SANDBOX_RUN_STATE_HPP_
