// FilesystemService: reading and writing one file (the transfers behind
// them are in filesystem_transfers.cpp) and the metadata RPCs. Watches are
// in filesystem_watch.cpp, signed URLs in filesystem_urls.cpp.

#include "internal/envd_api.hpp"
#include "internal/file_streams.hpp"
#include "internal/filesystem_call.hpp"

#include <e2b/errors.hpp>
#include <e2b/filesystem.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace e2b {

using internal::FilesystemCall;

FilesystemService::FilesystemService(
    std::shared_ptr<internal::SandboxState> state)
    : state_(std::move(state)) {}

std::unique_ptr<std::istream> FilesystemService::ReadImpl(
    const Context& ctx, const std::string& path,
    const ReadParams& params) const {
  FilesystemCall call(state_, "Filesystem.Read");
  return std::make_unique<internal::BodyReaderStream>(
      internal::OpenDownload(call, ctx, path, params));
}

std::vector<std::uint8_t> FilesystemService::ReadBytesImpl(
    const Context& ctx, const std::string& path,
    const ReadParams& params) const {
  const std::string text = ReadStringImpl(ctx, path, params);
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

std::string FilesystemService::ReadStringImpl(const Context& ctx,
                                              const std::string& path,
                                              const ReadParams& params) const {
  FilesystemCall call(state_, "Filesystem.ReadString");
  auto body = internal::OpenDownload(call, ctx, path, params);
  return internal::ReadWholeBody(*body);
}

FileInfo FilesystemService::WriteImpl(const Context& ctx,
                                      const std::string& path,
                                      std::istream& data,
                                      const WriteParams& params) const {
  FilesystemCall call(state_, "Filesystem.Write");
  return internal::Upload(call, ctx, path, &data, {}, params);
}

FileInfo FilesystemService::WriteBufferImpl(const Context& ctx,
                                            const std::string& path,
                                            std::string data,
                                            const WriteParams& params) const {
  FilesystemCall call(state_, "Filesystem.Write");
  return internal::Upload(call, ctx, path, nullptr, std::move(data), params);
}

// ---- Metadata RPCs ----------------------------------------------------------

std::vector<FileInfo> FilesystemService::ListImpl(
    const Context& ctx, const std::string& path,
    const ReadParams& params) const {
  FilesystemCall call(state_, "Filesystem.List");
  if (params.Depth == 0)
    throw InvalidArgumentError("List: depth must be at least 1", 0);
  return call.Envd().ListDir(ctx, call.State(), path, params.Depth, params.User,
                             params.Timeout);
}

FileInfo FilesystemService::StatImpl(const Context& ctx,
                                     const std::string& path,
                                     const ReadParams& params) const {
  FilesystemCall call(state_, "Filesystem.Stat");
  return call.Envd().Stat(ctx, call.State(), path, params.User, params.Timeout);
}

bool FilesystemService::ExistsImpl(const Context& ctx, const std::string& path,
                                   const ReadParams& params) const {
  try {
    StatImpl(ctx, path, params);
    return true;
  } catch (const FileNotFoundError&) {
    return false;
  }
}

bool FilesystemService::MakeDirImpl(const Context& ctx, const std::string& path,
                                    const WriteParams& params) const {
  FilesystemCall call(state_, "Filesystem.MakeDir");
  return call.Envd().MakeDir(ctx, call.State(), path, params.User,
                             params.Timeout);
}

void FilesystemService::RemoveImpl(const Context& ctx, const std::string& path,
                                   const ReadParams& params) const {
  FilesystemCall call(state_, "Filesystem.Remove");
  call.Envd().Remove(ctx, call.State(), path, params.User, params.Timeout);
}

FileInfo FilesystemService::RenameImpl(const Context& ctx,
                                       const std::string& old_path,
                                       const std::string& new_path,
                                       const WriteParams& params) const {
  FilesystemCall call(state_, "Filesystem.Rename");
  return call.Envd().Move(ctx, call.State(), old_path, new_path, params.User,
                          params.Timeout);
}

}  // namespace e2b
