// Directory watches: WatchHandle polls a server-side watcher,
// WatchStreamHandle reads a WatchDir stream on a thread of its own.

#include "internal/background_stream.hpp"
#include "internal/envd_api.hpp"
#include "internal/filesystem_call.hpp"

#include <e2b/errors.hpp>
#include <e2b/filesystem.hpp>

#include <exception>
#include <memory>
#include <mutex>
#include <string>
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
  explicit WatchStreamState(const Context& ctx) : reader(ctx) {}

  // Pulls events until the stream ends or the watch is stopped.
  void Read() {
    // Moved out so the transfer is closed before the end is published.
    const auto stream = std::move(events);
    try {
      while (auto event = stream->Next()) {
        if (reader.Stopped()) break;
        on_event(*event);
      }
    } catch (const TimeoutError&) {
      // The watch's own time limit (WithWatchTimeout) ended it.
    }
  }

  std::unique_ptr<WatchEventStream> events;  ///< until Read takes it
  WatchCallback on_event;
  BackgroundStream reader;  ///< last: its thread uses the members above
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
  if (state_) state_->reader.Stop();
}

void WatchStreamHandle::Wait() {
  if (state_) state_->reader.Wait();
}

bool WatchStreamHandle::Running() const {
  return state_ && state_->reader.Running();
}

std::exception_ptr WatchStreamHandle::Failure() const {
  return state_ ? state_->reader.Failure() : nullptr;
}

WatchStreamHandle FilesystemService::WatchDirStreamImpl(
    const Context& ctx, const std::string& path, WatchCallback on_event,
    const WatchParams& params) const {
  FilesystemCall call(state_, "Filesystem.WatchDir");
  if (!on_event)
    throw InvalidArgumentError("WatchDir: the event callback is empty", 0);
  if (params.Timeout.count() < 0)
    throw InvalidArgumentError("watch timeout is negative", 0);
  auto state = std::make_shared<internal::WatchStreamState>(ctx);
  state->on_event = std::move(on_event);
  state->events = call.Envd().OpenWatchStream(state->reader.StreamContext(),
                                              call.State(), path, params);
  // The thread keeps the state alive while it reads, even past a Stop
  // from the callback and the handle's end.
  state->reader.Start([state] { state->Read(); });
  return WatchStreamHandle(std::move(state));
}

}  // namespace e2b
