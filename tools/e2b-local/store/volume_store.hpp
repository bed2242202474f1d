#ifndef E2B_LOCAL_STORE_VOLUME_STORE_HPP_
#define E2B_LOCAL_STORE_VOLUME_STORE_HPP_

// E2B volumes on disk (docs/protocol/volumes.md): each is
// <state-dir>/volumes/<volumeID>/ holding volume.json (ID, name, token,
// creation time) and data/, the directory sandboxes mount and the content
// API serves. A volume is made as <volumeID>.new and renamed into place
// once its record is written, so a crash leaves a whole volume or a
// leftover that the next start removes. Thread-safe. Failures throw
// Failure (util/failure.hpp) with the API's own messages.

#include "runtime/sandbox_runtime.hpp"
#include "util/failure.hpp"

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace e2b_local {

struct VolumeRecord {
  std::string id;     ///< a UUID (version 4)
  std::string name;   ///< ^[a-zA-Z0-9_-]+$, unique
  std::string token;  ///< the content API's bearer token; a secret
  std::int64_t created_ms = 0;
};

/// How sandbox ids map to the host ids volume files carry: the namespaced
/// runtime's IdRange (sandbox id N is host id base + N), or the identity
/// for the unisolated runtime.
struct VolumeIdMapping {
  IdRange range;
  bool identity = true;

  /// The host id of sandbox id `id`; nullopt outside the range.
  std::optional<std::uint32_t> ToHost(std::int64_t id) const;
  /// The sandbox's view of host id `id` (65534, "nobody", outside it).
  std::uint32_t ToSandbox(std::uint32_t id) const;
};

class VolumeStore {
 public:
  /// What the runtime needs to mount a volume into a sandbox.
  struct MountableVolume {
    std::string id;
    std::string name;
    std::string data_dir;  ///< host path of the volume's data directory
  };

  /// Opens (creating it when missing) <state_dir>/volumes and loads every
  /// complete volume; leftovers of a crash are removed and reported by
  /// Removed(). Throws std::runtime_error when the directory is unusable.
  VolumeStore(const std::string& state_dir, VolumeIdMapping ids);

  /// Creates a volume with an empty data directory owned by the sandbox's
  /// root, mode 0777. Failure kInvalidArgument "Invalid volume name" or
  /// "Volume with name '<name>' already exists".
  VolumeRecord Create(const std::string& name);
  /// Every volume, oldest first.
  std::vector<VolumeRecord> List() const;
  /// The volume with this ID; nullopt when none.
  std::optional<VolumeRecord> Get(const std::string& id) const;
  /// Forgets the volume at once and deletes its data in the background
  /// (never following symlinks nor crossing mounts). false when unknown.
  bool Destroy(const std::string& id);

  /// The volume named `name`, for a sandbox's volumeMounts; nullopt when
  /// there is none.
  std::optional<MountableVolume> ForMount(const std::string& name) const;
  /// The volume with this ID; nullopt when none.
  std::optional<MountableVolume> ById(const std::string& id) const;
  const VolumeIdMapping& ids() const { return ids_; }
  /// What the constructor removed as incomplete, with the reason.
  const std::vector<std::string>& Removed() const { return removed_; }

  /// Whether `id` is a UUID in its 36-character text form (any case).
  static bool IsVolumeId(const std::string& id);
  /// Whether `name` is a valid volume name (^[a-zA-Z0-9_-]+$, at most
  /// kMaxNameLength characters).
  static bool IsVolumeName(const std::string& name);
  static constexpr std::size_t kMaxNameLength = 255;

 private:
  void Load();
  MountableVolume Mountable(const VolumeRecord& record) const;
  std::string DirOf(const std::string& id) const;

  std::string dir_;  ///< <state-dir>/volumes
  VolumeIdMapping ids_;
  mutable std::mutex mu_;
  std::map<std::string, VolumeRecord> by_id_;  ///< IDs in lower case
  std::vector<std::string> removed_;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_STORE_VOLUME_STORE_HPP_
