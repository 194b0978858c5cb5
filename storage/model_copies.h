// Checking the object store's copy of a model against the ledger, and
// putting back a verified copy from elsewhere (a node's model cache,
// agent/model_cache.h) when the store's is missing or wrong (issue 11).
//
// The ledger's ciphertext SHA-256 decides which copy is right: a copy is
// restored only when its bytes hash to it, and a stored object is "ok" only
// when its bytes do. Nothing here decrypts: the hash is enough to know that
// the bytes are the ones the voters approved.
//
// Thread-safety: reentrant; the stores must be thread-safe (every
// ObjectStore is). Torch-free (the `baton` CLI links it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/crypto.h"
#include "chain/result.h"
#include "chain/training.h"
#include "storage/object_store.h"

namespace baton::storage {

// What the store holds under a model's key.
enum class StoredCopy : std::uint8_t {
  ok = 1,           // the bytes hash to the ledger's ciphertext SHA-256 (or, size-only
                    //   check: the size is the verified copy's)
  missing = 2,      // no object under the key
  wrong_size = 3,   // its size is not the verified copy's (found without downloading)
  wrong_hash = 4,   // its bytes do not hash to the ledger's: damaged, swapped or rolled back
  unreachable = 5,  // the store failed (after its own retries): nothing is known
};
std::string_view to_string(StoredCopy state);  // "ok", "missing", ...

struct CopyCheck {
  StoredCopy state = StoredCopy::ok;
  bool hashed = false;     // the bytes were downloaded and hashed (else size only)
  std::uint64_t size = 0;  // the stored object's size, when known
  std::string detail;      // a sentence when not ok
};

struct CopyCheckOptions {
  // Download and hash whenever the object is at most this big; larger ones
  // are compared by size with `expected_size` only (when given; else hashed).
  std::uint64_t full_check_max_bytes = UINT64_MAX;
  std::optional<std::uint64_t> expected_size;  // a verified copy's size
  // Objects above max_memory_blob are hashed through a temporary file here.
  std::filesystem::path work_dir;
  std::uint64_t max_memory_blob = 512ull << 20;
};

// Checks `store`'s object `key` against the ledger's `ciphertext_sha256`.
CopyCheck check_copy(storage::ObjectStore& store, const std::string& key,
                     const chain::Hash& ciphertext_sha256, const CopyCheckOptions& options);

// Copies `key` from `from` into `to` if `from`'s bytes hash to
// `ciphertext_sha256`; an error (naming which side failed) otherwise, and
// `to` is then untouched. Code: StoreErrc::not_found when `from` has no copy.
Status restore_copy(storage::ObjectStore& from, storage::ObjectStore& to, const std::string& key,
                    const chain::Hash& ciphertext_sha256, const std::filesystem::path& work_dir,
                    std::uint64_t max_memory_blob = 512ull << 20);

// One approved model of a run after a repair pass.
struct ModelRepair {
  enum class Outcome : std::uint8_t {
    ok = 1,        // the store's copy was right
    restored = 2,  // it was not; a verified copy was put back
    no_copy = 3,   // it was not, and this side has no verified copy
    failed = 4,    // it was not (or could not be checked), and putting it back failed
  };
  std::string model_id;  // hex
  std::uint64_t turn = 0;
  std::string contributor;
  std::string object_key;
  chain::Hash ciphertext_sha256;
  StoredCopy before = StoredCopy::ok;
  Outcome outcome = Outcome::ok;
  std::string detail;
};
std::string_view to_string(ModelRepair::Outcome outcome);  // "ok", "restored", ...

// Checks (hashing every one) each approved model of `run` in `store`, and
// puts back from `copies` (may be null: check only) those that are missing
// or wrong. In lineage order. An object whose size is not its copy's (or,
// without a copy, `sealed_size`: what the plan's model seals to) is wrong
// without being downloaded.
std::vector<ModelRepair> repair_run_models(storage::ObjectStore& store,
                                           storage::ObjectStore* copies, const chain::Run& run,
                                           const std::filesystem::path& work_dir,
                                           std::optional<std::uint64_t> sealed_size = {});

// {"run_id", "models": [{model_id, turn, contributor, object_key,
// ciphertext_sha256, before, outcome, detail}], "unrestored": n}: the admin
// API's and `baton models repair`'s format.
nlohmann::json repair_json(const std::string& run_id, const std::vector<ModelRepair>& models);

}  // namespace baton::storage
