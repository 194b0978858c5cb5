#include "storage/file_store.h"

#include <algorithm>
#include <cstring>
#include <system_error>

namespace baton::storage {

namespace fs = std::filesystem;

namespace {

Error store_error(StoreErrc code, std::string message) {
  return make_error(std::move(message), static_cast<int>(code));
}

}  // namespace

FileObjectStore::FileObjectStore(fs::path root) : root_(std::move(root)) {}

Result<fs::path> FileObjectStore::path_for(std::string_view key, bool for_write) {
  if (auto st = validate_object_key(key); !st) return st.error();
  std::error_code ec;
  if (!for_write && !fs::is_directory(root_, ec)) {
    return store_error(StoreErrc::no_bucket,
                       "store directory " + root_.string() +
                           " does not exist; check the file:// URI or put an object first");
  }
  fs::path p = root_ / fs::path(std::string(key));
  if (for_write) {
    fs::create_directories(p.parent_path(), ec);
    if (ec) {
      return store_error(StoreErrc::io, "cannot create directory " + p.parent_path().string() +
                                            ": " + ec.message());
    }
  }
  return p;
}

Status FileObjectStore::put(std::string_view key, chain::ByteView data) {
  auto p = path_for(key, true);
  if (!p) return p.error();
  auto f = AtomicFile::create(*p, /*overwrite=*/true);
  if (!f) return store_error(StoreErrc::io, f.error().message);
  if (auto st = (*f)->write(data); !st) return store_error(StoreErrc::io, st.error().message);
  if (auto st = (*f)->commit(); !st) return store_error(StoreErrc::io, st.error().message);
  return {};
}

Status FileObjectStore::copy_into(const fs::path& from, std::string_view what, ByteSink& to) {
  auto src = FileSource::open(from);
  if (!src) {
    std::error_code ec;
    if (!fs::exists(from, ec)) return store_error(StoreErrc::not_found, std::string(what));
    return store_error(StoreErrc::io, src.error().message);
  }
  std::vector<std::uint8_t> buf(1 << 20);
  for (;;) {
    auto n = (*src)->read(buf);
    if (!n) return store_error(StoreErrc::io, n.error().message);
    if (*n == 0) return {};
    if (auto st = to.write(chain::ByteView(buf.data(), *n)); !st)
      return store_error(StoreErrc::io, st.error().message);
  }
}

Status FileObjectStore::put_file(std::string_view key, const fs::path& file) {
  auto p = path_for(key, true);
  if (!p) return p.error();
  auto f = AtomicFile::create(*p, /*overwrite=*/true);
  if (!f) return store_error(StoreErrc::io, f.error().message);
  if (auto st = copy_into(file, "local file " + file.string() + " does not exist", **f); !st) {
    return st.error().code == static_cast<int>(StoreErrc::not_found)
               ? store_error(StoreErrc::io, st.error().message)
               : st;
  }
  if (auto st = (*f)->commit(); !st) return store_error(StoreErrc::io, st.error().message);
  return {};
}

Result<chain::Bytes> FileObjectStore::get(std::string_view key) {
  auto p = path_for(key, false);
  if (!p) return p.error();
  MemorySink sink;
  std::error_code ec;
  if (const auto size = fs::file_size(*p, ec); !ec) sink.reserve(static_cast<std::size_t>(size));
  if (auto st = copy_into(*p, "no object " + std::string(key) + " in " + uri(), sink); !st)
    return st.error();
  return sink.take();
}

Result<chain::Bytes> FileObjectStore::get_at_most(std::string_view key, std::uint64_t max_size) {
  auto p = path_for(key, false);
  if (!p) return p.error();
  const auto too_large = [&] {
    return store_error(StoreErrc::too_large, "object " + std::string(key) + " in " + uri() +
                                                 " is larger than " + std::to_string(max_size) +
                                                 " bytes");
  };
  auto src = FileSource::open(*p);
  if (!src) {
    std::error_code ec;
    if (!fs::exists(*p, ec))
      return store_error(StoreErrc::not_found, "no object " + std::string(key) + " in " + uri());
    return store_error(StoreErrc::io, src.error().message);
  }
  if ((*src)->size() > max_size) return too_large();
  MemorySink sink;
  sink.reserve(static_cast<std::size_t>((*src)->size()));
  // Read to the end, not to the size measured: the file may have grown since.
  std::vector<std::uint8_t> buf(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    auto n = (*src)->read(buf);
    if (!n) return store_error(StoreErrc::io, n.error().message);
    if (*n == 0) return sink.take();
    total += *n;
    if (total > max_size) return too_large();
    (void)sink.write(chain::ByteView(buf.data(), *n));
  }
}

Status FileObjectStore::get_file(std::string_view key, const fs::path& file, bool overwrite) {
  auto p = path_for(key, false);
  if (!p) return p.error();
  std::error_code ec;
  if (!fs::is_regular_file(*p, ec))
    return store_error(StoreErrc::not_found, "no object " + std::string(key) + " in " + uri());
  auto f = AtomicFile::create(file, overwrite);
  if (!f) return store_error(StoreErrc::io, f.error().message);
  if (auto st = copy_into(*p, "no object " + std::string(key) + " in " + uri(), **f); !st)
    return st;
  if (auto st = (*f)->commit(); !st) return store_error(StoreErrc::io, st.error().message);
  return {};
}

Result<ObjectInfo> FileObjectStore::head(std::string_view key) {
  auto p = path_for(key, false);
  if (!p) return p.error();
  std::error_code ec;
  if (!fs::is_regular_file(*p, ec))
    return store_error(StoreErrc::not_found, "no object " + std::string(key) + " in " + uri());
  const auto size = fs::file_size(*p, ec);
  if (ec) return store_error(StoreErrc::io, "cannot stat " + p->string() + ": " + ec.message());
  return ObjectInfo{std::string(key), size, {}};
}

Status FileObjectStore::remove(std::string_view key) {
  auto p = path_for(key, false);
  if (!p) {
    if (p.error().code == static_cast<int>(StoreErrc::no_bucket)) return {};
    return p.error();
  }
  std::error_code ec;
  fs::remove(*p, ec);
  if (ec) return store_error(StoreErrc::io, "cannot delete " + p->string() + ": " + ec.message());
  // Tidy empty directories the key created, up to the root.
  for (fs::path dir = p->parent_path(); dir != root_ && dir.string().size() > root_.string().size();
       dir = dir.parent_path()) {
    if (!fs::is_empty(dir, ec) || ec) break;
    fs::remove(dir, ec);
  }
  return {};
}

Result<std::vector<ObjectInfo>> FileObjectStore::list(std::string_view prefix) {
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) {
    return store_error(StoreErrc::no_bucket,
                       "store directory " + root_.string() +
                           " does not exist; check the file:// URI or put an object first");
  }
  std::vector<ObjectInfo> out;
  fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec);
  if (ec) return store_error(StoreErrc::io, "cannot list " + root_.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      return store_error(StoreErrc::io, "cannot list " + root_.string() + ": " + ec.message());
    const auto name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    const std::string key = it->path().lexically_relative(root_).generic_string();
    if (key.compare(0, prefix.size(), prefix) != 0 || !validate_object_key(key).ok()) continue;
    out.push_back(ObjectInfo{key, it->file_size(ec), {}});
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace baton::storage
