#include "internal/build_bundle.hpp"

#include "internal/sha256.hpp"

#include <e2b/errors.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

namespace e2b::internal {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxStoredBlock = 65535;
constexpr std::size_t kTarBlock = 512;
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;

std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    }
    table[n] = c;
  }
  return table;
}

void PutLittleEndian32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
  }
}

[[noreturn]] void ThrowIo(const std::string& what, const fs::path& path,
                          int err) {
  throw Error(0, "template files: " + what + " " + path.string() + ": " +
                     std::strerror(err));
}

// ---- tar (ustar with pax extended headers) ----

// A numeric field: zero-padded octal filling all but the last byte, NUL.
void PutOctal(char* field, std::size_t width, std::uint64_t value) {
  std::string digits(width - 1, '0');
  for (std::size_t i = width - 1; i-- > 0 && value != 0; value >>= 3) {
    digits[i] = static_cast<char>('0' + (value & 7U));
  }
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

void PutString(char* field, std::size_t width, std::string_view value) {
  // memcpy must not see the null data() of an empty view.
  if (value.empty()) return;
  std::memcpy(field, value.data(), std::min(width, value.size()));
}

// One pax record: "<len> <key>=<value>\n", where <len> counts itself.
std::string PaxRecord(const std::string& key, const std::string& value) {
  const std::size_t rest = 1 + key.size() + 1 + value.size() + 1;
  std::size_t total = rest + 1;
  while (std::to_string(total).size() + rest != total) {
    total = std::to_string(total).size() + rest;
  }
  return std::to_string(total) + " " + key + "=" + value + "\n";
}

struct TarHeader {
  std::string name;
  char type = '0';
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::string link;
};

class TarWriter {
 public:
  explicit TarWriter(GzipStoredWriter& gz) : gz_(gz) {}

  void WriteHeader(const TarHeader& h) {
    // 8 GiB - 1 is the most the 11-digit size field holds.
    constexpr std::uint64_t kMaxOctalSize = (std::uint64_t{1} << 33) - 1;
    std::string pax;
    if (h.name.size() > 100) pax += PaxRecord("path", h.name);
    if (h.link.size() > 100) pax += PaxRecord("linkpath", h.link);
    if (h.size > kMaxOctalSize)
      pax += PaxRecord("size", std::to_string(h.size));
    if (!pax.empty()) {
      WriteRawHeader("PaxHeader", 'x', 0644, pax.size(), {});
      WriteData(pax.data(), pax.size());
      Pad(pax.size());
    }
    WriteRawHeader(std::string_view(h.name).substr(0, 100), h.type, h.mode,
                   h.size > kMaxOctalSize ? 0 : h.size,
                   std::string_view(h.link).substr(0, 100));
  }

  void WriteData(const char* data, std::size_t n) { gz_.Write(data, n); }

  // Zeros up to the next 512-byte boundary after `n` bytes of data.
  void Pad(std::uint64_t n) {
    const auto rem = static_cast<std::size_t>(n % kTarBlock);
    if (rem == 0) return;
    const std::array<char, kTarBlock> zeros{};
    gz_.Write(zeros.data(), kTarBlock - rem);
  }

  // The end of the archive: two zero blocks.
  void Close() {
    const std::array<char, 2 * kTarBlock> zeros{};
    gz_.Write(zeros.data(), zeros.size());
  }

 private:
  void WriteRawHeader(std::string_view name, char type, std::uint32_t mode,
                      std::uint64_t size, std::string_view link) {
    std::array<char, kTarBlock> b{};
    PutString(&b[0], 100, name);
    PutOctal(&b[100], 8, mode & 07777U);
    PutOctal(&b[108], 8, 0);  // uid
    PutOctal(&b[116], 8, 0);  // gid
    PutOctal(&b[124], 12, size);
    PutOctal(&b[136], 12, 0);  // mtime
    b[156] = type;
    PutString(&b[157], 100, link);
    PutString(&b[257], 6, std::string_view("ustar\0", 6));
    PutString(&b[263], 2, "00");
    // The checksum is computed with its own field as eight spaces.
    std::memset(&b[148], ' ', 8);
    std::uint32_t sum = 0;
    for (char c : b) sum += static_cast<unsigned char>(c);
    PutOctal(&b[148], 7, sum);  // six digits and a NUL ...
    b[155] = ' ';               // ... then a space
    gz_.Write(b.data(), b.size());
  }

  GzipStoredWriter& gz_;
};

// ---- walking the source ----

struct Entry {
  std::string rel;  // relative POSIX path from the context; "" = context
  fs::path full;
};

// The source and everything under it (symlinks are not followed), sorted
// by path as the JS SDK sorts its glob matches.
std::vector<Entry> CollectEntries(const fs::path& context_dir,
                                  const std::string& rel_src) {
  const fs::path root = rel_src == "." ? context_dir : context_dir / rel_src;
  const std::string prefix = rel_src == "." ? "" : rel_src + "/";
  std::vector<Entry> entries;
  entries.push_back({rel_src == "." ? "" : rel_src, root});
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(root, ec);
  if (ec) ThrowIo("cannot stat", root, ec.value());
  if (fs::is_directory(st)) {
    fs::recursive_directory_iterator it(root, ec);
    if (ec) ThrowIo("cannot list", root, ec.value());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) ThrowIo("cannot list", root, ec.value());
      const fs::path& p = it->path();
      entries.push_back(
          {prefix + p.lexically_relative(root).generic_string(), p});
    }
    if (ec) ThrowIo("cannot list", root, ec.value());
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.rel < b.rel; });
  return entries;
}

// Streams a regular file's first `size` bytes into the hash and the tar.
void CopyFileContent(const fs::path& path, std::uint64_t size, Sha256& hash,
                     TarWriter& tar) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ThrowIo("cannot open", path, errno);
  std::vector<char> buf(kReadChunk);
  std::uint64_t left = size;
  while (left > 0) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    in.read(buf.data(), static_cast<std::streamsize>(want));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) {
      throw Error(0, "template files: " + path.string() +
                         " became shorter while it was being bundled");
    }
    hash.Update(std::string_view(buf.data(), got));
    tar.WriteData(buf.data(), got);
    left -= got;
  }
  tar.Pad(size);
}

std::string Hex(const std::array<std::uint8_t, 32>& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint8_t byte : digest) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0F]);
  }
  return out;
}

}  // namespace

std::uint32_t Crc32(std::uint32_t crc, const void* data, std::size_t n) {
  static const std::array<std::uint32_t, 256> table = MakeCrcTable();
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t c = crc ^ 0xFFFFFFFFU;
  for (std::size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFFU] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

GzipStoredWriter::GzipStoredWriter(std::ostream& out) : out_(out) {
  // Magic, CM=8 (deflate), no flags, mtime 0, no extra flags, OS 3 (Unix).
  static constexpr char kHeader[] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, 3};
  out_.write(kHeader, sizeof kHeader);
  block_.reserve(kMaxStoredBlock);
}

void GzipStoredWriter::Write(const char* data, std::size_t n) {
  crc_ = Crc32(crc_, data, n);
  size_mod_2_32_ += static_cast<std::uint32_t>(n);
  while (n > 0) {
    const std::size_t take = std::min(n, kMaxStoredBlock - block_.size());
    block_.append(data, take);
    data += take;
    n -= take;
    if (block_.size() == kMaxStoredBlock) EmitBlock(false);
  }
}

void GzipStoredWriter::Finish() {
  EmitBlock(true);
  std::string trailer;
  PutLittleEndian32(trailer, crc_);
  PutLittleEndian32(trailer, size_mod_2_32_);
  out_.write(trailer.data(), static_cast<std::streamsize>(trailer.size()));
  out_.flush();
}

// A stored block: BFINAL/BTYPE=00 in one byte (stored blocks start and end
// on a byte boundary), LEN and its complement NLEN, little-endian, then the
// bytes.
void GzipStoredWriter::EmitBlock(bool final_block) {
  const auto len = static_cast<std::uint16_t>(block_.size());
  const auto nlen = static_cast<std::uint16_t>(~len);
  const char head[] = {
      static_cast<char>(final_block ? 1 : 0), static_cast<char>(len & 0xFF),
      static_cast<char>(len >> 8), static_cast<char>(nlen & 0xFF),
      static_cast<char>(nlen >> 8)};
  out_.write(head, sizeof head);
  out_.write(block_.data(), static_cast<std::streamsize>(block_.size()));
  block_.clear();
}

std::string NormalizeCopySource(const std::string& src) {
  if (src.empty()) {
    throw InvalidArgumentError("Copy: the source path is empty", 0);
  }
  const fs::path p(src);
  if (p.is_absolute()) {
    throw InvalidArgumentError(
        "Copy: source \"" + src +
            "\" must be relative to the build context (the working directory)",
        0);
  }
  std::string norm = p.lexically_normal().generic_string();
  while (norm.size() > 1 && norm.back() == '/') norm.pop_back();
  if (norm.empty()) norm = ".";
  if (norm == ".." || norm.rfind("../", 0) == 0) {
    throw InvalidArgumentError("Copy: source \"" + src +
                                   "\" leaves the build context (the "
                                   "working directory)",
                               0);
  }
  return norm;
}

std::string WriteBuildBundle(const fs::path& context_dir,
                             const std::string& src, const std::string& dest,
                             std::ostream& out) {
  const std::string rel_src = NormalizeCopySource(src);
  Sha256 hash;
  hash.Update("COPY " + src + " " + dest);
  GzipStoredWriter gz(out);
  TarWriter tar(gz);
  for (const Entry& e : CollectEntries(context_dir, rel_src)) {
    struct stat st {};
    if (::lstat(e.full.c_str(), &st) != 0)
      ThrowIo("cannot stat", e.full, errno);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    hash.Update(e.rel);
    hash.Update(std::to_string(st.st_mode));
    hash.Update(std::to_string(size));
    const auto mode = static_cast<std::uint32_t>(st.st_mode);
    if (S_ISREG(st.st_mode)) {
      tar.WriteHeader({e.rel, '0', mode, size, {}});
      CopyFileContent(e.full, size, hash, tar);
    } else if (S_ISDIR(st.st_mode)) {
      if (!e.rel.empty()) tar.WriteHeader({e.rel + "/", '5', mode, 0, {}});
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const std::string target = fs::read_symlink(e.full, ec).string();
      if (ec) ThrowIo("cannot read link", e.full, ec.value());
      hash.Update(target);
      tar.WriteHeader({e.rel, '2', mode, 0, target});
    }
    // Sockets, FIFOs and devices are hashed (as the JS SDK does) but have
    // nothing to copy.
  }
  tar.Close();
  gz.Finish();
  if (!out) throw Error(0, "template files: cannot write the bundle");
  return Hex(hash.Finish());
}

TempFile::TempFile() {
  std::string name =
      (fs::temp_directory_path() / "e2b-build-XXXXXX.tar.gz").string();
  const int fd = ::mkstemps(name.data(), 7);
  if (fd < 0)
    ThrowIo("cannot create a temporary file in", fs::path(name), errno);
  ::close(fd);
  path_ = name;
}

TempFile::~TempFile() {
  std::error_code ignored;
  fs::remove(path_, ignored);
}

}  // namespace e2b::internal
