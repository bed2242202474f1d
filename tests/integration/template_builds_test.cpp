// Template builds end to end against e2b-local, through the low-level build
// API: upload a COPY step's files, start a build with every step type, poll
// its status, and start sandboxes from the result (its files, user,
// working directory, variables, start and ready commands). Also: a failing
// step, the build cache, and an image that would need a registry.

#include "integration/e2b_local_fixture.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace e2b_test {
namespace {

class TemplateBuildsTest : public E2bLocalTest {
 protected:
  // The first line `command` prints (host side: only tar and sha256sum on
  // files this test wrote).
  static std::string Capture(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return "";
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
    ::pclose(pipe);
    return out.substr(0, out.find_first_of(" \n"));
  }

  // A gzipped tar of files/hello.txt and files/bin/tool.sh (as the JS SDK
  // lays out a COPY of "files": paths relative to the context); returns
  // the archive's path and a hash for it.
  std::pair<std::string, std::string> MakeBundle(const std::string& tag) {
    const std::string ctx = LocalServer::Shared().TempDir() + "/ctx-" + tag;
    EXPECT_EQ(std::system(("mkdir -p '" + ctx + "/files/bin'").c_str()), 0);
    std::ofstream(ctx + "/files/hello.txt") << "hello from " << tag << "\n";
    std::ofstream(ctx + "/files/bin/tool.sh") << "#!/bin/sh\necho tool\n";
    const std::string archive = ctx + ".tar.gz";
    EXPECT_EQ(
        std::system(
            ("tar -czf '" + archive + "' -C '" + ctx + "' files").c_str()),
        0);
    return {archive, Capture("sha256sum '" + archive + "'")};
  }

  void Upload(const std::string& template_id,
              const std::pair<std::string, std::string>& bundle) {
    e2b::BuildFileStatus status =
        Client().CheckBuildFiles(template_id, bundle.second);
    if (status.Present) return;
    ASSERT_FALSE(status.URL.empty());
    std::ifstream in(bundle.first, std::ios::binary);
    Client().UploadBuildFiles(status.URL, in);
    EXPECT_TRUE(Client().CheckBuildFiles(template_id, bundle.second).Present);
  }

  // Polls until ready or error; every log line, in order, to `logs`.
  e2b::BuildStatus Wait(const e2b::TemplateInfo& info,
                        std::vector<std::string>& logs) {
    int offset = 0;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::minutes(8);
    for (;;) {
      e2b::BuildStatus status =
          Client().GetBuildStatus(info.TemplateID, info.BuildID,
                                  e2b::WithBuildStatusLogsOffset(offset));
      for (const auto& e : status.LogEntries) logs.push_back(e.Message);
      offset += static_cast<int>(status.LogEntries.size());
      if ((status.Status == "ready" || status.Status == "error") &&
          status.LogEntries.empty()) {
        return status;
      }
      if (std::chrono::steady_clock::now() > deadline) return status;
      if (status.LogEntries.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }

  e2b::TemplateInfo NewTemplate(const std::string& name) {
    e2b::CreateTemplateConfig cfg;
    cfg.Name = name;
    return Client().CreateTemplate(cfg);
  }

  static std::string Join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

e2b::TemplateStep Step(std::string type, std::vector<std::string> args,
                       std::string hash = "") {
  e2b::TemplateStep s;
  s.Type = std::move(type);
  s.Args = std::move(args);
  s.FilesHash = std::move(hash);
  return s;
}

// A package made and installed inside the build sandbox: apt from a local
// .deb, offline.
constexpr const char kLocalDeb[] =
    "set -e; d=$(mktemp -d); mkdir -p $d/pkg/DEBIAN $d/pkg/usr/local/bin; "
    "printf 'Package: e2b-hello\\nVersion: 1.0\\nArchitecture: all\\n"
    "Maintainer: e2b-cpp\\nDescription: test package\\n' > "
    "$d/pkg/DEBIAN/control; printf '#!/bin/sh\\necho hello-deb\\n' > "
    "$d/pkg/usr/local/bin/e2b-hello; chmod 755 $d/pkg/usr/local/bin/e2b-hello; "
    "dpkg-deb --build $d/pkg $d/e2b-hello.deb >/dev/null; "
    "apt-get install -y $d/e2b-hello.deb; rm -rf $d";

TEST_F(TemplateBuildsTest, BuildsEveryStepAndStartsSandboxesFromIt) {
  const std::string name = "it-build-" + RandomHex(4);
  e2b::TemplateInfo info = NewTemplate(name);
  const auto bundle = MakeBundle("a");
  Upload(info.TemplateID, bundle);

  e2b::StartBuildConfig cfg;
  cfg.FromImage = "e2bdev/base";
  cfg.Steps = {
      Step("RUN", {"echo built-as-$(whoami) > /etc/built"}),
      Step("RUN", {kLocalDeb, "root"}),
      Step("USER", {"app", "true"}),
      Step("COPY", {"files", "/opt/app/"}, bundle.second),
      Step("ENV", {"GREETING", "hello $HOME", "MODE", "test"}),
      Step("WORKDIR", {"/opt/app/work"}),
      Step("RUN", {"whoami > who.txt && pwd >> who.txt && "
                   "echo \"$GREETING\" >> who.txt"}),
  };
  cfg.StartCmd = "sleep 2 && touch /tmp/started && exec sleep 100000";
  cfg.ReadyCmd = "test -f /tmp/started";
  Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
  std::vector<std::string> logs;
  e2b::BuildStatus status = Wait(info, logs);
  ASSERT_EQ(status.Status, "ready")
      << (status.Reason ? status.Reason->Message : "") << "\n"
      << Join(logs);
  EXPECT_NE(Join(logs).find("[7/7] RUN"), std::string::npos) << Join(logs);

  e2b::SandboxConfig sandbox_cfg = Config();
  sandbox_cfg.Template = name;
  e2b::Sandbox sb = NewSandbox(sandbox_cfg);
  // Create returned after the ready command passed.
  EXPECT_TRUE(sb.Filesystem.Exists("/tmp/started"));
  bool start_listed = false;
  for (const auto& p : sb.Commands.List()) {
    for (const auto& a : p.Args) {
      if (a.find("touch /tmp/started") != std::string::npos) {
        start_listed = true;
      }
    }
  }
  EXPECT_TRUE(start_listed) << "the start command is not an envd process";

  auto run = [&sb](const std::string& cmd) {
    return sb.Commands.Run("bash", {"-c", cmd}).Stdout;
  };
  EXPECT_EQ(run("cat /etc/built"), "built-as-root\n");
  EXPECT_EQ(run("e2b-hello"), "hello-deb\n");
  EXPECT_EQ(run("cat /opt/app/hello.txt"), "hello from a\n");
  EXPECT_EQ(run("/bin/sh /opt/app/bin/tool.sh"), "tool\n");
  EXPECT_EQ(run("stat -c %U /opt/app/hello.txt"), "app\n");
  EXPECT_EQ(run("cat /opt/app/work/who.txt"),
            "app\n/opt/app/work\nhello /root\n");
  // The template's context is the sandbox's default.
  EXPECT_EQ(run("whoami"), "app\n");
  EXPECT_EQ(run("pwd"), "/opt/app/work\n");
  // As E2B: an ENV value is expanded once, at its step, by root's shell.
  EXPECT_EQ(run("echo \"$GREETING/$MODE\""), "hello /root/test\n");
  EXPECT_EQ(run("sudo -n true && echo sudo-ok"), "sudo-ok\n");
  // Per-sandbox variables still win over the template's.
  e2b::SandboxConfig with_env = sandbox_cfg;
  with_env.EnvVars = {{"MODE", "mine"}};
  e2b::Sandbox second = NewSandbox(with_env);
  EXPECT_EQ(second.Commands.Run("bash", {"-c", "echo $MODE"}).Stdout, "mine\n");
}

TEST_F(TemplateBuildsTest, SameStepsAgainComeFromTheCache) {
  auto build = [this](const std::string& name, bool force,
                      std::vector<std::string>& logs) {
    e2b::TemplateInfo info = NewTemplate(name);
    e2b::StartBuildConfig cfg;
    cfg.FromTemplate = "base";
    cfg.Force = force;
    cfg.Steps = {Step("RUN", {"date +%s%N > /home/user/stamp"})};
    Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
    return Wait(info, logs).Status;
  };
  const std::string name = "it-cache-" + RandomHex(4);
  std::vector<std::string> first, second, forced;
  ASSERT_EQ(build(name + "-1", false, first), "ready") << Join(first);
  ASSERT_EQ(build(name + "-2", false, second), "ready") << Join(second);
  EXPECT_NE(Join(second).find("CACHED [1/1] RUN"), std::string::npos)
      << Join(second);
  ASSERT_EQ(build(name + "-3", true, forced), "ready") << Join(forced);
  EXPECT_EQ(Join(forced).find("CACHED"), std::string::npos) << Join(forced);

  auto stamp = [this](const std::string& tmpl) {
    e2b::SandboxConfig cfg = Config();
    cfg.Template = tmpl;
    e2b::Sandbox sb = NewSandbox(cfg);
    return sb.Filesystem.ReadString("/home/user/stamp");
  };
  // The cached build is the same layer; the forced one ran again.
  EXPECT_EQ(stamp(name + "-1"), stamp(name + "-2"));
  EXPECT_NE(stamp(name + "-1"), stamp(name + "-3"));
  // Change the second of two steps: the first comes from the step cache
  // (its file is the same), the second runs again, as E2B's layer cache.
  auto two_steps = [this](const std::string& tmpl, const std::string& second,
                          bool force_second, std::vector<std::string>& logs) {
    e2b::TemplateInfo info = NewTemplate(tmpl);
    e2b::StartBuildConfig cfg;
    cfg.FromTemplate = "base";
    cfg.Steps = {Step("RUN", {"date +%s%N > /home/user/first"}),
                 Step("ENV", {"SECOND", second}),
                 Step("RUN", {"echo $SECOND > /home/user/second"})};
    cfg.Steps[2].Force = force_second;
    Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
    return Wait(info, logs).Status;
  };
  std::vector<std::string> a, b, c;
  ASSERT_EQ(two_steps(name + "-a", "one", false, a), "ready") << Join(a);
  ASSERT_EQ(two_steps(name + "-b", "two", false, b), "ready") << Join(b);
  EXPECT_NE(Join(b).find("CACHED [1/3] RUN"), std::string::npos) << Join(b);
  EXPECT_EQ(Join(b).find("CACHED [2/3]"), std::string::npos) << Join(b);
  ASSERT_EQ(two_steps(name + "-c", "one", true, c), "ready") << Join(c);
  EXPECT_NE(Join(c).find("CACHED [2/3] ENV"), std::string::npos) << Join(c);
  EXPECT_NE(Join(c).find("[3/3] RUN"), std::string::npos) << Join(c);
  EXPECT_EQ(Join(c).find("CACHED [3/3]"), std::string::npos) << Join(c);
  auto read = [this](const std::string& tmpl, const std::string& path) {
    e2b::SandboxConfig cfg = Config();
    cfg.Template = tmpl;
    e2b::Sandbox sb = NewSandbox(cfg);
    return sb.Filesystem.ReadString(path);
  };
  EXPECT_EQ(read(name + "-a", "/home/user/first"),
            read(name + "-b", "/home/user/first"));
  EXPECT_EQ(read(name + "-b", "/home/user/second"), "two\n");
  EXPECT_EQ(read(name + "-c", "/home/user/second"), "one\n");

  // From the base template the steps run as its user.
  e2b::SandboxConfig cfg = Config();
  cfg.Template = name + "-1";
  e2b::Sandbox sb = NewSandbox(cfg);
  EXPECT_EQ(sb.Commands.Run("stat", {"-c", "%U", "/home/user/stamp"}).Stdout,
            "user\n");
}

TEST_F(TemplateBuildsTest, AFailingStepFailsTheBuildWithItsLogs) {
  e2b::TemplateInfo info = NewTemplate("it-fail-" + RandomHex(4));
  e2b::StartBuildConfig cfg;
  cfg.Steps = {Step("RUN", {"echo before"}),
               Step("RUN", {"echo about-to-fail >&2; exit 3"}),
               Step("RUN", {"echo never"})};
  Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
  std::vector<std::string> logs;
  e2b::BuildStatus status = Wait(info, logs);
  ASSERT_EQ(status.Status, "error") << Join(logs);
  ASSERT_TRUE(status.Reason.has_value());
  EXPECT_NE(status.Reason->Message.find("step 2"), std::string::npos)
      << status.Reason->Message;
  EXPECT_NE(status.Reason->Message.find("exit status 3"), std::string::npos)
      << status.Reason->Message;
  EXPECT_EQ(status.Reason->Step, "2");
  const std::string all = Join(logs);
  EXPECT_NE(all.find("about-to-fail"), std::string::npos) << all;
  EXPECT_EQ(all.find("never"), std::string::npos) << all;
  // No sandbox can start from it, and no build sandbox is left behind.
  e2b::SandboxConfig sandbox_cfg = Config();
  sandbox_cfg.Template = info.TemplateID;
  EXPECT_THROW(NewSandbox(sandbox_cfg), e2b::Error);
  EXPECT_TRUE(Client().ListSandboxes().empty());
}

// A step that leaves a daemon running (holding its output open) ends when
// its shell does, not when the daemon does: the build must not hang.
TEST_F(TemplateBuildsTest, AStepThatLeavesADaemonRunningEnds) {
  e2b::TemplateInfo info = NewTemplate("it-daemon-" + RandomHex(4));
  e2b::StartBuildConfig cfg;
  cfg.Steps = {Step("RUN", {"sleep 3600 & echo left-running"}),
               Step("RUN", {"echo next-step"})};
  const auto start = std::chrono::steady_clock::now();
  Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
  std::vector<std::string> logs;
  e2b::BuildStatus status = Wait(info, logs);
  EXPECT_EQ(status.Status, "ready") << Join(logs);
  EXPECT_NE(Join(logs).find("next-step"), std::string::npos) << Join(logs);
  // A hang would last the step's hour; this bound only tells the two apart.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(2));
}

// A chatty step: its lines reach the status in order and in batches, and
// past the per-build cap they are counted, not kept.
TEST_F(TemplateBuildsTest, ChattyStepsKeepTheirLogsBounded) {
  e2b::TemplateInfo info = NewTemplate("it-chatty-" + RandomHex(4));
  e2b::StartBuildConfig cfg;
  cfg.Steps = {Step("RUN", {"seq 1 25000"})};
  Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
  std::vector<std::string> logs;
  ASSERT_EQ(Wait(info, logs).Status, "ready");
  ASSERT_GT(logs.size(), 19000u);
  // 20,000 kept, the summary of the dropped ones, and the creation line.
  EXPECT_LE(logs.size(), 20002u);
  // The lines of the step come in order: 1, 2, 3, ...
  std::size_t first = 0;
  while (first < logs.size() && logs[first] != "1") ++first;
  ASSERT_LT(first + 100, logs.size());
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(logs[first + i], std::to_string(i + 1));
  }
  EXPECT_NE(logs.back().find("more log lines were not kept"), std::string::npos)
      << logs.back();
}

TEST_F(TemplateBuildsTest, RegistryImagesFailClearlyAndBadRequestsAre400) {
  e2b::TemplateInfo info = NewTemplate("it-image-" + RandomHex(4));
  e2b::StartBuildConfig cfg;
  cfg.FromImage = "python:3.11";
  Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
  std::vector<std::string> logs;
  e2b::BuildStatus status = Wait(info, logs);
  ASSERT_EQ(status.Status, "error");
  ASSERT_TRUE(status.Reason.has_value());
  EXPECT_NE(status.Reason->Message.find("python:3.11"), std::string::npos);
  EXPECT_NE(status.Reason->Message.find("registry"), std::string::npos);
  // Started twice: a conflict. A COPY whose files never came: 400.
  EXPECT_THROW(Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg),
               e2b::Error);
  e2b::TemplateInfo other = NewTemplate("it-nofiles-" + RandomHex(4));
  e2b::StartBuildConfig copy;
  copy.Steps = {Step("COPY", {"files", "/x"}, std::string(64, 'a'))};
  EXPECT_THROW(
      Client().StartTemplateBuild(other.TemplateID, other.BuildID, copy),
      e2b::InvalidArgumentError);
  // Upload links take the link's token, not a guess.
  const std::string hash(64, 'b');
  e2b::BuildFileStatus link = Client().CheckBuildFiles(other.TemplateID, hash);
  ASSERT_FALSE(link.Present);
  std::string forged =
      link.URL.substr(0, link.URL.find("token=") + 6) + std::string(64, '0');
  std::istringstream body("not a tar");
  EXPECT_THROW(Client().UploadBuildFiles(forged, body), e2b::Error);
  EXPECT_FALSE(Client().CheckBuildFiles(other.TemplateID, hash).Present);
}

// The fluent builder (Go's TemplateBuilder) against the build service: its
// bundle, hash and steps are what e2b-local builds from.
TEST_F(TemplateBuildsTest, TheBuilderBuildsAndReusesATemplate) {
  const std::string ctx = LocalServer::Shared().TempDir() + "/builder-ctx";
  ASSERT_EQ(std::system(("mkdir -p '" + ctx + "/site/css'").c_str()), 0);
  std::ofstream(ctx + "/site/index.html") << "<p>built</p>\n";
  std::ofstream(ctx + "/site/css/a.css") << "p{}\n";
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(ctx);
  struct Restore {
    std::filesystem::path dir;
    ~Restore() {
      std::error_code ec;
      std::filesystem::current_path(dir, ec);
    }
  } restore{previous};

  e2b::TemplateBuilder tmpl = e2b::NewTemplate();
  tmpl.FromBaseImage()
      .SetUser("user")
      .SetWorkdir("/srv/site")
      .Copy("site", "/srv/site/")
      .SetEnvs({{"B", "2"}, {"A", "1"}})
      .RunCmd("ls -R > listing.txt")
      .SetStartCmd("python3 -m http.server 8000")
      .SetReadyCmd(e2b::WaitForPort(8000));
  const std::string name = "it-builder-" + RandomHex(4);
  std::vector<std::string> logs;
  e2b::BuildConfig cfg;
  cfg.Name = name;
  cfg.OnLog = [&logs](const e2b::BuildLogEntry& e) {
    logs.push_back(e.Message);
  };
  const e2b::BuildResult built = tmpl.Build(Client(), cfg);
  EXPECT_FALSE(built.TemplateID.empty());
  EXPECT_NE(Join(logs).find("Template is ready"), std::string::npos)
      << Join(logs);

  e2b::SandboxConfig sandbox_cfg = Config();
  sandbox_cfg.Template = name;
  e2b::Sandbox sb = NewSandbox(sandbox_cfg);
  auto run = [&sb](const std::string& cmd) {
    return sb.Commands.Run("bash", {"-c", cmd}).Stdout;
  };
  EXPECT_EQ(run("curl -s http://127.0.0.1:8000/css/a.css"), "p{}\n");
  EXPECT_EQ(run("echo $A$B; whoami; pwd; stat -c %U index.html"),
            "12\nuser\n/srv/site\nuser\n");
  EXPECT_NE(run("cat listing.txt").find("index.html"), std::string::npos);

  // Built again under another name: the files are not uploaded again and
  // every step comes from the cache.
  std::vector<std::string> again;
  cfg.Name = name + "-again";
  cfg.OnLog = [&again](const e2b::BuildLogEntry& e) {
    again.push_back(e.Message);
  };
  tmpl.Build(Client(), cfg);
  EXPECT_NE(Join(again).find("CACHED [3/5] COPY"), std::string::npos)
      << Join(again);

  // A failing command is a TemplateBuildError naming the step.
  e2b::TemplateBuilder failing = e2b::NewTemplate();
  failing.FromTemplate("base").RunCmd("exit 9");
  e2b::BuildConfig fail_cfg;
  fail_cfg.Name = name + "-fail";
  try {
    failing.Build(Client(), fail_cfg);
    ADD_FAILURE() << "the build did not fail";
  } catch (const e2b::TemplateBuildError& e) {
    EXPECT_EQ(e.Reason().Step, "1");
    EXPECT_NE(e.Reason().Message.find("exit status 9"), std::string::npos)
        << e.Reason().Message;
  }
}

// FromImage offline: an image in e2b-local's images directory, as an OCI
// layout, an oci-archive and a docker-archive, two layers with a whiteout. The
// template is the image's files (none of the base root filesystem), with
// its config's variables and directory, and a `user` account added.
TEST_F(TemplateBuildsTest, FromImageReadsLocalOciLayoutsAndDockerArchives) {
  const std::string images = LocalServer::Shared().TempDir() + "/state/images";
  const std::string make = std::string(E2B_TEST_DATA_DIR) +
                           "/make_test_image.sh '" + images + "' it/img 1";
  ASSERT_EQ(std::system(make.c_str()), 0) << make;
  for (const std::string image :
       {"it/img-oci:1", "it/img-ociarchive:1", "it/img-docker:1"}) {
    SCOPED_TRACE(image);
    const std::string name = "it-image-" + RandomHex(4);
    e2b::TemplateInfo info = NewTemplate(name);
    e2b::StartBuildConfig cfg;
    cfg.FromImage = image;
    cfg.Steps = {Step("RUN", {"cat /etc/image-release > out && "
                              "echo \"$IMAGE_VAR $(whoami)\" >> out"})};
    Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
    std::vector<std::string> logs;
    e2b::BuildStatus status = Wait(info, logs);
    ASSERT_EQ(status.Status, "ready")
        << (status.Reason ? status.Reason->Message : "") << "\n"
        << Join(logs);

    e2b::SandboxConfig sandbox_cfg = Config();
    sandbox_cfg.Template = name;
    e2b::Sandbox sb = NewSandbox(sandbox_cfg);
    auto run = [&sb](const std::string& cmd) {
      return sb.Commands.Run("bash", {"-c", cmd}).Stdout;
    };
    EXPECT_EQ(run("cat /work/out"), "from-image\nhello root\n");
    EXPECT_EQ(run("pwd; cat /etc/layer2"), "/work\nsecond-layer\n");
    EXPECT_EQ(run("test -e /removed.txt || echo whited-out"), "whited-out\n");
    EXPECT_EQ(run("test -e /etc/debian_version || echo no-base"), "no-base\n");
    EXPECT_EQ(run("id -u user"), "1000\n");
    EXPECT_TRUE(sb.Filesystem.Exists("/etc/image-release"));
  }
  // The second build of an image reuses its import.
  const std::string again = "it-image-again-" + RandomHex(4);
  e2b::TemplateInfo info = NewTemplate(again);
  e2b::StartBuildConfig cfg;
  cfg.FromImage = "it/img-oci:1";
  Client().StartTemplateBuild(info.TemplateID, info.BuildID, cfg);
  std::vector<std::string> logs;
  ASSERT_EQ(Wait(info, logs).Status, "ready") << Join(logs);
  EXPECT_NE(Join(logs).find("CACHED image it/img-oci:1"), std::string::npos)
      << Join(logs);
}

}  // namespace
}  // namespace e2b_test
