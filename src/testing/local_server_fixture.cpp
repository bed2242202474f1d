// GoogleTest glue around LocalServer: the per-program environment and the
// per-suite fixture.

#include <e2b/testing/local_server.hpp>

#include <iostream>
#include <utility>

namespace e2b::testing {
namespace {

// The one registered LocalServerEnvironment (gtest owns it).
LocalServerEnvironment* current_environment = nullptr;

// Where a server came from and why it is missing, for the fixture's SetUp.
struct ServerSlot {
  std::optional<LocalServer> server;
  std::string error;
  bool binary_missing = false;
  bool skip_if_missing = false;
};

// The running suite's server (suites run one after another).
ServerSlot& SuiteSlot() {
  static ServerSlot slot;
  return slot;
}

// Starts a server into `slot`, keeping a failure as text: gtest reports an
// exception from SetUpTestSuite or an environment poorly, a failed SetUp
// names it in every test.
void StartInto(ServerSlot& slot, LocalServerOptions options) {
  slot.error.clear();
  slot.binary_missing = false;
  try {
    slot.server.emplace(std::move(options));
  } catch (const LocalServerError& e) {
    slot.error = e.what();
    slot.binary_missing =
        e.WhatFailed() == LocalServerError::Reason::kBinaryNotFound;
  }
}

void StopAndReport(std::optional<LocalServer>& server, bool failed) {
  if (!server) return;
  if (failed) {
    std::cerr << "---- e2b-local stderr (tail) ----\n"
              << server->StderrTail() << "\n---- end ----\n";
  }
  server.reset();
}

}  // namespace

// ---- LocalServerEnvironment -------------------------------------------------

LocalServerEnvironment::LocalServerEnvironment(LocalServerOptions options,
                                               bool skip_if_missing)
    : options_(std::move(options)), skip_if_missing_(skip_if_missing) {
  current_environment = this;
}

LocalServerEnvironment::~LocalServerEnvironment() {
  if (current_environment == this) current_environment = nullptr;
}

LocalServerEnvironment* LocalServerEnvironment::Current() {
  return current_environment;
}

void LocalServerEnvironment::SetUp() {
  ServerSlot slot;
  StartInto(slot, options_);
  server_ = std::move(slot.server);
  error_ = std::move(slot.error);
  binary_missing_ = slot.binary_missing;
}

void LocalServerEnvironment::TearDown() {
  StopAndReport(server_, ::testing::UnitTest::GetInstance()->Failed());
}

// ---- LocalServerTest --------------------------------------------------------

void LocalServerTest::StartSuiteServer(LocalServerOptions options,
                                       bool skip_if_missing) {
  ServerSlot& slot = SuiteSlot();
  slot.server.reset();
  slot.skip_if_missing = skip_if_missing;
  if (LocalServerEnvironment::Current() != nullptr) {
    slot.error.clear();
    slot.binary_missing = false;
    return;
  }
  StartInto(slot, std::move(options));
}

void LocalServerTest::StopSuiteServer() {
  const ::testing::TestSuite* suite =
      ::testing::UnitTest::GetInstance()->current_test_suite();
  StopAndReport(SuiteSlot().server, suite != nullptr && suite->Failed());
}

void LocalServerTest::SetUp() {
  LocalServerEnvironment* env = LocalServerEnvironment::Current();
  const ServerSlot& slot = SuiteSlot();
  const bool available =
      env != nullptr ? env->Server() != nullptr : slot.server.has_value();
  if (!available) {
    const std::string& error = env != nullptr ? env->StartError() : slot.error;
    const bool missing =
        env != nullptr ? env->BinaryMissing() : slot.binary_missing;
    const bool skip =
        env != nullptr ? env->SkipIfMissing() : slot.skip_if_missing;
    if (missing && skip) GTEST_SKIP() << error;
    GTEST_FAIL() << "e2b-local is not running: "
                 << (error.empty() ? "SetUpTestSuite did not start it "
                                     "(a fixture hiding SetUpTestSuite must "
                                     "call StartSuiteServer)"
                                   : error);
  }
  client_.emplace(Server().NewClient());
}

void LocalServerTest::TearDown() {
  // The closers close their sandboxes now, while the server still runs.
  closers_.clear();
}

LocalServer& LocalServerTest::Server() {
  if (LocalServerEnvironment* env = LocalServerEnvironment::Current()) {
    if (LocalServer* server = env->Server()) return *server;
  } else if (SuiteSlot().server) {
    return *SuiteSlot().server;
  }
  throw LocalServerError(LocalServerError::Reason::kStartFailed,
                         "LocalServerTest::Server(): no e2b-local is running");
}

e2b::Sandbox LocalServerTest::NewSandbox(const SandboxConfig& config) {
  e2b::Sandbox sandbox = client_->NewSandbox(config);
  closers_.push_back(std::make_unique<SandboxCloser>(sandbox));
  return sandbox;
}

}  // namespace e2b::testing
