// Fuzzes e2b-local's control-plane routing (tools/e2b-local/control/
// control_plane.*): splitting and percent-decoding the request target, the
// health check, and mapping a method and path to an endpoint. Routing may
// only fail with ApiError 400 (bad escapes) or 404 (no route), and what it
// returns must fit the endpoint: the method it takes and the IDs it needs.

#include "control/api_error.hpp"
#include "control/control_plane.hpp"
#include "fuzz_input.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using e2b_fuzz::Check;
namespace local = e2b_local;
using local::Endpoint;

const char* MethodOf(Endpoint e) {
  switch (e) {
    case Endpoint::kCreateSandbox:
    case Endpoint::kConnectSandbox:
    case Endpoint::kSetTimeout:
    case Endpoint::kRefresh:
    case Endpoint::kPause:
    case Endpoint::kResume:
    case Endpoint::kFork:
    case Endpoint::kCreateSnapshot:
    case Endpoint::kCreateTemplate:
      return "POST";
    case Endpoint::kKillSandbox:
    case Endpoint::kDeleteTemplate:
      return "DELETE";
    case Endpoint::kSetNetwork:
      return "PUT";
    default:
      return "GET";
  }
}

bool NeedsId(Endpoint e) {
  switch (e) {
    case Endpoint::kCreateSandbox:
    case Endpoint::kListSandboxesV1:
    case Endpoint::kListSandboxesV2:
    case Endpoint::kBatchMetrics:
    case Endpoint::kListSnapshots:
    case Endpoint::kCreateTemplate:
    case Endpoint::kListTemplates:
      return false;
    default:
      return true;
  }
}

void Route(const std::string& method, const std::string& target) {
  std::vector<std::string> segments;
  try {
    segments = local::SplitRequestPath(target);
  } catch (const local::ApiError& e) {
    Check(e.status == 400, "path splitting failed with a non-400 status");
    return;
  }
  for (const auto& s : segments) {
    Check(!s.empty(), "an empty path segment survived");
  }
  if (local::IsHealthCheck(method, segments)) {
    Check(method == "GET" && segments.size() == 1,
          "a health check that is not GET /health");
  }
  local::RouteMatch match{};
  try {
    match = local::MatchRoute(method, segments, target);
  } catch (const local::ApiError& e) {
    Check(e.status == 404, "routing failed with a non-404 status");
    Check(std::string(e.what()).rfind("no route for ", 0) == 0,
          "routing error does not say there is no route");
    return;
  }
  Check(method == MethodOf(match.endpoint),
        "endpoint reached by a method it "
        "does not take",
        method);
  Check(NeedsId(match.endpoint) == !match.id.empty(),
        "an ID is missing or unexpected");
  const bool build = match.endpoint == Endpoint::kBuildLogs ||
                     match.endpoint == Endpoint::kBuildStatus;
  Check(build == !match.build_id.empty(),
        "a build ID is missing or unexpected");
  const bool template_id = match.endpoint == Endpoint::kGetTemplate ||
                           match.endpoint == Endpoint::kDeleteTemplate;
  if (!match.id.empty() && !template_id) {
    // Sandbox and build IDs are one decoded segment each.
    Check(
        std::find(segments.begin(), segments.end(), match.id) != segments.end(),
        "the ID is not a path segment", match.id);
  }
  const local::RouteMatch again = local::MatchRoute(method, segments, target);
  Check(again.endpoint == match.endpoint && again.id == match.id &&
            again.build_id == match.build_id,
        "routing is not deterministic");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  static const char* const kMethods[] = {"GET",    "POST",  "PUT",
                                         "DELETE", "PATCH", "HEAD"};
  e2b_fuzz::FuzzInput in(data, size);
  const std::uint8_t choice = in.Byte();
  const std::string method = (choice & 0x80) != 0
                                 ? in.ShortString()
                                 : std::string(kMethods[choice % 6]);
  Route(method, in.Rest());
  return 0;
}
