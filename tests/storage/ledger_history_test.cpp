// A ledger made by state sync (storage/ledger_store.h, docs/PROTOCOL.md
// §24.4): it starts at a trusted block H with its snapshot, grows on top,
// and takes history below H only as blocks whose ids the block above names;
// until backfill reaches height 1 the gap is explicit (history_from) and
// `ledger verify` refuses, naming it. A damaged block is rewritten only by a
// block with the id the ledger names for its height.
#include <gtest/gtest.h>

#include "chain/block.h"
#include "ledger_test_chain.h"
#include "storage/ledger_maker.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "storage/state_snapshot.h"
#include "tests/support/test_support.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using baton::testing::TempDir;
using testing::make_test_consortium;
using testing::TestConsortium;

class LedgerHistory : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kBlocks = 12;
  static constexpr std::uint64_t kTrusted = 8;

  void SetUp() override {
    auto maker = ChainMaker::create(consortium_.spec, consortium_.signing_keys(),
                                    chain::initial_state(consortium_.spec.genesis_hash),
                                    {.txs_per_block = 3});
    ASSERT_TRUE(maker.ok()) << maker.error().message;
    blocks_.push_back("");
    states_.push_back(maker->state());
    for (std::uint64_t h = 1; h <= kBlocks; ++h) {
      auto block = maker->next_block();
      ASSERT_TRUE(block.ok()) << block.error().message;
      blocks_.push_back(*block);
      states_.push_back(maker->state());
    }
  }

  std::unique_ptr<LedgerStore> open() {
    auto store = LedgerStore::open_writer({.dir = tmp_ / "ledger",
                                           .genesis_hash = consortium_.spec.genesis_hash,
                                           .genesis_document = consortium_.genesis_text});
    EXPECT_TRUE(store.ok()) << store.error().message;
    return std::move(store).value();
  }

  std::vector<BlockDescription::SenderNonce> nonces(std::uint64_t h) const {
    std::vector<BlockDescription::SenderNonce> out;
    for (const auto& [k, next] : states_[h].next_nonces) out.push_back({k, next - 1});
    return out;
  }

  // A store synced at kTrusted, with the blocks above appended.
  std::unique_ptr<LedgerStore> synced() {
    auto store = open();
    auto s = store->install_trusted(blocks_[kTrusted], encode_snapshot(states_[kTrusted]),
                                    nonces(kTrusted));
    EXPECT_TRUE(s.ok()) << s.error().message;
    for (std::uint64_t h = kTrusted + 1; h <= kBlocks; ++h)
      EXPECT_TRUE(store->append(blocks_[h]).ok());
    return store;
  }

  TempDir tmp_{"baton-history"};
  TestConsortium consortium_ = make_test_consortium(4);
  std::vector<std::string> blocks_;
  std::vector<chain::LedgerState> states_;
};

TEST_F(LedgerHistory, ATrustedStartHoldsHistoryOnlyFromItsHeight) {
  auto store = synced();
  EXPECT_EQ(store->history_from(), kTrusted);
  EXPECT_EQ(store->tip().height, kBlocks);
  EXPECT_FALSE(store->block_at(kTrusted - 1)->has_value());
  EXPECT_TRUE(store->blocks_from(1, 10)->empty());  // the gap is not skipped over
  EXPECT_EQ(store->blocks_from(kTrusted, 100)->size(), kBlocks - kTrusted + 1);
  // The nonce index holds the state's nonces, not only those of block H on.
  for (const auto& [k, next] : states_[kBlocks].next_nonces) EXPECT_EQ(*store->next_nonce(k), next);
  // The snapshot restores as any other (a restart starts from it).
  auto restored = restore_snapshot(consortium_.spec, *store, kTrusted);
  ASSERT_TRUE(restored.ok() && restored->ok());
  EXPECT_EQ(restored->value(), states_[kTrusted]);
}

TEST_F(LedgerHistory, VerifyRefusesAGapAndNamesIt) {
  auto store = synced();
  auto verdict = verify_ledger(*store, consortium_.spec);
  ASSERT_TRUE(verdict.ok());
  ASSERT_FALSE(verdict->ok());
  EXPECT_EQ(verdict->reason().height, kTrusted - 1);
  EXPECT_NE(verdict->reason().what.find("only from height " + std::to_string(kTrusted)),
            std::string::npos)
      << verdict->reason().what;
}

TEST_F(LedgerHistory, BackfillTakesOnlyTheBlockTheBlockAboveNames) {
  auto store = synced();
  // Hostile offers: a block of another height, the right height from nowhere
  // (block 3 presented where 7 is due), and a block above the gap.
  EXPECT_FALSE(store->backfill(blocks_[kTrusted - 2]).ok());
  EXPECT_FALSE(store->backfill(blocks_[kTrusted]).ok());
  EXPECT_FALSE(store->backfill(blocks_[kBlocks]).ok());
  EXPECT_EQ(store->history_from(), kTrusted);
  for (std::uint64_t h = kTrusted - 1; h >= 1; --h) {
    auto s = store->backfill(blocks_[h]);
    ASSERT_TRUE(s.ok()) << "height " << h << ": " << s.error().message;
    EXPECT_EQ(store->history_from(), h);
  }
  EXPECT_FALSE(store->backfill(blocks_[1]).ok());  // nothing left to fill
  // History survives a reopen, and the whole chain verifies from genesis.
  store.reset();
  store = open();
  EXPECT_EQ(store->history_from(), 1u);
  auto verdict = verify_ledger(*store, consortium_.spec);
  ASSERT_TRUE(verdict.ok());
  ASSERT_TRUE(verdict->ok()) << verdict->reason().height << ": " << verdict->reason().what;
  EXPECT_EQ(verdict->value().state, states_[kBlocks]);
}

TEST_F(LedgerHistory, AGapSurvivesAReopen) {
  auto store = synced();
  ASSERT_TRUE(store->backfill(blocks_[kTrusted - 1]).ok());
  store.reset();
  store = open();
  EXPECT_EQ(store->history_from(), kTrusted - 1);
  EXPECT_EQ(store->tip().height, kBlocks);
}

TEST_F(LedgerHistory, InstallIsOnlyForAnEmptyLedger) {
  auto store = open();
  ASSERT_TRUE(store->append(blocks_[1]).ok());
  EXPECT_FALSE(
      store
          ->install_trusted(blocks_[kTrusted], encode_snapshot(states_[kTrusted]), nonces(kTrusted))
          .ok());
  EXPECT_EQ(store->history_from(), 1u);
}

TEST_F(LedgerHistory, ADamagedBlockIsRewrittenOnlyWithTheIdTheLedgerNames) {
  auto store = open();
  for (std::uint64_t h = 1; h <= kBlocks; ++h) ASSERT_TRUE(store->append(blocks_[h]).ok());
  EXPECT_TRUE(store->replace_block(blocks_[4]).ok());  // its own bytes again
  std::string other = blocks_[5];
  auto committed = chain::decode_committed_block(other).value();
  committed.mutable_block()->set_header(
      chain::decode_committed_block(blocks_[6]).value().block().header());
  // Block 6's header with block 5's body: the id of 6, so the store takes it
  // (the caller checks the body against the header's Merkle root first).
  EXPECT_TRUE(store->replace_block(committed.SerializeAsString()).ok());
  // A header that is not the one the ledger names for its height is refused.
  auto forged = chain::decode_committed_block(blocks_[7]).value();
  auto header = chain::decode_header(forged.block().header()).value();
  header.set_time_unix_ms(header.time_unix_ms() + 1);
  forged.mutable_block()->set_header(header.SerializeAsString());
  EXPECT_FALSE(store->replace_block(forged.SerializeAsString()).ok());
  forged = chain::decode_committed_block(blocks_[kBlocks]).value();
  header = chain::decode_header(forged.block().header()).value();
  header.set_time_unix_ms(header.time_unix_ms() + 1);
  forged.mutable_block()->set_header(header.SerializeAsString());
  EXPECT_FALSE(store->replace_block(forged.SerializeAsString()).ok());
  // The right bytes repair it.
  ASSERT_TRUE(store->replace_block(blocks_[6]).ok());
  EXPECT_EQ(**store->block_at(6), blocks_[6]);
  auto verdict = verify_ledger(*store, consortium_.spec);
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->ok());
}

}  // namespace
}  // namespace baton::storage
