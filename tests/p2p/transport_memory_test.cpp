// MemoryTransport: the in-process Transport that tests of the layers above use.
#include <gtest/gtest.h>

#include "p2p/transport_memory.h"

namespace baton::p2p {
namespace {

PeerId id(std::uint8_t n) {
  PeerId p;
  p.bytes.fill(n);
  return p;
}

class Log final : public TransportListener {
 public:
  MessageVerdict on_message(const PeerId& from, chain::ByteView message) override {
    std::string text(message.begin(), message.end());
    events.push_back("msg " + std::to_string(from.bytes[0]) + " " + text);
    return text == "invalid" ? MessageVerdict::disconnect : MessageVerdict::accept;
  }
  void on_peer_connected(const PeerId& peer) override {
    events.push_back("up " + std::to_string(peer.bytes[0]));
  }
  void on_peer_disconnected(const PeerId& peer, DisconnectReason reason) override {
    events.push_back("down " + std::to_string(peer.bytes[0]) + " " + to_string(reason));
  }
  std::vector<std::string> events;
};

chain::Bytes text(std::string_view s) { return {s.begin(), s.end()}; }

TEST(MemoryTransport, StartedEndpointsConnectAndDeliverInOrder) {
  MemoryNetwork net;
  auto a = net.endpoint(id(1));
  auto b = net.endpoint(id(2));
  Log la, lb;
  ASSERT_TRUE(a->start(la).ok());
  ASSERT_TRUE(b->start(lb).ok());
  EXPECT_TRUE(a->send(id(2), text("one")));
  EXPECT_TRUE(a->send(id(2), text("two")));
  EXPECT_TRUE(b->broadcast(text("all")));
  net.run_until_idle();
  EXPECT_EQ(lb.events, (std::vector<std::string>{"up 1", "msg 1 one", "msg 1 two"}));
  EXPECT_EQ(la.events, (std::vector<std::string>{"up 2", "msg 2 all"}));
  ASSERT_EQ(a->peers().size(), 1u);
  EXPECT_EQ(a->peers()[0].state, PeerState::connected);
}

TEST(MemoryTransport, PartitionDropsMessagesUntilHealed) {
  MemoryNetwork net;
  auto a = net.endpoint(id(1));
  auto b = net.endpoint(id(2));
  Log la, lb;
  ASSERT_TRUE(a->start(la).ok());
  ASSERT_TRUE(b->start(lb).ok());
  a->send(id(2), text("lost in flight"));
  net.partition(id(1), id(2));
  a->send(id(2), text("lost while cut"));
  net.run_until_idle();
  EXPECT_EQ(lb.events, (std::vector<std::string>{"up 1", "down 1 I/O error"}));
  EXPECT_EQ(a->peers()[0].state, PeerState::disconnected);
  net.heal(id(1), id(2));
  a->send(id(2), text("after heal"));
  net.run_until_idle();
  EXPECT_EQ(lb.events.back(), "msg 1 after heal");
}

TEST(MemoryTransport, InvalidMessageResetsTheSession) {
  MemoryNetwork net;
  auto a = net.endpoint(id(1));
  auto b = net.endpoint(id(2));
  Log la, lb;
  ASSERT_TRUE(a->start(la).ok());
  ASSERT_TRUE(b->start(lb).ok());
  a->send(id(2), text("invalid"));
  a->send(id(2), text("dropped with the session"));
  net.run_until_idle();
  EXPECT_EQ(lb.events,
            (std::vector<std::string>{"up 1", "msg 1 invalid", "down 1 invalid message", "up 1"}));
}

TEST(MemoryTransport, StoppedEndpointReceivesNothing) {
  MemoryNetwork net(10);
  auto a = net.endpoint(id(1));
  auto b = net.endpoint(id(2));
  Log la, lb;
  ASSERT_TRUE(a->start(la).ok());
  ASSERT_TRUE(b->start(lb).ok());
  net.run_until_idle();
  EXPECT_FALSE(a->send(id(2), chain::Bytes(11)));  // over the network's limit
  a->send(id(2), text("late"));
  b->stop();
  net.run_until_idle();
  EXPECT_EQ(lb.events, (std::vector<std::string>{"up 1"}));
  EXPECT_EQ(la.events.back(), "down 2 closed by peer");
  EXPECT_TRUE(a->peers().empty());
}

}  // namespace
}  // namespace baton::p2p
