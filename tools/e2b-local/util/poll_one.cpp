#include "util/poll_one.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace e2b_local {

short PollOne(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd pfd{fd, events, 0};
  const int ms = static_cast<int>(
      std::clamp<long long>(timeout.count(), 0, 24LL * 3600 * 1000));
  for (;;) {
    const int rc = ::poll(&pfd, 1, ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return 0;
    return pfd.revents;
  }
}

}  // namespace e2b_local
