#ifndef E2B_CLIENT_HPP_
#define E2B_CLIENT_HPP_

#include <e2b/context.hpp>
#include <e2b/http_client.hpp>
#include <e2b/options.hpp>
#include <e2b/sandbox.hpp>
#include <e2b/types.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace e2b {

namespace internal {
struct ClientState;
}  // namespace internal

/// Configuration for NewClient. Explicit values win; empty ones are filled
/// from the environment as the official SDKs do.
struct ClientConfig {
  /// API key; empty = E2B_API_KEY.
  std::string APIKey;
  /// API base URL; empty = E2B_API_URL, else https://api.<E2B_DOMAIN>
  /// (DefaultAPIBaseURL), or http://localhost:3000 when E2B_DEBUG is true.
  std::string APIBaseURL;
  /// Sandbox domain for envd hosts (https://49983-<id>.<domain>); empty =
  /// E2B_SANDBOX_URL when it is a bare domain, else E2B_DOMAIN, else e2b.app.
  std::string SandboxDomain;
  /// Shared HTTP client; null = a new one owned by this Client.
  std::shared_ptr<e2b::HTTPClient> HTTPClient;
  /// Full envd base URL used for every sandbox (e.g. http://127.0.0.1:49983),
  /// routed with E2b-Sandbox-Id headers; empty = E2B_SANDBOX_URL when it
  /// contains "://". Not in the Go seed; the official SDKs' meaning.
  std::string SandboxURL;
  /// Limit for each control-plane call (0 = none). Not in the Go seed (the
  /// official SDKs use 60 s).
  std::chrono::milliseconds RequestTimeout{60000};
};

/// The E2B API client. Cheap to copy: copies share configuration and
/// connections. Thread-safe. Go: *Client.
class Client {
 public:
  /// Creates a sandbox and waits until it is ready. Go: NewSandbox.
  Sandbox NewSandbox(const Context& ctx, const SandboxConfig& cfg = {}) const;
  Sandbox NewSandbox(const SandboxConfig& cfg = {}) const;

  /// Running sandboxes of this API key. Go: ListSandboxes.
  std::vector<SandboxInfo> ListSandboxes(const Context& ctx) const;
  std::vector<SandboxInfo> ListSandboxes() const;

  /// One page of snapshots; options WithSnapshotLimit,
  /// WithSnapshotNextToken, WithSnapshotSandboxID. Go: ListSnapshots.
  template <typename... Opts>
  ListSnapshotsResult ListSnapshots(const Context& ctx,
                                    const Opts&... opts) const {
    return ListSnapshotsImpl(ctx, ApplyOptions(ListSnapshotsParams{}, opts...));
  }
  template <typename... Opts>
  ListSnapshotsResult ListSnapshots(const Opts&... opts) const {
    return ListSnapshots(Context::Background(), opts...);
  }

  /// Templates of this API key. Go: ListTemplates.
  std::vector<TemplateDetail> ListTemplates(const Context& ctx) const;
  std::vector<TemplateDetail> ListTemplates() const;

  /// Registers a template and allocates a build ID (build phase 1).
  /// Go: CreateTemplate.
  TemplateInfo CreateTemplate(const Context& ctx,
                              const CreateTemplateConfig& cfg) const;
  TemplateInfo CreateTemplate(const CreateTemplateConfig& cfg) const;

  /// Deletes a template. Go: DeleteTemplate.
  void DeleteTemplate(const Context& ctx, const std::string& template_id) const;
  void DeleteTemplate(const std::string& template_id) const;

  /// A template with one page of its builds; options
  /// WithTemplateBuildsLimit, WithTemplateBuildsNextToken. Go: GetTemplate.
  template <typename... Opts>
  GetTemplateResult GetTemplate(const Context& ctx,
                                const std::string& template_id,
                                const Opts&... opts) const {
    return GetTemplateImpl(ctx, template_id,
                           ApplyOptions(GetTemplateParams{}, opts...));
  }
  template <typename... Opts>
  GetTemplateResult GetTemplate(const std::string& template_id,
                                const Opts&... opts) const {
    return GetTemplate(Context::Background(), template_id, opts...);
  }

  /// Structured logs of a template build; options WithBuildLog*.
  /// Go: GetTemplateBuildLogs.
  template <typename... Opts>
  std::vector<BuildLogEntry> GetTemplateBuildLogs(
      const Context& ctx, const std::string& template_id,
      const std::string& build_id, const Opts&... opts) const {
    return GetTemplateBuildLogsImpl(ctx, template_id, build_id,
                                    ApplyOptions(BuildLogParams{}, opts...));
  }
  template <typename... Opts>
  std::vector<BuildLogEntry> GetTemplateBuildLogs(
      const std::string& template_id, const std::string& build_id,
      const Opts&... opts) const {
    return GetTemplateBuildLogs(Context::Background(), template_id, build_id,
                                opts...);
  }

 private:
  friend Client NewClient(ClientConfig cfg);
  explicit Client(std::shared_ptr<internal::ClientState> state);
  ListSnapshotsResult ListSnapshotsImpl(const Context& ctx,
                                        const ListSnapshotsParams& p) const;
  GetTemplateResult GetTemplateImpl(const Context& ctx,
                                    const std::string& template_id,
                                    const GetTemplateParams& p) const;
  std::vector<BuildLogEntry> GetTemplateBuildLogsImpl(
      const Context& ctx, const std::string& template_id,
      const std::string& build_id, const BuildLogParams& p) const;

  std::shared_ptr<internal::ClientState> state_;
};

/// Creates a client. Throws Error when no API key is configured (neither
/// cfg.APIKey nor E2B_API_KEY) or a URL is malformed. Go: NewClient.
Client NewClient(ClientConfig cfg = {});

}  // namespace e2b

#endif  // E2B_CLIENT_HPP_
