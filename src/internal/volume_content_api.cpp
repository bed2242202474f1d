#include "internal/volume_content_api.hpp"

#include "internal/connect_client.hpp"
#include "internal/control_plane.hpp"
#include "internal/error_mapping.hpp"
#include "internal/file_streams.hpp"
#include "internal/json_mapping.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>

namespace e2b::internal {
namespace {

// One content-API exchange as the service API describes it to
// Request()/Finish().
struct ContentCall {
  const char* method = "GET";
  /// "dir", "path" or "file": the segment after the volume ID.
  const char* route = "path";
  /// The volume path, for the query and for a FileNotFoundError.
  std::string path;
  /// `path` first, then the call's options.
  Query query;
  /// Statuses that mean success.
  std::vector<int> success;
  /// May be sent again after it may have reached the server.
  bool idempotent = false;
  std::chrono::milliseconds timeout = VolumeRequestTimeout;
  /// e.g. "GET /volumecontent/{volumeID}/dir" (IDs left out on purpose).
  std::string operation;
};

template <typename T>
void AddIf(Query& query, const char* key, const std::optional<T>& value) {
  if (value) query.Add(key, std::to_string(*value));
}

void AddIf(Query& query, const char* key, const std::optional<bool>& value) {
  if (value) query.Add(key, *value ? "true" : "false");
}

void AddWriteParams(Query& query, const VolumeWriteParams& p) {
  AddIf(query, "uid", p.UID);
  AddIf(query, "gid", p.GID);
  AddIf(query, "mode", p.Mode);
  AddIf(query, "force", p.Force);
}

ContentCall Call(const char* method, const char* route, const std::string& path,
                 std::vector<int> ok, bool idempotent) {
  ContentCall call;
  call.method = method;
  call.route = route;
  call.path = path;
  call.query.Add("path", path);
  call.success = std::move(ok);
  call.idempotent = idempotent;
  call.operation = std::string(method) + " /volumecontent/{volumeID}/" + route;
  return call;
}

class RestVolumeContentApi final : public VolumeContentApi {
 public:
  explicit RestVolumeContentApi(RestVolumeContentOptions options)
      : options_(std::move(options)) {}

  std::vector<VolumeEntryStat> List(const Context& ctx,
                                    const VolumeAccess& volume,
                                    const std::string& path,
                                    const VolumeListParams& p) override {
    ContentCall call = Call("GET", "dir", path, {200}, true);
    AddIf(call.query, "depth", p.Depth);
    return ParseResponse<std::vector<VolumeEntryStat>>(
        Send(ctx, volume, call).body, call.operation);
  }

  VolumeEntryStat MakeDir(const Context& ctx, const VolumeAccess& volume,
                          const std::string& path,
                          const VolumeWriteParams& p) override {
    // Not idempotent: a second attempt finds the directory (409).
    ContentCall call = Call("POST", "dir", path, {200, 201}, false);
    AddWriteParams(call.query, p);
    return ParseResponse<VolumeEntryStat>(Send(ctx, volume, call).body,
                                          call.operation);
  }

  VolumeEntryStat GetInfo(const Context& ctx, const VolumeAccess& volume,
                          const std::string& path) override {
    ContentCall call = Call("GET", "path", path, {200}, true);
    return ParseResponse<VolumeEntryStat>(Send(ctx, volume, call).body,
                                          call.operation);
  }

  VolumeEntryStat UpdateMetadata(const Context& ctx, const VolumeAccess& volume,
                                 const std::string& path,
                                 const VolumeMetadataParams& p) override {
    // Sets the values given: twice is once.
    ContentCall call = Call("PATCH", "path", path, {200}, true);
    HttpRequest request = Request(ctx, volume, call);
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = VolumeMetadataBody(p).dump();
    return ParseResponse<VolumeEntryStat>(
        Finish(Transport(call).Send(request), volume, call).body,
        call.operation);
  }

  void Remove(const Context& ctx, const VolumeAccess& volume,
              const std::string& path) override {
    ContentCall call = Call("DELETE", "path", path, {200, 204}, true);
    Send(ctx, volume, call);
  }

  std::unique_ptr<BodyReader> OpenFile(const Context& ctx,
                                       const VolumeAccess& volume,
                                       const std::string& path) override {
    ContentCall call = Call("GET", "file", path, {200}, true);
    call.timeout = VolumeFileTimeout;
    HttpRequest request = Request(ctx, volume, call);
    auto body = Transport(call).Open(request);
    if (body->Status() == 200) return body;
    const std::string text = ReadErrorBody(*body, kMaxErrorBodyBytes);
    ThrowVolumeHttpError(body->Status(), text, {NotFoundKind::kFile, path},
                         Secrets(volume), &body->Headers());
  }

  VolumeEntryStat WriteFile(const Context& ctx, const VolumeAccess& volume,
                            const std::string& path, std::istream* data,
                            std::string buffer,
                            const VolumeWriteParams& p) override {
    // Not idempotent: without force a second attempt finds the file (409);
    // a streamed body is never sent twice anyway.
    ContentCall call = Call("PUT", "file", path, {200, 201}, false);
    call.timeout = VolumeFileTimeout;
    AddWriteParams(call.query, p);
    HttpRequest request = Request(ctx, volume, call);
    request.headers.emplace_back("Content-Type", "application/octet-stream");
    // The caller's stream is read through a ConcatStream, which ends at its
    // end (even with exceptions enabled on it) and turns a badbit into a
    // failure, so a broken source never passes as a shorter file.
    std::optional<ConcatStream> body;
    std::istringstream buffer_stream;
    if (data != nullptr) {
      body.emplace();
      body->AddStream(*data);
      request.body_stream = &*body;
    } else if (p.Progress) {
      // Progress is counted where curl reads the body, so an in-memory
      // body goes through the stream as well, chunk by chunk, with its
      // size declared.
      request.body_size = buffer.size();
      buffer_stream.str(buffer);
      body.emplace();
      body->AddStream(buffer_stream);
      request.body_stream = &*body;
    } else {
      request.body = std::move(buffer);
    }
    if (body && p.Progress) {
      const std::uint64_t total = request.body_size.value_or(0);
      body->SetProgress([progress = p.Progress, total](std::uint64_t sent) {
        progress(sent, total);
      });
    }
    const auto check_source = [&] {
      if (body && (body->bad() || body->Failure())) {
        if (body->Failure()) std::rethrow_exception(body->Failure());
        throw Error(0, call.operation + ": reading the upload data failed");
      }
      if (data != nullptr && data->bad()) {
        throw Error(0, call.operation + ": reading the upload data failed");
      }
    };
    HttpResponse response;
    try {
      response = Transport(call).Send(request);
    } catch (const TimeoutError&) {
      throw;
    } catch (const Error&) {
      check_source();  // the source's failure says more than curl's
      throw;
    }
    check_source();
    return ParseResponse<VolumeEntryStat>(
        Finish(std::move(response), volume, call).body, call.operation);
  }

 private:
  std::vector<std::string> Secrets(const VolumeAccess& volume) const {
    return {volume.token, options_.api_key};
  }

  HttpTransport& Transport(const ContentCall& call) const {
    return call.idempotent ? *options_.idempotent_transport
                           : *options_.write_transport;
  }

  // The request of every content call: the URL with the volume path in the
  // query, the bearer token, the User-Agent, the call's limit and the
  // caller's Context. A volume without a token fails here, before anything
  // is sent, as in Go.
  HttpRequest Request(const Context& ctx, const VolumeAccess& volume,
                      const ContentCall& call) const {
    if (volume.token.empty()) {
      throw AuthenticationError(
          "volume token is required for content operations", 0);
    }
    ctx.ThrowIfDone(call.operation.c_str());
    HttpRequest request;
    request.method = call.method;
    request.url =
        JoinUrl(options_.api_base_url,
                ApiPath({"volumecontent", volume.volume_id, call.route})) +
        call.query.Encode();
    request.headers.reserve(4);
    request.headers.emplace_back("Authorization", "Bearer " + volume.token);
    request.headers.emplace_back("User-Agent", UserAgent());
    if (std::string_view(call.route) != "file") {
      request.headers.emplace_back("Accept", "application/json");
    }
    request.timeout = call.timeout;
    request.context = ctx;
    request.operation = call.operation;
    request.route = std::string("/volumecontent/{volumeID}/") + call.route;
    return request;
  }

  // Sends a call without a body and checks its status.
  HttpResponse Send(const Context& ctx, const VolumeAccess& volume,
                    const ContentCall& call) const {
    return Finish(Transport(call).Send(Request(ctx, volume, call)), volume,
                  call);
  }

  // The one place an answer outside call.success becomes an exception.
  HttpResponse Finish(HttpResponse response, const VolumeAccess& volume,
                      const ContentCall& call) const {
    if (std::string_view(call.method) == "DELETE" && response.status == 404 &&
        response.attempts > 1) {
      // An earlier attempt may have removed it and lost only its answer.
      response.status = call.success.front();
      return response;
    }
    if (std::find(call.success.begin(), call.success.end(), response.status) !=
        call.success.end()) {
      return response;
    }
    ThrowVolumeHttpError(response.status, response.body,
                         {NotFoundKind::kFile, call.path}, Secrets(volume),
                         &response.headers);
  }

  RestVolumeContentOptions options_;
};

}  // namespace

std::shared_ptr<VolumeContentApi> MakeRestVolumeContentApi(
    RestVolumeContentOptions options) {
  return std::make_shared<RestVolumeContentApi>(std::move(options));
}

}  // namespace e2b::internal
