#include "internal/control_plane.hpp"

#include "internal/ascii.hpp"
#include "internal/retry.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <utility>

namespace e2b::internal {
std::string ApiPath(std::initializer_list<std::string_view> segments) {
  std::string path;
  for (std::string_view segment : segments) {
    path += '/';
    path += PercentEncode(segment);
  }
  return path;
}

bool IsIdempotent(const ApiCall& call) {
  return call.idempotent || call.method == "GET" || call.method == "HEAD" ||
         call.method == "PUT" || call.method == "DELETE";
}

HttpResponse CallApi(const ClientState& client, const Context& ctx,
                     const ApiCall& call) {
  // A call whose context is already over never reaches the network.
  ctx.ThrowIfDone(call.operation.c_str());

  HttpRequest request;
  request.method = call.method;
  request.url = JoinUrl(client.api_base_url, call.path) + call.query.Encode();
  request.headers.reserve(4);
  request.headers.emplace_back("X-API-Key", client.api_key);
  request.headers.emplace_back("User-Agent", UserAgent());
  request.headers.emplace_back("Accept", "application/json");
  if (call.body) {
    request.headers.emplace_back("Content-Type", "application/json");
    try {
      request.body = call.body->dump();
    } catch (const nlohmann::json::type_error&) {
      // JSON text must be UTF-8; say so instead of leaking nlohmann's text.
      throw Error(0, call.operation +
                         ": request contains text that is not "
                         "valid UTF-8");
    }
  }
  request.timeout = client.request_timeout;
  request.context = ctx;
  request.operation = call.operation;

  RetryOutcome outcome;
  HttpResponse response = SendWithRetry(
      *client.transport, request, client.retry,
      IsIdempotent(call) ? ApiRetryRule() : UnsentRetryRule(), &outcome);
  if (call.method == "DELETE" && response.status == 404 &&
      outcome.attempts > 1 && !call.success.empty()) {
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
  secrets.push_back(client.api_key);
  ThrowHttpError(status, response.body, call.not_found, secrets);
}

std::string EncodeMetadataFilter(
    const std::map<std::string, std::string>& metadata) {
  std::string inner;
  for (const auto& [key, value] : metadata) {
    if (!inner.empty()) inner += '&';
    inner += PercentEncode(key);
    inner += '=';
    inner += PercentEncode(value);
  }
  return PercentEncode(inner);
}

ListSandboxesV2Result ListSandboxesV2Page(const ClientState& client,
                                          const Context& ctx,
                                          const ListSandboxesV2Params& p) {
  ApiCall call;
  call.path = "/v2/sandboxes";
  if (!p.Metadata.empty()) {
    call.query.Add("metadata", EncodeMetadataFilter(p.Metadata));
  }
  if (!p.State.empty()) {
    std::string states;
    for (const auto& state : p.State) {
      if (state.empty() || state.find(',') != std::string::npos) {
        throw Error(0, "WithSandboxState: \"" + state +
                           "\" is not a state (running or paused)");
      }
      if (!states.empty()) states += ',';
      states += state;
    }
    call.query.Add("state", states);
  }
  if (p.Template) call.query.Add("template", *p.Template);
  if (p.Order) call.query.Add("order", *p.Order);
  if (p.StartedAfter) call.query.Add("startedAfter", *p.StartedAfter);
  if (p.Limit) call.query.Add("limit", std::to_string(*p.Limit));
  if (p.NextToken && !p.NextToken->empty()) {
    call.query.Add("nextToken", *p.NextToken);
  }
  call.success = {200};
  call.operation = "GET /v2/sandboxes";
  const auto response = CallApi(client, ctx, call);
  ListSandboxesV2Result result;
  result.Sandboxes =
      ParseResponse<std::vector<SandboxInfo>>(response.body, call.operation);
  result.NextToken = response.Header("X-Next-Token").value_or("");
  return result;
}

}  // namespace e2b::internal
