#include "node/block_sync.h"

#include <gtest/gtest.h>

namespace baton::node {
namespace {

chain::PublicKey key(std::uint8_t b) {
  chain::PublicKey k;
  k.bytes.fill(b);
  return k;
}

TEST(BlockSync, RequestsNothingWhenNoPeerIsAhead) {
  BlockSync s;
  s.on_peer_height(key(1), 10);
  EXPECT_FALSE(s.next_request(10, 0).has_value());
  EXPECT_FALSE(s.next_request(11, 0).has_value());
}

TEST(BlockSync, AsksAPeerThatIsAheadFromTheNextHeightInBatches) {
  BlockSync s(BlockSyncOptions{.batch = 8, .request_timeout_ms = 1000});
  s.on_peer_height(key(1), 100);
  auto r = s.next_request(10, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->peer, key(1));
  EXPECT_EQ(r->from_height, 11u);
  EXPECT_EQ(r->max_count, 8u);
}

TEST(BlockSync, KeepsOneRequestInFlightUntilAnsweredOrTimedOut) {
  BlockSync s(BlockSyncOptions{.batch = 8, .request_timeout_ms = 1000});
  s.on_peer_height(key(1), 100);
  s.on_peer_height(key(2), 100);
  auto first = s.next_request(10, 0);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(s.next_request(10, 500).has_value());
  auto retry = s.next_request(10, 1500);  // timed out: another peer
  ASSERT_TRUE(retry.has_value());
  EXPECT_NE(retry->peer, first->peer);
  s.on_response(retry->peer);
  EXPECT_TRUE(s.next_request(18, 1600).has_value());
}

TEST(BlockSync, LearnsHeightsFromConsensusMessagesAndForgetsDisconnectedPeers) {
  BlockSync s;
  s.on_peer_at_least(key(3), 5);
  EXPECT_EQ(s.best_peer_height(), 5u);
  auto r = s.next_request(2, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->max_count, 3u);  // only what the peer has
  s.on_peer_disconnected(key(3));
  EXPECT_FALSE(s.in_flight());
  EXPECT_EQ(s.best_peer_height(), 0u);
}

}  // namespace
}  // namespace baton::node
