#include "sandbox/paused_store.hpp"

#include "store/file_ops.hpp"

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <utility>

namespace e2b_local {

using nlohmann::json;

void to_json(json& j, const PausedRecord& r) {
  j = json{{"sandboxID", r.id},
           {"templateID", r.template_id},
           {"alias", r.alias},
           {"envdAccessToken", r.access_token},
           {"trafficAccessToken", r.traffic_access_token},
           {"maskRequestHost", r.mask_request_host},
           {"envVars", r.env_vars},
           {"metadata", r.metadata},
           {"cpuCount", r.cpu_count},
           {"memoryMB", r.memory_mb},
           {"diskSizeMB", r.disk_size_mb},
           {"allowInternetAccess", r.allow_internet_access},
           {"startedMs", r.started_ms},
           {"autoPause", r.auto_pause},
           {"autoPauseMemory", r.auto_pause_memory},
           {"autoResume", r.auto_resume},
           {"network", r.network}};
}

void from_json(const json& j, PausedRecord& r) {
  r.id = j.at("sandboxID").get<std::string>();
  r.template_id = j.at("templateID").get<std::string>();
  r.alias = j.value("alias", std::string());
  r.access_token = j.at("envdAccessToken").get<std::string>();
  r.traffic_access_token = j.value("trafficAccessToken", std::string());
  r.mask_request_host = j.value("maskRequestHost", std::string());
  r.env_vars = j.value("envVars", std::map<std::string, std::string>{});
  r.metadata = j.value("metadata", std::map<std::string, std::string>{});
  r.cpu_count = j.value("cpuCount", 2);
  r.memory_mb = j.value("memoryMB", 512);
  r.disk_size_mb = j.value("diskSizeMB", 1024);
  r.allow_internet_access = j.value("allowInternetAccess", true);
  r.started_ms = j.value("startedMs", std::int64_t{0});
  r.auto_pause = j.value("autoPause", false);
  r.auto_pause_memory = j.value("autoPauseMemory", true);
  r.auto_resume = j.value("autoResume", false);
  r.network = j.value("network", json(nullptr));
}

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

void PausedStore::Save(const PausedRecord& record, const std::string& upper) {
  if (!IsSandboxId(record.id)) {
    throw std::runtime_error("not a sandbox id: " + record.id);
  }
  // Built beside the current save and swapped in by renames: a crash at
  // any point leaves the old save or the new one, never a mix.
  const std::string final_dir = dir_ + "/" + record.id;
  const std::string next_dir = final_dir + ".next";
  RemoveTree(next_dir);
  MakeDirs(next_dir, /*private_dir=*/true);
  CopyTree(upper, next_dir + "/layer");
  WriteFileAtomically(next_dir + "/" + kRecordFile, json(record).dump());
  const std::string old_dir = final_dir + ".old";
  RemoveTree(old_dir);
  if (::rename(final_dir.c_str(), old_dir.c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error("cannot replace the save of " + record.id);
  }
  if (::rename(next_dir.c_str(), final_dir.c_str()) != 0) {
    throw std::runtime_error("cannot store the save of " + record.id);
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
      auto record = json::parse(*text).get<PausedRecord>();
      if (record.id != name) throw std::runtime_error("a record of another id");
      out.records.push_back(std::move(record));
    } catch (const std::exception& e) {
      RemoveQuietly(path);
      out.removed.push_back(name + " (" + e.what() + ")");
    }
  }
  return out;
}

}  // namespace e2b_local
