// The Go SDK's API at HEAD, checked off name by name (#18): each entry names
// a Go identifier and its C++ counterpart, so a counterpart that goes
// missing breaks the build, and GoApiChecklist fails when any name of
// docs/go-api/head.txt (generated from the Go source) or of the seed API
// (docs/go-api/seed.txt) has no entry here. At HEAD, volumes (#19, entries
// marked "// volumes") and template builds (#20, the low-level API and the
// fluent builder, marked "// templates") are complete.
//
// How the names map (docs/API.md): types, functions, constants and fields
// keep their Go names; the fields of Go's error structs are accessors
// (Error.StatusCode -> StatusCode()), and their Error() string is what().

#include <e2b/e2b.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// A type.
#define E2B_GO_TYPE(name, T)                 \
  do {                                       \
    names.emplace_back(name);                \
    static_assert(sizeof(e2b::T) > 0, name); \
  } while (false)
// A function or constant of namespace e2b (any overload set or template).
#define E2B_GO_NAME(name, N)  \
  do {                        \
    names.emplace_back(name); \
    using e2b::N;             \
  } while (false)
// A constant of namespace e2b.
#define E2B_GO_VALUE(name, N) \
  do {                        \
    names.emplace_back(name); \
    (void)e2b::N;             \
  } while (false)
// A data member.
#define E2B_GO_FIELD(name, T, F)                                         \
  do {                                                                   \
    names.emplace_back(name);                                            \
    static_assert(std::is_member_object_pointer_v<decltype(&e2b::T::F)>, \
                  name);                                                 \
  } while (false)
// A public member of any kind (method, overload set, template, accessor):
// a using-declaration in a derived class names it, and fails to compile when
// it is missing or not public.
#define E2B_GO_MEMBER(name, T, M) \
  do {                            \
    names.emplace_back(name);     \
    struct Check : e2b::T {       \
      using e2b::T::M;            \
    };                            \
  } while (false)
// Go's Error() string of an error type: what() of an e2b::Error.
#define E2B_GO_ERROR(name, T)                                   \
  do {                                                          \
    names.emplace_back(name);                                   \
    static_assert(std::is_base_of_v<e2b::Error, e2b::T>, name); \
  } while (false)

std::vector<std::string> CheckedNames() {
  std::vector<std::string> names;
  E2B_GO_VALUE("AllTraffic", AllTraffic);
  E2B_GO_NAME("AllowOutbound", AllowOutbound);
  E2B_GO_TYPE("AuthenticationError", AuthenticationError);
  E2B_GO_ERROR("AuthenticationError.Error", AuthenticationError);
  E2B_GO_MEMBER("AuthenticationError.Message", AuthenticationError, Message);
  E2B_GO_TYPE("AutoResumeConfig", AutoResumeConfig);
  E2B_GO_FIELD("AutoResumeConfig.Enabled", AutoResumeConfig, Enabled);
  E2B_GO_NAME("Bool", Bool);
  E2B_GO_TYPE("BuildConfig", BuildConfig);                        // templates
  E2B_GO_FIELD("BuildConfig.CPUCount", BuildConfig, CPUCount);    // templates
  E2B_GO_FIELD("BuildConfig.MemoryMB", BuildConfig, MemoryMB);    // templates
  E2B_GO_FIELD("BuildConfig.Name", BuildConfig, Name);            // templates
  E2B_GO_FIELD("BuildConfig.OnLog", BuildConfig, OnLog);          // templates
  E2B_GO_FIELD("BuildConfig.SkipCache", BuildConfig, SkipCache);  // templates
  E2B_GO_FIELD("BuildConfig.Tags", BuildConfig, Tags);            // templates
  E2B_GO_TYPE("BuildFileStatus", BuildFileStatus);                // templates
  E2B_GO_FIELD("BuildFileStatus.Present", BuildFileStatus,
               Present);                                          // templates
  E2B_GO_FIELD("BuildFileStatus.URL", BuildFileStatus, URL);      // templates
  E2B_GO_TYPE("BuildLogEntry", BuildLogEntry);                    // templates
  E2B_GO_FIELD("BuildLogEntry.Level", BuildLogEntry, Level);      // templates
  E2B_GO_FIELD("BuildLogEntry.Message", BuildLogEntry, Message);  // templates
  E2B_GO_FIELD("BuildLogEntry.Step", BuildLogEntry, Step);        // templates
  E2B_GO_FIELD("BuildLogEntry.Timestamp", BuildLogEntry,
               Timestamp);                                          // templates
  E2B_GO_TYPE("BuildLogOption", BuildLogOption);                    // templates
  E2B_GO_TYPE("BuildResult", BuildResult);                          // templates
  E2B_GO_FIELD("BuildResult.BuildID", BuildResult, BuildID);        // templates
  E2B_GO_FIELD("BuildResult.Names", BuildResult, Names);            // templates
  E2B_GO_FIELD("BuildResult.Public", BuildResult, Public);          // templates
  E2B_GO_FIELD("BuildResult.TemplateID", BuildResult, TemplateID);  // templates
  E2B_GO_TYPE("BuildStatus", BuildStatus);                          // templates
  E2B_GO_FIELD("BuildStatus.BuildID", BuildStatus, BuildID);        // templates
  E2B_GO_FIELD("BuildStatus.LogEntries", BuildStatus, LogEntries);  // templates
  E2B_GO_FIELD("BuildStatus.Logs", BuildStatus, Logs);              // templates
  E2B_GO_FIELD("BuildStatus.Reason", BuildStatus, Reason);          // templates
  E2B_GO_FIELD("BuildStatus.Status", BuildStatus, Status);          // templates
  E2B_GO_FIELD("BuildStatus.TemplateID", BuildStatus, TemplateID);  // templates
  E2B_GO_TYPE("BuildStatusOption", BuildStatusOption);              // templates
  E2B_GO_TYPE("BuildStatusReason", BuildStatusReason);              // templates
  E2B_GO_FIELD("BuildStatusReason.LogEntries", BuildStatusReason,
               LogEntries);  // templates
  E2B_GO_FIELD("BuildStatusReason.Message", BuildStatusReason,
               Message);                                            // templates
  E2B_GO_FIELD("BuildStatusReason.Step", BuildStatusReason, Step);  // templates
  E2B_GO_TYPE("Client", Client);
  E2B_GO_MEMBER("Client.CheckBuildFiles", Client,
                CheckBuildFiles);  // templates
  E2B_GO_MEMBER("Client.Connect", Client, Connect);
  E2B_GO_MEMBER("Client.ConnectVolume", Client, ConnectVolume);  // volumes
  E2B_GO_MEMBER("Client.CreateTemplate", Client, CreateTemplate);
  E2B_GO_MEMBER("Client.CreateVolume", Client, CreateVolume);  // volumes
  E2B_GO_MEMBER("Client.DeleteSnapshot", Client, DeleteSnapshot);
  E2B_GO_MEMBER("Client.DeleteTemplate", Client, DeleteTemplate);
  E2B_GO_MEMBER("Client.DestroyVolume", Client, DestroyVolume);  // volumes
  E2B_GO_MEMBER("Client.ForkSandbox", Client, ForkSandbox);
  E2B_GO_MEMBER("Client.GetBuildStatus", Client, GetBuildStatus);  // templates
  E2B_GO_MEMBER("Client.GetTemplate", Client, GetTemplate);
  E2B_GO_MEMBER("Client.GetTemplateBuildLogs", Client,
                GetTemplateBuildLogs);                           // templates
  E2B_GO_MEMBER("Client.GetVolumeInfo", Client, GetVolumeInfo);  // volumes
  E2B_GO_MEMBER("Client.ListSandboxes", Client, ListSandboxes);
  E2B_GO_MEMBER("Client.ListSandboxesV2", Client, ListSandboxesV2);
  E2B_GO_MEMBER("Client.ListSnapshots", Client, ListSnapshots);
  E2B_GO_MEMBER("Client.ListTemplates", Client, ListTemplates);
  E2B_GO_MEMBER("Client.ListVolumes", Client, ListVolumes);  // volumes
  E2B_GO_MEMBER("Client.NewSandbox", Client, NewSandbox);
  E2B_GO_MEMBER("Client.StartTemplateBuild", Client,
                StartTemplateBuild);  // templates
  E2B_GO_MEMBER("Client.UploadBuildFiles", Client,
                UploadBuildFiles);  // templates
  E2B_GO_TYPE("ClientConfig", ClientConfig);
  E2B_GO_FIELD("ClientConfig.APIBaseURL", ClientConfig, APIBaseURL);
  E2B_GO_FIELD("ClientConfig.APIKey", ClientConfig, APIKey);
  E2B_GO_FIELD("ClientConfig.HTTPClient", ClientConfig, HTTPClient);
  E2B_GO_FIELD("ClientConfig.SandboxDomain", ClientConfig, SandboxDomain);
  E2B_GO_TYPE("CommandExitError", CommandExitError);
  E2B_GO_ERROR("CommandExitError.Error", CommandExitError);
  E2B_GO_MEMBER("CommandExitError.ExitCode", CommandExitError, ExitCode);
  E2B_GO_MEMBER("CommandExitError.Message", CommandExitError, Message);
  E2B_GO_MEMBER("CommandExitError.Stderr", CommandExitError, Stderr);
  E2B_GO_MEMBER("CommandExitError.Stdout", CommandExitError, Stdout);
  E2B_GO_TYPE("CommandHandle", CommandHandle);
  E2B_GO_MEMBER("CommandHandle.CloseStdin", CommandHandle, CloseStdin);
  E2B_GO_MEMBER("CommandHandle.Disconnect", CommandHandle, Disconnect);
  E2B_GO_MEMBER("CommandHandle.ExitCode", CommandHandle, ExitCode);
  E2B_GO_MEMBER("CommandHandle.Kill", CommandHandle, Kill);
  E2B_GO_MEMBER("CommandHandle.PID", CommandHandle, PID);
  E2B_GO_MEMBER("CommandHandle.SendStdin", CommandHandle, SendStdin);
  E2B_GO_MEMBER("CommandHandle.Stderr", CommandHandle, Stderr);
  E2B_GO_MEMBER("CommandHandle.Stdout", CommandHandle, Stdout);
  E2B_GO_MEMBER("CommandHandle.Wait", CommandHandle, Wait);
  E2B_GO_TYPE("CommandResult", CommandResult);
  E2B_GO_FIELD("CommandResult.Error", CommandResult, Error);
  E2B_GO_FIELD("CommandResult.ExitCode", CommandResult, ExitCode);
  E2B_GO_FIELD("CommandResult.Stderr", CommandResult, Stderr);
  E2B_GO_FIELD("CommandResult.Stdout", CommandResult, Stdout);
  E2B_GO_TYPE("CommandService", CommandService);
  E2B_GO_MEMBER("CommandService.CloseStdin", CommandService, CloseStdin);
  E2B_GO_MEMBER("CommandService.Connect", CommandService, Connect);
  E2B_GO_MEMBER("CommandService.Kill", CommandService, Kill);
  E2B_GO_MEMBER("CommandService.List", CommandService, List);
  E2B_GO_MEMBER("CommandService.Run", CommandService, Run);
  E2B_GO_MEMBER("CommandService.RunWithContext", CommandService,
                RunWithContext);  // seed only
  E2B_GO_MEMBER("CommandService.SendStdin", CommandService, SendStdin);
  E2B_GO_MEMBER("CommandService.Start", CommandService, Start);
  E2B_GO_TYPE("ConnectOption", ConnectOption);
  E2B_GO_TYPE("CreateTemplateConfig", CreateTemplateConfig);
  E2B_GO_FIELD("CreateTemplateConfig.CPUCount", CreateTemplateConfig, CPUCount);
  E2B_GO_FIELD("CreateTemplateConfig.MemoryMB", CreateTemplateConfig, MemoryMB);
  E2B_GO_FIELD("CreateTemplateConfig.Name", CreateTemplateConfig, Name);
  E2B_GO_FIELD("CreateTemplateConfig.Tags", CreateTemplateConfig, Tags);
  E2B_GO_VALUE("DefaultAPIBaseURL", DefaultAPIBaseURL);
  E2B_GO_VALUE("DefaultCommandTimeout", DefaultCommandTimeout);
  E2B_GO_VALUE("DefaultTemplate", DefaultTemplate);
  E2B_GO_VALUE("DefaultTimeout", DefaultTimeout);
  E2B_GO_NAME("DenyAllOutbound", DenyAllOutbound);
  E2B_GO_TYPE("EgressProxyConfig", EgressProxyConfig);
  E2B_GO_FIELD("EgressProxyConfig.Address", EgressProxyConfig, Address);
  E2B_GO_FIELD("EgressProxyConfig.Password", EgressProxyConfig, Password);
  E2B_GO_FIELD("EgressProxyConfig.Username", EgressProxyConfig, Username);
  E2B_GO_TYPE("Error", Error);
  E2B_GO_ERROR("Error.Error", Error);
  E2B_GO_MEMBER("Error.Message", Error, Message);
  E2B_GO_MEMBER("Error.StatusCode", Error, StatusCode);
  E2B_GO_TYPE("FileInfo", FileInfo);
  E2B_GO_FIELD("FileInfo.Group", FileInfo, Group);
  E2B_GO_FIELD("FileInfo.ModTime", FileInfo, ModTime);
  E2B_GO_FIELD("FileInfo.Name", FileInfo, Name);
  E2B_GO_FIELD("FileInfo.Owner", FileInfo, Owner);
  E2B_GO_FIELD("FileInfo.Path", FileInfo, Path);
  E2B_GO_FIELD("FileInfo.Size", FileInfo, Size);
  E2B_GO_FIELD("FileInfo.SymlinkTarget", FileInfo, SymlinkTarget);
  E2B_GO_FIELD("FileInfo.Type", FileInfo, Type);
  E2B_GO_TYPE("FileNotFoundError", FileNotFoundError);
  E2B_GO_ERROR("FileNotFoundError.Error", FileNotFoundError);
  E2B_GO_MEMBER("FileNotFoundError.Path", FileNotFoundError, Path);
  E2B_GO_TYPE("FilesystemEvent", FilesystemEvent);
  E2B_GO_FIELD("FilesystemEvent.Entry", FilesystemEvent, Entry);
  E2B_GO_FIELD("FilesystemEvent.Name", FilesystemEvent, Name);
  E2B_GO_FIELD("FilesystemEvent.Type", FilesystemEvent, Type);
  E2B_GO_TYPE("FilesystemService", FilesystemService);
  E2B_GO_MEMBER("FilesystemService.Exists", FilesystemService, Exists);
  E2B_GO_MEMBER("FilesystemService.List", FilesystemService, List);
  E2B_GO_MEMBER("FilesystemService.MakeDir", FilesystemService, MakeDir);
  E2B_GO_MEMBER("FilesystemService.Read", FilesystemService, Read);
  E2B_GO_MEMBER("FilesystemService.ReadBytes", FilesystemService, ReadBytes);
  E2B_GO_MEMBER("FilesystemService.ReadString", FilesystemService, ReadString);
  E2B_GO_MEMBER("FilesystemService.Remove", FilesystemService, Remove);
  E2B_GO_MEMBER("FilesystemService.Rename", FilesystemService, Rename);
  E2B_GO_MEMBER("FilesystemService.Stat", FilesystemService, Stat);
  E2B_GO_MEMBER("FilesystemService.WatchDir", FilesystemService, WatchDir);
  E2B_GO_MEMBER("FilesystemService.Write", FilesystemService, Write);
  E2B_GO_MEMBER("FilesystemService.WriteBytes", FilesystemService, WriteBytes);
  E2B_GO_MEMBER("FilesystemService.WriteString", FilesystemService,
                WriteString);
  E2B_GO_TYPE("ForkOption", ForkOption);
  E2B_GO_TYPE("ForkResult", ForkResult);
  E2B_GO_FIELD("ForkResult.Err", ForkResult, Err);
  E2B_GO_FIELD("ForkResult.Sandbox", ForkResult, Sandbox);
  E2B_GO_TYPE("GetTemplateOption", GetTemplateOption);
  E2B_GO_TYPE("GetTemplateResult", GetTemplateResult);
  E2B_GO_FIELD("GetTemplateResult.NextToken", GetTemplateResult, NextToken);
  E2B_GO_FIELD("GetTemplateResult.Template", GetTemplateResult, Template);
  E2B_GO_TYPE("ImageRegistry", ImageRegistry);  // templates
  E2B_GO_FIELD("ImageRegistry.AWSAccessKeyID", ImageRegistry,
               AWSAccessKeyID);  // templates
  E2B_GO_FIELD("ImageRegistry.AWSRegion", ImageRegistry,
               AWSRegion);  // templates
  E2B_GO_FIELD("ImageRegistry.AWSSecretAccessKey", ImageRegistry,
               AWSSecretAccessKey);                                 // templates
  E2B_GO_FIELD("ImageRegistry.Password", ImageRegistry, Password);  // templates
  E2B_GO_FIELD("ImageRegistry.ServiceAccountJSON", ImageRegistry,
               ServiceAccountJSON);                                 // templates
  E2B_GO_FIELD("ImageRegistry.Type", ImageRegistry, Type);          // templates
  E2B_GO_FIELD("ImageRegistry.Username", ImageRegistry, Username);  // templates
  E2B_GO_TYPE("InvalidArgumentError", InvalidArgumentError);
  E2B_GO_ERROR("InvalidArgumentError.Error", InvalidArgumentError);
  E2B_GO_MEMBER("InvalidArgumentError.Message", InvalidArgumentError, Message);
  E2B_GO_TYPE("ListSandboxesV2Option", ListSandboxesV2Option);
  E2B_GO_TYPE("ListSandboxesV2Result", ListSandboxesV2Result);
  E2B_GO_FIELD("ListSandboxesV2Result.NextToken", ListSandboxesV2Result,
               NextToken);
  E2B_GO_FIELD("ListSandboxesV2Result.Sandboxes", ListSandboxesV2Result,
               Sandboxes);
  E2B_GO_TYPE("ListSnapshotsOption", ListSnapshotsOption);
  E2B_GO_TYPE("ListSnapshotsResult", ListSnapshotsResult);
  E2B_GO_FIELD("ListSnapshotsResult.NextToken", ListSnapshotsResult, NextToken);
  E2B_GO_FIELD("ListSnapshotsResult.Snapshots", ListSnapshotsResult, Snapshots);
  E2B_GO_TYPE("LogsOption", LogsOption);
  E2B_GO_TYPE("MCPConfig", MCPConfig);
  E2B_GO_FIELD("MCPConfig.Integrations", MCPConfig, Integrations);
  E2B_GO_VALUE("MaxRefreshDuration", MaxRefreshDuration);
  E2B_GO_TYPE("NetworkConfig", NetworkConfig);
  E2B_GO_FIELD("NetworkConfig.AllowOut", NetworkConfig, AllowOut);
  E2B_GO_FIELD("NetworkConfig.AllowPublicTraffic", NetworkConfig,
               AllowPublicTraffic);
  E2B_GO_FIELD("NetworkConfig.DenyOut", NetworkConfig, DenyOut);
  E2B_GO_FIELD("NetworkConfig.EgressProxy", NetworkConfig, EgressProxy);
  E2B_GO_FIELD("NetworkConfig.MaskRequestHost", NetworkConfig, MaskRequestHost);
  E2B_GO_FIELD("NetworkConfig.Rules", NetworkConfig, Rules);
  E2B_GO_MEMBER("NetworkConfig.WithRequestTransform", NetworkConfig,
                WithRequestTransform);
  E2B_GO_TYPE("NetworkUpdateConfig", NetworkUpdateConfig);
  E2B_GO_FIELD("NetworkUpdateConfig.AllowInternetAccess", NetworkUpdateConfig,
               AllowInternetAccess);
  E2B_GO_FIELD("NetworkUpdateConfig.AllowOut", NetworkUpdateConfig, AllowOut);
  E2B_GO_FIELD("NetworkUpdateConfig.DenyOut", NetworkUpdateConfig, DenyOut);
  E2B_GO_FIELD("NetworkUpdateConfig.EgressProxy", NetworkUpdateConfig,
               EgressProxy);
  E2B_GO_FIELD("NetworkUpdateConfig.Rules", NetworkUpdateConfig, Rules);
  E2B_GO_NAME("NewClient", NewClient);
  E2B_GO_NAME("NewTemplate", NewTemplate);  // templates
  E2B_GO_TYPE("PauseOption", PauseOption);
  E2B_GO_TYPE("ProcessInfo", ProcessInfo);
  E2B_GO_FIELD("ProcessInfo.Args", ProcessInfo, Args);
  E2B_GO_FIELD("ProcessInfo.Cmd", ProcessInfo, Cmd);
  E2B_GO_FIELD("ProcessInfo.Cwd", ProcessInfo, Cwd);
  E2B_GO_FIELD("ProcessInfo.Envs", ProcessInfo, Envs);
  E2B_GO_FIELD("ProcessInfo.PID", ProcessInfo, PID);
  E2B_GO_FIELD("ProcessInfo.Tag", ProcessInfo, Tag);
  E2B_GO_TYPE("PtyOption", PtyOption);
  E2B_GO_TYPE("PtyService", PtyService);
  E2B_GO_MEMBER("PtyService.Connect", PtyService, Connect);
  E2B_GO_MEMBER("PtyService.Create", PtyService, Create);
  E2B_GO_MEMBER("PtyService.Kill", PtyService, Kill);
  E2B_GO_MEMBER("PtyService.Resize", PtyService, Resize);
  E2B_GO_MEMBER("PtyService.SendInput", PtyService, SendInput);
  E2B_GO_TYPE("RateLimitError", RateLimitError);
  E2B_GO_ERROR("RateLimitError.Error", RateLimitError);
  E2B_GO_MEMBER("RateLimitError.Message", RateLimitError, Message);
  E2B_GO_TYPE("ReadOption", ReadOption);
  E2B_GO_TYPE("RefreshOption", RefreshOption);
  E2B_GO_TYPE("RequestRule", RequestRule);
  E2B_GO_FIELD("RequestRule.Transform", RequestRule, Transform);
  E2B_GO_TYPE("RequestTransform", RequestTransform);
  E2B_GO_FIELD("RequestTransform.Headers", RequestTransform, Headers);
  E2B_GO_TYPE("RunOption", RunOption);
  E2B_GO_TYPE("Sandbox", Sandbox);
  E2B_GO_MEMBER("Sandbox.Close", Sandbox, Close);
  E2B_GO_MEMBER("Sandbox.CloseWithContext", Sandbox, CloseWithContext);
  E2B_GO_FIELD("Sandbox.Commands", Sandbox, Commands);
  E2B_GO_MEMBER("Sandbox.CreateSnapshot", Sandbox, CreateSnapshot);
  E2B_GO_MEMBER("Sandbox.DownloadURL", Sandbox, DownloadURL);
  E2B_GO_FIELD("Sandbox.Filesystem", Sandbox, Filesystem);
  E2B_GO_MEMBER("Sandbox.Fork", Sandbox, Fork);
  E2B_GO_FIELD("Sandbox.ID", Sandbox, ID);
  E2B_GO_MEMBER("Sandbox.Info", Sandbox, Info);
  E2B_GO_MEMBER("Sandbox.InfoWithContext", Sandbox, InfoWithContext);
  E2B_GO_MEMBER("Sandbox.IsRunning", Sandbox, IsRunning);
  E2B_GO_MEMBER("Sandbox.IsRunningWithContext", Sandbox, IsRunningWithContext);
  E2B_GO_MEMBER("Sandbox.Logs", Sandbox, Logs);
  E2B_GO_MEMBER("Sandbox.LogsWithContext", Sandbox, LogsWithContext);
  E2B_GO_MEMBER("Sandbox.Metrics", Sandbox, Metrics);
  E2B_GO_MEMBER("Sandbox.MetricsWithContext", Sandbox, MetricsWithContext);
  E2B_GO_MEMBER("Sandbox.Pause", Sandbox, Pause);
  E2B_GO_MEMBER("Sandbox.PauseWithContext", Sandbox, PauseWithContext);
  E2B_GO_FIELD("Sandbox.Pty", Sandbox, Pty);
  E2B_GO_MEMBER("Sandbox.Refresh", Sandbox, Refresh);
  E2B_GO_MEMBER("Sandbox.RefreshWithContext", Sandbox, RefreshWithContext);
  E2B_GO_MEMBER("Sandbox.Resume", Sandbox, Resume);
  E2B_GO_MEMBER("Sandbox.ResumeWithContext", Sandbox, ResumeWithContext);
  E2B_GO_MEMBER("Sandbox.SetTimeout", Sandbox, SetTimeout);
  E2B_GO_MEMBER("Sandbox.SetTimeoutWithContext", Sandbox,
                SetTimeoutWithContext);
  E2B_GO_FIELD("Sandbox.TrafficAccessToken", Sandbox, TrafficAccessToken);
  E2B_GO_MEMBER("Sandbox.UpdateNetwork", Sandbox, UpdateNetwork);
  E2B_GO_MEMBER("Sandbox.UpdateNetworkWithContext", Sandbox,
                UpdateNetworkWithContext);
  E2B_GO_MEMBER("Sandbox.UploadURL", Sandbox, UploadURL);
  E2B_GO_TYPE("SandboxConfig", SandboxConfig);
  E2B_GO_FIELD("SandboxConfig.AllowInternetAccess", SandboxConfig,
               AllowInternetAccess);
  E2B_GO_FIELD("SandboxConfig.AutoPause", SandboxConfig, AutoPause);
  E2B_GO_FIELD("SandboxConfig.AutoPauseMemory", SandboxConfig, AutoPauseMemory);
  E2B_GO_FIELD("SandboxConfig.AutoResume", SandboxConfig, AutoResume);
  E2B_GO_FIELD("SandboxConfig.EnvVars", SandboxConfig, EnvVars);
  E2B_GO_FIELD("SandboxConfig.MCP", SandboxConfig, MCP);
  E2B_GO_FIELD("SandboxConfig.Metadata", SandboxConfig, Metadata);
  E2B_GO_FIELD("SandboxConfig.Network", SandboxConfig, Network);
  E2B_GO_FIELD("SandboxConfig.Secure", SandboxConfig, Secure);
  E2B_GO_FIELD("SandboxConfig.Template", SandboxConfig, Template);
  E2B_GO_FIELD("SandboxConfig.Timeout", SandboxConfig, Timeout);
  E2B_GO_FIELD("SandboxConfig.VolumeMounts", SandboxConfig,
               VolumeMounts);  // volumes
  E2B_GO_TYPE("SandboxInfo", SandboxInfo);
  E2B_GO_FIELD("SandboxInfo.Alias", SandboxInfo, Alias);
  E2B_GO_FIELD("SandboxInfo.CPUCount", SandboxInfo, CPUCount);
  E2B_GO_FIELD("SandboxInfo.ClientID", SandboxInfo, ClientID);
  E2B_GO_FIELD("SandboxInfo.DiskSizeMB", SandboxInfo, DiskSizeMB);
  E2B_GO_FIELD("SandboxInfo.EndAt", SandboxInfo, EndAt);
  E2B_GO_FIELD("SandboxInfo.EnvdVersion", SandboxInfo, EnvdVersion);
  E2B_GO_FIELD("SandboxInfo.ID", SandboxInfo, ID);
  E2B_GO_FIELD("SandboxInfo.Lifecycle", SandboxInfo, Lifecycle);
  E2B_GO_FIELD("SandboxInfo.MemoryMB", SandboxInfo, MemoryMB);
  E2B_GO_FIELD("SandboxInfo.Metadata", SandboxInfo, Metadata);
  E2B_GO_FIELD("SandboxInfo.Network", SandboxInfo, Network);
  E2B_GO_FIELD("SandboxInfo.StartedAt", SandboxInfo, StartedAt);
  E2B_GO_FIELD("SandboxInfo.State", SandboxInfo, State);
  E2B_GO_FIELD("SandboxInfo.Template", SandboxInfo, Template);
  E2B_GO_FIELD("SandboxInfo.VolumeMounts", SandboxInfo,
               VolumeMounts);  // volumes
  E2B_GO_TYPE("SandboxLifecycle", SandboxLifecycle);
  E2B_GO_FIELD("SandboxLifecycle.AutoResume", SandboxLifecycle, AutoResume);
  E2B_GO_FIELD("SandboxLifecycle.OnTimeout", SandboxLifecycle, OnTimeout);
  E2B_GO_TYPE("SandboxLogEntry", SandboxLogEntry);
  E2B_GO_FIELD("SandboxLogEntry.Fields", SandboxLogEntry, Fields);
  E2B_GO_FIELD("SandboxLogEntry.Level", SandboxLogEntry, Level);
  E2B_GO_FIELD("SandboxLogEntry.Message", SandboxLogEntry, Message);
  E2B_GO_FIELD("SandboxLogEntry.Timestamp", SandboxLogEntry, Timestamp);
  E2B_GO_TYPE("SandboxMetric", SandboxMetric);
  E2B_GO_FIELD("SandboxMetric.CPUCount", SandboxMetric, CPUCount);
  E2B_GO_FIELD("SandboxMetric.CPUUsedPct", SandboxMetric, CPUUsedPct);
  E2B_GO_FIELD("SandboxMetric.DiskTotal", SandboxMetric, DiskTotal);
  E2B_GO_FIELD("SandboxMetric.DiskUsed", SandboxMetric, DiskUsed);
  E2B_GO_FIELD("SandboxMetric.MemCache", SandboxMetric, MemCache);
  E2B_GO_FIELD("SandboxMetric.MemTotal", SandboxMetric, MemTotal);
  E2B_GO_FIELD("SandboxMetric.MemUsed", SandboxMetric, MemUsed);
  E2B_GO_FIELD("SandboxMetric.Timestamp", SandboxMetric, Timestamp);
  E2B_GO_FIELD("SandboxMetric.TimestampUnix", SandboxMetric, TimestampUnix);
  E2B_GO_TYPE("SandboxNotFoundError", SandboxNotFoundError);
  E2B_GO_ERROR("SandboxNotFoundError.Error", SandboxNotFoundError);
  E2B_GO_MEMBER("SandboxNotFoundError.SandboxID", SandboxNotFoundError,
                SandboxID);
  E2B_GO_TYPE("SignedURLOption", SignedURLOption);
  E2B_GO_TYPE("SnapshotInfo", SnapshotInfo);
  E2B_GO_FIELD("SnapshotInfo.Names", SnapshotInfo, Names);
  E2B_GO_FIELD("SnapshotInfo.SnapshotID", SnapshotInfo, SnapshotID);
  E2B_GO_TYPE("StartBuildConfig", StartBuildConfig);                // templates
  E2B_GO_FIELD("StartBuildConfig.Force", StartBuildConfig, Force);  // templates
  E2B_GO_FIELD("StartBuildConfig.FromImage", StartBuildConfig,
               FromImage);  // templates
  E2B_GO_FIELD("StartBuildConfig.FromImageRegistry", StartBuildConfig,
               FromImageRegistry);  // templates
  E2B_GO_FIELD("StartBuildConfig.FromTemplate", StartBuildConfig,
               FromTemplate);  // templates
  E2B_GO_FIELD("StartBuildConfig.ReadyCmd", StartBuildConfig,
               ReadyCmd);  // templates
  E2B_GO_FIELD("StartBuildConfig.StartCmd", StartBuildConfig,
               StartCmd);                                           // templates
  E2B_GO_FIELD("StartBuildConfig.Steps", StartBuildConfig, Steps);  // templates
  E2B_GO_TYPE("TemplateBuild", TemplateBuild);                      // templates
  E2B_GO_FIELD("TemplateBuild.BuildID", TemplateBuild, BuildID);    // templates
  E2B_GO_FIELD("TemplateBuild.CPUCount", TemplateBuild, CPUCount);  // templates
  E2B_GO_FIELD("TemplateBuild.CreatedAt", TemplateBuild,
               CreatedAt);  // templates
  E2B_GO_FIELD("TemplateBuild.DiskSizeMB", TemplateBuild,
               DiskSizeMB);  // templates
  E2B_GO_FIELD("TemplateBuild.EnvdVersion", TemplateBuild,
               EnvdVersion);  // templates
  E2B_GO_FIELD("TemplateBuild.FinishedAt", TemplateBuild,
               FinishedAt);                                         // templates
  E2B_GO_FIELD("TemplateBuild.MemoryMB", TemplateBuild, MemoryMB);  // templates
  E2B_GO_FIELD("TemplateBuild.Status", TemplateBuild, Status);      // templates
  E2B_GO_FIELD("TemplateBuild.UpdatedAt", TemplateBuild,
               UpdatedAt);                                // templates
  E2B_GO_TYPE("TemplateBuildError", TemplateBuildError);  // templates
  E2B_GO_MEMBER("TemplateBuildError.BuildID", TemplateBuildError,
                BuildID);                                        // templates
  E2B_GO_ERROR("TemplateBuildError.Error", TemplateBuildError);  // templates
  E2B_GO_MEMBER("TemplateBuildError.Reason", TemplateBuildError,
                Reason);  // templates
  E2B_GO_MEMBER("TemplateBuildError.TemplateID", TemplateBuildError,
                TemplateID);                        // templates
  E2B_GO_TYPE("TemplateBuilder", TemplateBuilder);  // templates
  E2B_GO_MEMBER("TemplateBuilder.AptInstall", TemplateBuilder,
                AptInstall);                                       // templates
  E2B_GO_MEMBER("TemplateBuilder.Build", TemplateBuilder, Build);  // templates
  E2B_GO_MEMBER("TemplateBuilder.BuildInBackground", TemplateBuilder,
                BuildInBackground);                              // templates
  E2B_GO_MEMBER("TemplateBuilder.Copy", TemplateBuilder, Copy);  // templates
  E2B_GO_MEMBER("TemplateBuilder.FromBaseImage", TemplateBuilder,
                FromBaseImage);  // templates
  E2B_GO_MEMBER("TemplateBuilder.FromImage", TemplateBuilder,
                FromImage);  // templates
  E2B_GO_MEMBER("TemplateBuilder.FromTemplate", TemplateBuilder,
                FromTemplate);  // templates
  E2B_GO_MEMBER("TemplateBuilder.NpmInstall", TemplateBuilder,
                NpmInstall);  // templates
  E2B_GO_MEMBER("TemplateBuilder.PipInstall", TemplateBuilder,
                PipInstall);  // templates
  E2B_GO_MEMBER("TemplateBuilder.RunCmd", TemplateBuilder,
                RunCmd);  // templates
  E2B_GO_MEMBER("TemplateBuilder.SetEnvs", TemplateBuilder,
                SetEnvs);  // templates
  E2B_GO_MEMBER("TemplateBuilder.SetReadyCmd", TemplateBuilder,
                SetReadyCmd);  // templates
  E2B_GO_MEMBER("TemplateBuilder.SetStartCmd", TemplateBuilder,
                SetStartCmd);  // templates
  E2B_GO_MEMBER("TemplateBuilder.SetUser", TemplateBuilder,
                SetUser);  // templates
  E2B_GO_MEMBER("TemplateBuilder.SetWorkdir", TemplateBuilder,
                SetWorkdir);  // templates
  E2B_GO_MEMBER("TemplateBuilder.SkipCache", TemplateBuilder,
                SkipCache);  // templates
  E2B_GO_TYPE("TemplateDetail", TemplateDetail);
  E2B_GO_FIELD("TemplateDetail.Aliases", TemplateDetail, Aliases);
  E2B_GO_FIELD("TemplateDetail.BuildCount", TemplateDetail, BuildCount);
  E2B_GO_FIELD("TemplateDetail.BuildID", TemplateDetail, BuildID);
  E2B_GO_FIELD("TemplateDetail.BuildStatus", TemplateDetail, BuildStatus);
  E2B_GO_FIELD("TemplateDetail.CPUCount", TemplateDetail, CPUCount);
  E2B_GO_FIELD("TemplateDetail.CreatedAt", TemplateDetail, CreatedAt);
  E2B_GO_FIELD("TemplateDetail.DiskSizeMB", TemplateDetail, DiskSizeMB);
  E2B_GO_FIELD("TemplateDetail.EnvdVersion", TemplateDetail, EnvdVersion);
  E2B_GO_FIELD("TemplateDetail.LastSpawnedAt", TemplateDetail, LastSpawnedAt);
  E2B_GO_FIELD("TemplateDetail.MemoryMB", TemplateDetail, MemoryMB);
  E2B_GO_FIELD("TemplateDetail.Names", TemplateDetail, Names);
  E2B_GO_FIELD("TemplateDetail.Public", TemplateDetail, Public);
  E2B_GO_FIELD("TemplateDetail.SpawnCount", TemplateDetail, SpawnCount);
  E2B_GO_FIELD("TemplateDetail.TemplateID", TemplateDetail, TemplateID);
  E2B_GO_FIELD("TemplateDetail.UpdatedAt", TemplateDetail, UpdatedAt);
  E2B_GO_TYPE("TemplateInfo", TemplateInfo);
  E2B_GO_FIELD("TemplateInfo.Aliases", TemplateInfo, Aliases);
  E2B_GO_FIELD("TemplateInfo.BuildID", TemplateInfo, BuildID);
  E2B_GO_FIELD("TemplateInfo.Names", TemplateInfo, Names);
  E2B_GO_FIELD("TemplateInfo.Public", TemplateInfo, Public);
  E2B_GO_FIELD("TemplateInfo.Tags", TemplateInfo, Tags);
  E2B_GO_FIELD("TemplateInfo.TemplateID", TemplateInfo, TemplateID);
  E2B_GO_TYPE("TemplateNotFoundError", TemplateNotFoundError);
  E2B_GO_ERROR("TemplateNotFoundError.Error", TemplateNotFoundError);
  E2B_GO_MEMBER("TemplateNotFoundError.TemplateID", TemplateNotFoundError,
                TemplateID);
  E2B_GO_TYPE("TemplateStep", TemplateStep);                        // templates
  E2B_GO_FIELD("TemplateStep.Args", TemplateStep, Args);            // templates
  E2B_GO_FIELD("TemplateStep.FilesHash", TemplateStep, FilesHash);  // templates
  E2B_GO_FIELD("TemplateStep.Force", TemplateStep, Force);          // templates
  E2B_GO_FIELD("TemplateStep.Type", TemplateStep, Type);            // templates
  E2B_GO_TYPE("TemplateWithBuilds", TemplateWithBuilds);
  E2B_GO_FIELD("TemplateWithBuilds.Aliases", TemplateWithBuilds, Aliases);
  E2B_GO_FIELD("TemplateWithBuilds.Builds", TemplateWithBuilds, Builds);
  E2B_GO_FIELD("TemplateWithBuilds.CreatedAt", TemplateWithBuilds, CreatedAt);
  E2B_GO_FIELD("TemplateWithBuilds.LastSpawnedAt", TemplateWithBuilds,
               LastSpawnedAt);
  E2B_GO_FIELD("TemplateWithBuilds.Names", TemplateWithBuilds, Names);
  E2B_GO_FIELD("TemplateWithBuilds.Public", TemplateWithBuilds, Public);
  E2B_GO_FIELD("TemplateWithBuilds.SpawnCount", TemplateWithBuilds, SpawnCount);
  E2B_GO_FIELD("TemplateWithBuilds.TemplateID", TemplateWithBuilds, TemplateID);
  E2B_GO_FIELD("TemplateWithBuilds.UpdatedAt", TemplateWithBuilds, UpdatedAt);
  E2B_GO_TYPE("TimeoutError", TimeoutError);
  E2B_GO_ERROR("TimeoutError.Error", TimeoutError);
  E2B_GO_MEMBER("TimeoutError.Message", TimeoutError, Message);
  E2B_GO_TYPE("Volume", Volume);                                      // volumes
  E2B_GO_MEMBER("Volume.AsMount", Volume, AsMount);                   // volumes
  E2B_GO_MEMBER("Volume.Exists", Volume, Exists);                     // volumes
  E2B_GO_MEMBER("Volume.GetInfo", Volume, GetInfo);                   // volumes
  E2B_GO_MEMBER("Volume.List", Volume, List);                         // volumes
  E2B_GO_MEMBER("Volume.MakeDir", Volume, MakeDir);                   // volumes
  E2B_GO_FIELD("Volume.Name", Volume, Name);                          // volumes
  E2B_GO_MEMBER("Volume.ReadFile", Volume, ReadFile);                 // volumes
  E2B_GO_MEMBER("Volume.ReadFileBytes", Volume, ReadFileBytes);       // volumes
  E2B_GO_MEMBER("Volume.ReadFileString", Volume, ReadFileString);     // volumes
  E2B_GO_MEMBER("Volume.Remove", Volume, Remove);                     // volumes
  E2B_GO_FIELD("Volume.Token", Volume, Token);                        // volumes
  E2B_GO_MEMBER("Volume.UpdateMetadata", Volume, UpdateMetadata);     // volumes
  E2B_GO_FIELD("Volume.VolumeID", Volume, VolumeID);                  // volumes
  E2B_GO_MEMBER("Volume.WriteFile", Volume, WriteFile);               // volumes
  E2B_GO_MEMBER("Volume.WriteFileBytes", Volume, WriteFileBytes);     // volumes
  E2B_GO_MEMBER("Volume.WriteFileString", Volume, WriteFileString);   // volumes
  E2B_GO_TYPE("VolumeAndToken", VolumeAndToken);                      // volumes
  E2B_GO_FIELD("VolumeAndToken.Name", VolumeAndToken, Name);          // volumes
  E2B_GO_FIELD("VolumeAndToken.Token", VolumeAndToken, Token);        // volumes
  E2B_GO_FIELD("VolumeAndToken.VolumeID", VolumeAndToken, VolumeID);  // volumes
  E2B_GO_TYPE("VolumeEntryStat", VolumeEntryStat);                    // volumes
  E2B_GO_FIELD("VolumeEntryStat.ATime", VolumeEntryStat, ATime);      // volumes
  E2B_GO_FIELD("VolumeEntryStat.CTime", VolumeEntryStat, CTime);      // volumes
  E2B_GO_FIELD("VolumeEntryStat.GID", VolumeEntryStat, GID);          // volumes
  E2B_GO_FIELD("VolumeEntryStat.MTime", VolumeEntryStat, MTime);      // volumes
  E2B_GO_FIELD("VolumeEntryStat.Mode", VolumeEntryStat, Mode);        // volumes
  E2B_GO_FIELD("VolumeEntryStat.Name", VolumeEntryStat, Name);        // volumes
  E2B_GO_FIELD("VolumeEntryStat.Path", VolumeEntryStat, Path);        // volumes
  E2B_GO_FIELD("VolumeEntryStat.Size", VolumeEntryStat, Size);        // volumes
  E2B_GO_FIELD("VolumeEntryStat.Target", VolumeEntryStat, Target);    // volumes
  E2B_GO_FIELD("VolumeEntryStat.Type", VolumeEntryStat, Type);        // volumes
  E2B_GO_FIELD("VolumeEntryStat.UID", VolumeEntryStat, UID);          // volumes
  E2B_GO_TYPE("VolumeError", VolumeError);                            // volumes
  E2B_GO_ERROR("VolumeError.Error", VolumeError);                     // volumes
  E2B_GO_MEMBER("VolumeError.Message", VolumeError, Message);         // volumes
  E2B_GO_MEMBER("VolumeError.StatusCode", VolumeError, StatusCode);   // volumes
  E2B_GO_VALUE("VolumeFileTimeout", VolumeFileTimeout);               // volumes
  E2B_GO_TYPE("VolumeFileType", VolumeFileType);                      // volumes
  E2B_GO_VALUE("VolumeFileTypeDirectory", VolumeFileTypeDirectory);   // volumes
  E2B_GO_VALUE("VolumeFileTypeFile", VolumeFileTypeFile);             // volumes
  E2B_GO_VALUE("VolumeFileTypeSymlink", VolumeFileTypeSymlink);       // volumes
  E2B_GO_VALUE("VolumeFileTypeUnknown", VolumeFileTypeUnknown);       // volumes
  E2B_GO_TYPE("VolumeInfo", VolumeInfo);                              // volumes
  E2B_GO_FIELD("VolumeInfo.Name", VolumeInfo, Name);                  // volumes
  E2B_GO_FIELD("VolumeInfo.VolumeID", VolumeInfo, VolumeID);          // volumes
  E2B_GO_TYPE("VolumeListOption", VolumeListOption);                  // volumes
  E2B_GO_TYPE("VolumeMetadataOption", VolumeMetadataOption);          // volumes
  E2B_GO_TYPE("VolumeMount", VolumeMount);                            // volumes
  E2B_GO_FIELD("VolumeMount.Name", VolumeMount, Name);                // volumes
  E2B_GO_FIELD("VolumeMount.Path", VolumeMount, Path);                // volumes
  E2B_GO_TYPE("VolumeNotFoundError", VolumeNotFoundError);            // volumes
  E2B_GO_ERROR("VolumeNotFoundError.Error", VolumeNotFoundError);     // volumes
  E2B_GO_MEMBER("VolumeNotFoundError.VolumeID", VolumeNotFoundError,
                VolumeID);                                     // volumes
  E2B_GO_VALUE("VolumeRequestTimeout", VolumeRequestTimeout);  // volumes
  E2B_GO_TYPE("VolumeWriteOption", VolumeWriteOption);         // volumes
  E2B_GO_NAME("WaitForFile", WaitForFile);                     // templates
  E2B_GO_NAME("WaitForPort", WaitForPort);                     // templates
  E2B_GO_NAME("WaitForProcess", WaitForProcess);               // templates
  E2B_GO_NAME("WaitForTimeout", WaitForTimeout);               // templates
  E2B_GO_NAME("WaitForURL", WaitForURL);                       // templates
  E2B_GO_TYPE("WaitOption", WaitOption);
  E2B_GO_TYPE("WatchHandle", WatchHandle);
  E2B_GO_MEMBER("WatchHandle.GetEvents", WatchHandle, GetEvents);
  E2B_GO_MEMBER("WatchHandle.Stop", WatchHandle, Stop);
  E2B_GO_NAME("WithBuildLogCursor", WithBuildLogCursor);        // templates
  E2B_GO_NAME("WithBuildLogDirection", WithBuildLogDirection);  // templates
  E2B_GO_NAME("WithBuildLogLevel", WithBuildLogLevel);          // templates
  E2B_GO_NAME("WithBuildLogLimit", WithBuildLogLimit);          // templates
  E2B_GO_NAME("WithBuildLogSource", WithBuildLogSource);        // templates
  E2B_GO_NAME("WithBuildStatusLevel", WithBuildStatusLevel);    // templates
  E2B_GO_NAME("WithBuildStatusLimit", WithBuildStatusLimit);    // templates
  E2B_GO_NAME("WithBuildStatusLogsOffset",
              WithBuildStatusLogsOffset);  // templates
  E2B_GO_NAME("WithConnectOnStderr", WithConnectOnStderr);
  E2B_GO_NAME("WithConnectOnStdout", WithConnectOnStdout);
  E2B_GO_NAME("WithCwd", WithCwd);
  E2B_GO_NAME("WithDirection", WithDirection);
  E2B_GO_NAME("WithEnv", WithEnv);
  E2B_GO_NAME("WithFileUser", WithFileUser);
  E2B_GO_NAME("WithForkCount", WithForkCount);
  E2B_GO_NAME("WithForkTimeout", WithForkTimeout);
  E2B_GO_NAME("WithKeepMemory", WithKeepMemory);
  E2B_GO_NAME("WithLevel", WithLevel);
  E2B_GO_NAME("WithLimit", WithLimit);
  E2B_GO_NAME("WithOnStderr", WithOnStderr);
  E2B_GO_NAME("WithOnStdout", WithOnStdout);
  E2B_GO_NAME("WithPtyCwd", WithPtyCwd);
  E2B_GO_NAME("WithPtyEnv", WithPtyEnv);
  E2B_GO_NAME("WithPtyOnData", WithPtyOnData);
  E2B_GO_NAME("WithPtyTimeout", WithPtyTimeout);
  E2B_GO_NAME("WithPtyUser", WithPtyUser);
  E2B_GO_NAME("WithReadTimeout", WithReadTimeout);
  E2B_GO_NAME("WithRefreshDuration", WithRefreshDuration);
  E2B_GO_NAME("WithSandboxLimit", WithSandboxLimit);
  E2B_GO_NAME("WithSandboxMetadata", WithSandboxMetadata);
  E2B_GO_NAME("WithSandboxNextToken", WithSandboxNextToken);
  E2B_GO_NAME("WithSandboxState", WithSandboxState);
  E2B_GO_NAME("WithSearch", WithSearch);
  E2B_GO_NAME("WithSignedURLExpiration", WithSignedURLExpiration);
  E2B_GO_NAME("WithSignedURLUser", WithSignedURLUser);
  E2B_GO_NAME("WithSnapshotLimit", WithSnapshotLimit);
  E2B_GO_NAME("WithSnapshotNextToken", WithSnapshotNextToken);
  E2B_GO_NAME("WithSnapshotSandboxID", WithSnapshotSandboxID);
  E2B_GO_NAME("WithStdin", WithStdin);
  E2B_GO_NAME("WithTemplateBuildsLimit", WithTemplateBuildsLimit);
  E2B_GO_NAME("WithTemplateBuildsNextToken", WithTemplateBuildsNextToken);
  E2B_GO_NAME("WithTimeout", WithTimeout);
  E2B_GO_NAME("WithUser", WithUser);
  E2B_GO_NAME("WithVolumeDepth", WithVolumeDepth);  // volumes
  E2B_GO_NAME("WithVolumeForce", WithVolumeForce);  // volumes
  E2B_GO_NAME("WithVolumeGID", WithVolumeGID);      // volumes
  E2B_GO_NAME("WithVolumeMode", WithVolumeMode);    // volumes
  E2B_GO_NAME("WithVolumeUID", WithVolumeUID);      // volumes
  E2B_GO_NAME("WithWaitOnPty", WithWaitOnPty);
  E2B_GO_NAME("WithWaitOnStderr", WithWaitOnStderr);
  E2B_GO_NAME("WithWaitOnStdout", WithWaitOnStdout);
  E2B_GO_NAME("WithWriteTimeout", WithWriteTimeout);
  E2B_GO_TYPE("WriteOption", WriteOption);
  return names;
}

#undef E2B_GO_TYPE
#undef E2B_GO_NAME
#undef E2B_GO_VALUE
#undef E2B_GO_FIELD
#undef E2B_GO_MEMBER
#undef E2B_GO_ERROR

struct GoName {
  std::string kind;
  std::string area;
};

std::map<std::string, GoName> ReadGoNames(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, GoName> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    GoName entry;
    fields >> name >> entry.kind >> entry.area;
    out[name] = entry;
  }
  return out;
}

const std::string kHeadList = std::string(E2B_GO_API_DIR) + "/head.txt";
const std::string kSeedList = std::string(E2B_GO_API_DIR) + "/seed.txt";

TEST(GoApiChecklist, EveryNameOfTheSeedApiHasACounterpart) {
  const std::map<std::string, GoName> seed = ReadGoNames(kSeedList);
  ASSERT_GT(seed.size(), 180u) << "cannot read " << kSeedList;
  const std::vector<std::string> checked = CheckedNames();
  const std::set<std::string> have(checked.begin(), checked.end());
  for (const auto& [name, entry] : seed) {
    EXPECT_TRUE(have.count(name) != 0) << "the seed's " << entry.kind << " "
                                       << name << " has no C++ counterpart";
  }
  std::cout << "Go seed: " << seed.size() << "/" << seed.size() << " present\n";
}

TEST(GoApiChecklist, EveryNameOfGoHeadHasACounterpart) {
  const std::map<std::string, GoName> go = ReadGoNames(kHeadList);
  const std::map<std::string, GoName> seed = ReadGoNames(kSeedList);
  ASSERT_GT(go.size(), 500u) << "cannot read " << kHeadList;
  const std::vector<std::string> checked = CheckedNames();
  const std::set<std::string> have(checked.begin(), checked.end());
  EXPECT_EQ(have.size(), checked.size()) << "a name is checked twice";

  std::map<std::string, std::pair<int, int>> per_area;  // present, total
  for (const auto& [name, entry] : go) {
    const bool present = have.count(name) != 0;
    auto& [hits, total] = per_area[entry.area];
    ++total;
    if (present) ++hits;
    // Every area is complete and stays so.
    EXPECT_TRUE(present) << "Go's " << entry.kind << " " << name
                         << " has no C++ counterpart";
  }
  for (const auto& name : checked) {
    EXPECT_TRUE(go.count(name) != 0 || seed.count(name) != 0)
        << name << " is checked but is in neither Go list";
  }
  for (const auto& [area, counts] : per_area) {
    std::cout << "Go HEAD " << area << ": " << counts.first << "/"
              << counts.second << " present\n";
  }
}

}  // namespace
