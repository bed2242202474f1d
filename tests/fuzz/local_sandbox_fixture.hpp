#ifndef E2B_TESTS_FUZZ_LOCAL_SANDBOX_FIXTURE_HPP_
#define E2B_TESTS_FUZZ_LOCAL_SANDBOX_FIXTURE_HPP_

// A fake e2b-local sandbox for the fuzzers of path handling: a root
// directory with symlinks that point out of it, an "outside" directory next
// to it holding a sentinel, and a check that nothing outside the root
// changed. Spawning processes is refused, so no fuzz input runs anything.
//
// The fuzzers run removals and renames on fuzzed paths. If confinement ever
// broke, that must not hit the machine, so the process first enters a
// private mount namespace where every mount is read-only except a tmpfs for
// the fixture and the directories libFuzzer writes to (corpus, artifacts).
// Without that jail (not root, no CAP_SYS_ADMIN) IsJailed() is false and
// the fuzzers leave destructive operations out.

#include "fuzz_input.hpp"
#include "runtime/sandbox_runtime.hpp"
#include "sandbox/local_sandbox.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace e2b_fuzz {

namespace fs = std::filesystem;

inline bool& JailFlag() {
  static bool jailed = false;
  return jailed;
}

/// True once EnterJail succeeded.
inline bool IsJailed() { return JailFlag(); }

/// Where the fixture lives (a tmpfs inside the jail).
inline const std::string& ScratchDir() {
  static const std::string dir = "/tmp/e2b-fuzz-scratch";
  return dir;
}

namespace jail_detail {

struct MountAttr {
  std::uint64_t attr_set;
  std::uint64_t attr_clr;
  std::uint64_t propagation;
  std::uint64_t userns_fd;
};
constexpr std::uint64_t kMountAttrRdonly = 0x00000001;
constexpr unsigned kAtRecursive = 0x8000;
#ifndef SYS_mount_setattr
constexpr long kSysMountSetattr = 442;
#else
constexpr long kSysMountSetattr = SYS_mount_setattr;
#endif

inline bool Try(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz jail: %s failed: %s\n", what,
                 std::strerror(errno));
  }
  return ok;
}

}  // namespace jail_detail

/// Enters the jail described above; `writable` lists directories that must
/// stay writable (libFuzzer's corpus and artifact directories).
inline void EnterJail(const std::vector<std::string>& writable) {
  using namespace jail_detail;
  std::error_code ec;
  fs::create_directories(ScratchDir(), ec);
  std::vector<std::string> keep;
  for (const auto& dir : writable) {
    if (!fs::is_directory(dir, ec)) continue;
    const std::string path = fs::canonical(dir, ec).string();
    if (!ec && std::find(keep.begin(), keep.end(), path) == keep.end()) {
      keep.push_back(path);
    }
  }
  // Outer directories first, so a nested bind sits on top and stays a
  // mount root that mount_setattr can address.
  std::sort(keep.begin(), keep.end(),
            [](const std::string& a, const std::string& b) {
              return a.size() < b.size();
            });
  bool ok = Try(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS)") &&
            Try(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0,
                "making mounts private") &&
            Try(mount("tmpfs", ScratchDir().c_str(), "tmpfs", 0,
                      "size=256m,mode=0755") == 0,
                "mounting the scratch tmpfs");
  for (const auto& dir : keep) {
    ok = ok &&
         Try(mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) == 0,
             "binding a libFuzzer directory");
  }
  MountAttr ro{kMountAttrRdonly, 0, 0, 0};
  MountAttr rw{0, kMountAttrRdonly, 0, 0};
  const bool made_read_only =
      ok && Try(syscall(kSysMountSetattr, AT_FDCWD, "/", kAtRecursive, &ro,
                        sizeof(ro)) == 0,
                "mount_setattr(read-only)");
  ok = made_read_only;
  keep.push_back(ScratchDir());
  for (const auto& dir : keep) {
    ok = ok && Try(syscall(kSysMountSetattr, AT_FDCWD, dir.c_str(), 0, &rw,
                           sizeof(rw)) == 0,
                   "mount_setattr(read-write)");
  }
  // Proof, not hope: a write outside the scratch directory must now fail.
  if (ok) {
    const int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
    const int probe =
        openat(fd, "e2b-fuzz-jail-probe", O_CREAT | O_WRONLY, 0600);
    ok = Try(probe < 0 && errno == EROFS, "read-only check");
    if (probe >= 0) {
      close(probe);
      unlinkat(fd, "e2b-fuzz-jail-probe", 0);
    }
    if (fd >= 0) close(fd);
  }
  if (!ok && made_read_only) {
    // Half a jail is worse than none: give the fixture a writable tree.
    syscall(kSysMountSetattr, AT_FDCWD, "/", kAtRecursive, &rw, sizeof(rw));
  }
  JailFlag() = ok;
  if (!ok) {
    std::fprintf(stderr,
                 "fuzz jail: unavailable; removals and renames on fuzzed "
                 "paths are left out of this run\n");
  }
}

/// Collects the directories libFuzzer writes to from its command line.
inline std::vector<std::string> LibFuzzerDirs(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("-artifact_prefix=", 0) == 0) {
      std::string prefix = arg.substr(17);
      auto slash = prefix.rfind('/');
      out.push_back(slash == std::string::npos ? "." : prefix.substr(0, slash));
    } else if (!arg.empty() && arg[0] != '-') {
      out.push_back(arg);
    }
  }
  bool has_prefix = false;
  for (int i = 1; i < argc; ++i) {
    has_prefix =
        has_prefix || std::string(argv[i]).rfind("-artifact_prefix=", 0) == 0;
  }
  if (!has_prefix) out.push_back(".");  // libFuzzer's default artifact dir
  return out;
}

/// The instance behind the fake sandbox: files only.
class FakeInstance : public e2b_local::SandboxInstance {
 public:
  explicit FakeInstance(std::string root) : root_(std::move(root)) {}
  const std::string& RootPath() const override { return root_; }
  const std::string& UpperDir() const override { return root_; }
  std::optional<e2b_local::SandboxUser> LookupUser(
      const std::string& name) const override {
    if (name == "user") {
      return e2b_local::SandboxUser{"user", getuid(), getgid(), "/home/user"};
    }
    if (name == "root") {
      return e2b_local::SandboxUser{"root", getuid(), getgid(), "/root"};
    }
    return std::nullopt;
  }
  std::unique_ptr<e2b_local::SandboxProcess> Spawn(
      const e2b_local::SpawnOptions&) override {
    throw e2b_local::SpawnError("internal", "the fuzz sandbox runs nothing");
  }
  void Freeze() override {}
  void Thaw() override {}
  void Halt() override {}
  void Boot() override {}
  void Destroy() override {}
  e2b_local::ResourceUsage Usage() override { return {}; }
  void UpdateNetwork(const e2b_local::EgressPolicy&) override {}

 private:
  std::string root_;
};

/// <scratch>/root (the sandbox's "/") and <scratch>/outside (the host).
class SandboxFixture {
 public:
  SandboxFixture()
      : root_(ScratchDir() + "/root"), outside_(ScratchDir() + "/outside") {}

  const std::string& root() const { return root_; }

  /// A fresh tree: /home/user with a file, symlinks that lead out of the
  /// root (relative, absolute host path, to "/" of the host), and the
  /// outside sentinel.
  void Reset() {
    std::error_code ec;
    fs::remove_all(root_, ec);
    fs::remove_all(outside_, ec);
    fs::create_directories(root_ + "/home/user/dir", ec);
    fs::create_directories(root_ + "/root", ec);
    fs::create_directories(root_ + "/tmp", ec);
    fs::create_directories(outside_, ec);
    WriteFile(root_ + "/home/user/file.txt", "inside");
    WriteFile(outside_ + "/sentinel", "outside");
    fs::create_symlink("../../../outside", root_ + "/home/user/up", ec);
    fs::create_symlink(outside_, root_ + "/home/user/abs", ec);
    fs::create_symlink("/", root_ + "/home/user/slash", ec);
    fs::create_symlink("/proc/self/root", root_ + "/home/user/magic", ec);
    fs::create_symlink("loop", root_ + "/home/user/loop", ec);
  }

  /// Aborts unless the outside directory and the scratch directory are
  /// exactly as Reset left them.
  void CheckConfined() const {
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(ScratchDir(), ec)) {
      names.push_back(e.path().filename().string());
    }
    Check(names.size() == 2, "something was created next to the root");
    names.clear();
    for (const auto& e : fs::directory_iterator(outside_, ec)) {
      names.push_back(e.path().filename().string());
    }
    Check(names.size() == 1 && names[0] == "sentinel",
          "the outside directory changed");
    Check(ReadFile(outside_ + "/sentinel") == "outside",
          "the outside sentinel changed");
  }

  std::shared_ptr<e2b_local::LocalSandbox> MakeSandbox(
      const std::string& token) const {
    auto sandbox = std::make_shared<e2b_local::LocalSandbox>();
    sandbox->id = "fuzzsandbox";
    sandbox->access_token = token;
    sandbox->instance = std::make_unique<FakeInstance>(root_);
    return sandbox;
  }

 private:
  static void WriteFile(const std::string& path, const std::string& text) {
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
  }
  static std::string ReadFile(const std::string& path) {
    std::string out;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      char buf[64];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
      std::fclose(f);
    }
    return out;
  }

  std::string root_;
  std::string outside_;
};

}  // namespace e2b_fuzz

#endif  // E2B_TESTS_FUZZ_LOCAL_SANDBOX_FIXTURE_HPP_
