#ifndef E2B_TESTS_SUPPORT_BACKGROUND_LISTEN_HPP_
#define E2B_TESTS_SUPPORT_BACKGROUND_LISTEN_HPP_

// Runs a bound httplib::Server's accept loop on a new thread and returns
// only once the loop runs. httplib's stop() does nothing before that, so a
// test that stops a server whose thread has not started yet (a slow
// machine, a sanitizer build) would join a thread that serves forever.

#include <httplib.h>

#include <chrono>
#include <thread>

namespace e2b_test {

inline std::thread ListenInBackground(httplib::Server& server) {
  std::thread thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return thread;
}

}  // namespace e2b_test

#endif  // E2B_TESTS_SUPPORT_BACKGROUND_LISTEN_HPP_
