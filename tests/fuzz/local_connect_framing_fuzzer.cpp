// Fuzzes the Connect request framing e2b-local's envd applies before any
// RPC handler runs (tools/e2b-local/envd/envd_server.*): Basic auth,
// Connect-Timeout-Ms, Keepalive-Ping-Interval, the content type, the unary
// body and the single envelope of a streaming request, routing by header or
// Host, and the constant-time comparison of tokens. A bad request may only
// end in a ConnectError with the code HandleRpc answers; anything else
// escaping would become a 500 or a crash.

#include "envd/envd_server.hpp"
#include "fuzz_input.hpp"
#include "internal/connect_envelope.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace {

using e2b_fuzz::Check;
using nlohmann::json;
namespace local = e2b_local;

// Runs `call`; a ConnectError must carry `code`. True when it succeeded.
bool ExpectOnly(const char* code, const std::function<void()>& call) {
  try {
    call();
    return true;
  } catch (const local::ConnectError& e) {
    Check(e.code == code, "unexpected Connect error code", e.code);
    return false;
  }
}

void Headers(const std::string& authorization, bool has_timeout,
             const std::string& timeout, const std::string& keepalive,
             const std::string& content_type) {
  ExpectOnly("unauthenticated", [&] {
    if (auto user = local::BasicAuthUser(authorization)) {
      Check(!user->empty(), "BasicAuthUser returned an empty name");
      Check(user->find(':') == std::string::npos,
            "BasicAuthUser kept the password separator", *user);
    }
  });
  ExpectOnly("invalid_argument", [&] {
    auto parsed = local::ParseConnectTimeout(
        has_timeout ? std::optional<std::string>(timeout) : std::nullopt);
    Check(parsed.has_value() == has_timeout, "a timeout appeared or vanished");
    if (parsed) {
      Check(parsed->count() >= 0 && parsed->count() <= 9999999999LL,
            "timeout out of range", timeout);
    }
  });
  const auto interval = local::ParseKeepaliveInterval(keepalive);
  Check(interval.count() > 0 && interval.count() <= 999999999,
        "keepalive interval out of range", keepalive);
  Check(!(local::RpcContentTypeMatches(content_type, true) &&
          local::RpcContentTypeMatches(content_type, false)),
        "one content type fits unary and streaming RPCs", content_type);
  // Equal strings compare equal and different ones differ, whatever the
  // lengths.
  Check(local::ConstantTimeEquals(authorization, timeout) ==
            (authorization == timeout),
        "ConstantTimeEquals disagrees with ==");
  Check(local::ConstantTimeEquals(keepalive, keepalive),
        "ConstantTimeEquals(x, x) is false");
}

void Routing(const std::string& sandbox_header, const std::string& host) {
  httplib::Request req;
  if (!sandbox_header.empty()) {
    req.headers.emplace("E2b-Sandbox-Id", sandbox_header);
  }
  if (!host.empty()) req.headers.emplace("Host", host);
  const std::string id = local::SandboxIdFromRequest(req);
  Check(id.size() <= sandbox_header.size() + host.size(),
        "sandbox ID longer than its source");
}

void Bodies(const std::string& body) {
  json unary;
  const bool unary_ok = ExpectOnly(
      "invalid_argument", [&] { unary = local::DecodeUnaryRequest(body); });
  if (unary_ok) Check(unary.is_object(), "unary request is not an object");

  json stream;
  const bool stream_ok = ExpectOnly(
      "invalid_argument", [&] { stream = local::DecodeStreamRequest(body); });
  if (stream_ok) {
    Check(stream.is_object(), "stream request is not an object");
    const std::string again = e2b::internal::EncodeEnvelope(
        0, stream.dump(-1, ' ', false, json::error_handler_t::replace));
    Check(local::DecodeStreamRequest(again) == stream,
          "stream request does not round-trip");
  }

  // The same message framed for a stream is accepted exactly when the bare
  // body is accepted as a unary request.
  json framed;
  const bool framed_ok = ExpectOnly("invalid_argument", [&] {
    framed = local::DecodeStreamRequest(e2b::internal::EncodeEnvelope(0, body));
  });
  Check(framed_ok == unary_ok, "unary and framed decoding disagree");
  if (framed_ok) Check(framed == unary, "unary and framed messages differ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.Byte();
  const std::string authorization = in.ShortString();
  const std::string timeout = in.ShortString();
  const std::string keepalive = in.ShortString();
  const std::string content_type = in.ShortString();
  const std::string sandbox_header = in.ShortString();
  const std::string host = in.ShortString();
  const std::string body = in.Rest();
  Headers(authorization, (flags & 1) != 0, timeout, keepalive, content_type);
  Routing(sandbox_header, host);
  Bodies(body);
  return 0;
}
