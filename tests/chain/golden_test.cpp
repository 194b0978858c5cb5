// Golden vectors: fixed keys and fields, expected hashes computed ONCE by an
// independent implementation, tests/chain/golden_vectors.py (python3 hashlib,
// PyNaCl and a hand-written protobuf encoder following docs/PROTOCOL.md; it
// shares no code with Baton). If one of these changes, the wire format
// changed: every existing chain and signature breaks.
#include <gtest/gtest.h>

#include "chain/block.h"
#include "chain/encoding.h"
#include "chain/ledger_state.h"
#include "chain/merkle.h"
#include "chain/vote.h"
#include "chain_fixture.h"

namespace baton::chain {
namespace {

using testing::TestChain;

constexpr char kGenesisHash[] = "f59eb778febbde8366be5a7475fd60e790a0a8ab87f5ff2551364632d9c4e1ee";
constexpr char kTxSignBytesSha256[] =
    "24c3e3bc726c823f61c42e4ed1839fba7d7924c644aca275037716e2db77b53a";
constexpr char kTxSignature[] =
    "aedb1a75b867042ea8ac2414b9698a9d669ccc8c15d3af251b0198712c9eae7b"
    "4822e2635fbbdb29e689808d64cfdc2c0fe1048672d0e9b6fbb0ac3a76afdc0b";
constexpr char kTxHash[] = "1976265efe4cadff48d7b2aace2413cf32ea841a562f7966d8be6f7b8fe66ac8";
constexpr char kStateHashBlock1[] =
    "82b73763877c2390597ca36bd874f2e99aa07c8fe59b867e06f72eb204883a56";
constexpr char kTxMerkleRoot[] = "2e18ddf5de8dced976c92572fe279959f63421fd8e9f024d6ad126332a6d6404";
constexpr char kBlock1Id[] = "944513fc7946792c92a608d6c07135fbc6c753450eb8c27bb6e42903be52ae44";
constexpr char kPrecommitSignSha256[] =
    "2925e13d8bad034bf29e1820fad463aedd04e8bf1e45a02d39ae16cae739e233";
constexpr char kCommittedBlock1Sha256[] =
    "95bd19c3a321e8fe3ef05a3c1add76bdbd9cb5a98fe4e1b4b188eca6157d2a09";
constexpr char kEvidenceSha256[] =
    "ff767cb17f21ad311e653e2babf40d5d2d16d080086e61378562de099259b8db";
constexpr std::int64_t kBlock1Time = 1795996800000;

pb::Transaction golden_tx(const TestChain& c) {
  return make_note(c.spec.network(), c.key(0), 1, "hello");
}

pb::CommittedBlock golden_block(const TestChain& c) {
  const std::string tx = encode_transaction(golden_tx(c));
  auto p = propose_block(c.spec, c.state, kBlock1Time, c.key(0).public_key(), {tx}).value();
  return c.seal(p.block, {0, 1, 2});
}

TEST(Golden, GenesisFileHashMatchesIndependentEncoding) {
  TestChain c;
  EXPECT_EQ(c.spec.genesis_hash.hex(), kGenesisHash);
  EXPECT_EQ(genesis_hash(c.genesis_text).hex(), kGenesisHash);
}

TEST(Golden, TransactionSignBytesSignatureAndHash) {
  TestChain c;
  const auto tx = golden_tx(c);
  EXPECT_EQ(sha256(tx_sign_bytes(c.spec.network(), tx)).hex(), kTxSignBytesSha256);
  EXPECT_EQ(to_hex(as_bytes(tx.signature())), kTxSignature);
  EXPECT_EQ(tx_hash(encode_transaction(tx)).hex(), kTxHash);
}

TEST(Golden, StateHashAfterFirstBlock) {
  TestChain c;
  LedgerState s = c.state;
  ASSERT_FALSE(apply_transaction(s, golden_tx(c)).has_value());
  EXPECT_EQ(state_hash(testing::kChainId, s).hex(), kStateHashBlock1);
}

TEST(Golden, BlockIdMerkleRootAndCommit) {
  TestChain c;
  const auto committed = golden_block(c);
  const auto header = decode_header(committed.block().header()).value();
  EXPECT_EQ(to_hex(as_bytes(header.tx_merkle_root())), kTxMerkleRoot);
  EXPECT_EQ(to_hex(as_bytes(header.app_state_hash())), kStateHashBlock1);
  EXPECT_EQ(block_id(committed.block()).hex(), kBlock1Id);
  const Hash id = Hash::from_hex(kBlock1Id).value();
  EXPECT_EQ(sha256(vote_sign_bytes(c.spec.network(), pb::PRECOMMIT, 1, 0, id)).hex(),
            kPrecommitSignSha256);
  EXPECT_EQ(sha256(encode_committed_block(committed)).hex(), kCommittedBlock1Sha256);
  EXPECT_TRUE(validate_block(c.spec, c.state, committed).ok());
}

TEST(Golden, DuplicateVoteEvidenceBytes) {
  TestChain c;
  const Hash id = Hash::from_hex(kBlock1Id).value();
  const auto a = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 1, 0, id);
  const auto b = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 1, 0, std::nullopt);
  EXPECT_EQ(sha256(make_evidence(a, b).SerializeAsString()).hex(), kEvidenceSha256);
}

TEST(RoundTrip, TransactionBytesParseBackToTheSameMessage) {
  TestChain c;
  const std::string bytes = encode_transaction(golden_tx(c));
  pb::Transaction back;
  ASSERT_TRUE(parse_canonical(bytes, back));
  EXPECT_EQ(encode_transaction(back), bytes);
  EXPECT_EQ(back.nonce(), 1u);
}

TEST(RoundTrip, CommittedBlockDecodesToEqualBytes) {
  TestChain c;
  const auto committed = golden_block(c);
  const std::string bytes = encode_committed_block(committed);
  auto back = decode_committed_block(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(encode_committed_block(*back), bytes);
  EXPECT_EQ(block_id(back->block()), block_id(committed.block()));
}

TEST(RoundTrip, HeaderDecodesAndReencodesIdentically) {
  TestChain c;
  const auto committed = golden_block(c);
  auto h = decode_header(committed.block().header());
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->SerializeAsString(), committed.block().header());
  EXPECT_EQ(h->height(), 1u);
  EXPECT_EQ(h->time_unix_ms(), kBlock1Time);
}

TEST(RoundTrip, GenesisParsesBackToEqualFields) {
  const Genesis g = testing::fixed_genesis();
  auto back = parse_genesis(encode_genesis(g));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(encode_genesis(*back), encode_genesis(g));
  EXPECT_EQ(back->chain_id, g.chain_id);
  EXPECT_EQ(back->members.size(), 4u);
  EXPECT_EQ(back->members[0].roles, g.members[0].roles);
  EXPECT_EQ(back->consensus, g.consensus);
}

TEST(RoundTrip, EvidenceBytesCheckToTheEquivocation) {
  TestChain c;
  const Hash id = Hash::from_hex(kBlock1Id).value();
  const auto a = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 1, 0, id);
  const auto b = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 1, 0, std::nullopt);
  auto e =
      check_evidence(c.spec.network(), c.spec.validators, make_evidence(a, b).SerializeAsString());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->validator, c.key(1).public_key());
  EXPECT_EQ(e->height, 1u);
  EXPECT_EQ(e->type, pb::PREVOTE);
}

TEST(Canonical, RefusesTrailingUnknownField) {
  TestChain c;
  std::string bytes = encode_transaction(golden_tx(c));
  bytes += std::string("\x78\x01", 2);  // field 15, varint 1: unknown to Transaction
  pb::Transaction tx;
  EXPECT_FALSE(parse_canonical(bytes, tx));
  EXPECT_FALSE(check_transaction(bytes, c.spec.network(), c.spec.validators, 1 << 16).ok());
}

TEST(Canonical, RefusesReorderedFields) {
  TestChain c;
  const auto tx = golden_tx(c);
  pb::Transaction only_nonce;
  only_nonce.set_nonce(tx.nonce());
  pb::Transaction rest = tx;
  rest.clear_nonce();
  const std::string reordered = rest.SerializeAsString() + only_nonce.SerializeAsString();
  pb::Transaction parsed;
  ASSERT_TRUE(parsed.ParseFromString(reordered));    // protobuf itself accepts it...
  EXPECT_FALSE(parse_canonical(reordered, parsed));  // ...but it is not the one encoding
}

// §1/§7/§9: one encoding per committed block, block and evidence. An
// attacker (a proposer, or a peer serving blocks in sync) re-spells a valid
// block: protobuf would parse each spelling to the same message, the block id
// (SHA-256 of the header bytes) would not change, and two nodes would store
// different bytes for one block. Each spelling is refused.
std::string field(int number, const std::string& bytes) {
  std::string out(1, static_cast<char>(number << 3 | 2));
  std::size_t n = bytes.size();
  do {
    std::uint8_t b = n & 0x7f;
    n >>= 7;
    if (n) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (n);
  return out + bytes;
}

TEST(Canonical, ACommittedBlockHasOneEncoding) {
  TestChain c;
  const pb::CommittedBlock committed = golden_block(c);
  const std::string good = encode_committed_block(committed);
  ASSERT_TRUE(decode_committed_block(good).ok());
  const std::string block = committed.block().SerializeAsString();
  const std::string commit = committed.commit().SerializeAsString();
  ASSERT_EQ(good, field(1, block) + field(2, commit));

  std::vector<std::pair<std::string, std::string>> respelled = {
      {"commit before block", field(2, commit) + field(1, block)},
      {"the commit twice", field(1, block) + field(2, commit) + field(2, "")},
      {"an unknown field at the top", good + std::string("\x78\x01", 2)},
      {"an unknown field inside the block",
       field(1, block + std::string("\x78\x01", 2)) + field(2, commit)},
      {"an unknown field inside a commit signature",
       field(1, block) +
           field(2, commit + field(4, committed.commit().signatures(0).SerializeAsString() +
                                          std::string("\x78\x01", 2)))},
      {"commit round 0 written out",
       field(1, block) + field(2, commit + std::string("\x10\x00", 2))},
      {"a two-byte length for the block",
       std::string("\x0a", 1) + std::string(1, static_cast<char>((block.size() & 0x7f) | 0x80)) +
           std::string(1, static_cast<char>(block.size() >> 7 | 0x80)) + std::string(1, '\0') +
           block + field(2, commit)},
  };
  for (const auto& [what, bytes] : respelled) {
    pb::CommittedBlock parsed;
    EXPECT_TRUE(parsed.ParseFromString(bytes)) << what << ": protobuf itself accepts it";
    EXPECT_FALSE(decode_committed_block(bytes).ok()) << what;
  }
  // The proposal's block bytes: the same rule.
  ASSERT_TRUE(decode_block(block).ok());
  EXPECT_FALSE(decode_block(block + std::string("\x78\x01", 2)).ok());
  pb::Block txs_first;
  *txs_first.mutable_transactions() = committed.block().transactions();
  pb::Block header_only;
  header_only.set_header(committed.block().header());
  const std::string swapped = txs_first.SerializeAsString() + header_only.SerializeAsString();
  pb::Block parsed;
  ASSERT_TRUE(parsed.ParseFromString(swapped));              // protobuf accepts it...
  EXPECT_EQ(block_id(parsed), block_id(committed.block()));  // ...with the same id...
  EXPECT_FALSE(decode_block(swapped).ok());                  // ...but it is refused
}

TEST(Canonical, EvidenceHasOneVoteOrder) {
  TestChain c;
  const Hash id = Hash::from_hex(kBlock1Id).value();
  const auto block_vote = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 1, 0, id);
  const auto nil_vote = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 1, 0, std::nullopt);
  // make_evidence puts nil (the empty id) first, whatever the argument order.
  EXPECT_EQ(make_evidence(block_vote, nil_vote).SerializeAsString(),
            make_evidence(nil_vote, block_vote).SerializeAsString());
  ASSERT_TRUE(check_evidence(c.spec.network(), c.spec.validators,
                             make_evidence(block_vote, nil_vote).SerializeAsString())
                  .ok());
  // The same equivocation with the votes swapped: a second spelling, refused.
  pb::DuplicateVoteEvidence swapped;
  swapped.set_vote_a(block_vote.SerializeAsString());
  swapped.set_vote_b(nil_vote.SerializeAsString());
  auto e = check_evidence(c.spec.network(), c.spec.validators, swapped.SerializeAsString());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.reason(), EvidenceInvalid::malformed);
  // Two blocks: the smaller id first.
  Hash other = id;
  other.bytes[0] ^= 0x80;
  const auto other_vote = sign_vote(c.spec.network(), c.key(1), pb::PREVOTE, 1, 0, other);
  const auto& low = id.bytes[0] < other.bytes[0] ? block_vote : other_vote;
  const auto& high = id.bytes[0] < other.bytes[0] ? other_vote : block_vote;
  pb::DuplicateVoteEvidence ordered, reversed;
  ordered.set_vote_a(low.SerializeAsString());
  ordered.set_vote_b(high.SerializeAsString());
  reversed.set_vote_a(high.SerializeAsString());
  reversed.set_vote_b(low.SerializeAsString());
  EXPECT_TRUE(check_evidence(c.spec.network(), c.spec.validators, ordered).ok());
  EXPECT_FALSE(check_evidence(c.spec.network(), c.spec.validators, reversed).ok());
}

}  // namespace
}  // namespace baton::chain
