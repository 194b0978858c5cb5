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
    ASSERT_TRUE(store.save(signer->take_unsaved().value()));  // written before it is sent
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

// The signer writes nothing: each new record is handed out once, for the
// caller to write before it sends what the record covers.
TEST(Signer, HandsOutEachNewRecordOnceAndWritesNothing) {
  MemorySignerStateStore store;
  auto signer = open(store);
  EXPECT_FALSE(signer->take_unsaved()) << "nothing signed yet";
  const auto vote = signer->sign_vote(PREVOTE, 1, 0, kA);
  ASSERT_TRUE(vote);
  EXPECT_FALSE(store.load().value()) << "the signer wrote its record itself";
  const auto record = signer->take_unsaved();
  ASSERT_TRUE(record);
  EXPECT_EQ(record->height(), 1u);
  EXPECT_EQ(record->round(), 0u);
  EXPECT_EQ(record->step(), static_cast<std::uint32_t>(SignStep::prevote));
  EXPECT_EQ(record->block_id(), str(kA));
  EXPECT_EQ(record->signature(), vote->signature());
  EXPECT_FALSE(signer->take_unsaved()) << "handed out twice";
  ASSERT_TRUE(signer->sign_vote(PREVOTE, 1, 0, kA));
  EXPECT_FALSE(signer->take_unsaved()) << "the same value again makes no new record";
  ASSERT_TRUE(signer->sign_vote(PREVOTE, 1, 1, kB));
  ASSERT_TRUE(signer->sign_vote(PRECOMMIT, 1, 1, kB));
  const auto latest = signer->take_unsaved();
  ASSERT_TRUE(latest);  // one record covers both: the latest
  EXPECT_EQ(latest->step(), static_cast<std::uint32_t>(SignStep::precommit));
  EXPECT_EQ(latest->round(), 1u);
}

// A crash before the record was written loses a signature that was never
// sent (the caller sends only after writing): the restarted signer may sign
// that step again, for another value. Once written, it never may.
TEST(Signer, OnlyAWrittenRecordBindsTheRestartedSigner) {
  MemorySignerStateStore store;
  {
    auto signer = open(store);
    ASSERT_TRUE(signer->sign_vote(PREVOTE, 4, 0, kA));  // crash: never written, never sent
  }
  auto restarted = open(store);
  ASSERT_TRUE(restarted->sign_vote(PREVOTE, 4, 0, kB));
  ASSERT_TRUE(store.save(restarted->take_unsaved().value()));
  auto again = open(store);
  const auto conflict = again->sign_vote(PREVOTE, 4, 0, kA);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(refusal(conflict.error()), SignRefusal::conflicting_value);
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
