#ifndef E2B_LOCAL_RUNTIME_PROCESS_LAUNCHER_HPP_
#define E2B_LOCAL_RUNTIME_PROCESS_LAUNCHER_HPP_

// Starting a process for either runtime. The server is multithreaded, so
// everything the children need is prepared before fork() and the children
// only make async-signal-safe calls.

#include "runtime/sandbox_runtime.hpp"

#include <memory>
#include <string>
#include <vector>

namespace e2b_local::runtime_internal {

/// Where and how a process is launched.
struct LaunchTarget {
  /// Host pid of the sandbox's init whose namespaces the process joins; 0
  /// runs it on the host (the unisolated fallback).
  pid_t init_pid = 0;
  /// cgroup files the process joins (so Freeze and Usage see it); see
  /// SandboxCgroups::AttachFiles.
  std::vector<std::string> cgroup_attach;
  /// Switch to options.user's uid/gid (false when the server cannot).
  bool switch_user = true;
  /// ptmx to allocate a PTY from (the sandbox's own devpts when possible).
  std::string ptmx_path = "/dev/ptmx";
};

/// A command checked and turned into what exec needs: argv runs through
/// `/bin/sh -c 'exec "$0" "$@"'` (so the sandbox's PATH finds it and
/// the shell's 126/127 rules apply), env as "KEY=value", cwd defaulted to
/// the user's home.
struct PreparedCommand {
  std::vector<std::string> argv, env;
  std::string cwd;
};
/// Throws SpawnError("invalid_argument") for an empty command, NUL bytes or
/// an invalid variable name.
PreparedCommand PrepareCommand(const SpawnOptions& options);

/// Where a start failed (init_protocol::SpawnStage) as the SpawnError
/// clients see: a missing or inaccessible cwd is invalid_argument.
SpawnError DescribeSpawnFailure(int stage, int error_number,
                                const std::string& cwd);

/// Writes all of data to fd; false when fd < 0 or the reader is gone (no
/// SIGPIPE reaches the server).
bool WriteAllNoSigpipe(int fd, const std::string& data);
/// TIOCSWINSZ on a PTY master; false when fd < 0 or it fails.
bool ResizePty(int fd, std::uint16_t cols, std::uint16_t rows);

/// Spawns options.argv on the host (the unisolated runtime); throws
/// SpawnError.
std::unique_ptr<SandboxProcess> LaunchProcess(const SpawnOptions& options,
                                              const LaunchTarget& target);

/// Closes every descriptor >= 3 except those in keep (async-signal-safe).
void CloseDescriptorsExcept(const int* keep, int count);

/// Go's ProcessState.String() for a wait status: "exit status 1",
/// "signal: killed".
ExitStatus DescribeWaitStatus(int wait_status);

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_PROCESS_LAUNCHER_HPP_
