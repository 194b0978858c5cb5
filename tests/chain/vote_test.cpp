#include "chain/vote.h"

#include <gtest/gtest.h>

#include "chain_fixture.h"

namespace baton::chain {
namespace {

using testing::kChainId;
using testing::TestChain;

const Hash kBlock = sha256(std::string_view("block"));
const Hash kOther = sha256(std::string_view("other block"));

pb::Commit commit_by(const TestChain& c, std::initializer_list<std::size_t> signers,
                     std::uint64_t height = 5, std::uint32_t round = 2, const Hash& id = kBlock) {
  std::vector<pb::Vote> votes;
  for (auto i : signers)
    votes.push_back(sign_vote(c.spec.network(), c.key(i), pb::PRECOMMIT, height, round, id));
  return make_commit(height, round, id, votes);
}

TEST(Vote, SignedVoteVerifies) {
  TestChain c;
  const auto v = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 7, 3, kBlock);
  EXPECT_TRUE(verify_vote(c.spec.network(), v));
  EXPECT_EQ(vote_block_id(v), kBlock);
  const auto nil = sign_vote(c.spec.network(), c.key(1), pb::PRECOMMIT, 7, 3, std::nullopt);
  EXPECT_TRUE(verify_vote(c.spec.network(), nil));
  EXPECT_TRUE(nil.block_id().empty());
  EXPECT_FALSE(vote_block_id(nil).has_value());
}

TEST(Vote, DoesNotVerifyForAnotherChainOrChangedField) {
  TestChain c;
  const auto v = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 7, 3, kBlock);
  EXPECT_FALSE(verify_vote({"other-chain", c.spec.genesis_hash}, v));
  auto changed = v;
  changed.set_round(4);
  EXPECT_FALSE(verify_vote(c.spec.network(), changed));
  changed = v;
  changed.set_type(pb::PRECOMMIT);
  EXPECT_FALSE(verify_vote(c.spec.network(), changed));
  changed = v;
  changed.clear_block_id();  // the same signature must not count for nil
  EXPECT_FALSE(verify_vote(c.spec.network(), changed));
}

TEST(Vote, VoteCommitAndEvidenceDoNotVerifyUnderAnotherGenesisWithTheSameChainId) {
  TestChain c;
  const TestChain other = testing::same_chain_id_other_genesis();
  ASSERT_EQ(other.spec.chain_id(), c.spec.chain_id());
  const auto v = sign_vote(other.spec.network(), c.key(1), pb::PREVOTE, 7, 3, kBlock);
  EXPECT_TRUE(verify_vote(other.spec.network(), v));
  EXPECT_FALSE(verify_vote(c.spec.network(), v)) << "a vote was replayed from another consortium";
  EXPECT_EQ(
      verify_commit(c.spec.network(), c.spec.validators, commit_by(other, {0, 1, 2}), 5, kBlock),
      CommitInvalid::bad_signature);
  const auto nil = sign_vote(other.spec.network(), c.key(1), pb::PREVOTE, 7, 3, std::nullopt);
  auto e = check_evidence(c.spec.network(), c.spec.validators, make_evidence(v, nil));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.reason(), EvidenceInvalid::bad_signature);
}

TEST(Vote, MalformedVotesAreRefused) {
  TestChain c;
  auto v = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 7, 3, kBlock);
  v.set_block_id("short");
  EXPECT_FALSE(vote_well_formed(v));
  EXPECT_FALSE(verify_vote(c.spec.network(), v));
  v = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 7, 3, kBlock);
  v.set_type(pb::VOTE_UNKNOWN);
  EXPECT_FALSE(vote_well_formed(v));
  v = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 7, 3, kBlock);
  v.mutable_signature()->pop_back();
  EXPECT_FALSE(verify_vote(c.spec.network(), v));
}

// The forgery of issue 11: an honest nil vote copied with block_id = 32 zero
// bytes under the same signature.
pb::Vote nil_recast_as_zero_block(const pb::Vote& nil) {
  pb::Vote forged = nil;
  forged.set_block_id(std::string(32, '\0'));
  return forged;
}

TEST(Vote, NilSignatureDoesNotVerifyWithAZeroBlockId) {
  TestChain c;
  const auto nil = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 7, 3, std::nullopt);
  const auto forged = nil_recast_as_zero_block(nil);
  EXPECT_FALSE(vote_well_formed(forged));
  EXPECT_FALSE(verify_vote(c.spec.network(), forged));
}

TEST(Vote, NilAndAZeroBlockIdSignDifferentBytes) {
  // The value tag alone keeps them apart, whatever the well-formedness rules.
  const NetworkId network{kChainId, sha256(std::string_view("genesis"))};
  EXPECT_NE(vote_sign_bytes(network, pb::PREVOTE, 7, 3, std::nullopt),
            vote_sign_bytes(network, pb::PREVOTE, 7, 3, Hash{}));
}

TEST(Vote, AZeroBlockIdIsMalformedEvenWhenSignedForIt) {
  TestChain c;
  pb::Vote v = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 7, 3, kBlock);
  v.set_block_id(std::string(32, '\0'));
  const Signature sig = c.key(1).sign(vote_sign_bytes(c.spec.network(), pb::PREVOTE, 7, 3, Hash{}));
  v.set_signature(sig.bytes.data(), sig.bytes.size());
  EXPECT_FALSE(vote_well_formed(v));
  EXPECT_FALSE(verify_vote(c.spec.network(), v));
  const auto nil = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 7, 3, std::nullopt);
  auto e = check_evidence(c.spec.network(), c.spec.validators, make_evidence(nil, v));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.reason(), EvidenceInvalid::malformed);
}

TEST(Commit, ThreeOfFourEqualValidatorsCommit) {
  TestChain c;
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 2, 3}), 5, kBlock),
            std::nullopt);
  EXPECT_EQ(
      verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 1, 2, 3}), 5, kBlock),
      std::nullopt);
}

TEST(Commit, TwoOfFourIsInsufficientPower) {
  TestChain c;
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 1}), 5, kBlock),
            CommitInvalid::insufficient_power);
}

TEST(Commit, ExactlyTwoThirdsIsInsufficientPower) {
  TestChain c({1, 1, 1});
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 1}), 5, kBlock),
            CommitInvalid::insufficient_power);
}

TEST(Commit, WeightedPowerDecidesNotHeadCount) {
  TestChain c({5, 1, 1, 1});  // total 8, quorum needs 3p > 16: p >= 6
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0}), 5, kBlock),
            CommitInvalid::insufficient_power);
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 1}), 5, kBlock),
            std::nullopt);
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {1, 2, 3}), 5, kBlock),
            CommitInvalid::insufficient_power);
}

TEST(Commit, WrongHeightIsRefused) {
  TestChain c;
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 1, 2}), 6, kBlock),
            CommitInvalid::wrong_height);
}

TEST(Commit, WrongBlockIsRefused) {
  TestChain c;
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 1, 2}), 5, kOther),
            CommitInvalid::wrong_block);
}

TEST(Commit, SignatureFromNonMemberIsRefused) {
  TestChain c;
  auto commit = commit_by(c, {0, 1, 2});
  const auto outsider =
      sign_vote(c.spec.network(), testing::outsider_key(), pb::PRECOMMIT, 5, 2, kBlock);
  auto* sig = commit.add_signatures();
  sig->set_validator(outsider.validator());
  sig->set_signature(outsider.signature());
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit, 5, kBlock),
            CommitInvalid::unknown_signer);
}

TEST(Commit, SignatureFromZeroPowerMemberIsRefused) {
  TestChain c({1, 1, 1, 0});
  EXPECT_EQ(
      verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 1, 2, 3}), 5, kBlock),
      CommitInvalid::unknown_signer);
}

TEST(Commit, DuplicateSignerIsRefused) {
  TestChain c;
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit_by(c, {0, 1, 1}), 5, kBlock),
            CommitInvalid::duplicate_signer);
}

TEST(Commit, BadSignatureIsRefused) {
  TestChain c;
  auto commit = commit_by(c, {0, 1, 2});
  (*commit.mutable_signatures(1)->mutable_signature())[10] ^= 1;
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit, 5, kBlock),
            CommitInvalid::bad_signature);
}

TEST(Commit, PrevoteSignaturesDoNotMakeACommit) {
  TestChain c;
  std::vector<pb::Vote> votes;
  for (std::size_t i : {0, 1, 2})
    votes.push_back(sign_vote(c.spec.network(), c.key(i), pb::PREVOTE, 5, 2, kBlock));
  pb::Commit commit;
  commit.set_height(5);
  commit.set_round(2);
  commit.set_block_id(kBlock.bytes.data(), 32);
  for (const auto& v : votes) {
    auto* s = commit.add_signatures();
    s->set_validator(v.validator());
    s->set_signature(v.signature());
  }
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit, 5, kBlock),
            CommitInvalid::bad_signature);
}

TEST(Commit, MalformedEntryIsRefused) {
  TestChain c;
  auto commit = commit_by(c, {0, 1, 2});
  commit.mutable_signatures(0)->set_validator("short");
  EXPECT_EQ(verify_commit(c.spec.network(), c.spec.validators, commit, 5, kBlock),
            CommitInvalid::malformed_signature);
}

TEST(Evidence, ConflictingSignedVotesProveEquivocation) {
  TestChain c;
  const auto a = sign_vote(c.spec.network(), c.key(2), pb::PRECOMMIT, 9, 1, kBlock);
  const auto b = sign_vote(c.spec.network(), c.key(2), pb::PRECOMMIT, 9, 1, kOther);
  auto e = check_evidence(c.spec.network(), c.spec.validators, make_evidence(a, b));
  ASSERT_TRUE(e.ok()) << to_string(e.reason());
  EXPECT_EQ(*e, (Equivocation{c.key(2).public_key(), 9, 1, pb::PRECOMMIT}));
}

TEST(Evidence, VotesThatDoNotConflictAreRefused) {
  TestChain c;
  const auto a = sign_vote(c.spec.network(), c.key(2), pb::PRECOMMIT, 9, 1, kBlock);
  const auto cases = {
      sign_vote(c.spec.network(), c.key(2), pb::PRECOMMIT, 9, 1, kBlock),   // same block
      sign_vote(c.spec.network(), c.key(2), pb::PRECOMMIT, 9, 2, kOther),   // other round
      sign_vote(c.spec.network(), c.key(2), pb::PRECOMMIT, 10, 1, kOther),  // other height
      sign_vote(c.spec.network(), c.key(2), pb::PREVOTE, 9, 1, kOther),     // other type
      sign_vote(c.spec.network(), c.key(3), pb::PRECOMMIT, 9, 1, kOther),   // other validator
  };
  for (const auto& b : cases) {
    auto e = check_evidence(c.spec.network(), c.spec.validators, make_evidence(a, b));
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.reason(), EvidenceInvalid::not_conflicting);
  }
}

TEST(Evidence, ForgedSignatureIsRefused) {
  TestChain c;
  const auto a = sign_vote(c.spec.network(), c.key(2), pb::PRECOMMIT, 9, 1, kBlock);
  auto b = sign_vote(c.spec.network(), c.key(2), pb::PRECOMMIT, 9, 1, kOther);
  (*b.mutable_signature())[0] ^= 1;
  auto e = check_evidence(c.spec.network(), c.spec.validators, make_evidence(a, b));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.reason(), EvidenceInvalid::bad_signature);
}

TEST(Evidence, AgainstNonValidatorIsRefused) {
  TestChain c;
  const auto a = sign_vote(c.spec.network(), testing::outsider_key(), pb::PRECOMMIT, 9, 1, kBlock);
  const auto b = sign_vote(c.spec.network(), testing::outsider_key(), pb::PRECOMMIT, 9, 1, kOther);
  auto e = check_evidence(c.spec.network(), c.spec.validators, make_evidence(a, b));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.reason(), EvidenceInvalid::unknown_validator);
}

TEST(Evidence, HonestNilVoteRecastAsZeroBlockIdIsNotEvidence) {
  TestChain c;
  const auto nil = sign_vote(c.spec.network(), c.key(2), pb::PREVOTE, 9, 1, std::nullopt);
  const auto forged = nil_recast_as_zero_block(nil);
  for (const auto& ev : {make_evidence(nil, forged), make_evidence(forged, nil)}) {
    auto e = check_evidence(c.spec.network(), c.spec.validators, ev);
    ASSERT_FALSE(e.ok()) << "an honest nil vote was turned into a double vote";
    EXPECT_EQ(e.reason(), EvidenceInvalid::malformed);
    EXPECT_FALSE(check_evidence(c.spec.network(), c.spec.validators, ev.SerializeAsString()).ok());
  }
}

TEST(Evidence, GarbageBytesAreMalformed) {
  TestChain c;
  auto e =
      check_evidence(c.spec.network(), c.spec.validators, std::string_view("\xff\xff\xff garbage"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.reason(), EvidenceInvalid::malformed);
}

}  // namespace
}  // namespace baton::chain
