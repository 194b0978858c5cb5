// One test per way a block can be invalid (chain/validation.h, BlockInvalid),
// each built so that exactly that rule is broken.
#include "chain/validation.h"

#include <gtest/gtest.h>

#include "chain/merkle.h"
#include "chain_fixture.h"

namespace baton::chain {
namespace {

using testing::kChainId;
using testing::TestChain;
using testing::with_header;

// The fault of a committed block on top of c.state, or a test failure when
// the block is valid.
BlockInvalid fault_of(const TestChain& c, const pb::CommittedBlock& b) {
  auto r = validate_block(c.spec, c.state, b);
  EXPECT_FALSE(r.ok()) << "the block was accepted";
  return r.ok() ? BlockInvalid::malformed_block : r.reason().reason;
}

// Assembles a block over raw transactions without checking them, with the
// state hash alice's honest proposal would carry (or `state` if given).
pb::Block raw_block(const TestChain& c, std::vector<std::string> txs,
                    std::vector<std::string> evidence = {},
                    std::optional<Hash> state = std::nullopt) {
  return assemble_block(c.next_fields(state.value_or(Hash{})), std::move(txs), std::move(evidence));
}

TEST(Validation, HonestChainOfBlocksIsValid) {
  TestChain c;
  c.append({c.note(0, 1), c.note(1, 1)});
  c.append({c.note(0, 2), c.note(0, 3), c.note(2, 1)});
  c.append({});
  EXPECT_EQ(c.state.height, 3u);
  EXPECT_EQ(c.state.tx_count, 5u);
  EXPECT_EQ(c.state.next_nonce(c.key(0).public_key()), 4u);
  EXPECT_EQ(c.state.next_nonce(c.key(3).public_key()), 1u);
}

TEST(Validation, StatelessAndApplyTogetherEqualValidate) {
  TestChain c;
  auto p = c.propose({c.note(0, 1)});
  auto committed = c.seal(p.block);
  auto decoded = check_block_stateless(c.spec, committed);
  ASSERT_TRUE(decoded.ok()) << decoded.reason().message();
  auto after = apply_block(c.spec, c.state, *decoded);
  ASSERT_TRUE(after.ok()) << after.reason().message();
  EXPECT_EQ(*after, p.after);
  EXPECT_EQ(decoded->id, p.id);
}

TEST(Validation, ProposalWithoutCommitPassesStatelessCheck) {
  TestChain c;
  auto p = c.propose({c.note(0, 1)});
  EXPECT_TRUE(check_block_stateless(c.spec, p.block).ok());
}

TEST(Validation, WrongHeightIsRefused) {
  TestChain c;
  auto p = c.propose({c.note(0, 1)});
  auto block = with_header(p.block, [](pb::BlockHeader& h) { h.set_height(2); });
  EXPECT_EQ(fault_of(c, c.seal(block)), BlockInvalid::wrong_height);
}

TEST(Validation, ReplayingABlockAtTheNextHeightIsWrongHeight) {
  TestChain c;
  auto first = c.append({c.note(0, 1)});
  EXPECT_EQ(fault_of(c, first), BlockInvalid::wrong_height);
}

TEST(Validation, WrongPreviousHashIsRefused) {
  TestChain c;
  c.append({});
  auto p = c.propose({c.note(0, 1)});
  auto block = with_header(p.block, [](pb::BlockHeader& h) {
    const Hash other = sha256(std::string_view("not the tip"));
    h.set_previous_block_hash(other.bytes.data(), 32);
  });
  auto r = validate_block(c.spec, c.state, c.seal(block));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::wrong_previous_hash);
  EXPECT_EQ(r.reason().message(), "the previous block hash does not match the block before");
}

TEST(Validation, FirstBlockMustPointAtGenesisHash) {
  TestChain c;
  EXPECT_EQ(c.state.last_block_id, c.spec.genesis_hash);
  auto p = c.propose({});
  auto block = with_header(
      p.block, [](pb::BlockHeader& h) { h.set_previous_block_hash(std::string(32, '\0')); });
  EXPECT_EQ(fault_of(c, c.seal(block)), BlockInvalid::wrong_previous_hash);
}

TEST(Validation, WrongTxMerkleRootIsRefused) {
  TestChain c;
  auto p = c.propose({c.note(0, 1), c.note(1, 1)});
  auto block = p.block;
  block.mutable_transactions()->SwapElements(0, 1);  // same set, other order
  EXPECT_EQ(fault_of(c, c.seal(block)), BlockInvalid::wrong_tx_merkle_root);
}

TEST(Validation, ChangedTransactionByteIsWrongTxMerkleRoot) {
  TestChain c;
  auto p = c.propose({c.note(0, 1, "hello")});
  auto block = p.block;
  (*block.mutable_transactions(0)).back() ^= 1;
  EXPECT_EQ(fault_of(c, c.seal(block)), BlockInvalid::wrong_tx_merkle_root);
}

TEST(Validation, WrongEvidenceMerkleRootIsRefused) {
  TestChain c;
  auto p = c.propose({});
  auto block = p.block;
  block.add_evidence("extra");
  EXPECT_EQ(fault_of(c, c.seal(block)), BlockInvalid::wrong_evidence_merkle_root);
}

TEST(Validation, BadTransactionSignatureIsRefused) {
  TestChain c;
  auto tx = make_note(c.spec.network(), c.key(0), 1, "hello");
  (*tx.mutable_signature())[5] ^= 1;
  auto r =
      validate_block(c.spec, c.state, c.seal(raw_block(c, {c.note(1, 1), encode_transaction(tx)})));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::bad_transaction_signature);
  EXPECT_EQ(r.reason().message(),
            "a transaction signature does not verify (transaction 1 of 2: the transaction "
            "signature does not verify)");
}

TEST(Validation, TransactionSignedByAnotherMemberIsBadSignature) {
  TestChain c;
  auto tx = make_note(c.spec.network(), c.key(0), 1, "hello");
  tx.set_sender(c.key(1).public_key().bytes.data(), 32);  // claims to be bob
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {encode_transaction(tx)}))),
            BlockInvalid::bad_transaction_signature);
}

TEST(Validation, ReplayedNonceIsRefused) {
  TestChain c;
  c.append({c.note(0, 1)});
  auto b = c.seal(raw_block(c, {c.note(0, 1, "again")}));
  auto r = validate_block(c.spec, c.state, b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::replayed_nonce);
  EXPECT_EQ(r.reason().detail, "transaction 0 of 1 has nonce 1, expected 2");
}

TEST(Validation, SameTransactionTwiceInABlockIsReplayedNonce) {
  TestChain c;
  const auto tx = c.note(0, 1);
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {tx, tx}))), BlockInvalid::replayed_nonce);
}

TEST(Validation, SkippedNonceIsRefused) {
  TestChain c;
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {c.note(0, 1), c.note(0, 3)}))),
            BlockInvalid::skipped_nonce);
}

TEST(Validation, BlockForAnotherChainIdIsRefused) {
  TestChain c;
  auto p = c.propose({});
  auto block = with_header(p.block, [](pb::BlockHeader& h) { h.set_chain_id("other-chain"); });
  EXPECT_EQ(fault_of(c, c.seal(block)), BlockInvalid::wrong_chain_id);
}

TEST(Validation, TransactionForAnotherChainIdIsRefused) {
  TestChain c;
  auto tx =
      encode_transaction(make_note({"other-chain", c.spec.genesis_hash}, c.key(0), 1, "hello"));
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {tx}))), BlockInvalid::transaction_wrong_chain_id);
}

TEST(Validation, TransactionSignedUnderAnotherGenesisWithTheSameChainIdIsRefused) {
  TestChain c;
  const TestChain other = testing::same_chain_id_other_genesis();
  ASSERT_EQ(other.spec.chain_id(), c.spec.chain_id());
  ASSERT_NE(other.spec.genesis_hash, c.spec.genesis_hash);
  const std::string tx = other.note(0, 1);  // a key both consortia use
  ASSERT_TRUE(check_transaction(tx, other.spec.network(), other.spec.validators, 1 << 16).ok());
  auto here = check_transaction(tx, c.spec.network(), c.spec.validators, 1 << 16);
  ASSERT_FALSE(here.ok()) << "a transaction was replayed from another consortium";
  EXPECT_EQ(here.reason(), TxInvalid::bad_signature);
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {tx}))), BlockInvalid::bad_transaction_signature);
  EXPECT_FALSE(propose_block(c.spec, c.state, 0, c.key(0).public_key(), {tx}).ok());
}

TEST(Validation, BlockCommittedUnderAnotherGenesisWithTheSameChainIdIsRefused) {
  TestChain c;
  TestChain other = testing::same_chain_id_other_genesis();
  // The other consortium's block 1, with a commit its validators signed;
  // only the parent hash is made to match ours (the same bytes otherwise).
  auto p = other.propose({});
  auto block = with_header(p.block, [&](pb::BlockHeader& h) {
    h.set_previous_block_hash(
        std::string(c.spec.genesis_hash.bytes.begin(), c.spec.genesis_hash.bytes.end()));
  });
  EXPECT_EQ(fault_of(c, other.seal(block)), BlockInvalid::commit_bad_signature);
}

TEST(Validation, CommitWithTwoThirdsOrLessPowerIsRefused) {
  TestChain c;
  auto p = c.propose({c.note(0, 1)});
  EXPECT_EQ(fault_of(c, c.seal(p.block, {0, 3})), BlockInvalid::commit_insufficient_power);
  EXPECT_EQ(fault_of(c, c.seal(p.block, {})), BlockInvalid::commit_insufficient_power);
}

TEST(Validation, CommitSignatureFromNonMemberIsRefused) {
  TestChain c;
  auto p = c.propose({});
  auto b = c.seal(p.block, {0, 1, 2});
  const auto v = sign_vote(c.spec.network(), testing::outsider_key(), pb::PRECOMMIT, 1, 0, p.id);
  auto* s = b.mutable_commit()->add_signatures();
  s->set_validator(v.validator());
  s->set_signature(v.signature());
  auto r = validate_block(c.spec, c.state, b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::commit_non_member_signature);
  EXPECT_EQ(r.reason().message(),
            "the commit has a signature from a non-member (a commit signature comes from a key "
            "that is not a validator)");
}

TEST(Validation, CommitWithBadSignatureIsRefused) {
  TestChain c;
  auto b = c.seal(c.propose({}).block);
  (*b.mutable_commit()->mutable_signatures(3)->mutable_signature())[0] ^= 1;
  EXPECT_EQ(fault_of(c, b), BlockInvalid::commit_bad_signature);
}

TEST(Validation, CommitWithDuplicateSignerIsRefused) {
  TestChain c;
  EXPECT_EQ(fault_of(c, c.seal(c.propose({}).block, {0, 1, 0})),
            BlockInvalid::commit_duplicate_signer);
}

TEST(Validation, CommitForAnotherBlockIsRefused) {
  TestChain c;
  auto p = c.propose({});
  auto b = c.seal(p.block);
  auto other = c.seal(c.propose({c.note(0, 1)}).block);
  *b.mutable_commit() = other.commit();
  EXPECT_EQ(fault_of(c, b), BlockInvalid::commit_wrong_block);
}

TEST(Validation, CommitForAnotherHeightIsRefused) {
  TestChain c;
  auto p = c.propose({});
  auto b = c.seal(p.block);
  b.mutable_commit()->set_height(2);
  EXPECT_EQ(fault_of(c, b), BlockInvalid::commit_wrong_height);
}

TEST(Validation, MissingCommitIsRefused) {
  TestChain c;
  pb::CommittedBlock b;
  *b.mutable_block() = c.propose({}).block;
  EXPECT_EQ(fault_of(c, b), BlockInvalid::commit_wrong_height);
}

TEST(Validation, TransactionFromNonMemberIsRefused) {
  TestChain c;
  auto tx = encode_transaction(make_note(c.spec.network(), testing::outsider_key(), 1, "hi"));
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {tx}))), BlockInvalid::transaction_from_non_member);
}

TEST(Validation, ProposerThatIsNotAValidatorIsRefused) {
  TestChain c({1, 1, 1, 0});
  auto p = c.propose({});
  auto block = with_header(
      p.block, [&](pb::BlockHeader& h) { h.set_proposer(c.key(3).public_key().bytes.data(), 32); });
  EXPECT_EQ(fault_of(c, c.seal(block, {0, 1, 2})), BlockInvalid::unknown_proposer);
  EXPECT_FALSE(propose_block(c.spec, c.state, 0, c.key(3).public_key(), {}).ok());
}

TEST(Validation, GarbageHeaderIsMalformed) {
  TestChain c;
  pb::CommittedBlock b = c.seal(c.propose({}).block);
  b.mutable_block()->set_header("\xff\xff\xff\xff");
  EXPECT_EQ(fault_of(c, b), BlockInvalid::malformed_block);
}

TEST(Validation, HeaderWithShortHashFieldIsMalformed) {
  TestChain c;
  auto b = c.seal(c.propose({}).block);
  *b.mutable_block() =
      with_header(b.block(), [](pb::BlockHeader& h) { h.set_app_state_hash("short"); });
  EXPECT_EQ(fault_of(c, b), BlockInvalid::malformed_block);
}

TEST(Validation, GarbageTransactionIsMalformed) {
  TestChain c;
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {"\x0a\xff garbage"}))),
            BlockInvalid::malformed_transaction);
}

TEST(Validation, ZeroNonceIsMalformed) {
  TestChain c;
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {c.note(0, 0)}))), BlockInvalid::malformed_transaction);
}

TEST(Validation, UnknownTransactionTypeIsRefused) {
  TestChain c;
  auto tx = encode_transaction(
      make_transaction(c.spec.network(), c.key(0), 1, static_cast<pb::TxType>(77), ""));
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {tx}))), BlockInvalid::unknown_transaction_type);
}

TEST(Validation, NotePayloadThatDoesNotDecodeIsMalformed) {
  TestChain c;
  auto tx =
      encode_transaction(make_transaction(c.spec.network(), c.key(0), 1, pb::TX_NOTE, "\xff\xff"));
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {tx}))), BlockInvalid::malformed_transaction);
}

TEST(Validation, TooManyTransactionsAreRefused) {
  TestChain c;
  c.spec.genesis.consensus.max_block_txs = 2;
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {c.note(0, 1), c.note(0, 2), c.note(0, 3)}))),
            BlockInvalid::too_many_transactions);
}

TEST(Validation, OversizedTransactionIsRefused) {
  TestChain c;
  c.spec.genesis.consensus.max_tx_bytes = 200;
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {c.note(0, 1, std::string(300, 'x'))}))),
            BlockInvalid::transaction_too_large);
}

TEST(Validation, OversizedBlockIsRefused) {
  TestChain c;
  c.spec.genesis.consensus.max_block_bytes = 1000;
  std::vector<std::string> txs;
  for (std::uint64_t n = 1; n <= 10; ++n) txs.push_back(c.note(0, n, std::string(50, 'x')));
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, txs))), BlockInvalid::block_too_large);
}

TEST(Validation, WrongAppStateHashIsRefused) {
  TestChain c;
  auto block = raw_block(c, {c.note(0, 1)}, {}, sha256(std::string_view("made up")));
  EXPECT_EQ(fault_of(c, c.seal(block)), BlockInvalid::wrong_app_state_hash);
}

std::string equivocation(const TestChain& c, std::size_t who, std::uint64_t height) {
  const auto a = sign_vote(c.spec.network(), c.key(who), pb::PREVOTE, height, 0,
                           sha256(std::string_view("x")));
  const auto b = sign_vote(c.spec.network(), c.key(who), pb::PREVOTE, height, 0, std::nullopt);
  return make_evidence(a, b).SerializeAsString();
}

TEST(Validation, ValidEvidenceIsRecordedInState) {
  TestChain c;
  c.append({});
  c.append({}, {equivocation(c, 1, 1)});
  ASSERT_EQ(c.state.evidence.size(), 1u);
  EXPECT_EQ(c.state.evidence.begin()->validator, c.key(1).public_key());
  EXPECT_EQ(c.state.evidence.begin()->height, 1u);
}

TEST(Validation, EvidenceRecordedEarlierIsDuplicate) {
  TestChain c;
  c.append({});
  c.append({}, {equivocation(c, 1, 1)});
  auto b = c.seal(raw_block(c, {}, {equivocation(c, 1, 1)}));
  EXPECT_EQ(fault_of(c, b), BlockInvalid::duplicate_evidence);
  EXPECT_FALSE(
      propose_block(c.spec, c.state, 0, c.key(0).public_key(), {}, {equivocation(c, 1, 1)}).ok());
}

TEST(Validation, SameEvidenceTwiceInABlockIsDuplicate) {
  TestChain c;
  c.append({});
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {}, {equivocation(c, 2, 1), equivocation(c, 2, 1)}))),
            BlockInvalid::duplicate_evidence);
}

TEST(Validation, EvidenceAboutThisOrLaterHeightIsRefused) {
  TestChain c;
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {}, {equivocation(c, 2, 1)}))),
            BlockInvalid::evidence_from_future);
}

TEST(Validation, EvidenceWithoutConflictIsInvalid) {
  TestChain c;
  c.append({});
  const auto a = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 1, 0, std::nullopt);
  const std::string ev = make_evidence(a, a).SerializeAsString();
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {}, {ev}))), BlockInvalid::invalid_evidence);
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {}, {"\xff garbage"}))),
            BlockInvalid::malformed_evidence);
}

// An honest nil prevote and a copy of it with block_id = 32 zero bytes (the
// same signature): forged evidence of a double vote.
std::string forged_nil_equivocation(const TestChain& c, std::size_t who, std::uint64_t height) {
  const auto nil = sign_vote(c.spec.network(), c.key(who), pb::PREVOTE, height, 0, std::nullopt);
  auto forged = nil;
  forged.set_block_id(std::string(32, '\0'));
  return make_evidence(forged, nil).SerializeAsString();
}

TEST(Validation, ForgedEvidenceFromAnHonestNilVoteIsRefused) {
  TestChain c;
  c.append({});
  const std::string ev = forged_nil_equivocation(c, 1, 1);
  EXPECT_EQ(fault_of(c, c.seal(raw_block(c, {}, {ev}))), BlockInvalid::malformed_evidence);
  auto proposed = propose_block(c.spec, c.state, 0, c.key(0).public_key(), {}, {ev});
  ASSERT_FALSE(proposed.ok()) << "a proposer could put the forged evidence on the ledger";
  EXPECT_EQ(proposed.reason().reason, BlockInvalid::malformed_evidence);
  EXPECT_TRUE(c.state.evidence.empty());
}

TEST(Validation, ProposeRefusesTheFirstBadTransaction) {
  TestChain c;
  auto r = propose_block(c.spec, c.state, 0, c.key(0).public_key(), {c.note(0, 1), c.note(0, 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::replayed_nonce);
  EXPECT_EQ(r.reason().detail, "transaction 1 of 2 has nonce 1, expected 2");
}

TEST(Validation, EveryReasonHasASentence) {
  for (int r = 0; r <= static_cast<int>(BlockInvalid::wrong_app_state_hash); ++r) {
    const auto text = to_string(static_cast<BlockInvalid>(r));
    EXPECT_FALSE(text.empty());
    EXPECT_NE(text, "the block is invalid") << r;
  }
}

TEST(LedgerState, StateHashIgnoresMapInsertionOrder) {
  TestChain c;
  LedgerState a = c.state, b = c.state;
  a.next_nonces[c.key(0).public_key()] = 3;
  a.next_nonces[c.key(1).public_key()] = 5;
  b.next_nonces[c.key(1).public_key()] = 5;
  b.next_nonces[c.key(0).public_key()] = 3;
  EXPECT_EQ(state_hash(kChainId, a), state_hash(kChainId, b));
  EXPECT_NE(state_hash(kChainId, a), state_hash("other", a));
  b.next_nonces[c.key(0).public_key()] = 4;
  EXPECT_NE(state_hash(kChainId, a), state_hash(kChainId, b));
}

TEST(LedgerState, StateHashExcludesChainPosition) {
  TestChain c;
  LedgerState a = c.state, b = c.state;
  b.height = 9;
  b.last_block_id = sha256(std::string_view("elsewhere"));
  EXPECT_EQ(state_hash(kChainId, a), state_hash(kChainId, b));
}

TEST(LedgerState, RejectedTransactionLeavesStateUnchanged) {
  TestChain c;
  LedgerState s = c.state;
  const auto tx = make_note(c.spec.network(), c.key(0), 2, "skip");
  EXPECT_EQ(apply_transaction(s, tx), TxRejected::skipped_nonce);
  EXPECT_EQ(s, c.state);
}

}  // namespace
}  // namespace baton::chain
