// State snapshots in the RocksDB ledger (storage/state_snapshot.h, issue 18):
// the store keeps the newest two across a reopen, restore_snapshot accepts
// only a record whose state re-hashes to the app_state_hash signed in the
// block's header, and `baton ledger verify` fails on a changed snapshot.
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

class StateSnapshot : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kBlocks = 12;

  void SetUp() override {
    auto store = open();
    auto maker = ChainMaker::create(consortium_.spec, consortium_.signing_keys(),
                                    chain::initial_state(consortium_.spec.genesis_hash),
                                    {.txs_per_block = 3});
    ASSERT_TRUE(maker.ok()) << maker.error().message;
    states_.push_back(maker->state());
    for (std::uint64_t h = 1; h <= kBlocks; ++h) {
      auto block = maker->next_block();
      ASSERT_TRUE(block.ok()) << block.error().message;
      ASSERT_TRUE(store->append(*block).ok());
      states_.push_back(maker->state());  // states_[h]: after block h
    }
  }

  std::unique_ptr<LedgerStore> open() {
    auto store = LedgerStore::open_writer({.dir = dir(),
                                           .genesis_hash = consortium_.spec.genesis_hash,
                                           .genesis_document = consortium_.genesis_text});
    EXPECT_TRUE(store.ok()) << store.error().message;
    return std::move(store).value();
  }

  fs::path dir() const { return tmp_ / "ledger"; }

  void put(LedgerStore& store, std::uint64_t height, const std::string& record) {
    auto s = store.put_snapshot(height, record, kSnapshotsKept);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  SnapshotVerdict restore(const BlockStore& store, std::uint64_t height) {
    auto v = restore_snapshot(consortium_.spec, store, height);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return std::move(v).value();
  }

  // The state after `height` with one sender's next nonce lowered by one:
  // canonical bytes, a state the chain never reached.
  chain::LedgerState with_a_lowered_nonce(std::uint64_t height) const {
    chain::LedgerState s = states_[height];
    EXPECT_FALSE(s.next_nonces.empty());
    s.next_nonces.begin()->second -= 1;
    return s;
  }

  LedgerVerdict verify() {
    auto reader = LedgerStore::open_reader(dir());
    EXPECT_TRUE(reader.ok()) << reader.error().message;
    auto verdict = verify_ledger(**reader, consortium_.spec, {.threads = 2, .window_blocks = 5});
    EXPECT_TRUE(verdict.ok()) << verdict.error().message;
    return std::move(verdict).value();
  }

  TempDir tmp_;
  TestConsortium consortium_ = make_test_consortium(4);
  std::vector<chain::LedgerState> states_;
};

TEST_F(StateSnapshot, TheStoreKeepsTheNewestTwoAcrossAReopenAndReadersSeeThem) {
  {
    auto store = open();
    for (std::uint64_t h : {4, 8, 12}) put(*store, h, encode_snapshot(states_[h]));
    EXPECT_EQ(store->snapshot_heights().value(), (std::vector<std::uint64_t>{8, 12}));
  }
  auto store = open();
  EXPECT_EQ(store->snapshot_heights().value(), (std::vector<std::uint64_t>{8, 12}));
  EXPECT_EQ(store->snapshot_at(12).value().value_or(""), encode_snapshot(states_[12]));
  EXPECT_FALSE(store->snapshot_at(4).value().has_value());
  auto reader = LedgerStore::open_reader(dir());
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ((*reader)->snapshot_heights().value(), (std::vector<std::uint64_t>{8, 12}));
}

TEST_F(StateSnapshot, ALedgerWithoutSnapshotsListsNone) {
  auto reader = LedgerStore::open_reader(dir());
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_TRUE((*reader)->snapshot_heights().value().empty());
  EXPECT_FALSE((*reader)->snapshot_at(4).value().has_value());
}

TEST_F(StateSnapshot, TheStoreRefusesASnapshotAboveTheTip) {
  auto store = open();
  EXPECT_FALSE(store->put_snapshot(kBlocks + 1, encode_snapshot(states_[kBlocks]), 2).ok());
  EXPECT_TRUE(store->snapshot_heights().value().empty());
}

TEST_F(StateSnapshot, ATrueSnapshotRestoresTheStateAtItsHeight) {
  auto store = open();
  put(*store, 8, encode_snapshot(states_[8]));
  const SnapshotVerdict v = restore(*store, 8);
  ASSERT_TRUE(v.ok()) << v.reason().why;
  EXPECT_EQ(*v, states_[8]);
}

// The attacker edits the snapshot file: a nonce lowered (so that a replayed
// transaction would pass) re-encodes canonically, but its hash is not the one
// the validators signed in block 8's header.
TEST_F(StateSnapshot, AChangedStateIsRefusedBecauseItsHashIsNotTheSignedOne) {
  auto store = open();
  put(*store, 8, encode_snapshot(with_a_lowered_nonce(8)));
  const SnapshotVerdict v = restore(*store, 8);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.reason().why.find("app_state_hash"), std::string::npos) << v.reason().why;
}

TEST_F(StateSnapshot, ARecordOfAnotherHeightOrBlockIsRefused) {
  auto store = open();
  // The true state after block 7, stored as the snapshot of height 8.
  put(*store, 8, encode_snapshot(states_[7]));
  SnapshotVerdict v = restore(*store, 8);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.reason().why.find("names height 7"), std::string::npos) << v.reason().why;

  // Height 8's state with block 7's id.
  chain::LedgerState other_id = states_[8];
  other_id.last_block_id = states_[7].last_block_id;
  put(*store, 8, encode_snapshot(other_id));
  v = restore(*store, 8);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.reason().why.find("block id"), std::string::npos) << v.reason().why;

  // Cut short, and with a byte too many.
  const std::string record = encode_snapshot(states_[8]);
  for (const std::string& bad :
       {record.substr(0, record.size() - 1), record + '\0', record.substr(0, 20)}) {
    put(*store, 8, bad);
    EXPECT_FALSE(restore(*store, 8).ok());
  }
}

TEST_F(StateSnapshot, VerifyChecksEveryStoredSnapshot) {
  {
    auto store = open();
    for (std::uint64_t h : {6, 10}) put(*store, h, encode_snapshot(states_[h]));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_TRUE(verdict.ok()) << "height " << verdict.reason().height << ": "
                            << verdict.reason().what;
  EXPECT_EQ(verdict->snapshots, 2u);
  EXPECT_EQ(verdict->state, states_[kBlocks]);
}

TEST_F(StateSnapshot, VerifyNamesTheHeightOfAChangedSnapshot) {
  {
    auto store = open();
    put(*store, 6, encode_snapshot(states_[6]));
    put(*store, 10, encode_snapshot(with_a_lowered_nonce(10)));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, 10u) << verdict.reason().what;
  EXPECT_NE(verdict.reason().what.find("snapshot"), std::string::npos) << verdict.reason().what;
}

// What an auditor runs: exit code 3 and "height N: ..." for a changed snapshot.
TEST_F(StateSnapshot, VerifyCliExitsThreeOnAChangedSnapshot) {
  {
    auto store = open();
    put(*store, 9, encode_snapshot(with_a_lowered_nonce(9)));
  }
  const auto r = baton::testing::run_baton({"ledger", "verify", "--data-dir", dir().string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err.rfind("baton: height 9: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("snapshot"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace baton::storage
