#include "runtime/background_removal.hpp"

#include "store/file_ops.hpp"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

namespace e2b_local {

void RemoveTreeOrLog(const std::string& path) {
  try {
    RemoveTree(path);
  } catch (const std::exception& e) {
    std::cerr << "e2b-local: " << e.what() << "\n";
  }
}

namespace {

// One worker thread, started on first use. The remover is never destroyed,
// so it stays usable from static destructors; whoever must not leave
// directories behind (SandboxRegistry::Shutdown) waits for it, and what a
// process exiting mid-removal leaves is a hidden sibling that the next
// start-up removes.
class BackgroundRemover {
 public:
  static BackgroundRemover& Instance() {
    static auto* remover = new BackgroundRemover();
    return *remover;
  }

  BackgroundRemover(const BackgroundRemover&) = delete;
  BackgroundRemover& operator=(const BackgroundRemover&) = delete;
  ~BackgroundRemover() = delete;  // see above: never destroyed

  void Add(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return;
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos || slash + 1 == path.size()) {
      RemoveTreeOrLog(path);
      return;
    }
    const std::string hidden = path.substr(0, slash + 1) + ".removing-" +
                               path.substr(slash + 1) + "-" +
                               std::to_string(++counter_);
    // Same directory, so the same filesystem: rename cannot copy.
    if (::rename(path.c_str(), hidden.c_str()) != 0) {
      RemoveTreeOrLog(path);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(hidden);
    if (!started_) {
      try {
        // Detached: the remover lives as long as the process.
        std::thread([this] { Run(); }).detach();
        started_ = true;
      } catch (const std::exception&) {
        queue_.pop_back();
        RemoveTreeOrLog(hidden);
        return;
      }
    }
    work_.notify_one();
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
  }

 private:
  BackgroundRemover() = default;

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_.wait(lock, [this] { return !queue_.empty(); });
      const std::string path = queue_.front();
      queue_.pop_front();
      ++busy_;
      lock.unlock();
      RemoveTreeOrLog(path);
      lock.lock();
      --busy_;
      if (queue_.empty() && busy_ == 0) idle_.notify_all();
    }
  }

  std::atomic<unsigned long> counter_{0};
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable idle_;
  std::deque<std::string> queue_;
  int busy_ = 0;
  bool started_ = false;
};

}  // namespace

void RemoveTreeInBackground(const std::string& path) {
  try {
    BackgroundRemover::Instance().Add(path);
  } catch (const std::exception& e) {
    std::cerr << "e2b-local: removing " << path << ": " << e.what() << "\n";
  }
}

void RemoveSandboxTree(const std::string& path, bool in_background) {
  if (in_background) {
    RemoveTreeInBackground(path);
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void WaitForBackgroundRemovals() { BackgroundRemover::Instance().Wait(); }

}  // namespace e2b_local
