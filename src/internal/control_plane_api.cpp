#include "internal/control_plane_api.hpp"

#include "internal/ascii.hpp"
#include "internal/client_state.hpp"
#include "internal/control_plane.hpp"
#include "internal/error_mapping.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <istream>
#include <optional>
#include <string_view>
#include <utility>

namespace e2b::internal {
namespace {

// One REST exchange as the service API describes it to Call().
struct ApiCall {
  std::string method = "GET";
  /// Path below the API base, segments already percent-encoded.
  std::string path;
  Query query;
  /// JSON request body; none = no body and no Content-Type.
  std::optional<nlohmann::json> body;
  /// Statuses that mean success; the answer is returned for them.
  std::vector<int> success;
  /// What a 404 means for this call.
  NotFoundSubject not_found;
  /// Also treat a 400 whose body says "invalid sandbox id" as the 404 above
  /// (the API rejects malformed IDs that way; an ID that cannot exist is
  /// not found).
  bool invalid_id_is_not_found = false;
  /// Whether repeating the call has the effect of doing it once, so that it
  /// may be retried (ClientConfig::Retry) after the request may have
  /// reached the server. GET, HEAD, PUT and DELETE always are; a POST only
  /// when this is set.
  bool idempotent = false;
  /// Secrets besides the API key to scrub from error messages (a sandbox's
  /// envd access token, which the API knows too).
  std::vector<std::string> secrets;
  /// For messages, e.g. "GET /sandboxes/{id}" (IDs left out on purpose).
  std::string operation;
  /// Limit of the exchange; 0 = the client's RequestTimeout.
  std::chrono::milliseconds timeout{0};
  /// Map failures as Go HEAD's volume code does (ThrowVolumeHttpError:
  /// VolumeError for every status but a not-found).
  bool volume_errors = false;
};

bool IsIdempotent(const ApiCall& call) {
  return call.idempotent || call.method == "GET" || call.method == "HEAD" ||
         call.method == "PUT" || call.method == "DELETE";
}

void AddIf(Query& query, const char* key,
           const std::optional<std::string>& value) {
  if (value) query.Add(key, *value);
}

template <typename Int>
void AddIf(Query& query, const char* key, const std::optional<Int>& value) {
  if (value) query.Add(key, std::to_string(*value));
}

// The values of a presigned URL's query (its signature, credential, token):
// a storage service's error body may quote them, and no message may carry
// them.
std::vector<std::string> PresignedUrlSecrets(const std::string& url) {
  std::vector<std::string> secrets;
  const auto query_start = url.find('?');
  if (query_start == std::string::npos) return secrets;
  const auto query_end = url.find('#', query_start);
  std::string_view query(url);
  query = query.substr(query_start + 1, query_end == std::string::npos
                                            ? std::string_view::npos
                                            : query_end - query_start - 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && eq + 1 < pair.size()) {
      secrets.emplace_back(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return secrets;
}

class RestControlPlaneApi final : public ControlPlaneApi {
 public:
  explicit RestControlPlaneApi(RestControlPlaneOptions options)
      : options_(std::move(options)) {}

  CreatedSandbox CreateSandbox(const Context& ctx, const SandboxConfig& cfg,
                               const std::string& template_id) override {
    ApiCall call;
    call.method = "POST";
    call.path = "/sandboxes";
    call.body = NewSandboxBody(cfg);
    call.success = {201};
    // Unlike the Go SDK, a missing template is a TemplateNotFoundError.
    call.not_found = {NotFoundKind::kTemplate, template_id};
    call.operation = "POST /sandboxes";
    return ParseResponse<CreatedSandbox>(Call(ctx, call).body, call.operation);
  }

  CreatedSandbox ConnectSandbox(const Context& ctx,
                                const std::string& sandbox_id,
                                int timeout_seconds) override {
    ApiCall call;
    call.method = "POST";
    call.path = ApiPath({"v2", "sandboxes", sandbox_id, "connect"});
    call.body = nlohmann::json{{"timeout", timeout_seconds}};
    // 200: it was running; 201: it was paused and has been resumed.
    call.success = {200, 201};
    call.not_found = {NotFoundKind::kSandbox, sandbox_id};
    call.invalid_id_is_not_found = true;
    // Connecting twice leaves the sandbox running with the same end time.
    call.idempotent = true;
    call.operation = "POST /v2/sandboxes/{sandboxID}/connect";
    return ParseResponse<CreatedSandbox>(Call(ctx, call).body, call.operation);
  }

  std::vector<SandboxInfo> ListSandboxes(const Context& ctx) override {
    ApiCall call;
    call.path = "/sandboxes";
    call.success = {200};
    call.operation = "GET /sandboxes";
    return ParseResponse<std::vector<SandboxInfo>>(Call(ctx, call).body,
                                                   call.operation);
  }

  ListSandboxesV2Result ListSandboxesV2(
      const Context& ctx, const ListSandboxesV2Params& p) override {
    ApiCall call;
    call.path = "/v2/sandboxes";
    if (!p.Metadata.empty()) {
      call.query.Add("metadata", EncodeMetadataFilter(p.Metadata));
    }
    if (!p.State.empty()) {
      std::string states;
      for (const auto& state : p.State) {
        if (state.empty() || state.find(',') != std::string::npos) {
          throw InvalidArgumentError(
              "WithSandboxState: \"" + state +
                  "\" is not a state (running or paused)",
              0);
        }
        if (!states.empty()) states += ',';
        states += state;
      }
      call.query.Add("state", states);
    }
    AddIf(call.query, "template", p.Template);
    AddIf(call.query, "order", p.Order);
    AddIf(call.query, "startedAfter", p.StartedAfter);
    AddIf(call.query, "limit", p.Limit);
    if (p.NextToken && !p.NextToken->empty()) {
      call.query.Add("nextToken", *p.NextToken);
    }
    call.success = {200};
    call.operation = "GET /v2/sandboxes";
    const auto response = Call(ctx, call);
    ListSandboxesV2Result result;
    result.Sandboxes =
        ParseResponse<std::vector<SandboxInfo>>(response.body, call.operation);
    result.NextToken = response.Header("X-Next-Token").value_or("");
    return result;
  }

  bool KillSandbox(const Context& ctx, const std::string& sandbox_id) override {
    ApiCall call;
    call.method = "DELETE";
    call.path = ApiPath({"sandboxes", sandbox_id});
    // 404 is an answer here, not a failure: there was nothing to kill.
    call.success = {200, 204, 404};
    call.operation = "DELETE /sandboxes/{sandboxID}";
    return Call(ctx, call).status != 404;
  }

  std::map<std::string, SandboxMetric> GetSandboxesMetrics(
      const Context& ctx,
      const std::vector<std::string>& sandbox_ids) override {
    std::string ids;
    for (const auto& id : sandbox_ids) {
      if (!ids.empty()) ids += ',';
      ids += id;
    }
    ApiCall call;
    call.path = "/sandboxes/metrics";
    call.query.Add("sandbox_ids", ids);
    call.success = {200};
    call.operation = "GET /sandboxes/metrics";
    return ParseSandboxesMetrics(Call(ctx, call).body, call.operation);
  }

  std::vector<ForkEntryWire> ForkSandbox(const Context& ctx,
                                         const std::string& sandbox_id,
                                         int count,
                                         std::int64_t timeout) override {
    ApiCall call;
    call.method = "POST";
    call.path = ApiPath({"sandboxes", sandbox_id, "fork"});
    call.body = nlohmann::json{{"count", count}, {"timeout", timeout}};
    call.success = {200, 201};
    call.not_found = {NotFoundKind::kSandbox, sandbox_id};
    call.invalid_id_is_not_found = true;
    call.operation = "POST /sandboxes/{sandboxID}/fork";
    return ParseForkResults(Call(ctx, call).body, call.operation);
  }

  void CloseSandbox(const Context& ctx, const SandboxState& s) override {
    auto call =
        SandboxCall(s, "DELETE", s.api_path, "DELETE /sandboxes/{sandboxID}");
    call.success = {200, 204};
    Call(ctx, call);
  }

  SandboxInfo GetSandbox(const Context& ctx, const SandboxState& s) override {
    auto call = SandboxCall(s, "GET", s.api_path, "GET /sandboxes/{sandboxID}");
    call.success = {200};
    return ParseResponse<SandboxInfo>(Call(ctx, call).body, call.operation);
  }

  void SetSandboxTimeout(const Context& ctx, const SandboxState& s,
                         int timeout_seconds) override {
    auto call = SandboxCall(s, "POST", s.api_path + "/timeout",
                            "POST /sandboxes/{sandboxID}/timeout");
    call.body = nlohmann::json{{"timeout", timeout_seconds}};
    call.success = {200, 204};
    // The end time is set, not extended: setting it twice is setting it
    // once.
    call.idempotent = true;
    Call(ctx, call);
  }

  void PauseSandbox(const Context& ctx, const SandboxState& s,
                    std::optional<bool> keep_memory) override {
    auto call = SandboxCall(s, "POST", s.api_path + "/pause",
                            "POST /sandboxes/{sandboxID}/pause");
    // The API's field is `memory` (Go head sends `keepMemory`, which the
    // API ignores).
    if (keep_memory) call.body = nlohmann::json{{"memory", *keep_memory}};
    // 409 means "already paused": the caller's goal is reached, so it is a
    // success here (the Go SDK throws; the JS SDK returns false).
    call.success = {200, 204, 409};
    // A repeated pause finds the sandbox paused (409), a success here.
    call.idempotent = true;
    Call(ctx, call);
  }

  void ResumeSandbox(const Context& ctx, const SandboxState& s,
                     int timeout_seconds) override {
    auto call = SandboxCall(s, "POST", s.api_path + "/resume",
                            "POST /sandboxes/{sandboxID}/resume");
    call.body = nlohmann::json{{"timeout", timeout_seconds}};
    call.success = {200, 201, 204};
    Call(ctx, call);
  }

  std::vector<SandboxMetric> GetSandboxMetrics(const Context& ctx,
                                               const SandboxState& s) override {
    // Unlike the Go SDK, a 404 here is a SandboxNotFoundError too.
    auto call = SandboxCall(s, "GET", s.api_path + "/metrics",
                            "GET /sandboxes/{sandboxID}/metrics");
    call.success = {200};
    return ParseResponse<std::vector<SandboxMetric>>(Call(ctx, call).body,
                                                     call.operation);
  }

  std::vector<SandboxLogEntry> GetSandboxLogs(
      const Context& ctx, const SandboxState& s,
      const LogsParams& params) override {
    auto call =
        SandboxCall(s, "GET", ApiPath({"v2", "sandboxes", s.id, "logs"}),
                    "GET /v2/sandboxes/{sandboxID}/logs");
    AddIf(call.query, "cursor", params.Cursor);
    AddIf(call.query, "limit", params.Limit);
    AddIf(call.query, "direction", params.Direction);
    AddIf(call.query, "level", params.Level);
    AddIf(call.query, "search", params.Search);
    call.success = {200};
    return ParseArrayField<SandboxLogEntry>(Call(ctx, call).body, "logs",
                                            call.operation);
  }

  SnapshotInfo CreateSnapshot(const Context& ctx, const SandboxState& s,
                              const std::string& name) override {
    auto call = SandboxCall(s, "POST", s.api_path + "/snapshots",
                            "POST /sandboxes/{sandboxID}/snapshots");
    // The API requires a body; {} lets the server pick the name.
    call.body = nlohmann::json::object();
    if (!name.empty()) (*call.body)["name"] = name;
    call.success = {201};
    return ParseResponse<SnapshotInfo>(Call(ctx, call).body, call.operation);
  }

  void RefreshSandbox(const Context& ctx, const SandboxState& s,
                      std::optional<std::int64_t> duration) override {
    auto call = SandboxCall(s, "POST", s.api_path + "/refreshes",
                            "POST /sandboxes/{sandboxID}/refreshes");
    call.body = nlohmann::json::object();
    if (duration) (*call.body)["duration"] = *duration;
    call.success = {200, 204};
    call.invalid_id_is_not_found = true;
    // Refreshing sets the end time to now + duration; twice is once.
    call.idempotent = true;
    Call(ctx, call);
  }

  void UpdateNetwork(const Context& ctx, const SandboxState& s,
                     const NetworkUpdateConfig& cfg) override {
    auto call = SandboxCall(s, "PUT", s.api_path + "/network",
                            "PUT /sandboxes/{sandboxID}/network");
    call.body = NetworkUpdateBody(cfg);
    call.success = {200, 204};
    Call(ctx, call);
  }

  bool DeleteSnapshot(const Context& ctx,
                      const std::string& snapshot_id) override {
    ApiCall call;
    call.method = "DELETE";
    call.path = ApiPath({"templates", snapshot_id});
    // A snapshot is a template; 404 means it is already gone.
    call.success = {200, 204, 404};
    call.operation = "DELETE /templates/{snapshotID}";
    return Call(ctx, call).status != 404;
  }

  ListSnapshotsResult ListSnapshots(const Context& ctx,
                                    const ListSnapshotsParams& p) override {
    ApiCall call;
    call.path = "/snapshots";
    AddIf(call.query, "sandboxID", p.SandboxID);
    AddIf(call.query, "limit", p.Limit);
    AddIf(call.query, "nextToken", p.NextToken);
    call.success = {200};
    call.operation = "GET /snapshots";
    const auto response = Call(ctx, call);
    ListSnapshotsResult result;
    result.Snapshots =
        ParseResponse<std::vector<SnapshotInfo>>(response.body, call.operation);
    result.NextToken = response.Header("X-Next-Token").value_or("");
    return result;
  }

  std::vector<TemplateDetail> ListTemplates(const Context& ctx) override {
    ApiCall call;
    call.path = "/templates";
    call.success = {200};
    call.operation = "GET /templates";
    return ParseResponse<std::vector<TemplateDetail>>(Call(ctx, call).body,
                                                      call.operation);
  }

  TemplateInfo CreateTemplate(const Context& ctx,
                              const CreateTemplateConfig& cfg) override {
    ApiCall call;
    call.method = "POST";
    call.path = "/v3/templates";
    call.body = CreateTemplateBody(cfg);
    call.success = {202};
    call.operation = "POST /v3/templates";
    return ParseResponse<TemplateInfo>(Call(ctx, call).body, call.operation);
  }

  void DeleteTemplate(const Context& ctx,
                      const std::string& template_id) override {
    ApiCall call;
    call.method = "DELETE";
    call.path = ApiPath({"templates", template_id});
    // 204 is documented; 200 is accepted too (the Go SDK wrongly rejects
    // it).
    call.success = {200, 204};
    call.not_found = {NotFoundKind::kTemplate, template_id};
    call.operation = "DELETE /templates/{templateID}";
    Call(ctx, call);
  }

  GetTemplateResult GetTemplate(const Context& ctx,
                                const std::string& template_id,
                                const GetTemplateParams& p) override {
    ApiCall call;
    call.path = ApiPath({"templates", template_id});
    AddIf(call.query, "limit", p.Limit);
    AddIf(call.query, "nextToken", p.NextToken);
    call.success = {200};
    call.not_found = {NotFoundKind::kTemplate, template_id};
    call.operation = "GET /templates/{templateID}";
    const auto response = Call(ctx, call);
    GetTemplateResult result;
    result.Template =
        ParseResponse<TemplateWithBuilds>(response.body, call.operation);
    result.NextToken = response.Header("X-Next-Token").value_or("");
    return result;
  }

  std::vector<BuildLogEntry> GetTemplateBuildLogs(
      const Context& ctx, const std::string& template_id,
      const std::string& build_id, const BuildLogParams& p) override {
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
    return ParseArrayField<BuildLogEntry>(Call(ctx, call).body, "logs",
                                          call.operation);
  }

  BuildFileStatus CheckBuildFiles(const Context& ctx,
                                  const std::string& template_id,
                                  const std::string& hash) override {
    ApiCall call;
    call.path = ApiPath({"templates", template_id, "files", hash});
    // 201 is what the API (and Go) answers; a 200 carries the same body.
    call.success = {200, 201};
    call.not_found = {NotFoundKind::kTemplate, template_id};
    call.operation = "GET /templates/{templateID}/files/{hash}";
    return ParseResponse<BuildFileStatus>(Call(ctx, call).body, call.operation);
  }

  // Not an API call: the URL is the storage service's, so Call()'s API
  // key, JSON headers and status table do not apply. A streamed body
  // cannot be sent twice, hence the transport that retries only requests
  // that never left.
  void UploadBuildFiles(const Context& ctx, const std::string& url,
                        std::istream& data,
                        std::optional<std::uint64_t> size) override {
    const std::string operation = "PUT {uploadURL}";
    ctx.ThrowIfDone(operation.c_str());
    HttpRequest request;
    request.method = "PUT";
    request.url = url;
    request.headers.emplace_back("User-Agent", UserAgent());
    request.body_stream = &data;
    request.body_size = size;
    request.timeout = options_.request_timeout;
    request.context = ctx;
    request.operation = operation;
    request.route = "{uploadURL}";
    const HttpResponse response = options_.write_transport->Send(request);
    if (response.status >= 200 && response.status < 300) return;
    std::vector<std::string> secrets = PresignedUrlSecrets(url);
    secrets.push_back(options_.api_key);
    ThrowHttpError(response.status, response.body, {}, secrets,
                   &response.headers);
  }

  void StartTemplateBuild(const Context& ctx, const std::string& template_id,
                          const std::string& build_id,
                          const StartBuildConfig& cfg) override {
    ApiCall call;
    call.method = "POST";
    call.path = ApiPath({"v2", "templates", template_id, "builds", build_id});
    call.body = StartBuildBody(cfg);
    call.success = {202};
    // A 404 may name the template or the build: a plain Error, as in Go.
    call.operation = "POST /v2/templates/{templateID}/builds/{buildID}";
    Call(ctx, call);
  }

  BuildStatus GetBuildStatus(const Context& ctx, const std::string& template_id,
                             const std::string& build_id,
                             const BuildStatusParams& p) override {
    ApiCall call;
    call.path =
        ApiPath({"templates", template_id, "builds", build_id, "status"});
    AddIf(call.query, "logsOffset", p.LogsOffset);
    AddIf(call.query, "limit", p.Limit);
    AddIf(call.query, "level", p.Level);
    call.success = {200};
    call.not_found = {NotFoundKind::kTemplate, template_id};
    call.operation = "GET /templates/{templateID}/builds/{buildID}/status";
    return ParseResponse<BuildStatus>(Call(ctx, call).body, call.operation);
  }

  VolumeAndToken CreateVolume(const Context& ctx,
                              const std::string& name) override {
    ApiCall call = VolumeCall("POST", "/volumes", "POST /volumes");
    call.body = nlohmann::json{{"name", name}};
    call.success = {200, 201};
    return ParseResponse<VolumeAndToken>(Call(ctx, call).body, call.operation);
  }

  VolumeAndToken GetVolume(const Context& ctx,
                           const std::string& volume_id) override {
    ApiCall call = VolumeCall("GET", ApiPath({"volumes", volume_id}),
                              "GET /volumes/{volumeID}");
    call.success = {200};
    call.not_found = {NotFoundKind::kVolume, volume_id};
    return ParseResponse<VolumeAndToken>(Call(ctx, call).body, call.operation);
  }

  std::vector<VolumeInfo> ListVolumes(const Context& ctx) override {
    ApiCall call = VolumeCall("GET", "/volumes", "GET /volumes");
    call.success = {200};
    return ParseResponse<std::vector<VolumeInfo>>(Call(ctx, call).body,
                                                  call.operation);
  }

  bool DestroyVolume(const Context& ctx,
                     const std::string& volume_id) override {
    ApiCall call = VolumeCall("DELETE", ApiPath({"volumes", volume_id}),
                              "DELETE /volumes/{volumeID}");
    // 404 is an answer here, not a failure: there was nothing to destroy.
    call.success = {200, 202, 204, 404};
    return Call(ctx, call).status != 404;
  }

 private:
  // A volume management call: Go's volume error mapping and time limit.
  static ApiCall VolumeCall(const char* method, std::string path,
                            const char* operation) {
    ApiCall call;
    call.method = method;
    call.path = std::move(path);
    call.operation = operation;
    call.timeout = VolumeRequestTimeout;
    call.volume_errors = true;
    return call;
  }

  // A call scoped to one sandbox: its 404 means the sandbox is gone.
  static ApiCall SandboxCall(const SandboxState& sandbox, const char* method,
                             std::string path, const char* operation) {
    ApiCall call;
    call.method = method;
    call.path = std::move(path);
    call.not_found = {NotFoundKind::kSandbox, sandbox.id};
    call.secrets = {sandbox.access_token};
    call.operation = operation;
    return call;
  }

  // The one exchange of every operation: URL join, the X-API-Key,
  // User-Agent and JSON headers, the request timeout with the caller's
  // Context, and the one place an answer outside call.success becomes an
  // exception (ThrowHttpError). Retries happen below, in the transport the
  // call's idempotency selects.
  HttpResponse Call(const Context& ctx, const ApiCall& call) const {
    // A call whose context is already over never reaches the network.
    ctx.ThrowIfDone(call.operation.c_str());

    HttpRequest request;
    request.method = call.method;
    request.url =
        JoinUrl(options_.api_base_url, call.path) + call.query.Encode();
    request.headers.reserve(4);
    request.headers.emplace_back("X-API-Key", options_.api_key);
    request.headers.emplace_back("User-Agent", UserAgent());
    request.headers.emplace_back("Accept", "application/json");
    if (call.body) {
      request.headers.emplace_back("Content-Type", "application/json");
      try {
        request.body = call.body->dump();
      } catch (const nlohmann::json::type_error&) {
        // JSON text must be UTF-8; say so instead of leaking nlohmann's
        // text.
        throw Error(0, call.operation +
                           ": request contains text that is not "
                           "valid UTF-8");
      }
    }
    request.timeout =
        call.timeout.count() > 0 ? call.timeout : options_.request_timeout;
    request.context = ctx;
    request.operation = call.operation;
    // Every operation reads "<method> <route>".
    if (call.operation.size() > call.method.size() &&
        call.operation.compare(0, call.method.size(), call.method) == 0) {
      request.route = call.operation.substr(call.method.size() + 1);
    }

    HttpTransport& transport = IsIdempotent(call)
                                   ? *options_.idempotent_transport
                                   : *options_.write_transport;
    HttpResponse response = transport.Send(request);
    if (call.method == "DELETE" && response.status == 404 &&
        response.attempts > 1 && !call.success.empty()) {
      // An earlier attempt may have deleted it and lost only its answer.
      response.status = call.success.front();
      return response;
    }
    if (std::find(call.success.begin(), call.success.end(), response.status) !=
        call.success.end()) {
      return response;
    }
    int status = response.status;
    if (call.invalid_id_is_not_found && status == 400 &&
        ContainsNoCase(response.body, "invalid sandbox id")) {
      status = 404;
    }
    std::vector<std::string> secrets = call.secrets;
    secrets.push_back(options_.api_key);
    if (call.volume_errors) {
      ThrowVolumeHttpError(status, response.body, call.not_found, secrets,
                           &response.headers);
    }
    ThrowHttpError(status, response.body, call.not_found, secrets,
                   &response.headers);
  }

  RestControlPlaneOptions options_;
};

}  // namespace

std::shared_ptr<ControlPlaneApi> MakeRestControlPlaneApi(
    RestControlPlaneOptions options) {
  return std::make_shared<RestControlPlaneApi>(std::move(options));
}

}  // namespace e2b::internal
