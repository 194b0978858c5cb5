// ObjectStore: where sealed model blobs live. One small interface, three
// implementations: `file:///DIR` (the embedded default, FileObjectStore),
// `s3://BUCKET/PREFIX` (any S3-compatible service, S3ObjectStore) and an
// in-memory one for tests (MemoryObjectStore).
//
// Keys: 1..1024 characters of [A-Za-z0-9._/-], '/'-separated segments that
// are non-empty and do not start with '.', no leading or trailing '/'. The
// same rule for every backend keeps a key from escaping a file:// directory
// and keeps S3 URLs free of escaping surprises.
//
// Thread-safety: implementations may be called from several threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"
#include "storage/s3_options.h"

namespace baton::storage {

// Why an object store operation failed; carried in Error::code.
enum class StoreErrc : int {
  not_found = 1,      // no object under this key
  access_denied = 2,  // 403: credentials wrong or not allowed
  no_bucket = 3,      // the bucket (or file:// directory) does not exist
  unavailable = 4,    // could not connect, timed out, or 5xx after retries
  io = 5,             // local file I/O failed
  invalid_key = 6,    // the key breaks the key rule above
  bad_response = 7,   // the server answered something we cannot use
  invalid_uri = 8,    // the store URI is malformed or of an unknown scheme
  too_large = 9,      // get_at_most: the object is larger than the caller allows
};

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // as the backend reports it (S3: quoted MD5 or multipart tag)
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `data` under `key`, replacing any object there. Readers see the old
  // object or the new one, never a mix or a prefix.
  virtual Status put(std::string_view key, chain::ByteView data) = 0;
  // Streams a local file up (multipart above a threshold for S3).
  virtual Status put_file(std::string_view key, const std::filesystem::path& file) = 0;
  virtual Result<chain::Bytes> get(std::string_view key) = 0;
  // As get(), but fails with code too_large, having read at most about
  // `max_size` bytes, when the object is larger: for objects whose size the
  // caller knows (a model blob's follows from the plan), so that a store that
  // answers HEAD with one size and GET with a huge body cannot exhaust memory.
  // The file://, s3:// and memory stores bound the download; this default
  // (for other test stores) downloads whole, then checks.
  virtual Result<chain::Bytes> get_at_most(std::string_view key, std::uint64_t max_size);
  // Streams an object to a local file, which appears only when complete (the
  // size checked); `overwrite` = false refuses an existing file.
  virtual Status get_file(std::string_view key, const std::filesystem::path& file,
                          bool overwrite = false) = 0;
  virtual Result<ObjectInfo> head(std::string_view key) = 0;
  // Deleting a missing key is not an error (S3 semantics).
  virtual Status remove(std::string_view key) = 0;
  // Every object whose key starts with `prefix`, sorted by key.
  virtual Result<std::vector<ObjectInfo>> list(std::string_view prefix = {}) = 0;
  // The URI this store was opened from, for messages.
  virtual std::string uri() const = 0;
};

// Checks the key rule above (code invalid_key).
Status validate_object_key(std::string_view key);

// Opens a store from its URI:
//   file:///ABSOLUTE/DIR     objects are files under DIR (created on first put)
//   s3://BUCKET[/PREFIX]     objects are BUCKET/PREFIX/KEY; `s3` supplies the
//                            endpoint, region and credentials (resolve them
//                            with resolve_s3_options() first); bucket and
//                            prefix from the URI replace those in `s3`.
Result<std::unique_ptr<ObjectStore>> open_object_store(std::string_view uri,
                                                       const S3Options& s3 = {});

}  // namespace baton::storage
