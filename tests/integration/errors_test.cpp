// Error paths against a real e2b-local: gone sandboxes, bad keys, expired
// timeouts, cancelled and expired contexts.

#include "integration/e2b_local_fixture.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class ErrorsTest : public E2bLocalTest {};

std::string Lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Runs `call`, which must throw SandboxNotFoundError naming `id`.
template <typename F>
void ExpectSandboxNotFound(const char* what, const std::string& id, F call) {
  try {
    call();
    ADD_FAILURE() << what << " did not throw";
  } catch (const e2b::SandboxNotFoundError& e) {
    EXPECT_EQ(e.SandboxID(), id) << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << " threw something else: " << e.what();
  }
}

TEST_F(ErrorsTest, ClosedSandboxIsNotFoundForEveryControlCall) {
  // The public API addresses sandboxes only through handles, so "unknown"
  // is a sandbox killed through another handle.
  e2b::Sandbox sb = NewSandbox();
  e2b::Sandbox copy = sb;
  copy.Close();
  const std::string id = sb.ID;
  ExpectSandboxNotFound("Info", id, [&] { sb.Info(); });
  ExpectSandboxNotFound("Close", id, [&] { sb.Close(); });
  ExpectSandboxNotFound("SetTimeout", id, [&] { sb.SetTimeout(60); });
  ExpectSandboxNotFound("Pause", id, [&] { sb.Pause(); });
  ExpectSandboxNotFound("Resume", id, [&] { sb.Resume(60); });
  ExpectSandboxNotFound("CreateSnapshot", id, [&] { sb.CreateSnapshot(); });
  // Metrics: the seed maps every failure to a plain Error.
  EXPECT_THROW(sb.Metrics(), e2b::Error);
}

TEST_F(ErrorsTest, KilledSandboxFailsCommandsAndFiles) {
  e2b::Sandbox sb = NewSandbox();
  ASSERT_EQ(sb.Commands.Run("true", {}).ExitCode, 0);
  sb.Close();
  try {
    sb.Commands.Run("echo", {"hi"});
    FAIL() << "Commands.Run on a killed sandbox did not throw";
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()), "");
  }
  try {
    sb.Filesystem.ReadString("/home/user/x");
    FAIL() << "ReadString on a killed sandbox did not throw";
  } catch (const e2b::FileNotFoundError& e) {
    FAIL() << "a killed sandbox is not a missing file: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()), "");
  }
  try {
    auto stream = sb.Filesystem.Read("/home/user/x");
    FAIL() << "Read on a killed sandbox did not throw";
  } catch (const e2b::FileNotFoundError& e) {
    FAIL() << "a killed sandbox is not a missing file: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()), "");
  }
  EXPECT_THROW(sb.Filesystem.WriteString("/home/user/x", "x"), e2b::Error);
}

TEST_F(ErrorsTest, BadAPIKeyIs401WithoutTheKeyInMessages) {
  e2b::ClientConfig cfg;
  cfg.APIKey = "e2b_" + RandomHex(20);
  ASSERT_NE(cfg.APIKey, Server().APIKey());
  cfg.APIBaseURL = Server().APIURL();
  cfg.SandboxURL = Server().SandboxURL();
  e2b::Client bad = e2b::NewClient(cfg);

  auto check = [&](const char* what, auto call) {
    try {
      call();
      ADD_FAILURE() << what << " with a wrong key did not throw";
    } catch (const e2b::Error& e) {
      EXPECT_EQ(e.StatusCode(), 401) << what << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).find(cfg.APIKey), std::string::npos)
          << what << " leaks the key";
      EXPECT_EQ(e.Message().find(cfg.APIKey), std::string::npos);
      EXPECT_EQ(std::string(e.what()).find(Server().APIKey()),
                std::string::npos)
          << what << " leaks the real key";
    }
  };
  check("ListSandboxes", [&] { bad.ListSandboxes(); });
  check("NewSandbox", [&] { bad.NewSandbox(Config()); });
  check("ListTemplates", [&] { bad.ListTemplates(); });
  check("ListSnapshots", [&] { bad.ListSnapshots(); });
  check("GetTemplate", [&] { bad.GetTemplate("base"); });
}

TEST_F(ErrorsTest, APIKeyWithLineBreaksNeverReachesTheWire) {
  // A key with CR/LF would split the X-API-Key header; it must be refused
  // (at NewClient or at the call) without echoing the key.
  const std::string key = "e2b_" + RandomHex(8) + "\r\nX-Injected: yes";
  e2b::ClientConfig cfg;
  cfg.APIKey = key;
  cfg.APIBaseURL = Server().APIURL();
  cfg.SandboxURL = Server().SandboxURL();
  try {
    e2b::Client c = e2b::NewClient(cfg);
    c.ListSandboxes();
    FAIL() << "a key with CR/LF was accepted";
  } catch (const e2b::Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find(key.substr(0, 12)), std::string::npos)
        << "the error echoes the key: " << what;
  }
}

TEST_F(ErrorsTest, ExpiredSandboxTimeoutMakesItNotFound) {
  e2b::Sandbox sb = NewSandbox();
  const std::string id = sb.ID;
  sb.SetTimeout(1);
  std::this_thread::sleep_for(2500ms);
  // The server reaps on its own schedule; allow it a few more seconds.
  const auto deadline = Clock::now() + 6s;
  bool gone = false;
  while (!gone && Clock::now() < deadline) {
    try {
      sb.Info();
      std::this_thread::sleep_for(250ms);
    } catch (const e2b::SandboxNotFoundError& e) {
      EXPECT_EQ(e.SandboxID(), id);
      gone = true;
    }
  }
  EXPECT_TRUE(gone) << "sandbox still exists ~8 s after a 1 s timeout";
  EXPECT_THROW(sb.Commands.Run("true", {}), e2b::Error);
}

TEST_F(ErrorsTest, CancelledContextStopsARunningCommand) {
  e2b::Sandbox sb = NewSandbox();
  e2b::Context ctx = e2b::Context::WithCancel();
  std::thread canceller([ctx] {
    std::this_thread::sleep_for(500ms);
    ctx.Cancel();
  });
  const auto start = Clock::now();
  try {
    sb.Commands.RunWithContext(ctx, "sleep", {"30"});
    ADD_FAILURE() << "a cancelled RunWithContext returned";
  } catch (const e2b::TimeoutError& e) {
    ADD_FAILURE() << "cancellation reported as a timeout: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0) << e.what();
    EXPECT_NE(Lower(e.what()).find("cancel"), std::string::npos) << e.what();
  }
  canceller.join();
  EXPECT_LT(Clock::now() - start, 15s) << "cancel did not stop the call";
  EXPECT_TRUE(ctx.Cancelled());
  // The sandbox is usable afterwards.
  EXPECT_EQ(sb.Commands.Run("echo", {"after"}).Stdout, "after\n");
}

TEST_F(ErrorsTest, CancelledContextFailsEveryCallUpFront) {
  e2b::Sandbox sb = NewSandbox();
  e2b::Context ctx = e2b::Context::WithCancel();
  ctx.Cancel();
  EXPECT_THROW(Client().ListSandboxes(ctx), e2b::Error);
  EXPECT_THROW(sb.InfoWithContext(ctx), e2b::Error);
  EXPECT_THROW(sb.Commands.RunWithContext(ctx, "true", {}), e2b::Error);
  EXPECT_THROW(sb.Filesystem.ReadString(ctx, "/home/user"), e2b::Error);
  EXPECT_THROW(sb.Filesystem.WriteString(ctx, "/tmp/c", "c"), e2b::Error);
  // Nothing was written.
  EXPECT_THROW(sb.Filesystem.ReadString("/tmp/c"), e2b::FileNotFoundError);
  // A child of a cancelled context is cancelled too.
  e2b::Context child = e2b::Context::WithTimeout(ctx, 30s);
  EXPECT_THROW(Client().ListTemplates(child), e2b::Error);
}

TEST_F(ErrorsTest, ExpiredContextDeadlineIsTimeoutError) {
  e2b::Sandbox sb = NewSandbox();
  e2b::Context ctx = e2b::Context::WithTimeout(700ms);
  const auto start = Clock::now();
  EXPECT_THROW(sb.Commands.RunWithContext(ctx, "sleep", {"30"}),
               e2b::TimeoutError);
  EXPECT_LT(Clock::now() - start, 15s);
  // The server may enforce the deadline (sent as Connect-Timeout-Ms) a hair
  // before this process's clock reaches it; wait until it has surely passed.
  ASSERT_TRUE(ctx.Deadline().has_value());
  std::this_thread::sleep_until(*ctx.Deadline() + 50ms);
  EXPECT_TRUE(ctx.Expired());
  // Already expired: control-plane and file calls fail the same way.
  EXPECT_THROW(Client().ListSandboxes(ctx), e2b::TimeoutError);
  EXPECT_THROW(sb.InfoWithContext(ctx), e2b::TimeoutError);
  EXPECT_THROW(sb.Filesystem.ReadString(ctx, "/home/user/none"),
               e2b::TimeoutError);
}

TEST_F(ErrorsTest, CancelledContextStopsAStreamingRead) {
  e2b::Sandbox sb = NewSandbox();
  {
    auto source = GeneratedStream(32u << 20, 3);
    sb.Filesystem.Write("/home/user/cancel.bin", *source);
  }
  e2b::Context ctx = e2b::Context::WithCancel();
  auto in = sb.Filesystem.Read(ctx, "/home/user/cancel.bin");
  char buf[4096];
  in->read(buf, sizeof buf);
  ASSERT_EQ(in->gcount(), 4096);
  ctx.Cancel();
  // Reading on must end (bad or fail) well before the 32 MiB are through;
  // with exceptions enabled it may throw an e2b::Error instead.
  std::uint64_t more = 0;
  try {
    while (*in) {
      in->read(buf, sizeof buf);
      more += static_cast<std::uint64_t>(in->gcount());
    }
  } catch (const e2b::Error&) {
  } catch (const std::ios_base::failure&) {
  }
  EXPECT_TRUE(in->bad() || in->fail());
  EXPECT_LT(more + 4096, 32u << 20) << "cancel did not stop the download";
}

TEST_F(ErrorsTest, UnreachableServerIsStatusZeroError) {
  // A port nothing listens on (the API port of a stopped listener is not
  // knowable; port 1 on loopback is refused).
  e2b::ClientConfig cfg;
  cfg.APIKey = Server().APIKey();
  cfg.APIBaseURL = "http://127.0.0.1:1";
  cfg.SandboxURL = Server().SandboxURL();
  e2b::Client client = e2b::NewClient(cfg);
  try {
    client.ListSandboxes();
    FAIL() << "ListSandboxes against a closed port did not throw";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0) << e.what();
    EXPECT_EQ(std::string(e.what()).find(cfg.APIKey), std::string::npos);
  }
}

TEST_F(ErrorsTest, NewClientWithoutAKeyThrows) {
  e2b::ClientConfig cfg;
  cfg.APIBaseURL = Server().APIURL();
  const char* saved = std::getenv("E2B_API_KEY");
  std::string saved_value = saved ? saved : "";
  unsetenv("E2B_API_KEY");
  EXPECT_THROW(e2b::NewClient(cfg), e2b::Error);
  if (saved) setenv("E2B_API_KEY", saved_value.c_str(), 1);
}

}  // namespace
}  // namespace e2b_test
