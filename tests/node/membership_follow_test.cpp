// What the node derives from the ledger's members (node/membership_follow.h):
// the next height's consensus set and the transport's member list, and
// whether they changed.
#include <gtest/gtest.h>

#include "node/membership_follow.h"
#include "tests/chain/chain_fixture.h"

namespace baton::node {
namespace {

using chain::testing::TestChain;

TEST(MembershipFollower, TheFirstLookReportsEverythingAndAnUnchangedStateNothing) {
  const TestChain c({1, 2, 0, 1});
  MembershipFollower f;
  EXPECT_FALSE(f.validators().has_value());
  const auto first = f.observe(c.spec, c.state);
  EXPECT_TRUE(first.members);
  EXPECT_TRUE(first.validators);
  ASSERT_EQ(f.members().size(), 4u);
  // The consensus set: members with power, in member order.
  ASSERT_TRUE(f.validators().has_value());
  ASSERT_EQ(f.validators()->size(), 3u);
  EXPECT_EQ(f.validators()->total_power(), 4u);
  EXPECT_EQ(f.validators()->at(1).key, c.key(1).public_key());
  EXPECT_EQ(f.validators()->at(2).key, c.key(3).public_key());
  const auto again = f.observe(c.spec, c.state);
  EXPECT_FALSE(again.members);
  EXPECT_FALSE(again.validators);
}

TEST(P2pMembers, EachMemberAtItsAddressOrItsDialOverride) {
  const TestChain c;
  std::vector<chain::GenesisMember> members = c.spec.genesis.members;
  members[2].p2p_address = "not an address";
  api::NodeConfig config;
  config.p2p_dial.emplace(members[1].name, api::HostPort{"10.9.9.9", 4242});
  std::vector<std::string> warnings;
  const auto out = p2p_members(members, config, members[0].ed25519, warnings);
  ASSERT_EQ(out.size(), members.size());
  EXPECT_EQ(out[1].host, "10.9.9.9");
  EXPECT_EQ(out[1].port, 4242);
  EXPECT_EQ(out[2].key, members[2].ed25519);
  EXPECT_TRUE(out[2].host.empty()) << "an address that cannot be dialled is listed without one";
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(members[2].name), std::string::npos);
}

}  // namespace
}  // namespace baton::node
