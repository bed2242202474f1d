#ifndef E2B_VOLUME_HPP_
#define E2B_VOLUME_HPP_

#include <e2b/context.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <chrono>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace e2b {

namespace internal {
struct ClientState;
struct VolumeAccess;
}  // namespace internal

/// The limit of each volume management call and of each content call but
/// file reads and writes (60 s, as the official SDKs). Go:
/// VolumeRequestTimeout.
inline constexpr std::chrono::milliseconds VolumeRequestTimeout{60000};
/// The limit of a volume file read or write, whole transfer included (1 h).
/// Go: VolumeFileTimeout.
inline constexpr std::chrono::milliseconds VolumeFileTimeout{3600000};

/// The type of a volume entry: one of the VolumeFileType* constants (a
/// newer server may send others). Go: VolumeFileType (a string type).
using VolumeFileType = std::string;
/// Go: VolumeFileTypeUnknown.
inline constexpr const char* VolumeFileTypeUnknown = "unknown";
/// Go: VolumeFileTypeFile.
inline constexpr const char* VolumeFileTypeFile = "file";
/// Go: VolumeFileTypeDirectory.
inline constexpr const char* VolumeFileTypeDirectory = "directory";
/// Go: VolumeFileTypeSymlink.
inline constexpr const char* VolumeFileTypeSymlink = "symlink";

/// A volume as ListVolumes reports it. Go: VolumeInfo.
struct VolumeInfo {
  /// The volume's ID.
  std::string VolumeID;
  /// The volume's name.
  std::string Name;
};

/// A volume with its content-API token (GetVolumeInfo, CreateVolume).
/// Go: VolumeAndToken.
struct VolumeAndToken {
  /// The volume's ID.
  std::string VolumeID;
  /// The volume's name.
  std::string Name;
  /// Bearer token of the volume content API (a secret).
  std::string Token;
};

/// A file, directory or symlink inside a volume. Go: VolumeEntryStat.
struct VolumeEntryStat {
  /// The last path element.
  std::string Name;
  /// File, directory or symlink.
  VolumeFileType Type;
  /// Absolute path inside the volume.
  std::string Path;
  /// Size in bytes.
  std::int64_t Size = 0;
  /// Permission bits, e.g. 0644 (octal).
  std::uint32_t Mode = 0;
  /// Owning user ID.
  int UID = 0;
  /// Owning group ID.
  int GID = 0;
  /// Access, modification and change times; the epoch when the server sent
  /// none.
  std::chrono::system_clock::time_point ATime{};
  /// Last modification.
  std::chrono::system_clock::time_point MTime{};
  /// Last status change.
  std::chrono::system_clock::time_point CTime{};
  /// The symlink's target; empty for anything else.
  std::string Target;
};

// ---- options ---------------------------------------------------------------

/// What MakeDir and WriteFile send besides the path; unset fields are not
/// sent (so 0 stays distinct from "the server's default").
struct VolumeWriteParams {
  /// Owner user ID (WithVolumeUID).
  std::optional<int> UID;
  /// Owner group ID (WithVolumeGID).
  std::optional<int> GID;
  /// Permission bits (WithVolumeMode).
  std::optional<std::uint32_t> Mode;
  /// Replace what exists (WithVolumeForce; see MakeDir and WriteFile).
  std::optional<bool> Force;
  /// WriteFile, WriteFileBytes, WriteFileString: progress of the upload
  /// (ProgressFunc); ignored by MakeDir. An e2b-cpp addition.
  ProgressFunc Progress;
};
/// What ReadFile, ReadFileBytes and ReadFileString take besides the path.
/// An e2b-cpp addition.
struct VolumeReadParams {
  /// Progress of the download (ProgressFunc; the total is the answer's
  /// Content-Length, 0 when it has none).
  ProgressFunc Progress;
};
/// What UpdateMetadata changes; unset fields stay as they are.
struct VolumeMetadataParams {
  /// New owner user ID.
  std::optional<int> UID;
  /// New owner group ID.
  std::optional<int> GID;
  /// New permission bits.
  std::optional<std::uint32_t> Mode;
};
/// What List sends besides the path.
struct VolumeListParams {
  /// How many levels below the path to list (WithVolumeDepth).
  std::optional<int> Depth;
};
/// Go: VolumeWriteOption.
using VolumeWriteOption = Option<VolumeWriteParams>;
/// An option of ReadFile, ReadFileBytes and ReadFileString. An e2b-cpp
/// addition.
using VolumeReadOption = Option<VolumeReadParams>;
/// Go: VolumeMetadataOption.
using VolumeMetadataOption = Option<VolumeMetadataParams>;
/// Go: VolumeListOption.
using VolumeListOption = Option<VolumeListParams>;

/// The result of WithVolumeUID, WithVolumeGID and WithVolumeMode: an
/// option of MakeDir and WriteFile (VolumeWriteOption) and of
/// UpdateMetadata (VolumeMetadataOption) alike, as in Go.
class VolumeAttributeOption {
 public:
  /// The attributes to set; unset ones are not sent.
  VolumeAttributeOption(std::optional<int> uid, std::optional<int> gid,
                        std::optional<std::uint32_t> mode)
      : uid_(uid), gid_(gid), mode_(mode) {}
  /// As an option of MakeDir and WriteFile.
  operator VolumeWriteOption() const {  // NOLINT(google-explicit-constructor)
    return VolumeWriteOption(
        [a = *this](VolumeWriteParams& p) { a.ApplyTo(p.UID, p.GID, p.Mode); });
  }
  /// As an option of UpdateMetadata.
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator VolumeMetadataOption() const {
    return VolumeMetadataOption([a = *this](VolumeMetadataParams& p) {
      a.ApplyTo(p.UID, p.GID, p.Mode);
    });
  }

 private:
  void ApplyTo(std::optional<int>& uid, std::optional<int>& gid,
               std::optional<std::uint32_t>& mode) const {
    if (uid_) uid = uid_;
    if (gid_) gid = gid_;
    if (mode_) mode = mode_;
  }
  std::optional<int> uid_;
  std::optional<int> gid_;
  std::optional<std::uint32_t> mode_;
};

/// Owner UID for MakeDir, WriteFile and UpdateMetadata. Go: WithVolumeUID.
VolumeAttributeOption WithVolumeUID(int uid);
/// Owner GID for MakeDir, WriteFile and UpdateMetadata. Go: WithVolumeGID.
VolumeAttributeOption WithVolumeGID(int gid);
/// Permission bits (e.g. 0644) for MakeDir, WriteFile and UpdateMetadata.
/// Go: WithVolumeMode.
VolumeAttributeOption WithVolumeMode(std::uint32_t mode);
/// MakeDir: create missing parents (an existing directory is then fine);
/// WriteFile: create missing parents and overwrite an existing file.
/// Go: WithVolumeForce.
VolumeWriteOption WithVolumeForce(bool force);
/// Reports the upload progress of WriteFile, WriteFileBytes and
/// WriteFileString, as WithWriteProgress does for sandbox files (the total
/// is 0 for a stream, whose size is not known). An e2b-cpp addition.
VolumeWriteOption WithVolumeWriteProgress(ProgressFunc progress);
/// Reports the download progress of ReadFile, ReadFileBytes and
/// ReadFileString, as WithReadProgress does for sandbox files. An e2b-cpp
/// addition.
VolumeReadOption WithVolumeReadProgress(ProgressFunc progress);
/// How many levels below the path List returns (server default 1, at most
/// 10). Go: WithVolumeDepth.
VolumeListOption WithVolumeDepth(int depth);

// ---- Volume -----------------------------------------------------------------

/// A handle to one volume for its content: files and directories read and
/// written through E2B's volume content API, authenticated with the
/// volume's own Token (not the API key). Get one from Client::CreateVolume
/// or Client::ConnectVolume; management (create, list, destroy) is on
/// Client. Cheap to copy; thread-safe. A path that does not exist is a
/// FileNotFoundError; any other refusal a VolumeError. Go: *Volume.
class Volume {
 public:
  /// A handle without a client: every content call throws e2b::Error.
  Volume() = default;

  /// The volume's ID.
  std::string VolumeID;
  /// The volume's name.
  std::string Name;
  /// The bearer token of the content API (a secret: never in a message).
  std::string Token;

  /// The mount of this volume at `path` for SandboxConfig::VolumeMounts.
  /// Go: AsMount.
  VolumeMount AsMount(const std::string& path) const;

  /// The entries below the directory `path` (parents before children, not
  /// the directory itself); WithVolumeDepth lists deeper. Go: List.
  template <typename... Opts>
  std::vector<VolumeEntryStat> List(const Context& ctx, const std::string& path,
                                    const Opts&... opts) const {
    return ListImpl(ctx, path, ApplyOptions(VolumeListParams{}, opts...));
  }
  /// List without a Context (Context::Background()).
  template <typename... Opts>
  std::vector<VolumeEntryStat> List(const std::string& path,
                                    const Opts&... opts) const {
    return List(Context::Background(), path, opts...);
  }

  /// Creates the directory `path`; WithVolumeForce creates missing parents,
  /// WithVolumeUID/GID/Mode set ownership and mode. Go: MakeDir.
  template <typename... Opts>
  VolumeEntryStat MakeDir(const Context& ctx, const std::string& path,
                          const Opts&... opts) const {
    return MakeDirImpl(ctx, path, ApplyOptions(VolumeWriteParams{}, opts...));
  }
  /// MakeDir without a Context (Context::Background()).
  template <typename... Opts>
  VolumeEntryStat MakeDir(const std::string& path, const Opts&... opts) const {
    return MakeDir(Context::Background(), path, opts...);
  }

  /// The entry at `path`. Go: GetInfo.
  VolumeEntryStat GetInfo(const Context& ctx, const std::string& path) const;
  /// GetInfo without a Context (Context::Background()).
  VolumeEntryStat GetInfo(const std::string& path) const;

  /// Whether `path` exists: false for a FileNotFoundError, any other
  /// failure is thrown. Go: Exists.
  bool Exists(const Context& ctx, const std::string& path) const;
  /// Exists without a Context (Context::Background()).
  bool Exists(const std::string& path) const;

  /// Changes the owner and mode of `path` (only the options given are
  /// sent). Go: UpdateMetadata.
  template <typename... Opts>
  VolumeEntryStat UpdateMetadata(const Context& ctx, const std::string& path,
                                 const Opts&... opts) const {
    return UpdateMetadataImpl(ctx, path,
                              ApplyOptions(VolumeMetadataParams{}, opts...));
  }
  /// UpdateMetadata without a Context (Context::Background()).
  template <typename... Opts>
  VolumeEntryStat UpdateMetadata(const std::string& path,
                                 const Opts&... opts) const {
    return UpdateMetadata(Context::Background(), path, opts...);
  }

  /// Opens the file at `path` for streaming: the stream pulls bytes from
  /// the network as it is read (constant memory for any size) and closes
  /// the transfer when destroyed; a failure mid-transfer sets badbit (with
  /// exceptions enabled, throws the e2b::Error). The whole transfer is
  /// bounded by VolumeFileTimeout and `ctx`. Go: ReadFile.
  std::unique_ptr<std::istream> ReadFile(const Context& ctx,
                                         const std::string& path) const;
  /// ReadFile without a Context (Context::Background()).
  std::unique_ptr<std::istream> ReadFile(const std::string& path) const;
  /// ReadFile with an option (WithVolumeReadProgress); progress is
  /// reported as the caller reads the stream. An e2b-cpp addition.
  std::unique_ptr<std::istream> ReadFile(const Context& ctx,
                                         const std::string& path,
                                         const VolumeReadOption& option) const;
  /// ReadFile with an option, without a Context (Context::Background()).
  std::unique_ptr<std::istream> ReadFile(const std::string& path,
                                         const VolumeReadOption& option) const;

  /// The whole file as bytes. Go: ReadFileBytes.
  std::vector<std::uint8_t> ReadFileBytes(const Context& ctx,
                                          const std::string& path) const;
  /// ReadFileBytes without a Context (Context::Background()).
  std::vector<std::uint8_t> ReadFileBytes(const std::string& path) const;
  /// ReadFileBytes with an option (WithVolumeReadProgress). An e2b-cpp
  /// addition.
  std::vector<std::uint8_t> ReadFileBytes(const Context& ctx,
                                          const std::string& path,
                                          const VolumeReadOption& option) const;
  /// ReadFileBytes with an option, without a Context
  /// (Context::Background()).
  std::vector<std::uint8_t> ReadFileBytes(const std::string& path,
                                          const VolumeReadOption& option) const;

  /// The whole file as a string (raw bytes). Go: ReadFileString.
  std::string ReadFileString(const Context& ctx, const std::string& path) const;
  /// ReadFileString without a Context (Context::Background()).
  std::string ReadFileString(const std::string& path) const;
  /// ReadFileString with an option (WithVolumeReadProgress). An e2b-cpp
  /// addition.
  std::string ReadFileString(const Context& ctx, const std::string& path,
                             const VolumeReadOption& option) const;
  /// ReadFileString with an option, without a Context
  /// (Context::Background()).
  std::string ReadFileString(const std::string& path,
                             const VolumeReadOption& option) const;

  /// Uploads everything `data` yields to `path`, streaming (constant
  /// memory; sent chunked). Without WithVolumeForce an existing file is a
  /// VolumeError (409) and missing parents a FileNotFoundError. Bounded by
  /// VolumeFileTimeout and `ctx`. Go: WriteFile.
  template <typename... Opts>
  VolumeEntryStat WriteFile(const Context& ctx, const std::string& path,
                            std::istream& data, const Opts&... opts) const {
    return WriteImpl(ctx, path, &data, {},
                     ApplyOptions(VolumeWriteParams{}, opts...));
  }
  /// WriteFile without a Context (Context::Background()).
  template <typename... Opts>
  VolumeEntryStat WriteFile(const std::string& path, std::istream& data,
                            const Opts&... opts) const {
    return WriteFile(Context::Background(), path, data, opts...);
  }

  /// Writes `bytes` to `path` (options as WriteFile). Go: WriteFileBytes.
  template <typename... Opts>
  VolumeEntryStat WriteFileBytes(const Context& ctx, const std::string& path,
                                 const std::vector<std::uint8_t>& bytes,
                                 const Opts&... opts) const {
    return WriteImpl(ctx, path, nullptr,
                     std::string(bytes.begin(), bytes.end()),
                     ApplyOptions(VolumeWriteParams{}, opts...));
  }
  /// WriteFileBytes without a Context (Context::Background()).
  template <typename... Opts>
  VolumeEntryStat WriteFileBytes(const std::string& path,
                                 const std::vector<std::uint8_t>& bytes,
                                 const Opts&... opts) const {
    return WriteFileBytes(Context::Background(), path, bytes, opts...);
  }

  /// Writes `text` to `path` (options as WriteFile). Go: WriteFileString.
  template <typename... Opts>
  VolumeEntryStat WriteFileString(const Context& ctx, const std::string& path,
                                  const std::string& text,
                                  const Opts&... opts) const {
    return WriteImpl(ctx, path, nullptr, text,
                     ApplyOptions(VolumeWriteParams{}, opts...));
  }
  /// WriteFileString without a Context (Context::Background()).
  template <typename... Opts>
  VolumeEntryStat WriteFileString(const std::string& path,
                                  const std::string& text,
                                  const Opts&... opts) const {
    return WriteFileString(Context::Background(), path, text, opts...);
  }

  /// Removes the file, symlink or whole directory tree at `path`.
  /// Go: Remove.
  void Remove(const Context& ctx, const std::string& path) const;
  /// Remove without a Context (Context::Background()).
  void Remove(const std::string& path) const;

 private:
  friend class Client;
  Volume(std::shared_ptr<const internal::ClientState> client,
         VolumeAndToken volume);

  internal::VolumeAccess Access(const char* call) const;
  std::vector<VolumeEntryStat> ListImpl(const Context& ctx,
                                        const std::string& path,
                                        const VolumeListParams& p) const;
  VolumeEntryStat MakeDirImpl(const Context& ctx, const std::string& path,
                              const VolumeWriteParams& p) const;
  VolumeEntryStat UpdateMetadataImpl(const Context& ctx,
                                     const std::string& path,
                                     const VolumeMetadataParams& p) const;
  VolumeEntryStat WriteImpl(const Context& ctx, const std::string& path,
                            std::istream* data, std::string buffer,
                            const VolumeWriteParams& p) const;

  std::shared_ptr<const internal::ClientState> client_;
};

}  // namespace e2b

#endif  // E2B_VOLUME_HPP_
