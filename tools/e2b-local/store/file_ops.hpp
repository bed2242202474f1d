#ifndef E2B_LOCAL_STORE_FILE_OPS_HPP_
#define E2B_LOCAL_STORE_FILE_OPS_HPP_

// Filesystem operations of the state store: crash-safe writes and the
// layer copies snapshots are made of. Failures throw std::runtime_error
// naming the path and errno text.

#include <optional>
#include <string>
#include <vector>

namespace e2b_local {

/// Replaces `path` with `data` so that a crash leaves either the old or the
/// new content: write a temp file, fsync it, rename it over, fsync the dir.
void WriteFileAtomically(const std::string& path, const std::string& data);

/// The whole file, or nullopt when it does not exist.
std::optional<std::string> ReadFileIfExists(const std::string& path);

/// mkdir -p with mode 0755 (0700 for the last component when private).
void MakeDirs(const std::string& path, bool private_dir = false);

/// Copies the tree under `src` into the (new or empty) directory `dst`,
/// keeping modes, owners, timestamps, symlinks, device nodes (overlayfs
/// whiteouts) and extended attributes (overlayfs opaque markers). Never
/// follows symlinks and never enters a mount point (another filesystem or a
/// bind mount such as a volume): those stay empty directories.
void CopyTree(const std::string& src, const std::string& dst);

/// How MergeLayer treats overlayfs markers (whiteouts: 0/0 character
/// devices; opaque directories: trusted.overlay.opaque="y").
enum class LayerMergeMode {
  /// The result is an overlayfs upper layer over the host's "/": markers
  /// are kept (and added where a merged entry must keep hiding the host's).
  kOverlayUpper,
  /// The result is a plain tree: whiteouts delete, opaque directories
  /// replace, and no marker is written.
  kPlainTree,
};

/// Applies the layer `src` (an overlayfs upper layer or a copy of one) on
/// top of the tree `dst`, as overlayfs would stack them: entries of `src`
/// replace those of `dst`, directories merge unless opaque, whiteouts
/// delete. Other trusted.overlay.* attributes are dropped. Never follows
/// symlinks and never leaves the source's filesystem.
void MergeLayer(const std::string& src, const std::string& dst,
                LayerMergeMode mode);

/// Makes the tree `dir` an overlayfs upper layer that replaces, instead of
/// extends, the tree below it (an image's root over the base root
/// filesystem): its top-level directories are marked opaque, and every name
/// in `hide` it lacks becomes a whiteout. Names holding '/' or that are "."
/// or ".." are skipped.
void MakeReplacingLayer(const std::string& dir,
                        const std::vector<std::string>& hide);

/// Names in directory `dir` other than "." and "..", unsorted; nullopt
/// (with errno set) when it cannot be opened.
std::optional<std::vector<std::string>> DirectoryNames(const std::string& dir);

/// rm -rf that never follows symlinks nor enters a mount point below
/// `path` (another filesystem or a bind mount such as a volume: throws
/// instead); a missing path is not an error.
void RemoveTree(const std::string& path);

}  // namespace e2b_local

#endif  // E2B_LOCAL_STORE_FILE_OPS_HPP_
