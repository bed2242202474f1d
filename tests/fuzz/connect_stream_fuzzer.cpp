// Fuzzes the client's Connect stream reader (ConnectStreamReader over an
// in-memory BodyReader, cut into chunks anywhere) and the mapping of Connect
// and envd HTTP error bodies to exceptions: only e2b::Error (or a subclass)
// may come out, the reader must stop, and the envd access token given as a
// secret must never appear in a message.

#include "fuzz_input.hpp"
#include "internal/connect_client.hpp"
#include "internal/error_mapping.hpp"
#include "internal/http_transport.hpp"

#include <e2b/errors.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using e2b_fuzz::Check;
namespace internal = e2b::internal;

const std::string kSecret = "SECRET-envd-token-0123";

// A body served from memory in chunks of a fuzzed size.
class MemoryBody : public internal::BodyReader {
 public:
  MemoryBody(std::string body, std::size_t chunk)
      : body_(std::move(body)), chunk_(chunk) {}
  int Status() const override { return 200; }
  const internal::HttpHeaders& Headers() const override { return headers_; }
  std::size_t Read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min({size, chunk_, body_.size() - at_});
    std::memcpy(buffer, body_.data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  std::string body_;
  std::size_t chunk_;
  std::size_t at_ = 0;
  internal::HttpHeaders headers_;
};

void CheckMessage(const std::exception& e) {
  const std::string what = e.what();
  Check(what.find(kSecret) == std::string::npos, "secret in an error", what);
}

void ReadStream(const std::string& body, std::size_t chunk,
                std::size_t max_message) {
  internal::ConnectStreamReader reader(
      std::make_unique<MemoryBody>(body, chunk), "/process.Process/Start",
      {kSecret}, max_message);
  // Each message takes at least one envelope of five bytes, so a reader
  // that keeps producing messages past that count is looping.
  const std::size_t max_messages = body.size() / 5 + 1;
  std::size_t messages = 0;
  try {
    while (auto message = reader.Next()) {
      Check(message->is_object(), "a stream message is not an object");
      Check(++messages <= max_messages, "reader produced messages from air");
    }
  } catch (const e2b::Error& e) {
    CheckMessage(e);
    return;
  }
  // A clean end is final.
  Check(!reader.Next().has_value(), "message after the end of stream");
}

void MapHttpError(int status, const std::string& body) {
  try {
    internal::ThrowConnectHttpError(status, body, "sbx-fuzz", {kSecret});
  } catch (const e2b::Error& e) {
    CheckMessage(e);
  }
  try {
    internal::ThrowHttpError(status, body,
                             {internal::NotFoundKind::kSandbox, "sbx-fuzz"},
                             {kSecret});
  } catch (const e2b::Error& e) {
    CheckMessage(e);
  }
  const std::string message = internal::ErrorMessageFromBody(body);
  Check(message.size() <= internal::kMaxErrorMessageBytes + 8,
        "error message not bounded");
  for (char c : message) {
    auto u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u != 0x7f, "control character in a message", message);
  }
  Check(internal::RedactSecrets(body, {kSecret}).find(kSecret) ==
            std::string::npos,
        "RedactSecrets left the secret");
  if (auto id =
          internal::EdgeSandboxNotFound(status, body, "sbx-fuzz", {kSecret})) {
    Check(id->find(kSecret) == std::string::npos,
          "secret in the edge answer's sandbox id", *id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  e2b_fuzz::FuzzInput in(data, size);
  const std::uint8_t mode = in.Byte();
  const std::size_t chunk = std::size_t{in.Byte()} + 1;
  const std::string body = in.Rest();
  if (mode & 1) {
    // Status codes around the interesting ones (4xx, 5xx, 502 edge).
    MapHttpError(400 + (mode >> 1), body);
  } else {
    ReadStream(body, chunk,
               (mode & 2) ? 64 : internal::kMaxConnectMessageBytes);
  }
  return 0;
}
