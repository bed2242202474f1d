#include "internal/ascii.hpp"
#include "internal/client_state.hpp"
#include "internal/control_plane.hpp"
#include "internal/json_mapping.hpp"
#include "internal/retry.hpp"
#include "internal/url.hpp"

#include <e2b/client.hpp>
#include <e2b/errors.hpp>

#include <cstdlib>
#include <string_view>
#include <utility>

namespace e2b {

// Defined in http_client.cpp; declared by the friend declaration in
// HTTPClient and found by argument-dependent lookup.
std::shared_ptr<internal::HttpTransport> TransportOf(const HTTPClient& client);

namespace {

using internal::ApiCall;
using internal::ApiPath;
using internal::CallApi;
using internal::EqualsNoCase;
using internal::NotFoundKind;

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

void AddIf(internal::Query& query, const char* key,
           const std::optional<std::string>& value) {
  if (value) query.Add(key, *value);
}

template <typename Int>
void AddIf(internal::Query& query, const char* key,
           const std::optional<Int>& value) {
  if (value) query.Add(key, std::to_string(*value));
}

}  // namespace

Client::Client(std::shared_ptr<internal::ClientState> state)
    : state_(std::move(state)) {}

namespace internal {

std::shared_ptr<ClientState> ResolveClientState(ClientConfig cfg) {
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
    throw Error(0, "invalid sandbox domain \"" + domain +
                       "\": expected a host name such as e2b.app");
  }
  state->sandbox_domain = std::move(domain);

  if (cfg.RequestTimeout.count() < 0) {
    throw Error(0, "ClientConfig.RequestTimeout must not be negative");
  }
  state->request_timeout = cfg.RequestTimeout;
  ValidateRetryPolicy(cfg.Retry);
  state->retry = cfg.Retry;
  state->transport = cfg.HTTPClient ? TransportOf(*cfg.HTTPClient)
                                    : internal::MakeCurlTransport({});
  state->envd_read_transport =
      MakeRetryingTransport(state->transport, state->retry, EnvdRetryRule());
  state->envd_write_transport =
      MakeRetryingTransport(state->transport, state->retry, UnsentRetryRule());
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
  auto sandbox = std::make_shared<SandboxState>();
  sandbox->id = created.SandboxID;
  sandbox->envd_version = created.EnvdVersion;
  sandbox->access_token = created.EnvdAccessToken;
  sandbox->domain =
      created.Domain.empty() ? client->sandbox_domain : created.Domain;
  sandbox->envd_url = EnvdBaseUrl(*client, sandbox->id, sandbox->domain);
  sandbox->api_path = ApiPath({"sandboxes", sandbox->id});
  sandbox->client = std::move(client);
  return sandbox;
}

}  // namespace internal

Client NewClient(ClientConfig cfg) {
  return Client(internal::ResolveClientState(std::move(cfg)));
}

// ---- sandboxes -------------------------------------------------------------

Sandbox Client::NewSandbox(const Context& ctx, const SandboxConfig& cfg) const {
  if (cfg.Timeout < 0) {
    throw Error(0, "SandboxConfig.Timeout must not be negative");
  }
  const std::string template_id =
      cfg.Template.empty() ? std::string(DefaultTemplate) : cfg.Template;
  ApiCall call;
  call.method = "POST";
  call.path = "/sandboxes";
  call.body = internal::NewSandboxBody(cfg);
  call.success = {201};
  // Unlike the Go SDK, a missing template is a TemplateNotFoundError.
  call.not_found = {NotFoundKind::kTemplate, template_id};
  call.operation = "POST /sandboxes";
  const auto response = CallApi(*state_, ctx, call);

  const auto created = internal::ParseResponse<internal::CreatedSandbox>(
      response.body, call.operation);
  return Sandbox(internal::NewSandboxState(state_, created, call.operation));
}

Sandbox Client::NewSandbox(const SandboxConfig& cfg) const {
  return NewSandbox(Context::Background(), cfg);
}

std::vector<SandboxInfo> Client::ListSandboxes(const Context& ctx) const {
  ApiCall call;
  call.path = "/sandboxes";
  call.success = {200};
  call.operation = "GET /sandboxes";
  const auto response = CallApi(*state_, ctx, call);
  return internal::ParseResponse<std::vector<SandboxInfo>>(response.body,
                                                           call.operation);
}

std::vector<SandboxInfo> Client::ListSandboxes() const {
  return ListSandboxes(Context::Background());
}

Sandbox Client::Connect(const Context& ctx, const std::string& sandbox_id,
                        int timeout_seconds) const {
  if (sandbox_id.empty()) throw Error(0, "Connect: the sandbox ID is empty");
  if (timeout_seconds < 0) {
    throw Error(0, "Connect: timeout must not be negative");
  }
  ApiCall call;
  call.method = "POST";
  call.path = ApiPath({"v2", "sandboxes", sandbox_id, "connect"});
  call.body = nlohmann::json{
      {"timeout", timeout_seconds == 0 ? DefaultTimeout : timeout_seconds}};
  // 200: it was running; 201: it was paused and has been resumed.
  call.success = {200, 201};
  call.not_found = {NotFoundKind::kSandbox, sandbox_id};
  call.invalid_id_is_not_found = true;
  // Connecting twice leaves the sandbox running with the same end time.
  call.idempotent = true;
  call.operation = "POST /v2/sandboxes/{sandboxID}/connect";
  const auto response = CallApi(*state_, ctx, call);
  auto created = internal::ParseResponse<internal::CreatedSandbox>(
      response.body, call.operation);
  return Sandbox(internal::NewSandboxState(state_, created, call.operation));
}

Sandbox Client::Connect(const std::string& sandbox_id,
                        int timeout_seconds) const {
  return Connect(Context::Background(), sandbox_id, timeout_seconds);
}

ListSandboxesV2Result Client::ListSandboxesV2Impl(
    const Context& ctx, const ListSandboxesV2Params& p) const {
  return internal::ListSandboxesV2Page(*state_, ctx, p);
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
  auto result = internal::ListSandboxesV2Page(*client_, ctx, page);
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
    throw Error(0, "KillSandbox: the sandbox ID is empty");
  }
  ApiCall call;
  call.method = "DELETE";
  call.path = ApiPath({"sandboxes", sandbox_id});
  // 404 is an answer here, not a failure: there was nothing to kill.
  call.success = {200, 204, 404};
  call.operation = "DELETE /sandboxes/{sandboxID}";
  return CallApi(*state_, ctx, call).status != 404;
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
    throw Error(0,
                "GetSandboxesMetrics: at most 100 sandbox IDs per call, "
                "got " +
                    std::to_string(sandbox_ids.size()));
  }
  std::string ids;
  for (const auto& id : sandbox_ids) {
    if (id.empty() || id.find(',') != std::string::npos) {
      throw Error(0,
                  "GetSandboxesMetrics: a sandbox ID is empty or "
                  "contains a comma");
    }
    if (!ids.empty()) ids += ',';
    ids += id;
  }
  ApiCall call;
  call.path = "/sandboxes/metrics";
  call.query.Add("sandbox_ids", ids);
  call.success = {200};
  call.operation = "GET /sandboxes/metrics";
  const auto response = CallApi(*state_, ctx, call);
  return internal::ParseSandboxesMetrics(response.body, call.operation);
}

std::map<std::string, SandboxMetric> Client::GetSandboxesMetrics(
    const std::vector<std::string>& sandbox_ids) const {
  return GetSandboxesMetrics(Context::Background(), sandbox_ids);
}

bool Client::DeleteSnapshot(const Context& ctx,
                            const std::string& snapshot_id) const {
  if (snapshot_id.empty()) {
    throw Error(0, "DeleteSnapshot: the snapshot ID is empty");
  }
  ApiCall call;
  call.method = "DELETE";
  call.path = ApiPath({"templates", snapshot_id});
  // A snapshot is a template; 404 means it is already gone.
  call.success = {200, 204, 404};
  call.operation = "DELETE /templates/{snapshotID}";
  return CallApi(*state_, ctx, call).status != 404;
}

bool Client::DeleteSnapshot(const std::string& snapshot_id) const {
  return DeleteSnapshot(Context::Background(), snapshot_id);
}

// ---- snapshots -------------------------------------------------------------

ListSnapshotsResult Client::ListSnapshotsImpl(
    const Context& ctx, const ListSnapshotsParams& p) const {
  ApiCall call;
  call.path = "/snapshots";
  AddIf(call.query, "sandboxID", p.SandboxID);
  AddIf(call.query, "limit", p.Limit);
  AddIf(call.query, "nextToken", p.NextToken);
  call.success = {200};
  call.operation = "GET /snapshots";
  const auto response = CallApi(*state_, ctx, call);
  ListSnapshotsResult result;
  result.Snapshots = internal::ParseResponse<std::vector<SnapshotInfo>>(
      response.body, call.operation);
  result.NextToken = response.Header("X-Next-Token").value_or("");
  return result;
}

// ---- templates -------------------------------------------------------------

std::vector<TemplateDetail> Client::ListTemplates(const Context& ctx) const {
  ApiCall call;
  call.path = "/templates";
  call.success = {200};
  call.operation = "GET /templates";
  const auto response = CallApi(*state_, ctx, call);
  return internal::ParseResponse<std::vector<TemplateDetail>>(response.body,
                                                              call.operation);
}

std::vector<TemplateDetail> Client::ListTemplates() const {
  return ListTemplates(Context::Background());
}

TemplateInfo Client::CreateTemplate(const Context& ctx,
                                    const CreateTemplateConfig& cfg) const {
  if (cfg.Name.empty()) {
    throw Error(0, "CreateTemplateConfig.Name is required");
  }
  if (cfg.CPUCount < 0 || cfg.MemoryMB < 0) {
    throw Error(0,
                "CreateTemplateConfig.CPUCount and MemoryMB must not be "
                "negative");
  }
  ApiCall call;
  call.method = "POST";
  call.path = "/v3/templates";
  call.body = internal::CreateTemplateBody(cfg);
  call.success = {202};
  call.operation = "POST /v3/templates";
  const auto response = CallApi(*state_, ctx, call);
  return internal::ParseResponse<TemplateInfo>(response.body, call.operation);
}

TemplateInfo Client::CreateTemplate(const CreateTemplateConfig& cfg) const {
  return CreateTemplate(Context::Background(), cfg);
}

void Client::DeleteTemplate(const Context& ctx,
                            const std::string& template_id) const {
  ApiCall call;
  call.method = "DELETE";
  call.path = ApiPath({"templates", template_id});
  // 204 is documented; 200 is accepted too (the Go SDK wrongly rejects it).
  call.success = {200, 204};
  call.not_found = {NotFoundKind::kTemplate, template_id};
  call.operation = "DELETE /templates/{templateID}";
  CallApi(*state_, ctx, call);
}

void Client::DeleteTemplate(const std::string& template_id) const {
  DeleteTemplate(Context::Background(), template_id);
}

GetTemplateResult Client::GetTemplateImpl(const Context& ctx,
                                          const std::string& template_id,
                                          const GetTemplateParams& p) const {
  ApiCall call;
  call.path = ApiPath({"templates", template_id});
  AddIf(call.query, "limit", p.Limit);
  AddIf(call.query, "nextToken", p.NextToken);
  call.success = {200};
  call.not_found = {NotFoundKind::kTemplate, template_id};
  call.operation = "GET /templates/{templateID}";
  const auto response = CallApi(*state_, ctx, call);
  GetTemplateResult result;
  result.Template = internal::ParseResponse<TemplateWithBuilds>(response.body,
                                                                call.operation);
  result.NextToken = response.Header("X-Next-Token").value_or("");
  return result;
}

std::vector<BuildLogEntry> Client::GetTemplateBuildLogsImpl(
    const Context& ctx, const std::string& template_id,
    const std::string& build_id, const BuildLogParams& p) const {
  ApiCall call;
  call.path = ApiPath({"templates", template_id, "builds", build_id, "logs"});
  AddIf(call.query, "cursor", p.Cursor);
  AddIf(call.query, "limit", p.Limit);
  AddIf(call.query, "direction", p.Direction);
  AddIf(call.query, "level", p.Level);
  AddIf(call.query, "source", p.Source);
  call.success = {200};
  call.not_found = {NotFoundKind::kTemplate, template_id};
  call.operation = "GET /templates/{templateID}/builds/{buildID}/logs";
  const auto response = CallApi(*state_, ctx, call);
  return internal::ParseArrayField<BuildLogEntry>(response.body, "logs",
                                                  call.operation);
}

}  // namespace e2b
