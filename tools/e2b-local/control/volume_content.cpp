#include "control/volume_content.hpp"

#include "control/api_error.hpp"
#include "control/wire.hpp"
#include "envd/envd_server.hpp"
#include "envd/files_handler.hpp"
#include "envd/sandbox_paths.hpp"
#include "store/random_ids.hpp"
#include "util/utc_timestamp.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace e2b_local {

using nlohmann::json;

namespace {

// E2B's defaults for what the content API creates.
constexpr std::int64_t kDefaultOwner = 9090;
constexpr std::int64_t kDefaultDirMode = 0777;
constexpr std::int64_t kDefaultFileMode = 0666;
constexpr std::int64_t kMaxDepth = 10;
// A listing is built in memory: this bounds what one request may cost
// (E2B has no such bound; docs/protocol/volumes.md says so).
constexpr std::size_t kMaxListedEntries = 100000;
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;

// A request the content API refuses: its status and message.
struct ContentError {
  int status;
  std::string message;
};

enum class Op { kListDir, kMakeDir, kStat, kChange, kRemove, kRead, kWrite };

const char* CodeOf(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 507:
      return "insufficient_storage";
    default:
      return "internal_error";
  }
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  json body{{"code", CodeOf(status)}, {"message", message}};
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

// The status of a failed path operation; its message names the volume
// path only (SandboxFs never puts host paths in them).
ContentError FromPathError(const PathError& e) {
  switch (e.error_number()) {
    case ENOENT:
      return {404, e.what()};
    case EEXIST:
      return {409, e.what()};
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
    case EINVAL:
    case ENOTEMPTY:
      return {400, e.what()};
    case EACCES:
    case EPERM:
      return {403, e.what()};
    case ENOSPC:
    case EDQUOT:
      return {507, e.what()};
    default:
      return {500, e.what()};
  }
}

[[noreturn]] void ThrowErrno(int error_number, const std::string& path) {
  throw PathError(error_number, DescribePathErrno(error_number, path));
}

std::optional<Op> OpOf(const std::string& method, const std::string& what) {
  if (what == "dir") {
    if (method == "GET") return Op::kListDir;
    if (method == "POST") return Op::kMakeDir;
  } else if (what == "path") {
    if (method == "GET") return Op::kStat;
    if (method == "PATCH") return Op::kChange;
    if (method == "DELETE") return Op::kRemove;
  } else if (what == "file") {
    if (method == "GET") return Op::kRead;
    if (method == "PUT") return Op::kWrite;
  }
  return std::nullopt;
}

// The token of `Authorization: Bearer <token>`; empty when there is none.
std::string BearerToken(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  const std::string scheme = "bearer ";
  if (header.size() <= scheme.size()) return {};
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) {
      return {};
    }
  }
  std::size_t start = header.find_first_not_of(' ', scheme.size());
  return start == std::string::npos ? std::string() : header.substr(start);
}

std::string Query(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

bool BoolQuery(const httplib::Request& req, const char* name) {
  const std::string text = Query(req, name);
  if (text.empty() || text == "false") return false;
  if (text == "true") return true;
  throw ContentError{400, std::string("'") + name + "' must be true or false"};
}

// The volume path of the `path` query, made absolute and cleaned as E2B
// does (filepath.Clean("/" + path)), so ".." never leaves the volume.
std::string VolumePath(const httplib::Request& req) {
  const std::string raw = Query(req, "path");
  if (raw.find('\0') != std::string::npos) {
    throw ContentError{400, "path contains a NUL byte"};
  }
  return CleanAbsolutePath("/" + raw);
}

// What a create asks for: owner (host ids), mode and force.
struct Creation {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
  bool force = false;
};

std::uint32_t HostId(const VolumeIdMapping& ids, std::int64_t id,
                     const char* name) {
  auto host = ids.ToHost(id);
  if (!host) {
    throw ContentError{400, std::string("'") + name +
                                "' is outside the sandbox's user IDs (0-" +
                                std::to_string(ids.range.count - 1) + ")"};
  }
  return *host;
}

Creation CreationQuery(const httplib::Request& req, const VolumeIdMapping& ids,
                       std::int64_t default_mode) {
  constexpr std::int64_t kMaxId = 0xfffffffeLL;
  Creation out;
  out.uid = HostId(
      ids, QueryInt(Query(req, "uid"), "uid", kDefaultOwner, 0, kMaxId), "uid");
  out.gid = HostId(
      ids, QueryInt(Query(req, "gid"), "gid", kDefaultOwner, 0, kMaxId), "gid");
  out.mode = static_cast<mode_t>(
      QueryInt(Query(req, "mode"), "mode", default_mode, 0, 0777));
  out.force = BoolQuery(req, "force");
  return out;
}

std::string Timestamp(const struct timespec& ts) {
  return FormatUtcTimestamp(ts.tv_sec, static_cast<long>(ts.tv_nsec), 9);
}

const char* TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symlink";
  return "unknown";
}

// VolumeEntryStat of the entry `fd` holds (opened O_PATH | O_NOFOLLOW, or
// any descriptor of a non-symlink) at volume path `path`.
json StatJson(int fd, const std::string& path, const VolumeIdMapping& ids) {
  struct stat st {};
  if (fstat(fd, &st) != 0) ThrowErrno(errno, path);
  const std::string name = path == "/" ? "/" : SplitParent(path).second;
  json out{{"name", name},
           {"type", TypeOf(st.st_mode)},
           {"path", path},
           {"size", static_cast<std::int64_t>(st.st_size)},
           {"mode", st.st_mode & 0777},
           {"uid", ids.ToSandbox(st.st_uid)},
           {"gid", ids.ToSandbox(st.st_gid)},
           {"atime", Timestamp(st.st_atim)},
           {"mtime", Timestamp(st.st_mtim)},
           {"ctime", Timestamp(st.st_ctim)}};
  if (S_ISLNK(st.st_mode)) {
    std::vector<char> buf(4096);
    const ssize_t n = readlinkat(fd, "", buf.data(), buf.size());
    if (n >= 0) out["target"] = std::string(buf.data(), std::size_t(n));
  }
  return out;
}

std::string ChildPath(const std::string& dir, const std::string& name) {
  return (dir == "/" ? "" : dir) + "/" + name;
}

// The names in the open directory `dir_fd`, sorted.
std::vector<std::string> NamesIn(int dir_fd, const std::string& path) {
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(errno, path);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    close(fd);
    ThrowErrno(err, path);
  }
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// Appends the entries below `dir_fd` (volume path `dir`) down to `depth`
// levels, parents before children. Every step is relative to a descriptor
// opened with O_NOFOLLOW: a symlink is reported, never entered.
void ListInto(int dir_fd, const std::string& dir, std::int64_t depth,
              const VolumeIdMapping& ids, json& out) {
  for (const auto& name : NamesIn(dir_fd, dir)) {
    const std::string path = ChildPath(dir, name);
    UniqueFd entry(
        openat(dir_fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!entry.valid()) {
      if (errno == ENOENT) continue;  // removed while we looked
      ThrowErrno(errno, path);
    }
    json stat = StatJson(entry.get(), path, ids);
    const bool is_dir = stat["type"] == "directory";
    out.push_back(std::move(stat));
    if (out.size() > kMaxListedEntries) {
      throw ContentError{400, "the listing has more than " +
                                  std::to_string(kMaxListedEntries) +
                                  " entries; ask for a smaller depth"};
    }
    if (!is_dir || depth <= 1) continue;
    UniqueFd sub(openat(dir_fd, name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub.valid()) continue;  // replaced meanwhile: listed as it was
    ListInto(sub.get(), path, depth - 1, ids, out);
  }
}

// Makes directory `name` in `parent_fd` with the owner and mode asked for
// (chmod after creation, so the umask does not apply); false when an entry
// of that name exists already.
bool MakeDirAt(int parent_fd, const std::string& name, const std::string& path,
               uid_t uid, gid_t gid, mode_t mode) {
  if (mkdirat(parent_fd, name.c_str(), 0700) != 0) {
    if (errno == EEXIST) return false;
    ThrowErrno(errno, path);
  }
  // O_NOFOLLOW: the sandbox may swap the new directory for a symlink.
  UniqueFd dir(openat(parent_fd, name.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) ThrowErrno(errno, path);
  if (fchown(dir.get(), uid, gid) != 0 && !ChownRefusedToNonRoot(errno)) {
    ThrowErrno(errno, path);
  }
  if (fchmod(dir.get(), mode) != 0) ThrowErrno(errno, path);
  return true;
}

// The directory `path` (O_PATH), with missing parents made as `force`
// makes them: mode 0777 and the request's owner.
UniqueFd OpenOrMakeDirs(const SandboxFs& fs, const std::string& path, uid_t uid,
                        gid_t gid) {
  UniqueFd current = fs.Open("/", O_PATH | O_DIRECTORY);
  std::string prefix;
  std::size_t i = 1;
  while (i < path.size()) {
    std::size_t slash = path.find('/', i);
    if (slash == std::string::npos) slash = path.size();
    const std::string name = path.substr(i, slash - i);
    i = slash + 1;
    prefix += "/" + name;
    MakeDirAt(current.get(), name, prefix, uid, gid, 0777);
    // Resolved again from the root: a symlinked component leads where it
    // would inside the volume, never outside it.
    current = fs.Open(prefix, O_PATH | O_DIRECTORY);
  }
  return current;
}

UniqueFd OpenParentDir(const SandboxFs& fs, const std::string& parent,
                       const Creation& creation) {
  return creation.force ? OpenOrMakeDirs(fs, parent, creation.uid, creation.gid)
                        : fs.Open(parent, O_PATH | O_DIRECTORY);
}

// An upload's body: streamed from the ContentReader, or req.body.
struct UploadBody {
  const httplib::Request& req;
  const httplib::ContentReader* reader = nullptr;
  bool read = false;  ///< set once reading began

  bool Read(const std::function<bool(const char*, std::size_t)>& sink) {
    read = true;
    if (reader == nullptr) return sink(req.body.data(), req.body.size());
    return (*reader)([&sink](const char* data, std::size_t size) {
      return sink(data, size);
    });
  }
};

// A fresh file in the target's directory. Unnamed (O_TMPFILE) where the
// filesystem allows, so a server that dies mid-upload leaves nothing in
// the volume; else a hidden name, unlinked unless Keep() is called.
class TempFile {
 public:
  TempFile(int dir_fd, const std::string& path) : dir_fd_(dir_fd) {
    fd_.Reset(openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    if (fd_.valid()) return;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
      ThrowErrno(errno, path);
    }
    for (int attempt = 0; attempt < 8 && !fd_.valid(); ++attempt) {
      name_ = HiddenName();
      fd_.Reset(openat(dir_fd, name_.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600));
      if (!fd_.valid() && errno != EEXIST) break;
    }
    if (!fd_.valid()) ThrowErrno(errno, path);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!kept_ && !name_.empty()) unlinkat(dir_fd_, name_.c_str(), 0);
  }

  int fd() const { return fd_.get(); }
  bool named() const { return !name_.empty(); }
  const std::string& name() const { return name_; }
  void Keep() { kept_ = true; }

  /// Links an unnamed file at `name` in the directory; false with errno
  /// when that fails (EEXIST when something is there: link(2) never
  /// replaces).
  bool LinkAt(const std::string& name) const {
    const std::string via = "/proc/self/fd/" + std::to_string(fd_.get());
    return linkat(AT_FDCWD, via.c_str(), dir_fd_, name.c_str(),
                  AT_SYMLINK_FOLLOW) == 0;
  }
  /// Gives an unnamed file a hidden name, so it can be renamed over the
  /// target.
  void Name(const std::string& path) {
    for (int attempt = 0; attempt < 8 && name_.empty(); ++attempt) {
      const std::string name = HiddenName();
      if (LinkAt(name)) name_ = name;
      if (name_.empty() && errno != EEXIST) break;
    }
    if (name_.empty()) ThrowErrno(errno, path);
  }

 private:
  static std::string HiddenName() { return ".e2b-upload-" + RandomHex(16); }

  int dir_fd_;
  std::string name_;  ///< empty while unnamed
  UniqueFd fd_;
  bool kept_ = false;
};

bool WriteAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Puts the finished temp file at `name`: without force only when nothing
// is there (atomically, so of two racing creates one gets 409), with force
// replacing a file or symlink (never following it).
void Publish(int dir_fd, TempFile& temp, const std::string& name,
             const std::string& path, bool force) {
  if (!temp.named()) {
    if (!force) {
      if (!temp.LinkAt(name)) ThrowErrno(errno, path);
      return;
    }
    temp.Name(path);
  }
  if (force) {
    if (renameat(dir_fd, temp.name().c_str(), dir_fd, name.c_str()) != 0) {
      ThrowErrno(errno == ENOTEMPTY ? EISDIR : errno, path);
    }
    temp.Keep();
    return;
  }
  if (renameat2(dir_fd, temp.name().c_str(), dir_fd, name.c_str(),
                RENAME_NOREPLACE) == 0) {
    temp.Keep();
    return;
  }
  if (errno != EINVAL && errno != ENOSYS) ThrowErrno(errno, path);
  // A filesystem without RENAME_NOREPLACE: link(2) never replaces either.
  if (linkat(dir_fd, temp.name().c_str(), dir_fd, name.c_str(), 0) != 0) {
    ThrowErrno(errno, path);
  }
}

// One request being answered, after routing and authentication.
struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  const SandboxFs& fs;
  const VolumeIdMapping& ids;
  std::string path;
};

void ListDir(Call& call) {
  const std::int64_t depth =
      QueryInt(Query(call.req, "depth"), "depth", 1, 1, kMaxDepth);
  UniqueFd dir = call.fs.Open(call.path, O_RDONLY | O_DIRECTORY);
  json out = json::array();
  ListInto(dir.get(), call.path, depth, call.ids, out);
  SendJson(call.res, 200, out);
}

void MakeDir(Call& call) {
  const Creation creation = CreationQuery(call.req, call.ids, kDefaultDirMode);
  if (call.path == "/") {
    if (!creation.force) throw ContentError{409, "path '/' already exists"};
    UniqueFd root = call.fs.Open("/", O_PATH | O_DIRECTORY);
    SendJson(call.res, 201, StatJson(root.get(), "/", call.ids));
    return;
  }
  const auto [parent, name] = SplitParent(call.path);
  UniqueFd parent_fd = OpenParentDir(call.fs, parent, creation);
  if (!MakeDirAt(parent_fd.get(), name, call.path, creation.uid, creation.gid,
                 creation.mode)) {
    if (!creation.force || !S_ISDIR(call.fs.Stat(call.path).st_mode)) {
      throw ContentError{409, "path '" + call.path + "' already exists"};
    }
  }
  UniqueFd entry(
      openat(parent_fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!entry.valid()) ThrowErrno(errno, call.path);
  SendJson(call.res, 201, StatJson(entry.get(), call.path, call.ids));
}

void StatPath(Call& call) {
  UniqueFd entry = call.fs.Open(call.path, O_PATH | O_NOFOLLOW);
  SendJson(call.res, 200, StatJson(entry.get(), call.path, call.ids));
}

// An optional integer field of a PATCH body, in [0, max].
std::optional<std::int64_t> PatchField(const json& body, const char* name,
                                       std::int64_t max) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) {
    throw ContentError{400, std::string("'") + name + "' must be an integer"};
  }
  const bool in_range =
      it->is_number_unsigned()
          ? it->get<std::uint64_t>() <= static_cast<std::uint64_t>(max)
          : it->get<std::int64_t>() >= 0 && it->get<std::int64_t>() <= max;
  if (!in_range) {
    throw ContentError{400, std::string("'") + name +
                                "' must be between 0 and " +
                                std::to_string(max)};
  }
  return it->get<std::int64_t>();
}

void ChangePath(Call& call) {
  json body = ParseJsonObject(call.req.body, /*allow_empty=*/true);
  const auto uid = PatchField(body, "uid", 0xfffffffeLL);
  const auto gid = PatchField(body, "gid", 0xfffffffeLL);
  const auto mode = PatchField(body, "mode", 0777);
  const uid_t host_uid = uid ? HostId(call.ids, *uid, "uid") : uid_t(-1);
  const gid_t host_gid = gid ? HostId(call.ids, *gid, "gid") : gid_t(-1);
  UniqueFd entry = call.fs.Open(call.path, O_PATH | O_NOFOLLOW);
  struct stat st {};
  if (fstat(entry.get(), &st) != 0) ThrowErrno(errno, call.path);
  if (mode && S_ISLNK(st.st_mode)) {
    throw ContentError{
        400, "path '" + call.path + "' is a symlink, whose mode cannot change"};
  }
  // On the descriptor: the entry checked is the entry changed, and a
  // symlink is changed itself, never what it points at.
  if ((uid || gid) && fchownat(entry.get(), "", host_uid, host_gid,
                               AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    ThrowErrno(errno, call.path);
  }
  if (mode) {
    const std::string via = "/proc/self/fd/" + std::to_string(entry.get());
    if (chmod(via.c_str(), static_cast<mode_t>(*mode)) != 0) {
      ThrowErrno(errno, call.path);
    }
  }
  SendJson(call.res, 200, StatJson(entry.get(), call.path, call.ids));
}

void RemovePath(Call& call) {
  if (call.path == "/") throw ContentError{400, "cannot delete root"};
  call.fs.Lstat(call.path);  // 404 when missing
  call.fs.RemoveAll(call.path);
  call.res.status = 204;
}

void ReadFile(Call& call) {
  // O_PATH opens nothing: a FIFO cannot block and no device driver runs.
  // The regular file found is then opened through that descriptor, so a
  // rename in between cannot swap it.
  UniqueFd handle = call.fs.Open(call.path, O_PATH);
  struct stat st {};
  if (fstat(handle.get(), &st) != 0) ThrowErrno(errno, call.path);
  if (S_ISDIR(st.st_mode)) ThrowErrno(EISDIR, call.path);
  if (!S_ISREG(st.st_mode)) {
    throw ContentError{400, "path '" + call.path + "' is not a regular file"};
  }
  const std::string via = "/proc/self/fd/" + std::to_string(handle.get());
  auto fd = std::make_shared<UniqueFd>(
      open(via.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd->valid()) ThrowErrno(errno, call.path);
  call.res.status = 200;
  if (st.st_size == 0) {
    call.res.set_content("", "application/octet-stream");
    return;
  }
  call.res.set_content_provider(
      static_cast<std::size_t>(st.st_size), "application/octet-stream",
      [fd](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        std::vector<char> buf(std::min(length, kReadChunk));
        ssize_t n = 0;
        do {
          n = pread(fd->get(), buf.data(), buf.size(),
                    static_cast<off_t>(offset));
        } while (n < 0 && errno == EINTR);
        if (n <= 0) return false;  // shrunk or failed: cut the response
        return sink.write(buf.data(), static_cast<std::size_t>(n));
      });
}

void WriteFile(Call& call, UploadBody& body) {
  const Creation creation = CreationQuery(call.req, call.ids, kDefaultFileMode);
  if (call.req.is_multipart_form_data()) {
    throw ContentError{400,
                       "the body must be the raw bytes of the file "
                       "(application/octet-stream)"};
  }
  if (call.path == "/") ThrowErrno(EISDIR, call.path);
  const auto [parent, name] = SplitParent(call.path);
  UniqueFd dir = OpenParentDir(call.fs, parent, creation);
  struct stat existing {};
  if (fstatat(dir.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!creation.force) {
      throw ContentError{409, "path '" + call.path + "' already exists"};
    }
    if (S_ISDIR(existing.st_mode)) ThrowErrno(EISDIR, call.path);
  }
  TempFile temp(dir.get(), call.path);
  int write_error = 0;
  const bool complete = body.Read([&](const char* data, std::size_t size) {
    if (WriteAll(temp.fd(), data, size)) return true;
    write_error = errno;
    return false;
  });
  if (write_error != 0) ThrowErrno(write_error, call.path);
  if (!complete) {
    throw ContentError{400, "malformed or truncated request body"};
  }
  if (fchown(temp.fd(), creation.uid, creation.gid) != 0 &&
      !ChownRefusedToNonRoot(errno)) {
    ThrowErrno(errno, call.path);
  }
  // After chown, which clears setuid/setgid bits.
  if (fchmod(temp.fd(), creation.mode) != 0) ThrowErrno(errno, call.path);
  Publish(dir.get(), temp, name, call.path, creation.force);
  SendJson(call.res, 201, StatJson(temp.fd(), call.path, call.ids));
}

}  // namespace

bool VolumeContentApi::Handles(const std::vector<std::string>& segments) {
  return !segments.empty() && segments.front() == "volumecontent";
}

bool VolumeContentApi::IsUpload(const std::string& method,
                                const std::vector<std::string>& segments) {
  return method == "PUT" && segments.size() == 3 &&
         segments[0] == "volumecontent" && segments[2] == "file";
}

void VolumeContentApi::Handle(const httplib::Request& req,
                              httplib::Response& res,
                              const std::vector<std::string>& segments,
                              const httplib::ContentReader* reader) const {
  UploadBody body{req, reader};
  try {
    std::optional<Op> op;
    if (segments.size() == 3) op = OpOf(req.method, segments[2]);
    if (!op)
      throw ContentError{404, "no route for " + req.method + " " + req.path};
    // The token first: without it nothing, not even the path's
    // existence, is revealed. A volume's ID is a random UUID, so saying
    // that no volume has it reveals nothing.
    const std::string token = BearerToken(req);
    if (token.empty()) {
      throw ContentError{401,
                         "missing volume token: send Authorization: "
                         "Bearer <the volume's token>"};
    }
    if (!VolumeStore::IsVolumeId(segments[1])) {
      throw ContentError{400, "Invalid volume ID"};
    }
    auto record = store_.Get(segments[1]);
    if (!record) throw ContentError{404, "Volume not found"};
    if (!ConstantTimeEquals(token, record->token)) {
      throw ContentError{401, "invalid volume token"};
    }
    auto volume = store_.ById(record->id);
    if (!volume) throw ContentError{404, "Volume not found"};
    std::optional<SandboxFs> fs;
    try {
      fs.emplace(volume->data_dir);
    } catch (const PathError&) {
      throw ContentError{404, "Volume not found"};  // destroyed meanwhile
    }
    Call call{req, res, *fs, store_.ids(), VolumePath(req)};
    switch (*op) {
      case Op::kListDir:
        ListDir(call);
        break;
      case Op::kMakeDir:
        MakeDir(call);
        break;
      case Op::kStat:
        StatPath(call);
        break;
      case Op::kChange:
        ChangePath(call);
        break;
      case Op::kRemove:
        RemovePath(call);
        break;
      case Op::kRead:
        ReadFile(call);
        break;
      case Op::kWrite:
        WriteFile(call, body);
        break;
    }
    return;
  } catch (const ContentError& e) {
    SendError(res, e.status, e.message);
  } catch (const PathError& e) {
    const ContentError error = FromPathError(e);
    SendError(res, error.status, error.message);
  } catch (const ApiError& e) {
    SendError(res, e.status, e.what());
  } catch (const std::exception& e) {
    SendError(res, 500, std::string("internal error: ") + e.what());
  }
  // An answer before the whole body was read: drain it (bounded) so the
  // connection stays in sync, and close it in case it did not.
  if (reader != nullptr) {
    if (!body.read) DiscardRequestBody(req, *reader);
    res.set_header("Connection", "close");
  }
}

}  // namespace e2b_local
