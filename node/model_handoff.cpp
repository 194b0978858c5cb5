#include "node/model_handoff.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <system_error>
#include <utility>

#include "learning/metrics.h"
#include "learning/model.h"
#include "storage/byte_stream.h"
#include "storage/vault.h"

namespace baton::node {
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
  chain::Sha256Stream hasher;
  std::vector<std::uint8_t> buffer(1u << 20);
  for (;;) {
    auto n = (*source)->read(buffer);
    if (!n) return handoff_error(HandoffErrc::io, n.error().message);
    if (*n == 0) break;
    hasher.update(chain::ByteView(buffer.data(), *n));
  }
  return hasher.finish();
}

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

// Seals `source` into a temporary blob and uploads it; fills everything but
// the plaintext hash.
Result<SealedModel> seal_and_put(storage::ObjectStore& store, storage::ByteSource& source,
                                 const ModelBinding& binding,
                                 const std::vector<chain::MemberPublicKeys>& recipients,
                                 const HandoffOptions& options) {
  auto t0 = Clock::now();
  auto prepared = prepare(binding, recipients);
  if (!prepared) return prepared.error();
  auto blob_path = TempPath::make(options.work_dir, ".blob");
  if (!blob_path) return blob_path.error();
  auto sink = PlainFileSink::create(blob_path->path());
  if (!sink) return sink.error();
  const chain::Bytes ad = binding.associated_data();
  storage::SealOptions seal_options;
  seal_options.chunk_size = options.chunk_size;
  auto summary = storage::seal(source, **sink, prepared->key, ad, seal_options);
  if (!summary) {
    const auto code = summary.error().code == static_cast<int>(storage::VaultErrc::io)
                          ? HandoffErrc::io
                          : HandoffErrc::invalid_argument;
    return handoff_error(code, "Sealing the model failed: " + summary.error().message);
  }
  if (auto closed = (*sink)->close(); !closed) return closed.error();

  SealedModel sealed;
  sealed.object_key = prepared->object_key;
  sealed.blob_sha256 = summary->blob_sha256;
  sealed.blob_size = summary->blob_size;
  sealed.plaintext_size = summary->plaintext_size;
  sealed.envelope = std::move(prepared->envelope);
  sealed.envelope.blob_size = summary->blob_size;
  sealed.envelope.blob_sha256 = summary->blob_sha256;
  sealed.envelope_json = storage::encode_envelope(sealed.envelope);
  sealed.timings.crypto_s = seconds_since(t0);

  auto t1 = Clock::now();
  if (auto put = store.put_file(sealed.object_key, blob_path->path()); !put) {
    return handoff_error(HandoffErrc::store_failed, "Uploading the sealed model to " + store.uri() +
                                                        " as " + sealed.object_key +
                                                        " failed: " + put.error().message);
  }
  sealed.timings.store_s = seconds_since(t1);
  return sealed;
}

HandoffErrc from_vault_open(int code) {
  switch (static_cast<storage::VaultErrc>(code)) {
    case storage::VaultErrc::io:
      return HandoffErrc::io;
    default:
      return HandoffErrc::authentication_failed;
  }
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
  auto t0 = Clock::now();
  const chain::Hash model_sha256 = chain::sha256(model_bytes);
  const double hash_s = seconds_since(t0);
  storage::MemorySource source(model_bytes);
  auto sealed = seal_and_put(store, source, binding, recipients, options);
  if (!sealed) return sealed.error();
  sealed->model_sha256 = model_sha256;
  sealed->timings.crypto_s += hash_s;
  return sealed;
}

Result<SealedModel> seal_file_and_upload(storage::ObjectStore& store,
                                         const std::filesystem::path& model_file,
                                         const ModelBinding& binding,
                                         const std::vector<chain::MemberPublicKeys>& recipients,
                                         const HandoffOptions& options) {
  auto t0 = Clock::now();
  auto model_sha256 = hash_file(model_file);
  if (!model_sha256) return model_sha256.error();
  const double hash_s = seconds_since(t0);
  auto source = storage::FileSource::open(model_file);
  if (!source) return handoff_error(HandoffErrc::io, source.error().message);
  auto sealed = seal_and_put(store, **source, binding, recipients, options);
  if (!sealed) return sealed.error();
  sealed->model_sha256 = *model_sha256;
  sealed->timings.io_s += hash_s;
  return sealed;
}

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
  auto blob_path = TempPath::make(options.work_dir, ".blob");
  if (!blob_path) return blob_path.error();

  OpenedModel opened;
  auto t0 = Clock::now();
  if (auto got = store.get_file(ref.object_key, blob_path->path(), /*overwrite=*/false); !got) {
    if (got.error().code == static_cast<int>(storage::StoreErrc::not_found)) {
      return handoff_error(HandoffErrc::missing_blob, "The model blob " + ref.object_key +
                                                          " is missing from " + store.uri() +
                                                          "; it was deleted or never uploaded.");
    }
    return handoff_error(HandoffErrc::store_failed, "Downloading the model blob " + ref.object_key +
                                                        " from " + store.uri() +
                                                        " failed: " + got.error().message);
  }
  opened.timings.store_s = seconds_since(t0);

  auto t1 = Clock::now();
  auto blob_sha256 = hash_file(blob_path->path());
  if (!blob_sha256) return blob_sha256.error();
  if (*blob_sha256 != ref.blob_sha256) {
    return handoff_error(HandoffErrc::hash_mismatch,
                         "The blob " + ref.object_key + " hashes to " + blob_sha256->hex() +
                             " but the ledger records " + ref.blob_sha256.hex() +
                             ": it was tampered with or swapped; the model is refused.");
  }
  auto key = storage::unwrap(ref.envelope, my_secret);
  if (!key) {
    const auto code = key.error().code == static_cast<int>(storage::VaultErrc::not_recipient)
                          ? HandoffErrc::not_recipient
                          : HandoffErrc::cannot_unwrap;
    return handoff_error(code, "Cannot obtain the model's data key: " + key.error().message);
  }
  auto source = storage::FileSource::open(blob_path->path());
  if (!source) return handoff_error(HandoffErrc::io, source.error().message);
  opened.blob_size = (*source)->size();
  storage::MemorySink plaintext;
  const chain::Bytes ad = binding.associated_data();
  auto summary = storage::open(**source, plaintext, *key, ad, /*hash_blob=*/false);
  if (!summary) {
    return handoff_error(
        from_vault_open(summary.error().code),
        "The blob " + ref.object_key +
            " does not open for this chain, run and model: " + summary.error().message);
  }
  opened.model_bytes = plaintext.take();
  opened.model_sha256 = chain::sha256(opened.model_bytes);
  opened.timings.crypto_s = seconds_since(t1);
  if (ref.model_sha256 && *ref.model_sha256 != opened.model_sha256) {
    return handoff_error(HandoffErrc::model_hash_mismatch,
                         "The blob opens to a model with SHA-256 " + opened.model_sha256.hex() +
                             " but the ledger names " + ref.model_sha256->hex() +
                             "; the model is refused.");
  }
  return opened;
}

Result<Evaluation> evaluate(chain::ByteView model_bytes, const learning::Dataset& validation) {
  auto model = learning::deserialize(model_bytes);
  if (!model) {
    return handoff_error(HandoffErrc::bad_model,
                         "The model does not load: " + model.error().message);
  }
  return evaluate(*model, validation);
}

Result<Evaluation> evaluate(const learning::Model& model, const learning::Dataset& validation) {
  if (validation.num_classes != 2 || model.spec().num_classes != 2) {
    return handoff_error(
        HandoffErrc::evaluation_failed,
        "Hand-off votes measure ROC AUC of a binary classifier; this model or validation set has "
        "more than two classes.");
  }
  auto predictions = model.predict(validation);
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

}  // namespace baton::node
