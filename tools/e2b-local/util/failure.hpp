#ifndef E2B_LOCAL_UTIL_FAILURE_HPP_
#define E2B_LOCAL_UTIL_FAILURE_HPP_

// The one failure type of e2b-local's lower layers (sandbox registry,
// template store): what went wrong, never which HTTP status to answer. The
// control plane maps a Reason to its status in one place (HttpStatusOf in
// control/control_plane.hpp); the message goes into the answer unchanged.

#include <stdexcept>
#include <string>

namespace e2b_local {

struct Failure : std::runtime_error {
  enum class Reason {
    kInvalidArgument,     ///< the request names or asks for something invalid
    kFailedPrecondition,  ///< valid, but the state forbids it (in use, no
                          ///< build)
    kNotFound,            ///< no such sandbox, template, tag or build
    kConflict,            ///< already in the asked-for state (paused, running)
    kLimitReached,        ///< at the concurrent-sandbox cap
    kUnavailable,         ///< the server is shutting down
    kInternal,            ///< the runtime or the state file failed
  };

  Failure(Reason reason_, const std::string& message)
      : std::runtime_error(message), reason(reason_) {}
  Reason reason;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_UTIL_FAILURE_HPP_
