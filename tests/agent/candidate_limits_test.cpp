// What a voter spends on a candidate is bounded by the plan (issue 11, section
// 6): a blob of another size than the plan's model seals to is refused before
// it is downloaded (and a download that runs past that size is stopped), a
// model's scoring has a budget, and the threads that score it flush denormal
// floats. The attacker here is the partner, who holds the data key and so
// writes every byte of its candidate.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "chain/keys.h"
#include "learning/model.h"
#include "agent/model_handoff.h"
#include "storage/file_store.h"
#include "storage/memory_object_store.h"
#include "storage/vault.h"
#include "tests/agent/counting_store.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;
using test_doubles::CountingStore;

const learning::ModelSpec kPlanSpec = learning::ModelSpec::mlp(4, {8});

learning::Dataset validation_rows(std::size_t rows) {
  learning::Dataset data;
  data.features = 4;
  data.num_classes = 2;
  data.class_names = {"negative", "positive"};
  for (std::size_t i = 0; i < rows; ++i) {
    const int label = static_cast<int>(i % 2);
    for (int f = 0; f < 4; ++f) data.x.push_back(0.5f + 0.25f * static_cast<float>(label + f));
    data.y.push_back(label);
  }
  data.rows = rows;
  return data;
}

chain::Bytes model_bytes(const learning::ModelSpec& spec) {
  auto model = learning::Model::create(spec, 3);
  EXPECT_TRUE(model.ok());
  return learning::serialize(*model);
}

class CandidateLimits : public ::testing::Test {
 protected:
  CandidateLimits()
      : alice_(chain::generate_member_keys("alice")),
        bob_(chain::generate_member_keys("bob")),
        store_(std::make_unique<storage::FileObjectStore>(dir_.path() / "store")) {
    options_.work_dir = dir_.path() / "work";
    binding_ = {"test-chain", "run-1", "turn-3", "turn-2"};
  }

  // Seals `bytes` as alice's candidate and returns what a voter knows of it,
  // with the size the plan's spec implies.
  LedgerModelRef upload(const chain::Bytes& bytes) {
    auto sealed = seal_and_upload(store_, bytes, binding_,
                                  {alice_.public_keys(), bob_.public_keys()}, options_);
    EXPECT_TRUE(sealed.ok()) << sealed.error().message;
    LedgerModelRef ref{sealed->object_key, sealed->blob_sha256, sealed->model_sha256,
                       sealed->envelope};
    ref.blob_size = expected_blob_size(kPlanSpec, options_.chunk_size);
    return ref;
  }

  testing::TempDir dir_;
  chain::MemberSecretKeys alice_;
  chain::MemberSecretKeys bob_;
  CountingStore store_;
  HandoffOptions options_;
  ModelBinding binding_;
};

TEST(ExpectedBlobSize, IsWhatSealingAModelOfTheSpecProduces) {
  for (const auto& spec : {kPlanSpec, learning::ModelSpec::mlp(30, {64, 32}),
                           learning::ModelSpec::resnet3d({1, 4, 8, 8}, 2)}) {
    const auto plaintext = model_bytes(spec);
    EXPECT_EQ(expected_blob_size(spec),
              storage::sealed_blob_size(plaintext.size(), HandoffOptions{}.chunk_size));
  }
}

TEST_F(CandidateLimits, ABlobOfThePlansSizeIsFetchedOnce) {
  const auto ref = upload(model_bytes(kPlanSpec));
  auto opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(store_.downloads.load(), 1);
  EXPECT_EQ(store_.bytes_downloaded.load(), *ref.blob_size);
}

TEST_F(CandidateLimits, AnOversizedBlobIsRefusedWithoutBeingDownloaded) {
  // A model of a bigger spec, sealed and recorded like a real candidate: its
  // hashes and key are all in order, only its size gives it away.
  const auto ref = upload(model_bytes(learning::ModelSpec::mlp(4, {4096})));
  EXPECT_GT(store_.head(ref.object_key)->size, *ref.blob_size);
  auto opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::wrong_size))
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("was not downloaded"), std::string::npos);
  EXPECT_EQ(store_.downloads.load(), 0);
  EXPECT_EQ(store_.bytes_downloaded.load(), 0u);
}

TEST_F(CandidateLimits, AnUndersizedBlobIsRefusedWithoutBeingDownloaded) {
  auto ref = upload(model_bytes(kPlanSpec));
  // 97 bytes: a blob header and one chunk's tag and change.
  ASSERT_TRUE(store_.put(ref.object_key, chain::Bytes(97, 0x42)).ok());
  auto opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::wrong_size));
  EXPECT_EQ(store_.downloads.load(), 0);
}

TEST_F(CandidateLimits, AStoreThatUnderstatesTheSizeCannotMakeTheVoterDownloadMore) {
  // The store answers HEAD with the plan's size but holds 8 MiB under the key.
  const auto ref = upload(model_bytes(kPlanSpec));
  ASSERT_TRUE(store_.put(ref.object_key, chain::Bytes(8 << 20, 0x42)).ok());
  store_.head_size = *ref.blob_size;
  auto opened = fetch_and_open(store_, ref, bob_.x25519, binding_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, static_cast<int>(HandoffErrc::wrong_size))
      << opened.error().message;
  EXPECT_EQ(store_.downloads.load(), 1);
  EXPECT_EQ(store_.bytes_downloaded.load(), 0u);  // refused, nothing handed over
}

TEST(EvaluationBudget, IsTheFloorForSmallModelsAndGrowsWithTheWork) {
  const EvaluationBudget b;
  const auto floor = std::chrono::duration<double>(b.floor_s);
  EXPECT_EQ(evaluation_budget(learning::ModelSpec::mlp(30, {64, 32}), 28, b), floor);
  const auto resnet = learning::ModelSpec::resnet3d();
  const auto one = evaluation_budget(resnet, 100, b);
  const auto two = evaluation_budget(resnet, 200, b);
  EXPECT_GT(one, floor);
  EXPECT_NEAR(std::chrono::duration<double>(two).count(),
              2 * std::chrono::duration<double>(one).count(), 1e-6);
}

TEST(EvaluationBudget, ScoringPastItIsRefusedAsOverBudget) {
  auto model = learning::Model::create(kPlanSpec, 3);
  ASSERT_TRUE(model.ok());
  auto eval = evaluate(*model, validation_rows(600), std::chrono::nanoseconds(0));
  ASSERT_FALSE(eval.ok());
  EXPECT_EQ(eval.error().code, static_cast<int>(HandoffErrc::over_budget)) << eval.error().message;
  EXPECT_TRUE(evaluate(*model, validation_rows(600), std::chrono::hours(1)).ok());
}

// A candidate whose weights are denormal (+-1e-39), loaded from its bytes as
// a voter does: the threads that score it (the voter's thread and its
// LibTorch pool) have flush-to-zero on, whatever their mode before.
TEST(CandidateEvaluation, RunsWithDenormalsFlushedOnEveryThreadThatScores) {
  auto bytes = model_bytes(kPlanSpec);
  std::size_t at = 16 + learning::to_json(kPlanSpec).size() + 4;
  for (const auto& t : learning::tensor_layout(kPlanSpec)) {
    at += 2 + t.name.size() + 2 + 8 * t.dims.size();
    std::size_t n = 1;
    for (auto d : t.dims) n *= static_cast<std::size_t>(d);
    const float v = t.dims.size() >= 2 ? 1e-39f : 0.0f;
    for (std::size_t i = 0; i < n; ++i) std::memcpy(bytes.data() + at + 4 * i, &v, 4);
    at += 4 * n;
  }
  for (int threads : {1, 2}) {
    learning::init_torch(threads);
    learning::DenormalFlushCheck before, after;
    std::thread([&] {
      learning::set_denormal_flush(false);
      before = learning::check_denormal_flush();
      auto eval = evaluate(bytes, kPlanSpec, validation_rows(64));
      ASSERT_TRUE(eval.ok()) << eval.error().message;
      after = learning::check_denormal_flush();
    }).join();
    EXPECT_EQ(before.flushing, 0) << threads;
    EXPECT_EQ(after.threads, threads);
    EXPECT_EQ(after.flushing, threads);
  }
  learning::init_torch(1);
}

}  // namespace
}  // namespace baton::agent
