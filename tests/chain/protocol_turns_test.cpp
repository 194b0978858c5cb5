// Transitions of the training protocol state machine (chain/protocol.h),
// driven through real blocks: turns, quorum, rejection, expiry, lineage,
// contributivity, run end and determinism.
#include <gtest/gtest.h>

#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

TEST(ProtocolStart, OnlyAnAdminMayStartARun) {
  ProtocolChain p;
  EXPECT_EQ(p.refusal(p.start(1, test_plan(4))), ProtocolRejected::not_admin);
  p.commit(p.start(0, test_plan(4)));
  auto view = whose_turn(p.training());
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->partner, "alice");
  EXPECT_EQ(view->turn, 0u);
  EXPECT_EQ(view->phase, TurnPhase::awaiting_load_request);
  EXPECT_EQ(view->deadline_height, 1u + 4u);
  EXPECT_FALSE(view->head.has_value());
}

TEST(ProtocolStart, RefusesASecondRunWhileOneIsActiveAndReusedIds) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  auto other = test_plan(4);
  other.run_id = "run-2";
  EXPECT_EQ(p.refusal(p.start(0, other)), ProtocolRejected::run_active);
}

TEST(ProtocolStart, RefusesAPlanNamingANonMember) {
  ProtocolChain p;
  auto plan = test_plan(4);
  plan.partners.push_back("mallory");
  EXPECT_EQ(p.refusal(p.start(0, plan)), ProtocolRejected::invalid_plan);
  plan = test_plan(4);
  plan.quorum_num = 2;
  plan.quorum_den = 2;
  EXPECT_EQ(p.refusal(p.start(0, plan)), ProtocolRejected::invalid_plan);
}

TEST(ProtocolTurns, RefusesOutOfTurnRequests) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  EXPECT_EQ(p.refusal(p.load_request(1, 0, std::nullopt)),
            ProtocolRejected::out_of_turn);  // bob at alice's turn
  EXPECT_EQ(p.refusal(p.load_request(0, 1, std::nullopt)),
            ProtocolRejected::out_of_turn);  // wrong turn index
  EXPECT_EQ(p.refusal(p.load_request(0, 0, fake_hash(7))), ProtocolRejected::wrong_head);
  EXPECT_EQ(p.refusal(p.save_request(0, 0, std::nullopt)),
            ProtocolRejected::wrong_phase);  // no load token yet
}

TEST(ProtocolTurns, RefusesProtocolTransactionsWithoutAnActiveRun) {
  ProtocolChain p;
  EXPECT_EQ(p.refusal(p.load_request(0, 0, std::nullopt)), ProtocolRejected::run_not_active);
  p.commit(p.start(0, test_plan(4)));
  auto wrong = p.load_request(0, 0, std::nullopt);
  pb::LoadRequest r;
  r.set_run_id("another-run");
  wrong = p.tx(0, pb::TX_LOAD_REQUEST, r);
  EXPECT_EQ(p.refusal(wrong), ProtocolRejected::wrong_run);
}

TEST(ProtocolVotes, RefusesAMemberVotingTwice) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  p.commit(p.load_approval(1, req));
  EXPECT_EQ(p.refusal(p.load_approval(1, req)), ProtocolRejected::duplicate_vote);
  p.commit(p.load_approval(2, req));  // quorum: the token
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, false, 700000, 710000));
  EXPECT_EQ(p.refusal(p.model_vote(1, save, true, 700000, 710000)),
            ProtocolRejected::duplicate_vote);
}

TEST(ProtocolVotes, RefusesTheRequesterVotingOnItsOwnRequest) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  EXPECT_EQ(p.refusal(p.load_approval(0, req)), ProtocolRejected::own_request);
  p.commit(p.load_approval(1, req));
  p.commit(p.load_approval(2, req));
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  EXPECT_EQ(p.refusal(p.model_vote(0, save, true, 900000, 500000)), ProtocolRejected::own_request);
}

TEST(ProtocolVotes, RefusesVotesFromNonMembersAndMembersWithoutPower) {
  ProtocolChain p({1, 1, 1, 0});  // dave: a member without voting power
  p.commit(p.start(0, test_plan(3)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  EXPECT_EQ(p.refusal(p.load_approval(3, req)), ProtocolRejected::not_a_voter);
  // A non-member's vote does not even pass the stateless check.
  pb::LoadApproval a;
  a.set_run_id("run-1");
  a.set_request_id(hash_bytes(req));
  a.set_approve(true);
  const auto outsider = make_transaction(p.chain.spec.network(), outsider_key(), 1,
                                         pb::TX_LOAD_APPROVAL, a.SerializeAsString());
  auto checked = check_transaction(encode_transaction(outsider), p.chain.spec.network(),
                                   p.chain.spec.validators, 1 << 16);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.reason(), TxInvalid::unknown_sender);
}

TEST(ProtocolVotes, RefusesVotesForUnknownRequestsAndAfterTheDeadline) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  EXPECT_EQ(p.refusal(p.load_approval(1, fake_hash(3))), ProtocolRejected::no_open_request);
  const Hash req =
      p.commit(p.load_request(0, 0, std::nullopt));  // block 2; vote deadline 2 + 4 = 6
  p.empty_blocks(4);                                 // blocks 3..6: expires at the end of 6
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.refusal(p.load_approval(1, req)), ProtocolRejected::vote_after_deadline);
}

TEST(ProtocolVotes, AVoteInTheDeadlineBlockStillCounts) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));  // block 2, deadline 6
  p.empty_blocks(3);                                              // blocks 3, 4, 5
  p.commit(p.load_approval(1, req));                              // block 6
  EXPECT_EQ(p.run().turns.size(), 2u);  // expired at the end of block 6: only one approval of 3
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.run().turns[0].load_approvals.size(), 1u);
}

// Quorum: strictly more than 1/2 of the power of the members other than the requester.
TEST(ProtocolQuorum, TwoMembersNeedTheOtherOne) {
  ProtocolChain p({1, 1});
  p.commit(p.start(0, test_plan(2)));
  p.grant_load(0, {1});
  EXPECT_EQ(p.turn().phase, TurnPhase::training);
}

TEST(ProtocolQuorum, ThreeMembersNeedBothOthers) {
  ProtocolChain p({1, 1, 1});
  p.commit(p.start(0, test_plan(3)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  p.commit(p.load_approval(1, req));
  EXPECT_EQ(p.turn().phase, TurnPhase::load_voting);  // 1 of 2 is not more than half
  p.commit(p.load_approval(2, req));
  EXPECT_EQ(p.turn().phase, TurnPhase::training);
  EXPECT_EQ(p.turn().load_token_id, req);
}

TEST(ProtocolQuorum, ThreeMembersOneRejectionRefusesTheLoad) {
  ProtocolChain p({1, 1, 1});
  p.commit(p.start(0, test_plan(3)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  p.commit(p.load_approval(1, req, false));  // approval can no longer exceed half
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::rejected);
  EXPECT_EQ(whose_turn(p.training())->partner, "bob");
}

TEST(ProtocolQuorum, FourMembersNeedTwoOfTheOtherThree) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  p.commit(p.load_approval(1, req, false));
  EXPECT_EQ(p.turn().phase, TurnPhase::load_voting);
  p.commit(p.load_approval(2, req));
  EXPECT_EQ(p.turn().phase, TurnPhase::load_voting);
  p.commit(p.load_approval(3, req));
  EXPECT_EQ(p.turn().phase, TurnPhase::training);
}

TEST(ProtocolQuorum, WeighsVotesByVotingPower) {
  ProtocolChain p({1, 5, 1, 1});  // bob alone holds 5 of the 7 other-than-alice power
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1});
  EXPECT_EQ(p.turn().phase, TurnPhase::training);
}

TEST(ProtocolSave, ApprovedSaveMovesTheHeadAndRecordsTheLineage) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const Hash load = p.grant_load(0, {1, 2});
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  EXPECT_EQ(open_requests(p.training()).size(), 1u);
  EXPECT_EQ(open_requests(p.training())[0].kind, OpenRequest::Kind::save);
  EXPECT_EQ(open_requests(p.training())[0].request_id, save);
  p.commit(p.model_vote(1, save, false, 690000, 700000, "worse on my data"));  // gain -10000
  p.commit(p.model_vote(2, save, true, 760000, 700000));                       // gain +60000
  p.commit(p.model_vote(3, save, true, 720000, 700000));  // gain +20000: quorum
  EXPECT_EQ(head_model(p.training(), "run-1"), save);
  ASSERT_EQ(p.run().models.size(), 1u);
  const ModelRecord& m = p.run().models[0];
  EXPECT_EQ(m.id, save);
  EXPECT_FALSE(m.parent.has_value());
  EXPECT_EQ(m.contributor, "alice");
  EXPECT_EQ(m.load_token_id, load);
  EXPECT_EQ(m.object_key, "run-1/turn-0");
  EXPECT_EQ(m.ciphertext_sha256, fake_hash(0xaa));
  EXPECT_EQ(m.model_sha256, fake_hash(0xab));
  const SaveRecord* record = find_save(p.run(), save);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->key_commitment, fake_hash(0xac));
  EXPECT_EQ(record->wrapped_keys.at("carol"), std::string(kWrappedKeyBytes, 'c'));
  EXPECT_EQ(find_save(p.run(), load), nullptr);
  // The gain is settled at the end of the vote deadline's block (5 + 4).
  EXPECT_FALSE(m.gain_settled);
  EXPECT_EQ(m.median_gain_ppm, 0);
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  EXPECT_EQ(p.run().turns[0].model_votes.at("bob").reason, "worse on my data");
  auto view = whose_turn(p.training());
  EXPECT_EQ(view->partner, "bob");
  EXPECT_EQ(view->head, save);
  // The next partner must name the new head.
  EXPECT_EQ(p.refusal(p.load_request(1, 1, std::nullopt)), ProtocolRejected::wrong_head);
  p.commit(p.load_request(1, 1, save));
  ASSERT_EQ(p.chain.state.height, 9u);  // the vote deadline
  EXPECT_TRUE(p.run().models[0].gain_settled);
  EXPECT_EQ(p.run().models[0].median_gain_ppm, 20000);  // median of {-10000, 20000, 60000}
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 20000);
}

TEST(ProtocolSave, RejectedSaveKeepsTheHeadAndGivesNoContributivity) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, false, 500000, 700000, "blob hash mismatch"));
  p.commit(p.model_vote(2, save, false, 510000, 700000));  // 2 of 3 reject: approval unreachable
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::rejected);
  EXPECT_FALSE(head_model(p.training(), "run-1").has_value());
  EXPECT_TRUE(p.run().models.empty());
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 0);
  EXPECT_EQ(whose_turn(p.training())->partner, "bob");
  EXPECT_EQ(p.refusal(p.model_vote(3, save, true, 800000, 700000)),
            ProtocolRejected::no_open_request);
}

TEST(ProtocolSave, RefusesMalformedSaveRequests) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});
  auto t = p.save_request(0, 0, std::nullopt);
  pb::SaveRequest r;
  ASSERT_TRUE(r.ParseFromString(t.payload()));
  r.set_ciphertext_sha256("short");
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), ProtocolRejected::malformed_request);
  ASSERT_TRUE(r.ParseFromString(t.payload()));
  r.set_key_recipients(0, "zed");  // not ascending, not a member
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), ProtocolRejected::malformed_request);
  ASSERT_TRUE(r.ParseFromString(t.payload()));
  r.set_object_key("");
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), ProtocolRejected::malformed_request);
  ASSERT_TRUE(r.ParseFromString(t.payload()));
  r.set_key_commitment("");  // every member must be able to check the key it unwraps
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), ProtocolRejected::malformed_request);
  r.set_key_commitment(std::string(33, 'k'));
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), ProtocolRejected::malformed_request);
  ASSERT_TRUE(r.ParseFromString(t.payload()));
  r.set_wrapped_keys(2, std::string(kWrappedKeyBytes - 1, 'c'));  // not a sealed box
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), ProtocolRejected::malformed_request);
  ASSERT_TRUE(r.ParseFromString(t.payload()));
  r.add_key_recipients("eve");  // more recipients than wrapped keys
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_SAVE_REQUEST, r)), ProtocolRejected::malformed_request);
  EXPECT_EQ(p.refusal(p.save_request(1, 0, std::nullopt)), ProtocolRejected::out_of_turn);
}

TEST(ProtocolSave, SaveRequestRoundTripsThroughItsRecord) {
  ProtocolChain p;
  auto t = p.save_request(0, 3, fake_hash(9));
  pb::SaveRequest r;
  ASSERT_TRUE(r.ParseFromString(t.payload()));
  auto record = save_record_from_proto(p.chain.spec.genesis, r);
  ASSERT_TRUE(record.ok()) << to_string(record.reason());
  EXPECT_EQ(record->parent_model_id, fake_hash(9));
  EXPECT_EQ(record->key_commitment, fake_hash(0xac));
  EXPECT_EQ(record->wrapped_keys.size(), 4u);
  EXPECT_EQ(save_request_to_proto("run-1", 3, *record).SerializeAsString(), t.payload());
}

TEST(ProtocolSave, TheKeyCommitmentIsInTheStateHash) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});
  p.commit(p.save_request(0, 0, std::nullopt));
  TrainingState other = p.training();
  other.runs.at("run-1").turns.back().save->key_commitment = fake_hash(0x01);
  const Bytes a = training_encoding(p.training()), b = training_encoding(other);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_NE(a, b);
}

TEST(ProtocolDeadlines, AMissedLoadDeadlineForfeitsTheTurn) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));  // block 1: load deadline 5
  p.empty_blocks(3);                   // blocks 2, 3, 4
  EXPECT_EQ(whose_turn(p.training())->partner, "alice");
  p.empty_blocks(1);  // block 5
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.run().turns[0].end_height, 5u);
  auto view = whose_turn(p.training());
  EXPECT_EQ(view->partner, "bob");
  EXPECT_EQ(view->deadline_height, 9u);
  EXPECT_EQ(p.refusal(p.load_request(0, 0, std::nullopt)), ProtocolRejected::out_of_turn);
}

TEST(ProtocolDeadlines, AMissedSaveDeadlineForfeitsTheTurnAndKeepsTheHead) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});  // token at block 4: save deadline 9
  EXPECT_EQ(p.turn().deadline_height, 9u);
  p.empty_blocks(5);
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::expired);
  EXPECT_TRUE(p.run().turns[0].load_token_id.has_value());
  EXPECT_FALSE(p.run().head.has_value());
}

TEST(ProtocolRun, FinishesAfterCyclesTimesPartnersTurns) {
  ProtocolChain p({1, 1});
  p.commit(p.start(0, test_plan(2, 2)));
  std::optional<Hash> head;
  for (std::uint64_t turn = 0; turn < 4; ++turn) {
    const std::size_t partner = turn % 2, voter = 1 - partner;
    ASSERT_EQ(whose_turn(p.training())->turn, turn);
    EXPECT_EQ(whose_turn(p.training())->cycle, turn / 2);
    p.grant_load(partner, {voter});
    const Hash save =
        p.commit(p.save_request(partner, turn, head, static_cast<std::uint8_t>(turn * 2)));
    p.commit(
        p.model_vote(voter, save, true, 700000 + 10000 * static_cast<std::uint32_t>(turn), 700000));
    EXPECT_EQ(p.run().models.back().parent, head);
    head = save;
  }
  EXPECT_EQ(p.run().status, RunStatus::finished);
  EXPECT_FALSE(p.training().active_run.has_value());
  EXPECT_FALSE(whose_turn(p.training()).has_value());
  EXPECT_EQ(p.run().head, head);
  EXPECT_EQ(p.run().models.size(), 4u);
  // The last turn's vote deadline is ahead: its gain is not settled yet.
  EXPECT_FALSE(gains_settled(p.run()));
  EXPECT_EQ(p.run().contributivity_ppm.at("bob"), 10000);
  p.empty_blocks(2);
  EXPECT_FALSE(gains_settled(p.run()));
  p.empty_blocks(1);  // the last SaveRequest's height + 4
  EXPECT_TRUE(gains_settled(p.run()));
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 0 + 20000);
  EXPECT_EQ(p.run().contributivity_ppm.at("bob"), 10000 + 30000);
  EXPECT_EQ(p.refusal(p.load_request(0, 4, head)), ProtocolRejected::run_not_active);
  // A new run may start once the previous one finished, not with the same id.
  EXPECT_EQ(p.refusal(p.start(0, test_plan(2))), ProtocolRejected::duplicate_run_id);
}

TEST(ProtocolGain, TakesThePointOfTheMedianIntervalNearestToZero) {
  auto votes = [](std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> aucs) {
    std::map<std::string, ModelVoteRecord> out;
    int i = 0;
    for (auto [c, h] : aucs)
      out["v" + std::to_string(i++)] = ModelVoteRecord{true, c, h, 1, 0, {}, 1};
    return out;
  };
  EXPECT_EQ(settled_gain_ppm({}), 0);
  EXPECT_EQ(settled_gain_ppm(votes({{10, 0}})), 10);
  EXPECT_EQ(settled_gain_ppm(votes({{10, 0}, {0, 20}, {5, 0}})), 5);
  EXPECT_EQ(settled_gain_ppm(votes({{10, 0}, {13, 0}})), 10);   // [10, 13]: 10
  EXPECT_EQ(settled_gain_ppm(votes({{0, 10}, {0, 13}})), -10);  // [-13, -10]: -10
  EXPECT_EQ(settled_gain_ppm(votes({{0, 10}, {13, 0}})), 0);    // [-10, 13] holds 0
  EXPECT_EQ(settled_gain_ppm(votes({{0, 10}, {13, 0}, {20, 0}, {30, 0}})), 13);  // [13, 20]
  // Each gain is clamped to 0.5 either way before the median.
  EXPECT_EQ(settled_gain_ppm(votes({{1'000'000, 0}})), kMaxVoteGainPpm);
  EXPECT_EQ(settled_gain_ppm(votes({{0, 1'000'000}})), -kMaxVoteGainPpm);
  // A vote that did not measure the candidate (0 rows) claims no gain.
  auto unmeasured = votes({{710'000, 700'000}});
  unmeasured["rival"] = ModelVoteRecord{false, 0, 1'000'000, 0, 0, {}, 1};
  EXPECT_EQ(settled_gain_ppm(unmeasured), 10'000);
}

std::vector<Hash> replay(ProtocolChain& p) {
  std::vector<Hash> hashes;
  auto record = [&] { hashes.push_back(state_hash(kChainId, p.chain.state)); };
  p.commit(p.start(0, test_plan(4)));
  record();
  p.grant_load(0, {1, 2});
  record();
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  record();
  p.empty_blocks(4);
  record();
  return hashes;
}

TEST(ProtocolStateHash, TwoReplaysGiveTheSameHashesAndEveryStepChangesIt) {
  ProtocolChain a, b;
  const auto ha = replay(a), hb = replay(b);
  EXPECT_EQ(ha, hb);
  for (std::size_t i = 1; i < ha.size(); ++i) EXPECT_NE(ha[i], ha[i - 1]);
  EXPECT_EQ(a.chain.state.last_block_id, b.chain.state.last_block_id);
}

TEST(ProtocolStateHash, StateWithoutARunKeepsTheV1Encoding) {
  ProtocolChain p;
  p.chain.append({p.chain.note(0, 1)});
  const Bytes body = state_encoding(p.chain.state);
  EXPECT_EQ(state_hash(kChainId, p.chain.state),
            sha256(domain_separated(kStateDomain, kChainId, body)));
  p.nonces[0] = 2;  // the note used alice's nonce 1
  p.commit(p.start(0, test_plan(4)));
  const Bytes with_run = state_encoding(p.chain.state);
  EXPECT_EQ(state_hash(kChainId, p.chain.state),
            sha256(domain_separated(kStateDomainV2, kChainId, with_run)));
  const Bytes training = training_encoding(p.chain.state.training);
  ASSERT_GT(with_run.size(), training.size());
  EXPECT_TRUE(std::equal(training.begin(), training.end(),
                         with_run.end() - static_cast<std::ptrdiff_t>(training.size())));
}

}  // namespace
}  // namespace baton::chain::testing
