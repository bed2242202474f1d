#ifndef E2B_LOCAL_CONTROL_API_ERROR_HPP_
#define E2B_LOCAL_CONTROL_API_ERROR_HPP_

// The one failure type of the control plane's lower layers (registry, state
// store): an HTTP status plus the message that goes into the
// {"code": <status>, "message": ...} body.

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
