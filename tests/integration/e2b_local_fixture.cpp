#include "integration/e2b_local_fixture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <streambuf>
#include <thread>

#ifndef E2B_LOCAL_BINARY
#define E2B_LOCAL_BINARY "e2b-local"
#endif

namespace e2b_test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long the server may take to print its three lines, and to stop.
constexpr auto kStartBound = 20s;
constexpr auto kStopBound = 15s;

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return "exited with code " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "stopped (status " + std::to_string(status) + ")";
}

// Mount points (as this process sees them) at or below `dir`. Removing a
// directory with a live mount below it could reach into the mounted tree,
// so the temp dir is kept when there is one.
std::vector<std::string> MountsBelow(const std::string& dir) {
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    if (!(fields >> id >> parent >> dev >> root >> mount_point)) continue;
    if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) {
      found.push_back(mount_point);
    }
  }
  return found;
}

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

LocalServer::~LocalServer() { Stop(); }

void LocalServer::Start() {
  std::error_code ec;
  std::string base = std::filesystem::temp_directory_path(ec).string();
  if (ec || base.empty()) base = "/tmp";
  std::string pattern = base + "/e2b-it-XXXXXX";
  std::vector<char> dir(pattern.begin(), pattern.end());
  dir.push_back('\0');
  if (mkdtemp(dir.data()) == nullptr) {
    error_ = "mkdtemp(" + pattern + ") failed: " + std::strerror(errno);
    return;
  }
  temp_dir_ = dir.data();
  const std::string state_dir = temp_dir_ + "/state";
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    error_ = "cannot create " + state_dir + ": " + ec.message();
    return;
  }
  stdout_path_ = temp_dir_ + "/e2b-local.stdout";
  stderr_path_ = temp_dir_ + "/e2b-local.stderr";
  Launch("e2b_" + RandomHex(20));
}

void LocalServer::Launch(const std::string& key) {
  const std::string state_dir = temp_dir_ + "/state";

  const char* override_bin = std::getenv("E2B_LOCAL_BIN");
  const std::string binary = (override_bin != nullptr && *override_bin != '\0')
                                 ? override_bin
                                 : E2B_LOCAL_BINARY;
  if (access(binary.c_str(), X_OK) != 0) {
    error_ = "e2b-local binary '" + binary +
             "' is not executable: " + std::strerror(errno) +
             " (set E2B_LOCAL_BIN to override)";
    return;
  }
  // Everything the child needs is prepared before fork: only
  // async-signal-safe calls may run between fork and exec.
  std::vector<std::string> args = {
      binary, "--host",      "127.0.0.1", "--api-port", "0", "--envd-port",
      "0",    "--state-dir", state_dir,   "--api-key",  key};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const int out_fd = open(stdout_path_.c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  // Appended: after a Restart the tail holds both runs.
  const int err_fd = open(stderr_path_.c_str(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    error_ = std::string("cannot open the server's log files: ") +
             std::strerror(errno);
    for (int fd : {out_fd, err_fd, null_fd}) {
      if (fd >= 0) close(fd);
    }
    return;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    error_ = std::string("fork failed: ") + std::strerror(errno);
    close(out_fd);
    close(err_fd);
    close(null_fd);
    return;
  }
  if (pid == 0) {
    // Die with the test process even when it crashes before teardown.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    // Its own process group, so whatever it leaves behind can be found.
    setpgid(0, 0);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  close(null_fd);
  pid_ = pid;

  const auto deadline = Clock::now() + kStartBound;
  std::string api_url, sandbox_url, printed_key;
  for (;;) {
    std::istringstream lines(ReadWholeFile(stdout_path_));
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto take = [&line](const char* prefix, std::string& into) {
        const std::size_t n = std::strlen(prefix);
        if (line.compare(0, n, prefix) == 0) into = line.substr(n);
      };
      take("E2B_API_URL=", api_url);
      take("E2B_SANDBOX_URL=", sandbox_url);
      take("E2B_API_KEY=", printed_key);
    }
    if (!api_url.empty() && !sandbox_url.empty() && !printed_key.empty()) {
      break;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "e2b-local " + DescribeWaitStatus(status) +
               " before printing its URLs; stderr tail:\n" + StderrTail();
      return;
    }
    if (Clock::now() > deadline) {
      error_ =
          "e2b-local did not print E2B_API_URL/E2B_SANDBOX_URL/"
          "E2B_API_KEY within 20 s; stderr tail:\n" +
          StderrTail();
      Stop();
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  if (printed_key != key) {
    error_ =
        "e2b-local printed an API key other than the one passed with "
        "--api-key";
    Stop();
    return;
  }
  if (api_url.rfind("http://127.0.0.1:", 0) != 0 ||
      sandbox_url.rfind("http://127.0.0.1:", 0) != 0) {
    error_ =
        "e2b-local printed unexpected URLs: " + api_url + " and " + sandbox_url;
    Stop();
    return;
  }
  api_url_ = api_url;
  sandbox_url_ = sandbox_url;
  api_key_ = key;
}

e2b::Client LocalServer::NewClient() const {
  e2b::ClientConfig cfg;
  cfg.APIKey = api_key_;
  cfg.APIBaseURL = api_url_;
  cfg.SandboxURL = sandbox_url_;
  return e2b::NewClient(cfg);
}

std::string LocalServer::StderrTail(std::size_t max_bytes) const {
  if (stderr_path_.empty()) return "(no log)";
  std::string all = ReadWholeFile(stderr_path_);
  if (all.size() > max_bytes) all = "..." + all.substr(all.size() - max_bytes);
  return all;
}

void LocalServer::Restart(bool crash) {
  const std::string key = api_key_;
  EndProcess(crash);
  error_.clear();
  api_url_.clear();
  sandbox_url_.clear();
  Launch(key);
}

void LocalServer::Stop() {
  EndProcess(/*crash=*/false);
  RemoveTempDir();
}

void LocalServer::EndProcess(bool crash) {
  if (pid_ <= 0) return;
  if (crash) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    kill(-pid_, SIGKILL);
    pid_ = -1;
    return;
  }
  {
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kStopBound;
    int status = 0;
    bool reaped = false;
    while (Clock::now() < deadline) {
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) {
        reaped = true;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    if (!reaped) {
      std::cerr << "e2b-local ignored SIGTERM for 15 s; sending SIGKILL\n";
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      std::cerr << "e2b-local did not exit cleanly on SIGTERM: "
                << DescribeWaitStatus(status) << "\n";
    }
    // Anything still in the server's process group outlived it: report the
    // leak, then make sure it does not outlive the test either.
    if (kill(-pid_, 0) == 0) {
      std::cerr << "e2b-local left processes behind in its process group; "
                   "killing them\n";
      kill(-pid_, SIGKILL);
    }
    pid_ = -1;
  }
}

void LocalServer::RemoveTempDir() {
  if (!temp_dir_.empty()) {
    if (std::getenv("E2B_IT_KEEP_TMP") != nullptr) {
      std::cerr << "keeping " << temp_dir_ << " (E2B_IT_KEEP_TMP)\n";
    } else if (auto mounts = MountsBelow(temp_dir_); !mounts.empty()) {
      std::cerr << "not removing " << temp_dir_ << ": " << mounts.size()
                << " mount(s) still below it, first " << mounts.front() << "\n";
    } else {
      std::error_code ec;
      std::filesystem::remove_all(temp_dir_, ec);
      if (ec) {
        std::cerr << "cannot remove " << temp_dir_ << ": " << ec.message()
                  << "\n";
      }
    }
    temp_dir_.clear();
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
