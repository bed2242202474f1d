// The functional options of every call: each one sets one field of its
// call's parameter struct.

#include "internal/civil_time.hpp"

#include <e2b/options.hpp>

#include <utility>

namespace e2b {

LogsOption WithDirection(std::string direction) {
  return LogsOption(
      [v = std::move(direction)](LogsParams& p) { p.Direction = v; });
}

LogsOption WithLevel(std::string level) {
  return LogsOption([v = std::move(level)](LogsParams& p) { p.Level = v; });
}

LogsOption WithLimit(int limit) {
  return LogsOption([limit](LogsParams& p) { p.Limit = limit; });
}

LogsOption WithSearch(std::string query) {
  return LogsOption([v = std::move(query)](LogsParams& p) { p.Search = v; });
}

RefreshOption WithRefreshDuration(int duration_seconds) {
  return RefreshOption(
      [duration_seconds](RefreshParams& p) { p.Duration = duration_seconds; });
}

PauseOption WithKeepMemory(bool keep) {
  return PauseOption([keep](PauseParams& p) { p.KeepMemory = keep; });
}

ListSnapshotsOption WithSnapshotLimit(int limit) {
  return ListSnapshotsOption(
      [limit](ListSnapshotsParams& p) { p.Limit = limit; });
}

ListSnapshotsOption WithSnapshotNextToken(std::string token) {
  return ListSnapshotsOption(
      [v = std::move(token)](ListSnapshotsParams& p) { p.NextToken = v; });
}

ListSnapshotsOption WithSnapshotSandboxID(std::string sandbox_id) {
  return ListSnapshotsOption(
      [v = std::move(sandbox_id)](ListSnapshotsParams& p) { p.SandboxID = v; });
}

GetTemplateOption WithTemplateBuildsLimit(int limit) {
  return GetTemplateOption([limit](GetTemplateParams& p) { p.Limit = limit; });
}

GetTemplateOption WithTemplateBuildsNextToken(std::string token) {
  return GetTemplateOption(
      [v = std::move(token)](GetTemplateParams& p) { p.NextToken = v; });
}

BuildLogOption WithBuildLogCursor(std::int64_t ms) {
  return BuildLogOption([ms](BuildLogParams& p) { p.Cursor = ms; });
}

BuildLogOption WithBuildLogDirection(std::string direction) {
  return BuildLogOption(
      [v = std::move(direction)](BuildLogParams& p) { p.Direction = v; });
}

BuildLogOption WithBuildLogLevel(std::string level) {
  return BuildLogOption(
      [v = std::move(level)](BuildLogParams& p) { p.Level = v; });
}

BuildLogOption WithBuildLogLimit(int limit) {
  return BuildLogOption([limit](BuildLogParams& p) { p.Limit = limit; });
}

BuildLogOption WithBuildLogSource(std::string source) {
  return BuildLogOption(
      [v = std::move(source)](BuildLogParams& p) { p.Source = v; });
}

BuildStatusOption WithBuildStatusLogsOffset(int offset) {
  return BuildStatusOption(
      [offset](BuildStatusParams& p) { p.LogsOffset = offset; });
}

BuildStatusOption WithBuildStatusLimit(int limit) {
  return BuildStatusOption([limit](BuildStatusParams& p) { p.Limit = limit; });
}

BuildStatusOption WithBuildStatusLevel(std::string level) {
  return BuildStatusOption(
      [v = std::move(level)](BuildStatusParams& p) { p.Level = v; });
}

ListSandboxesV2Option WithSandboxState(std::vector<std::string> states) {
  return ListSandboxesV2Option(
      [v = std::move(states)](ListSandboxesV2Params& p) { p.State = v; });
}

ListSandboxesV2Option WithSandboxMetadata(
    std::map<std::string, std::string> metadata) {
  // Several options add up; a later one wins for the same key.
  return ListSandboxesV2Option(
      [v = std::move(metadata)](ListSandboxesV2Params& p) {
        for (const auto& [key, value] : v) p.Metadata[key] = value;
      });
}

ListSandboxesV2Option WithSandboxLimit(int limit) {
  return ListSandboxesV2Option(
      [limit](ListSandboxesV2Params& p) { p.Limit = limit; });
}

ListSandboxesV2Option WithSandboxNextToken(std::string token) {
  return ListSandboxesV2Option(
      [v = std::move(token)](ListSandboxesV2Params& p) { p.NextToken = v; });
}

ListSandboxesV2Option WithSandboxTemplate(std::string template_id) {
  return ListSandboxesV2Option(
      [v = std::move(template_id)](ListSandboxesV2Params& p) {
        p.Template = v;
      });
}

ListSandboxesV2Option WithSandboxOrder(std::string order) {
  return ListSandboxesV2Option(
      [v = std::move(order)](ListSandboxesV2Params& p) { p.Order = v; });
}

ListSandboxesV2Option WithSandboxStartedAfter(std::string rfc3339) {
  return ListSandboxesV2Option(
      [v = std::move(rfc3339)](ListSandboxesV2Params& p) {
        p.StartedAfter = v;
      });
}

ListSandboxesV2Option WithSandboxStartedAfter(
    std::chrono::system_clock::time_point time) {
  return WithSandboxStartedAfter(internal::FormatRfc3339Utc(time));
}

ForkOption WithForkCount(int count) {
  return ForkOption([count](ForkParams& p) { p.Count = count; });
}

ForkOption WithForkTimeout(std::chrono::milliseconds timeout) {
  return ForkOption([timeout](ForkParams& p) { p.Timeout = timeout; });
}

RunOption WithEnv(std::map<std::string, std::string> envs) {
  // Several WithEnv options add up; a later one wins for the same name.
  return RunOption([v = std::move(envs)](RunParams& p) {
    for (const auto& [key, value] : v) p.EnvVars[key] = value;
  });
}

RunOption WithCwd(std::string cwd) {
  return RunOption([v = std::move(cwd)](RunParams& p) { p.Cwd = v; });
}

RunOption WithUser(std::string user) {
  return RunOption([v = std::move(user)](RunParams& p) { p.User = v; });
}

RunOption WithTimeout(std::chrono::milliseconds timeout) {
  // As in Go: zero or negative disables the lifetime.
  return RunOption([timeout](RunParams& p) {
    p.NoTimeout = timeout.count() <= 0;
    p.Timeout = p.NoTimeout ? std::chrono::milliseconds(0) : timeout;
  });
}

FileUserOption WithFileUser(std::string user) {
  return FileUserOption(std::move(user));
}

ReadOption WithReadTimeout(std::chrono::milliseconds timeout) {
  return ReadOption([timeout](ReadParams& p) { p.Timeout = timeout; });
}

WriteOption WithWriteTimeout(std::chrono::milliseconds timeout) {
  return WriteOption([timeout](WriteParams& p) { p.Timeout = timeout; });
}

}  // namespace e2b
