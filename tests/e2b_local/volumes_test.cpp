// E2B volumes over real HTTP: the management API (/volumes, with the API
// key), the content API (/volumecontent/..., with a volume's token), the
// store's persistence, and the attacks a sandbox that mounts a volume can
// stage inside it (symlinks out, FIFOs, racing writers, cut uploads).

#include "control/control_plane.hpp"
#include "http/server_setup.hpp"
#include "runtime/background_removal.hpp"
#include "runtime/sandbox_runtime.hpp"
#include "runtime/sanitizers.hpp"
#include "sandbox/registry.hpp"
#include "store/file_ops.hpp"
#include "store/template_store.hpp"
#include "store/volume_store.hpp"
#include "support/background_listen.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
const char* const kKey = "e2b_0123456789abcdef";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string Escape(const std::string& text) {
  return httplib::detail::encode_query_param(text);
}

// The byte at `i` of the large test file: not periodic in any small power
// of two, so a misplaced chunk changes the hash.
char PatternByte(std::uint64_t i) {
  return static_cast<char>((i * 2654435761u) >> 13);
}

std::uint64_t Fnv(std::uint64_t h, const char* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

long PeakRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

class VolumesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/e2b-volumes-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    runtime_ = MakeRuntime(IsolationMode::kNone);
    store_ = std::make_unique<TemplateStore>(dir_ + "/state");
    registry_ = std::make_unique<SandboxRegistry>(*runtime_, *store_,
                                                  RegistryOptions{});
    volumes_ = std::make_unique<VolumeStore>(dir_ + "/state", Ids());
    build_files_ = std::make_unique<BuildFileStore>(dir_ + "/state");
    builds_ = std::make_unique<TemplateBuildService>(*registry_, *store_,
                                                     *build_files_);
    control_ = std::make_unique<ControlPlane>(*registry_, *store_, *volumes_,
                                              *build_files_, *builds_,
                                              std::vector<std::string>{kKey});
    ConfigureServer(server_, ListenerKind::kControlPlane);
    control_->Mount(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = e2b_test::ListenInBackground(server_);
    api_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    api_->set_default_headers({{"X-API-Key", kKey}});
    api_->set_read_timeout(60, 0);
    api_->set_write_timeout(60, 0);
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
    if (builds_) builds_->Shutdown();
    if (registry_) registry_->Shutdown();
    WaitForBackgroundRemovals();
    RemoveTree(dir_);
  }

  virtual VolumeIdMapping Ids() const { return VolumeIdMapping{}; }

  static json Body(const httplib::Result& r) { return json::parse(r->body); }

  // A new volume: {volumeID, name, token}.
  json Create(const std::string& name) {
    auto r =
        api_->Post("/volumes", json{{"name", name}}.dump(), "application/json");
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 201) << r->body;
    return Body(r);
  }

  // A client of the content API with `token`.
  std::unique_ptr<httplib::Client> Content(const std::string& token) {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_bearer_token_auth(token);
    c->set_read_timeout(60, 0);
    c->set_write_timeout(60, 0);
    return c;
  }

  static std::string Url(const json& volume, const std::string& op,
                         const std::string& path,
                         const std::string& extra = "") {
    return "/volumecontent/" + volume["volumeID"].get<std::string>() + "/" +
           op + "?path=" + Escape(path) + extra;
  }

  std::string DataDir(const json& volume) {
    auto v = volumes_->ById(volume["volumeID"].get<std::string>());
    EXPECT_TRUE(v.has_value());
    return v ? v->data_dir : std::string();
  }

  std::string dir_;
  std::unique_ptr<SandboxRuntime> runtime_;
  std::unique_ptr<TemplateStore> store_;
  std::unique_ptr<SandboxRegistry> registry_;
  std::unique_ptr<VolumeStore> volumes_;
  std::unique_ptr<BuildFileStore> build_files_;
  std::unique_ptr<TemplateBuildService> builds_;
  std::unique_ptr<ControlPlane> control_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::unique_ptr<httplib::Client> api_;
};

TEST_F(VolumesTest, ManagementRoutes) {
  json v = Create("data_1-x");
  EXPECT_EQ(v["name"], "data_1-x");
  const std::string id = v["volumeID"];
  EXPECT_TRUE(std::regex_match(
      id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                     "[0-9a-f]{12}")));
  EXPECT_TRUE(std::regex_match(v["token"].get<std::string>(),
                               std::regex("[0-9a-f]{64}")));

  auto r = api_->Get("/volumes");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r),
            json::parse(R"([{"volumeID":")" + id + R"(","name":"data_1-x"}])"));
  r = api_->Get("/volumes/" + id);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r), v);

  // The data directory: owned by the sandbox's root, open to every user.
  struct stat st {};
  ASSERT_EQ(stat(DataDir(v).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0777u);
  EXPECT_EQ(st.st_uid, 0u);

  const std::pair<std::string, std::string> bad_names[] = {
      {R"({"name":"a b"})", "Invalid volume name"},
      {R"({"name":""})", "Invalid volume name"},
      {R"({"name":"../x"})", "Invalid volume name"},
      {R"({})", "Invalid volume name"},
      {R"({"name":"data_1-x"})", "Volume with name 'data_1-x' already exists"},
  };
  for (const auto& [body, message] : bad_names) {
    r = api_->Post("/volumes", body, "application/json");
    ASSERT_EQ(r->status, 400) << body;
    EXPECT_EQ(Body(r), (json{{"code", 400}, {"message", message}})) << body;
  }
  r = api_->Post("/volumes", json{{"name", std::string(256, 'a')}}.dump(),
                 "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(Body(r)["message"].get<std::string>().find("255"),
            std::string::npos);
  r = api_->Post("/volumes", R"({"name":5})", "application/json");
  EXPECT_EQ(r->status, 400);

  r = api_->Get("/volumes/not-a-uuid");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Body(r), (json{{"code", 400}, {"message", "Invalid volume ID"}}));
  r = api_->Delete("/volumes/not-a-uuid");
  EXPECT_EQ(r->status, 400);
  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  r = api_->Get("/volumes/" + unknown);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r), (json{{"code", 404}, {"message", "Volume not found"}}));

  httplib::Client anonymous("127.0.0.1", port_);
  EXPECT_EQ(anonymous.Get("/volumes")->status, 401);
  EXPECT_EQ(
      anonymous.Post("/volumes", R"({"name":"x"})", "application/json")->status,
      401);

  r = api_->Delete("/volumes/" + id);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(api_->Delete("/volumes/" + id)->status, 404);
  EXPECT_EQ(api_->Get("/volumes/" + id)->status, 404);
  EXPECT_EQ(Body(api_->Get("/volumes")), json::array());
}

TEST_F(VolumesTest, DestroyRemovesDataAndFreesTheName) {
  json v = Create("reused");
  auto c = Content(v["token"]);
  ASSERT_EQ(c->Put(Url(v, "file", "/a/b.txt", "&force=true"), "hello",
                   "application/octet-stream")
                ->status,
            201);
  const std::string data = DataDir(v);
  ASSERT_TRUE(fs::exists(data + "/a/b.txt"));
  ASSERT_EQ(
      api_->Delete("/volumes/" + v["volumeID"].get<std::string>())->status,
      204);
  EXPECT_FALSE(volumes_->ForMount("reused").has_value());
  WaitForBackgroundRemovals();
  EXPECT_FALSE(fs::exists(data));
  EXPECT_FALSE(fs::exists(fs::path(data).parent_path()));
  // The old token opens nothing any more.
  EXPECT_EQ(c->Get(Url(v, "path", "/"))->status, 404);
  json again = Create("reused");
  EXPECT_NE(again["volumeID"], v["volumeID"]);
  EXPECT_EQ(Body(Content(again["token"])->Get(Url(again, "dir", "/"))),
            json::array());
}

TEST_F(VolumesTest, StoreSurvivesRestartAndDropsCutShortCreates) {
  json v = Create("kept");
  ASSERT_EQ(Content(v["token"])
                ->Put(Url(v, "file", "/f"), "data", "application/octet-stream")
                ->status,
            201);
  const std::string volumes_dir = dir_ + "/state/volumes";
  // What a crash during a create leaves, and a destroy cut short.
  fs::create_directories(volumes_dir +
                         "/11111111-1111-4111-8111-111111111111.new/data");
  fs::create_directories(volumes_dir + "/.removing-x-1/data");
  VolumeStore again(dir_ + "/state", VolumeIdMapping{});
  auto listed = again.List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, v["volumeID"]);
  EXPECT_EQ(listed[0].name, "kept");
  EXPECT_EQ(listed[0].token, v["token"]);
  EXPECT_EQ(again.Removed().size(), 2u);
  EXPECT_FALSE(
      fs::exists(volumes_dir + "/11111111-1111-4111-8111-111111111111.new"));
  auto mount = again.ForMount("kept");
  ASSERT_TRUE(mount.has_value());
  EXPECT_EQ(mount->id, v["volumeID"]);
  EXPECT_EQ(ReadAll(mount->data_dir + "/f"), "data");
  EXPECT_FALSE(again.ForMount("nope").has_value());
  EXPECT_EQ(again.ById(v["volumeID"])->name, "kept");
  EXPECT_THROW(again.Create("kept"), Failure);
}

TEST_F(VolumesTest, ContentNeedsThatVolumesToken) {
  json v = Create("mine");
  json other = Create("other");
  const std::string token = v["token"];
  const std::string url = Url(v, "path", "/");

  httplib::Client none("127.0.0.1", port_);
  auto r = none.Get(url);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Body(r)["code"], "unauthorized");
  // The API key is not a volume token.
  none.set_default_headers({{"X-API-Key", kKey}});
  EXPECT_EQ(none.Get(url)->status, 401);

  const std::string wrong = std::string(63, '0') + "1";
  for (const std::string& bad : {wrong, other["token"].get<std::string>()}) {
    r = Content(bad)->Get(url);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->body.find(bad), std::string::npos);
    EXPECT_EQ(r->body.find(token), std::string::npos);
    // An upload refused is drained, not written.
    r = Content(bad)->Put(Url(v, "file", "/x"), std::string(100000, 'x'),
                          "application/octet-stream");
    EXPECT_EQ(r->status, 401);
  }
  EXPECT_FALSE(fs::exists(DataDir(v) + "/x"));

  r = Content(token)->Get("/volumecontent/nope/path?path=/");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Body(r),
            (json{{"code", "bad_request"}, {"message", "Invalid volume ID"}}));
  r = Content(token)->Get(
      "/volumecontent/00000000-0000-4000-8000-000000000000/path?path=/");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r)["message"], "Volume not found");
  r = Content(token)->Get(url);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Body(r)["type"], "directory");
  EXPECT_EQ(Content(token)
                ->Get("/volumecontent/" + v["volumeID"].get<std::string>() +
                      "/nothing?path=/")
                ->status,
            404);
}

TEST_F(VolumesTest, ContentOperations) {
  json v = Create("ops");
  auto c = Content(v["token"]);
  const std::string data = DataDir(v);

  // POST dir: defaults, 404 without a parent, force makes parents, 409.
  auto r = c->Post(Url(v, "dir", "/d"), "", "application/octet-stream");
  ASSERT_EQ(r->status, 201) << r->body;
  json d = Body(r);
  EXPECT_EQ(d["name"], "d");
  EXPECT_EQ(d["path"], "/d");
  EXPECT_EQ(d["type"], "directory");
  EXPECT_EQ(d["mode"], 0777);
  EXPECT_EQ(d["uid"], 9090);
  EXPECT_EQ(d["gid"], 9090);
  EXPECT_TRUE(std::regex_match(
      d["mtime"].get<std::string>(),
      std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")));
  EXPECT_EQ(c->Post(Url(v, "dir", "/d"), "", "text/plain")->status, 409);
  EXPECT_EQ(
      c->Post(Url(v, "dir", "/d", "&force=true"), "", "text/plain")->status,
      201);
  r = c->Post(Url(v, "dir", "/x/y/z"), "", "text/plain");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r)["code"], "not_found");
  r = c->Post(Url(v, "dir", "/x/y/z", "&force=true&uid=1000&gid=1001&mode=448"),
              "", "text/plain");
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Body(r)["mode"], 0700);
  EXPECT_EQ(Body(r)["uid"], 1000);
  struct stat st {};
  ASSERT_EQ(stat((data + "/x/y").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0777u);  // a parent made by force
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  EXPECT_EQ(c->Post(Url(v, "dir", "/", "&force=true"), "", "t/p")->status, 201);
  EXPECT_EQ(c->Post(Url(v, "dir", "/"), "", "t/p")->status, 409);
  EXPECT_EQ(c->Post(Url(v, "dir", "/e", "&mode=512"), "", "t/p")->status, 400);
  EXPECT_EQ(c->Post(Url(v, "dir", "/e", "&force=yes"), "", "t/p")->status, 400);

  // PUT file: 201, 409 without force, force replaces; GET file.
  r = c->Put(Url(v, "file", "/d/f.txt"), "hello", "application/octet-stream");
  ASSERT_EQ(r->status, 201) << r->body;
  json f = Body(r);
  EXPECT_EQ(f["type"], "file");
  EXPECT_EQ(f["size"], 5);
  EXPECT_EQ(f["mode"], 0666);
  EXPECT_EQ(f["uid"], 9090);
  EXPECT_EQ(f.count("target"), 0u);
  ASSERT_EQ(stat((data + "/d/f.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  r = c->Put(Url(v, "file", "/d/f.txt"), "other", "application/octet-stream");
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(Body(r)["code"], "conflict");
  r = c->Put(Url(v, "file", "/d/f.txt", "&force=true&mode=384"), "bye",
             "application/octet-stream");
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(Body(r)["mode"], 0600);
  EXPECT_EQ(c->Get(Url(v, "file", "/d/f.txt"))->body, "bye");
  EXPECT_EQ(
      c->Put(Url(v, "file", "/no/f"), "x", "application/octet-stream")->status,
      404);
  EXPECT_EQ(
      c->Put(Url(v, "file", "/d/f.txt/under"), "x", "application/octet-stream")
          ->status,
      400);  // ENOTDIR
  EXPECT_EQ(c->Put(Url(v, "file", "/d", "&force=true"), "x",
                   "application/octet-stream")
                ->status,
            400);  // a directory
  EXPECT_EQ(c->Put(Url(v, "file", "/d/g", "&uid=70000"), "x",
                   "application/octet-stream")
                ->status,
            201);  // identity mapping: any id
  EXPECT_EQ(
      c->Put(Url(v, "file", "/empty"), "", "application/octet-stream")->status,
      201);
  r = c->Get(Url(v, "file", "/empty"));
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(c->Get(Url(v, "file", "/d"))->status, 400);
  EXPECT_EQ(c->Get(Url(v, "file", "/missing"))->status, 404);

  // GET dir: depth, order, range.
  r = c->Get(Url(v, "dir", "/"));
  ASSERT_EQ(r->status, 200);
  std::vector<std::string> paths;
  for (const auto& e : Body(r)) paths.push_back(e["path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"/d", "/empty", "/x"}));
  r = c->Get(Url(v, "dir", "/", "&depth=3"));
  paths.clear();
  for (const auto& e : Body(r)) paths.push_back(e["path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"/d", "/d/f.txt", "/d/g", "/empty",
                                             "/x", "/x/y", "/x/y/z"}));
  EXPECT_EQ(c->Get(Url(v, "dir", "/", "&depth=0"))->status, 400);
  EXPECT_EQ(c->Get(Url(v, "dir", "/", "&depth=11"))->status, 400);
  EXPECT_EQ(c->Get(Url(v, "dir", "/", "&depth=10"))->status, 200);
  EXPECT_EQ(c->Get(Url(v, "dir", "/d/f.txt"))->status, 400);
  EXPECT_EQ(c->Get(Url(v, "dir", "/nope"))->status, 404);

  // GET path and PATCH path.
  r = c->Get(Url(v, "path", "d/./f.txt"));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r)["path"], "/d/f.txt");
  r = c->Patch(Url(v, "path", "/d/f.txt"), R"({"mode":420,"uid":5})",
               "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r)["mode"], 0644);
  EXPECT_EQ(Body(r)["uid"], 5);
  EXPECT_EQ(Body(r)["gid"], 9090);  // unchanged
  for (const char* bad :
       {R"({"mode":"420"})", R"({"mode":512})", R"({"uid":-1})",
        R"({"gid":1.5})", R"({"uid":true})", R"([1])", "{"}) {
    r = c->Patch(Url(v, "path", "/d/f.txt"), bad, "application/json");
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(Body(r)["code"], "bad_request") << bad;
  }
  EXPECT_EQ(c->Patch(Url(v, "path", "/nope"), "{}", "application/json")->status,
            404);

  // DELETE path.
  EXPECT_EQ(c->Delete(Url(v, "path", "/"))->status, 400);
  EXPECT_EQ(Body(c->Delete(Url(v, "path", "/")))["message"],
            "cannot delete root");
  EXPECT_EQ(c->Delete(Url(v, "path", "/nope"))->status, 404);
  EXPECT_EQ(c->Delete(Url(v, "path", "/d/f.txt"))->status, 204);
  EXPECT_EQ(c->Delete(Url(v, "path", "/x"))->status, 204);
  EXPECT_FALSE(fs::exists(data + "/x"));
  EXPECT_EQ(c->Get(Url(v, "path", "/d/f.txt"))->status, 404);
}

// A sandbox that mounts the volume plants links to the host: nothing the
// content API does through them may read, write or change what they name.
TEST_F(VolumesTest, PlantedSymlinksStayInsideTheVolume) {
  json v = Create("hostile");
  auto c = Content(v["token"]);
  const std::string data = DataDir(v);
  const std::string canary_dir = dir_ + "/canary";
  const std::string canary = canary_dir + "/secret.txt";
  fs::create_directories(canary_dir);
  WriteAll(canary, "host secret");
  chmod(canary.c_str(), 0600);
  fs::create_symlink(canary_dir, data + "/escape");
  fs::create_symlink(canary, data + "/file-link");
  fs::create_symlink("../../../../../../../../" + canary,
                     data + "/relative-link");

  for (const char* p : {"/escape/secret.txt", "/file-link", "/relative-link",
                        "/../../../../" /* cleaned to / */ "etc/passwd"}) {
    auto r = c->Get(Url(v, "file", p));
    EXPECT_EQ(r->status, 404) << p << " " << r->body;
    EXPECT_EQ(r->body.find("host secret"), std::string::npos);
  }
  // Listing and stat report links as links.
  auto r = c->Get(Url(v, "dir", "/", "&depth=5"));
  ASSERT_EQ(r->status, 200);
  json listed = Body(r);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0]["path"], "/escape");
  EXPECT_EQ(listed[0]["type"], "symlink");
  EXPECT_EQ(listed[0]["target"], canary_dir);
  r = c->Get(Url(v, "path", "/file-link"));
  EXPECT_EQ(Body(r)["type"], "symlink");
  EXPECT_EQ(c->Get(Url(v, "dir", "/escape"))->status, 404);
  EXPECT_EQ(c->Get(Url(v, "path", "/escape/secret.txt"))->status, 404);

  // Writes through the links land inside the volume or nowhere.
  // force makes parents, but "/escape" leads to a directory the volume
  // does not have.
  EXPECT_EQ(c->Put(Url(v, "file", "/escape/secret.txt", "&force=true"), "pwned",
                   "application/octet-stream")
                ->status,
            404);
  EXPECT_EQ(
      c->Put(Url(v, "file", "/escape/new"), "pwned", "application/octet-stream")
          ->status,
      404);
  EXPECT_EQ(
      c->Put(Url(v, "file", "/file-link"), "pwned", "application/octet-stream")
          ->status,
      409);
  EXPECT_EQ(c->Post(Url(v, "dir", "/escape/sub"), "", "t/p")->status, 404);
  EXPECT_EQ(c->Patch(Url(v, "path", "/file-link"), R"({"mode":511})",
                     "application/json")
                ->status,
            400);
  r = c->Patch(Url(v, "path", "/file-link"), R"({"uid":1234})",
               "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Body(r)["type"], "symlink");
  EXPECT_EQ(c->Patch(Url(v, "path", "/escape/secret.txt"), R"({"mode":511})",
                     "application/json")
                ->status,
            404);
  EXPECT_EQ(c->Delete(Url(v, "path", "/escape/secret.txt"))->status, 404);
  // Replacing a link replaces the link, never its target.
  EXPECT_EQ(c->Put(Url(v, "file", "/relative-link", "&force=true"), "mine",
                   "application/octet-stream")
                ->status,
            201);
  EXPECT_EQ(c->Delete(Url(v, "path", "/escape"))->status, 204);
  EXPECT_EQ(c->Delete(Url(v, "path", "/file-link"))->status, 204);

  EXPECT_EQ(ReadAll(canary), "host secret");
  struct stat st {};
  ASSERT_EQ(stat(canary.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(fs::directory_iterator(canary_dir)->path(), canary);
  EXPECT_EQ(std::distance(fs::directory_iterator(canary_dir),
                          fs::directory_iterator()),
            1);
  EXPECT_EQ(ReadAll(data + "/relative-link"), "mine");
}

TEST_F(VolumesTest, FifoIsRefusedWithoutBlocking) {
  json v = Create("fifo");
  ASSERT_EQ(mkfifo((DataDir(v) + "/pipe").c_str(), 0666), 0);
  fs::create_symlink("/pipe", DataDir(v) + "/to-pipe");
  auto c = Content(v["token"]);
  c->set_read_timeout(5, 0);
  for (const char* p : {"/pipe", "/to-pipe"}) {
    const auto start = std::chrono::steady_clock::now();
    auto r = c->Get(Url(v, "file", p));
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->status, 400) << p;
    EXPECT_LT(std::chrono::steady_clock::now() - start,
              std::chrono::seconds(3));
  }
  auto r = c->Get(Url(v, "path", "/pipe"));
  EXPECT_EQ(Body(r)["type"], "unknown");
}

TEST_F(VolumesTest, ConcurrentWritersNeverMix) {
  json v = Create("race");
  const std::string token = v["token"];
  constexpr int kWriters = 8;
  std::vector<std::string> contents;
  for (int i = 0; i < kWriters; ++i) {
    contents.push_back(std::string(std::size_t{1} << 20, char('a' + i)));
  }
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kWriters; ++i) {
      threads.emplace_back([&, i] {
        auto r = Content(token)->Put(Url(v, "file", "/same", "&force=true"),
                                     contents[i], "application/octet-stream");
        if (r && r->status == 201) ++created;
      });
    }
    for (auto& t : threads) t.join();
    threads.clear();
    const std::string final = ReadAll(DataDir(v) + "/same");
    EXPECT_NE(std::find(contents.begin(), contents.end(), final),
              contents.end());
  }
  EXPECT_EQ(created.load(), 3 * kWriters);
  // Without force exactly one create wins.
  created = 0;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      auto r = Content(token)->Put(Url(v, "file", "/once"), contents[i],
                                   "application/octet-stream");
      if (r && r->status == 201) ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  const std::string once = ReadAll(DataDir(v) + "/once");
  EXPECT_NE(std::find(contents.begin(), contents.end(), once), contents.end());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(DataDir(v))) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"once", "same"}));
}

TEST_F(VolumesTest, LargeFileStreamsInBoundedMemory) {
  json v = Create("big");
  auto c = Content(v["token"]);
  constexpr std::size_t kSize = std::size_t{64} << 20;
  std::uint64_t sent_hash = 1469598103934665603ull;
  // Reset the peak RSS, so VmHWM shows what this transfer costs.
  WriteAll("/proc/self/clear_refs", "5");
  const long before = PeakRssKb();
  auto r = c->Put(
      Url(v, "file", "/big.bin"), kSize,
      [&](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        std::string chunk(std::min<std::size_t>(length, 1 << 16), '\0');
        for (std::size_t i = 0; i < chunk.size(); ++i) {
          chunk[i] = PatternByte(offset + i);
        }
        sent_hash = Fnv(sent_hash, chunk.data(), chunk.size());
        return sink.write(chunk.data(), chunk.size());
      },
      "application/octet-stream");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Body(r)["size"], kSize);
  EXPECT_EQ(fs::file_size(DataDir(v) + "/big.bin"), kSize);

  std::uint64_t got_hash = 1469598103934665603ull;
  std::size_t got = 0;
  auto g =
      c->Get(Url(v, "file", "/big.bin"), [&](const char* data, std::size_t n) {
        got_hash = Fnv(got_hash, data, n);
        got += n;
        return true;
      });
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 200);
  EXPECT_EQ(got, kSize);
  EXPECT_EQ(got_hash, sent_hash);
  const long after = PeakRssKb();
  // Sanitizers keep freed memory in quarantine: RSS says nothing there.
  if (before > 0 && after > 0 && !runtime_internal::kAddressSanitizer &&
      !runtime_internal::kThreadSanitizer) {
    EXPECT_LT(after - before, 32 * 1024) << "peak RSS grew by KiB";
  }
}

TEST_F(VolumesTest, DroppedUploadLeavesNothing) {
  json v = Create("dropped");
  const std::string target = Url(v, "file", "/cut.bin");
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head = "PUT " + target +
                           " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           v["token"].get<std::string>() +
                           "\r\nContent-Type: application/octet-stream\r\n"
                           "Content-Length: 10485760\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(head.size()));
  const std::string part(1 << 20, 'p');
  ASSERT_EQ(::send(fd, part.data(), part.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(part.size()));
  // Until the server has begun writing the temp file (unnamed with
  // O_TMPFILE: then only a descriptor of this process shows it).
  const std::string data = DataDir(v);
  auto busy = [&data] {
    if (!fs::is_empty(data)) return true;
    for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      const std::string target = fs::read_symlink(e.path(), ec).string();
      if (!ec && target.rfind(data + "/", 0) == 0) return true;
    }
    return false;
  };
  bool began = false;
  for (int i = 0; i < 500 && !began; ++i) {
    began = busy();
    if (!began) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(began);
  ::close(fd);
  bool done = false;
  for (int i = 0; i < 500 && !done; ++i) {
    done = !busy();
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(done);
  EXPECT_TRUE(fs::is_empty(data));
  // The server still answers.
  EXPECT_EQ(Content(v["token"])->Get(Url(v, "dir", "/"))->status, 200);
}

// The namespaced runtime's mapping: the API speaks sandbox ids, files
// carry host ids base + N.
class MappedVolumesTest : public VolumesTest {
 protected:
  VolumeIdMapping Ids() const override {
    VolumeIdMapping ids;
    ids.range.base = 300000;
    ids.range.count = 65536;
    ids.identity = false;
    return ids;
  }
};

TEST_F(MappedVolumesTest, IdsAreTheSandboxView) {
  json v = Create("mapped");
  const std::string data = DataDir(v);
  struct stat st {};
  ASSERT_EQ(stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 300000u);  // the sandbox's root
  auto c = Content(v["token"]);
  auto r = c->Put(Url(v, "file", "/f", "&uid=1000&gid=1000"), "x",
                  "application/octet-stream");
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Body(r)["uid"], 1000);
  ASSERT_EQ(stat((data + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 301000u);
  EXPECT_EQ(st.st_gid, 301000u);
  EXPECT_EQ(c->Put(Url(v, "file", "/g", "&uid=65536"), "x",
                   "application/octet-stream")
                ->status,
            400);
  EXPECT_EQ(
      c->Patch(Url(v, "path", "/f"), R"({"gid":70000})", "application/json")
          ->status,
      400);
  // A host id outside the range shows as nobody.
  ASSERT_EQ(chown((data + "/f").c_str(), 0, 0), 0);
  EXPECT_EQ(Body(c->Get(Url(v, "path", "/f")))["uid"], 65534);
  r = c->Get(Url(v, "path", "/"));
  EXPECT_EQ(Body(r)["uid"], 0);
}

}  // namespace
}  // namespace e2b_local
