#include "internal/file_streams.hpp"

#include "internal/ascii.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <utility>

namespace e2b::internal {

// ---- WithDownloadProgress --------------------------------------------------

namespace {

class ProgressBodyReader : public BodyReader {
 public:
  ProgressBodyReader(std::unique_ptr<BodyReader> body,
                     std::function<void(std::uint64_t, std::uint64_t)> progress)
      : body_(std::move(body)), progress_(std::move(progress)) {
    const auto length = FindHeader(body_->Headers(), "Content-Length");
    if (length) total_ = ParseDecimal(*length, 20).value_or(0);
  }
  int Status() const override { return body_->Status(); }
  const HttpHeaders& Headers() const override { return body_->Headers(); }
  std::size_t Read(char* buffer, std::size_t size) override {
    const std::size_t got = body_->Read(buffer, size);
    if (got > 0) {
      received_ += got;
      progress_(received_, total_);
    }
    return got;
  }

 private:
  std::unique_ptr<BodyReader> body_;
  std::function<void(std::uint64_t, std::uint64_t)> progress_;
  std::uint64_t total_ = 0;
  std::uint64_t received_ = 0;
};

}  // namespace

std::unique_ptr<BodyReader> WithDownloadProgress(
    std::unique_ptr<BodyReader> body,
    std::function<void(std::uint64_t, std::uint64_t)> progress) {
  if (!progress) return body;
  return std::make_unique<ProgressBodyReader>(std::move(body),
                                              std::move(progress));
}

// ---- BodyReaderStreambuf ---------------------------------------------------

BodyReaderStreambuf::BodyReaderStreambuf(std::unique_ptr<BodyReader> body,
                                         std::size_t chunk_bytes)
    : body_(std::move(body)), buffer_(std::max<std::size_t>(chunk_bytes, 1)) {
  setg(buffer_.data(), buffer_.data(), buffer_.data());
}

BodyReaderStreambuf::int_type BodyReaderStreambuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (failure_) std::rethrow_exception(failure_);
  if (at_end_ || !body_) return traits_type::eof();
  std::size_t got = 0;
  try {
    got = body_->Read(buffer_.data(), buffer_.size());
  } catch (...) {
    failure_ = std::current_exception();
    body_.reset();  // abort the transfer now, not when the stream dies
    throw;
  }
  if (got == 0) {
    at_end_ = true;
    body_.reset();  // finished: give the connection back early
    return traits_type::eof();
  }
  setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
  return traits_type::to_int_type(*gptr());
}

std::streamsize BodyReaderStreambuf::showmanyc() {
  // -1 tells istream::readsome that the end is reached.
  return at_end_ && !failure_ ? -1 : 0;
}

BodyReaderStream::BodyReaderStream(std::unique_ptr<BodyReader> body,
                                   std::size_t chunk_bytes)
    : std::istream(nullptr), buffer_(std::move(body), chunk_bytes) {
  rdbuf(&buffer_);
}

// ---- ConcatStreambuf -------------------------------------------------------

ConcatStreambuf::ConcatStreambuf(std::size_t chunk_bytes)
    : buffer_(std::max<std::size_t>(chunk_bytes, 1)) {
  setg(buffer_.data(), buffer_.data(), buffer_.data());
}

void ConcatStreambuf::AddText(std::string text) {
  if (text.empty()) return;
  Part part;
  part.text = std::move(text);
  parts_.push_back(std::move(part));
}

void ConcatStreambuf::AddStream(std::istream& in) {
  Part part;
  part.stream = &in;
  parts_.push_back(std::move(part));
}

void ConcatStreambuf::AddFile(std::string local_path) {
  Part part;
  part.file = std::move(local_path);
  parts_.push_back(std::move(part));
}

void ConcatStreambuf::SetProgress(std::function<void(std::uint64_t)> progress) {
  progress_ = std::move(progress);
}

ConcatStreambuf::int_type ConcatStreambuf::Deliver(char* begin,
                                                   std::size_t size) {
  setg(begin, begin, begin + size);
  delivered_ += size;
  if (progress_) progress_(delivered_);
  return traits_type::to_int_type(*gptr());
}

ConcatStreambuf::int_type ConcatStreambuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (failure_) std::rethrow_exception(failure_);
  try {
    return NextChunk();
  } catch (...) {
    failure_ = std::current_exception();
    throw;
  }
}

ConcatStreambuf::int_type ConcatStreambuf::NextChunk() {
  while (current_ < parts_.size()) {
    Part& part = parts_[current_];
    if (part.stream == nullptr && part.file.empty()) {
      // Text parts are handed out in place; the next underflow moves on.
      ++current_;
      if (part.text.empty()) continue;
      return Deliver(part.text.data(), part.text.size());
    }
    if (part.stream == nullptr) {
      if (!part.owned) {
        part.owned = std::make_unique<std::ifstream>(
            part.file, std::ios::in | std::ios::binary);
        if (!part.owned->is_open()) {
          throw Error(0, "cannot open local file '" + part.file + "'");
        }
      }
    }
    std::istream& in = part.stream != nullptr ? *part.stream : *part.owned;
    std::streamsize got = 0;
    try {
      in.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      got = in.gcount();
    } catch (const std::ios_base::failure&) {
      // The caller enabled exceptions on its stream: end of data raises
      // failbit, which is not an error here; badbit is.
      got = in.gcount();
    }
    if (in.bad()) {
      throw Error(0, part.file.empty()
                         ? std::string("reading the upload data failed")
                         : "reading local file '" + part.file + "' failed");
    }
    if (got > 0) {
      return Deliver(buffer_.data(), static_cast<std::size_t>(got));
    }
    part.owned.reset();  // one open file at a time
    ++current_;
  }
  return traits_type::eof();
}

ConcatStream::ConcatStream(std::size_t chunk_bytes)
    : std::istream(nullptr), buffer_(chunk_bytes) {
  rdbuf(&buffer_);
}

std::string ReadWholeBody(BodyReader& body) {
  std::string out;
  std::string chunk(kStreamChunkBytes, '\0');
  while (true) {
    const std::size_t got = body.Read(chunk.data(), chunk.size());
    if (got == 0) break;
    out.append(chunk.data(), got);
  }
  return out;
}

}  // namespace e2b::internal
