// A node's own copies of models' ciphertext (issue 11), so that an approved
// model is never kept in the object store only.
//
// Which copies: every node that verified a candidate (a voter that fetched
// it and found the ledger's hashes) or made it (its trainer) keeps the sealed
// blob, byte for byte as the object store held it, in a local directory laid
// out like the store (`file://DIR`, the same object keys). A copy is only
// ever written after it was checked against the ledger's ciphertext SHA-256,
// and every reader checks it again, so a copy damaged on disk is never used.
//
// Retention (wanted_models, eviction_list; pure): kept are, most wanted
// first, the head of every active run, the current turn's candidate until it
// is decided, the final model of every finished run (keep_finished, newest
// run first), and the earlier approved models of active runs (keep_lineage,
// newest first). Anything else is deleted; when the kept copies exceed
// max_bytes the least wanted go until they fit.
//
// Thread-safety: the store is a FileObjectStore (atomic writes, thread-safe);
// retain() may run while another thread reads a copy (that read then fails
// with not_found, which callers treat as "no copy").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"
#include "chain/training.h"
#include "api/config.h"
#include "storage/object_store.h"

namespace baton::agent {

using api::ModelCacheConfig;  // [model_cache] (api/config.h)

struct WantedModel {
  enum class Why : std::uint8_t { head = 1, candidate = 2, final_model = 3, lineage = 4 };
  std::string run_id;
  std::string object_key;
  // The ledger's ciphertext SHA-256; unknown for a candidate whose
  // SaveRequest is not on the ledger yet (its trainer keeps it meanwhile).
  std::optional<chain::Hash> ciphertext_sha256;
  Why why = Why::head;
};

// The models a node keeps copies of, most wanted first (see the file comment).
// A key appears once. Candidate keys are runs/RUN/models/turn-N.blob of the
// current turn of each active run.
std::vector<WantedModel> wanted_models(const chain::TrainingState& state, bool keep_lineage,
                                       bool keep_finished);

struct CachedObject {
  std::string key;
  std::uint64_t size = 0;
};

// The cached keys to delete: every one that is not wanted, then the least
// wanted ones until the rest fits in max_bytes. In deletion order.
std::vector<std::string> eviction_list(const std::vector<WantedModel>& wanted,
                                       const std::vector<CachedObject>& cached,
                                       std::uint64_t max_bytes);

class ModelCache {
 public:
  // Creates `config.dir` (mode 0700) when missing. `config.dir` must be set.
  static Result<std::unique_ptr<ModelCache>> open(const ModelCacheConfig& config);

  // The copies, as an object store with the object store's keys. Reading a
  // copy through fetch_and_open or restore_copy (storage/model_copies.h) checks
  // it against the ledger.
  storage::ObjectStore& store() { return *store_; }
  const ModelCacheConfig& config() const { return config_; }

  // Whether a blob of `size` bytes may be kept at all (size <= max_bytes).
  bool fits(std::uint64_t size) const { return size <= config_.max_bytes; }

  // Every copy held, by key.
  Result<std::vector<CachedObject>> list();

  // Applies the retention rule to `state`: deletes what it no longer wants
  // and what does not fit. Returns the keys deleted.
  Result<std::vector<std::string>> retain(const chain::TrainingState& state);

 private:
  ModelCache(ModelCacheConfig config, std::unique_ptr<storage::ObjectStore> store)
      : config_(std::move(config)), store_(std::move(store)) {}
  ModelCacheConfig config_;
  std::unique_ptr<storage::ObjectStore> store_;
};

}  // namespace baton::agent
