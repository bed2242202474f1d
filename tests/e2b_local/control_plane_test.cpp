// The control plane over real HTTP, with the real sandbox runtime behind it.

#include "control/control_plane.hpp"

#include "control/api_error.hpp"
#include "http/server_setup.hpp"
#include "runtime/runtime_factories.hpp"
#include "runtime/sandbox_cgroups.hpp"
#include "runtime/sandbox_runtime.hpp"
#include "sandbox/registry.hpp"
#include "store/file_ops.hpp"
#include "store/template_store.hpp"
#include "store/volume_store.hpp"
#include "support/background_listen.hpp"
#include "util/failure.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace e2b_local {
namespace {

using nlohmann::json;
const char* const kKey = "e2b_0123456789abcdef";

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/e2b-control-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    runtime_ = MakeRuntime(IsolationMode::kAuto);
    store_ = std::make_unique<TemplateStore>(dir_);
    RegistryOptions options = Options();
    options.tick = std::chrono::milliseconds(50);
    registry_ = std::make_unique<SandboxRegistry>(*runtime_, *store_, options);
    volumes_ = std::make_unique<VolumeStore>(dir_, VolumeIdMapping{});
    build_files_ = std::make_unique<BuildFileStore>(dir_);
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
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_default_headers({{"X-API-Key", kKey}});
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
    // Null when SetUp failed before making it.
    if (builds_) builds_->Shutdown();
    if (registry_) registry_->Shutdown();
    RemoveTree(dir_);
  }

  virtual RegistryOptions Options() const { return {}; }

  json Body(const httplib::Result& r) { return json::parse(r->body); }

  std::string CreateSandbox(const json& body = {{"templateID", "base"}}) {
    auto r = client_->Post("/sandboxes", body.dump(), "application/json");
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 201) << r->body;
    return Body(r).at("sandboxID").get<std::string>();
  }

  // Runs `script` with sh in sandbox `id` as `user`; stdout and stderr
  // together, then "exit=<code>".
  std::string Sh(const std::string& id, const std::string& script,
                 const std::string& user = "root") {
    auto sandbox = registry_->Get(id);
    auto account = sandbox->instance->LookupUser(user);
    EXPECT_TRUE(account.has_value());
    if (!account) return "";
    SpawnOptions options;
    options.argv = {"sh", "-c", script + " 2>&1"};
    options.user = *account;
    options.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"},
                   {"HOME", account->home}};
    auto process = sandbox->instance->Spawn(options);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(process->StdoutFd(), buf, sizeof buf)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out + "exit=" + std::to_string(process->Wait().exit_code);
  }

  std::string SnapshotOf(const std::string& id) {
    auto r = client_->Post("/sandboxes/" + id + "/snapshots", "{}",
                           "application/json");
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 201) << r->body;
    return Body(r).at("snapshotID").get<std::string>();
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
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ControlPlaneTest, HealthNeedsNoKeyButEverythingElseDoes) {
  httplib::Client anon("127.0.0.1", port_);
  auto r = anon.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = anon.Get("/sandboxes", {{"X-API-Key", "e2b_wrong"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Body(r), (json{{"code", 401}, {"message", "Invalid API key"}}));
  r = anon.Get("/sandboxes", {{"x-api-key", kKey}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ControlPlaneTest, UnknownRoutesAnswer404NamingTheRequest) {
  for (const auto& [target, message] :
       std::vector<std::pair<std::string, std::string>>{
           {"/nope", "no route for GET /nope"},
           {"/", "no route for /"},
           {"/v2/sandboxes/metrics", "no route for GET /v2/sandboxes/metrics"},
           {"/templates/t1/builds/b1/nope",
            "no route for GET /templates/t1/builds/b1/nope"},
       }) {
    auto r = client_->Get(target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 404) << target;
    EXPECT_EQ(Body(r), (json{{"code", 404}, {"message", message}})) << target;
  }
  auto r = client_->Patch("/sandboxes", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(Body(r), (json{{"code", 404},
                           {"message", "no route for PATCH /sandboxes"}}));
  // The key is checked before the route: no route is revealed without it.
  httplib::Client anon("127.0.0.1", port_);
  r = anon.Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(ControlPlaneTest, CreateGetListKill) {
  json req{{"templateID", "base"},
           {"timeout", 60},
           {"metadata", {{"team", "a b&c"}}},
           {"unknownField", true}};
  auto r = client_->Post("/v2/sandboxes", req.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  json created = Body(r);
  const std::string id = created["sandboxID"];
  EXPECT_EQ(id.size(), 21u);
  EXPECT_EQ(id[0], 'i');
  EXPECT_EQ(created["envdVersion"], "0.6.4");
  EXPECT_FALSE(created["envdAccessToken"].get<std::string>().empty());
  EXPECT_TRUE(created["trafficAccessToken"].is_null());
  EXPECT_TRUE(created["domain"].is_null());

  r = client_->Get("/sandboxes/" + id);
  ASSERT_EQ(r->status, 200);
  json detail = Body(r);
  EXPECT_EQ(detail["state"], "running");
  EXPECT_EQ(detail["metadata"]["team"], "a b&c");
  EXPECT_EQ(detail["lifecycle"]["onTimeout"], "kill");
  EXPECT_EQ(detail["envdAccessToken"], created["envdAccessToken"]);

  // metadata filter: keys/values encoded, the whole value encoded, then
  // the usual query encoding on top (PROTOCOL.md 2.1).
  r = client_->Get("/sandboxes?metadata=team%253Da%25252Bb%252526c");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r).size(), 0u);  // "a+b&c" != "a b&c"
  r = client_->Get("/sandboxes?metadata=team%253Da%252520b%252526c");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r).size(), 1u);

  r = client_->Delete("/sandboxes/" + id);
  EXPECT_EQ(r->status, 204);
  r = client_->Get("/sandboxes/" + id);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r)["code"], 404);
  r = client_->Delete("/sandboxes/" + id);
  EXPECT_EQ(r->status, 404);
}

TEST_F(ControlPlaneTest, BadRequests) {
  auto r = client_->Post("/sandboxes", "{", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Body(r)["code"], 400);
  r = client_->Post("/sandboxes", R"({"templateID": 5})", "application/json");
  EXPECT_EQ(r->status, 400);
  r = client_->Post("/sandboxes", R"({"templateID":"base","timeout":"x"})",
                    "application/json");
  EXPECT_EQ(r->status, 400);
  r = client_->Post("/sandboxes", R"({"templateID":"nope"})",
                    "application/json");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r)["message"], "template 'nope' not found");
  r = client_->Post("/sandboxes", std::string(2 << 20, ' '),
                    "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Body(r)["code"], 413);
  r = client_->Get("/v2/sandboxes?limit=0");
  EXPECT_EQ(r->status, 400);
  r = client_->Get("/v2/sandboxes?nextToken=%%%");
  EXPECT_EQ(r->status, 400);
  r = client_->Get("/nothing/here");
  EXPECT_EQ(r->status, 404);
}

TEST_F(ControlPlaneTest, PagingWithNextToken) {
  for (int i = 0; i < 3; ++i) CreateSandbox();
  auto r = client_->Get("/v2/sandboxes?limit=2&order=asc");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r).size(), 2u);
  ASSERT_TRUE(r->has_header("X-Next-Token"));
  EXPECT_EQ(r->get_header_value("X-Total-Running"), "3");
  r = client_->Get("/v2/sandboxes?limit=2&order=asc&nextToken=" +
                   r->get_header_value("X-Next-Token"));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r).size(), 1u);
  EXPECT_FALSE(r->has_header("X-Next-Token"));
}

// E2B pages by key (start time, then ID), not by offset: sandboxes
// created between two requests neither repeat on the next page nor push
// an older one off it.
TEST_F(ControlPlaneTest, PagingIsStableUnderConcurrentCreates) {
  // Apart by more than the key's millisecond, so the order is by time.
  const auto create = [this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    return CreateSandbox();
  };
  std::vector<std::string> old_ids;
  for (int i = 0; i < 3; ++i) old_ids.push_back(create());
  auto r = client_->Get("/v2/sandboxes?limit=2");  // newest first
  ASSERT_EQ(r->status, 200);
  std::vector<std::string> seen;
  for (const auto& s : Body(r)) seen.push_back(s["sandboxID"]);
  const std::string token = r->get_header_value("X-Next-Token");
  ASSERT_FALSE(token.empty());
  for (int i = 0; i < 2; ++i) create();  // newer than the cursor
  r = client_->Get("/v2/sandboxes?limit=2&nextToken=" + token);
  ASSERT_EQ(r->status, 200);
  for (const auto& s : Body(r)) seen.push_back(s["sandboxID"]);
  EXPECT_FALSE(r->has_header("X-Next-Token"));
  EXPECT_EQ(seen,
            (std::vector<std::string>{old_ids[2], old_ids[1], old_ids[0]}));

  // Oldest first, the new ones come after the old ones on later pages.
  r = client_->Get("/v2/sandboxes?limit=2&order=asc");
  std::vector<std::string> asc;
  for (const auto& s : Body(r)) asc.push_back(s["sandboxID"]);
  const std::string asc_token = r->get_header_value("X-Next-Token");
  const std::string late = create();
  r = client_->Get("/v2/sandboxes?limit=100&order=asc&nextToken=" + asc_token);
  ASSERT_EQ(r->status, 200);
  for (const auto& s : Body(r)) asc.push_back(s["sandboxID"]);
  ASSERT_EQ(asc.size(), 6u);
  EXPECT_EQ(asc[0], old_ids[0]);
  EXPECT_EQ(asc.back(), late);

  // A token only continues the order it was issued for.
  r = client_->Get("/v2/sandboxes?order=asc&nextToken=" + token);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Body(r)["message"], "Invalid next token");
  r = client_->Get("/v2/sandboxes?nextToken=" + asc_token);
  EXPECT_EQ(r->status, 400);
  // Not a token at all: base64 of something else.
  r = client_->Get("/v2/sandboxes?nextToken=b2Zmc2V0OjI");  // "offset:2"
  EXPECT_EQ(r->status, 400);
}

// startedAfter is at-or-after: a sandbox's own startedAt finds it.
// X-Total-Running counts the running sandboxes the filters admit and is
// sent only when running ones are asked for.
TEST_F(ControlPlaneTest, StartedAfterIsInclusiveAndTotalRunningIsFiltered) {
  const std::string first =
      CreateSandbox({{"templateID", "base"}, {"metadata", {{"group", "x"}}}});
  auto r = client_->Get("/v2/sandboxes");
  std::string started_at;
  for (const auto& s : Body(r)) {
    if (s["sandboxID"] == first) started_at = s["startedAt"];
  }
  ASSERT_FALSE(started_at.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string second = CreateSandbox();
  r = client_->Get("/v2/sandboxes?startedAfter=" + started_at);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r).size(), 2u);
  EXPECT_EQ(r->get_header_value("X-Total-Running"), "2");

  r = client_->Get("/v2/sandboxes?metadata=group%3Dx");
  ASSERT_EQ(Body(r).size(), 1u);
  EXPECT_EQ(r->get_header_value("X-Total-Running"), "1");

  ASSERT_EQ(
      client_->Post("/sandboxes/" + second + "/pause", "", "application/json")
          ->status,
      204);
  r = client_->Get("/v2/sandboxes?state=paused");
  ASSERT_EQ(Body(r).size(), 1u);
  EXPECT_FALSE(r->has_header("X-Total-Running"));
  r = client_->Get("/v2/sandboxes");
  EXPECT_EQ(Body(r).size(), 2u);
  EXPECT_EQ(r->get_header_value("X-Total-Running"), "1");
}

TEST_F(ControlPlaneTest, PauseResumeConnectAndStateFilter) {
  const std::string id = CreateSandbox();
  auto r = client_->Post("/sandboxes/" + id + "/pause", "", "application/json");
  EXPECT_EQ(r->status, 204) << r->body;
  r = client_->Post("/sandboxes/" + id + "/pause", "", "application/json");
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(Body(r)["code"], 409);
  r = client_->Get("/v2/sandboxes?state=paused");
  ASSERT_EQ(Body(r).size(), 1u);
  EXPECT_EQ(Body(r)[0]["state"], "paused");
  r = client_->Get("/sandboxes");  // v1 lists running only
  EXPECT_EQ(Body(r).size(), 0u);
  r = client_->Post("/sandboxes/" + id + "/resume", R"({"timeout":30})",
                    "application/json");
  EXPECT_EQ(r->status, 201) << r->body;
  r = client_->Post("/sandboxes/" + id + "/resume", "{}", "application/json");
  EXPECT_EQ(r->status, 409);
  r = client_->Post("/v2/sandboxes/" + id + "/connect", R"({"timeout":30})",
                    "application/json");
  EXPECT_EQ(r->status, 200);
  client_->Post("/sandboxes/" + id + "/pause", "", "application/json");
  r = client_->Post("/sandboxes/" + id + "/connect", R"({"timeout":30})",
                    "application/json");
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(Body(r)["sandboxID"], id);

  r = client_->Get("/v2/sandboxes/" + id + "/logs?direction=forward");
  ASSERT_EQ(r->status, 200);
  json logs = Body(r)["logs"];
  ASSERT_GE(logs.size(), 3u);
  EXPECT_EQ(logs[0]["message"], "Sandbox created");
  r = client_->Get("/v2/sandboxes/" + id + "/logs?search=paused&level=info");
  EXPECT_EQ(Body(r)["logs"].size(), 2u);
}

TEST_F(ControlPlaneTest, TimeoutExpiryKills) {
  const std::string id =
      CreateSandbox({{"templateID", "base"}, {"timeout", 1}});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  int status = 200;
  while (std::chrono::steady_clock::now() < deadline) {
    status = client_->Get("/sandboxes/" + id)->status;
    if (status == 404) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 404);
}

TEST_F(ControlPlaneTest, TimeoutAndRefresh) {
  const std::string id = CreateSandbox();
  auto r = client_->Post("/sandboxes/" + id + "/timeout", R"({"timeout":600})",
                         "application/json");
  EXPECT_EQ(r->status, 204);
  auto end_at = Body(client_->Get("/sandboxes/" + id))["endAt"];
  r = client_->Post("/sandboxes/" + id + "/refreshes", R"({"duration":10})",
                    "application/json");
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(Body(client_->Get("/sandboxes/" + id))["endAt"], end_at);
  r = client_->Post("/sandboxes/" + id + "/timeout", R"({})",
                    "application/json");
  EXPECT_EQ(r->status, 400);
  r = client_->Post("/sandboxes/inope/timeout", R"({"timeout":5})",
                    "application/json");
  EXPECT_EQ(r->status, 404);
}

TEST_F(ControlPlaneTest, MetricsAndNetwork) {
  const std::string id = CreateSandbox();
  auto r = client_->Get("/sandboxes/" + id + "/metrics");
  ASSERT_EQ(r->status, 200);
  ASSERT_GE(Body(r).size(), 1u);
  EXPECT_TRUE(Body(r)[0].contains("timestampUnix"));
  r = client_->Get("/sandboxes/metrics?sandbox_ids=" + id + ",inope");
  ASSERT_EQ(r->status, 200);
  EXPECT_TRUE(Body(r)["sandboxes"].contains(id));
  EXPECT_FALSE(Body(r)["sandboxes"].contains("inope"));
  r = client_->Get("/sandboxes/metrics");
  EXPECT_EQ(r->status, 400);
  r = client_->Put("/sandboxes/" + id + "/network",
                   R"({"allowOut":["1.1.1.1"]})", "application/json");
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(Body(client_->Get("/sandboxes/" + id))["network"]["allowOut"][0],
            "1.1.1.1");
}

TEST_F(ControlPlaneTest, SnapshotsAndSandboxFromSnapshot) {
  const std::string id = CreateSandbox();
  auto r = client_->Post("/sandboxes/" + id + "/snapshots",
                         R"({"name":"snap"})", "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Body(r)["snapshotID"], "snap:default");
  r = client_->Post("/sandboxes/" + id + "/snapshots", "{}",
                    "application/json");
  ASSERT_EQ(r->status, 201);
  r = client_->Get("/snapshots?limit=1");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r).size(), 1u);
  EXPECT_TRUE(r->has_header("X-Next-Token"));
  r = client_->Get("/snapshots?name=snap");
  EXPECT_EQ(Body(r).size(), 1u);
  r = client_->Get("/snapshots?sandboxID=" + id);
  EXPECT_EQ(Body(r).size(), 2u);

  r = client_->Post("/sandboxes", R"({"templateID":"snap:default"})",
                    "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string child = Body(r)["sandboxID"];
  EXPECT_EQ(Body(client_->Get("/sandboxes/" + child))["alias"], "snap");

  // In use: the snapshot cannot go yet.
  r = client_->Delete("/templates/snap%3Adefault");
  EXPECT_EQ(r->status, 400);
  client_->Delete("/sandboxes/" + child);
  r = client_->Delete("/templates/snap%3Adefault");
  EXPECT_EQ(r->status, 204);
  r = client_->Get("/snapshots?name=snap");
  EXPECT_EQ(Body(r).size(), 0u);
}

// Sandboxes from snapshots (and snapshots of those) see exactly the
// filesystem their parent had: written files, deleted host files (overlay
// whiteouts) and replaced host directories (opaque directories).
TEST_F(ControlPlaneTest, SnapshotKeepsWritesAndDeletionsAcrossGenerations) {
  const std::string first = CreateSandbox();
  ASSERT_EQ(Sh(first,
               "echo kept > /home/user/kept.txt && rm /etc/issue && "
               "rm -r /etc/skel && mkdir /etc/skel && echo new > "
               "/etc/skel/only && echo ok"),
            "ok\nexit=0");
  const std::string second = CreateSandbox({{"templateID", SnapshotOf(first)}});
  EXPECT_EQ(Sh(second, "cat /home/user/kept.txt", "user"), "kept\nexit=0");
  EXPECT_EQ(Sh(second, "test -e /etc/issue; echo $?"), "1\nexit=0");
  EXPECT_EQ(Sh(second, "ls -A /etc/skel"), "only\nexit=0");
  EXPECT_EQ(Sh(second, "id -un", "user"), "user\nexit=0");

  // A second generation: deletions made before and after both hold.
  ASSERT_EQ(Sh(second, "rm /home/user/kept.txt && echo more > /root/more"),
            "exit=0");
  const std::string third = CreateSandbox({{"templateID", SnapshotOf(second)}});
  EXPECT_EQ(Sh(third, "test -e /home/user/kept.txt; echo $?"), "1\nexit=0");
  EXPECT_EQ(Sh(third, "test -e /etc/issue; echo $?"), "1\nexit=0");
  EXPECT_EQ(Sh(third, "ls -A /etc/skel; cat /root/more"), "only\nmore\nexit=0");

  // Forks see the same.
  auto r = client_->Post("/sandboxes/" + second + "/fork", R"({"count":1})",
                         "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string fork = Body(r)[0]["sandbox"]["sandboxID"];
  EXPECT_EQ(Sh(fork, "test -e /etc/issue; echo $?; cat /root/more"),
            "1\nmore\nexit=0");

  // The host is untouched.
  EXPECT_TRUE(std::filesystem::exists("/etc/issue"));
  EXPECT_TRUE(std::filesystem::exists("/etc/skel/.profile"));
  EXPECT_FALSE(std::filesystem::exists("/etc/skel/only"));
}

// The state directory (database, layers, other sandboxes) is invisible from
// inside a sandbox, and through the sandbox's root as the server sees it.
TEST_F(ControlPlaneTest, SandboxCannotSeeTheStateDirectory) {
  const std::string other = CreateSandbox();
  ASSERT_EQ(Sh(other, "echo secret > /root/secret && echo ok"), "ok\nexit=0");
  SnapshotOf(other);
  ASSERT_FALSE(std::filesystem::is_empty(dir_ + "/layers"));
  const std::string id = CreateSandbox();
  // The sandbox's "/" is its own root filesystem: the host path does not
  // exist there at all.
  EXPECT_NE(Sh(id, "ls -A " + dir_).find("No such file"), std::string::npos);
  EXPECT_NE(
      Sh(id, "cat " + dir_ + "/sandboxes/" + other + "/upper/root/secret"),
      "secret\nexit=0");
  EXPECT_EQ(Sh(id, "find " + dir_ + " -mindepth 1 2>/dev/null | wc -l"),
            "0\nexit=0");
  const std::string root = registry_->Get(id)->instance->RootPath();
  EXPECT_FALSE(std::filesystem::exists(root + dir_));
  // The base root filesystem is there.
  EXPECT_EQ(Sh(id, "test -d /usr/bin && echo yes"), "yes\nexit=0");
}

// The log endpoints check `direction`, `level` and `cursor` alike; only the
// default direction differs (a sandbox's logs start with the newest).
TEST_F(ControlPlaneTest, LogQueriesAreCheckedAlike) {
  const std::string id = CreateSandbox();
  ASSERT_EQ(client_->Post("/sandboxes/" + id + "/pause", "", "application/json")
                ->status,
            204);
  const std::string logs = "/v2/sandboxes/" + id + "/logs";
  auto r = client_->Get(logs);
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_EQ(Body(r)["logs"].size(), 2u);
  EXPECT_EQ(Body(r)["logs"][0]["message"], "Sandbox paused");
  r = client_->Get(logs + "?direction=forward");
  EXPECT_EQ(Body(r)["logs"][0]["message"], "Sandbox created");

  r = client_->Post("/v3/templates", R"({"name":"log-queries"})",
                    "application/json");
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string build = "/templates/" +
                            Body(r)["templateID"].get<std::string>() +
                            "/builds/" + Body(r)["buildID"].get<std::string>();
  r = client_->Get(build + "/logs?direction=backward&level=debug");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_GE(Body(r)["logs"].size(), 1u);

  for (const std::string& path : {logs, build + "/logs"}) {
    for (const char* query :
         {"?direction=sideways", "?level=loud", "?cursor=-1", "?cursor=x"}) {
      r = client_->Get(path + query);
      EXPECT_EQ(r->status, 400) << path << query << ": " << r->body;
    }
  }
  EXPECT_EQ(client_->Get(build + "/status?level=loud")->status, 400);
}

TEST_F(ControlPlaneTest, Fork) {
  const std::string id = CreateSandbox();
  auto r = client_->Post("/sandboxes/" + id + "/fork", R"({"count":2})",
                         "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  json forks = Body(r);
  ASSERT_EQ(forks.size(), 2u);
  for (const auto& f : forks) {
    ASSERT_TRUE(f.contains("sandbox")) << f.dump();
    EXPECT_NE(f["sandbox"]["sandboxID"], id);
  }
  r = client_->Post("/sandboxes/" + id + "/fork", R"({"count":0})",
                    "application/json");
  EXPECT_EQ(r->status, 400);
}

TEST_F(ControlPlaneTest, Templates) {
  auto r = client_->Post("/v3/templates",
                         R"({"name":"my-tpl:v1","cpuCount":1,"memoryMB":256})",
                         "application/json");
  ASSERT_EQ(r->status, 202) << r->body;
  json created = Body(r);
  const std::string tid = created["templateID"];
  const std::string bid = created["buildID"];
  EXPECT_EQ(created["names"], json::array({"my-tpl"}));
  EXPECT_EQ(created["tags"], json::array({"v1"}));
  EXPECT_EQ(bid.size(), 36u);
  EXPECT_EQ(bid[14], '4');

  r = client_->Get("/templates");
  ASSERT_EQ(r->status, 200);
  ASSERT_EQ(Body(r).size(), 2u);
  EXPECT_EQ(Body(r)[0]["templateID"], "base");
  EXPECT_EQ(Body(r)[0]["buildStatus"], "ready");

  client_->Post("/v3/templates", R"({"name":"my-tpl"})", "application/json");
  r = client_->Get("/templates/" + tid + "?limit=1");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Body(r)["builds"].size(), 1u);
  ASSERT_TRUE(r->has_header("X-Next-Token"));
  r = client_->Get("/templates/" + tid +
                   "?limit=1&nextToken=" + r->get_header_value("X-Next-Token"));
  ASSERT_EQ(Body(r)["builds"].size(), 1u);
  EXPECT_EQ(Body(r)["builds"][0]["buildID"], bid);

  r = client_->Get("/templates/" + tid + "/builds/" + bid + "/logs");
  ASSERT_EQ(r->status, 200);
  EXPECT_GE(Body(r)["logs"].size(), 1u);
  r = client_->Get("/templates/" + tid + "/builds/nope/logs");
  EXPECT_EQ(r->status, 404);
  r = client_->Post("/v3/templates", R"({"name":"../x"})", "application/json");
  EXPECT_EQ(r->status, 400);
  r = client_->Post("/v3/templates", R"({})", "application/json");
  EXPECT_EQ(r->status, 400);

  r = client_->Delete("/templates/base");
  EXPECT_EQ(r->status, 400);
  r = client_->Delete("/templates/" + tid);
  EXPECT_EQ(r->status, 204);
  r = client_->Delete("/templates/" + tid);
  EXPECT_EQ(r->status, 404);
  r = client_->Get("/templates/" + tid);
  EXPECT_EQ(r->status, 404);
}

bool MountedAt(const std::string& path) {
  for (const auto& m : runtime_internal::MountsUnder(path)) {
    if (m == path) return true;
  }
  return false;
}

// A server that died leaves mounts, cgroups (maybe with frozen tasks) and
// directories; the next registry on that state directory removes them and
// nothing of another state directory.
class SandboxCapTest : public ControlPlaneTest {
 protected:
  RegistryOptions Options() const override {
    RegistryOptions options;
    options.max_sandboxes = 2;
    return options;
  }

  void ExpectConcurrencyLimit(const httplib::Result& r) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 429) << r->body;
    json body = Body(r);
    EXPECT_EQ(body.value("code", 0), 429);
    EXPECT_EQ(
        body.value("message", "")
            .rfind("you have reached the maximum number of concurrent E2B "
                   "sandboxes (2)",
                   0),
        0u)
        << r->body;
  }
};

TEST_F(SandboxCapTest, CreateOverTheCapAnswers429AndPausedOnesCount) {
  const std::string first = CreateSandbox();
  const std::string second = CreateSandbox();
  ExpectConcurrencyLimit(client_->Post("/sandboxes", R"({"templateID":"base"})",
                                       "application/json"));
  ExpectConcurrencyLimit(client_->Post(
      "/v2/sandboxes", R"({"templateID":"base"})", "application/json"));
  // A paused sandbox keeps its memory and disk: it still holds its slot,
  // and resuming it needs none.
  auto r = client_->Post("/sandboxes/" + first + "/pause", "", "");
  ASSERT_EQ(r->status, 204) << r->body;
  ExpectConcurrencyLimit(client_->Post("/sandboxes", R"({"templateID":"base"})",
                                       "application/json"));
  r = client_->Post("/sandboxes/" + first + "/connect", R"({"timeout":30})",
                    "application/json");
  EXPECT_EQ(r->status, 201) << r->body;
  // Forks start new sandboxes: each over the cap fails alone; asking for
  // as many as the cap can never succeed (E2B answers 400 then).
  r = client_->Post("/sandboxes/" + first + "/fork", R"({"count":1})",
                    "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  json forks = Body(r);
  ASSERT_EQ(forks.size(), 1u);
  EXPECT_EQ(forks[0]["error"]["code"], 429) << forks.dump();
  r = client_->Post("/sandboxes/" + first + "/fork", R"({"count":2})",
                    "application/json");
  EXPECT_EQ(r->status, 400) << r->body;
  // A killed sandbox frees its slot at once.
  r = client_->Delete("/sandboxes/" + second);
  ASSERT_EQ(r->status, 204) << r->body;
  CreateSandbox();
}

TEST_F(SandboxCapTest, ConcurrentCreatesNeverOvershoot) {
  std::vector<std::thread> threads;
  std::vector<int> statuses(6, 0);
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([this, i, &statuses] {
      httplib::Client client("127.0.0.1", port_);
      client.set_default_headers({{"X-API-Key", kKey}});
      auto r = client.Post("/sandboxes", R"({"templateID":"base"})",
                           "application/json");
      statuses[i] = r ? r->status : -1;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 2);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 429), 4);
  EXPECT_EQ(registry_->List().size(), 2u);
}

TEST(RegistryStartupTest, ReclaimsLeftoversOfItsOwnStateDirOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  char a_tmpl[] = "/tmp/e2b-reclaim-a-XXXXXX";
  char b_tmpl[] = "/tmp/e2b-reclaim-b-XXXXXX";
  ASSERT_NE(mkdtemp(a_tmpl), nullptr);
  ASSERT_NE(mkdtemp(b_tmpl), nullptr);
  const std::string a = a_tmpl, b = b_tmpl;
  const std::string a_root = a + "/sandboxes/ileftover/root";
  const std::string b_root = b + "/sandboxes/iother/root";
  for (const auto& root : {a_root, b_root}) {
    MakeDirs(root);
    ASSERT_EQ(mount("tmpfs", root.c_str(), "tmpfs", 0, "size=64k"), 0);
    // Stacked, as an overlay over a masked path would be.
    ASSERT_EQ(mount("tmpfs", root.c_str(), "tmpfs", 0, "size=64k"), 0);
  }
  // A cgroup of each, the dead server's with a frozen task in it.
  const std::string a_scope = runtime_internal::CgroupScope(a + "/sandboxes");
  const std::string b_scope = runtime_internal::CgroupScope(b + "/sandboxes");
  ASSERT_NE(a_scope, b_scope);
  const std::string a_freezer =
      runtime_internal::CgroupScopeDirs(a_scope)[0] + "/ileftover";
  const std::string b_freezer =
      runtime_internal::CgroupScopeDirs(b_scope)[0] + "/iother";
  const bool freezer = std::filesystem::exists("/sys/fs/cgroup/freezer/tasks");
  pid_t task = -1;
  if (freezer) {
    std::filesystem::create_directories(a_freezer);
    std::filesystem::create_directories(b_freezer);
    task = fork();
    if (task == 0) {
      execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(task, 0);
    {
      std::ofstream procs(a_freezer + "/cgroup.procs");
      procs << task;
    }
    std::ofstream(a_freezer + "/freezer.state") << "FROZEN";
  }

  auto runtime = MakeRuntime(IsolationMode::kNone);
  {
    TemplateStore store(a);
    SandboxRegistry registry(*runtime, store);
    EXPECT_FALSE(MountedAt(a_root));
    EXPECT_FALSE(std::filesystem::exists(a + "/sandboxes/ileftover"));
    EXPECT_TRUE(MountedAt(b_root));
    if (freezer) {
      EXPECT_FALSE(std::filesystem::exists(a_freezer));
      EXPECT_TRUE(std::filesystem::exists(b_freezer));
      int status = 0;
      ASSERT_EQ(waitpid(task, &status, 0), task);
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    registry.Shutdown();
  }
  while (MountedAt(b_root)) ASSERT_EQ(umount2(b_root.c_str(), 0), 0);
  if (freezer) {
    rmdir(b_freezer.c_str());
    rmdir(runtime_internal::CgroupScopeDirs(b_scope)[0].c_str());
  }
  RemoveTree(a);
  RemoveTree(b);
}

// A second registry on a state directory in use leaves the first one's
// sandboxes alone.
TEST(RegistryStartupTest, SecondServerOnTheSameStateDirTouchesNothing) {
  char tmpl[] = "/tmp/e2b-reclaim-live-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto runtime = MakeRuntime(IsolationMode::kAuto);
  TemplateStore store(dir);
  SandboxRegistry first(*runtime, store);
  CreateSandboxParams params;
  params.template_ref = "base";
  auto sandbox = first.Create(params);
  const std::string root = sandbox->instance->RootPath();
  ASSERT_TRUE(std::filesystem::exists(root + "/home/user"));
  {
    TemplateStore second_store(dir);
    SandboxRegistry second(*runtime, second_store);
    second.Shutdown();
  }
  EXPECT_TRUE(std::filesystem::exists(root + "/home/user"));
  EXPECT_EQ(
      sandbox->instance
          ->Spawn({{"true"}, {}, "/", *sandbox->instance->LookupUser("root")})
          ->Wait()
          .status,
      "exit status 0");
  first.Shutdown();
  RemoveTree(dir);
}

// Routing as a pure function (the fuzzer local_control_plane runs it on
// hostile input).

RouteMatch Match(const std::string& method, const std::string& target) {
  return MatchRoute(method, SplitRequestPath(target), target);
}

int RouteErrorStatus(const std::string& method, const std::string& target) {
  try {
    Match(method, target);
  } catch (const ApiError& e) {
    return e.status;
  }
  return 0;
}

TEST(MatchRouteTest, EveryEndpoint) {
  struct Case {
    const char* method;
    const char* target;
    const char* pattern;
    const char* id;
    const char* build;
  };
  const Case cases[] = {
      {"POST", "/sandboxes", "/sandboxes", "", ""},
      {"POST", "/v2/sandboxes", "/v2/sandboxes", "", ""},
      {"GET", "/sandboxes?metadata=a%3Db", "/sandboxes", "", ""},
      {"GET", "/v2/sandboxes", "/v2/sandboxes", "", ""},
      {"GET", "/sandboxes/metrics", "/sandboxes/metrics", "", ""},
      {"GET", "/sandboxes/s1", "/sandboxes/{id}", "s1", ""},
      {"DELETE", "/sandboxes/s1", "/sandboxes/{id}", "s1", ""},
      {"POST", "/sandboxes/s1/connect", "/sandboxes/{id}/connect", "s1", ""},
      {"POST", "/v2/sandboxes/s1/connect", "/v2/sandboxes/{id}/connect", "s1",
       ""},
      {"GET", "/sandboxes/s1/logs", "/sandboxes/{id}/logs", "s1", ""},
      {"GET", "/v2/sandboxes/s1/logs", "/v2/sandboxes/{id}/logs", "s1", ""},
      {"GET", "/sandboxes/s1/metrics", "/sandboxes/{id}/metrics", "s1", ""},
      {"PUT", "/sandboxes/s1/network", "/sandboxes/{id}/network", "s1", ""},
      {"POST", "/sandboxes/s1/timeout", "/sandboxes/{id}/timeout", "s1", ""},
      {"POST", "/sandboxes/s1/refreshes", "/sandboxes/{id}/refreshes", "s1",
       ""},
      {"POST", "/sandboxes/s1/pause", "/sandboxes/{id}/pause", "s1", ""},
      {"POST", "/sandboxes/s1/resume", "/sandboxes/{id}/resume", "s1", ""},
      {"POST", "/sandboxes/s1/fork", "/sandboxes/{id}/fork", "s1", ""},
      {"POST", "/sandboxes/s1/snapshots", "/sandboxes/{id}/snapshots", "s1",
       ""},
      {"GET", "/snapshots", "/snapshots", "", ""},
      {"POST", "/v3/templates", "/v3/templates", "", ""},
      {"GET", "/templates", "/templates", "", ""},
      {"GET", "/templates/t1", "/templates/{id...}", "t1", ""},
      {"GET", "/templates/team/t1", "/templates/{id...}", "team/t1", ""},
      {"GET", "/templates/a%2Fb", "/templates/{id...}", "a/b", ""},
      {"DELETE", "/templates/t1", "/templates/{id...}", "t1", ""},
      {"GET", "/templates/t1/builds/b1/logs",
       "/templates/{id}/builds/{build}/logs", "t1", "b1"},
      {"GET", "/templates/t1/builds/b1/status",
       "/templates/{id}/builds/{build}/status", "t1", "b1"},
      {"GET", "//sandboxes//s1/", "/sandboxes/{id}", "s1", ""},
      // "metrics" is only special to GET; elsewhere it is a sandbox ID.
      {"DELETE", "/sandboxes/metrics", "/sandboxes/{id}", "metrics", ""},
      {"GET", "/sandboxes/metrics/logs", "/sandboxes/{id}/logs", "metrics", ""},
      // Template IDs may hold '/': only GET .../builds/{build}/(logs|status)
      // is a build.
      {"GET", "/templates/t1/builds/b1", "/templates/{id...}", "t1/builds/b1",
       ""},
      {"DELETE", "/templates/t1/builds/b1/logs", "/templates/{id...}",
       "t1/builds/b1/logs", ""},
      {"GET", "/templates/t1/x/b1/logs", "/templates/{id...}", "t1/x/b1/logs",
       ""},
      {"GET", "/templates/t1/builds/b1/logs/x", "/templates/{id...}",
       "t1/builds/b1/logs/x", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    const RouteMatch m = Match(c.method, c.target);
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->method, std::string(c.method));
    EXPECT_STREQ(m.route->pattern, c.pattern);
    EXPECT_EQ(m.id, c.id);
    EXPECT_EQ(m.build_id, c.build);
  }
}

TEST(MatchRouteTest, UnknownRoutesAre404AndBadEscapes400) {
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{
           {"GET", "/"},
           {"GET", "/nope"},
           {"PUT", "/sandboxes"},
           {"GET", "/v2/sandboxes/s1"},
           {"POST", "/v2/sandboxes/metrics/x"},
           {"POST", "/sandboxes/s1/nope"},
           {"GET", "/sandboxes/s1/a/b"},
           {"POST", "/templates"},
           {"POST", "/v3/templates/x"},
           {"GET", "/v2/templates/t1"},
           {"PATCH", "/templates/t1"},
           {"POST", "/snapshots"},
           {"get", "/sandboxes"},
           {"HEAD", "/sandboxes"},
           {"GET", "/v2/sandboxes/metrics"},
           {"POST", "/sandboxes/metrics"},
           {"GET", "/v2/sandboxes/s1/metrics"},
           {"POST", "/v2/sandboxes/s1/pause"},
           {"GET", "/v3/sandboxes"},
           {"GET", "/snapshots/x"},
           {"GET", "/v2"},
           {"GET", "/v3/templates"},
           {"GET", "/templates/t1/builds/b1/nope"},
       }) {
    EXPECT_EQ(RouteErrorStatus(method, target), 404) << method << " " << target;
  }
  try {
    Match("PUT", "/sandboxes");
    ADD_FAILURE() << "PUT /sandboxes routed";
  } catch (const ApiError& e) {
    EXPECT_STREQ(e.what(), "no route for PUT /sandboxes");
  }
  try {
    Match("GET", "/");
    ADD_FAILURE() << "GET / routed";
  } catch (const ApiError& e) {
    EXPECT_STREQ(e.what(), "no route for /");
  }
  EXPECT_EQ(RouteErrorStatus("GET", "/sandboxes/%zz"), 400);
  EXPECT_EQ(RouteErrorStatus("GET", "/sandboxes/%4"), 400);
}

TEST(MatchRouteTest, HealthCheckIsOnlyGetHealth) {
  EXPECT_TRUE(IsHealthCheck("GET", SplitRequestPath("/health?x=1")));
  EXPECT_TRUE(IsHealthCheck("GET", SplitRequestPath("//health/")));
  EXPECT_FALSE(IsHealthCheck("POST", SplitRequestPath("/health")));
  EXPECT_FALSE(IsHealthCheck("GET", SplitRequestPath("/health/x")));
}

// The one mapping from a lower layer's Failure to the REST API's status:
// every answer the registry and the store give depends on it.
TEST(HttpStatusOfTest, EveryReasonHasItsStatus) {
  using Reason = Failure::Reason;
  EXPECT_EQ(HttpStatusOf(Reason::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(Reason::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(Reason::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(Reason::kConflict), 409);
  EXPECT_EQ(HttpStatusOf(Reason::kLimitReached), 429);
  EXPECT_EQ(HttpStatusOf(Reason::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(Reason::kUnavailable), 503);
}

}  // namespace
}  // namespace e2b_local
