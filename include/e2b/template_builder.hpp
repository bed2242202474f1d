#ifndef E2B_TEMPLATE_BUILDER_HPP_
#define E2B_TEMPLATE_BUILDER_HPP_

// The fluent template builder of Go HEAD (template_builder.go): collect the
// steps, then Build() runs CreateTemplate, the file uploads of the copy
// steps, StartTemplateBuild and the status polling. Where e2b-cpp sends what
// the E2B server and the official JS SDK expect instead of what Go HEAD
// sends, docs/API.md and docs/protocol/template-builds.md say so.

#include <e2b/client.hpp>
#include <e2b/context.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace e2b {

/// Where a template build is, for BuildConfig::OnProgress. An e2b-cpp
/// addition.
struct BuildProgress {
  /// "uploading": the files of COPY step `Step` are checked and, unless
  /// the server has them, uploaded (bytes: BuildConfig::UploadProgress);
  /// "building": the server reported a new Status (Build only).
  std::string Stage;
  /// The 1-based step of the builder this concerns ("uploading"), or 0.
  int Step = 0;
  /// How many steps the builder has.
  int StepCount = 0;
  /// "building": the server's status ("waiting", "building", "ready",
  /// "error"); empty while uploading.
  std::string Status;
};

/// Configuration of Build and BuildInBackground. Go: BuildConfig.
struct BuildConfig {
  /// The template name (required); may carry a tag: "my-template:v1".
  std::string Name;
  /// Tags for the build.
  std::vector<std::string> Tags;
  /// CPU cores for sandbox instances (0 = server default).
  int CPUCount = 0;
  /// Memory in MiB for sandbox instances (0 = server default).
  int MemoryMB = 0;
  /// Forces a full rebuild, ignoring every cache.
  bool SkipCache = false;
  /// Called once for each log entry of the build, in order, on the thread
  /// that called Build (between its status polls). Not used by
  /// BuildInBackground. An exception it throws ends Build.
  std::function<void(const BuildLogEntry&)> OnLog;
  /// Called at each stage change (see BuildProgress): before each COPY
  /// step's files are checked, and, in Build, when a status poll brings a
  /// status other than the last one. Same thread rules as OnLog. An
  /// e2b-cpp addition.
  std::function<void(const BuildProgress&)> OnProgress;
  /// Upload progress of each COPY step's file bundle (ProgressFunc:
  /// bytes of that bundle, its size as the total); not called for a
  /// bundle the server already has. An e2b-cpp addition.
  ProgressFunc UploadProgress;
};

/// What a build produced. Go: BuildResult.
struct BuildResult {
  /// The template that was built.
  std::string TemplateID;
  /// The build.
  std::string BuildID;
  /// The template's names (with tags).
  std::vector<std::string> Names;
  /// Whether the template is public.
  bool Public = false;
};

/// Collects the steps of a template build; each step method returns the
/// builder for chaining. Copyable; Build does not change it, so one builder
/// can be built several times. Go: TemplateBuilder.
class TemplateBuilder {
 public:
  /// Base Docker image, e.g. "python:3.11"; replaces FromTemplate. After
  /// SkipCache it forces the whole build. Go: FromImage.
  TemplateBuilder& FromImage(const std::string& image);
  /// Base E2B template to extend; replaces FromImage. Go: FromTemplate.
  TemplateBuilder& FromTemplate(const std::string& template_id);
  /// The default E2B base image (neither FromImage nor FromTemplate).
  /// Go: FromBaseImage.
  TemplateBuilder& FromBaseImage();

  /// A RUN step: a shell command run during the build. Go: RunCmd.
  TemplateBuilder& RunCmd(const std::string& cmd);
  /// A COPY step: `src` (a file or directory, relative to the working
  /// directory at Build time, the build context; absolute or escaping with
  /// ".." is refused by Build) copied to `dest` in the template. Go: Copy.
  TemplateBuilder& Copy(const std::string& src, const std::string& dest);
  /// An ENV step setting every variable of `envs`. Go: SetEnvs.
  TemplateBuilder& SetEnvs(const std::map<std::string, std::string>& envs);
  /// A WORKDIR step for the steps after it. Go: SetWorkdir.
  TemplateBuilder& SetWorkdir(const std::string& dir);
  /// A USER step for the steps after it. Go: SetUser.
  TemplateBuilder& SetUser(const std::string& user);
  /// Installs Debian packages with apt-get, as root whatever SetUser said
  /// (the JS SDK's command). Go: AptInstall.
  TemplateBuilder& AptInstall(const std::vector<std::string>& packages);
  /// `pip install <packages>` as root (a system-wide install, as the JS
  /// SDK's default); no packages installs ".". Go: PipInstall.
  TemplateBuilder& PipInstall(const std::vector<std::string>& packages);
  /// `npm install -g <packages>` as root. Go: NpmInstall.
  TemplateBuilder& NpmInstall(const std::vector<std::string>& packages);
  /// The steps added after this call skip the cache; before FromImage,
  /// FromTemplate or FromBaseImage it forces the whole build. Go: SkipCache.
  TemplateBuilder& SkipCache();

  /// Command run when a sandbox starts from the template. Go: SetStartCmd.
  TemplateBuilder& SetStartCmd(const std::string& cmd);
  /// Readiness check that must exit 0 (see the WaitFor* helpers).
  /// Go: SetReadyCmd.
  TemplateBuilder& SetReadyCmd(const std::string& cmd);

  /// Creates the template, uploads the files of the copy steps the server
  /// does not have yet, starts the build and polls its status (every 200
  /// ms) until it is "ready", handing each log entry to cfg.OnLog. Throws
  /// TemplateBuildError when the build ends "error" (after the remaining
  /// logs went to OnLog), InvalidArgumentError (status 0) before any
  /// request when cfg.Name is empty or a copy source is absolute, escapes
  /// the working directory or does not exist. Go: Build.
  BuildResult Build(const Context& ctx, const Client& client,
                    const BuildConfig& cfg) const;
  /// Build without a Context (Context::Background()).
  BuildResult Build(const Client& client, const BuildConfig& cfg) const;

  /// Build without the polling: returns once the build has started.
  /// Go: BuildInBackground.
  BuildResult BuildInBackground(const Context& ctx, const Client& client,
                                const BuildConfig& cfg) const;
  /// BuildInBackground without a Context (Context::Background()).
  BuildResult BuildInBackground(const Client& client,
                                const BuildConfig& cfg) const;

 private:
  void Validate(const BuildConfig& cfg) const;
  TemplateStep Step(std::string type, std::vector<std::string> args) const;
  void EscalateForce();
  BuildResult CreateUploadAndStart(const Context& ctx, const Client& client,
                                   const BuildConfig& cfg) const;

  std::string from_image_;
  std::string from_template_;
  bool force_ = false;             // template-wide force
  bool force_next_layer_ = false;  // force for the steps that follow
  std::vector<TemplateStep> steps_;
  std::string start_cmd_;
  std::string ready_cmd_;
};

/// A new, empty builder. Go: NewTemplate.
TemplateBuilder NewTemplate();

/// A ready check waiting for a TCP port to listen. Go: WaitForPort.
std::string WaitForPort(int port);
/// A ready check polling `url` until it answers `status_code`.
/// Go: WaitForURL.
std::string WaitForURL(const std::string& url, int status_code);
/// A ready check waiting for a process named `name`. Go: WaitForProcess.
std::string WaitForProcess(const std::string& name);
/// A ready check waiting for the file `path` to exist. Go: WaitForFile.
std::string WaitForFile(const std::string& path);
/// A ready check sleeping `ms` milliseconds. Go: WaitForTimeout.
std::string WaitForTimeout(int ms);

}  // namespace e2b

#endif  // E2B_TEMPLATE_BUILDER_HPP_
