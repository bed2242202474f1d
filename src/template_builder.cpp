#include "internal/build_bundle.hpp"

#include <e2b/errors.hpp>
#include <e2b/template_builder.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>
#include <utility>

namespace e2b {
namespace {

namespace fs = std::filesystem;

// Go polls every 200 ms.
constexpr std::chrono::milliseconds kPollInterval{200};

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

// Go sleeps and then looks at its context; this sleep ends as soon as the
// context is done.
void SleepUnlessDone(const Context& ctx, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  for (;;) {
    ctx.ThrowIfDone("template build");
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - now, std::chrono::milliseconds(10)));
  }
}

fs::path BuildContextDir() {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (ec) {
    throw Error(0, "template files: cannot read the working directory: " +
                       ec.message());
  }
  return cwd;
}

void ReportUploading(const BuildConfig& cfg, std::size_t index,
                     std::size_t count) {
  if (!cfg.OnProgress) return;
  BuildProgress progress;
  progress.Stage = "uploading";
  progress.Step = static_cast<int>(index + 1);
  progress.StepCount = static_cast<int>(count);
  cfg.OnProgress(progress);
}

// Reports the server's status when it differs from the last one reported.
void ReportStatus(const BuildConfig& cfg, const std::string& status,
                  int step_count, std::string& last) {
  if (!cfg.OnProgress || status == last) return;
  last = status;
  BuildProgress progress;
  progress.Stage = "building";
  progress.StepCount = step_count;
  progress.Status = status;
  cfg.OnProgress(progress);
}

void DeliverLogs(const BuildStatus& status, const BuildConfig& cfg) {
  if (!cfg.OnLog) return;
  for (const auto& entry : status.LogEntries) cfg.OnLog(entry);
}

// After a terminal status: the log entries that came in since, until a
// poll brings none. Go: drainLogs.
void DrainLogs(const Context& ctx, const Client& client,
               const std::string& template_id, const std::string& build_id,
               int offset, const BuildConfig& cfg) {
  for (;;) {
    ctx.ThrowIfDone("template build");
    const BuildStatus status = client.GetBuildStatus(
        ctx, template_id, build_id, WithBuildStatusLogsOffset(offset));
    if (status.LogEntries.empty()) return;
    DeliverLogs(status, cfg);
    offset += static_cast<int>(status.LogEntries.size());
  }
}

// Polls until "ready" or "error". Go: pollBuild.
void PollBuild(const Context& ctx, const Client& client,
               const std::string& template_id, const std::string& build_id,
               const BuildConfig& cfg, int step_count) {
  int offset = 0;
  std::string last_status;
  for (;;) {
    ctx.ThrowIfDone("template build");
    const BuildStatus status = client.GetBuildStatus(
        ctx, template_id, build_id, WithBuildStatusLogsOffset(offset));
    DeliverLogs(status, cfg);
    ReportStatus(cfg, status.Status, step_count, last_status);
    offset += static_cast<int>(status.LogEntries.size());
    if (status.Status == "ready") {
      DrainLogs(ctx, client, template_id, build_id, offset, cfg);
      return;
    }
    if (status.Status == "error") {
      // As Go: the failure is the build's, whatever the draining meets.
      try {
        DrainLogs(ctx, client, template_id, build_id, offset, cfg);
      } catch (const Error&) {
      }
      throw TemplateBuildError(template_id, build_id,
                               status.Reason.value_or(BuildStatusReason{}));
    }
    SleepUnlessDone(ctx, kPollInterval);
  }
}

// Bundles each COPY step's files into a temporary file, fills in its
// FilesHash and uploads the bundle unless the server has it. Go:
// processFileBundles.
void ProcessFileBundles(const Context& ctx, const Client& client,
                        const std::string& template_id,
                        std::vector<TemplateStep>& steps,
                        const BuildConfig& cfg) {
  const fs::path context_dir = BuildContextDir();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    TemplateStep& step = steps[i];
    if (step.Type != "COPY") continue;
    ReportUploading(cfg, i, steps.size());
    internal::TempFile bundle;
    {
      std::ofstream out(bundle.path(), std::ios::binary | std::ios::trunc);
      if (!out) {
        throw Error(0,
                    "template files: cannot write " + bundle.path().string());
      }
      step.FilesHash = internal::WriteBuildBundle(context_dir, step.Args[0],
                                                  step.Args[1], out);
      out.close();
      if (!out) {
        throw Error(0,
                    "template files: cannot write " + bundle.path().string());
      }
    }
    const BuildFileStatus status =
        client.CheckBuildFiles(ctx, template_id, step.FilesHash);
    if (status.Present) continue;
    std::ifstream in(bundle.path(), std::ios::binary);
    if (!in) {
      throw Error(0, "template files: cannot read " + bundle.path().string());
    }
    client.UploadBuildFiles(ctx, status.URL, in, cfg.UploadProgress);
  }
}

}  // namespace

TemplateBuilder NewTemplate() { return TemplateBuilder(); }

void TemplateBuilder::EscalateForce() {
  if (force_next_layer_) {
    force_ = true;
    force_next_layer_ = false;
  }
}

TemplateStep TemplateBuilder::Step(std::string type,
                                   std::vector<std::string> args) const {
  TemplateStep step;
  step.Type = std::move(type);
  step.Args = std::move(args);
  step.Force = force_next_layer_;
  return step;
}

TemplateBuilder& TemplateBuilder::FromImage(const std::string& image) {
  from_image_ = image;
  from_template_.clear();
  EscalateForce();
  return *this;
}

TemplateBuilder& TemplateBuilder::FromTemplate(const std::string& template_id) {
  from_template_ = template_id;
  from_image_.clear();
  EscalateForce();
  return *this;
}

TemplateBuilder& TemplateBuilder::FromBaseImage() {
  from_image_.clear();
  from_template_.clear();
  EscalateForce();
  return *this;
}

TemplateBuilder& TemplateBuilder::RunCmd(const std::string& cmd) {
  steps_.push_back(Step("RUN", {cmd}));
  return *this;
}

TemplateBuilder& TemplateBuilder::Copy(const std::string& src,
                                       const std::string& dest) {
  steps_.push_back(Step("COPY", {src, dest}));
  return *this;
}

// The E2B server reads ENV args as key, value pairs (the JS SDK's form);
// Go HEAD's "K=V" strings would be misread.
TemplateBuilder& TemplateBuilder::SetEnvs(
    const std::map<std::string, std::string>& envs) {
  std::vector<std::string> args;
  args.reserve(2 * envs.size());
  for (const auto& [key, value] : envs) {  // a std::map: keys sorted
    args.push_back(key);
    args.push_back(value);
  }
  steps_.push_back(Step("ENV", std::move(args)));
  return *this;
}

TemplateBuilder& TemplateBuilder::SetWorkdir(const std::string& dir) {
  steps_.push_back(Step("WORKDIR", {dir}));
  return *this;
}

TemplateBuilder& TemplateBuilder::SetUser(const std::string& user) {
  steps_.push_back(Step("USER", {user}));
  return *this;
}

// The installs run as root (a RUN step's second arg) as in the JS SDK, so
// that they work after SetUser("user").
TemplateBuilder& TemplateBuilder::AptInstall(
    const std::vector<std::string>& packages) {
  steps_.push_back(
      Step("RUN", {"apt-get update && DEBIAN_FRONTEND=noninteractive "
                   "DEBCONF_NOWARNINGS=yes apt-get install -y " +
                       Join(packages),
                   "root"}));
  return *this;
}

TemplateBuilder& TemplateBuilder::PipInstall(
    const std::vector<std::string>& packages) {
  const std::string what = packages.empty() ? "." : Join(packages);
  steps_.push_back(Step("RUN", {"pip install " + what, "root"}));
  return *this;
}

TemplateBuilder& TemplateBuilder::NpmInstall(
    const std::vector<std::string>& packages) {
  steps_.push_back(Step("RUN", {"npm install -g " + Join(packages), "root"}));
  return *this;
}

TemplateBuilder& TemplateBuilder::SkipCache() {
  force_next_layer_ = true;
  return *this;
}

TemplateBuilder& TemplateBuilder::SetStartCmd(const std::string& cmd) {
  start_cmd_ = cmd;
  return *this;
}

TemplateBuilder& TemplateBuilder::SetReadyCmd(const std::string& cmd) {
  ready_cmd_ = cmd;
  return *this;
}

void TemplateBuilder::Validate(const BuildConfig& cfg) const {
  if (cfg.Name.empty()) {
    throw InvalidArgumentError("template name is required in BuildConfig", 0);
  }
  for (const TemplateStep& step : steps_) {
    if (step.Type != "COPY") continue;
    const std::string rel = internal::NormalizeCopySource(step.Args[0]);
    const fs::path context_dir = BuildContextDir();
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(context_dir / rel, ec))) {
      throw InvalidArgumentError("Copy: no file or directory \"" +
                                     step.Args[0] + "\" in the build context " +
                                     context_dir.string(),
                                 0);
    }
  }
}

BuildResult TemplateBuilder::CreateUploadAndStart(
    const Context& ctx, const Client& client, const BuildConfig& cfg) const {
  Validate(cfg);
  CreateTemplateConfig create;
  create.Name = cfg.Name;
  create.Tags = cfg.Tags;
  create.CPUCount = cfg.CPUCount;
  create.MemoryMB = cfg.MemoryMB;
  const TemplateInfo info = client.CreateTemplate(ctx, create);

  StartBuildConfig start;
  start.FromImage = from_image_;
  start.FromTemplate = from_template_;
  start.Force = force_ || cfg.SkipCache;
  start.Steps = steps_;
  start.StartCmd = start_cmd_;
  start.ReadyCmd = ready_cmd_;
  ProcessFileBundles(ctx, client, info.TemplateID, start.Steps, cfg);
  client.StartTemplateBuild(ctx, info.TemplateID, info.BuildID, start);

  BuildResult result;
  result.TemplateID = info.TemplateID;
  result.BuildID = info.BuildID;
  result.Names = info.Names;
  result.Public = info.Public;
  return result;
}

BuildResult TemplateBuilder::Build(const Context& ctx, const Client& client,
                                   const BuildConfig& cfg) const {
  BuildResult result = CreateUploadAndStart(ctx, client, cfg);
  PollBuild(ctx, client, result.TemplateID, result.BuildID, cfg,
            static_cast<int>(steps_.size()));
  return result;
}

BuildResult TemplateBuilder::Build(const Client& client,
                                   const BuildConfig& cfg) const {
  return Build(Context::Background(), client, cfg);
}

BuildResult TemplateBuilder::BuildInBackground(const Context& ctx,
                                               const Client& client,
                                               const BuildConfig& cfg) const {
  return CreateUploadAndStart(ctx, client, cfg);
}

BuildResult TemplateBuilder::BuildInBackground(const Client& client,
                                               const BuildConfig& cfg) const {
  return BuildInBackground(Context::Background(), client, cfg);
}

// ---- the ready checks: Go's command strings ----

std::string WaitForPort(int port) {
  return "while ! ss -tln | grep -q ':" + std::to_string(port) +
         " '; do sleep 0.1; done";
}

std::string WaitForURL(const std::string& url, int status_code) {
  return "while [ \"$(curl -s -o /dev/null -w '%{http_code}' '" + url +
         "')\" != \"" + std::to_string(status_code) +
         "\" ]; do sleep 0.1; done";
}

std::string WaitForProcess(const std::string& name) {
  return "while ! pgrep -x '" + name + "' > /dev/null; do sleep 0.1; done";
}

std::string WaitForFile(const std::string& path) {
  return "while [ ! -f '" + path + "' ]; do sleep 0.1; done";
}

std::string WaitForTimeout(int ms) {
  char seconds[64];
  std::snprintf(seconds, sizeof seconds, "%.1f", ms / 1000.0);
  return std::string("sleep ") + seconds;
}

}  // namespace e2b
