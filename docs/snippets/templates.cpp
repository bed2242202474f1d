// Snippets of docs/guide/templates.md: build a template from steps, start a
// sandbox from it, delete it. Runs against E2B or e2b-local and exits
// non-zero when something differs.

#include <e2b/e2b.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>

int main() {
  try {
    e2b::Client client = e2b::NewClient();
    const std::string name =
        "docs-template-" +
        std::to_string(
            std::chrono::system_clock::now().time_since_epoch().count() %
            1000000000);

    // [START templates_build]
    e2b::TemplateBuilder builder =
        e2b::NewTemplate()
            .FromBaseImage()
            .SetEnvs({{"APP_MODE", "docs"}})
            .RunCmd("mkdir -p /srv/app && echo ready > /srv/app/status")
            .SetWorkdir("/srv/app");

    e2b::BuildConfig build;
    build.Name = name;
    build.OnLog = [](const e2b::BuildLogEntry& entry) {
      std::cout << "[build] " << entry.Message << "\n";
    };
    e2b::BuildResult built = builder.Build(client, build);
    // [END templates_build]

    // [START templates_use]
    e2b::SandboxConfig cfg;
    cfg.Template = built.TemplateID;  // or one of built.Names
    e2b::Sandbox sandbox = client.NewSandbox(cfg);
    e2b::CommandResult status =
        sandbox.Commands.Run("cat", {"/srv/app/status"});
    sandbox.Close();

    client.DeleteTemplate(built.TemplateID);
    // [END templates_use]

    if (status.Stdout != "ready\n") {
      std::cerr << "error: the template's file is missing\n";
      return 1;
    }
    return 0;
  } catch (const e2b::TemplateBuildError& e) {
    std::cerr << "error: build failed at step " << e.Reason().Step << ": "
              << e.Message() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
