// Filesystem reads and writes against a real e2b-local.

#include "integration/e2b_local_fixture.hpp"

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace e2b_test {
namespace {

using namespace std::chrono_literals;

class FilesTest : public E2bLocalTest {
 protected:
  void SetUp() override {
    E2bLocalTest::SetUp();
    if (HasFatalFailure()) return;
    sandbox_ = NewSandbox();
  }
  std::string Run(const std::string& script) {
    e2b::CommandResult r = sandbox_.Commands.Run("sh", {"-c", script});
    EXPECT_EQ(r.ExitCode, 0) << script << ": " << r.Stderr;
    return r.Stdout;
  }
  e2b::Sandbox sandbox_;
};

TEST_F(FilesTest, WriteStringReadString) {
  e2b::FileInfo info =
      sandbox_.Filesystem.WriteString("/home/user/hello.txt", "hello, world\n");
  EXPECT_EQ(info.Path, "/home/user/hello.txt");
  EXPECT_EQ(info.Name, "hello.txt");
  EXPECT_EQ(info.Type, "file");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/hello.txt"),
            "hello, world\n");
  // Visible to commands, and overwritten (truncated) by a shorter write.
  EXPECT_EQ(Run("cat /home/user/hello.txt"), "hello, world\n");
  sandbox_.Filesystem.WriteString("/home/user/hello.txt", "hi");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/hello.txt"), "hi");
  // A file a command wrote is readable.
  Run("printf 'from a command' > /tmp/cmd.txt");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/tmp/cmd.txt"), "from a command");
}

TEST_F(FilesTest, EmptyFile) {
  sandbox_.Filesystem.WriteString("/home/user/empty", "");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/empty"), "");
  EXPECT_EQ(Run("stat -c %s /home/user/empty"), "0\n");
  EXPECT_TRUE(sandbox_.Filesystem.ReadBytes("/home/user/empty").empty());
}

TEST_F(FilesTest, WriteBytesReadBytesAllByteValues) {
  std::vector<std::uint8_t> bytes;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) {
      bytes.push_back(static_cast<std::uint8_t>(round % 2 ? 255 - b : b));
    }
  }
  e2b::FileInfo info =
      sandbox_.Filesystem.WriteBytes("/home/user/all.bin", bytes);
  EXPECT_EQ(info.Path, "/home/user/all.bin");
  EXPECT_EQ(sandbox_.Filesystem.ReadBytes("/home/user/all.bin"), bytes);
  EXPECT_EQ(Run("stat -c %s /home/user/all.bin"),
            std::to_string(bytes.size()) + "\n");
  // Same bytes through the string API.
  EXPECT_TRUE(sandbox_.Filesystem.ReadString("/home/user/all.bin") ==
              std::string(bytes.begin(), bytes.end()));
}

TEST_F(FilesTest, StreamedWriteAndRead100MiB) {
  constexpr std::uint64_t kSize = 100ull << 20;
  constexpr std::uint64_t kSeed = 0xE2B0C0FFEEULL;
  const std::uint64_t expected = GeneratedDigest(kSize, kSeed);

  {
    auto source = GeneratedStream(kSize, kSeed);
    e2b::FileInfo info =
        sandbox_.Filesystem.Write("/home/user/big.bin", *source);
    EXPECT_EQ(info.Path, "/home/user/big.bin");
  }
  EXPECT_EQ(Run("stat -c %s /home/user/big.bin"), std::to_string(kSize) + "\n");

  auto in = sandbox_.Filesystem.Read("/home/user/big.bin");
  ASSERT_TRUE(in != nullptr);
  Fnv1a hash;
  std::uint64_t total = 0;
  std::vector<char> chunk(1 << 16);
  while (*in) {
    in->read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(in->gcount());
    hash.Update(chunk.data(), got);
    total += got;
  }
  EXPECT_TRUE(in->eof());
  EXPECT_FALSE(in->bad()) << "stream failed mid-transfer";
  EXPECT_EQ(total, kSize);
  EXPECT_EQ(hash.Digest(), expected) << "downloaded bytes differ";
}

TEST_F(FilesTest, PartiallyReadStreamCanBeDropped) {
  const std::uint64_t size = 8u << 20;
  {
    auto source = GeneratedStream(size, 7);
    sandbox_.Filesystem.Write("/home/user/partial.bin", *source);
  }
  {
    auto in = sandbox_.Filesystem.Read("/home/user/partial.bin");
    char buf[100];
    in->read(buf, sizeof buf);
    EXPECT_EQ(in->gcount(), 100);
    // Destroyed here with most of the body unread: must not hang.
  }
  // The sandbox and the client keep working.
  EXPECT_EQ(sandbox_.Filesystem.ReadBytes("/home/user/partial.bin").size(),
            size);
}

TEST_F(FilesTest, MissingFileThrowsFileNotFound) {
  const std::string path = "/home/user/does-not-exist.txt";
  try {
    sandbox_.Filesystem.ReadString(path);
    FAIL() << "ReadString of a missing file did not throw";
  } catch (const e2b::FileNotFoundError& e) {
    EXPECT_EQ(e.Path(), path);
    EXPECT_EQ(e.StatusCode(), 404);
  }
  EXPECT_THROW(sandbox_.Filesystem.ReadBytes(path), e2b::FileNotFoundError);
  try {
    auto stream = sandbox_.Filesystem.Read(path);
    FAIL() << "Read of a missing file did not throw";
  } catch (const e2b::FileNotFoundError& e) {
    EXPECT_EQ(e.Path(), path);
  }
}

TEST_F(FilesTest, ReadingADirectoryIs400) {
  try {
    sandbox_.Filesystem.ReadString("/home/user");
    FAIL() << "reading a directory did not throw";
  } catch (const e2b::FileNotFoundError& e) {
    FAIL() << "a directory is not a missing file: " << e.what();
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 400) << e.what();
  }
}

TEST_F(FilesTest, WritingOntoADirectoryIsAnError) {
  sandbox_.Filesystem.WriteString("/home/user/adir/inner.txt", "x");
  try {
    sandbox_.Filesystem.WriteString("/home/user/adir", "y");
    FAIL() << "writing onto a directory did not throw";
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 400) << e.what();
  }
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/adir/inner.txt"), "x");
}

TEST_F(FilesTest, FileUserControlsOwnership) {
  sandbox_.Filesystem.WriteString("/home/user/by-root.txt", "r",
                                  e2b::WithFileUser("root"));
  sandbox_.Filesystem.WriteString("/home/user/by-user.txt", "u");
  EXPECT_EQ(Run("stat -c %U /home/user/by-root.txt"), "root\n");
  EXPECT_EQ(Run("stat -c %U /home/user/by-user.txt"), "user\n");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/by-root.txt",
                                           e2b::WithFileUser("root")),
            "r");
  // Root can write where the default user's files do not go.
  sandbox_.Filesystem.WriteString("/root/secret.txt", "s",
                                  e2b::WithFileUser("root"));
  EXPECT_EQ(
      sandbox_.Commands.Run("cat", {"/root/secret.txt"}, e2b::WithUser("root"))
          .Stdout,
      "s");
}

TEST_F(FilesTest, UnknownFileUserIsAnError) {
  EXPECT_THROW(sandbox_.Filesystem.WriteString("/tmp/x", "x",
                                               e2b::WithFileUser("nobody-xyz")),
               e2b::Error);
  EXPECT_THROW(
      sandbox_.Filesystem.ReadString("/tmp", e2b::WithFileUser("nobody-xyz")),
      e2b::Error);
}

TEST_F(FilesTest, NestedParentDirectoriesAreCreated) {
  const std::string path = "/home/user/a/b/c/d/deep.txt";
  sandbox_.Filesystem.WriteString(path, "deep");
  EXPECT_EQ(sandbox_.Filesystem.ReadString(path), "deep");
  EXPECT_EQ(Run("stat -c %F:%U /home/user/a/b/c"), "directory:user\n");
}

TEST_F(FilesTest, RelativePathsResolveAgainstHome) {
  e2b::FileInfo info = sandbox_.Filesystem.WriteString("rel/file.txt", "rel");
  EXPECT_EQ(info.Path, "/home/user/rel/file.txt");
  EXPECT_EQ(Run("cat /home/user/rel/file.txt"), "rel");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("rel/file.txt"), "rel");
}

TEST_F(FilesTest, PathsWithSpacesAndUnicode) {
  const std::string dir = "/home/user/dir with spaces/ünïcødé ✓";
  const std::string path = dir + "/file name #1 & 100%?.txt";
  const std::string text = "contents: ✓ ü 😀\n";
  e2b::FileInfo info = sandbox_.Filesystem.WriteString(path, text);
  EXPECT_EQ(info.Path, path);
  EXPECT_EQ(info.Name, "file name #1 & 100%?.txt");
  EXPECT_EQ(sandbox_.Filesystem.ReadString(path), text);
  e2b::CommandResult r = sandbox_.Commands.Run("ls", {dir});
  EXPECT_EQ(r.Stdout, "file name #1 & 100%?.txt\n");
  EXPECT_EQ(sandbox_.Commands.Run("cat", {path}).Stdout, text);
}

TEST_F(FilesTest, ControlCharactersInPathsRoundTripOrFailCleanly) {
  // CR, LF and friends travel percent-encoded in the query: they must
  // either name a file exactly or be refused with an e2b::Error, never
  // split a header or reach another path.
  const std::string path = "/home/user/ctl\r\nX-Injected: 1\t&path=/etc/x";
  try {
    e2b::FileInfo info = sandbox_.Filesystem.WriteString(path, "ctl");
    EXPECT_EQ(info.Path, path);
    EXPECT_EQ(sandbox_.Filesystem.ReadString(path), "ctl");
    e2b::CommandResult r = sandbox_.Commands.Run("cat", {path});
    EXPECT_EQ(r.Stdout, "ctl");
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()), "");
  }
  EXPECT_THROW(sandbox_.Filesystem.ReadString("/etc/x"),
               e2b::FileNotFoundError);
}

TEST_F(FilesTest, DotDotCannotEscapeTheSandbox) {
  // `..` either is refused with a clear error or resolves inside the
  // sandbox; it never reaches the host's filesystem.
  const std::string name = "e2b-it-escape-" + RandomHex(6) + ".txt";
  const std::string sneaky = "/home/user/../../../../../tmp/" + name;
  bool written = false;
  try {
    sandbox_.Filesystem.WriteString(sneaky, "probe");
    written = true;
  } catch (const e2b::Error& e) {
    EXPECT_NE(std::string(e.what()), "");
  }
  std::error_code ec;
  EXPECT_FALSE(std::filesystem::exists("/tmp/" + name, ec))
      << "a write through .. reached the host's /tmp";
  if (written) {
    EXPECT_EQ(Run("cat /tmp/" + name), "probe");
    EXPECT_EQ(sandbox_.Filesystem.ReadString(sneaky), "probe");
  }
}

TEST_F(FilesTest, TwoSandboxesDoNotShareFiles) {
  e2b::Sandbox other = NewSandbox();
  sandbox_.Filesystem.WriteString("/home/user/mine.txt", "one");
  EXPECT_THROW(other.Filesystem.ReadString("/home/user/mine.txt"),
               e2b::FileNotFoundError);
  sandbox_.Filesystem.WriteString("/tmp/shared-name.txt", "first");
  other.Filesystem.WriteString("/tmp/shared-name.txt", "second");
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/tmp/shared-name.txt"), "first");
  EXPECT_EQ(other.Filesystem.ReadString("/tmp/shared-name.txt"), "second");
}

TEST_F(FilesTest, ReadTimeoutAndWriteTimeoutOptionsAreAccepted) {
  sandbox_.Filesystem.WriteString("/home/user/t.txt", "t",
                                  e2b::WithWriteTimeout(30s));
  EXPECT_EQ(sandbox_.Filesystem.ReadString("/home/user/t.txt",
                                           e2b::WithReadTimeout(30s)),
            "t");
}

}  // namespace
}  // namespace e2b_test
