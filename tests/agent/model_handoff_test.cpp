// The hand-off pipeline against a real file:// object store in a temporary
// directory, with a tiny MLP: seal, upload, fetch, check, open, evaluate, and
// each way a receiver must refuse a blob.
#include "agent/model_handoff.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "chain/keys.h"
#include "learning/metrics.h"
#include "learning/model.h"
#include "storage/file_store.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;

learning::Dataset tiny_validation() {
  learning::Dataset data;
  data.features = 4;
  data.num_classes = 2;
  data.class_names = {"negative", "positive"};
  data.feature_names = {"a", "b", "c", "d"};
  for (int i = 0; i < 24; ++i) {
    const int label = i % 2;
    for (int f = 0; f < 4; ++f) {
      data.x.push_back(
          static_cast<float>((label ? 1.0 : -1.0) * (0.5 + 0.1 * f) + 0.05 * ((i * 7 + f) % 5)));
    }
    data.y.push_back(label);
  }
  data.rows = 24;
  return data;
}

chain::Bytes tiny_model_bytes(std::uint64_t seed) {
  auto model = learning::Model::create(learning::ModelSpec::mlp(4, {8}), seed);
  EXPECT_TRUE(model.ok());
  return learning::serialize(*model);
}

void flip_byte(const fs::path& file, std::uint64_t at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  f.seekp(static_cast<std::streamoff>(at));
  c = static_cast<char>(c ^ 0x01);
  f.write(&c, 1);
}

class ModelHandoff : public ::testing::Test {
 protected:
  ModelHandoff()
      : alice_(chain::generate_member_keys("alice")),
        bob_(chain::generate_member_keys("bob")),
        carol_(chain::generate_member_keys("carol")),
        store_(dir_.path() / "store") {
    options_.work_dir = dir_.path() / "work";
    options_.chunk_size = 256;  // several chunks even for a tiny model
    binding_ = {"test-chain", "run-1", "turn-3", "turn-2"};
  }

  std::vector<chain::MemberPublicKeys> alice_and_bob() const {
    return {alice_.public_keys(), bob_.public_keys()};
  }

  LedgerModelRef ref_for(const SealedModel& sealed) const {
    return {sealed.object_key, sealed.blob_sha256, sealed.model_sha256, sealed.envelope};
  }

  fs::path blob_file(const std::string& key) const { return dir_.path() / "store" / key; }

  bool work_dir_is_empty() const {
    return !fs::exists(options_.work_dir) || fs::is_empty(options_.work_dir);
  }

  testing::TempDir dir_;
  chain::MemberSecretKeys alice_;
  chain::MemberSecretKeys bob_;
  chain::MemberSecretKeys carol_;
  storage::FileObjectStore store_;
  HandoffOptions options_;
  ModelBinding binding_;
};

TEST(ModelObjectKey, IsDeterministicFromRunAndModel) {
  auto key = model_object_key("run-1", "turn-3");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(*key, "runs/run-1/models/turn-3.blob");
  EXPECT_EQ(*model_object_key("run-1", "turn-3"), *key);
}

TEST(ModelObjectKey, RefusesIdsThatWouldEscapeOrNest) {
  for (const char* bad : {"", "..", ".hidden", "a/b", "a b", "x\n"}) {
    auto key = model_object_key(bad, "m");
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_EQ(key.error().code, static_cast<int>(HandoffErrc::invalid_argument));
    EXPECT_FALSE(model_object_key("run", bad).ok()) << bad;
  }
}

TEST_F(ModelHandoff, RoundTripGivesTheRecipientTheSameModel) {
  const chain::Bytes model = tiny_model_bytes(7);
  auto sealed = seal_and_upload(store_, model, binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_EQ(sealed->object_key, "runs/run-1/models/turn-3.blob");
  EXPECT_EQ(sealed->model_sha256, chain::sha256(model));
  EXPECT_EQ(sealed->plaintext_size, model.size());
  EXPECT_GT(sealed->blob_size, model.size());
  ASSERT_TRUE(fs::exists(blob_file(sealed->object_key)));
  EXPECT_EQ(fs::file_size(blob_file(sealed->object_key)), sealed->blob_size);
  // The envelope text round-trips and names both members.
  auto parsed = storage::parse_envelope(sealed->envelope_json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->recipients.size(), 2u);
  EXPECT_EQ(parsed->blob_sha256, sealed->blob_sha256);

  LedgerModelRef ref = ref_for(*sealed);
  ref.envelope = *parsed;
  auto opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->model_bytes, model);
  EXPECT_EQ(opened->blob_size, sealed->blob_size);
  auto loaded = learning::deserialize(opened->model_bytes, learning::ModelSpec::mlp(4, {8}));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(learning::model_hash(*loaded), sealed->model_sha256);
  EXPECT_TRUE(work_dir_is_empty());

  // The sender can read its own candidate back too.
  EXPECT_TRUE(fetch_and_open(store_, ref, alice_.x25519, binding_, options_).ok());
}

TEST_F(ModelHandoff, SealingFromAFileMatchesSealingFromBytes) {
  const chain::Bytes model = tiny_model_bytes(8);
  const fs::path file = dir_.path() / "model.bin";
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(model.data()),
             static_cast<std::streamsize>(model.size()));
  auto sealed = seal_file_and_upload(store_, file, binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_EQ(sealed->model_sha256, chain::sha256(model));
  auto opened = fetch_and_open(store_, ref_for(*sealed), bob_.x25519, binding_, options_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->model_bytes, model);
}

TEST_F(ModelHandoff, TamperedBlobIsRefusedAsHashMismatch) {
  auto sealed = seal_and_upload(store_, tiny_model_bytes(7), binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  {
    std::fstream f(blob_file(sealed->object_key), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(sealed->blob_size / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(sealed->blob_size / 2));
    c = static_cast<char>(c ^ 0x01);
    f.write(&c, 1);
  }
  auto opened = fetch_and_open(store_, ref_for(*sealed), bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::hash_mismatch))
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("tampered"), std::string::npos) << opened.error().message;
  EXPECT_TRUE(work_dir_is_empty());
}

// The receiver looks at the bytes once (decrypting while it hashes), yet the
// reason is the first check that fails in the documented order: a blob that
// is not the ledger's is hash_mismatch even where the key or a chunk would
// have failed first.
TEST_F(ModelHandoff, TamperedBlobIsHashMismatchEvenForANonRecipient) {
  auto sealed = seal_and_upload(store_, tiny_model_bytes(7), binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  flip_byte(blob_file(sealed->object_key), sealed->blob_size / 3);
  auto opened = fetch_and_open(store_, ref_for(*sealed), carol_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::hash_mismatch))
      << opened.error().message;
}

TEST_F(ModelHandoff, BytesAppendedToTheBlobAreHashMismatch) {
  auto sealed = seal_and_upload(store_, tiny_model_bytes(7), binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  std::ofstream(blob_file(sealed->object_key), std::ios::binary | std::ios::app) << "extra";
  auto opened = fetch_and_open(store_, ref_for(*sealed), bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::hash_mismatch))
      << opened.error().message;
}

// Blobs over max_memory_blob stream through a temporary file on both sides:
// the same bytes, the same refusals, and no file left behind.
TEST_F(ModelHandoff, BlobsOverTheMemoryLimitGoThroughAFileWithTheSameChecks) {
  options_.max_memory_blob = 0;
  const chain::Bytes model = tiny_model_bytes(7);
  auto sealed = seal_and_upload(store_, model, binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_EQ(sealed->model_sha256, chain::sha256(model));
  EXPECT_EQ(fs::file_size(blob_file(sealed->object_key)), sealed->blob_size);
  EXPECT_TRUE(work_dir_is_empty());
  auto opened = fetch_and_open(store_, ref_for(*sealed), bob_.x25519, binding_, options_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->model_bytes, model);
  EXPECT_EQ(opened->model_sha256, sealed->model_sha256);
  EXPECT_TRUE(work_dir_is_empty());

  LedgerModelRef other_model = ref_for(*sealed);
  other_model.model_sha256 = chain::sha256(tiny_model_bytes(8));
  opened = fetch_and_open(store_, other_model, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::model_hash_mismatch));

  flip_byte(blob_file(sealed->object_key), sealed->blob_size / 2);
  for (const auto* who : {&bob_, &carol_}) {
    opened = fetch_and_open(store_, ref_for(*sealed), who->x25519, binding_, options_);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::hash_mismatch))
        << opened.error().message;
  }
  EXPECT_TRUE(work_dir_is_empty());
}

// From 8 MiB on, one side's second hash runs on another thread: the same
// bytes, hashes and refusals.
TEST_F(ModelHandoff, LargeModelsHashedOnASecondThreadPassTheSameChecks) {
  chain::Bytes model(9u << 20);
  for (std::size_t i = 0; i < model.size(); ++i)
    model[i] = static_cast<std::uint8_t>(i * 7 + (i >> 12));
  options_.chunk_size = 1u << 20;
  auto sealed = seal_and_upload(store_, model, binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_EQ(sealed->model_sha256, chain::sha256(model));
  auto opened = fetch_and_open(store_, ref_for(*sealed), bob_.x25519, binding_, options_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->model_bytes, model);
  EXPECT_EQ(opened->model_sha256, sealed->model_sha256);

  LedgerModelRef other_model = ref_for(*sealed);
  other_model.model_sha256 = chain::sha256(tiny_model_bytes(8));
  opened = fetch_and_open(store_, other_model, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::model_hash_mismatch));

  flip_byte(blob_file(sealed->object_key), sealed->blob_size - 5);
  for (const auto* who : {&bob_, &carol_}) {
    opened = fetch_and_open(store_, ref_for(*sealed), who->x25519, binding_, options_);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::hash_mismatch))
        << opened.error().message;
  }
}

TEST_F(ModelHandoff, BlobSwappedToAnotherModelFailsAuthenticationEvenWithItsOwnHash) {
  // A genuine blob of another model, copied under this model's key, with the
  // ledger hash rewritten to match: the associated data still refuses it.
  ModelBinding other = binding_;
  other.model_id = "turn-4";
  auto sealed = seal_and_upload(store_, tiny_model_bytes(9), other, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  const std::string key = *model_object_key(binding_.run_id, binding_.model_id);
  fs::copy_file(blob_file(sealed->object_key), blob_file(key));
  LedgerModelRef ref = ref_for(*sealed);
  ref.object_key = key;
  auto opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::authentication_failed))
      << opened.error().message;
}

TEST_F(ModelHandoff, NonRecipientIsRefused) {
  auto sealed = seal_and_upload(store_, tiny_model_bytes(7), binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  auto opened = fetch_and_open(store_, ref_for(*sealed), carol_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::not_recipient))
      << opened.error().message;
  EXPECT_TRUE(work_dir_is_empty());
}

TEST_F(ModelHandoff, MissingBlobIsReported) {
  auto sealed = seal_and_upload(store_, tiny_model_bytes(7), binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  ASSERT_TRUE(store_.remove(sealed->object_key).ok());
  auto opened = fetch_and_open(store_, ref_for(*sealed), bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::missing_blob))
      << opened.error().message;
}

TEST_F(ModelHandoff, EnvelopeForAnotherBlobIsRefused) {
  auto first = seal_and_upload(store_, tiny_model_bytes(7), binding_, alice_and_bob(), options_);
  ModelBinding other = binding_;
  other.model_id = "turn-5";
  auto second = seal_and_upload(store_, tiny_model_bytes(7), other, alice_and_bob(), options_);
  ASSERT_TRUE(first.ok() && second.ok());
  LedgerModelRef ref = ref_for(*first);
  ref.envelope = second->envelope;  // records the other blob's hash
  auto opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::hash_mismatch))
      << opened.error().message;
  // Without the hash in the envelope, the key commitment still refuses it.
  ref.envelope.blob_sha256.reset();
  ref.envelope.blob_size.reset();
  opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::authentication_failed))
      << opened.error().message;
}

TEST_F(ModelHandoff, ModelHashOtherThanTheLedgersIsRefused) {
  auto sealed = seal_and_upload(store_, tiny_model_bytes(7), binding_, alice_and_bob(), options_);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  LedgerModelRef ref = ref_for(*sealed);
  ref.model_sha256 = chain::sha256(tiny_model_bytes(8));
  auto opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::model_hash_mismatch))
      << opened.error().message;
}

TEST_F(ModelHandoff, SealingWithoutRecipientsIsRefused) {
  auto sealed = seal_and_upload(store_, tiny_model_bytes(7), binding_, {}, options_);
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.error().code, static_cast<int>(HandoffErrc::invalid_argument));
  EXPECT_FALSE(fs::exists(dir_.path() / "store" / "runs"));
}

TEST(HandoffEvaluate, MeasuresTheSameAucAsPredictingDirectly) {
  const learning::Dataset validation = tiny_validation();
  auto model = learning::Model::create(learning::ModelSpec::mlp(4, {8}), 11);
  ASSERT_TRUE(model.ok());
  auto evaluation = evaluate(learning::serialize(*model), model->spec(), validation);
  ASSERT_TRUE(evaluation.ok()) << evaluation.error().message;
  auto predictions = model->predict(validation);
  ASSERT_TRUE(predictions.ok());
  auto auc = learning::roc_auc(validation.y, predictions->scores());
  ASSERT_TRUE(auc.ok());
  EXPECT_EQ(evaluation->auc, *auc);
  EXPECT_EQ(evaluation->rows, validation.rows);
  EXPECT_EQ(evaluation->scores, predictions->scores());
}

TEST(HandoffEvaluate, RefusesBytesThatAreNotAModel) {
  const chain::Bytes garbage = {'B', 'A', 'T', 'O', 'N', 0, 1, 2};
  auto evaluation = evaluate(garbage, learning::ModelSpec::mlp(4, {8}), tiny_validation());
  ASSERT_FALSE(evaluation.ok());
  EXPECT_EQ(evaluation.error().code, static_cast<int>(HandoffErrc::bad_model));
}

TEST(HandoffEvaluate, RefusesValidationDataOfAnotherShape) {
  auto model = learning::Model::create(learning::ModelSpec::mlp(5, {4}), 1);
  ASSERT_TRUE(model.ok());
  auto evaluation = evaluate(learning::serialize(*model), model->spec(), tiny_validation());
  ASSERT_FALSE(evaluation.ok());
  EXPECT_EQ(evaluation.error().code, static_cast<int>(HandoffErrc::evaluation_failed));
}

}  // namespace
}  // namespace baton::agent
