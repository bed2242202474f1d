#ifndef E2B_TESTING_LOCAL_SERVER_HPP_
#define E2B_TESTING_LOCAL_SERVER_HPP_

/// @file
/// Test helpers (target `e2b::testing`): a real e2b-local started on free
/// loopback ports for a test, and GoogleTest glue around it. Linux only,
/// like e2b-local itself. See docs/testing.md.

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace e2b::testing {

/// e2b-local could not be found or did not start. what() says why and,
/// when the server ran, ends with the tail of its stderr.
class LocalServerError : public Error {
 public:
  /// Why starting failed.
  enum class Reason {
    kBinaryNotFound,  ///< no executable e2b-local at any candidate path
    kStartFailed,     ///< it exited, printed something unexpected, or a
                      ///< temp dir/log file/fork failed
    kStartTimeout,    ///< it did not print its URLs within the bound
  };
  /// `message` becomes Message(); what() reads "e2b: <message>".
  LocalServerError(Reason reason, const std::string& message);
  /// Why starting failed.
  Reason WhatFailed() const noexcept { return reason_; }

 private:
  Reason reason_;
};

/// How a LocalServer starts e2b-local.
struct LocalServerOptions {
  /// The e2b-local executable; empty = LocalServer::DefaultBinary().
  std::string Binary;
  /// The server's state directory (kept afterwards); empty = a `state`
  /// directory inside the server's temp dir, removed with it.
  std::string StateDir;
  /// The API key the server demands; empty = a random `e2b_` key.
  std::string APIKey;
  /// More command-line flags, after the ones the server is started with
  /// (`--host 127.0.0.1 --api-port 0 --envd-port 0 --state-dir ...
  /// --api-key ...`).
  std::vector<std::string> ExtraArgs;
  /// How long the server may take to print its URLs.
  std::chrono::milliseconds StartupTimeout = std::chrono::seconds(20);
  /// How long it may take to exit after SIGTERM before it gets SIGKILL.
  std::chrono::milliseconds StopTimeout = std::chrono::seconds(15);
  /// Keep the temp dir (logs, default state dir) when stopping, for a look
  /// after a failure. The environment variable E2B_TESTING_KEEP_TMP does
  /// the same.
  bool KeepTempDir = false;
};

/// How LocalServer::Restart ends the running server.
enum class StopMode {
  kGraceful,  ///< SIGTERM (SIGKILL after StopTimeout), as an operator would
  kCrash,     ///< SIGKILL to the server and everything it started
};

/// A running e2b-local child process on free loopback ports, with its own
/// temp dir and API key. Stopped (SIGTERM, then SIGKILL after a bound) by
/// Stop() or the destructor. Start it from a thread that outlives it (the
/// main thread in GoogleTest): the child gets SIGTERM when the thread that
/// started it ends, so a crashed test leaves no server behind.
class LocalServer {
 public:
  /// Starts e2b-local and waits until it prints its URLs. Throws
  /// LocalServerError when the binary is missing or does not start.
  explicit LocalServer(LocalServerOptions options = {});
  /// Stop().
  ~LocalServer();
  /// Moves the running server; a moved-from LocalServer may only be
  /// destroyed or assigned to.
  LocalServer(LocalServer&&) noexcept;
  /// Stops this server, then takes over `other`'s.
  LocalServer& operator=(LocalServer&&) noexcept;
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  /// The first executable of: $E2B_LOCAL_BIN, the installed e2b-local
  /// (`<bindir>/e2b-local` of the install prefix this library was built
  /// for), the e2b-local of the build tree this library was built in, and
  /// `e2b-local` on PATH. Throws LocalServerError (kBinaryNotFound) naming
  /// every path it tried.
  static std::string DefaultBinary();

  /// The control-plane URL (E2B_API_URL), `http://127.0.0.1:<port>`.
  const std::string& APIURL() const;
  /// The envd URL (E2B_SANDBOX_URL), `http://127.0.0.1:<port>`.
  const std::string& SandboxURL() const;
  /// The API key the server demands.
  const std::string& APIKey() const;
  /// The server's temp dir (logs; the state dir unless one was given).
  const std::string& TempDir() const;
  /// The server's state directory.
  const std::string& StateDir() const;
  /// The server's process id (also its process group), or -1 once stopped.
  pid_t Pid() const;
  /// True while the server process runs (it has not exited or been
  /// stopped).
  bool Running() const;

  /// A ClientConfig for this server with every field that matters set
  /// explicitly, so no E2B_* environment variable can redirect it.
  ClientConfig MakeClientConfig() const;
  /// NewClient(MakeClientConfig()).
  Client NewClient() const;

  /// The last `max_bytes` of the server's stderr (its log).
  std::string StderrTail(std::size_t max_bytes = 4000) const;

  /// Stops the server in `mode` and starts it again on the same state
  /// directory and API key. The ports change: take a new client after.
  /// Throws LocalServerError when it does not come back (the server is then
  /// stopped; its temp dir stays until Stop or the destructor).
  void Restart(StopMode mode = StopMode::kGraceful);

  /// SIGTERM, wait (SIGKILL after StopTimeout, and to anything left in its
  /// process group), then removes the temp dir. Idempotent; problems are
  /// reported on stderr, never thrown.
  void Stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One server for the whole test program: register it in main() or at
/// namespace scope,
///
///     ::testing::AddGlobalTestEnvironment(
///         new e2b::testing::LocalServerEnvironment());
///
/// and every LocalServerTest uses it instead of starting its own. SetUp
/// records a failure to start rather than throwing; the tests then fail
/// with that error (or skip, with SkipIfMissing). TearDown stops the server
/// and prints its stderr tail when a test failed.
class LocalServerEnvironment : public ::testing::Environment {
 public:
  /// `skip_if_missing`: tests skip (GTEST_SKIP) instead of failing when
  /// no e2b-local binary is found; a binary that fails to start still
  /// fails them.
  explicit LocalServerEnvironment(LocalServerOptions options = {},
                                  bool skip_if_missing = false);
  /// Unregisters it (Current() is null after).
  ~LocalServerEnvironment() override;
  LocalServerEnvironment(const LocalServerEnvironment&) = delete;
  LocalServerEnvironment& operator=(const LocalServerEnvironment&) = delete;
  LocalServerEnvironment(LocalServerEnvironment&&) = delete;
  LocalServerEnvironment& operator=(LocalServerEnvironment&&) = delete;

  /// Starts the server (a failure is kept, see StartError()).
  void SetUp() override;
  /// Stops the server.
  void TearDown() override;

  /// The registered environment, or null when there is none.
  static LocalServerEnvironment* Current();

  /// The server, or null when it is not running (see StartError()).
  LocalServer* Server() { return server_ ? &*server_ : nullptr; }
  /// Why the server did not start; empty when it did.
  const std::string& StartError() const { return error_; }
  /// True when the start failed because no binary was found.
  bool BinaryMissing() const { return binary_missing_; }
  /// Whether tests skip when no binary is found.
  bool SkipIfMissing() const { return skip_if_missing_; }

 private:
  LocalServerOptions options_;
  bool skip_if_missing_;
  std::optional<LocalServer> server_;
  std::string error_;
  bool binary_missing_ = false;
};

/// A GoogleTest fixture with a running e2b-local and a client for it:
///
///     class MyTest : public e2b::testing::LocalServerTest {};
///     TEST_F(MyTest, Runs) {
///       e2b::Sandbox sandbox = NewSandbox();
///       EXPECT_EQ(sandbox.Commands.Run("echo", {"hi"}).Stdout, "hi\n");
///     }
///
/// One server per test suite, started in SetUpTestSuite and stopped in
/// TearDownTestSuite; when a LocalServerEnvironment is registered, its
/// server is used instead (one per program). Under ctest with
/// gtest_discover_tests every test runs in a process of its own, so each
/// test gets a fresh server either way. To change the options, hide
/// SetUpTestSuite in the derived fixture:
///
///     static void SetUpTestSuite() { StartSuiteServer(options); }
///
/// When the server is unavailable, every test fails in SetUp with the
/// reason (or skips when the options ask for it and the binary is missing).
class LocalServerTest : public ::testing::Test {
 public:
  /// Starts the suite's server with default options (unless an
  /// environment provides one).
  static void SetUpTestSuite() { StartSuiteServer(LocalServerOptions{}); }
  /// Stops the suite's server.
  static void TearDownTestSuite() { StopSuiteServer(); }

 protected:
  /// Starts the suite's server with `options`, unless a
  /// LocalServerEnvironment is registered. A failure is kept and reported
  /// by every test's SetUp. `skip_if_missing`: skip instead of failing
  /// when no e2b-local binary is found.
  static void StartSuiteServer(LocalServerOptions options,
                               bool skip_if_missing = false);
  /// Stops the suite's server (not the environment's), printing its
  /// stderr tail when a test of the suite failed.
  static void StopSuiteServer();

  /// Fails (or skips) the test when there is no server; makes Client().
  void SetUp() override;
  /// Closes the sandboxes NewSandbox made.
  void TearDown() override;

  /// The server of this test. Only valid after a successful SetUp.
  static LocalServer& Server();
  /// A client for Server(), made in SetUp.
  const e2b::Client& Client() const { return *client_; }
  /// Another client for Server() (a second caller, or after Restart).
  e2b::Client NewClient() const { return Server().NewClient(); }
  /// Creates a sandbox that TearDown closes, whatever the test did.
  e2b::Sandbox NewSandbox(const SandboxConfig& config = {});

 private:
  std::optional<e2b::Client> client_;
  std::vector<std::unique_ptr<SandboxCloser>> closers_;
};

}  // namespace e2b::testing

#endif  // E2B_TESTING_LOCAL_SERVER_HPP_
