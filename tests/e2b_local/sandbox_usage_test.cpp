// SandboxUsageMeter, CpuMeter and DiskUsageBytes: what Usage() reports for
// either runtime, here without cgroups so the /proc fallback is measured.

#include "runtime/sandbox_usage.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {
namespace runtime_internal {
namespace {

namespace fs = std::filesystem;

class SandboxUsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/e2b-usage-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST(CpuMeterTest, FirstSampleIsZeroAndPercentagesAreClamped) {
  CpuMeter meter;
  EXPECT_EQ(meter.Sample(10.0, 2), 0.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // Far more CPU than the wall time allows: at most 100 %.
  EXPECT_EQ(meter.Sample(1e6, 2), 100.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // A counter that went back (a restarted cgroup): never negative.
  EXPECT_EQ(meter.Sample(0.0, 2), 0.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(meter.Sample(5.0, 0), 0.0) << "no CPUs, no percentage";
}

TEST_F(SandboxUsageTest, DiskUsageCountsWrittenFiles) {
  const std::int64_t empty = DiskUsageBytes(dir_);
  fs::create_directories(dir_ + "/a/b");
  {
    std::ofstream out(dir_ + "/a/b/file", std::ios::binary);
    out << std::string(256 * 1024, 'x');
  }
  EXPECT_GE(DiskUsageBytes(dir_) - empty, 256 * 1024);
  EXPECT_EQ(DiskUsageBytes(dir_ + "/missing"), 0);
}

TEST_F(SandboxUsageTest, SpecTotalsAndProcFallbackWithoutCgroups) {
  SandboxSpec spec;
  spec.id = "usage";
  spec.dir = dir_;
  spec.cpu_count = 3;
  spec.memory_mb = 64;
  SandboxCgroups no_cgroups("", spec.id);  // an empty scope makes none
  int listed = 0;
  auto processes = [&listed] {
    ++listed;
    return std::vector<pid_t>{getpid()};
  };
  SandboxUsageMeter meter;
  ResourceUsage first = meter.Sample(spec, no_cgroups, processes, dir_);
  EXPECT_EQ(listed, 1);
  EXPECT_EQ(first.cpu_count, 3);
  EXPECT_EQ(first.mem_total, 64 * 1024 * 1024);
  EXPECT_GT(first.mem_used, 0) << "this test process's resident memory";
  EXPECT_EQ(first.mem_cache, 0);
  EXPECT_EQ(first.cpu_used_pct, 0) << "one sample has no percentage yet";
  EXPECT_GT(first.disk_total, 0);
  EXPECT_GE(first.disk_used, 0);

  // Burn 100 ms of CPU (a few clock ticks in /proc) so the next sample
  // has something to show.
  const std::clock_t start = std::clock();
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::clock() - start < CLOCKS_PER_SEC / 10 &&
         std::chrono::steady_clock::now() < give_up) {
  }
  ResourceUsage second = meter.Sample(spec, no_cgroups, processes, dir_);
  EXPECT_EQ(listed, 2);
  EXPECT_GT(second.cpu_used_pct, 0);
  EXPECT_LE(second.cpu_used_pct, 100);
}

TEST_F(SandboxUsageTest, HostTotalsWhenTheSpecHasNone) {
  SandboxSpec spec;
  spec.id = "usage";
  spec.dir = dir_;
  SandboxCgroups no_cgroups("", spec.id);
  SandboxUsageMeter meter;
  ResourceUsage usage = meter.Sample(
      spec, no_cgroups, [] { return std::vector<pid_t>{}; }, dir_);
  EXPECT_EQ(usage.cpu_count,
            static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_GT(usage.mem_total, 0);
  EXPECT_EQ(usage.mem_used, 0) << "no processes, no memory";
}

}  // namespace
}  // namespace runtime_internal
}  // namespace e2b_local
