// Volumes: the Client's management calls (through the ControlPlaneApi)
// and the Volume handle's content calls (through the VolumeContentApi,
// with the volume's token); docs/protocol/volumes.md.

#include "internal/client_state.hpp"
#include "internal/control_plane_api.hpp"
#include "internal/file_streams.hpp"
#include "internal/volume_content_api.hpp"

#include <e2b/client.hpp>
#include <e2b/errors.hpp>
#include <e2b/volume.hpp>

#include <string>
#include <utility>
#include <vector>

namespace e2b {
namespace {

// An empty ID would turn /volumes/{id} into the listing route.
void CheckVolumeID(const std::string& volume_id, const char* call) {
  if (volume_id.empty()) {
    throw InvalidArgumentError(std::string(call) + ": the volume ID is empty",
                               0);
  }
}

}  // namespace

// ---- options
// -----------------------------------------------------------------

VolumeAttributeOption WithVolumeUID(int uid) {
  return VolumeAttributeOption(uid, std::nullopt, std::nullopt);
}

VolumeAttributeOption WithVolumeGID(int gid) {
  return VolumeAttributeOption(std::nullopt, gid, std::nullopt);
}

VolumeAttributeOption WithVolumeMode(std::uint32_t mode) {
  return VolumeAttributeOption(std::nullopt, std::nullopt, mode);
}

VolumeWriteOption WithVolumeForce(bool force) {
  return VolumeWriteOption([force](VolumeWriteParams& p) { p.Force = force; });
}

VolumeWriteOption WithVolumeWriteProgress(ProgressFunc progress) {
  return VolumeWriteOption(
      [v = std::move(progress)](VolumeWriteParams& p) { p.Progress = v; });
}

VolumeReadOption WithVolumeReadProgress(ProgressFunc progress) {
  return VolumeReadOption(
      [v = std::move(progress)](VolumeReadParams& p) { p.Progress = v; });
}

VolumeListOption WithVolumeDepth(int depth) {
  return VolumeListOption([depth](VolumeListParams& p) { p.Depth = depth; });
}

// ---- Client: management
// ------------------------------------------------------

Volume Client::CreateVolume(const Context& ctx, const std::string& name) const {
  return Volume(state_, state_->control_plane->CreateVolume(ctx, name));
}

Volume Client::CreateVolume(const std::string& name) const {
  return CreateVolume(Context::Background(), name);
}

Volume Client::ConnectVolume(const Context& ctx,
                             const std::string& volume_id) const {
  return Volume(state_, GetVolumeInfo(ctx, volume_id));
}

Volume Client::ConnectVolume(const std::string& volume_id) const {
  return ConnectVolume(Context::Background(), volume_id);
}

VolumeAndToken Client::GetVolumeInfo(const Context& ctx,
                                     const std::string& volume_id) const {
  CheckVolumeID(volume_id, "GetVolumeInfo");
  return state_->control_plane->GetVolume(ctx, volume_id);
}

VolumeAndToken Client::GetVolumeInfo(const std::string& volume_id) const {
  return GetVolumeInfo(Context::Background(), volume_id);
}

std::vector<VolumeInfo> Client::ListVolumes(const Context& ctx) const {
  return state_->control_plane->ListVolumes(ctx);
}

std::vector<VolumeInfo> Client::ListVolumes() const {
  return ListVolumes(Context::Background());
}

bool Client::DestroyVolume(const Context& ctx,
                           const std::string& volume_id) const {
  CheckVolumeID(volume_id, "DestroyVolume");
  return state_->control_plane->DestroyVolume(ctx, volume_id);
}

bool Client::DestroyVolume(const std::string& volume_id) const {
  return DestroyVolume(Context::Background(), volume_id);
}

// ---- Volume: content
// ---------------------------------------------------------

Volume::Volume(std::shared_ptr<const internal::ClientState> client,
               VolumeAndToken volume)
    : VolumeID(std::move(volume.VolumeID)),
      Name(std::move(volume.Name)),
      Token(std::move(volume.Token)),
      client_(std::move(client)) {}

VolumeMount Volume::AsMount(const std::string& path) const {
  return VolumeMount{Name, path};
}

internal::VolumeAccess Volume::Access(const char* call) const {
  if (!client_) {
    throw Error(0, std::string("Volume.") + call +
                       ": the volume has no client (get it from "
                       "Client::CreateVolume or Client::ConnectVolume)");
  }
  CheckVolumeID(VolumeID, call);
  return internal::VolumeAccess{VolumeID, Token};
}

std::vector<VolumeEntryStat> Volume::ListImpl(const Context& ctx,
                                              const std::string& path,
                                              const VolumeListParams& p) const {
  const auto access = Access("List");
  return client_->volume_content->List(ctx, access, path, p);
}

VolumeEntryStat Volume::MakeDirImpl(const Context& ctx, const std::string& path,
                                    const VolumeWriteParams& p) const {
  const auto access = Access("MakeDir");
  return client_->volume_content->MakeDir(ctx, access, path, p);
}

VolumeEntryStat Volume::GetInfo(const Context& ctx,
                                const std::string& path) const {
  const auto access = Access("GetInfo");
  return client_->volume_content->GetInfo(ctx, access, path);
}

VolumeEntryStat Volume::GetInfo(const std::string& path) const {
  return GetInfo(Context::Background(), path);
}

bool Volume::Exists(const Context& ctx, const std::string& path) const {
  try {
    GetInfo(ctx, path);
    return true;
  } catch (const FileNotFoundError&) {
    return false;
  }
}

bool Volume::Exists(const std::string& path) const {
  return Exists(Context::Background(), path);
}

VolumeEntryStat Volume::UpdateMetadataImpl(
    const Context& ctx, const std::string& path,
    const VolumeMetadataParams& p) const {
  const auto access = Access("UpdateMetadata");
  return client_->volume_content->UpdateMetadata(ctx, access, path, p);
}

std::unique_ptr<std::istream> Volume::ReadFile(const Context& ctx,
                                               const std::string& path) const {
  const auto access = Access("ReadFile");
  return std::make_unique<internal::BodyReaderStream>(
      client_->volume_content->OpenFile(ctx, access, path));
}

std::unique_ptr<std::istream> Volume::ReadFile(const std::string& path) const {
  return ReadFile(Context::Background(), path);
}

std::unique_ptr<std::istream> Volume::ReadFile(
    const Context& ctx, const std::string& path,
    const VolumeReadOption& option) const {
  const VolumeReadParams p = ApplyOptions(VolumeReadParams{}, option);
  const auto access = Access("ReadFile");
  return std::make_unique<internal::BodyReaderStream>(
      internal::WithDownloadProgress(
          client_->volume_content->OpenFile(ctx, access, path), p.Progress));
}

std::vector<std::uint8_t> Volume::ReadFileBytes(const Context& ctx,
                                                const std::string& path) const {
  const std::string text = ReadFileString(ctx, path);
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

std::vector<std::uint8_t> Volume::ReadFileBytes(const std::string& path) const {
  return ReadFileBytes(Context::Background(), path);
}

std::vector<std::uint8_t> Volume::ReadFileBytes(
    const Context& ctx, const std::string& path,
    const VolumeReadOption& option) const {
  const std::string text = ReadFileString(ctx, path, option);
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

std::string Volume::ReadFileString(const Context& ctx,
                                   const std::string& path) const {
  const auto access = Access("ReadFileString");
  auto body = client_->volume_content->OpenFile(ctx, access, path);
  return internal::ReadWholeBody(*body);
}

std::string Volume::ReadFileString(const std::string& path) const {
  return ReadFileString(Context::Background(), path);
}

std::string Volume::ReadFileString(const Context& ctx, const std::string& path,
                                   const VolumeReadOption& option) const {
  const VolumeReadParams p = ApplyOptions(VolumeReadParams{}, option);
  const auto access = Access("ReadFileString");
  auto body = internal::WithDownloadProgress(
      client_->volume_content->OpenFile(ctx, access, path), p.Progress);
  return internal::ReadWholeBody(*body);
}

std::unique_ptr<std::istream> Volume::ReadFile(
    const std::string& path, const VolumeReadOption& option) const {
  return ReadFile(Context::Background(), path, option);
}

std::vector<std::uint8_t> Volume::ReadFileBytes(
    const std::string& path, const VolumeReadOption& option) const {
  return ReadFileBytes(Context::Background(), path, option);
}

std::string Volume::ReadFileString(const std::string& path,
                                   const VolumeReadOption& option) const {
  return ReadFileString(Context::Background(), path, option);
}

VolumeEntryStat Volume::WriteImpl(const Context& ctx, const std::string& path,
                                  std::istream* data, std::string buffer,
                                  const VolumeWriteParams& p) const {
  const auto access = Access("WriteFile");
  return client_->volume_content->WriteFile(ctx, access, path, data,
                                            std::move(buffer), p);
}

void Volume::Remove(const Context& ctx, const std::string& path) const {
  const auto access = Access("Remove");
  client_->volume_content->Remove(ctx, access, path);
}

void Volume::Remove(const std::string& path) const {
  Remove(Context::Background(), path);
}

}  // namespace e2b
