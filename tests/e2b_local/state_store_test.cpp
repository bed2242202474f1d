// The state store: persistence across reloads, atomic writes, resolution of
// template references, and the layer copies snapshots are made of.

#include "store/file_ops.hpp"
#include "store/template_store.hpp"
#include "util/failure.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/e2b-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { RemoveTree(dir_); }
  std::string dir_;
};

TEST_F(StateStoreTest, TemplatesSurviveReload) {
  std::string tid, bid;
  {
    TemplateStore store(dir_);
    auto created = store.CreateTemplate("web:v2", {"prod"}, 4, 1024);
    tid = created.tmpl.template_id;
    bid = created.build.build_id;
    store.AppendBuildLog(tid, bid, BuildLogRecord{NowMs(), "warn", "hi", "1"});
    store.SetBuildState(tid, bid, "ready");
  }
  TemplateStore reloaded(dir_);
  auto list = reloaded.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].template_id, "base");
  EXPECT_EQ(list[1].template_id, tid);
  auto resolved = reloaded.Resolve("web:prod");
  EXPECT_EQ(resolved.build.build_id, bid);
  EXPECT_EQ(resolved.build.cpu_count, 4);
  EXPECT_EQ(resolved.build.status, "ready");
  ASSERT_EQ(resolved.build.logs.size(), 2u);
  EXPECT_EQ(resolved.build.logs[1].message, "hi");
  EXPECT_EQ(reloaded.Resolve(tid + ":v2").build.build_id, bid);
  EXPECT_EQ(reloaded.Resolve("web").build.build_id, bid);

  reloaded.Delete("web");
  TemplateStore again(dir_);
  EXPECT_EQ(again.List().size(), 1u);
  EXPECT_FALSE(again.Find(tid));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

TEST_F(StateStoreTest, BuildLogsLiveInAFilePerBuild) {
  std::string tid, bid;
  {
    TemplateStore store(dir_);
    auto created = store.CreateTemplate("chatty", {}, 2, 512);
    tid = created.tmpl.template_id;
    bid = created.build.build_id;
    const std::string state_before = ReadAll(dir_ + "/templates.json");
    std::vector<BuildLogRecord> batch;
    for (int i = 0; i < 1000; ++i) {
      batch.push_back(BuildLogRecord{
          NowMs(), "info", "line " + std::to_string(i) + "\n\"q\"", "2"});
    }
    store.AppendBuildLogs(tid, bid, batch);
    // Logging does not rewrite the state file, and the file holds no logs.
    EXPECT_EQ(ReadAll(dir_ + "/templates.json"), state_before);
    EXPECT_EQ(state_before.find("line 1"), std::string::npos);
    EXPECT_EQ(store.GetBuild(tid, bid).build.logs.size(), 1001u);
  }
  const std::string log_path = dir_ + "/build-logs/" + bid + ".jsonl";
  // A crash in the middle of an append leaves a torn last line.
  {
    std::ofstream out(log_path, std::ios::app);
    out << R"({"timestampMs":1,"level":"info","mess)";
  }
  {
    TemplateStore reloaded(dir_);
    const auto logs = reloaded.GetBuild(tid, bid).build.logs;
    ASSERT_EQ(logs.size(), 1001u);
    EXPECT_EQ(logs[0].message, "Build " + bid + " created");
    EXPECT_EQ(logs[1000].message, "line 999\n\"q\"");
    EXPECT_EQ(logs[1000].step, "2");
    reloaded.Delete(tid);
  }
  EXPECT_FALSE(std::filesystem::exists(log_path));
}

TEST_F(StateStoreTest, LogsOfAnOlderStateFileMoveToTheirOwnFiles) {
  std::string tid, bid;
  {
    TemplateStore store(dir_);
    auto created = store.CreateTemplate("old", {}, 2, 512);
    tid = created.tmpl.template_id;
    bid = created.build.build_id;
    store.SetBuildState(tid, bid, "ready");
  }
  // Rewrite the state as an older e2b-local kept it: logs inline, no file.
  std::string state = ReadAll(dir_ + "/templates.json");
  const std::string key = "\"layers\"";
  const auto at = state.find(key);
  ASSERT_NE(at, std::string::npos);
  state.insert(at, R"("logs": [{"timestampMs": 5, "level": "warn",
      "message": "from the old file", "step": "1"}], )");
  WriteFileAtomically(dir_ + "/templates.json", state);
  ASSERT_EQ(::unlink((dir_ + "/build-logs/" + bid + ".jsonl").c_str()), 0);
  // And a stray log file of a build nobody knows.
  WriteFileAtomically(dir_ + "/build-logs/stray.jsonl", "{}\n");

  {
    TemplateStore reloaded(dir_);
    const auto logs = reloaded.GetBuild(tid, bid).build.logs;
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_EQ(logs[0].message, "from the old file");
    EXPECT_EQ(ReadAll(dir_ + "/templates.json").find("from the old file"),
              std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/build-logs/stray.jsonl"));
  }
  TemplateStore again(dir_);
  const auto logs = again.GetBuild(tid, bid).build.logs;
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].level, "warn");
}

TEST_F(StateStoreTest, ResolveErrors) {
  TemplateStore store(dir_);
  try {
    store.Resolve("missing");
    FAIL();
  } catch (const Failure& e) {
    EXPECT_EQ(e.reason, Failure::Reason::kNotFound);
  }
  auto created = store.CreateTemplate("waiting", {}, 2, 512);
  try {
    store.Resolve("waiting");
    FAIL();
  } catch (const Failure& e) {
    EXPECT_EQ(e.reason,
              Failure::Reason::kFailedPrecondition);  // no ready build
  }
  try {
    store.Resolve("waiting:nosuchtag");
    FAIL();
  } catch (const Failure& e) {
    EXPECT_EQ(e.reason, Failure::Reason::kNotFound);
  }
  EXPECT_THROW(store.CreateTemplate("../etc", {}, 2, 512), Failure);
  EXPECT_THROW(store.CreateTemplate("ok", {"bad tag"}, 2, 512), Failure);
  EXPECT_THROW(store.Delete("base"), Failure);
  EXPECT_EQ(store.Resolve("base").build.layers.size(), 0u);
}

TEST_F(StateStoreTest, CorruptFileIsAClearError) {
  std::ofstream(dir_ + "/templates.json") << "{not json";
  try {
    TemplateStore store(dir_);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unreadable"), std::string::npos);
  }
}

TEST_F(StateStoreTest, SnapshotsAddBuildsAndShareLayers) {
  TemplateStore store(dir_);
  auto [layer1, build1] = store.NewLayer();
  auto first =
      store.AddSnapshot("snap", "isrc", build1, {layer1}, 2, 512, 1024);
  EXPECT_TRUE(first.tmpl.snapshot);
  EXPECT_EQ(first.tmpl.SnapshotId(), "snap:default");
  auto [layer2, build2] = store.NewLayer();
  auto second =
      store.AddSnapshot("snap", "isrc", build2, {layer2, layer1}, 2, 512, 1024);
  EXPECT_EQ(second.tmpl.template_id, first.tmpl.template_id);
  EXPECT_EQ(second.tmpl.builds.size(), 2u);
  EXPECT_EQ(store.Resolve("snap:default").build.build_id, build2);
  // A template name cannot be taken over by a snapshot and vice versa.
  EXPECT_THROW(store.CreateTemplate("snap", {}, 2, 512), Failure);

  auto [layer3, build3] = store.NewLayer();
  auto unnamed = store.AddSnapshot("", "isrc", build3, {layer3, layer2, layer1},
                                   2, 512, 1024);
  store.Delete("snap");
  struct stat st;
  // Still used by the unnamed snapshot.
  EXPECT_EQ(stat(layer1.c_str(), &st), 0);
  EXPECT_EQ(stat(layer2.c_str(), &st), 0);
  store.Delete(unnamed.tmpl.SnapshotId());
  EXPECT_NE(stat(layer1.c_str(), &st), 0);
  EXPECT_NE(stat(layer3.c_str(), &st), 0);
}

// The build step cache: found by key, kept across reloads, its layers safe
// from template deletes and the start-up reclaim; past the limit the least
// recently used entries go with the layers nothing else uses.
TEST_F(StateStoreTest, StepCacheKeepsItsLayersAndEvictsTheOldest) {
  const auto layer_with_file = [](TemplateStore& store) {
    const std::string dir = store.NewLayer().first;
    std::ofstream(dir + "/f") << "x";
    return dir;
  };
  std::string first_layer, shared_layer, tid, bid;
  {
    TemplateStore store(dir_);
    first_layer = layer_with_file(store);
    BuildOutputs ctx;
    ctx.user = "app";
    ctx.env_vars = {{"K", "v"}};
    store.AddStepCache(StepCacheEntry{"key-0", first_layer, ctx, 0});
    // A template build shares a layer with a cache entry.
    auto created = store.CreateTemplate("cached", {}, 2, 512);
    tid = created.tmpl.template_id;
    bid = created.build.build_id;
    shared_layer = layer_with_file(store);
    store.FinishBuild(tid, bid, {shared_layer}, BuildOutputs{}, "whole");
    store.AddStepCache(StepCacheEntry{"key-1", shared_layer, {}, 0});
  }
  TemplateStore store(dir_);
  auto found = store.FindStepCache("key-0");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->layer, first_layer);
  EXPECT_EQ(found->context.user, "app");
  EXPECT_EQ(found->context.env_vars.at("K"), "v");
  EXPECT_FALSE(store.FindStepCache("key-unknown").has_value());
  EXPECT_TRUE(store.ReclaimUnusedLayers().empty());
  store.Delete(tid);
  EXPECT_TRUE(std::filesystem::exists(shared_layer + "/f"))
      << "deleting the template took a layer the cache still names";

  // Fill the cache: key-1 (never looked up) is the oldest and goes with
  // its layer, now used by nothing; key-0 was just used and stays.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  store.FindStepCache("key-0");
  for (std::size_t i = 0; i + 1 < TemplateStore::kMaxStepCache; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    store.AddStepCache(
        StepCacheEntry{"fill-" + std::to_string(i), first_layer, {}, 0});
  }
  EXPECT_FALSE(store.FindStepCache("key-1").has_value());
  EXPECT_FALSE(std::filesystem::exists(shared_layer));
  EXPECT_TRUE(store.FindStepCache("key-0").has_value());
  EXPECT_TRUE(std::filesystem::exists(first_layer + "/f"));
}

TEST_F(StateStoreTest, AtomicWriteAndCopyTree) {
  const std::string file = dir_ + "/f.json";
  WriteFileAtomically(file, "one");
  WriteFileAtomically(file, "two");
  EXPECT_EQ(*ReadFileIfExists(file), "two");
  EXPECT_FALSE(ReadFileIfExists(dir_ + "/missing"));

  const std::string src = dir_ + "/src";
  MakeDirs(src + "/a/b");
  std::ofstream(src + "/a/b/file") << "data";
  chmod((src + "/a/b/file").c_str(), 0640);
  ASSERT_EQ(symlink("/etc/passwd", (src + "/link").c_str()), 0);
  CopyTree(src, dir_ + "/dst");
  EXPECT_EQ(*ReadFileIfExists(dir_ + "/dst/a/b/file"), "data");
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/dst/a/b/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  char target[64] = {};
  ASSERT_GT(readlink((dir_ + "/dst/link").c_str(), target, sizeof(target) - 1),
            0);
  EXPECT_STREQ(target, "/etc/passwd");
  RemoveTree(dir_ + "/dst");
  EXPECT_NE(lstat((dir_ + "/dst").c_str(), &st), 0);
}

// A snapshot copies a running sandbox's tree while envd may delete in it:
// entries that vanish between listing and copying are skipped as deleted,
// never an error (the chaos test saw "cannot open" failures here).
TEST_F(StateStoreTest, CopyTreeSkipsEntriesRemovedMidCopy) {
  const std::string src = dir_ + "/live";
  auto populate = [&] {
    for (int d = 0; d < 20; ++d) {
      const std::string sub = src + "/d" + std::to_string(d);
      MakeDirs(sub + "/inner");
      for (int f = 0; f < 10; ++f) {
        std::ofstream(sub + "/f" + std::to_string(f)) << "content";
        std::ofstream(sub + "/inner/g" + std::to_string(f)) << "content";
      }
      symlink("f0", (sub + "/link").c_str());
    }
  };
  populate();
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop) {
      RemoveTree(src);
      MakeDirs(src);
      populate();
    }
  });
  int failures = 0;
  std::string first_error;
  for (int i = 0; i < 40; ++i) {
    const std::string dst = dir_ + "/copy" + std::to_string(i);
    try {
      CopyTree(src, dst);
    } catch (const std::exception& e) {
      // Only the root itself vanishing (between churn's remove and mkdir)
      // may fail: the caller asked for a tree that was not there.
      if (std::string(e.what()).find(src + "/") != std::string::npos &&
          failures++ == 0) {
        first_error = e.what();
      }
    }
    RemoveTree(dst);
  }
  stop = true;
  churn.join();
  EXPECT_EQ(failures, 0) << first_error;
}

}  // namespace
}  // namespace e2b_local
