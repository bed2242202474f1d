#include <e2b/context.hpp>
#include <e2b/errors.hpp>

#include <atomic>
#include <string>

namespace e2b {

struct Context::State {
  std::shared_ptr<State> parent;
  std::optional<Clock::time_point> deadline;
  bool cancellable = false;
  std::atomic<bool> cancelled{false};
};

Context::Context() = default;
Context::Context(std::shared_ptr<State> state) : state_(std::move(state)) {}

Context Context::Background() { return Context(); }

Context Context::WithCancel() { return WithCancel(Background()); }

Context Context::WithCancel(const Context& parent) {
  auto state = std::make_shared<State>();
  state->parent = parent.state_;
  state->cancellable = true;
  return Context(std::move(state));
}

Context Context::WithDeadline(Clock::time_point deadline) {
  return WithDeadline(Background(), deadline);
}

Context Context::WithDeadline(const Context& parent,
                              Clock::time_point deadline) {
  Context ctx = WithCancel(parent);
  ctx.state_->deadline = deadline;
  return ctx;
}

void Context::Cancel() const {
  if (state_) state_->cancelled.store(true, std::memory_order_release);
}

bool Context::Cancelled() const {
  for (const State* s = state_.get(); s != nullptr; s = s->parent.get()) {
    if (s->cancelled.load(std::memory_order_acquire)) return true;
  }
  return false;
}

std::optional<Context::Clock::time_point> Context::Deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const State* s = state_.get(); s != nullptr; s = s->parent.get()) {
    if (s->deadline && (!earliest || *s->deadline < *earliest)) {
      earliest = s->deadline;
    }
  }
  return earliest;
}

bool Context::Expired() const {
  auto deadline = Deadline();
  return deadline && Clock::now() >= *deadline;
}

bool Context::Done() const { return Cancelled() || Expired(); }

std::optional<std::chrono::milliseconds> Context::Remaining() const {
  auto deadline = Deadline();
  if (!deadline) return std::nullopt;
  auto left = *deadline - Clock::now();
  if (left <= Clock::duration::zero()) return std::chrono::milliseconds(0);
  // Round up so a sub-millisecond remainder is not reported as expired.
  return std::chrono::ceil<std::chrono::milliseconds>(left);
}

void Context::ThrowIfDone(const char* what) const {
  if (Cancelled()) {
    throw Error(0, std::string(what) + ": context cancelled");
  }
  if (Expired()) {
    throw TimeoutError(std::string(what) + ": context deadline exceeded");
  }
}

}  // namespace e2b
