#ifndef E2B_LOCAL_BUILD_TEMPLATE_BUILDS_HPP_
#define E2B_LOCAL_BUILD_TEMPLATE_BUILDS_HPP_

// e2b-local's template build service (docs/protocol/template-builds.md):
// POST /v2/templates/{id}/builds/{build} runs the build's steps in a build
// sandbox of its own (the same boundary as every sandbox: a step's command,
// and every byte of an uploaded archive, stay inside it), then copies the
// sandbox's filesystem into a layer new sandboxes start from. The steps'
// context (user, working directory, variables) and the start and ready
// commands become the template's, as E2B keeps them in its template
// metadata. A build with the same source and steps as a ready one reuses it
// unless forced. Builds run one at a time, in order.

#include "sandbox/registry.hpp"
#include "store/build_files.hpp"
#include "store/template_store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace e2b_local {

/// One step as the API sends it (TemplateStep).
struct BuildStepSpec {
  std::string type;  ///< RUN, COPY, ENV, WORKDIR, USER (any case)
  std::vector<std::string> args;
  std::string files_hash;  ///< COPY only
  bool force = false;
};

/// The body of POST /v2/templates/{id}/builds/{build}.
struct BuildRequest {
  std::string from_image;     ///< only E2B's base image works offline
  std::string from_template;  ///< a template on this server
  bool force = false;
  std::vector<BuildStepSpec> steps;
  std::string start_cmd, ready_cmd;
};

/// How long a ready command may keep failing, at build and at sandbox start.
inline constexpr std::chrono::seconds kReadyTimeout{300};

/// Runs a template's start command in a new sandbox (as an envd process,
/// visible to commands.list) and polls its ready command until it exits 0
/// (RegistryOptions::start_template). Throws Failure kInternal when the
/// start fails or the ready command did not succeed within `timeout`.
void StartTemplateCommands(const std::shared_ptr<LocalSandbox>& sandbox,
                           const BuildOutputs& outputs,
                           std::chrono::milliseconds timeout = kReadyTimeout);

class TemplateBuildService {
 public:
  /// Builds that were running when the server last stopped are marked
  /// failed. The stores and the registry must outlive the service.
  /// `images_dir`: where FromImage finds images (build/image_import.hpp);
  /// empty: <state-dir>/images.
  TemplateBuildService(SandboxRegistry& registry, TemplateStore& templates,
                       BuildFileStore& files, std::string images_dir = "");
  ~TemplateBuildService();
  TemplateBuildService(const TemplateBuildService&) = delete;
  TemplateBuildService& operator=(const TemplateBuildService&) = delete;

  /// Queues a waiting build. Throws Failure: kNotFound for an unknown
  /// template or build, kConflict when the build was already started,
  /// kInvalidArgument for a request that cannot build (both sources, a
  /// COPY without its files uploaded, an unknown step type).
  void Start(const std::string& template_id, const std::string& build_id,
             BuildRequest request);

  /// Ends the running build (its sandbox is killed, the build fails),
  /// fails the queued ones, and joins the worker. Idempotent.
  void Shutdown();

 private:
  struct Job {
    std::string template_id, build_id;
    BuildRequest request;
  };
  class Run;

  void Work();
  void Execute(const Job& job);

  SandboxRegistry& registry_;
  TemplateStore& templates_;
  BuildFileStore& files_;
  std::string images_dir_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_BUILD_TEMPLATE_BUILDS_HPP_
