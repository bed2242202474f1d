// Fuzzes e2b-local's /files handlers (tools/e2b-local/envd/files_handler.*)
// with in-memory requests: fuzzed query parameters, headers (user, token,
// signature, metadata, encodings, content types) and bodies delivered the
// way httplib hands them over -- raw chunks, or multipart parts with fuzzed
// names and filenames. Every answer must be a well-formed status, nothing
// may be written or read outside the sandbox root, and nothing may crash.
//
// httplib's own multipart parser is compiled into libcpp-httplib and not
// callable on its own, so parts are delivered as already parsed; the
// parser itself is out of scope here.

#include "envd/files_handler.hpp"
#include "fuzz_input.hpp"
#include "local_sandbox_fixture.hpp"

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace {

using e2b_fuzz::Check;
using e2b_fuzz::FuzzInput;
namespace local = e2b_local;

const std::size_t kSentinelHash = std::hash<std::string>{}("outside");

struct Part {
  std::string name;
  std::string filename;
  std::vector<std::string> chunks;
};

std::vector<std::string> Chunks(FuzzInput& in) {
  std::vector<std::string> out;
  const int n = in.Byte() % 4;
  for (int i = 0; i < n; ++i) out.push_back(in.ShortString());
  return out;
}

void AddHeaders(FuzzInput& in, httplib::Request& req, const std::string& token,
                bool multipart) {
  const std::uint8_t h = in.Byte();
  if (h & 1) {
    req.set_header("X-Access-Token", (h & 2) ? token : in.ShortString());
  }
  if (h & 4) req.set_header("X-Metadata-" + in.ShortString(), in.ShortString());
  if (h & 8) req.set_header("Content-Encoding", in.ShortString());
  if (h & 16) req.set_header("If-Modified-Since", in.ShortString());
  std::string type = multipart ? "multipart/form-data; boundary=b"
                               : "application/octet-stream";
  if (h & 32) type = in.ShortString();
  req.set_header("Content-Type", type);
  if (h & 64) req.params.emplace("username", in.ShortString());
  if (h & 128) {
    req.params.emplace("signature", in.ShortString());
    req.params.emplace("signature_expiration", in.ShortString());
  }
}

void CheckAnswer(const httplib::Response& res) {
  // -1: httplib's "not set", which it sends as 200.
  Check(res.status == -1 || (res.status >= 200 && res.status < 600),
        "answer with an invalid status");
}

void Post(FuzzInput& in, local::LocalSandbox& sandbox, const std::string& token,
          bool multipart) {
  httplib::Request req;
  req.method = "POST";
  req.path = "/files";
  const std::uint8_t p = in.Byte();
  if (p & 1) req.params.emplace("path", in.ShortString());
  AddHeaders(in, req, token, multipart);
  std::vector<Part> parts;
  std::vector<std::string> raw;
  if (multipart) {
    const int n = in.Byte() % 4;
    for (int i = 0; i < n; ++i) {
      Part part;
      part.name = (in.Byte() & 1) ? "file" : in.ShortString();
      part.filename = in.ShortString();
      part.chunks = Chunks(in);
      parts.push_back(std::move(part));
    }
  } else {
    raw = Chunks(in);
  }
  const bool broken = (p & 2) != 0;  // the body ends badly
  httplib::ContentReader reader(
      [&](httplib::ContentReceiver receive) {
        for (const auto& c : raw) {
          if (!receive(c.data(), c.size())) return false;
        }
        return !broken;
      },
      [&](httplib::MultipartContentHeader header,
          httplib::ContentReceiver receive) {
        for (const auto& part : parts) {
          httplib::MultipartFormData data;
          data.name = part.name;
          data.filename = part.filename;
          data.content_type = "application/octet-stream";
          if (!header(data)) return false;
          for (const auto& c : part.chunks) {
            if (!receive(c.data(), c.size())) return false;
          }
        }
        return !broken;
      });
  httplib::Response res;
  local::HandleFilesPost(sandbox, req, res, reader);
  CheckAnswer(res);
}

void Get(FuzzInput& in, const std::shared_ptr<local::LocalSandbox>& sandbox,
         const std::string& token) {
  httplib::Request req;
  req.method = "GET";
  req.path = "/files";
  req.params.emplace("path", in.ShortString());
  AddHeaders(in, req, token, false);
  const std::uint8_t r = in.Byte();
  if (r & 1) {
    req.ranges.emplace_back(static_cast<ssize_t>(in.Byte()) - 8,
                            static_cast<ssize_t>(in.Byte()) - 8);
  }
  httplib::Response res;
  local::HandleFilesGet(sandbox, req, res);
  CheckAnswer(res);
  std::string body = res.body;
  if (res.content_provider_) {
    httplib::DataSink sink;
    sink.write = [&](const char* d, std::size_t n) {
      body.append(d, n);
      return true;
    };
    sink.done = [] {};
    sink.is_writable = [] { return true; };
    std::size_t offset = 0;
    while (offset < res.content_length_ &&
           res.content_provider_(offset, res.content_length_ - offset, sink)) {
      offset = body.size();
    }
  }
  Check(std::hash<std::string>{}(body) != kSentinelHash,
        "GET /files read a file outside the root");
}

e2b_fuzz::SandboxFixture* fixture = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  e2b_fuzz::EnterJail(e2b_fuzz::LibFuzzerDirs(*argc, *argv));
  fixture = new e2b_fuzz::SandboxFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  FuzzInput in(data, size);
  fixture->Reset();
  const std::string token = (in.Byte() & 1) ? "fuzz-token" : "";
  auto sandbox = fixture->MakeSandbox(token);
  int steps = 0;
  while (!in.empty() && steps++ < 4) {
    switch (in.Byte() % 3) {
      case 0:
        Post(in, *sandbox, token, false);
        break;
      case 1:
        Post(in, *sandbox, token, true);
        break;
      default:
        Get(in, sandbox, token);
        break;
    }
  }
  fixture->CheckConfined();
  return 0;
}
