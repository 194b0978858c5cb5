// The Python auditor (tests/chain/audit_export.py with audit_rounds.py) on a
// federated run (docs/PROTOCOL.md §21): it replays RoundShare, RoundUpload and
// RoundUnmask, the phases and their deadlines, the reconstruction of the
// revealed secrets (a dropout's ephemeral key, a dealer whose shares do not
// reconstruct), the aggregate's vote and the split of its gain, and the
// refusals 50..56, from the documents alone, to every block's state hash.
#include <gtest/gtest.h>

#include "audit_fixture.h"
#include "round_fixture.h"

namespace baton::chain::testing {
namespace {

using R = ProtocolRejected;

TEST(AuditRounds, TheAuditorReplaysAFederatedRunToTheSameStateHashes) {
  RoundChain p;
  EXPECT_EQ(p.commit_refused(p.start(0, federated_plan(4, 4, 1, 3))), R::invalid_plan);
  TrainingPlan plan = federated_plan(4, 4, 3, 3);
  plan.load_deadline_blocks = 8;  // room for refusals in blocks of their own
  plan.save_deadline_blocks = 10;
  plan.vote_deadline_blocks = 8;
  p.commit(p.start(0, plan));
  EXPECT_EQ(p.commit_refused(p.load_request(0, 0, std::nullopt)), R::not_federated);

  // Round 0: dave shares but never uploads; a complaint; refusals of each kind.
  p.commit(p.round_share(0, 0));
  EXPECT_EQ(p.commit_refused(p.round_share(0, 0)), R::already_shared);
  p.commit(p.round_share(1, 0));
  p.commit(p.round_share(2, 0));
  p.commit(p.round_share(3, 0));
  ASSERT_EQ(p.turn().phase, TurnPhase::round_uploading);
  EXPECT_EQ(p.commit_refused(p.round_upload(0, 1)), R::wrong_round);
  p.commit(p.round_upload(0, 0, 100));
  p.commit(p.round_upload(1, 0, 250));
  p.commit(p.round_upload(2, 0, 7));
  EXPECT_EQ(p.commit_refused(p.round_upload(2, 0)), R::already_uploaded);
  while (p.turn().phase == TurnPhase::round_uploading) p.empty_blocks(1);
  pb::RoundUnmask tampered = p.unmask_payload(3, 0);
  (*tampered.mutable_shares(0))[0] ^= 1;
  EXPECT_EQ(p.commit_refused(p.round_unmask(3, tampered)), R::wrong_share);
  p.commit(p.round_unmask(3, 0));
  p.commit(p.round_unmask(0, 0));
  pb::TurnAbandon complaint;
  complaint.set_run_id("run-1");
  complaint.set_reason(static_cast<std::uint32_t>(LoadFailure::upload_unusable));
  complaint.set_detail("dave uploaded nothing");
  p.commit(p.tx(2, pb::TX_TURN_ABANDON, complaint));
  p.commit(p.round_unmask(2, 0));
  ASSERT_EQ(p.turn().phase, TurnPhase::round_aggregating);
  EXPECT_EQ(p.round().ephemeral_secrets.size(), 1u);
  pb::SaveRequest heavy;
  ASSERT_TRUE(heavy.ParseFromString(p.aggregate(1, 0).payload()));
  heavy.set_train_samples(358);
  EXPECT_EQ(p.commit_refused(p.tx(1, pb::TX_SAVE_REQUEST, heavy)), R::malformed_request);
  const Hash save = p.commit(p.aggregate(1, 0));
  p.commit(p.model_vote(1, save, true, 760000, 700000));  // the aggregator votes too
  p.commit(p.model_vote(0, save, true, 750000, 700000));
  p.commit(p.model_vote(2, save, true, 710000, 700000));
  ASSERT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  p.commit(p.model_vote(3, save, true, 800000, 700000));  // late, counts for the gain

  // Round 1: carol deals shares of another seed than the one it committed to.
  p.commit(p.round_share(0, 1));
  p.commit(p.round_share(1, 1));
  pb::RoundShare cheat = p.share_payload(2, 1, p.dealing(2, 1));
  cheat.clear_self_share_commitments();
  for (std::uint32_t r = 0; r < 4; ++r) {
    cheat.add_self_share_commitments(hash_bytes(share_commitment(
        p.binding(1), ShareKind::self_seed, 2, r, p.dealing(2, 9).self_shares[r])));
  }
  p.commit(p.round_share(2, cheat));
  p.commit(p.round_share(3, 1));
  for (std::size_t i = 0; i < 4; ++i) p.commit(p.round_upload(i, 1));
  for (std::size_t i : {0u, 1u, 3u}) {
    pb::RoundUnmask u = p.unmask_payload(i, 1);
    u.set_shares(2, hash_bytes(p.dealing(2, 9).self_shares[i]));
    p.commit(p.round_unmask(i, u));
  }
  ASSERT_EQ(p.run().turns[1].outcome, TurnOutcome::round_failed);

  // Round 2 expires in sharing (2 < need), round 3 in unmasking (2 < t).
  p.commit(p.round_share(0, 2));
  p.commit(p.round_share(1, 2));
  while (p.turn().index == 2) p.empty_blocks(1);
  for (std::size_t i = 0; i < 4; ++i) p.commit(p.round_share(i, 3));
  for (std::size_t i = 0; i < 4; ++i) p.commit(p.round_upload(i, 3));
  p.commit(p.round_unmask(0, 3));
  p.commit(p.round_unmask(1, 3));
  while (p.run().status == RunStatus::active) p.empty_blocks(1);
  p.empty_blocks(p.plan().vote_deadline_blocks);
  ASSERT_TRUE(p.run().models[0].gain_settled);
  EXPECT_EQ(p.run().turns[2].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.run().turns[3].outcome, TurnOutcome::expired);
  // Gains 60000, 50000, 10000, 100000: median interval [50000, 60000] -> 50000, split by 3.
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 16666);
  EXPECT_EQ(p.run().contributivity_ppm.at("dave"), 0);
  expect_audit_agrees(p);
}

// A federated plan in the genesis, in its JSON form with the defaults (t =
// min_partners = 3 of 4): the auditor reads "mode" and "federated" as the
// ledger does and replays a round from block 1.
TEST(AuditRounds, ReadsAFederatedGenesisPlanWithItsDefaults) {
  RoundChain p;
  nlohmann::ordered_json text = nlohmann::ordered_json::parse(encode_genesis(fixed_genesis()));
  text["training_plan"] = nlohmann::ordered_json::parse(R"({
    "run_id": "run-1",
    "model": {"num_classes": 2, "input_shape": [2], "hidden": [8], "architecture": "mlp"},
    "dataset": {"feature_columns": ["age", "volume"], "label_column": "survival"},
    "partners": ["alice", "bob", "carol", "dave"],
    "mode": "federated",
    "federated": {"rounds": 2, "local_epochs": 3},
    "deadlines": {"load_blocks": 8, "save_blocks": 8, "vote_blocks": 4}})");
  p.chain.genesis_text = text.dump(2) + "\n";
  p.chain.spec = load_chain_spec(p.chain.genesis_text).value();
  p.chain.state = initial_state(p.chain.spec.genesis_hash);
  ASSERT_TRUE(p.chain.spec.genesis_plan().has_value());
  EXPECT_EQ(p.chain.spec.genesis_plan()->secagg_threshold, 3u);
  EXPECT_EQ(p.chain.spec.genesis_plan()->epochs, 3u);

  p.empty_blocks(1);  // block 1 starts the genesis run
  p.play_to_aggregating(0, {0, 1, 2, 3}, {0, 1, 2, 3});
  const Hash save = p.commit(p.aggregate(2, 0));
  p.commit(p.model_vote(0, save, true, 720000, 700000));
  p.commit(p.model_vote(1, save, true, 730000, 700000));
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  ASSERT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  EXPECT_EQ(p.run().started_by, "genesis");
  p.empty_blocks(6);
  expect_audit_agrees(p);
}

}  // namespace
}  // namespace baton::chain::testing
