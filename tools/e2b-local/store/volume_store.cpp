#include "store/volume_store.hpp"

#include "runtime/background_removal.hpp"
#include "store/file_ops.hpp"
#include "store/random_ids.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace e2b_local {

using nlohmann::json;

namespace {

constexpr const char kRecordFile[] = "volume.json";
constexpr const char kDataDir[] = "data";
constexpr const char kNewSuffix[] = ".new";
// A hidden sibling RemoveTreeInBackground was deleting when the server
// stopped.
constexpr const char kRemovingPrefix[] = ".removing-";
// 32 random bytes, as hex.
constexpr std::size_t kTokenHexDigits = 64;

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return text;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json RecordJson(const VolumeRecord& r) {
  return json{{"volumeID", r.id},
              {"name", r.name},
              {"token", r.token},
              {"createdMs", r.created_ms}};
}

VolumeRecord RecordFromJson(const json& j) {
  VolumeRecord r;
  r.id = j.at("volumeID").get<std::string>();
  r.name = j.at("name").get<std::string>();
  r.token = j.at("token").get<std::string>();
  r.created_ms = j.value("createdMs", std::int64_t{0});
  return r;
}

void RemoveQuietly(const std::string& path) {
  try {
    RemoveTree(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2b-local: cannot remove %s: %s\n", path.c_str(),
                 e.what());
  }
}

[[noreturn]] void Internal(const std::string& what) {
  const int err = errno;  // before anything below can change it
  throw Failure(Failure::Reason::kInternal, what + ": " + std::strerror(err));
}

}  // namespace

std::optional<std::uint32_t> VolumeIdMapping::ToHost(std::int64_t id) const {
  if (identity) {
    // (uid_t)-1 means "unchanged" to chown: never a real owner.
    if (id < 0 || id >= 0xffffffffLL) return std::nullopt;
    return static_cast<std::uint32_t>(id);
  }
  if (id < 0 || id >= static_cast<std::int64_t>(range.count)) {
    return std::nullopt;
  }
  return range.base + static_cast<std::uint32_t>(id);
}

std::uint32_t VolumeIdMapping::ToSandbox(std::uint32_t id) const {
  if (identity) return id;
  return id >= range.base && id - range.base < range.count ? id - range.base
                                                           : 65534u;
}

bool VolumeStore::IsVolumeId(const std::string& id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-'
             : !std::isxdigit(static_cast<unsigned char>(id[i]))) {
      return false;
    }
  }
  return true;
}

bool VolumeStore::IsVolumeName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

VolumeStore::VolumeStore(const std::string& state_dir, VolumeIdMapping ids)
    : dir_(state_dir + "/volumes"), ids_(ids) {
  // Private: the host's other users have no business in volumes; sandboxes
  // reach a volume through its mount, not through this path.
  MakeDirs(dir_, /*private_dir=*/true);
  Load();
}

std::string VolumeStore::DirOf(const std::string& id) const {
  return dir_ + "/" + id;
}

void VolumeStore::Load() {
  auto names = DirectoryNames(dir_);
  if (!names) {
    throw std::runtime_error("cannot read " + dir_ + ": " +
                             std::strerror(errno));
  }
  std::sort(names->begin(), names->end());
  for (const auto& name : *names) {
    const std::string path = dir_ + "/" + name;
    if (EndsWith(name, kNewSuffix) || name.rfind(kRemovingPrefix, 0) == 0) {
      RemoveQuietly(path);
      removed_.push_back(name + " (a create or destroy cut short)");
      continue;
    }
    if (!IsVolumeId(name)) continue;  // not ours: left alone
    try {
      auto text = ReadFileIfExists(path + "/" + kRecordFile);
      if (!text) throw std::runtime_error("no " + std::string(kRecordFile));
      VolumeRecord record = RecordFromJson(json::parse(*text));
      if (Lower(record.id) != Lower(name) || !IsVolumeName(record.name) ||
          record.token.empty()) {
        throw std::runtime_error("a record that does not fit its directory");
      }
      bool duplicate = false;
      for (const auto& [id, other] : by_id_) {
        duplicate = duplicate || other.name == record.name;
      }
      if (duplicate) throw std::runtime_error("a second volume of its name");
      by_id_[Lower(record.id)] = std::move(record);
    } catch (const std::exception& e) {
      // Only complete volumes are renamed into place, so this is damage,
      // not a crash of ours: the data is kept for a human to look at.
      removed_.push_back(name + " (ignored, kept on disk: " + e.what() + ")");
    }
  }
}

VolumeRecord VolumeStore::Create(const std::string& name) {
  if (!IsVolumeName(name)) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  name.size() > kMaxNameLength
                      ? "Invalid volume name: longer than " +
                            std::to_string(kMaxNameLength) + " characters"
                      : "Invalid volume name");
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, record] : by_id_) {
    if (record.name == name) {
      throw Failure(Failure::Reason::kInvalidArgument,
                    "Volume with name '" + name + "' already exists");
    }
  }
  VolumeRecord record;
  record.id = RandomUuid();
  record.name = name;
  record.token = RandomHex(kTokenHexDigits);
  record.created_ms = NowMs();

  const std::string final_dir = DirOf(record.id);
  const std::string new_dir = final_dir + kNewSuffix;
  const std::string data_dir = new_dir + "/" + kDataDir;
  try {
    MakeDirs(new_dir, /*private_dir=*/true);
    if (::mkdir(data_dir.c_str(), 0700) != 0) Internal("mkdir " + data_dir);
    // Owned by the sandbox's root, writable by every sandbox user; chmod
    // after chown, which may clear mode bits.
    const std::uint32_t root = *ids_.ToHost(0);
    if (::chown(data_dir.c_str(), root, root) != 0 &&
        !(errno == EPERM && ::geteuid() != 0)) {
      Internal("chown " + data_dir);
    }
    if (::chmod(data_dir.c_str(), 0777) != 0) Internal("chmod " + data_dir);
    WriteFileAtomically(new_dir + "/" + kRecordFile, RecordJson(record).dump());
    if (::rename(new_dir.c_str(), final_dir.c_str()) != 0) {
      Internal("rename " + new_dir);
    }
  } catch (const Failure&) {
    RemoveQuietly(new_dir);
    throw;
  } catch (const std::exception& e) {
    RemoveQuietly(new_dir);
    throw Failure(Failure::Reason::kInternal,
                  std::string("cannot create the volume: ") + e.what());
  }
  by_id_[Lower(record.id)] = record;
  return record;
}

std::vector<VolumeRecord> VolumeStore::List() const {
  std::vector<VolumeRecord> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, record] : by_id_) out.push_back(record);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms
                                        : a.id < b.id;
  });
  return out;
}

std::optional<VolumeRecord> VolumeStore::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(Lower(id));
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

bool VolumeStore::Destroy(const std::string& id) {
  std::string dir;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_id_.find(Lower(id));
    if (it == by_id_.end()) return false;
    dir = DirOf(it->second.id);
    by_id_.erase(it);
    // Renamed away under the lock: a Create cannot see the name taken by
    // a directory that is going.
    RemoveTreeInBackground(dir);
  }
  return true;
}

VolumeStore::MountableVolume VolumeStore::Mountable(
    const VolumeRecord& record) const {
  return MountableVolume{record.id, record.name,
                         DirOf(record.id) + "/" + kDataDir};
}

std::optional<VolumeStore::MountableVolume> VolumeStore::ForMount(
    const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, record] : by_id_) {
    if (record.name == name) return Mountable(record);
  }
  return std::nullopt;
}

std::optional<VolumeStore::MountableVolume> VolumeStore::ById(
    const std::string& id) const {
  auto record = Get(id);
  if (!record) return std::nullopt;
  return Mountable(*record);
}

}  // namespace e2b_local
