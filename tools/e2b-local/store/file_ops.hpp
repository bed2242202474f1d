#ifndef E2B_LOCAL_STORE_FILE_OPS_HPP_
#define E2B_LOCAL_STORE_FILE_OPS_HPP_

// Filesystem operations of the state store: crash-safe writes and the
// layer copies snapshots are made of. Failures throw std::runtime_error
// naming the path and errno text.

#include <optional>
#include <string>

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
/// follows symlinks and never leaves the source's filesystem.
void CopyTree(const std::string& src, const std::string& dst);

/// rm -rf that never follows symlinks nor crosses into another mounted
/// filesystem (throws instead); a missing path is not an error.
void RemoveTree(const std::string& path);

}  // namespace e2b_local

#endif  // E2B_LOCAL_STORE_FILE_OPS_HPP_
