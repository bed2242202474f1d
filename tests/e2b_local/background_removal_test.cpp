// RemoveTreeInBackground: the path is gone when the call returns, the tree
// is deleted later by the worker, and deletion keeps RemoveTree's rules;
// RemoveSandboxTree (now or in the background) and RemoveTreeOrLog too.

#include "runtime/background_removal.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace e2b_local {
namespace {

namespace fs = std::filesystem;

class BackgroundRemovalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/e2b-bg-removal.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    WaitForBackgroundRemovals();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }
  std::string dir_;
};

TEST_F(BackgroundRemovalTest, PathIsFreeAtOnceAndTreeGoesLater) {
  const std::string tree = dir_ + "/sandbox";
  for (int i = 0; i < 50; ++i) {
    Write(tree + "/upper/etc/file" + std::to_string(i), "data");
  }
  RemoveTreeInBackground(tree);
  EXPECT_FALSE(fs::exists(tree));
  // The name can be reused right away (a new sandbox with the same dir).
  Write(tree + "/new", "fresh");
  WaitForBackgroundRemovals();
  EXPECT_TRUE(fs::exists(tree + "/new"));
  std::size_t left = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "sandbox");
    ++left;
  }
  EXPECT_EQ(left, 1u);
}

TEST_F(BackgroundRemovalTest, DoesNotFollowSymlinksOutOfTheTree) {
  const std::string outside = dir_ + "/outside";
  Write(outside + "/keep.txt", "keep");
  const std::string tree = dir_ + "/sandbox";
  fs::create_directories(tree);
  fs::create_directory_symlink(outside, tree + "/link");
  RemoveTreeInBackground(tree);
  WaitForBackgroundRemovals();
  EXPECT_FALSE(fs::exists(tree));
  EXPECT_TRUE(fs::exists(outside + "/keep.txt"));
}

TEST_F(BackgroundRemovalTest, MissingPathIsNotAnError) {
  RemoveTreeInBackground(dir_ + "/never-existed");
  RemoveTreeInBackground("relative-name-without-slash-that-does-not-exist");
  WaitForBackgroundRemovals();
  EXPECT_TRUE(fs::exists(dir_));
}

TEST_F(BackgroundRemovalTest, ManyTreesAllGo) {
  for (int i = 0; i < 20; ++i) {
    Write(dir_ + "/t" + std::to_string(i) + "/a/b", "x");
    RemoveTreeInBackground(dir_ + "/t" + std::to_string(i));
  }
  WaitForBackgroundRemovals();
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(BackgroundRemovalTest, SandboxTreeGoesNowOrInTheBackground) {
  Write(dir_ + "/now/a/b", "x");
  RemoveSandboxTree(dir_ + "/now", false);
  EXPECT_TRUE(fs::is_empty(dir_)) << "removed before it returned";
  Write(dir_ + "/later/a/b", "x");
  RemoveSandboxTree(dir_ + "/later", true);
  EXPECT_FALSE(fs::exists(dir_ + "/later"));
  WaitForBackgroundRemovals();
  EXPECT_TRUE(fs::is_empty(dir_));
  RemoveSandboxTree(dir_ + "/never-existed", false);
}

TEST_F(BackgroundRemovalTest, RemoveTreeOrLogKeepsRemoveTreesRules) {
  const std::string outside = dir_ + "/outside";
  Write(outside + "/keep.txt", "keep");
  const std::string tree = dir_ + "/tree";
  Write(tree + "/a/b", "x");
  fs::create_directory_symlink(outside, tree + "/link");
  RemoveTreeOrLog(tree);
  EXPECT_FALSE(fs::exists(tree));
  EXPECT_TRUE(fs::exists(outside + "/keep.txt"));
  RemoveTreeOrLog(dir_ + "/never-existed");
}

}  // namespace
}  // namespace e2b_local
