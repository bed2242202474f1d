#ifndef E2B_INTERNAL_FILESYSTEM_CALL_HPP_
#define E2B_INTERNAL_FILESYSTEM_CALL_HPP_

// What the FilesystemService files (src/filesystem*.cpp) share: the sandbox
// one call runs against, and the two transfers that both the Read/Write
// entry points and the bulk and local-file transfers are built on.

#include "internal/client_state.hpp"
#include "internal/envd_api.hpp"
#include "internal/http_transport.hpp"

#include <e2b/context.hpp>
#include <e2b/filesystem.hpp>
#include <e2b/options.hpp>

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>

namespace e2b::internal {

/// One FilesystemService call: the sandbox it runs against and its service API.
/// Throws Error(0, "<operation> called on a FilesystemService without
/// sandbox") for a default-constructed service.
class FilesystemCall {
 public:
  FilesystemCall(std::shared_ptr<SandboxState> state, const char* operation);

  const SandboxState& State() const { return *state_; }
  /// The service API of the filesystem RPCs and /files transfers.
  EnvdApi& Envd() const { return *state_->client->envd; }

 private:
  std::shared_ptr<SandboxState> state_;
};

/// Opens a GET /files download: a single exchange for a plain read, else a
/// reader that applies the byte range, resumes a broken transfer and
/// reports progress (src/filesystem_transfers.cpp).
std::unique_ptr<BodyReader> OpenDownload(const FilesystemCall& call,
                                         const Context& ctx,
                                         const std::string& path,
                                         const ReadParams& params);

/// Sends a POST /files of one file whose body is either `buffer` (when
/// `data` is null) or streamed from `data` of `data_size` bytes (when
/// known), as octet-stream or, for old envd, multipart.
FileInfo Upload(const FilesystemCall& call, const Context& ctx,
                const std::string& path, std::istream* data, std::string buffer,
                const WriteParams& params,
                std::optional<std::uint64_t> data_size = std::nullopt);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_FILESYSTEM_CALL_HPP_
