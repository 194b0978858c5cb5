// Garbage on a real batond's P2P port: each bad connection is dropped and the
// network keeps committing.
#include <gtest/gtest.h>

#include "chain/crypto.h"
#include "tests/integration/testnet.h"
#include "node/transport.h"  // p2p_client.h uses PeerId
#include "tests/node/p2p_client.h"

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using node::testing::P2pClient;
using testing::wait_until;

TEST(Network, DropsGarbageOnThePeerPortAndKeepsCommitting) {
  Testnet net(4);
  ASSERT_TRUE(net.ok()) << net.error();
  // node4 is down, so its key is free for a handshake as a genesis member.
  ASSERT_TRUE(net.stop(3, /*kill=*/true));
  const std::uint16_t port = net.p2p_port(0);
  std::vector<node::PeerId> members;
  for (int i = 0; i < 4; ++i) members.push_back(net.keys(i).signing.public_key());

  {  // random bytes
    P2pClient c(port);
    ASSERT_TRUE(c.ok());
    chain::Bytes junk(3000);
    chain::random_bytes(junk);
    junk[0] = 0;  // a small length prefix so the decoder waits for a body, then junk
    junk[1] = 0;
    c.write(junk);
    EXPECT_TRUE(c.closed_by_server()) << "random bytes did not close the connection";
  }
  {  // a length prefix far beyond the limit
    P2pClient c(port);
    ASSERT_TRUE(c.ok());
    const chain::Bytes huge{0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
    c.write(huge);
    EXPECT_TRUE(c.closed_by_server()) << "an oversized length prefix did not close the connection";
  }
  {  // a handshake from a key that is not in the genesis
    P2pClient c(port);
    ASSERT_TRUE(c.ok());
    const auto stranger = chain::SigningKey::generate();
    EXPECT_FALSE(c.handshake(stranger, net.chain_id(), net.genesis_hash(), members).has_value());
    EXPECT_TRUE(c.closed_by_server());
  }
  {  // an authentic frame from a member that holds invalid Protobuf
    P2pClient c(port);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(
        c.handshake(net.keys(3).signing, net.chain_id(), net.genesis_hash(), members).has_value());
    const chain::Bytes not_protobuf{0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    c.send_message(not_protobuf);
    EXPECT_TRUE(c.closed_by_server()) << "invalid Protobuf did not close the connection";
  }
  // The node is up and the three remaining validators still commit.
  std::string why;
  const std::string h = net.submit_note(0, 0, "after garbage", &why);
  ASSERT_FALSE(h.empty()) << why;
  EXPECT_TRUE(wait_until([&] { return net.committed(0, h) && net.committed(1, h); }, 30s));
  auto st = net.status(0);
  ASSERT_TRUE(st.has_value());
  EXPECT_FALSE((*st)["halted"].get<bool>());
}

}  // namespace
}  // namespace baton::integration
