// The engine stepped by hand: one engine under test (validator 0 of four equal
// validators) fed signed messages made outside it, or four engines wired
// together by a loop that delivers every message.
#include <gtest/gtest.h>

#include <deque>

#include "tests/consensus/harness.h"

namespace baton::consensus::testing {
namespace {

using chain::pb::PRECOMMIT;
using chain::pb::PREVOTE;

// With four equal validators the rotation is 0,1,2,3 over height + round, so
// validator 0 is not the proposer of height 1 in rounds 0..2.
constexpr int kMe = 0;

std::string block_by(int proposer, std::uint64_t height, std::uint32_t round) {
  sim::ChainApp app(kChain, key_for(proposer).public_key());
  return app.make_block(height, round, {}).value();
}

chain::Hash id_of(const std::string& block) { return block_id_of(block).value(); }

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : validators_(make_validators({1, 1, 1, 1})), node_(kMe, validators_) {}

  Output start() {
    node_.engine->start();
    return node_.take();
  }
  Output feed(const pb::ConsensusMessage& m, MessageVerdict expect = MessageVerdict::accepted) {
    EXPECT_EQ(node_.engine->on_message(m), expect);
    return node_.take();
  }
  Output fire(const Timeout& t) {
    node_.engine->on_timeout(t);
    return node_.take();
  }
  // Locks validator 0 on `block` in round `round` of height 1: the proposal
  // and prevotes from validators 1..3.
  void lock_on(const std::string& block, std::uint32_t round) {
    const int proposer = static_cast<int>(validators_.proposer(1, round));
    feed(proposal_msg(proposer, 1, round, -1, block));
    for (int v = 1; v <= 2; ++v) feed(vote_msg(v, PREVOTE, 1, round, id_of(block)));
  }

  ValidatorSet validators_;
  TestNode node_;
};

TEST_F(EngineTest, PrevotesValidProposalAndPrecommitsOnPolka) {
  const auto first = start();
  EXPECT_TRUE(find_timeout(first, Step::propose));
  const std::string block = block_by(1, 1, 0);
  const auto after_proposal = feed(proposal_msg(1, 1, 0, -1, block));
  const auto prevote = find_vote(after_proposal, PREVOTE);
  ASSERT_TRUE(prevote);
  EXPECT_EQ(prevote->block_id(), str(id_of(block)));

  feed(vote_msg(1, PREVOTE, 1, 0, id_of(block)));
  const auto polka = feed(vote_msg(2, PREVOTE, 1, 0, id_of(block)));
  const auto precommit = find_vote(polka, PRECOMMIT);
  ASSERT_TRUE(precommit);
  EXPECT_EQ(precommit->block_id(), str(id_of(block)));
  ASSERT_TRUE(polka.checkpoint);
  EXPECT_EQ(polka.checkpoint->locked_round(), 0);
  EXPECT_EQ(node_.engine->status().locked_round, 0);
}

TEST_F(EngineTest, DecidesWithTwoThirdsOfPrecommitsAndBuildsCommit) {
  start();
  const std::string block = block_by(1, 1, 0);
  lock_on(block, 0);
  feed(vote_msg(1, PRECOMMIT, 1, 0, id_of(block)));
  const auto out = feed(vote_msg(2, PRECOMMIT, 1, 0, id_of(block)));
  ASSERT_TRUE(out.decision);
  EXPECT_EQ(out.decision->height, 1u);
  EXPECT_EQ(out.decision->block_id, id_of(block));
  EXPECT_EQ(out.decision->commit.signatures_size(), 3);
  EXPECT_TRUE(verify_commit(validators_, kChain, out.decision->commit, 1, id_of(block)));
  // A finished height waits for the commit pause before round 0 of the next.
  EXPECT_EQ(node_.engine->status().height, 2u);
  EXPECT_EQ(node_.engine->status().step, Step::new_height);
  EXPECT_TRUE(find_timeout(out, Step::new_height));
}

TEST_F(EngineTest, InvalidProposalGetsNilPrevote) {
  start();
  node_.app.set_refuse_all(true);
  const auto out =
      feed(proposal_msg(1, 1, 0, -1, block_by(1, 1, 0)), MessageVerdict::invalid_block);
  const auto prevote = find_vote(out, PREVOTE);
  ASSERT_TRUE(prevote);
  EXPECT_TRUE(prevote->block_id().empty());
}

TEST_F(EngineTest, ProposeTimeoutPrevotesNil) {
  const auto first = start();
  const auto t = find_timeout(first, Step::propose).value();
  const auto out = fire(t);
  const auto prevote = find_vote(out, PREVOTE);
  ASSERT_TRUE(prevote);
  EXPECT_TRUE(prevote->block_id().empty());
  EXPECT_EQ(node_.engine->status().step, Step::prevote);
}

TEST_F(EngineTest, NilPrecommitsLeadToNextRound) {
  const auto first = start();
  fire(find_timeout(first, Step::propose).value());
  feed(vote_msg(1, PREVOTE, 1, 0, std::nullopt));
  const auto nil_polka = feed(vote_msg(2, PREVOTE, 1, 0, std::nullopt));
  const auto precommit = find_vote(nil_polka, PRECOMMIT);
  ASSERT_TRUE(precommit);
  EXPECT_TRUE(precommit->block_id().empty());
  feed(vote_msg(1, PRECOMMIT, 1, 0, std::nullopt));
  const auto quorum = feed(vote_msg(2, PRECOMMIT, 1, 0, std::nullopt));
  EXPECT_FALSE(quorum.decision);
  const auto t = find_timeout(quorum, Step::precommit).value();
  const auto next = fire(t);
  EXPECT_EQ(node_.engine->status().round, 1u);
  EXPECT_EQ(node_.engine->status().step, Step::propose);
  EXPECT_TRUE(find_timeout(next, Step::propose));
}

TEST_F(EngineTest, TimeoutsGrowWithTheRound) {
  const auto first = start();
  const auto options = test_options().timeouts;
  EXPECT_EQ(find_timeout(first, Step::propose)->duration_ms, options.propose_base_ms);
  // f+1 validators in round 2 pull the engine there (validator 3 proposes it).
  feed(vote_msg(1, PREVOTE, 1, 2, std::nullopt));
  const auto skipped = feed(vote_msg(2, PREVOTE, 1, 2, std::nullopt));
  ASSERT_EQ(node_.engine->status().round, 2u);
  const auto propose = find_timeout(skipped, Step::propose);
  ASSERT_TRUE(propose);
  EXPECT_EQ(propose->duration_ms, options.propose_base_ms + 2 * options.propose_delta_ms);
  // Our nil prevote (propose timeout) makes three of four: the prevote
  // timeout is scheduled with the round-2 length.
  const auto after = fire(*propose);
  const auto prevote = find_timeout(after, Step::prevote);
  ASSERT_TRUE(prevote);
  EXPECT_EQ(prevote->duration_ms, options.prevote_base_ms + 2 * options.prevote_delta_ms);
}

TEST_F(EngineTest, PrevoteTimeoutScheduledOnlyAfterTwoThirdsOfAnyPrevotes) {
  const std::string block = block_by(1, 1, 0);
  start();
  feed(proposal_msg(1, 1, 0, -1, block));  // we prevote for it
  const auto one = feed(vote_msg(1, PREVOTE, 1, 0, std::nullopt));
  EXPECT_FALSE(find_timeout(one, Step::prevote));
  const auto two = feed(vote_msg(2, PREVOTE, 1, 0, std::nullopt));  // 3 of 4, mixed
  const auto t = find_timeout(two, Step::prevote);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->duration_ms, test_options().timeouts.prevote_base_ms);
  const auto after = fire(*t);
  const auto precommit = find_vote(after, PRECOMMIT);
  ASSERT_TRUE(precommit);
  EXPECT_TRUE(precommit->block_id().empty());
}

TEST_F(EngineTest, SkipsToHigherRoundOnOneThirdOfPower) {
  start();
  feed(vote_msg(1, PRECOMMIT, 1, 5, std::nullopt));
  EXPECT_EQ(node_.engine->status().round, 0u) << "one validator of four is not more than 1/3";
  feed(vote_msg(2, PREVOTE, 1, 5, std::nullopt));
  EXPECT_EQ(node_.engine->status().round, 5u);
}

TEST_F(EngineTest, LockedValidatorPrevotesNilForAnotherValue) {
  start();
  const std::string v = block_by(1, 1, 0);
  lock_on(v, 0);
  ASSERT_EQ(node_.engine->status().locked_round, 0);
  // Round 0 ends without a decision.
  feed(vote_msg(1, PRECOMMIT, 1, 0, std::nullopt));
  const auto q = feed(vote_msg(2, PRECOMMIT, 1, 0, std::nullopt));
  fire(find_timeout(q, Step::precommit).value());
  ASSERT_EQ(node_.engine->status().round, 1u);
  // Round 1's proposer offers another block with no proof-of-lock.
  const auto out = feed(proposal_msg(2, 1, 1, -1, block_by(2, 1, 1)));
  const auto prevote = find_vote(out, PREVOTE);
  ASSERT_TRUE(prevote);
  EXPECT_TRUE(prevote->block_id().empty()) << "a locked validator must not prevote another value";
}

TEST_F(EngineTest, LockedValidatorPrevotesItsLockedValueAgain) {
  start();
  const std::string v = block_by(1, 1, 0);
  lock_on(v, 0);
  feed(vote_msg(1, PRECOMMIT, 1, 0, std::nullopt));
  const auto q = feed(vote_msg(2, PRECOMMIT, 1, 0, std::nullopt));
  fire(find_timeout(q, Step::precommit).value());
  const auto out = feed(proposal_msg(2, 1, 1, 0, v));  // re-proposed with pol_round 0
  const auto prevote = find_vote(out, PREVOTE);
  ASSERT_TRUE(prevote);
  EXPECT_EQ(prevote->block_id(), str(id_of(v)));
}

TEST_F(EngineTest, UnlocksOnProofOfLockFromLaterRound) {
  start();
  const std::string v = block_by(1, 1, 0);
  const std::string w = block_by(2, 1, 1);
  lock_on(v, 0);
  // Skip to round 2 (f+1 there) without a decision; meanwhile others saw a
  // polka for w in round 1.
  for (int s = 1; s <= 3; ++s) feed(vote_msg(s, PREVOTE, 1, 1, id_of(w)));
  feed(vote_msg(1, PRECOMMIT, 1, 2, std::nullopt));
  feed(vote_msg(2, PRECOMMIT, 1, 2, std::nullopt));
  ASSERT_EQ(node_.engine->status().round, 2u);
  // Round 2's proposer re-proposes w with pol_round 1 > locked_round 0.
  const auto out = feed(proposal_msg(3, 1, 2, 1, w));
  const auto prevote = find_vote(out, PREVOTE);
  ASSERT_TRUE(prevote);
  EXPECT_EQ(prevote->block_id(), str(id_of(w)));
}

TEST_F(EngineTest, RejectsUntrustedMessagesWithReasons) {
  start();
  const std::string block = block_by(1, 1, 0);
  // Not a validator.
  {
    pb::ConsensusMessage m;
    *m.mutable_vote() = chain::sign_vote(kChain, key_for(9), PREVOTE, 1, 0, std::nullopt);
    EXPECT_EQ(node_.engine->on_message(m), MessageVerdict::unknown_validator);
  }
  // Signature over other bytes.
  {
    auto m = vote_msg(1, PREVOTE, 1, 0, std::nullopt);
    m.mutable_vote()->set_round(1);
    EXPECT_EQ(node_.engine->on_message(m), MessageVerdict::bad_signature);
  }
  // Another chain, and the same chain id under another genesis.
  for (const chain::NetworkId& other :
       {chain::NetworkId{"other-chain", kChain.genesis_hash},
        chain::NetworkId{kChain.chain_id, chain::sha256(std::string_view("other genesis"))}}) {
    pb::ConsensusMessage m;
    *m.mutable_vote() = chain::sign_vote(other, key_for(1), PREVOTE, 1, 0, std::nullopt);
    EXPECT_EQ(node_.engine->on_message(m), MessageVerdict::bad_signature);
  }
  EXPECT_EQ(node_.engine->on_message(proposal_msg(2, 1, 0, -1, block)),
            MessageVerdict::wrong_proposer);
  EXPECT_EQ(node_.engine->on_message(vote_msg(1, PREVOTE, 1, 1000, std::nullopt)),
            MessageVerdict::round_too_far);
  EXPECT_EQ(node_.engine->on_message(vote_msg(1, PREVOTE, 9, 0, std::nullopt)),
            MessageVerdict::future_height);
  EXPECT_EQ(node_.engine->on_message(pb::ConsensusMessage{}), MessageVerdict::malformed);
  {
    auto m = vote_msg(1, PREVOTE, 1, 0, std::nullopt);
    m.mutable_vote()->set_block_id("short");
    EXPECT_EQ(node_.engine->on_message(m), MessageVerdict::malformed);
  }
  // Nothing above moved the engine.
  EXPECT_EQ(node_.engine->status().round, 0u);
  EXPECT_EQ(node_.engine->status().step, Step::propose);
}

TEST(EngineLimits, RefusesOversizedProposedBlock) {
  const auto validators = make_validators({1, 1, 1, 1});
  auto options = test_options();
  options.max_block_bytes = 64;
  TestNode node(kMe, validators, options);
  node.engine->start();
  EXPECT_EQ(node.engine->on_message(proposal_msg(1, 1, 0, -1, block_by(1, 1, 0))),
            MessageVerdict::oversized);
}

TEST_F(EngineTest, ConflictingVotesBecomeEvidenceForTheNextProposal) {
  start();
  const std::string block = block_by(1, 1, 0);
  feed(vote_msg(3, PREVOTE, 1, 0, id_of(block)));
  const auto out = feed(vote_msg(3, PREVOTE, 1, 0, std::nullopt), MessageVerdict::equivocation);
  ASSERT_EQ(out.evidence.size(), 1u);
  const auto& e = out.evidence.front();
  chain::pb::Vote a, b;
  ASSERT_TRUE(a.ParseFromString(e.vote_a()));
  ASSERT_TRUE(b.ParseFromString(e.vote_b()));
  EXPECT_EQ(a.validator(), b.validator());
  EXPECT_NE(a.block_id(), b.block_id());
  EXPECT_TRUE(chain::verify_vote(kChain, a));
  EXPECT_TRUE(chain::verify_vote(kChain, b));
  // The same pair again is not reported twice.
  EXPECT_EQ(node_.engine->on_message(vote_msg(3, PREVOTE, 1, 0, std::nullopt)),
            MessageVerdict::duplicate);

  // When validator 0 next proposes (height 1 round 3) the engine offers it;
  // the application keeps it out of a block of the same height (chain/'s rule).
  feed(vote_msg(1, PREVOTE, 1, 3, std::nullopt));
  const auto proposed = feed(vote_msg(2, PREVOTE, 1, 3, std::nullopt));
  ASSERT_EQ(validators_.proposer(1, 3), 0u);
  ASSERT_EQ(node_.app.offered_evidence().size(), 1u);
  EXPECT_EQ(node_.app.offered_evidence().front(), e.SerializeAsString());
  std::optional<pb::Proposal> own;
  for (const auto& m : proposed.messages) {
    if (m.has_proposal()) own = m.proposal();
  }
  ASSERT_TRUE(own);
  // Height 1 decides that block; at height 2 (validator 0 proposes round 2)
  // the evidence goes in.
  const auto own_id = id_of(own->block());
  feed(vote_msg(1, PRECOMMIT, 1, 3, own_id));
  feed(vote_msg(2, PRECOMMIT, 1, 3, own_id));
  const auto decided = feed(vote_msg(3, PRECOMMIT, 1, 3, own_id));
  ASSERT_TRUE(decided.decision);
  fire(find_timeout(decided, Step::new_height).value());
  feed(vote_msg(1, PREVOTE, 2, 2, std::nullopt));
  const auto second = feed(vote_msg(2, PREVOTE, 2, 2, std::nullopt));
  ASSERT_EQ(validators_.proposer(2, 2), 0u);
  bool carried = false;
  for (const auto& m : second.messages) {
    if (!m.has_proposal()) continue;
    chain::pb::Block blk;
    ASSERT_TRUE(blk.ParseFromString(m.proposal().block()));
    ASSERT_EQ(blk.evidence_size(), 1);
    EXPECT_EQ(blk.evidence(0), e.SerializeAsString());
    carried = true;
  }
  EXPECT_TRUE(carried);
}

TEST_F(EngineTest, HonestNilVoteRecastAsZeroBlockIdIsNotEquivocation) {
  start();
  const auto nil = vote_msg(3, PREVOTE, 1, 0, std::nullopt);
  feed(nil);
  auto forged = nil;
  forged.mutable_vote()->set_block_id(std::string(32, '\0'));
  const auto out = feed(forged, MessageVerdict::malformed);
  EXPECT_TRUE(out.evidence.empty()) << "an honest validator was accused of a double vote";
  // Nothing pending for the next proposal either: validator 0 proposes
  // height 1 round 3 and is offered no evidence.
  feed(vote_msg(1, PREVOTE, 1, 3, std::nullopt));
  const auto proposed = feed(vote_msg(2, PREVOTE, 1, 3, std::nullopt));
  ASSERT_EQ(validators_.proposer(1, 3), 0u);
  bool proposal = false;
  for (const auto& m : proposed.messages) proposal = proposal || m.has_proposal();
  ASSERT_TRUE(proposal);
  EXPECT_TRUE(node_.app.offered_evidence().empty());
}

TEST_F(EngineTest, RestartKeepsLockAndDoesNotSignAgainstIt) {
  start();
  const std::string v = block_by(1, 1, 0);
  lock_on(v, 0);
  ASSERT_TRUE(node_.checkpoint);
  feed(vote_msg(1, PRECOMMIT, 1, 0, std::nullopt));
  const auto q = feed(vote_msg(2, PRECOMMIT, 1, 0, std::nullopt));
  fire(find_timeout(q, Step::precommit).value());
  ASSERT_EQ(node_.engine->status().round, 1u);

  node_.restart();  // crash: engine and signer rebuilt from the stores
  node_.engine->start();
  node_.take();
  EXPECT_EQ(node_.engine->status().locked_round, 0);
  EXPECT_EQ(node_.engine->status().round, 1u);
  // Its own precommit of round 0 is offered again for gossip.
  bool resent = false;
  for (const auto& m : node_.engine->messages_to_rebroadcast()) {
    resent |= m.has_vote() && m.vote().type() == PRECOMMIT && m.vote().block_id() == str(id_of(v));
  }
  EXPECT_TRUE(resent);
  const auto out = feed(proposal_msg(2, 1, 1, -1, block_by(2, 1, 1)));
  const auto prevote = find_vote(out, PREVOTE);
  ASSERT_TRUE(prevote);
  EXPECT_TRUE(prevote->block_id().empty());
}

TEST_F(EngineTest, RestartAfterVotingResendsTheSameVoteInsteadOfANewOne) {
  start();
  const std::string v = block_by(1, 1, 0);
  const auto out = feed(proposal_msg(1, 1, 0, -1, v));
  const auto prevote = find_vote(out, PREVOTE).value();
  node_.restart();
  node_.engine->start();
  const auto after = node_.take();
  EXPECT_EQ(node_.engine->status().step, Step::prevote);
  EXPECT_FALSE(find_vote(after, PREVOTE)) << "nothing new is signed";
  bool resent = false;
  for (const auto& m : node_.engine->messages_to_rebroadcast()) {
    resent |= m.has_vote() && m.vote().SerializeAsString() == prevote.SerializeAsString();
  }
  EXPECT_TRUE(resent);
}

// The engine writes nothing: the signer's record of a vote leaves in the
// same output as the vote, for the caller to write first (engine.h), and a
// gossip tick never resends a message no output has carried yet.
TEST_F(EngineTest, TheSignerRecordLeavesWithTheVoteItCovers) {
  start();
  const std::string v = block_by(1, 1, 0);
  ASSERT_EQ(node_.engine->on_message(proposal_msg(1, 1, 0, -1, v)), MessageVerdict::accepted);
  for (const auto& m : node_.engine->messages_to_rebroadcast())
    EXPECT_FALSE(m.has_vote()) << "a vote no output carried was offered for gossip";
  EXPECT_FALSE(node_.store.load().value()) << "the engine wrote the signer record itself";
  const Output out = node_.engine->take_output();
  const auto prevote = find_vote(out, PREVOTE);
  ASSERT_TRUE(prevote);
  ASSERT_TRUE(out.signer_state);
  EXPECT_EQ(out.signer_state->height(), 1u);
  EXPECT_EQ(out.signer_state->round(), 0u);
  EXPECT_EQ(out.signer_state->step(), static_cast<std::uint32_t>(SignStep::prevote));
  EXPECT_EQ(out.signer_state->block_id(), prevote->block_id());
  EXPECT_EQ(out.signer_state->signature(), prevote->signature());
  bool offered = false;
  for (const auto& m : node_.engine->messages_to_rebroadcast())
    offered |= m.has_vote() && m.vote().SerializeAsString() == prevote->SerializeAsString();
  EXPECT_TRUE(offered);
  // Nothing new signed: no record.
  EXPECT_FALSE(feed(vote_msg(2, PREVOTE, 1, 0, std::nullopt)).signer_state);
}

// Killed before its output was written, the validator lost a vote that
// never left: after the restart it may vote otherwise at that step. Once
// the record of the new vote is written, the old one is refused for good.
TEST_F(EngineTest, ACrashBeforeTheOutputIsWrittenLosesOnlyWhatNeverLeft) {
  start();
  const std::string v = block_by(1, 1, 0);
  ASSERT_EQ(node_.engine->on_message(proposal_msg(1, 1, 0, -1, v)), MessageVerdict::accepted);
  node_.restart();  // the output (a prevote for v and its record) is lost
  node_.engine->start();
  const auto first = node_.take();
  EXPECT_EQ(node_.engine->status().step, Step::propose);
  const auto prevote = find_vote(fire(find_timeout(first, Step::propose).value()), PREVOTE);
  ASSERT_TRUE(prevote);
  EXPECT_TRUE(prevote->block_id().empty()) << "nil after the propose timeout";
  node_.restart();
  const auto again = node_.signer->sign_vote(PREVOTE, 1, 0, id_of(v));
  ASSERT_FALSE(again);
  EXPECT_EQ(static_cast<SignRefusal>(again.error().code), SignRefusal::conflicting_value);
}

TEST_F(EngineTest, CountsAnEquivocatorTowardsEachValueItSigned) {
  start();
  const std::string a = block_by(1, 1, 0);
  feed(proposal_msg(1, 1, 0, -1, a));  // we prevote A
  feed(vote_msg(3, PREVOTE, 1, 0, std::nullopt));
  feed(vote_msg(3, PREVOTE, 1, 0, id_of(a)), MessageVerdict::equivocation);
  // Us, validator 1 and the equivocator signed A: 3 of 4 signed it.
  const auto out = feed(vote_msg(1, PREVOTE, 1, 0, id_of(a)));
  const auto precommit = find_vote(out, PRECOMMIT);
  ASSERT_TRUE(precommit);
  EXPECT_EQ(precommit->block_id(), str(id_of(a)));
}

TEST_F(EngineTest, KeepsNextHeightMessagesUntilItGetsThere) {
  start();
  const std::string first = block_by(1, 1, 0);
  sim::ChainApp other(kChain, key_for(2).public_key());
  ASSERT_TRUE(other.append(sim::CommittedEntry{id_of(first), first, {}}));
  const std::string second = other.make_block(2, 0, {}).value();
  ASSERT_EQ(validators_.proposer(2, 0), 2u);
  // Peers already at height 2 (we missed their height-1 precommits so far).
  feed(proposal_msg(2, 2, 0, -1, second));
  for (int v = 1; v <= 3; ++v) feed(vote_msg(v, PREVOTE, 2, 0, id_of(second)));
  EXPECT_EQ(node_.engine->on_message(vote_msg(1, PREVOTE, 3, 0, std::nullopt)),
            MessageVerdict::future_height);
  // Height 1 completes.
  lock_on(first, 0);
  feed(vote_msg(1, PRECOMMIT, 1, 0, id_of(first)));
  const auto decided = feed(vote_msg(2, PRECOMMIT, 1, 0, id_of(first)));
  ASSERT_TRUE(decided.decision);
  // Round 0 of height 2 starts after the commit pause and finds the
  // proposal and a polka waiting: prevote and precommit at once.
  const auto out = fire(find_timeout(decided, Step::new_height).value());
  const auto precommit = find_vote(out, PRECOMMIT);
  ASSERT_TRUE(precommit);
  EXPECT_EQ(precommit->height(), 2u);
  EXPECT_EQ(precommit->block_id(), str(id_of(second)));
}

TEST_F(EngineTest, BlockSyncMovesTheEngineToTheNextHeight) {
  start();
  const std::string first = block_by(1, 1, 0);
  ASSERT_TRUE(node_.app.append(sim::CommittedEntry{id_of(first), first, {}}));
  node_.engine->on_block_committed(1);
  auto out = node_.take();
  EXPECT_EQ(node_.engine->status().height, 2u);
  EXPECT_FALSE(out.decision) << "a synced block is not decided again";
  out = fire(find_timeout(out, Step::new_height).value());
  EXPECT_EQ(node_.engine->status().step, Step::propose);
  // Votes for height 1 are now stale.
  EXPECT_EQ(node_.engine->on_message(vote_msg(1, PRECOMMIT, 1, 0, id_of(first))),
            MessageVerdict::stale);
}

// Four engines wired together: every message reaches everyone, timeouts of
// the commit pause fire at once. Every engine decides the same blocks.
TEST(EngineNetwork, FourValidatorsCommitTheSameBlocks) {
  const auto validators = make_validators({1, 1, 1, 1});
  std::vector<std::unique_ptr<TestNode>> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(std::make_unique<TestNode>(i, validators));
  std::deque<std::pair<int, pb::ConsensusMessage>> wire;
  std::deque<std::pair<int, Timeout>> pauses;
  auto collect = [&](int i) {
    auto out = nodes[static_cast<std::size_t>(i)]->take();
    for (auto& m : out.messages) wire.emplace_back(i, m);
    for (const auto& t : out.timeouts) {
      if (t.step == Step::new_height) pauses.emplace_back(i, t);
    }
  };
  for (int i = 0; i < 4; ++i) {
    nodes[static_cast<std::size_t>(i)]->engine->start();
    collect(i);
  }
  for (int steps = 0; steps < 100000 && nodes[0]->decisions.size() < 5; ++steps) {
    if (!wire.empty()) {
      auto [from, m] = wire.front();
      wire.pop_front();
      for (int i = 0; i < 4; ++i) {
        if (i == from) continue;
        const auto verdict = nodes[static_cast<std::size_t>(i)]->engine->on_message(m);
        EXPECT_FALSE(is_misbehaviour(verdict)) << to_string(verdict);
        collect(i);
      }
    } else if (!pauses.empty()) {
      auto [i, t] = pauses.front();
      pauses.pop_front();
      nodes[static_cast<std::size_t>(i)]->engine->on_timeout(t);
      collect(i);
    } else {
      break;
    }
  }
  ASSERT_GE(nodes[0]->decisions.size(), 5u);
  for (const auto& n : nodes) {
    ASSERT_GE(n->decisions.size(), 4u);
    for (std::size_t h = 0; h < 4; ++h) {
      EXPECT_EQ(n->decisions[h].block_id, nodes[0]->decisions[h].block_id);
      EXPECT_EQ(n->decisions[h].round, 0u);
    }
  }
}

}  // namespace
}  // namespace baton::consensus::testing
