// Fuzzes the Connect request messages of e2b-local's envd services
// (filesystem and process, tools/e2b-local/envd/*_service.cpp) through the
// RpcRegistry the HTTP layer dispatches to: any JSON object, under any
// user, must end in a response or a ConnectError -- never a crash, and
// never a change outside the sandbox root. Streaming RPCs and process
// starts are out: the fake sandbox refuses to spawn.

#include "envd/connect_rpc.hpp"
#include "fuzz_input.hpp"
#include "local_sandbox_fixture.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using e2b_fuzz::Check;
using nlohmann::json;
namespace local = e2b_local;

const char* const kUnary[] = {
    "/filesystem.Filesystem/Stat",
    "/filesystem.Filesystem/ListDir",
    "/filesystem.Filesystem/MakeDir",
    "/filesystem.Filesystem/Move",
    "/filesystem.Filesystem/Remove",
    "/filesystem.Filesystem/CreateWatcher",
    "/filesystem.Filesystem/GetWatcherEvents",
    "/filesystem.Filesystem/RemoveWatcher",
    "/process.Process/List",
    "/process.Process/SendInput",
    "/process.Process/SendSignal",
    "/process.Process/CloseStdin",
    "/process.Process/Update",
};
constexpr std::size_t kUnaryCount = sizeof(kUnary) / sizeof(kUnary[0]);

local::RpcRegistry* registry = nullptr;
e2b_fuzz::SandboxFixture* fixture = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  e2b_fuzz::EnterJail(e2b_fuzz::LibFuzzerDirs(*argc, *argv));
  fixture = new e2b_fuzz::SandboxFixture();
  registry = new local::RpcRegistry();
  local::RegisterFilesystemService(*registry);
  local::RegisterProcessService(*registry);
  for (const char* path : kUnary) {
    Check(registry->FindUnary(path) != nullptr, "unary RPC not registered",
          path);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  fixture->Reset();
  auto sandbox = fixture->MakeSandbox("");
  int steps = 0;
  while (!in.empty() && steps++ < 4) {
    const std::uint8_t which = in.Byte();
    const char* path = kUnary[which % kUnaryCount];
    const bool destructive = (which % kUnaryCount) == 3 ||  // Move
                             (which % kUnaryCount) == 4;    // Remove
    const std::uint8_t len = in.Byte();
    const json request =
        json::parse(in.Take(std::size_t{len} * 4), nullptr, false);
    if (!request.is_object()) continue;
    if (destructive && !e2b_fuzz::IsJailed()) continue;
    local::EnvdCall call;
    call.sandbox = sandbox;
    call.user =
        *sandbox->instance->LookupUser((which & 0x80) ? "root" : "user");
    call.user_from_header = (which & 0x40) != 0;
    try {
      const json response = (*registry->FindUnary(path))(call, request);
      Check(response.is_object() || response.is_null(),
            "an RPC answered something that is not a message", path);
      response.dump(-1, ' ', false, json::error_handler_t::replace);
    } catch (const local::ConnectError& e) {
      Check(!e.code.empty(), "ConnectError without a code", path);
    }
  }
  // Watchers hold inotify descriptors per sandbox: drop them with it.
  sandbox.reset();
  fixture->CheckConfined();
  return 0;
}
