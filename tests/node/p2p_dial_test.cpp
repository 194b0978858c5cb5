// [p2p.dial] applied to the transport's options and checked against the
// genesis (issue 18).
#include <gtest/gtest.h>

#include "chain/keys.h"
#include "node/node_options.h"

namespace baton::node {
namespace {

struct Net {
  std::vector<chain::MemberSecretKeys> keys;
  std::unique_ptr<chain::ChainSpec> spec;
  Net() {
    chain::Genesis g;
    g.chain_id = "dial-test";
    g.genesis_time_unix_ms = 1'700'000'000'000;
    for (int i = 0; i < 3; ++i) {
      keys.push_back(chain::generate_member_keys("m" + std::to_string(i)));
      chain::GenesisMember m;
      m.name = keys.back().name;
      m.ed25519 = keys.back().signing.public_key();
      m.x25519 = keys.back().x25519.public_key();
      m.p2p_address = "10.0.0." + std::to_string(i + 1) + ":26656";
      m.power = 1;
      m.roles = {"validator"};
      g.members.push_back(m);
    }
    auto s = chain::load_chain_spec(chain::encode_genesis(g));
    EXPECT_TRUE(s.ok()) << s.error().message;
    spec = std::make_unique<chain::ChainSpec>(std::move(s).value());
  }
  api::NodeConfig config(std::map<std::string, api::HostPort, std::less<>> dial) const {
    api::NodeConfig c;
    c.name = "m0";
    c.config_path = "/x/node.toml";
    c.p2p_dial = std::move(dial);
    return c;
  }
};

TEST(P2pDial, DialsTheOverrideInsteadOfTheGenesisAddress) {
  Net net;
  const auto cfg = net.config({{"m1", {"127.0.0.1", 41002}}});
  ASSERT_TRUE(check_p2p_dial(*net.spec, cfg).ok());
  std::vector<std::string> warnings;
  const auto opts = tcp_transport_options(*net.spec, net.spec->genesis.members, cfg,
                                          net.keys[0].signing.public_key(), warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(opts.members.size(), 3u);
  for (const auto& m : opts.members) {
    if (m.key == net.keys[1].signing.public_key()) {
      EXPECT_EQ(m.host, "127.0.0.1");
      EXPECT_EQ(m.port, 41002);
    } else if (m.key == net.keys[2].signing.public_key()) {
      EXPECT_EQ(m.host, "10.0.0.3");  // no override: the genesis address
      EXPECT_EQ(m.port, 26656);
    }
  }
}

TEST(P2pDial, RefusesANameThatIsNoGenesisMember) {
  Net net;
  auto s = check_p2p_dial(*net.spec, net.config({{"m9", {"127.0.0.1", 1}}}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("'m9'"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("no member"), std::string::npos) << s.error().message;
}

TEST(P2pDial, RefusesAnEntryForThisNodeItself) {
  Net net;
  auto s = check_p2p_dial(*net.spec, net.config({{"m0", {"127.0.0.1", 1}}}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("itself"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace baton::node
