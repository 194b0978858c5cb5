// Every refusal of a federated round (issue 15, docs/PROTOCOL.md §21.2),
// each played as the attacker: the transaction is included, spends its nonce
// and is recorded with its reason; nothing else changes (ProtocolChain::
// refusal checks both, and that check_protocol_tx answers as the block does).
#include <gtest/gtest.h>

#include "round_fixture.h"

namespace baton::chain::testing {
namespace {

using R = ProtocolRejected;

// alice, bob and carol are the partners (t = 2, need 2); dave only votes.
RoundChain three_partner_round() {
  RoundChain p;
  p.commit(p.start(0, federated_plan(3, 2, 2, 2)));
  return p;
}

TEST(ProtocolRoundRefusals, AnUploadForAnotherRoundIsRefusedWithItsReasonOnTheLedger) {
  RoundChain p = three_partner_round();
  for (std::size_t i = 0; i < 3; ++i) p.commit(p.round_share(i, 0));
  ASSERT_EQ(p.turn().phase, TurnPhase::round_uploading);
  EXPECT_EQ(p.refusal(p.round_upload(0, 1)), R::wrong_round);
  const pb::Transaction replayed = p.round_upload(0, 1);
  EXPECT_EQ(p.commit_refused(replayed), R::wrong_round);
  const Refusal* r = find_refusal(p.training(), tx_hash(encode_transaction(replayed)));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->run_id, "run-1");
  ASSERT_TRUE(r->turn.has_value());
  EXPECT_EQ(*r->turn, 1u);
  EXPECT_EQ(r->type, pb::TX_ROUND_UPLOAD);
  EXPECT_EQ(r->sender, "alice");
  EXPECT_TRUE(p.round().uploads.empty());
  EXPECT_EQ(p.refusal(p.round_share(0, 1)), R::wrong_round);
}

TEST(ProtocolRoundRefusals, RoundShareChecksSenderRoundPhaseAndSizes) {
  RoundChain p = three_partner_round();
  EXPECT_EQ(p.refusal(p.round_share(3, 0)), R::out_of_turn);  // dave is no partner
  pb::RoundShare other_run = p.share_payload(0, 0, p.dealing(0, 0));
  other_run.set_run_id("run-2");
  EXPECT_EQ(p.refusal(p.round_share(0, other_run)), R::wrong_run);

  auto malformed = [&](auto edit) {
    pb::RoundShare s = p.share_payload(1, 0, p.dealing(1, 0));
    edit(s);
    return p.refusal(p.round_share(1, s));
  };
  EXPECT_EQ(malformed([](pb::RoundShare& s) { s.set_ephemeral_public(std::string(31, 'k')); }),
            R::malformed_request);
  EXPECT_EQ(malformed([](pb::RoundShare& s) { s.set_self_seed_commitment(""); }),
            R::malformed_request);
  EXPECT_EQ(
      malformed([](pb::RoundShare& s) { s.add_share_boxes(std::string(kShareBoxBytes, 'x')); }),
      R::malformed_request);
  EXPECT_EQ(malformed([](pb::RoundShare& s) { s.mutable_share_boxes()->RemoveLast(); }),
            R::malformed_request);
  EXPECT_EQ(malformed([](pb::RoundShare& s) {
              s.set_share_boxes(1, std::string(kShareBoxBytes + 1, 'x'));
            }),
            R::malformed_request);
  EXPECT_EQ(malformed([](pb::RoundShare& s) { s.mutable_self_share_commitments()->RemoveLast(); }),
            R::malformed_request);
  EXPECT_EQ(malformed([](pb::RoundShare& s) { s.set_key_share_commitments(0, "short"); }),
            R::malformed_request);

  p.commit(p.round_share(1, 0));
  EXPECT_EQ(p.refusal(p.round_share(1, 0)), R::already_shared);
  p.commit(p.round_share(0, 0));
  p.commit(p.round_share(2, 0));
  ASSERT_EQ(p.turn().phase, TurnPhase::round_uploading);
  EXPECT_EQ(p.refusal(p.round_share(0, 0)), R::wrong_phase);
}

TEST(ProtocolRoundRefusals, RoundUploadChecksSharersHeadSizesAndOnce) {
  RoundChain p = three_partner_round();
  EXPECT_EQ(p.refusal(p.round_upload(0, 0)), R::wrong_phase);  // sharing
  p.commit(p.round_share(0, 0));
  p.commit(p.round_share(1, 0));
  while (p.turn().phase == TurnPhase::round_sharing) p.empty_blocks(1);  // carol never shared
  EXPECT_EQ(p.refusal(p.round_upload(2, 0)), R::not_a_sharer);
  EXPECT_EQ(p.refusal(p.round_upload(3, 0)), R::not_a_sharer);

  auto refused = [&](auto edit) {
    pb::RoundUpload u = p.upload_payload(0, p.run().head);
    edit(u);
    return p.refusal(p.round_upload(0, u));
  };
  EXPECT_EQ(refused([](pb::RoundUpload& u) { u.set_head_model_id(hash_bytes(fake_hash(3))); }),
            R::wrong_head);
  EXPECT_EQ(refused([](pb::RoundUpload& u) { u.set_head_model_id("x"); }), R::malformed_request);
  EXPECT_EQ(refused([](pb::RoundUpload& u) { u.set_object_key(""); }), R::malformed_request);
  EXPECT_EQ(refused([](pb::RoundUpload& u) {
              u.set_object_key(std::string(kMaxRoundObjectKeyBytes + 1, 'k'));
            }),
            R::malformed_request);
  EXPECT_EQ(refused([](pb::RoundUpload& u) { u.set_masked_sha256(std::string(31, 'h')); }),
            R::malformed_request);
  EXPECT_EQ(refused([](pb::RoundUpload& u) { u.set_weight(0); }), R::malformed_request);
  EXPECT_EQ(refused([](pb::RoundUpload& u) { u.set_weight(kMaxRoundWeight + 1); }),
            R::malformed_request);
  // The bounds themselves are accepted.
  pb::RoundUpload edge = p.upload_payload(0, p.run().head, kMaxRoundWeight);
  edge.set_object_key(std::string(kMaxRoundObjectKeyBytes, 'k'));
  p.commit(p.round_upload(0, edge));
  EXPECT_EQ(p.refusal(p.round_upload(0, 0)), R::already_uploaded);
}

TEST(ProtocolRoundRefusals, RoundUnmaskChecksEveryShareAgainstItsDealersCommitment) {
  RoundChain p;
  p.commit(p.start(0, federated_plan(4, 2, 2, 2)));
  for (std::size_t i = 0; i < 3; ++i) p.commit(p.round_share(i, 0));
  while (p.turn().phase == TurnPhase::round_sharing) p.empty_blocks(1);  // U1: dave is not in it
  EXPECT_EQ(p.refusal(p.round_unmask(0, 0)), R::wrong_phase);
  p.commit(p.round_upload(0, 0));
  p.commit(p.round_upload(1, 0));
  while (p.turn().phase == TurnPhase::round_uploading) p.empty_blocks(1);  // U2: carol is not
  ASSERT_EQ(p.turn().phase, TurnPhase::round_unmasking);
  EXPECT_EQ(p.refusal(p.round_unmask(3, 0)), R::not_a_sharer);
  EXPECT_EQ(p.refusal(p.round_unmask(0, 1)), R::wrong_round);

  auto refused = [&](auto edit) {
    pb::RoundUnmask u = p.unmask_payload(2, 0);
    edit(u);
    return p.refusal(p.round_unmask(2, u));
  };
  // Sizes: n entries, each empty or 32 bytes.
  EXPECT_EQ(refused([](pb::RoundUnmask& u) { u.mutable_shares()->RemoveLast(); }),
            R::malformed_request);
  EXPECT_EQ(refused([](pb::RoundUnmask& u) { u.add_shares(""); }), R::malformed_request);
  EXPECT_EQ(refused([](pb::RoundUnmask& u) { u.set_shares(1, std::string(31, 's')); }),
            R::malformed_request);
  // A tampered share of a dealer in U2.
  EXPECT_EQ(refused([](pb::RoundUnmask& u) { (*u.mutable_shares(0))[5] ^= 1; }), R::wrong_share);
  // carol's own key share, for a dealer in U1 \ U2, tampered.
  EXPECT_EQ(refused([](pb::RoundUnmask& u) { (*u.mutable_shares(2))[0] ^= 1; }), R::wrong_share);
  // The ephemeral-key share of a dealer that uploaded (revealing both of its
  // secrets would unmask its update): refused.
  EXPECT_EQ(refused([&](pb::RoundUnmask& u) {
              u.set_shares(1, hash_bytes(p.dealing(1, 0).key_shares[2]));
            }),
            R::wrong_share);
  // The self-seed share of a dealer that did not upload: refused too.
  EXPECT_EQ(refused([&](pb::RoundUnmask& u) {
              u.set_shares(2, hash_bytes(p.dealing(2, 0).self_shares[2]));
            }),
            R::wrong_share);
  // A missing share, and a share for dave, who dealt nothing.
  EXPECT_EQ(refused([](pb::RoundUnmask& u) { u.set_shares(0, ""); }), R::wrong_share);
  EXPECT_EQ(refused([](pb::RoundUnmask& u) { u.set_shares(3, std::string(32, 'd')); }),
            R::wrong_share);
  // A share for another recipient (bob's) under carol's name.
  EXPECT_EQ(refused([&](pb::RoundUnmask& u) {
              u.set_shares(0, hash_bytes(p.dealing(0, 0).self_shares[1]));
            }),
            R::wrong_share);

  p.commit(p.round_unmask(2, 0));
  EXPECT_EQ(p.refusal(p.round_unmask(2, 0)), R::already_unmasked);
  p.commit(p.round_unmask(1, 0));  // the t-th: reconstruction
  ASSERT_EQ(p.turn().phase, TurnPhase::round_aggregating);
  EXPECT_EQ(p.round().ephemeral_secrets.at("carol"), p.dealing(2, 0).ephemeral_secret);
  EXPECT_EQ(p.refusal(p.round_unmask(0, 0)), R::wrong_phase);
}

TEST(ProtocolRoundRefusals, TheAggregateMustComeInItsPhaseWithTheRoundsWeightAndHead) {
  RoundChain p = three_partner_round();
  EXPECT_EQ(p.refusal(p.aggregate(0, 0)), R::wrong_phase);
  p.play_to_aggregating(0, {0, 1, 2}, {0, 1, 2});
  ASSERT_EQ(p.turn().phase, TurnPhase::round_aggregating);
  EXPECT_EQ(p.refusal(p.aggregate(3, 0)), R::out_of_turn);  // dave is no partner
  EXPECT_EQ(p.refusal(p.aggregate(0, 1)), R::wrong_round);
  pb::SaveRequest r;
  ASSERT_TRUE(r.ParseFromString(p.aggregate(0, 0).payload()));
  r.set_train_samples(r.train_samples() + 1);  // a weight the uploads do not add up to
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), R::malformed_request);
  r.set_train_samples(p.round().total_weight());
  r.set_parent_model_id(hash_bytes(fake_hash(9)));
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), R::wrong_head);
  r.set_parent_model_id("");
  r.set_epsilon_turn_micro(5);  // a federated plan has no DP
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), R::privacy_spend_mismatch);
  r.set_epsilon_turn_micro(0);
  r.set_model_sha256("short");
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), R::malformed_request);
  const Hash save = p.commit(p.aggregate(2, 0));
  EXPECT_EQ(p.refusal(p.aggregate(1, 0, 0xb0)), R::wrong_phase);  // one aggregate per round
  // The aggregator votes like everyone; a second vote is a duplicate.
  p.commit(p.model_vote(2, save, true, 750000, 700000));
  EXPECT_EQ(p.refusal(p.model_vote(2, save, true, 750000, 700000)), R::duplicate_vote);
}

TEST(ProtocolRoundRefusals, LoadTransactionsAreNotFederatedAndRoundTransactionsNotChained) {
  RoundChain p = three_partner_round();
  EXPECT_EQ(p.refusal(p.load_request(0, 0, std::nullopt)), R::not_federated);
  EXPECT_EQ(p.refusal(p.load_approval(1, fake_hash(1))), R::not_federated);

  RoundChain c;
  c.commit(c.start(0, test_plan(4)));
  pb::RoundShare s;
  s.set_run_id("run-1");
  EXPECT_EQ(c.refusal(c.round_share(0, s)), R::not_federated);
  pb::RoundUpload u;
  u.set_run_id("run-1");
  EXPECT_EQ(c.refusal(c.round_upload(0, u)), R::not_federated);
  pb::RoundUnmask m;
  m.set_run_id("run-1");
  EXPECT_EQ(c.refusal(c.round_unmask(0, m)), R::not_federated);
  // The federated complaint reason is no chained turn's.
  pb::TurnAbandon a;
  a.set_run_id("run-1");
  a.set_reason(static_cast<std::uint32_t>(LoadFailure::upload_unusable));
  EXPECT_EQ(c.refusal(c.tx(0, pb::TX_TURN_ABANDON, a)), R::malformed_request);
  // No run at all.
  RoundChain none;
  none.empty_blocks(1);
  EXPECT_EQ(none.refusal(none.round_share(0, s)), R::run_not_active);
}

TEST(ProtocolRoundRefusals, AComplaintComesFromAPartnerAboutTheCurrentRound) {
  RoundChain p = three_partner_round();
  auto complaint = [&](std::size_t i, std::uint64_t round, std::uint32_t reason,
                       std::string detail = "missing") {
    pb::TurnAbandon a;
    a.set_run_id("run-1");
    a.set_turn(round);
    a.set_reason(reason);
    a.set_detail(std::move(detail));
    return p.tx(i, pb::TX_TURN_ABANDON, a);
  };
  const auto unusable = static_cast<std::uint32_t>(LoadFailure::upload_unusable);
  EXPECT_EQ(p.refusal(complaint(3, 0, unusable)), R::out_of_turn);
  EXPECT_EQ(p.refusal(complaint(0, 1, unusable)), R::wrong_round);
  EXPECT_EQ(p.refusal(complaint(0, 0, 0)), R::malformed_request);
  EXPECT_EQ(p.refusal(complaint(0, 0, kMaxLoadFailure + 1)), R::malformed_request);
  EXPECT_EQ(p.refusal(complaint(0, 0, unusable, std::string(kMaxAbandonDetailBytes + 1, 'd'))),
            R::malformed_request);
}

}  // namespace
}  // namespace baton::chain::testing
