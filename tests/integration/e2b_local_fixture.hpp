#ifndef E2B_TESTS_INTEGRATION_E2B_LOCAL_FIXTURE_HPP_
#define E2B_TESTS_INTEGRATION_E2B_LOCAL_FIXTURE_HPP_

// The integration tests' peer: one real e2b-local per test process
// (e2b::testing::LocalServer: free loopback ports, a fresh state directory,
// a random API key), started before the tests and stopped after them.
// ctest runs every test case as its own process, so starting is cheap.

#include <e2b/e2b.hpp>
#include <e2b/testing/local_server.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace e2b_test {

/// The process's e2b-local: e2b::testing::LocalServer with a start failure
/// kept as text (Ok(), StartError()) instead of thrown, so every test can
/// report it.
class LocalServer {
 public:
  /// The server of this test process, started on first use (from the main
  /// thread, via the test environment). Never null; check Ok().
  static LocalServer& Shared();

  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  ~LocalServer() = default;

  /// True when the server printed its three lines and is running.
  bool Ok() const { return error_.empty() && server_.has_value(); }
  /// Why the server is not available (with its stderr tail).
  const std::string& StartError() const { return error_; }

  const std::string& APIURL() const;
  const std::string& SandboxURL() const;
  const std::string& APIKey() const;
  const std::string& TempDir() const;
  /// The server's process id, or -1 when it is not running.
  pid_t Pid() const { return server_ ? server_->Pid() : -1; }

  /// A client configured for this server (explicit values, so no E2B_*
  /// variable of the environment can redirect it).
  e2b::Client NewClient() const { return server_->NewClient(); }

  /// The last `max_bytes` of the server's stderr log.
  std::string StderrTail(std::size_t max_bytes = 4000) const;

  /// SIGTERM, wait (SIGKILL after a bound), remove the temp dir.
  void Stop() { server_.reset(); }

  /// Stops the server, cleanly (SIGTERM) or as a crash (SIGKILL, then
  /// whatever it started is killed too, as a machine's crash would), and
  /// starts it again on the same state directory and API key. Its ports
  /// change: take a NewClient() after. Check Ok().
  void Restart(bool crash);

 private:
  LocalServer() = default;
  void Start();

  std::optional<e2b::testing::LocalServer> server_;
  std::string error_;
};

/// Base fixture: a client for the shared server, and sandboxes that are
/// closed at the end of the test whatever its assertions did.
class E2bLocalTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Creates a sandbox (template "base", a short lifetime so a leak ends on
  /// its own) that is closed at TearDown.
  e2b::Sandbox NewSandbox(e2b::SandboxConfig cfg);
  e2b::Sandbox NewSandbox() { return NewSandbox(Config()); }
  /// Default test sandbox config.
  static e2b::SandboxConfig Config(std::map<std::string, std::string> env = {});

  LocalServer& Server() const { return LocalServer::Shared(); }
  const e2b::Client& Client() const { return *client_; }

 private:
  std::optional<e2b::Client> client_;
  std::vector<std::unique_ptr<e2b::SandboxCloser>> closers_;
};

/// Random lowercase hex of `bytes` random bytes.
std::string RandomHex(std::size_t bytes);

/// Parses an RFC 3339 timestamp into seconds since the epoch; nullopt when
/// it is not one.
std::optional<double> ParseRFC3339(const std::string& text);

/// A 64-bit FNV-1a style checksum over 8-byte words, fed incrementally
/// (the result does not depend on how the input is split).
class Fnv1a {
 public:
  void Update(const char* data, std::size_t n);
  std::uint64_t Digest() const;

 private:
  void Mix(std::uint64_t word);
  std::uint64_t hash_ = 1469598103934665603ULL;
  std::uint64_t pending_ = 0;
  int pending_count_ = 0;
};

/// An istream of `size` deterministic pseudo-random bytes generated on the
/// fly from `seed` (nothing held in memory).
std::unique_ptr<std::istream> GeneratedStream(std::uint64_t size,
                                              std::uint64_t seed);
/// The FNV-1a digest of what GeneratedStream(size, seed) yields.
std::uint64_t GeneratedDigest(std::uint64_t size, std::uint64_t seed);

}  // namespace e2b_test

#endif  // E2B_TESTS_INTEGRATION_E2B_LOCAL_FIXTURE_HPP_
