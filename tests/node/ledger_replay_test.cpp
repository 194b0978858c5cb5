// replay_ledger (storage/ledger_replay.h, issue 18): a restart from a state
// snapshot gives exactly the state a full replay from genesis gives, on a
// chain with a training run; a snapshot whose bytes were changed (a balance
// raised, a nonce lowered, a byte flipped) is refused because its hash is not
// the one signed in the block's header, and the replay falls back to an older
// snapshot or to genesis and ends with the same state.
#include <gtest/gtest.h>

#include "storage/ledger_replay.h"
#include "storage/block_store_memory.h"
#include "storage/state_snapshot.h"
#include "tests/chain/economy_fixture.h"

namespace baton::storage {
namespace {

using chain::testing::ProtocolChain;

// A chain with credits, a run with a granted load, a save, votes and a
// refusal, then empty blocks: 20 blocks or more.
ProtocolChain training_chain() {
  ProtocolChain p;
  chain::testing::use_genesis(p, chain::testing::genesis_with({1000, 20, 0, 5}));
  p.empty_blocks(1);
  p.commit(chain::testing::transfer(p, chain::testing::kAlice, "carol", 300));
  p.commit(p.start(0, chain::testing::test_plan(4)));
  p.grant_load(0, {1, 2});
  const chain::Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  EXPECT_TRUE(p.commit_refused(p.load_request(3, 1, save)).has_value());
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  p.empty_blocks(6);
  return p;
}

class LedgerReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(chain_.blocks.size(), 16u);
    tip_ = chain_.blocks.size();
    // The state after each height, from a full replay of a store cut there.
    storage::MemoryBlockStore growing(spec().genesis_hash);
    states_.push_back(chain::initial_state(spec().genesis_hash));
    for (const std::string& b : chain_.blocks) {
      ASSERT_TRUE(growing.append(b).ok());
      auto r = replay_ledger(spec(), growing, false);
      ASSERT_TRUE(r.ok()) << r.error().message;
      states_.push_back(r->state);
    }
    ASSERT_FALSE(states_[snap_].training.runs.empty());
    ASSERT_FALSE(states_[snap_].training.accounts.empty());
    for (const std::string& b : chain_.blocks) ASSERT_TRUE(store_.append(b).ok());
  }

  const chain::ChainSpec& spec() const { return chain_.chain.spec; }

  void put(std::uint64_t height, const chain::LedgerState& state) {
    put_record(height, storage::encode_snapshot(state));
  }
  void put_record(std::uint64_t height, const std::string& record) {
    ASSERT_TRUE(store_.put_snapshot(height, record, storage::kSnapshotsKept).ok());
  }

  ReplayedLedger replay(bool use_snapshots = true) {
    auto r = replay_ledger(spec(), store_, use_snapshots);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return std::move(r).value();
  }

  ProtocolChain chain_ = training_chain();
  std::uint64_t tip_ = 0;
  std::uint64_t snap_ = 12;  // inside the run: after the save request
  std::vector<chain::LedgerState> states_;
  storage::MemoryBlockStore store_{chain_.chain.spec.genesis_hash};
};

TEST_F(LedgerReplay, WithoutSnapshotsItReplaysFromGenesis) {
  const ReplayedLedger r = replay();
  EXPECT_EQ(r.snapshot_height, 0u);
  EXPECT_EQ(r.blocks_replayed, tip_);
  EXPECT_EQ(r.state, chain_.chain.state);
  EXPECT_TRUE(r.refused_snapshots.empty());
}

TEST_F(LedgerReplay, ARestartFromASnapshotGivesTheFullReplayState) {
  put(snap_, states_[snap_]);
  const ReplayedLedger r = replay();
  EXPECT_EQ(r.snapshot_height, snap_);
  EXPECT_EQ(r.blocks_replayed, tip_ - snap_);
  EXPECT_TRUE(r.refused_snapshots.empty());
  const ReplayedLedger full = replay(false);
  EXPECT_EQ(full.blocks_replayed, tip_);
  EXPECT_EQ(r.state, full.state);
  EXPECT_EQ(chain::state_hash(spec().chain_id(), r.state),
            chain::state_hash(spec().chain_id(), full.state));
}

TEST_F(LedgerReplay, AReplayCappedAtMaxBlocksStopsThereFromGenesisOrASnapshot) {
  auto capped = replay_ledger(spec(), store_, false, nullptr, 5);
  ASSERT_TRUE(capped.ok()) << capped.error().message;
  EXPECT_EQ(capped->blocks_replayed, 5u);
  EXPECT_EQ(capped->state, states_[5]);
  put(snap_, states_[snap_]);
  capped = replay_ledger(spec(), store_, true, nullptr, 2);
  ASSERT_TRUE(capped.ok()) << capped.error().message;
  EXPECT_EQ(capped->snapshot_height, snap_);
  EXPECT_EQ(capped->state, states_[snap_ + 2]);
  // A cap past the tip replays to the tip.
  capped = replay_ledger(spec(), store_, false, nullptr, tip_ + 100);
  ASSERT_TRUE(capped.ok()) << capped.error().message;
  EXPECT_EQ(capped->state, chain_.chain.state);
  capped = replay_ledger(spec(), store_, false, nullptr, 0);
  ASSERT_TRUE(capped.ok()) << capped.error().message;
  EXPECT_EQ(capped->blocks_replayed, 0u);
}

TEST_F(LedgerReplay, ASnapshotAtTheTipReplaysNoBlock) {
  put(tip_, states_[tip_]);
  const ReplayedLedger r = replay();
  EXPECT_EQ(r.snapshot_height, tip_);
  EXPECT_EQ(r.blocks_replayed, 0u);
  EXPECT_EQ(r.state, chain_.chain.state);
}

// The attacker raises a balance in the newest snapshot: the bytes are a
// canonical state, but not the one signed at that height. The older snapshot
// is used and the state is the full replay's.
TEST_F(LedgerReplay, ARaisedBalanceIsRefusedAndTheOlderSnapshotIsUsed) {
  put(snap_ - 4, states_[snap_ - 4]);
  chain::LedgerState rich = states_[snap_];
  rich.training.accounts.balances["bob"] += 1'000'000;
  put(snap_, rich);
  const ReplayedLedger r = replay();
  EXPECT_EQ(r.snapshot_height, snap_ - 4);
  ASSERT_EQ(r.refused_snapshots.size(), 1u);
  EXPECT_NE(r.refused_snapshots[0].find("height " + std::to_string(snap_)), std::string::npos)
      << r.refused_snapshots[0];
  EXPECT_NE(r.refused_snapshots[0].find("app_state_hash"), std::string::npos)
      << r.refused_snapshots[0];
  EXPECT_EQ(r.state, chain_.chain.state);
}

// A nonce lowered (to let a transaction be replayed) and, in the older one,
// one byte flipped: both refused, the replay starts at genesis.
TEST_F(LedgerReplay, WhenEverySnapshotIsChangedItFallsBackToGenesis) {
  std::string flipped = storage::encode_snapshot(states_[snap_ - 4]);
  flipped[flipped.size() - 3] ^= 0x20;
  put_record(snap_ - 4, flipped);
  chain::LedgerState replayable = states_[snap_];
  ASSERT_FALSE(replayable.next_nonces.empty());
  replayable.next_nonces.begin()->second -= 1;
  put(snap_, replayable);
  const ReplayedLedger r = replay();
  EXPECT_EQ(r.snapshot_height, 0u);
  EXPECT_EQ(r.blocks_replayed, tip_);
  EXPECT_EQ(r.refused_snapshots.size(), 2u);
  EXPECT_EQ(r.state, chain_.chain.state);
}

// A record that claims another block (the id of the block before) is
// refused even though its state bytes are true.
TEST_F(LedgerReplay, ASnapshotNamingAnotherBlockIsRefused) {
  chain::LedgerState s = states_[snap_];
  s.last_block_id = states_[snap_ - 1].last_block_id;
  put(snap_, s);
  const ReplayedLedger r = replay();
  EXPECT_EQ(r.snapshot_height, 0u);
  ASSERT_EQ(r.refused_snapshots.size(), 1u);
  EXPECT_NE(r.refused_snapshots[0].find("block id"), std::string::npos) << r.refused_snapshots[0];
  EXPECT_EQ(r.state, chain_.chain.state);
}

TEST_F(LedgerReplay, SnapshotsAreIgnoredWhenNotWanted) {
  put(snap_, states_[snap_]);
  const ReplayedLedger r = replay(false);
  EXPECT_EQ(r.snapshot_height, 0u);
  EXPECT_EQ(r.blocks_replayed, tip_);
}

}  // namespace
}  // namespace baton::storage
