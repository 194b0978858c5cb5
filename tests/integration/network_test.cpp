// Four real batond processes on loopback, started by deploy/testnet.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;

// Every node in `which` has the same block id at every height up to `height`.
void expect_identical_chains(Testnet& net, const std::vector<int>& which, std::uint64_t height) {
  for (std::uint64_t h = 1; h <= height; ++h) {
    const std::string first = net.block_id(which[0], h);
    ASSERT_FALSE(first.empty()) << net.nodes()[which[0]].name << " has no block " << h;
    for (std::size_t k = 1; k < which.size(); ++k) {
      ASSERT_EQ(net.block_id(which[k], h), first)
          << "fork at height " << h << " between " << net.nodes()[which[0]].name << " and "
          << net.nodes()[which[k]].name;
    }
  }
}

std::uint64_t min_height(Testnet& net, const std::vector<int>& which) {
  std::uint64_t m = UINT64_MAX;
  for (int i : which) m = std::min(m, net.height(i));
  return m;
}

// Submits `count` notes spread over senders and entry nodes in `via`; returns hashes.
std::vector<std::string> submit(Testnet& net, int count, const std::vector<int>& via,
                                const std::string& tag) {
  std::vector<std::string> hashes;
  for (int k = 0; k < count; ++k) {
    const int node = via[k % via.size()];
    std::string why;
    std::string h;
    // The mempool may be full for a moment under load: retry briefly.
    for (int attempt = 0; attempt < 50 && h.empty(); ++attempt) {
      h = net.submit_note(node, node, tag + " " + std::to_string(k), &why);
      if (h.empty()) std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(h.empty()) << why;
    hashes.push_back(h);
  }
  return hashes;
}

bool all_committed(Testnet& net, int node, const std::vector<std::string>& hashes) {
  // The last transaction of each sender commits after the earlier ones
  // (nonces), but check all: it is cheap on loopback.
  return std::all_of(hashes.begin(), hashes.end(),
                     [&](const std::string& h) { return net.committed(node, h); });
}

TEST(Network, FourNodesCommitSurviveACrashAndStopWithoutQuorum) {
  Testnet net(4);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::vector<int> all{0, 1, 2, 3};

  // 500 transactions through all four nodes.
  auto hashes = submit(net, 500, all, "batch-1");
  ASSERT_TRUE(wait_until([&] { return all_committed(net, 0, hashes); }, 90s))
      << "500 transactions not committed";
  ASSERT_TRUE(wait_until([&] { return min_height(net, all) >= net.height(0); }, 10s));
  const std::uint64_t common = min_height(net, all);
  ASSERT_GT(common, 0u);
  expect_identical_chains(net, all, common);
  for (int i : all) EXPECT_TRUE(all_committed(net, i, hashes)) << net.nodes()[i].name;

  // kill -9 one node: the other three keep committing.
  ASSERT_TRUE(net.stop(3, /*kill=*/true));
  const std::vector<int> three{0, 1, 2};
  const std::uint64_t before_kill = net.height(0);
  auto after_kill = submit(net, 30, three, "after-kill");
  ASSERT_TRUE(wait_until([&] { return all_committed(net, 0, after_kill); }, 60s));
  EXPECT_GT(net.height(0), before_kill);

  // Restart it: it catches up by block sync and has identical hashes.
  ASSERT_TRUE(net.start(3));
  const std::uint64_t target = net.height(0);
  ASSERT_TRUE(wait_until([&] { return net.height(3) >= target; }, 60s))
      << "restarted node stuck at " << net.height(3) << " of " << target;
  expect_identical_chains(net, all, target);

  // Stop two of four: no block is committed.
  ASSERT_TRUE(net.stop(2));
  ASSERT_TRUE(net.stop(3));
  std::this_thread::sleep_for(1s);  // let a decision already in flight land
  const std::uint64_t frozen0 = net.height(0), frozen1 = net.height(1);
  auto stalled = submit(net, 5, {0, 1}, "no-quorum");
  std::this_thread::sleep_for(3s);  // several heartbeat intervals and rounds
  EXPECT_EQ(net.height(0), frozen0);
  EXPECT_EQ(net.height(1), frozen1);
  for (const auto& h : stalled) EXPECT_FALSE(net.committed(0, h));

  // Restart them: progress resumes and the waiting transactions commit.
  ASSERT_TRUE(net.start(2));
  ASSERT_TRUE(net.start(3));
  ASSERT_TRUE(wait_until([&] { return all_committed(net, 0, stalled); }, 60s))
      << "no progress after restart";
  EXPECT_GT(net.height(0), frozen0);
  ASSERT_TRUE(wait_until([&] { return min_height(net, all) >= net.height(0); }, 30s));
  expect_identical_chains(net, all, min_height(net, all));
}

}  // namespace
}  // namespace baton::integration

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;

// Issue 18: an idle consortium's chain does not grow by a block a second.
// With idle_block_interval_ms = 0 and no run, four nodes make no block at
// all until a transaction arrives, then exactly as many as it takes.
TEST(Network, AnIdleNetworkMakesBlocksOnlyForTransactions) {
  TestnetOptions o;
  o.empty_block_ms = 100;  // would be 20+ heights in the pause below if the clock ran
  o.idle_block_ms = 0;
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::string first = net.submit_note(0, 0, "wake up");
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(wait_until([&] { return net.committed(3, first); }, 30s));
  const std::uint64_t h = net.height(0);
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(net.height(0), h) << "idle, yet the chain grew";
  const std::string second = net.submit_note(1, 2, "another");
  ASSERT_FALSE(second.empty());
  ASSERT_TRUE(wait_until([&] { return net.committed(0, second); }, 30s));
  EXPECT_LE(net.height(0), h + 2) << "one transaction, one block (two if it just missed one)";
}

}  // namespace
}  // namespace baton::integration
