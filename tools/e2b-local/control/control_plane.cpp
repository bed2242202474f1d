#include "control/control_plane.hpp"

#include "control/api_error.hpp"
#include "control/wire.hpp"
#include "envd/envd_server.hpp"
#include "http/server_setup.hpp"
#include "util/utc_timestamp.hpp"

#include <httplib.h>

#include <algorithm>
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

constexpr int kDefaultSandboxTimeout = 15;

[[noreturn]] void NoRoute(const std::string& method, const std::string& path) {
  throw ApiError(404, "no route for " + method + " " + path);
}

RouteMatch MatchSandboxRoute(const std::string& m,
                             const std::vector<std::string>& segments,
                             const std::string& path) {
  // Drop the "v2" prefix; the few v2-only forms are told apart by `v2`.
  const bool v2 = segments[0] == "v2";
  std::vector<std::string> p(segments.begin() + (v2 ? 1 : 0), segments.end());
  if (p.size() == 1) {
    if (m == "POST") return {Endpoint::kCreateSandbox, {}, {}};
    if (m == "GET") {
      return {
          v2 ? Endpoint::kListSandboxesV2 : Endpoint::kListSandboxesV1, {}, {}};
    }
    NoRoute(m, path);
  }
  if (p.size() == 2 && p[1] == "metrics" && m == "GET" && !v2) {
    return {Endpoint::kBatchMetrics, {}, {}};
  }
  const std::string& id = p[1];
  if (p.size() == 2) {
    if (v2) NoRoute(m, path);
    if (m == "GET") return {Endpoint::kGetSandbox, id, {}};
    if (m == "DELETE") return {Endpoint::kKillSandbox, id, {}};
    NoRoute(m, path);
  }
  if (p.size() != 3) NoRoute(m, path);
  const std::string& action = p[2];
  if (v2) {
    if (m == "POST" && action == "connect") {
      return {Endpoint::kConnectSandbox, id, {}};
    }
    if (m == "GET" && action == "logs") {
      return {Endpoint::kSandboxLogsV2, id, {}};
    }
    NoRoute(m, path);
  }
  if (m == "GET") {
    if (action == "metrics") return {Endpoint::kSandboxMetrics, id, {}};
    if (action == "logs") return {Endpoint::kSandboxLogsV1, id, {}};
    NoRoute(m, path);
  }
  if (m == "PUT" && action == "network") {
    return {Endpoint::kSetNetwork, id, {}};
  }
  if (m != "POST") NoRoute(m, path);
  static const std::map<std::string, Endpoint> kPostActions = {
      {"timeout", Endpoint::kSetTimeout},
      {"refreshes", Endpoint::kRefresh},
      {"pause", Endpoint::kPause},
      {"resume", Endpoint::kResume},
      {"connect", Endpoint::kConnectSandbox},
      {"fork", Endpoint::kFork},
      {"snapshots", Endpoint::kCreateSnapshot}};
  auto it = kPostActions.find(action);
  if (it == kPostActions.end()) NoRoute(m, path);
  return {it->second, id, {}};
}

RouteMatch MatchTemplateRoute(const std::string& m,
                              const std::vector<std::string>& p,
                              const std::string& path) {
  if (p[0] == "v3") {
    if (p.size() == 2 && m == "POST")
      return {Endpoint::kCreateTemplate, {}, {}};
    NoRoute(m, path);
  }
  if (p[0] == "v2") NoRoute(m, path);
  if (p.size() == 1) {
    if (m != "GET") NoRoute(m, path);
    return {Endpoint::kListTemplates, {}, {}};
  }
  // /templates/{id}/builds/{buildID}/(logs|status)
  if (p.size() == 5 && p[2] == "builds" && m == "GET") {
    if (p[4] == "logs") return {Endpoint::kBuildLogs, p[1], p[3]};
    if (p[4] == "status") return {Endpoint::kBuildStatus, p[1], p[3]};
    NoRoute(m, path);
  }
  // An unescaped ID with '/' (the Go seed does not escape path IDs) arrives
  // as several segments.
  const std::string id = Join(p, 1, p.size());
  if (m == "GET") return {Endpoint::kGetTemplate, id, {}};
  if (m == "DELETE") return {Endpoint::kDeleteTemplate, id, {}};
  NoRoute(m, path);
}

}  // namespace

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
                      const std::vector<std::string>& p,
                      const std::string& path) {
  if (p.empty()) throw ApiError(404, "no route for " + path);
  const std::string& first = p[0];
  if (first == "sandboxes" ||
      (first == "v2" && p.size() >= 2 && p[1] == "sandboxes")) {
    return MatchSandboxRoute(method, p, path);
  }
  if (first == "snapshots" && p.size() == 1 && method == "GET") {
    return {Endpoint::kListSnapshots, {}, {}};
  }
  if (first == "templates" || (p.size() >= 2 && p[1] == "templates" &&
                               (first == "v2" || first == "v3"))) {
    return MatchTemplateRoute(method, p, path);
  }
  NoRoute(method, path);
}

ControlPlane::ControlPlane(SandboxRegistry& registry, TemplateStore& store,
                           std::vector<std::string> api_keys)
    : registry_(registry), store_(store), api_keys_(std::move(api_keys)) {
  if (api_keys_.empty()) throw std::invalid_argument("no API key configured");
}

void ControlPlane::Mount(httplib::Server& server) {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    Handle(req, res);
  };
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Delete(".*", handler);
  server.Patch(".*", handler);
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
    Call call{req, res, SplitRequestPath(req.target)};
    if (IsHealthCheck(req.method, call.path)) {
      call.Json(200, json{{"status", "ok"}});
      return;
    }
    if (!Authorized(req)) {
      SendJsonError(res, 401, "Invalid API key");
      return;
    }
    Dispatch(call, MatchRoute(req.method, call.path, req.path));
  } catch (const ApiError& e) {
    SendJsonError(res, e.status, e.what());
  } catch (const std::exception& e) {
    SendJsonError(res, 500, std::string("internal error: ") + e.what());
  }
}

void ControlPlane::Dispatch(Call& call, const RouteMatch& route) {
  const std::string& id = route.id;
  switch (route.endpoint) {
    case Endpoint::kCreateSandbox:
      return CreateSandbox(call);
    case Endpoint::kListSandboxesV1:
      return ListSandboxesV1(call);
    case Endpoint::kListSandboxesV2:
      return ListSandboxesV2(call);
    case Endpoint::kBatchMetrics:
      return BatchMetrics(call);
    case Endpoint::kGetSandbox: {
      auto sandbox = registry_.Get(id);
      call.Json(200, SandboxDetailJson(*sandbox, registry_.Network(id)));
      return;
    }
    case Endpoint::kKillSandbox:
      registry_.Kill(id);
      call.NoContent();
      return;
    case Endpoint::kConnectSandbox:
      return ConnectSandbox(call, id);
    case Endpoint::kSandboxLogsV1:
      return SandboxLogsV1(call, id);
    case Endpoint::kSandboxLogsV2:
      return SandboxLogsV2(call, id);
    case Endpoint::kSandboxMetrics:
      return SandboxMetrics(call, id);
    case Endpoint::kSetNetwork: {
      json body = call.Body(false);
      registry_.SetNetwork(id, body);
      call.NoContent();
      return;
    }
    case Endpoint::kSetTimeout: {
      json body = call.Body(false);
      if (!body.contains("timeout")) {
        throw ApiError(400, "'timeout' is required");
      }
      registry_.SetTimeout(id, TimeoutField(body, "timeout", 0));
      call.NoContent();
      return;
    }
    case Endpoint::kRefresh: {
      json body = call.Body();
      registry_.Refresh(id, TimeoutField(body, "duration", 0));
      call.NoContent();
      return;
    }
    case Endpoint::kPause: {
      json body = call.Body();
      OptionalBool(body, "memory");  // validated; memory is always kept
      registry_.Pause(id);
      call.NoContent();
      return;
    }
    case Endpoint::kResume: {
      json body = call.Body();
      auto sandbox = registry_.Resume(
          id, TimeoutField(body, "timeout", kDefaultSandboxTimeout),
          OptionalBool(body, "autoPause"));
      call.Json(201, SandboxJson(*sandbox));
      return;
    }
    case Endpoint::kFork:
      return ForkSandbox(call, id);
    case Endpoint::kCreateSnapshot: {
      json body = call.Body();
      auto name = OptionalString(body, "name");
      auto result = registry_.Snapshot(id, name.value_or(""));
      call.Json(201, SnapshotInfoJson(result.tmpl));
      return;
    }
    case Endpoint::kListSnapshots:
      return ListSnapshots(call);
    case Endpoint::kCreateTemplate:
      return CreateTemplate(call);
    case Endpoint::kListTemplates: {
      json out = json::array();
      for (const auto& t : store_.List()) {
        if (!t.snapshot) out.push_back(TemplateJson(t));
      }
      call.Json(200, out);
      return;
    }
    case Endpoint::kGetTemplate:
      return GetTemplate(call, id);
    case Endpoint::kDeleteTemplate:
      registry_.DeleteTemplate(id);
      call.NoContent();
      return;
    case Endpoint::kBuildLogs:
      return BuildLogs(call, id, route.build_id);
    case Endpoint::kBuildStatus:
      return BuildStatus(call, id, route.build_id);
  }
  throw ApiError(404, "no route for " + call.req.method + " " + call.req.path);
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
  OptionalBool(body, "autoPauseMemory");
  OptionalBool(body, "secure");  // every sandbox gets an access token
  if (auto it = body.find("autoResume"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) throw ApiError(400, "'autoResume' must be an object");
    params.auto_resume = OptionalBool(*it, "enabled").value_or(false);
  }
  params.allow_internet_access =
      OptionalBool(body, "allow_internet_access").value_or(true);
  params.metadata = StringMap(body, "metadata");
  params.env_vars = StringMap(body, "envVars");
  if (auto it = body.find("network"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) throw ApiError(400, "'network' must be an object");
    params.network = *it;
  }
  auto sandbox = registry_.Create(params);
  call.Json(201, SandboxJson(*sandbox));
}

void ControlPlane::ListSandboxesV1(Call& call) {
  auto filter = ParseMetadataFilter(call.Query("metadata"));
  json out = json::array();
  for (const auto& s : registry_.List()) {
    if (s->Status() != SandboxStatus::kRunning) continue;
    if (!MetadataMatches(*s, filter)) continue;
    out.push_back(ListedSandboxJson(*s));
  }
  call.Json(200, out);
}

void ControlPlane::ListSandboxesV2(Call& call) {
  auto filter = ParseMetadataFilter(call.Query("metadata"));
  bool want_running = true, want_paused = true;
  if (std::string state = call.Query("state"); !state.empty()) {
    want_running = want_paused = false;
    size_t start = 0;
    while (start <= state.size()) {
      size_t comma = state.find(',', start);
      if (comma == std::string::npos) comma = state.size();
      std::string one = state.substr(start, comma - start);
      start = comma + 1;
      if (one == "running") {
        want_running = true;
      } else if (one == "paused") {
        want_paused = true;
      } else if (!one.empty()) {
        throw ApiError(
            400, "invalid state '" + one + "': expected running or paused");
      }
    }
  }
  std::string order = call.Query("order");
  if (!order.empty() && order != "asc" && order != "desc") {
    throw ApiError(400, "'order' must be asc or desc");
  }
  std::optional<std::int64_t> started_after;
  if (std::string text = call.Query("startedAfter"); !text.empty()) {
    started_after = ParseTimestampMs(text);
    if (!started_after) {
      throw ApiError(400, "'startedAfter' must be an RFC 3339 date-time");
    }
  }
  const std::string tmpl = call.Query("template");
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 100, 1, 100));
  const std::size_t offset = DecodePageToken(call.Query("nextToken"));

  auto all = registry_.List();
  std::int64_t total_running = 0;
  std::vector<std::shared_ptr<LocalSandbox>> matched;
  for (const auto& s : all) {
    SandboxStatus status = s->Status();
    if (status == SandboxStatus::kRunning) ++total_running;
    if (status == SandboxStatus::kRunning && !want_running) continue;
    if (status == SandboxStatus::kPaused && !want_paused) continue;
    if (!MetadataMatches(*s, filter)) continue;
    if (!tmpl.empty() && s->template_id != tmpl && s->alias != tmpl) continue;
    if (started_after && UnixMillis(s->started_at) <= *started_after) {
      continue;
    }
    matched.push_back(s);
  }
  if (order != "asc") std::reverse(matched.begin(), matched.end());
  json out = json::array();
  for (std::size_t i = offset; i < matched.size() && out.size() < limit; ++i) {
    out.push_back(ListedSandboxJson(*matched[i]));
  }
  if (offset + limit < matched.size()) {
    call.res.set_header("X-Next-Token", EncodePageToken(offset + limit));
  }
  call.res.set_header("X-Total-Running", std::to_string(total_running));
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

void ControlPlane::SandboxMetrics(Call& call, const std::string& id) {
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::int64_t kMax = 4102444800;  // 2100-01-01
  std::int64_t start = QueryInt(call.Query("start"), "start", 0, 0, kMax);
  std::int64_t end = QueryInt(call.Query("end"), "end", now_s, 0, kMax);
  if (start > end) throw ApiError(400, "'start' must not be after 'end'");
  json out = json::array();
  for (const auto& sample : registry_.Metrics(id, start * 1000, end * 1000)) {
    out.push_back(MetricJson(sample));
  }
  call.Json(200, out);
}

void ControlPlane::SandboxLogsV1(Call& call, const std::string& id) {
  auto sandbox = registry_.Get(id);
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

void ControlPlane::SandboxLogsV2(Call& call, const std::string& id) {
  auto sandbox = registry_.Get(id);
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

void ControlPlane::ConnectSandbox(Call& call, const std::string& id) {
  json body = call.Body();
  int timeout = TimeoutField(body, "timeout", kDefaultSandboxTimeout);
  bool resumed = registry_.Connect(id, timeout);
  call.Json(resumed ? 201 : 200, SandboxJson(*registry_.Get(id)));
}

void ControlPlane::ForkSandbox(Call& call, const std::string& id) {
  json body = call.Body();
  std::optional<int> timeout;
  if (body.contains("timeout") && !body["timeout"].is_null()) {
    timeout = TimeoutField(body, "timeout", 0);
  }
  auto count = OptionalInt(body, "count").value_or(1);
  if (count < 1 || count > 100) {
    throw ApiError(400, "'count' must be between 1 and 100");
  }
  json out = json::array();
  for (const auto& outcome :
       registry_.Fork(id, timeout, static_cast<int>(count))) {
    if (outcome.sandbox) {
      out.push_back(json{{"sandbox", SandboxJson(*outcome.sandbox)}});
    } else {
      out.push_back(json{{"error", json{{"code", outcome.error_status},
                                        {"message", outcome.error_message}}}});
    }
  }
  call.Json(201, out);
}

void ControlPlane::ListSnapshots(Call& call) {
  const std::string sandbox_id = call.Query("sandboxID");
  const std::string name = call.Query("name");
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 100, 1, 100));
  const std::size_t offset = DecodePageToken(call.Query("nextToken"));
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
  json out = json::array();
  for (std::size_t i = offset; i < matched.size() && out.size() < limit; ++i) {
    out.push_back(SnapshotInfoJson(matched[i]));
  }
  if (offset + limit < matched.size()) {
    call.res.set_header("X-Next-Token", EncodePageToken(offset + limit));
  }
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

void ControlPlane::GetTemplate(Call& call, const std::string& id) {
  auto t = store_.Find(id);
  if (!t) throw ApiError(404, "template '" + id + "' not found");
  const auto limit = static_cast<std::size_t>(
      QueryInt(call.Query("limit"), "limit", 100, 1, 100));
  const std::size_t offset = DecodePageToken(call.Query("nextToken"));
  json builds = json::array();
  // Newest first.
  const auto& all = t->builds;
  for (std::size_t i = offset; i < all.size() && builds.size() < limit; ++i) {
    builds.push_back(BuildJson(all[all.size() - 1 - i]));
  }
  if (offset + limit < all.size()) {
    call.res.set_header("X-Next-Token", EncodePageToken(offset + limit));
  }
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

void ControlPlane::BuildLogs(Call& call, const std::string& id,
                             const std::string& build_id) {
  auto found = store_.GetBuild(id, build_id);
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

void ControlPlane::BuildStatus(Call& call, const std::string& id,
                               const std::string& build_id) {
  auto found = store_.GetBuild(id, build_id);
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
  }
  call.Json(200, out);
}

}  // namespace e2b_local
