// file:///DIR: objects are regular files under DIR, one per key (a key's '/'
// makes subdirectories). Writes go through AtomicFile (temporary file, fsync,
// rename), so a reader or a crash never sees half an object. Temporary files
// are hidden ('.'-prefixed) and never listed; keys cannot start a segment
// with '.', so they never collide.
#pragma once

#include <filesystem>

#include "storage/byte_stream.h"
#include "storage/object_store.h"

namespace baton::storage {

class FileObjectStore final : public ObjectStore {
 public:
  // `root` must be absolute. It need not exist yet: put() creates it; reads
  // of a missing root fail with code no_bucket.
  explicit FileObjectStore(std::filesystem::path root);

  Status put(std::string_view key, chain::ByteView data) override;
  Status put_file(std::string_view key, const std::filesystem::path& file) override;
  Result<chain::Bytes> get(std::string_view key) override;
  Result<chain::Bytes> get_at_most(std::string_view key, std::uint64_t max_size) override;
  Status get_file(std::string_view key, const std::filesystem::path& file, bool overwrite) override;
  Result<ObjectInfo> head(std::string_view key) override;
  Status remove(std::string_view key) override;
  Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
  std::string uri() const override { return "file://" + root_.string(); }

 private:
  Result<std::filesystem::path> path_for(std::string_view key, bool for_write);
  Status copy_into(const std::filesystem::path& from, std::string_view what, ByteSink& to);

  std::filesystem::path root_;
};

}  // namespace baton::storage
