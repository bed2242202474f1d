// Resource limits: a sandbox gets its template's memory, a pids limit and
// its disk size, and the host and the other sandboxes survive one that asks
// for more. Every attempt is bounded in size and time, so a missing limit
// fails the test instead of exhausting the machine.

#include "escape/escape_support.hpp"

#include <cstdlib>
#include <string>

namespace e2b_test {
namespace escape {
namespace {

class LimitsTest : public EscapeTest {};

TEST_F(LimitsTest, MemoryStopsAtTheTemplatesMemory) {
  Bystander bystander = NewBystander();
  const int memory_mb = Target().Info().MemoryMB;
  ASSERT_GT(memory_mb, 0);
  // Touch twice the limit, 16 MiB at a time (bytes that are written, so
  // the pages are really there).
  e2b::CommandResult r;
  try {
    r = Target().Commands.Run(
        "/usr/bin/python3",
        {"-c",
         "import sys\n"
         "held = []\n"
         "for i in range(int(sys.argv[1]) // 16):\n"
         "    held.append(b'\\x01' * (16 << 20))\n"
         "    print('allocated=%d' % ((i + 1) * 16), flush=True)\n"
         "print('completed', flush=True)\n",
         std::to_string(memory_mb * 2)},
        e2b::WithUser("user"), e2b::WithTimeout(60s));
  } catch (const e2b::Error& e) {
    // The command's end reported as an error (e.g. killed): fine, as long
    // as it did not complete.
    SUCCEED() << e.what();
  }
  EXPECT_EQ(r.Stdout.find("completed"), std::string::npos)
      << "the sandbox allocated " << memory_mb * 2 << " MiB with a "
      << memory_mb << " MiB limit";
  const auto last = r.Stdout.rfind("allocated=");
  if (last != std::string::npos) {
    EXPECT_LE(std::atoi(r.Stdout.c_str() + last + 10), memory_mb)
        << "more than memoryMB was allocated";
  }
  EXPECT_TRUE(Intact(bystander));
}

TEST_F(LimitsTest, ProcessesStopAtThePidsLimit) {
  Bystander bystander = NewBystander();
  // Up to 2000 tasks (threads: the pids controller counts every task, and
  // a thread is much cheaper to start than a process) that end by
  // themselves after 20 s, or as soon as the count is taken.
  ProbeRun run = RunProbe(Target(), "user", R"PY(
import threading
threading.stack_size(256 << 10)
release = threading.Event()
started = []
err = 'none'
for i in range(2000):
    t = threading.Thread(target=release.wait, args=(20,), daemon=True)
    try:
        t.start()
    except (RuntimeError, OSError) as ex:
        err = type(ex).__name__
        break
    started.append(t)
put('started', len(started))
put('error', err)
release.set()
for t in started:
    t.join()
)PY",
                          {}, 90s);
  ASSERT_NE(run.Get("started"), "(missing)") << run.Describe();
  EXPECT_LT(std::atoi(run.Get("started").c_str()), 2000)
      << "2000 tasks ran in one sandbox";
  EXPECT_NE(run.Get("error"), "none");
  EXPECT_EQ(Shell(Target(), "user", "true").ExitCode, 0)
      << "the sandbox does not recover after hitting its pids limit";
  EXPECT_TRUE(Intact(bystander));
}

// The writable layer is on a disk of the template's size
// (runtime/sandbox_disk.hpp): filling it is ENOSPC inside, and nothing
// lands on the host's filesystem.
TEST_F(LimitsTest, DiskWritesStopAtTheTemplatesDiskSize) {
  const int disk_mb = Target().Info().DiskSizeMB;
  ASSERT_GT(disk_mb, 0);
  const std::string count = std::to_string(disk_mb + 256);
  e2b::CommandResult r = Shell(
      Target(), "user",
      "dd if=/dev/zero of=/home/user/fill bs=1M count=" + count +
          " status=none 2>&1; echo rc=$?; stat -c size=%s /home/user/fill;"
          " rm -f /home/user/fill",
      120s);
  EXPECT_TRUE(r.Stdout.find("No space left on device") != std::string::npos ||
              r.Stdout.find("Disk quota exceeded") != std::string::npos)
      << "no ENOSPC writing " << count << " MiB to a " << disk_mb
      << " MiB disk:\n"
      << r.Stdout;
  const auto size_at = r.Stdout.find("size=");
  ASSERT_NE(size_at, std::string::npos) << r.Stdout;
  // The disk is sized so that the sandbox can store disk_mb MiB; ext4's
  // metadata and root reserve round that up by a fraction of a percent.
  EXPECT_LE(std::atoll(r.Stdout.c_str() + size_at + 5),
            (static_cast<long long>(disk_mb) << 20) * 101 / 100);
  // The space comes back.
  EXPECT_EQ(Shell(Target(), "user", "echo ok > /home/user/after").ExitCode, 0);
}

}  // namespace
}  // namespace escape
}  // namespace e2b_test
