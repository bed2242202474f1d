#ifndef E2B_INTERNAL_BACKGROUND_STREAM_HPP_
#define E2B_INTERNAL_BACKGROUND_STREAM_HPP_

// A stream read to its end on a thread of its own: the process stream
// behind every CommandHandle (internal/process_stream.hpp) and the
// streaming WatchDir (src/filesystem_watch.cpp). This class owns the
// thread's lifetime, its cancellation and how the stream's end, its failure
// and a stop reach other threads; what an item means stays with the owner.

#include <e2b/context.hpp>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace e2b::internal {

/// How often a wait re-checks a Context, which cannot notify.
inline constexpr std::chrono::milliseconds kPollSlice{50};

/// Thread-safe. Stop() (or destruction) from any thread but the reader's
/// own waits for the reader thread.
class BackgroundStream {
 public:
  /// `parent` bounds the stream's context.
  explicit BackgroundStream(const Context& parent = Context::Background());
  /// Stops the stream (as Stop()).
  ~BackgroundStream();
  BackgroundStream(const BackgroundStream&) = delete;
  BackgroundStream& operator=(const BackgroundStream&) = delete;

  /// The context the stream's transfer runs under; Stop() cancels it.
  const Context& StreamContext() const { return context_; }

  /// Starts the reader thread, once. It calls `read`, which pulls items and
  /// handles each until the stream ends and throws when the stream or a
  /// handler fails; what `read` captures is kept alive until it returns.
  /// Then the failure is recorded (unless the stream was stopped: a stop's
  /// abort is no failure), the end is published to Wait, and `ended` (may
  /// be empty) runs on the thread, to wake waiters of the owner's own.
  void Start(std::function<void()> read, std::function<void()> ended = {});

  /// Marks the stream stopped, wakes Wait, cancels StreamContext() and
  /// returns once the reader thread ended (one caller joins it, concurrent
  /// callers wait for that join); called on the reader thread itself (from
  /// a callback) it returns at once, as the thread then ends by itself.
  /// Idempotent.
  void Stop() noexcept;

  /// True once Stop() was called.
  bool Stopped() const;
  /// True until the reader thread published the stream's end.
  bool Running() const;
  /// The failure that ended the stream (null when none, or still running).
  std::exception_ptr Failure() const;

  /// Blocks until the stream ended or was stopped; rethrows the failure
  /// that ended it, if any.
  void Wait() const;
  /// The same, but gives up as ctx.ThrowIfDone(operation) once `ctx` is
  /// done.
  void Wait(const Context& ctx, const char* operation) const;

 private:
  void Run(const std::function<void()>& read,
           const std::function<void()>& ended);

  Context context_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool started_ = false;
  bool ended_ = false;
  bool stopped_ = false;
  std::exception_ptr failure_;

  // Guards the members below: Stop may come from several threads at once
  // (the copies of a CommandHandle), and from the reader before Start
  // assigned thread_. The reader is joined outside this lock (joining_ says
  // a join is under way, joined_ announces its end), so a callback's Stop
  // during another thread's Stop does not deadlock.
  std::mutex thread_mutex_;
  std::condition_variable joined_;
  std::thread thread_;
  std::thread::id reader_id_;
  bool joining_ = false;
};

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_BACKGROUND_STREAM_HPP_
