#ifndef E2B_LOCAL_BUILD_IMAGE_IMPORT_HPP_
#define E2B_LOCAL_BUILD_IMAGE_IMPORT_HPP_

// FromImage offline: images come from e2b-local's images directory as a
// docker-archive or oci-archive tarball (`<dir>/<name>:<tag>.tar`, what
// `docker save` and `skopeo copy ... oci-archive:` write) or an OCI image
// layout directory (`<dir>/<name>:<tag>/`). The host only finds the file;
// the archive, its manifests and its layers are parsed and unpacked by
// kImageImportScript inside an import sandbox (the image is hostile data).

#include <map>
#include <string>

namespace e2b_local {

/// An image of the images directory.
struct LocalImage {
  std::string path;         ///< the .tar file or the layout directory
  bool directory = false;   ///< an OCI layout directory
  std::string fingerprint;  ///< changes when the file is replaced
};

/// Finds `ref` ("name[:tag]", tag "latest" when absent) in `images_dir`.
/// Throws std::runtime_error naming the places looked at, or why the
/// reference is not usable (only [a-z0-9._/-] names, no "..").
LocalImage FindLocalImage(const std::string& images_dir,
                          const std::string& ref);

/// What the image's config sets for its processes.
struct ImageConfig {
  std::map<std::string, std::string> env;
  std::string workdir;
  std::string user;  ///< "root" when the image names none
};

/// Python 3, run as root in a sandbox with (archive path, image reference):
/// unpacks the archive, picks the image (docker-archive manifest.json, OCI
/// index.json, nested indexes: linux/amd64), applies its layers in order
/// with their whiteouts under chroot at /e2b-image-root, adds what every
/// sandbox needs (/proc, /tmp, ..., root and `user` accounts), and prints
/// the config as one line "E2B-IMAGE-CONFIG <json>".
extern const char kImageImportScript[];
inline constexpr const char kImageRoot[] = "/e2b-image-root";

/// The config from the script's output; throws std::runtime_error when the
/// line is missing or malformed.
ImageConfig ParseImageConfig(const std::string& output);

}  // namespace e2b_local

#endif  // E2B_LOCAL_BUILD_IMAGE_IMPORT_HPP_
