#include "storage/model_copies.h"

#include <array>
#include <system_error>

#include "storage/byte_stream.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;

// No such object: also when the bucket (a file:// store's directory) is gone
// with it. A put recreates a file:// directory; on S3 it then fails, and says so.
bool is_not_found(const Error& e) {
  return e.code == static_cast<int>(storage::StoreErrc::not_found) ||
         e.code == static_cast<int>(storage::StoreErrc::no_bucket);
}

// A temporary file in `dir`, removed when this goes away.
class TempFile {
 public:
  explicit TempFile(const fs::path& dir) {
    std::array<std::uint8_t, 8> tag{};
    chain::random_bytes(tag);
    path_ = dir / (".repair-" + chain::to_hex(tag) + ".blob");
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Result<chain::Hash> hash_file(const fs::path& path) {
  auto source = storage::FileSource::open(path);
  if (!source) return source.error();
  storage::Sha256Hasher hasher;
  std::vector<std::uint8_t> buffer(1u << 20);
  for (;;) {
    auto n = (*source)->read(buffer);
    if (!n) return n.error();
    if (*n == 0) break;
    hasher.update(chain::ByteView(buffer.data(), *n));
  }
  return hasher.finish();
}

Status ensure_dir(const fs::path& dir) {
  if (dir.empty()) {
    return make_error(
        "a blob this large is hashed through a temporary file, but no work "
        "directory was given");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error("cannot create " + dir.string() + ": " + ec.message());
  return {};
}

}  // namespace

std::string_view to_string(StoredCopy state) {
  switch (state) {
    case StoredCopy::ok:
      return "ok";
    case StoredCopy::missing:
      return "missing";
    case StoredCopy::wrong_size:
      return "wrong_size";
    case StoredCopy::wrong_hash:
      return "wrong_hash";
    case StoredCopy::unreachable:
      return "unreachable";
  }
  return "unknown";
}

std::string_view to_string(ModelRepair::Outcome outcome) {
  switch (outcome) {
    case ModelRepair::Outcome::ok:
      return "ok";
    case ModelRepair::Outcome::restored:
      return "restored";
    case ModelRepair::Outcome::no_copy:
      return "no_copy";
    case ModelRepair::Outcome::failed:
      return "failed";
  }
  return "unknown";
}

CopyCheck check_copy(storage::ObjectStore& store, const std::string& key,
                     const chain::Hash& ciphertext_sha256, const CopyCheckOptions& options) {
  CopyCheck out;
  auto info = store.head(key);
  if (!info) {
    out.state = is_not_found(info.error()) ? StoredCopy::missing : StoredCopy::unreachable;
    out.detail = is_not_found(info.error())
                     ? "no object " + key + " in " + store.uri()
                     : "cannot look at " + key + " in " + store.uri() + ": " + info.error().message;
    return out;
  }
  out.size = info->size;
  if (options.expected_size && *options.expected_size != info->size) {
    out.state = StoredCopy::wrong_size;
    out.detail = key + " in " + store.uri() + " is " + std::to_string(info->size) +
                 " bytes, but the verified copy is " + std::to_string(*options.expected_size);
    return out;
  }
  if (info->size > options.full_check_max_bytes && options.expected_size) return out;  // size only
  Result<chain::Hash> got = make_error("not hashed");
  if (info->size <= options.max_memory_blob) {
    // Bounded by the size we expect, when we know it: the object may change
    // between HEAD and GET.
    auto bytes =
        options.expected_size ? store.get_at_most(key, *options.expected_size) : store.get(key);
    if (bytes)
      got = chain::sha256(*bytes);
    else
      got = bytes.error();
  } else if (auto dir = ensure_dir(options.work_dir); !dir) {
    got = dir.error();
  } else {
    TempFile tmp(options.work_dir);
    auto st = store.get_file(key, tmp.path(), /*overwrite=*/true);
    got = st ? hash_file(tmp.path()) : Result<chain::Hash>(st.error());
  }
  if (!got) {
    out.state = is_not_found(got.error()) ? StoredCopy::missing : StoredCopy::unreachable;
    out.detail = "cannot read " + key + " from " + store.uri() + ": " + got.error().message;
    return out;
  }
  out.hashed = true;
  if (*got != ciphertext_sha256) {
    out.state = StoredCopy::wrong_hash;
    out.detail = key + " in " + store.uri() + " hashes to " + got->hex() +
                 " but the ledger records " + ciphertext_sha256.hex();
  }
  return out;
}

Status restore_copy(storage::ObjectStore& from, storage::ObjectStore& to, const std::string& key,
                    const chain::Hash& ciphertext_sha256, const fs::path& work_dir,
                    std::uint64_t max_memory_blob) {
  auto info = from.head(key);
  if (!info) return info.error();
  if (info->size <= max_memory_blob) {
    auto bytes = from.get(key);
    if (!bytes) return bytes.error();
    if (chain::sha256(*bytes) != ciphertext_sha256) {
      return make_error("the copy of " + key + " in " + from.uri() +
                        " does not hash to the ledger's " + ciphertext_sha256.hex() +
                        "; it is not used");
    }
    if (auto st = to.put(key, *bytes); !st)
      return make_error("cannot put " + key + " into " + to.uri() + ": " + st.error().message);
    return {};
  }
  if (auto dir = ensure_dir(work_dir); !dir) return dir.error();
  TempFile tmp(work_dir);
  if (auto st = from.get_file(key, tmp.path(), /*overwrite=*/true); !st) return st.error();
  auto got = hash_file(tmp.path());
  if (!got) return got.error();
  if (*got != ciphertext_sha256) {
    return make_error("the copy of " + key + " in " + from.uri() +
                      " does not hash to the ledger's " + ciphertext_sha256.hex() +
                      "; it is not used");
  }
  if (auto st = to.put_file(key, tmp.path()); !st)
    return make_error("cannot put " + key + " into " + to.uri() + ": " + st.error().message);
  return {};
}

std::vector<ModelRepair> repair_run_models(storage::ObjectStore& store,
                                           storage::ObjectStore* copies, const chain::Run& run,
                                           const fs::path& work_dir,
                                           std::optional<std::uint64_t> sealed_size) {
  std::vector<ModelRepair> out;
  CopyCheckOptions check;
  check.work_dir = work_dir;
  for (const auto& m : run.models) {
    ModelRepair r;
    r.model_id = m.id.hex();
    r.turn = m.turn;
    r.contributor = m.contributor;
    r.object_key = m.object_key;
    r.ciphertext_sha256 = m.ciphertext_sha256;
    // With a copy of our own, an object of another size is found wrong
    // without downloading it (whatever its size).
    check.expected_size = sealed_size;
    if (copies != nullptr) {
      if (auto mine = copies->head(m.object_key)) check.expected_size = mine->size;
    }
    const CopyCheck c = check_copy(store, m.object_key, m.ciphertext_sha256, check);
    r.before = c.state;
    if (c.state == StoredCopy::ok) {
      r.outcome = ModelRepair::Outcome::ok;
    } else if (copies == nullptr) {
      r.outcome = ModelRepair::Outcome::no_copy;
      r.detail = c.detail;
    } else if (auto st = restore_copy(*copies, store, m.object_key, m.ciphertext_sha256, work_dir);
               st) {
      // Read it back: a store that took the bytes but serves others is no repair.
      const CopyCheck again = check_copy(store, m.object_key, m.ciphertext_sha256, check);
      r.outcome = again.state == StoredCopy::ok ? ModelRepair::Outcome::restored
                                                : ModelRepair::Outcome::failed;
      r.detail = again.state == StoredCopy::ok ? c.detail : again.detail;
    } else {
      r.outcome =
          is_not_found(st.error()) ? ModelRepair::Outcome::no_copy : ModelRepair::Outcome::failed;
      r.detail = c.detail + "; " + st.error().message;
    }
    out.push_back(std::move(r));
  }
  return out;
}

nlohmann::json repair_json(const std::string& run_id, const std::vector<ModelRepair>& models) {
  nlohmann::json list = nlohmann::json::array();
  std::size_t unrestored = 0;
  for (const auto& m : models) {
    const bool good =
        m.outcome == ModelRepair::Outcome::ok || m.outcome == ModelRepair::Outcome::restored;
    if (!good) ++unrestored;
    list.push_back({{"model_id", m.model_id},
                    {"turn", m.turn},
                    {"contributor", m.contributor},
                    {"object_key", m.object_key},
                    {"ciphertext_sha256", m.ciphertext_sha256.hex()},
                    {"before", to_string(m.before)},
                    {"outcome", to_string(m.outcome)},
                    {"detail", m.detail}});
  }
  return {{"run_id", run_id}, {"models", list}, {"unrestored", unrestored}};
}

}  // namespace baton::storage
