#include <gtest/gtest.h>

#include "tests/consensus/harness.h"

namespace baton::consensus::testing {
namespace {

using chain::pb::PRECOMMIT;
using chain::pb::PREVOTE;

const chain::Hash kA = chain::sha256("block a");
const chain::Hash kB = chain::sha256("block b");

std::unique_ptr<Signer> open(SignerStateStore& store) {
  return Signer::open(key_for(0), kChain, store).value();
}

SignRefusal refusal(const Error& e) { return static_cast<SignRefusal>(e.code); }

TEST(Signer, SignsVotesThatVerify) {
  MemorySignerStateStore store;
  auto signer = open(store);
  auto vote = signer->sign_vote(PREVOTE, 3, 1, kA);
  ASSERT_TRUE(vote);
  EXPECT_TRUE(chain::verify_vote(kChain, *vote));
  EXPECT_FALSE(chain::verify_vote({"other-chain", kChain.genesis_hash}, *vote));
  EXPECT_FALSE(chain::verify_vote({kChain.chain_id, chain::sha256("other genesis")}, *vote));
}

TEST(Signer, RefusesToSignBackwards) {
  MemorySignerStateStore store;
  auto signer = open(store);
  ASSERT_TRUE(signer->sign_vote(PRECOMMIT, 5, 2, kA));
  const auto lower_step = signer->sign_vote(PREVOTE, 5, 2, kA);
  ASSERT_FALSE(lower_step);
  EXPECT_EQ(refusal(lower_step.error()), SignRefusal::regression);
  const auto lower_round = signer->sign_vote(PRECOMMIT, 5, 1, kA);
  ASSERT_FALSE(lower_round);
  EXPECT_EQ(refusal(lower_round.error()), SignRefusal::regression);
  const auto lower_height = signer->sign_proposal(4, 9, -1, kA, "x");
  ASSERT_FALSE(lower_height);
  EXPECT_EQ(refusal(lower_height.error()), SignRefusal::regression);
}

TEST(Signer, RefusesConflictingValueAtSameStepButRepeatsTheSameOne) {
  MemorySignerStateStore store;
  auto signer = open(store);
  const auto first = signer->sign_vote(PREVOTE, 5, 2, kA);
  ASSERT_TRUE(first);
  const auto conflict = signer->sign_vote(PREVOTE, 5, 2, kB);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(refusal(conflict.error()), SignRefusal::conflicting_value);
  const auto nil = signer->sign_vote(PREVOTE, 5, 2, std::nullopt);
  ASSERT_FALSE(nil) << "nil is a different value than a block";
  const auto again = signer->sign_vote(PREVOTE, 5, 2, kA);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->signature(), first->signature());
}

TEST(Signer, RefusesDoubleSigningAcrossARestart) {
  MemorySignerStateStore store;
  {
    auto signer = open(store);
    ASSERT_TRUE(signer->sign_vote(PRECOMMIT, 7, 0, kA));
  }
  auto restarted = open(store);
  EXPECT_EQ(restarted->last().height(), 7u);
  const auto conflict = restarted->sign_vote(PRECOMMIT, 7, 0, kB);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(refusal(conflict.error()), SignRefusal::conflicting_value);
  const auto back = restarted->sign_vote(PREVOTE, 7, 0, kB);
  ASSERT_FALSE(back);
  EXPECT_EQ(refusal(back.error()), SignRefusal::regression);
  EXPECT_TRUE(restarted->sign_vote(PREVOTE, 7, 1, kB));
}

TEST(Signer, SignsNothingWhenTheRecordCannotBeSaved) {
  MemorySignerStateStore store;
  auto signer = open(store);
  store.set_fail_saves(true);
  const auto vote = signer->sign_vote(PREVOTE, 1, 0, kA);
  ASSERT_FALSE(vote);
  EXPECT_EQ(refusal(vote.error()), SignRefusal::store_failed);
  EXPECT_NE(vote.error().message.find("could not be saved"), std::string::npos);
  store.set_fail_saves(false);
  EXPECT_EQ(signer->last().height(), 0u) << "the failed attempt left no record";
  EXPECT_TRUE(signer->sign_vote(PREVOTE, 1, 0, kB));
}

TEST(Signer, RefusesToOpenOnAMalformedRecord) {
  MemorySignerStateStore store;
  pb::SignerState bad;
  bad.set_height(3);
  bad.set_step(9);
  ASSERT_TRUE(store.save(bad));
  EXPECT_FALSE(Signer::open(key_for(0), kChain, store));
  bad.set_step(2);
  bad.set_block_id(std::string(32, '\0'));  // no block has this id
  ASSERT_TRUE(store.save(bad));
  EXPECT_FALSE(Signer::open(key_for(0), kChain, store));
}

}  // namespace
}  // namespace baton::consensus::testing
