#include "internal/client_state.hpp"
#include "internal/connect_client.hpp"
#include "internal/error_mapping.hpp"
#include "internal/file_streams.hpp"
#include "internal/url.hpp"

#include <e2b/errors.hpp>
#include <e2b/filesystem.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <utility>

namespace e2b {
namespace {

using internal::HttpRequest;

// The upload answer is a short JSON array; more than this is not envd.
constexpr std::size_t kMaxUploadResponseBytes = std::size_t{1} << 20;

// envd accepts raw octet-stream uploads since 0.5.7; older ones only
// multipart/form-data.
constexpr std::array<long, 3> kOctetStreamSince = {0, 5, 7};

// "1.2.3", "v1.2.3", "1.2" or "1.2.3-rc1+build"; nullopt when unparsable.
std::optional<std::array<long, 3>> ParseVersion(std::string_view text) {
  if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) {
    text.remove_prefix(1);
  }
  const auto suffix = text.find_first_of("-+");
  if (suffix != std::string_view::npos) text = text.substr(0, suffix);
  std::array<long, 3> version = {0, 0, 0};
  std::size_t index = 0;
  std::size_t pos = 0;
  while (true) {
    if (index == version.size()) return std::nullopt;
    const std::size_t dot = text.find('.', pos);
    const std::string_view part =
        text.substr(pos, dot == std::string_view::npos ? std::string_view::npos
                                                       : dot - pos);
    if (part.empty() || part.size() > 9) return std::nullopt;
    long value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    version[index++] = value;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  if (index < 2) return std::nullopt;
  return version;
}

bool NeedsMultipart(const std::string& envd_version) {
  const auto version = ParseVersion(envd_version);
  return version && *version < kOctetStreamSince;
}

class Files {
 public:
  Files(const std::shared_ptr<internal::SandboxState>& state,
        const char* operation)
      : state_(state) {
    if (!state_ || !state_->client || !state_->client->transport) {
      throw Error(0, std::string(operation) +
                         " called on a FilesystemService without sandbox");
    }
  }

  HttpRequest Request(const char* method, const Context& ctx,
                      const std::string& path, const std::string& user,
                      std::chrono::milliseconds timeout) const {
    if (timeout.count() < 0) throw Error(0, "file timeout is negative");
    internal::Query query;
    query.Add("path", path);
    if (!user.empty()) query.Add("username", user);
    HttpRequest request;
    request.method = method;
    request.url =
        internal::JoinUrl(state_->envd_url, "/files") + query.Encode();
    request.headers = state_->EnvdHeaders();
    request.timeout = timeout;
    request.context = ctx;
    request.operation = std::string(method) + " /files";
    return request;
  }

  internal::HttpTransport& Transport() const {
    return *state_->client->transport;
  }

  // Maps a failed /files answer (PROTOCOL.md section 3).
  [[noreturn]] void ThrowStatus(int status, std::string_view body,
                                const std::string& path) const {
    const std::vector<std::string> secrets = {state_->access_token};
    if (auto id = internal::EdgeSandboxNotFound(status, body, state_->id)) {
      throw SandboxNotFoundError(
          *id, internal::RedactSecrets(internal::ErrorMessageFromBody(body),
                                       secrets));
    }
    internal::NotFoundSubject subject;
    subject.kind = internal::NotFoundKind::kFile;
    subject.id = path;
    internal::ThrowHttpError(status, body, subject, secrets);
  }

  std::unique_ptr<internal::BodyReader> OpenRead(
      const Context& ctx, const std::string& path,
      const ReadParams& params) const {
    auto body = Transport().Open(
        Request("GET", ctx, path, params.User, params.Timeout));
    if (body->Status() != 200) {
      const int status = body->Status();
      const std::string text =
          internal::ReadErrorBody(*body, internal::kMaxErrorBodyBytes);
      ThrowStatus(status, text, path);
    }
    return body;
  }

  const internal::SandboxState& State() const { return *state_; }

 private:
  std::shared_ptr<internal::SandboxState> state_;
};

std::string RandomBoundary() {
  std::random_device device;
  std::string boundary = "e2b-cpp-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    const unsigned value = device();
    for (int shift = 0; shift < 32; shift += 8) {
      boundary.push_back(kHex[(value >> shift) & 0xf]);
    }
  }
  return boundary;
}

// The multipart filename parameter, quoted as browsers do (HTML's form
// encoding): '"', CR and LF become percent escapes.
std::string QuotedFilename(const std::string& path) {
  std::string out = "\"";
  for (char c : path) {
    if (c == '"') {
      out.append("%22");
    } else if (c == '\r') {
      out.append("%0D");
    } else if (c == '\n') {
      out.append("%0A");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

struct Multipart {
  std::string content_type;
  std::string head;
  std::string tail;
};

Multipart MakeMultipart(const std::string& path) {
  const std::string boundary = RandomBoundary();
  Multipart multipart;
  multipart.content_type = "multipart/form-data; boundary=" + boundary;
  multipart.head = "--" + boundary +
                   "\r\nContent-Disposition: form-data; name=\"file\"; "
                   "filename=" +
                   QuotedFilename(path) +
                   "\r\nContent-Type: application/octet-stream\r\n\r\n";
  multipart.tail = "\r\n--" + boundary + "--\r\n";
  return multipart;
}

FileInfo ParseUploadAnswer(const internal::HttpResponse& response) {
  auto entries = nlohmann::json::parse(response.body, nullptr,
                                       /*allow_exceptions=*/false);
  if (entries.is_discarded() || !entries.is_array()) {
    throw Error(0, "POST /files: the upload answer is not a JSON array");
  }
  if (entries.empty()) {
    throw Error(0, "POST /files: the upload answer lists no file");
  }
  const auto& first = entries.front();
  if (!first.is_object()) {
    throw Error(0, "POST /files: the upload answer entry is not an object");
  }
  const auto field = [&first](const char* name) -> std::string {
    const auto it = first.find(name);
    if (it == first.end() || !it->is_string()) return {};
    return it->get<std::string>();
  };
  FileInfo info;
  info.Name = field("name");
  info.Path = field("path");
  info.Type = field("type");
  return info;
}

// Sends an upload whose body is either `buffer` (when `data` is null) or
// streamed from `data`, as octet-stream or, for old envd, multipart.
FileInfo Upload(const Files& files, const Context& ctx, const std::string& path,
                std::istream* data, std::string buffer,
                const WriteParams& params) {
  HttpRequest request =
      files.Request("POST", ctx, path, params.User, params.Timeout);
  request.max_response_bytes = kMaxUploadResponseBytes;
  // The caller's stream is always read through a ConcatStream: it treats a
  // failbit at the end of data as the end even when the caller enabled
  // exceptions on its stream, and a badbit as a failure.
  std::optional<internal::ConcatStream> body;
  std::istringstream buffer_stream;
  if (NeedsMultipart(files.State().envd_version)) {
    Multipart multipart = MakeMultipart(path);
    request.headers.emplace_back("Content-Type", multipart.content_type);
    if (data == nullptr) {
      request.body_size =
          multipart.head.size() + buffer.size() + multipart.tail.size();
      buffer_stream.str(std::move(buffer));
      data = &buffer_stream;
    }
    body.emplace();
    body->AddText(std::move(multipart.head));
    body->AddStream(*data);
    body->AddText(std::move(multipart.tail));
    request.body_stream = &*body;
  } else {
    request.headers.emplace_back("Content-Type", "application/octet-stream");
    if (data == nullptr) {
      request.body = std::move(buffer);
    } else {
      body.emplace();
      body->AddStream(*data);
      request.body_stream = &*body;
    }
  }

  const internal::HttpResponse response = files.Transport().Send(request);
  // A source that failed mid-way must not pass as a shorter file, whatever
  // the server answered.
  if ((data != nullptr && data->bad()) || (body && body->bad())) {
    throw Error(0, "POST /files: reading the upload data failed");
  }
  if (response.status != 200 && response.status != 201) {
    files.ThrowStatus(response.status, response.body, path);
  }
  return ParseUploadAnswer(response);
}

}  // namespace

FilesystemService::FilesystemService(
    std::shared_ptr<internal::SandboxState> state)
    : state_(std::move(state)) {}

std::unique_ptr<std::istream> FilesystemService::ReadImpl(
    const Context& ctx, const std::string& path,
    const ReadParams& params) const {
  Files files(state_, "Filesystem.Read");
  return std::make_unique<internal::BodyReaderStream>(
      files.OpenRead(ctx, path, params));
}

std::vector<std::uint8_t> FilesystemService::ReadBytesImpl(
    const Context& ctx, const std::string& path,
    const ReadParams& params) const {
  const std::string text = ReadStringImpl(ctx, path, params);
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

std::string FilesystemService::ReadStringImpl(const Context& ctx,
                                              const std::string& path,
                                              const ReadParams& params) const {
  Files files(state_, "Filesystem.ReadString");
  auto body = files.OpenRead(ctx, path, params);
  std::string out;
  std::string chunk(internal::kStreamChunkBytes, '\0');
  while (true) {
    const std::size_t got = body->Read(chunk.data(), chunk.size());
    if (got == 0) break;
    out.append(chunk.data(), got);
  }
  return out;
}

FileInfo FilesystemService::WriteImpl(const Context& ctx,
                                      const std::string& path,
                                      std::istream& data,
                                      const WriteParams& params) const {
  Files files(state_, "Filesystem.Write");
  return Upload(files, ctx, path, &data, {}, params);
}

FileInfo FilesystemService::WriteBufferImpl(const Context& ctx,
                                            const std::string& path,
                                            std::string data,
                                            const WriteParams& params) const {
  Files files(state_, "Filesystem.Write");
  return Upload(files, ctx, path, nullptr, std::move(data), params);
}

}  // namespace e2b
