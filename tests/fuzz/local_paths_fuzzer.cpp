// Fuzzes e2b-local's path handling (tools/e2b-local/envd/sandbox_paths.*):
// client paths become clean absolute paths or PathError; cleaning is
// idempotent and SplitParent undoes joining; and every SandboxFs operation
// on any path -- `..`, symlinks to the host, /proc magic links, loops --
// stays inside the sandbox root (checked against a sentinel next to it).

#include "envd/sandbox_paths.hpp"
#include "fuzz_input.hpp"
#include "local_sandbox_fixture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using e2b_fuzz::Check;
namespace local = e2b_local;

bool IsClean(const std::string& p) {
  if (p.empty() || p.front() != '/') return false;
  if (p == "/") return true;
  if (p.back() == '/') return false;
  return p.find("//") == std::string::npos &&
         (p + "/").find("/./") == std::string::npos &&
         (p + "/").find("/../") == std::string::npos;
}

void CheckPath(const std::string& raw, const local::SandboxUser& user) {
  std::string path;
  try {
    path = local::ResolveClientPath(raw, user);
  } catch (const local::PathError&) {
    return;
  }
  Check(IsClean(path), "ResolveClientPath gave an unclean path", path);
  Check(local::CleanAbsolutePath(path) == path, "cleaning is not idempotent",
        path);
  const auto [parent, name] = local::SplitParent(path);
  if (path == "/") {
    Check(parent == "/" && name.empty(), "SplitParent(\"/\")");
  } else {
    Check(
        IsClean(parent) && !name.empty() && name.find('/') == std::string::npos,
        "SplitParent gave a bad part", path);
    Check((parent == "/" ? "/" : parent + "/") + name == path,
          "SplitParent does not undo joining", path);
  }
}

// One filesystem operation on a fuzzed path; PathError is a valid answer.
void Operate(const local::SandboxFs& sfs, std::uint8_t op,
             const std::string& path, const std::string& other) {
  try {
    switch (op % 11) {
      case 0: {
        local::UniqueFd fd = sfs.Open(path, O_RDONLY);
        const std::string where =
            local::SandboxPathOfFd(fd.get(), sfs.root_path());
        Check(!where.empty(), "opened a file outside the root", path);
        break;
      }
      case 1: {
        local::UniqueFd fd = sfs.Open(path, O_WRONLY | O_CREAT, 0644);
        Check(!local::SandboxPathOfFd(fd.get(), sfs.root_path()).empty(),
              "created a file outside the root", path);
        if (write(fd.get(), "x", 1) < 0) break;
        break;
      }
      case 2:
        sfs.Stat(path);
        sfs.Lstat(path);
        sfs.Exists(path, false);
        break;
      case 3:
        sfs.MakeDirs(path, getuid(), getgid());
        break;
      case 4: {
        const std::string real = sfs.RealPath(path);
        Check(IsClean(real), "RealPath left the sandbox's namespace", real);
        break;
      }
      case 5:
        sfs.ReadLink(path);
        break;
      case 6:
        sfs.ListNames(path);
        break;
      case 7: {
        auto [fd, name] = sfs.OpenParent(path);
        Check(!local::SandboxPathOfFd(fd.get(), sfs.root_path()).empty(),
              "opened a parent outside the root", path);
        Check(name.find('/') == std::string::npos, "last component has '/'");
        break;
      }
      case 8:
        if (e2b_fuzz::IsJailed()) sfs.RemoveAll(path);
        break;
      case 9:
        if (e2b_fuzz::IsJailed()) sfs.Rename(path, other);
        break;
      default:
        if (e2b_fuzz::IsJailed()) sfs.Rename(other, path);
        break;
    }
  } catch (const local::PathError&) {
  }
}

e2b_fuzz::SandboxFixture* fixture = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  e2b_fuzz::EnterJail(e2b_fuzz::LibFuzzerDirs(*argc, *argv));
  fixture = new e2b_fuzz::SandboxFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  const local::SandboxUser user{"user", getuid(), getgid(), "/home/user"};
  fixture->Reset();
  const local::SandboxFs sfs(fixture->root());
  int steps = 0;
  while (!in.empty() && steps++ < 8) {
    const std::uint8_t op = in.Byte();
    const std::string raw = in.ShortString();
    const std::string other_raw = in.ShortString();
    CheckPath(raw, user);
    // Most operations take resolved paths, as the handlers pass them; some
    // take the raw text, as a handler that forgot to clean would.
    std::string path = raw, other = other_raw;
    try {
      if ((op & 0x80) == 0) {
        path = local::ResolveClientPath(raw, user);
        other = local::ResolveClientPath(other_raw, user);
      } else {
        if (path.empty() || path[0] != '/') path = "/" + path;
        if (other.empty() || other[0] != '/') other = "/" + other;
      }
    } catch (const local::PathError&) {
      continue;
    }
    if (path.find('\0') != std::string::npos ||
        other.find('\0') != std::string::npos) {
      continue;
    }
    Operate(sfs, op, path, other);
  }
  fixture->CheckConfined();
  return 0;
}
