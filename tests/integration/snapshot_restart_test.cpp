// State snapshots in a running batond (issue 18): a node with
// [ledger] snapshot_interval_blocks = 5 stores snapshots as it commits and
// keeps the newest two; a restart starts from the newest; a snapshot changed
// on disk is refused at the next restart (logged with its height), the node
// falls back to the older one and keeps the same chain as its peers; and
// `baton ledger verify` checks the snapshots and fails on the changed one.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "storage/ledger_store.h"
#include "storage/state_snapshot.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::uint64_t> snapshot_heights(const std::filesystem::path& ledger) {
  auto reader = storage::LedgerStore::open_reader(ledger);
  EXPECT_TRUE(reader.ok()) << reader.error().message;
  if (!reader) return {};
  auto heights = (*reader)->snapshot_heights();
  EXPECT_TRUE(heights.ok()) << heights.error().message;
  return heights ? *heights : std::vector<std::uint64_t>{};
}

TEST(SnapshotRestart, ANodeRestartsFromItsSnapshotAndRefusesAChangedOne) {
  Testnet net(4, 200);
  ASSERT_TRUE(net.ok()) << net.error();
  const TestNode& node = net.nodes()[0];
  const std::filesystem::path ledger = node.data_dir / "ledger";
  const std::filesystem::path log = node.config.parent_path() / "batond.log";

  ASSERT_TRUE(net.stop(0));
  {
    std::ofstream toml(node.config, std::ios::app);
    toml << "\n[ledger]\nsnapshot_interval_blocks = 5\n";
  }
  ASSERT_TRUE(net.start(0));
  // Three notes from member 0, the only sender: its next nonce is 4.
  for (int k = 0; k < 3; ++k) {
    std::string why;
    const std::string h = net.submit_note(0, 0, "note " + std::to_string(k), &why);
    ASSERT_FALSE(h.empty()) << why;
    ASSERT_TRUE(wait_until([&] { return net.committed(0, h); }, 30s));
  }
  const std::uint64_t from = net.height(0);
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= from + 16; }, 60s));
  ASSERT_TRUE(net.stop(0));

  std::vector<std::uint64_t> heights = snapshot_heights(ledger);
  ASSERT_EQ(heights.size(), 2u);  // the newest two are kept
  EXPECT_EQ(heights[0] % 5, 0u);
  EXPECT_EQ(heights[1], heights[0] + 5);

  // A restart starts from the newest snapshot.
  ASSERT_TRUE(net.start(0));
  const std::string restored = "restored from the snapshot at height " + std::to_string(heights[1]);
  EXPECT_TRUE(wait_until([&] { return read_all(log).find(restored) != std::string::npos; }, 10s))
      << restored;
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= heights[1] + 12; }, 60s));
  ASSERT_TRUE(net.stop(0));

  // The attacker lowers a nonce in the newest snapshot. The record is
  // canonical; only its hash gives it away.
  heights = snapshot_heights(ledger);
  ASSERT_EQ(heights.size(), 2u);
  const std::uint64_t newest = heights[1];
  {
    auto store =
        storage::LedgerStore::open_writer({.dir = ledger, .genesis_hash = net.genesis_hash()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto record = (*store)->snapshot_at(newest);
    ASSERT_TRUE(record.ok() && record->has_value());
    // Bytes 40.. are the state: u64be tx_count, u32be senders (1), then
    // the sender's key (32) and next nonce (8): 4 becomes 3.
    std::string changed = **record;
    ASSERT_GE(changed.size(), 40u + 12 + 40);
    const std::size_t nonce_low = 40 + 12 + 32 + 7;
    ASSERT_EQ(changed[nonce_low], '\x04');
    changed[nonce_low] = '\x03';
    ASSERT_TRUE((*store)->put_snapshot(newest, changed, storage::kSnapshotsKept).ok());
  }
  const auto verify =
      baton::testing::run_baton({"ledger", "verify", "--data-dir", ledger.string()});
  EXPECT_EQ(verify.exit_code, 3) << verify.out << verify.err;
  EXPECT_NE(verify.err.find("height " + std::to_string(newest) + ": "), std::string::npos)
      << verify.err;

  ASSERT_TRUE(net.start(0));
  const std::string refused =
      "the state snapshot at height " + std::to_string(newest) + " is refused";
  const std::string older = "restored from the snapshot at height " + std::to_string(heights[0]);
  EXPECT_TRUE(wait_until(
      [&] {
        const std::string text = read_all(log);
        return text.find(refused) != std::string::npos && text.find(older) != std::string::npos;
      },
      10s))
      << refused << " / " << older;
  // It commits on with its peers: the same block ids above the snapshots.
  const std::uint64_t target = net.height(1) + 5;
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= target; }, 60s));
  for (std::uint64_t h = heights[0]; h <= target; ++h)
    ASSERT_EQ(net.block_id(0, h), net.block_id(1, h)) << "height " << h;

  // It replayed more than an interval, so it stored its tip as a snapshot;
  // two more push the changed one out and the ledger verifies again.
  const std::uint64_t restarted_at = net.height(0);
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= restarted_at + 11; }, 60s));
  ASSERT_TRUE(net.stop(0));
  const auto again = baton::testing::run_baton({"ledger", "verify", "--data-dir", ledger.string()});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("state snapshot(s) checked"), std::string::npos) << again.out;
}

}  // namespace
}  // namespace baton::integration
