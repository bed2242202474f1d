#ifndef E2B_INTERNAL_BUILD_BUNDLE_HPP_
#define E2B_INTERNAL_BUILD_BUNDLE_HPP_

// The file bundle of a template COPY step: a gzipped tar of the source,
// paths relative to the build context, and the files hash the official JS
// SDK computes for it (calculateFilesHash). Written in one streaming pass so
// that a large tree needs constant memory. Gzip without zlib: the deflate
// stream is made of stored blocks, which every inflater reads.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

namespace e2b::internal {

/// CRC-32 (IEEE 802.3, as gzip uses it) of `n` bytes, continuing `crc`
/// (0 to start).
std::uint32_t Crc32(std::uint32_t crc, const void* data, std::size_t n);

/// Writes one gzip member whose deflate data are stored (uncompressed)
/// blocks of at most 65535 bytes. Finish() must be called once at the end.
/// Holds a reference to `out`, which must outlive it.
class GzipStoredWriter {
 public:
  explicit GzipStoredWriter(std::ostream& out);

  void Write(const char* data, std::size_t n);
  /// Writes the last block and the trailer (CRC-32 and size).
  void Finish();

 private:
  void EmitBlock(bool final_block);

  std::ostream& out_;
  std::string block_;
  std::uint32_t crc_ = 0;
  std::uint32_t size_mod_2_32_ = 0;
};

/// The copy source `src` as a normalized relative POSIX path ("." for the
/// context itself). Throws InvalidArgumentError (status 0) when it is
/// empty, absolute or leaves the context through "..".
std::string NormalizeCopySource(const std::string& src);

/// Writes the tar.gz bundle of `src` (relative to `context_dir`) to `out`
/// and returns the files hash (lower-case hex SHA-256) of the step
/// "COPY <src> <dest>". Tar entries are named by their path relative to
/// the context: regular files, directories (trailing '/') and symlinks
/// (not followed), with their permission bits, uid/gid 0 and mtime 0; a
/// pax header carries paths longer than 100 bytes. Throws e2b::Error when
/// a file cannot be read.
std::string WriteBuildBundle(const std::filesystem::path& context_dir,
                             const std::string& src, const std::string& dest,
                             std::ostream& out);

/// A temporary file, removed when this object goes away.
class TempFile {
 public:
  /// Creates an empty file in the system's temporary directory.
  TempFile();
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_BUILD_BUNDLE_HPP_
