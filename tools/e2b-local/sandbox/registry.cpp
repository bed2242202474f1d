#include "sandbox/registry.hpp"

#include "runtime/background_removal.hpp"
#include "runtime/volume_binds.hpp"
#include "store/file_ops.hpp"
#include "store/random_ids.hpp"
#include "util/failure.hpp"
#include "util/join_path.hpp"
#include "util/utc_timestamp.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace e2b_local {
namespace {

using Clock = std::chrono::system_clock;

constexpr std::size_t kMaxSamplesPerSandbox = 2000;

// What every call naming a sandbox that is gone (or never was) answers.
Failure SandboxNotFound(const std::string& id) {
  return Failure(Failure::Reason::kNotFound, "sandbox '" + id + "' not found");
}

// Resume and Connect of a paused sandbox; the caller holds sandbox.mu.
// Thaws a sandbox paused with its memory; boots one paused without (or
// with, when the caller drops it: `memory` false) afresh on its files.
void ResumeLocked(LocalSandbox& sandbox, std::optional<bool> memory) {
  try {
    if (sandbox.halted || memory == false) {
      sandbox.instance->Halt();  // nothing when already halted
      sandbox.halted = true;
      sandbox.instance->Boot();
      sandbox.halted = false;
    } else {
      sandbox.instance->Thaw();
    }
  } catch (const std::exception& e) {
    throw Failure(Failure::Reason::kInternal,
                  std::string("cannot resume sandbox: ") + e.what());
  }
  sandbox.status = SandboxStatus::kRunning;
}

// E2B's answer when a team is at its concurrency limit (the API's
// create_instance.go), with e2b-local's remedy in place of E2B's billing
// page.
Failure ConcurrencyLimitReached(std::size_t limit) {
  return Failure(Failure::Reason::kLimitReached,
                 "you have reached the maximum number of concurrent E2B "
                 "sandboxes (" +
                     std::to_string(limit) +
                     "). If you need more, restart e2b-local with a higher "
                     "--max-sandboxes");
}

// E2B's egress settings from a create body's allow_internet_access and
// NetworkConfig (or an update's NetworkUpdateConfig). Throws an
// invalid-argument Failure for rules E2B's API rejects.
EgressPolicy EgressPolicyOf(bool internet, const nlohmann::json& network) {
  EgressPolicy policy;
  policy.internet = internet;
  auto strings = [&network](const char* key, std::vector<std::string>& out) {
    if (!network.is_object()) return;
    auto it = network.find(key);
    if (it == network.end() || it->is_null()) return;
    if (!it->is_array()) {
      throw Failure(Failure::Reason::kInvalidArgument,
                    std::string("'") + key + "' must be an array");
    }
    for (const auto& item : *it) {
      if (!item.is_string()) {
        throw Failure(Failure::Reason::kInvalidArgument,
                      std::string("'") + key + "' must hold strings");
      }
      out.push_back(item.get<std::string>());
    }
  };
  strings("allowOut", policy.allow_out);
  strings("denyOut", policy.deny_out);
  try {
    ValidateEgressPolicy(policy);
  } catch (const std::invalid_argument& e) {
    throw Failure(Failure::Reason::kInvalidArgument, e.what());
  }
  return policy;
}

}  // namespace

/// A slot counted against max_sandboxes from the check until the sandbox is
/// an entry (which then counts itself) or failed to start.
class SandboxRegistry::StartSlot {
 public:
  explicit StartSlot(SandboxRegistry& registry) : registry_(registry) {
    std::lock_guard<std::mutex> lock(registry_.mu_);
    if (registry_.stopping_)
      throw Failure(Failure::Reason::kUnavailable,
                    "e2b-local is shutting down");
    const std::size_t limit = registry_.options_.max_sandboxes;
    if (limit != 0 &&
        registry_.entries_.size() + registry_.starting_ >= limit) {
      throw ConcurrencyLimitReached(limit);
    }
    ++registry_.starting_;
  }
  ~StartSlot() {
    std::lock_guard<std::mutex> lock(registry_.mu_);
    ReleaseLocked();
  }
  /// With mu_ held, as the sandbox becomes an entry.
  void ReleaseLocked() {
    if (held_) --registry_.starting_;
    held_ = false;
  }
  StartSlot(const StartSlot&) = delete;
  StartSlot& operator=(const StartSlot&) = delete;

 private:
  SandboxRegistry& registry_;
  bool held_ = true;
};

/// A fork's copy of its parent's writable layer, removed once the fork's
/// sandboxes have copied it.
struct SandboxRegistry::OwnedLayer {
  explicit OwnedLayer(std::string d) : dir(std::move(d)) {}
  ~OwnedLayer() { RemoveTreeOrLog(dir); }
  OwnedLayer(const OwnedLayer&) = delete;
  OwnedLayer& operator=(const OwnedLayer&) = delete;
  std::string dir;
};

SandboxRegistry::SandboxRegistry(SandboxRuntime& runtime, TemplateStore& store,
                                 RegistryOptions options)
    : runtime_(runtime),
      store_(store),
      options_(std::move(options)),
      paused_(store.StateDir() + "/paused") {
  sandboxes_dir_ = store_.StateDir() + "/sandboxes";
  fork_layers_dir_ = store_.StateDir() + "/fork-layers";
  MakeDirs(sandboxes_dir_);
  MakeDirs(fork_layers_dir_);
  // Held for the registry's life: a second server on the same state
  // directory must not mistake our live sandboxes for a crash's leftovers.
  const std::string lock_path = store_.StateDir() + "/sandboxes.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ >= 0 && ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  if (lock_fd_ < 0) {
    std::cerr << "e2b-local: WARNING: " << store_.StateDir()
              << " is in use by another e2b-local (cannot lock " << lock_path
              << "); leaving its sandboxes alone\n";
    StartLifecycle();
    return;
  }
  // Running sandboxes do not survive a restart. A server that died left
  // their mounts, cgroups and directories behind; they only take resources.
  std::string reclaimed = ReclaimLeftovers(sandboxes_dir_);
  if (!reclaimed.empty()) {
    std::cerr << "e2b-local: cleaned up after a previous run: " << reclaimed
              << "\n";
  }
  for (const std::string& dir : {sandboxes_dir_, fork_layers_dir_}) {
    auto names = DirectoryNames(dir).value_or(std::vector<std::string>{});
    for (const auto& name : names) RemoveTreeOrLog(JoinPath(dir, name));
  }
  std::string prepared = runtime_.Prepare(sandboxes_dir_);
  if (!prepared.empty()) {
    std::cerr << "e2b-local: sandbox disks: " << prepared << "\n";
  }
  Recover();
  StartLifecycle();
}

void SandboxRegistry::Recover() {
  for (const auto& layer : store_.ReclaimUnusedLayers()) {
    std::cerr << "e2b-local: removed the snapshot layer " << layer
              << ", which a previous run left unfinished\n";
  }
  PausedStore::Loaded loaded = paused_.Load();
  for (const auto& removed : loaded.removed) {
    std::cerr << "e2b-local: removed the saved sandbox " << removed << "\n";
  }
  std::size_t revived = 0;
  for (const auto& saved : loaded.sandboxes) {
    try {
      Revive(saved);
      ++revived;
    } catch (const std::exception& e) {
      std::cerr << "e2b-local: cannot bring back the paused sandbox "
                << saved.sandbox->id
                << " (kept for the next start): " << e.what() << "\n";
    }
  }
  if (revived > 0) {
    std::cerr << "e2b-local: recovered " << revived
              << " paused sandbox(es) from the previous run\n";
  }
}

// A paused sandbox of a previous run, as it was paused but without its
// memory: a fresh instance on the saved layer, halted at once.
void SandboxRegistry::Revive(const PausedSandbox& saved) {
  const std::shared_ptr<LocalSandbox>& sandbox = saved.sandbox;
  sandbox->client_id = "e2b-local";
  sandbox->envd_version = kEnvdVersion;
  sandbox->end_at = Clock::now();
  sandbox->status = SandboxStatus::kPaused;
  sandbox->halted = true;
  auto entry = std::make_shared<Entry>();
  entry->dir = sandboxes_dir_ + "/" + sandbox->id;
  entry->layers = {paused_.LayerOf(sandbox->id)};
  entry->network = saved.network;
  const SandboxSpec spec = SpecFor(*sandbox, *entry);
  try {
    MakeDirs(entry->dir, /*private_dir=*/true);
    sandbox->instance = runtime_.Create(spec);
    sandbox->instance->Halt();
  } catch (...) {
    if (sandbox->instance) sandbox->instance->Destroy();
    RemoveTreeOrLog(entry->dir);
    throw;
  }
  entry->sandbox = sandbox;
  sandbox->log.Add("info", "Sandbox recovered after a restart",
                   {{"state", "paused"}});
  std::lock_guard<std::mutex> lock(mu_);
  entries_[sandbox->id] = entry;
}

SandboxSpec SandboxRegistry::SpecFor(const LocalSandbox& sandbox,
                                     const Entry& entry) const {
  SandboxSpec spec;
  spec.id = sandbox.id;
  spec.layers = entry.layers;
  spec.dir = entry.dir;
  spec.hostname = sandbox.id;
  spec.network = EgressPolicyOf(sandbox.allow_internet_access, entry.network);
  spec.cpu_count = sandbox.cpu_count;
  spec.memory_mb = sandbox.memory_mb;
  spec.disk_mb = sandbox.disk_size_mb;
  spec.remove_dir_in_background = true;
  for (const SandboxVolumeMount& mount : sandbox.volume_mounts) {
    auto dir = options_.find_volume_dir ? options_.find_volume_dir(mount.name)
                                        : std::nullopt;
    if (!dir) {
      // Destroyed while the sandbox was paused (and saved): E2B deletes a
      // mounted volume's data too, so its mount comes back empty.
      std::cerr << "e2b-local: sandbox " << sandbox.id << ": volume '"
                << mount.name << "' is gone; " << mount.path
                << " stays an empty directory\n";
      continue;
    }
    spec.volumes.push_back(VolumeBind{*dir, mount.path});
  }
  return spec;
}

void SandboxRegistry::CheckVolumeMounts(
    const std::vector<SandboxVolumeMount>& mounts) const {
  if (mounts.empty()) return;
  if (!options_.find_volume_dir || std::string(runtime_.Name()) == "none") {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "Volume mounts are not enabled. (e2b-local binds volumes "
                  "only into sandboxes of their own: --isolation "
                  "namespaces)");
  }
  std::string problems;
  std::set<std::string> used;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    const SandboxVolumeMount& mount = mounts[i];
    std::optional<std::string> reason;
    if (!options_.find_volume_dir(mount.name)) {
      reason = "volume '" + mount.name + "' not found";
    } else if (auto bad = InvalidMountPathReason(mount.path)) {
      reason = bad;
    } else if (!used.insert(mount.path).second) {
      reason = "path '" + mount.path + "' is already used";
    }
    if (reason) {
      problems += "\n\t- volume mount #" + std::to_string(i) + ": " + *reason;
    }
  }
  if (!problems.empty()) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "invalid mounts:" + problems);
  }
}

void SandboxRegistry::SaveLocked(const Entry& entry) {
  nlohmann::json network;
  {
    std::lock_guard<std::mutex> lock(mu_);
    network = entry.network;
  }
  const LocalSandbox& sandbox = *entry.sandbox;
  paused_.Save(sandbox, network, sandbox.instance->UpperDir());
}

void SandboxRegistry::StartLifecycle() {
  lifecycle_ = std::thread([this] { LifecycleLoop(); });
}

SandboxRegistry::~SandboxRegistry() {
  Shutdown();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void SandboxRegistry::Shutdown() {
  std::vector<std::shared_ptr<Entry>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (const auto& [id, entry] : entries_) live.push_back(entry);
  }
  cv_.notify_all();
  if (lifecycle_.joinable() &&
      lifecycle_.get_id() != std::this_thread::get_id()) {
    lifecycle_.join();
  }
  // What E2B would pause at the timeout is paused now, rather than lost;
  // its memory cannot outlive the server, so without it.
  for (const auto& entry : live) {
    bool pause = false;
    {
      std::lock_guard<std::mutex> lock(entry->sandbox->mu);
      pause = entry->sandbox->status == SandboxStatus::kRunning &&
              entry->sandbox->auto_pause;
    }
    if (!pause) continue;
    try {
      Pause(entry->sandbox->id, /*keep_memory=*/false);
    } catch (const std::exception& e) {
      std::cerr << "e2b-local: cannot pause " << entry->sandbox->id
                << " before stopping: " << e.what() << "\n";
    }
  }
  std::map<std::string, std::shared_ptr<Entry>> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries.swap(entries_);
  }
  // Saved paused sandboxes stay saved for the next start.
  for (auto& [id, entry] : entries) {
    KillEntry(entry, "server shutting down", /*forget=*/false);
  }
  // Killed sandboxes' directories are deleted in the background; a server
  // that stops leaves none of them behind.
  WaitForBackgroundRemovals();
  // Drops the now empty per-state-directory cgroups, so a state directory
  // used once does not leave groups behind forever.
  if (lock_fd_ >= 0 && !reclaimed_at_shutdown_.exchange(true)) {
    ReclaimLeftovers(sandboxes_dir_);
  }
}

std::shared_ptr<LocalSandbox> SandboxRegistry::Find(
    const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->sandbox->internal) return nullptr;
  return it->second->sandbox;
}

std::shared_ptr<SandboxRegistry::Entry> SandboxRegistry::GetEntry(
    const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    throw SandboxNotFound(id);
  }
  return it->second;
}

std::shared_ptr<LocalSandbox> SandboxRegistry::Get(
    const std::string& id) const {
  auto sandbox = GetEntry(id)->sandbox;
  if (sandbox->internal) throw SandboxNotFound(id);
  return sandbox;
}

std::vector<std::shared_ptr<LocalSandbox>> SandboxRegistry::List() const {
  std::vector<std::shared_ptr<LocalSandbox>> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, entry] : entries_) {
      if (!entry->sandbox->internal) out.push_back(entry->sandbox);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a->started_at < b->started_at;
  });
  return out;
}

int SandboxRegistry::CheckTimeout(int seconds) const {
  if (seconds < 0)
    throw Failure(Failure::Reason::kInvalidArgument,
                  "timeout must not be negative");
  if (seconds > options_.max_timeout_s) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "timeout must be at most " +
                      std::to_string(options_.max_timeout_s) + " seconds");
  }
  return seconds;
}

std::shared_ptr<LocalSandbox> SandboxRegistry::Create(
    const CreateSandboxParams& params) {
  if (params.template_ref.empty()) {
    throw Failure(Failure::Reason::kInvalidArgument, "templateID is required");
  }
  CheckTimeout(params.timeout_s);
  ResolvedTemplate resolved = store_.Resolve(params.template_ref);
  auto sandbox =
      Start(resolved, params, params.layers.value_or(resolved.build.layers));
  const BuildOutputs& outputs = resolved.build.outputs;
  if (options_.start_template &&
      (!outputs.start_cmd.empty() || !outputs.ready_cmd.empty())) {
    try {
      options_.start_template(sandbox, outputs);
    } catch (...) {
      Kill(sandbox->id);
      throw;
    }
  }
  return sandbox;
}

std::shared_ptr<LocalSandbox> SandboxRegistry::Start(
    const ResolvedTemplate& resolved, const CreateSandboxParams& params,
    std::vector<std::string> layers) {
  CheckVolumeMounts(params.volume_mounts);
  StartSlot slot(*this);
  auto entry = std::make_shared<Entry>();
  auto sandbox = std::make_shared<LocalSandbox>();
  sandbox->id = NewSandboxId();
  sandbox->template_id = resolved.tmpl.template_id;
  sandbox->alias = resolved.tmpl.names.empty() ? "" : resolved.tmpl.names[0];
  sandbox->client_id = "e2b-local";
  sandbox->envd_version = kEnvdVersion;
  sandbox->access_token = RandomHex(48);
  // As E2B: a sandbox whose URLs are not public gets a traffic access
  // token, which the envd port's proxy asks of every request for another
  // port (the control plane made sure it is also secure).
  if (params.network.is_object() &&
      params.network.contains("allowPublicTraffic") &&
      params.network["allowPublicTraffic"] == false) {
    sandbox->traffic_access_token = RandomHex(48);
  }
  if (params.network.is_object()) {
    auto mask = params.network.find("maskRequestHost");
    if (mask != params.network.end() && mask->is_string()) {
      sandbox->mask_request_host = mask->get<std::string>();
    }
  }
  // The template's variables, under the ones the caller gave.
  sandbox->env_vars = params.env_vars;
  sandbox->env_vars.insert(resolved.build.outputs.env_vars.begin(),
                           resolved.build.outputs.env_vars.end());
  sandbox->default_user = resolved.build.outputs.user;
  sandbox->default_workdir = resolved.build.outputs.workdir;
  sandbox->internal = params.internal;
  sandbox->metadata = params.metadata;
  sandbox->volume_mounts = params.volume_mounts;
  sandbox->cpu_count = resolved.build.cpu_count;
  sandbox->memory_mb = resolved.build.memory_mb;
  sandbox->disk_size_mb = resolved.build.disk_size_mb;
  sandbox->allow_internet_access = params.allow_internet_access;
  sandbox->started_at = Clock::now();
  sandbox->end_at =
      sandbox->started_at + std::chrono::seconds(params.timeout_s);
  sandbox->auto_pause = params.auto_pause;
  sandbox->auto_pause_memory = params.auto_pause_memory;
  sandbox->auto_resume = params.auto_resume;

  entry->dir = sandboxes_dir_ + "/" + sandbox->id;
  entry->layers = std::move(layers);
  entry->network = params.network;

  const SandboxSpec spec = SpecFor(*sandbox, *entry);
  try {
    MakeDirs(entry->dir, /*private_dir=*/true);
    sandbox->instance = runtime_.Create(spec);
  } catch (const VolumePathError& e) {
    // As E2B lists a bad mount (its files decide, so only now).
    RemoveTreeOrLog(entry->dir);
    throw Failure(Failure::Reason::kInvalidArgument,
                  std::string("invalid mounts:\n\t- ") + e.what());
  } catch (const std::exception& e) {
    RemoveTreeOrLog(entry->dir);
    std::cerr << "e2b-local: cannot start sandbox " << sandbox->id << ": "
              << e.what() << "\n";
    throw Failure(Failure::Reason::kInternal,
                  std::string("cannot start sandbox: ") + e.what());
  }
  entry->sandbox = sandbox;
  sandbox->log.Add(
      "info", "Sandbox created",
      {{"templateID", sandbox->template_id}, {"sandboxID", sandbox->id}});
  bool stopping = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
    if (!stopping) entries_[sandbox->id] = entry;
    slot.ReleaseLocked();
  }
  if (stopping) {
    KillEntry(entry, "server shutting down");
    throw Failure(Failure::Reason::kUnavailable, "e2b-local is shutting down");
  }
  store_.RecordSpawn(sandbox->template_id);
  return sandbox;
}

void SandboxRegistry::KillEntry(const std::shared_ptr<Entry>& entry,
                                const std::string& why, bool forget) {
  auto& sandbox = *entry->sandbox;
  {
    std::lock_guard<std::mutex> lock(sandbox.mu);
    if (sandbox.status == SandboxStatus::kKilled) return;
    sandbox.status = SandboxStatus::kKilled;
    if (forget) paused_.Forget(sandbox.id);
  }
  sandbox.log.Add("info", "Sandbox killed", {{"reason", why}});
  try {
    if (sandbox.instance) sandbox.instance->Destroy();
  } catch (const std::exception& e) {
    std::cerr << "e2b-local: destroying sandbox " << sandbox.id << ": "
              << e.what() << "\n";
  }
  RemoveTreeOrLog(entry->dir);
}

void SandboxRegistry::Kill(const std::string& id) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) {
      throw SandboxNotFound(id);
    }
    entry = it->second;
    entries_.erase(it);
  }
  KillEntry(entry, "killed by request");
}

void SandboxRegistry::SetTimeout(const std::string& id, int seconds) {
  CheckTimeout(seconds);
  auto sandbox = Get(id);
  std::lock_guard<std::mutex> lock(sandbox->mu);
  sandbox->end_at = Clock::now() + std::chrono::seconds(seconds);
}

void SandboxRegistry::Refresh(const std::string& id, int seconds) const {
  if (seconds < 0 || seconds > 3600) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "duration must be between 0 and 3600 seconds");
  }
  auto sandbox = Get(id);
  std::lock_guard<std::mutex> lock(sandbox->mu);
  sandbox->end_at =
      std::max(sandbox->end_at, Clock::now() + std::chrono::seconds(seconds));
}

void SandboxRegistry::Pause(const std::string& id, bool keep_memory) {
  auto entry = GetEntry(id);
  auto& sandbox = entry->sandbox;
  {
    std::lock_guard<std::mutex> lock(sandbox->mu);
    if (sandbox->status == SandboxStatus::kPaused) {
      throw Failure(Failure::Reason::kConflict,
                    "sandbox '" + id + "' is already paused");
    }
    if (sandbox->status == SandboxStatus::kKilled) {
      throw SandboxNotFound(id);
    }
    try {
      if (keep_memory) {
        sandbox->instance->Freeze();
      } else {
        sandbox->instance->Halt();
      }
    } catch (const std::exception& e) {
      throw Failure(Failure::Reason::kInternal,
                    std::string("cannot pause sandbox: ") + e.what());
    }
    sandbox->halted = !keep_memory;
    sandbox->status = SandboxStatus::kPaused;
    // Saved (its processes stopped or ended, so its files hold still) to
    // outlive a restart. A pause that cannot be saved still pauses.
    try {
      SaveLocked(*entry);
    } catch (const std::exception& e) {
      std::cerr << "e2b-local: WARNING: the paused sandbox " << id
                << " could not be saved and will not survive a restart: "
                << e.what() << "\n";
    }
  }
  sandbox->log.Add("info", "Sandbox paused",
                   {{"memory", keep_memory ? "kept" : "dropped"}});
}

std::shared_ptr<LocalSandbox> SandboxRegistry::Resume(
    const std::string& id, int timeout_s, std::optional<bool> auto_pause,
    std::optional<bool> memory) {
  CheckTimeout(timeout_s);
  auto sandbox = Get(id);
  {
    std::lock_guard<std::mutex> lock(sandbox->mu);
    if (sandbox->status == SandboxStatus::kRunning) {
      throw Failure(Failure::Reason::kConflict,
                    "sandbox '" + id + "' is already running");
    }
    if (sandbox->status == SandboxStatus::kKilled) {
      throw SandboxNotFound(id);
    }
    ResumeLocked(*sandbox, memory);
    paused_.Forget(id);  // running again: its own files are the truth
    sandbox->end_at = Clock::now() + std::chrono::seconds(timeout_s);
    if (auto_pause) sandbox->auto_pause = *auto_pause;
  }
  sandbox->log.Add("info", "Sandbox resumed");
  return sandbox;
}

bool SandboxRegistry::Connect(const std::string& id, int timeout_s,
                              std::optional<bool> memory) {
  CheckTimeout(timeout_s);
  auto sandbox = Get(id);
  {
    std::lock_guard<std::mutex> lock(sandbox->mu);
    if (sandbox->status == SandboxStatus::kKilled) {
      throw SandboxNotFound(id);
    }
    auto new_end = Clock::now() + std::chrono::seconds(timeout_s);
    if (sandbox->status == SandboxStatus::kRunning) {
      sandbox->end_at = std::max(sandbox->end_at, new_end);
      return false;
    }
    ResumeLocked(*sandbox, memory);
    paused_.Forget(id);
    sandbox->end_at = new_end;
  }
  sandbox->log.Add("info", "Sandbox resumed", {{"via", "connect"}});
  return true;
}

void SandboxRegistry::SetNetwork(const std::string& id,
                                 nlohmann::json network) {
  auto entry = GetEntry(id);
  // NetworkUpdateConfig: omitted fields are cleared; internet access stays
  // on unless the update turns it off.
  bool internet = true;
  if (network.is_object()) {
    auto it = network.find("allow_internet_access");
    if (it != network.end() && it->is_boolean()) internet = it->get<bool>();
  }
  EgressPolicy policy = EgressPolicyOf(internet, network);
  try {
    entry->sandbox->instance->UpdateNetwork(policy);
  } catch (const std::invalid_argument& e) {
    throw Failure(Failure::Reason::kInvalidArgument, e.what());
  } catch (const std::exception& e) {
    throw Failure(Failure::Reason::kInternal,
                  std::string("cannot update the network: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  entry->network = std::move(network);
}

nlohmann::json SandboxRegistry::Network(const std::string& id) const {
  auto entry = GetEntry(id);
  std::lock_guard<std::mutex> lock(mu_);
  return entry->network;
}

void SandboxRegistry::CopyUpperLayer(Entry& entry, const std::string& target,
                                     const std::string& subdir) {
  // Caller holds entry.sandbox->mu so no pause/resume/kill interleaves.
  auto& sandbox = *entry.sandbox;
  const bool was_running = sandbox.status == SandboxStatus::kRunning;
  if (was_running) sandbox.instance->Freeze();
  try {
    CopyTree(sandbox.instance->UpperDir() + subdir, target);
  } catch (...) {
    if (was_running) sandbox.instance->Thaw();
    throw;
  }
  if (was_running) sandbox.instance->Thaw();
}

std::pair<std::string, std::string> SandboxRegistry::CaptureInto(
    const std::string& id, const std::string& subdir,
    const std::function<void(const std::string& layer, LocalSandbox& sandbox)>&
        finish,
    const char* failure) {
  auto entry = GetEntry(id);
  auto& sandbox = *entry->sandbox;
  auto [layer_dir, layer_id] = store_.NewLayer();
  try {
    std::lock_guard<std::mutex> lock(sandbox.mu);
    if (sandbox.status == SandboxStatus::kKilled) throw SandboxNotFound(id);
    // CopyTree refuses a symlink in place of the directory.
    CopyUpperLayer(*entry, layer_dir, subdir);
    if (finish) finish(layer_dir, sandbox);
  } catch (const Failure&) {
    RemoveTreeOrLog(layer_dir);
    throw;
  } catch (const std::exception& e) {
    RemoveTreeOrLog(layer_dir);
    throw Failure(Failure::Reason::kInternal, std::string(failure) + e.what());
  }
  return {layer_dir, layer_id};
}

std::pair<std::string, std::string> SandboxRegistry::CaptureLayer(
    const std::string& id) {
  return CaptureInto(id, "", nullptr, "cannot snapshot sandbox: ");
}

std::string SandboxRegistry::CaptureRootLayer(const std::string& id,
                                              const std::string& path) {
  if (path.empty() || path[0] != '/' || path.find("/..") != std::string::npos) {
    throw Failure(Failure::Reason::kInvalidArgument, "bad layer path " + path);
  }
  return CaptureInto(
             id, path,
             [](const std::string& layer, LocalSandbox& sandbox) {
               MakeReplacingLayer(layer,
                                  DirectoryNames(sandbox.instance->RootPath())
                                      .value_or(std::vector<std::string>{}));
             },
             "cannot copy the image's files: ")
      .first;
}

ResolvedTemplate SandboxRegistry::Snapshot(const std::string& id,
                                           const std::string& name) {
  auto entry = GetEntry(id);
  auto& sandbox = *entry->sandbox;
  auto [layer_dir, build_id] = CaptureLayer(id);
  // The writable layer already holds the sandbox's template layers (the
  // runtime stacks them into it), so the copy stands alone.
  std::vector<std::string> layers{layer_dir};
  try {
    auto result = store_.AddSnapshot(name, id, build_id, std::move(layers),
                                     sandbox.cpu_count, sandbox.memory_mb,
                                     sandbox.disk_size_mb);
    sandbox.log.Add("info", "Snapshot created",
                    {{"snapshotID", result.tmpl.SnapshotId()}});
    return result;
  } catch (...) {
    RemoveTreeOrLog(layer_dir);
    throw;
  }
}

std::vector<ForkOutcome> SandboxRegistry::Fork(const std::string& id,
                                               std::optional<int> timeout_s,
                                               int count) {
  // E2B's checks and words (the API's sandbox_fork.go).
  if (count < 1) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "Count must be at least 1");
  }
  if (count > 100) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "Count cannot be greater than 100");
  }
  // As E2B's fork: the original keeps its slot, so as many forks as the
  // limit can never all start.
  if (options_.max_sandboxes != 0 &&
      static_cast<std::size_t>(count) >= options_.max_sandboxes) {
    throw Failure(Failure::Reason::kInvalidArgument,
                  "Count must be lower than the maximum number of "
                  "concurrent sandboxes (" +
                      std::to_string(options_.max_sandboxes) + ")");
  }
  if (timeout_s) CheckTimeout(*timeout_s);
  auto entry = GetEntry(id);
  auto& source = *entry->sandbox;
  auto layer =
      std::make_shared<OwnedLayer>(fork_layers_dir_ + "/" + RandomUuid());
  CreateSandboxParams params;
  {
    std::lock_guard<std::mutex> lock(source.mu);
    if (source.status == SandboxStatus::kKilled) {
      throw SandboxNotFound(id);
    }
    try {
      CopyUpperLayer(*entry, layer->dir);
    } catch (const std::exception& e) {
      throw Failure(Failure::Reason::kInternal,
                    std::string("cannot fork sandbox: ") + e.what());
    }
    params.template_ref = source.template_id;
    params.auto_pause = source.auto_pause;
    params.auto_pause_memory = source.auto_pause_memory;
    params.auto_resume = source.auto_resume;
    params.timeout_s =
        timeout_s ? *timeout_s
                  : static_cast<int>(std::max<std::int64_t>(
                        15, std::chrono::duration_cast<std::chrono::seconds>(
                                source.end_at - Clock::now())
                                .count()));
    params.timeout_s = std::min(params.timeout_s, options_.max_timeout_s);
  }
  params.allow_internet_access = source.allow_internet_access;
  params.metadata = source.metadata;
  params.env_vars = source.env_vars;
  params.volume_mounts = source.volume_mounts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    params.network = entry->network;
  }
  ResolvedTemplate resolved;
  if (auto t = store_.Find(source.template_id)) {
    resolved.tmpl = *t;
  } else {
    resolved.tmpl.template_id = source.template_id;
  }
  resolved.build.cpu_count = source.cpu_count;
  resolved.build.memory_mb = source.memory_mb;
  resolved.build.disk_size_mb = source.disk_size_mb;
  resolved.build.outputs.user = source.default_user;
  resolved.build.outputs.workdir = source.default_workdir;
  // A complete layer (see Snapshot), copied into each child's own writable
  // layer by the runtime: it goes away when this call returns.
  std::vector<std::string> layers{layer->dir};

  std::vector<ForkOutcome> out;
  for (int i = 0; i < count; ++i) {
    ForkOutcome outcome;
    try {
      outcome.sandbox = Start(resolved, params, layers);
      outcome.sandbox->log.Add("info", "Sandbox forked", {{"from", id}});
    } catch (const Failure& e) {
      outcome.failure = e;
    }
    out.push_back(std::move(outcome));
  }
  source.log.Add("info", "Sandbox forked", {{"count", std::to_string(count)}});
  return out;
}

void SandboxRegistry::Sample(const std::shared_ptr<Entry>& entry) {
  MetricSample sample;
  sample.timestamp_ms = UnixMillis(Clock::now());
  try {
    sample.usage = entry->sandbox->instance->Usage();
  } catch (const std::exception&) {
    return;  // a sandbox being destroyed has nothing to report
  }
  if (sample.usage.cpu_count == 0)
    sample.usage.cpu_count = entry->sandbox->cpu_count;
  std::lock_guard<std::mutex> lock(mu_);
  entry->metrics.push_back(sample);
  while (entry->metrics.size() > kMaxSamplesPerSandbox) {
    entry->metrics.pop_front();
  }
}

std::vector<MetricSample> SandboxRegistry::Metrics(const std::string& id,
                                                   std::int64_t start_ms,
                                                   std::int64_t end_ms) {
  auto entry = GetEntry(id);
  bool empty = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    empty = entry->metrics.empty();
  }
  if (empty) Sample(entry);
  std::vector<MetricSample> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : entry->metrics) {
    // start/end arrive in whole seconds.
    if (s.timestamp_ms < start_ms - 999 || s.timestamp_ms > end_ms + 999) {
      continue;
    }
    out.push_back(s);
  }
  return out;
}

std::map<std::string, MetricSample> SandboxRegistry::LatestMetrics(
    const std::vector<std::string>& ids) {
  std::map<std::string, MetricSample> out;
  for (const auto& id : ids) {
    std::shared_ptr<Entry> entry;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(id);
      if (it == entries_.end()) continue;
      entry = it->second;
      if (!entry->metrics.empty()) {
        out[id] = entry->metrics.back();
        continue;
      }
    }
    Sample(entry);
    std::lock_guard<std::mutex> lock(mu_);
    if (!entry->metrics.empty()) out[id] = entry->metrics.back();
  }
  return out;
}

void SandboxRegistry::DeleteTemplate(const std::string& ref) {
  auto t = store_.Find(ref);
  if (!t)
    throw Failure(Failure::Reason::kNotFound,
                  "template '" + ref + "' not found");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto user =
        std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) {
          return e.second->sandbox->template_id == t->template_id;
        });
    if (user != entries_.end()) {
      throw Failure(
          Failure::Reason::kFailedPrecondition,
          "template '" + ref + "' is in use by sandbox '" + user->first + "'");
    }
  }
  store_.Delete(t->template_id);
}

void SandboxRegistry::LifecycleLoop() {
  auto next_sample = std::chrono::steady_clock::now();
  while (true) {
    std::vector<std::shared_ptr<Entry>> entries;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.tick, [&] { return stopping_; });
      if (stopping_) return;
      for (const auto& [id, e] : entries_) entries.push_back(e);
    }
    const auto now = Clock::now();
    for (const auto& entry : entries) {
      auto& sandbox = *entry->sandbox;
      bool expired = false, pause = false, keep_memory = true;
      {
        std::lock_guard<std::mutex> lock(sandbox.mu);
        expired =
            sandbox.status == SandboxStatus::kRunning && now >= sandbox.end_at;
        pause = sandbox.auto_pause;
        keep_memory = sandbox.auto_pause_memory;
      }
      if (!expired) continue;
      if (pause) {
        sandbox.log.Add("info", "Sandbox timed out", {{"action", "pause"}});
        try {
          Pause(sandbox.id, keep_memory);
        } catch (const Failure&) {
          // Paused or killed concurrently: nothing left to do.
        }
        continue;
      }
      sandbox.log.Add("info", "Sandbox timed out", {{"action", "kill"}});
      bool removed = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = entries_.find(sandbox.id);
        if (it != entries_.end() && it->second == entry) {
          entries_.erase(it);
          removed = true;
        }
      }
      if (removed) KillEntry(entry, "timeout");
    }
    if (std::chrono::steady_clock::now() >= next_sample) {
      next_sample =
          std::chrono::steady_clock::now() + options_.metrics_interval;
      for (const auto& entry : entries) {
        if (entry->sandbox->Status() == SandboxStatus::kRunning) Sample(entry);
      }
    }
  }
}

}  // namespace e2b_local
