#include "storage/memory_object_store.h"

#include "storage/byte_stream.h"

namespace baton::storage {

namespace {

Error not_found(std::string_view key) {
  return make_error("no object " + std::string(key) + " in the memory store",
                    static_cast<int>(StoreErrc::not_found));
}

}  // namespace

void MemoryObjectStore::fail_next(unsigned count, StoreErrc code) {
  std::lock_guard lock(mu_);
  failures_ = count;
  failure_code_ = code;
}

Status MemoryObjectStore::injected() {
  if (failures_ == 0) return {};
  --failures_;
  return make_error("injected failure of the memory store", static_cast<int>(failure_code_));
}

Status MemoryObjectStore::put(std::string_view key, chain::ByteView data) {
  if (auto st = validate_object_key(key); !st) return st;
  std::lock_guard lock(mu_);
  if (auto st = injected(); !st) return st;
  objects_[std::string(key)] = chain::Bytes(data.begin(), data.end());
  return {};
}

Status MemoryObjectStore::put_file(std::string_view key, const std::filesystem::path& file) {
  auto src = FileSource::open(file);
  if (!src) return make_error(src.error().message, static_cast<int>(StoreErrc::io));
  MemorySink sink;
  std::vector<std::uint8_t> buf(1 << 16);
  for (;;) {
    auto n = (*src)->read(buf);
    if (!n) return make_error(n.error().message, static_cast<int>(StoreErrc::io));
    if (*n == 0) break;
    (void)sink.write(chain::ByteView(buf.data(), *n));
  }
  return put(key, sink.bytes());
}

Result<chain::Bytes> MemoryObjectStore::get(std::string_view key) {
  if (auto st = validate_object_key(key); !st) return st.error();
  std::lock_guard lock(mu_);
  if (auto st = injected(); !st) return st.error();
  const auto it = objects_.find(key);
  if (it == objects_.end()) return not_found(key);
  return it->second;
}

Result<chain::Bytes> MemoryObjectStore::get_at_most(std::string_view key, std::uint64_t max_size) {
  if (auto st = validate_object_key(key); !st) return st.error();
  std::lock_guard lock(mu_);
  if (auto st = injected(); !st) return st.error();
  const auto it = objects_.find(key);
  if (it == objects_.end()) return not_found(key);
  if (it->second.size() > max_size) {
    return make_error(
        "object " + std::string(key) + " is larger than " + std::to_string(max_size) + " bytes",
        static_cast<int>(StoreErrc::too_large));
  }
  return it->second;
}

Status MemoryObjectStore::get_file(std::string_view key, const std::filesystem::path& file,
                                   bool overwrite) {
  auto data = get(key);
  if (!data) return data.error();
  auto f = AtomicFile::create(file, overwrite);
  if (!f) return make_error(f.error().message, static_cast<int>(StoreErrc::io));
  if (auto st = (*f)->write(*data); !st)
    return make_error(st.error().message, static_cast<int>(StoreErrc::io));
  if (auto st = (*f)->commit(); !st)
    return make_error(st.error().message, static_cast<int>(StoreErrc::io));
  return {};
}

Result<ObjectInfo> MemoryObjectStore::head(std::string_view key) {
  if (auto st = validate_object_key(key); !st) return st.error();
  std::lock_guard lock(mu_);
  if (auto st = injected(); !st) return st.error();
  const auto it = objects_.find(key);
  if (it == objects_.end()) return not_found(key);
  return ObjectInfo{it->first, it->second.size(), {}};
}

Status MemoryObjectStore::remove(std::string_view key) {
  if (auto st = validate_object_key(key); !st) return st;
  std::lock_guard lock(mu_);
  if (auto st = injected(); !st) return st;
  objects_.erase(std::string(key));
  return {};
}

Result<std::vector<ObjectInfo>> MemoryObjectStore::list(std::string_view prefix) {
  std::lock_guard lock(mu_);
  if (auto st = injected(); !st) return st.error();
  std::vector<ObjectInfo> out;
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(ObjectInfo{it->first, it->second.size(), {}});
  }
  return out;
}

}  // namespace baton::storage
