#include "node/mempool.h"

#include <gtest/gtest.h>

#include "chain/keys.h"
#include "chain/transaction.h"

namespace baton::node {
namespace {

struct Fixture {
  std::vector<chain::MemberSecretKeys> keys;
  std::unique_ptr<chain::ChainSpec> spec;
  chain::SigningKey outsider = chain::SigningKey::generate();
  std::map<chain::PublicKey, std::uint64_t> committed;  // next nonce per sender

  Fixture() {
    chain::Genesis g;
    g.chain_id = "mempool-test";
    g.genesis_time_unix_ms = 1'700'000'000'000;
    for (int i = 0; i < 3; ++i) {
      keys.push_back(chain::generate_member_keys("m" + std::to_string(i)));
      chain::GenesisMember m;
      m.name = keys.back().name;
      m.ed25519 = keys.back().signing.public_key();
      m.x25519 = keys.back().x25519.public_key();
      m.p2p_address = "127.0.0.1:1";
      m.power = 1;
      m.roles = {"validator"};
      g.members.push_back(m);
    }
    g.consensus.max_tx_bytes = 1024;
    auto s = chain::load_chain_spec(chain::encode_genesis(g));
    EXPECT_TRUE(s.ok()) << s.error().message;
    spec = std::make_unique<chain::ChainSpec>(std::move(s).value());
  }
  NextNonce next() const {
    return [this](const chain::PublicKey& k) {
      auto it = committed.find(k);
      return it == committed.end() ? std::uint64_t{1} : it->second;
    };
  }
  std::string note(int member, std::uint64_t nonce, std::string text = "hello") const {
    return chain::encode_transaction(
        chain::make_note(spec->network(), keys[member].signing, nonce, std::move(text)));
  }
};

AddResult add(Mempool& m, const Fixture& f, const std::string& tx) {
  return m.add(chain::as_bytes(tx), f.spec->validators, f.next());
}

TEST(Mempool, AcceptsAValidTransactionOnce) {
  Fixture f;
  Mempool m(*f.spec, api::MempoolLimits{});
  auto r = add(m, f, f.note(0, 1));
  EXPECT_TRUE(r.accepted()) << r.reason();
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.contains(r.hash));
  auto again = add(m, f, f.note(0, 1));
  EXPECT_EQ(again.rejected, TxRejection::duplicate);
}

TEST(Mempool, RefusesInvalidTransactionsWithTheirReason) {
  Fixture f;
  Mempool m(*f.spec, api::MempoolLimits{});
  EXPECT_EQ(add(m, f, "garbage").invalid, chain::TxInvalid::malformed);
  auto other_chain = chain::encode_transaction(
      chain::make_note({"other-chain", f.spec->genesis_hash}, f.keys[0].signing, 1, "x"));
  EXPECT_EQ(add(m, f, other_chain).invalid, chain::TxInvalid::wrong_chain_id);
  // The same chain id under another genesis (a consortium that reuses the key).
  auto other_genesis = chain::encode_transaction(
      chain::make_note({f.spec->chain_id(), chain::sha256(std::string_view("another genesis"))},
                       f.keys[0].signing, 1, "x"));
  EXPECT_EQ(add(m, f, other_genesis).invalid, chain::TxInvalid::bad_signature);
  auto outsider =
      chain::encode_transaction(chain::make_note(f.spec->network(), f.outsider, 1, "x"));
  EXPECT_EQ(add(m, f, outsider).invalid, chain::TxInvalid::unknown_sender);
  auto tx = chain::make_note(f.spec->network(), f.keys[0].signing, 1, "x");
  (*tx.mutable_signature())[5] ^= 1;
  EXPECT_EQ(add(m, f, chain::encode_transaction(tx)).invalid, chain::TxInvalid::bad_signature);
  EXPECT_EQ(add(m, f, f.note(0, 1, std::string(2000, 'x'))).invalid, chain::TxInvalid::oversized);
  EXPECT_EQ(m.size(), 0u);
}

TEST(Mempool, RefusesReplayedAndFarFutureNonces) {
  Fixture f;
  f.committed[f.keys[0].signing.public_key()] = 5;
  Mempool m(*f.spec, api::MempoolLimits{.max_txs = 100, .max_bytes = 1 << 20, .max_nonce_gap = 3});
  EXPECT_EQ(add(m, f, f.note(0, 4)).rejected, TxRejection::nonce_too_low);
  EXPECT_TRUE(add(m, f, f.note(0, 5)).accepted());
  EXPECT_TRUE(add(m, f, f.note(0, 7)).accepted());
  EXPECT_EQ(add(m, f, f.note(0, 8)).rejected, TxRejection::nonce_too_far);
}

TEST(Mempool, IsBoundedByCountAndBytes) {
  Fixture f;
  Mempool by_count(*f.spec,
                   api::MempoolLimits{.max_txs = 2, .max_bytes = 1 << 20, .max_nonce_gap = 100});
  EXPECT_TRUE(add(by_count, f, f.note(0, 1)).accepted());
  EXPECT_TRUE(add(by_count, f, f.note(0, 2)).accepted());
  EXPECT_EQ(add(by_count, f, f.note(0, 3)).rejected, TxRejection::pool_full);
  const std::size_t one = f.note(1, 1).size();
  Mempool by_bytes(*f.spec, api::MempoolLimits{
                                .max_txs = 100, .max_bytes = one + one / 2, .max_nonce_gap = 100});
  EXPECT_TRUE(add(by_bytes, f, f.note(1, 1)).accepted());
  EXPECT_EQ(add(by_bytes, f, f.note(1, 2)).rejected, TxRejection::pool_full);
  EXPECT_EQ(by_bytes.bytes(), one);
}

TEST(Mempool, ReapsConsecutiveNoncesPerSenderInterleavedAndWithinLimits) {
  Fixture f;
  Mempool m(*f.spec, api::MempoolLimits{});
  for (std::uint64_t n : {1, 2, 3, 5}) ASSERT_TRUE(add(m, f, f.note(0, n)).accepted());
  for (std::uint64_t n : {1, 2}) ASSERT_TRUE(add(m, f, f.note(1, n)).accepted());
  ASSERT_TRUE(add(m, f, f.note(2, 2)).accepted());  // gap: nonce 1 missing
  auto all = m.reap(100, 1 << 20, f.next());
  ASSERT_EQ(all.size(), 5u);  // 0:1,2,3 and 1:1,2; not 0:5 nor 2:2
  std::map<std::string, std::vector<std::uint64_t>> order;
  for (const auto& t : all) {
    chain::pb::Transaction tx;
    ASSERT_TRUE(tx.ParseFromString(t));
    order[tx.sender()].push_back(tx.nonce());
  }
  for (const auto& [sender, nonces] : order)
    EXPECT_TRUE(std::is_sorted(nonces.begin(), nonces.end()));
  EXPECT_EQ(m.reap(3, 1 << 20, f.next()).size(), 3u);
  EXPECT_EQ(m.reap(100, all[0].size(), f.next()).size(), 1u);
  EXPECT_EQ(m.size(), 7u);  // reaping does not remove
}

TEST(Mempool, DropsCommittedAndStaleTransactionsAfterACommit) {
  Fixture f;
  Mempool m(*f.spec, api::MempoolLimits{});
  for (std::uint64_t n : {1, 2, 3}) ASSERT_TRUE(add(m, f, f.note(0, n)).accepted());
  const auto h3 = chain::tx_hash(f.note(0, 3));
  f.committed[f.keys[0].signing.public_key()] = 3;  // 1 and 2 committed
  m.remove_committed(f.next());
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.contains(h3));
  EXPECT_EQ(m.highest_pending_nonce(f.keys[0].signing.public_key()), 3u);
  EXPECT_EQ(m.bytes(), f.note(0, 3).size());
  m.remove(h3);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.bytes(), 0u);
  EXPECT_FALSE(m.contains(h3));
}

}  // namespace
}  // namespace baton::node
