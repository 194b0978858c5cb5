// s3://BUCKET/PREFIX: an ObjectStore on any S3-compatible service (AWS S3,
// MinIO, Ceph RGW; tested against s3rver). Requests are signed with SigV4
// (storage/sigv4.h) and sent with libcurl. put_file uses multipart upload
// above S3Options::part_size, parts in parallel; get_file uses parallel
// ranged GETs pinned to the object's ETag. Every request is retried with
// exponential backoff on connection errors, timeouts, 5xx and 429.
//
// A multipart upload that fails is aborted (best effort: some servers,
// s3rver among them, do not implement abort); because it is never
// completed, no object appears under the key.
#pragma once

#include "storage/object_store.h"
#include "storage/s3_options.h"

namespace baton::storage {

class S3ObjectStore final : public ObjectStore {
 public:
  // Precondition: options.bucket non-empty, credentials set (resolve them
  // with resolve_s3_options()). Nothing is sent until the first call.
  explicit S3ObjectStore(S3Options options);

  Status put(std::string_view key, chain::ByteView data) override;
  Status put_file(std::string_view key, const std::filesystem::path& file) override;
  Result<chain::Bytes> get(std::string_view key) override;
  Result<chain::Bytes> get_at_most(std::string_view key, std::uint64_t max_size) override;
  Status get_file(std::string_view key, const std::filesystem::path& file, bool overwrite) override;
  Result<ObjectInfo> head(std::string_view key) override;
  Status remove(std::string_view key) override;
  Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
  std::string uri() const override;

  const S3Options& options() const { return options_; }

 private:
  std::string object_path(std::string_view key) const;  // "/bucket/prefix/key" or "/prefix/key"
  Status put_multipart(std::string_view key, const std::filesystem::path& file, std::uint64_t size);

  S3Options options_;
};

}  // namespace baton::storage
