#include "envd/sandbox_paths.hpp"

#include "e2b_local/envd_test_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>

namespace e2b_local {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

const SandboxUser kUser{"user", 1000, 1000, "/home/user"};

TEST(ResolveClientPathTest, MakesPathsAbsoluteUnderHome) {
  EXPECT_EQ(ResolveClientPath("", kUser), "/home/user");
  EXPECT_EQ(ResolveClientPath("~", kUser), "/home/user");
  EXPECT_EQ(ResolveClientPath("~/a/b.txt", kUser), "/home/user/a/b.txt");
  EXPECT_EQ(ResolveClientPath("notes.txt", kUser), "/home/user/notes.txt");
  EXPECT_EQ(ResolveClientPath("/tmp/./x//y/", kUser), "/tmp/x/y");
  EXPECT_EQ(ResolveClientPath("../../etc/passwd", kUser), "/etc/passwd");
  EXPECT_EQ(ResolveClientPath("/../../..", kUser), "/");
}

TEST(ResolveClientPathTest, RejectsOtherUsersHomeAndNul) {
  EXPECT_THROW(ResolveClientPath("~root/x", kUser), PathError);
  EXPECT_THROW(ResolveClientPath(std::string("a\0b", 3), kUser), PathError);
}

TEST(SplitParentTest, SplitsLastComponent) {
  EXPECT_EQ(SplitParent("/a/b"),
            (std::pair<std::string, std::string>{"/a", "b"}));
  EXPECT_EQ(SplitParent("/a"), (std::pair<std::string, std::string>{"/", "a"}));
  EXPECT_EQ(SplitParent("/"), (std::pair<std::string, std::string>{"/", ""}));
}

class SandboxFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/root";
    std::filesystem::create_directories(root_ + "/etc");
    WriteFile(root_ + "/etc/passwd", "sandbox passwd\n");
  }
  TempDir dir_;
  std::string root_;
};

TEST_F(SandboxFsTest, DotDotStaysInsideRoot) {
  SandboxFs fs(root_);
  UniqueFd fd = fs.Open("/../../../etc/passwd", O_RDONLY);
  char buf[64] = {};
  ASSERT_GT(read(fd.get(), buf, sizeof(buf) - 1), 0);
  EXPECT_STREQ(buf, "sandbox passwd\n");
}

TEST_F(SandboxFsTest, AbsoluteSymlinkResolvesInsideRoot) {
  std::filesystem::create_directory_symlink("/etc", root_ + "/hostetc");
  SandboxFs fs(root_);
  UniqueFd fd = fs.Open("/hostetc/passwd", O_RDONLY);
  char buf[64] = {};
  ASSERT_GT(read(fd.get(), buf, sizeof(buf) - 1), 0);
  EXPECT_STREQ(buf, "sandbox passwd\n");
  EXPECT_EQ(fs.RealPath("/hostetc"), "/etc");
}

TEST_F(SandboxFsTest, RelativeSymlinkCannotClimbOut) {
  std::filesystem::create_symlink("../../../../../../etc/hostname",
                                  root_ + "/escape");
  SandboxFs fs(root_);
  try {
    fs.Open("/escape", O_RDONLY);
    FAIL() << "resolved outside the root";
  } catch (const PathError& e) {
    EXPECT_EQ(e.error_number(), ENOENT);
  }
}

TEST_F(SandboxFsTest, ProcSelfRootLinkNeverReachesHost) {
  std::filesystem::create_directory_symlink("/proc/self/root",
                                            root_ + "/hostroot");
  SandboxFs fs(root_);
  EXPECT_THROW(fs.Open("/hostroot/etc/passwd", O_RDONLY), PathError);
  // A path through the real /proc is a magic link: refused outright.
  EXPECT_THROW(
      {
        SandboxFs host_fs("/");
        host_fs.Open("/proc/self/root/etc/passwd", O_RDONLY);
      },
      PathError);
}

TEST_F(SandboxFsTest, MakeDirsCreatesParentsOwnedByUser) {
  SandboxFs fs(root_);
  EXPECT_TRUE(fs.MakeDirs("/home/user/a/b/c", 1000, 1000));
  EXPECT_FALSE(fs.MakeDirs("/home/user/a/b/c", 1000, 1000));
  struct stat st {};
  ASSERT_EQ(stat((root_ + "/home/user/a/b").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_uid, 1000u);
  WriteFile(root_ + "/file", "x");
  try {
    fs.MakeDirs("/file/sub", 0, 0);
    FAIL() << "made a directory under a file";
  } catch (const PathError& e) {
    EXPECT_EQ(e.error_number(), EEXIST);
  }
}

TEST_F(SandboxFsTest, MakeDirsThroughAbsoluteSymlinkStaysInside) {
  std::filesystem::create_directory_symlink("/tmp", root_ + "/t");
  SandboxFs fs(root_);
  // "/t" points to the sandbox's /tmp, which does not exist yet.
  EXPECT_THROW(fs.MakeDirs("/t/x", 0, 0), PathError);
  std::filesystem::create_directories(root_ + "/tmp");
  fs.MakeDirs("/t/x", 0, 0);
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/tmp/x"));
}

TEST_F(SandboxFsTest, RemoveAllDoesNotFollowSymlinks) {
  TempDir outside;
  WriteFile(outside.path() + "/keep.txt", "keep");
  std::filesystem::create_directories(root_ + "/tree/sub");
  WriteFile(root_ + "/tree/sub/f", "x");
  std::filesystem::create_directory_symlink(outside.path(),
                                            root_ + "/tree/link");
  SandboxFs fs(root_);
  fs.RemoveAll("/tree");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/tree"));
  EXPECT_EQ(ReadFile(outside.path() + "/keep.txt"), "keep");
  fs.RemoveAll("/does/not/exist");  // missing is fine
  EXPECT_THROW(fs.RemoveAll("/"), PathError);
}

TEST_F(SandboxFsTest, RenameAndListNames) {
  SandboxFs fs(root_);
  WriteFile(root_ + "/a.txt", "a");
  fs.Rename("/a.txt", "/etc/b.txt");
  EXPECT_EQ(ReadFile(root_ + "/etc/b.txt"), "a");
  EXPECT_EQ(fs.ListNames("/etc"),
            (std::vector<std::string>{"b.txt", "passwd"}));
  EXPECT_THROW(fs.Rename("/missing", "/x"), PathError);
}

TEST_F(SandboxFsTest, ReadRegularFileBoundsSizeAndType) {
  SandboxFs fs(root_);
  EXPECT_EQ(ReadRegularFile(fs, "/etc/passwd", 1024), "sandbox passwd\n");
  EXPECT_EQ(ReadRegularFile(fs, "/etc/passwd", 15), "sandbox passwd\n");
  EXPECT_EQ(ReadRegularFile(fs, "/etc/passwd", 14), std::nullopt);
  EXPECT_EQ(ReadRegularFile(fs, "/etc/missing", 1024), std::nullopt);
  EXPECT_EQ(ReadRegularFile(fs, "/etc", 1024), std::nullopt);
  // Symlinks resolve inside the root, never to the host's file.
  std::filesystem::create_symlink("/etc/passwd", root_ + "/link");
  EXPECT_EQ(ReadRegularFile(fs, "/link", 1024), "sandbox passwd\n");
  std::filesystem::create_symlink("../../../../../../../etc/hostname",
                                  root_ + "/climb");
  EXPECT_EQ(ReadRegularFile(fs, "/climb", 1024), std::nullopt);
}

TEST_F(SandboxFsTest, ReadRegularFileNeverBlocksOnFifoOrReadsDevices) {
  SandboxFs fs(root_);
  ASSERT_EQ(mkfifo((root_ + "/etc/group").c_str(), 0644), 0);
  // A FIFO without a writer would block an ordinary open forever.
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(ReadRegularFile(fs, "/etc/group", 1 << 20), std::nullopt);
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            std::chrono::seconds(1));
  // /dev/zero behind an absolute link resolves inside the root (missing);
  // a device node inside the root is refused by type, not read.
  std::filesystem::remove(root_ + "/etc/passwd");
  std::filesystem::create_symlink("/dev/zero", root_ + "/etc/passwd");
  EXPECT_EQ(ReadRegularFile(fs, "/etc/passwd", 1 << 20), std::nullopt);
  if (geteuid() == 0) {
    std::filesystem::create_directories(root_ + "/dev");
    ASSERT_EQ(
        mknod((root_ + "/dev/zero").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
    EXPECT_EQ(ReadRegularFile(fs, "/etc/passwd", 1 << 20), std::nullopt);
  }
}

TEST_F(SandboxFsTest, WriteRegularFileReplacesSymlinkInsteadOfFollowing) {
  TempDir outside;
  WriteFile(outside.path() + "/victim", "host file");
  std::filesystem::create_symlink(outside.path() + "/victim",
                                  root_ + "/etc/hostname");
  SandboxFs fs(root_);
  WriteRegularFile(fs, "/etc/hostname", "sbx\n", geteuid(), getegid(), 0644);
  EXPECT_EQ(ReadFile(outside.path() + "/victim"), "host file");
  EXPECT_FALSE(std::filesystem::is_symlink(root_ + "/etc/hostname"));
  EXPECT_EQ(ReadFile(root_ + "/etc/hostname"), "sbx\n");
  struct stat st {};
  ASSERT_EQ(lstat((root_ + "/etc/hostname").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  // Replacing an existing file leaves no temporary file behind.
  WriteRegularFile(fs, "/etc/hostname", "again", geteuid(), getegid(), 0600);
  EXPECT_EQ(ReadFile(root_ + "/etc/hostname"), "again");
  EXPECT_EQ(fs.ListNames("/etc"),
            (std::vector<std::string>{"hostname", "passwd"}));
}

TEST_F(SandboxFsTest, WriteRegularFileStaysInsideRootAndChowns) {
  TempDir outside;
  // The parent is a symlink to a host directory: it resolves inside the
  // root (where /<outside> does not exist), so nothing is written outside.
  std::filesystem::create_directory_symlink(outside.path(), root_ + "/out");
  SandboxFs fs(root_);
  EXPECT_THROW(WriteRegularFile(fs, "/out/f", "x", 0, 0, 0644), PathError);
  EXPECT_TRUE(std::filesystem::is_empty(outside.path()));
  // A directory at the path is not replaced.
  std::filesystem::create_directories(root_ + "/etc/dir");
  EXPECT_THROW(WriteRegularFile(fs, "/etc/dir", "x", 0, 0, 0644), PathError);
  EXPECT_EQ(fs.ListNames("/etc"), (std::vector<std::string>{"dir", "passwd"}));
  if (geteuid() == 0) {
    WriteRegularFile(fs, "/etc/group", "g\n", 1000123, 1000456, 0640);
    struct stat st {};
    ASSERT_EQ(stat((root_ + "/etc/group").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1000123u);
    EXPECT_EQ(st.st_gid, 1000456u);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
  }
}

TEST(SandboxPathOfFdTest, MapsHostPathsUnderRoot) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/x/y");
  SandboxFs fs(dir.path());
  UniqueFd fd = fs.Open("/x/y", O_PATH);
  EXPECT_EQ(SandboxPathOfFd(fd.get(), fs.root_path()), "/x/y");
  EXPECT_EQ(SandboxPathOfFd(fd.get(), "/elsewhere"), "");
}

}  // namespace
}  // namespace e2b_local
