// FilesystemService's transfers of file contents beyond a plain Read or
// Write: POST /files uploads (octet-stream, or multipart for old envd and
// for many files at once), ranged and resumable GET /files downloads, and
// the bulk and local-file transfers built on them.

#include "internal/ascii.hpp"
#include "internal/envd_api.hpp"
#include "internal/file_streams.hpp"
#include "internal/filesystem_call.hpp"
#include "internal/http_transport.hpp"

#include <e2b/errors.hpp>
#include <e2b/filesystem.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace e2b {

using internal::FilesystemCall;

namespace {

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
    const auto value = internal::ParseDecimal(part, 9);
    if (!value) return std::nullopt;
    version[index++] = static_cast<long>(*value);
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

// X-Metadata-<key> headers: keys must be HTTP tokens (envd lower-cases
// them), values printable; anything else would be mangled or split.
void AddMetadataHeaders(internal::HttpHeaders& headers,
                        const std::map<std::string, std::string>& metadata) {
  static constexpr std::string_view kTokenChars =
      "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
      "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (const auto& [key, value] : metadata) {
    if (key.empty() ||
        key.find_first_not_of(kTokenChars) != std::string::npos) {
      throw InvalidArgumentError(
          "file metadata key '" + key + "' is not a valid HTTP header token",
          0);
    }
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        throw InvalidArgumentError(
            "file metadata value of '" + key + "' contains a control character",
            0);
      }
    }
    headers.emplace_back("X-Metadata-" + key, value);
  }
}

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

// The framing of a multipart/form-data upload, one "file" part per file:
// a part is PartHead(path), the data and "\r\n"; Tail() ends the body.
class MultipartForm {
 public:
  std::string ContentType() const {
    return "multipart/form-data; boundary=" + boundary_;
  }
  std::string PartHead(const std::string& path) const {
    return "--" + boundary_ +
           "\r\nContent-Disposition: form-data; name=\"file\"; filename=" +
           QuotedFilename(path) +
           "\r\nContent-Type: application/octet-stream\r\n\r\n";
  }
  std::string Tail() const { return "--" + boundary_ + "--\r\n"; }

 private:
  std::string boundary_ = RandomBoundary();
};

// Reports upload progress from the ConcatStream's byte count.
std::function<void(std::uint64_t)> UploadProgress(
    const ProgressFunc& progress, std::optional<std::uint64_t> total) {
  if (!progress) return {};
  return [progress, total](std::uint64_t sent) {
    progress(sent, total.value_or(0));
  };
}

// Rethrows the failure the upload body ran into (a local file that could
// not be opened, a caller stream that failed) with its own message.
[[noreturn]] void ThrowBodyFailure(const internal::ConcatStream& body) {
  if (body.Failure()) std::rethrow_exception(body.Failure());
  throw Error(0, "POST /files: reading the upload data failed");
}

// Content-Range "bytes <first>-<last>/<total>" (total may be "*").
struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::optional<std::uint64_t> total;
};

// A byte position or size in a Content-Range or Content-Length value.
std::optional<std::uint64_t> ParseUint(std::string_view text) {
  return internal::ParseDecimal(text, 19);
}

std::optional<ContentRange> ParseContentRange(std::string_view text) {
  constexpr std::string_view kUnit = "bytes ";
  if (text.substr(0, kUnit.size()) != kUnit) return std::nullopt;
  text.remove_prefix(kUnit.size());
  const auto dash = text.find('-');
  const auto slash = text.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos ||
      dash > slash) {
    return std::nullopt;
  }
  auto first = ParseUint(text.substr(0, dash));
  auto last = ParseUint(text.substr(dash + 1, slash - dash - 1));
  if (!first || !last || *last < *first) return std::nullopt;
  ContentRange range;
  range.first = *first;
  range.last = *last;
  const auto total = text.substr(slash + 1);
  if (total != "*") {
    range.total = ParseUint(total);
    if (!range.total || *range.total <= *last) return std::nullopt;
  }
  return range;
}

// "bytes */<size>" of a 416 answer.
std::optional<std::uint64_t> UnsatisfiedRangeSize(
    const internal::HttpHeaders& headers) {
  auto header = internal::FindHeader(headers, "Content-Range");
  if (!header) return std::nullopt;
  std::string_view text = *header;
  constexpr std::string_view kPrefix = "bytes */";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  return ParseUint(text.substr(kPrefix.size()));
}

bool PlainRead(const ReadParams& params) {
  return params.Offset == 0 && !params.Length && params.ResumeAttempts <= 0 &&
         !params.Progress;
}

// A download with a byte range, resumption after a broken transfer and
// progress: a BodyReader over one or more GET /files exchanges, each asking
// for the bytes not yet delivered.
class ResumableDownload : public internal::BodyReader {
 public:
  ResumableDownload(FilesystemCall call, Context ctx, std::string path,
                    ReadParams params)
      : call_(std::move(call)),
        ctx_(std::move(ctx)),
        path_(std::move(path)),
        params_(std::move(params)),
        position_(params_.Offset),
        attempts_left_(std::max(params_.ResumeAttempts, 0)) {
    if (params_.Length) {
      if (*params_.Length > UINT64_MAX - params_.Offset) {
        throw Error(0, "read range of '" + path_ + "' overflows");
      }
      end_ = params_.Offset + *params_.Length;
    }
    // One deadline for the whole download, however many exchanges it takes.
    if (params_.Timeout.count() > 0) {
      ctx_ = Context::WithTimeout(ctx_, params_.Timeout);
      params_.Timeout = std::chrono::milliseconds(0);
    }
    body_ = OpenAt(position_);
    Report();
  }

  int Status() const override { return 200; }
  const internal::HttpHeaders& Headers() const override { return headers_; }

  std::size_t Read(char* buffer, std::size_t size) override {
    while (true) {
      if (!body_) return 0;
      std::size_t want = size;
      if (known_end_) {
        want = static_cast<std::size_t>(
            std::min<std::uint64_t>(want, *known_end_ - position_));
      }
      if (want == 0) {
        body_.reset();  // the range is complete: abort the rest
        return 0;
      }
      std::size_t got = 0;
      try {
        got = body_->Read(buffer, want);
      } catch (const TimeoutError&) {
        throw;
      } catch (const Error& e) {
        if (!CanResume(e)) throw;
        Resume();
        continue;
      }
      if (got == 0) {
        if (known_end_ && position_ < *known_end_) {
          // Cut short without a transport error (a chunked body).
          if (attempts_left_ > 0 && !ctx_.Done()) {
            Resume();
            continue;
          }
          throw Error(0, "GET /files: the download of '" + path_ +
                             "' ended early at byte " +
                             std::to_string(position_) + " of " +
                             std::to_string(*known_end_));
        }
        body_.reset();
        return 0;
      }
      position_ += got;
      Report();
      return got;
    }
  }

 private:
  bool CanResume(const Error& e) const {
    return e.StatusCode() == 0 && attempts_left_ > 0 && !ctx_.Done();
  }

  void Resume() {
    --attempts_left_;
    body_.reset();
    body_ = OpenAt(position_);
  }

  void Report() const {
    if (!params_.Progress) return;
    const std::uint64_t total = known_end_ ? *known_end_ - params_.Offset : 0;
    params_.Progress(position_ - params_.Offset, total);
  }

  // Opens the exchange for the bytes from `from`; null when there are none
  // (the range starts at the end of the file).
  std::unique_ptr<internal::BodyReader> OpenAt(std::uint64_t from) {
    const bool ranged = from > 0 || end_.has_value();
    auto body =
        call_.Envd().OpenFile(ctx_, call_.State(), RequestFrom(from, ranged));
    const int status = body->Status();
    if (status == 416 && ranged) {
      const auto size = UnsatisfiedRangeSize(body->Headers());
      if (size && *size == from) {  // a range that starts at the end
        known_end_ = from;
        first_open_ = false;
        return nullptr;
      }
      throw Error(416, "GET /files: the read range starts at byte " +
                           std::to_string(from) + ", beyond the end of '" +
                           path_ + "'" +
                           (size ? " (" + std::to_string(*size) + " bytes)"
                                 : std::string()));
    }
    const auto modified =
        internal::FindHeader(body->Headers(), "Last-Modified");
    const std::optional<std::uint64_t> file_size =
        status == 206 ? TakePartial(*body, from) : SkipWholeTo(*body, from);
    // A resumed transfer must continue the same file, not a replaced one.
    if (!first_open_) {
      if ((modified && first_modified_ && *modified != *first_modified_) ||
          (file_size && first_size_ && *file_size != *first_size_)) {
        throw Error(0, "GET /files: '" + path_ +
                           "' changed while its download was resumed");
      }
    } else {
      first_modified_ = modified;
      first_size_ = file_size;
      headers_ = body->Headers();
    }
    first_open_ = false;
    return body;
  }

  // The GET /files request for the bytes from `from`; `ranged` when that is
  // not the whole file.
  internal::FileDownload RequestFrom(std::uint64_t from, bool ranged) const {
    internal::FileDownload download;
    download.path = path_;
    download.user = params_.User;
    download.timeout = params_.Timeout;
    download.accept_partial = true;
    if (ranged) {
      std::string range = "bytes=" + std::to_string(from) + "-";
      if (end_ && *end_ > from) range += std::to_string(*end_ - 1);
      if (end_ && *end_ <= from) range += std::to_string(from);
      download.range = std::move(range);
    }
    return download;
  }

  // A 206 answer: checks that it starts at `from` and notes where it ends;
  // returns the file's size from Content-Range.
  std::optional<std::uint64_t> TakePartial(const internal::BodyReader& body,
                                           std::uint64_t from) {
    const auto header = internal::FindHeader(body.Headers(), "Content-Range");
    const auto range = header ? ParseContentRange(*header) : std::nullopt;
    if (!range || range->first != from) {
      throw Error(0,
                  "GET /files: the server answered the range request "
                  "for '" +
                      path_ + "' with a different range");
    }
    std::uint64_t end = range->last + 1;
    if (end_) end = std::min(end, *end_);
    known_end_ = end;
    return range->total;
  }

  // The whole file (a server that ignores Range): skips to `from` here and
  // notes where the wanted bytes end; returns the Content-Length, if any.
  std::optional<std::uint64_t> SkipWholeTo(internal::BodyReader& body,
                                           std::uint64_t from) {
    std::optional<std::uint64_t> file_size;
    if (auto length = internal::FindHeader(body.Headers(), "Content-Length")) {
      file_size = ParseUint(*length);
    }
    std::uint64_t skip = from;
    std::vector<char> scratch(std::min<std::uint64_t>(skip, 1 << 16) + 1);
    while (skip > 0) {
      const std::size_t got = body.Read(
          scratch.data(), static_cast<std::size_t>(
                              std::min<std::uint64_t>(skip, scratch.size())));
      if (got == 0) break;
      skip -= got;
    }
    if (skip > 0) {
      const std::uint64_t size = from - skip;
      throw Error(416, "GET /files: the read range starts at byte " +
                           std::to_string(from) + ", beyond the end of '" +
                           path_ + "' (" + std::to_string(size) + " bytes)");
    }
    known_end_ = file_size;
    if (end_) {
      known_end_ = known_end_ ? std::min(*known_end_, *end_) : *end_;
    }
    return file_size;
  }

  FilesystemCall call_;
  Context ctx_;
  std::string path_;
  ReadParams params_;
  std::uint64_t position_;
  int attempts_left_;
  std::optional<std::uint64_t> end_;  ///< requested end (exclusive)
  std::optional<std::uint64_t> known_end_;
  std::optional<std::string> first_modified_;
  std::optional<std::uint64_t> first_size_;
  bool first_open_ = true;
  internal::HttpHeaders headers_;
  std::unique_ptr<internal::BodyReader> body_;
};

void CheckMultipartPath(const std::string& path) {
  if (path.empty())
    throw InvalidArgumentError("WriteFiles: a file has an empty path", 0);
  if (path.find_first_of("\"\r\n") != std::string::npos) {
    throw InvalidArgumentError("WriteFiles: the path '" + path +
                                   "' contains a quote or line break, which a "
                                   "multipart upload cannot carry",
                               0);
  }
}

// One multipart upload of many files; `add_data(i, body)` appends file i's
// bytes. The body size is declared when every size is known.
std::vector<FileInfo> SendMultiUpload(
    const FilesystemCall& call, const Context& ctx, const WriteParams& params,
    const std::vector<std::string>& paths,
    const std::vector<std::optional<std::uint64_t>>& sizes,
    const std::function<void(std::size_t, internal::ConcatStream&)>& add_data) {
  if (params.Timeout.count() < 0)
    throw InvalidArgumentError("file timeout is negative", 0);
  for (const auto& path : paths) CheckMultipartPath(path);
  internal::FileUpload request;
  request.user = params.User;
  request.timeout = params.Timeout;
  if (paths.size() == 1) request.error_path = paths.front();
  AddMetadataHeaders(request.headers, params.Metadata);
  const MultipartForm form;
  request.headers.emplace_back("Content-Type", form.ContentType());
  internal::ConcatStream body;
  std::optional<std::uint64_t> total = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    std::string head = form.PartHead(paths[i]);
    if (total && sizes[i]) {
      *total += head.size() + *sizes[i] + 2;
    } else {
      total.reset();
    }
    body.AddText(std::move(head));
    add_data(i, body);
    body.AddText("\r\n");
  }
  std::string tail = form.Tail();
  if (total) *total += tail.size();
  body.AddText(std::move(tail));
  request.body_stream = &body;
  request.body_size = total;
  body.SetProgress(UploadProgress(params.Progress, total));
  request.check_source = [&body] {
    if (body.bad() || body.Failure()) ThrowBodyFailure(body);
  };
  return call.Envd().UploadFiles(ctx, call.State(), std::move(request));
}

std::string JoinRemote(const std::string& dir, const std::string& relative) {
  if (dir.empty()) return relative;
  if (dir.back() == '/') return dir + relative;
  return dir + "/" + relative;
}

// A name from a listing, safe to use as one local path component.
bool SafeComponent(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

// ---- Single-file transfers -------------------------------------------------

FileInfo internal::Upload(const FilesystemCall& call, const Context& ctx,
                          const std::string& path, std::istream* data,
                          std::string buffer, const WriteParams& params,
                          std::optional<std::uint64_t> data_size) {
  if (params.Timeout.count() < 0)
    throw InvalidArgumentError("file timeout is negative", 0);
  internal::FileUpload request;
  request.path = path;
  request.user = params.User;
  request.timeout = params.Timeout;
  request.error_path = path;
  AddMetadataHeaders(request.headers, params.Metadata);
  // The caller's stream is always read through a ConcatStream: it treats a
  // failbit at the end of data as the end even when the caller enabled
  // exceptions on its stream, and a badbit as a failure.
  std::optional<internal::ConcatStream> body;
  std::istringstream buffer_stream;
  if (data == nullptr) data_size = buffer.size();
  if (NeedsMultipart(call.State().envd_version)) {
    const MultipartForm form;
    request.headers.emplace_back("Content-Type", form.ContentType());
    std::string head = form.PartHead(path);
    std::string tail = "\r\n" + form.Tail();
    if (data == nullptr) {
      buffer_stream.str(buffer);
      data = &buffer_stream;
    }
    if (data_size) {
      request.body_size = head.size() + *data_size + tail.size();
    }
    body.emplace();
    body->AddText(std::move(head));
    body->AddStream(*data);
    body->AddText(std::move(tail));
    request.body_stream = &*body;
  } else {
    request.headers.emplace_back("Content-Type", "application/octet-stream");
    if (data == nullptr && !params.Progress) {
      request.body = std::move(buffer);
    } else {
      if (data == nullptr) {
        buffer_stream.str(buffer);
        data = &buffer_stream;
      }
      request.body_size = data_size;
      body.emplace();
      body->AddStream(*data);
      request.body_stream = &*body;
    }
  }
  if (body)
    body->SetProgress(UploadProgress(params.Progress, request.body_size));

  // A source that failed mid-way must not pass as a shorter file, whatever
  // the server answered.
  request.check_source = [&body, data] {
    if (body && (body->bad() || body->Failure())) ThrowBodyFailure(*body);
    if (data != nullptr && data->bad()) {
      throw Error(0, "POST /files: reading the upload data failed");
    }
  };
  return call.Envd().UploadFiles(ctx, call.State(), std::move(request)).front();
}

std::unique_ptr<internal::BodyReader> internal::OpenDownload(
    const FilesystemCall& call, const Context& ctx, const std::string& path,
    const ReadParams& params) {
  if (!PlainRead(params)) {
    return std::make_unique<ResumableDownload>(call, ctx, path, params);
  }
  internal::FileDownload download;
  download.path = path;
  download.user = params.User;
  download.timeout = params.Timeout;
  return call.Envd().OpenFile(ctx, call.State(), download);
}

// ---- Bulk and local-file transfers ------------------------------------------

std::vector<FileInfo> FilesystemService::WriteFilesImpl(
    const Context& ctx, const std::vector<WriteEntry>& entries,
    const WriteParams& params) const {
  FilesystemCall call(state_, "Filesystem.WriteFiles");
  if (entries.empty()) return {};
  std::vector<std::string> paths;
  std::vector<std::optional<std::uint64_t>> sizes;
  for (const auto& entry : entries) {
    paths.push_back(entry.Path);
    sizes.push_back(entry.Stream != nullptr
                        ? std::nullopt
                        : std::optional<std::uint64_t>(entry.Data.size()));
  }
  return SendMultiUpload(
      call, ctx, params, paths, sizes,
      [&entries](std::size_t i, internal::ConcatStream& body) {
        if (entries[i].Stream != nullptr) {
          body.AddStream(*entries[i].Stream);
        } else {
          body.AddText(entries[i].Data);
        }
      });
}

FileInfo FilesystemService::UploadFileImpl(const Context& ctx,
                                           const std::string& local_path,
                                           const std::string& path,
                                           const WriteParams& params) const {
  FilesystemCall call(state_, "Filesystem.UploadFile");
  std::error_code error;
  if (!std::filesystem::is_regular_file(local_path, error)) {
    throw Error(
        0, "UploadFile: '" + local_path + "' is not a readable local file");
  }
  const std::uint64_t size = std::filesystem::file_size(local_path, error);
  if (error) {
    throw Error(0, "UploadFile: cannot read the size of '" + local_path + "'");
  }
  std::ifstream in(local_path, std::ios::in | std::ios::binary);
  if (!in.is_open()) {
    throw Error(0, "UploadFile: cannot open local file '" + local_path + "'");
  }
  return internal::Upload(call, ctx, path, &in, {}, params, size);
}

std::uint64_t FilesystemService::DownloadFileImpl(
    const Context& ctx, const std::string& path, const std::string& local_path,
    const ReadParams& params) const {
  FilesystemCall call(state_, "Filesystem.DownloadFile");
  namespace fs = std::filesystem;
  std::error_code error;
  if (params.Offset > 0) {
    const auto existing = fs::file_size(local_path, error);
    if (error || existing < params.Offset) {
      throw Error(0, "DownloadFile: the local file '" + local_path +
                         "' is shorter than the read offset " +
                         std::to_string(params.Offset));
    }
  }
  // Open the remote side first: a missing file must not clobber the local.
  auto body = internal::OpenDownload(call, ctx, path, params);
  std::fstream out;
  if (params.Offset > 0) {
    out.open(local_path, std::ios::in | std::ios::out | std::ios::binary);
    if (out.is_open()) out.seekp(static_cast<std::streamoff>(params.Offset));
  } else {
    out.open(local_path, std::ios::out | std::ios::trunc | std::ios::binary);
  }
  if (!out.is_open() || !out) {
    throw Error(0, "DownloadFile: cannot open local file '" + local_path +
                       "' for writing");
  }
  std::uint64_t written = 0;
  std::vector<char> chunk(internal::kStreamChunkBytes);
  while (true) {
    const std::size_t got = body->Read(chunk.data(), chunk.size());
    if (got == 0) break;
    out.write(chunk.data(), static_cast<std::streamsize>(got));
    if (!out) {
      throw Error(
          0, "DownloadFile: writing local file '" + local_path + "' failed");
    }
    written += got;
  }
  out.close();
  if (out.fail()) {
    throw Error(0,
                "DownloadFile: writing local file '" + local_path + "' failed");
  }
  if (params.Offset > 0) {
    // Cut what an earlier, longer attempt may have left after the range.
    fs::resize_file(local_path, params.Offset + written, error);
    if (error) {
      throw Error(
          0, "DownloadFile: cannot resize local file '" + local_path + "'");
    }
  }
  return written;
}

std::vector<FileInfo> FilesystemService::UploadDirImpl(
    const Context& ctx, const std::string& local_dir, const std::string& path,
    const WriteParams& params) const {
  FilesystemCall call(state_, "Filesystem.UploadDir");
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(local_dir, error)) {
    throw Error(0, "UploadDir: '" + local_dir + "' is not a local directory");
  }
  std::vector<std::pair<std::string, std::string>> uploads;  // local, remote
  std::vector<std::optional<std::uint64_t>> sizes;
  std::vector<std::string> empty_dirs;
  fs::recursive_directory_iterator it(local_dir, error);
  if (error) {
    throw Error(0,
                "UploadDir: cannot read local directory '" + local_dir + "'");
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) {
      throw Error(0,
                  "UploadDir: cannot read local directory '" + local_dir + "'");
    }
    const fs::path& local = it->path();
    const std::string relative =
        fs::relative(local, local_dir, error).generic_string();
    if (error || relative.empty()) continue;
    if (it->is_symlink(error) && it->is_directory(error)) {
      it.disable_recursion_pending();  // never follow a link into a loop
      continue;
    }
    if (it->is_directory(error)) {
      if (fs::is_empty(local, error)) {
        empty_dirs.push_back(JoinRemote(path, relative));
      }
      continue;
    }
    if (!it->is_regular_file(error)) continue;  // sockets, fifos, ...
    uploads.emplace_back(local.string(), JoinRemote(path, relative));
    sizes.emplace_back(it->file_size(error));
    if (error) {
      throw Error(
          0, "UploadDir: cannot read the size of '" + local.string() + "'");
    }
  }
  std::sort(empty_dirs.begin(), empty_dirs.end());
  std::vector<FileInfo> out;
  if (!uploads.empty()) {
    std::vector<std::string> remote;
    remote.reserve(uploads.size());
    for (const auto& upload : uploads) remote.push_back(upload.second);
    out = SendMultiUpload(
        call, ctx, params, remote, sizes,
        [&uploads](std::size_t i, internal::ConcatStream& body) {
          body.AddFile(uploads[i].first);
        });
  } else if (empty_dirs.empty()) {
    empty_dirs.push_back(path);  // an empty directory uploads as one
  }
  for (const auto& dir : empty_dirs) MakeDirImpl(ctx, dir, params);
  return out;
}

std::vector<FileInfo> FilesystemService::DownloadDirImpl(
    const Context& ctx, const std::string& path, const std::string& local_dir,
    const ReadParams& params) const {
  FilesystemCall call(state_, "Filesystem.DownloadDir");
  namespace fs = std::filesystem;
  ReadParams list_params;
  list_params.User = params.User;
  list_params.Timeout = params.Timeout;
  const FileInfo root = StatImpl(ctx, path, list_params);
  if (root.Type != "directory") {
    throw Error(400, "DownloadDir: '" + path + "' is not a directory");
  }
  // Walk breadth-first, one listing per directory, and collect the files.
  std::vector<std::pair<FileInfo, fs::path>> todo;
  std::vector<std::pair<std::string, fs::path>> dirs = {
      {root.Path.empty() ? path : root.Path, fs::path(local_dir)}};
  std::error_code error;
  for (std::size_t d = 0; d < dirs.size(); ++d) {
    const auto [remote, local] = dirs[d];
    fs::create_directories(local, error);
    if (error || !fs::is_directory(local, error)) {
      throw Error(0, "DownloadDir: cannot create local directory '" +
                         local.string() + "'");
    }
    for (const FileInfo& entry : ListImpl(ctx, remote, list_params)) {
      if (!SafeComponent(entry.Name)) {
        throw Error(0, "DownloadDir: the server listed an unsafe name '" +
                           entry.Name + "' in '" + remote + "'");
      }
      const std::string child =
          entry.Path.empty() ? JoinRemote(remote, entry.Name) : entry.Path;
      if (entry.Type == "directory") {
        if (!entry.SymlinkTarget) dirs.emplace_back(child, local / entry.Name);
      } else if (entry.Type == "file") {
        FileInfo file = entry;
        file.Path = child;
        todo.emplace_back(std::move(file), local / entry.Name);
      }
    }
  }
  std::uint64_t total = 0;
  for (const auto& item : todo) {
    total +=
        static_cast<std::uint64_t>(std::max<std::int64_t>(item.first.Size, 0));
  }
  ReadParams file_params;
  file_params.User = params.User;
  file_params.Timeout = params.Timeout;
  file_params.ResumeAttempts = params.ResumeAttempts;
  std::uint64_t done = 0;
  std::vector<FileInfo> out;
  for (const auto& [info, local] : todo) {
    if (params.Progress) {
      file_params.Progress = [&params, &done, total](std::uint64_t sent,
                                                     std::uint64_t) {
        params.Progress(done + sent, std::max(total, done + sent));
      };
    }
    done += DownloadFileImpl(ctx, info.Path, local.string(), file_params);
    out.push_back(info);
  }
  return out;
}

}  // namespace e2b
