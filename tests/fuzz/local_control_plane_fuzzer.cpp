// Fuzzes e2b-local's control-plane routing (tools/e2b-local/control/
// control_plane.*): splitting and percent-decoding the request target, the
// health check, and walking the route table for a method and path. Routing
// may only fail with ApiError 400 (bad escapes) or 404 (no route), and what
// it returns must fit its row: the row's method, a handler, and IDs that,
// put back into the row's pattern, give the request's path again.

#include "control/api_error.hpp"
#include "control/control_plane.hpp"
#include "fuzz_input.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using e2b_fuzz::Check;
namespace local = e2b_local;

bool Names(const std::string& pattern, const char* placeholder) {
  return pattern.find(placeholder) != std::string::npos;
}

// The row's pattern with the match's IDs in place of its placeholders.
std::string Expand(const std::string& pattern, const local::RouteMatch& m) {
  std::string out;
  std::size_t start = 0;
  while (start < pattern.size()) {
    std::size_t end = pattern.find('/', start + 1);
    if (end == std::string::npos) end = pattern.size();
    const std::string part = pattern.substr(start + 1, end - start - 1);
    out += '/';
    if (part == "{id}" || part == "{id...}") {
      out += m.id;
    } else if (part == "{build}") {
      out += m.build_id;
    } else {
      out += part;
    }
    start = end;
  }
  return out;
}

std::string JoinPath(const std::vector<std::string>& segments) {
  std::string out;
  for (const auto& s : segments) out += "/" + s;
  return out;
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
  local::RouteMatch match;
  try {
    match = local::MatchRoute(method, segments, target);
  } catch (const local::ApiError& e) {
    Check(e.status == 404, "routing failed with a non-404 status");
    Check(std::string(e.what()).rfind("no route for ", 0) == 0,
          "routing error does not say there is no route");
    return;
  }
  Check(match.route != nullptr && match.route->handler != nullptr,
        "routed to no handler");
  const std::string pattern = match.route->pattern;
  Check(method == match.route->method,
        "row reached by a method it does not take", method);
  Check(Names(pattern, "{id") == !match.id.empty(),
        "an ID is missing or unexpected");
  Check(Names(pattern, "{build}") == !match.build_id.empty(),
        "a build ID is missing or unexpected");
  Check(Expand(pattern, match) == JoinPath(segments),
        "the IDs put back into the pattern do not give the path", pattern);
  const local::RouteMatch again = local::MatchRoute(method, segments, target);
  Check(again.route == match.route && again.id == match.id &&
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
