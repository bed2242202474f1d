#include "init/confinement.hpp"

#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <initializer_list>

namespace e2b_sandbox_init {
namespace {

// Calls that reach past the sandbox or into the kernel's own configuration.
// Most already need a capability the sandbox lacks; denying them here too
// keeps a kernel bug in a permission check from being enough, as Docker's
// default profile does.
constexpr const char* kDenied[] = {
    // kernel code and the machine
    "init_module", "finit_module", "delete_module", "create_module",
    "get_kernel_syms", "query_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "syslog", "acct", "iopl", "ioperm", "vm86",
    "vm86old", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl",
    "lookup_dcookie", "vhangup", "quotactl", "quotactl_fd",
    // clocks are not namespaced
    "settimeofday", "stime", "clock_settime", "clock_settime64",
    "clock_adjtime", "clock_adjtime64", "adjtimex",
    // kernel keyrings
    "add_key", "request_key", "keyctl",
    // large kernel attack surfaces a sandbox does not need
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "fanotify_init", "open_by_handle_at",
    "name_to_handle_at", "move_pages", "migrate_pages", "kcmp",
    "lsm_set_self_attr",
    // mounts and namespaces: the sandbox's own stay as init made them
    "mount", "umount", "umount2", "pivot_root", "mount_setattr", "move_mount",
    "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "setns"};

constexpr std::uint64_t kNamespaceFlags[] = {
    CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,   CLONE_NEWNET,
    CLONE_NEWUTS,  CLONE_NEWIPC, CLONE_NEWCGROUP};

int AddDenied(scmp_filter_ctx ctx, const char* name) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return 0;  // not on this architecture
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
  // Pseudo-syscalls libseccomp cannot place on every architecture.
  return rc == -EDOM ? 0 : rc;
}

int AddRules(scmp_filter_ctx ctx) {
  // 32-bit entry points get the same rules instead of a way around them.
  for (std::uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    int rc = seccomp_arch_add(ctx, arch);
    if (rc != 0 && rc != -EEXIST && rc != -EINVAL) return rc;
  }
  for (const char* name : kDenied) {
    if (int rc = AddDenied(ctx, name); rc != 0) return rc;
  }
  // New namespaces (above all a user namespace, where the sandbox would
  // get every capability back and a much larger kernel surface).
  for (std::uint64_t flag : kNamespaceFlags) {
    for (int nr : {SCMP_SYS(unshare), SCMP_SYS(clone)}) {
      int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
      if (rc != 0) return rc;
    }
  }
  // clone3 passes its flags in memory the filter cannot read; ENOSYS makes
  // libc fall back to clone, which the rules above do see.
  if (int rc =
          seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
      rc != 0) {
    return rc;
  }
  // vsock reaches the hypervisor of a VM host, past every network rule.
  for (int nr : {SCMP_SYS(socket), SCMP_SYS(socketpair)}) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1,
                              SCMP_A0(SCMP_CMP_EQ, AF_VSOCK));
    if (rc != 0) return rc;
  }
  return 0;
}

// Docker's default set minus NET_RAW: no raw packets, even inside the
// sandbox's own network namespace.
constexpr int kKept[] = {CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FOWNER,
                         CAP_FSETID,     CAP_KILL,         CAP_SETGID,
                         CAP_SETUID,     CAP_SETPCAP,      CAP_NET_BIND_SERVICE,
                         CAP_SYS_CHROOT, CAP_MKNOD,        CAP_AUDIT_WRITE,
                         CAP_SETFCAP};

}  // namespace

int InstallSeccompFilter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return ENOMEM;
  // Without no_new_privs (sudo must keep working) the kernel wants
  // CAP_SYS_ADMIN here, which init still has in its user namespace.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  int rc = AddRules(ctx);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  return rc < 0 ? -rc : rc;
}

int DropCapabilities() {
  std::uint64_t keep = 0;
  for (int cap : kKept) keep |= std::uint64_t{1} << cap;
  for (int cap = 0; cap < 64; ++cap) {
    if (keep & (std::uint64_t{1} << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return errno;
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      errno != EINVAL) {
    return errno;
  }
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = data[0].permitted = static_cast<std::uint32_t>(keep);
  data[1].effective = data[1].permitted =
      static_cast<std::uint32_t>(keep >> 32);
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  return 0;
}

}  // namespace e2b_sandbox_init
