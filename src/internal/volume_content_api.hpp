#ifndef E2B_INTERNAL_VOLUME_CONTENT_API_HPP_
#define E2B_INTERNAL_VOLUME_CONTENT_API_HPP_

// E2B's volume content API as the Volume handle sees it: one virtual per
// operation, typed answers, failures thrown as e2b exceptions. Its
// requests go to <API base URL>/volumecontent/<volume ID>/<dir|path|file>
// with the volume path in the `path` query and the volume's own token as
// `Authorization: Bearer` (never the API key); docs/protocol/volumes.md.
// Like ControlPlaneApi, the REST implementation is the one place where
// an answer's status becomes an exception (ThrowVolumeHttpError: a 404 is
// FileNotFoundError(path), every other failure VolumeError), and retries
// are the transport decorator below it, chosen per call by idempotency.

#include "internal/http_transport.hpp"

#include <e2b/context.hpp>
#include <e2b/volume.hpp>

#include <istream>
#include <memory>
#include <string>
#include <vector>

namespace e2b::internal {

/// Which volume a content call is for and the token it sends.
struct VolumeAccess {
  std::string volume_id;
  std::string token;
};

class VolumeContentApi {
 public:
  virtual ~VolumeContentApi() = default;

  /// GET .../dir.
  virtual std::vector<VolumeEntryStat> List(const Context& ctx,
                                            const VolumeAccess& volume,
                                            const std::string& path,
                                            const VolumeListParams& p) = 0;
  /// POST .../dir.
  virtual VolumeEntryStat MakeDir(const Context& ctx,
                                  const VolumeAccess& volume,
                                  const std::string& path,
                                  const VolumeWriteParams& p) = 0;
  /// GET .../path.
  virtual VolumeEntryStat GetInfo(const Context& ctx,
                                  const VolumeAccess& volume,
                                  const std::string& path) = 0;
  /// PATCH .../path with the JSON of the fields set.
  virtual VolumeEntryStat UpdateMetadata(const Context& ctx,
                                         const VolumeAccess& volume,
                                         const std::string& path,
                                         const VolumeMetadataParams& p) = 0;
  /// DELETE .../path.
  virtual void Remove(const Context& ctx, const VolumeAccess& volume,
                      const std::string& path) = 0;
  /// GET .../file, returned at the response headers of a 200 (the body is
  /// pulled as it is read); bounded by VolumeFileTimeout.
  virtual std::unique_ptr<BodyReader> OpenFile(const Context& ctx,
                                               const VolumeAccess& volume,
                                               const std::string& path) = 0;
  /// PUT .../file: what `data` yields (streamed, chunked), or `buffer` when
  /// `data` is null; bounded by VolumeFileTimeout.
  virtual VolumeEntryStat WriteFile(const Context& ctx,
                                    const VolumeAccess& volume,
                                    const std::string& path, std::istream* data,
                                    std::string buffer,
                                    const VolumeWriteParams& p) = 0;
};

/// What the REST service API needs of the client's configuration.
struct RestVolumeContentOptions {
  std::string api_base_url;  ///< no trailing slash
  /// Scrubbed from messages too, although it is never sent here.
  std::string api_key;
  /// Retries as for an idempotent API call (ApiRetryRule).
  std::shared_ptr<HttpTransport> idempotent_transport;
  /// Retries only failures before the request left (UnsentRetryRule).
  std::shared_ptr<HttpTransport> write_transport;
};

std::shared_ptr<VolumeContentApi> MakeRestVolumeContentApi(
    RestVolumeContentOptions options);

}  // namespace e2b::internal

#endif  // E2B_INTERNAL_VOLUME_CONTENT_API_HPP_
