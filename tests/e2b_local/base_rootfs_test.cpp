// The base root filesystem cache: imports from a directory or a tarball,
// the id shift every layer needs, the cache's reuse and locking, and the
// errors an operator sees. mmdebstrap itself is too slow for unit tests:
// the last test checks a tree it built, when one is in the default cache.

#include "rootfs/base_rootfs.hpp"

#include "store/file_ops.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {
namespace {

constexpr uid_t kBase = 1000000000;

#define SKIP_UNLESS_ROOT()                                      \
  do {                                                          \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)"; \
  } while (0)

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/e2b-base-rootfs.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~TempDir() {
    try {
      RemoveTree(path_);
    } catch (const std::exception&) {
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& text,
               mode_t mode = 0644) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << strerror(errno);
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

int Shell(const std::string& command) { return std::system(command.c_str()); }

// A v2 security.capability value granting cap_net_raw (bit 13), effective.
std::string NetRawCapability() {
  const std::uint32_t words[5] = {0x02000001u, 1u << 13, 0, 0, 0};
  return std::string(reinterpret_cast<const char*>(words), sizeof words);
}

// A tiny tree with one of everything the shift has to get right.
void MakeMiniRootfs(const std::string& root) {
  for (const char* dir : {"/bin", "/etc", "/dev", "/run", "/usr", "/usr/bin",
                          "/home", "/home/user"}) {
    ASSERT_EQ(::mkdir((root + dir).c_str(), 0755), 0) << dir;
  }
  WriteFile(root + "/bin/sh", "#!/not/really\n", 0755);
  WriteFile(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  WriteFile(root + "/usr/bin/sudo", "setuid\n");
  ASSERT_EQ(::chmod((root + "/usr/bin/sudo").c_str(), 04755), 0);
  WriteFile(root + "/usr/bin/ping", "caps\n", 0755);
  const std::string caps = NetRawCapability();
  ASSERT_EQ(::setxattr((root + "/usr/bin/ping").c_str(), "security.capability",
                       caps.data(), caps.size(), 0),
            0)
      << strerror(errno);
  // Hard links, setgid, a group other than the owner.
  WriteFile(root + "/usr/bin/wall", "setgid\n");
  ASSERT_EQ(::chown((root + "/usr/bin/wall").c_str(), 0, 5), 0);
  ASSERT_EQ(::chmod((root + "/usr/bin/wall").c_str(), 02755), 0);
  ASSERT_EQ(::link((root + "/usr/bin/wall").c_str(),
                   (root + "/usr/bin/write").c_str()),
            0);
  ASSERT_EQ(::chown((root + "/home/user").c_str(), 1000, 1000), 0);
  WriteFile(root + "/home/user/big-ids", "x");
  ASSERT_EQ(::chown((root + "/home/user/big-ids").c_str(), 70000, 70001), 0);
  WriteFile(root + "/home/user/shifted-already", "x");
  ASSERT_EQ(::chown((root + "/home/user/shifted-already").c_str(), kBase + 7,
                    kBase + 8),
            0);
  // A symlink out of the tree: its own owner changes, never its target's.
  ASSERT_EQ(::symlink("/etc/passwd", (root + "/etc/host-passwd").c_str()), 0);
  // What a layer must not hold.
  ASSERT_EQ(
      ::mknod((root + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::mkfifo((root + "/run/fifo").c_str(), 0644), 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string sock_path = root + "/run/sock";
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(sock);
}

void ExpectShifted(const std::string& root) {
  auto owner = [&](const std::string& rel, uid_t uid, gid_t gid) {
    struct stat st = Lstat(root + rel);
    EXPECT_EQ(st.st_uid, uid) << rel;
    EXPECT_EQ(st.st_gid, gid) << rel;
  };
  owner("", kBase, kBase);
  owner("/bin/sh", kBase, kBase);
  owner("/usr/bin/sudo", kBase, kBase);
  EXPECT_EQ(Lstat(root + "/usr/bin/sudo").st_mode & 07777, 04755u);
  owner("/usr/bin/wall", kBase, kBase + 5);
  EXPECT_EQ(Lstat(root + "/usr/bin/wall").st_mode & 07777, 02755u);
  EXPECT_EQ(Lstat(root + "/usr/bin/write").st_ino,
            Lstat(root + "/usr/bin/wall").st_ino);
  owner("/home/user", kBase + 1000, kBase + 1000);
  owner("/home/user/big-ids", kBase + 65534, kBase + 65534);
  owner("/home/user/shifted-already", kBase + 7, kBase + 8);
  owner("/etc/host-passwd", kBase, kBase);
  EXPECT_TRUE(S_ISLNK(Lstat(root + "/etc/host-passwd").st_mode));
  EXPECT_EQ(Lstat("/etc/passwd").st_uid, 0u) << "followed a symlink out";

  char caps[64];
  ssize_t size = ::lgetxattr((root + "/usr/bin/ping").c_str(),
                             "security.capability", caps, sizeof caps);
  ASSERT_GT(size, 0) << "file capabilities lost: " << strerror(errno);
  EXPECT_EQ(std::string(caps, static_cast<size_t>(size)), NetRawCapability());

  EXPECT_FALSE(Exists(root + "/dev/null"));
  EXPECT_FALSE(Exists(root + "/run/fifo"));
  EXPECT_FALSE(Exists(root + "/run/sock"));
  EXPECT_TRUE(Exists(root + "/dev"));
}

std::vector<std::string> Names(const std::string& dir) {
  auto names = DirectoryNames(dir);
  return names ? *names : std::vector<std::string>{};
}

TEST(BaseRootfsTest, ShiftMovesEveryOwnerIntoTheRangeAndDropsDevices) {
  SKIP_UNLESS_ROOT();
  TempDir tree;
  MakeMiniRootfs(tree.path());
  OwnershipShift shift = ShiftTreeOwnership(tree.path(), IdRange{});
  ExpectShifted(tree.path());
  EXPECT_EQ(shift.removed, 3u);
  // The root, 8 directories below it, sh, passwd, sudo, ping, wall and
  // write (one inode), big-ids, shifted-already, host-passwd.
  EXPECT_EQ(shift.entries, 17u);

  // A second pass changes nothing: ids in the range are kept.
  ShiftTreeOwnership(tree.path(), IdRange{});
  ExpectShifted(tree.path());
}

TEST(BaseRootfsTest, ImportsADirectoryAsACopyAndReusesIt) {
  SKIP_UNLESS_ROOT();
  TempDir source, cache;
  MakeMiniRootfs(source.path());
  std::vector<std::string> lines;
  BaseRootfsOptions options;
  options.cache_dir = cache.path() + "/nested/cache";
  options.source = source.path();
  options.progress = [&](const std::string& line) { lines.push_back(line); };

  const std::string rootfs = EnsureBaseRootfs(options);
  ASSERT_EQ(rootfs.rfind(cache.path() + "/nested/cache/rootfs/", 0), 0u)
      << rootfs;
  ExpectShifted(rootfs);
  EXPECT_FALSE(lines.empty());
  // The source is untouched: copied, never used in place.
  EXPECT_EQ(Lstat(source.path() + "/usr/bin/sudo").st_uid, 0u);
  EXPECT_TRUE(Exists(source.path() + "/dev/null"));
  // Nothing but the tree and the lock is left in the cache.
  for (const auto& name : Names(options.cache_dir + "/rootfs")) {
    EXPECT_TRUE(name == ".lock" ||
                options.cache_dir + "/rootfs/" + name == rootfs)
        << name;
  }

  // Reuse: same path, no work, the tree as it was (a rebuild would have
  // dropped the marker).
  WriteFile(rootfs + "/marker", "kept");
  lines.clear();
  EXPECT_EQ(EnsureBaseRootfs(options), rootfs);
  EXPECT_TRUE(lines.empty());
  EXPECT_TRUE(Exists(rootfs + "/marker"));

  // Another id range is another tree.
  options.ids.base = kBase + 100000;
  const std::string other = EnsureBaseRootfs(options);
  EXPECT_NE(other, rootfs);
  EXPECT_EQ(Lstat(other + "/usr/bin/sudo").st_uid, kBase + 100000);
}

TEST(BaseRootfsTest, ImportsCompressedTarballs) {
  SKIP_UNLESS_ROOT();
  TempDir work, cache;
  const std::string tree = work.path() + "/tree";
  ASSERT_EQ(::mkdir(tree.c_str(), 0755), 0);
  MakeMiniRootfs(tree);
  ASSERT_EQ(::unlink((tree + "/run/sock").c_str()), 0);  // tar skips sockets
  std::vector<std::string> tarballs = {work.path() + "/rootfs.tar.gz"};
  ASSERT_EQ(Shell("tar --xattrs --xattrs-include='*' -C " + tree + " -czf " +
                  tarballs[0] + " ."),
            0);
  if (Shell("command -v zstd >/dev/null") == 0) {
    tarballs.push_back(work.path() + "/rootfs.tar.zst");
    ASSERT_EQ(Shell("tar --zstd --xattrs --xattrs-include='*' -C " + tree +
                    " -cf " + tarballs[1] + " ."),
              0);
  }
  std::string previous;
  for (const auto& tarball : tarballs) {
    BaseRootfsOptions options;
    options.cache_dir = cache.path();
    options.source = tarball;
    const std::string rootfs = EnsureBaseRootfs(options);
    EXPECT_NE(rootfs, previous) << "two sources share a cache entry";
    previous = rootfs;
    ExpectShifted(rootfs);
    std::ifstream passwd(rootfs + "/etc/passwd");
    std::string first;
    std::getline(passwd, first);
    EXPECT_EQ(first, "root:x:0:0:root:/root:/bin/bash");
  }
}

TEST(BaseRootfsTest, ConcurrentCallersBuildOnce) {
  SKIP_UNLESS_ROOT();
  TempDir source, cache;
  MakeMiniRootfs(source.path());
  // Enough files that the copy takes a moment and the callers overlap.
  for (int i = 0; i < 300; ++i) {
    WriteFile(source.path() + "/usr/bin/tool" + std::to_string(i),
              std::string(4096, 'x'));
  }
  std::atomic<int> imports{0}, waits{0};
  BaseRootfsOptions options;
  options.cache_dir = cache.path();
  options.source = source.path();
  options.progress = [&](const std::string& line) {
    if (line.find("copying") != std::string::npos) ++imports;
    if (line.find("waiting for another") != std::string::npos) ++waits;
  };
  std::vector<std::string> results(4), errors(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        results[i] = EnsureBaseRootfs(options);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) EXPECT_EQ(error, "");
  EXPECT_EQ(imports.load(), 1);
  for (const auto& result : results) EXPECT_EQ(result, results[0]);
  ExpectShifted(results[0]);
  EXPECT_EQ(Names(cache.path() + "/rootfs").size(), 2u);  // tree + .lock
}

TEST(BaseRootfsTest, BadSourcesFailClearlyAndLeaveNothingBehind) {
  SKIP_UNLESS_ROOT();
  TempDir work, cache;
  BaseRootfsOptions options;
  options.cache_dir = cache.path();

  options.source = work.path() + "/missing.tar";
  try {
    EnsureBaseRootfs(options);
    ADD_FAILURE() << "a missing source was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.tar"), std::string::npos)
        << e.what();
  }

  options.source = work.path() + "/garbage.tar.gz";
  WriteFile(options.source, "this is not a tar archive\n");
  try {
    EnsureBaseRootfs(options);
    ADD_FAILURE() << "garbage was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot import --rootfs"),
              std::string::npos)
        << e.what();
  }

  // A tarball of a directory (not of its contents) has no bin/sh on top.
  const std::string nested = work.path() + "/nested";
  ASSERT_EQ(::mkdir(nested.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((nested + "/rootfs").c_str(), 0755), 0);
  MakeMiniRootfs(nested + "/rootfs");
  options.source = nested;
  try {
    EnsureBaseRootfs(options);
    ADD_FAILURE() << "a tree without bin/sh was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not look like a root"),
              std::string::npos)
        << e.what();
  }

  options.source = "/";
  EXPECT_THROW(EnsureBaseRootfs(options), std::runtime_error);

  // Only the lock: no temp tree, nothing that looks ready.
  EXPECT_EQ(Names(cache.path() + "/rootfs"), std::vector<std::string>{".lock"});
}

TEST(BaseRootfsTest, AnUnreachableMirrorNamesTheRootfsFlag) {
  SKIP_UNLESS_ROOT();
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy",
                           "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    ::unsetenv(name);
  }
  TempDir cache;
  BaseRootfsOptions options;
  options.cache_dir = cache.path();
  options.mirror = "http://127.0.0.1:1/debian";  // nothing listens on port 1
  const auto start = std::chrono::steady_clock::now();
  try {
    EnsureBaseRootfs(options);
    ADD_FAILURE() << "built from an unreachable mirror";
  } catch (const std::runtime_error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("http://127.0.0.1:1/debian is not reachable"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("--rootfs DIR|TARBALL"), std::string::npos)
        << message;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Names(cache.path() + "/rootfs"), std::vector<std::string>{".lock"});
}

TEST(BaseRootfsTest, MirrorComesFromTheHostsAptSources) {
  TempDir apt;
  const std::string dir = apt.path();
  EXPECT_EQ(HostDebianMirror(dir), "http://deb.debian.org/debian");

  ASSERT_EQ(::mkdir((dir + "/sources.list.d").c_str(), 0755), 0);
  WriteFile(dir + "/sources.list",
            "# deb http://commented.example/ bookworm main\n");
  WriteFile(dir + "/sources.list.d/a.sources",
            "Types: deb\nURIs: http://disabled.example/debian\n"
            "Suites: bookworm\nComponents: main\nEnabled: no\n\n"
            "Types: deb-src deb\nURIs: http://mirror.example/debian/\n"
            "Suites: bookworm\n bookworm-updates\nComponents: main\n\n"
            "Types: deb\nURIs: http://security.example/debian-security\n"
            "Suites: bookworm-security\nComponents: main\n");
  WriteFile(dir + "/sources.list.d/z.sources.disabled",
            "Types: deb\nURIs: http://ignored.example/\nSuites: bookworm\n");
  EXPECT_EQ(HostDebianMirror(dir), "http://mirror.example/debian");

  WriteFile(dir + "/sources.list",
            "deb [arch=amd64 signed-by=/k.gpg] https://one-line.example/d/ "
            "bookworm main contrib\n");
  EXPECT_EQ(HostDebianMirror(dir), "https://one-line.example/d");
}

TEST(BaseRootfsTest, CacheDirectoryDefaults) {
  const char* saved = std::getenv("E2B_LOCAL_CACHE_DIR");
  std::string saved_value = saved ? saved : "";
  ::setenv("E2B_LOCAL_CACHE_DIR", "/somewhere/else", 1);
  EXPECT_EQ(DefaultRootfsCacheDir(), "/somewhere/else");
  ::unsetenv("E2B_LOCAL_CACHE_DIR");
  if (::geteuid() == 0) {
    EXPECT_EQ(DefaultRootfsCacheDir(), "/var/cache/e2b-local");
  } else {
    EXPECT_NE(DefaultRootfsCacheDir().find("e2b-local"), std::string::npos);
  }
  if (saved) ::setenv("E2B_LOCAL_CACHE_DIR", saved_value.c_str(), 1);
}

// The shape of a tree mmdebstrap built (e2b-local --prepare-rootfs), when
// the default cache holds one; the runtime's tests run commands in it.
TEST(BaseRootfsTest, BuiltTreeHasTheBaseImagesShape) {
  const std::string rootfs =
      "/var/cache/e2b-local/rootfs/debian-bookworm-v1-ids-1000000000-65536";
  struct stat st;
  if (::lstat(rootfs.c_str(), &st) != 0) {
    GTEST_SKIP() << "no built base root filesystem at " << rootfs;
  }
  auto read = [&](const std::string& rel) {
    std::ifstream in(rootfs + rel);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  EXPECT_NE(read("/etc/passwd").find("user:x:1000:1000::/home/user:/bin/bash"),
            std::string::npos);
  EXPECT_NE(read("/etc/passwd").find("root:x:0:0:root:/root:/bin/bash"),
            std::string::npos);
  EXPECT_EQ(read("/etc/sudoers.d/user"), "user ALL=(ALL:ALL) NOPASSWD: ALL\n");
  EXPECT_EQ(Lstat(rootfs + "/etc/sudoers.d/user").st_mode & 07777, 0440u);
  EXPECT_EQ(read("/etc/hostname"), "e2b\n");
  EXPECT_FALSE(Exists(rootfs + "/etc/resolv.conf"));
  EXPECT_FALSE(Exists(rootfs + "/usr/lib/python3.11/EXTERNALLY-MANAGED"));
  EXPECT_EQ(Lstat(rootfs + "/usr/bin/sudo").st_uid, kBase);
  EXPECT_EQ(Lstat(rootfs + "/usr/bin/sudo").st_mode & 07777, 04755u);
  EXPECT_EQ(Lstat(rootfs + "/home/user").st_uid, kBase + 1000);
  for (const char* tool :
       {"/usr/bin/python3", "/usr/bin/pip3", "/usr/bin/git", "/usr/bin/curl",
        "/usr/bin/ps", "/usr/bin/bash", "/usr/sbin/ip",
        "/etc/ssl/certs/ca-certificates.crt"}) {
    EXPECT_TRUE(Exists(rootfs + tool)) << tool;
  }
  // No device node anywhere, every entry in the range.
  std::string found = "";
  std::vector<std::string> stack = {rootfs};
  while (!stack.empty()) {
    std::string dir = stack.back();
    stack.pop_back();
    for (const auto& name : Names(dir)) {
      std::string path = dir + "/" + name;
      struct stat entry = Lstat(path);
      if (S_ISCHR(entry.st_mode) || S_ISBLK(entry.st_mode) ||
          entry.st_uid < kBase || entry.st_gid < kBase) {
        found += path + "\n";
      }
      if (S_ISDIR(entry.st_mode)) stack.push_back(path);
    }
  }
  EXPECT_EQ(found, "");
}

}  // namespace
}  // namespace e2b_local
