#ifndef E2B_CONTEXT_HPP_
#define E2B_CONTEXT_HPP_

#include <chrono>
#include <memory>
#include <optional>

namespace e2b {

/// Carries a deadline and a cancellation signal through a call, like Go's
/// context.Context. Copies share state; Cancel() is safe from any thread.
/// A call whose context expires throws TimeoutError; a cancelled call throws
/// Error. Both abort the network transfer promptly.
class Context {
 public:
  /// The clock of deadlines: steady, so wall-clock changes do not move them.
  using Clock = std::chrono::steady_clock;

  /// A context that never expires and is never cancelled.
  static Context Background();
  /// A cancellable context (call Cancel() to abort the calls using it).
  static Context WithCancel();
  /// A cancellable child of `parent`: cancelled with it, expires with it.
  static Context WithCancel(const Context& parent);
  /// A cancellable context that expires after `timeout`.
  template <typename Rep, typename Period>
  static Context WithTimeout(std::chrono::duration<Rep, Period> timeout) {
    return WithDeadline(Clock::now() + ToClock(timeout));
  }
  /// A child of `parent` that also expires after `timeout`.
  template <typename Rep, typename Period>
  static Context WithTimeout(const Context& parent,
                             std::chrono::duration<Rep, Period> timeout) {
    return WithDeadline(parent, Clock::now() + ToClock(timeout));
  }
  /// A cancellable context that expires at `deadline`.
  static Context WithDeadline(Clock::time_point deadline);
  /// A child of `parent` that also expires at `deadline`.
  static Context WithDeadline(const Context& parent,
                              Clock::time_point deadline);

  /// Same as Background().
  Context();

  /// Cancels this context and every context derived from it.
  void Cancel() const;
  /// True once Cancel() was called on this context or an ancestor.
  bool Cancelled() const;
  /// True once the deadline (own or inherited) has passed.
  bool Expired() const;
  /// True when Cancelled() or Expired().
  bool Done() const;
  /// The earliest deadline of this context and its ancestors, if any.
  std::optional<Clock::time_point> Deadline() const;
  /// Time left until the deadline (zero when past), if there is one.
  std::optional<std::chrono::milliseconds> Remaining() const;
  /// Throws TimeoutError when expired, Error when cancelled; `what` names the
  /// operation in the message.
  void ThrowIfDone(const char* what) const;

 private:
  struct State;
  explicit Context(std::shared_ptr<State> state);
  template <typename Rep, typename Period>
  static Clock::duration ToClock(std::chrono::duration<Rep, Period> d) {
    return std::chrono::duration_cast<Clock::duration>(d);
  }

  std::shared_ptr<State> state_;
};

}  // namespace e2b

#endif  // E2B_CONTEXT_HPP_
