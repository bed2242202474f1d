#ifndef E2B_INTERNAL_ENVD_API_HPP_
#define E2B_INTERNAL_ENVD_API_HPP_

// envd (the agent inside a sandbox) as the public handles see it: one
// virtual per call, failures thrown as e2b exceptions. The handles
// (Sandbox, Commands, Pty, CommandHandle) check arguments and shape
// results; the service API owns the exchange. Unit tests replace it with a fake
// (tests/unit/fake_apis.hpp).
//
// The chain NewClient builds (MakeConnectEnvdApi):
//   ConnectEnvdApi: the Connect calls (ConnectClient, where Connect codes
//     and envd's HTTP errors become exceptions: ThrowConnectHttpError) and
//     GET /health.
//   -> retrying HttpTransport (internal/retry.hpp), chosen per call by
//      whether it is idempotent (EnvdRetryRule or retry-only-unsent).
//   -> the client's HttpTransport.
//

#include "internal/connect_client.hpp"
#include "internal/http_transport.hpp"
#include "internal/process_stream.hpp"

#include <e2b/context.hpp>
#include <e2b/filesystem.hpp>
#include <e2b/types.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace e2b::internal {

struct SandboxState;

/// The events of one process.Process Start or Connect stream, pulled one
/// at a time. Not thread-safe.
class ProcessEventStream {
 public:
  virtual ~ProcessEventStream() = default;
  /// The next event, or nullopt once the stream ended successfully; throws
  /// the mapped exception for a stream that ends in an error or breaks.
  virtual std::optional<ProcessEvent> Next() = 0;
};

/// The events of a filesystem.Filesystem/WatchDir stream (start and
/// keepalive messages skipped). Not thread-safe.
class WatchEventStream {
 public:
  virtual ~WatchEventStream() = default;
  /// The next event, or nullopt once the stream ended successfully; throws
  /// the mapped exception otherwise (TimeoutError when the watch's own
  /// time limit ended it).
  virtual std::optional<FilesystemEvent> Next() = 0;
};

/// A POST /files as the handle prepared it (format, metadata, progress).
/// The views refer to the caller's strings, which outlive the call.
struct FileUpload {
  /// The ?path= of a single-file upload; none for a multipart batch,
  /// whose parts name their paths.
  std::optional<std::string_view> path;
  std::string_view user;
  std::chrono::milliseconds timeout{0};  ///< 0 = none
  /// Content-Type and X-Metadata-* headers.
  HttpHeaders headers;
  /// The body when body_stream is null.
  std::string body;
  /// A streamed body (never retried); must outlive the call.
  std::istream* body_stream = nullptr;
  std::optional<std::uint64_t> body_size;
  /// Called after the exchange, before its answer counts: throws when the
  /// data source failed, so a shorter file never passes as a success.
  std::function<void()> check_source;
  /// The path a 404 names (FileNotFoundError).
  std::string_view error_path;
};

/// A GET /files. The views refer to the caller's strings.
struct FileDownload {
  std::string_view path;
  std::string_view user;
  std::chrono::milliseconds timeout{0};  ///< 0 = none
  /// The Range header value; none = the whole file.
  std::optional<std::string> range;
  /// Whether a 206 is an answer (a resumable download's parts).
  bool accept_partial = false;
};

class EnvdApi {
 public:
  virtual ~EnvdApi() = default;

  /// GET /health: true when envd answers, false when the edge says the
  /// sandbox is gone or not running (502); throws for any other answer.
  virtual bool Health(const Context& ctx, const SandboxState& sandbox) = 0;

  /// Opens a process.Process Start or Connect stream (`call` from
  /// ProcessStreamCall) and returns once response headers arrived.
  virtual std::unique_ptr<ProcessEventStream> OpenProcessStream(
      const SandboxState& sandbox, const ConnectCall& call,
      const nlohmann::json& request) = 0;

  /// process.Process/List. A `timeout` of 0 is the client's request
  /// timeout (so for all the unary process calls).
  virtual std::vector<ProcessInfo> ListProcesses(
      const Context& ctx, const SandboxState& sandbox,
      std::chrono::milliseconds timeout) = 0;
  /// process.Process/SendSignal; false when envd knows no such process.
  virtual bool SendSignal(const Context& ctx, const SandboxState& sandbox,
                          const nlohmann::json& selector, ProcessSignal signal,
                          std::chrono::milliseconds timeout) = 0;
  /// process.Process/SendInput to stdin, or to the terminal when `pty`.
  virtual void SendInput(const Context& ctx, const SandboxState& sandbox,
                         const nlohmann::json& selector, std::string_view data,
                         bool pty, std::chrono::milliseconds timeout) = 0;
  /// process.Process/CloseStdin.
  virtual void CloseStdin(const Context& ctx, const SandboxState& sandbox,
                          const nlohmann::json& selector,
                          std::chrono::milliseconds timeout) = 0;
  /// process.Process/Update with a new terminal size.
  virtual void ResizePty(const Context& ctx, const SandboxState& sandbox,
                         const nlohmann::json& selector, std::uint32_t cols,
                         std::uint32_t rows,
                         std::chrono::milliseconds timeout) = 0;

  // ---- filesystem.Filesystem: `user` (may be empty) is who the call runs
  // as, a `timeout` of 0 the client's request timeout; a not_found on a
  // path is FileNotFoundError(path).
  /// ListDir to `depth` levels.
  virtual std::vector<FileInfo> ListDir(const Context& ctx,
                                        const SandboxState& sandbox,
                                        const std::string& path,
                                        std::uint32_t depth,
                                        const std::string& user,
                                        std::chrono::milliseconds timeout) = 0;
  virtual FileInfo Stat(const Context& ctx, const SandboxState& sandbox,
                        const std::string& path, const std::string& user,
                        std::chrono::milliseconds timeout) = 0;
  /// False when the directory already exists.
  virtual bool MakeDir(const Context& ctx, const SandboxState& sandbox,
                       const std::string& path, const std::string& user,
                       std::chrono::milliseconds timeout) = 0;
  virtual void Remove(const Context& ctx, const SandboxState& sandbox,
                      const std::string& path, const std::string& user,
                      std::chrono::milliseconds timeout) = 0;
  /// Move; a not_found is FileNotFoundError(source).
  virtual FileInfo Move(const Context& ctx, const SandboxState& sandbox,
                        const std::string& source,
                        const std::string& destination, const std::string& user,
                        std::chrono::milliseconds timeout) = 0;
  /// CreateWatcher: the watcher's id.
  virtual std::string CreateWatcher(const Context& ctx,
                                    const SandboxState& sandbox,
                                    const std::string& path, bool recursive,
                                    const std::string& user,
                                    std::chrono::milliseconds timeout) = 0;
  virtual std::vector<FilesystemEvent> GetWatcherEvents(
      const Context& ctx, const SandboxState& sandbox,
      const std::string& watcher_id, const std::string& user) = 0;
  /// WatchDir: returns once envd confirmed the watch (its start event);
  /// failures until then are the caller's (FileNotFoundError(path), ...).
  /// `ctx` governs the whole stream (cancel it to end the watch); a
  /// `params.Timeout` above 0 is the server's limit, else there is none.
  virtual std::unique_ptr<WatchEventStream> OpenWatchStream(
      const Context& ctx, const SandboxState& sandbox, const std::string& path,
      const WatchParams& params) = 0;
  /// POST /files: the entries envd wrote. Takes the upload by value so
  /// that a buffered body is moved, not copied.
  virtual std::vector<FileInfo> UploadFiles(const Context& ctx,
                                            const SandboxState& sandbox,
                                            FileUpload upload) = 0;
  /// GET /files up to the response headers: the reader for a 200, a 206
  /// when accept_partial, and a 416 of a ranged download (the handle
  /// judges it); throws for any other answer (404 = FileNotFoundError(path)).
  /// Retried until headers arrive, never once body bytes may have reached the
  /// caller.
  virtual std::unique_ptr<BodyReader> OpenFile(
      const Context& ctx, const SandboxState& sandbox,
      const FileDownload& download) = 0;
  /// False when the watcher was already gone.
  virtual bool RemoveWatcher(const Context& ctx, const SandboxState& sandbox,
                             const std::string& watcher_id,
                             const std::string& user) = 0;
};

/// What the Connect service API needs of the client's configuration.
struct ConnectEnvdOptions {
  std::chrono::milliseconds request_timeout{60000};
  /// Retries as for an idempotent envd call (EnvdRetryRule).
  std::shared_ptr<HttpTransport> idempotent_transport;
  /// Retries only failures before the request left (UnsentRetryRule).
  std::shared_ptr<HttpTransport> write_transport;
};

/// The service API that speaks Connect (and plain HTTP for /health) to envd.
std::shared_ptr<EnvdApi> MakeConnectEnvdApi(ConnectEnvdOptions options);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_ENVD_API_HPP_
