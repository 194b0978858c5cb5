// node.toml's [p2p.dial] (issue 18): per-peer dial addresses.
#include <gtest/gtest.h>

#include "api/config.h"

namespace baton::api {
namespace {

const std::string kBase = R"(
name = "hospital-a"
key_file = "k"
genesis_file = "g"
data_dir = "d"
p2p_listen = "0.0.0.0:26656"
)";

TEST(P2pDialConfig, ReadsOneAddressPerMember) {
  auto c = parse_node_config(kBase + R"(
[p2p.dial]
hospital-b = "127.0.0.1:41002"
"hospital c" = "[::1]:41003"
)",
                             "/x/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->p2p_dial.size(), 2u);
  EXPECT_EQ(c->p2p_dial.at("hospital-b").host, "127.0.0.1");
  EXPECT_EQ(c->p2p_dial.at("hospital-b").port, 41002);
  EXPECT_EQ(c->p2p_dial.at("hospital c").port, 41003);
}

TEST(P2pDialConfig, AbsentMeansNoOverride) {
  auto c = parse_node_config(kBase, "/x/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->p2p_dial.empty());
}

void expect_refused(const std::string& extra, const std::string& fragment) {
  auto c = parse_node_config(kBase + extra, "/x/node.toml");
  ASSERT_FALSE(c.ok()) << "accepted: " << extra;
  EXPECT_NE(c.error().message.find(fragment), std::string::npos) << c.error().message;
}

TEST(P2pDialConfig, RefusesMalformedEntriesNamingThem) {
  expect_refused("[p2p.dial]\nhospital-b = \"127.0.0.1\"\n", "p2p.dial.hospital-b");
  expect_refused("[p2p.dial]\nhospital-b = \"127.0.0.1:0\"\n", "p2p.dial.hospital-b");
  expect_refused("[p2p.dial]\nhospital-b = 41002\n", "p2p.dial.hospital-b");
  expect_refused("[p2p]\ndial = \"127.0.0.1:1\"\n", "p2p.dial");
  expect_refused("p2p = 3\n", "'p2p'");
  expect_refused("[p2p]\ndail = {}\n", "p2p.dail");
}

TEST(P2pDialConfig, RefusesAnOverlongNameAndTooManyEntries) {
  expect_refused("[p2p.dial]\n" + std::string(200, 'x') + " = \"127.0.0.1:1\"\n", "characters");
  std::string many = "[p2p.dial]\n";
  for (int i = 0; i < 1025; ++i) many += "m" + std::to_string(i) + " = \"127.0.0.1:1\"\n";
  expect_refused(many, "at most 1024");
}

}  // namespace
}  // namespace baton::api
