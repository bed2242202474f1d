#include "envd/filesystem_service.hpp"

#include "e2b_local/envd_test_fixture.hpp"
#include "envd/entry_info.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>

namespace e2b_local {
namespace {

using nlohmann::json;
using testing::ReadFile;
using testing::WriteFile;

class FilesystemServiceTest : public testing::EnvdFixture {
 protected:
  // {status, body} of a filesystem RPC.
  std::pair<int, json> Call(const std::string& method, const json& request) {
    auto res = Unary("/filesystem.Filesystem/" + method, request);
    if (!res) {
      ADD_FAILURE() << "no response";
      return {0, json()};
    }
    return {res->status, json::parse(res->body)};
  }
  std::string Home() const { return root_ + "/home/user"; }
};

TEST_F(FilesystemServiceTest, StatFile) {
  WriteFile(Home() + "/a.txt", "hello");
  chmod((Home() + "/a.txt").c_str(), 0640);
  chown((Home() + "/a.txt").c_str(), 1000, 0);
  auto [status, body] = Call("Stat", {{"path", "a.txt"}});
  ASSERT_EQ(status, 200) << body;
  const json& e = body["entry"];
  EXPECT_EQ(e["name"], "a.txt");
  EXPECT_EQ(e["type"], "FILE_TYPE_FILE");
  EXPECT_EQ(e["path"], "/home/user/a.txt");
  EXPECT_EQ(e["size"], "5");
  EXPECT_EQ(e["mode"], 0640);
  EXPECT_EQ(e["permissions"], "-rw-r-----");
  EXPECT_EQ(e["owner"], "user");
  EXPECT_EQ(e["group"], "root");
  std::string time = e["modifiedTime"];
  ASSERT_EQ(time.size(), 30u) << time;  // 2025-01-02T03:04:05.123456789Z
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_FALSE(e.contains("symlinkTarget"));
}

TEST_F(FilesystemServiceTest, ModeIsPermissionBitsOnly) {
  std::filesystem::create_directories(Home() + "/sticky");
  chmod((Home() + "/sticky").c_str(), 01777);
  auto [status, body] = Call("Stat", {{"path", "sticky"}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["entry"]["mode"], 0777);
  EXPECT_EQ(body["entry"]["permissions"], "drwxrwxrwt");
}

TEST_F(FilesystemServiceTest, StatDirectoryAndSymlinks) {
  auto [status, body] = Call("Stat", {{"path", "/home/user"}});
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["entry"]["type"], "FILE_TYPE_DIRECTORY");
  EXPECT_EQ(body["entry"]["permissions"].get<std::string>()[0], 'd');

  std::filesystem::create_directory_symlink("/etc", Home() + "/etclink");
  std::tie(status, body) = Call("Stat", {{"path", "etclink"}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["entry"]["type"], "FILE_TYPE_DIRECTORY");
  EXPECT_EQ(body["entry"]["symlinkTarget"], "/etc");

  std::filesystem::create_symlink("missing", Home() + "/dangling");
  std::tie(status, body) = Call("Stat", {{"path", "dangling"}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["entry"]["type"], "FILE_TYPE_SYMLINK");
  EXPECT_EQ(body["entry"]["symlinkTarget"], "/home/user/missing");
}

TEST_F(FilesystemServiceTest, StatErrors) {
  auto [status, body] = Call("Stat", {{"path", "/nope"}});
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["code"], "not_found");
  std::tie(status, body) = Call("Stat", {{"path", "~other"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["code"], "invalid_argument");
  std::filesystem::create_symlink("loop", Home() + "/loop");
  std::tie(status, body) = Call("Stat", {{"path", "loop/x"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["code"], "failed_precondition");
}

TEST_F(FilesystemServiceTest, ListDirWithDepth) {
  WriteFile(Home() + "/d/f1", "1");
  WriteFile(Home() + "/d/sub/f2", "22");
  WriteFile(Home() + "/d/sub/deeper/f3", "333");
  auto [status, body] = Call("ListDir", {{"path", "d"}});
  ASSERT_EQ(status, 200) << body;
  std::vector<std::string> paths;
  for (const auto& e : body["entries"]) paths.push_back(e["path"]);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"/home/user/d/f1", "/home/user/d/sub"}));
  std::tie(status, body) = Call("ListDir", {{"path", "d"}, {"depth", 2}});
  paths.clear();
  for (const auto& e : body["entries"]) paths.push_back(e["path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "/home/user/d/f1", "/home/user/d/sub",
                       "/home/user/d/sub/deeper", "/home/user/d/sub/f2"}));

  std::tie(status, body) = Call("ListDir", {{"path", "d/f1"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["code"], "invalid_argument");
  std::tie(status, body) = Call("ListDir", {{"path", "nothing"}});
  EXPECT_EQ(status, 404);
  std::tie(status, body) = Call("ListDir", {{"path", "d"}, {"depth", -1}});
  EXPECT_EQ(status, 400);
}

TEST_F(FilesystemServiceTest, MakeDir) {
  auto [status, body] = Call("MakeDir", {{"path", "x/y/z"}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["entry"]["path"], "/home/user/x/y/z");
  EXPECT_EQ(body["entry"]["type"], "FILE_TYPE_DIRECTORY");
  EXPECT_EQ(body["entry"]["owner"], "user");
  EXPECT_TRUE(std::filesystem::is_directory(Home() + "/x/y/z"));

  std::tie(status, body) = Call("MakeDir", {{"path", "x/y/z"}});
  EXPECT_EQ(status, 409);
  EXPECT_EQ(body["code"], "already_exists");
  WriteFile(Home() + "/plain", "p");
  std::tie(status, body) = Call("MakeDir", {{"path", "plain"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["code"], "invalid_argument");
  std::tie(status, body) = Call("MakeDir", {{"path", "plain/sub"}});
  EXPECT_EQ(status, 400);
}

TEST_F(FilesystemServiceTest, MoveAndRemove) {
  WriteFile(Home() + "/src.txt", "moved");
  auto [status, body] =
      Call("Move", {{"source", "src.txt"}, {"destination", "new/dst.txt"}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["entry"]["path"], "/home/user/new/dst.txt");
  EXPECT_EQ(ReadFile(Home() + "/new/dst.txt"), "moved");
  EXPECT_FALSE(std::filesystem::exists(Home() + "/src.txt"));

  std::tie(status, body) =
      Call("Move", {{"source", "src.txt"}, {"destination", "x"}});
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["code"], "not_found");

  std::tie(status, body) = Call("Remove", {{"path", "new"}});
  EXPECT_EQ(status, 200) << body;
  EXPECT_EQ(body, json::object());
  EXPECT_FALSE(std::filesystem::exists(Home() + "/new"));
  std::tie(status, body) = Call("Remove", {{"path", "new"}});
  EXPECT_EQ(status, 200);  // missing paths are fine
  std::tie(status, body) = Call("Remove", {{"path", "/"}});
  EXPECT_EQ(status, 400);
  EXPECT_TRUE(std::filesystem::exists(root_ + "/etc/passwd"));
}

TEST_F(FilesystemServiceTest, RemoveThroughSymlinkKeepsHostFiles) {
  testing::TempDir outside;
  WriteFile(outside.path() + "/precious", "keep");
  std::filesystem::create_directory_symlink(outside.path(),
                                            Home() + "/outside");
  // The link resolves inside the sandbox (where the target is missing):
  // removing through it never deletes host files.
  Call("Remove", {{"path", "outside/precious"}});
  auto [status, body] = Call("Remove", {{"path", "outside"}});
  EXPECT_EQ(status, 200);
  EXPECT_EQ(ReadFile(outside.path() + "/precious"), "keep");
  EXPECT_FALSE(std::filesystem::is_symlink(Home() + "/outside"));
}

// Reads a WatchDir stream message by message on a background thread.
class WatchStream {
 public:
  WatchStream(int port, const json& request) {
    thread_ = std::thread([this, port, request] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(15, 0);
      httplib::Request req;
      req.method = "POST";
      req.path = "/filesystem.Filesystem/WatchDir";
      req.set_header("E2b-Sandbox-Id", testing::EnvdFixture::kOpen);
      req.set_header("Content-Type", "application/connect+json");
      // Short keepalives end the server side soon after we hang up.
      req.set_header("Keepalive-Ping-Interval", "1");
      req.set_header("Connect-Timeout-Ms", "9000");
      req.body = testing::Envelope(request);
      req.content_receiver = [this](const char* data, std::size_t size,
                                    std::uint64_t, std::uint64_t) {
        decoder_.Feed(std::string_view(data, size));
        std::lock_guard<std::mutex> lock(mu_);
        while (auto envelope = decoder_.Next()) {
          messages_.push_back(json::parse(envelope->payload));
          if (envelope->EndStream()) ended_ = true;
        }
        cv_.notify_all();
        return !stop_;
      };
      client.send(req);
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~WatchStream() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    thread_.join();
  }
  // The first message satisfying `match`, waiting up to 10 s.
  std::optional<json> WaitFor(const std::function<bool(const json&)>& match) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<json> found;
    cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& m : messages_) {
        if (match(m)) {
          found = m;
          return true;
        }
      }
      return ended_;
    });
    return found;
  }

 private:
  std::thread thread_;
  e2b::internal::EnvelopeDecoder decoder_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> messages_;
  bool ended_ = false;
  bool stop_ = false;
};

bool IsEvent(const json& m, const std::string& name, const std::string& type) {
  if (!m.contains("filesystem")) return false;
  const json& fs = m["filesystem"];
  return fs["name"] == name && fs["type"] == type;
}

TEST_F(FilesystemServiceTest, WatchDirStreamsEvents) {
  std::filesystem::create_directories(Home() + "/w");
  WatchStream stream(port_, {{"path", "w"}, {"includeEntry", true}});
  // WatchDirResponse's oneof name never appears on the wire: the first
  // frame is exactly {"start":{}}, as the official SDKs require.
  auto start = stream.WaitFor([](const json&) { return true; });
  ASSERT_TRUE(start);
  EXPECT_EQ(*start, json({{"start", json::object()}}));
  WriteFile(Home() + "/w/new.txt", "data");
  auto created = stream.WaitFor(
      [](const json& m) { return IsEvent(m, "new.txt", "EVENT_TYPE_CREATE"); });
  ASSERT_TRUE(created);
  EXPECT_EQ(created->size(), 1u) << *created;
  EXPECT_EQ((*created)["filesystem"].size(), 3u) << *created;
  EXPECT_EQ((*created)["filesystem"]["entry"]["path"], "/home/user/w/new.txt");
  EXPECT_TRUE(stream.WaitFor(
      [](const json& m) { return IsEvent(m, "new.txt", "EVENT_TYPE_WRITE"); }));
  chmod((Home() + "/w/new.txt").c_str(), 0600);
  EXPECT_TRUE(stream.WaitFor(
      [](const json& m) { return IsEvent(m, "new.txt", "EVENT_TYPE_CHMOD"); }));
  std::filesystem::rename(Home() + "/w/new.txt", Home() + "/w/renamed.txt");
  EXPECT_TRUE(stream.WaitFor([](const json& m) {
    return IsEvent(m, "new.txt", "EVENT_TYPE_RENAME");
  }));
  std::filesystem::remove(Home() + "/w/renamed.txt");
  EXPECT_TRUE(stream.WaitFor([](const json& m) {
    return IsEvent(m, "renamed.txt", "EVENT_TYPE_REMOVE");
  }));
  auto keepalive =
      stream.WaitFor([](const json& m) { return m.contains("keepalive"); });
  ASSERT_TRUE(keepalive);
  EXPECT_EQ(*keepalive, json({{"keepalive", json::object()}}));
}

TEST_F(FilesystemServiceTest, RecursiveWatchSeesNewSubdirectories) {
  std::filesystem::create_directories(Home() + "/r/existing");
  WatchStream stream(port_, {{"path", "r"}, {"recursive", true}});
  ASSERT_TRUE(
      stream.WaitFor([](const json& m) { return m.contains("start"); }));
  WriteFile(Home() + "/r/existing/a.txt", "a");
  EXPECT_TRUE(stream.WaitFor([](const json& m) {
    return IsEvent(m, "existing/a.txt", "EVENT_TYPE_CREATE");
  }));
  WriteFile(Home() + "/r/fresh/deep/b.txt", "b");
  EXPECT_TRUE(stream.WaitFor([](const json& m) {
    return IsEvent(m, "fresh/deep/b.txt", "EVENT_TYPE_CREATE");
  }));
}

TEST_F(FilesystemServiceTest, WatchDirOnFileIsInvalid) {
  WriteFile(Home() + "/f", "x");
  json end;
  Stream("/filesystem.Filesystem/WatchDir", {{"path", "f"}}, &end);
  EXPECT_EQ(end["error"]["code"], "invalid_argument");
}

TEST_F(FilesystemServiceTest, PollingWatcher) {
  std::filesystem::create_directories(Home() + "/p");
  auto [status, body] = Call("CreateWatcher", {{"path", "p"}});
  ASSERT_EQ(status, 200) << body;
  std::string id = body["watcherId"];
  ASSERT_FALSE(id.empty());

  WriteFile(Home() + "/p/one", "1");
  std::tie(status, body) = Call("GetWatcherEvents", {{"watcherId", id}});
  ASSERT_EQ(status, 200) << body;
  bool saw_create = false;
  for (const auto& e : body["events"]) {
    if (e["name"] == "one" && e["type"] == "EVENT_TYPE_CREATE") {
      saw_create = true;
    }
  }
  EXPECT_TRUE(saw_create) << body;
  // Drained: nothing new since.
  std::tie(status, body) = Call("GetWatcherEvents", {{"watcher_id", id}});
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(body["events"].empty()) << body;

  std::tie(status, body) = Call("RemoveWatcher", {{"watcherId", id}});
  EXPECT_EQ(status, 200);
  std::tie(status, body) = Call("GetWatcherEvents", {{"watcherId", id}});
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["code"], "not_found");
  std::tie(status, body) = Call("RemoveWatcher", {{"watcherId", id}});
  EXPECT_EQ(status, 404);
  std::tie(status, body) = Call("CreateWatcher", {{"path", "missing"}});
  EXPECT_EQ(status, 404);
}

TEST_F(FilesystemServiceTest, ListDirCapsDepthAndEntries) {
  std::filesystem::create_directories(Home() + "/big");
  auto [status, body] = Call("ListDir", {{"path", "big"}, {"depth", 64}});
  EXPECT_EQ(status, 200) << body;
  std::tie(status, body) = Call("ListDir", {{"path", "big"}, {"depth", 65}});
  EXPECT_EQ(status, 400) << body;
  EXPECT_EQ(body["code"], "invalid_argument");
  // One entry over the cap: a clear error instead of a listing the server
  // would have to hold in memory.
  for (int i = 0; i <= 100000; ++i) {
    int fd = open((Home() + "/big/" + std::to_string(i)).c_str(),
                  O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  std::tie(status, body) = Call("ListDir", {{"path", "big"}});
  EXPECT_EQ(status, 429) << body.dump().substr(0, 200);
  EXPECT_EQ(body["code"], "resource_exhausted");
  EXPECT_NE(body["message"].get<std::string>().find("100000"),
            std::string::npos);
  std::filesystem::remove(Home() + "/big/0");
  std::tie(status, body) = Call("ListDir", {{"path", "big"}});
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["entries"].size(), 100000u);
}

TEST_F(FilesystemServiceTest, WatchersPerSandboxAreCapped) {
  std::filesystem::create_directories(Home() + "/p");
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < WatchQuota::kMaxWatchersPerSandbox; ++i) {
    auto [status, body] = Call("CreateWatcher", {{"path", "p"}});
    ASSERT_EQ(status, 200) << i << body;
    ids.push_back(body["watcherId"]);
  }
  // Streams count as well as polling watchers.
  auto [status, body] = Call("CreateWatcher", {{"path", "p"}});
  EXPECT_EQ(status, 429) << body;
  EXPECT_EQ(body["code"], "resource_exhausted");
  json end;
  Stream("/filesystem.Filesystem/WatchDir", {{"path", "p"}}, &end);
  EXPECT_EQ(end["error"]["code"], "resource_exhausted") << end;
  // Removing one frees its slot.
  std::tie(status, body) = Call("RemoveWatcher", {{"watcherId", ids.back()}});
  EXPECT_EQ(status, 200);
  std::tie(status, body) = Call("CreateWatcher", {{"path", "p"}});
  EXPECT_EQ(status, 200) << body;
}

TEST_F(FilesystemServiceTest, RecursiveWatchOfAHugeTreeFailsClearly) {
  // More directories than one sandbox may watch: the watcher is refused
  // at once instead of using up the host's fs.inotify.max_user_watches.
  const std::string tree = Home() + "/tree";
  std::filesystem::create_directories(tree);
  for (std::size_t i = 0; i < WatchQuota::kMaxWatchesPerSandbox; ++i) {
    ASSERT_EQ(mkdir((tree + "/" + std::to_string(i)).c_str(), 0755), 0);
  }
  auto [status, body] =
      Call("CreateWatcher", {{"path", "tree"}, {"recursive", true}});
  EXPECT_EQ(status, 429) << body;
  EXPECT_EQ(body["code"], "resource_exhausted");
  EXPECT_NE(body["message"].get<std::string>().find("smaller tree"),
            std::string::npos)
      << body;
  // Its watches were returned: a small recursive watch still works, and
  // the failed one left no watcher behind.
  std::filesystem::create_directories(Home() + "/small/a/b");
  std::tie(status, body) =
      Call("CreateWatcher", {{"path", "small"}, {"recursive", true}});
  EXPECT_EQ(status, 200) << body;
  std::filesystem::remove(tree + "/0");
  std::tie(status, body) =
      Call("CreateWatcher", {{"path", "tree"}, {"recursive", true}});
  EXPECT_EQ(status, 429) << "the small watcher holds 3 of the quota";
}

TEST(EntryInfoTest, FormatsPermissionsAndTime) {
  EXPECT_EQ(FormatPermissions(S_IFREG | 0644), "-rw-r--r--");
  EXPECT_EQ(FormatPermissions(S_IFDIR | 0755), "drwxr-xr-x");
  EXPECT_EQ(FormatPermissions(S_IFLNK | 0777), "lrwxrwxrwx");
  EXPECT_EQ(FormatPermissions(S_IFDIR | 01777), "drwxrwxrwt");
  EXPECT_EQ(FormatPermissions(S_IFREG | 04755), "-rwsr-xr-x");
  struct timespec ts {};
  ts.tv_sec = 1735787045;  // 2025-01-02T03:04:05Z
  ts.tv_nsec = 123456789;
  EXPECT_EQ(FormatTimestamp(ts), "2025-01-02T03:04:05.123456789Z");
}

}  // namespace
}  // namespace e2b_local
