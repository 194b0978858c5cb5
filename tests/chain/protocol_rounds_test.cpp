// Federated rounds with secure aggregation (issue 15, docs/PROTOCOL.md §21):
// the phases of a round, their early ends and deadlines, the ledger's
// reconstruction of the revealed secrets, the vote on the aggregate and the
// split of its gain.
#include <gtest/gtest.h>

#include "chain/ledger_state.h"
#include "round_fixture.h"

namespace baton::chain::testing {
namespace {

TEST(ProtocolRounds, AFullRoundSharesUploadsUnmasksAggregatesAndIsApproved) {
  RoundChain p;
  p.commit(p.start(0, federated_plan()));
  ASSERT_EQ(p.run().turns.size(), 1u);
  EXPECT_EQ(p.turn().phase, TurnPhase::round_sharing);
  EXPECT_EQ(p.turn().partner, "");
  EXPECT_FALSE(p.turn().head_before.has_value());
  EXPECT_EQ(p.turn().deadline_height, p.turn().start_height + p.plan().load_deadline_blocks);
  ASSERT_TRUE(p.turn().round.has_value());

  // Sharing ends early: the fourth RoundShare moves the round on at once.
  for (std::size_t i = 0; i < 3; ++i) p.commit(p.round_share(i, 0));
  EXPECT_EQ(p.turn().phase, TurnPhase::round_sharing);
  p.commit(p.round_share(3, 0));
  EXPECT_EQ(p.turn().phase, TurnPhase::round_uploading);
  EXPECT_EQ(p.turn().deadline_height, p.chain.state.height + p.plan().save_deadline_blocks);
  EXPECT_EQ(p.round().shares.size(), 4u);
  EXPECT_EQ(p.round().shares.at("bob").ephemeral_public,
            *x25519_public_of(p.dealing(1, 0).ephemeral_secret));

  // Uploading ends early when every sharer uploaded.
  const std::uint64_t weights[] = {100, 250, 7, 1000};
  for (std::size_t i = 0; i < 4; ++i) p.commit(p.round_upload(i, 0, weights[i]));
  EXPECT_EQ(p.turn().phase, TurnPhase::round_unmasking);
  EXPECT_EQ(p.round().total_weight(), 1357u);
  EXPECT_EQ(p.turn().deadline_height, p.chain.state.height + p.plan().vote_deadline_blocks);

  // Unmasking ends at the t-th (3rd) RoundUnmask: every uploader's self seed
  // is reconstructed and public; no ephemeral secret is revealed.
  p.commit(p.round_unmask(3, 0));
  p.commit(p.round_unmask(1, 0));
  EXPECT_EQ(p.turn().phase, TurnPhase::round_unmasking);
  EXPECT_TRUE(p.round().self_seeds.empty());
  p.commit(p.round_unmask(2, 0));
  EXPECT_EQ(p.turn().phase, TurnPhase::round_aggregating);
  ASSERT_EQ(p.round().self_seeds.size(), 4u);
  for (std::uint32_t d = 0; d < 4; ++d)
    EXPECT_EQ(p.round().self_seeds.at(member_name(d)), p.dealing(d, 0).self_seed);
  EXPECT_TRUE(p.round().ephemeral_secrets.empty());
  EXPECT_EQ(p.round().failed_dealer, "");

  // Any partner aggregates: bob's SaveRequest makes it the round's partner.
  const Hash save = p.commit(p.aggregate(1, 0));
  EXPECT_EQ(p.turn().phase, TurnPhase::save_voting);
  EXPECT_EQ(p.turn().partner, "bob");
  EXPECT_EQ(p.turn().save->train_samples, 1357u);
  // Every member votes, bob and the contributors included (nobody authored
  // the aggregate): three of four is a quorum of the whole power.
  p.commit(p.model_vote(1, save, true, 760000, 700000));
  p.commit(p.model_vote(0, save, true, 750000, 700000));
  EXPECT_EQ(p.turn().phase, TurnPhase::save_voting);
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  const Turn& done = p.run().turns[0];
  EXPECT_EQ(done.outcome, TurnOutcome::approved);
  EXPECT_EQ(p.run().head, save);
  ASSERT_EQ(p.run().models.size(), 1u);
  const ModelRecord& m = p.run().models[0];
  EXPECT_EQ(m.contributor, "bob");
  EXPECT_EQ(m.contributors, (std::vector<std::string>{"alice", "bob", "carol", "dave"}));
  EXPECT_EQ(m.load_token_id, Hash{});
  // Round 1 begins from the new head.
  ASSERT_EQ(p.run().turns.size(), 2u);
  EXPECT_EQ(p.turn().index, 1u);
  EXPECT_EQ(p.turn().phase, TurnPhase::round_sharing);
  EXPECT_EQ(p.turn().head_before, save);
  auto view = whose_turn(p.training());
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->turn, 1u);
  EXPECT_EQ(view->phase, TurnPhase::round_sharing);
}

TEST(ProtocolRounds, TheSettledGainIsSplitEquallyAmongTheContributors) {
  RoundChain p;
  p.commit(p.start(0, federated_plan(4, 2)));
  p.play_to_aggregating(0, {0, 1, 2, 3}, {0, 2, 3});  // bob shared, did not upload
  const Hash save = p.commit(p.aggregate(3, 0));
  // Gains 50000, 40000, 70000: the median is 50000.
  p.commit(p.model_vote(0, save, true, 750000, 700000));
  p.commit(p.model_vote(1, save, true, 740000, 700000));
  p.commit(p.model_vote(2, save, true, 770000, 700000));
  ASSERT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  p.empty_blocks(p.plan().vote_deadline_blocks);  // until the vote deadline
  const ModelRecord& m = p.run().models[0];
  ASSERT_TRUE(m.gain_settled);
  EXPECT_EQ(m.median_gain_ppm, 50000);
  EXPECT_EQ(m.contributors, (std::vector<std::string>{"alice", "carol", "dave"}));
  // 50000 / 3 = 16666 each; the remainder goes to nobody; the aggregator
  // (dave, a contributor here) gets no more than the others, bob nothing.
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 16666);
  EXPECT_EQ(p.run().contributivity_ppm.at("bob"), 0);
  EXPECT_EQ(p.run().contributivity_ppm.at("carol"), 16666);
  EXPECT_EQ(p.run().contributivity_ppm.at("dave"), 16666);
}

TEST(ProtocolRounds, ADropoutAfterSharingHasItsEphemeralSecretReconstructed) {
  RoundChain p;
  p.commit(p.start(0, federated_plan()));
  for (std::size_t i = 0; i < 4; ++i) p.commit(p.round_share(i, 0));
  for (std::size_t i = 0; i < 3; ++i) p.commit(p.round_upload(i, 0));
  EXPECT_EQ(p.turn().phase, TurnPhase::round_uploading);  // dave has not uploaded
  const std::uint64_t deadline = p.turn().deadline_height;
  while (p.chain.state.height < deadline) p.empty_blocks(1);
  // |U2| = 3 >= need: unmasking begins at the deadline.
  EXPECT_EQ(p.turn().phase, TurnPhase::round_unmasking);
  EXPECT_EQ(p.turn().deadline_height, deadline + p.plan().vote_deadline_blocks);
  // dave, in U1 \ U2, may still reveal what it holds of the others.
  p.commit(p.round_unmask(3, 0));
  p.commit(p.round_unmask(0, 0));
  p.commit(p.round_unmask(2, 0));
  ASSERT_EQ(p.turn().phase, TurnPhase::round_aggregating);
  EXPECT_EQ(p.round().self_seeds.size(), 3u);
  EXPECT_FALSE(p.round().self_seeds.contains("dave"));
  ASSERT_EQ(p.round().ephemeral_secrets.size(), 1u);
  EXPECT_EQ(p.round().ephemeral_secrets.at("dave"), p.dealing(3, 0).ephemeral_secret);
  EXPECT_EQ(p.round().total_weight(), 300u);
}

TEST(ProtocolRounds, SharingMovesOnAtItsDeadlineWithEnoughSharersElseTheRoundExpires) {
  RoundChain p;
  p.commit(p.start(0, federated_plan(4, 3)));
  for (std::size_t i = 0; i < 3; ++i) p.commit(p.round_share(i, 0));
  const std::uint64_t deadline = p.turn().deadline_height;
  while (p.chain.state.height < deadline) p.empty_blocks(1);
  EXPECT_EQ(p.turn().phase, TurnPhase::round_uploading);
  EXPECT_EQ(p.turn().index, 0u);

  // Round 0 expires in uploading (2 < need = 3 uploads); round 1 begins at that height.
  p.commit(p.round_upload(0, 0));
  p.commit(p.round_upload(1, 0));
  const std::uint64_t upload_deadline = p.turn().deadline_height;
  while (p.chain.state.height < upload_deadline) p.empty_blocks(1);
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.run().turns[0].end_height, upload_deadline);
  ASSERT_EQ(p.turn().index, 1u);
  EXPECT_EQ(p.turn().start_height, upload_deadline);
  EXPECT_FALSE(p.run().head.has_value());

  // Round 1: only two partners share; at the deadline it expires (2 < need).
  p.commit(p.round_share(2, 1));
  p.commit(p.round_share(3, 1));
  const std::uint64_t share_deadline = p.turn().deadline_height;
  while (p.chain.state.height < share_deadline) p.empty_blocks(1);
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.turn().index, 2u);
}

TEST(ProtocolRounds, UnmaskingAndAggregatingExpireAtTheirDeadlines) {
  RoundChain p;
  p.commit(p.start(0, federated_plan(4, 3)));
  for (std::size_t i = 0; i < 4; ++i) p.commit(p.round_share(i, 0));
  for (std::size_t i = 0; i < 4; ++i) p.commit(p.round_upload(i, 0));
  p.commit(p.round_unmask(0, 0));
  p.commit(p.round_unmask(1, 0));  // 2 < t = 3
  const std::uint64_t deadline = p.turn().deadline_height;
  while (p.chain.state.height < deadline) p.empty_blocks(1);
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::expired);
  EXPECT_TRUE(p.run().turns[0].round->self_seeds.empty());

  p.play_to_aggregating(1, {0, 1, 2, 3}, {0, 1, 2, 3});
  ASSERT_EQ(p.turn().phase, TurnPhase::round_aggregating);
  EXPECT_EQ(p.turn().deadline_height, p.chain.state.height + p.plan().save_deadline_blocks);
  const std::uint64_t aggregate_deadline = p.turn().deadline_height;
  while (p.chain.state.height < aggregate_deadline) p.empty_blocks(1);
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.turn().index, 2u);
}

// A dealer whose shares are not a sharing of what it committed to: the
// shares pass their own commitments one by one, the reconstruction does not.
TEST(ProtocolRounds, ADealerWithInconsistentSharesFailsTheRoundAndIsNamed) {
  RoundChain p;
  p.commit(p.start(0, federated_plan(4, 2)));
  for (std::size_t i : {0u, 1u}) p.commit(p.round_share(i, 0));
  // carol (rank 2) and dave (rank 3) both cheat; carol, first by rank, is named.
  for (std::uint32_t d : {2u, 3u}) {
    Dealing deal = p.dealing(d, 0);
    const Dealing other = p.dealing(d, 7);  // shares of another seed
    pb::RoundShare s = p.share_payload(d, 0, deal);
    s.clear_self_share_commitments();
    for (std::uint32_t r = 0; r < 4; ++r) {
      s.add_self_share_commitments(hash_bytes(
          share_commitment(p.binding(0), ShareKind::self_seed, d, r, other.self_shares[r])));
    }
    p.commit(p.round_share(d, s));
  }
  for (std::size_t i = 0; i < 4; ++i) p.commit(p.round_upload(i, 0));
  // The revealers send the shares the cheaters dealt them.
  auto reveal = [&](std::size_t i) {
    pb::RoundUnmask u = p.unmask_payload(i, 0);
    for (std::uint32_t d : {2u, 3u})
      u.set_shares(static_cast<int>(d), hash_bytes(p.dealing(d, 7).self_shares[i]));
    return p.round_unmask(i, u);
  };
  p.commit(reveal(0));
  p.commit(reveal(1));
  const std::uint64_t height = p.chain.state.height + 1;
  p.commit(reveal(3));
  const Turn& t = p.run().turns[0];
  EXPECT_EQ(t.outcome, TurnOutcome::round_failed);
  EXPECT_EQ(t.end_height, height);
  EXPECT_EQ(t.round->failed_dealer, "carol");
  ASSERT_EQ(p.turn().index, 1u);
  EXPECT_EQ(p.turn().phase, TurnPhase::round_sharing);
  EXPECT_EQ(to_string(TurnOutcome::round_failed), "round_failed");
}

TEST(ProtocolRounds, AComplaintIsRecordedAndEndsNothing) {
  RoundChain p;
  p.commit(p.start(0, federated_plan()));
  pb::TurnAbandon a;
  a.set_run_id("run-1");
  a.set_turn(0);
  a.set_reason(static_cast<std::uint32_t>(LoadFailure::upload_unusable));
  a.set_detail("carol's masked upload hashes to 11aa... not 5a5a...");
  p.commit(p.tx(1, pb::TX_TURN_ABANDON, a));
  EXPECT_EQ(p.turn().index, 0u);
  EXPECT_EQ(p.turn().phase, TurnPhase::round_sharing);
  EXPECT_EQ(p.turn().outcome, TurnOutcome::pending);
  ASSERT_EQ(p.round().complaints.size(), 1u);
  EXPECT_EQ(p.round().complaints.at("bob").reason, LoadFailure::upload_unusable);
  EXPECT_EQ(p.round().complaints.at("bob").detail, a.detail());
}

}  // namespace
}  // namespace baton::chain::testing
