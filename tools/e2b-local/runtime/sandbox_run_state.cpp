#include "runtime/sandbox_run_state.hpp"

#include "runtime/sandbox_runtime.hpp"

#include <csignal>

namespace e2b_local::runtime_internal {

void SandboxRunState::CheckCanSpawn() const {
  if (destroyed_) throw SpawnError("internal", "the sandbox is destroyed");
  if (frozen_ || halted_) {
    throw SpawnError("internal", "the sandbox is paused");
  }
}

void SandboxRunState::Freeze() {
  if (destroyed_ || frozen_) return;
  // The freezer may not reach FROZEN in time (a task in uninterruptible
  // sleep holds it in FREEZING): then every task is stopped as well, and
  // Resume must undo both.
  stopped_ = !cgroups_.Freeze();
  if (stopped_) signal_all_(SIGSTOP);
  frozen_ = true;
}

void SandboxRunState::Resume() {
  if (!cgroups_.Thaw() || stopped_) signal_all_(SIGCONT);
  stopped_ = false;
  frozen_ = false;
}

void SandboxRunState::Thaw() {
  if (destroyed_ || !frozen_) return;
  Resume();
}

bool SandboxRunState::BeginHalt() {
  if (destroyed_ || halted_) return false;
  halted_ = true;
  if (frozen_) Resume();
  return true;
}

bool SandboxRunState::BeginBoot() {
  if (destroyed_ || !halted_) return false;
  halted_ = false;
  return true;
}

bool SandboxRunState::BeginDestroy() {
  if (destroyed_) return false;
  destroyed_ = true;
  if (frozen_) Resume();
  return true;
}

}  // namespace e2b_local::runtime_internal
