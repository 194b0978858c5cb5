// TurnAbandon (issue 11): the scheduled partner gives up its own turn when it
// cannot load the head or its data, so that the turn ends at once with the
// reason on the ledger instead of waiting out its deadline
// (docs/PROTOCOL.md §18.1-§18.3).
#include <gtest/gtest.h>

#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

pb::Transaction abandon(
    ProtocolChain& p, std::size_t i, std::uint64_t turn, const std::optional<Hash>& head,
    std::uint32_t reason = static_cast<std::uint32_t>(LoadFailure::head_hash_mismatch),
    std::string detail = "the head blob hashes to 49f2... not 2cf7...",
    std::string run_id = "run-1") {
  pb::TurnAbandon a;
  a.set_run_id(std::move(run_id));
  a.set_turn(turn);
  a.set_head_model_id(hash_bytes(head));
  a.set_reason(reason);
  a.set_detail(std::move(detail));
  return p.tx(i, pb::TX_TURN_ABANDON, a);
}

// alice's turn 0 approved (head = its save), bob's turn 1 with its load token.
Hash approved_turn_then_token(ProtocolChain& p) {
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  EXPECT_EQ(p.run().head, save);
  p.grant_load(1, {2, 3});
  EXPECT_EQ(p.turn().phase, TurnPhase::training);
  return save;
}

TEST(ProtocolAbandon, EndsTheTurnAtOnceWithItsReasonAndTheNextTurnBegins) {
  ProtocolChain p;
  const Hash head = approved_turn_then_token(p);
  const std::uint64_t height = p.chain.state.height + 1;
  p.commit(abandon(p, 1, 1, head));
  const Turn& t = p.run().turns[1];
  EXPECT_EQ(t.phase, TurnPhase::done);
  EXPECT_EQ(t.outcome, TurnOutcome::abandoned);
  EXPECT_EQ(t.end_height, height);
  ASSERT_TRUE(t.abandon.has_value());
  EXPECT_EQ(t.abandon->reason, LoadFailure::head_hash_mismatch);
  EXPECT_EQ(t.abandon->detail, "the head blob hashes to 49f2... not 2cf7...");
  // The head stays; carol's turn begins in the same block, its deadline
  // counted from there (not from bob's save deadline).
  EXPECT_EQ(p.run().head, head);
  EXPECT_EQ(p.run().models.size(), 1u);
  EXPECT_EQ(p.run().contributivity_ppm.at("bob"), 0);
  auto view = whose_turn(p.training());
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->turn, 2u);
  EXPECT_EQ(view->partner, "carol");
  EXPECT_EQ(view->phase, TurnPhase::awaiting_load_request);
  EXPECT_EQ(view->deadline_height, height + p.run().plan.load_deadline_blocks);
  EXPECT_EQ(p.turn().start_height, height);
  EXPECT_EQ(p.turn().head_before, head);
}

TEST(ProtocolAbandon, ThePartnerMayGiveUpBeforeItsLoadRequestAndWhileApprovalsArrive) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.commit(abandon(p, 0, 0, std::nullopt,
                   static_cast<std::uint32_t>(LoadFailure::local_data_unusable),
                   "train.csv has no column age"));
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::abandoned);
  EXPECT_EQ(p.run().turns[0].abandon->reason, LoadFailure::local_data_unusable);
  // bob asks for the token, then gives up while the approvals come in.
  const Hash req = p.commit(p.load_request(1, 1, std::nullopt));
  p.commit(p.load_approval(2, req));
  ASSERT_EQ(p.turn().phase, TurnPhase::load_voting);
  p.commit(abandon(p, 1, 1, std::nullopt,
                   static_cast<std::uint32_t>(LoadFailure::store_unreachable), ""));
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::abandoned);
  EXPECT_EQ(p.turn().partner, "carol");
  // A late approval of bob's request is refused as not open.
  EXPECT_EQ(p.refusal(p.load_approval(3, req)), ProtocolRejected::no_open_request);
}

TEST(ProtocolAbandon, AbandoningTheLastTurnFinishesTheRun) {
  ProtocolChain p({1, 1});
  p.commit(p.start(0, test_plan(2)));
  p.commit(abandon(p, 0, 0, std::nullopt));
  p.commit(abandon(p, 1, 1, std::nullopt));
  EXPECT_EQ(p.run().status, RunStatus::finished);
  EXPECT_EQ(p.run().end_height, p.chain.state.height);
  EXPECT_FALSE(p.training().active_run.has_value());
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, std::nullopt)), ProtocolRejected::run_not_active);
}

TEST(ProtocolAbandon, OnlyTheScheduledPartnerMayGiveUpOnlyItsCurrentTurn) {
  ProtocolChain p;
  const Hash head = approved_turn_then_token(p);  // bob's turn 1
  // Another member cannot end bob's turn, whatever it claims.
  EXPECT_EQ(p.refusal(abandon(p, 2, 1, head)), ProtocolRejected::out_of_turn);
  EXPECT_EQ(p.refusal(abandon(p, 0, 1, head)), ProtocolRejected::out_of_turn);
  // bob cannot give up a turn that is not the current one.
  EXPECT_EQ(p.refusal(abandon(p, 1, 0, head)), ProtocolRejected::out_of_turn);
  EXPECT_EQ(p.refusal(abandon(p, 1, 2, head)), ProtocolRejected::out_of_turn);
  // Nor name another run.
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, head, 1, "", "run-2")), ProtocolRejected::wrong_run);
  // Nor another head than the current one.
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, std::nullopt)), ProtocolRejected::wrong_head);
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, fake_hash(7))), ProtocolRejected::wrong_head);
  EXPECT_EQ(p.turn().partner, "bob");
  EXPECT_EQ(p.turn().phase, TurnPhase::training);
}

TEST(ProtocolAbandon, ACandidateUpForTheVoteCannotBeWithdrawn) {
  ProtocolChain p;
  const Hash head = approved_turn_then_token(p);
  const Hash save = p.commit(p.save_request(1, 1, head, 0x30));
  ASSERT_EQ(p.turn().phase, TurnPhase::save_voting);
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, head)), ProtocolRejected::wrong_phase);
  // The voters still decide it.
  p.commit(p.model_vote(0, save, false, 600000, 700000));
  p.commit(p.model_vote(2, save, false, 600000, 700000));
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::rejected);
}

TEST(ProtocolAbandon, MalformedFieldsAreRefused) {
  ProtocolChain p;
  const Hash head = approved_turn_then_token(p);
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, head, 0)), ProtocolRejected::malformed_request);
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, head, kMaxLoadFailure + 1)),
            ProtocolRejected::malformed_request);
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, head, 1, std::string(kMaxAbandonDetailBytes + 1, 'x'))),
            ProtocolRejected::malformed_request);
  pb::TurnAbandon a;
  a.set_run_id("run-1");
  a.set_turn(1);
  a.set_head_model_id("short");
  a.set_reason(1);
  EXPECT_EQ(p.refusal(p.tx(1, pb::TX_TURN_ABANDON, a)), ProtocolRejected::malformed_request);
  // The longest detail is fine.
  p.commit(abandon(p, 1, 1, head, 2, std::string(kMaxAbandonDetailBytes, 'x')));
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::abandoned);
}

TEST(ProtocolAbandon, ARefusedAbandonIsRecordedAgainstItsTurn) {
  ProtocolChain p;
  const Hash head = approved_turn_then_token(p);
  const pb::Transaction t = abandon(p, 3, 1, head);
  EXPECT_EQ(p.commit_refused(t), ProtocolRejected::out_of_turn);
  const Refusal* r = find_refusal(p.training(), tx_hash(encode_transaction(t)));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type, pb::TX_TURN_ABANDON);
  EXPECT_EQ(r->sender, "dave");
  EXPECT_EQ(r->run_id, "run-1");
  EXPECT_EQ(r->turn, 1u);
  EXPECT_EQ(p.turn().outcome, TurnOutcome::pending);
}

TEST(ProtocolAbandon, TheReasonAndDetailAreInTheStateHash) {
  ProtocolChain p;
  const Hash head = approved_turn_then_token(p);
  p.commit(abandon(p, 1, 1, head));
  const Hash h = state_hash(kChainId, p.chain.state);
  LedgerState other = p.chain.state;
  other.training.runs.at("run-1").turns[1].abandon->detail = "another detail";
  EXPECT_NE(state_hash(kChainId, other), h);
  other = p.chain.state;
  other.training.runs.at("run-1").turns[1].abandon->reason = LoadFailure::head_missing;
  EXPECT_NE(state_hash(kChainId, other), h);
  // A turn that was not abandoned encodes no abandon bytes.
  other = p.chain.state;
  other.training.runs.at("run-1").turns[1].outcome = TurnOutcome::expired;
  other.training.runs.at("run-1").turns[1].abandon.reset();
  const std::size_t detail = p.run().turns[1].abandon->detail.size();
  EXPECT_EQ(training_encoding(p.training()).size(),
            training_encoding(other.training).size() + 1 + 4 + detail);
}

TEST(ProtocolAbandon, CheckProtocolTxAgreesWithTheBlock) {
  ProtocolChain p;
  const Hash head = approved_turn_then_token(p);
  EXPECT_FALSE(p.refusal(abandon(p, 1, 1, head)).has_value());
  p.commit(abandon(p, 1, 1, head));
  // A second one for the same turn: bob's turn is over.
  EXPECT_EQ(p.refusal(abandon(p, 1, 1, head)), ProtocolRejected::out_of_turn);
}

}  // namespace
}  // namespace baton::chain::testing
