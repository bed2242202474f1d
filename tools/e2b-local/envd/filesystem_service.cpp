#include "envd/filesystem_service.hpp"

#include "envd/entry_info.hpp"
#include "util/join_path.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <utility>

namespace e2b_local {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxPendingEvents = 100000;
constexpr int kMaxWatchDepth = 64;
// ListDir: envd has no bound (it only hurts its own VM); here a listing is
// built in the server's memory, so depth and size are capped.
constexpr std::uint32_t kMaxListDepth = 64;
constexpr std::size_t kMaxListEntries = 100000;

// The server's share of the host's inotify limits: half, so the host's own
// services keep the rest. Read once.
std::size_t HostInotifyShare(const char* file, std::size_t fallback) {
  std::ifstream in(file);
  std::size_t value = 0;
  if (!(in >> value) || value < 2) return fallback;
  return value / 2;
}

struct ServerInotifyUse {
  std::mutex mu;
  std::size_t instances = 0;
  std::size_t watches = 0;
  const std::size_t max_instances =
      HostInotifyShare("/proc/sys/fs/inotify/max_user_instances", 64);
  const std::size_t max_watches =
      HostInotifyShare("/proc/sys/fs/inotify/max_user_watches", 4096);
};

ServerInotifyUse& ServerInotify() {
  static auto* use = new ServerInotifyUse();
  return *use;
}

std::shared_ptr<const SandboxFs> OpenFs(const EnvdCall& call) {
  if (!call.sandbox || !call.sandbox->instance) {
    throw ConnectError("unavailable", "the sandbox is not running");
  }
  try {
    // The instance lives as long as the sandbox, which owns the watchers
    // that keep this descriptor.
    return std::make_shared<const SandboxFs>(call.sandbox->instance->RootPath(),
                                             *call.sandbox->instance);
  } catch (const PathError& e) {
    throw ConnectError("internal", e.what());
  }
}

// A string field, accepting the proto name as well; missing = "".
std::string StringField(const json& request, const char* name,
                        const char* proto_name = nullptr) {
  for (const char* key : {name, proto_name}) {
    if (key == nullptr) continue;
    auto it = request.find(key);
    if (it == request.end() || it->is_null()) continue;
    if (!it->is_string()) {
      throw ConnectError("invalid_argument",
                         std::string("field '") + name + "' must be a string");
    }
    return it->get<std::string>();
  }
  return {};
}

bool BoolField(const json& request, const char* name, const char* proto_name) {
  for (const char* key : {name, proto_name}) {
    auto it = request.find(key);
    if (it == request.end() || it->is_null()) continue;
    if (!it->is_boolean()) {
      throw ConnectError("invalid_argument",
                         std::string("field '") + name + "' must be a bool");
    }
    return it->get<bool>();
  }
  return false;
}

std::uint32_t Uint32Field(const json& request, const char* name) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) return 0;
  if (it->is_number_unsigned()) {
    auto v = it->get<std::uint64_t>();
    if (v <= 0xffffffffULL) return static_cast<std::uint32_t>(v);
  } else if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 10 &&
        s.find_first_not_of("0123456789") == std::string::npos) {
      auto v = std::stoull(s);
      if (v <= 0xffffffffULL) return static_cast<std::uint32_t>(v);
    }
  } else if (it->is_number_integer()) {
    auto v = it->get<std::int64_t>();
    if (v >= 0 && v <= 0xffffffffLL) return static_cast<std::uint32_t>(v);
  }
  throw ConnectError("invalid_argument",
                     std::string("field '") + name + "' must be a uint32");
}

std::string ResolvePath(const EnvdCall& call, const std::string& path) {
  try {
    return ResolveClientPath(path, call.user);
  } catch (const PathError& e) {
    throw ConnectError("invalid_argument", e.what());
  }
}

json BuildEntry(const SandboxFs& fs, const std::string& path) {
  EntryInfoBuilder builder(fs);
  try {
    return builder.Build(path);
  } catch (const PathError& e) {
    throw PathErrorToConnect(e);
  }
}

json Stat(EnvdCall& call, const json& request) {
  auto fs = OpenFs(call);
  std::string path = ResolvePath(call, StringField(request, "path"));
  return json{{"entry", BuildEntry(*fs, path)}};
}

// ListDir and watchers take only a directory; anything else is the
// caller's mistake (invalid_argument), not a failure of the sandbox.
void RequireDirectory(const SandboxFs& fs, const std::string& path) {
  struct stat st {};
  try {
    st = fs.Stat(path);
  } catch (const PathError& e) {
    throw PathErrorToConnect(e);
  }
  if (!S_ISDIR(st.st_mode)) {
    throw ConnectError("invalid_argument",
                       "path '" + path + "' is not a directory");
  }
}

void ListInto(const SandboxFs& fs, EntryInfoBuilder& builder,
              const std::string& dir, std::uint32_t depth_left, json& out,
              bool top) {
  std::vector<std::string> names;
  try {
    names = fs.ListNames(dir);
  } catch (const PathError& e) {
    // A subdirectory that vanished or cannot be read mid-walk is skipped.
    if (top) throw PathErrorToConnect(e);
    return;
  }
  for (const auto& name : names) {
    std::string child = dir == "/" ? "/" + name : JoinPath(dir, name);
    json entry;
    struct stat st {};
    try {
      entry = builder.Build(child);
      st = fs.Lstat(child);
    } catch (const PathError&) {
      continue;  // removed while listing
    }
    if (out.size() >= kMaxListEntries) {
      throw ConnectError("resource_exhausted",
                         "listing has more than " +
                             std::to_string(kMaxListEntries) +
                             " entries; list a smaller tree or a lower depth");
    }
    out.push_back(std::move(entry));
    if (depth_left > 1 && S_ISDIR(st.st_mode)) {
      ListInto(fs, builder, child, depth_left - 1, out, /*top=*/false);
    }
  }
}

json ListDir(EnvdCall& call, const json& request) {
  auto fs = OpenFs(call);
  std::string path = ResolvePath(call, StringField(request, "path"));
  std::uint32_t depth = Uint32Field(request, "depth");
  if (depth == 0) depth = 1;
  if (depth > kMaxListDepth) {
    throw ConnectError("invalid_argument", "depth " + std::to_string(depth) +
                                               " is too large: at most " +
                                               std::to_string(kMaxListDepth));
  }
  RequireDirectory(*fs, path);
  EntryInfoBuilder builder(*fs);
  json entries = json::array();
  ListInto(*fs, builder, path, depth, entries, /*top=*/true);
  return json{{"entries", std::move(entries)}};
}

json MakeDir(EnvdCall& call, const json& request) {
  auto fs = OpenFs(call);
  std::string path = ResolvePath(call, StringField(request, "path"));
  try {
    if (fs->Exists(path)) {
      struct stat st = fs->Stat(path);
      if (S_ISDIR(st.st_mode)) {
        throw ConnectError("already_exists",
                           "directory at '" + path + "' already exists");
      }
      throw ConnectError("invalid_argument",
                         "path '" + path +
                             "' already exists and is not a "
                             "directory");
    }
    fs->MakeDirs(path, fs->HostUid(call.user.uid), fs->HostGid(call.user.gid));
  } catch (const PathError& e) {
    if (e.error_number() == EEXIST) {
      throw ConnectError("invalid_argument", e.what());
    }
    throw PathErrorToConnect(e);
  }
  return json{{"entry", BuildEntry(*fs, path)}};
}

json Move(EnvdCall& call, const json& request) {
  auto fs = OpenFs(call);
  std::string source = ResolvePath(call, StringField(request, "source"));
  std::string destination =
      ResolvePath(call, StringField(request, "destination"));
  if (source == "/" || destination == "/") {
    throw ConnectError("invalid_argument", "cannot move '/'");
  }
  try {
    if (!fs->Exists(source, /*follow=*/false)) {
      throw ConnectError("not_found",
                         "source path '" + source + "' does not exist");
    }
    fs->MakeDirs(SplitParent(destination).first, fs->HostUid(call.user.uid),
                 fs->HostGid(call.user.gid));
    fs->Rename(source, destination);
  } catch (const PathError& e) {
    switch (e.error_number()) {
      case EEXIST:
      case ENOTEMPTY:
      case EISDIR:
      case ENOTDIR:
      case EINVAL:
        throw ConnectError("invalid_argument", e.what());
      default:
        throw PathErrorToConnect(e);
    }
  }
  return json{{"entry", BuildEntry(*fs, destination)}};
}

json Remove(EnvdCall& call, const json& request) {
  auto fs = OpenFs(call);
  std::string path = ResolvePath(call, StringField(request, "path"));
  if (path == "/") {
    throw ConnectError("invalid_argument", "refusing to remove '/'");
  }
  try {
    fs->RemoveAll(path);
  } catch (const PathError& e) {
    throw PathErrorToConnect(e);
  }
  return json::object();
}

std::shared_ptr<WatcherTable> Watchers(const EnvdCall& call) {
  return call.sandbox->watchers.GetOrCreate(
      [] { return std::make_shared<WatcherTable>(); });
}

std::unique_ptr<DirWatcher> MakeWatcher(const EnvdCall& call,
                                        const json& request) {
  auto fs = OpenFs(call);
  std::string path = ResolvePath(call, StringField(request, "path"));
  return std::make_unique<DirWatcher>(
      fs, path, BoolField(request, "recursive", "recursive"),
      BoolField(request, "includeEntry", "include_entry"),
      Watchers(call)->quota());
}

void WatchDir(EnvdCall& call, const json& request, StreamWriter& out) {
  auto watcher = MakeWatcher(call, request);
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto keepalive =
      call.keepalive_interval.count() > 0
          ? std::chrono::duration_cast<Clock::duration>(call.keepalive_interval)
          : std::chrono::duration_cast<Clock::duration>(
                std::chrono::seconds(90));
  auto next_keepalive = started + keepalive;
  // WatchDirResponse is `oneof event {start, filesystem, keepalive}`: a
  // oneof's name never appears in JSON, so each frame is just its member
  // (unlike process StartResponse, whose field really is named `event`).
  if (!out.Send(json{{"start", json::object()}})) return;
  for (;;) {
    auto now = Clock::now();
    if (call.timeout && now - started >= *call.timeout) {
      throw ConnectError("deadline_exceeded", "the watch reached its deadline");
    }
    if (call.sandbox->Status() == SandboxStatus::kKilled) {
      throw ConnectError("unavailable", "the sandbox was killed");
    }
    // Wake regularly to notice deadlines and a gone client.
    pollfd pfd{watcher->fd(), POLLIN, 0};
    int rc = poll(&pfd, 1, 200);
    if (rc < 0 && errno != EINTR) {
      throw ConnectError("internal",
                         std::string("poll: ") + std::strerror(errno));
    }
    if (rc > 0) {
      for (auto& event : watcher->ReadEvents()) {
        if (!out.Send(json{{"filesystem", std::move(event)}})) {
          return;
        }
      }
    }
    if (Clock::now() >= next_keepalive) {
      if (!out.Send(json{{"keepalive", json::object()}})) return;
      next_keepalive = Clock::now() + keepalive;
    }
    if (!out.ClientConnected()) return;
  }
}

json CreateWatcher(EnvdCall& call, const json& request) {
  auto watcher = MakeWatcher(call, request);
  return json{{"watcherId", Watchers(call)->Add(std::move(watcher))}};
}

std::string WatcherId(const json& request) {
  std::string id = StringField(request, "watcherId", "watcher_id");
  if (id.empty()) throw ConnectError("invalid_argument", "watcherId is empty");
  return id;
}

json GetWatcherEvents(EnvdCall& call, const json& request) {
  std::string id = WatcherId(request);
  std::vector<json> events;
  if (!Watchers(call)->Drain(id, events)) {
    throw ConnectError("not_found", "watcher with id " + id + " not found");
  }
  json out = json::array();
  for (auto& e : events) out.push_back(std::move(e));
  return json{{"events", std::move(out)}};
}

json RemoveWatcher(EnvdCall& call, const json& request) {
  std::string id = WatcherId(request);
  if (!Watchers(call)->Remove(id)) {
    throw ConnectError("not_found", "watcher with id " + id + " not found");
  }
  return json::object();
}

std::string NewWatcherId() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx",
                static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

ConnectError PathErrorToConnect(const PathError& error) {
  switch (error.error_number()) {
    case ENOENT:
      return ConnectError("not_found", error.what());
    case ENOTDIR:
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
      return ConnectError("invalid_argument", error.what());
    case EEXIST:
      return ConnectError("already_exists", error.what());
    case ELOOP:
    case EXDEV:
      return ConnectError("failed_precondition", error.what());
    case EACCES:
    case EPERM:
      return ConnectError("permission_denied", error.what());
    case ENOSPC:
    case EDQUOT:
      return ConnectError("resource_exhausted", error.what());
    default:
      return ConnectError("internal", error.what());
  }
}

WatchQuota::~WatchQuota() {
  ReleaseWatches(watches_);
  while (instances_ > 0) ReleaseInstance();
}

void WatchQuota::AcquireInstance() {
  std::lock_guard<std::mutex> lock(mu_);
  if (instances_ >= kMaxWatchersPerSandbox) {
    throw ConnectError("resource_exhausted",
                       "too many watchers in this sandbox (at most " +
                           std::to_string(kMaxWatchersPerSandbox) + ")");
  }
  auto& server = ServerInotify();
  std::lock_guard<std::mutex> server_lock(server.mu);
  if (server.instances >= server.max_instances) {
    throw ConnectError("resource_exhausted",
                       "e2b-local is out of inotify instances for watchers "
                       "(its share of fs.inotify.max_user_instances)");
  }
  ++server.instances;
  ++instances_;
}

void WatchQuota::ReleaseInstance() {
  std::lock_guard<std::mutex> lock(mu_);
  if (instances_ == 0) return;
  --instances_;
  auto& server = ServerInotify();
  std::lock_guard<std::mutex> server_lock(server.mu);
  --server.instances;
}

bool WatchQuota::AcquireWatch() {
  std::lock_guard<std::mutex> lock(mu_);
  if (watches_ >= kMaxWatchesPerSandbox) return false;
  auto& server = ServerInotify();
  std::lock_guard<std::mutex> server_lock(server.mu);
  if (server.watches >= server.max_watches) return false;
  ++server.watches;
  ++watches_;
  return true;
}

void WatchQuota::ReleaseWatches(std::size_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  count = std::min(count, watches_);
  watches_ -= count;
  auto& server = ServerInotify();
  std::lock_guard<std::mutex> server_lock(server.mu);
  server.watches -= std::min(count, server.watches);
}

namespace {

// A watcher's inotify instance: opened only for a directory, and only
// within the sandbox's and the server's share (one instance taken from
// `quota`, given back when inotify_init1 fails).
int OpenWatcherInotify(const SandboxFs& fs, const std::string& path,
                       WatchQuota& quota) {
  RequireDirectory(fs, path);
  quota.AcquireInstance();
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    quota.ReleaseInstance();
    throw ConnectError(err == EMFILE ? "resource_exhausted" : "internal",
                       std::string("inotify: ") + std::strerror(err));
  }
  return fd;
}

}  // namespace

DirWatcher::DirWatcher(std::shared_ptr<const SandboxFs> fs, std::string path,
                       bool recursive, bool include_entry,
                       std::shared_ptr<WatchQuota> quota)
    : fs_(std::move(fs)),
      path_(std::move(path)),
      recursive_(recursive),
      include_entry_(include_entry),
      quota_(std::move(quota)),
      inotify_fd_(OpenWatcherInotify(*fs_, path_, *quota_)) {
  try {
    AddWatch("");
    if (recursive_) AddTree("", nullptr, 0);
  } catch (const PathError& e) {
    Close();
    throw PathErrorToConnect(e);
  } catch (...) {
    Close();
    throw;
  }
  starting_ = false;
}

DirWatcher::~DirWatcher() { Close(); }

void DirWatcher::Close() {
  if (inotify_fd_ < 0) return;
  close(inotify_fd_);
  inotify_fd_ = -1;
  quota_->ReleaseWatches(watches_.size());
  watches_.clear();
  quota_->ReleaseInstance();
}

std::string DirWatcher::AbsolutePath(const std::string& relative) const {
  if (relative.empty()) return path_;
  return path_ == "/" ? "/" + relative : path_ + "/" + relative;
}

void DirWatcher::AddWatch(const std::string& relative) {
  if (!quota_->AcquireWatch()) {
    // At creation the caller learns its tree is too large; later, new
    // directories beyond the quota go unwatched.
    if (!starting_) return;
    throw ConnectError(
        "resource_exhausted",
        "watching '" + path_ + "'" + (recursive_ ? " recursively" : "") +
            " needs more directory watches than this sandbox has left (at "
            "most " +
            std::to_string(WatchQuota::kMaxWatchesPerSandbox) +
            "); watch a smaller tree");
  }
  // Resolve inside the root, then hand the kernel our own descriptor, so
  // the watch lands on exactly the directory we resolved.
  UniqueFd dir =
      fs_->Open(AbsolutePath(relative),
                O_PATH | O_DIRECTORY | (relative.empty() ? 0 : O_NOFOLLOW));
  std::string proc = "/proc/self/fd/" + std::to_string(dir.get());
  int wd = inotify_add_watch(inotify_fd_, proc.c_str(),
                             IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM |
                                 IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR |
                                 IN_EXCL_UNLINK);
  if (wd < 0) {
    int err = errno;
    quota_->ReleaseWatches(1);
    if (relative.empty()) {
      throw PathError(err == ENOSPC ? ENOSPC : err,
                      "cannot watch '" + path_ + "': " + std::strerror(err));
    }
    return;  // a vanished or unwatchable subdirectory is skipped
  }
  // The same directory reached twice (a bind mount, a race) reuses its
  // watch descriptor: it holds one watch, not two.
  if (!watches_.emplace(wd, relative).second) {
    quota_->ReleaseWatches(1);
    watches_[wd] = relative;
  }
}

void DirWatcher::AddTree(const std::string& relative, std::vector<json>* seen,
                         int depth) {
  if (depth > kMaxWatchDepth) return;
  std::vector<std::string> names;
  try {
    names = fs_->ListNames(AbsolutePath(relative));
  } catch (const PathError&) {
    return;
  }
  for (const auto& name : names) {
    std::string child = relative.empty() ? name : JoinPath(relative, name);
    // Entries created before the watch existed would be missed; report
    // them as creations, as a watcher that had been there would have.
    if (seen != nullptr) seen->push_back(MakeEvent(child, "EVENT_TYPE_CREATE"));
    struct stat st {};
    try {
      st = fs_->Lstat(AbsolutePath(child));
    } catch (const PathError&) {
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      try {
        AddWatch(child);
      } catch (const PathError&) {
        continue;
      }
      AddTree(child, seen, depth + 1);
    }
  }
}

json DirWatcher::MakeEvent(const std::string& relative, const char* type) {
  json event{{"name", relative}, {"type", type}};
  bool gone = std::strcmp(type, "EVENT_TYPE_REMOVE") == 0 ||
              std::strcmp(type, "EVENT_TYPE_RENAME") == 0;
  if (include_entry_ && !gone) {
    try {
      EntryInfoBuilder builder(*fs_);
      event["entry"] = builder.Build(AbsolutePath(relative));
    } catch (const PathError&) {
      // Already gone again: the event stands without an entry.
    }
  }
  return event;
}

std::vector<json> DirWatcher::ReadEvents() {
  std::vector<json> events;
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(inotify_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::size_t offset = 0;
    while (offset + sizeof(inotify_event) <= static_cast<std::size_t>(n)) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + offset);
      offset += sizeof(inotify_event) + ev->len;
      if ((ev->mask & IN_IGNORED) != 0) {
        if (watches_.erase(ev->wd) != 0) quota_->ReleaseWatches(1);
        continue;
      }
      auto it = watches_.find(ev->wd);
      if (it == watches_.end() || ev->len == 0) continue;
      std::string name(ev->name);
      std::string relative =
          it->second.empty() ? name : JoinPath(it->second, name);
      const char* type = nullptr;
      if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) != 0) {
        type = "EVENT_TYPE_CREATE";
      } else if ((ev->mask & IN_DELETE) != 0) {
        type = "EVENT_TYPE_REMOVE";
      } else if ((ev->mask & IN_MOVED_FROM) != 0) {
        type = "EVENT_TYPE_RENAME";
      } else if ((ev->mask & IN_MODIFY) != 0) {
        type = "EVENT_TYPE_WRITE";
      } else if ((ev->mask & IN_ATTRIB) != 0) {
        type = "EVENT_TYPE_CHMOD";
      } else {
        continue;
      }
      events.push_back(MakeEvent(relative, type));
      if (recursive_ && (ev->mask & IN_ISDIR) != 0 &&
          (ev->mask & (IN_CREATE | IN_MOVED_TO)) != 0) {
        try {
          AddWatch(relative);
          AddTree(relative, &events, 1);
        } catch (const PathError&) {
          // Removed before we could watch it.
        }
      }
    }
  }
  return events;
}

std::string WatcherTable::Add(std::unique_ptr<DirWatcher> watcher) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = NewWatcherId();
  watchers_[id] = Entry{std::move(watcher), {}};
  return id;
}

bool WatcherTable::Drain(const std::string& id, std::vector<json>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return false;
  events = std::move(it->second.pending);
  it->second.pending.clear();
  for (auto& e : it->second.watcher->ReadEvents()) {
    if (events.size() >= kMaxPendingEvents) break;
    events.push_back(std::move(e));
  }
  return true;
}

bool WatcherTable::Remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return watchers_.erase(id) > 0;
}

void RegisterFilesystemService(RpcRegistry& registry) {
  const std::string prefix = "/filesystem.Filesystem/";
  registry.AddUnary(prefix + "Stat", Stat);
  registry.AddUnary(prefix + "ListDir", ListDir);
  registry.AddUnary(prefix + "MakeDir", MakeDir);
  registry.AddUnary(prefix + "Move", Move);
  registry.AddUnary(prefix + "Remove", Remove);
  registry.AddStream(prefix + "WatchDir", WatchDir);
  registry.AddUnary(prefix + "CreateWatcher", CreateWatcher);
  registry.AddUnary(prefix + "GetWatcherEvents", GetWatcherEvents);
  registry.AddUnary(prefix + "RemoveWatcher", RemoveWatcher);
}

}  // namespace e2b_local
