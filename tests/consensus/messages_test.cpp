#include <gtest/gtest.h>

#include <map>

#include "tests/consensus/harness.h"

namespace baton::consensus::testing {
namespace {

using chain::pb::PRECOMMIT;
using chain::pb::PREVOTE;

TEST(ProposerRotation, EqualPowersRotateRoundRobin) {
  const auto set = make_validators({1, 1, 1, 1});
  for (std::uint64_t h = 1; h <= 8; ++h) EXPECT_EQ(set.proposer(h, 0), h % 4);
  EXPECT_EQ(set.proposer(1, 1), set.proposer(2, 0));
}

TEST(ProposerRotation, ProposesInProportionToPowerAndInterleaved) {
  const auto set = make_validators({3, 1, 2});
  std::map<std::size_t, int> count;
  int longest_run = 0;
  int run = 0;
  std::size_t previous = 99;
  for (std::uint64_t h = 0; h < 600; ++h) {
    const std::size_t p = set.proposer(h, 0);
    ++count[p];
    run = p == previous ? run + 1 : 1;
    longest_run = std::max(longest_run, run);
    previous = p;
  }
  EXPECT_EQ(count[0], 300);
  EXPECT_EQ(count[1], 100);
  EXPECT_EQ(count[2], 200);
  EXPECT_LE(longest_run, 2) << "smooth rotation does not hand one validator long runs";
}

TEST(ProposerRotation, LargePowersStayProportional) {
  const auto set = make_validators({100003, 200006});  // period too large for a schedule
  std::map<std::size_t, int> count;
  for (std::uint64_t slot = 0; slot < 300009; ++slot) ++count[set.proposer(slot, 0)];
  EXPECT_EQ(count[0], 100003);
  EXPECT_EQ(count[1], 200006);
}

TEST(Quorum, IsStrictlyMoreThanTwoThirdsOfPower) {
  const auto four = make_validators({1, 1, 1, 1});
  EXPECT_FALSE(four.is_quorum(2));
  EXPECT_TRUE(four.is_quorum(3));
  EXPECT_FALSE(four.is_one_third(1));
  EXPECT_TRUE(four.is_one_third(2));
  const auto weighted = make_validators({4, 1, 1});  // total 6: quorum needs > 4
  EXPECT_FALSE(weighted.is_quorum(4));
  EXPECT_TRUE(weighted.is_quorum(5));
}

TEST(SignBytes, ProposalLayoutIsDomainChainGenesisAndBigEndianFields) {
  const chain::Hash id = chain::sha256("b");
  const chain::NetworkId network{"c1", chain::sha256("genesis")};
  const auto bytes = proposal_sign_bytes(network, 0x0102030405060708ULL, 0x0a0b0c0d, -1, id);
  const std::string domain = "baton/proposal/v2";
  chain::Bytes expected(domain.begin(), domain.end());
  for (std::uint8_t b : {0, 0, 0, 0, 2}) expected.push_back(b);
  expected.push_back('c');
  expected.push_back('1');
  expected.insert(expected.end(), network.genesis_hash.bytes.begin(),
                  network.genesis_hash.bytes.end());
  for (std::uint8_t b : {1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff})
    expected.push_back(b);
  expected.insert(expected.end(), id.bytes.begin(), id.bytes.end());
  EXPECT_EQ(bytes, expected);
}

TEST(DecodeMessage, RefusesGarbageEmptyAndOversizedInput) {
  EXPECT_FALSE(decode_message("\xff\xff\xff", 1024));
  EXPECT_FALSE(decode_message("", 1024)) << "an empty message has no body";
  const std::string big = encode_message(vote_msg(1, PREVOTE, 1, 0, std::nullopt));
  const auto over = decode_message(big, big.size() - 1);
  ASSERT_FALSE(over);
  EXPECT_EQ(static_cast<MessageVerdict>(over.error().code), MessageVerdict::oversized);
  EXPECT_TRUE(decode_message(big, big.size()));
}

TEST(DecodeMessage, RefusesMisSizedFields) {
  auto m = vote_msg(1, PREVOTE, 1, 0, std::nullopt);
  m.mutable_vote()->set_validator("abc");
  EXPECT_FALSE(decode_message(encode_message(m), 1024));
  sim::ChainApp app(kChain, key_for(1).public_key());
  auto p =
      proposal_msg(1, 1, 2, 2, app.make_block(1, 2, {}).value());  // pol_round must be below round
  EXPECT_EQ(check_well_formed(p), MessageVerdict::malformed);
  auto q = vote_msg(1, PREVOTE, 1, 0, std::nullopt);
  q.mutable_vote()->set_type(chain::pb::VOTE_UNKNOWN);
  EXPECT_EQ(check_well_formed(q), MessageVerdict::malformed);
}

TEST(DecodeMessage, RefusesAVoteWhoseBlockIdIsAllZeros) {
  // An honest nil vote recast with block_id = 32 zero bytes: a second
  // spelling of nil that would pair with the original as fake evidence.
  auto m = vote_msg(1, PREVOTE, 1, 0, std::nullopt);
  m.mutable_vote()->set_block_id(std::string(32, '\0'));
  EXPECT_EQ(check_well_formed(m), MessageVerdict::malformed);
  const auto decoded = decode_message(encode_message(m), 1024);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(static_cast<MessageVerdict>(decoded.error().code), MessageVerdict::malformed);
  EXPECT_FALSE(verify_vote_signature(kChain, m.vote()));
}

TEST(VerifySignatures, VotesAndProposalsDoNotVerifyUnderAnotherGenesis) {
  const chain::NetworkId other{kChain.chain_id, chain::sha256(std::string_view("other genesis"))};
  const auto vote = vote_msg(1, PREVOTE, 1, 0, std::nullopt);
  EXPECT_TRUE(verify_vote_signature(kChain, vote.vote()));
  EXPECT_FALSE(verify_vote_signature(other, vote.vote()));
  sim::ChainApp app(kChain, key_for(1).public_key());
  const std::string block = app.make_block(1, 0, {}).value();
  const auto p = proposal_msg(1, 1, 0, -1, block);
  EXPECT_TRUE(verify_proposal_signature(kChain, p.proposal(), block_id_of(block).value()));
  EXPECT_FALSE(verify_proposal_signature(other, p.proposal(), block_id_of(block).value()));
}

TEST(VerifyCommit, AcceptsTwoThirdsAndRefusesLessDuplicatesAndStrangers) {
  const auto set = make_validators({1, 1, 1, 1});
  const chain::Hash id = chain::sha256("block");
  auto commit_of = [&](std::vector<int> signers) {
    chain::pb::Commit c;
    c.set_height(4);
    c.set_round(1);
    c.set_block_id(str(id));
    for (int s : signers) {
      const auto v = chain::sign_vote(kChain, key_for(s), PRECOMMIT, 4, 1, id);
      auto* sig = c.add_signatures();
      sig->set_validator(v.validator());
      sig->set_signature(v.signature());
    }
    return c;
  };
  EXPECT_TRUE(verify_commit(set, kChain, commit_of({0, 1, 2}), 4, id));
  EXPECT_FALSE(verify_commit(set, kChain, commit_of({0, 1}), 4, id));
  EXPECT_FALSE(verify_commit(set, kChain, commit_of({0, 1, 1}), 4, id));
  EXPECT_FALSE(verify_commit(set, kChain, commit_of({0, 1, 7}), 4, id));
  EXPECT_FALSE(verify_commit(set, kChain, commit_of({0, 1, 2}), 5, id));
  EXPECT_FALSE(verify_commit(set, kChain, commit_of({0, 1, 2}), 4, chain::sha256("other")));
  auto tampered = commit_of({0, 1, 2});
  tampered.set_round(2);
  EXPECT_FALSE(verify_commit(set, kChain, tampered, 4, id));
}

}  // namespace
}  // namespace baton::consensus::testing
