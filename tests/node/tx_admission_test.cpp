// Mempool admission (node/tx_admission.h): the one rule POST /tx and a
// peer's gossip go through, one row per situation, and the next-nonce rule.
#include "node/tx_admission.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "tests/chain/chain_fixture.h"

namespace baton::node {
namespace {

using chain::testing::TestChain;

constexpr std::uint64_t kAliceNext = 5;  // alice committed nonces 1..4

struct Pool {
  TestChain tc;
  std::map<chain::PublicKey, std::uint64_t> committed{{tc.key(0).public_key(), kAliceNext}};
  Mempool mempool;

  explicit Pool(api::MempoolLimits limits) : mempool(tc.spec, limits) {
    // Waiting already: alice's next nonce and bob's first.
    EXPECT_TRUE(admit(tc.note(0, kAliceNext, "waiting")).accepted());
    EXPECT_TRUE(admit(tc.note(1, 1, "waiting")).accepted());
  }
  NextNonce next() const {
    return [this](const chain::PublicKey& k) {
      auto it = committed.find(k);
      return it == committed.end() ? std::uint64_t{1} : it->second;
    };
  }
  AddResult admit(std::string bytes) {
    return admit_transaction(
        mempool, offer_transaction(tc.spec, tc.spec.validators, std::move(bytes)), next());
  }
};

std::string note_by(const TestChain& c, const chain::SigningKey& key, std::uint64_t nonce,
                    const std::string& text = "a note") {
  return chain::encode_transaction(chain::make_note(c.spec.network(), key, nonce, text));
}

struct Row {
  const char* situation;
  std::function<std::string(const TestChain&)> tx;
  std::optional<TxRejection> rejected;  // nullopt: accepted
  std::optional<chain::TxInvalid> invalid = std::nullopt;
  api::MempoolLimits limits = {.max_txs = 100, .max_bytes = 1 << 20, .max_nonce_gap = 10};
};

TEST(TxAdmission, RefusesOrAcceptsEachOfferForItsReason) {
  const std::vector<Row> rows = {
      {"the sender's next free nonce", [](auto& c) { return c.note(0, kAliceNext + 1); },
       std::nullopt},
      {"a new sender's first nonce", [](auto& c) { return c.note(2, 1); }, std::nullopt},
      {"bytes that are no transaction", [](auto&) { return std::string("\xff\x01garbage"); },
       TxRejection::invalid, chain::TxInvalid::malformed},
      {"signed for another chain",
       [](auto& c) {
         return chain::encode_transaction(
             chain::make_note({"other-chain", c.spec.genesis_hash}, c.key(0), 6, "x"));
       },
       TxRejection::invalid, chain::TxInvalid::wrong_chain_id},
      {"signed under another genesis with the same chain id",
       [](auto&) {
         const TestChain other = chain::testing::same_chain_id_other_genesis();
         return other.note(0, 6);
       },
       TxRejection::invalid, chain::TxInvalid::bad_signature},
      {"from a key outside the genesis",
       [](auto& c) { return note_by(c, chain::testing::outsider_key(), 1); }, TxRejection::invalid,
       chain::TxInvalid::unknown_sender},
      {"a flipped signature byte",
       [](auto& c) {
         auto tx = chain::make_note(c.spec.network(), c.key(0), 6, "x");
         (*tx.mutable_signature())[7] ^= 1;
         return chain::encode_transaction(tx);
       },
       TxRejection::invalid, chain::TxInvalid::bad_signature},
      {"larger than the genesis max_tx_bytes",
       [](auto& c) { return c.note(0, 6, std::string(c.spec.params().max_tx_bytes, 'x')); },
       TxRejection::invalid, chain::TxInvalid::oversized},
      {"a nonce already committed (a replay)", [](auto& c) { return c.note(0, kAliceNext - 1); },
       TxRejection::nonce_too_low},
      {"the last nonce inside the window", [](auto& c) { return c.note(0, kAliceNext + 9); },
       std::nullopt},
      {"a nonce just past the window", [](auto& c) { return c.note(0, kAliceNext + 10); },
       TxRejection::nonce_too_far},
      {"a nonce far ahead (hostile)",
       [](auto& c) { return c.note(0, std::numeric_limits<std::uint64_t>::max()); },
       TxRejection::nonce_too_far},
      {"the same bytes as a waiting one", [](auto& c) { return c.note(0, kAliceNext, "waiting"); },
       TxRejection::duplicate},
      {"another transaction with a waiting one's sender and nonce",
       [](auto& c) { return c.note(0, kAliceNext, "other"); }, TxRejection::duplicate},
      {"one past the pool's count bound",
       [](auto& c) { return c.note(2, 1); },
       TxRejection::pool_full,
       std::nullopt,
       {.max_txs = 2, .max_bytes = 1 << 20, .max_nonce_gap = 10}},
      {"one past the pool's byte bound",
       [](auto& c) { return c.note(2, 1, std::string(800, 'x')); },
       TxRejection::pool_full,
       std::nullopt,
       {.max_txs = 100, .max_bytes = 1000, .max_nonce_gap = 10}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    Pool pool(row.limits);
    const std::size_t before = pool.mempool.size();
    const std::string bytes = row.tx(pool.tc);
    const AddResult r = pool.admit(bytes);
    EXPECT_EQ(r.rejected, row.rejected) << r.reason();
    EXPECT_EQ(r.invalid, row.invalid);
    EXPECT_EQ(r.hash, chain::tx_hash(bytes));
    EXPECT_EQ(pool.mempool.size(), before + (row.rejected ? 0 : 1));
    if (row.rejected != TxRejection::duplicate) {
      EXPECT_EQ(pool.mempool.contains(r.hash), !row.rejected);
    }
  }
}

TEST(TxAdmission, AnInvalidOfferIsRefusedAsItsOwnRefusalWithoutTouchingThePool) {
  Pool pool({});
  OfferedTx offer = offer_transaction(pool.tc.spec, pool.tc.spec.validators, "garbage");
  ASSERT_FALSE(offer.valid());
  const AddResult refusal = offer.refusal();
  EXPECT_EQ(refusal.rejected, TxRejection::invalid);
  EXPECT_EQ(refusal.reason(), std::string(chain::to_string(chain::TxInvalid::malformed)));
  const AddResult admitted = admit_transaction(pool.mempool, std::move(offer), pool.next());
  EXPECT_EQ(admitted.rejected, refusal.rejected);
  EXPECT_EQ(admitted.hash, refusal.hash);
  EXPECT_EQ(pool.mempool.size(), 2u);
}

TEST(TxAdmission, NextNonceToSignFollowsTheHighestWaitingNeverBelowTheCommitted) {
  struct NonceRow {
    const char* situation;
    std::uint64_t committed_next, highest_pending, want;
  };
  const NonceRow rows[] = {
      {"a new sender, nothing waiting", 1, 0, 1},
      {"nothing waiting", 5, 0, 5},
      {"1..3 waiting", 1, 3, 4},
      {"its next nonce waiting", 5, 5, 6},
      {"a gap: 7 waiting, 5 and 6 not", 5, 7, 8},
      {"what waited got committed meanwhile", 9, 3, 9},
  };
  for (const NonceRow& row : rows) {
    SCOPED_TRACE(row.situation);
    EXPECT_EQ(next_nonce_to_sign(row.committed_next, row.highest_pending), row.want);
  }
}

TEST(TxAdmission, NextNonceToSignCountsWhatTheMempoolHolds) {
  Pool pool({});
  const auto alice = pool.tc.key(0).public_key();
  EXPECT_EQ(next_nonce_to_sign(kAliceNext, pool.mempool.highest_pending_nonce(alice)), 6u);
  ASSERT_TRUE(pool.admit(pool.tc.note(0, kAliceNext + 1)).accepted());
  EXPECT_EQ(next_nonce_to_sign(kAliceNext, pool.mempool.highest_pending_nonce(alice)), 7u);
  const auto carol = pool.tc.key(2).public_key();
  EXPECT_EQ(next_nonce_to_sign(1, pool.mempool.highest_pending_nonce(carol)), 1u);
}

}  // namespace
}  // namespace baton::node
