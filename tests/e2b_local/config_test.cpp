// e2b-local's command line: where API keys come from (never only the
// command line, where `ps` shows them) and the sandbox cap.

#include "config.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

namespace e2b_local {
namespace {

struct Files {
  std::map<std::string, std::string> contents;
  FileReader Reader() const {
    return [this](const std::string& path, std::string* out) {
      auto it = contents.find(path);
      if (it == contents.end()) return false;
      *out = it->second;
      return true;
    };
  }
};

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
  };
}

ServerConfig Parse(std::vector<std::string> args, const EnvLookup& env,
                   const Files& files = {}) {
  args.insert(args.begin(), "e2b-local");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(), env,
                          files.Reader());
}

TEST(ConfigTest, ApiKeyFileFirstLineTrimmed) {
  Files files;
  files.contents["/run/key"] = "  e2b_0123abcd \r\nsecond line ignored\n";
  auto config = Parse({"--api-key-file", "/run/key"}, Env({}), files);
  EXPECT_EQ(config.api_keys, (std::vector<std::string>{"e2b_0123abcd"}));
  EXPECT_FALSE(config.api_key_generated);
  EXPECT_FALSE(config.api_key_on_command_line);
}

TEST(ConfigTest, ApiKeyFileCombinesWithApiKeyAndBeatsEnvironment) {
  Files files;
  files.contents["/k1"] = "e2b_file";
  auto config = Parse({"--api-key", "e2b_flag", "--api-key-file=/k1"},
                      Env({{"E2B_API_KEY", "e2b_env"}}), files);
  EXPECT_EQ(config.api_keys,
            (std::vector<std::string>{"e2b_flag", "e2b_file"}));
  EXPECT_TRUE(config.api_key_on_command_line);
  // The environment is used when no flag names a key.
  config = Parse({}, Env({{"E2B_API_KEY", "e2b_env"}}));
  EXPECT_EQ(config.api_keys, (std::vector<std::string>{"e2b_env"}));
  EXPECT_FALSE(config.api_key_on_command_line);
}

TEST(ConfigTest, BadApiKeyFileIsAUsageErrorThatDoesNotEchoTheKey) {
  Files files;
  files.contents["/empty"] = "\n\n";
  files.contents["/spaces"] = "secret with spaces\n";
  EXPECT_THROW(Parse({"--api-key-file", "/missing"}, Env({}), files),
               UsageError);
  EXPECT_THROW(Parse({"--api-key-file", "/empty"}, Env({}), files), UsageError);
  try {
    Parse({"--api-key-file", "/spaces"}, Env({}), files);
    FAIL() << "accepted a key with spaces";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Parse({"--api-key-file"}, Env({})), UsageError);
}

TEST(ConfigTest, ReadsARealKeyFile) {
  char path[] = "/tmp/e2b-key-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "e2b_real\n", 9), 9);
  close(fd);
  std::vector<const char*> argv{"e2b-local", "--api-key-file", path};
  auto config = ParseCommandLine(3, argv.data(), Env({}));
  unlink(path);
  EXPECT_EQ(config.api_keys, (std::vector<std::string>{"e2b_real"}));
}

TEST(ConfigTest, MaxSandboxesFlagAndDefault) {
  EXPECT_EQ(Parse({}, Env({})).max_sandboxes, 0u);
  EXPECT_EQ(Parse({"--max-sandboxes", "3"}, Env({})).max_sandboxes, 3u);
  EXPECT_EQ(Parse({"--max-sandboxes=250"}, Env({})).max_sandboxes, 250u);
  for (const char* bad : {"0", "-1", "x", "", "99999999999"}) {
    EXPECT_THROW(Parse({"--max-sandboxes", bad}, Env({})), UsageError) << bad;
  }
  EXPECT_EQ(DefaultMaxSandboxes("MemTotal:       25165824 kB\n"
                                "MemFree:        1000 kB\n"),
            1536u);  // 24 GiB / 16 MiB
  EXPECT_EQ(DefaultMaxSandboxes("MemTotal: 1000 kB\n"), 1u);
  EXPECT_EQ(DefaultMaxSandboxes("garbage"), 64u);
}

TEST(ConfigTest, EveryFlagInBothForms) {
  auto config = Parse(
      {"--host", "::1", "--api-port=0", "--envd-port", "4000", "--state-dir=/s",
       "--isolation", "none", "--rootfs=/r.tar", "--prepare-rootfs", "-h"},
      Env({}));
  EXPECT_EQ(config.host, "::1");
  EXPECT_EQ(config.api_port, 0);
  EXPECT_EQ(config.envd_port, 4000);
  EXPECT_EQ(config.state_dir, "/s");
  EXPECT_EQ(config.isolation, IsolationMode::kNone);
  EXPECT_EQ(config.rootfs, "/r.tar");
  EXPECT_TRUE(config.prepare_rootfs);
  EXPECT_TRUE(config.show_help);
  EXPECT_EQ(Parse({"--isolation=namespaces"}, Env({})).isolation,
            IsolationMode::kNamespaces);
  EXPECT_EQ(Parse({"--isolation", "auto"}, Env({})).isolation,
            IsolationMode::kAuto);
  // A value may look like a flag: it is taken as the value.
  EXPECT_EQ(Parse({"--host", "--api-port"}, Env({})).host, "--api-port");
  // A relative state directory is made absolute.
  EXPECT_EQ(Parse({"--state-dir", "rel"}, Env({})).state_dir.front(), '/');
  EXPECT_EQ(Parse({}, Env({{"XDG_STATE_HOME", "/x"}})).state_dir,
            "/x/e2b-local");
  EXPECT_EQ(Parse({}, Env({{"HOME", "/h"}})).state_dir,
            "/h/.local/state/e2b-local");
  // Images live in the state directory unless --images-dir says otherwise.
  EXPECT_EQ(Parse({"--state-dir", "/s"}, Env({})).images_dir, "/s/images");
  EXPECT_EQ(Parse({"--images-dir=/img"}, Env({})).images_dir, "/img");
  EXPECT_EQ(Parse({"--images-dir", "rel"}, Env({})).images_dir.front(), '/');
}

TEST(ConfigTest, UsageErrorsSayWhatIsWrong) {
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"stray"}, "unexpected argument 'stray'"},
           {{"--bogus"}, "unknown flag '--bogus'"},
           {{"--help=1"}, "unknown flag '--help'"},
           {{"--prepare-rootfs=yes"}, "unknown flag '--prepare-rootfs'"},
           {{"--api-port"}, "--api-port needs a value"},
           {{"--api-port", "70000"},
            "--api-port: expected a port number 0-65535, got '70000'"},
           {{"--envd-port="},
            "--envd-port: expected a port number 0-65535, got ''"},
           {{"--envd-port", "1x"},
            "--envd-port: expected a port number 0-65535, got '1x'"},
           {{"--host="}, "--host: expected an address"},
           {{"--api-key", "a b"},
            "--api-key: a key must be non-empty printable text without "
            "spaces"},
           {{"--api-key-file="}, "--api-key-file: expected a path"},
           {{"--max-sandboxes", "x"},
            "--max-sandboxes: expected a positive number, got 'x'"},
           {{"--max-sandboxes", "0"}, "--max-sandboxes: must be at least 1"},
           {{"--rootfs", ""}, "--rootfs: expected a directory or tarball path"},
           {{"--state-dir", "a\tb"}, "--state-dir: expected a directory path"},
           {{"--isolation", "vm"},
            "--isolation: expected auto, namespaces or none, got 'vm'"},
           {{"--api-port=5", "--envd-port=5"},
            "--api-port and --envd-port must differ"},
       }) {
    try {
      Parse(args, Env({}));
      ADD_FAILURE() << "accepted: " << message;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
}

TEST(ConfigTest, HelpNamesTheNewFlagsAndThePsWarning) {
  const std::string help = HelpText();
  EXPECT_NE(help.find("--api-key-file PATH"), std::string::npos);
  EXPECT_NE(help.find("--max-sandboxes N"), std::string::npos);
  EXPECT_NE(help.find("ps"), std::string::npos);
}

}  // namespace
}  // namespace e2b_local
