#include "sandbox/paused_store.hpp"

#include "store/file_ops.hpp"
#include "util/utc_timestamp.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <stdexcept>
#include <utility>

namespace e2b_local {

using nlohmann::json;

namespace {

// The settings of a sandbox a save keeps: what it was created with and its
// lifecycle choices. With the sandbox's mu held.
json SettingsJson(const LocalSandbox& s, const json& network) {
  return json{{"sandboxID", s.id},
              {"templateID", s.template_id},
              {"alias", s.alias},
              {"envdAccessToken", s.access_token},
              {"trafficAccessToken", s.traffic_access_token},
              {"maskRequestHost", s.mask_request_host},
              {"envVars", s.env_vars},
              {"defaultUser", s.default_user},
              {"defaultWorkdir", s.default_workdir},
              {"metadata", s.metadata},
              {"volumeMounts", s.volume_mounts},
              {"cpuCount", s.cpu_count},
              {"memoryMB", s.memory_mb},
              {"diskSizeMB", s.disk_size_mb},
              {"allowInternetAccess", s.allow_internet_access},
              {"startedMs", UnixMillis(s.started_at)},
              {"autoPause", s.auto_pause},
              {"autoPauseMemory", s.auto_pause_memory},
              {"autoResume", s.auto_resume},
              {"network", network}};
}

PausedSandbox SandboxFromJson(const json& j) {
  PausedSandbox out;
  out.sandbox = std::make_shared<LocalSandbox>();
  LocalSandbox& s = *out.sandbox;
  s.id = j.at("sandboxID").get<std::string>();
  s.template_id = j.at("templateID").get<std::string>();
  s.alias = j.value("alias", std::string());
  s.access_token = j.at("envdAccessToken").get<std::string>();
  s.traffic_access_token = j.value("trafficAccessToken", std::string());
  s.mask_request_host = j.value("maskRequestHost", std::string());
  s.env_vars = j.value("envVars", std::map<std::string, std::string>{});
  s.metadata = j.value("metadata", std::map<std::string, std::string>{});
  s.default_user = j.value("defaultUser", std::string());
  s.default_workdir = j.value("defaultWorkdir", std::string());
  s.volume_mounts = j.value("volumeMounts", std::vector<SandboxVolumeMount>{});
  s.cpu_count = j.value("cpuCount", 2);
  s.memory_mb = j.value("memoryMB", 512);
  s.disk_size_mb = j.value("diskSizeMB", 1024);
  s.allow_internet_access = j.value("allowInternetAccess", true);
  s.started_at = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(j.value("startedMs", std::int64_t{0})));
  s.auto_pause = j.value("autoPause", false);
  s.auto_pause_memory = j.value("autoPauseMemory", true);
  s.auto_resume = j.value("autoResume", false);
  out.network = j.value("network", json(nullptr));
  return out;
}

}  // namespace

namespace {

constexpr const char kRecordFile[] = "sandbox.json";

// A sandbox ID as e2b-local makes them: only these characters may name a
// directory here (a record is never trusted to name a path).
bool IsSandboxId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

void RemoveQuietly(const std::string& path) {
  try {
    RemoveTree(path);
  } catch (const std::exception& e) {
    std::cerr << "e2b-local: cannot remove " << path << ": " << e.what()
              << "\n";
  }
}

}  // namespace

PausedStore::PausedStore(std::string dir) : dir_(std::move(dir)) {
  MakeDirs(dir_, /*private_dir=*/true);
}

std::string PausedStore::LayerOf(const std::string& id) const {
  return dir_ + "/" + id + "/layer";
}

void PausedStore::Save(const LocalSandbox& sandbox, const json& network,
                       const std::string& upper) {
  if (!IsSandboxId(sandbox.id)) {
    throw std::runtime_error("not a sandbox id: " + sandbox.id);
  }
  // Built beside the current save and swapped in by renames: a crash at
  // any point leaves the old save or the new one, never a mix.
  const std::string final_dir = dir_ + "/" + sandbox.id;
  const std::string next_dir = final_dir + ".next";
  RemoveTree(next_dir);
  MakeDirs(next_dir, /*private_dir=*/true);
  CopyTree(upper, next_dir + "/layer");
  WriteFileAtomically(next_dir + "/" + kRecordFile,
                      SettingsJson(sandbox, network).dump());
  const std::string old_dir = final_dir + ".old";
  RemoveTree(old_dir);
  if (::rename(final_dir.c_str(), old_dir.c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error("cannot replace the save of " + sandbox.id);
  }
  if (::rename(next_dir.c_str(), final_dir.c_str()) != 0) {
    throw std::runtime_error("cannot store the save of " + sandbox.id);
  }
  RemoveQuietly(old_dir);
}

void PausedStore::Forget(const std::string& id) {
  if (!IsSandboxId(id)) return;
  RemoveQuietly(dir_ + "/" + id);
}

PausedStore::Loaded PausedStore::Load() {
  Loaded out;
  auto names = DirectoryNames(dir_).value_or(std::vector<std::string>{});
  // A save interrupted between its two renames left only "<id>.old":
  // that is the last complete save.
  for (const auto& name : names) {
    const std::string suffix = ".old";
    if (name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string id = name.substr(0, name.size() - suffix.size());
    if (!ReadFileIfExists(dir_ + "/" + id + "/" + kRecordFile)) {
      RemoveQuietly(dir_ + "/" + id);
      if (::rename((dir_ + "/" + name).c_str(), (dir_ + "/" + id).c_str()) ==
          0) {
        continue;
      }
    }
  }
  names = DirectoryNames(dir_).value_or(std::vector<std::string>{});
  for (const auto& name : names) {
    const std::string path = dir_ + "/" + name;
    if (!IsSandboxId(name)) {
      RemoveQuietly(path);  // <id>.next, or an <id>.old already replaced
      out.removed.push_back(name + " (a save cut short)");
      continue;
    }
    try {
      auto text = ReadFileIfExists(path + "/" + kRecordFile);
      if (!text) throw std::runtime_error("an unfinished save");
      PausedSandbox saved = SandboxFromJson(json::parse(*text));
      if (saved.sandbox->id != name) {
        throw std::runtime_error("a record of another id");
      }
      out.sandboxes.push_back(std::move(saved));
    } catch (const std::exception& e) {
      RemoveQuietly(path);
      out.removed.push_back(name + " (" + e.what() + ")");
    }
  }
  return out;
}

}  // namespace e2b_local
