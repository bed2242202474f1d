// Attacks on the host's files: reading them through paths, /proc, chroot
// tricks, the envd file API, a block device node or a mount. The host side
// is represented by the canary directory (world readable, so only the
// boundary can hide it) and the host's /etc/shadow, which is only read.

#include "escape/escape_support.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace e2b_test {
namespace escape {
namespace {

std::string ReadHostFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Writable places in the sandbox, as Python, for device nodes: some are
// mounted nodev, the overlay root usually is not.
constexpr const char* kPlaces =
    "PLACES = ['/tmp', '/home/user', '/root', '/', '/var/tmp', '/dev/shm']\n";

// The file system type of the host's "/".
std::string RootFsType() {
  std::ifstream in("/proc/self/mounts");
  std::string dev, dir, type, rest;
  std::string found;
  while (in >> dev >> dir >> type && std::getline(in, rest)) {
    if (dir == "/") found = type;
  }
  return found;
}

// Tries to read ARGS[0] (the canary's secret file) every way a path can be
// spelled in the sandbox: plainly, through /proc/<pid>/root of every visible
// process, and lists its directory.
constexpr const char* kCanaryProbe = R"PY(
path = ARGS[0]
def read(p):
    with open(p, 'rb') as f:
        f.read(4096)
    return 'OK'
probe('read.plain', lambda: read(path))
probe('list.dir', lambda: (os.listdir(os.path.dirname(path)), 'OK')[1])
probe('read.proc_self_root', lambda: read('/proc/self/root' + path))
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())[:200]
worst = 'ENOENT'
for pid in pids:
    try:
        read('/proc/%d/root%s' % (pid, path))
        worst = 'OK'
        break
    except OSError as ex:
        if ex.errno != errno.ENOENT:
            worst = ename(ex.errno)
put('read.proc_pid_root', worst)
)PY";

const std::initializer_list<const char*> kNotThere = {
    "ENOENT", "EACCES", "EPERM", "ENOTDIR", "ELOOP"};

class HostFilesystemTest : public EscapeTest {};

TEST_F(HostFilesystemTest, HostCanaryIsInvisible) {
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run =
        RunProbe(Target(), user, kCanaryProbe, {Canary().Path("secret.txt")});
    for (const char* key : {"read.plain", "list.dir", "read.proc_self_root",
                            "read.proc_pid_root"}) {
      EXPECT_TRUE(Refused(run, key, kNotThere));
    }
  }
}

TEST_F(HostFilesystemTest, ChrootBreakoutFindsNoHostRoot) {
  // The classic escape from a chroot: keep a descriptor of the old root,
  // chroot deeper, fchdir back and walk up. Behind pivot_root with the old
  // root detached, the top it reaches is the sandbox's own.
  ProbeRun run = RunProbe(Target(), "root", R"PY(
jail = '/tmp/e2b-escape-jail'
os.makedirs(jail, exist_ok=True)
fd = os.open('/', os.O_RDONLY)
def breakout():
    os.chroot(jail)
    os.fchdir(fd)
    for _ in range(64):
        os.chdir('..')
    os.chroot('.')
    return 'OK'
probe('chroot', breakout)
def read():
    with open(ARGS[0], 'rb') as f:
        f.read()
    return 'OK'
probe('read', read)
)PY",
                          {Canary().Path("secret.txt")});
  EXPECT_TRUE(Refused(run, "read", kNotThere));
}

TEST_F(HostFilesystemTest, ShadowIsTheSandboxesOwn) {
  const std::string host_shadow = ReadHostFile("/etc/shadow");
  ASSERT_FALSE(host_shadow.empty()) << "cannot read the host's /etc/shadow";
  e2b::CommandResult r = Shell(Target(), "root", "cat /etc/shadow");
  EXPECT_NE(r.Stdout, host_shadow)
      << "root in the sandbox reads the host's /etc/shadow";
  // The host's /root: the entries beyond a fresh home's must not all be
  // in the sandbox's.
  std::vector<std::string> host_only;
  for (const auto& e : std::filesystem::directory_iterator("/root")) {
    const std::string name = e.path().filename().string();
    if (name != ".bashrc" && name != ".profile") host_only.push_back(name);
  }
  if (!host_only.empty()) {
    ProbeRun run = RunProbe(
        Target(), "root",
        "put('present', sum(os.path.lexists('/root/' + n) for n in ARGS))\n",
        host_only);
    EXPECT_LT(std::atoi(run.Get("present").c_str()),
              static_cast<int>(host_only.size()))
        << "the sandbox's /root holds every entry of the host's /root\n"
        << run.Describe();
  }
  // Through envd's file API as root.
  try {
    const std::string via_files = Target().Filesystem.ReadString(
        "/etc/shadow", e2b::WithFileUser("root"));
    EXPECT_NE(via_files, host_shadow)
        << "/files as root returned the host's /etc/shadow";
  } catch (const e2b::Error&) {
    // Absent or unreadable: not the host's either.
  }
}

TEST_F(HostFilesystemTest, FileApiStaysInsideTheSandboxRoot) {
  const std::string secret = Canary().Path("secret.txt");
  const std::vector<std::string> spellings = {
      secret, "/proc/1/root" + secret, "/proc/self/root" + secret,
      "/../../../.." + secret, "/home/user/../../.." + secret};
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    for (const auto& path : spellings) {
      try {
        const std::string got =
            Target().Filesystem.ReadString(path, e2b::WithFileUser(user));
        EXPECT_EQ(got.find(Canary().Secret()), std::string::npos)
            << "envd read the host canary through " << path;
      } catch (const e2b::Error&) {
      }
    }
    try {
      auto entries =
          Target().Filesystem.List(Canary().Dir(), e2b::WithFileUser(user));
      for (const auto& e : entries) {
        EXPECT_NE(e.Name, "secret.txt") << "envd listed the host canary";
      }
    } catch (const e2b::Error&) {
    }
    // Writes and deletes by host path: either refused or kept inside the
    // sandbox (TearDown checks the canary).
    try {
      Target().Filesystem.WriteString(Canary().Path("written-by-sandbox"), "x",
                                      e2b::WithFileUser(user));
    } catch (const e2b::Error&) {
    }
    try {
      Target().Filesystem.Remove(Canary().Path("hostname"),
                                 e2b::WithFileUser(user));
    } catch (const e2b::Error&) {
    }
  }
}

TEST_F(HostFilesystemTest, FileApiDoesNotFollowPlantedSymlinksOut) {
  // Root in the sandbox plants symlinks to the host canary; the server's
  // file operations must resolve them inside the sandbox root.
  e2b::CommandResult planted = Shell(
      Target(), "root",
      "ln -s " + Canary().Dir() + " /home/user/evil-dir && ln -s " +
          Canary().Path("secret.txt") + " /home/user/evil-file && ln -s " +
          Canary().Path("hostname") + " /home/user/evil-hostname");
  ASSERT_EQ(planted.ExitCode, 0) << planted.Stderr;
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    auto as = e2b::WithFileUser(user);
    auto attempt = [](const char* what, auto&& fn) {
      try {
        fn();
      } catch (const e2b::Error&) {
      }
      (void)what;
    };
    attempt("read through a symlinked file", [&] {
      EXPECT_EQ(Target()
                    .Filesystem.ReadString("/home/user/evil-file", as)
                    .find(Canary().Secret()),
                std::string::npos)
          << "envd read the host canary through a symlinked file";
    });
    attempt("read through a symlinked parent", [&] {
      EXPECT_EQ(Target()
                    .Filesystem.ReadString("/home/user/evil-dir/secret.txt", as)
                    .find(Canary().Secret()),
                std::string::npos)
          << "envd read the host canary through a symlinked parent";
    });
    attempt("upload through a symlinked parent", [&] {
      Target().Filesystem.WriteString("/home/user/evil-dir/uploaded", "x", as);
    });
    attempt("overwrite through a symlinked file", [&] {
      Target().Filesystem.WriteString("/home/user/evil-hostname", "pwned", as);
    });
    attempt("mkdir through a symlinked parent", [&] {
      Target().Filesystem.MakeDir("/home/user/evil-dir/newdir", as);
    });
    attempt("rename out of a symlinked parent", [&] {
      Target().Filesystem.Rename("/home/user/evil-dir/group",
                                 "/home/user/stolen-group", as);
    });
    attempt("remove through a symlinked parent", [&] {
      Target().Filesystem.Remove("/home/user/evil-dir/passwd",
                                 e2b::WithFileUser(user));
    });
    attempt("list through a symlinked parent", [&] {
      for (const auto& e : Target().Filesystem.List("/home/user/evil-dir",
                                                    e2b::WithFileUser(user))) {
        EXPECT_NE(e.Name, "secret.txt") << "envd listed the host canary";
      }
    });
  }
}

TEST_F(HostFilesystemTest, HostDiskCannotBeReadThroughADeviceNode) {
  struct stat root {};
  ASSERT_EQ(stat("/", &root), 0);
  const std::string major_minor = std::to_string(major(root.st_dev)) + "," +
                                  std::to_string(minor(root.st_dev));
  ProbeRun run = RunProbe(Target(), "root", std::string(kPlaces) + R"PY(
import stat as st
major, minor = (int(x) for x in ARGS[0].split(','))
def read(p):
    fd = os.open(p, os.O_RDONLY)
    try:
        os.read(fd, 512)
    finally:
        os.close(fd)
    return 'OK'
# A node in every writable place, since some are mounted nodev.
made, result = 'none', 'ENOENT'
for d in PLACES:
    node = '%s/.e2b-escape-disk-%d' % (d, os.getpid())
    try:
        os.mknod(node, st.S_IFBLK | 0o600, os.makedev(major, minor))
    except OSError as ex:
        made = made if made == 'OK' else ename(ex.errno)
        continue
    made = 'OK'
    try:
        result = read(node)
    except OSError as ex:
        result = result if result == 'OK' else ename(ex.errno)
    finally:
        os.unlink(node)
put('mknod', made)
put('read.mknod', result)
# Any block device already in /dev.
found = 'ENOENT'
for name in os.listdir('/dev'):
    p = '/dev/' + name
    try:
        if not st.S_ISBLK(os.stat(p).st_mode): continue
        read(p)
        found = 'OK:' + p
        break
    except OSError as ex:
        found = ename(ex.errno)
put('read.dev', found)
)PY",
                          {major_minor});
  EXPECT_TRUE(
      Refused(run, "read.mknod", {"EPERM", "EACCES", "ENOENT", "ENXIO"}))
      << "the sandbox read the host's disk " << major_minor;
  EXPECT_TRUE(Refused(run, "read.dev", {"EPERM", "EACCES", "ENOENT", "ENXIO"}));
}

TEST_F(HostFilesystemTest, HostDiskCannotBeMounted) {
  // A read-only mount of the host's disk. In a mount namespace of its own
  // when the sandbox may make one; EBUSY (the disk is mounted read-write
  // elsewhere) still means the permission checks passed.
  struct stat root {};
  ASSERT_EQ(stat("/", &root), 0);
  const std::string major_minor = std::to_string(major(root.st_dev)) + "," +
                                  std::to_string(minor(root.st_dev));
  ProbeRun run =
      RunProbe(Target(), "root", std::string(kPlaces) + R"PY(
import stat as st
put('private_ns', private_mount_ns())
major, minor = (int(x) for x in ARGS[0].split(','))
target = '/tmp/e2b-escape-mnt-%d' % os.getpid()
os.makedirs(target, exist_ok=True)
result = 'ENOENT'
for d in PLACES:
    node = '%s/.e2b-escape-mdisk-%d' % (d, os.getpid())
    try:
        os.mknod(node, st.S_IFBLK | 0o600, os.makedev(major, minor))
    except OSError:
        continue
    r, e = call(libc.mount, node, target, ARGS[1], MS_RDONLY, None)
    os.unlink(node)
    if result != 'OK':
        result = ename(e)
    if r == 0:
        try:
            with open(target + ARGS[2], 'rb') as f:
                put('read', 'OK' if f.read() else 'EMPTY')
        except OSError as ex:
            put('read', ename(ex.errno))
        call(libc.umount2, target, 2)
        break
put('mount', result)
os.rmdir(target)
)PY",
               {major_minor, RootFsType(), Canary().Path("secret.txt")});
  EXPECT_TRUE(
      Refused(run, "mount",
              {"EPERM", "EACCES", "ENOENT", "ENODEV", "ENXIO", "ENOTBLK"}));
}

TEST_F(HostFilesystemTest, NewMountsAreRefused) {
  // proc, tmpfs and bind mounts: each needs CAP_SYS_ADMIN, which the
  // sandbox's capability set leaves out (as Docker's default does).
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(Target(), user, R"PY(
put('private_ns', private_mount_ns())
target = '/tmp/e2b-escape-m-%d' % os.getpid()
os.makedirs(target, exist_ok=True)
for key, src, fstype, flags in (('tmpfs', 'tmpfs', 'tmpfs', 0),
                                ('proc', 'proc', 'proc', 0),
                                ('bind', '/', None, MS_BIND | MS_REC)):
    r, e = call(libc.mount, src, target, fstype, flags, None)
    put(key, ename(e))
    if r == 0:
        call(libc.umount2, target, 2)
os.rmdir(target)
)PY");
    for (const char* key : {"tmpfs", "proc", "bind"}) {
      EXPECT_TRUE(Refused(run, key, {"EPERM", "EACCES"}));
    }
  }
}

}  // namespace
}  // namespace escape
}  // namespace e2b_test
