#include "internal/ascii.hpp"
#include "internal/client_state.hpp"
#include "internal/control_plane.hpp"
#include "internal/control_plane_api.hpp"
#include "internal/envd_api.hpp"
#include "internal/file_streams.hpp"
#include "internal/json_mapping.hpp"
#include "internal/reap_selection.hpp"
#include "internal/retry.hpp"
#include "internal/url.hpp"
#include "internal/volume_content_api.hpp"

#include <e2b/client.hpp>
#include <e2b/errors.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <istream>
#include <optional>
#include <string_view>
#include <utility>

namespace e2b {

// Defined in http_client.cpp; declared by the friend declaration in
// HTTPClient and found by argument-dependent lookup.
std::shared_ptr<internal::HttpTransport> TransportOf(const HTTPClient& client);

namespace {

using internal::EqualsNoCase;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string TrimTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         EqualsNoCase(text.substr(0, prefix.size()), prefix);
}

// A host name (optionally with a port) that can follow "49983-<id>." in a
// URL: letters, digits, '-', '.', ':' and the brackets of an IPv6 literal.
bool IsDomainText(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

// Sandbox IDs become a host-name label ("49983-<id>.<domain>") and a header
// value, so they must be plain text.
bool IsSandboxIdText(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Client::Client(std::shared_ptr<internal::ClientState> state)
    : state_(std::move(state)) {}

Client internal::ClientAccess::Make(std::shared_ptr<ClientState> state) {
  return Client(std::move(state));
}

namespace internal {

std::shared_ptr<ClientState> ResolveClientState(const ClientConfig& cfg) {
  auto state = std::make_shared<ClientState>();

  state->api_key = cfg.APIKey.empty() ? Env("E2B_API_KEY") : cfg.APIKey;
  if (state->api_key.empty()) {
    throw Error(0, "no API key: set ClientConfig.APIKey or E2B_API_KEY");
  }
  if (state->api_key.find_first_of("\r\n") != std::string::npos) {
    throw Error(0, "the API key contains a line break");
  }

  state->debug = EqualsNoCase(Env("E2B_DEBUG"), "true");
  const std::string env_domain = Env("E2B_DOMAIN");
  const std::string env_sandbox_url = Env("E2B_SANDBOX_URL");
  const bool env_sandbox_url_is_url =
      env_sandbox_url.find("://") != std::string::npos;

  std::string api = cfg.APIBaseURL;
  if (api.empty()) api = Env("E2B_API_URL");
  if (api.empty()) {
    api = state->debug
              ? std::string("http://localhost:3000")
              : "https://api." +
                    (env_domain.empty() ? std::string("e2b.app") : env_domain);
  }
  state->api_base_url = TrimTrailingSlashes(std::move(api));
  ValidateBaseUrl(state->api_base_url, "API base URL");
  state->plain_http = StartsWithNoCase(state->api_base_url, "http://");

  std::string sandbox_url = cfg.SandboxURL;
  if (sandbox_url.empty() && env_sandbox_url_is_url) {
    sandbox_url = env_sandbox_url;
  }
  if (sandbox_url.empty() && state->debug) {
    sandbox_url = "http://localhost:49983";
  }
  state->sandbox_url = TrimTrailingSlashes(std::move(sandbox_url));
  if (!state->sandbox_url.empty()) {
    ValidateBaseUrl(state->sandbox_url, "sandbox URL");
  }

  std::string domain = cfg.SandboxDomain;
  if (domain.empty() && !env_sandbox_url_is_url) domain = env_sandbox_url;
  if (domain.empty()) domain = env_domain;
  if (domain.empty()) domain = "e2b.app";
  if (!IsDomainText(domain)) {
    throw InvalidArgumentError("invalid sandbox domain \"" + domain +
                                   "\": expected a host name such as e2b.app",
                               0);
  }
  state->sandbox_domain = std::move(domain);

  if (cfg.RequestTimeout.count() < 0) {
    throw InvalidArgumentError(
        "ClientConfig.RequestTimeout must not be negative", 0);
  }
  state->request_timeout = cfg.RequestTimeout;
  ValidateRetryPolicy(cfg.Retry);
  state->retry = cfg.Retry;
  state->transport = cfg.HTTPClient ? TransportOf(*cfg.HTTPClient)
                                    : internal::MakeCurlTransport({});
  state->observability = ResolveObservability(cfg);
  state->envd_read_transport = MakeRetryingTransport(
      state->transport, state->retry, EnvdRetryRule(), state->observability);
  state->write_transport = MakeRetryingTransport(
      state->transport, state->retry, UnsentRetryRule(), state->observability);
  RestControlPlaneOptions options;
  options.api_key = state->api_key;
  options.api_base_url = state->api_base_url;
  options.request_timeout = state->request_timeout;
  const auto api_read_transport = MakeRetryingTransport(
      state->transport, state->retry, ApiRetryRule(), state->observability);
  options.idempotent_transport = api_read_transport;
  options.write_transport = state->write_transport;
  state->control_plane = MakeRestControlPlaneApi(std::move(options));
  RestVolumeContentOptions volume_content;
  volume_content.api_base_url = state->api_base_url;
  volume_content.api_key = state->api_key;
  volume_content.idempotent_transport = api_read_transport;
  volume_content.write_transport = state->write_transport;
  state->volume_content = MakeRestVolumeContentApi(std::move(volume_content));
  ConnectEnvdOptions envd;
  envd.request_timeout = state->request_timeout;
  envd.idempotent_transport = state->envd_read_transport;
  envd.write_transport = state->write_transport;
  state->envd = MakeConnectEnvdApi(std::move(envd));
  return state;
}

std::shared_ptr<SandboxState> NewSandboxState(
    std::shared_ptr<const ClientState> client, const CreatedSandbox& created,
    const std::string& operation) {
  if (!IsSandboxIdText(created.SandboxID)) {
    ThrowMalformedResponse(operation,
                           created.SandboxID.empty()
                               ? "no sandboxID"
                               : "sandboxID is not a plain identifier");
  }
  if (!created.Domain.empty() && !IsDomainText(created.Domain)) {
    ThrowMalformedResponse(operation, "domain is not a host name");
  }
  if (created.EnvdAccessToken.find_first_of("\r\n") != std::string::npos) {
    ThrowMalformedResponse(operation, "envdAccessToken contains a line break");
  }
  if (created.TrafficAccessToken.find_first_of("\r\n") != std::string::npos) {
    ThrowMalformedResponse(operation,
                           "trafficAccessToken contains a line break");
  }
  auto sandbox = std::make_shared<SandboxState>();
  sandbox->id = created.SandboxID;
  sandbox->envd_version = created.EnvdVersion;
  sandbox->access_token = created.EnvdAccessToken;
  sandbox->traffic_access_token = created.TrafficAccessToken;
  sandbox->domain =
      created.Domain.empty() ? client->sandbox_domain : created.Domain;
  sandbox->envd_url = EnvdBaseUrl(*client, sandbox->id, sandbox->domain);
  sandbox->api_path = ApiPath({"sandboxes", sandbox->id});
  sandbox->client = std::move(client);
  return sandbox;
}

}  // namespace internal

Client NewClient(const ClientConfig& cfg) {
  return Client(internal::ResolveClientState(cfg));
}

// ---- sandboxes -------------------------------------------------------------

Sandbox Client::NewSandbox(const Context& ctx, const SandboxConfig& cfg) const {
  if (cfg.Timeout < 0) {
    throw InvalidArgumentError("SandboxConfig.Timeout must not be negative", 0);
  }
  const std::string template_id =
      cfg.Template.empty() ? std::string(DefaultTemplate) : cfg.Template;
  const auto created = [&] {
    if (!cfg.Lease) {
      return state_->control_plane->CreateSandbox(ctx, cfg, template_id);
    }
    SandboxConfig leased = cfg;
    leased.Metadata =
        internal::MetadataWithLease(cfg, std::chrono::system_clock::now());
    return state_->control_plane->CreateSandbox(ctx, leased, template_id);
  }();
  return Sandbox(internal::NewSandboxState(state_, created, "POST /sandboxes"));
}

Sandbox Client::NewSandbox(const SandboxConfig& cfg) const {
  return NewSandbox(Context::Background(), cfg);
}

std::vector<SandboxInfo> Client::ListSandboxes(const Context& ctx) const {
  return state_->control_plane->ListSandboxes(ctx);
}

std::vector<SandboxInfo> Client::ListSandboxes() const {
  return ListSandboxes(Context::Background());
}

Sandbox Client::Connect(const Context& ctx, const std::string& sandbox_id,
                        int timeout_seconds) const {
  if (sandbox_id.empty())
    throw InvalidArgumentError("Connect: the sandbox ID is empty", 0);
  if (timeout_seconds < 0) {
    throw InvalidArgumentError("Connect: timeout must not be negative", 0);
  }
  const auto created = state_->control_plane->ConnectSandbox(
      ctx, sandbox_id, timeout_seconds == 0 ? DefaultTimeout : timeout_seconds);
  return Sandbox(internal::NewSandboxState(
      state_, created, "POST /v2/sandboxes/{sandboxID}/connect"));
}

Sandbox Client::Connect(const std::string& sandbox_id,
                        int timeout_seconds) const {
  return Connect(Context::Background(), sandbox_id, timeout_seconds);
}

ListSandboxesV2Result Client::ListSandboxesV2Impl(
    const Context& ctx, const ListSandboxesV2Params& p) const {
  return state_->control_plane->ListSandboxesV2(ctx, p);
}

SandboxPaginator::SandboxPaginator(
    std::shared_ptr<const internal::ClientState> client,
    ListSandboxesV2Params params)
    : client_(std::move(client)),
      params_(std::move(params)),
      next_token_(params_.NextToken.value_or("")) {}

std::vector<SandboxInfo> SandboxPaginator::NextItems(const Context& ctx) {
  if (!has_next_) {
    throw Error(0, "SandboxPaginator: there are no more pages");
  }
  ListSandboxesV2Params page = params_;
  page.NextToken = next_token_;
  auto result = client_->control_plane->ListSandboxesV2(ctx, page);
  // Only a successful fetch moves the cursor, so a failed one can be retried.
  next_token_ = std::move(result.NextToken);
  has_next_ = !next_token_.empty();
  return std::move(result.Sandboxes);
}

std::vector<SandboxInfo> SandboxPaginator::NextItems() {
  return NextItems(Context::Background());
}

bool Client::KillSandbox(const Context& ctx,
                         const std::string& sandbox_id) const {
  if (sandbox_id.empty()) {
    throw InvalidArgumentError("KillSandbox: the sandbox ID is empty", 0);
  }
  return state_->control_plane->KillSandbox(ctx, sandbox_id);
}

bool Client::KillSandbox(const std::string& sandbox_id) const {
  return KillSandbox(Context::Background(), sandbox_id);
}

std::vector<ForkResult> Client::ForkSandboxImpl(const Context& ctx,
                                                const std::string& sandbox_id,
                                                const ForkParams& p) const {
  return Sandbox::ForkByID(state_, ctx, sandbox_id, p);
}

std::map<std::string, SandboxMetric> Client::GetSandboxesMetrics(
    const Context& ctx, const std::vector<std::string>& sandbox_ids) const {
  std::map<std::string, SandboxMetric> out;
  if (sandbox_ids.empty()) return out;
  constexpr std::size_t kMaxIds = 100;
  if (sandbox_ids.size() > kMaxIds) {
    throw InvalidArgumentError(
        "GetSandboxesMetrics: at most 100 sandbox IDs per call, "
        "got " +
            std::to_string(sandbox_ids.size()),
        0);
  }
  for (const auto& id : sandbox_ids) {
    if (id.empty() || id.find(',') != std::string::npos) {
      throw InvalidArgumentError(
          "GetSandboxesMetrics: a sandbox ID is empty or "
          "contains a comma",
          0);
    }
  }
  return state_->control_plane->GetSandboxesMetrics(ctx, sandbox_ids);
}

std::map<std::string, SandboxMetric> Client::GetSandboxesMetrics(
    const std::vector<std::string>& sandbox_ids) const {
  return GetSandboxesMetrics(Context::Background(), sandbox_ids);
}

bool Client::DeleteSnapshot(const Context& ctx,
                            const std::string& snapshot_id) const {
  if (snapshot_id.empty()) {
    throw InvalidArgumentError("DeleteSnapshot: the snapshot ID is empty", 0);
  }
  return state_->control_plane->DeleteSnapshot(ctx, snapshot_id);
}

bool Client::DeleteSnapshot(const std::string& snapshot_id) const {
  return DeleteSnapshot(Context::Background(), snapshot_id);
}

// ---- snapshots -------------------------------------------------------------

ListSnapshotsResult Client::ListSnapshotsImpl(
    const Context& ctx, const ListSnapshotsParams& p) const {
  return state_->control_plane->ListSnapshots(ctx, p);
}

// ---- templates -------------------------------------------------------------

std::vector<TemplateDetail> Client::ListTemplates(const Context& ctx) const {
  return state_->control_plane->ListTemplates(ctx);
}

std::vector<TemplateDetail> Client::ListTemplates() const {
  return ListTemplates(Context::Background());
}

TemplateInfo Client::CreateTemplate(const Context& ctx,
                                    const CreateTemplateConfig& cfg) const {
  if (cfg.Name.empty()) {
    throw InvalidArgumentError("CreateTemplateConfig.Name is required", 0);
  }
  if (cfg.CPUCount < 0 || cfg.MemoryMB < 0) {
    throw InvalidArgumentError(
        "CreateTemplateConfig.CPUCount and MemoryMB must not be "
        "negative",
        0);
  }
  return state_->control_plane->CreateTemplate(ctx, cfg);
}

TemplateInfo Client::CreateTemplate(const CreateTemplateConfig& cfg) const {
  return CreateTemplate(Context::Background(), cfg);
}

void Client::DeleteTemplate(const Context& ctx,
                            const std::string& template_id) const {
  state_->control_plane->DeleteTemplate(ctx, template_id);
}

void Client::DeleteTemplate(const std::string& template_id) const {
  DeleteTemplate(Context::Background(), template_id);
}

GetTemplateResult Client::GetTemplateImpl(const Context& ctx,
                                          const std::string& template_id,
                                          const GetTemplateParams& p) const {
  return state_->control_plane->GetTemplate(ctx, template_id, p);
}

BuildFileStatus Client::CheckBuildFiles(const Context& ctx,
                                        const std::string& template_id,
                                        const std::string& hash) const {
  return state_->control_plane->CheckBuildFiles(ctx, template_id, hash);
}

BuildFileStatus Client::CheckBuildFiles(const std::string& template_id,
                                        const std::string& hash) const {
  return CheckBuildFiles(Context::Background(), template_id, hash);
}

namespace {

// The bytes from `data`'s position to its end when the stream can seek
// (the position is restored), else nullopt. Presigned storage URLs refuse
// chunked bodies, so a known size is worth the two seeks.
std::optional<std::uint64_t> RemainingSize(std::istream& data) {
  const std::istream::pos_type start = data.tellg();
  if (start == std::istream::pos_type(-1)) {
    data.clear();
    return std::nullopt;
  }
  data.seekg(0, std::ios::end);
  const std::istream::pos_type end = data.tellg();
  data.clear();
  data.seekg(start);
  if (end == std::istream::pos_type(-1) || end < start || !data) {
    data.clear();
    data.seekg(start);
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(end - start);
}

}  // namespace

void Client::UploadBuildFiles(const Context& ctx, const std::string& url,
                              std::istream& data) const {
  if (url.empty()) {
    throw InvalidArgumentError("UploadBuildFiles: url is required", 0);
  }
  state_->control_plane->UploadBuildFiles(ctx, url, data, RemainingSize(data));
}

void Client::UploadBuildFiles(const Context& ctx, const std::string& url,
                              std::istream& data,
                              const ProgressFunc& progress) const {
  if (!progress) {
    UploadBuildFiles(ctx, url, data);
    return;
  }
  if (url.empty()) {
    throw InvalidArgumentError("UploadBuildFiles: url is required", 0);
  }
  // Counted where curl reads the body; the size is measured first, so the
  // upload keeps its Content-Length.
  const std::optional<std::uint64_t> size = RemainingSize(data);
  internal::ConcatStream body;
  body.AddStream(data);
  body.SetProgress([&progress, total = size.value_or(0)](std::uint64_t sent) {
    progress(sent, total);
  });
  state_->control_plane->UploadBuildFiles(ctx, url, body, size);
  if (body.Failure()) std::rethrow_exception(body.Failure());
}

void Client::UploadBuildFiles(const std::string& url,
                              std::istream& data) const {
  UploadBuildFiles(Context::Background(), url, data);
}

void Client::StartTemplateBuild(const Context& ctx,
                                const std::string& template_id,
                                const std::string& build_id,
                                const StartBuildConfig& cfg) const {
  state_->control_plane->StartTemplateBuild(ctx, template_id, build_id, cfg);
}

void Client::StartTemplateBuild(const std::string& template_id,
                                const std::string& build_id,
                                const StartBuildConfig& cfg) const {
  StartTemplateBuild(Context::Background(), template_id, build_id, cfg);
}

BuildStatus Client::GetBuildStatusImpl(const Context& ctx,
                                       const std::string& template_id,
                                       const std::string& build_id,
                                       const BuildStatusParams& p) const {
  return state_->control_plane->GetBuildStatus(ctx, template_id, build_id, p);
}

std::vector<BuildLogEntry> Client::GetTemplateBuildLogsImpl(
    const Context& ctx, const std::string& template_id,
    const std::string& build_id, const BuildLogParams& p) const {
  return state_->control_plane->GetTemplateBuildLogs(ctx, template_id, build_id,
                                                     p);
}

}  // namespace e2b
