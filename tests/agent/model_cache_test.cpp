// A node's own copies of approved models (agent/model_cache.h) and the checks
// and repairs of the object store's copies against the ledger
// (storage/model_copies.h), issue 11. Real file:// stores in temporary
// directories; the training state is built by hand.
#include "agent/model_cache.h"

#include <gtest/gtest.h>

#include <fstream>

#include "storage/model_copies.h"
#include "storage/file_store.h"
#include "storage/memory_object_store.h"
#include "tests/support/test_support.h"

namespace baton::agent {

using storage::CopyCheck;
using storage::CopyCheckOptions;
using storage::ModelRepair;
using storage::StoredCopy;
namespace {

namespace fs = std::filesystem;

chain::Hash hash_of(const chain::Bytes& b) { return chain::sha256(b); }

chain::Bytes blob(std::uint8_t tag, std::size_t size = 64) { return chain::Bytes(size, tag); }

std::string key(const std::string& run, int turn) {
  return "runs/" + run + "/models/turn-" + std::to_string(turn) + ".blob";
}

chain::ModelRecord model(const std::string& run, int turn, std::uint8_t tag) {
  chain::ModelRecord m;
  m.id.bytes.fill(static_cast<std::uint8_t>(tag + 100));
  m.turn = static_cast<std::uint64_t>(turn);
  m.contributor = "hospital-" + std::to_string(turn);
  m.object_key = key(run, turn);
  m.ciphertext_sha256 = hash_of(blob(tag));
  return m;
}

// Run "old" finished (final model turn 1), run "new" active with approved
// turns 0 and 2 (head: 2) and turn 3 in save_voting with a candidate.
chain::TrainingState two_runs() {
  chain::TrainingState ts;
  chain::Run old;
  old.plan.run_id = "old";
  old.status = chain::RunStatus::finished;
  old.start_height = 1;
  old.models = {model("old", 0, 1), model("old", 1, 2)};
  old.head = old.models.back().id;
  ts.runs["old"] = old;

  chain::Run now;
  now.plan.run_id = "new";
  now.start_height = 50;
  now.models = {model("new", 0, 3), model("new", 2, 4)};
  now.head = now.models.back().id;
  chain::Turn t;
  t.index = 3;
  t.phase = chain::TurnPhase::save_voting;
  chain::SaveRecord s;
  s.object_key = key("new", 3);
  s.ciphertext_sha256 = hash_of(blob(5));
  t.save = s;
  now.turns.resize(3);
  now.turns.push_back(t);
  ts.runs["new"] = now;
  ts.active_run = "new";
  return ts;
}

std::vector<std::string> keys_of(const std::vector<WantedModel>& w) {
  std::vector<std::string> out;
  for (const auto& m : w) out.push_back(m.object_key);
  return out;
}

TEST(ModelCacheRetention, HeadsThenCandidatesThenFinalModelsThenTheLineage) {
  const auto ts = two_runs();
  const auto all = wanted_models(ts, /*keep_lineage=*/true, /*keep_finished=*/true);
  EXPECT_EQ(keys_of(all),
            (std::vector<std::string>{key("new", 2), key("new", 3), key("old", 1), key("new", 0)}));
  EXPECT_EQ(all[0].why, WantedModel::Why::head);
  EXPECT_EQ(all[0].ciphertext_sha256, hash_of(blob(4)));
  EXPECT_EQ(all[1].why, WantedModel::Why::candidate);
  EXPECT_EQ(all[1].ciphertext_sha256, hash_of(blob(5)));
  EXPECT_EQ(all[2].why, WantedModel::Why::final_model);
  EXPECT_EQ(all[3].why, WantedModel::Why::lineage);
  EXPECT_EQ(keys_of(wanted_models(ts, false, true)),
            (std::vector<std::string>{key("new", 2), key("new", 3), key("old", 1)}));
  EXPECT_EQ(keys_of(wanted_models(ts, true, false)),
            (std::vector<std::string>{key("new", 2), key("new", 3), key("new", 0)}));
}

TEST(ModelCacheRetention, ACandidateNotYetOnTheLedgerIsKeptUnderItsTurnsKey) {
  auto ts = two_runs();
  auto& t = ts.runs["new"].turns.back();
  t.save.reset();
  t.phase = chain::TurnPhase::training;
  const auto w = wanted_models(ts, true, true);
  ASSERT_GE(w.size(), 2u);
  EXPECT_EQ(w[1].object_key, key("new", 3));
  EXPECT_FALSE(w[1].ciphertext_sha256.has_value());
}

TEST(ModelCacheRetention, EvictsTheUnwantedThenTheLeastWantedUntilTheRestFits) {
  const auto wanted = wanted_models(two_runs(), true, true);
  const std::vector<CachedObject> cached{{key("new", 0), 100}, {key("new", 1), 100},
                                         {key("new", 2), 100}, {key("old", 0), 100},
                                         {key("old", 1), 100}, {key("new", 3), 100}};
  // Unwanted: the rejected turn 1 of new and the old run's earlier model.
  EXPECT_EQ(eviction_list(wanted, cached, 1000),
            (std::vector<std::string>{key("new", 1), key("old", 0)}));
  EXPECT_EQ(eviction_list(wanted, cached, 400),
            (std::vector<std::string>{key("new", 1), key("old", 0)}));
  EXPECT_EQ(eviction_list(wanted, cached, 399),
            (std::vector<std::string>{key("new", 1), key("old", 0), key("new", 0)}));
  EXPECT_EQ(eviction_list(wanted, cached, 100),
            (std::vector<std::string>{key("new", 1), key("old", 0), key("new", 0), key("old", 1),
                                      key("new", 3)}));
}

TEST(ModelCache, RetainDeletesWhatTheRuleNoLongerWants) {
  testing::TempDir dir("model-cache");
  api::ModelCacheConfig config;
  config.dir = dir.path() / "cache";
  auto cache = ModelCache::open(config);
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  EXPECT_EQ(fs::status(config.dir).permissions() & fs::perms::all, fs::perms::owner_all);
  for (const auto& k : {key("new", 0), key("new", 1), key("new", 2), key("old", 0), key("old", 1)})
    ASSERT_TRUE((*cache)->store().put(k, blob(9)).ok());
  auto gone = (*cache)->retain(two_runs());
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_EQ(*gone, (std::vector<std::string>{key("new", 1), key("old", 0)}));
  auto left = (*cache)->list();
  ASSERT_TRUE(left.ok());
  std::vector<std::string> keys;
  for (const auto& c : *left) keys.push_back(c.key);
  EXPECT_EQ(keys, (std::vector<std::string>{key("new", 0), key("new", 2), key("old", 1)}));
}

// ---- the store's copies ----------------------------------------------------

struct Stores {
  testing::TempDir dir{"model-repair"};
  storage::FileObjectStore store{dir.path() / "store"};
  storage::FileObjectStore copies{dir.path() / "copies"};
  fs::path work() const { return dir.path() / "work"; }
};

TEST(ModelRepair, ChecksTheStoredCopyAgainstTheLedgersHash) {
  Stores s;
  const std::string k = key("r", 0);
  const chain::Bytes right = blob(1);
  CopyCheckOptions o;
  EXPECT_EQ(check_copy(s.store, k, hash_of(right), o).state, StoredCopy::missing);
  ASSERT_TRUE(s.store.put(k, right).ok());
  CopyCheck c = check_copy(s.store, k, hash_of(right), o);
  EXPECT_EQ(c.state, StoredCopy::ok);
  EXPECT_TRUE(c.hashed);
  chain::Bytes flipped = right;
  flipped[10] ^= 1;
  ASSERT_TRUE(s.store.put(k, flipped).ok());
  c = check_copy(s.store, k, hash_of(right), o);
  EXPECT_EQ(c.state, StoredCopy::wrong_hash);
  EXPECT_NE(c.detail.find(hash_of(right).hex()), std::string::npos) << c.detail;
  // Size only (a blob over full_check_max_bytes): a same-size flip passes,
  // another size does not, without downloading.
  o.full_check_max_bytes = 10;
  o.expected_size = right.size();
  c = check_copy(s.store, k, hash_of(right), o);
  EXPECT_EQ(c.state, StoredCopy::ok);
  EXPECT_FALSE(c.hashed);
  ASSERT_TRUE(s.store.put(k, blob(1, 65)).ok());
  EXPECT_EQ(check_copy(s.store, k, hash_of(right), o).state, StoredCopy::wrong_size);
}

TEST(ModelRepair, AnUnreachableStoreIsNotCalledMissing) {
  storage::MemoryObjectStore store;
  store.fail_next(5);
  const CopyCheck c = check_copy(store, key("r", 0), hash_of(blob(1)), {});
  EXPECT_EQ(c.state, StoredCopy::unreachable);
  EXPECT_FALSE(c.detail.empty());
}

TEST(ModelRepair, LargeBlobsAreHashedThroughAFile) {
  Stores s;
  const chain::Bytes right = blob(3, 5000);
  ASSERT_TRUE(s.store.put(key("r", 0), right).ok());
  CopyCheckOptions o;
  o.max_memory_blob = 100;
  o.work_dir = s.work();
  EXPECT_EQ(check_copy(s.store, key("r", 0), hash_of(right), o).state, StoredCopy::ok);
  ASSERT_TRUE(s.copies.put(key("r", 1), right).ok());
  ASSERT_TRUE(restore_copy(s.copies, s.store, key("r", 1), hash_of(right), s.work(), 100).ok());
  EXPECT_EQ(*s.store.get(key("r", 1)), right);
  for (const auto& e : fs::directory_iterator(s.work())) ADD_FAILURE() << "left " << e.path();
}

TEST(ModelRepair, RestoresOnlyACopyThatHashesToTheLedgers) {
  Stores s;
  const std::string k = key("r", 0);
  const chain::Bytes right = blob(1), older = blob(2);
  ASSERT_TRUE(s.store.put(k, older).ok());  // an older blob in the head's place
  // A copy that is not the ledger's is never put back.
  ASSERT_TRUE(s.copies.put(k, blob(7)).ok());
  EXPECT_FALSE(restore_copy(s.copies, s.store, k, hash_of(right), s.work()).ok());
  EXPECT_EQ(*s.store.get(k), older);
  // No copy at all: not_found.
  auto none = restore_copy(s.copies, s.store, key("r", 9), hash_of(right), s.work());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, static_cast<int>(storage::StoreErrc::not_found));
  // The right copy is.
  ASSERT_TRUE(s.copies.put(k, right).ok());
  ASSERT_TRUE(restore_copy(s.copies, s.store, k, hash_of(right), s.work()).ok());
  EXPECT_EQ(*s.store.get(k), right);
}

TEST(ModelRepair, RepairsEveryApprovedModelOfARunAndSaysWhatItCouldNot) {
  Stores s;
  chain::Run run;
  run.plan.run_id = "r";
  for (int t = 0; t < 4; ++t) run.models.push_back(model("r", t, static_cast<std::uint8_t>(t + 1)));
  // turn 0 fine; turn 1 flipped (copy held); turn 2 missing (copy held);
  // turn 3 missing and no copy.
  ASSERT_TRUE(s.store.put(key("r", 0), blob(1)).ok());
  chain::Bytes flipped = blob(2);
  flipped[0] ^= 0x80;
  ASSERT_TRUE(s.store.put(key("r", 1), flipped).ok());
  ASSERT_TRUE(s.copies.put(key("r", 1), blob(2)).ok());
  ASSERT_TRUE(s.copies.put(key("r", 2), blob(3)).ok());
  const auto out = repair_run_models(s.store, &s.copies, run, s.work());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].outcome, ModelRepair::Outcome::ok);
  EXPECT_EQ(out[1].before, StoredCopy::wrong_hash);
  EXPECT_EQ(out[1].outcome, ModelRepair::Outcome::restored);
  EXPECT_EQ(out[2].before, StoredCopy::missing);
  EXPECT_EQ(out[2].outcome, ModelRepair::Outcome::restored);
  EXPECT_EQ(out[3].outcome, ModelRepair::Outcome::no_copy);
  EXPECT_EQ(*s.store.get(key("r", 1)), blob(2));
  EXPECT_EQ(*s.store.get(key("r", 2)), blob(3));
  const auto j = repair_json("r", out);
  EXPECT_EQ(j["unrestored"], 1);
  EXPECT_EQ(j["models"][3]["outcome"], "no_copy");
  // Check only (no copies): nothing changes.
  ASSERT_TRUE(s.store.remove(key("r", 2)).ok());
  const auto checked = repair_run_models(s.store, nullptr, run, s.work());
  EXPECT_EQ(checked[2].outcome, ModelRepair::Outcome::no_copy);
  EXPECT_FALSE(s.store.head(key("r", 2)).ok());
}

}  // namespace
}  // namespace baton::agent
