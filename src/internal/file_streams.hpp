#ifndef E2B_INTERNAL_FILE_STREAMS_HPP_
#define E2B_INTERNAL_FILE_STREAMS_HPP_

// The std::istream adapters behind streamed downloads and uploads: a
// download stream whose buffer refills from the network on underflow(), and
// a stream that concatenates in-memory text and a caller's istream (the
// multipart upload body), so neither direction ever holds the whole file.

#include "internal/http_transport.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <functional>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

namespace e2b::internal {

inline constexpr std::size_t kStreamChunkBytes = std::size_t{64} << 10;

/// `body`, reporting each chunk it yields to `progress` (bytes so far, and
/// the answer's Content-Length as the total, 0 without one); `body` itself
/// when `progress` is empty.
std::unique_ptr<BodyReader> WithDownloadProgress(
    std::unique_ptr<BodyReader> body,
    std::function<void(std::uint64_t, std::uint64_t)> progress);

/// The whole rest of a response body (the ...String/...Bytes reads of
/// sandbox and volume files). Transport failures propagate.
std::string ReadWholeBody(BodyReader& body);

/// Pulls a response body from a BodyReader, one chunk per underflow().
/// A transport failure is rethrown from underflow() (so an istream sets
/// badbit, and rethrows when the caller enabled exceptions) and again on
/// every later read: a failed download never looks like a short file.
class BodyReaderStreambuf : public std::streambuf {
 public:
  explicit BodyReaderStreambuf(std::unique_ptr<BodyReader> body,
                               std::size_t chunk_bytes = kStreamChunkBytes);

  /// The failure that ended the transfer, if any.
  std::exception_ptr Failure() const { return failure_; }

 protected:
  int_type underflow() override;
  std::streamsize showmanyc() override;

 private:
  std::unique_ptr<BodyReader> body_;
  std::vector<char> buffer_;
  std::exception_ptr failure_;
  bool at_end_ = false;
};

/// An istream that owns its BodyReaderStreambuf (and so the transfer:
/// destroying the stream aborts an unfinished download).
class BodyReaderStream : public std::istream {
 public:
  explicit BodyReaderStream(std::unique_ptr<BodyReader> body,
                            std::size_t chunk_bytes = kStreamChunkBytes);
  BodyReaderStream(const BodyReaderStream&) = delete;
  BodyReaderStream& operator=(const BodyReaderStream&) = delete;
  ~BodyReaderStream() override = default;

  std::exception_ptr Failure() const { return buffer_.Failure(); }

 private:
  BodyReaderStreambuf buffer_;
};

/// Yields a sequence of parts: owned text, or whatever a caller's istream
/// yields until its end. A caller stream that fails (badbit) makes
/// underflow() throw e2b::Error, so the failure cannot pass as a short
/// upload.
class ConcatStreambuf : public std::streambuf {
 public:
  explicit ConcatStreambuf(std::size_t chunk_bytes = kStreamChunkBytes);
  void AddText(std::string text);
  /// `in` must outlive the reading.
  void AddStream(std::istream& in);
  /// A local file, opened when the reading reaches it and closed after its
  /// end (one descriptor at a time, however many files); one that cannot
  /// be opened makes underflow() throw e2b::Error naming it.
  void AddFile(std::string local_path);
  /// Called with the total bytes handed out so far, after every refill.
  void SetProgress(std::function<void(std::uint64_t)> progress);
  /// The failure underflow() threw (an istream swallows it into badbit).
  std::exception_ptr Failure() const { return failure_; }

 protected:
  int_type underflow() override;

 private:
  int_type NextChunk();
  struct Part {
    std::string text;
    std::istream* stream = nullptr;
    std::string file;  ///< AddFile's path; `owned` opens it lazily
    std::unique_ptr<std::ifstream> owned;
  };
  int_type Deliver(char* begin, std::size_t size);

  std::vector<Part> parts_;
  std::size_t current_ = 0;
  std::vector<char> buffer_;
  std::function<void(std::uint64_t)> progress_;
  std::uint64_t delivered_ = 0;
  std::exception_ptr failure_;
};

/// An istream over a ConcatStreambuf.
class ConcatStream : public std::istream {
 public:
  explicit ConcatStream(std::size_t chunk_bytes = kStreamChunkBytes);
  ConcatStream(const ConcatStream&) = delete;
  ConcatStream& operator=(const ConcatStream&) = delete;
  ~ConcatStream() override = default;

  void AddText(std::string text) { buffer_.AddText(std::move(text)); }
  void AddStream(std::istream& in) { buffer_.AddStream(in); }
  void AddFile(std::string local_path) {
    buffer_.AddFile(std::move(local_path));
  }
  void SetProgress(std::function<void(std::uint64_t)> progress) {
    buffer_.SetProgress(std::move(progress));
  }
  std::exception_ptr Failure() const { return buffer_.Failure(); }

 private:
  ConcatStreambuf buffer_;
};

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_FILE_STREAMS_HPP_
