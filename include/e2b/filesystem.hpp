#ifndef E2B_FILESYSTEM_HPP_
#define E2B_FILESYSTEM_HPP_

#include <e2b/context.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace e2b {

namespace internal {
struct SandboxState;
struct WatchStreamState;
}  // namespace internal

/// A change in a watched directory. Go: FilesystemEvent.
struct FilesystemEvent {
  /// The changed path, relative to the watched directory.
  std::string Name;
  /// "create", "write", "remove", "rename", "chmod" or "unknown".
  std::string Type;
  /// The changed entry, when the watch asked for it (WithIncludeEntry).
  std::optional<FileInfo> Entry;
};

/// One file of a WriteFiles upload: `Data`, or, when `Stream` is set, what
/// the stream yields (streamed; it must outlive the call). JS: WriteEntry.
struct WriteEntry {
  /// Destination path in the sandbox.
  std::string Path;
  /// The content, unless Stream is set.
  std::string Data;
  /// When set, the content is what this stream yields (streamed; it must
  /// outlive the call).
  std::istream* Stream = nullptr;
};

/// A polling directory watcher (CreateWatcher / GetWatcherEvents /
/// RemoveWatcher). Cheap to copy (copies share the watcher); thread-safe:
/// one thread may poll while another stops it. Go: *WatchHandle.
class WatchHandle {
 public:
  WatchHandle() = default;

  /// The events since the last call (empty when none). Throws e2b::Error
  /// once stopped. Go: GetEvents.
  std::vector<FilesystemEvent> GetEvents(const Context& ctx) const;
  /// GetEvents without a Context (Context::Background()).
  std::vector<FilesystemEvent> GetEvents() const {
    return GetEvents(Context::Background());
  }
  /// Removes the watcher on the server; idempotent. Go: Stop.
  void Stop(const Context& ctx) const;
  /// Stop without a Context (Context::Background()).
  void Stop() const { Stop(Context::Background()); }
  /// The server's watcher id ("" for a default-constructed handle).
  std::string WatcherID() const;

 private:
  friend class FilesystemService;
  struct Impl;
  explicit WatchHandle(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

/// A streaming directory watch (WatchDir with a callback): a background
/// thread reads the event stream and calls the callback for each event.
/// Movable, not copyable; destroying it stops the watch. JS: WatchHandle.
class WatchStreamHandle {
 public:
  WatchStreamHandle() = default;
  /// Moves the watch; the source is left empty.
  WatchStreamHandle(WatchStreamHandle&&) noexcept;
  /// Stops this handle's watch, then takes over `other`'s.
  WatchStreamHandle& operator=(WatchStreamHandle&&) noexcept;
  WatchStreamHandle(const WatchStreamHandle&) = delete;
  WatchStreamHandle& operator=(const WatchStreamHandle&) = delete;
  /// Stops the watch (as Stop()).
  ~WatchStreamHandle();

  /// Ends the stream and waits for the reader thread; no callback runs
  /// after it returns. Never throws; idempotent. Must not be called from
  /// the callback.
  void Stop() noexcept;
  /// Blocks until the stream ends on its own (server end, watch timeout,
  /// failure) or is stopped; rethrows the failure that ended it, if any.
  void Wait();
  /// True while the stream is being read.
  bool Running() const;
  /// The failure that ended the stream (null when none, or still running).
  std::exception_ptr Failure() const;

 private:
  friend class FilesystemService;
  explicit WatchStreamHandle(std::shared_ptr<internal::WatchStreamState> st);
  std::shared_ptr<internal::WatchStreamState> state_;
};

/// Called for each event of a streaming watch, on the watch's thread. An
/// exception it throws ends the watch (Wait() rethrows it).
using WatchCallback = std::function<void(const FilesystemEvent&)>;

/// Files in a sandbox: reads and writes through envd's /files endpoint,
/// metadata calls and watches through the filesystem.Filesystem RPCs.
/// Cheap to copy; thread-safe. Go: *FilesystemService.
class FilesystemService {
 public:
  FilesystemService() = default;

  /// Opens the file at `path` for streaming: the returned stream pulls bytes
  /// from the network as it is read (constant memory for any size) and
  /// closes the transfer when destroyed. Throws FileNotFoundError when the
  /// path does not exist; a failure mid-transfer sets badbit on the stream
  /// (with exceptions enabled, it throws the e2b::Error). WithReadRange
  /// reads a slice (HTTP Range; 416 Error when it starts past the end),
  /// WithReadResume re-requests the missing bytes after a broken transfer
  /// (refusing a file that changed meanwhile), WithReadProgress reports
  /// progress. Go: Read.
  template <typename... Opts>
  std::unique_ptr<std::istream> Read(const Context& ctx,
                                     const std::string& path,
                                     const Opts&... opts) const {
    return ReadImpl(ctx, path, ApplyOptions(ReadParams{}, opts...));
  }
  /// Read without a Context (Context::Background()).
  template <typename... Opts>
  std::unique_ptr<std::istream> Read(const std::string& path,
                                     const Opts&... opts) const {
    return Read(Context::Background(), path, opts...);
  }

  /// The whole file as bytes. Go: ReadBytes.
  template <typename... Opts>
  std::vector<std::uint8_t> ReadBytes(const Context& ctx,
                                      const std::string& path,
                                      const Opts&... opts) const {
    return ReadBytesImpl(ctx, path, ApplyOptions(ReadParams{}, opts...));
  }
  /// ReadBytes without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<std::uint8_t> ReadBytes(const std::string& path,
                                      const Opts&... opts) const {
    return ReadBytes(Context::Background(), path, opts...);
  }

  /// The whole file as a string (raw bytes). Go: ReadString.
  template <typename... Opts>
  std::string ReadString(const Context& ctx, const std::string& path,
                         const Opts&... opts) const {
    return ReadStringImpl(ctx, path, ApplyOptions(ReadParams{}, opts...));
  }
  /// ReadString without a Context (Context::Background()).
  template <typename... Opts>
  std::string ReadString(const std::string& path, const Opts&... opts) const {
    return ReadString(Context::Background(), path, opts...);
  }

  /// Uploads everything `data` yields to `path`, streaming (constant
  /// memory). Creates parent directories; overwrites. WithFileMetadata
  /// stores metadata with the file, WithWriteProgress reports progress.
  /// Go: Write.
  template <typename... Opts>
  FileInfo Write(const Context& ctx, const std::string& path,
                 std::istream& data, const Opts&... opts) const {
    return WriteImpl(ctx, path, data, ApplyOptions(WriteParams{}, opts...));
  }
  /// Write without a Context (Context::Background()).
  template <typename... Opts>
  FileInfo Write(const std::string& path, std::istream& data,
                 const Opts&... opts) const {
    return Write(Context::Background(), path, data, opts...);
  }

  /// Writes `bytes` to `path`. Go: WriteBytes.
  template <typename... Opts>
  FileInfo WriteBytes(const Context& ctx, const std::string& path,
                      const std::vector<std::uint8_t>& bytes,
                      const Opts&... opts) const {
    return WriteBufferImpl(ctx, path, std::string(bytes.begin(), bytes.end()),
                           ApplyOptions(WriteParams{}, opts...));
  }
  /// WriteBytes without a Context (Context::Background()).
  template <typename... Opts>
  FileInfo WriteBytes(const std::string& path,
                      const std::vector<std::uint8_t>& bytes,
                      const Opts&... opts) const {
    return WriteBytes(Context::Background(), path, bytes, opts...);
  }

  /// Writes `text` to `path`. Go: WriteString.
  template <typename... Opts>
  FileInfo WriteString(const Context& ctx, const std::string& path,
                       const std::string& text, const Opts&... opts) const {
    return WriteBufferImpl(ctx, path, text,
                           ApplyOptions(WriteParams{}, opts...));
  }
  /// WriteString without a Context (Context::Background()).
  template <typename... Opts>
  FileInfo WriteString(const std::string& path, const std::string& text,
                       const Opts&... opts) const {
    return WriteString(Context::Background(), path, text, opts...);
  }

  // ---- Metadata calls (filesystem.Filesystem RPCs) ----------------------

  /// The entries of directory `path` (WithDepth(n) lists n levels). Throws
  /// FileNotFoundError when it does not exist. Go: List.
  template <typename... Opts>
  std::vector<FileInfo> List(const Context& ctx, const std::string& path,
                             const Opts&... opts) const {
    return ListImpl(ctx, path, ApplyOptions(ReadParams{}, opts...));
  }
  /// List without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<FileInfo> List(const std::string& path,
                             const Opts&... opts) const {
    return List(Context::Background(), path, opts...);
  }

  /// Information about `path`; FileNotFoundError when missing. Go: Stat.
  template <typename... Opts>
  FileInfo Stat(const Context& ctx, const std::string& path,
                const Opts&... opts) const {
    return StatImpl(ctx, path, ApplyOptions(ReadParams{}, opts...));
  }
  /// Stat without a Context (Context::Background()).
  template <typename... Opts>
  FileInfo Stat(const std::string& path, const Opts&... opts) const {
    return Stat(Context::Background(), path, opts...);
  }

  /// Whether `path` exists (false, not an error, when it does not).
  /// Go: Exists.
  template <typename... Opts>
  bool Exists(const Context& ctx, const std::string& path,
              const Opts&... opts) const {
    return ExistsImpl(ctx, path, ApplyOptions(ReadParams{}, opts...));
  }
  /// Exists without a Context (Context::Background()).
  template <typename... Opts>
  bool Exists(const std::string& path, const Opts&... opts) const {
    return Exists(Context::Background(), path, opts...);
  }

  /// Creates directory `path` with its parents (mkdir -p). Returns true
  /// when it was created, false when it already existed (not an error);
  /// throws when a file is in the way. Go: MakeDir.
  template <typename... Opts>
  bool MakeDir(const Context& ctx, const std::string& path,
               const Opts&... opts) const {
    return MakeDirImpl(ctx, path, ApplyOptions(WriteParams{}, opts...));
  }
  /// MakeDir without a Context (Context::Background()).
  template <typename... Opts>
  bool MakeDir(const std::string& path, const Opts&... opts) const {
    return MakeDir(Context::Background(), path, opts...);
  }

  /// Removes a file or, recursively, a directory. A missing path is not an
  /// error (envd succeeds). Go: Remove.
  template <typename... Opts>
  void Remove(const Context& ctx, const std::string& path,
              const Opts&... opts) const {
    RemoveImpl(ctx, path, ApplyOptions(ReadParams{}, opts...));
  }
  /// Remove without a Context (Context::Background()).
  template <typename... Opts>
  void Remove(const std::string& path, const Opts&... opts) const {
    Remove(Context::Background(), path, opts...);
  }

  /// Renames (moves) `old_path` to `new_path`; returns the moved entry.
  /// FileNotFoundError when `old_path` is missing. Go: Rename.
  template <typename... Opts>
  FileInfo Rename(const Context& ctx, const std::string& old_path,
                  const std::string& new_path, const Opts&... opts) const {
    return RenameImpl(ctx, old_path, new_path,
                      ApplyOptions(WriteParams{}, opts...));
  }
  /// Rename without a Context (Context::Background()).
  template <typename... Opts>
  FileInfo Rename(const std::string& old_path, const std::string& new_path,
                  const Opts&... opts) const {
    return Rename(Context::Background(), old_path, new_path, opts...);
  }

  // ---- Watching ---------------------------------------------------------

  /// Starts a polling watcher on directory `path`: call GetEvents() on the
  /// handle to drain events, Stop() to end it. Go: WatchDir.
  template <typename... Opts>
  WatchHandle WatchDir(const Context& ctx, const std::string& path,
                       bool recursive, const Opts&... opts) const {
    return WatchDirImpl(ctx, path, recursive,
                        ApplyOptions(ReadParams{}, opts...));
  }
  /// WatchDir without a Context (Context::Background()).
  template <typename... Opts>
  WatchHandle WatchDir(const std::string& path, bool recursive,
                       const Opts&... opts) const {
    return WatchDir(Context::Background(), path, recursive, opts...);
  }

  /// Streams the events of directory `path` to `on_event` (called on a
  /// background thread) until the handle is stopped or destroyed, the
  /// context ends, or WithWatchTimeout elapses. Returns once the server
  /// confirmed the watch (so no later change is missed); throws
  /// FileNotFoundError when `path` is missing. JS: watchDir(path, onEvent).
  template <typename F, typename... Opts,
            std::enable_if_t<std::is_invocable_v<F&, const FilesystemEvent&>,
                             int> = 0>
  WatchStreamHandle WatchDir(const Context& ctx, const std::string& path,
                             F&& on_event, const Opts&... opts) const {
    return WatchDirStreamImpl(ctx, path,
                              WatchCallback(std::forward<F>(on_event)),
                              ApplyOptions(WatchParams{}, opts...));
  }
  template <typename F, typename... Opts,
            std::enable_if_t<std::is_invocable_v<F&, const FilesystemEvent&>,
                             int> = 0>
  /// WatchDir without a Context (Context::Background()).
  WatchStreamHandle WatchDir(const std::string& path, F&& on_event,
                             const Opts&... opts) const {
    return WatchDir(Context::Background(), path, std::forward<F>(on_event),
                    opts...);
  }

  // ---- Bulk and local-file transfers -----------------------------------

  /// Writes many files in one multipart upload (streamed). Returns one
  /// FileInfo per written file. JS: write([{path, data}, ...]).
  template <typename... Opts>
  std::vector<FileInfo> WriteFiles(const Context& ctx,
                                   const std::vector<WriteEntry>& files,
                                   const Opts&... opts) const {
    return WriteFilesImpl(ctx, files, ApplyOptions(WriteParams{}, opts...));
  }
  /// WriteFiles without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<FileInfo> WriteFiles(const std::vector<WriteEntry>& files,
                                   const Opts&... opts) const {
    return WriteFiles(Context::Background(), files, opts...);
  }

  /// Uploads the local file `local_path` to `path` (streamed; progress
  /// knows the total).
  template <typename... Opts>
  FileInfo UploadFile(const Context& ctx, const std::string& local_path,
                      const std::string& path, const Opts&... opts) const {
    return UploadFileImpl(ctx, local_path, path,
                          ApplyOptions(WriteParams{}, opts...));
  }
  /// UploadFile without a Context (Context::Background()).
  template <typename... Opts>
  FileInfo UploadFile(const std::string& local_path, const std::string& path,
                      const Opts&... opts) const {
    return UploadFile(Context::Background(), local_path, path, opts...);
  }

  /// Downloads `path` into the local file `local_path` and returns the
  /// number of bytes written. With WithReadRange(offset), the bytes are
  /// written at `offset` of the local file and it is cut after them: how a
  /// partial earlier download is continued.
  template <typename... Opts>
  std::uint64_t DownloadFile(const Context& ctx, const std::string& path,
                             const std::string& local_path,
                             const Opts&... opts) const {
    return DownloadFileImpl(ctx, path, local_path,
                            ApplyOptions(ReadParams{}, opts...));
  }
  /// DownloadFile without a Context (Context::Background()).
  template <typename... Opts>
  std::uint64_t DownloadFile(const std::string& path,
                             const std::string& local_path,
                             const Opts&... opts) const {
    return DownloadFile(Context::Background(), path, local_path, opts...);
  }

  /// Uploads every regular file under the local directory `local_dir` to
  /// the same relative path under `path`, in one multipart request, and
  /// creates its empty directories. Symlinked directories are not entered.
  template <typename... Opts>
  std::vector<FileInfo> UploadDir(const Context& ctx,
                                  const std::string& local_dir,
                                  const std::string& path,
                                  const Opts&... opts) const {
    return UploadDirImpl(ctx, local_dir, path,
                         ApplyOptions(WriteParams{}, opts...));
  }
  /// UploadDir without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<FileInfo> UploadDir(const std::string& local_dir,
                                  const std::string& path,
                                  const Opts&... opts) const {
    return UploadDir(Context::Background(), local_dir, path, opts...);
  }

  /// Downloads the directory `path` recursively into `local_dir` (created
  /// if needed), one streamed file at a time; returns the downloaded files.
  /// Symlinked directories are not entered; an entry whose path would
  /// leave `local_dir` is refused.
  template <typename... Opts>
  std::vector<FileInfo> DownloadDir(const Context& ctx, const std::string& path,
                                    const std::string& local_dir,
                                    const Opts&... opts) const {
    return DownloadDirImpl(ctx, path, local_dir,
                           ApplyOptions(ReadParams{}, opts...));
  }
  /// DownloadDir without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<FileInfo> DownloadDir(const std::string& path,
                                    const std::string& local_dir,
                                    const Opts&... opts) const {
    return DownloadDir(Context::Background(), path, local_dir, opts...);
  }

  // ---- Signed URLs ------------------------------------------------------

  /// A URL that downloads `path` with a plain HTTP GET, no headers needed:
  /// signed (v1) when the sandbox has an access token, else the plain
  /// /files URL (then WithSignedURLExpiration throws e2b::Error).
  /// Go: Sandbox.DownloadURL.
  template <typename... Opts>
  std::string DownloadURL(const std::string& path, const Opts&... opts) const {
    return SignedURLImpl(path, "read",
                         ApplyOptions(SignedURLParams{}, opts...));
  }
  /// A URL that uploads to `path` with an HTTP POST (multipart/form-data,
  /// part named "file", or application/octet-stream). Go: Sandbox.UploadURL.
  template <typename... Opts>
  std::string UploadURL(const std::string& path, const Opts&... opts) const {
    return SignedURLImpl(path, "write",
                         ApplyOptions(SignedURLParams{}, opts...));
  }

 private:
  friend class Sandbox;
  explicit FilesystemService(std::shared_ptr<internal::SandboxState> state);
  std::unique_ptr<std::istream> ReadImpl(const Context& ctx,
                                         const std::string& path,
                                         const ReadParams& params) const;
  std::vector<std::uint8_t> ReadBytesImpl(const Context& ctx,
                                          const std::string& path,
                                          const ReadParams& params) const;
  std::string ReadStringImpl(const Context& ctx, const std::string& path,
                             const ReadParams& params) const;
  FileInfo WriteImpl(const Context& ctx, const std::string& path,
                     std::istream& data, const WriteParams& params) const;
  FileInfo WriteBufferImpl(const Context& ctx, const std::string& path,
                           std::string data, const WriteParams& params) const;
  std::vector<FileInfo> ListImpl(const Context& ctx, const std::string& path,
                                 const ReadParams& params) const;
  FileInfo StatImpl(const Context& ctx, const std::string& path,
                    const ReadParams& params) const;
  bool ExistsImpl(const Context& ctx, const std::string& path,
                  const ReadParams& params) const;
  bool MakeDirImpl(const Context& ctx, const std::string& path,
                   const WriteParams& params) const;
  void RemoveImpl(const Context& ctx, const std::string& path,
                  const ReadParams& params) const;
  FileInfo RenameImpl(const Context& ctx, const std::string& old_path,
                      const std::string& new_path,
                      const WriteParams& params) const;
  WatchHandle WatchDirImpl(const Context& ctx, const std::string& path,
                           bool recursive, const ReadParams& params) const;
  WatchStreamHandle WatchDirStreamImpl(const Context& ctx,
                                       const std::string& path,
                                       WatchCallback on_event,
                                       const WatchParams& params) const;
  std::vector<FileInfo> WriteFilesImpl(const Context& ctx,
                                       const std::vector<WriteEntry>& entries,
                                       const WriteParams& params) const;
  FileInfo UploadFileImpl(const Context& ctx, const std::string& local_path,
                          const std::string& path,
                          const WriteParams& params) const;
  std::uint64_t DownloadFileImpl(const Context& ctx, const std::string& path,
                                 const std::string& local_path,
                                 const ReadParams& params) const;
  std::vector<FileInfo> UploadDirImpl(const Context& ctx,
                                      const std::string& local_dir,
                                      const std::string& path,
                                      const WriteParams& params) const;
  std::vector<FileInfo> DownloadDirImpl(const Context& ctx,
                                        const std::string& path,
                                        const std::string& local_dir,
                                        const ReadParams& params) const;
  std::string SignedURLImpl(const std::string& path, const char* operation,
                            const SignedURLParams& params) const;

  std::shared_ptr<internal::SandboxState> state_;
};

}  // namespace e2b

#endif  // E2B_FILESYSTEM_HPP_
