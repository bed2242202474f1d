#include "runtime/sandbox_run_state.hpp"

#include "runtime/sandbox_runtime.hpp"

#include <signal.h>

namespace e2b_local {
namespace runtime_internal {

void SandboxRunState::CheckCanSpawn() const {
  if (destroyed_) throw SpawnError("internal", "the sandbox is destroyed");
  if (frozen_) throw SpawnError("internal", "the sandbox is paused");
}

void SandboxRunState::Freeze() {
  if (destroyed_ || frozen_) return;
  if (!cgroups_.Freeze()) signal_all_(SIGSTOP);
  frozen_ = true;
}

void SandboxRunState::Thaw() {
  if (destroyed_ || !frozen_) return;
  if (!cgroups_.Thaw()) signal_all_(SIGCONT);
  frozen_ = false;
}

bool SandboxRunState::BeginDestroy() {
  if (destroyed_) return false;
  destroyed_ = true;
  if (frozen_ && !cgroups_.Thaw()) signal_all_(SIGCONT);
  frozen_ = false;
  return true;
}

}  // namespace runtime_internal
}  // namespace e2b_local
