// Attacks on the shared kernel: the system calls and /proc files that act on
// the whole machine (Docker's default seccomp profile and capability set
// refuse them all). Each probe is built to be harmless when it gets through:
// invalid arguments that the kernel rejects only after its permission check
// (so EINVAL/ENOENT mean "allowed"), or a write of the value already there.

#include "escape/escape_support.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace e2b_test {
namespace escape {
namespace {

struct KernelProbe {
  const char* name;
  /// Python (after the prelude) that puts `r` = OK or an errno name.
  const char* body;
  std::vector<const char*> refusals;
};

// The refusals every probe accepts: the kernel or the seccomp filter said no.
#define REFUSED "EPERM", "EACCES", "ENOSYS"

const KernelProbe kProbes[] = {
    // kexec with an undefined flag and too many segments: EINVAL once
    // CAP_SYS_BOOT is granted, so nothing can be loaded.
    {"KexecLoad",
     "put('r', ename(sc('kexec_load', 0, 17, 0, 0x8000)[1]))\n",
     {REFUSED}},
    {"KexecFileLoad",
     "put('r', ename(sc('kexec_file_load', -1, -1, 0, 0, 0x40000000)[1]))\n",
     {REFUSED}},
    // An empty module image: ENOEXEC or EFAULT after the CAP_SYS_MODULE check.
    {"InitModule",
     "put('r', ename(sc('init_module', 0, 0, '')[1]))\n",
     {REFUSED}},
    {"FinitModule",
     "put('r', ename(sc('finit_module', -1, '', 0)[1]))\n",
     {REFUSED}},
    {"DeleteModule",
     "put('r', ename(sc('delete_module', 'e2b_escape_no_such_module', "
     "os.O_NONBLOCK)[1]))\n",
     {REFUSED}},
    // bpf: a one-entry array map (freed when the probe exits).
    {"Bpf",
     "attr = ctypes.create_string_buffer(struct.pack('IIII', 2, 4, 4, 1), "
     "128)\n"
     "r, e = sc('bpf', 0, attr, 128)\n"
     "if r >= 0: os.close(r)\n"
     "put('r', ename(e))\n",
     {REFUSED}},
    // perf: a user-space-only software counter on the probe itself.
    {"PerfEventOpen",
     "attr = ctypes.create_string_buffer(128)\n"
     "struct.pack_into('IIQ', attr, 0, 1, 128, 0)\n"
     "struct.pack_into('Q', attr, 40, 1 | (1 << 5) | (1 << 6))\n"
     "r, e = sc('perf_event_open', attr, 0, -1, -1, 0)\n"
     "if r >= 0: os.close(r)\n"
     "put('r', ename(e))\n",
     {REFUSED}},
    {"Userfaultfd",
     "r, e = sc('userfaultfd', os.O_CLOEXEC)\n"
     "if r >= 0: os.close(r)\n"
     "put('r', ename(e))\n",
     {REFUSED}},
    // The "shocker" attack: open a file by handle, which skips every path
    // check (and, with CAP_DAC_READ_SEARCH, the mount the file is on).
    {"OpenByHandleAt",
     "buf = ctypes.create_string_buffer(8 + 128)\n"
     "struct.pack_into('I', buf, 0, 128)\n"
     "mid = ctypes.c_int(0)\n"
     "r, e = sc('name_to_handle_at', -100, '/etc/hostname', buf, "
     "ctypes.byref(mid), 0)\n"
     "if r == 0:\n"
     "    mfd = os.open('/', os.O_RDONLY)\n"
     "    r, e = sc('open_by_handle_at', mfd, buf, os.O_RDONLY)\n"
     "    if r >= 0: os.close(r)\n"
     "put('r', ename(e))\n",
     {REFUSED, "EOPNOTSUPP"}},
    // Keyrings are not namespaced: a key added here would live in the
    // kernel for every container of the same uid. The process keyring dies
    // with the probe.
    {"AddKey",
     "put('r', ename(sc('add_key', 'user', 'e2b-escape', b'x', 1, -2)[1]))\n",
     {REFUSED}},
    {"Keyctl", "put('r', ename(sc('keyctl', 0, -4, 0)[1]))\n", {REFUSED}},
    {"RequestKey",
     "put('r', ename(sc('request_key', 'user', 'e2b-escape-none', 0, 0)[1]))\n",
     {REFUSED}},
    // Wrong magic numbers: EINVAL once CAP_SYS_BOOT is granted.
    {"Reboot", "put('r', ename(sc('reboot', 0, 0, 0, 0)[1]))\n", {REFUSED}},
    {"Swapon",
     "put('r', ename(sc('swapon', '/e2b-escape-no-such', 0)[1]))\n",
     {REFUSED}},
    {"Ioperm",
     "put('r', ename(call(libc.ioperm, 0x80, 1, 1)[1]))\n",
     {REFUSED}},
    // The clock is not namespaced: set it to the time just read.
    {"ClockSettime",
     "ts = (ctypes.c_long * 2)()\n"
     "sc('clock_gettime', 0, ts)\n"
     "put('r', ename(sc('clock_settime', 0, ts)[1]))\n",
     {REFUSED}},
    {"Settimeofday",
     "tv = (ctypes.c_long * 2)()\n"
     "sc('gettimeofday', tv, 0)\n"
     "put('r', ename(sc('settimeofday', tv, 0)[1]))\n",
     {REFUSED}},
    // New namespaces: a fresh user namespace hands back every capability
    // inside it, the base of most container escapes of recent years.
    {"UnshareUser",
     "put('r', ename(call(libc.unshare, CLONE_NEWUSER)[1]))\n",
     {REFUSED}},
    {"UnshareMount",
     "put('r', ename(call(libc.unshare, CLONE_NEWNS)[1]))\n",
     {REFUSED}},
    {"UnshareNet",
     "put('r', ename(call(libc.unshare, 0x40000000)[1]))\n",
     {REFUSED}},
    // Paths that do not exist: ENOENT once CAP_SYS_ADMIN is granted.
    {"PivotRoot",
     "put('r', ename(sc('pivot_root', '/e2b-escape-none-a', "
     "'/e2b-escape-none-b')[1]))\n",
     {REFUSED}},
    // Magic SysRq: 'h' only prints the help text to the kernel log. A
    // /dev/null mounted over the file (a masked path) counts as refused.
    {"SysrqTrigger",
     "import stat as st\n"
     "def sysrq():\n"
     "    with open('/proc/sysrq-trigger', 'w') as f:\n"
     "        if not st.S_ISREG(os.fstat(f.fileno()).st_mode): return "
     "'MASKED'\n"
     "        f.write('h')\n"
     "    return 'OK'\n"
     "probe('r', sysrq)\n",
     {REFUSED, "EROFS", "ENOENT", "MASKED"}},
};

#undef REFUSED

void PrintTo(const KernelProbe& probe, std::ostream* os) { *os << probe.name; }

// Global sysctls: each is written back with the value it has.
const char* const kSysctls[] = {"kernel/panic", "kernel/printk_ratelimit",
                                "vm/swappiness", "vm/overcommit_ratio",
                                "fs/file-max"};

class KernelProbeTest : public EscapeTest,
                        public ::testing::WithParamInterface<KernelProbe> {};

TEST_P(KernelProbeTest, IsRefused) {
  const KernelProbe& p = GetParam();
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(Target(), user, p.body);
    const std::string value = run.Get("r");
    bool refused = false;
    for (const char* r : p.refusals) refused = refused || value == r;
    EXPECT_TRUE(refused) << p.name << " as " << user << ": " << value
                         << " (the kernel accepted the call)\n"
                         << run.Describe();
  }
}

INSTANTIATE_TEST_SUITE_P(Escape, KernelProbeTest, ::testing::ValuesIn(kProbes),
                         [](const ::testing::TestParamInfo<KernelProbe>& info) {
                           return std::string(info.param.name);
                         });

class KernelTest : public EscapeTest {};

TEST_F(KernelTest, GlobalSysctlWritesAreRefused) {
  std::string body =
      "for name in ARGS:\n"
      "    path = '/proc/sys/' + name\n"
      "    def write_back():\n"
      "        with open(path) as f: value = f.read()\n"
      "        with open(path, 'w') as f: f.write(value)\n"
      "        return 'OK'\n"
      "    probe(name, write_back)\n";
  std::vector<std::string> names(std::begin(kSysctls), std::end(kSysctls));
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(Target(), user, body, names);
    for (const auto& name : names) {
      EXPECT_TRUE(Refused(run, name, {"EPERM", "EACCES", "EROFS", "ENOENT"}));
    }
  }
}

TEST_F(KernelTest, NetSysctlWritesStayInTheSandboxNamespace) {
  // Network sysctls belong to a network namespace: writing them is fine in
  // the sandbox's own, and must never reach the host's.
  const std::string host_net = HostNamespaces()["net"];
  ProbeRun run = RunProbe(Target(), "root",
                          "put('netns', os.readlink('/proc/self/ns/net'))\n"
                          "def write_back():\n"
                          "    p = '/proc/sys/net/core/somaxconn'\n"
                          "    with open(p) as f: v = f.read()\n"
                          "    with open(p, 'w') as f: f.write(v)\n"
                          "    return 'OK'\n"
                          "probe('somaxconn', write_back)\n");
  ASSERT_NE(run.Get("netns"), "(missing)") << run.Describe();
  if (run.Get("somaxconn") == "OK") {
    EXPECT_NE(run.Get("netns"), host_net)
        << "a net.* sysctl write was accepted in the host's network namespace";
  }
}

}  // namespace
}  // namespace escape
}  // namespace e2b_test
