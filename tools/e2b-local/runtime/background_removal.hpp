#ifndef E2B_LOCAL_RUNTIME_BACKGROUND_REMOVAL_HPP_
#define E2B_LOCAL_RUNTIME_BACKGROUND_REMOVAL_HPP_

// Deleting a killed sandbox's directory off the request path. Unlinking
// freshly written files costs milliseconds each on a disk mounted with
// `discard` (ext4 trims the freed blocks synchronously), which made a kill
// wait 20-80 ms for files nobody will read again.

#include <string>

namespace e2b_local {

/// Renames `path` at once to a hidden sibling (".removing-<name>-<n>", so
/// the original path is free and gone when this returns) and deletes that
/// on a background thread with RemoveTree's rules (never follows symlinks
/// nor crosses mounts). When the rename fails the tree is removed here,
/// synchronously. Never throws; a missing path is not an error.
void RemoveTreeInBackground(const std::string& path);

/// RemoveTree, with a failure logged to stderr instead of thrown.
void RemoveTreeOrLog(const std::string& path);

/// Deletes a destroyed sandbox's tree as its SandboxSpec asks: with
/// RemoveTreeInBackground when in_background, else before it returns (not
/// following symlinks). Never throws; a missing path is not an error.
void RemoveSandboxTree(const std::string& path, bool in_background);

/// Blocks until every tree handed to RemoveTreeInBackground so far is gone
/// (or failed to go, which is logged).
void WaitForBackgroundRemovals();

}  // namespace e2b_local

#endif  // E2B_LOCAL_RUNTIME_BACKGROUND_REMOVAL_HPP_
