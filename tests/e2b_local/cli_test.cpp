// The real e2b-local binary: flags, the startup lines, /health on both
// ports, and a clean exit on SIGTERM.

#include "store/file_ops.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
};

Child Spawn(const std::vector<std::string>& args, bool capture_stderr) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  Child child;
  child.pid = fork();
  if (child.pid == 0) {
    dup2(fds[1], 1);
    if (capture_stderr) dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(E2B_LOCAL_BINARY, argv.data());
    _exit(127);
  }
  close(fds[1]);
  child.out = fdopen(fds[0], "r");
  return child;
}

std::string ReadLine(FILE* f) {
  char buf[512];
  if (fgets(buf, sizeof(buf), f) == nullptr) return "";
  std::string line = buf;
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int PortOf(const std::string& url) {
  return std::stoi(url.substr(url.rfind(':') + 1));
}

TEST(CliTest, StartsPrintsHealthAndStopsOnSigterm) {
  char tmpl[] = "/tmp/e2b-cli-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  Child child = Spawn({"e2b-local", "--api-port", "0", "--envd-port=0",
                       "--state-dir", dir, "--api-key", "e2b_feed"},
                      false);
  std::string api = ReadLine(child.out);
  std::string envd = ReadLine(child.out);
  std::string key = ReadLine(child.out);
  std::string volumes = ReadLine(child.out);
  ASSERT_EQ(api.rfind("E2B_API_URL=http://127.0.0.1:", 0), 0u) << api;
  ASSERT_EQ(envd.rfind("E2B_SANDBOX_URL=http://127.0.0.1:", 0), 0u) << envd;
  EXPECT_EQ(key, "E2B_API_KEY=e2b_feed");
  // The JS SDK's volume content goes to the API port.
  EXPECT_EQ(volumes,
            "E2B_VOLUME_API_URL=" + api.substr(std::strlen("E2B_API_URL=")));

  httplib::Client api_client("127.0.0.1", PortOf(api));
  auto r = api_client.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  httplib::Client envd_client("127.0.0.1", PortOf(envd));
  r = envd_client.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status / 100, 2);
  // A running sandbox must be cleaned up by the shutdown too.
  r = api_client.Post("/sandboxes", {{"X-API-Key", "e2b_feed"}},
                      R"({"templateID":"base"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;

  kill(child.pid, SIGTERM);
  EXPECT_EQ(WaitExit(child.pid), 0);
  fclose(child.out);

  std::ifstream mounts("/proc/self/mountinfo");
  std::stringstream text;
  text << mounts.rdbuf();
  EXPECT_EQ(text.str().find(dir), std::string::npos) << "leftover mount";
  e2b_local::RemoveTree(dir);
}

TEST(CliTest, GeneratedKeyHasTheSdkShape) {
  char tmpl[] = "/tmp/e2b-cli-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  unsetenv("E2B_API_KEY");
  Child child = Spawn({"e2b-local", "--api-port", "0", "--envd-port", "0",
                       "--state-dir", dir, "--isolation", "none"},
                      false);
  ReadLine(child.out);
  ReadLine(child.out);
  std::string key = ReadLine(child.out);
  ASSERT_EQ(key.size(), std::string("E2B_API_KEY=e2b_").size() + 40) << key;
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef", 16), std::string::npos);
  kill(child.pid, SIGINT);
  EXPECT_EQ(WaitExit(child.pid), 0);
  fclose(child.out);
  e2b_local::RemoveTree(dir);
}

std::string CommandLineOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CliTest, KeyFromFileOrEnvironmentStaysOffTheCommandLine) {
  char tmpl[] = "/tmp/e2b-cli-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string key_file = dir + "/key";
  std::ofstream(key_file) << "  e2b_from_file  \nignored\n";
  Child child =
      Spawn({"e2b-local", "--api-port", "0", "--envd-port", "0", "--state-dir",
             dir + "/state", "--api-key-file", key_file},
            false);
  const std::string api = ReadLine(child.out);
  ReadLine(child.out);
  EXPECT_EQ(ReadLine(child.out), "E2B_API_KEY=e2b_from_file");
  EXPECT_EQ(CommandLineOf(child.pid).find("e2b_from_file"), std::string::npos);
  ASSERT_NE(api.find(':'), std::string::npos) << api;
  httplib::Client client("127.0.0.1", PortOf(api));
  auto r = client.Get("/sandboxes", {{"X-API-Key", "e2b_from_file"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  kill(child.pid, SIGTERM);
  EXPECT_EQ(WaitExit(child.pid), 0);
  fclose(child.out);

  setenv("E2B_API_KEY", "e2b_from_env", 1);
  child = Spawn({"e2b-local", "--api-port", "0", "--envd-port", "0",
                 "--state-dir", dir + "/state"},
                false);
  unsetenv("E2B_API_KEY");
  ReadLine(child.out);
  ReadLine(child.out);
  EXPECT_EQ(ReadLine(child.out), "E2B_API_KEY=e2b_from_env");
  EXPECT_EQ(CommandLineOf(child.pid).find("e2b_from_env"), std::string::npos);
  kill(child.pid, SIGTERM);
  EXPECT_EQ(WaitExit(child.pid), 0);
  fclose(child.out);
  e2b_local::RemoveTree(dir);
}

TEST(CliTest, BadFlagsExitTwoAndHelpExitsZero) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"e2b-local", "--bogus"},
           {"e2b-local", "--api-port", "70000"},
           {"e2b-local", "--isolation", "vm"},
           {"e2b-local", "--api-key-file", "/nonexistent/key"},
           {"e2b-local", "--max-sandboxes", "0"},
           {"e2b-local", "--api-port"}}) {
    Child child = Spawn(args, true);
    std::string first = ReadLine(child.out);
    EXPECT_NE(first.find("e2b-local:"), std::string::npos) << first;
    EXPECT_EQ(WaitExit(child.pid), 2);
    fclose(child.out);
  }
  Child child = Spawn({"e2b-local", "--help"}, false);
  std::string all, line;
  while (!(line = ReadLine(child.out)).empty() || !feof(child.out)) {
    all += line + "\n";
  }
  EXPECT_EQ(WaitExit(child.pid), 0);
  fclose(child.out);
  for (const char* flag :
       {"--host", "--api-port", "--envd-port", "--api-key", "--api-key-file",
        "--max-sandboxes", "--state-dir", "--isolation", "--help"}) {
    EXPECT_NE(all.find(flag), std::string::npos) << flag;
  }
}

// The listening sockets of this process tree on `port`, as the kernel
// reports them in /proc/net/tcp and tcp6: "<hex address>:<hex port>".
std::vector<std::string> ListenersOnPort(int port) {
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  std::vector<std::string> found;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      if (!(fields >> slot >> local >> remote >> state)) continue;
      if (state != "0A") continue;  // TCP_LISTEN
      if (local.size() > 5 && local.compare(local.size() - 5, 5, want) == 0) {
        found.push_back(local);
      }
    }
  }
  return found;
}

TEST(CliTest, ListenersBindLoopbackByDefault) {
  char tmpl[] = "/tmp/e2b-cli-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  Child child = Spawn({"e2b-local", "--api-port", "0", "--envd-port", "0",
                       "--state-dir", dir, "--api-key", "e2b_feed"},
                      false);
  const std::string api = ReadLine(child.out);
  const std::string envd = ReadLine(child.out);
  ReadLine(child.out);
  ASSERT_NE(api.find(':'), std::string::npos) << api;
  ASSERT_NE(envd.find(':'), std::string::npos) << envd;
  // What the kernel has bound, not what was printed: 127.0.0.1 only, never
  // the wildcard address or another interface.
  for (int port : {PortOf(api), PortOf(envd)}) {
    const auto listeners = ListenersOnPort(port);
    ASSERT_FALSE(listeners.empty()) << "nothing listens on port " << port;
    for (const auto& local : listeners) {
      EXPECT_EQ(local.substr(0, local.size() - 5), "0100007F")
          << "port " << port << " is bound to " << local;
    }
  }
  kill(child.pid, SIGTERM);
  EXPECT_EQ(WaitExit(child.pid), 0);
  fclose(child.out);
  e2b_local::RemoveTree(dir);
}

}  // namespace
