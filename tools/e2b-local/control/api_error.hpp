#ifndef E2B_LOCAL_CONTROL_API_ERROR_HPP_
#define E2B_LOCAL_CONTROL_API_ERROR_HPP_

// The control plane's own request failures (parsing, routing in
// control_plane.cpp and wire.cpp): an HTTP status plus the message that goes
// into the {"code": <status>, "message": ...} body. Lower layers throw
// Failure (util/failure.hpp) instead, which HttpStatusOf maps.

#include <stdexcept>
#include <string>

namespace e2b_local {

struct ApiError : std::runtime_error {
  ApiError(int status_, const std::string& message)
      : std::runtime_error(message), status(status_) {}
  int status;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_CONTROL_API_ERROR_HPP_
