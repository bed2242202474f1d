#ifndef E2B_FILESYSTEM_HPP_
#define E2B_FILESYSTEM_HPP_

#include <e2b/context.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

namespace e2b {

namespace internal {
struct SandboxState;
}  // namespace internal

/// Reads and writes files in a sandbox through envd's /files endpoint.
/// Cheap to copy; thread-safe. Go: *FilesystemService.
class FilesystemService {
 public:
  FilesystemService() = default;

  /// Opens the file at `path` for streaming: the returned stream pulls bytes
  /// from the network as it is read (constant memory for any size) and
  /// closes the transfer when destroyed. Throws FileNotFoundError when the
  /// path does not exist; a failure mid-transfer sets badbit on the stream
  /// (with exceptions enabled, it throws the e2b::Error). Go: Read.
  template <typename... Opts>
  std::unique_ptr<std::istream> Read(const Context& ctx,
                                     const std::string& path,
                                     const Opts&... opts) const {
    return ReadImpl(ctx, path, ApplyOptions(ReadParams{}, opts...));
  }
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
  template <typename... Opts>
  std::string ReadString(const std::string& path, const Opts&... opts) const {
    return ReadString(Context::Background(), path, opts...);
  }

  /// Uploads everything `data` yields to `path`, streaming (constant
  /// memory). Creates parent directories; overwrites. Go: Write.
  template <typename... Opts>
  FileInfo Write(const Context& ctx, const std::string& path,
                 std::istream& data, const Opts&... opts) const {
    return WriteImpl(ctx, path, data, ApplyOptions(WriteParams{}, opts...));
  }
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
    return WriteBufferImpl(ctx, path,
                           std::string(bytes.begin(), bytes.end()),
                           ApplyOptions(WriteParams{}, opts...));
  }
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
  template <typename... Opts>
  FileInfo WriteString(const std::string& path, const std::string& text,
                       const Opts&... opts) const {
    return WriteString(Context::Background(), path, text, opts...);
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

  std::shared_ptr<internal::SandboxState> state_;
};

}  // namespace e2b

#endif  // E2B_FILESYSTEM_HPP_
