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
    "2919c50e6e72a8462af96525816dcb9cde7e7c09c8da031ff5a0a875ab45e3e3";
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

}  // namespace
}  // namespace baton::chain
