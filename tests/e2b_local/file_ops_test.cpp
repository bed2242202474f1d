// DirectoryNames, the one directory lister of e2b-local.

#include "store/file_ops.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

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

}  // namespace
}  // namespace e2b_local
