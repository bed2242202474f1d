// Start-up cleanup after a server that died without destroying its
// sandboxes. Everything is found from the sandboxes directory alone, so a
// server only ever reclaims what belongs to its own state directory.

#include "runtime/runtime_factories.hpp"
#include "runtime/sandbox_cgroups.hpp"
#include "runtime/sandbox_runtime.hpp"
#include "store/file_ops.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace e2b_local {
namespace runtime_internal {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string DecodeMountField(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() &&
        std::all_of(field.begin() + static_cast<long>(i) + 1,
                    field.begin() + static_cast<long>(i) + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((field[i + 1] - '0') * 64 +
                               (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> MountsUnder(const std::string& prefix) {
  std::string dir = prefix;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    if (!(fields >> id >> parent >> devno >> root >> mount_point)) continue;
    mount_point = DecodeMountField(mount_point);
    if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) {
      found.push_back(mount_point);
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const std::string& a, const std::string& b) {
                     return a.size() > b.size();
                   });
  return found;
}

std::string FallbackRootsDir(const std::string& sandboxes_dir) {
  return "/tmp/e2b-local-roots-" + CgroupScope(sandboxes_dir);
}

}  // namespace runtime_internal

std::string ReclaimLeftovers(const std::string& sandboxes_dir) {
  using namespace runtime_internal;
  if (sandboxes_dir.empty() || sandboxes_dir[0] != '/') return "";
  // mountinfo holds resolved paths.
  std::error_code ec;
  std::string dir =
      std::filesystem::weakly_canonical(sandboxes_dir, ec).string();
  if (ec || dir.empty()) dir = sandboxes_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir == "/") return "";
  std::ostringstream report;
  // Stacked mounts show up once per layer: repeat until none is left (or
  // a pass makes no progress, e.g. without the privilege to unmount).
  int unmounted = 0;
  for (int pass = 0; pass < 8; ++pass) {
    auto mounts = MountsUnder(dir);
    // The directory itself may be a mount of its own (e.g. a tmpfs the
    // administrator put there): only what is inside belongs to sandboxes.
    mounts.erase(std::remove(mounts.begin(), mounts.end(), dir), mounts.end());
    if (mounts.empty()) break;
    int before = unmounted;
    for (const auto& mount_point : mounts) {
      if (umount2(mount_point.c_str(), MNT_DETACH) == 0) ++unmounted;
    }
    if (unmounted == before) {
      report << "cannot unmount " << mounts.front() << ": "
             << std::strerror(errno) << "; ";
      break;
    }
  }
  if (unmounted > 0) report << "unmounted " << unmounted << " mount(s); ";
  // Scopes are named after the path sandboxes were created with.
  int groups = ReclaimCgroupScope(CgroupScope(sandboxes_dir));
  if (CgroupScope(dir) != CgroupScope(sandboxes_dir)) {
    groups += ReclaimCgroupScope(CgroupScope(dir));
  }
  if (groups > 0) report << "removed " << groups << " cgroup(s); ";
  // The fallback's relocated roots: only a directory we own and nobody else
  // may write to (it sits in /tmp, where anyone could plant one).
  const std::string roots = FallbackRootsDir(sandboxes_dir);
  struct stat st {};
  if (lstat(roots.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
      st.st_uid == geteuid() && (st.st_mode & 022) == 0) {
    try {
      RemoveTree(roots);
      report << "removed " << roots << "; ";
    } catch (const std::exception& e) {
      report << e.what() << "; ";
    }
  }
  std::string text = report.str();
  if (text.size() >= 2) text.resize(text.size() - 2);
  return text;
}

}  // namespace e2b_local
