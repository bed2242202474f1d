#ifndef E2B_LOCAL_CONTROL_VOLUME_CONTENT_HPP_
#define E2B_LOCAL_CONTROL_VOLUME_CONTENT_HPP_

// The volume content API (docs/protocol/volumes.md):
// /volumecontent/{volumeID}/{dir,path,file} with the `path` query,
// authenticated by `Authorization: Bearer <that volume's token>` instead of
// the API key. Everything in a volume is hostile (sandboxes that mount it
// write there at any moment): every path resolves with SandboxFs inside the
// volume's data directory, listings never follow symlinks, reads open only
// regular files, uploads go to a temp file renamed into place. Errors
// answer {"code": "<string>", "message": ...}.

#include "store/volume_store.hpp"

#include <string>
#include <vector>

namespace httplib {
class ContentReader;
struct Request;
struct Response;
}  // namespace httplib

namespace e2b_local {

class VolumeContentApi {
 public:
  /// `store` must outlive this object.
  explicit VolumeContentApi(VolumeStore& store) : store_(store) {}

  /// Whether a request whose decoded path segments are `segments` is for
  /// the content API (its first segment is "volumecontent").
  static bool Handles(const std::vector<std::string>& segments);
  /// Whether this is an upload (PUT .../file), whose body Handle streams
  /// from a ContentReader.
  static bool IsUpload(const std::string& method,
                       const std::vector<std::string>& segments);

  /// Answers one request of the content API. An upload's body comes from
  /// `reader` when given, else from req.body; other requests ignore it.
  /// Never throws.
  void Handle(const httplib::Request& req, httplib::Response& res,
              const std::vector<std::string>& segments,
              const httplib::ContentReader* reader) const;

 private:
  VolumeStore& store_;
};

}  // namespace e2b_local

#endif  // E2B_LOCAL_CONTROL_VOLUME_CONTENT_HPP_
