// An ObjectStore wrapper for tests that counts what a caller downloads: every
// get / get_at_most / get_file call and the bytes each returned. Optionally
// answers HEAD with a size of its choosing, as a lying store would.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "storage/object_store.h"

namespace baton::agent::test_doubles {

class CountingStore final : public storage::ObjectStore {
 public:
  explicit CountingStore(std::unique_ptr<storage::ObjectStore> inner) : inner_(std::move(inner)) {}

  Status put(std::string_view key, chain::ByteView data) override { return inner_->put(key, data); }
  Status put_file(std::string_view key, const std::filesystem::path& file) override {
    return inner_->put_file(key, file);
  }
  Result<chain::Bytes> get(std::string_view key) override {
    ++downloads;
    return counted(inner_->get(key));
  }
  Result<chain::Bytes> get_at_most(std::string_view key, std::uint64_t max_size) override {
    ++downloads;
    return counted(inner_->get_at_most(key, max_size));
  }
  Status get_file(std::string_view key, const std::filesystem::path& file,
                  bool overwrite) override {
    ++downloads;
    return inner_->get_file(key, file, overwrite);
  }
  Result<storage::ObjectInfo> head(std::string_view key) override {
    ++heads;
    auto info = inner_->head(key);
    if (info && head_size) info->size = *head_size;
    return info;
  }
  Status remove(std::string_view key) override { return inner_->remove(key); }
  Result<std::vector<storage::ObjectInfo>> list(std::string_view prefix) override {
    return inner_->list(prefix);
  }
  std::string uri() const override { return inner_->uri(); }

  std::atomic<int> downloads{0};
  std::atomic<int> heads{0};
  std::atomic<std::uint64_t> bytes_downloaded{0};
  std::optional<std::uint64_t> head_size;  // when set, HEAD reports this size

 private:
  Result<chain::Bytes> counted(Result<chain::Bytes> r) {
    if (r) bytes_downloaded += r->size();
    return r;
  }
  std::unique_ptr<storage::ObjectStore> inner_;
};

}  // namespace baton::agent::test_doubles
