#ifndef E2B_LOCAL_UTIL_UNIQUE_FD_HPP_
#define E2B_LOCAL_UTIL_UNIQUE_FD_HPP_

#include <utility>

namespace e2b_local {

/// An owned file descriptor, closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_UTIL_UNIQUE_FD_HPP_
