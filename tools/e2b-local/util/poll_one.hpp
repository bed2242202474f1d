#ifndef E2B_LOCAL_UTIL_POLL_ONE_HPP_
#define E2B_LOCAL_UTIL_POLL_ONE_HPP_

#include <chrono>

namespace e2b_local {

/// poll(2) of one descriptor for `events`, up to `timeout` (clamped to
/// [0, one day]), retried on EINTR: the revents, or 0 on timeout or error.
short PollOne(int fd, short events, std::chrono::milliseconds timeout);

}  // namespace e2b_local

#endif  // E2B_LOCAL_UTIL_POLL_ONE_HPP_
