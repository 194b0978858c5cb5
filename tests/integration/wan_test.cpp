// Real-network conditions between real batond processes (issue 18), with
// both of baton-linkem's emulators (kernel netem is not available on this
// project's machines, tools/linkem/main.cpp):
//   Relay: every pair of nodes talks through a TCP relay on loopback
//     (deploy/testnet.sh --wan), which adds one-way delay, jitter and
//     TCP-level loss stalls, and closes connections for a partition;
//   Netns: every node runs in its own network namespace (testnet.sh
//     --netns) and a packet switch between their TUN devices delays, jitters
//     and drops IP packets, so the nodes' own TCP retransmits losses, and a
//     partition drops everything while connections stay open. Needs root;
//     skipped, saying why, where the machine cannot.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;

const std::vector<std::string> kNames{"a", "b", "c", "d"};
const std::vector<int> kAll{0, 1, 2, 3};

std::uint64_t min_height(Testnet& net, const std::vector<int>& which) {
  std::uint64_t m = UINT64_MAX;
  for (int i : which) m = std::min(m, net.height(i));
  return m;
}
std::uint64_t max_height(Testnet& net, const std::vector<int>& which) {
  std::uint64_t m = 0;
  for (int i : which) m = std::max(m, net.height(i));
  return m;
}

// Every node has the same block id at every height up to `height`.
void expect_no_fork(Testnet& net, std::uint64_t height) {
  for (std::uint64_t h = 1; h <= height; ++h) {
    const std::string first = net.block_id(0, h);
    ASSERT_FALSE(first.empty()) << "a has no block " << h;
    for (int i = 1; i < 4; ++i) {
      ASSERT_EQ(net.block_id(i, h), first)
          << "fork at height " << h << " between a and " << net.nodes()[i].name;
    }
  }
}

TestnetOptions wan_options(bool netns, std::string wan, std::vector<std::string> wan_nodes = {}) {
  TestnetOptions o;
  o.netns = netns;
  o.names = kNames;
  o.empty_block_ms = 200;
  o.wan = std::move(wan);
  o.wan_nodes = std::move(wan_nodes);
  return o;
}

// The parameter: true for the packet switch in network namespaces.
class Wan : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !netns_unavailable().empty()) {
      GTEST_SKIP() << "testnet.sh --netns cannot run here: " << netns_unavailable();
    }
  }
  bool netns() const { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Emulator, Wan, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Netns" : "Relay";
                         });

TEST_P(Wan, FourValidatorsOnALossyJitteryWanCommitTransactionsWithIdenticalLedgers) {
  Testnet net(wan_options(netns(), "20:5:1"));
  ASSERT_TRUE(net.ok()) << net.error();
  // Every peer is reached through its link, not the genesis address.
  const std::string links = net.wan("status");
  ASSERT_NE(links.find("a>b "), std::string::npos) << links;
  ASSERT_NE(links.find("delay_ms=20 jitter_ms=5 loss_ppm=10000 "), std::string::npos) << links;

  std::vector<std::string> hashes;
  for (int k = 0; k < 40; ++k) {
    std::string why;
    const int via = k % 4;
    const std::string h = net.submit_note(via, via, "wan " + std::to_string(k), &why);
    ASSERT_FALSE(h.empty()) << why;
    hashes.push_back(h);
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_TRUE(wait_until(
      [&] {
        return std::all_of(hashes.begin(), hashes.end(),
                           [&](const std::string& h) { return net.committed(0, h); });
      },
      30s))
      << "40 transactions not committed across the WAN";
  ASSERT_TRUE(wait_until([&] { return min_height(net, kAll) >= net.height(0); }, 10s));
  const std::uint64_t common = min_height(net, kAll);
  expect_no_fork(net, common);
  for (int i : kAll) {
    EXPECT_TRUE(net.committed(i, hashes.back())) << net.nodes()[i].name;
    // The links carried the sessions: linkem accepted connections on them.
    auto s = net.status(i);
    ASSERT_TRUE(s);
    for (const auto& p : (*s)["peers"]) EXPECT_TRUE(p["connected"].get<bool>()) << p.dump();
  }
  // Every link carried the sessions: the relay accepted connections on it,
  // the switch forwarded packets (and lost some of them).
  const std::string after = net.wan("status");
  EXPECT_EQ(after.find(netns() ? " forwarded=0 " : " accepted=0 "), std::string::npos)
      << "a link that carried nothing: " << after;
  if (netns()) {
    // 1% of some thousands of packets: the nodes' TCP recovered real losses.
    std::uint64_t lost = 0;
    for (std::size_t at = after.find(" lost="); at != std::string::npos;
         at = after.find(" lost=", at + 1)) {
      lost += std::stoull(after.substr(at + 6));
    }
    EXPECT_GT(lost, 0u) << after;
  }
}

TEST_P(Wan, ATwoTwoPartitionCommitsNothingThenHealsWithoutAFork) {
  Testnet net(wan_options(netns(), "5:2"));
  ASSERT_TRUE(net.ok()) << net.error();
  ASSERT_TRUE(wait_until([&] { return min_height(net, kAll) >= 3; }, 20s));

  const std::string cut = net.wan("cut a>c a>d b>c b>d c>a c>b d>a d>b");
  ASSERT_NE(cut.find("ok"), std::string::npos) << cut;
  // A block whose precommits were already in flight may still land; after
  // that neither half has 2/3 of the power.
  std::this_thread::sleep_for(1500ms);
  const std::uint64_t frozen = max_height(net, kAll);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(max_height(net, kAll), frozen) << "a half without quorum committed a block";
  // Transactions submitted on both sides meanwhile wait in the mempools.
  std::string why;
  const std::string left = net.submit_note(0, 0, "during the partition", &why);
  ASSERT_FALSE(left.empty()) << why;
  const std::string right = net.submit_note(2, 2, "during the partition", &why);
  ASSERT_FALSE(right.empty()) << why;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(max_height(net, kAll), frozen);

  ASSERT_NE(net.wan("heal *").find("ok"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return min_height(net, kAll) >= frozen + 3; }, 30s))
      << "no progress after the heal";
  ASSERT_TRUE(wait_until([&] { return net.committed(3, left) && net.committed(1, right); }, 20s));
  const std::uint64_t common = min_height(net, kAll);
  expect_no_fork(net, common);
}

TEST_P(Wan, AValidatorBehindA300MsLinkKeepsUp) {
  TestnetOptions o = wan_options(netns(), "10:2", {"d=300"});
  o.empty_block_ms = 500;  // a block every ~half second, longer than d's delay
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::string links = net.wan("status");
  ASSERT_NE(links.find(netns() ? "d>a delay_ms=300 " : "d>a listen=127.0.0.1"), std::string::npos)
      << links;
  ASSERT_NE(links.find("delay_ms=300 "), std::string::npos) << links;
  ASSERT_TRUE(wait_until([&] { return min_height(net, kAll) >= 5; }, 30s));
  // Over a few seconds d's height follows the others within a few blocks.
  std::uint64_t worst_gap = 0;
  for (int k = 0; k < 10; ++k) {
    std::this_thread::sleep_for(500ms);
    const std::uint64_t others = max_height(net, {0, 1, 2});
    const std::uint64_t d = net.height(3);
    worst_gap = std::max(worst_gap, others > d ? others - d : 0);
  }
  EXPECT_LE(worst_gap, 3u) << "d fell behind by " << worst_gap << " blocks";
  ASSERT_TRUE(wait_until([&] { return min_height(net, kAll) >= net.height(0); }, 10s));
  expect_no_fork(net, min_height(net, kAll));
}

TEST(WanDial, ADialOverrideThatReachesAnotherMemberIsRefusedByTheHandshake) {
  TestnetOptions o;
  o.names = {"a", "b", "c"};
  o.nodes = 3;
  o.no_start = true;
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  // a dials "b" at c's port; b cannot dial a (nothing listens on port 1):
  // the only way a and b could meet is a's hostile or mistaken override.
  auto append = [](const std::filesystem::path& file, const std::string& text) {
    std::ofstream(file, std::ios::app) << text;
  };
  append(net.nodes()[0].config,
         "\n[p2p.dial]\nb = \"127.0.0.1:" + std::to_string(net.p2p_port(2)) + "\"\n");
  append(net.nodes()[1].config, "\n[p2p.dial]\na = \"127.0.0.1:1\"\n");
  ASSERT_TRUE(net.start_all());

  auto peer = [&](int node, const std::string& name) {
    auto s = net.status(node);
    if (!s) return nlohmann::json();
    for (const auto& p : (*s)["peers"])
      if (p["name"] == name) return p;
    return nlohmann::json();
  };
  ASSERT_TRUE(wait_until(
      [&] {
        const auto p = peer(0, "b");
        return p.is_object() &&
               p.value("last_error", "").find("handshake refused") != std::string::npos;
      },
      15s))
      << peer(0, "b").dump();
  const auto b = peer(0, "b");
  EXPECT_FALSE(b["connected"].get<bool>());
  EXPECT_EQ(b["address"], "127.0.0.1:" + std::to_string(net.p2p_port(2))) << b.dump();
  EXPECT_NE(b["last_error"].get<std::string>().find("answered"), std::string::npos) << b.dump();
  // a and c still reach each other, and a never took c for b.
  ASSERT_TRUE(wait_until([&] { return peer(0, "c").value("connected", false); }, 15s));
  EXPECT_FALSE(peer(0, "b").value("connected", true));
}

TEST(WanDial, ADialOverrideNamingNoMemberStopsTheNodeAtStart) {
  TestnetOptions o;
  o.names = {"a", "b"};
  o.nodes = 2;
  o.no_start = true;
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  std::ofstream(net.nodes()[0].config, std::ios::app) << "\n[p2p.dial]\nzed = \"127.0.0.1:9\"\n";
  EXPECT_FALSE(net.start(0));
  std::ifstream log(net.net_dir() / "nodes" / "a" / "stdout.log");
  const std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(text.find("'zed', which is no member"), std::string::npos) << text;
}

}  // namespace
}  // namespace baton::integration
