// The filesystem calls beyond the seed against an in-process envd stand-in:
// the exact RPC requests (user as Basic auth), error mapping, multi-file
// multipart bodies, ranged and resumed downloads, signed URLs, the
// streaming watch's framing; plus the wire mapping and SHA-256 helpers.

#include "internal/filesystem_mapping.hpp"
#include "internal/json_mapping.hpp"
#include "internal/sha256.hpp"
#include "internal/url.hpp"
#include "support/test_server.hpp"

#include <e2b/client.hpp>
#include <e2b/errors.hpp>
#include <e2b/filesystem.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace e2b {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string Hex(const std::array<std::uint8_t, 32>& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Hex(internal::Sha256Digest("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(internal::Sha256Digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the padding needs a second block.
  EXPECT_EQ(Hex(internal::Sha256Digest(
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Fed in uneven pieces.
  internal::Sha256 sha;
  const std::string a(1000, 'a');
  sha.Update(std::string_view(a).substr(0, 3));
  sha.Update(std::string_view(a).substr(3, 500));
  sha.Update(std::string_view(a).substr(503));
  EXPECT_EQ(Hex(sha.Finish()),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(FilesystemMappingTest, SignatureMatchesTheOfficialSdks) {
  EXPECT_EQ(internal::FilesSignature("/home/user/a.txt", "read", "", "tok123",
                                     std::nullopt),
            "v1_byj2OB/vujgbES/1KAKCaR27E+9eOrB6PzeTnIL8L6M");
  EXPECT_EQ(internal::FilesSignature("/home/user/a.txt", "write", "root",
                                     "tok123", 1700000000),
            "v1_0KSBPc1lTrcMmrxRZRpQeytcE7kk6pykK3QDq0mtU5E");
  EXPECT_EQ(internal::BasicAuthorization("root"), "Basic cm9vdDo=");
}

TEST(FilesystemMappingTest, Rfc3339) {
  using std::chrono::system_clock;
  auto t = internal::ParseRfc3339("2025-01-02T03:04:05.123456789Z");
  ASSERT_TRUE(t);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      t->time_since_epoch())
                      .count();
  // system_clock may be coarser than nanoseconds: compare microseconds.
  EXPECT_EQ(ns / 1000, 1735787045123456LL);
  auto offset = internal::ParseRfc3339("2025-01-02T05:04:05+02:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(system_clock::to_time_t(*offset), 1735787045);
  EXPECT_EQ(
      system_clock::to_time_t(*internal::ParseRfc3339("1969-12-31T23:59:59Z")),
      -1);
  for (const char* bad :
       {"", "2025-01-02", "2025-01-02T03:04:05", "2025-13-02T03:04:05Z",
        "2025-01-02T03:04:05.Z", "2025-01-02T03:04:05Zjunk",
        "2025-01-02T03:04:05+0200", "x025-01-02T03:04:05Z"}) {
    EXPECT_FALSE(internal::ParseRfc3339(bad)) << bad;
  }
}

TEST(FilesystemMappingTest, EntryInfoIsReadLeniently) {
  FileInfo info = internal::FileInfoFromEntry(json::parse(R"({
      "name": "a", "type": "FILE_TYPE_FILE", "path": "/a", "size": "4096",
      "mode": 420, "permissions": "-rw-r--r--", "owner": "user",
      "group": "users", "modifiedTime": "2025-01-02T03:04:05Z",
      "symlinkTarget": "/b", "metadata": {"k": "v", "n": 1},
      "unknown": true})"));
  EXPECT_EQ(info.Name, "a");
  EXPECT_EQ(info.Type, "file");
  EXPECT_EQ(info.Path, "/a");
  EXPECT_EQ(info.Size, 4096);
  EXPECT_EQ(info.Mode, 0644u);
  EXPECT_EQ(info.Permissions, "-rw-r--r--");
  EXPECT_EQ(info.Owner, "user");
  EXPECT_EQ(info.Group, "users");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(info.ModTime), 1735787045);
  EXPECT_EQ(info.SymlinkTarget, "/b");
  // One rule for string maps (json_mapping.hpp): other scalars as JSON text.
  EXPECT_EQ(info.Metadata,
            (std::map<std::string, std::string>{{"k", "v"}, {"n", "1"}}));

  // Numbers for int64 and enums, proto names, nulls.
  info = internal::FileInfoFromEntry(json::parse(
      R"({"type": 2, "size": 7, "symlink_target": "/t", "mode": "420",
          "modified_time": "2025-01-02T03:04:05Z", "owner": null})"));
  EXPECT_EQ(info.Type, "directory");
  EXPECT_EQ(info.Size, 7);
  EXPECT_EQ(info.SymlinkTarget, "/t");
  EXPECT_EQ(info.Mode, 0644u);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(info.ModTime), 1735787045);
  EXPECT_EQ(internal::FileInfoFromEntry(json::object()).Type, "");
  EXPECT_EQ(internal::FileInfoFromEntry(json::parse(R"({"type": 9})")).Type,
            "");
  EXPECT_THROW(internal::FileInfoFromEntry(json::array()), Error);
}

// The JSON layer's one contract: a field of the wrong type is a malformed
// message naming the field, never a silent default, and never its value.
TEST(FilesystemMappingTest, WrongTypesAreMalformedAndNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"size": "12x"})", "'size'"},
      {R"({"mode": -1})", "'mode'"},
      {R"({"mode": 1.5})", "'mode'"},
      {R"({"name": 5})", "'name'"},
      {R"({"type": true})", "'type'"},
      {R"({"modified_time": "not a time"})", "'modified_time'"},
      {R"({"metadata": []})", "'metadata'"},
      {R"({"symlinkTarget": {"secret-value": 1}})", "'symlinkTarget'"},
  };
  for (const auto& [text, field] : cases) {
    try {
      internal::FileInfoFromEntry(json::parse(text));
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("malformed filesystem entry"), std::string::npos)
          << what;
      EXPECT_NE(what.find(field), std::string::npos) << what;
      EXPECT_EQ(what.find("secret-value"), std::string::npos) << what;
    }
  }
  try {
    internal::FilesystemEventFromJson(
        json::parse(R"({"name":"x","entry":{"size":true}})"));
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("field 'entry': field 'size'"),
              std::string::npos)
        << e.what();
  }
  try {
    internal::EntriesOfAnswer(json::parse(R"({"entries":[{},{"path":1}]})"),
                              "ListDir");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "ListDir: malformed answer: field 'entries': item 1: field "
                  "'path'"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(internal::EntriesOfAnswer(json::object(), "ListDir").empty());
  EXPECT_THROW(internal::WatcherIdOfAnswer(json::object(), "CreateWatcher"),
               Error);
  EXPECT_EQ(internal::WatcherIdOfAnswer(json{{"watcherId", "w1"}}, "C"), "w1");
}

TEST(FilesystemMappingTest, EventsAreReadLeniently) {
  FilesystemEvent event = internal::FilesystemEventFromJson(
      json::parse(R"({"name":"x","type":"EVENT_TYPE_RENAME",
                      "entry":{"name":"x","type":"FILE_TYPE_FILE"}})"));
  EXPECT_EQ(event.Name, "x");
  EXPECT_EQ(event.Type, "rename");
  ASSERT_TRUE(event.Entry);
  EXPECT_EQ(event.Entry->Type, "file");
  EXPECT_EQ(internal::EventTypeName(json(5)), "chmod");
  EXPECT_EQ(internal::EventTypeName(json(9)), "unknown");
  EXPECT_EQ(internal::EventTypeName(json("EVENT_TYPE_BOGUS")), "unknown");
}

constexpr const char* kToken = "fs2-token-0123";
constexpr const char* kSandboxId = "isbxfs2";

std::string Envelope(unsigned char flags, const std::string& payload) {
  std::string out(1, static_cast<char>(flags));
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  return out + payload;
}

class FilesystemV2UnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Post(
        "/sandboxes", [this](const httplib::Request&, httplib::Response& res) {
          res.status = 201;
          json body = {{"sandboxID", kSandboxId},
                       {"templateID", "base"},
                       {"clientID", "c1"},
                       {"envdVersion", "0.6.13"}};
          if (!token_.empty()) body["envdAccessToken"] = token_;
          res.set_content(body.dump(), "application/json");
        });
  }

  void Connect() {
    server_.Start();
    ClientConfig config;
    config.APIKey = "e2b_0123456789abcdef";
    config.APIBaseURL = server_.url();
    config.SandboxURL = server_.url();
    sandbox_ = NewClient(config).NewSandbox();
  }

  // A unary RPC answering `status` and `body`.
  void ServeRpc(const std::string& method, int status, json body) {
    server_.server().Post(
        "/filesystem.Filesystem/" + method,
        [status, body](const httplib::Request&, httplib::Response& res) {
          res.status = status;
          res.set_content(body.dump(), "application/json");
        });
  }

  e2b_test::RecordedRequest Last(const std::string& path) const {
    for (const auto& r : server_.requests()) {
      if (r.path == path) return r;
    }
    ADD_FAILURE() << "no request to " << path;
    return {};
  }

  std::string token_ = kToken;
  e2b_test::TestServer server_;
  Sandbox sandbox_;
};

TEST_F(FilesystemV2UnitTest, StatSendsPathTokenAndUser) {
  ServeRpc("Stat", 200,
           {{"entry",
             {{"name", "user"},
              {"type", "FILE_TYPE_DIRECTORY"},
              {"path", "/home/user"},
              {"size", "4096"},
              {"mode", 493}}}});
  Connect();
  FileInfo info = sandbox_.Filesystem.Stat("/home/user", WithFileUser("root"));
  EXPECT_EQ(info.Type, "directory");
  EXPECT_EQ(info.Mode, 0755u);
  auto r = Last("/filesystem.Filesystem/Stat");
  EXPECT_EQ(json::parse(r.body), (json{{"path", "/home/user"}}));
  EXPECT_EQ(r.headers.find("Authorization")->second, "Basic cm9vdDo=");
  EXPECT_EQ(r.headers.find("X-Access-Token")->second, kToken);
  EXPECT_EQ(r.headers.find("Content-Type")->second, "application/json");
  server_.clear_requests();
  sandbox_.Filesystem.Stat("/home/user");
  r = Last("/filesystem.Filesystem/Stat");
  EXPECT_EQ(r.headers.count("Authorization"), 0u);  // default user
}

TEST_F(FilesystemV2UnitTest, ErrorsAreMappedPerCall) {
  ServeRpc("Stat", 404, {{"code", "not_found"}, {"message", "no such file"}});
  ServeRpc("MakeDir", 409,
           {{"code", "already_exists"}, {"message", "directory exists"}});
  ServeRpc("ListDir", 400,
           {{"code", "invalid_argument"}, {"message", "not a directory"}});
  ServeRpc("Remove", 500, {{"code", "internal"}, {"message", "io " + token_}});
  ServeRpc("Move", 404, {{"code", "not_found"}, {"message", "gone"}});
  Connect();
  try {
    sandbox_.Filesystem.Stat("/nope");
    ADD_FAILURE();
  } catch (const FileNotFoundError& e) {
    EXPECT_EQ(e.Path(), "/nope");
  }
  EXPECT_FALSE(sandbox_.Filesystem.Exists("/nope"));
  EXPECT_FALSE(sandbox_.Filesystem.MakeDir("/d"));
  try {
    sandbox_.Filesystem.List("/f");
    ADD_FAILURE();
  } catch (const FileNotFoundError&) {
    ADD_FAILURE() << "invalid_argument is not a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 400);
  }
  try {
    sandbox_.Filesystem.Remove("/x");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.StatusCode(), 500);
    EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos);
  }
  try {
    sandbox_.Filesystem.Rename("/old", "/new");
    ADD_FAILURE();
  } catch (const FileNotFoundError& e) {
    EXPECT_EQ(e.Path(), "/old");
  }
  EXPECT_EQ(json::parse(Last("/filesystem.Filesystem/Move").body),
            (json{{"source", "/old"}, {"destination", "/new"}}));
  EXPECT_THROW(sandbox_.Filesystem.List("/", WithDepth(0)), Error);
}

TEST_F(FilesystemV2UnitTest, MalformedAnswersAreErrors) {
  ServeRpc("Stat", 200, json::object());            // no entry
  ServeRpc("ListDir", 200, {{"entries", "nope"}});  // not an array
  ServeRpc("CreateWatcher", 200, json::object());   // no watcher id
  server_.server().Post("/filesystem.Filesystem/Move",
                        [](const httplib::Request&, httplib::Response& res) {
                          res.set_content("{not json", "application/json");
                        });
  Connect();
  EXPECT_THROW(sandbox_.Filesystem.Stat("/a"), Error);
  EXPECT_THROW(sandbox_.Filesystem.List("/a"), Error);
  EXPECT_THROW(sandbox_.Filesystem.WatchDir("/a", true), Error);
  EXPECT_THROW(sandbox_.Filesystem.Rename("/a", "/b"), Error);
}

TEST_F(FilesystemV2UnitTest, ListSendsDepth) {
  ServeRpc("ListDir", 200,
           {{"entries",
             json::array({{{"name", "a"}, {"type", "FILE_TYPE_FILE"}},
                          {{"name", "b"}, {"type", "FILE_TYPE_DIRECTORY"}}})}});
  Connect();
  auto entries = sandbox_.Filesystem.List("/x", WithDepth(4));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].Type, "directory");
  EXPECT_EQ(json::parse(Last("/filesystem.Filesystem/ListDir").body),
            (json{{"path", "/x"}, {"depth", 4}}));
}

TEST_F(FilesystemV2UnitTest, PollingWatcherLifecycle) {
  ServeRpc("CreateWatcher", 200, {{"watcherId", "w1"}});
  ServeRpc("GetWatcherEvents", 200,
           {{"events",
             json::array({{{"name", "f"}, {"type", "EVENT_TYPE_CREATE"}}})}});
  ServeRpc("RemoveWatcher", 200, json::object());
  Connect();
  WatchHandle watch =
      sandbox_.Filesystem.WatchDir("/d", true, WithFileUser("root"));
  EXPECT_EQ(watch.WatcherID(), "w1");
  EXPECT_EQ(json::parse(Last("/filesystem.Filesystem/CreateWatcher").body),
            (json{{"path", "/d"}, {"recursive", true}}));
  auto events = watch.GetEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].Type, "create");
  auto r = Last("/filesystem.Filesystem/GetWatcherEvents");
  EXPECT_EQ(json::parse(r.body), (json{{"watcherId", "w1"}}));
  EXPECT_EQ(r.headers.find("Authorization")->second, "Basic cm9vdDo=");
  WatchHandle copy = watch;
  copy.Stop();
  watch.Stop();
  std::size_t removes = 0;
  for (const auto& req : server_.requests()) {
    removes += req.path == "/filesystem.Filesystem/RemoveWatcher";
  }
  EXPECT_EQ(removes, 1u);
  EXPECT_THROW(watch.GetEvents(), Error);
  EXPECT_THROW(WatchHandle().GetEvents(), Error);
}

TEST_F(FilesystemV2UnitTest, StreamingWatchDeliversEventsInOrder) {
  server_.server().Post(
      "/filesystem.Filesystem/WatchDir",
      [](const httplib::Request&, httplib::Response& res) {
        std::string body = Envelope(0, R"({"start":{}})");
        body += Envelope(0, R"({"keepalive":{}})");
        body += Envelope(
            0, R"({"filesystem":{"name":"a","type":"EVENT_TYPE_CREATE"}})");
        // The form e2b-local used to send (wrapped in "event") is read too.
        body +=
            Envelope(0, R"({"event":{"filesystem":{"name":"b","type":2}}})");
        body += Envelope(2, "{}");
        res.set_content(body, "application/connect+json");
      });
  Connect();
  std::mutex mutex;
  std::vector<std::string> seen;
  WatchStreamHandle watch = sandbox_.Filesystem.WatchDir(
      "/d",
      [&](const FilesystemEvent& e) {
        std::lock_guard<std::mutex> lock(mutex);
        seen.push_back(e.Name + ":" + e.Type);
      },
      WithRecursive(), WithWatchTimeout(5s));
  watch.Wait();  // the server ended the stream cleanly
  EXPECT_FALSE(watch.Running());
  EXPECT_EQ(seen, (std::vector<std::string>{"a:create", "b:write"}));
  auto r = Last("/filesystem.Filesystem/WatchDir");
  EXPECT_EQ(r.headers.find("Content-Type")->second, "application/connect+json");
  EXPECT_EQ(r.headers.find("Connect-Timeout-Ms")->second, "5000");
  EXPECT_EQ(r.headers.find("Keepalive-Ping-Interval")->second, "50");
}

TEST_F(FilesystemV2UnitTest, StreamingWatchFailures) {
  std::atomic<int> calls{0};
  server_.server().Post(
      "/filesystem.Filesystem/WatchDir",
      [&calls](const httplib::Request&, httplib::Response& res) {
        const int call = calls++;
        std::string body;
        if (call == 0) {
          body = Envelope(2, R"({"error":{"code":"not_found","message":"x"}})");
        } else if (call == 1) {
          body = Envelope(0, R"({"filesystem":{"name":"a"}})");  // no start
        } else {
          // Started, then the stream breaks inside an envelope.
          body =
              Envelope(0, R"({"start":{}})") + std::string("\0\0\0\0\x50{", 6);
        }
        res.set_content(body, "application/connect+json");
      });
  Connect();
  auto ignore = [](const FilesystemEvent&) {};
  EXPECT_THROW(sandbox_.Filesystem.WatchDir("/missing", ignore),
               FileNotFoundError);
  EXPECT_THROW(sandbox_.Filesystem.WatchDir("/d", ignore), Error);
  WatchStreamHandle watch = sandbox_.Filesystem.WatchDir("/d", ignore);
  EXPECT_THROW(watch.Wait(), Error);
  EXPECT_TRUE(watch.Failure() != nullptr);
}

TEST_F(FilesystemV2UnitTest, CallbackExceptionEndsTheWatch) {
  server_.server().Post(
      "/filesystem.Filesystem/WatchDir",
      [](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            Envelope(0, R"({"start":{}})") +
                Envelope(0, R"({"filesystem":{"name":"a","type":1}})") +
                Envelope(2, "{}"),
            "application/connect+json");
      });
  Connect();
  WatchStreamHandle watch = sandbox_.Filesystem.WatchDir(
      "/d", [](const FilesystemEvent&) { throw std::runtime_error("boom"); });
  EXPECT_THROW(watch.Wait(), std::runtime_error);
}

TEST_F(FilesystemV2UnitTest, StopEndsABlockedStreamPromptly) {
  // Shared with the handler: the server thread still runs it after the test
  // body returns (the fixture stops the server later), so a reference to a
  // local here was a stack-use-after-return (found by AddressSanitizer).
  auto release = std::make_shared<std::atomic<bool>>(false);
  server_.server().Post(
      "/filesystem.Filesystem/WatchDir",
      [release](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider(
            "application/connect+json",
            [release, sent = false](std::size_t,
                                    httplib::DataSink& sink) mutable {
              if (!sent) {
                const std::string start = Envelope(0, R"({"start":{}})");
                sink.write(start.data(), start.size());
                sent = true;
              }
              for (int i = 0; i < 100 && !*release; ++i) {
                std::this_thread::sleep_for(20ms);
              }
              if (*release) sink.done();
              return sink.is_writable();
            });
      });
  Connect();
  WatchStreamHandle watch =
      sandbox_.Filesystem.WatchDir("/d", [](const FilesystemEvent&) {});
  EXPECT_TRUE(watch.Running());
  watch.Stop();  // must not wait for the server
  EXPECT_FALSE(watch.Running());
  EXPECT_NO_THROW(watch.Wait());
  *release = true;
}

TEST_F(FilesystemV2UnitTest, WriteFilesSendsOneMultipartBody) {
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> parts;  // filename, data
  server_.server().Post(
      "/files", [&](const httplib::Request& req, httplib::Response& res) {
        content_type = req.get_header_value("Content-Type");
        for (const auto& [name, file] : req.files) {
          EXPECT_EQ(name, "file");
          EXPECT_EQ(file.content_type, "application/octet-stream");
          parts.emplace_back(file.filename, file.content);
        }
        EXPECT_FALSE(req.has_param("path"));
        EXPECT_EQ(req.get_param_value("username"), "root");
        EXPECT_EQ(req.get_header_value("X-Metadata-Tag"), "v1");
        res.set_content(
            R"([{"path":"/a","name":"a","type":"file","metadata":{"tag":"v1"}},
                {"path":"/b/c","name":"c","type":"file"}])",
            "application/json");
      });
  Connect();
  std::istringstream stream("streamed");
  auto written = sandbox_.Filesystem.WriteFiles(
      {{"/a", "alpha", nullptr}, {"/b/c", "", &stream}}, WithFileUser("root"),
      WithFileMetadata({{"Tag", "v1"}}));
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].Metadata.at("tag"), "v1");
  EXPECT_EQ(written[1].Path, "/b/c");
  EXPECT_EQ(content_type.rfind("multipart/form-data; boundary=", 0), 0u);
  std::sort(parts.begin(), parts.end());
  EXPECT_EQ(parts, (std::vector<std::pair<std::string, std::string>>{
                       {"/a", "alpha"}, {"/b/c", "streamed"}}));
  EXPECT_THROW(sandbox_.Filesystem.WriteFiles({{"/bad\npath", "x", nullptr}}),
               Error);
  EXPECT_THROW(sandbox_.Filesystem.WriteFiles({{"", "x", nullptr}}), Error);
  EXPECT_THROW(sandbox_.Filesystem.WriteString(
                   "/m", "x", WithFileMetadata({{"a b", "c"}})),
               Error);
  EXPECT_THROW(sandbox_.Filesystem.WriteString(
                   "/m", "x", WithFileMetadata({{"k", "line\nbreak"}})),
               Error);
}

// GET /files serving `content`; the first `drops` requests break after
// half the body. httplib answers Range requests itself (206).
class DownloadTest : public FilesystemV2UnitTest {
 protected:
  void Serve(std::string content, int drops, bool change_on_resume = false) {
    content_ = std::move(content);
    server_.server().Get("/files", [this, drops, change_on_resume](
                                       const httplib::Request& req,
                                       httplib::Response& res) {
      const int call = calls_++;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ranges_.push_back(req.get_header_value("Range"));
      }
      res.set_header("Last-Modified", change_on_resume && call > 0
                                          ? "Thu, 02 Jan 2025 00:00:00 GMT"
                                          : "Wed, 01 Jan 2025 00:00:00 GMT");
      if (req.get_param_value("path") == "/missing") {
        res.status = 404;
        res.set_content(R"({"code":404,"message":"path does not exist"})",
                        "application/json");
        return;
      }
      if (call < drops) {
        const std::string full = content_;
        res.set_content_provider(
            full.size(), "application/octet-stream",
            [full](std::size_t offset, std::size_t, httplib::DataSink& sink) {
              if (offset > 0) return false;  // drop the connection
              sink.write(full.data(), full.size() / 2);
              return true;
            });
        return;
      }
      res.set_content(content_, "application/octet-stream");
    });
    Connect();
  }
  std::vector<std::string> Ranges() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ranges_;
  }

  std::string content_;
  std::atomic<int> calls_{0};
  std::mutex mutex_;
  std::vector<std::string> ranges_;
};

std::string Alphabet(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<char>('a' + i % 26));
  return out;
}

TEST_F(DownloadTest, RangeHeaderAndSlice) {
  Serve(Alphabet(1000), 0);
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/f", WithReadRange(10, 5)),
            Alphabet(15).substr(10));
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/f", WithReadRange(990)),
            Alphabet(1000).substr(990));
  EXPECT_EQ(Ranges(), (std::vector<std::string>{"bytes=10-14", "bytes=990-"}));
  EXPECT_THROW(sandbox_.Filesystem.ReadString("/missing", WithReadRange(1)),
               FileNotFoundError);
}

TEST_F(DownloadTest, ResumesABrokenTransferFromWhereItStopped) {
  const std::string content = Alphabet(200000);
  Serve(content, 1);
  std::uint64_t last = 0, total = 0;
  EXPECT_EQ(sandbox_.Filesystem.ReadString(
                "/f", WithReadResume(2),
                WithReadProgress([&](std::uint64_t t, std::uint64_t n) {
                  EXPECT_GE(t, last);
                  last = t;
                  total = n;
                })),
            content);
  EXPECT_EQ(last, content.size());
  EXPECT_EQ(total, content.size());
  auto ranges = Ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1].rfind("bytes=", 0), 0u);
  EXPECT_NE(ranges[1], "bytes=0-");
}

TEST_F(DownloadTest, WithoutResumeABrokenTransferFails) {
  Serve(Alphabet(200000), 1);
  EXPECT_THROW(
      sandbox_.Filesystem.ReadString("/f", WithReadProgress([](auto, auto) {})),
      Error);
}

TEST_F(DownloadTest, ResumeGivesUpAfterItsAttempts) {
  Serve(Alphabet(200000), 5);
  EXPECT_THROW(sandbox_.Filesystem.ReadString("/f", WithReadResume(2)), Error);
  EXPECT_EQ(calls_.load(), 3);
}

TEST_F(DownloadTest, AFileReplacedMidwayIsNotStitched) {
  Serve(Alphabet(200000), 1, /*change_on_resume=*/true);
  try {
    sandbox_.Filesystem.ReadString("/f", WithReadResume(3));
    ADD_FAILURE() << "stitched two versions of a file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("changed"), std::string::npos)
        << e.what();
  }
}

TEST_F(DownloadTest, DownloadFileWritesAtTheOffset) {
  Serve("0123456789", 0);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("e2b-dl-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto local = (dir / "f").string();
  std::ofstream(local, std::ios::binary) << "012ZZZZZZZZZZZZZZZ";
  EXPECT_EQ(sandbox_.Filesystem.DownloadFile("/f", local, WithReadRange(3)),
            7u);
  std::ifstream in(local, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "0123456789");
  EXPECT_THROW(
      sandbox_.Filesystem.DownloadFile("/f", local, WithReadRange(100)),
      Error);  // the local file is shorter than the offset
  std::filesystem::remove_all(dir);
}

TEST_F(FilesystemV2UnitTest, SignedUrls) {
  Connect();
  const std::string url = sandbox_.Filesystem.DownloadURL("/home/user/a.txt");
  // The signature is over the raw values; the URL carries them encoded.
  EXPECT_EQ(url,
            server_.url() + "/files?path=%2Fhome%2Fuser%2Fa.txt&signature=" +
                internal::PercentEncode(internal::FilesSignature(
                    "/home/user/a.txt", "read", "", kToken, std::nullopt)));
  EXPECT_EQ(url.find(kToken), std::string::npos);
  const std::string up = sandbox_.Filesystem.UploadURL(
      "/x", WithSignedURLUser("root"), WithSignedURLExpiration(1min));
  EXPECT_NE(up.find("username=root"), std::string::npos);
  EXPECT_NE(up.find("signature_expiration="), std::string::npos);
  EXPECT_THROW(sandbox_.Filesystem.UploadURL("/x", WithSignedURLExpiration(0s)),
               Error);
}

TEST_F(FilesystemV2UnitTest, UnsignedUrlsWithoutAToken) {
  token_.clear();
  Connect();
  EXPECT_EQ(sandbox_.Filesystem.DownloadURL("/a", WithSignedURLUser("u")),
            server_.url() + "/files?path=%2Fa&username=u");
  EXPECT_THROW(sandbox_.Filesystem.DownloadURL(
                   "/a", WithSignedURLExpiration(std::chrono::hours(1))),
               Error);
}

}  // namespace
}  // namespace e2b
