#include "envd/files_handler.hpp"

#include "envd/entry_info.hpp"
#include "envd/envd_auth.hpp"
#include "envd/envd_server.hpp"
#include "envd/sandbox_paths.hpp"
#include "util/base64.hpp"
#include "util/http_text.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace e2b_local {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxDiscard = std::size_t{64} << 20;
constexpr std::size_t kMaxMetadataKey = 246;
constexpr std::size_t kMaxMetadataTotal = 4096;
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;

// A failure that becomes an envd HTTP error.
struct FilesError {
  int status;
  std::string message;
};

FilesError FromPathError(const PathError& e, const std::string& path,
                         bool upload) {
  switch (e.error_number()) {
    case ENOENT:
    case ENOTDIR:
      if (!upload) return {404, "path '" + path + "' does not exist"};
      return {400, e.what()};
    case EISDIR:
      return {400, "path '" + path + "' is a directory"};
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EEXIST:
      return {400, e.what()};
    case ENOSPC:
    case EDQUOT:
      return {507, "not enough disk space: " + std::string(e.what())};
    default:
      return {500, e.what()};
  }
}

std::string FilenameHeader(const std::string& name) {
  std::string safe;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) continue;
    if (c == '"' || c == '\\') safe += '\\';
    safe += static_cast<char>(c);
  }
  return "inline; filename=\"" + safe + "\"";
}

std::string HttpDate(std::time_t t) {
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return buf;
}

std::optional<std::time_t> ParseHttpDate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return timegm(&tm);
}

enum class DownloadEncoding { kIdentity, kGzip, kUnacceptable };

// Accept-Encoding negotiation (RFC 9110 12.5.3) between the two codings
// envd serves. gzip wins ties; identity is acceptable unless excluded by
// "identity;q=0" or by "*;q=0" without an identity entry. gzip is never
// chosen when `gzip_allowed` is false (ranged requests).
DownloadEncoding NegotiateEncoding(const httplib::Request& req,
                                   bool gzip_allowed) {
  if (!req.has_header("Accept-Encoding")) return DownloadEncoding::kIdentity;
  std::optional<double> gzip, identity, any;
  std::string header = req.get_header_value("Accept-Encoding");
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t comma = header.find(',', start);
    if (comma == std::string::npos) comma = header.size();
    std::string element = header.substr(start, comma - start);
    start = comma + 1;
    std::size_t semi = element.find(';');
    std::string coding = MediaType(element.substr(0, semi));
    if (coding.empty()) continue;
    double q = 1.0;
    bool valid = true;
    while (semi != std::string::npos) {
      std::size_t next = element.find(';', semi + 1);
      std::string param = MediaType(element.substr(
          semi + 1,
          next == std::string::npos ? std::string::npos : next - semi - 1));
      semi = next;
      if (param.compare(0, 2, "q=") != 0) continue;
      // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
      std::string text = param.substr(2);
      char* end = nullptr;
      q = std::strtod(text.c_str(), &end);
      valid = !text.empty() && end != nullptr && *end == '\0' &&
              text.size() <= 5 && std::isfinite(q) && q >= 0.0 && q <= 1.0 &&
              std::isdigit(static_cast<unsigned char>(text[0]));
    }
    if (!valid) continue;  // a malformed element is ignored
    if (coding == "gzip" || coding == "x-gzip") {
      gzip = q;
    } else if (coding == "identity") {
      identity = q;
    } else if (coding == "*") {
      any = q;
    }
  }
  const double q_gzip = !gzip_allowed ? 0.0 : gzip ? *gzip : any.value_or(0.0);
  // Unlisted identity stays acceptable but below any coding the client
  // did list, so "br;q=0.5, gzip;q=0.8" still means gzip.
  const double q_identity = identity ? *identity : any ? *any : 0.001;
  if (q_gzip > 0.0 && q_gzip >= q_identity) return DownloadEncoding::kGzip;
  if (q_identity > 0.0) return DownloadEncoding::kIdentity;
  return DownloadEncoding::kUnacceptable;
}

// A file read from its descriptor and gzipped chunk by chunk, so neither
// the file nor its compressed form is ever held whole in memory.
class GzipFileStream {
 public:
  // Sends the file's first `size` bytes (its size when the request came),
  // so a file that keeps growing cannot keep the response open forever.
  GzipFileStream(UniqueFd fd, std::size_t size)
      : fd_(std::move(fd)), size_(size) {
    // windowBits 15 + 16: a gzip wrapper rather than zlib's.
    if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("cannot initialise gzip");
    }
  }
  ~GzipFileStream() { deflateEnd(&z_); }
  GzipFileStream(const GzipFileStream&) = delete;
  GzipFileStream& operator=(const GzipFileStream&) = delete;

  // Compresses the next chunk of the file into `sink` (the trailer after
  // the last one); false aborts the response, also when the file shrank,
  // so a client never takes a cut-short file for a whole one.
  bool Pump(httplib::DataSink& sink) {
    if (finished_) return false;
    const std::size_t want = std::min(in_.size(), size_ - sent_);
    ssize_t n = 0;
    if (want > 0) {
      do {
        n = pread(fd_.get(), in_.data(), want, static_cast<off_t>(sent_));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return false;
      sent_ += static_cast<std::size_t>(n);
    }
    z_.next_in = reinterpret_cast<Bytef*>(in_.data());
    z_.avail_in = static_cast<uInt>(n);
    const int flush = sent_ == size_ ? Z_FINISH : Z_NO_FLUSH;
    int rc = 0;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return false;
      std::size_t produced = out_.size() - z_.avail_out;
      if (produced > 0 && !sink.write(out_.data(), produced)) return false;
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    if (flush == Z_FINISH) {
      finished_ = true;
      sink.done();
    }
    return true;
  }

 private:
  UniqueFd fd_;
  const std::size_t size_;
  std::size_t sent_ = 0;
  z_stream z_{};
  bool finished_ = false;
  std::vector<char> in_ = std::vector<char>(kReadChunk);
  std::vector<char> out_ = std::vector<char>(kReadChunk);
};

struct FilesAuth {
  SandboxUser user;
  std::string username;  ///< the query value as sent ("" when absent)
};

// Token or signature, then the user; false after writing the 401.
bool AuthorizeFiles(LocalSandbox& sandbox, const httplib::Request& req,
                    httplib::Response& res, const char* operation,
                    FilesAuth& auth) {
  auth.username = req.get_param_value("username");
  if (auto refused = EnvdCredentialsRefused(sandbox, req, operation)) {
    SetEnvdHttpError(res, 401, *refused);
    return false;
  }
  const std::string name = !auth.username.empty() ? auth.username
                           : !sandbox.default_user.empty()
                               ? sandbox.default_user
                               : "user";
  auto user =
      sandbox.instance ? sandbox.instance->LookupUser(name) : std::nullopt;
  if (!user) {
    SetEnvdHttpError(res, 401, "invalid username: '" + name + "'");
    return false;
  }
  auth.user = *user;
  return true;
}

// X-Metadata-<key> headers; false after writing the 400.
bool ParseMetadata(const httplib::Request& req, httplib::Response& res,
                   std::map<std::string, std::string>& out) {
  const std::string prefix = "x-metadata-";
  std::size_t total = 0;
  for (const auto& [name, value] : req.headers) {
    std::string lower = Lowercase(name);
    if (lower.compare(0, prefix.size(), prefix) != 0) continue;
    std::string key = lower.substr(prefix.size());
    bool printable_key =
        !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
          return c > 0x20 && c < 0x7f;
        });
    bool printable_value = std::all_of(value.begin(), value.end(), [](char c) {
      return c >= 0x20 && c < 0x7f;
    });
    if (!printable_key || !printable_value || key.size() > kMaxMetadataKey) {
      SetEnvdHttpError(res, 400, "invalid metadata header '" + name + "'");
      return false;
    }
    // envd's budget: each stored name (prefix and key) plus its value.
    total += std::strlen(kMetadataXattrPrefix) + key.size() + value.size();
    if (total > kMaxMetadataTotal) {
      SetEnvdHttpError(res, 400, "metadata is larger than 4096 bytes");
      return false;
    }
    out[key] = value;
  }
  return true;
}

// One file being written.
class UploadTarget {
 public:
  UploadTarget(const SandboxFs& fs, std::string path, const SandboxUser& user)
      : fs_(fs), path_(std::move(path)) {
    auto [parent, name] = SplitParent(path_);
    if (name.empty()) throw FilesError{400, "path '/' is a directory"};
    try {
      fs_.MakeDirs(parent, fs_.HostUid(user.uid), fs_.HostGid(user.gid));
    } catch (const PathError& e) {
      if (e.error_number() == EEXIST) {
        throw FilesError{
            400, "a parent of '" + path_ + "' exists and is not a directory"};
      }
      throw FromPathError(e, path_, true);
    }
    const int flags = O_WRONLY | O_NOCTTY | O_NONBLOCK;
    try {
      fd_ = fs_.Open(path_, flags | O_CREAT | O_EXCL, 0644);
      if (fchown(fd_.get(), fs_.HostUid(user.uid), fs_.HostGid(user.gid)) !=
              0 &&
          !ChownRefusedToNonRoot(errno)) {
        throw PathError(errno,
                        "chown '" + path_ + "': " + std::strerror(errno));
      }
    } catch (const PathError& e) {
      if (e.error_number() != EEXIST) throw FromPathError(e, path_, true);
      try {
        fd_ = fs_.Open(path_, flags);
      } catch (const PathError& again) {
        throw FromPathError(again, path_, true);
      }
    }
    struct stat st {};
    if (fstat(fd_.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw FilesError{400, "path '" + path_ + "' is not a regular file"};
    }
    if (ftruncate(fd_.get(), 0) != 0) {
      throw FromPathError(PathError(errno, std::strerror(errno)), path_, true);
    }
    fcntl(fd_.get(), F_SETFL, 0);
  }

  // false with `error` set when the write failed.
  bool Write(const char* data, std::size_t size) {
    while (size > 0) {
      ssize_t n = ::write(fd_.get(), data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int err = n < 0 ? errno : EIO;
        error = FromPathError(
            PathError(err, "write '" + path_ + "': " + std::strerror(err)),
            path_, true);
        return false;
      }
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }

  json Finish(const std::map<std::string, std::string>& metadata) {
    try {
      WriteFileMetadata(fd_.get(), metadata);
    } catch (const PathError& e) {
      throw FromPathError(e, path_, true);
    }
    if (close(fd_.Release()) != 0) {
      throw FromPathError(
          PathError(errno, "close '" + path_ + "': " + std::strerror(errno)),
          path_, true);
    }
    json entry{
        {"path", path_}, {"name", SplitParent(path_).second}, {"type", "file"}};
    if (!metadata.empty()) entry["metadata"] = metadata;
    return entry;
  }

  std::optional<FilesError> error;

 private:
  const SandboxFs& fs_;
  std::string path_;
  UniqueFd fd_;
};

// The coding a download goes out in; nullopt after writing the 406.
std::optional<DownloadEncoding> ChooseDownloadEncoding(
    const httplib::Request& req, httplib::Response& res) {
  // Ranges address the identity bytes, so a ranged request is never
  // compressed.
  const DownloadEncoding encoding =
      NegotiateEncoding(req, /*gzip_allowed=*/req.ranges.empty());
  if (encoding != DownloadEncoding::kUnacceptable) return encoding;
  SetEnvdHttpError(
      res, 406,
      "none of the encodings in Accept-Encoding is available "
      "(gzip or identity" +
          std::string(req.ranges.empty() ? ")" : "; ranges only as identity)"));
  return std::nullopt;
}

// A regular file opened for download.
struct DownloadFile {
  /// Whose file: a download in flight is cut when the sandbox stops running
  /// (killed, timed out, paused), as the VM's end cuts it on E2B.
  std::shared_ptr<const LocalSandbox> sandbox;
  std::string path;  ///< resolved, as the sandbox sees it
  std::shared_ptr<UniqueFd> fd = std::make_shared<UniqueFd>();
  std::size_t size = 0;  ///< when the request came
  std::time_t mtime = 0;
};

// Size and mtime of an opened download; an error for anything but a
// regular file.
std::optional<FilesError> StatDownload(DownloadFile& file) {
  struct stat st {};
  if (fstat(file.fd->get(), &st) != 0) {
    return FilesError{500, "stat '" + file.path + "': " + std::strerror(errno)};
  }
  if (S_ISDIR(st.st_mode)) {
    return FilesError{400, "path '" + file.path + "' is a directory"};
  }
  if (!S_ISREG(st.st_mode)) {
    return FilesError{400, "path '" + file.path + "' is not a regular file"};
  }
  file.size = static_cast<std::size_t>(st.st_size);
  file.mtime = st.st_mtim.tv_sec;
  return std::nullopt;
}

// The file the path query names, opened inside the sandbox root; nullopt
// after writing the error.
std::optional<DownloadFile> OpenDownload(LocalSandbox& sandbox,
                                         const httplib::Request& req,
                                         const SandboxUser& user,
                                         httplib::Response& res) {
  DownloadFile file;
  try {
    file.path = ResolveClientPath(req.get_param_value("path"), user);
  } catch (const PathError& e) {
    SetEnvdHttpError(res, 400, e.what());
    return std::nullopt;
  }
  std::optional<FilesError> error;
  try {
    SandboxFs fs(sandbox.instance->RootPath(), *sandbox.instance);
    *file.fd = fs.Open(file.path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  } catch (const PathError& e) {
    error = FromPathError(e, file.path, false);
  }
  if (!error) error = StatDownload(file);
  if (error) {
    SetEnvdHttpError(res, error->status, error->message);
    return std::nullopt;
  }
  return file;
}

// If-Modified-Since, which a ranged request ignores.
bool NotModified(const httplib::Request& req, std::time_t mtime) {
  if (!req.has_header("If-Modified-Since") || !req.ranges.empty()) {
    return false;
  }
  auto since = ParseHttpDate(req.get_header_value("If-Modified-Since"));
  return since && mtime <= *since;
}

// false after writing the 416 for a range past the end (or any range of
// an empty file).
bool RangesSatisfiable(const httplib::Request& req, std::size_t size,
                       httplib::Response& res) {
  for (const auto& range : req.ranges) {
    // httplib would answer an unsatisfiable range with 206 and no bytes.
    bool unsatisfiable =
        (range.first >= 0 && static_cast<std::size_t>(range.first) >= size) ||
        (range.first < 0 && range.second == 0) || size == 0;
    if (unsatisfiable) {
      res.status = 416;
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      return false;
    }
  }
  return true;
}

// A download stops when its sandbox stops running (see DownloadFile).
bool StillRunning(const LocalSandbox& sandbox) {
  return sandbox.Status() == SandboxStatus::kRunning;
}

// As envd does: compressed on the fly, so the length is unknown and the
// body goes out chunked.
void SendGzipped(const DownloadFile& file, httplib::Response& res) {
  std::shared_ptr<GzipFileStream> gzip;
  try {
    gzip = std::make_shared<GzipFileStream>(std::move(*file.fd), file.size);
  } catch (const std::exception& e) {
    SetEnvdHttpError(res, 500, e.what());
    return;
  }
  res.status = 200;
  res.set_header("Content-Encoding", "gzip");
  res.set_chunked_content_provider(
      "application/octet-stream",
      [gzip, sandbox = file.sandbox](std::size_t, httplib::DataSink& sink) {
        return StillRunning(*sandbox) && gzip->Pump(sink);
      });
}

// Streamed in chunks from the descriptor: never the whole file in memory.
// httplib serves the ranges from it.
void SendIdentity(const DownloadFile& file, httplib::Response& res) {
  if (file.size == 0) {
    res.set_content("", "application/octet-stream");
    return;
  }
  res.set_content_provider(
      file.size, "application/octet-stream",
      [fd = file.fd, sandbox = file.sandbox](
          std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        if (!StillRunning(*sandbox)) return false;
        std::vector<char> buf(std::min(length, kReadChunk));
        ssize_t n = 0;
        do {
          n = pread(fd->get(), buf.data(), buf.size(),
                    static_cast<off_t>(offset));
        } while (n < 0 && errno == EINTR);
        if (n <= 0) return false;  // shrunk or failed: abort the response
        return sink.write(buf.data(), static_cast<std::size_t>(n));
      });
}

// An answer before the body was read: the body is drained first so a
// keep-alive connection stays usable.
void RejectUpload(const httplib::Request& req,
                  const httplib::ContentReader& reader, httplib::Response& res,
                  const FilesError& error) {
  DiscardRequestBody(req, reader);
  SetEnvdHttpError(res, error.status, error.message);
}

std::optional<FilesError> CheckContentEncoding(const httplib::Request& req) {
  const std::string encoding =
      Lowercase(req.get_header_value("Content-Encoding"));
  if (!encoding.empty() && encoding != "identity" && encoding != "gzip") {
    return FilesError{400, "unsupported Content-Encoding '" + encoding + "'"};
  }
  return std::nullopt;
}

// How an upload's body names its files.
struct UploadForm {
  bool multipart = false;  ///< else one raw file at query_path
  std::string query_path;  ///< the path query ("" when absent)
};

// The Content-Type and path query an upload needs; fills `form`.
std::optional<FilesError> CheckUploadForm(const httplib::Request& req,
                                          UploadForm& form) {
  const std::string media = MediaType(req.get_header_value("Content-Type"));
  form.multipart = media == "multipart/form-data";
  if (!form.multipart && media != "application/octet-stream") {
    return FilesError{
        400, "unsupported Content-Type '" + media +
                 "': use application/octet-stream or multipart/form-data"};
  }
  if (form.multipart && !req.is_multipart_form_data()) {
    return FilesError{
        400, "multipart Content-Type must be lower-case with a boundary"};
  }
  form.query_path = req.get_param_value("path");
  if (!form.multipart && form.query_path.empty()) {
    return FilesError{400,
                      "the path query parameter is required for raw uploads"};
  }
  return std::nullopt;
}

// The files of one upload, written one after another; `error` keeps the
// failure that stopped it.
class UploadSession {
 public:
  UploadSession(const SandboxFs& fs, const SandboxUser& user,
                const std::map<std::string, std::string>& metadata)
      : fs_(fs), user_(user), metadata_(metadata) {}

  // Starts the file a client path names; false with `error` set.
  bool Begin(const std::string& client_path) {
    std::string path;
    try {
      path = ResolveClientPath(client_path, user_);
    } catch (const PathError& e) {
      error = FilesError{400, e.what()};
      return false;
    }
    if (!seen_.insert(path).second) {
      error = FilesError{400, "path '" + path + "' is written more than once"};
      return false;
    }
    try {
      current_ = std::make_unique<UploadTarget>(fs_, path, user_);
    } catch (const FilesError& e) {
      error = e;
      return false;
    }
    return true;
  }

  // Appends to the current file (a skipped part has none); false with
  // `error` set.
  bool Write(const char* data, std::size_t size) {
    if (!current_) return true;
    if (!current_->Write(data, size)) {
      error = current_->error;
      return false;
    }
    return true;
  }

  // Completes the current file, if any; false with `error` set.
  bool Finish() {
    if (!current_) return true;
    try {
      written_.push_back(current_->Finish(metadata_));
    } catch (const FilesError& e) {
      error = e;
      current_.reset();
      return false;
    }
    current_.reset();
    return true;
  }

  // Closes the current file unfinished.
  void Abandon() { current_.reset(); }

  // The entries of the files completed so far.
  const json& Written() const { return written_; }

  std::optional<FilesError> error;

 private:
  const SandboxFs& fs_;
  const SandboxUser& user_;
  const std::map<std::string, std::string>& metadata_;
  json written_ = json::array();
  std::unique_ptr<UploadTarget> current_;
  std::set<std::string> seen_;
};

// Each part named "file" becomes a file at the path query, else at the
// part's filename; other parts are skipped. false when the upload stopped.
bool ReadMultipartUpload(const httplib::ContentReader& reader,
                         const UploadForm& form, UploadSession& upload) {
  return reader(
      [&](const httplib::MultipartFormData& part) {
        if (!upload.Finish()) return false;
        if (part.name != "file") return true;
        std::string target =
            form.query_path.empty() ? part.filename : form.query_path;
        if (target.empty()) {
          upload.error = FilesError{400,
                                    "a file part has neither a path query "
                                    "nor a filename"};
          return false;
        }
        return upload.Begin(target);
      },
      [&upload](const char* data, std::size_t size) {
        return upload.Write(data, size);
      });
}

// The whole body is the one file Begin opened. false when the upload
// stopped.
bool ReadRawUpload(const httplib::ContentReader& reader,
                   UploadSession& upload) {
  return reader([&upload](const char* data, std::size_t size) {
    return upload.Write(data, size);
  });
}

// After the body was read: the written entries, or the error. An error
// closes the connection: what is left of the body cannot be
// resynchronised.
void AnswerUpload(UploadSession& upload, bool body_ok, httplib::Response& res) {
  if (body_ok && !upload.error) {
    res.status = 200;
    res.set_content(
        upload.Written().dump(-1, ' ', false, json::error_handler_t::replace),
        "application/json; charset=utf-8");
    return;
  }
  upload.Abandon();
  // Without an error of its own the body itself was bad (broken multipart,
  // bad gzip, cut short).
  const FilesError error = upload.error.value_or(
      FilesError{400, "malformed or truncated request body"});
  res.set_header("Connection", "close");
  SetEnvdHttpError(res, error.status, error.message);
}

}  // namespace

void SetEnvdHttpError(httplib::Response& res, int status,
                      const std::string& message) {
  res.status = status;
  json body{{"code", status}, {"message", message}};
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void DiscardRequestBody(const httplib::Request& req,
                        const httplib::ContentReader& reader) {
  std::size_t total = 0;
  auto count = [&total](const char*, std::size_t n) {
    total += n;
    return total <= kMaxDiscard;
  };
  // httplib parses multipart bodies itself; its plain reader must not be
  // used on them.
  if (req.is_multipart_form_data()) {
    reader([](const httplib::MultipartFormData&) { return true; },
           std::move(count));
  } else {
    reader(std::move(count));
  }
}

void HandleFilesGet(const std::shared_ptr<LocalSandbox>& sandbox,
                    const httplib::Request& req, httplib::Response& res) {
  FilesAuth auth;
  if (!AuthorizeFiles(*sandbox, req, res, "read", auth)) return;
  const auto encoding = ChooseDownloadEncoding(req, res);
  if (!encoding) return;
  auto file = OpenDownload(*sandbox, req, auth.user, res);
  if (!file) return;
  file->sandbox = sandbox;
  res.set_header("Content-Disposition",
                 FilenameHeader(SplitParent(file->path).second));
  res.set_header("Last-Modified", HttpDate(file->mtime));
  if (NotModified(req, file->mtime)) {
    res.status = 304;
    return;
  }
  if (!RangesSatisfiable(req, file->size, res)) return;
  res.set_header("Vary", "Accept-Encoding");
  if (*encoding == DownloadEncoding::kGzip) {
    SendGzipped(*file, res);
  } else {
    SendIdentity(*file, res);
  }
}

void HandleFilesPost(LocalSandbox& sandbox, const httplib::Request& req,
                     httplib::Response& res,
                     const httplib::ContentReader& reader) {
  FilesAuth auth;
  if (!AuthorizeFiles(sandbox, req, res, "write", auth)) {
    return DiscardRequestBody(req, reader);
  }
  if (auto error = CheckContentEncoding(req)) {
    return RejectUpload(req, reader, res, *error);
  }
  std::map<std::string, std::string> metadata;
  if (!ParseMetadata(req, res, metadata)) {
    return DiscardRequestBody(req, reader);
  }
  UploadForm form;
  if (auto error = CheckUploadForm(req, form)) {
    return RejectUpload(req, reader, res, *error);
  }
  std::unique_ptr<SandboxFs> fs;
  try {
    fs = std::make_unique<SandboxFs>(sandbox.instance->RootPath(),
                                     *sandbox.instance);
  } catch (const PathError& e) {
    return RejectUpload(req, reader, res, FilesError{500, e.what()});
  }
  UploadSession upload(*fs, auth.user, metadata);
  if (!form.multipart && !upload.Begin(form.query_path)) {
    return RejectUpload(req, reader, res, *upload.error);
  }
  bool ok = form.multipart ? ReadMultipartUpload(reader, form, upload)
                           : ReadRawUpload(reader, upload);
  if (ok && !upload.Finish()) ok = false;
  AnswerUpload(upload, ok, res);
}

}  // namespace e2b_local
