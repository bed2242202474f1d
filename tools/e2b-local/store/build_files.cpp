#include "store/build_files.hpp"

#include "store/random_ids.hpp"
#include "util/constant_time.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace e2b_local {
namespace {

constexpr auto kGrantLifetime = std::chrono::hours(1);
constexpr const char kPartialPrefix[] = ".upload-";

// Closes the descriptor and removes the partial file unless kept.
class PartialFile {
 public:
  explicit PartialFile(std::string path)
      : path_(std::move(path)),
        fd_(::open(path_.c_str(),
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   0600)) {
    if (fd_ < 0) {
      throw std::runtime_error("cannot store the archive: " +
                               std::string(std::strerror(errno)));
    }
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(path_.c_str());
  }
  bool Write(const char* data, std::size_t size) const {
    while (size > 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }
  /// fsyncs, closes and renames it to `target`.
  void Publish(const std::string& target) {
    const bool synced = ::fsync(fd_) == 0;
    const bool closed = ::close(fd_) == 0;
    fd_ = -1;
    if (!synced || !closed || ::rename(path_.c_str(), target.c_str()) != 0) {
      throw std::runtime_error("cannot store the archive: " +
                               std::string(std::strerror(errno)));
    }
    kept_ = true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool kept_ = false;
};

}  // namespace

BuildFileStore::BuildFileStore(const std::string& state_dir)
    : dir_(state_dir + "/build-files") {
  std::filesystem::create_directories(dir_);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().rfind(kPartialPrefix, 0) == 0) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

bool BuildFileStore::IsHash(const std::string& hash) {
  if (hash.size() != 64) return false;
  for (char c : hash) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool BuildFileStore::Has(const std::string& hash) const {
  return PathOf(hash).has_value();
}

std::optional<std::string> BuildFileStore::PathOf(
    const std::string& hash) const {
  if (!IsHash(hash)) return std::nullopt;
  std::string path = dir_ + "/" + hash;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return path;
}

std::string BuildFileStore::IssueUploadToken(const std::string& hash) {
  std::string token = RandomHex(64);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = grants_.begin(); it != grants_.end();) {
    it = it->second.expires <= now ? grants_.erase(it) : std::next(it);
  }
  grants_[token] = Grant{hash, now + kGrantLifetime};
  return token;
}

bool BuildFileStore::CheckUploadToken(const std::string& hash,
                                      const std::string& token) const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  // Every grant is compared, so timing tells nothing about the token.
  bool ok = false;
  for (const auto& [candidate, grant] : grants_) {
    const bool match = ConstantTimeEquals(candidate, token);
    ok = (match && grant.hash == hash && grant.expires > now) || ok;
  }
  return ok;
}

void BuildFileStore::Store(
    const std::string& hash, const std::string& token,
    const std::function<
        bool(const std::function<bool(const char*, std::size_t)>&)>& read) {
  if (!IsHash(hash)) throw std::invalid_argument("not a files hash");
  PartialFile partial(dir_ + "/" + kPartialPrefix + RandomHex(16));
  std::uint64_t total = 0;
  bool too_big = false, write_failed = false;
  const bool whole = read([&](const char* data, std::size_t size) {
    total += size;
    if (total > kMaxArchive) {
      too_big = true;
      return false;
    }
    if (!partial.Write(data, size)) {
      write_failed = true;
      return false;
    }
    return true;
  });
  if (too_big) {
    throw std::length_error("the archive is larger than the 4 GiB limit");
  }
  if (write_failed) {
    throw std::runtime_error("cannot store the archive: " +
                             std::string(std::strerror(errno)));
  }
  if (!whole) throw std::runtime_error("the upload ended before its body");
  partial.Publish(dir_ + "/" + hash);
  std::lock_guard<std::mutex> lock(mu_);
  grants_.erase(token);
}

}  // namespace e2b_local
