// Leases and the reaper: Client::ReapSandboxes and DefaultLeaseOwner. The
// selection rule lives in internal/reap_selection.cpp.

#include "internal/client_state.hpp"
#include "internal/control_plane_api.hpp"
#include "internal/reap_selection.hpp"

#include <e2b/client.hpp>
#include <e2b/errors.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace e2b {

namespace {

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

// Every page of the listing, running and paused, before anything is killed:
// killing while paging could shift the pages under the cursor.
std::vector<SandboxInfo> ListAll(internal::ControlPlaneApi& api,
                                 const Context& ctx,
                                 std::map<std::string, std::string> filter) {
  constexpr int kPageSize = 100;
  ListSandboxesV2Params params;
  params.Metadata = std::move(filter);
  // Explicit, so a server whose default is "running" still lists paused
  // sandboxes, which hold resources too.
  params.State = {"running", "paused"};
  params.Limit = kPageSize;
  std::vector<SandboxInfo> all;
  while (true) {
    auto page = api.ListSandboxesV2(ctx, params);
    for (auto& sandbox : page.Sandboxes) all.push_back(std::move(sandbox));
    if (page.NextToken.empty()) return all;
    params.NextToken = std::move(page.NextToken);
  }
}

void Kill(internal::ControlPlaneApi& api, const Context& ctx,
          const std::string& id, ReapReport& report) {
  try {
    if (api.KillSandbox(ctx, id)) {
      report.Killed.push_back(id);
    } else {
      report.Gone.push_back(id);
    }
  } catch (const Error& e) {
    // A cancelled or expired call ends the reaping, as any call's would.
    if (ctx.Done()) throw;
    report.Failed.push_back(ReapFailure{id, e.StatusCode(), e.what()});
  }
}

}  // namespace

std::string DefaultLeaseOwner() {
  std::string owner = EnvOrEmpty("E2B_LEASE_OWNER");
  if (!owner.empty()) return owner;
  std::string user = EnvOrEmpty("USER");
  if (user.empty()) user = EnvOrEmpty("LOGNAME");
  if (user.empty()) user = "uid" + std::to_string(::getuid());
  return user + "@" + HostName();
}

ReapReport Client::ReapSandboxes(const Context& ctx,
                                 const ReapOptions& opts) const {
  internal::CheckReapOptions(opts);
  auto& api = *state_->control_plane;
  const auto listed = ListAll(api, ctx, internal::ReapListFilter(opts));
  const auto now = std::chrono::system_clock::now();
  ReapReport report;
  for (const auto& sandbox : listed) {
    if (internal::ReapSelects(sandbox, opts, now)) {
      report.Selected.push_back(sandbox.ID);
    } else {
      report.Skipped.push_back(sandbox.ID);
    }
  }
  if (opts.DryRun) return report;
  for (const auto& id : report.Selected) Kill(api, ctx, id, report);
  return report;
}

ReapReport Client::ReapSandboxes(const ReapOptions& opts) const {
  return ReapSandboxes(Context::Background(), opts);
}

}  // namespace e2b
