// Builds a small template with the fluent builder and starts a sandbox from
// it: a static site copied from this machine, served by a start command
// that every sandbox of the template runs, with a ready check that holds
// sandbox creation until the server listens. The template is deleted at the
// end, also on failure.
//
// Copy() takes paths relative to the working directory (the build context),
// so the example writes its site into a temporary directory and builds from
// there.
//
// Configuration comes from the environment: E2B_API_KEY, and optionally
// E2B_API_URL / E2B_DOMAIN / E2B_SANDBOX_URL for another server.

#include <e2b/e2b.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>

namespace {

constexpr const char* kPage = "<h1>Hello from an e2b-cpp template</h1>\n";

int Fail(const std::string& message) {
  std::cerr << "error: " << message << std::endl;
  return 1;
}

// Deletes the template when it goes out of scope; a failure is reported,
// not thrown.
class TemplateDeleter {
 public:
  TemplateDeleter(e2b::Client client, std::string template_id)
      : client_(std::move(client)), template_id_(std::move(template_id)) {}
  TemplateDeleter(const TemplateDeleter&) = delete;
  TemplateDeleter& operator=(const TemplateDeleter&) = delete;
  ~TemplateDeleter() {
    try {
      client_.DeleteTemplate(template_id_);
      std::cout << "Deleted template " << template_id_ << std::endl;
    } catch (const std::exception& e) {
      std::cerr << "error: deleting template " << template_id_ << ": "
                << e.what() << std::endl;
    }
  }

 private:
  e2b::Client client_;
  std::string template_id_;
};

// The build context: a temporary directory holding site/index.html, made
// the working directory while it exists.
class BuildContext {
 public:
  BuildContext() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "e2b-template-XXXXXX")
            .string();
    if (::mkdtemp(&tmpl[0]) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "site");
    std::ofstream(dir_ / "site" / "index.html") << kPage;
    previous_ = std::filesystem::current_path();
    std::filesystem::current_path(dir_);
  }
  BuildContext(const BuildContext&) = delete;
  BuildContext& operator=(const BuildContext&) = delete;
  ~BuildContext() {
    std::error_code ec;
    std::filesystem::current_path(previous_, ec);
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  std::filesystem::path dir_, previous_;
};

}  // namespace

int main() {
  using namespace std::chrono_literals;
  try {
    e2b::Client client = e2b::NewClient();
    BuildContext context;

    e2b::TemplateBuilder tmpl = e2b::NewTemplate();
    // Steps from an image run as root; SetUser switches to the sandbox's
    // user, and SetWorkdir makes /srv/site, owned by that user, where the
    // copied files land (owned by them too).
    tmpl.FromBaseImage()
        .SetUser("user")
        .SetWorkdir("/srv/site")
        .Copy("site", "/srv/site/")
        .SetEnvs({{"SITE_NAME", "example"}})
        .RunCmd("echo \"built for $SITE_NAME\" > build-info.txt")
        .SetStartCmd("python3 -m http.server 8000")
        .SetReadyCmd(e2b::WaitForPort(8000));

    e2b::BuildConfig cfg;
    // Names are unique per team: a suffix keeps reruns apart.
    cfg.Name = "example-site-" +
               std::to_string(
                   std::chrono::system_clock::now().time_since_epoch().count() %
                   1000000000);
    cfg.OnLog = [](const e2b::BuildLogEntry& entry) {
      std::cout << "  [build] " << entry.Message << std::endl;
    };
    std::cout << "Building template " << cfg.Name << std::endl;
    const e2b::BuildResult built = tmpl.Build(client, cfg);
    TemplateDeleter deleter(client, built.TemplateID);
    std::cout << "Built template " << built.TemplateID << " (build "
              << built.BuildID << ")" << std::endl;

    e2b::SandboxConfig sandbox_cfg;
    sandbox_cfg.Template = cfg.Name;
    e2b::Sandbox sandbox = client.NewSandbox(sandbox_cfg);
    e2b::SandboxCloser closer(sandbox);
    std::cout << "Sandbox created: " << sandbox.ID << std::endl;

    // The start command is serving already: creation waited for it.
    const e2b::CommandResult page =
        sandbox.Commands.Run("curl", {"-s", "http://127.0.0.1:8000/index.html"},
                             e2b::WithTimeout(30s));
    std::cout << "Served by the start command: " << page.Stdout;
    if (page.Stdout != kPage) return Fail("the site is not being served");

    const e2b::CommandResult info =
        sandbox.Commands.Run("cat", {"build-info.txt"}, e2b::WithTimeout(30s));
    std::cout << "Written at build time, read from the template's workdir: "
              << info.Stdout;
    if (info.Stdout != "built for example\n") {
      return Fail("the build step's file is missing: " + info.Stderr);
    }
    std::cout << "Done." << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
}
