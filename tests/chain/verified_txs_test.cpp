// Skipping signatures this node verified before (chain::VerifiedTxs): the
// skip applies only to the exact bytes vouched for, and only to the signature.
#include <set>

#include <gtest/gtest.h>

#include "chain/validation.h"
#include "chain_fixture.h"

namespace baton::chain {
namespace {

using testing::kChainId;
using testing::TestChain;

std::string with_bad_signature(const TestChain& c, std::size_t sender, std::uint64_t nonce) {
  auto tx = make_note(c.spec.network(), c.key(sender), nonce, "hello");
  (*tx.mutable_signature())[5] ^= 1;
  return encode_transaction(tx);
}

// A proposal-shaped block (header roots and state hash as an honest proposer
// would make them) over transactions that are not checked when it is built.
pb::Block block_over(const TestChain& c, std::vector<std::string> txs) {
  LedgerState after = c.state;
  after.height = c.state.height + 1;
  for (const auto& t : txs) {
    pb::Transaction tx;
    EXPECT_TRUE(tx.ParseFromString(t));
    EXPECT_FALSE(apply_transaction(after, tx).has_value());
  }
  return assemble_block(c.next_fields(state_hash(kChainId, after)), std::move(txs), {});
}

VerifiedTxs vouching_for(std::set<Hash> hashes) {
  return [hashes = std::move(hashes)](const Hash& h) { return hashes.contains(h); };
}

TEST(VerifiedTxs, BadSignatureNotVouchedForIsStillRefused) {
  TestChain c;
  const std::string good = c.note(1, 1);
  const std::string bad = with_bad_signature(c, 0, 1);
  auto r = check_block_stateless(c.spec, block_over(c, {good, bad}), vouching_for({tx_hash(good)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::bad_transaction_signature);
  EXPECT_EQ(r.reason().detail, "transaction 1 of 2: the transaction signature does not verify");
}

TEST(VerifiedTxs, VouchedForTransactionSkipsTheSignatureCheck) {
  // The predicate is the caller's promise that it verified these bytes; a
  // block check that trusted it did not verify the (here broken) signature.
  TestChain c;
  const std::string bad = with_bad_signature(c, 0, 1);
  auto block = block_over(c, {bad});
  EXPECT_FALSE(check_block_stateless(c.spec, block).ok());
  auto r = check_block_stateless(c.spec, block, vouching_for({tx_hash(bad)}));
  ASSERT_TRUE(r.ok()) << r.reason().message();
  ASSERT_EQ(r->transactions.size(), 1u);
  EXPECT_EQ(r->transactions[0].nonce(), 1u);
  EXPECT_TRUE(apply_block(c.spec, c.state, *r).ok());
}

TEST(VerifiedTxs, VouchingForTheHonestBytesDoesNotCoverAReSignedCopy) {
  // Same sender, nonce and payload as a verified transaction, another
  // signature: other bytes, another hash, so its signature is verified.
  TestChain c;
  const std::string good = c.note(0, 1, "hello");
  const std::string forged = with_bad_signature(c, 0, 1);
  ASSERT_NE(tx_hash(good), tx_hash(forged));
  auto r = check_block_stateless(c.spec, block_over(c, {forged}), vouching_for({tx_hash(good)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::bad_transaction_signature);
}

TEST(VerifiedTxs, VouchedForTransactionStillGetsTheOtherChecks) {
  TestChain c;
  const std::string other_chain =
      encode_transaction(make_note({"another-chain", c.spec.genesis_hash}, c.key(0), 1, "hello"));
  const std::string outsider =
      encode_transaction(make_note(c.spec.network(), testing::outsider_key(), 1, "hello"));
  auto all = vouching_for({tx_hash(other_chain), tx_hash(outsider)});
  auto r1 = check_block_stateless(c.spec, block_over(c, {other_chain}), all);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.reason().reason, BlockInvalid::transaction_wrong_chain_id);
  auto r2 = check_block_stateless(c.spec, block_over(c, {outsider}), all);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.reason().reason, BlockInvalid::transaction_from_non_member);
}

TEST(VerifiedTxs, PredicateIsAskedAboutTheHashOfTheExactBytes) {
  TestChain c;
  const std::string a = c.note(0, 1), b = c.note(1, 1);
  std::set<Hash> asked;
  auto r = check_block_stateless(c.spec, block_over(c, {a, b}), [&](const Hash& h) {
    asked.insert(h);
    return false;
  });
  ASSERT_TRUE(r.ok()) << r.reason().message();
  EXPECT_EQ(asked, (std::set<Hash>{tx_hash(a), tx_hash(b)}));
}

TEST(VerifiedTxs, ProposerSkipsOnlyWhatItVouchesFor) {
  TestChain c;
  const std::string bad = with_bad_signature(c, 0, 1);
  const PublicKey me = c.key(0).public_key();
  auto refused = propose_block(c.spec, c.state, 0, me, {bad}, {}, vouching_for({}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.reason().reason, BlockInvalid::bad_transaction_signature);
  auto built = propose_block(c.spec, c.state, 0, me, {bad}, {}, vouching_for({tx_hash(bad)}));
  ASSERT_TRUE(built.ok()) << built.reason().message();
  // Another node, which never verified it, refuses the block.
  auto r = check_block_stateless(c.spec, built->block);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::bad_transaction_signature);
}

}  // namespace
}  // namespace baton::chain
