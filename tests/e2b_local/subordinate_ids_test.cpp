// Which host ids sandboxes run as: /etc/subuid and /etc/subgid entries for
// the account e2b-local, else the built-in range.

#include "runtime/subordinate_ids.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace e2b_local {
namespace {

std::string ErrorOf(const std::string& subuid, const std::string& subgid) {
  try {
    SubordinateIdRange(subuid, subgid);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(SubordinateIdsTest, NoEntryMeansTheBuiltInRange) {
  EXPECT_FALSE(SubordinateIdRange("", ""));
  EXPECT_FALSE(
      SubordinateIdRange("alice:100000:65536\n", "alice:100000:65536\n"));
  // A prefix of the name is another account.
  EXPECT_FALSE(
      SubordinateIdRange("e2b-local-x:100000:65536\n", "e2b:100000:65536\n"));
}

TEST(SubordinateIdsTest, TheFirstLargeEnoughEntryIsUsed) {
  const std::string subuid =
      "alice:100000:65536\n"
      "e2b-local:300000:1000\n"   // too small: skipped
      "e2b-local:400000:70000\n"  // the one
      "e2b-local:900000:65536\n";
  const std::string subgid = "e2b-local:400000:65536\nbob:165536:65536\n";
  auto range = SubordinateIdRange(subuid, subgid);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->base, 400000u);
  // Sandboxes use 65536 ids, whatever the entry holds beyond.
  EXPECT_EQ(range->count, 65536u);
  // No trailing newline, CRLF-free lines of other shapes are ignored.
  range = SubordinateIdRange("junk\n\ne2b-local:200000:65536",
                             "e2b-local:200000:65536");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->base, 200000u);
}

TEST(SubordinateIdsTest, UnusableEntriesAreClearErrors) {
  const std::string good = "e2b-local:200000:65536\n";
  EXPECT_NE(ErrorOf(good, "").find("/etc/subgid has no entry for e2b-local"),
            std::string::npos);
  EXPECT_NE(ErrorOf("", good).find("/etc/subuid has no entry"),
            std::string::npos);
  EXPECT_NE(ErrorOf("e2b-local:200000:100\n", good)
                .find("/etc/subuid: no entry for e2b-local with at least "
                      "65536 ids"),
            std::string::npos);
  EXPECT_NE(ErrorOf("e2b-local:x:65536\n", good).find("at least 65536"),
            std::string::npos);
  // Overlapping the host's ordinary users, or running past the last id.
  EXPECT_NE(ErrorOf("e2b-local:1000:65536\n", "e2b-local:1000:65536\n")
                .find("starts at 1000"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf("e2b-local:4294967000:65536\n", "e2b-local:4294967000:65536\n")
          .find("past the last id"),
      std::string::npos);
  EXPECT_NE(ErrorOf(good, "e2b-local:300000:65536\n")
                .find("different ids (200000 and 300000)"),
            std::string::npos);
}

TEST(SubordinateIdsTest, ReadsTheFilesAndSaysWhere) {
  char dir[] = "/tmp/e2b-subids-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string subuid = std::string(dir) + "/subuid";
  const std::string subgid = std::string(dir) + "/subgid";
  std::string source;
  // Missing files: the built-in range.
  IdRange range = ConfiguredIdRange(subuid, subgid, &source);
  EXPECT_EQ(range.base, IdRange{}.base);
  EXPECT_EQ(range.count, IdRange{}.count);
  EXPECT_EQ(source, "built-in default");
  std::ofstream(subuid) << "e2b-local:500000:65536\n";
  std::ofstream(subgid) << "e2b-local:500000:65536\n";
  range = ConfiguredIdRange(subuid, subgid, &source);
  EXPECT_EQ(range.base, 500000u);
  EXPECT_NE(source.find(subuid), std::string::npos);
  // A file that exists but cannot be read is an error, not the default.
  std::filesystem::remove(subgid);
  std::filesystem::create_directory(subgid);
  EXPECT_THROW(ConfiguredIdRange(subuid, subgid), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace e2b_local
