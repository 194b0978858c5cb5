#include "agent/model_handoff.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <system_error>
#include <utility>

#include "learning/metrics.h"
#include "learning/model.h"
#include "storage/byte_stream.h"
#include "storage/vault.h"

namespace baton::agent {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Error handoff_error(HandoffErrc code, std::string message) {
  return make_error(std::move(message), static_cast<int>(code));
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A uniquely named file in the work directory, removed when this goes away.
class TempPath {
 public:
  static Result<TempPath> make(const std::filesystem::path& dir, std::string_view suffix) {
    if (dir.empty()) {
      return handoff_error(HandoffErrc::invalid_argument,
                           "No work directory was given for the hand-off's temporary files; set "
                           "HandoffOptions::work_dir to a directory in the node's data dir.");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return handoff_error(HandoffErrc::io, "Cannot create the hand-off work directory " +
                                                dir.string() + ": " + ec.message() + ".");
    }
    std::array<std::uint8_t, 8> tag{};
    chain::random_bytes(tag);
    return TempPath(dir / (".handoff-" + chain::to_hex(tag) + std::string(suffix)));
  }
  TempPath(TempPath&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  TempPath& operator=(TempPath&&) = delete;
  ~TempPath() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempPath(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

// A plain (not synced) output file for temporary blobs: they are uploaded or
// opened right away, so an fsync would only cost time.
class PlainFileSink final : public storage::ByteSink {
 public:
  static Result<std::unique_ptr<PlainFileSink>> create(const std::filesystem::path& path) {
    std::FILE* f = std::fopen(path.c_str(), "wbx");
    if (f == nullptr) {
      return handoff_error(HandoffErrc::io, "Cannot create the temporary file " + path.string() +
                                                "; check that the work directory is writable.");
    }
    return std::unique_ptr<PlainFileSink>(new PlainFileSink(f, path));
  }
  ~PlainFileSink() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  PlainFileSink(const PlainFileSink&) = delete;
  PlainFileSink& operator=(const PlainFileSink&) = delete;

  Status write(chain::ByteView data) override {
    if (data.empty()) return {};
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      return handoff_error(HandoffErrc::io,
                           "Writing the temporary file " + path_.string() +
                               " failed; check the free space in the work directory.");
    }
    return {};
  }
  Status close() {
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) {
      return handoff_error(HandoffErrc::io,
                           "Closing the temporary file " + path_.string() +
                               " failed; check the free space in the work directory.");
    }
    return {};
  }

 private:
  PlainFileSink(std::FILE* f, std::filesystem::path path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_;
  std::filesystem::path path_;
};

Result<chain::Hash> hash_file(const std::filesystem::path& path) {
  auto source = storage::FileSource::open(path);
  if (!source) return handoff_error(HandoffErrc::io, source.error().message);
  storage::Sha256Hasher hasher;
  std::vector<std::uint8_t> buffer(1u << 20);
  for (;;) {
    auto n = (*source)->read(buffer);
    if (!n) return handoff_error(HandoffErrc::io, n.error().message);
    if (*n == 0) break;
    hasher.update(chain::ByteView(buffer.data(), *n));
  }
  return hasher.finish();
}

// Blobs and plaintexts from this size on are hashed on a second thread while
// the caller's thread encrypts or decrypts (and hashes the other side): two
// SHA-256 passes are most of a hand-off's crypto, and AES-GCM is faster.
constexpr std::size_t kParallelHashBytes = 8u << 20;

// SHA-256 of bytes in memory, started on another thread when they are large
// enough (and a thread can be had), else computed by get() on the caller's.
// `bytes` must outlive this; the destructor waits for the thread.
class BackgroundSha256 {
 public:
  explicit BackgroundSha256(chain::ByteView bytes) : bytes_(bytes) {
    if (bytes.size() < kParallelHashBytes) return;
    try {
      future_ = std::async(std::launch::async, [b = bytes] { return chain::sha256(b); });
    } catch (const std::system_error&) {
      // No thread to be had: get() hashes on the caller's thread.
    }
  }
  bool running() const { return future_.valid(); }
  // Once.
  chain::Hash get() { return future_.valid() ? future_.get() : chain::sha256(bytes_); }

 private:
  chain::ByteView bytes_;
  std::future<chain::Hash> future_;
};

struct Prepared {
  std::string object_key;
  storage::Envelope envelope;
  storage::DataKey key;
};

Result<Prepared> prepare(const ModelBinding& binding,
                         const std::vector<chain::MemberPublicKeys>& recipients) {
  auto object_key = model_object_key(binding.run_id, binding.model_id);
  if (!object_key) return object_key.error();
  if (recipients.empty()) {
    return handoff_error(
        HandoffErrc::invalid_argument,
        "A model must be sealed for at least one member; pass the members' public keys "
        "(yourself included).");
  }
  auto key = storage::DataKey::generate();
  auto envelope = storage::make_envelope(key, recipients);
  if (!envelope) return handoff_error(HandoffErrc::invalid_argument, envelope.error().message);
  return Prepared{std::move(*object_key), std::move(*envelope), std::move(key)};
}

Error seal_error(const Error& e) {
  const auto code = e.code == static_cast<int>(storage::VaultErrc::io)
                        ? HandoffErrc::io
                        : HandoffErrc::invalid_argument;
  return handoff_error(code, "Sealing the model failed: " + e.message);
}

Error put_error(const storage::ObjectStore& store, const std::string& key, const Error& e) {
  return handoff_error(HandoffErrc::store_failed, "Uploading the sealed model to " + store.uri() +
                                                      " as " + key + " failed: " + e.message);
}

// Seals `plaintext` (`plaintext_size` bytes) while hashing it (or, when
// `plaintext_hash` runs, while that thread hashes it), and uploads the blob:
// from memory when it is small enough, else through a temporary file. The
// store's put keeps its own durability either way.
Result<SealedModel> seal_and_put(storage::ObjectStore& store, storage::ByteSource& plaintext,
                                 std::uint64_t plaintext_size, BackgroundSha256* plaintext_hash,
                                 const ModelBinding& binding,
                                 const std::vector<chain::MemberPublicKeys>& recipients,
                                 const HandoffOptions& options) {
  auto t0 = Clock::now();
  auto prepared = prepare(binding, recipients);
  if (!prepared) return prepared.error();
  const chain::Bytes ad = binding.associated_data();
  storage::SealOptions seal_options;
  seal_options.chunk_size = options.chunk_size;
  storage::HashingSource hashing(plaintext);
  storage::ByteSource& input = plaintext_hash != nullptr ? plaintext : hashing;
  const std::uint64_t blob_size = storage::sealed_blob_size(plaintext_size, options.chunk_size);

  SealedModel sealed;
  sealed.object_key = prepared->object_key;
  storage::BlobSummary summary;
  if (blob_size <= options.max_memory_blob) {
    storage::MemorySink blob;
    blob.reserve(static_cast<std::size_t>(blob_size));
    auto sealed_summary = storage::seal(input, blob, prepared->key, ad, seal_options);
    if (!sealed_summary) return seal_error(sealed_summary.error());
    summary = *sealed_summary;
    sealed.model_sha256 = plaintext_hash != nullptr ? plaintext_hash->get() : hashing.finish();
    sealed.timings.crypto_s = seconds_since(t0);
    auto t1 = Clock::now();
    if (auto put = store.put(sealed.object_key, blob.bytes()); !put)
      return put_error(store, sealed.object_key, put.error());
    sealed.timings.store_s = seconds_since(t1);
    if (options.keep_in != nullptr) {
      if (auto kept = options.keep_in->put(sealed.object_key, blob.bytes()); !kept)
        sealed.keep_error = kept.error().message;
    }
  } else {
    auto blob_path = TempPath::make(options.work_dir, ".blob");
    if (!blob_path) return blob_path.error();
    auto sink = PlainFileSink::create(blob_path->path());
    if (!sink) return sink.error();
    auto sealed_summary = storage::seal(input, **sink, prepared->key, ad, seal_options);
    if (!sealed_summary) return seal_error(sealed_summary.error());
    if (auto closed = (*sink)->close(); !closed) return closed.error();
    summary = *sealed_summary;
    sealed.model_sha256 = plaintext_hash != nullptr ? plaintext_hash->get() : hashing.finish();
    sealed.timings.crypto_s = seconds_since(t0);
    auto t1 = Clock::now();
    if (auto put = store.put_file(sealed.object_key, blob_path->path()); !put)
      return put_error(store, sealed.object_key, put.error());
    sealed.timings.store_s = seconds_since(t1);
    if (options.keep_in != nullptr) {
      if (auto kept = options.keep_in->put_file(sealed.object_key, blob_path->path()); !kept)
        sealed.keep_error = kept.error().message;
    }
  }
  sealed.blob_sha256 = summary.blob_sha256;
  sealed.blob_size = summary.blob_size;
  sealed.plaintext_size = summary.plaintext_size;
  sealed.envelope = std::move(prepared->envelope);
  sealed.envelope.blob_size = summary.blob_size;
  sealed.envelope.blob_sha256 = summary.blob_sha256;
  sealed.envelope_json = storage::encode_envelope(sealed.envelope);
  return sealed;
}

}  // namespace

std::string_view handoff_errc_name(HandoffErrc code) {
  switch (code) {
    case HandoffErrc::invalid_argument:
      return "invalid_argument";
    case HandoffErrc::io:
      return "io";
    case HandoffErrc::store_failed:
      return "store_failed";
    case HandoffErrc::missing_blob:
      return "missing_blob";
    case HandoffErrc::hash_mismatch:
      return "hash_mismatch";
    case HandoffErrc::not_recipient:
      return "not_recipient";
    case HandoffErrc::cannot_unwrap:
      return "cannot_unwrap";
    case HandoffErrc::authentication_failed:
      return "authentication_failed";
    case HandoffErrc::model_hash_mismatch:
      return "model_hash_mismatch";
    case HandoffErrc::bad_model:
      return "bad_model";
    case HandoffErrc::evaluation_failed:
      return "evaluation_failed";
    case HandoffErrc::wrong_size:
      return "wrong_size";
    case HandoffErrc::over_budget:
      return "over_budget";
  }
  return "unknown";
}

chain::Bytes ModelBinding::associated_data() const {
  return storage::model_associated_data(chain_id, run_id + "/" + model_id, parent_model_id);
}

Result<std::string> model_object_key(std::string_view run_id, std::string_view model_id) {
  if (!valid_id(run_id) || !valid_id(model_id)) {
    return handoff_error(
        HandoffErrc::invalid_argument,
        "Run and model ids must be 1 to 128 characters of letters, digits, '.', '_' or '-', "
        "not starting with '.'; got run '" +
            std::string(run_id.substr(0, 64)) + "' and model '" +
            std::string(model_id.substr(0, 64)) + "'.");
  }
  return "runs/" + std::string(run_id) + "/models/" + std::string(model_id) + ".blob";
}

Result<SealedModel> seal_and_upload(storage::ObjectStore& store, chain::ByteView model_bytes,
                                    const ModelBinding& binding,
                                    const std::vector<chain::MemberPublicKeys>& recipients,
                                    const HandoffOptions& options) {
  BackgroundSha256 plaintext_hash(model_bytes);
  storage::MemorySource source(model_bytes);
  return seal_and_put(store, source, model_bytes.size(),
                      plaintext_hash.running() ? &plaintext_hash : nullptr, binding, recipients,
                      options);
}

Result<SealedModel> seal_file_and_upload(storage::ObjectStore& store,
                                         const std::filesystem::path& model_file,
                                         const ModelBinding& binding,
                                         const std::vector<chain::MemberPublicKeys>& recipients,
                                         const HandoffOptions& options) {
  auto source = storage::FileSource::open(model_file);
  if (!source) return handoff_error(HandoffErrc::io, source.error().message);
  return seal_and_put(store, **source, (*source)->size(), nullptr, binding, recipients, options);
}

namespace {

Error fetch_error(const storage::ObjectStore& store, const std::string& key, const Error& e) {
  if (e.code == static_cast<int>(storage::StoreErrc::not_found)) {
    return handoff_error(HandoffErrc::missing_blob, "The model blob " + key + " is missing from " +
                                                        store.uri() +
                                                        "; it was deleted or never uploaded.");
  }
  return handoff_error(HandoffErrc::store_failed, "Downloading the model blob " + key + " from " +
                                                      store.uri() + " failed: " + e.message);
}

Error blob_hash_error(const LedgerModelRef& ref, const chain::Hash& got) {
  return handoff_error(HandoffErrc::hash_mismatch,
                       "The blob " + ref.object_key + " hashes to " + got.hex() +
                           " but the ledger records " + ref.blob_sha256.hex() +
                           ": it was tampered with or swapped; the model is refused.");
}

// Unwraps the data key and decrypts `blob` while hashing the plaintext, and
// the blob too when `hash_in_pass` (else another thread hashes it).
// `whole_blob_hash` gives the whole blob's hash: the other thread's, or a new
// pass; it runs once, when the blob was not hashed in the pass or a later
// check failed, so that a blob that is not the ledger's is reported as
// hash_mismatch whichever check noticed first.
template <class WholeBlobHash>
Result<OpenedModel> open_checked(storage::ByteSource& blob, std::uint64_t blob_size,
                                 bool hash_in_pass, WholeBlobHash whole_blob_hash,
                                 const LedgerModelRef& ref, const chain::X25519SecretKey& my_secret,
                                 const ModelBinding& binding) {
  auto refuse = [&](Error e) -> Error {
    auto whole = whole_blob_hash();
    if (!whole) return whole.error();
    if (*whole != ref.blob_sha256) return blob_hash_error(ref, *whole);
    return e;
  };
  auto key = storage::unwrap(ref.envelope, my_secret);
  if (!key) {
    const auto code = key.error().code == static_cast<int>(storage::VaultErrc::not_recipient)
                          ? HandoffErrc::not_recipient
                          : HandoffErrc::cannot_unwrap;
    return refuse(
        handoff_error(code, "Cannot obtain the model's data key: " + key.error().message));
  }
  storage::MemorySink plaintext;
  if (blob_size > storage::kBlobHeaderSize)
    plaintext.reserve(static_cast<std::size_t>(blob_size - storage::kBlobHeaderSize));
  storage::HashingSink hashing(plaintext);
  const chain::Bytes ad = binding.associated_data();
  auto summary = storage::open(blob, hashing, *key, ad, hash_in_pass);
  if (!summary) {
    if (summary.error().code == static_cast<int>(storage::VaultErrc::io)) {
      return handoff_error(HandoffErrc::io, "Reading the downloaded blob " + ref.object_key +
                                                " failed: " + summary.error().message);
    }
    return refuse(handoff_error(
        HandoffErrc::authentication_failed,
        "The blob " + ref.object_key +
            " does not open for this chain, run and model: " + summary.error().message));
  }
  // The chunks authenticate, yet the blob may still not be the ledger's (one
  // resealed by a holder of the key): the ledger's hash decides.
  chain::Hash blob_sha256 = summary->blob_sha256;
  if (!hash_in_pass) {
    auto whole = whole_blob_hash();
    if (!whole) return whole.error();
    blob_sha256 = *whole;
  }
  if (blob_sha256 != ref.blob_sha256) return blob_hash_error(ref, blob_sha256);
  OpenedModel opened;
  opened.blob_size = summary->blob_size;
  opened.model_sha256 = hashing.finish();
  if (ref.model_sha256 && *ref.model_sha256 != opened.model_sha256) {
    return handoff_error(HandoffErrc::model_hash_mismatch,
                         "The blob opens to a model with SHA-256 " + opened.model_sha256.hex() +
                             " but the ledger names " + ref.model_sha256->hex() +
                             "; the model is refused.");
  }
  opened.model_bytes = plaintext.take();
  return opened;
}

}  // namespace

Result<OpenedModel> fetch_and_open(storage::ObjectStore& store, const LedgerModelRef& ref,
                                   const chain::X25519SecretKey& my_secret,
                                   const ModelBinding& binding, const HandoffOptions& options) {
  if (auto valid = storage::validate_object_key(ref.object_key); !valid) {
    return handoff_error(HandoffErrc::invalid_argument,
                         "The ledger's object key is unusable: " + valid.error().message);
  }
  if (ref.envelope.blob_sha256 && *ref.envelope.blob_sha256 != ref.blob_sha256) {
    return handoff_error(HandoffErrc::hash_mismatch,
                         "The key envelope describes another blob (SHA-256 " +
                             ref.envelope.blob_sha256->hex() + ") than the ledger records (" +
                             ref.blob_sha256.hex() + "); the model is refused.");
  }
  auto t0 = Clock::now();
  auto info = store.head(ref.object_key);
  if (!info) return fetch_error(store, ref.object_key, info.error());
  if (ref.blob_size && info->size != *ref.blob_size) {
    return handoff_error(HandoffErrc::wrong_size,
                         "The blob " + ref.object_key + " is " + std::to_string(info->size) +
                             " bytes but a sealed model of the plan's spec is " +
                             std::to_string(*ref.blob_size) + "; it was not downloaded.");
  }

  Result<OpenedModel> opened = make_error("not opened");
  double store_s = 0;
  auto t1 = Clock::now();
  if (info->size <= options.max_memory_blob) {
    auto blob = ref.blob_size ? store.get_at_most(ref.object_key, *ref.blob_size)
                              : store.get(ref.object_key);
    if (!blob && blob.error().code == static_cast<int>(storage::StoreErrc::too_large)) {
      return handoff_error(HandoffErrc::wrong_size,
                           "The store sent more of " + ref.object_key + " than the " +
                               std::to_string(*ref.blob_size) +
                               " bytes its HEAD reported and the plan's spec allows; the "
                               "download was stopped: " +
                               blob.error().message + ".");
    }
    if (!blob) return fetch_error(store, ref.object_key, blob.error());
    store_s = seconds_since(t0);
    t1 = Clock::now();
    BackgroundSha256 blob_hash(*blob);
    storage::MemorySource source(*blob);
    opened = open_checked(
        source, blob->size(), !blob_hash.running(),
        [&]() -> Result<chain::Hash> { return blob_hash.get(); }, ref, my_secret, binding);
    if (opened && options.keep_in != nullptr) {
      if (auto kept = options.keep_in->put(ref.object_key, *blob); !kept)
        opened->keep_error = kept.error().message;
    }
  } else {
    auto blob_path = TempPath::make(options.work_dir, ".blob");
    if (!blob_path) return blob_path.error();
    if (auto got = store.get_file(ref.object_key, blob_path->path(), /*overwrite=*/false); !got)
      return fetch_error(store, ref.object_key, got.error());
    store_s = seconds_since(t0);
    t1 = Clock::now();
    auto source = storage::FileSource::open(blob_path->path());
    if (!source) return handoff_error(HandoffErrc::io, source.error().message);
    const auto& path = blob_path->path();
    opened = open_checked(
        **source, (*source)->size(), /*hash_in_pass=*/true, [&] { return hash_file(path); }, ref,
        my_secret, binding);
    if (opened && options.keep_in != nullptr) {
      if (auto kept = options.keep_in->put_file(ref.object_key, path); !kept)
        opened->keep_error = kept.error().message;
    }
  }
  if (!opened) return opened.error();
  opened->timings.store_s = store_s;
  opened->timings.crypto_s = seconds_since(t1);
  return opened;
}

std::uint64_t expected_blob_size(const learning::ModelSpec& spec, std::uint32_t chunk_size) {
  return storage::sealed_blob_size(learning::serialized_size(spec), chunk_size);
}

std::chrono::nanoseconds evaluation_budget(const learning::ModelSpec& spec, std::size_t rows,
                                           const EvaluationBudget& budget) {
  const double rate = spec.architecture == learning::Architecture::mlp
                          ? budget.dense_macs_per_second
                          : budget.conv_macs_per_second;
  const double expected_s = static_cast<double>(rows) * learning::forward_macs(spec) / rate;
  const double seconds = std::max(budget.floor_s, budget.multiple * expected_s);
  // Capped at a day: far beyond any deadline, and safely inside nanoseconds' range.
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(seconds, 86400.0) * 1e9));
}

Result<Evaluation> evaluate(chain::ByteView model_bytes, const learning::ModelSpec& spec,
                            const learning::Dataset& validation,
                            std::optional<std::chrono::nanoseconds> budget) {
  auto model = learning::deserialize(model_bytes, spec);
  if (!model) {
    return handoff_error(HandoffErrc::bad_model,
                         "The model does not load: " + model.error().message);
  }
  return evaluate(*model, validation, budget);
}

Result<Evaluation> evaluate(const learning::Model& model, const learning::Dataset& validation,
                            std::optional<std::chrono::nanoseconds> budget) {
  if (validation.num_classes != 2 || model.spec().num_classes != 2) {
    return handoff_error(
        HandoffErrc::evaluation_failed,
        "Hand-off votes measure ROC AUC of a binary classifier; this model or validation set has "
        "more than two classes.");
  }
  learning::PredictOptions options;
  options.budget = budget;
  auto predictions = model.predict(validation, options);
  if (!predictions && predictions.error().code == learning::kPredictOverBudget) {
    return handoff_error(HandoffErrc::over_budget,
                         "The model is too slow to score: " + predictions.error().message);
  }
  if (!predictions) {
    return handoff_error(
        HandoffErrc::evaluation_failed,
        "The model cannot score the validation data: " + predictions.error().message);
  }
  Evaluation evaluation;
  evaluation.rows = validation.rows;
  evaluation.scores = predictions->scores();
  evaluation.labels = validation.y;
  auto auc = learning::roc_auc(evaluation.labels, evaluation.scores);
  if (!auc) {
    return handoff_error(HandoffErrc::evaluation_failed,
                         "The AUC on the validation data is undefined: " + auc.error().message);
  }
  evaluation.auc = *auc;
  return evaluation;
}

}  // namespace baton::agent
