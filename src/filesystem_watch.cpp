// Directory watches: WatchHandle polls a server-side watcher,
// WatchStreamHandle reads a WatchDir stream on a thread of its own.

#include "internal/envd_stub.hpp"
#include "internal/filesystem_call.hpp"

#include <e2b/errors.hpp>
#include <e2b/filesystem.hpp>

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace e2b {

using internal::FilesystemCall;

// ---- Polling watcher --------------------------------------------------------

struct WatchHandle::Impl {
  std::shared_ptr<internal::SandboxState> state;
  std::string watcher_id;
  std::string user;
  std::mutex mutex;
  bool stopped = false;
};

WatchHandle FilesystemService::WatchDirImpl(const Context& ctx,
                                            const std::string& path,
                                            bool recursive,
                                            const ReadParams& params) const {
  FilesystemCall call(state_, "Filesystem.WatchDir");
  auto watcher_id = call.Envd().CreateWatcher(
      ctx, call.State(), path, recursive, params.User, params.Timeout);
  auto impl = std::make_shared<WatchHandle::Impl>();
  impl->state = state_;
  impl->user = params.User;
  impl->watcher_id = std::move(watcher_id);
  return WatchHandle(std::move(impl));
}

std::vector<FilesystemEvent> WatchHandle::GetEvents(const Context& ctx) const {
  if (!impl_) throw Error(0, "GetEvents called on an empty WatchHandle");
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stopped) throw Error(0, "watcher already stopped");
  }
  FilesystemCall call(impl_->state, "WatchHandle.GetEvents");
  return call.Envd().GetWatcherEvents(ctx, call.State(), impl_->watcher_id,
                                      impl_->user);
}

void WatchHandle::Stop(const Context& ctx) const {
  if (!impl_) return;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->stopped) return;
  FilesystemCall call(impl_->state, "WatchHandle.Stop");
  // false (already gone) is what Stop wants too.
  call.Envd().RemoveWatcher(ctx, call.State(), impl_->watcher_id, impl_->user);
  impl_->stopped = true;
}

std::string WatchHandle::WatcherID() const {
  return impl_ ? impl_->watcher_id : std::string();
}

// ---- Streaming watch --------------------------------------------------------

}  // namespace e2b

namespace e2b::internal {

struct WatchStreamState {
  Context context;  ///< cancelled by Stop
  std::unique_ptr<WatchEventStream> events;
  WatchCallback on_event;
  std::string path;
  std::thread thread;
  mutable std::mutex mutex;
  std::condition_variable done_cv;
  bool running = true;
  bool stopping = false;
  std::exception_ptr failure;

  void Run() {
    std::exception_ptr failure;
    try {
      while (auto event = events->Next()) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (stopping) break;
        }
        on_event(*event);
      }
    } catch (const TimeoutError&) {
      // The watch's own time limit (WithWatchTimeout) ended it.
    } catch (...) {
      failure = std::current_exception();
    }
    events.reset();  // closes the transfer
    std::lock_guard<std::mutex> lock(mutex);
    if (!stopping) this->failure = failure;
    running = false;
    done_cv.notify_all();
  }
};

}  // namespace e2b::internal

namespace e2b {

WatchStreamHandle::WatchStreamHandle(
    std::shared_ptr<internal::WatchStreamState> state)
    : state_(std::move(state)) {}

WatchStreamHandle::WatchStreamHandle(WatchStreamHandle&&) noexcept = default;

WatchStreamHandle& WatchStreamHandle::operator=(
    WatchStreamHandle&& other) noexcept {
  if (this != &other) {
    Stop();
    state_ = std::move(other.state_);
  }
  return *this;
}

WatchStreamHandle::~WatchStreamHandle() { Stop(); }

void WatchStreamHandle::Stop() noexcept {
  if (!state_) return;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->context.Cancel();
  if (state_->thread.joinable()) {
    if (state_->thread.get_id() == std::this_thread::get_id()) {
      // Stopped from its own callback: the thread ends by itself.
      state_->thread.detach();
    } else {
      state_->thread.join();
    }
  }
}

void WatchStreamHandle::Wait() {
  if (!state_) return;
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->done_cv.wait(lock, [this] { return !state_->running; });
  if (state_->failure) std::rethrow_exception(state_->failure);
}

bool WatchStreamHandle::Running() const {
  if (!state_) return false;
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->running;
}

std::exception_ptr WatchStreamHandle::Failure() const {
  if (!state_) return nullptr;
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->failure;
}

WatchStreamHandle FilesystemService::WatchDirStreamImpl(
    const Context& ctx, const std::string& path, WatchCallback on_event,
    const WatchParams& params) const {
  FilesystemCall call(state_, "Filesystem.WatchDir");
  if (!on_event) throw Error(0, "WatchDir: the event callback is empty");
  if (params.Timeout.count() < 0) throw Error(0, "watch timeout is negative");
  auto state = std::make_shared<internal::WatchStreamState>();
  state->context = Context::WithCancel(ctx);
  state->on_event = std::move(on_event);
  state->path = path;
  state->events =
      call.Envd().OpenWatchStream(state->context, call.State(), path, params);
  internal::WatchStreamState* raw = state.get();
  state->thread = std::thread([raw] { raw->Run(); });
  return WatchStreamHandle(std::move(state));
}

}  // namespace e2b
