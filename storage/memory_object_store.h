// An in-memory ObjectStore for unit tests of code that uses one (the node's
// partner agent, the CLI's logic). Thread-safe. `fail_next` injects errors.
#pragma once

#include <map>
#include <mutex>

#include "storage/object_store.h"

namespace baton::storage {

class MemoryObjectStore final : public ObjectStore {
 public:
  Status put(std::string_view key, chain::ByteView data) override;
  Status put_file(std::string_view key, const std::filesystem::path& file) override;
  Result<chain::Bytes> get(std::string_view key) override;
  Result<chain::Bytes> get_at_most(std::string_view key, std::uint64_t max_size) override;
  Status get_file(std::string_view key, const std::filesystem::path& file, bool overwrite) override;
  Result<ObjectInfo> head(std::string_view key) override;
  Status remove(std::string_view key) override;
  Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
  std::string uri() const override { return "memory:"; }

  // The next `count` calls of any kind fail with `code` (fault injection).
  void fail_next(unsigned count, StoreErrc code = StoreErrc::unavailable);

 private:
  Status injected();

  std::mutex mu_;
  std::map<std::string, chain::Bytes, std::less<>> objects_;
  unsigned failures_ = 0;
  StoreErrc failure_code_ = StoreErrc::unavailable;
};

}  // namespace baton::storage
