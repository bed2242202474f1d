#ifndef E2B_LOCAL_RUNTIME_VOLUME_BINDS_HPP_
#define E2B_LOCAL_RUNTIME_VOLUME_BINDS_HPP_

// Volumes inside a sandbox: a bind mount of the volume's host directory on
// a path of the sandbox's root, made in the server's mount namespace before
// the sandbox's init copies it, so commands and envd's file API (which
// resolves paths under the root on the host) see the same files.

#include <sys/types.h>

#include <stdexcept>
#include <string>

namespace e2b_local {

class SandboxFs;

/// The sandbox's own files leave no directory at a mount path (a file or a
/// dangling link on the way, as `mkdir -p` would refuse): the request's
/// fault, not the server's.
class VolumePathError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Binds the host directory `host_dir` at the clean absolute sandbox path
/// `path` of `fs`'s root, nosuid and nodev. Missing directories on the way
/// are made (owned by the host ids uid/gid) and the target is found by
/// resolving `path` inside the root, so a symlink in the root (a snapshot's
/// files are a sandbox's) never moves the mount outside it: the mount goes
/// through the resolved descriptor, not a path the kernel walks again.
/// Throws VolumePathError when no directory can be made at `path`, else
/// std::runtime_error; both name `path`, never `host_dir` (which says where
/// the server keeps its state).
void BindVolume(const SandboxFs& fs, const std::string& host_dir,
                const std::string& path, uid_t uid, gid_t gid);

}  // namespace e2b_local

#endif  // E2B_LOCAL_RUNTIME_VOLUME_BINDS_HPP_
