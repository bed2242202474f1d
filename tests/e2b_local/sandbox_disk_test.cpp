// Per-sandbox disk limits: real loop devices and ext4 mounts in a temporary
// directory, so these run as root only (and skip, saying why, otherwise).

#include "runtime/sandbox_disk.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMiB = 1 << 20;
// A sandbox's uid 1000 as the host sees it (the default id range).
constexpr uid_t kSandboxUser = 1000001000;

std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    if (mount_point.rfind(dir + "/", 0) == 0 || mount_point == dir) {
      out.push_back(mount_point);
    }
  }
  return out;
}

// Loop devices whose backing file is under dir.
std::vector<std::string> LoopsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it("/sys/block", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::ifstream backing(it->path() / "loop" / "backing_file");
    std::string file;
    if (std::getline(backing, file) && file.rfind(dir + "/", 0) == 0) {
      out.push_back(it->path().filename().string());
    }
  }
  return out;
}

// The loop device mounted on dir ("loop3"), empty if none.
std::string LoopOf(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point, field, type, source;
    fields >> id >> parent >> devno >> root >> mount_point;
    while (fields >> field && field != "-") {
    }
    fields >> type >> source;
    if (mount_point == dir && source.rfind("/dev/", 0) == 0) {
      return source.substr(5);
    }
  }
  return "";
}

// Whether block device `name` is free of a filesystem (or anything else
// that claims it): exclusive opens fail with EBUSY while one is on it.
bool HasNoFilesystem(const std::string& name) {
  const int fd = ::open(("/dev/" + name).c_str(), O_RDONLY | O_EXCL);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

// Autoclear may finish just after the unmount returns.
template <typename F>
bool Eventually(F condition) {
  for (int i = 0; i < 200; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

struct FillResult {
  std::int64_t written = 0;
  int error = 0;  // errno of the first failed write, 0 if none failed
};

// Writes `path` in 1 MiB chunks until `max_bytes` or the first error.
FillResult Fill(const std::string& path, std::int64_t max_bytes) {
  FillResult result;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    result.error = errno;
    return result;
  }
  const std::string chunk(kMiB, 'x');
  while (result.written < max_bytes) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0) {
      result.error = errno;
      break;
    }
    result.written += n;
  }
  ::close(fd);
  return result;
}

// Exit codes of the child that writes as the sandbox user.
enum ChildStatus { kOk = 0, kSetIdFailed, kShortOfLimit, kOtherError };

// Writes as kSandboxUser in a child: 7.5 MiB must fit (the limit is what
// files may hold, as with a quota), and the disk must then run out with
// ENOSPC before 8.5 MiB.
int FillAsSandboxUser(const std::string& path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 ||
        ::setresgid(kSandboxUser, kSandboxUser, kSandboxUser) != 0 ||
        ::setresuid(kSandboxUser, kSandboxUser, kSandboxUser) != 0) {
      ::_exit(kSetIdFailed);
    }
    const FillResult fill = Fill(path, 8 * kMiB + kMiB / 2);
    if (fill.error != ENOSPC) ::_exit(kOtherError);
    ::_exit(fill.written < 7 * kMiB + kMiB / 2 ? kShortOfLimit : kOk);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

class SandboxDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "loop mounts need root";
    if (::access("/dev/loop-control", R_OK | W_OK) != 0) {
      GTEST_SKIP() << "no loop devices (/dev/loop-control)";
    }
    char tmpl[] = "/tmp/e2b-disk-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    // Reachable by the sandbox user.
    ASSERT_EQ(::chmod(base_.c_str(), 0755), 0);
    sandboxes_ = base_ + "/sandboxes";
    ASSERT_EQ(::mkdir(sandboxes_.c_str(), 0755), 0);
  }

  void TearDown() override {
    if (base_.empty()) return;
    pool_.reset();
    ReclaimDiskPool(sandboxes_);
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  SandboxDiskPool& Pool() {
    if (!pool_) {
      pool_ = std::make_unique<SandboxDiskPool>(sandboxes_);
      EXPECT_TRUE(pool_->Enforced()) << pool_->Why();
    }
    return *pool_;
  }

  std::string NewDir(const std::string& name) {
    const std::string dir = sandboxes_ + "/" + name;
    EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
    return dir;
  }

  std::string base_, sandboxes_;
  std::unique_ptr<SandboxDiskPool> pool_;
};

TEST_F(SandboxDiskTest, SandboxUserRunsOutOfSpaceAtTheLimit) {
  const std::string dir = NewDir("a");
  ASSERT_EQ(::chown(dir.c_str(), kSandboxUser, kSandboxUser), 0);
  Pool().Limit(dir, 8);
  // The caller's directory keeps its owner and mode and looks empty.
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kSandboxUser);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_EQ(FillAsSandboxUser(dir + "/big"), kOk);
}

TEST_F(SandboxDiskTest, RootRunsOutOfSpaceAtTheLimitToo) {
  const std::string dir = NewDir("a");
  Pool().Limit(dir, 8);
  const FillResult fill = Fill(dir + "/big", 9 * kMiB);
  EXPECT_GE(fill.written, 7 * kMiB);
  EXPECT_EQ(fill.error, ENOSPC) << std::strerror(fill.error);
  // And stays full.
  const FillResult again = Fill(dir + "/more", kMiB);
  EXPECT_EQ(again.error, ENOSPC);
}

TEST_F(SandboxDiskTest, UsedFollowsWritesAndCapacityIsTheLimit) {
  const std::string dir = NewDir("a");
  const auto id = Pool().Limit(dir, 64);
  const std::int64_t before = Pool().Used(id);
  ASSERT_GE(before, 0);
  // Metadata of an empty disk: a small part of it.
  EXPECT_LT(before, 4 * kMiB);
  // Made larger than the limit by what ext4 keeps for itself.
  EXPECT_GE(Pool().Capacity(id), 64 * kMiB);
  EXPECT_LT(Pool().Capacity(id), 68 * kMiB);
  ASSERT_EQ(Fill(dir + "/f", 10 * kMiB).error, 0);
  const std::int64_t after = Pool().Used(id);
  EXPECT_GE(after - before, 10 * kMiB);
  EXPECT_LT(after - before, 11 * kMiB);
  fs::remove(dir + "/f");
  EXPECT_LT(Pool().Used(id) - before, kMiB);
  EXPECT_EQ(Pool().Used(id + 1000), -1);
}

TEST_F(SandboxDiskTest, ReleaseUnmountsAndLeavesAnEmptyDirectory) {
  const std::string dir = NewDir("a");
  const auto id = Pool().Limit(dir, 8);
  ASSERT_EQ(Fill(dir + "/f", 2 * kMiB).error, 0);
  EXPECT_EQ(MountsUnder(dir).size(), 1u);
  Pool().Release(id);
  EXPECT_TRUE(MountsUnder(dir).empty());
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_EQ(Pool().Used(id), -1);
  Pool().Release(id);  // twice: ignored
  // The registry renames the directory away and deletes it.
  const std::string hidden = sandboxes_ + "/.removing-a-1";
  ASSERT_EQ(::rename(dir.c_str(), hidden.c_str()), 0);
  EXPECT_EQ(::rmdir(hidden.c_str()), 0);
}

TEST_F(SandboxDiskTest, ReleasingABusyDiskLetsItGoLater) {
  const std::string dir = NewDir("a");
  const auto id = Pool().Limit(dir, 8);
  const std::string loop = LoopOf(dir);
  ASSERT_FALSE(loop.empty());
  const int busy = ::open((dir + "/f").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(busy, 0);
  Pool().Release(id);
  EXPECT_TRUE(MountsUnder(dir).empty());
  EXPECT_TRUE(fs::is_empty(dir));
  // Not handed to the next sandbox while a file on it is open; its
  // filesystem goes when the file is closed.
  const auto other = Pool().Limit(NewDir("b"), 8);
  EXPECT_NE(LoopOf(sandboxes_ + "/b"), loop);
  EXPECT_FALSE(HasNoFilesystem(loop));
  ::close(busy);
  EXPECT_TRUE(Eventually([&] { return HasNoFilesystem(loop); }));
  Pool().Release(other);
}

// Loop devices are reused: a released disk comes back empty, whatever its
// last user wrote and whatever size the next one asks for.
TEST_F(SandboxDiskTest, ReusedDisksComeBackEmptyAndResized) {
  std::int64_t fresh = -1;
  for (int i = 0; i < 12; ++i) {
    const std::string dir = NewDir("s" + std::to_string(i));
    const int mb = i % 2 == 0 ? 16 : 48;
    const auto id = Pool().Limit(dir, mb);
    EXPECT_TRUE(fs::is_empty(dir)) << i;
    EXPECT_GE(Pool().Capacity(id), mb * kMiB) << i;
    EXPECT_LT(Pool().Capacity(id), (mb + 4) * kMiB) << i;
    if (fresh < 0) fresh = Pool().Used(id);
    EXPECT_LT(Pool().Used(id), fresh + kMiB) << i;
    {
      std::ofstream secret(dir + "/secret");
      secret << "sandbox " << i;
    }
    ASSERT_EQ(Fill(dir + "/f", 12 * kMiB).error, 0) << i;
    Pool().Release(id);
    EXPECT_TRUE(fs::is_empty(dir)) << i;
  }
  // Not one device per sandbox: the released ones came back.
  EXPECT_LE(LoopsUnder(sandboxes_).size(), 12u);
}

TEST_F(SandboxDiskTest, LimitsAreIndependent) {
  const std::string a = NewDir("a"), b = NewDir("b");
  const auto id_a = Pool().Limit(a, 8);
  const auto id_b = Pool().Limit(b, 32);
  const FillResult full = Fill(a + "/f", 9 * kMiB);
  EXPECT_EQ(full.error, ENOSPC);
  EXPECT_EQ(Fill(b + "/f", 24 * kMiB).error, 0);
  EXPECT_GE(Pool().Used(id_b) - Pool().Used(id_a), 16 * kMiB);
  // Releasing one leaves the other mounted.
  Pool().Release(id_a);
  EXPECT_TRUE(MountsUnder(a).empty());
  EXPECT_EQ(MountsUnder(b).size(), 1u);
  EXPECT_TRUE(fs::exists(b + "/f"));
}

TEST_F(SandboxDiskTest, DestroyingThePoolUnmountsEverything) {
  for (const char* name : {"a", "b", "c"}) Pool().Limit(NewDir(name), 8);
  EXPECT_EQ(MountsUnder(sandboxes_).size(), 3u);
  // A process still inside one disk: unmounted lazily all the same.
  const int busy = ::open((sandboxes_ + "/b").c_str(), O_RDONLY | O_DIRECTORY);
  pool_.reset();
  EXPECT_TRUE(MountsUnder(sandboxes_).empty());
  ::close(busy);
  EXPECT_TRUE(Eventually([&] { return LoopsUnder(sandboxes_).empty(); }));
}

TEST_F(SandboxDiskTest, ReclaimCleansUpAfterACrash) {
  // A server that dies with disks mounted (no destructor runs).
  const pid_t pid = ::fork();
  if (pid == 0) {
    SandboxDiskPool pool(sandboxes_);
    if (!pool.Enforced()) ::_exit(1);
    for (const char* name : {"a", "b"}) {
      const std::string dir = sandboxes_ + "/" + name;
      ::mkdir(dir.c_str(), 0755);
      pool.Limit(dir, 8);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(MountsUnder(sandboxes_).size(), 2u);
  EXPECT_EQ(LoopsUnder(sandboxes_).size(), 2u);
  const std::string report = ReclaimDiskPool(sandboxes_);
  EXPECT_NE(report.find("unmounted 2 disk(s)"), std::string::npos) << report;
  EXPECT_TRUE(MountsUnder(sandboxes_).empty());
  EXPECT_TRUE(Eventually([&] { return LoopsUnder(sandboxes_).empty(); }));
  // The directories can go, and a new pool starts cleanly on them.
  fs::remove_all(sandboxes_ + "/a");
  fs::remove_all(sandboxes_ + "/b");
  EXPECT_TRUE(Pool().Enforced());
  EXPECT_EQ(ReclaimDiskPool(sandboxes_ + "/../elsewhere"), "");
}

TEST_F(SandboxDiskTest, RejectsLimitsBelowOneMiB) {
  EXPECT_THROW(Pool().Limit(NewDir("a"), 0), std::invalid_argument);
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * (values.size() - 1))];
}

// Not a benchmark run (few iterations); reports what create and kill pay.
TEST_F(SandboxDiskTest, MeasuresSetupLimitAndRelease) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  const auto setup_start = Clock::now();
  Pool();
  const double setup = ms(Clock::now() - setup_start);
  const auto first_start = Clock::now();
  Pool().Release(Pool().Limit(NewDir("first"), 512));
  const double first = ms(Clock::now() - first_start);
  std::vector<double> limit, release;
  for (int i = 0; i < 30; ++i) {
    const std::string dir = NewDir("s" + std::to_string(i));
    auto start = Clock::now();
    const auto id = Pool().Limit(dir, 512);
    limit.push_back(ms(Clock::now() - start));
    ASSERT_EQ(Fill(dir + "/f", 4 * kMiB).error, 0);
    start = Clock::now();
    Pool().Release(id);
    release.push_back(ms(Clock::now() - start));
  }
  std::cout << "pool setup " << setup << " ms; first 512 MiB disk (mkfs) "
            << first << " ms; Limit p50 " << Percentile(limit, 0.5)
            << " ms p90 " << Percentile(limit, 0.9) << " ms; Release (4 MiB "
            << "dirty) p50 " << Percentile(release, 0.5) << " ms p90 "
            << Percentile(release, 0.9) << " ms\n";
  EXPECT_LT(Percentile(limit, 0.5), 20.0);
}

// 1,000 live disks, twice: the first round creates the loop devices, the
// second reuses them. Only when E2B_DISK_SCALE_TEST=1 (takes ~30 s).
TEST_F(SandboxDiskTest, ThousandDisks) {
  if (std::getenv("E2B_DISK_SCALE_TEST") == nullptr) {
    GTEST_SKIP() << "set E2B_DISK_SCALE_TEST=1 to mount 1,000 disks";
  }
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  Pool();
  for (int round = 0; round < 2; ++round) {
    std::vector<std::uint32_t> ids;
    std::vector<double> limit;
    for (int i = 0; i < 1000; ++i) {
      const std::string dir =
          NewDir("r" + std::to_string(round) + "-" + std::to_string(i));
      const auto start = Clock::now();
      ids.push_back(Pool().Limit(dir, 512));
      limit.push_back(ms(Clock::now() - start));
    }
    EXPECT_EQ(MountsUnder(sandboxes_).size(), 1000u);
    const auto start = Clock::now();
    for (auto id : ids) Pool().Release(id);
    const double release = ms(Clock::now() - start);
    std::cout << "round " << round << ": 1000 disks, Limit p50 "
              << Percentile(limit, 0.5) << " ms p90 " << Percentile(limit, 0.9)
              << " ms; Release total " << release << " ms\n";
    EXPECT_TRUE(MountsUnder(sandboxes_).empty());
  }
}

}  // namespace
}  // namespace e2b_local
