#include "integration/e2b_local_fixture.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <streambuf>
#include <utility>

#ifndef E2B_LOCAL_BINARY
#define E2B_LOCAL_BINARY "e2b-local"
#endif

namespace e2b_test {
namespace {

using Clock = std::chrono::steady_clock;

// Deterministic byte generator (xorshift64*), shared by GeneratedStream and
// GeneratedDigest so both sides see the same bytes.
class ByteGenerator {
 public:
  explicit ByteGenerator(std::uint64_t seed)
      : state_(seed == 0 ? 0x9E3779B97F4A7C15ULL : seed) {}
  void Fill(char* out, std::size_t n) {
    std::size_t i = 0;
    // Whole words straight through (the hot path: -O0 builds too must make
    // 100 MiB quickly); leftover bytes of a word carry over to the next call.
    while (i < n && left_ > 0) Emit(out[i++]);
    for (; i + 8 <= n; i += 8) {
      const std::uint64_t w = Next();
      for (int k = 0; k < 8; ++k) {
        out[i + static_cast<std::size_t>(k)] =
            static_cast<char>((w >> (8 * k)) & 0xFF);
      }
    }
    while (i < n) {
      if (left_ == 0) {
        word_ = Next();
        left_ = 8;
      }
      Emit(out[i++]);
    }
  }

 private:
  std::uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  void Emit(char& out) {
    out = static_cast<char>(word_ & 0xFF);
    word_ >>= 8;
    --left_;
  }

  std::uint64_t state_;
  std::uint64_t word_ = 0;
  int left_ = 0;
};

class GeneratedBuf : public std::streambuf {
 public:
  GeneratedBuf(std::uint64_t size, std::uint64_t seed)
      : remaining_(size), gen_(seed) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (remaining_ == 0) return traits_type::eof();
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>(remaining_, buffer_.size()));
    gen_.Fill(buffer_.data(), n);
    remaining_ -= n;
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::uint64_t remaining_;
  ByteGenerator gen_;
  std::array<char, 1 << 16> buffer_{};
};

class GeneratedIStream : public std::istream {
 public:
  GeneratedIStream(std::uint64_t size, std::uint64_t seed)
      : std::istream(nullptr), buf_(size, seed) {
    rdbuf(&buf_);
  }

 private:
  GeneratedBuf buf_;
};

class ServerEnvironment : public ::testing::Environment {
 public:
  // Starting here puts the fork on the main thread, which matters for
  // PR_SET_PDEATHSIG (it fires when the forking *thread* ends).
  void SetUp() override { LocalServer::Shared(); }
  void TearDown() override {
    LocalServer& server = LocalServer::Shared();
    if (::testing::UnitTest::GetInstance()->Failed() && server.Ok()) {
      std::cerr << "---- e2b-local stderr (tail) ----\n"
                << server.StderrTail() << "\n---- end ----\n";
    }
    server.Stop();
  }
};

[[maybe_unused]] ::testing::Environment* const kServerEnvironment =
    ::testing::AddGlobalTestEnvironment(new ServerEnvironment);

}  // namespace

// ---- LocalServer ------------------------------------------------------------

LocalServer& LocalServer::Shared() {
  // Deliberately leaked: the environment stops it, and a static destructor
  // running after gtest's teardown must not touch a dead child.
  static LocalServer* server = [] {
    auto* s = new LocalServer();
    s->Start();
    return s;
  }();
  return *server;
}

void LocalServer::Start() {
  e2b::testing::LocalServerOptions options;
  options.Binary = E2B_LOCAL_BINARY;
  if (const char* override_bin = std::getenv("E2B_LOCAL_BIN");
      override_bin != nullptr && *override_bin != '\0') {
    options.Binary = override_bin;
  }
  options.KeepTempDir = std::getenv("E2B_IT_KEEP_TMP") != nullptr;
  try {
    server_.emplace(std::move(options));
  } catch (const e2b::testing::LocalServerError& e) {
    error_ = e.what();
  }
}

namespace {
const std::string kNone;
}  // namespace

const std::string& LocalServer::APIURL() const {
  return server_ ? server_->APIURL() : kNone;
}
const std::string& LocalServer::SandboxURL() const {
  return server_ ? server_->SandboxURL() : kNone;
}
const std::string& LocalServer::APIKey() const {
  return server_ ? server_->APIKey() : kNone;
}
const std::string& LocalServer::TempDir() const {
  return server_ ? server_->TempDir() : kNone;
}

std::string LocalServer::StderrTail(std::size_t max_bytes) const {
  return server_ ? server_->StderrTail(max_bytes) : "(no log)";
}

void LocalServer::Restart(bool crash) {
  if (!server_) return;
  try {
    server_->Restart(crash ? e2b::testing::StopMode::kCrash
                           : e2b::testing::StopMode::kGraceful);
    error_.clear();
  } catch (const e2b::testing::LocalServerError& e) {
    error_ = e.what();
  }
}

// ---- E2bLocalTest ---------------------------------------------------------

void E2bLocalTest::SetUp() {
  LocalServer& server = LocalServer::Shared();
  ASSERT_TRUE(server.Ok()) << "e2b-local is not running: "
                           << server.StartError();
  client_.emplace(server.NewClient());
}

void E2bLocalTest::TearDown() {
  // Closers close their sandboxes now, before the server is stopped.
  closers_.clear();
}

e2b::SandboxConfig E2bLocalTest::Config(
    std::map<std::string, std::string> env) {
  e2b::SandboxConfig cfg;
  cfg.Template = "base";
  cfg.Timeout = 120;
  cfg.EnvVars = std::move(env);
  return cfg;
}

e2b::Sandbox E2bLocalTest::NewSandbox(e2b::SandboxConfig cfg) {
  e2b::Sandbox sandbox = client_->NewSandbox(cfg);
  closers_.push_back(std::make_unique<e2b::SandboxCloser>(sandbox));
  return sandbox;
}

// ---- helpers ----------------------------------------------------------------

std::string RandomHex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  urandom.read(reinterpret_cast<char*>(raw.data()),
               static_cast<std::streamsize>(raw.size()));
  if (!urandom) {
    // Never expected on Linux; still produce distinct values.
    std::uint64_t x = static_cast<std::uint64_t>(
        Clock::now().time_since_epoch().count() ^ getpid());
    for (auto& b : raw) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      b = static_cast<unsigned char>(x >> 56);
    }
  }
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : raw) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xF]);
  }
  return out;
}

std::optional<double> ParseRFC3339(const std::string& text) {
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year, &mon,
                  &day, &hour, &min, &sec, &used) != 6) {
    return std::nullopt;
  }
  std::size_t pos = static_cast<std::size_t>(used);
  double frac = 0;
  if (pos < text.size() && text[pos] == '.') {
    double scale = 0.1;
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[pos]))) {
      frac += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const time_t t = timegm(&tm);
  return static_cast<double>(t - offset) + frac;
}

void Fnv1a::Update(const char* data, std::size_t n) {
  // FNV-1a over 64-bit little-endian words (bytes of a partial word wait
  // in pending_), so the digest does not depend on how the data is split.
  std::size_t i = 0;
  while (i < n) {
    if (pending_count_ == 0 && i + 8 <= n) {
      std::uint64_t w = 0;
      for (int k = 7; k >= 0; --k) {
        w = (w << 8) |
            static_cast<unsigned char>(data[i + static_cast<std::size_t>(k)]);
      }
      Mix(w);
      i += 8;
      continue;
    }
    pending_ |=
        static_cast<std::uint64_t>(static_cast<unsigned char>(data[i++]))
        << (8 * pending_count_);
    if (++pending_count_ == 8) {
      Mix(pending_);
      pending_ = 0;
      pending_count_ = 0;
    }
  }
}

std::uint64_t Fnv1a::Digest() const {
  std::uint64_t h = hash_;
  if (pending_count_ > 0) {
    h ^= pending_ ^ (static_cast<std::uint64_t>(pending_count_) << 56);
    h *= 1099511628211ULL;
  }
  return h;
}

void Fnv1a::Mix(std::uint64_t word) {
  hash_ ^= word;
  hash_ *= 1099511628211ULL;
}

std::unique_ptr<std::istream> GeneratedStream(std::uint64_t size,
                                              std::uint64_t seed) {
  return std::make_unique<GeneratedIStream>(size, seed);
}

std::uint64_t GeneratedDigest(std::uint64_t size, std::uint64_t seed) {
  ByteGenerator gen(seed);
  Fnv1a hash;
  std::vector<char> chunk(1 << 16);
  while (size > 0) {
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(size, chunk.size()));
    gen.Fill(chunk.data(), n);
    hash.Update(chunk.data(), n);
    size -= n;
  }
  return hash.Digest();
}

}  // namespace e2b_test
