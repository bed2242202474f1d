#include "rootfs/base_rootfs.hpp"

#include "store/file_ops.hpp"
#include "util/join_path.hpp"
#include "util/unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace e2b_local {
namespace {

constexpr char kSuite[] = "bookworm";
constexpr char kDefaultMirror[] = "http://deb.debian.org/debian";
constexpr char kRootfsFlagHint[] =
    "supply a root filesystem with --rootfs DIR|TARBALL (a directory or a "
    "tar archive of a Debian-like tree, e.g. made by mmdebstrap or `docker "
    "export` on a machine that can reach a mirror)";

// Part of the cache key of built trees: bump it whenever the package list,
// the dpkg/apt options or the customization below change, so every cache
// rebuilds instead of serving a tree of another shape.
constexpr int kBuildVersion = 1;

// E2B's base image: a shell, the usual tools, python3 with pip, git and
// curl. minbase already has coreutils and apt; the rest comes from here
// (without Recommends, which would pull compilers and docs).
constexpr char kPackages[] =
    "bash,coreutils,procps,sudo,python3,python3-pip,git,curl,"
    "ca-certificates,iproute2";

// Shell commands mmdebstrap runs with the finished tree as "$1". useradd
// rather than hand-written lines, since it keeps passwd, group, shadow,
// gshadow and /etc/skel consistent. /etc/hostname and /etc/resolv.conf are
// the host's copies that mmdebstrap leaves behind: the runtime writes the
// sandbox's own, and nothing of the host belongs in a layer.
const char* const kCustomizeHooks[] = {
    R"(chroot "$1" useradd --create-home --uid 1000 --user-group )"
    R"(--shell /bin/bash user)",
    R"(printf 'user ALL=(ALL:ALL) NOPASSWD: ALL\n' > "$1/etc/sudoers.d/user")"
    R"( && chmod 0440 "$1/etc/sudoers.d/user")",
    R"(printf 'e2b\n' > "$1/etc/hostname" && chmod 0644 "$1/etc/hostname")",
    R"(printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost )"
    R"(ip6-loopback\n' > "$1/etc/hosts" && chmod 0644 "$1/etc/hosts")",
    R"(rm -f "$1/etc/resolv.conf")",
    // Debian's PEP 668 marker makes `pip install` refuse to run; E2B's
    // image lets it install (as user, into ~/.local), and so does this one.
    R"(rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED)",
};

// Docs, man pages and translations are most of a minimal system's /usr/share
// and nothing a sandbox needs; dpkg keeps honouring these inside it, as in
// Docker's slim images. Copyright files stay, as Debian asks.
const char* const kDpkgOptions[] = {
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
};

[[noreturn]] void Fail(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void Report(const BaseRootfsOptions& options, const std::string& line) {
  if (options.progress) options.progress(line);
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

// ---- Child processes (mmdebstrap, tar, cp) --------------------------------

struct CommandResult {
  int status = 0;                ///< waitpid status
  std::deque<std::string> tail;  ///< the last lines of stdout and stderr
};

std::string Describe(const CommandResult& result) {
  std::string text;
  if (WIFEXITED(result.status)) {
    text = "exit status " + std::to_string(WEXITSTATUS(result.status));
  } else {
    text = "killed by signal " + std::to_string(WTERMSIG(result.status));
  }
  if (!result.tail.empty()) text += "; its last output:";
  for (const auto& line : result.tail) text += "\n  " + line;
  return text;
}

bool Succeeded(const CommandResult& result) {
  return WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0;
}

// The environment of the tools: the caller's, with a PATH that has the sbin
// directories (chroot, useradd) and the C locale (no perl locale warnings).
std::vector<std::string> ToolEnvironment() {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text = *entry;
    if (StartsWith(text, "PATH=") || StartsWith(text, "LC_ALL=")) continue;
    env.push_back(std::move(text));
  }
  env.emplace_back(
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  env.emplace_back("LC_ALL=C");
  return env;
}

// posix_spawnp would search the server's PATH, which may lack sbin (and
// may hold "."): search the tools' own.
std::string FindTool(const std::string& name) {
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                          "/usr/bin", "/sbin", "/bin"}) {
    std::string candidate = std::string(dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  errno = ENOENT;
  Fail("cannot run", name);
}

// Runs argv (looked up on the tools' PATH) with stdin from /dev/null and no
// descriptor of ours but its output pipe; calls on_line for every output
// line. Throws when it cannot start.
CommandResult RunCommand(
    const std::vector<std::string>& argv,
    const std::function<void(const std::string&)>& on_line = {}) {
  const std::string program = FindTool(argv[0]);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) Fail("cannot create a pipe for", argv[0]);
  UniqueFd read_end(fds[0]), write_end(fds[1]);

  std::vector<std::string> env = ToolEnvironment();
  std::vector<char*> env_ptrs, argv_ptrs;
  for (auto& entry : env) env_ptrs.push_back(entry.data());
  env_ptrs.push_back(nullptr);
  std::vector<std::string> args = argv;
  for (auto& arg : args) argv_ptrs.push_back(arg.data());
  argv_ptrs.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr,
                         argv_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    Fail("cannot run", argv[0]);
  }
  write_end.Reset();

  CommandResult result;
  std::string pending;
  auto emit = [&](std::string line) {
    if (on_line) on_line(line);
    result.tail.push_back(std::move(line));
    if (result.tail.size() > 20) result.tail.pop_front();
  };
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    for (size_t eol = 0; (eol = pending.find('\n')) != std::string::npos;) {
      emit(pending.substr(0, eol));
      pending.erase(0, eol + 1);
    }
  }
  if (!pending.empty()) emit(pending);
  while (::waitpid(pid, &result.status, 0) < 0) {
    if (errno != EINTR) Fail("cannot wait for", argv[0]);
  }
  return result;
}

// ---- The host's apt sources ------------------------------------------------

bool IsHttpUri(const std::string& uri) {
  return StartsWith(uri, "http://") || StartsWith(uri, "https://");
}

std::string WithoutTrailingSlash(std::string uri) {
  while (EndsWith(uri, "/")) uri.pop_back();
  return uri;
}

// One-line style: "deb [options] URI SUITE COMPONENT...".
std::string UriInListFile(std::istream& in, const std::string& suite) {
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    auto words = Words(line);
    if (words.empty() || words[0] != "deb") continue;
    size_t i = 1;
    if (i < words.size() && StartsWith(words[i], "[")) {
      while (i < words.size() && !EndsWith(words[i], "]")) ++i;
      ++i;
    }
    if (i + 1 < words.size() && words[i + 1] == suite && IsHttpUri(words[i])) {
      return WithoutTrailingSlash(words[i]);
    }
  }
  return "";
}

// deb822 style: paragraphs of "Field: value" lines, continued by lines that
// start with blanks, separated by blank lines.
std::string UriInSourcesFile(std::istream& in, const std::string& suite) {
  std::map<std::string, std::string> fields;
  std::string last_key;
  auto match = [&]() -> std::string {
    auto words = [&](const char* key) { return Words(fields[key]); };
    auto has = [](const std::vector<std::string>& list, const char* word) {
      return std::find(list.begin(), list.end(), word) != list.end();
    };
    if (!has(words("types"), "deb") ||
        has(Words(Lowercase(fields["enabled"])), "no") ||
        !has(words("suites"), suite.c_str())) {
      return "";
    }
    for (const auto& uri : words("uris")) {
      if (IsHttpUri(uri)) return WithoutTrailingSlash(uri);
    }
    return "";
  };
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '#') continue;
    if (Words(line).empty()) {
      if (auto uri = match(); !uri.empty()) return uri;
      fields.clear();
      last_key.clear();
    } else if (line[0] == ' ' || line[0] == '\t') {
      if (!last_key.empty()) fields[last_key] += " " + line;
    } else if (auto colon = line.find(':'); colon != std::string::npos) {
      last_key = Lowercase(line.substr(0, colon));
      fields[last_key] = line.substr(colon + 1);
    }
  }
  return match();
}

// The first http(s) URI the host's apt takes `suite` from, or "".
std::string HostAptUri(const std::string& apt_dir, const std::string& suite) {
  std::vector<std::string> files = {apt_dir + "/sources.list"};
  const std::string parts_dir = apt_dir + "/sources.list.d";
  if (auto names = DirectoryNames(parts_dir)) {
    std::sort(names->begin(), names->end());
    for (const auto& name : *names) {
      if (EndsWith(name, ".list") || EndsWith(name, ".sources")) {
        files.push_back(JoinPath(parts_dir, name));
      }
    }
  }
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) continue;
    std::string uri = EndsWith(file, ".sources") ? UriInSourcesFile(in, suite)
                                                 : UriInListFile(in, suite);
    if (!uri.empty()) return uri;
  }
  return "";
}

// ---- Building with mmdebstrap ---------------------------------------------

struct Mirrors {
  std::string main;      ///< bookworm and bookworm-updates
  std::string security;  ///< bookworm-security; empty = none known
};

Mirrors ChooseMirrors(const BaseRootfsOptions& options) {
  Mirrors mirrors;
  if (!options.mirror.empty()) {
    mirrors.main = WithoutTrailingSlash(options.mirror);
  } else {
    mirrors.main = HostDebianMirror();
    mirrors.security =
        HostAptUri("/etc/apt", std::string(kSuite) + "-security");
  }
  // Debian's own CDN serves security updates beside the archive; other
  // mirrors often do not, so they get none rather than a failing source.
  if (mirrors.security.empty() &&
      (mirrors.main == "http://deb.debian.org/debian" ||
       mirrors.main == "https://deb.debian.org/debian")) {
    mirrors.security = mirrors.main + "-security";
  }
  return mirrors;
}

std::string UnreachableMirrorMessage(const std::string& mirror,
                                     const std::string& why) {
  return "cannot build the base root filesystem: the Debian mirror " + mirror +
         " is not reachable (" + why + "); " + kRootfsFlagHint +
         ", or give a reachable mirror";
}

// ConnectErrorTo's answer when no socket could be made for the address.
constexpr int kNoSocket = -1;

// 0 when a TCP connection to `address` opens within 5 s, else the errno
// that stopped it (ETIMEDOUT after 5 s), or kNoSocket.
int ConnectErrorTo(const struct addrinfo& address) {
  UniqueFd fd(::socket(address.ai_family,
                       address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       address.ai_protocol));
  if (!fd.valid()) return kNoSocket;
  if (::connect(fd.get(), address.ai_addr, address.ai_addrlen) == 0) return 0;
  int error = errno;
  if (error != EINPROGRESS) return error;
  struct pollfd pfd = {fd.get(), POLLOUT, 0};
  if (::poll(&pfd, 1, 5000) != 1) return ETIMEDOUT;
  socklen_t len = sizeof error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
  return error;
}

// Fails fast, with the message that names --rootfs, when nothing answers at
// the mirror's host and port (apt would retry for minutes). Skipped behind
// an HTTP proxy, which apt uses and this check cannot judge.
void CheckMirrorReachable(const std::string& mirror) {
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy",
                           "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return;
  }
  if (!IsHttpUri(mirror)) return;
  const bool https = StartsWith(mirror, "https://");
  std::string authority = mirror.substr(https ? 8 : 7);
  authority = authority.substr(0, authority.find('/'));
  authority = authority.substr(authority.find('@') + 1);  // npos + 1 == 0
  std::string host = authority, port = https ? "443" : "80";
  if (StartsWith(authority, "[")) {  // [v6]:port
    auto close = authority.find(']');
    host = authority.substr(1, close - 1);
    if (authority.size() > close + 2) port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }

  struct addrinfo hints {};
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    throw std::runtime_error(UnreachableMirrorMessage(
        mirror, "cannot resolve " + host + ": " + ::gai_strerror(rc)));
  }
  std::unique_ptr<struct addrinfo, void (*)(struct addrinfo*)> addresses(
      found, ::freeaddrinfo);
  int last_error = kNoSocket;
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int error = ConnectErrorTo(*ai);
    if (error == 0) return;
    if (error != kNoSocket) last_error = error;
  }
  const std::string why = last_error == kNoSocket
                              ? "no address"
                              : "connecting to " + host + " port " + port +
                                    ": " + std::strerror(last_error);
  throw std::runtime_error(UnreachableMirrorMessage(mirror, why));
}

// Whether apt's output says it could not download (as opposed to, say, a
// package that does not exist).
bool LooksLikeNetworkFailure(const CommandResult& result) {
  for (const auto& line : result.tail) {
    for (const char* marker :
         {"Could not resolve", "Temporary failure resolving",
          "Could not connect", "Unable to connect", "Connection failed",
          "Connection timed out", "Failed to fetch", "No route to host"}) {
      if (line.find(marker) != std::string::npos) return true;
    }
  }
  return false;
}

std::vector<std::string> MmdebstrapCommand(const std::string& target,
                                           const Mirrors& mirrors) {
  std::vector<std::string> argv = {
      "mmdebstrap",
      "--variant=minbase",
      "--mode=root",
      "--format=directory",
      std::string("--include=") + kPackages,
      "--aptopt=APT::Install-Recommends \"false\"",
  };
  for (const char* option : kDpkgOptions) {
    argv.push_back(std::string("--dpkgopt=") + option);
  }
  for (const char* hook : kCustomizeHooks) {
    argv.push_back(std::string("--customize-hook=") + hook);
  }
  argv.emplace_back(kSuite);
  argv.push_back(target);
  const std::string suite = kSuite;
  argv.push_back("deb " + mirrors.main + " " + suite + " main");
  argv.push_back("deb " + mirrors.main + " " + suite + "-updates main");
  if (!mirrors.security.empty()) {
    argv.push_back("deb " + mirrors.security + " " + suite + "-security main");
  }
  return argv;
}

// Runs mmdebstrap itself rather than a shell script: the whole recipe is in
// this file (and in the cache key's version), and nothing has to be found
// beside the binary at run time.
void BuildWithMmdebstrap(const std::string& target,
                         const BaseRootfsOptions& options) {
  const Mirrors mirrors = ChooseMirrors(options);
  CheckMirrorReachable(mirrors.main);
  Report(options,
         "building the Debian 12 base root filesystem with "
         "mmdebstrap from " +
             mirrors.main +
             " (first start only; a few minutes on a slow link)");
  CommandResult result;
  try {
    result = RunCommand(
        MmdebstrapCommand(target, mirrors), [&](const std::string& line) {
          // Hook lines only repeat the recipe.
          if ((StartsWith(line, "I: ") && !StartsWith(line, "I: running --")) ||
              StartsWith(line, "W: ") || StartsWith(line, "E: ")) {
            Report(options, "mmdebstrap: " + line.substr(3));
          }
        });
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(
        std::string(e.what()) +
        " (install mmdebstrap: apt-get install mmdebstrap; or " +
        kRootfsFlagHint + ")");
  }
  if (Succeeded(result)) return;
  if (LooksLikeNetworkFailure(result)) {
    throw std::runtime_error(UnreachableMirrorMessage(
        mirrors.main, "mmdebstrap: " + Describe(result)));
  }
  throw std::runtime_error(
      "mmdebstrap failed to build the base root "
      "filesystem (" +
      Describe(result) + "); " + kRootfsFlagHint);
}

// ---- Importing --rootfs ---------------------------------------------------

void ImportSource(const std::string& source, const std::string& target,
                  const BaseRootfsOptions& options) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) Fail("cannot read --rootfs", source);
  CommandResult result;
  if (S_ISDIR(st.st_mode)) {
    Report(options, "copying the base root filesystem from " + source);
    // cp rather than CopyTree: it keeps hard links (one inode, not one copy
    // per name) and stays on the source's filesystem.
    result = RunCommand(
        {"cp", "-a", "--one-file-system", "--", source + "/.", target + "/"});
  } else if (S_ISREG(st.st_mode)) {
    Report(options, "unpacking the base root filesystem from " + source);
    // GNU tar recognizes gzip, bzip2, xz and zstd by content; it refuses
    // ".." members and strips leading "/".
    result =
        RunCommand({"tar", "--extract", "--file", source, "--directory", target,
                    "--numeric-owner", "--same-owner", "--preserve-permissions",
                    "--xattrs", "--xattrs-include=*"});
  } else {
    throw std::runtime_error("--rootfs " + source +
                             " is neither a directory nor a tar archive");
  }
  if (!Succeeded(result)) {
    throw std::runtime_error("cannot import --rootfs " + source + " (" +
                             Describe(result) + ")");
  }
  struct stat sh {};
  if (::lstat((target + "/bin/sh").c_str(), &sh) != 0 &&
      ::lstat((target + "/usr/bin/sh").c_str(), &sh) != 0) {
    throw std::runtime_error(
        "--rootfs " + source +
        " does not look like a root filesystem: it has no bin/sh at its top "
        "(a tarball must hold the tree itself, as `tar -C DIR -c .` makes)");
  }
}

// ---- The cache -------------------------------------------------------------

std::string Hex64(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx",
                static_cast<unsigned long long>(value));
  return text;
}

// FNV-1a: a stable name for a source, not a security boundary (the cache
// directory is the operator's).
std::uint64_t Fnv1a(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// The directory name of a tree: what it was made from and whose ids it
// carries. An imported source is known by its path, size and modification
// time (touch a directory to import it again).
std::string CacheKey(const BaseRootfsOptions& options, std::string* source) {
  std::string ids = std::to_string(options.ids.base) + "-" +
                    std::to_string(options.ids.count);
  if (options.source.empty()) {
    return "debian-" + std::string(kSuite) + "-v" +
           std::to_string(kBuildVersion) + "-ids-" + ids;
  }
  char* resolved = ::realpath(options.source.c_str(), nullptr);
  if (resolved == nullptr) Fail("cannot read --rootfs", options.source);
  *source = resolved;
  std::free(resolved);
  if (*source == "/") {
    throw std::runtime_error(
        "--rootfs / would copy the host's own files into every sandbox; "
        "give a separate root filesystem");
  }
  struct stat st {};
  if (::stat(source->c_str(), &st) != 0) Fail("cannot read --rootfs", *source);
  std::string identity = *source + '\n' + std::to_string(st.st_size) + '\n' +
                         std::to_string(st.st_mtim.tv_sec) + '.' +
                         std::to_string(st.st_mtim.tv_nsec);
  return "import-" + Hex64(Fnv1a(identity)) + "-ids-" + ids;
}

UniqueFd LockCache(const std::string& dir, const BaseRootfsOptions& options) {
  const std::string path = dir + "/.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) Fail("cannot open", path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return fd;
  if (errno != EWOULDBLOCK) Fail("cannot lock", path);
  Report(options,
         "waiting for another e2b-local preparing the base root "
         "filesystem (lock " +
             path + ")");
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) Fail("cannot lock", path);
  }
  return fd;
}

// Temp trees of builds that died (only the lock holder builds, so every
// one found under the lock is abandoned).
void RemoveAbandonedBuilds(const std::string& dir) {
  auto names = DirectoryNames(dir);
  if (!names) return;
  for (const auto& name : *names) {
    if (StartsWith(name, ".tmp-")) RemoveTree(JoinPath(dir, name));
  }
}

void SyncFilesystemOf(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::syncfs(fd.get()) != 0) Fail("cannot sync", path);
}

std::string AbsolutePath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) Fail("cannot resolve", path);
  std::string result = resolved;
  std::free(resolved);
  return result;
}

// ---- Shifting ownership ----------------------------------------------------

constexpr char kCapabilityXattr[] = "security.capability";
constexpr uid_t kNobody = 65534;

class OwnershipShifter {
 public:
  explicit OwnershipShifter(const IdRange& ids) : ids_(ids) {}

  OwnershipShift Run(const std::string& root) {
    UniqueFd fd(
        ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) Fail("cannot open", root);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) Fail("cannot stat", root);
    device_ = st.st_dev;
    if (::fchown(fd.get(), Map(st.st_uid), Map(st.st_gid)) != 0 ||
        ::fchmod(fd.get(), st.st_mode & 07777) != 0) {
      Fail("cannot change the owner of", root);
    }
    ++result_.entries;
    Walk(fd.get(), root, 0);
    return result_;
  }

 private:
  uid_t Map(uid_t id) const {
    if (id >= ids_.base && id - ids_.base < ids_.count) return id;
    return ids_.base + (id < ids_.count ? id : kNobody);
  }

  void Walk(int dir_fd, const std::string& path, int depth) {
    if (depth > 512) {
      errno = ELOOP;
      Fail("directory tree too deep at", path);
    }
    int listing_fd = ::dup(dir_fd);
    if (listing_fd < 0) Fail("cannot open directory", path);
    std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(listing_fd),
                                                ::closedir);
    if (!listing) {
      ::close(listing_fd);
      Fail("cannot open directory", path);
    }
    std::vector<std::string> names;
    while (struct dirent* entry = ::readdir(listing.get())) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    listing.reset();  // one descriptor per level while descending, not two
    for (const auto& name : names)
      Visit(dir_fd, JoinPath(path, name), name, depth);
  }

  void Visit(int dir_fd, const std::string& path, const std::string& name,
             int depth) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      Fail("cannot stat", path);
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) ||
        S_ISSOCK(st.st_mode)) {
      if (::unlinkat(dir_fd, name.c_str(), 0) != 0) Fail("cannot remove", path);
      ++result_.removed;
      return;
    }
    if (S_ISDIR(st.st_mode) && st.st_dev != device_) {
      errno = EXDEV;
      Fail("refusing to cross a mount point at", path);
    }
    // A hard-linked file is one inode: shift and count it once.
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 &&
        !seen_.insert({st.st_dev, st.st_ino}).second) {
      return;
    }
    ++result_.entries;
    Shift(dir_fd, path, name, st);
    if (S_ISDIR(st.st_mode)) {
      UniqueFd child(::openat(dir_fd, name.c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child.valid()) Fail("cannot open directory", path);
      Walk(child.get(), path, depth + 1);
    }
  }

  void Shift(int dir_fd, const std::string& path, const std::string& name,
             const struct stat& st) {
    const uid_t uid = Map(st.st_uid);
    const gid_t gid = Map(st.st_gid);
    if (uid == st.st_uid && gid == st.st_gid) return;
    // The kernel drops file capabilities on chown; read them first. The
    // /proc/self/fd path reaches the entry without following it.
    const std::string xattr_path =
        "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
    std::vector<char> caps;
    if (S_ISREG(st.st_mode)) {
      ssize_t size =
          ::lgetxattr(xattr_path.c_str(), kCapabilityXattr, nullptr, 0);
      if (size > 0) {
        caps.resize(static_cast<size_t>(size));
        size = ::lgetxattr(xattr_path.c_str(), kCapabilityXattr, caps.data(),
                           caps.size());
        caps.resize(size > 0 ? static_cast<size_t>(size) : 0);
      }
    }
    if (::fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
      Fail("cannot change the owner of", path);
    }
    // chown clears setuid/setgid (sudo must stay setuid root-in-sandbox).
    if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) != 0 &&
        ::fchmodat(dir_fd, name.c_str(), st.st_mode & 07777, 0) != 0) {
      Fail("cannot restore the mode of", path);
    }
    if (!caps.empty() && ::lsetxattr(xattr_path.c_str(), kCapabilityXattr,
                                     caps.data(), caps.size(), 0) != 0) {
      Fail("cannot restore the file capabilities of", path);
    }
  }

  IdRange ids_;
  dev_t device_ = 0;
  std::set<std::pair<dev_t, ino_t>> seen_;
  OwnershipShift result_;
};

}  // namespace

std::string DefaultRootfsCacheDir() {
  const char* explicit_dir = std::getenv("E2B_LOCAL_CACHE_DIR");
  if (explicit_dir != nullptr && *explicit_dir != '\0') return explicit_dir;
  if (::geteuid() == 0) return "/var/cache/e2b-local";
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg == '/') return std::string(xdg) + "/e2b-local";
  const char* home = std::getenv("HOME");
  std::string home_dir = home != nullptr ? home : "";
  if (home_dir.empty()) {
    if (struct passwd* pw = ::getpwuid(::geteuid())) home_dir = pw->pw_dir;
  }
  return home_dir + "/.cache/e2b-local";
}

std::string HostDebianMirror(const std::string& apt_dir) {
  std::string uri = HostAptUri(apt_dir, kSuite);
  return uri.empty() ? kDefaultMirror : uri;
}

OwnershipShift ShiftTreeOwnership(const std::string& root, const IdRange& ids) {
  return OwnershipShifter(ids).Run(root);
}

std::string EnsureBaseRootfs(const BaseRootfsOptions& options) {
  std::string source;
  const std::string key = CacheKey(options, &source);
  const std::string cache =
      options.cache_dir.empty() ? DefaultRootfsCacheDir() : options.cache_dir;
  MakeDirs(cache + "/rootfs");
  const std::string dir = AbsolutePath(cache + "/rootfs");
  std::string ready = dir + "/" + key;
  // A tree appears under its name only by the final rename: if it is
  // there, it is complete.
  if (IsDirectory(ready)) return ready;

  UniqueFd lock = LockCache(dir, options);
  if (IsDirectory(ready)) return ready;  // another caller built it meanwhile
  if (::geteuid() != 0) {
    throw std::runtime_error(
        "preparing the base root filesystem needs root (its files are given "
        "to the sandbox id range " +
        std::to_string(options.ids.base) + "+" +
        std::to_string(options.ids.count) + ")");
  }
  RemoveAbandonedBuilds(dir);

  const auto start = std::chrono::steady_clock::now();
  const std::string temp =
      dir + "/.tmp-" + key + "." + std::to_string(::getpid());
  try {
    if (source.empty()) {
      BuildWithMmdebstrap(temp, options);
    } else {
      if (::mkdir(temp.c_str(), 0755) != 0) Fail("cannot create", temp);
      ImportSource(source, temp, options);
    }
    Report(options, "giving its files to the sandbox id range " +
                        std::to_string(options.ids.base) + "+" +
                        std::to_string(options.ids.count));
    OwnershipShift shift = ShiftTreeOwnership(temp, options.ids);
    // Durable before it is visible: a crash after the rename must not leave
    // a named tree with empty files.
    SyncFilesystemOf(temp);
    if (::rename(temp.c_str(), ready.c_str()) != 0) {
      Fail("cannot rename into place", ready);
    }
    SyncFilesystemOf(dir);
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    Report(options, "base root filesystem ready at " + ready + " (" +
                        std::to_string(shift.entries) + " entries, " +
                        std::to_string(shift.removed) +
                        " device nodes/FIFOs/sockets dropped, " +
                        std::to_string(seconds) + " s)");
  } catch (...) {
    try {
      RemoveTree(temp);
    } catch (const std::exception&) {
      // The next caller under the lock removes it (RemoveAbandonedBuilds).
    }
    throw;
  }
  return ready;
}

}  // namespace e2b_local
