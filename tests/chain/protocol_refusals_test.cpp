// Refused protocol transactions (docs/PROTOCOL.md §18.3): a block includes
// them, their nonce is spent, the training state records why and changes in
// nothing else. Only undecodable payloads (and bad signatures, nonces, ...)
// make a block invalid.
#include <gtest/gtest.h>

#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

TEST(ProtocolRefusals, ARefusedTransactionSpendsItsNonceAndTheSendersNextOneApplies) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  // One block: bob's out-of-turn LoadRequest (nonce 1), then his approval (nonce 2).
  const pb::Transaction refused = p.load_request(1, 0, std::nullopt);
  p.spent(refused);
  const pb::Transaction approval = p.load_approval(1, req);
  p.append({encode_transaction(refused), encode_transaction(approval)});
  p.spent(approval);
  EXPECT_EQ(p.chain.state.next_nonce(p.chain.key(1).public_key()), 3u);
  EXPECT_TRUE(p.turn().load_approvals.contains("bob"));
  const Refusal* r = find_refusal(p.training(), tx_hash(encode_transaction(refused)));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->reason, ProtocolRejected::out_of_turn);
  EXPECT_EQ(r->sender, "bob");
  EXPECT_EQ(r->type, pb::TX_LOAD_REQUEST);
  EXPECT_EQ(r->run_id, "run-1");
  EXPECT_EQ(r->turn, 0u);
  EXPECT_EQ(r->height, 3u);
  ASSERT_EQ(p.run().refusals.recent.size(), 1u);  // kept in the run it names
  EXPECT_EQ(p.run().refusals.total, 1u);
  EXPECT_EQ(p.training().refusals.total, 0u);
  // And bob goes on: his next transaction (nonce 3) applies as usual.
  p.commit(p.load_approval(2, req));
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 720000, 700000));
  EXPECT_EQ(p.turn().model_votes.size(), 1u);
}

TEST(ProtocolRefusals, AVoteAfterItsDeadlineIsRecordedAgainstItsTurn) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));  // block 2, deadline 6
  p.empty_blocks(4);
  ASSERT_EQ(p.run().turns[0].outcome, TurnOutcome::expired);
  const auto late = p.load_approval(1, req);
  EXPECT_EQ(p.commit_refused(late), ProtocolRejected::vote_after_deadline);
  const Refusal* r = find_refusal(p.training(), tx_hash(encode_transaction(late)));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->turn, 0u);  // the turn of the request it votes on, not the current one
  EXPECT_EQ(p.turn().index, 1u);
  EXPECT_TRUE(p.run().turns[0].load_approvals.empty());
}

TEST(ProtocolRefusals, ASecondSaveRequestForATurnIsRecordedAndTheFirstCandidateStays) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});
  const Hash first = p.commit(p.save_request(0, 0, std::nullopt, 0x10));
  // A restarted partner that trained again and sends another candidate.
  EXPECT_EQ(p.commit_refused(p.save_request(0, 0, std::nullopt, 0x20)),
            ProtocolRejected::wrong_phase);
  EXPECT_EQ(p.turn().save_request_id, first);
  EXPECT_EQ(p.turn().save->ciphertext_sha256, fake_hash(0x10));
}

// The free rider: it claims the head's model (the same hashes and object
// key, or the head re-sealed: every member can open it) or a rival's
// rejected candidate, re-sealed, as its own (issue 13). Refused and
// recorded; the turn stays open for a model of its own.
TEST(ProtocolRefusals, ACandidateWhoseModelWasAlreadySubmittedInTheRunIsRefused) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4, 2)));
  p.grant_load(0, {1, 2});
  const Hash first = p.commit(p.save_request(0, 0, std::nullopt, 0x10));
  for (std::size_t v : {1, 2}) p.commit(p.model_vote(v, first, true, 720000, 700000));
  ASSERT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  const Hash head_model = p.run().models.back().model_sha256;

  // bob, turn 1: the head's own bytes, then the head re-sealed.
  p.grant_load(1, {0, 2});
  EXPECT_EQ(p.commit_refused(p.save_request(1, 1, first, 0x10, head_model)),
            ProtocolRejected::duplicate_model);
  EXPECT_EQ(p.commit_refused(p.save_request(1, 1, first, 0x40, head_model)),
            ProtocolRejected::duplicate_model);
  EXPECT_EQ(p.turn().phase, TurnPhase::training);
  // A model of its own is taken; the voters reject it.
  const Hash rejected = p.commit(p.save_request(1, 1, first, 0x20));
  for (std::size_t v : {0, 2}) p.commit(p.model_vote(v, rejected, false, 690000, 700000));
  ASSERT_EQ(p.run().turns[1].outcome, TurnOutcome::rejected);
  const Hash rejected_model = p.run().turns[1].save->model_sha256;

  // carol, turn 2: bob's rejected model re-sealed under her name.
  p.grant_load(2, {0, 1});
  EXPECT_EQ(p.commit_refused(p.save_request(2, 2, first, 0x50, rejected_model)),
            ProtocolRejected::duplicate_model);
  const Hash own = p.commit(p.save_request(2, 2, first, 0x60));
  EXPECT_EQ(p.turn().save_request_id, own);
  EXPECT_EQ(p.run().refusals.total, 3u);
}

TEST(ProtocolRefusals, AMalformedFieldIsRefusedNotBlockInvalid) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  pb::LoadApproval a;
  a.set_run_id("run-1");
  a.set_request_id("short");
  a.set_approve(true);
  EXPECT_EQ(p.commit_refused(p.tx(1, pb::TX_LOAD_APPROVAL, a)),
            ProtocolRejected::malformed_request);
  EXPECT_EQ(p.run().refusals.recent.back().turn, std::nullopt);  // names no request
  p.commit(p.load_approval(1, req));                             // bob's next nonce
}

TEST(ProtocolRefusals, AnUndecodablePayloadStillMakesTheBlockInvalid) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const auto garbage = make_transaction(p.chain.spec.network(), p.chain.key(1), 1,
                                        pb::TX_MODEL_VOTE, std::string("\xff\xff\xff", 3));
  auto proposal = propose_block(p.chain.spec, p.chain.state, 1795996800000,
                                p.chain.key(0).public_key(), {encode_transaction(garbage)});
  ASSERT_FALSE(proposal.ok());
  EXPECT_EQ(proposal.reason().reason, BlockInvalid::malformed_transaction);
}

TEST(ProtocolRefusals, RefusalsNamingNoRunAreKeptInTheTrainingState) {
  ProtocolChain p;
  const auto stray = p.load_request(0, 0, std::nullopt);
  EXPECT_EQ(p.commit_refused(stray), ProtocolRejected::run_not_active);
  EXPECT_TRUE(p.training().runs.empty());
  EXPECT_FALSE(p.training().empty());  // a refusal alone moves the state hash to v2
  EXPECT_EQ(state_hash(kChainId, p.chain.state),
            sha256(domain_separated(kStateDomainV2, kChainId, state_encoding(p.chain.state))));
  EXPECT_EQ(p.commit_refused(p.start(1, test_plan(4))), ProtocolRejected::not_admin);
  p.commit(p.start(0, test_plan(4)));
  auto dup = test_plan(4);
  EXPECT_EQ(p.commit_refused(p.start(0, dup)), ProtocolRejected::run_active);
  // StartRun refusals stay in the training state even when the run id exists.
  EXPECT_EQ(p.training().refusals.total, 3u);
  EXPECT_EQ(p.run().refusals.total, 0u);
  EXPECT_EQ(p.training().refusals.recent[0].tx_hash, tx_hash(encode_transaction(stray)));
  EXPECT_EQ(p.training().refusals.recent[2].run_id, "run-1");
}

TEST(ProtocolRefusals, TheLogKeepsTheMostRecentAndCountsAll) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  std::vector<std::string> txs;
  std::vector<Hash> hashes;
  for (std::size_t k = 0; k < kMaxRefusalsKept + 2; ++k) {  // bob, out of turn, again and again
    const auto t = p.load_request(1, 0, std::nullopt);
    p.spent(t);
    txs.push_back(encode_transaction(t));
    hashes.push_back(tx_hash(txs.back()));
  }
  p.append(txs);
  const RefusalLog& log = p.run().refusals;
  EXPECT_EQ(log.total, kMaxRefusalsKept + 2);
  ASSERT_EQ(log.recent.size(), kMaxRefusalsKept);
  EXPECT_EQ(log.recent.front().tx_hash, hashes[2]);
  EXPECT_EQ(log.recent.back().tx_hash, hashes.back());
  EXPECT_EQ(find_refusal(p.training(), hashes[1]), nullptr);
  EXPECT_EQ(whose_turn(p.training())->phase, TurnPhase::awaiting_load_request);
}

TEST(ProtocolRefusals, ARefusalIsInTheStateHash) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  const LedgerState base = p.chain.state;
  Refusal r;
  r.height = 2;
  r.tx_hash = fake_hash(5);
  r.sender = "bob";
  r.type = pb::TX_LOAD_REQUEST;
  r.reason = ProtocolRejected::out_of_turn;
  r.run_id = "run-1";
  r.turn = 0;
  auto with = [&](const Refusal& refusal, bool in_run) {
    LedgerState s = base;
    (in_run ? s.training.runs.at("run-1").refusals : s.training.refusals).record(refusal);
    return state_hash(kChainId, s);
  };
  const Hash none = state_hash(kChainId, base), one = with(r, true);
  EXPECT_NE(one, none);
  EXPECT_NE(with(r, false), one);  // where it is kept counts
  Refusal other = r;
  other.reason = ProtocolRejected::wrong_phase;
  EXPECT_NE(with(other, true), one);
  other = r;
  other.turn.reset();
  EXPECT_NE(with(other, true), one);
  other = r;
  other.sender = "carol";
  EXPECT_NE(with(other, true), one);
  EXPECT_EQ(with(r, true), one);
}

std::vector<Hash> replay_with_refusals(ProtocolChain& p) {
  std::vector<Hash> hashes;
  auto record = [&] { hashes.push_back(state_hash(kChainId, p.chain.state)); };
  p.commit_refused(p.load_request(0, 0, std::nullopt));  // no run yet
  record();
  p.commit(p.start(0, test_plan(4)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  p.commit(p.load_approval(1, req));
  record();
  p.commit_refused(p.load_approval(1, req));  // twice
  record();
  p.commit(p.load_approval(2, req));
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit_refused(p.model_vote(0, save, true, 900000, 500000));  // its own request
  record();
  p.empty_blocks(3);                                              // the vote deadline passes
  p.commit_refused(p.model_vote(3, save, true, 800000, 700000));  // too late
  record();
  return hashes;
}

TEST(ProtocolRefusals, TwoReplaysGiveTheSameHashesAndEachRefusalChangesIt) {
  ProtocolChain a, b;
  const auto ha = replay_with_refusals(a), hb = replay_with_refusals(b);
  EXPECT_EQ(ha, hb);
  for (std::size_t i = 1; i < ha.size(); ++i) EXPECT_NE(ha[i], ha[i - 1]);
  EXPECT_EQ(a.chain.state, b.chain.state);
  EXPECT_EQ(a.run().refusals.total, 3u);
  EXPECT_EQ(a.training().refusals.total, 1u);
}

}  // namespace
}  // namespace baton::chain::testing
