// State sync and block repair in running batonds (issue 18, docs/PROTOCOL.md
// §24.4): a node whose data directory was wiped joins again from a snapshot
// a peer's status lists, commits with the others, backfills its history and
// then verifies from genesis with the same tip as its peers; a wrong trusted
// id keeps it out of consensus, naming the mismatch. A block damaged on disk
// is refetched from a peer at the next start; with no peer to give it, the
// node stops, naming the height.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <tuple>

#include "chain/block.h"
#include "storage/ledger_store.h"
#include "tests/integration/ledgers.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::wait_until;

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path log_of(const TestNode& node) { return node.config.parent_path() / "batond.log"; }

// A 4-node network taking a snapshot every 20 blocks.
TestnetOptions snapshotting() {
  TestnetOptions o;
  o.nodes = 4;
  // Slow enough that a peer still holds the trusted snapshot (the newest
  // two are kept: 20 to 40 blocks) while the node starts and fetches it.
  o.empty_block_ms = 500;
  o.no_start = true;
  return o;
}

void add_to_config(const TestNode& node, const std::string& text) {
  std::ofstream toml(node.config, std::ios::app);
  toml << "\n" << text << "\n";
}

void wipe(const TestNode& node) {
  fs::remove_all(node.data_dir);
  fs::create_directories(node.data_dir);
}

std::optional<std::uint64_t> history_from(Testnet& net, int i) {
  auto s = net.status(i);
  if (!s || !s->contains("history_from")) return std::nullopt;
  return (*s)["history_from"].get<std::uint64_t>();
}

TEST(StateSync, AWipedNodeJoinsFromAPeersSnapshotBackfillsAndVerifies) {
  Testnet net(snapshotting());
  ASSERT_TRUE(net.ok()) << net.error();
  for (const TestNode& n : net.nodes()) add_to_config(n, "[ledger]\nsnapshot_interval_blocks = 20");
  ASSERT_TRUE(net.start_all());
  for (int k = 0; k < 3; ++k) {
    std::string why;
    const std::string h = net.submit_note(k, 0, "before the wipe " + std::to_string(k), &why);
    ASSERT_FALSE(h.empty()) << why;
    ASSERT_TRUE(wait_until([&] { return net.committed(0, h); }, 30s));
  }
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= 45; }, 90s));

  const int d = 3;
  ASSERT_TRUE(net.stop(d));
  wipe(net.nodes()[d]);

  // The snapshots an operator may trust, from node 0's status.
  auto newest_snapshot = [&] {
    auto status = net.status(0);
    EXPECT_TRUE(status.has_value());
    EXPECT_GE((*status)["snapshots"].size(), 1u) << status->dump();
    const auto newest = (*status)["snapshots"].back();
    return std::pair{newest["height"].get<std::uint64_t>(), newest["block_id"].get<std::string>()};
  };
  // First an operator's mistake: a trusted id that is not the network's.
  std::uint64_t trust_height = 0;
  std::string trust_id;
  std::tie(trust_height, trust_id) = newest_snapshot();
  EXPECT_EQ(trust_id, net.block_id(0, trust_height));
  const std::string wrong_id = net.block_id(0, trust_height - 1);
  const fs::path config = net.nodes()[d].config;
  const std::string plain_config = read_all(config);
  add_to_config(net.nodes()[d], "[statesync]\ntrust_height = " + std::to_string(trust_height) +
                                    "\ntrust_block_id = \"" + wrong_id + "\"");
  ASSERT_TRUE(net.start(d));
  const std::string mismatch = "no peer has block id " + wrong_id;
  EXPECT_TRUE(wait_until(
      [&] { return read_all(log_of(net.nodes()[d])).find(mismatch) != std::string::npos; }, 30s))
      << mismatch;
  EXPECT_EQ(net.height(d), 0u) << "consensus started on an untrusted state";
  ASSERT_TRUE(net.stop(d));
  wipe(net.nodes()[d]);

  // Now the trusted snapshot from node 0's status.
  std::tie(trust_height, trust_id) = newest_snapshot();
  EXPECT_EQ(trust_id, net.block_id(0, trust_height));
  {
    std::ofstream rewrite(config, std::ios::trunc);
    rewrite << plain_config;
  }
  add_to_config(net.nodes()[d], "[statesync]\ntrust_height = " + std::to_string(trust_height) +
                                    "\ntrust_block_id = \"" + trust_id + "\"");
  ASSERT_TRUE(net.start(d));
  EXPECT_TRUE(wait_until(
      [&] {
        return read_all(log_of(net.nodes()[d]))
                   .find("state sync: the snapshot at height " + std::to_string(trust_height) +
                         " from peer ") != std::string::npos;
      },
      30s));
  // It reaches the tip and commits with the others.
  const std::uint64_t target = net.height(0) + 5;
  ASSERT_TRUE(wait_until([&] { return net.height(d) >= target; }, 60s));
  const std::uint64_t reached = net.height(d);
  for (std::uint64_t h = trust_height; h <= reached; ++h)
    ASSERT_EQ(net.block_id(d, h), net.block_id(0, h)) << "height " << h;
  // A note sent through it commits everywhere.
  std::string why;
  const std::string note = net.submit_note(d, d, "after state sync", &why);
  ASSERT_FALSE(note.empty()) << why;
  ASSERT_TRUE(wait_until([&] { return net.committed(0, note) && net.committed(d, note); }, 30s));
  // History is backfilled down to height 1.
  ASSERT_TRUE(wait_until([&] { return history_from(net, d) == 1u; }, 60s))
      << (net.status(d) ? net.status(d)->dump() : "no status");
  EXPECT_FALSE(net.block_id(d, 1).empty());

  ASSERT_TRUE(net.down());
  std::vector<fs::path> ledgers;
  for (const auto& n : net.nodes()) ledgers.push_back(n.data_dir / "ledger");
  EXPECT_GE(expect_identical_verified_ledgers(ledgers), reached);
  const auto verify = baton::testing::run_baton(
      {"ledger", "verify", "--data-dir", (net.nodes()[d].data_dir / "ledger").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

// Damages the stored block at `height` in a stopped node's ledger: a bit of
// a commit signature flips, its header (and so its id) does not; the
// store's own rewrite takes it because the id matches.
void damage_block(const fs::path& ledger, const chain::Hash& genesis, std::uint64_t height) {
  auto store = storage::LedgerStore::open_writer({.dir = ledger, .genesis_hash = genesis});
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto bytes = (*store)->block_at(height);
  ASSERT_TRUE(bytes.ok() && bytes->has_value());
  auto committed = chain::decode_committed_block(**bytes);
  ASSERT_TRUE(committed.ok());
  ASSERT_GT(committed->commit().signatures_size(), 0);
  (*committed->mutable_commit()->mutable_signatures(0)->mutable_signature())[0] ^= 1;
  ASSERT_TRUE((*store)->replace_block(committed->SerializeAsString()).ok());
}

TEST(StateSync, ADamagedBlockIsRefetchedOrTheNodeStopsNamingIt) {
  Testnet net(snapshotting());
  ASSERT_TRUE(net.ok()) << net.error();
  for (const TestNode& n : net.nodes()) add_to_config(n, "[ledger]\nsnapshot_interval_blocks = 20");
  ASSERT_TRUE(net.start_all());
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= 30; }, 60s));
  const int c = 2;
  ASSERT_TRUE(net.stop(c));
  const fs::path ledger = net.nodes()[c].data_dir / "ledger";
  std::uint64_t tip = 0;
  {
    auto reader = storage::LedgerStore::open_reader(ledger);
    ASSERT_TRUE(reader.ok());
    tip = (*reader)->tip().height;
  }
  // The tip: either above the newest snapshot, so the restart validates it,
  // or the snapshot's own block, so that snapshot is refused and the restart
  // starts from an older one and validates it then.
  const std::uint64_t bad = tip;
  damage_block(ledger, net.genesis_hash(), bad);

  ASSERT_TRUE(net.start(c));
  const std::string repaired =
      "the stored block at height " + std::to_string(bad) + " was replaced by peer";
  EXPECT_TRUE(wait_until(
      [&] { return read_all(log_of(net.nodes()[c])).find(repaired) != std::string::npos; }, 30s))
      << repaired;
  const std::uint64_t target = net.height(0) + 3;
  ASSERT_TRUE(wait_until([&] { return net.height(c) >= target; }, 60s));
  EXPECT_EQ(net.block_id(c, bad), net.block_id(0, bad));

  // Again, with every peer down: nobody can give it back.
  ASSERT_TRUE(net.stop(c));
  {
    auto reader = storage::LedgerStore::open_reader(ledger);
    ASSERT_TRUE(reader.ok());
    tip = (*reader)->tip().height;
  }
  const std::uint64_t lost = tip;
  damage_block(ledger, net.genesis_hash(), lost);
  for (int i : {0, 1, 3}) ASSERT_TRUE(net.stop(i));
  ASSERT_TRUE(net.start(c));
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = net.status(c);
        return s && s->value("halted", false);
      },
      60s));
  const auto s = net.status(c);
  const std::string reason = s->value("halt_reason", "");
  EXPECT_NE(reason.find("height " + std::to_string(lost)), std::string::npos) << reason;
  EXPECT_NE(reason.find("no peer sent a copy"), std::string::npos) << reason;
}

}  // namespace
}  // namespace baton::integration
