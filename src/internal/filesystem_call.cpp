#include "internal/filesystem_call.hpp"

#include <e2b/errors.hpp>

#include <utility>

namespace e2b::internal {

FilesystemCall::FilesystemCall(std::shared_ptr<SandboxState> state,
                               const char* operation)
    : state_(std::move(state)) {
  if (!state_ || !state_->client || !state_->client->envd) {
    throw Error(0, std::string(operation) +
                       " called on a FilesystemService without sandbox");
  }
}

}  // namespace e2b::internal
