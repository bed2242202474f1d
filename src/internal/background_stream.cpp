#include "internal/background_stream.hpp"

#include <utility>

namespace e2b::internal {

BackgroundStream::BackgroundStream(const Context& parent)
    : context_(Context::WithCancel(parent)) {}

BackgroundStream::~BackgroundStream() { Stop(); }

void BackgroundStream::Start(std::function<void()> read,
                             std::function<void()> ended) {
  std::lock_guard<std::mutex> lock(thread_mutex_);
  thread_ = std::thread([this, read = std::move(read),
                         ended = std::move(ended)] { Run(read, ended); });
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
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // stopped from a callback: the loop ends by itself
  } else {
    thread_.join();
  }
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
