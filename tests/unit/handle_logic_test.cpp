// The public handles over fake APIs (fake_apis.hpp): what Client and
// Sandbox decide themselves (defaults, argument checks, rounding, how a
// fork answer becomes results, when a paginator moves) without a socket.

#include "fake_apis.hpp"

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

using e2b_test::ClientWithFakes;
using e2b_test::Created;
using e2b_test::FakeControlPlaneApi;
using e2b_test::FakeEnvdApi;
using e2b_test::FakeProcessEvents;
using Event = e2b::internal::ProcessEvent;

Event StartEvent(std::uint32_t pid) {
  Event event;
  event.kind = Event::Kind::kStart;
  event.pid = pid;
  return event;
}

Event DataEvent(std::string out, std::string err = {}) {
  Event event;
  event.kind = Event::Kind::kData;
  event.out = std::move(out);
  event.err = std::move(err);
  return event;
}

Event EndEvent(int exit_code, std::string error = {}) {
  Event event;
  event.kind = Event::Kind::kEnd;
  event.exit_code = exit_code;
  event.error = std::move(error);
  return event;
}

Event KeepaliveEvent() {
  Event event;
  event.kind = Event::Kind::kKeepalive;
  return event;
}

struct HandleLogicTest : ::testing::Test {
  std::shared_ptr<FakeControlPlaneApi> api =
      std::make_shared<FakeControlPlaneApi>();
  std::shared_ptr<FakeEnvdApi> envd = std::make_shared<FakeEnvdApi>();
  e2b::Client client = ClientWithFakes(api, envd);

  // The next process stream yields `events`.
  void StreamYields(std::deque<Event> events) {
    envd->on_open_process_stream = [events](const e2b::internal::ConnectCall&,
                                            const nlohmann::json&) {
      return std::make_unique<FakeProcessEvents>(events);
    };
  }

  e2b::Sandbox NewSandbox(const std::string& id) {
    api->on_create = [id](const e2b::SandboxConfig&, const std::string&) {
      return Created(id);
    };
    return client.NewSandbox();
  }
};

TEST_F(HandleLogicTest, NewSandboxDefaultsTheTemplateAndBuildsTheSandbox) {
  std::string template_seen;
  api->on_create = [&](const e2b::SandboxConfig& cfg,
                       const std::string& template_id) {
    EXPECT_EQ(cfg.Timeout, 42);
    template_seen = template_id;
    auto created = Created("sbx1");
    created.Domain = "other.example";
    return created;
  };
  e2b::SandboxConfig cfg;
  cfg.Timeout = 42;
  auto sandbox = client.NewSandbox(cfg);
  EXPECT_EQ(template_seen, e2b::DefaultTemplate);
  EXPECT_EQ(sandbox.ID, "sbx1");
  EXPECT_EQ(sandbox.EnvdAccessToken(), "token-sbx1");
  EXPECT_EQ(sandbox.EnvdVersion(), "0.5.7");
  // The answer's domain wins over the client's.
  EXPECT_EQ(sandbox.GetHost(8080), "8080-sbx1.other.example");
}

TEST_F(HandleLogicTest, NewSandboxRejectsBadInputBeforeAndAfterTheCall) {
  e2b::SandboxConfig cfg;
  cfg.Timeout = -1;
  EXPECT_THROW(client.NewSandbox(cfg), e2b::Error);
  EXPECT_TRUE(api->calls.empty());

  // An ID that cannot be a host-name label is a malformed answer.
  api->on_create = [](const e2b::SandboxConfig&, const std::string&) {
    return Created("not/an/id");
  };
  EXPECT_THROW(client.NewSandbox(), e2b::Error);
  EXPECT_EQ(api->calls, std::vector<std::string>{"CreateSandbox"});
}

TEST_F(HandleLogicTest, ConnectSendsTheDefaultTimeoutForZero) {
  int timeout_seen = -1;
  api->on_connect = [&](const std::string& id, int timeout) {
    timeout_seen = timeout;
    return Created(id);
  };
  EXPECT_EQ(client.Connect("sbx2", 0).ID, "sbx2");
  EXPECT_EQ(timeout_seen, e2b::DefaultTimeout);
  EXPECT_EQ(client.Connect("sbx2", 7).ID, "sbx2");
  EXPECT_EQ(timeout_seen, 7);

  EXPECT_THROW(client.Connect("", 5), e2b::Error);
  EXPECT_THROW(client.Connect("sbx2", -1), e2b::Error);
  EXPECT_EQ(api->calls.size(), 2u);
}

TEST_F(HandleLogicTest, RefreshRoundsUpToWholeSecondsAndRejectsNegatives) {
  auto sandbox = NewSandbox("sbx3");
  std::vector<std::optional<std::int64_t>> seen;
  api->on_refresh = [&](const e2b::internal::SandboxState& s,
                        std::optional<std::int64_t> duration) {
    EXPECT_EQ(s.id, "sbx3");
    seen.push_back(duration);
  };
  sandbox.Refresh();
  sandbox.Refresh(std::chrono::milliseconds(1500));
  sandbox.Refresh(std::chrono::seconds(3));
  EXPECT_THROW(sandbox.Refresh(std::chrono::milliseconds(-1)), e2b::Error);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen[0].has_value());
  EXPECT_EQ(seen[1], 2);
  EXPECT_EQ(seen[2], 3);
}

TEST_F(HandleLogicTest, PauseSendsKeepMemoryOnlyWhenAsked) {
  auto sandbox = NewSandbox("sbx4");
  std::vector<std::optional<bool>> seen;
  api->on_pause = [&](const e2b::internal::SandboxState&,
                      std::optional<bool> keep_memory) {
    seen.push_back(keep_memory);
  };
  sandbox.Pause();
  sandbox.Pause(true);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen[0].has_value());
  EXPECT_EQ(seen[1], true);
}

TEST_F(HandleLogicTest, ApiErrorsReachTheCallerUnchanged) {
  auto sandbox = NewSandbox("sbx5");
  api->on_get = [](const e2b::internal::SandboxState& s) -> e2b::SandboxInfo {
    throw e2b::SandboxNotFoundError(s.id);
  };
  try {
    sandbox.Info();
    FAIL() << "Info returned";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), "sbx5");
  }
}

TEST_F(HandleLogicTest, ForkTurnsEachEntryIntoItsOwnResult) {
  using Kind = e2b::internal::ForkEntryWire::Kind;
  auto sandbox = NewSandbox("src");
  api->on_fork = [](const std::string& id, int count, std::int64_t timeout) {
    EXPECT_EQ(id, "src");
    EXPECT_EQ(count, 3);
    EXPECT_EQ(timeout, 2);  // 1,001 ms rounded up
    std::vector<e2b::internal::ForkEntryWire> entries(3);
    entries[0].kind = Kind::kSandbox;
    entries[0].sandbox = Created("fork0");
    entries[1].kind = Kind::kError;
    entries[1].code = 429;
    entries[1].message = R"({"message":"too many forks fake-api-key"})";
    entries[2].kind = Kind::kMalformed;
    entries[2].malformed = "no sandboxID";
    return entries;
  };
  const auto results =
      sandbox.Fork(e2b::WithForkCount(3),
                   e2b::WithForkTimeout(std::chrono::milliseconds(1001)));
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(results[0].OK());
  EXPECT_EQ(results[0].Sandbox->ID, "fork0");
  ASSERT_FALSE(results[1].OK());
  try {
    std::rethrow_exception(results[1].Err);
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 429);
    EXPECT_EQ(e.Message().find("fake-api-key"), std::string::npos)
        << e.Message();
    EXPECT_NE(e.Message().find("too many forks"), std::string::npos);
  }
  ASSERT_FALSE(results[2].OK());
  try {
    std::rethrow_exception(results[2].Err);
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()).find("(fork 2)"), std::string::npos)
        << e.what();
  }

  EXPECT_THROW(sandbox.Fork(e2b::WithForkCount(0)), e2b::Error);
  EXPECT_EQ(api->calls.back(), "ForkSandbox");
  EXPECT_EQ(api->calls.size(), 2u);
}

TEST_F(HandleLogicTest, PaginatorMovesOnlyAfterASuccessfulPage) {
  std::vector<std::string> tokens;
  int failures_left = 1;
  api->on_list_v2 = [&](const e2b::ListSandboxesV2Params& p) {
    tokens.push_back(p.NextToken.value_or("<none>"));
    e2b::ListSandboxesV2Result page;
    if (tokens.size() == 1) {
      page.NextToken = "t2";
      return page;
    }
    if (failures_left-- > 0) throw e2b::Error(503, "try again");
    return page;
  };
  auto paginator = client.NewSandboxPaginator(e2b::WithSandboxLimit(5));
  ASSERT_TRUE(paginator.HasNext());
  paginator.NextItems();
  ASSERT_TRUE(paginator.HasNext());
  EXPECT_THROW(paginator.NextItems(), e2b::Error);
  ASSERT_TRUE(paginator.HasNext());
  paginator.NextItems();
  EXPECT_FALSE(paginator.HasNext());
  EXPECT_EQ(tokens, (std::vector<std::string>{"", "t2", "t2"}));
}

TEST_F(HandleLogicTest, SandboxesMetricsChecksIdsBeforeTheCall) {
  EXPECT_TRUE(client.GetSandboxesMetrics({}).empty());
  EXPECT_THROW(client.GetSandboxesMetrics({"a,b"}), e2b::Error);
  EXPECT_THROW(client.GetSandboxesMetrics({""}), e2b::Error);
  EXPECT_THROW(client.GetSandboxesMetrics(std::vector<std::string>(101, "id")),
               e2b::Error);
  EXPECT_TRUE(api->calls.empty());

  api->on_sandboxes_metrics = [](const std::vector<std::string>& ids) {
    EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
    std::map<std::string, e2b::SandboxMetric> out;
    out["a"].CPUCount = 2;
    return out;
  };
  EXPECT_EQ(client.GetSandboxesMetrics({"a", "b"}).at("a").CPUCount, 2);
}

TEST_F(HandleLogicTest, IsRunningIsTheApisAnswer) {
  auto sandbox = NewSandbox("sbx6");
  bool running = true;
  envd->on_health = [&](const e2b::internal::SandboxState& s) {
    EXPECT_EQ(s.id, "sbx6");
    return running;
  };
  EXPECT_TRUE(sandbox.IsRunning());
  running = false;
  EXPECT_FALSE(sandbox.IsRunning());
}

TEST_F(HandleLogicTest, RunAssemblesOutputFromTheEvents) {
  auto sandbox = NewSandbox("sbx7");
  nlohmann::json request_seen;
  std::string procedure_seen;
  envd->on_open_process_stream = [&](const e2b::internal::ConnectCall& call,
                                     const nlohmann::json& request) {
    procedure_seen = call.procedure;
    request_seen = request;
    return std::make_unique<FakeProcessEvents>(std::deque<Event>{
        StartEvent(7), DataEvent("hel", "warn"), KeepaliveEvent(),
        DataEvent("lo\n"), EndEvent(3, "exit status 3")});
  };
  std::string streamed;
  const auto result = sandbox.Commands.Run(
      "echo", {"hello"}, e2b::WithCwd("/tmp"),
      e2b::WithOnStdout([&](const std::string& text) { streamed += text; }));
  EXPECT_EQ(result.Stdout, "hello\n");
  EXPECT_EQ(result.Stderr, "warn");
  EXPECT_EQ(result.ExitCode, 3);
  EXPECT_EQ(streamed, "hello\n");
  EXPECT_EQ(procedure_seen, "/process.Process/Start");
  EXPECT_EQ(request_seen["process"]["cmd"], "echo");
  EXPECT_EQ(request_seen["process"]["cwd"], "/tmp");
}

TEST_F(HandleLogicTest, RunWithExitErrorThrowsAndAStreamWithoutEndFails) {
  auto sandbox = NewSandbox("sbx8");
  StreamYields({StartEvent(1), DataEvent("x"), EndEvent(2, "exit status 2")});
  try {
    sandbox.Commands.Run("false", {}, e2b::WithCommandExitError());
    FAIL() << "Run returned";
  } catch (const e2b::CommandExitError& e) {
    EXPECT_EQ(e.ExitCode(), 2);
    EXPECT_EQ(e.Stdout(), "x");
  }

  StreamYields({StartEvent(1), DataEvent("partial")});
  EXPECT_THROW(sandbox.Commands.Run("sleep", {"1"}), e2b::Error);
  EXPECT_THROW(sandbox.Commands.Run("", {}), e2b::Error);
  EXPECT_EQ(envd->calls.size(), 2u);
}

TEST_F(HandleLogicTest, StartedCommandCollectsOutputAndSignalsItsPid) {
  auto sandbox = NewSandbox("sbx9");
  StreamYields(
      {StartEvent(42), DataEvent("a"), DataEvent("b", "c"), EndEvent(0)});
  auto handle = sandbox.Commands.Start("cat", {});
  EXPECT_EQ(handle.PID(), 42u);
  const auto result = handle.Wait();
  EXPECT_EQ(result.Stdout, "ab");
  EXPECT_EQ(result.Stderr, "c");
  EXPECT_EQ(result.ExitCode, 0);

  envd->on_send_signal = [](const nlohmann::json& selector,
                            e2b::ProcessSignal signal) {
    EXPECT_EQ(selector, (nlohmann::json{{"pid", 42}}));
    EXPECT_EQ(signal, e2b::ProcessSignal::Kill);
    return false;  // envd knows no such process any more
  };
  EXPECT_FALSE(handle.Kill());
}

TEST_F(HandleLogicTest, PtyResizeChecksTheSizeBeforeTheCall) {
  auto sandbox = NewSandbox("sbx10");
  EXPECT_THROW(sandbox.Pty.Resize(5, 0, 24), e2b::Error);
  EXPECT_TRUE(envd->calls.empty());
  envd->on_resize = [](const nlohmann::json& selector, std::uint32_t cols,
                       std::uint32_t rows) {
    EXPECT_EQ(selector, (nlohmann::json{{"pid", 5}}));
    EXPECT_EQ(cols, 80u);
    EXPECT_EQ(rows, 24u);
  };
  sandbox.Pty.Resize(5, 80, 24);
  EXPECT_EQ(envd->calls, std::vector<std::string>{"ResizePty"});
}

TEST_F(HandleLogicTest, FilesystemListExistsAndWatchUseTheApi) {
  auto sandbox = NewSandbox("sbx11");
  EXPECT_THROW(sandbox.Filesystem.List("/tmp", e2b::WithDepth(0)), e2b::Error);
  EXPECT_TRUE(envd->calls.empty());

  envd->on_list_dir = [](const std::string& path, std::uint32_t depth) {
    EXPECT_EQ(path, "/tmp");
    EXPECT_EQ(depth, 2u);
    e2b::FileInfo info;
    info.Name = "a";
    return std::vector<e2b::FileInfo>{info};
  };
  const auto listed = sandbox.Filesystem.List("/tmp", e2b::WithDepth(2));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].Name, "a");

  // Exists is Stat with "not found" as an answer, not a failure.
  envd->on_stat = [](const std::string& path) -> e2b::FileInfo {
    if (path == "/missing") throw e2b::FileNotFoundError(path, "no such file");
    if (path == "/gone") throw e2b::SandboxNotFoundError("sbx11");
    e2b::FileInfo info;
    info.Path = path;
    return info;
  };
  EXPECT_TRUE(sandbox.Filesystem.Exists("/there"));
  EXPECT_FALSE(sandbox.Filesystem.Exists("/missing"));
  EXPECT_THROW(sandbox.Filesystem.Exists("/gone"), e2b::SandboxNotFoundError);

  envd->on_create_watcher = [](const std::string& path, bool recursive) {
    EXPECT_EQ(path, "/w");
    EXPECT_TRUE(recursive);
    return std::string("watch-1");
  };
  envd->on_get_watcher_events = [](const std::string& id) {
    EXPECT_EQ(id, "watch-1");
    e2b::FilesystemEvent event;
    event.Name = "f";
    return std::vector<e2b::FilesystemEvent>{event};
  };
  envd->on_remove_watcher = [](const std::string& id) {
    EXPECT_EQ(id, "watch-1");
    return false;  // already gone: Stop still succeeds
  };
  auto watcher = sandbox.Filesystem.WatchDir("/w", true);
  ASSERT_EQ(watcher.GetEvents().size(), 1u);
  watcher.Stop();
  EXPECT_THROW(watcher.GetEvents(), e2b::Error);  // stopped
  EXPECT_EQ(std::count(envd->calls.begin(), envd->calls.end(),
                       std::string("RemoveWatcher")),
            1);
}

TEST_F(HandleLogicTest, StreamingWatchDeliversTheApisEvents) {
  auto sandbox = NewSandbox("sbx12");
  envd->on_open_watch_stream = [](const std::string& path,
                                  const e2b::WatchParams& params) {
    EXPECT_EQ(path, "/w");
    EXPECT_TRUE(params.Recursive);
    std::deque<e2b::FilesystemEvent> events(2);
    events[0].Name = "a";
    events[0].Type = "create";
    events[1].Name = "b";
    events[1].Type = "remove";
    return std::make_unique<e2b_test::FakeWatchEvents>(std::move(events));
  };
  std::vector<std::string> seen;
  auto watch = sandbox.Filesystem.WatchDir(
      "/w",
      [&seen](const e2b::FilesystemEvent& event) {
        seen.push_back(event.Type + " " + event.Name);
      },
      e2b::WithRecursive());
  watch.Wait();  // the fake stream ends after its events
  EXPECT_EQ(seen, (std::vector<std::string>{"create a", "remove b"}));
  EXPECT_FALSE(watch.Running());
  EXPECT_EQ(watch.Failure(), nullptr);

  // A stream the service API refuses is the caller's failure, at once.
  envd->on_open_watch_stream = [](const std::string& path,
                                  const e2b::WatchParams&)
      -> std::unique_ptr<e2b::internal::WatchEventStream> {
    throw e2b::FileNotFoundError(path, "no such directory");
  };
  EXPECT_THROW(
      sandbox.Filesystem.WatchDir("/nope", [](const e2b::FilesystemEvent&) {}),
      e2b::FileNotFoundError);
}

// What the upload's body is, as envd would receive it.
std::string BodyOf(e2b::internal::FileUpload& upload) {
  if (upload.body_stream == nullptr) return upload.body;
  std::string text((std::istreambuf_iterator<char>(*upload.body_stream)),
                   std::istreambuf_iterator<char>());
  return text;
}

std::string ContentTypeOf(const e2b::internal::FileUpload& upload) {
  return e2b::internal::FindHeader(upload.headers, "Content-Type").value_or("");
}

TEST_F(HandleLogicTest, WriteChoosesTheUploadFormatByEnvdVersion) {
  std::string envd_version = "0.5.7";
  api->on_create = [&](const e2b::SandboxConfig&, const std::string&) {
    auto created = Created("sbx13");
    created.EnvdVersion = envd_version;
    return created;
  };
  auto current = client.NewSandbox();
  envd_version = "0.4.9";
  auto old = client.NewSandbox();

  std::vector<std::string> types;
  std::vector<std::string> bodies;
  envd->on_upload = [&](e2b::internal::FileUpload& upload) {
    EXPECT_EQ(upload.path, std::optional<std::string_view>("/home/user/a.txt"));
    EXPECT_EQ(upload.error_path, "/home/user/a.txt");
    EXPECT_EQ(e2b::internal::FindHeader(upload.headers, "X-Metadata-k"),
              std::optional<std::string>("v"));
    types.push_back(ContentTypeOf(upload));
    bodies.push_back(BodyOf(upload));
    if (upload.check_source) upload.check_source();
    e2b::FileInfo info;
    info.Path = "/home/user/a.txt";
    return std::vector<e2b::FileInfo>{info};
  };
  EXPECT_EQ(current.Filesystem
                .WriteString("/home/user/a.txt", "hello",
                             e2b::WithFileMetadata({{"k", "v"}}))
                .Path,
            "/home/user/a.txt");
  old.Filesystem.WriteString("/home/user/a.txt", "hello",
                             e2b::WithFileMetadata({{"k", "v"}}));
  ASSERT_EQ(types.size(), 2u);
  // envd 0.5.7 takes the bytes as they are, in one buffer.
  EXPECT_EQ(types[0], "application/octet-stream");
  EXPECT_EQ(bodies[0], "hello");
  // Older envd only understands multipart/form-data.
  EXPECT_EQ(types[1].rfind("multipart/form-data; boundary=", 0), 0u)
      << types[1];
  EXPECT_NE(bodies[1].find("filename=\"/home/user/a.txt\""), std::string::npos)
      << bodies[1];
  EXPECT_NE(bodies[1].find("\r\n\r\nhello\r\n--"), std::string::npos);
}

}  // namespace
