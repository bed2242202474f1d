#include "control/control_plane.hpp"

#include "control/api_error.hpp"
#include "control/wire.hpp"
#include "envd/envd_server.hpp"
#include "http/server_setup.hpp"
#include "util/utc_timestamp.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <map>
#include <stdexcept>

namespace e2b_local {

using nlohmann::json;

struct ControlPlane::Call {
  const httplib::Request& req;
  httplib::Response& res;
  std::vector<std::string> path;  ///< decoded segments
  std::string id;                 ///< the route's `{id}` or `{id...}`
  std::string build_id;           ///< the route's `{build}`

  std::string Query(const char* name) const {
    return req.has_param(name) ? req.get_param_value(name) : std::string();
  }
  json Body(bool allow_empty = true) const {
    return ParseJsonObject(req.body, allow_empty);
  }
  void Json(int status, const json& body) {
    SendJson(res, status,
             body.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  void NoContent() {
    res.status = 204;
    res.body.clear();
  }
};

namespace {

std::string Join(const std::vector<std::string>& parts, size_t from,
                 size_t to) {
  std::string out;
  for (size_t i = from; i < to && i < parts.size(); ++i) {
    if (!out.empty()) out += '/';
    out += parts[i];
  }
  return out;
}

int TimeoutField(const json& body, const char* name, int fallback) {
  auto v = OptionalInt(body, name);
  if (!v) return fallback;
  if (*v < 0 || *v > std::numeric_limits<int>::max()) {
    throw ApiError(400, std::string("'") + name + "' must be between 0 and " +
                            std::to_string(std::numeric_limits<int>::max()));
  }
  return static_cast<int>(*v);
}

// The query parameters of the log endpoints, checked alike everywhere.

// `level`: the lowest rank to return; 0 (everything) when absent.
int MinLogLevelQuery(const std::string& level) {
  if (level.empty()) return 0;
  const int rank = LogLevelRank(level);
  if (rank < 0) {
    throw ApiError(400, "'level' must be debug, info, warn or error");
  }
  return rank;
}

// `direction`: whether the oldest entries come first. The default differs
// between endpoints (a sandbox's logs start with the newest).
bool ForwardQuery(const std::string& direction, bool forward_when_absent) {
  if (direction.empty()) return forward_when_absent;
  if (direction != "forward" && direction != "backward") {
    throw ApiError(400, "'direction' must be forward or backward");
  }
  return direction == "forward";
}

// `cursor`: the timestamp (ms) a page starts at; nullopt when absent.
std::optional<std::int64_t> LogCursorQuery(const std::string& cursor) {
  if (cursor.empty()) return std::nullopt;
  return QueryInt(cursor, "cursor", 0, 0,
                  std::numeric_limits<std::int64_t>::max() / 2);
}

bool MetadataMatches(const LocalSandbox& s,
                     const std::map<std::string, std::string>& filter) {
  for (const auto& [k, v] : filter) {
    auto it = s.metadata.find(k);
    if (it == s.metadata.end() || it->second != v) return false;
  }
  return true;
}

// The filters of GET /v2/sandboxes.
struct SandboxFilter {
  std::map<std::string, std::string> metadata;
  bool want_running = true;
  bool want_paused = true;
  std::optional<std::int64_t> started_after;
  std::string template_ref;  ///< a template ID or alias; empty = any

  bool Admits(const LocalSandbox& s, SandboxStatus status) const {
    if (status == SandboxStatus::kRunning && !want_running) return false;
    if (status == SandboxStatus::kPaused && !want_paused) return false;
    if (!MetadataMatches(s, metadata)) return false;
    if (!template_ref.empty() && s.template_id != template_ref &&
        s.alias != template_ref) {
      return false;
    }
    // At or after, as E2B's API (a sandbox's own startedAt finds it).
    return !started_after || UnixMillis(s.started_at) >= *started_after;
  }
};

// `state`: a comma-separated list of running and paused; both when absent.
void StateQuery(const std::string& state, SandboxFilter& filter) {
  if (state.empty()) return;
  filter.want_running = filter.want_paused = false;
  size_t start = 0;
  while (start <= state.size()) {
    size_t comma = state.find(',', start);
    if (comma == std::string::npos) comma = state.size();
    std::string one = state.substr(start, comma - start);
    start = comma + 1;
    if (one == "running") {
      filter.want_running = true;
    } else if (one == "paused") {
      filter.want_paused = true;
    } else if (!one.empty()) {
      throw ApiError(400,
                     "invalid state '" + one + "': expected running or paused");
    }
  }
}

// `order`: whether the oldest sandboxes come first (asc); desc when absent.
bool AscendingQuery(const std::string& order) {
  if (!order.empty() && order != "asc" && order != "desc") {
    throw ApiError(400, "'order' must be asc or desc");
  }
  return order == "asc";
}

// `startedAfter`: an RFC 3339 date-time, as ms; nullopt when absent.
std::optional<std::int64_t> StartedAfterQuery(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto ms = ParseTimestampMs(text);
  if (!ms) throw ApiError(400, "'startedAfter' must be an RFC 3339 date-time");
  return ms;
}

// One page of `items` (filtered, any order) as E2B's API pages a list:
// sorted by PageKeyBefore, the items after the token's key, at most
// `limit` of them, and X-Next-Token (the last key) only when more follow.
template <typename T, typename KeyOf>
std::vector<T> KeysetPage(std::vector<T> items, KeyOf key_of, bool ascending,
                          const std::string& token, std::size_t limit,
                          httplib::Response& res) {
  const std::optional<PageKey> after = DecodePageToken(token, ascending);
  std::sort(items.begin(), items.end(), [&](const T& a, const T& b) {
    return PageKeyBefore(key_of(a), key_of(b), ascending);
  });
  auto first = items.begin();
  if (after) {
    first =
        std::upper_bound(items.begin(), items.end(), *after,
                         [&](const PageKey& key, const T& item) {
                           return PageKeyBefore(key, key_of(item), ascending);
                         });
  }
  const auto left = static_cast<std::size_t>(items.end() - first);
  std::vector<T> page(
      first, first + static_cast<std::ptrdiff_t>(std::min(left, limit)));
  if (left > limit) {
    res.set_header("X-Next-Token",
                   EncodePageToken(key_of(page.back()), ascending));
  }
  return page;
}

PageKey SandboxKey(const std::shared_ptr<LocalSandbox>& s) {
  return PageKey{UnixMillis(s->started_at), s->id};
}

constexpr int kDefaultSandboxTimeout = 15;

[[noreturn]] void NoRoute(const std::string& method, const std::string& path) {
  throw ApiError(404, "no route for " + method + " " + path);
}

// Whether `segments` fit `pattern` (see ControlPlane::Route); fills the IDs
// of `match` from the placeholders.
bool FitPattern(std::string_view pattern,
                const std::vector<std::string>& segments, RouteMatch& match) {
  std::size_t i = 0;
  while (!pattern.empty()) {
    pattern.remove_prefix(1);  // the '/'
    const std::string_view part = pattern.substr(0, pattern.find('/'));
    pattern.remove_prefix(part.size());
    if (i == segments.size()) return false;
    if (part == "{id...}") {
      match.id = Join(segments, i, segments.size());
      return true;
    }
    const std::string& segment = segments[i++];
    if (part == "{id}") {
      match.id = segment;
    } else if (part == "{build}") {
      match.build_id = segment;
    } else if (part != "{any}" && part != segment) {
      return false;
    }
  }
  return i == segments.size();
}

}  // namespace

int HttpStatusOf(Failure::Reason reason) {
  switch (reason) {
    case Failure::Reason::kInvalidArgument:
    case Failure::Reason::kFailedPrecondition:
      return 400;
    case Failure::Reason::kNotFound:
      return 404;
    case Failure::Reason::kConflict:
      return 409;
    case Failure::Reason::kLimitReached:
      return 429;
    case Failure::Reason::kUnavailable:
      return 503;
    case Failure::Reason::kInternal:
      return 500;
  }
  return 500;
}

std::vector<std::string> SplitRequestPath(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) {
      auto segment = PathUnescape(path.substr(start, slash - start));
      if (!segment) throw ApiError(400, "malformed percent-encoding in path");
      out.push_back(*segment);
    }
    start = slash + 1;
  }
  return out;
}

bool IsHealthCheck(const std::string& method,
                   const std::vector<std::string>& segments) {
  return method == "GET" && segments.size() == 1 && segments[0] == "health";
}

RouteMatch MatchRoute(const std::string& method,
                      const std::vector<std::string>& segments,
                      const std::string& path) {
  if (segments.empty()) throw ApiError(404, "no route for " + path);
  for (const auto& route : ControlPlane::Routes()) {
    if (method != route.method) continue;
    RouteMatch match;
    match.route = &route;
    if (!FitPattern(route.pattern, segments, match)) continue;
    if (route.handler == nullptr) break;  // a reserved shape
    return match;
  }
  NoRoute(method, path);
}

const std::vector<ControlPlane::Route>& ControlPlane::Routes() {
  using C = ControlPlane;
  static const std::vector<Route> kRoutes = {
      {"POST", "/sandboxes", &C::CreateSandbox},
      {"POST", "/v2/sandboxes", &C::CreateSandbox},
      {"GET", "/sandboxes", &C::ListSandboxesV1},
      {"GET", "/v2/sandboxes", &C::ListSandboxesV2},
      {"GET", "/sandboxes/metrics", &C::BatchMetrics},  // before {id}
      {"GET", "/sandboxes/{id}", &C::GetSandbox},
      {"DELETE", "/sandboxes/{id}", &C::KillSandbox},
      {"POST", "/sandboxes/{id}/connect", &C::ConnectSandbox},
      {"POST", "/v2/sandboxes/{id}/connect", &C::ConnectSandbox},
      {"GET", "/sandboxes/{id}/logs", &C::SandboxLogsV1},
      {"GET", "/v2/sandboxes/{id}/logs", &C::SandboxLogsV2},
      {"GET", "/sandboxes/{id}/metrics", &C::SandboxMetrics},
      {"PUT", "/sandboxes/{id}/network", &C::SetNetwork},
      {"POST", "/sandboxes/{id}/timeout", &C::SetTimeout},
      {"POST", "/sandboxes/{id}/refreshes", &C::Refresh},
      {"POST", "/sandboxes/{id}/pause", &C::Pause},
      {"POST", "/sandboxes/{id}/resume", &C::Resume},
      {"POST", "/sandboxes/{id}/fork", &C::ForkSandbox},
      {"POST", "/sandboxes/{id}/snapshots", &C::CreateSnapshot},
      {"GET", "/snapshots", &C::ListSnapshots},
      {"POST", "/v3/templates", &C::CreateTemplate},
      {"GET", "/templates", &C::ListTemplates},
      {"GET", "/templates/{id}/builds/{build}/logs", &C::BuildLogs},
      {"GET", "/templates/{id}/builds/{build}/status", &C::BuildStatus},
      {"GET", "/templates/{id}/files/{build}", &C::BuildFilesLink},
      {"POST", "/v2/templates/{id}/builds/{build}", &C::StartBuild},
      // Any other GET of this shape is a build endpoint that does not
      // exist, not a template ID holding '/'.
      {"GET", "/templates/{id}/builds/{build}/{any}", nullptr},
      {"GET", "/templates/{id...}", &C::GetTemplate},
      {"DELETE", "/templates/{id...}", &C::DeleteTemplate},
      {"GET", "/volumes", &C::ListVolumes},
      {"POST", "/volumes", &C::CreateVolume},
      {"GET", "/volumes/{id}", &C::GetVolume},
      {"DELETE", "/volumes/{id}", &C::DeleteVolume},
  };
  return kRoutes;
}

ControlPlane::ControlPlane(SandboxRegistry& registry, TemplateStore& store,
                           VolumeStore& volumes, BuildFileStore& build_files,
                           TemplateBuildService& builds,
                           std::vector<std::string> api_keys)
    : registry_(registry),
      store_(store),
      volumes_(volumes),
      build_files_(build_files),
      builds_(builds),
      volume_content_(volumes),
      api_keys_(std::move(api_keys)) {
  if (api_keys_.empty()) throw std::invalid_argument("no API key configured");
}

namespace {

constexpr const char kBuildFilesSegment[] = "build-files";

bool IsBuildFilesUpload(const std::string& method,
                        const std::vector<std::string>& segments) {
  return method == "PUT" && segments.size() == 2 &&
         segments[0] == kBuildFilesSegment;
}

// The Host the client reached the API at, for links back to it: a name or
// address and a port, nothing that could reshape the URL.
std::string LinkHost(const httplib::Request& req) {
  std::string host = req.get_header_value("Host");
  const bool plain = !host.empty() && host.size() <= 255 &&
                     std::all_of(host.begin(), host.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) ||
                              c == '.' || c == '-' || c == ':' || c == '[' ||
                              c == ']';
                     });
  if (!plain) throw ApiError(400, "the request's Host header is not usable");
  return host;
}

}  // namespace

void ControlPlane::Mount(httplib::Server& server) {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    Handle(req, res);
  };
  auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
    HandleWithBody(req, res, reader);
  };
  // httplib would otherwise buffer a whole volume upload in memory.
  server.set_payload_max_length(std::numeric_limits<std::size_t>::max());
  server.Get(".*", handler);
  server.Post(".*", with_body);
  server.Put(".*", with_body);
  server.Patch(".*", with_body);
  // A DELETE without a body never reaches a content-reader handler.
  server.Delete(".*", with_body);
  server.Delete(".*", handler);
}

void ControlPlane::HandleWithBody(const httplib::Request& req,
                                  httplib::Response& res,
                                  const httplib::ContentReader& reader) {
  std::vector<std::string> segments;
  try {
    segments = SplitRequestPath(req.target);
  } catch (const ApiError&) {
    // Handle answers it; the body is not needed for that.
  }
  if (VolumeContentApi::IsUpload(req.method, segments)) {
    volume_content_.Handle(req, res, segments, &reader);
    return;
  }
  if (IsBuildFilesUpload(req.method, segments)) {
    UploadBuildFiles(req, res, segments, &reader);
    return;
  }
  // Read on past the limit without keeping it (bounded), so the answer
  // reaches a client still sending.
  constexpr std::size_t kMaxDrain = std::size_t{64} << 20;
  std::string body;
  std::size_t total = 0;
  auto receive = [&](const char* data, std::size_t size) {
    total += size;
    if (total <= kMaxBody) body.append(data, size);
    return total <= kMaxDrain;
  };
  bool complete = false;
  // httplib parses multipart bodies itself; the API takes none, so their
  // parts are dropped (as httplib's own reading left req.body empty).
  if (req.is_multipart_form_data()) {
    complete =
        reader([](const httplib::MultipartFormData&) { return true; }, receive);
    body.clear();
  } else {
    complete = reader(receive);
  }
  if (total > kMaxBody || !complete) {
    if (!complete) res.set_header("Connection", "close");
    SendJsonError(res, total > kMaxBody ? 413 : 400,
                  total > kMaxBody ? "request body too large (limit 1 MiB)"
                                   : "malformed or truncated request body");
    return;
  }
  // httplib hands over its non-const Request as const (server_setup.cpp
  // does the same): the body read here is where Handle expects it.
  const_cast<httplib::Request&>(req).body = std::move(body);
  Handle(req, res);
}

void ControlPlane::UploadBuildFiles(const httplib::Request& req,
                                    httplib::Response& res,
                                    const std::vector<std::string>& segments,
                                    const httplib::ContentReader* reader) {
  const std::string& hash = segments[1];
  const std::string token =
      req.has_param("token") ? req.get_param_value("token") : "";
  if (!BuildFileStore::IsHash(hash) ||
      !build_files_.CheckUploadToken(hash, token)) {
    // As a storage service refuses a bad signature.
    res.set_header("Connection", "close");
    SendJsonError(res, 403, "invalid or expired upload link");
    return;
  }
  try {
    build_files_.Store(hash, token, [&](const auto& sink) {
      if (reader == nullptr) return sink(req.body.data(), req.body.size());
      return (*reader)([&sink](const char* data, std::size_t size) {
        return sink(data, size);
      });
    });
  } catch (const std::length_error& e) {
    res.set_header("Connection", "close");
    SendJsonError(res, 413, e.what());
    return;
  } catch (const std::exception& e) {
    res.set_header("Connection", "close");
    SendJsonError(res, 400, e.what());
    return;
  }
  res.status = 200;
}

bool ControlPlane::Authorized(const httplib::Request& req) const {
  if (!req.has_header("X-API-Key")) return false;
  const std::string key = req.get_header_value("X-API-Key");
  bool ok = false;
  // Check every key, so timing reveals neither which key nor where it differs.
  for (const auto& candidate : api_keys_) {
    ok = ConstantTimeEquals(key, candidate) || ok;
  }
  return ok;
}

void ControlPlane::Handle(const httplib::Request& req, httplib::Response& res) {
  try {
    Call call{req, res, SplitRequestPath(req.target), {}, {}};
    if (IsHealthCheck(req.method, call.path)) {
      call.Json(200, json{{"status", "ok"}});
      return;
    }
    // Authenticated by the volume's token, not the API key.
    if (VolumeContentApi::Handles(call.path)) {
      volume_content_.Handle(req, res, call.path, nullptr);
      return;
    }
    if (IsBuildFilesUpload(req.method, call.path)) {
      UploadBuildFiles(req, res, call.path, nullptr);
      return;
    }
    if (!Authorized(req)) {
      SendJsonError(res, 401, "Invalid API key");
      return;
    }
    RouteMatch match = MatchRoute(req.method, call.path, req.path);
    call.id = std::move(match.id);
    call.build_id = std::move(match.build_id);
    (this->*match.route->handler)(call);
  } catch (const ApiError& e) {
    SendJsonError(res, e.status, e.what());
  } catch (const Failure& e) {
    SendJsonError(res, HttpStatusOf(e.reason), e.what());
  } catch (const std::exception& e) {
    SendJsonError(res, 500, std::string("internal error: ") + e.what());
  }
}

void ControlPlane::CreateSandbox(Call& call) {
  json body = call.Body(false);
  CreateSandboxParams params;
  auto template_id = OptionalString(body, "templateID");
  if (!template_id || template_id->empty()) {
    throw ApiError(400, "'templateID' is required");
  }
  params.template_ref = *template_id;
  params.timeout_s = TimeoutField(body, "timeout", kDefaultSandboxTimeout);
  params.auto_pause = OptionalBool(body, "autoPause").value_or(false);
  params.auto_pause_memory =
      OptionalBool(body, "autoPauseMemory").value_or(true);
  // Every sandbox gets an access token; `secure` only decides whether its
  // URLs may be private, as at E2B. POST /v2/sandboxes is always secured
  // (the official SDKs no longer send the flag there).
  const bool v2 = !call.path.empty() && call.path.front() == "v2";
  const bool secure = OptionalBool(body, "secure").value_or(false) || v2;
  if (auto it = body.find("autoResume"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) throw ApiError(400, "'autoResume' must be an object");
    params.auto_resume = OptionalBool(*it, "enabled").value_or(false);
  }
  params.allow_internet_access =
      OptionalBool(body, "allow_internet_access").value_or(true);
  params.metadata = StringMap(body, "metadata");
  params.env_vars = StringMap(body, "envVars");
  params.volume_mounts = VolumeMountsField(body, "volumeMounts");
  if (auto it = body.find("network"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) throw ApiError(400, "'network' must be an object");
    // The Host every request to a sandbox port gets: one header value.
    if (auto mask = OptionalString(*it, "maskRequestHost");
        mask && (mask->size() > 255 ||
                 mask->find_first_of("\r\n\t ") != std::string::npos ||
                 std::any_of(mask->begin(), mask->end(), [](char c) {
                   return static_cast<unsigned char>(c) < 0x20 ||
                          static_cast<unsigned char>(c) == 0x7f;
                 }))) {
      throw ApiError(400, "'network.maskRequestHost' is not a host name");
    }
    if (!OptionalBool(*it, "allowPublicTraffic").value_or(true) && !secure) {
      throw ApiError(400,
                     "You cannot create a sandbox without public access "
                     "unless you enable secure envd access via 'secure' "
                     "flag.");
    }
    params.network = *it;
  }
  // The MCP gateway configuration is the template's business (E2B starts
  // its gateway from the mcp-gateway template); the API only checks it.
  if (auto it = body.find("mcp"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) throw ApiError(400, "'mcp' must be an object");
  }
  auto sandbox = registry_.Create(params);
  call.Json(201, SandboxJson(*sandbox));
}

void ControlPlane::ListSandboxesV1(Call& call) {
  auto filter = ParseMetadataFilter(call.Query("metadata"));
  json out = json::array();
  auto all = registry_.List();  // oldest first; E2B lists newest first
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const auto& s = *it;
    if (s->Status() != SandboxStatus::kRunning) continue;
    if (!MetadataMatches(*s, filter)) continue;
    out.push_back(ListedSandboxJson(*s));
  }
  call.Json(200, out);
}

void ControlPlane::ListSandboxesV2(Call& call) {
  SandboxFilter filter;
  filter.metadata = ParseMetadataFilter(call.Query("metadata"));
  StateQuery(call.Query("state"), filter);
  const bool ascending = AscendingQuery(call.Query("order"));
  filter.started_after = StartedAfterQuery(call.Query("startedAfter"));
  filter.template_ref = call.Query("template");
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 100, 1, 100));

  // X-Total-Running counts the running sandboxes every filter admits,
  // before paging, and is sent only when running ones were asked for.
  std::int64_t total_running = 0;
  std::vector<std::shared_ptr<LocalSandbox>> matched;
  for (const auto& s : registry_.List()) {
    const SandboxStatus status = s->Status();  // once: it may change
    if (!filter.Admits(*s, status)) continue;
    if (status == SandboxStatus::kRunning) ++total_running;
    matched.push_back(s);
  }
  const auto page = KeysetPage(std::move(matched), SandboxKey, ascending,
                               call.Query("nextToken"), limit, call.res);
  json out = json::array();
  for (const auto& s : page) out.push_back(ListedSandboxJson(*s));
  if (filter.want_running) {
    call.res.set_header("X-Total-Running", std::to_string(total_running));
  }
  call.Json(200, out);
}

void ControlPlane::BatchMetrics(Call& call) {
  std::string ids_text = call.Query("sandbox_ids");
  if (ids_text.empty()) throw ApiError(400, "'sandbox_ids' is required");
  std::vector<std::string> ids;
  size_t start = 0;
  while (start <= ids_text.size()) {
    size_t comma = ids_text.find(',', start);
    if (comma == std::string::npos) comma = ids_text.size();
    std::string id = ids_text.substr(start, comma - start);
    if (!id.empty()) ids.push_back(id);
    start = comma + 1;
  }
  if (ids.empty() || ids.size() > 100) {
    throw ApiError(400, "'sandbox_ids' must list 1 to 100 IDs");
  }
  json sandboxes = json::object();
  for (const auto& [id, sample] : registry_.LatestMetrics(ids)) {
    sandboxes[id] = MetricJson(sample);
  }
  call.Json(200, json{{"sandboxes", sandboxes}});
}

void ControlPlane::GetSandbox(Call& call) {
  auto sandbox = registry_.Get(call.id);
  call.Json(200, SandboxDetailJson(*sandbox, registry_.Network(call.id)));
}

void ControlPlane::KillSandbox(Call& call) {
  registry_.Kill(call.id);
  call.NoContent();
}

void ControlPlane::SetNetwork(Call& call) {
  json body = call.Body(false);
  registry_.SetNetwork(call.id, body);
  call.NoContent();
}

void ControlPlane::SetTimeout(Call& call) {
  json body = call.Body(false);
  if (!body.contains("timeout")) throw ApiError(400, "'timeout' is required");
  registry_.SetTimeout(call.id, TimeoutField(body, "timeout", 0));
  call.NoContent();
}

void ControlPlane::Refresh(Call& call) {
  json body = call.Body();
  registry_.Refresh(call.id, TimeoutField(body, "duration", 0));
  call.NoContent();
}

void ControlPlane::Pause(Call& call) {
  json body = call.Body();
  registry_.Pause(call.id, OptionalBool(body, "memory").value_or(true));
  call.NoContent();
}

void ControlPlane::Resume(Call& call) {
  json body = call.Body();
  auto sandbox = registry_.Resume(
      call.id, TimeoutField(body, "timeout", kDefaultSandboxTimeout),
      OptionalBool(body, "autoPause"), OptionalBool(body, "memory"));
  call.Json(201, SandboxJson(*sandbox));
}

void ControlPlane::CreateSnapshot(Call& call) {
  json body = call.Body();
  auto name = OptionalString(body, "name");
  auto result = registry_.Snapshot(call.id, name.value_or(""));
  call.Json(201, SnapshotInfoJson(result.tmpl));
}

void ControlPlane::SandboxMetrics(Call& call) {
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::int64_t kMax = 4102444800;  // 2100-01-01
  std::int64_t start = QueryInt(call.Query("start"), "start", 0, 0, kMax);
  std::int64_t end = QueryInt(call.Query("end"), "end", now_s, 0, kMax);
  if (start > end) throw ApiError(400, "'start' must not be after 'end'");
  json out = json::array();
  for (const auto& sample :
       registry_.Metrics(call.id, start * 1000, end * 1000)) {
    out.push_back(MetricJson(sample));
  }
  call.Json(200, out);
}

void ControlPlane::SandboxLogsV1(Call& call) {
  auto sandbox = registry_.Get(call.id);
  const std::int64_t start =
      QueryInt(call.Query("start"), "start", 0, 0,
               std::numeric_limits<std::int64_t>::max() / 2);
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 1000, 0, 10000));
  json logs = json::array(), entries = json::array();
  for (const auto& e : sandbox->log.Entries()) {
    if (logs.size() >= limit) break;
    const std::int64_t ms = UnixMillis(e.timestamp);
    if (ms < start) continue;
    json line = LogEntryJson(e);
    line.erase("timestamp");
    logs.push_back(json{{"timestamp", FormatTimestamp(e.timestamp)},
                        {"line", line.dump()}});
    entries.push_back(LogEntryJson(e));
  }
  call.Json(200, json{{"logs", logs}, {"logEntries", entries}});
}

void ControlPlane::SandboxLogsV2(Call& call) {
  auto sandbox = registry_.Get(call.id);
  const bool forward = ForwardQuery(call.Query("direction"), false);
  const int min_rank = MinLogLevelQuery(call.Query("level"));
  const std::string search = call.Query("search");
  if (search.size() > 256) throw ApiError(400, "'search' is too long");
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 1000, 0, 1000));
  const auto cursor = LogCursorQuery(call.Query("cursor"));
  auto entries = sandbox->log.Entries();
  if (!forward) std::reverse(entries.begin(), entries.end());
  json logs = json::array();
  for (const auto& e : entries) {
    if (logs.size() >= limit) break;
    const std::int64_t ms = UnixMillis(e.timestamp);
    if (cursor && (forward ? ms < *cursor : ms > *cursor)) continue;
    if (LogLevelRank(e.level) < min_rank) continue;
    if (!search.empty() && e.message.find(search) == std::string::npos) {
      continue;
    }
    logs.push_back(LogEntryJson(e));
  }
  call.Json(200, json{{"logs", logs}});
}

void ControlPlane::ConnectSandbox(Call& call) {
  json body = call.Body();
  int timeout = TimeoutField(body, "timeout", kDefaultSandboxTimeout);
  bool resumed =
      registry_.Connect(call.id, timeout, OptionalBool(body, "memory"));
  call.Json(resumed ? 201 : 200, SandboxJson(*registry_.Get(call.id)));
}

void ControlPlane::ForkSandbox(Call& call) {
  json body = call.Body();
  std::optional<int> timeout;
  if (body.contains("timeout") && !body["timeout"].is_null()) {
    timeout = TimeoutField(body, "timeout", 0);
  }
  // The registry checks the range; clamped only so it fits an int.
  const auto count = static_cast<int>(std::clamp<std::int64_t>(
      OptionalInt(body, "count").value_or(1), -1, 101));
  json out = json::array();
  for (const auto& outcome : registry_.Fork(call.id, timeout, count)) {
    if (outcome.sandbox) {
      out.push_back(json{{"sandbox", SandboxJson(*outcome.sandbox)}});
    } else {
      const Failure& failure = *outcome.failure;
      out.push_back(json{{"error", json{{"code", HttpStatusOf(failure.reason)},
                                        {"message", failure.what()}}}});
    }
  }
  call.Json(201, out);
}

void ControlPlane::ListSnapshots(Call& call) {
  const std::string sandbox_id = call.Query("sandboxID");
  const std::string name = call.Query("name");
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 100, 1, 100));
  std::vector<TemplateRecord> matched;
  for (const auto& t : store_.List()) {
    if (!t.snapshot) continue;
    if (!sandbox_id.empty() && t.source_sandbox_id != sandbox_id) continue;
    if (!name.empty()) {
      const std::string plain = SplitTemplateTag(name).first;
      bool hit =
          t.template_id == plain ||
          std::find(t.names.begin(), t.names.end(), plain) != t.names.end();
      if (!hit) continue;
    }
    matched.push_back(t);
  }
  const auto page = KeysetPage(
      std::move(matched),
      [](const TemplateRecord& t) {
        return PageKey{t.created_ms, t.template_id};
      },
      /*ascending=*/false, call.Query("nextToken"), limit, call.res);
  json out = json::array();
  for (const auto& t : page) out.push_back(SnapshotInfoJson(t));
  call.Json(200, out);
}

void ControlPlane::CreateTemplate(Call& call) {
  json body = call.Body(false);
  auto name = OptionalString(body, "name");
  if (!name) name = OptionalString(body, "alias");
  if (!name || name->empty()) throw ApiError(400, "'name' is required");
  std::vector<std::string> tags;
  if (auto it = body.find("tags"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) throw ApiError(400, "'tags' must be an array");
    for (const auto& t : *it) {
      if (!t.is_string()) throw ApiError(400, "'tags' must hold strings");
      tags.push_back(t.get<std::string>());
    }
  }
  auto cpu = OptionalInt(body, "cpuCount").value_or(2);
  auto mem = OptionalInt(body, "memoryMB").value_or(512);
  if (cpu < 1 || cpu > 64) throw ApiError(400, "'cpuCount' must be 1-64");
  if (mem < 128 || mem > 1 << 20) {
    throw ApiError(400, "'memoryMB' must be at least 128");
  }
  auto created = store_.CreateTemplate(*name, tags, static_cast<int>(cpu),
                                       static_cast<int>(mem));
  call.Json(202, json{{"templateID", created.tmpl.template_id},
                      {"buildID", created.build.build_id},
                      {"public", created.tmpl.is_public},
                      {"names", created.tmpl.names},
                      {"tags", created.build.tags},
                      {"aliases", created.tmpl.names}});
}

void ControlPlane::ListTemplates(Call& call) {
  json out = json::array();
  for (const auto& t : store_.List()) {
    if (!t.snapshot) out.push_back(TemplateJson(t));
  }
  call.Json(200, out);
}

void ControlPlane::GetTemplate(Call& call) {
  auto t = store_.Find(call.id);
  if (!t) throw ApiError(404, "template '" + call.id + "' not found");
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 100, 1, 100));
  const auto page = KeysetPage(
      t->builds,
      [](const BuildRecord& b) {
        return PageKey{b.created_ms, b.build_id};
      },
      /*ascending=*/false, call.Query("nextToken"), limit, call.res);
  json builds = json::array();
  for (const auto& b : page) builds.push_back(BuildJson(b));
  call.Json(200, json{{"templateID", t->template_id},
                      {"public", t->is_public},
                      {"aliases", t->names},
                      {"names", t->names},
                      {"createdAt", FormatTimestamp(t->created_ms)},
                      {"updatedAt", FormatTimestamp(t->updated_ms)},
                      {"lastSpawnedAt",
                       t->last_spawned_ms == 0
                           ? json(nullptr)
                           : json(FormatTimestamp(t->last_spawned_ms))},
                      {"spawnCount", t->spawn_count},
                      {"builds", builds}});
}

void ControlPlane::DeleteTemplate(Call& call) {
  registry_.DeleteTemplate(call.id);
  call.NoContent();
}

void ControlPlane::BuildLogs(Call& call) {
  auto found = store_.GetBuild(call.id, call.build_id);
  const bool forward = ForwardQuery(call.Query("direction"), true);
  const std::string source = call.Query("source");
  if (!source.empty() && source != "temporary" && source != "persistent") {
    throw ApiError(400, "'source' must be temporary or persistent");
  }
  const int min_rank = MinLogLevelQuery(call.Query("level"));
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 100, 0, 100));
  const auto cursor = LogCursorQuery(call.Query("cursor"));
  auto entries = found.build.logs;
  if (!forward) std::reverse(entries.begin(), entries.end());
  json logs = json::array();
  for (const auto& e : entries) {
    if (logs.size() >= limit) break;
    if (cursor &&
        (forward ? e.timestamp_ms < *cursor : e.timestamp_ms > *cursor)) {
      continue;
    }
    if (LogLevelRank(e.level) < min_rank) continue;
    logs.push_back(BuildLogJson(e));
  }
  call.Json(200, json{{"logs", logs}});
}

void ControlPlane::BuildStatus(Call& call) {
  auto found = store_.GetBuild(call.id, call.build_id);
  const auto offset = static_cast<std::size_t>(
      QueryInt(call.Query("logsOffset"), "logsOffset", 0, 0, 1 << 30));
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 100, 0, 100));
  const int min_rank = MinLogLevelQuery(call.Query("level"));
  json lines = json::array(), entries = json::array();
  const auto& logs = found.build.logs;
  for (std::size_t i = offset; i < logs.size() && entries.size() < limit; ++i) {
    if (LogLevelRank(logs[i].level) < min_rank) continue;
    lines.push_back(logs[i].message);
    entries.push_back(BuildLogJson(logs[i]));
  }
  json out{{"templateID", found.tmpl.template_id},
           {"buildID", found.build.build_id},
           {"status", found.build.status},
           {"logs", lines},
           {"logEntries", entries}};
  if (!found.build.reason.empty()) {
    out["reason"] = json{{"message", found.build.reason}};
    if (!found.build.reason_step.empty()) {
      out["reason"]["step"] = found.build.reason_step;
    }
  }
  call.Json(200, out);
}

void ControlPlane::BuildFilesLink(Call& call) {
  if (!store_.Find(call.id)) {
    throw ApiError(404, "template '" + call.id + "' not found");
  }
  const std::string& hash = call.build_id;
  if (!BuildFileStore::IsHash(hash)) {
    throw ApiError(400, "the files hash must be 64 lower-case hex digits");
  }
  if (build_files_.Has(hash)) {
    call.Json(201, json{{"present", true}});
    return;
  }
  const std::string url = "http://" + LinkHost(call.req) + "/" +
                          kBuildFilesSegment + "/" + hash +
                          "?token=" + build_files_.IssueUploadToken(hash);
  call.Json(201, json{{"present", false}, {"url", url}});
}

namespace {

std::vector<std::string> StringList(const json& object, const char* name) {
  std::vector<std::string> out;
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) {
    throw ApiError(400, std::string("'") + name + "' must be an array");
  }
  for (const auto& item : *it) {
    if (!item.is_string()) {
      throw ApiError(400, std::string("'") + name + "' must hold strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

void ControlPlane::StartBuild(Call& call) {
  json body = call.Body(false);
  BuildRequest request;
  request.from_image = OptionalString(body, "fromImage").value_or("");
  request.from_template = OptionalString(body, "fromTemplate").value_or("");
  request.force = OptionalBool(body, "force").value_or(false);
  request.start_cmd = OptionalString(body, "startCmd").value_or("");
  request.ready_cmd = OptionalString(body, "readyCmd").value_or("");
  if (auto it = body.find("steps"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) throw ApiError(400, "'steps' must be an array");
    for (const auto& s : *it) {
      if (!s.is_object()) throw ApiError(400, "each step must be an object");
      BuildStepSpec step;
      auto type = OptionalString(s, "type");
      if (!type || type->empty()) throw ApiError(400, "a step needs a 'type'");
      step.type = *type;
      step.args = StringList(s, "args");
      step.files_hash = OptionalString(s, "filesHash").value_or("");
      step.force = OptionalBool(s, "force").value_or(false);
      request.steps.push_back(std::move(step));
    }
  }
  builds_.Start(call.id, call.build_id, std::move(request));
  call.res.status = 202;
}

namespace {

void CheckVolumeId(const std::string& id) {
  if (!VolumeStore::IsVolumeId(id)) throw ApiError(400, "Invalid volume ID");
}

json VolumeJson(const VolumeRecord& v, bool with_token) {
  json out{{"volumeID", v.id}, {"name", v.name}};
  if (with_token) out["token"] = v.token;
  return out;
}

}  // namespace

void ControlPlane::ListVolumes(Call& call) {
  json out = json::array();
  for (const auto& v : volumes_.List()) out.push_back(VolumeJson(v, false));
  call.Json(200, out);
}

void ControlPlane::CreateVolume(Call& call) {
  json body = call.Body(false);
  auto name = OptionalString(body, "name");
  if (!name) throw ApiError(400, "Invalid volume name");
  call.Json(201, VolumeJson(volumes_.Create(*name), true));
}

void ControlPlane::GetVolume(Call& call) {
  CheckVolumeId(call.id);
  auto v = volumes_.Get(call.id);
  if (!v) throw ApiError(404, "Volume not found");
  call.Json(200, VolumeJson(*v, true));
}

void ControlPlane::DeleteVolume(Call& call) {
  CheckVolumeId(call.id);
  if (!volumes_.Destroy(call.id)) throw ApiError(404, "Volume not found");
  call.NoContent();
}

}  // namespace e2b_local
