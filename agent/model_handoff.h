// The model hand-off pipeline: what a node does with a model's bytes between
// "trained" and "on the ledger", and between "on the ledger" and "measured".
//
//   sender:    seal_and_upload   plaintext -> AES-256-GCM blob (storage/vault.h)
//                                -> object store, data key wrapped for every
//                                member (storage/envelope.h)
//   receiver:  fetch_and_open    object store -> unwrap my key -> open, and
//                                check the blob's and the plaintext's SHA-256
//                                against the ledger's
//              evaluate          model bytes + my validation Dataset -> AUC
//
// The blob is bound (vault associated data) to the chain, the run, the model
// and its parent, so a blob copied to another place fails authentication even
// if someone also rewrote the ledger hash.
//
// Each side touches the bytes once: the sender hashes the plaintext while it
// encrypts it (and hashes the blob as it is written); the receiver decrypts
// while it hashes the blob and the plaintext, and refuses the result at the
// end when either hash is not the ledger's (the plaintext is then discarded).
// A blob of up to `HandoffOptions::max_memory_blob` bytes goes between the
// vault and the store through memory (ObjectStore::put / get); a larger one
// streams through a temporary file in `work_dir`, so memory stays bounded
// whatever the model's size. The plaintext model bytes are always in memory
// (the model itself needs them). Temporary files are removed on every path.
//
// Failures carry a HandoffErrc in Error::code so the agent can put the reason
// in its ModelVote (e.g. hash_mismatch: the blob was tampered with or swapped).
//
// Thread-safety: every function is reentrant; `store` must be thread-safe
// (every ObjectStore is). Timings are wall-clock seconds for reports and
// benchmarks only; nothing decides on them.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/keys.h"
#include "agent/handoff_errc.h"
#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/model.h"
#include "storage/envelope.h"
#include "storage/object_store.h"

namespace baton::agent {

// HandoffErrc, carried in Error::code: agent/handoff_errc.h.

// What a blob is bound to. The ids are those the ledger uses; the parent is
// empty for a run's first model.
struct ModelBinding {
  std::string chain_id;
  std::string run_id;
  std::string model_id;
  std::string parent_model_id;

  // storage::model_associated_data(chain_id, run_id + "/" + model_id, parent).
  chain::Bytes associated_data() const;
};

// The deterministic object key of a model: "runs/RUN/models/MODEL.blob".
// RUN and MODEL must be 1..128 characters of [A-Za-z0-9._-], not starting
// with '.' (code invalid_argument otherwise).
Result<std::string> model_object_key(std::string_view run_id, std::string_view model_id);

struct HandoffOptions {
  // Where temporary files go (created if missing). Needed for blobs over
  // max_memory_blob (code invalid_argument when one is and this is empty).
  std::filesystem::path work_dir;
  std::uint32_t chunk_size = 1u << 20;  // vault chunk size
  // Blobs up to this size are sealed into and opened from memory; larger ones
  // stream through a temporary file (the blob is then never whole in memory).
  std::uint64_t max_memory_blob = 512ull << 20;
  // When set, a blob that passed every check (fetch_and_open) or was just
  // uploaded (seal_and_upload) is also put, byte for byte and under the same
  // key, into this store: the node's own copy (agent/model_cache.h). A
  // failure there does not fail the hand-off; it is reported in keep_error.
  storage::ObjectStore* keep_in = nullptr;
};

// The size of the sealed blob of any model of `spec` (a validated spec):
// storage::sealed_blob_size(learning::serialized_size(spec), chunk_size).
// Every node seals with HandoffOptions' default chunk size (1 MiB), so a
// candidate of the plan's model has exactly this size and no other.
std::uint64_t expected_blob_size(const learning::ModelSpec& spec,
                                 std::uint32_t chunk_size = HandoffOptions{}.chunk_size);

// How long a voter lets a candidate's evaluation run: a multiple of what one
// forward pass over the validation set should cost for the plan's spec, with
// a floor. A candidate that takes longer (denormal weights on a thread
// without flush-to-zero, or anything else that makes scoring slow) is
// rejected with reason over_budget instead of holding the voter for minutes.
// The rates are deliberately low (a quarter or less of what one core of the
// 2-vCPU test machine reaches: netlib's reference BLAS for dense layers,
// oneDNN for convolutions), so the budget is 40x or more the time scoring
// takes there, and the floor covers fixed costs and small models: an honest
// candidate on a slower or loaded machine stays far below it
// (docs/BENCHMARKS.md, "Candidate evaluation").
struct EvaluationBudget {
  double floor_s = 30;                 // never less than this
  double multiple = 10;                // times the expected cost
  double dense_macs_per_second = 5e8;  // mlp (measured: 2.0e9)
  double conv_macs_per_second = 8e9;   // cnn2d, resnet3d (measured: 3.6e10 to 5.6e10)
};

// max(floor_s, multiple * rows * learning::forward_macs(spec) / rate), rate
// by the spec's architecture.
std::chrono::nanoseconds evaluation_budget(const learning::ModelSpec& spec, std::size_t rows,
                                           const EvaluationBudget& budget = {});

// Wall-clock seconds of each part of one hand-off step.
struct HandoffTimings {
  double store_s = 0;   // put / get (put_file / get_file for large blobs), head included
  double crypto_s = 0;  // seal, or unwrap + open, with both hashes (same pass) and the envelope
};

struct SealedModel {
  std::string object_key;
  chain::Hash blob_sha256;   // what the SaveRequest records
  chain::Hash model_sha256;  // SHA-256 of the plaintext (= learning::model_hash)
  std::uint64_t blob_size = 0;
  std::uint64_t plaintext_size = 0;
  storage::Envelope envelope;  // blob_size and blob_sha256 filled in
  std::string envelope_json;   // storage::encode_envelope(envelope)
  HandoffTimings timings;
  std::string keep_error;  // why HandoffOptions::keep_in did not take a copy; empty when it did
};

// Seals `model_bytes` under a fresh data key bound to `binding`, wraps the key
// for every member in `recipients` (include yourself to read it back), and
// uploads the blob under model_object_key(binding). Replaces an object already
// there (a restart re-uploading the same turn's candidate).
Result<SealedModel> seal_and_upload(storage::ObjectStore& store, chain::ByteView model_bytes,
                                    const ModelBinding& binding,
                                    const std::vector<chain::MemberPublicKeys>& recipients,
                                    const HandoffOptions& options);

// As above, reading the plaintext from a file (streamed; never loaded whole).
Result<SealedModel> seal_file_and_upload(storage::ObjectStore& store,
                                         const std::filesystem::path& model_file,
                                         const ModelBinding& binding,
                                         const std::vector<chain::MemberPublicKeys>& recipients,
                                         const HandoffOptions& options);

// What the ledger says about a model a receiver is about to open.
struct LedgerModelRef {
  std::string object_key;
  chain::Hash blob_sha256;
  std::optional<chain::Hash> model_sha256;  // checked on the plaintext when set
  storage::Envelope envelope;
  // When set (a voter: expected_blob_size of the plan's spec), an object of
  // any other size is refused (wrong_size) on HEAD, before any download, and
  // the download itself stops past this size (a store whose GET sends more
  // than its HEAD said: wrong_size too).
  std::optional<std::uint64_t> blob_size = std::nullopt;
};

struct OpenedModel {
  chain::Bytes model_bytes;
  chain::Hash model_sha256;
  std::uint64_t blob_size = 0;
  HandoffTimings timings;
  std::string keep_error;  // why HandoffOptions::keep_in did not take a copy; empty when it did
};

// Downloads the blob, unwraps this member's data key, and opens the blob with
// `binding`'s associated data while hashing it and the plaintext. The reason
// given is the first check that fails in this order, whatever the order in
// which the bytes were looked at: the blob's SHA-256 is the ledger's (and the
// envelope's, when it records one): hash_mismatch; the key unwraps:
// not_recipient, cannot_unwrap; every chunk authenticates:
// authentication_failed; the plaintext hashes to the ledger's model hash:
// model_hash_mismatch. Before all of these, when ref.blob_size is set: the
// stored size is that one: wrong_size. Also missing_blob, store_failed, io,
// invalid_argument.
Result<OpenedModel> fetch_and_open(storage::ObjectStore& store, const LedgerModelRef& ref,
                                   const chain::X25519SecretKey& my_secret,
                                   const ModelBinding& binding, const HandoffOptions& options);

struct Evaluation {
  double auc = 0;
  std::size_t rows = 0;
  std::vector<double> scores;  // P(positive) per validation row, in row order
  std::vector<int> labels;     // the validation labels (1 = positive)
};

// Loads the model bytes (learning::deserialize, which refuses a model of
// another spec than `spec`) and measures its ROC AUC on a binary validation
// set. Codes: bad_model (bytes that do not load, another spec),
// evaluation_failed (features or classes that do not match the model, a
// multi-class task, a validation set with one class only), over_budget
// (scoring took longer than `budget`, when given).
Result<Evaluation> evaluate(chain::ByteView model_bytes, const learning::ModelSpec& spec,
                            const learning::Dataset& validation,
                            std::optional<std::chrono::nanoseconds> budget = std::nullopt);

// The same for a model already loaded. Codes evaluation_failed, over_budget.
Result<Evaluation> evaluate(const learning::Model& model, const learning::Dataset& validation,
                            std::optional<std::chrono::nanoseconds> budget = std::nullopt);

}  // namespace baton::agent
