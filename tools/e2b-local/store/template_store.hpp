#ifndef E2B_LOCAL_STORE_TEMPLATE_STORE_HPP_
#define E2B_LOCAL_STORE_TEMPLATE_STORE_HPP_

// e2b-local's database: templates, their builds and build logs, and
// snapshots (templates made from a sandbox), kept in <state-dir>/templates.json
// and rewritten atomically on every change so a restart (or a crash) finds
// them intact. Build logs are appended to
// <state-dir>/build-logs/<buildID>.jsonl (one JSON object per line) instead, so
// logging never rewrites the state file. Layer directories live in
// <state-dir>/layers/<buildID>. Thread-safe. Failures throw Failure
// (util/failure.hpp).

#include "util/failure.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace e2b_local {

inline constexpr const char* kEnvdVersion = "0.6.4";
inline constexpr const char* kBaseTemplateId = "base";

struct BuildLogRecord {
  std::int64_t timestamp_ms = 0;
  std::string level;  ///< debug, info, warn, error
  std::string message;
  std::string step;
};

/// What sandboxes started from a ready build get (E2B's template
/// metadata): the context its steps left and its start and ready commands.
struct BuildOutputs {
  std::string user;     ///< default user of commands; empty: "user"
  std::string workdir;  ///< default working directory; empty: the home
  std::map<std::string, std::string> env_vars;
  std::string start_cmd, ready_cmd;
};

struct BuildRecord {
  std::string build_id;
  std::string status = "waiting";  ///< building, waiting, ready, error
  std::int64_t created_ms = 0, updated_ms = 0;
  std::int64_t finished_ms = 0;  ///< 0 while not finished
  int cpu_count = 2, memory_mb = 512, disk_size_mb = 1024;
  std::string envd_version = kEnvdVersion;
  std::vector<std::string> tags;
  /// Read-only layers, topmost first; empty = the base template (host "/").
  std::vector<std::string> layers;
  std::vector<BuildLogRecord> logs;
  std::string reason;       ///< why the build failed
  std::string reason_step;  ///< the step that failed ("1" is the first)
  BuildOutputs outputs;
  /// Of a build made from steps: the hash of its source and steps, which
  /// a later build with the same ones reuses (empty: not reusable).
  std::string cache_key;
};

/// A build step's result kept for later builds (E2B's layer cache): the
/// filesystem after the step and the context it left. `key` chains the
/// source and every step up to this one.
struct StepCacheEntry {
  std::string key;
  std::string layer;  ///< a standalone layer directory
  BuildOutputs context;
  std::int64_t used_ms = 0;
};

struct TemplateRecord {
  std::string template_id;
  std::vector<std::string> names;
  bool is_public = false;
  bool builtin = false;
  bool snapshot = false;
  std::string source_sandbox_id;  ///< snapshots only
  std::int64_t created_ms = 0, updated_ms = 0;
  std::int64_t last_spawned_ms = 0;  ///< 0 = never
  std::int64_t spawn_count = 0;
  std::vector<BuildRecord> builds;  ///< oldest first

  /// The newest build (every stored template has one).
  const BuildRecord& LatestBuild() const { return builds.back(); }
  /// The ID with its tag, as snapshot listings report it.
  std::string SnapshotId() const;
};

/// What a template reference ("name", "name:tag", "<id>", "<id>:tag")
/// points at.
struct ResolvedTemplate {
  TemplateRecord tmpl;
  BuildRecord build;
};

std::int64_t NowMs();

class TemplateStore {
 public:
  /// Loads <state_dir>/templates.json (creating the directories); throws
  /// std::runtime_error when the file exists but cannot be read or parsed.
  explicit TemplateStore(std::string state_dir);

  const std::string& StateDir() const { return state_dir_; }

  /// Every template, the built-in "base" first, then by creation time.
  std::vector<TemplateRecord> List() const;
  /// By ID or name; a ":tag" suffix is ignored. nullopt when unknown.
  std::optional<TemplateRecord> Find(const std::string& ref) const;
  /// The template and build a new sandbox starts from. Throws Failure:
  /// kNotFound for an unknown template or tag, kFailedPrecondition when it
  /// has no ready build.
  ResolvedTemplate Resolve(const std::string& ref) const;

  /// POST /v3/templates: a new template (or a new build of the template that
  /// already has this name) with a build waiting to be started. `name` may
  /// carry ":tag". Throws Failure kInvalidArgument for a bad name.
  ResolvedTemplate CreateTemplate(const std::string& name,
                                  std::vector<std::string> tags, int cpu_count,
                                  int memory_mb);

  /// A directory for a new build's layer (created, empty) and the build ID
  /// to use for it.
  std::pair<std::string, std::string> NewLayer();

  /// Records a snapshot of `sandbox_id` whose filesystem is `layers`
  /// (topmost first, the new layer made with NewLayer included). A name
  /// already used by a snapshot adds a build to it.
  ResolvedTemplate AddSnapshot(const std::string& name,
                               const std::string& sandbox_id,
                               const std::string& build_id,
                               std::vector<std::string> layers, int cpu_count,
                               int memory_mb, int disk_size_mb);

  /// Deletes a template or snapshot and the layers nothing else uses.
  /// Throws Failure kNotFound when unknown, kInvalidArgument for the
  /// built-in template.
  void Delete(const std::string& ref);

  /// Build bookkeeping; throw Failure kNotFound for an unknown
  /// template/build.
  void AppendBuildLog(const std::string& template_id,
                      const std::string& build_id, BuildLogRecord entry);
  /// Several entries with one write of the state file.
  void AppendBuildLogs(const std::string& template_id,
                       const std::string& build_id,
                       std::vector<BuildLogRecord> entries);
  void SetBuildState(const std::string& template_id,
                     const std::string& build_id, const std::string& status,
                     std::vector<std::string> layers = {},
                     const std::string& reason = "",
                     const std::string& reason_step = "");
  /// Marks a build ready with its layers and what sandboxes inherit.
  void FinishBuild(const std::string& template_id, const std::string& build_id,
                   std::vector<std::string> layers, BuildOutputs outputs,
                   const std::string& cache_key);
  /// A ready build of any template made with this cache key; nullopt when
  /// none.
  std::optional<BuildRecord> FindCachedBuild(
      const std::string& cache_key) const;
  /// The cached result of the step with this chain key; nullopt when none.
  /// Marks it used.
  std::optional<StepCacheEntry> FindStepCache(const std::string& key);
  /// Caches a step's result. Beyond kMaxStepCache entries the least
  /// recently used go, with their layers unless a build uses them.
  void AddStepCache(StepCacheEntry entry);
  static constexpr std::size_t kMaxStepCache = 64;
  /// The template and one of its builds; throws Failure kNotFound.
  ResolvedTemplate GetBuild(const std::string& template_id,
                            const std::string& build_id) const;

  /// Removes layer directories no build names: a snapshot or build that a
  /// crash cut short before its record was written. Call at start, before
  /// any NewLayer. Returns their names.
  std::vector<std::string> ReclaimUnusedLayers();
  /// Counts a sandbox start (spawnCount, lastSpawnedAt).
  void RecordSpawn(const std::string& template_id);

 private:
  TemplateRecord* FindLocked(const std::string& ref);
  const TemplateRecord* FindLocked(const std::string& ref) const;
  BuildRecord& BuildLocked(const std::string& template_id,
                           const std::string& build_id);
  /// Writes the file; on failure restores `before` and throws Failure
  /// kInternal.
  void PersistLocked(std::vector<TemplateRecord> before);
  void PersistLocked(std::vector<TemplateRecord> before,
                     std::vector<StepCacheEntry> cache_before);
  void Load();
  /// <logs_dir_>/<build_id>.jsonl; empty for an ID that is not a plain name.
  std::string LogPath(const std::string& build_id) const;
  /// Appends entries to a build's log file; throws Failure kInternal.
  void AppendLogFile(const std::string& build_id,
                     const std::vector<BuildLogRecord>& entries);

  std::string state_dir_;
  std::string db_path_;
  std::string layers_dir_;
  std::string logs_dir_;
  mutable std::mutex mu_;
  TemplateRecord base_;
  std::vector<TemplateRecord> templates_;  ///< without base
  std::vector<StepCacheEntry> step_cache_;
  /// Layers some build or cache entry names. Caller holds mu_.
  std::set<std::string> UsedLayersLocked() const;
  /// Removes layer directories (only ones under layers_dir_).
  void RemoveLayers(const std::vector<std::string>& dirs) const;
};

/// Splits "name:tag" (the tag is what follows the last ':' after the last
/// '/'); tag empty when absent.
std::pair<std::string, std::string> SplitTemplateTag(const std::string& ref);

}  // namespace e2b_local

#endif  // E2B_LOCAL_STORE_TEMPLATE_STORE_HPP_
