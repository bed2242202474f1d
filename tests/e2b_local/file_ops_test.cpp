// DirectoryNames, the one directory lister of e2b-local, and how tree
// copies and removals stop at mount points.

#include "store/file_ops.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace e2b_local {
namespace {

namespace fs = std::filesystem;

TEST(FileOpsTest, DirectoryNamesListsEntriesButDotAndDotDot) {
  char pattern[] = "/tmp/e2b-file-ops.XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  auto empty = DirectoryNames(dir);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());

  fs::create_directory(dir + "/sub");
  std::ofstream(dir + "/file") << "x";
  fs::create_symlink("/nonexistent", dir + "/.hidden-link");
  auto names = DirectoryNames(dir);
  ASSERT_TRUE(names);
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{".hidden-link", "file", "sub"}));

  errno = 0;
  EXPECT_FALSE(DirectoryNames(dir + "/missing"));
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_FALSE(DirectoryNames(dir + "/file"));
  EXPECT_EQ(errno, ENOTDIR);

  std::error_code ec;
  fs::remove_all(dir, ec);
}

// A bind mount of a directory of the same filesystem (a volume inside a
// sandbox's root) keeps st_dev: RemoveTree must still refuse to go
// through it and CopyTree must leave it an empty directory, or a leftover
// mount would cost a volume its files.
TEST(FileOpsTest, TreeOperationsStopAtBindMounts) {
  if (geteuid() != 0) GTEST_SKIP() << "bind mounts need root";
  char pattern[] = "/tmp/e2b-file-ops.XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  fs::create_directories(dir + "/volume");
  std::ofstream(dir + "/volume/keep.txt") << "precious";
  fs::create_directories(dir + "/tree/mnt");
  std::ofstream(dir + "/tree/file") << "x";
  if (mount((dir + "/volume").c_str(), (dir + "/tree/mnt").c_str(), nullptr,
            MS_BIND, nullptr) != 0) {
    fs::remove_all(dir);
    GTEST_SKIP() << "cannot bind mount here";
  }
  CopyTree(dir + "/tree", dir + "/copy");
  EXPECT_TRUE(fs::exists(dir + "/copy/file"));
  EXPECT_TRUE(fs::is_directory(dir + "/copy/mnt"));
  EXPECT_FALSE(fs::exists(dir + "/copy/mnt/keep.txt"));
  EXPECT_THROW(RemoveTree(dir + "/tree"), std::runtime_error);
  EXPECT_TRUE(fs::exists(dir + "/volume/keep.txt"));
  ASSERT_EQ(umount2((dir + "/tree/mnt").c_str(), MNT_DETACH), 0);
  RemoveTree(dir + "/tree");
  EXPECT_FALSE(fs::exists(dir + "/tree"));
  EXPECT_TRUE(fs::exists(dir + "/volume/keep.txt"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace e2b_local
