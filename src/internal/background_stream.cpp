#include "internal/background_stream.hpp"

#include <utility>

namespace e2b::internal {

BackgroundStream::BackgroundStream(const Context& parent)
    : context_(Context::WithCancel(parent)) {}

BackgroundStream::~BackgroundStream() { Stop(); }

void BackgroundStream::Start(std::function<void()> read,
                             std::function<void()> ended) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    started_ = true;
  }
  std::lock_guard<std::mutex> lock(thread_mutex_);
  thread_ = std::thread([this, read = std::move(read),
                         ended = std::move(ended)] { Run(read, ended); });
  reader_id_ = thread_.get_id();
}

void BackgroundStream::Run(const std::function<void()>& read,
                           const std::function<void()>& ended) {
  std::exception_ptr failure;
  try {
    read();
  } catch (...) {
    failure = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopped_) failure_ = failure;  // a stop's abort is no failure
    ended_ = true;
    changed_.notify_all();
  }
  if (ended) ended();
}

void BackgroundStream::Stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }
  context_.Cancel();
  std::thread reader;
  {
    std::unique_lock<std::mutex> lock(thread_mutex_);
    if (reader_id_ == std::this_thread::get_id()) {
      // Stopped from a callback: the loop ends by itself. Joining would
      // wait for ourselves, and a thread joining us waits for this return.
      if (thread_.joinable()) thread_.detach();
      return;
    }
    if (!thread_.joinable()) {
      // Another thread took the reader to join it, or the reader stopped
      // itself and was detached: return once it ended all the same, so
      // every Stop from outside means "no more callbacks".
      joined_.wait(lock, [this] { return !joining_; });
      lock.unlock();
      std::unique_lock<std::mutex> state(mutex_);
      changed_.wait(state, [this] { return ended_ || !started_; });
      return;
    }
    // Joined outside the lock: the reader may call Stop while it winds
    // down, and must not block on this lock then.
    reader = std::move(thread_);
    joining_ = true;
  }
  reader.join();
  {
    std::lock_guard<std::mutex> lock(thread_mutex_);
    joining_ = false;
  }
  joined_.notify_all();
}

bool BackgroundStream::Stopped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopped_;
}

bool BackgroundStream::Running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !ended_;
}

std::exception_ptr BackgroundStream::Failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

void BackgroundStream::Wait() const {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return ended_ || stopped_; });
  if (failure_) std::rethrow_exception(failure_);
}

void BackgroundStream::Wait(const Context& ctx, const char* operation) const {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!ended_ && !stopped_) {
    if (ctx.Done()) {
      lock.unlock();
      ctx.ThrowIfDone(operation);
    }
    changed_.wait_for(lock, kPollSlice);
  }
  if (failure_) std::rethrow_exception(failure_);
}

}  // namespace e2b::internal
