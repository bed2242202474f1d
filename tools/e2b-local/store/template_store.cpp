#include "store/template_store.hpp"

#include "store/file_ops.hpp"
#include "store/random_ids.hpp"
#include "util/failure.hpp"
#include "util/utc_timestamp.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <stdexcept>
#include <utility>

namespace e2b_local {

using nlohmann::json;

void to_json(json& j, const BuildLogRecord& r) {
  j = json{{"timestampMs", r.timestamp_ms},
           {"level", r.level},
           {"message", r.message},
           {"step", r.step}};
}
void from_json(const json& j, BuildLogRecord& r) {
  r.timestamp_ms = j.value("timestampMs", std::int64_t{0});
  r.level = j.value("level", std::string("info"));
  r.message = j.value("message", std::string());
  r.step = j.value("step", std::string());
}
void to_json(json& j, const BuildOutputs& r) {
  j = json{{"user", r.user},
           {"workdir", r.workdir},
           {"envVars", r.env_vars},
           {"startCmd", r.start_cmd},
           {"readyCmd", r.ready_cmd}};
}
void from_json(const json& j, BuildOutputs& r) {
  r.user = j.value("user", std::string());
  r.workdir = j.value("workdir", std::string());
  r.env_vars = j.value("envVars", std::map<std::string, std::string>{});
  r.start_cmd = j.value("startCmd", std::string());
  r.ready_cmd = j.value("readyCmd", std::string());
}
void to_json(json& j, const BuildRecord& r) {
  j = json{{"buildID", r.build_id},
           {"status", r.status},
           {"createdMs", r.created_ms},
           {"updatedMs", r.updated_ms},
           {"finishedMs", r.finished_ms},
           {"cpuCount", r.cpu_count},
           {"memoryMB", r.memory_mb},
           {"diskSizeMB", r.disk_size_mb},
           {"envdVersion", r.envd_version},
           {"tags", r.tags},
           {"layers", r.layers},
           {"reason", r.reason},
           {"reasonStep", r.reason_step},
           {"outputs", r.outputs},
           {"cacheKey", r.cache_key}};
}
void from_json(const json& j, BuildRecord& r) {
  r.build_id = j.at("buildID").get<std::string>();
  r.status = j.value("status", std::string("ready"));
  r.created_ms = j.value("createdMs", std::int64_t{0});
  r.updated_ms = j.value("updatedMs", r.created_ms);
  r.finished_ms = j.value("finishedMs", std::int64_t{0});
  r.cpu_count = j.value("cpuCount", 2);
  r.memory_mb = j.value("memoryMB", 512);
  r.disk_size_mb = j.value("diskSizeMB", 1024);
  r.envd_version = j.value("envdVersion", std::string(kEnvdVersion));
  r.tags = j.value("tags", std::vector<std::string>{});
  r.layers = j.value("layers", std::vector<std::string>{});
  // State files before build logs had files of their own kept them here;
  // Load() moves them out.
  r.logs = j.value("logs", std::vector<BuildLogRecord>{});
  r.reason = j.value("reason", std::string());
  r.reason_step = j.value("reasonStep", std::string());
  r.outputs = j.value("outputs", BuildOutputs{});
  r.cache_key = j.value("cacheKey", std::string());
}
void to_json(json& j, const StepCacheEntry& r) {
  j = json{{"key", r.key},
           {"layer", r.layer},
           {"context", r.context},
           {"usedMs", r.used_ms}};
}
void from_json(const json& j, StepCacheEntry& r) {
  r.key = j.at("key").get<std::string>();
  r.layer = j.at("layer").get<std::string>();
  r.context = j.value("context", BuildOutputs{});
  r.used_ms = j.value("usedMs", std::int64_t{0});
}
void to_json(json& j, const TemplateRecord& r) {
  j = json{{"templateID", r.template_id},
           {"names", r.names},
           {"public", r.is_public},
           {"snapshot", r.snapshot},
           {"sourceSandboxID", r.source_sandbox_id},
           {"createdMs", r.created_ms},
           {"updatedMs", r.updated_ms},
           {"lastSpawnedMs", r.last_spawned_ms},
           {"spawnCount", r.spawn_count},
           {"builds", r.builds}};
}
void from_json(const json& j, TemplateRecord& r) {
  r.template_id = j.at("templateID").get<std::string>();
  r.names = j.value("names", std::vector<std::string>{});
  r.is_public = j.value("public", false);
  r.snapshot = j.value("snapshot", false);
  r.source_sandbox_id = j.value("sourceSandboxID", std::string());
  r.created_ms = j.value("createdMs", std::int64_t{0});
  r.updated_ms = j.value("updatedMs", r.created_ms);
  r.last_spawned_ms = j.value("lastSpawnedMs", std::int64_t{0});
  r.spawn_count = j.value("spawnCount", std::int64_t{0});
  r.builds = j.at("builds").get<std::vector<BuildRecord>>();
  if (r.builds.empty()) {
    throw std::runtime_error("template " + r.template_id + " has no builds");
  }
}

std::int64_t NowMs() { return UnixMillis(std::chrono::system_clock::now()); }

std::string TemplateRecord::SnapshotId() const {
  return (names.empty() ? template_id : names.front()) + ":default";
}

std::pair<std::string, std::string> SplitTemplateTag(const std::string& ref) {
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon == std::string::npos ||
      (slash != std::string::npos && colon < slash)) {
    return {ref, ""};
  }
  return {ref.substr(0, colon), ref.substr(colon + 1)};
}

namespace {

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
              c == '/';
    if (!ok) return false;
  }
  return name.find("..") == std::string::npos && name.front() != '/' &&
         name.back() != '/';
}

bool ValidTag(const std::string& tag) {
  return !tag.empty() && tag.size() <= 128 && ValidName(tag) &&
         tag.find('/') == std::string::npos;
}

/// Build log entries as the lines of their file: one JSON object each.
std::string LogLines(const std::vector<BuildLogRecord>& entries) {
  std::string lines;
  for (const auto& e : entries) {
    lines += json(e).dump();
    lines += '\n';
  }
  return lines;
}

/// The entries of a build's log file. A line a crash cut short (the last
/// one, without its newline) or a damaged one is skipped.
std::vector<BuildLogRecord> ReadLogFile(const std::string& path) {
  std::vector<BuildLogRecord> entries;
  auto text = ReadFileIfExists(path);
  if (!text) return entries;
  std::size_t begin = 0;
  while (begin < text->size()) {
    const std::size_t end = text->find('\n', begin);
    if (end == std::string::npos) break;
    try {
      entries.push_back(
          json::parse(text->begin() + static_cast<std::ptrdiff_t>(begin),
                      text->begin() + static_cast<std::ptrdiff_t>(end))
              .get<BuildLogRecord>());
    } catch (const std::exception&) {
      // Skipped; the rest of the log is still worth showing.
    }
    begin = end + 1;
  }
  return entries;
}

}  // namespace

TemplateStore::TemplateStore(std::string state_dir)
    : state_dir_(std::move(state_dir)) {
  while (state_dir_.size() > 1 && state_dir_.back() == '/') {
    state_dir_.pop_back();
  }
  db_path_ = state_dir_ + "/templates.json";
  layers_dir_ = state_dir_ + "/layers";
  logs_dir_ = state_dir_ + "/build-logs";
  MakeDirs(state_dir_, /*private_dir=*/true);
  MakeDirs(layers_dir_);
  MakeDirs(logs_dir_);

  base_.template_id = kBaseTemplateId;
  base_.names = {kBaseTemplateId};
  base_.is_public = true;
  base_.builtin = true;
  BuildRecord build;
  build.build_id = "00000000-0000-4000-8000-000000000000";
  build.status = "ready";
  build.tags = {"default"};
  base_.builds.push_back(build);
  Load();
}

void TemplateStore::Load() {
  auto text = ReadFileIfExists(db_path_);
  if (!text) return;
  bool migrated = false;
  try {
    json doc = json::parse(*text);
    templates_ = doc.at("templates").get<std::vector<TemplateRecord>>();
    step_cache_ = doc.value("stepCache", std::vector<StepCacheEntry>{});
  } catch (const std::exception& e) {
    throw std::runtime_error("state file " + db_path_ +
                             " is unreadable: " + e.what());
  }
  std::set<std::string> known;
  for (auto& t : templates_) {
    for (auto& b : t.builds) {
      const std::string path = LogPath(b.build_id);
      if (path.empty()) continue;
      known.insert(b.build_id + ".jsonl");
      if (!b.logs.empty()) {
        // An older state file held the logs: give them their file.
        WriteFileAtomically(path, LogLines(b.logs));
        migrated = true;
        continue;
      }
      b.logs = ReadLogFile(path);
    }
  }
  if (migrated) PersistLocked(templates_);
  // Log files of builds no record names: a build that a crash cut short
  // before its record was written, or a delete that stopped half-way.
  for (const auto& name :
       DirectoryNames(logs_dir_).value_or(std::vector<std::string>{})) {
    if (known.count(name) == 0) ::unlink((logs_dir_ + "/" + name).c_str());
  }
}

std::string TemplateStore::LogPath(const std::string& build_id) const {
  // Build IDs are ours (UUIDs), but the state file is read back from disk:
  // only a plain name ever becomes a path.
  if (build_id.empty() || build_id.size() > 64) return "";
  for (char c : build_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-';
    if (!ok) return "";
  }
  return logs_dir_ + "/" + build_id + ".jsonl";
}

void TemplateStore::AppendLogFile(const std::string& build_id,
                                  const std::vector<BuildLogRecord>& entries) {
  const std::string path = LogPath(build_id);
  if (path.empty()) return;
  const std::string lines = LogLines(entries);
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out.write(lines.data(), static_cast<std::streamsize>(lines.size()));
  out.flush();
  if (!out) {
    throw Failure(Failure::Reason::kInternal,
                  "cannot append to the build log " + path);
  }
}

void TemplateStore::PersistLocked(std::vector<TemplateRecord> before) {
  PersistLocked(std::move(before), step_cache_);
}

void TemplateStore::PersistLocked(std::vector<TemplateRecord> before,
                                  std::vector<StepCacheEntry> cache_before) {
  try {
    json doc{
        {"version", 1}, {"templates", templates_}, {"stepCache", step_cache_}};
    WriteFileAtomically(db_path_, doc.dump(1));
  } catch (const std::exception& e) {
    templates_ = std::move(before);
    step_cache_ = std::move(cache_before);
    throw Failure(Failure::Reason::kInternal,
                  std::string("cannot save state: ") + e.what());
  }
}

std::set<std::string> TemplateStore::UsedLayersLocked() const {
  std::set<std::string> used;
  for (const auto& t : templates_) {
    for (const auto& b : t.builds) {
      used.insert(b.layers.begin(), b.layers.end());
    }
  }
  for (const auto& e : step_cache_) used.insert(e.layer);
  return used;
}

void TemplateStore::RemoveLayers(const std::vector<std::string>& dirs) const {
  for (const auto& dir : dirs) {
    // Only our own layer directories, never a path from a damaged file.
    if (dir.rfind(layers_dir_ + "/", 0) != 0 ||
        dir.find("/..") != std::string::npos) {
      continue;
    }
    try {
      RemoveTree(dir);
    } catch (const std::exception&) {
      // The record is gone; a leftover directory only costs disk.
    }
  }
}

std::optional<StepCacheEntry> TemplateStore::FindStepCache(
    const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& e : step_cache_) {
    if (e.key != key) continue;
    // Recency is only a hint for eviction: not worth a write of its own.
    e.used_ms = NowMs();
    return e;
  }
  return std::nullopt;
}

void TemplateStore::AddStepCache(StepCacheEntry entry) {
  std::vector<std::string> orphans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto before = step_cache_;
    entry.used_ms = NowMs();
    step_cache_.erase(std::remove_if(step_cache_.begin(), step_cache_.end(),
                                     [&](const StepCacheEntry& e) {
                                       return e.key == entry.key;
                                     }),
                      step_cache_.end());
    step_cache_.push_back(std::move(entry));
    std::vector<std::string> evicted;
    while (step_cache_.size() > kMaxStepCache) {
      auto oldest = std::min_element(
          step_cache_.begin(), step_cache_.end(),
          [](const StepCacheEntry& a, const StepCacheEntry& b) {
            return a.used_ms < b.used_ms;
          });
      evicted.push_back(oldest->layer);
      step_cache_.erase(oldest);
    }
    PersistLocked(templates_, std::move(before));
    const auto used = UsedLayersLocked();
    for (const auto& layer : evicted) {
      if (used.count(layer) == 0) orphans.push_back(layer);
    }
  }
  RemoveLayers(orphans);
}

const TemplateRecord* TemplateStore::FindLocked(const std::string& ref) const {
  const std::string key = SplitTemplateTag(ref).first;
  if (key == base_.template_id) return &base_;
  for (const auto& t : templates_) {
    if (t.template_id == key) return &t;
  }
  for (const auto& t : templates_) {
    for (const auto& n : t.names) {
      if (n == key) return &t;
    }
  }
  return nullptr;
}

TemplateRecord* TemplateStore::FindLocked(const std::string& ref) {
  const auto* found = static_cast<const TemplateStore*>(this)->FindLocked(ref);
  return const_cast<TemplateRecord*>(found);
}

std::vector<TemplateRecord> TemplateStore::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TemplateRecord> out{base_};
  out.insert(out.end(), templates_.begin(), templates_.end());
  return out;
}

std::optional<TemplateRecord> TemplateStore::Find(
    const std::string& ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto* t = FindLocked(ref);
  if (t == nullptr) return std::nullopt;
  return *t;
}

ResolvedTemplate TemplateStore::Resolve(const std::string& ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto* t = FindLocked(ref);
  if (t == nullptr) {
    throw Failure(Failure::Reason::kNotFound,
                  "template '" + ref + "' not found");
  }
  const std::string tag = SplitTemplateTag(ref).second;
  const std::string wanted = tag.empty() ? "default" : tag;
  bool tag_known = false;
  for (auto it = t->builds.rbegin(); it != t->builds.rend(); ++it) {
    bool tagged =
        std::find(it->tags.begin(), it->tags.end(), wanted) != it->tags.end();
    // "default" always means the newest ready build.
    if (wanted != "default" && !tagged) continue;
    tag_known = true;
    if (it->status == "ready") return ResolvedTemplate{*t, *it};
  }
  if (!tag_known) {
    throw Failure(Failure::Reason::kNotFound,
                  "tag '" + tag + "' does not exist for template '" +
                      SplitTemplateTag(ref).first + "'");
  }
  throw Failure(Failure::Reason::kFailedPrecondition,
                "template '" + ref + "' has no successful build yet");
}

ResolvedTemplate TemplateStore::CreateTemplate(const std::string& name_ref,
                                               std::vector<std::string> tags,
                                               int cpu_count, int memory_mb) {
  auto [name, tag] = SplitTemplateTag(name_ref);
  if (!ValidName(name)) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "invalid template name '" + name_ref +
                      "': use 1-128 of [A-Za-z0-9._/-]");
  }
  if (!tag.empty()) tags.push_back(tag);
  if (tags.empty()) tags.emplace_back("default");
  for (const auto& t : tags) {
    if (!ValidTag(t))
      throw Failure(Failure::Reason::kInvalidArgument,
                    "invalid tag '" + t + "'");
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  if (cpu_count < 1)
    throw Failure(Failure::Reason::kInvalidArgument,
                  "cpuCount must be at least 1");
  if (memory_mb < 128)
    throw Failure(Failure::Reason::kInvalidArgument,
                  "memoryMB must be at least 128");

  std::lock_guard<std::mutex> lock(mu_);
  auto before = templates_;
  if (name == kBaseTemplateId) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "the name 'base' belongs to the built-in template");
  }
  TemplateRecord* t = FindLocked(name);
  if (t != nullptr && t->snapshot) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "'" + name + "' is the name of a snapshot");
  }
  const std::int64_t now = NowMs();
  if (t == nullptr) {
    TemplateRecord fresh;
    fresh.template_id = RandomAlnum(20);
    fresh.names = {name};
    fresh.created_ms = now;
    templates_.push_back(fresh);
    t = &templates_.back();
  }
  BuildRecord build;
  build.build_id = RandomUuid();
  build.status = "waiting";
  build.created_ms = build.updated_ms = now;
  build.cpu_count = cpu_count;
  build.memory_mb = memory_mb;
  build.tags = tags;
  // A later tag assignment moves the tag: older builds lose it.
  for (auto& b : t->builds) {
    for (const auto& tg : tags) {
      b.tags.erase(std::remove(b.tags.begin(), b.tags.end(), tg), b.tags.end());
    }
  }
  build.logs.push_back(
      BuildLogRecord{now, "info", "Build " + build.build_id + " created", ""});
  t->builds.push_back(build);
  t->updated_ms = now;
  ResolvedTemplate result{*t, build};
  PersistLocked(std::move(before));
  AppendLogFile(build.build_id, build.logs);
  return result;
}

std::pair<std::string, std::string> TemplateStore::NewLayer() {
  std::string build_id = RandomUuid();
  std::string dir = layers_dir_ + "/" + build_id;
  MakeDirs(dir);
  return {dir, build_id};
}

ResolvedTemplate TemplateStore::AddSnapshot(const std::string& name,
                                            const std::string& sandbox_id,
                                            const std::string& build_id,
                                            std::vector<std::string> layers,
                                            int cpu_count, int memory_mb,
                                            int disk_size_mb) {
  if (!name.empty() && !ValidName(SplitTemplateTag(name).first)) {
    throw Failure(
        Failure::Reason::kInvalidArgument,
        "invalid snapshot name '" + name + "': use 1-128 of [A-Za-z0-9._/-]");
  }
  const std::string plain = SplitTemplateTag(name).first;
  std::lock_guard<std::mutex> lock(mu_);
  auto before = templates_;
  const std::int64_t now = NowMs();
  TemplateRecord* t = plain.empty() ? nullptr : FindLocked(plain);
  if (t != nullptr && !t->snapshot) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "'" + plain + "' is the name of a template");
  }
  if (t == nullptr) {
    TemplateRecord fresh;
    fresh.template_id = RandomAlnum(20);
    if (!plain.empty()) fresh.names = {plain};
    fresh.snapshot = true;
    fresh.created_ms = now;
    templates_.push_back(fresh);
    t = &templates_.back();
  }
  t->source_sandbox_id = sandbox_id;
  BuildRecord build;
  build.build_id = build_id;
  build.status = "ready";
  build.created_ms = build.updated_ms = build.finished_ms = now;
  build.cpu_count = cpu_count;
  build.memory_mb = memory_mb;
  build.disk_size_mb = disk_size_mb;
  build.tags = {"default"};
  build.layers = std::move(layers);
  build.logs.push_back(BuildLogRecord{
      now, "info", "Snapshot of sandbox " + sandbox_id + " taken", ""});
  for (auto& b : t->builds) {
    b.tags.erase(std::remove(b.tags.begin(), b.tags.end(), "default"),
                 b.tags.end());
  }
  t->builds.push_back(build);
  t->updated_ms = now;
  ResolvedTemplate result{*t, build};
  PersistLocked(std::move(before));
  AppendLogFile(build.build_id, build.logs);
  return result;
}

void TemplateStore::Delete(const std::string& ref) {
  std::vector<std::string> orphans;
  std::vector<std::string> log_files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const TemplateRecord* t = FindLocked(ref);
    if (t == nullptr)
      throw Failure(Failure::Reason::kNotFound,
                    "template '" + ref + "' not found");
    if (t->builtin) {
      throw Failure(Failure::Reason::kInvalidArgument,
                    "the built-in template cannot be deleted");
    }
    auto before = templates_;
    std::set<std::string> candidates;
    for (const auto& b : t->builds) {
      candidates.insert(b.layers.begin(), b.layers.end());
      log_files.push_back(LogPath(b.build_id));
    }
    const std::string id = t->template_id;
    templates_.erase(std::remove_if(templates_.begin(), templates_.end(),
                                    [&](const TemplateRecord& r) {
                                      return r.template_id == id;
                                    }),
                     templates_.end());
    // Layers are shared with snapshots taken from sandboxes started from
    // this one and with the step cache; only what nothing else references
    // goes.
    for (const auto& l : UsedLayersLocked()) candidates.erase(l);
    PersistLocked(std::move(before));
    orphans.assign(candidates.begin(), candidates.end());
  }
  RemoveLayers(orphans);
  for (const auto& path : log_files) {
    if (!path.empty()) ::unlink(path.c_str());
  }
}

std::vector<std::string> TemplateStore::ReclaimUnusedLayers() {
  std::vector<std::string> removed;
  std::lock_guard<std::mutex> lock(mu_);
  const std::set<std::string> used = UsedLayersLocked();
  auto names = DirectoryNames(layers_dir_).value_or(std::vector<std::string>{});
  for (const auto& name : names) {
    const std::string dir = layers_dir_ + "/" + name;
    if (used.count(dir) != 0) continue;
    try {
      RemoveTree(dir);
      removed.push_back(name);
    } catch (const std::exception& e) {
      std::cerr << "e2b-local: cannot remove " << dir << ": " << e.what()
                << "\n";
    }
  }
  return removed;
}

BuildRecord& TemplateStore::BuildLocked(const std::string& template_id,
                                        const std::string& build_id) {
  TemplateRecord* t = FindLocked(template_id);
  if (t == nullptr || t->builtin) {
    throw Failure(Failure::Reason::kNotFound,
                  "template '" + template_id + "' not found");
  }
  for (auto& b : t->builds) {
    if (b.build_id == build_id) return b;
  }
  throw Failure(
      Failure::Reason::kNotFound,
      "build '" + build_id + "' of template '" + template_id + "' not found");
}

void TemplateStore::AppendBuildLog(const std::string& template_id,
                                   const std::string& build_id,
                                   BuildLogRecord entry) {
  std::vector<BuildLogRecord> entries;
  entries.push_back(std::move(entry));
  AppendBuildLogs(template_id, build_id, std::move(entries));
}

void TemplateStore::AppendBuildLogs(const std::string& template_id,
                                    const std::string& build_id,
                                    std::vector<BuildLogRecord> entries) {
  if (entries.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto& logs = BuildLocked(template_id, build_id).logs;
  // Appended to the build's own file: the state file is not rewritten (a
  // chatty build would otherwise write all of its logs again per batch).
  AppendLogFile(build_id, entries);
  logs.insert(logs.end(), std::make_move_iterator(entries.begin()),
              std::make_move_iterator(entries.end()));
}

void TemplateStore::SetBuildState(const std::string& template_id,
                                  const std::string& build_id,
                                  const std::string& status,
                                  std::vector<std::string> layers,
                                  const std::string& reason,
                                  const std::string& reason_step) {
  std::lock_guard<std::mutex> lock(mu_);
  auto before = templates_;
  BuildRecord& b = BuildLocked(template_id, build_id);
  const std::int64_t now = NowMs();
  b.status = status;
  b.updated_ms = now;
  if (status == "ready" || status == "error") b.finished_ms = now;
  if (!layers.empty()) b.layers = std::move(layers);
  b.reason = reason;
  b.reason_step = reason_step;
  FindLocked(template_id)->updated_ms = now;
  PersistLocked(std::move(before));
}

void TemplateStore::FinishBuild(const std::string& template_id,
                                const std::string& build_id,
                                std::vector<std::string> layers,
                                BuildOutputs outputs,
                                const std::string& cache_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto before = templates_;
  BuildRecord& b = BuildLocked(template_id, build_id);
  const std::int64_t now = NowMs();
  b.status = "ready";
  b.updated_ms = b.finished_ms = now;
  b.layers = std::move(layers);
  b.outputs = std::move(outputs);
  b.cache_key = cache_key;
  b.reason.clear();
  FindLocked(template_id)->updated_ms = now;
  PersistLocked(std::move(before));
}

std::optional<BuildRecord> TemplateStore::FindCachedBuild(
    const std::string& cache_key) const {
  if (cache_key.empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : templates_) {
    for (const auto& b : t.builds) {
      if (b.status == "ready" && b.cache_key == cache_key) return b;
    }
  }
  return std::nullopt;
}

ResolvedTemplate TemplateStore::GetBuild(const std::string& template_id,
                                         const std::string& build_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const TemplateRecord* t = FindLocked(template_id);
  if (t == nullptr) {
    throw Failure(Failure::Reason::kNotFound,
                  "template '" + template_id + "' not found");
  }
  for (const auto& b : t->builds) {
    if (b.build_id == build_id) return ResolvedTemplate{*t, b};
  }
  throw Failure(
      Failure::Reason::kNotFound,
      "build '" + build_id + "' of template '" + template_id + "' not found");
}

void TemplateStore::RecordSpawn(const std::string& template_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TemplateRecord* t = FindLocked(template_id);
  if (t == nullptr) return;
  t->spawn_count++;
  t->last_spawned_ms = NowMs();
  if (t->builtin) return;
  auto before = templates_;
  try {
    PersistLocked(std::move(before));
  } catch (const Failure&) {
    // A usage counter is not worth failing a sandbox start for.
  }
}

}  // namespace e2b_local
