#ifndef E2B_LOCAL_INIT_CONFINEMENT_HPP_
#define E2B_LOCAL_INIT_CONFINEMENT_HPP_

// What a sandbox may ask of the kernel: the seccomp filter and the
// capability set every process of the sandbox inherits from its init.

namespace e2b_sandbox_init {

/// Installs the seccomp filter (a denylist after Docker's default profile:
/// kernel modules, kexec, reboot, clocks, keyrings, bpf, perf, mounts and
/// namespaces, open_by_handle_at, userfaultfd, io_uring, ...). Denied calls
/// fail with EPERM (ENOSYS for clone3, so libc falls back to clone, whose
/// namespace flags the filter can inspect). Returns 0 or an errno.
int InstallSeccompFilter();

/// Limits the bounding, permitted, effective and inheritable sets to
/// Docker's default capabilities minus NET_RAW, and clears the ambient set.
/// Returns 0 or an errno.
int DropCapabilities();

}  // namespace e2b_sandbox_init

#endif  // E2B_LOCAL_INIT_CONFINEMENT_HPP_
