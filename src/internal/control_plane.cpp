#include "internal/control_plane.hpp"

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

HttpResponse CallApi(const ClientState& client, const Context& ctx,
                     const ApiCall& call) {
  // A call whose context is already over never reaches the network.
  ctx.ThrowIfDone(call.operation.c_str());

  HttpRequest request;
  request.method = call.method;
  request.url = JoinUrl(client.api_base_url, call.path) + call.query.Encode();
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

  HttpResponse response = client.transport->Send(request);
  if (std::find(call.success.begin(), call.success.end(), response.status) !=
      call.success.end()) {
    return response;
  }
  ThrowHttpError(response.status, response.body, call.not_found,
                 {client.api_key});
}

}  // namespace e2b::internal
