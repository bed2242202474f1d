// Attacks on processes and namespaces: the sandbox's namespaces against the
// host's, ptrace of the server, signals to host processes, the cgroup
// filesystem (limits, other sandboxes' freezers), setuid files as the host
// sees them, and the positive case that sudo keeps working inside.

#include "escape/escape_support.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

namespace e2b_test {
namespace escape {
namespace {

class ProcessesTest : public EscapeTest {};

TEST_F(ProcessesTest, NoVisibleProcessLivesInAHostNamespace) {
  // Every namespace of every process the sandbox can see must differ from
  // the host's: one shared namespace is a way out (setns into it).
  std::map<std::string, std::string> host = HostNamespaces();
  ASSERT_EQ(host.size(), 7u);
  std::string host_links;
  for (const auto& [name, link] : host) host_links += link + ",";
  for (const bool internet : {true, false}) {
    SCOPED_TRACE(internet ? "with internet" : "without internet");
    e2b::Sandbox sandbox = internet ? Target() : NewOfflineSandbox();
    ProbeRun run = RunProbe(sandbox, "root", R"PY(
host = set(x for x in ARGS[0].split(',') if x)
shared = []
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    for ns in ('cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'):
        try:
            link = os.readlink('/proc/%s/ns/%s' % (pid, ns))
        except OSError:
            continue
        if link in host:
            fd = os.open('/proc/%s/ns/%s' % (pid, ns), os.O_RDONLY)
            r, e = sc('setns', fd, 0)
            os.close(fd)
            shared.append('%s:%s:setns=%s' % (pid, link, ename(e)))
put('self_net', os.readlink('/proc/self/ns/net'))
put('shared', ';'.join(sorted(set(shared))) or 'none')
)PY",
                            {host_links});
    EXPECT_NE(run.Get("self_net"), "(missing)") << run.Describe();
    EXPECT_EQ(run.Get("shared"), "none")
        << "processes in the sandbox share host namespaces\n"
        << run.Describe();
  }
}

TEST_F(ProcessesTest, NoProcessOfTheServerIsVisibleOrTraceable) {
  // Sandbox PID 1 used to be a fork of the server: its memory held the API
  // key. Nothing running the server's binary may be visible, and the
  // server's host pid must name nothing traceable.
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(Target(), user, R"PY(
server = int(ARGS[0])
found = []
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        exe = os.readlink('/proc/%s/exe' % pid)
    except OSError:
        exe = ''
    try:
        with open('/proc/%s/comm' % pid) as f:
            comm = f.read().strip()
    except OSError:
        comm = ''
    if os.path.basename(exe.replace(' (deleted)', '')) == 'e2b-local' or \
            comm == 'e2b-local':
        found.append(pid)
put('server_processes', ','.join(found) or 'none')
# Only seize what is the server: a pid number the sandbox does not know is
# left alone.
try:
    with open('/proc/%d/cmdline' % server, 'rb') as f:
        is_server = b'e2b-local' in f.read()
except OSError:
    is_server = False
PTRACE_SEIZE = 0x4206
if is_server:
    put('seize_server', ename(sc('ptrace', PTRACE_SEIZE, server, 0, 0)[1]))
else:
    put('seize_server', 'ESRCH')
put('seize_pid1', ename(sc('ptrace', PTRACE_SEIZE, 1, 0, 0)[1]))
)PY",
                            {std::to_string(ServerProcess())});
    EXPECT_EQ(run.Get("server_processes"), "none")
        << "processes running e2b-local are visible in the sandbox\n"
        << run.Describe();
    EXPECT_TRUE(Refused(run, "seize_server", {"ESRCH", "EPERM", "EACCES"}));
  }
}

// Init (PID 1) holds the one channel to the server: its control socket
// (descriptor 3). Code in the sandbox, even root, must not be able to take
// it over (copy the descriptor, trace init, read or write its memory) and
// talk to the server as init. When the copy works, the probe sends init's
// "started" and "exited" answers for requests nobody made, which the
// server must ignore; the fixture then checks it still answers.
TEST_F(ProcessesTest, InitsControlSocketCannotBeTakenOver) {
  Bystander bystander = NewBystander();
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(Target(), user, R"PY(
pidfd, e = sc('pidfd_open', 1, 0)
put('pidfd_open', ename(e))
got = -1
if pidfd >= 0:
    got, e = sc('pidfd_getfd', pidfd, 3, 0)
    put('getfd', ename(e))
else:
    put('getfd', 'ENOPIDFD')
if got >= 0:
    s = socket.socket(fileno=got)
    for kind in (101, 103):  # kStarted, kExited: forged answers
        try:
            s.send(struct.pack('=IIiiii', kind, 999999, 1, 0, 0, 0))
        except OSError:
            pass
    s.detach()
    os.close(got)
PTRACE_SEIZE = 0x4206
put('seize', ename(sc('ptrace', PTRACE_SEIZE, 1, 0, 0)[1]))
probe('mem', lambda: len(open('/proc/1/mem', 'rb').read(1)))
buf = ctypes.create_string_buffer(8)
class iovec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
local = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
remote = iovec(0x400000, 8)
put('vm_readv', ename(sc('process_vm_readv', 1, ctypes.byref(local), 1,
                         ctypes.byref(remote), 1, 0)[1]))
probe('environ', lambda: len(open('/proc/1/environ', 'rb').read()))
)PY");
    EXPECT_TRUE(
        Refused(run, "getfd", {"EPERM", "EACCES", "ENOSYS", "ENOPIDFD"}));
    EXPECT_TRUE(Refused(run, "seize", {"EPERM", "EACCES", "ENOSYS"}));
    EXPECT_TRUE(Refused(run, "mem", {"EPERM", "EACCES"}));
    // EFAULT would mean the access check passed and only the address was
    // wrong.
    EXPECT_TRUE(Refused(run, "vm_readv", {"EPERM", "EACCES", "ENOSYS"}));
    EXPECT_TRUE(Refused(run, "environ", {"EPERM", "EACCES"}));
  }
  // The sandbox still starts commands: the server did not believe the
  // forged answers nor lose its channel.
  EXPECT_EQ(Shell(Target(), "user", "echo alive").Stdout, "alive\n");
  EXPECT_TRUE(Intact(bystander));
}

TEST_F(ProcessesTest, HostProcessesCannotBeSignalled) {
  HostVictim victim;
  ASSERT_TRUE(victim.Alive());
  Bystander bystander = NewBystander();
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(Target(), user, R"PY(
import signal
victim, marker, server = int(ARGS[0]), ARGS[1], int(ARGS[2])
def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return None
seen = cmdline(victim)
put('victim_visible', 'yes' if seen is not None and marker in seen else 'no')
# Signal the victim only when that pid is the victim or names nothing here.
if seen is None or marker in seen:
    put('kill_victim', ename(call(libc.kill, victim, signal.SIGTERM)[1]))
else:
    put('kill_victim', 'ESRCH')
seen = cmdline(server)
if seen is None or 'e2b-local' in seen:
    put('signal_server', ename(call(libc.kill, server, 0)[1]))
else:
    put('signal_server', 'ESRCH')
)PY",
                            {std::to_string(victim.Pid()), victim.Marker(),
                             std::to_string(ServerProcess())});
    EXPECT_EQ(run.Get("victim_visible"), "no") << run.Describe();
    EXPECT_TRUE(Refused(run, "kill_victim", {"ESRCH", "EPERM"}));
    EXPECT_TRUE(Refused(run, "signal_server", {"ESRCH", "EPERM"}));
  }
  EXPECT_TRUE(victim.Alive()) << "the host process was killed from a sandbox";
  EXPECT_TRUE(Intact(bystander));
}

TEST_F(ProcessesTest, CgroupFilesCannotBeWritten) {
  // Raising its own limits, leaving its cgroup, or freezing another
  // sandbox: each is a write to a cgroup file. Every write puts back the
  // value that is there (or moves the probe itself), so one that is
  // accepted changes nothing; it must be refused all the same.
  Bystander bystander = NewBystander();
  ProbeRun run = RunProbe(Target(), "root", R"PY(
bystander = ARGS[0]
roots = []
def cgroup_mounts():
    out = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            if fields[sep + 1] in ('cgroup', 'cgroup2'):
                out.append((fields[4], fields[3]))
    return out
roots = cgroup_mounts()
if not roots:
    # Not mounted: mount the hierarchies (in a private mount namespace when
    # allowed), as an attacker with CAP_SYS_ADMIN would.
    put('private_ns', private_mount_ns())
    for ctrl in ('memory', 'pids', 'freezer'):
        d = '/tmp/e2b-escape-cg-' + ctrl
        os.makedirs(d, exist_ok=True)
        r, e = call(libc.mount, 'cgroup', d, 'cgroup', 0, ctrl)
        put('mount.' + ctrl, ename(e))
    d = '/tmp/e2b-escape-cg2'
    os.makedirs(d, exist_ok=True)
    r, e = call(libc.mount, 'cgroup2', d, 'cgroup2', 0, None)
    put('mount.cgroup2', ename(e))
    roots = cgroup_mounts()
own = {}
with open('/proc/self/cgroup') as f:
    for line in f:
        _, ctrls, path = line.rstrip('\n').split(':', 2)
        for c in (ctrls.split(',') if ctrls else ['']):
            own[c] = path
results = []
def write_back(path, value=None):
    try:
        if value is None:
            with open(path) as f: value = f.read()
        with open(path, 'w') as f: f.write(value)
        results.append(path + ':OK')
    except OSError as ex:
        results.append(path + ':' + ename(ex.errno))
for mnt, root in roots:
    candidates = []
    for own_path in set(own.values()):
        rel = own_path[len(root):] if own_path.startswith(root) else own_path
        base = mnt + rel
        for name in ('memory.limit_in_bytes', 'memory.max', 'pids.max',
                     'cpu.cfs_quota_us', 'cpu.max'):
            if os.path.exists(base + '/' + name):
                candidates.append(base + '/' + name)
    for p in candidates:
        write_back(p)
    if os.path.exists(mnt + '/cgroup.procs'):
        write_back(mnt + '/cgroup.procs', str(os.getpid()))
    for top, dirs, files in os.walk(mnt):
        if top.count('/') - mnt.count('/') > 4:
            dirs[:] = []
            continue
        if bystander in os.path.basename(top):
            for name in ('freezer.state', 'cgroup.freeze'):
                if name in files:
                    write_back(top + '/' + name)
put('writes', ';'.join(results) or 'none')
put('accepted', ';'.join(r for r in results if r.endswith(':OK')) or 'none')
)PY",
                          {bystander.sandbox.ID});
  EXPECT_EQ(run.Get("accepted"), "none")
      << "writes to cgroup files were accepted\n"
      << run.Describe();
  EXPECT_TRUE(Intact(bystander));
}

// The path of the regular file named `name` below `dir`, without crossing
// into other file systems (the sandboxes' mounted roots) or following links.
std::string FindOnHost(const std::string& dir, const std::string& name,
                       dev_t dev, int depth = 0) {
  if (depth > 24) return {};
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return {};
  std::string found;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
      continue;
    }
    const std::string path = dir + "/" + e->d_name;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 || st.st_dev != dev) continue;
    if (S_ISREG(st.st_mode) && name == e->d_name) {
      found = path;
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      found = FindOnHost(path, name, dev, depth + 1);
      if (!found.empty()) break;
    }
  }
  closedir(d);
  return found;
}

TEST_F(ProcessesTest, SetuidFilesAreNotHostRootSetuid) {
  // Root in the sandbox makes a setuid-root binary. On the host the file
  // must belong to the sandbox's unprivileged id range, or it would be a
  // setuid-root program for anyone on the host who can reach it.
  const std::string name = "e2b-escape-suid-" + RandomHex(6);
  e2b::CommandResult r =
      Shell(Target(), "root",
            "cp /bin/true /home/user/" + name + " && chmod 4755 /home/user/" +
                name + " && sync");
  ASSERT_EQ(r.ExitCode, 0) << r.Stderr;
  struct stat state {};
  ASSERT_EQ(stat(Server().TempDir().c_str(), &state), 0);
  const std::string path = FindOnHost(Server().TempDir(), name, state.st_dev);
  if (path.empty()) {
    // Stored where the host cannot run it directly (e.g. inside a disk
    // image): nothing more to check.
    return;
  }
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_FALSE(st.st_uid == 0 && (st.st_mode & S_ISUID) != 0)
      << path << " is a setuid-root file on the host";
}

TEST_F(ProcessesTest, SudoStillWorksForTheSandboxUser) {
  // Not an attack: E2B's user has passwordless sudo, and the boundary must
  // keep it (root inside is expected; root outside is what is refused).
  e2b::CommandResult r =
      Shell(Target(), "user", "sudo -n true && sudo -n id -u");
  EXPECT_EQ(r.ExitCode, 0) << r.Stderr;
  EXPECT_EQ(r.Stdout, "0\n");
  e2b::CommandResult who = Shell(Target(), "user", "id -u");
  EXPECT_EQ(who.Stdout, "1000\n");
}

}  // namespace
}  // namespace escape
}  // namespace e2b_test
