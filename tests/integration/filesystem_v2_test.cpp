// The filesystem calls beyond the seed against a real e2b-local: metadata
// RPCs, the user option, multi-file and directory transfers, ranged reads,
// progress, signed URLs and both kinds of directory watch.

#include "integration/e2b_local_fixture.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class FilesystemV2Test : public E2bLocalTest {
 protected:
  void SetUp() override {
    E2bLocalTest::SetUp();
    if (HasFatalFailure()) return;
    sandbox_ = NewSandbox();
    local_ = fs::path(Server().TempDir()) / ("fs-" + RandomHex(6));
    fs::create_directories(local_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(local_, ignored);
    E2bLocalTest::TearDown();
  }
  std::string Run(const std::string& script) {
    e2b::CommandResult r = sandbox_.Commands.Run("sh", {"-c", script});
    EXPECT_EQ(r.ExitCode, 0) << script << ": " << r.Stderr;
    return r.Stdout;
  }
  static std::string Slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  static std::vector<std::string> Names(const std::vector<e2b::FileInfo>& v) {
    std::vector<std::string> names;
    for (const auto& info : v) names.push_back(info.Name);
    std::sort(names.begin(), names.end());
    return names;
  }
  // An HTTP client for the envd endpoint that sends nothing but the routing
  // header: what "any HTTP client" has.
  httplib::Client Plain() const {
    httplib::Client client(Server().SandboxURL());
    client.set_default_headers({{"E2b-Sandbox-Id", sandbox_.ID}});
    client.set_read_timeout(10, 0);
    return client;
  }
  static std::string PathAndQuery(const std::string& url) {
    const auto scheme = url.find("://");
    return url.substr(url.find('/', scheme + 3));
  }

  e2b::Sandbox sandbox_;
  fs::path local_;
};

TEST_F(FilesystemV2Test, StatReportsEveryField) {
  sandbox_.Filesystem.WriteString("/home/user/stat.txt", "12345");
  Run("chmod 640 /home/user/stat.txt");
  const auto before = std::chrono::system_clock::now() - 1h;
  e2b::FileInfo info = sandbox_.Filesystem.Stat("/home/user/stat.txt");
  EXPECT_EQ(info.Name, "stat.txt");
  EXPECT_EQ(info.Path, "/home/user/stat.txt");
  EXPECT_EQ(info.Type, "file");
  EXPECT_EQ(info.Size, 5);
  EXPECT_EQ(info.Mode, 0640u);
  EXPECT_EQ(info.Permissions, "-rw-r-----");
  EXPECT_EQ(info.Owner, "user");
  EXPECT_EQ(info.Group, "user");
  EXPECT_GT(info.ModTime, before);
  EXPECT_FALSE(info.SymlinkTarget.has_value());

  e2b::FileInfo dir = sandbox_.Filesystem.Stat("/home/user");
  EXPECT_EQ(dir.Type, "directory");
  EXPECT_EQ(dir.Permissions.front(), 'd');

  Run("ln -s /home/user/stat.txt /home/user/link");
  e2b::FileInfo link = sandbox_.Filesystem.Stat("/home/user/link");
  ASSERT_TRUE(link.SymlinkTarget.has_value());
  EXPECT_EQ(*link.SymlinkTarget, "/home/user/stat.txt");
  EXPECT_EQ(link.Type, "file");

  EXPECT_THROW(sandbox_.Filesystem.Stat("/home/user/missing"),
               e2b::FileNotFoundError);
  EXPECT_TRUE(sandbox_.Filesystem.Exists("/home/user/stat.txt"));
  EXPECT_FALSE(sandbox_.Filesystem.Exists("/home/user/missing"));
}

TEST_F(FilesystemV2Test, MakeDirListRenameRemove) {
  EXPECT_TRUE(sandbox_.Filesystem.MakeDir("/home/user/a/b/c"));
  EXPECT_FALSE(sandbox_.Filesystem.MakeDir("/home/user/a/b/c"));  // exists
  sandbox_.Filesystem.WriteString("/home/user/a/one.txt", "1");
  sandbox_.Filesystem.WriteString("/home/user/a/b/two.txt", "22");
  // A file in the way is an error, not "already exists".
  EXPECT_THROW(sandbox_.Filesystem.MakeDir("/home/user/a/one.txt"), e2b::Error);

  EXPECT_EQ(Names(sandbox_.Filesystem.List("/home/user/a")),
            (std::vector<std::string>{"b", "one.txt"}));
  EXPECT_EQ(Names(sandbox_.Filesystem.List("/home/user/a", e2b::WithDepth(3))),
            (std::vector<std::string>{"b", "c", "one.txt", "two.txt"}));
  for (const auto& entry :
       sandbox_.Filesystem.List("/home/user/a", e2b::WithDepth(2))) {
    if (entry.Name == "two.txt") {
      EXPECT_EQ(entry.Path, "/home/user/a/b/two.txt");
      EXPECT_EQ(entry.Size, 2);
    }
  }
  EXPECT_THROW(sandbox_.Filesystem.List("/home/user/nope"),
               e2b::FileNotFoundError);
  EXPECT_THROW(sandbox_.Filesystem.List("/home/user/a/one.txt"), e2b::Error);

  e2b::FileInfo moved =
      sandbox_.Filesystem.Rename("/home/user/a/one.txt", "/home/user/a/1.txt");
  EXPECT_EQ(moved.Path, "/home/user/a/1.txt");
  EXPECT_EQ(moved.Name, "1.txt");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/a/1.txt"), "1");
  EXPECT_FALSE(sandbox_.Filesystem.Exists("/home/user/a/one.txt"));
  EXPECT_THROW(
      sandbox_.Filesystem.Rename("/home/user/a/none", "/home/user/a/x"),
      e2b::FileNotFoundError);

  sandbox_.Filesystem.Remove("/home/user/a");
  EXPECT_FALSE(sandbox_.Filesystem.Exists("/home/user/a"));
  sandbox_.Filesystem.Remove("/home/user/a");  // missing: still fine
}

TEST_F(FilesystemV2Test, UserOptionReachesEveryCall) {
  EXPECT_TRUE(
      sandbox_.Filesystem.MakeDir("/tmp/by-root", e2b::WithFileUser("root")));
  EXPECT_EQ(sandbox_.Filesystem.Stat("/tmp/by-root").Owner, "root");
  EXPECT_TRUE(sandbox_.Filesystem.MakeDir("/tmp/by-user"));
  EXPECT_EQ(sandbox_.Filesystem.Stat("/tmp/by-user").Owner, "user");
  // Relative paths resolve in the user's home.
  sandbox_.Filesystem.WriteString("rel.txt", "r", e2b::WithFileUser("root"));
  EXPECT_EQ(sandbox_.Filesystem.Stat("rel.txt", e2b::WithFileUser("root")).Path,
            "/root/rel.txt");
  // An unknown user is refused by every kind of call.
  try {
    sandbox_.Filesystem.Stat("/tmp", e2b::WithFileUser("nobody-here"));
    ADD_FAILURE() << "unknown user accepted";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 401) << e.what();
  }
  EXPECT_THROW(
      sandbox_.Filesystem.List("/tmp", e2b::WithFileUser("nobody-here")),
      e2b::Error);
  EXPECT_THROW(sandbox_.Filesystem.WriteFiles({{"/tmp/x", "x", nullptr}},
                                              e2b::WithFileUser("nobody-here")),
               e2b::Error);
}

TEST_F(FilesystemV2Test, WriteFilesInOneUploadWithMetadata) {
  std::istringstream streamed("streamed body");
  std::vector<e2b::WriteEntry> entries = {
      {"/home/user/m/a.txt", "alpha", nullptr},
      {"/home/user/m/sub/b.bin", std::string("\0\1\2", 3), nullptr},
      {"/home/user/m/c.txt", "", &streamed},
  };
  std::uint64_t last = 0;
  auto written = sandbox_.Filesystem.WriteFiles(
      entries, e2b::WithFileMetadata({{"origin", "test"}}),
      e2b::WithWriteProgress([&](std::uint64_t sent, std::uint64_t) {
        EXPECT_GE(sent, last);
        last = sent;
      }));
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[0].Path, "/home/user/m/a.txt");
  EXPECT_EQ(written[1].Path, "/home/user/m/sub/b.bin");
  EXPECT_GT(last, 0u);
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/m/a.txt"), "alpha");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/m/sub/b.bin"),
            std::string("\0\1\2", 3));
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/m/c.txt"),
            "streamed body");
  EXPECT_EQ(sandbox_.Filesystem.Stat("/home/user/m/a.txt").Metadata,
            (std::map<std::string, std::string>{{"origin", "test"}}));
  EXPECT_TRUE(sandbox_.Filesystem.WriteFiles({}).empty());
  EXPECT_THROW(sandbox_.Filesystem.WriteFiles({{"/tmp/a\"b", "x", nullptr}}),
               e2b::Error);
}

// File metadata lives in user.e2b.<key> extended attributes, as on E2B:
// keys are lowercased, a new upload replaces the whole set, Stat, List and
// Rename report it, and so do attributes set from inside the sandbox.
TEST_F(FilesystemV2Test, FileMetadataIsExtendedAttributes) {
  const std::string path = "/home/user/meta/tagged.txt";
  auto info = sandbox_.Filesystem.WriteString(
      path, "v1", e2b::WithFileMetadata({{"Owner", "me"}, {"build-id", "7"}}));
  const std::map<std::string, std::string> first = {{"owner", "me"},
                                                    {"build-id", "7"}};
  EXPECT_EQ(info.Metadata, first);
  EXPECT_EQ(sandbox_.Filesystem.Stat(path).Metadata, first);
  auto listed = sandbox_.Filesystem.List("/home/user/meta");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].Metadata, first);

  // What a process in the sandbox sees, and sets.
  auto seen = sandbox_.Commands.Run(
      "python3",
      {"-c",
       "import os,sys; p=sys.argv[1]; "
       "print(sorted(n for n in os.listxattr(p) if n.startswith('user.e2b.')))"
       "; os.setxattr(p, 'user.e2b.stage', b'set inside')"
       "; os.setxattr(p, 'user.e2b.big', b'x' * 2000)"
       "; os.setxattr(p, 'user.e2b.binary', b'\\xff\\xfe')"
       "; os.setxattr(p, 'user.other', b'not ours')",
       path});
  ASSERT_EQ(seen.ExitCode, 0) << seen.Stderr;
  EXPECT_EQ(seen.Stdout, "['user.e2b.build-id', 'user.e2b.owner']\n");
  // Not UTF-8, so not a string: left out (as envd does); other user.*
  // attributes are not metadata.
  auto with_inside = first;
  with_inside["stage"] = "set inside";
  with_inside["big"] = std::string(2000, 'x');
  EXPECT_EQ(sandbox_.Filesystem.Stat(path).Metadata, with_inside);

  auto moved = sandbox_.Filesystem.Rename(path, "/home/user/meta/moved.txt");
  EXPECT_EQ(moved.Metadata, with_inside);

  // An upload with other metadata replaces the set; one without clears it.
  sandbox_.Filesystem.WriteString("/home/user/meta/moved.txt", "v2",
                                  e2b::WithFileMetadata({{"Only", "this"}}));
  EXPECT_EQ(sandbox_.Filesystem.Stat("/home/user/meta/moved.txt").Metadata,
            (std::map<std::string, std::string>{{"only", "this"}}));
  sandbox_.Filesystem.WriteString("/home/user/meta/moved.txt", "v3");
  EXPECT_TRUE(
      sandbox_.Filesystem.Stat("/home/user/meta/moved.txt").Metadata.empty());
}

TEST_F(FilesystemV2Test, RangedReadsAndProgress) {
  std::string text;
  for (int i = 0; i < 100000; ++i)
    text.push_back(static_cast<char>('a' + i % 26));
  sandbox_.Filesystem.WriteString("/tmp/range.txt", text);
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/tmp/range.txt",
                                           e2b::WithReadRange(10, 5)),
            text.substr(10, 5));
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/tmp/range.txt",
                                           e2b::WithReadRange(99990)),
            text.substr(99990));
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/tmp/range.txt",
                                           e2b::WithReadRange(100000)),
            "");
  try {
    sandbox_.Filesystem.ReadString("/tmp/range.txt",
                                   e2b::WithReadRange(100001));
    ADD_FAILURE() << "range beyond the end accepted";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 416) << e.what();
  }
  std::uint64_t transferred = 0, total = 0;
  auto stream = sandbox_.Filesystem.Read(
      "/tmp/range.txt", e2b::WithReadRange(1000),
      e2b::WithReadProgress([&](std::uint64_t t, std::uint64_t n) {
        transferred = t;
        total = n;
      }));
  std::ostringstream out;
  out << stream->rdbuf();
  EXPECT_EQ(out.str(), text.substr(1000));
  EXPECT_EQ(transferred, 99000u);
  EXPECT_EQ(total, 99000u);
  EXPECT_THROW(
      sandbox_.Filesystem.ReadString("/tmp/none", e2b::WithReadRange(3)),
      e2b::FileNotFoundError);
}

TEST_F(FilesystemV2Test, DownloadFileContinuesAPartialFile) {
  sandbox_.Filesystem.WriteString("/tmp/resume.txt", "0123456789");
  const fs::path local = local_ / "resume.txt";
  std::ofstream(local, std::ios::binary) << "01234XXXXXXXXXXXX";
  EXPECT_EQ(sandbox_.Filesystem.DownloadFile("/tmp/resume.txt", local.string(),
                                             e2b::WithReadRange(5)),
            5u);
  EXPECT_EQ(Slurp(local), "0123456789");
  EXPECT_EQ(sandbox_.Filesystem.DownloadFile("/tmp/resume.txt", local.string()),
            10u);
  EXPECT_EQ(Slurp(local), "0123456789");
  // A missing remote file leaves the local file alone.
  EXPECT_THROW(sandbox_.Filesystem.DownloadFile("/tmp/nothing", local.string()),
               e2b::FileNotFoundError);
  EXPECT_EQ(Slurp(local), "0123456789");
  const fs::path up = local_ / "up.bin";
  std::ofstream(up, std::ios::binary) << "uploaded from disk";
  e2b::FileInfo info =
      sandbox_.Filesystem.UploadFile(up.string(), "/tmp/up.bin");
  EXPECT_EQ(info.Path, "/tmp/up.bin");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/tmp/up.bin"),
            "uploaded from disk");
  EXPECT_THROW(
      sandbox_.Filesystem.UploadFile((local_ / "none").string(), "/tmp/none"),
      e2b::Error);
}

TEST_F(FilesystemV2Test, UploadDirAndDownloadDirRoundTrip) {
  const fs::path src = local_ / "src";
  fs::create_directories(src / "nested" / "deeper");
  fs::create_directories(src / "empty");
  std::ofstream(src / "top.txt") << "top";
  std::ofstream(src / "nested" / "mid.txt") << "mid";
  std::ofstream(src / "nested" / "deeper" / "low.txt") << "low";
  std::uint64_t last = 0, total = 0;
  auto uploaded = sandbox_.Filesystem.UploadDir(
      src.string(), "/home/user/tree",
      e2b::WithWriteProgress([&](std::uint64_t t, std::uint64_t n) {
        last = t;
        total = n;
      }));
  EXPECT_EQ(uploaded.size(), 3u);
  EXPECT_EQ(last, total);
  EXPECT_EQ(
      sandbox_.Filesystem.ReadString("/home/user/tree/nested/deeper/low.txt"),
      "low");
  EXPECT_EQ(sandbox_.Filesystem.Stat("/home/user/tree/empty").Type,
            "directory");

  const fs::path dst = local_ / "dst";
  std::uint64_t got = 0;
  auto downloaded = sandbox_.Filesystem.DownloadDir(
      "/home/user/tree", dst.string(),
      e2b::WithReadProgress([&](std::uint64_t t, std::uint64_t) { got = t; }));
  EXPECT_EQ(downloaded.size(), 3u);
  EXPECT_EQ(got, 9u);
  EXPECT_EQ(Slurp(dst / "top.txt"), "top");
  EXPECT_EQ(Slurp(dst / "nested" / "mid.txt"), "mid");
  EXPECT_EQ(Slurp(dst / "nested" / "deeper" / "low.txt"), "low");
  EXPECT_TRUE(fs::is_directory(dst / "empty"));
  EXPECT_THROW(
      sandbox_.Filesystem.DownloadDir("/home/user/tree/top.txt", dst.string()),
      e2b::Error);
  EXPECT_THROW(sandbox_.Filesystem.DownloadDir("/home/user/none", dst.string()),
               e2b::FileNotFoundError);
}

TEST_F(FilesystemV2Test, SignedURLsWorkWithoutTheToken) {
  sandbox_.Filesystem.WriteString("/home/user/signed.txt", "signed content");
  httplib::Client plain = Plain();
  const std::string down = sandbox_.Filesystem.DownloadURL(
      "/home/user/signed.txt", e2b::WithSignedURLExpiration(60s));
  EXPECT_NE(down.find("signature=v1_"), std::string::npos);
  EXPECT_NE(down.find("signature_expiration="), std::string::npos);
  auto res = plain.Get(PathAndQuery(down));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "signed content");

  // Without expiration, and for another user.
  // The Sandbox-level form (Go: Sandbox.UploadURL) is the same URL maker.
  const std::string up =
      sandbox_.UploadURL("/tmp/uploaded.txt", e2b::WithSignedURLUser("root"));
  res = plain.Post(PathAndQuery(up), "via signed url",
                   "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/tmp/uploaded.txt"),
            "via signed url");
  EXPECT_EQ(sandbox_.Filesystem.Stat("/tmp/uploaded.txt").Owner, "root");

  // A read signature does not allow writing, nor another path.
  res = plain.Post(PathAndQuery(down), "x", "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  std::string other = PathAndQuery(down);
  other.replace(other.find("signed.txt"), 10, "other.txt");
  res = plain.Get(other);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
}

TEST_F(FilesystemV2Test, PollingWatcher) {
  sandbox_.Filesystem.MakeDir("/home/user/watched");
  e2b::WatchHandle watch =
      sandbox_.Filesystem.WatchDir("/home/user/watched", /*recursive=*/false);
  EXPECT_FALSE(watch.WatcherID().empty());
  sandbox_.Filesystem.WriteString("/home/user/watched/new.txt", "n");
  std::vector<e2b::FilesystemEvent> events;
  for (int i = 0; i < 100 && events.empty(); ++i) {
    auto more = watch.GetEvents();
    events.insert(events.end(), more.begin(), more.end());
    if (events.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().Name, "new.txt");
  EXPECT_TRUE(events.front().Type == "create" || events.front().Type == "write")
      << events.front().Type;
  watch.Stop();
  watch.Stop();  // idempotent
  EXPECT_THROW(watch.GetEvents(), e2b::Error);
  EXPECT_THROW(sandbox_.Filesystem.WatchDir("/home/user/none", false),
               e2b::FileNotFoundError);
}

TEST_F(FilesystemV2Test, StreamingWatcher) {
  sandbox_.Filesystem.MakeDir("/home/user/live/sub");
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<e2b::FilesystemEvent> events;
  e2b::WatchStreamHandle watch = sandbox_.Filesystem.WatchDir(
      "/home/user/live",
      [&](const e2b::FilesystemEvent& event) {
        std::lock_guard<std::mutex> lock(mutex);
        events.push_back(event);
        cv.notify_all();
      },
      e2b::WithRecursive(), e2b::WithIncludeEntry());
  EXPECT_TRUE(watch.Running());
  sandbox_.Filesystem.WriteString("/home/user/live/sub/deep.txt", "d");
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait_for(lock, 8s, [&] {
      return std::any_of(events.begin(), events.end(), [](const auto& e) {
        return e.Name == "sub/deep.txt";
      });
    });
    auto it = std::find_if(events.begin(), events.end(), [](const auto& e) {
      return e.Name == "sub/deep.txt";
    });
    ASSERT_NE(it, events.end());
    if (it->Entry) {
      EXPECT_EQ(it->Entry->Path, "/home/user/live/sub/deep.txt");
    }
  }
  watch.Stop();
  EXPECT_FALSE(watch.Running());
  EXPECT_NO_THROW(watch.Wait());  // stopped by us: not a failure
  EXPECT_THROW(sandbox_.Filesystem.WatchDir("/home/user/none",
                                            [](const e2b::FilesystemEvent&) {}),
               e2b::FileNotFoundError);
}

}  // namespace
}  // namespace e2b_test
