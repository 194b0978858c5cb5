// decode_state (chain/state_decode.h, issue 18): a state snapshot's bytes
// decode to exactly the state they encode (nonces, evidence, training runs,
// accounts), and bytes that are cut, padded, reordered, out of range or lie
// about a count are refused before anything is allocated for them.
#include <gtest/gtest.h>

#include "chain/encoding.h"
#include "chain/state_decode.h"
#include "economy_fixture.h"

namespace baton::chain::testing {
namespace {

// An equivocation by member `who` at height 1 (a prevote for a block and
// one for nil), as the bytes a block carries.
std::string equivocation(const TestChain& c, std::size_t who, std::uint32_t round) {
  const Hash id = sha256(std::string_view("some block"));
  const auto a = sign_vote(c.spec.network(), c.key(who), pb::PREVOTE, 1, round, id);
  const auto b = sign_vote(c.spec.network(), c.key(who), pb::PREVOTE, 1, round, std::nullopt);
  return make_evidence(a, b).SerializeAsString();
}

// Appends a block to `p` carrying `evidence`, sealed by the validators.
void append_evidence(ProtocolChain& p, std::vector<std::string> evidence) {
  auto proposal = p.chain.propose({}, std::move(evidence));
  const auto header = decode_header(proposal.block.header()).value();
  std::vector<pb::Vote> votes;
  for (std::size_t i = 0; i < p.chain.members.size(); ++i) {
    if (!p.chain.spec.validators.is_validator(p.chain.key(i).public_key())) continue;
    votes.push_back(sign_vote(p.chain.spec.network(), p.chain.key(i), pb::PRECOMMIT,
                              header.height(), 0, proposal.id));
  }
  pb::CommittedBlock committed;
  *committed.mutable_block() = proposal.block;
  *committed.mutable_commit() = make_commit(header.height(), 0, proposal.id, votes);
  p.chain.state = validate_block(p.chain.spec, p.chain.state, committed).value();
  p.blocks.push_back(encode_committed_block(committed));
}

// Notes from three members and two punished equivocations: the v1 state.
LedgerState notes_and_evidence(TestChain& c) {
  c.append({c.note(0, 1), c.note(1, 1), c.note(0, 2)});
  c.append({c.note(2, 1), c.note(0, 3)}, {equivocation(c, 2, 0), equivocation(c, 1, 3)});
  return c.state;
}

// A run with a save, votes, lineage, a refusal; credits held; evidence.
ProtocolChain economy_with_a_run() {
  ProtocolChain p;
  use_genesis(p, genesis_with({1000, 20, 0, 5}));
  p.empty_blocks(1);
  p.commit(transfer(p, kAlice, "carol", 300));
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  EXPECT_TRUE(p.commit_refused(p.load_request(3, 1, save)).has_value());  // out of turn
  append_evidence(p, {equivocation(p.chain, 3, 1)});
  return p;
}

Result<LedgerState> decode(const LedgerState& s, const Genesis& g) {
  return decode_state(state_encoding(s), g);
}

TEST(StateDecode, NoncesAndEvidenceDecodeToTheSameState) {
  TestChain c;
  LedgerState s = notes_and_evidence(c);
  ASSERT_EQ(s.evidence.size(), 2u);
  ASSERT_EQ(s.next_nonces.size(), 3u);
  auto decoded = decode(s, c.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  // Height and block id are not in the encoding: the snapshot record has them.
  s.height = 0;
  s.last_block_id = Hash{};
  EXPECT_EQ(*decoded, s);
}

TEST(StateDecode, ARunAccountsAndEvidenceDecodeToTheSameStateAndHash) {
  ProtocolChain p = economy_with_a_run();
  const LedgerState& s = p.chain.state;
  ASSERT_FALSE(s.training.accounts.empty());
  ASSERT_FALSE(s.training.runs.empty());
  ASSERT_FALSE(s.evidence.empty());
  auto decoded = decode(s, p.chain.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->training, s.training);
  EXPECT_EQ(decoded->next_nonces, s.next_nonces);
  EXPECT_EQ(decoded->evidence, s.evidence);
  EXPECT_EQ(decoded->tx_count, s.tx_count);
  EXPECT_EQ(state_hash(kChainId, *decoded), state_hash(kChainId, s));
}

TEST(StateDecode, TheInitialStateDecodes) {
  TestChain c;
  auto decoded = decode(c.state, c.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->tx_count, 0u);
  EXPECT_TRUE(decoded->training.empty());
}

// The parts after the v1 body (the training state, then the accounts) are
// present only when not empty, so a cut exactly before one of them is the
// canonical encoding of a smaller state: accepted, but with another hash.
// Every other cut is refused.
TEST(StateDecode, RefusesEveryTruncationThatIsNotASmallerStateAndTrailingBytes) {
  ProtocolChain p = economy_with_a_run();
  const Bytes bytes = state_encoding(p.chain.state);
  const Hash want = state_hash(kChainId, p.chain.state);
  std::size_t smaller = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto cut = decode_state(ByteView(bytes.data(), n), p.chain.spec.genesis);
    if (!cut.ok()) continue;
    ++smaller;
    EXPECT_NE(state_hash(kChainId, *cut), want) << "cut at " << n;
    EXPECT_EQ(state_encoding(*cut), Bytes(bytes.begin(), bytes.begin() + n)) << "cut at " << n;
  }
  EXPECT_LE(smaller, 2u);  // before the training state, before the accounts
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(decode_state(longer, p.chain.spec.genesis).ok());
}

TEST(StateDecode, RefusesCountsLargerThanTheBytesLeftBeforeAllocating) {
  TestChain c;
  Bytes senders;
  append_u64be(senders, 7);
  append_u32be(senders, 0xFFFFFFFFu);  // four billion senders, in four bytes
  auto decoded = decode_state(senders, c.spec.genesis);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("more than the bytes hold"), std::string::npos)
      << decoded.error().message;

  Bytes evidence;
  append_u64be(evidence, 0);
  append_u32be(evidence, 0);
  append_u32be(evidence, 0x10000000u);
  decoded = decode_state(evidence, c.spec.genesis);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("more than the bytes hold"), std::string::npos)
      << decoded.error().message;
}

// Bytes the ledger never writes: senders swapped, a nonce of 1, a vote type
// of 3, one evidence record twice.
TEST(StateDecode, RefusesSendersOutOfOrderANonceBelowTwoAndAnUnknownVoteType) {
  TestChain c;
  const LedgerState s = notes_and_evidence(c);
  const Bytes bytes = state_encoding(s);
  constexpr std::size_t kSenders = 8 + 4;  // first sender entry
  constexpr std::size_t kEntry = 40;

  Bytes swapped = bytes;
  std::swap_ranges(swapped.begin() + kSenders, swapped.begin() + kSenders + kEntry,
                   swapped.begin() + kSenders + kEntry);
  auto decoded = decode_state(swapped, c.spec.genesis);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("ascending"), std::string::npos)
      << decoded.error().message;

  Bytes low = bytes;
  for (std::size_t i = 0; i < 8; ++i) low[kSenders + 32 + i] = (i == 7) ? 1 : 0;
  decoded = decode_state(low, c.spec.genesis);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("below 2"), std::string::npos) << decoded.error().message;

  const std::size_t evidence = kSenders + s.next_nonces.size() * kEntry + 4;
  Bytes unknown = bytes;
  unknown[evidence + 44] = 3;
  decoded = decode_state(unknown, c.spec.genesis);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("vote type"), std::string::npos)
      << decoded.error().message;

  Bytes twice = bytes;  // the second evidence record equal to the first
  std::copy(twice.begin() + evidence, twice.begin() + evidence + 45, twice.begin() + evidence + 45);
  EXPECT_FALSE(decode_state(twice, c.spec.genesis).ok());
}

// An empty training state written out in full (17 bytes) decodes, but the
// ledger never writes it: not canonical.
TEST(StateDecode, RefusesAnEncodedEmptyTrainingState) {
  TestChain c;
  Bytes bytes = state_encoding(c.state);
  const Bytes empty_training = training_encoding(TrainingState{});
  ASSERT_FALSE(empty_training.empty());
  bytes.insert(bytes.end(), empty_training.begin(), empty_training.end());
  auto decoded = decode_state(bytes, c.spec.genesis);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("canonical"), std::string::npos)
      << decoded.error().message;
}

// Every single flipped byte either is refused or decodes to a state whose
// hash differs: a changed snapshot can never pass for the signed one.
TEST(StateDecode, EveryFlippedByteIsRefusedOrChangesTheStateHash) {
  ProtocolChain p = economy_with_a_run();
  const Bytes bytes = state_encoding(p.chain.state);
  const Hash want = state_hash(kChainId, p.chain.state);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    Bytes flipped = bytes;
    flipped[i] ^= 0x01;
    auto decoded = decode_state(flipped, p.chain.spec.genesis);
    if (decoded.ok()) EXPECT_NE(state_hash(kChainId, *decoded), want) << "byte " << i;
  }
}

}  // namespace
}  // namespace baton::chain::testing
