#ifndef E2B_LOCAL_ROOTFS_BASE_ROOTFS_HPP_
#define E2B_LOCAL_ROOTFS_BASE_ROOTFS_HPP_

// The base template's root filesystem: a Debian 12 (bookworm) tree that
// e2b-local builds once with mmdebstrap (or imports from --rootfs) and keeps
// in a cache directory, owned by the sandbox id range so that it can be the
// lowest overlayfs layer of every namespaced sandbox. Never the host's "/".

#include "runtime/sandbox_runtime.hpp"  // IdRange

#include <cstddef>
#include <functional>
#include <string>

namespace e2b_local {

struct BaseRootfsOptions {
  /// Where built and imported trees live; empty = DefaultRootfsCacheDir().
  std::string cache_dir;
  /// --rootfs DIR|TARBALL (tar, optionally gzip/xz/bzip2/zstd compressed);
  /// copied into the cache, never used in place. Empty = build with
  /// mmdebstrap.
  std::string source;
  /// Debian mirror URL; empty = HostDebianMirror().
  std::string mirror;
  /// Every file's uid/gid u becomes ids.base + u (see ShiftTreeOwnership).
  IdRange ids;
  /// Human progress lines (main prints them on stderr); may be empty.
  std::function<void(const std::string&)> progress;
};

/// $E2B_LOCAL_CACHE_DIR, else /var/cache/e2b-local when root, else
/// $XDG_CACHE_HOME/e2b-local or ~/.cache/e2b-local.
std::string DefaultRootfsCacheDir();

/// Returns the absolute path of a ready directory, read-only by convention,
/// usable as an overlayfs lower layer and owned by the shifted id range.
/// Builds or imports it on first use under an flock in the cache directory
/// (concurrent callers, in threads or processes, build once and the others
/// wait and reuse it), in a temporary directory renamed into place, so a
/// crash never leaves a half tree that looks ready. Keyed by the source (or
/// the built-in package list's version) and ids.base/count. Needs root to
/// build or import. Throws std::runtime_error with a clear message; when no
/// mirror is reachable it says so and names `--rootfs DIR|TARBALL`.
std::string EnsureBaseRootfs(const BaseRootfsOptions& options);

/// The first http(s) URI of a bookworm "deb" entry in the host's apt
/// sources (sources.list, sources.list.d/*.list and *.sources, deb822
/// too), else http://deb.debian.org/debian. No trailing slash.
std::string HostDebianMirror(const std::string& apt_dir = "/etc/apt");

struct OwnershipShift {
  std::size_t entries = 0;  ///< entries kept and shifted, the root included
  std::size_t removed = 0;  ///< device nodes, FIFOs and sockets deleted
};

/// Gives every entry under `root` (itself included) the owner ids.base + u
/// for its uid/gid u < ids.count, ids.base + 65534 (nobody) for larger ones,
/// and keeps ids already inside the range. Never follows symlinks nor
/// crosses mount points; restores the setuid/setgid bits and the
/// security.capability attribute that chown clears; shifts hard-linked
/// files once; deletes device nodes, FIFOs and sockets (a layer holds none:
/// the sandbox's /dev is its own). Needs CAP_CHOWN; throws on failure.
OwnershipShift ShiftTreeOwnership(const std::string& root, const IdRange& ids);

}  // namespace e2b_local

#endif  // E2B_LOCAL_ROOTFS_BASE_ROOTFS_HPP_
