#ifndef E2B_TESTING_FAKE_E2B_HPP_
#define E2B_TESTING_FAKE_E2B_HPP_

// An in-process fake of E2B for unit tests of code that uses e2b::Client:
// an HTTP server on 127.0.0.1 that speaks the control-plane REST API and
// envd's Connect protocol for the common subset, with in-memory sandboxes.
// No e2b-local, no real sandboxes, no root. See docs/testing-fake.md.

#include <e2b/client.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace e2b::testing {

/// A command as the fake's envd received it (process.Process/Start).
struct FakeCommandCall {
  /// The sandbox the command runs in.
  std::string SandboxID;
  /// The command line handlers match against: the script of
  /// `/bin/bash -l -c <script>` (what RunShell and Go-HEAD-style Run send),
  /// otherwise Cmd and Args joined by single spaces.
  std::string Command;
  /// The process as sent: executable, arguments, environment and cwd.
  std::string Cmd;
  /// The arguments after Cmd.
  std::vector<std::string> Args;
  /// The environment variables the request set.
  std::map<std::string, std::string> Envs;
  /// The working directory the request asked for; empty = the default.
  std::string Cwd;
  /// The user from the Basic authorization header; empty = default user.
  std::string User;
};

/// What a command handler answers: the process's output and exit.
struct FakeCommandResult {
  /// Sent as the process's standard output.
  std::string Stdout;
  /// Sent as the process's standard error.
  std::string Stderr;
  /// The exit code of the end event.
  int ExitCode = 0;
  /// envd's description of an abnormal end (CommandResult::Error); empty =
  /// "exit status <code>" when ExitCode is not 0.
  std::string Error;
};

/// One HTTP request the fake answered, for assertions.
struct FakeCall {
  /// The route: method and path pattern as the client names its operations,
  /// e.g. "POST /sandboxes", "DELETE /sandboxes/{sandboxID}",
  /// "POST /process.Process/Start", "GET /files". Unknown paths keep their
  /// literal path.
  std::string Route;
  /// The literal request path (without the query).
  std::string Path;
  /// The sandbox addressed (path parameter or envd routing); empty if none.
  std::string SandboxID;
  /// The HTTP status the fake answered.
  int Status = 0;
};

/// A sandbox the fake holds.
struct FakeSandbox {
  /// The sandbox ID the create answered.
  std::string ID;
  /// The template the create asked for.
  std::string TemplateID;
  /// "running" or "paused".
  std::string State;
  /// The metadata given at create.
  std::map<std::string, std::string> Metadata;
  /// The environment variables given at create.
  std::map<std::string, std::string> EnvVars;
  /// The timeout last given at create, SetTimeout, connect or resume
  /// (seconds). The fake never expires sandboxes by itself.
  int TimeoutSeconds = 0;
  /// The token envd calls must carry as X-Access-Token.
  std::string EnvdAccessToken;
};

/// Settings for FakeE2B.
struct FakeE2BOptions {
  /// The key clients must send as X-API-Key; other keys get 401. Must look
  /// like an E2B key (e2b_ followed by hex digits).
  std::string APIKey = "e2b_00000000000000000000000000000000000fa4e0";
  /// The envd version reported for new sandboxes (>= 0.5.7, so uploads are
  /// octet-stream).
  std::string EnvdVersion = "0.6.13";
};

/// An in-process E2B control plane and envd on a free loopback port. Starts
/// in the constructor (throws e2b::Error when it cannot listen) and stops in
/// the destructor. Thread-safe: the client under test and the test thread
/// may use it at once. Command handlers run on the server's threads.
class FakeE2B {
 public:
  /// Starts listening on 127.0.0.1 (a free port) with `options`.
  explicit FakeE2B(FakeE2BOptions options = {});
  /// Stops the server and joins its threads.
  ~FakeE2B();
  FakeE2B(const FakeE2B&) = delete;
  FakeE2B& operator=(const FakeE2B&) = delete;

  /// A client configuration pointing at the fake (API URL, envd URL and the
  /// API key); adjust it (e.g. Retry) and pass it to e2b::NewClient.
  ClientConfig Config() const;
  /// e2b::NewClient(Config()).
  Client NewClient() const;
  /// The base URL of the server, `http://127.0.0.1:PORT`.
  std::string URL() const;

  /// Answers commands whose Command equals `command_prefix_or_exact` or
  /// starts with it. The longest matching registration wins; a later
  /// registration of the same text replaces the earlier one. Commands no
  /// handler matches exit 127 with "<command>: command not found" on
  /// stderr, as bash does.
  void OnCommand(
      std::string command_prefix_or_exact,
      std::function<FakeCommandResult(const FakeCommandCall&)> handler);

  /// Answers the next `times` requests of `route` (a FakeCall::Route, e.g.
  /// "GET /sandboxes/{sandboxID}") with `http_status` and an error body in
  /// the route's protocol (REST JSON, Connect error, envd JSON), without
  /// touching state. The client retries 429, 502, 503 and 504 on idempotent
  /// calls, so inject those `times` >= the client's attempts, or lower
  /// ClientConfig::Retry.MaxAttempts.
  void FailNext(const std::string& route, int http_status, int times = 1);

  /// Every request answered so far, oldest first.
  std::vector<FakeCall> Calls() const;
  /// The calls of one route.
  std::vector<FakeCall> CallsTo(const std::string& route) const;
  /// Every command run so far, oldest first.
  std::vector<FakeCommandCall> Commands() const;
  /// Every sandbox that exists (not killed), in creation order.
  std::vector<FakeSandbox> Sandboxes() const;
  /// One sandbox; nullopt when it does not exist.
  std::optional<FakeSandbox> Sandbox(const std::string& sandbox_id) const;

  /// The content of a file in a sandbox's in-memory filesystem; nullopt
  /// when the sandbox or the file does not exist. Relative paths are under
  /// /home/user.
  std::optional<std::string> FileContent(const std::string& sandbox_id,
                                         const std::string& path) const;
  /// Creates or replaces a file (and its parent directories), e.g. to
  /// prepare input or to let a command handler produce output. Throws
  /// e2b::Error when the sandbox does not exist or a file is in the way.
  void WriteFile(const std::string& sandbox_id, const std::string& path,
                 const std::string& content);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace e2b::testing

#endif  // E2B_TESTING_FAKE_E2B_HPP_
