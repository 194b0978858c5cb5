// TcpTransport over real loopback TCP: sessions between transports, restarts,
// and misbehaving clients (raw POSIX sockets speaking as much of the protocol
// as each test needs).
#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <random>

#include "p2p/frame.h"
#include "p2p/handshake.h"
#include "p2p/secure_channel.h"
#include "p2p/transport_tcp.h"
#include "tests/p2p/p2p_client.h"
#include "tests/support/test_support.h"

namespace baton::p2p {
namespace {

using namespace std::chrono_literals;
using baton::testing::free_port;
using baton::testing::wait_until;
using chain::SigningKey;

const chain::Hash kGenesis = chain::sha256(std::string_view("tcp transport test genesis"));
constexpr const char* kChainId = "test-chain";

class Recorder final : public TransportListener {
 public:
  MessageVerdict on_message(const PeerId& from, chain::ByteView message) override {
    std::lock_guard lock(mutex_);
    std::string text(message.begin(), message.end());
    messages_.emplace_back(from, text);
    return text == "invalid" ? MessageVerdict::disconnect : MessageVerdict::accept;
  }
  void on_peer_connected(const PeerId& peer) override {
    std::lock_guard lock(mutex_);
    ++net_sessions_[peer];
  }
  void on_peer_disconnected(const PeerId& peer, DisconnectReason) override {
    std::lock_guard lock(mutex_);
    --net_sessions_[peer];
  }
  void on_problem(const TransportProblem& problem) override {
    std::lock_guard lock(mutex_);
    problems_.push_back(problem);
  }

  std::vector<std::string> from(const PeerId& peer) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [p, text] : messages_) {
      if (p == peer) out.push_back(text);
    }
    return out;
  }
  bool got(const PeerId& peer, const std::string& text) const {
    for (const auto& t : from(peer)) {
      if (t == text) return true;
    }
    return false;
  }
  int net_sessions(const PeerId& peer) const {
    std::lock_guard lock(mutex_);
    auto it = net_sessions_.find(peer);
    return it == net_sessions_.end() ? 0 : it->second;
  }
  std::vector<TransportProblem> problems() const {
    std::lock_guard lock(mutex_);
    return problems_;
  }
  bool has_problem(DisconnectReason reason) const {
    for (const auto& p : problems()) {
      if (p.reason == reason) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<PeerId, std::string>> messages_;
  std::map<PeerId, int> net_sessions_;
  std::vector<TransportProblem> problems_;
};

TransportLimits fast_limits() {
  TransportLimits l;
  l.handshake_timeout = 2000ms;
  l.dial_timeout = 1000ms;
  l.backoff_initial = 20ms;
  l.backoff_max = 300ms;
  l.keepalive_interval = 200ms;
  l.idle_timeout = 3000ms;
  l.problems_per_second = 1000;
  return l;
}

// A member of the test network: its key, its port, and (when running) a
// transport with a recorder.
struct Member {
  SigningKey key = SigningKey::generate();
  std::uint16_t port = static_cast<std::uint16_t>(free_port());
  bool dialable = true;
  Recorder recorder;
  std::unique_ptr<TcpTransport> transport;

  const PeerId& id() const { return key.public_key(); }
};

std::vector<MemberAddress> addresses(const std::vector<Member*>& members) {
  std::vector<MemberAddress> out;
  for (const Member* m : members) {
    out.push_back(m->dialable ? MemberAddress{m->id(), "127.0.0.1", m->port}
                              : MemberAddress{m->id(), "", 0});
  }
  return out;
}

void start_with(Member& m, std::vector<MemberAddress> members,
                TransportLimits limits = fast_limits()) {
  TcpTransportOptions o;
  o.chain_id = kChainId;
  o.genesis_hash = kGenesis;
  o.members = std::move(members);
  o.listen_host = "127.0.0.1";
  o.listen_port = m.port;
  o.limits = limits;
  m.transport = std::make_unique<TcpTransport>(m.key, o);
  const Status s = m.transport->start(m.recorder);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(m.transport->listen_port(), m.port);
}

void start(Member& m, const std::vector<Member*>& all, TransportLimits limits = fast_limits()) {
  start_with(m, addresses(all), limits);
}

bool connected(const Member& m, const PeerId& peer) {
  if (!m.transport) return false;
  for (const PeerInfo& p : m.transport->peers()) {
    if (p.key == peer) return p.state == PeerState::connected;
  }
  return false;
}

bool all_connected(const std::vector<Member*>& all) {
  for (const Member* a : all) {
    for (const Member* b : all) {
      if (a != b && !connected(*a, b->id())) return false;
    }
  }
  return true;
}

chain::Bytes text(std::string_view s) { return {s.begin(), s.end()}; }

// Handshake as `key` on the test chain.
std::optional<SessionKeys> handshake(testing::P2pClient& c, const SigningKey& key,
                                     const std::vector<PeerId>& members) {
  return c.handshake(key, kChainId, kGenesis, members);
}

TEST(TcpTransport, ThreeMembersConnectAndExchangeMessagesInOrder) {
  Member a, b, c;
  std::vector<Member*> all{&a, &b, &c};
  for (Member* m : all) start(*m, all);
  ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));

  EXPECT_TRUE(a.transport->send(b.id(), text("a to b")));
  EXPECT_TRUE(c.transport->broadcast(text("c to all")));
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(b.transport->send(a.id(), text(std::to_string(i))));
  ASSERT_TRUE(wait_until([&] { return b.recorder.got(a.id(), "a to b"); }, 5s));
  ASSERT_TRUE(wait_until([&] { return a.recorder.got(c.id(), "c to all"); }, 5s));
  ASSERT_TRUE(wait_until([&] { return b.recorder.got(c.id(), "c to all"); }, 5s));
  ASSERT_TRUE(wait_until([&] { return a.recorder.from(b.id()).size() == 500; }, 5s));
  const auto got = a.recorder.from(b.id());
  for (int i = 0; i < 500; ++i) ASSERT_EQ(got[i], std::to_string(i));
  EXPECT_FALSE(c.recorder.got(c.id(), "c to all"));  // never to itself
  EXPECT_EQ(a.transport->peers().size(), 2u);        // members other than us
}

TEST(TcpTransport, KeepsOneSessionPerPairWhenBothSidesDial) {
  for (int round = 0; round < 3; ++round) {
    Member a, b;
    std::vector<Member*> all{&a, &b};
    start(a, all);
    start(b, all);
    ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));
    std::this_thread::sleep_for(300ms);  // let any duplicate settle
    ASSERT_TRUE(all_connected(all));
    EXPECT_EQ(a.recorder.net_sessions(b.id()), 1);
    EXPECT_EQ(b.recorder.net_sessions(a.id()), 1);
    // Both ends kept the same connection: it carries traffic both ways.
    ASSERT_TRUE(a.transport->send(b.id(), text("ping")));
    ASSERT_TRUE(b.transport->send(a.id(), text("pong")));
    EXPECT_TRUE(wait_until([&] { return b.recorder.got(a.id(), "ping"); }, 5s));
    EXPECT_TRUE(wait_until([&] { return a.recorder.got(b.id(), "pong"); }, 5s));
  }
}

TEST(TcpTransport, ReconnectsAfterAPeerRestarts) {
  Member a, b;
  b.dialable = false;  // only B dials, so the reconnect is B's doing after restart
  std::vector<Member*> all{&a, &b};
  start(a, all);
  start(b, all);
  ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));

  a.transport.reset();  // A goes away; B keeps redialling with backoff
  ASSERT_TRUE(wait_until([&] { return !connected(b, a.id()); }, 5s));
  EXPECT_EQ(b.recorder.net_sessions(a.id()), 0);
  std::this_thread::sleep_for(300ms);  // a few failed dials
  start(a, all);
  ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));
  ASSERT_TRUE(b.transport->send(a.id(), text("after restart")));
  EXPECT_TRUE(wait_until([&] { return a.recorder.got(b.id(), "after restart"); }, 5s));
  EXPECT_EQ(b.recorder.net_sessions(a.id()), 1);
}

TEST(TcpTransport, ReconnectsAfterARestartWhenBothSidesDial) {
  Member a, b, c;
  std::vector<Member*> all{&a, &b, &c};
  for (Member* m : all) start(*m, all);
  ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));
  b.transport.reset();
  ASSERT_TRUE(wait_until([&] { return !connected(a, b.id()) && !connected(c, b.id()); }, 5s));
  start(b, all);
  ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));
  std::this_thread::sleep_for(300ms);  // let any duplicate settle
  ASSERT_TRUE(all_connected(all));
  EXPECT_EQ(a.recorder.net_sessions(b.id()), 1);
  EXPECT_EQ(c.recorder.net_sessions(b.id()), 1);
  ASSERT_TRUE(b.transport->broadcast(text("back")));
  EXPECT_TRUE(wait_until([&] { return a.recorder.got(b.id(), "back"); }, 5s));
  EXPECT_TRUE(wait_until([&] { return c.recorder.got(b.id(), "back"); }, 5s));
}

TEST(TcpTransport, KeepalivesHoldAQuietSessionOpen) {
  Member a, b;
  std::vector<Member*> all{&a, &b};
  TransportLimits limits = fast_limits();
  limits.keepalive_interval = 100ms;
  limits.idle_timeout = 600ms;
  start(a, all, limits);
  start(b, all, limits);
  ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));
  std::this_thread::sleep_for(300ms);   // let any duplicate settle
  std::this_thread::sleep_for(1500ms);  // no messages, over twice the idle timeout
  EXPECT_TRUE(all_connected(all));
  EXPECT_EQ(a.recorder.net_sessions(b.id()), 1);
  EXPECT_FALSE(a.recorder.has_problem(DisconnectReason::idle_timeout));
}

TEST(TcpTransport, DropsAnAuthenticatedPeerThatFallsSilent) {
  Member a, b;
  b.dialable = false;
  std::vector<Member*> all{&a, &b};
  TransportLimits limits = fast_limits();
  limits.keepalive_interval = 100ms;
  limits.idle_timeout = 500ms;
  start(a, all, limits);
  testing::P2pClient c(a.port);
  ASSERT_TRUE(handshake(c, b.key, {a.id(), b.id()}));  // then sends nothing, not even keepalives
  EXPECT_TRUE(c.closed_by_server(5s));
  EXPECT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::idle_timeout); }, 2s));
}

TEST(TcpTransport, RedialsWithBackoffWhileAPeerIsDown) {
  Member a, b;
  std::vector<Member*> all{&a, &b};
  start(a, all);  // B never starts
  ASSERT_TRUE(wait_until(
      [&] {
        auto peers = a.transport->peers();
        return peers.size() == 1 && peers[0].failed_dials >= 3;
      },
      5s));
  const auto peers = a.transport->peers();
  EXPECT_NE(peers[0].state, PeerState::connected);
  EXPECT_NE(peers[0].last_error.find("connecting 127.0.0.1"), std::string::npos)
      << peers[0].last_error;
}

TEST(TcpTransport, DropsGarbageAndKeepsServingTheGoodPeer) {
  Member a, b;
  std::vector<Member*> all{&a, &b};
  start(a, all);
  start(b, all);
  ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));

  std::mt19937 rng(42);
  for (int i = 0; i < 20; ++i) {
    testing::P2pClient garbage(a.port);
    ASSERT_TRUE(garbage.ok());
    chain::Bytes junk(1000);
    for (auto& x : junk) x = static_cast<std::uint8_t>(rng());
    garbage.write(junk);
    EXPECT_TRUE(garbage.closed_by_server()) << "garbage connection " << i << " stayed open";
  }
  ASSERT_TRUE(b.transport->send(a.id(), text("still here")));
  EXPECT_TRUE(wait_until([&] { return a.recorder.got(b.id(), "still here"); }, 5s));
  EXPECT_TRUE(connected(a, b.id()));
  EXPECT_EQ(a.recorder.net_sessions(b.id()), 1);
}

// The token bucket of p2p/problem_limiter.h (its own tests drive it with a
// fake clock) as a real transport applies it to connections that send
// garbage: bursts of 2 * rate, at most 2 * rate + rate * T reports in T
// seconds, and every drop accounted for in the reports' held-back counts.
// Two rounds of a burst of drops and a quiet spell, so that two reports
// carry held-back counts (a count that is not reset after a report would
// count the first round's drops twice).
TEST(TcpTransport, RateLimitsProblemReports) {
  Member a;
  std::vector<Member*> all{&a};
  TransportLimits limits = fast_limits();
  limits.problems_per_second = 2;  // bursts of 4
  start(a, all, limits);
  const double rate = limits.problems_per_second;
  const auto burst = static_cast<std::size_t>(2 * rate);
  // The bucket holds at most 2 * rate tokens at `t0` (it starts full when the
  // transport is made), so reports seen by now number at most this. Only
  // grows with time: a slow machine loosens it, never fails it.
  const auto t0 = std::chrono::steady_clock::now();
  const auto most_reports_since_t0 = [&] {
    const std::chrono::duration<double> t = std::chrono::steady_clock::now() - t0;
    return static_cast<std::size_t>(2 * rate + rate * t.count());
  };
  const chain::Bytes garbage{0xff, 0xff, 0xff, 0xff};
  constexpr std::size_t kDrops = 30;
  std::size_t drops = 0;
  std::vector<std::size_t> after_quiet;  // the index of each report after a quiet spell
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < kDrops; ++i, ++drops) {
      testing::P2pClient c(a.port);
      c.write(garbage);
      ASSERT_TRUE(c.closed_by_server());
    }
    EXPECT_LE(a.recorder.problems().size(), most_reports_since_t0())
        << "more reports than the bucket allows, round " << round;

    // After a quiet spell the bucket holds tokens again: a drop is reported,
    // carrying the count held back. (Another try if drops of the burst still
    // in flight took the tokens first.)
    std::this_thread::sleep_for(1000ms);
    std::string last_remote;
    for (int attempt = 0; attempt < 3; ++attempt) {
      testing::P2pClient c(a.port);
      last_remote = "127.0.0.1:" + std::to_string(c.local_port());
      c.write(garbage);
      ASSERT_TRUE(c.closed_by_server());
      ++drops;
      if (wait_until(
              [&] {
                return !a.recorder.problems().empty() &&
                       a.recorder.problems().back().remote == last_remote;
              },
              1500ms))
        break;
    }
    const auto problems = a.recorder.problems();
    ASSERT_FALSE(problems.empty());
    ASSERT_EQ(problems.back().remote, last_remote)
        << "the drop after the quiet spell is reported, round " << round;
    after_quiet.push_back(problems.size() - 1);
  }
  const auto problems = a.recorder.problems();
  // The first burst: the bucket was full, so the first 2 * rate drops were
  // reported, with nothing held back before them.
  ASSERT_GE(problems.size(), burst + 2);
  for (std::size_t i = 0; i < burst; ++i) EXPECT_EQ(problems[i].suppressed, 0u) << i;
  // Each burst outran the bucket, so the report after each quiet spell
  // carries drops held back.
  for (std::size_t i : after_quiet) EXPECT_GT(problems[i].suppressed, 0u) << i;
  // The rate: at most 2 * rate + rate * T reports over the whole test (about
  // 10 of the 62 drops here: 60 drops take well under the 26 s that would
  // earn 52 more tokens).
  EXPECT_LE(problems.size(), most_reports_since_t0());
  // Nothing lost, nothing counted twice: each report stands for itself and
  // the drops held back since the report before it, so together they count
  // every drop.
  std::uint64_t accounted = 0;
  for (const auto& p : problems) accounted += 1 + p.suppressed;
  EXPECT_EQ(accounted, drops);
}

TEST(TcpTransport, PortProbesAreNotReportedAsProblems) {
  Member a;
  std::vector<Member*> all{&a};
  start(a, all);
  for (int i = 0; i < 5; ++i) {
    testing::P2pClient probe(a.port);  // connects and closes without a byte
    ASSERT_TRUE(probe.ok());
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(a.recorder.problems().empty());
  testing::P2pClient garbage(a.port);
  garbage.write(chain::Bytes{0xff, 0xff, 0xff, 0xff});
  ASSERT_TRUE(garbage.closed_by_server());
  ASSERT_TRUE(wait_until([&] { return !a.recorder.problems().empty(); }, 2s));
  EXPECT_EQ(a.recorder.problems().size(), 1u);
}

TEST(TcpTransport, OversizedLengthPrefixDropsTheConnection) {
  Member a;
  std::vector<Member*> all{&a};
  start(a, all);
  testing::P2pClient c(a.port);
  c.write(chain::Bytes{0x7f, 0xff, 0xff, 0xff});
  EXPECT_TRUE(c.closed_by_server());
  ASSERT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::oversized_frame); }, 2s));
}

TEST(TcpTransport, RefusesAHandshakeFromAnUnknownKey) {
  Member a, b;
  std::vector<Member*> all{&a, &b};
  start(a, all);
  const SigningKey stranger = SigningKey::generate();
  testing::P2pClient c(a.port);
  EXPECT_FALSE(handshake(c, stranger, {a.id(), stranger.public_key()}));
  EXPECT_TRUE(c.closed_by_server());
  ASSERT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::handshake_refused); }, 2s));
  bool named = false;
  for (const auto& p : a.recorder.problems()) {
    named |= p.detail.find("not a member") != std::string::npos;
  }
  EXPECT_TRUE(named);
}

TEST(TcpTransport, DropsAPeerWhoseFrameWasTampered) {
  Member a, b;
  b.dialable = false;
  std::vector<Member*> all{&a, &b};
  start(a, all);
  testing::P2pClient c(a.port);
  ASSERT_TRUE(handshake(c, b.key, {a.id(), b.id()}));
  c.send_message(text("genuine"));
  ASSERT_TRUE(wait_until([&] { return a.recorder.got(b.id(), "genuine"); }, 5s));
  chain::Bytes bad = c.seal(text("tampered"));
  bad[6] ^= 0x20;
  c.write(bad);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::not_authentic); }, 2s));
  EXPECT_FALSE(a.recorder.got(b.id(), "tampered"));
  EXPECT_TRUE(wait_until([&] { return a.recorder.net_sessions(b.id()) == 0; }, 2s));
}

TEST(TcpTransport, DropsAPeerWhoseMessageTheNodeFindsInvalid) {
  Member a, b;
  b.dialable = false;
  std::vector<Member*> all{&a, &b};
  start(a, all);
  testing::P2pClient c(a.port);
  ASSERT_TRUE(handshake(c, b.key, {a.id(), b.id()}));
  c.send_message(text("invalid"));  // the Recorder answers disconnect
  EXPECT_TRUE(c.closed_by_server());
  ASSERT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::invalid_message); }, 2s));
}

TEST(TcpTransport, DropsAClientThatDoesNotFinishTheHandshake) {
  Member a;
  std::vector<Member*> all{&a};
  TransportLimits limits = fast_limits();
  limits.handshake_timeout = 300ms;
  start(a, all, limits);
  testing::P2pClient c(a.port);
  ASSERT_TRUE(c.read_frame());  // the server's hello; we say nothing
  EXPECT_TRUE(c.closed_by_server(3s));
  EXPECT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::handshake_timeout); }, 2s));
}

TEST(TcpTransport, BoundsUnauthenticatedConnections) {
  Member a, b;
  std::vector<Member*> all{&a, &b};
  TransportLimits limits = fast_limits();
  limits.max_pending_inbound = 2;
  start(a, all, limits);
  testing::P2pClient first(a.port), second(a.port);
  ASSERT_TRUE(first.read_frame());  // both are in the handshake, saying nothing
  ASSERT_TRUE(second.read_frame());
  testing::P2pClient third(a.port);
  EXPECT_TRUE(third.closed_by_server(3s));
  EXPECT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::too_many_pending); }, 2s));
  // A member still gets in once a slot is free.
  first.write(chain::Bytes{0xff, 0xff, 0xff, 0xff});
  ASSERT_TRUE(first.closed_by_server());
  start(b, all);
  EXPECT_TRUE(wait_until([&] { return all_connected(all); }, 10s));
}

TEST(TcpTransport, DisconnectsAPeerThatDoesNotRead) {
  Member a, b;
  b.dialable = false;
  std::vector<Member*> all{&a, &b};
  TransportLimits limits = fast_limits();
  limits.send_queue_messages = 8;
  limits.idle_timeout = 30s;
  start(a, all, limits);
  testing::P2pClient c(a.port);
  ASSERT_TRUE(handshake(c, b.key, {a.id(), b.id()}));
  ASSERT_TRUE(wait_until([&] { return connected(a, b.id()); }, 5s));
  const chain::Bytes big(1u << 20, 0x55);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(a.transport->send(b.id(), big));
  EXPECT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::send_queue_full); }, 10s));
  EXPECT_TRUE(wait_until([&] { return !connected(a, b.id()); }, 5s));
}

TEST(TcpTransport, RefusesToSendMessagesOverTheLimit) {
  Member a;
  std::vector<Member*> all{&a};
  TransportLimits limits = fast_limits();
  limits.max_message_size = 1000;
  start(a, all, limits);
  EXPECT_FALSE(a.transport->send(a.id(), chain::Bytes(1001)));
  EXPECT_FALSE(a.transport->broadcast(chain::Bytes(1001)));
  EXPECT_TRUE(a.transport->broadcast(chain::Bytes(1000)));
}

TEST(TcpTransport, ReportsAPortInUse) {
  Member a;
  std::vector<Member*> all{&a};
  start(a, all);
  TcpTransportOptions o;
  o.chain_id = kChainId;
  o.genesis_hash = kGenesis;
  o.listen_host = "127.0.0.1";
  o.listen_port = a.port;
  TcpTransport second(SigningKey::generate(), o);
  Recorder r;
  const Status s = second.start(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("Cannot listen"), std::string::npos) << s.error().message;
}

// --- members changed at run time (issue 18: membership by vote) ---

std::vector<Member*> without(std::vector<Member*> all, const Member* gone) {
  std::erase(all, gone);
  return all;
}

TEST(TcpTransport, AcceptsAndDialsAMemberAddedAtRunTime) {
  Member a, b, c;
  start(a, {&a, &b});
  start(b, {&a, &b});
  start(c, {&a, &b, &c});
  ASSERT_TRUE(wait_until([&] { return connected(a, b.id()); }, 10s));
  // C dials A and B and is refused while it is no member of theirs.
  ASSERT_TRUE(
      wait_until([&] { return a.recorder.has_problem(DisconnectReason::handshake_refused); }, 5s));
  EXPECT_FALSE(connected(a, c.id()));

  const auto now = addresses({&a, &b, &c});
  a.transport->set_members(now);
  b.transport->set_members(now);
  ASSERT_TRUE(wait_until([&] { return all_connected({&a, &b, &c}); }, 10s));
  EXPECT_EQ(a.transport->peers().size(), 2u);
  ASSERT_TRUE(c.transport->send(a.id(), text("from the newcomer")));
  EXPECT_TRUE(wait_until([&] { return a.recorder.got(c.id(), "from the newcomer"); }, 5s));
}

TEST(TcpTransport, DialsANewMemberThatDoesNotDialItself) {
  Member a, c;
  start(a, {&a});
  // C's list names A without an address: only A can make the session.
  start_with(c, {MemberAddress{a.id(), "", 0}, MemberAddress{c.id(), "127.0.0.1", c.port}});
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(connected(a, c.id()));
  a.transport->set_members(addresses({&a, &c}));
  EXPECT_TRUE(wait_until([&] { return connected(a, c.id()) && connected(c, a.id()); }, 10s));
}

TEST(TcpTransport, DropsAndRefusesAMemberRemovedAtRunTime) {
  Member a, b, c;
  std::vector<Member*> all{&a, &b, &c};
  for (Member* m : all) start(*m, all);
  ASSERT_TRUE(wait_until([&] { return all_connected(all); }, 10s));

  a.transport->set_members(addresses(without(all, &c)));
  ASSERT_TRUE(wait_until([&] { return !connected(c, a.id()); }, 5s));
  EXPECT_EQ(a.transport->peers().size(), 1u);  // only B is listed
  EXPECT_EQ(a.recorder.net_sessions(c.id()), 0);
  // C keeps redialling A (it still lists A) and A refuses every handshake.
  std::this_thread::sleep_for(600ms);
  EXPECT_FALSE(connected(c, a.id()));
  EXPECT_EQ(a.recorder.net_sessions(c.id()), 0);
  EXPECT_TRUE(a.recorder.has_problem(DisconnectReason::handshake_refused));
  // Sends to a member that left go nowhere; the rest of the network is intact.
  EXPECT_TRUE(a.transport->send(c.id(), text("to the leaver")));
  ASSERT_TRUE(a.transport->send(b.id(), text("still here")));
  EXPECT_TRUE(wait_until([&] { return b.recorder.got(a.id(), "still here"); }, 5s));
  EXPECT_FALSE(c.recorder.got(a.id(), "to the leaver"));
}

TEST(TcpTransport, FollowsAMembersReplacedKey) {
  Member a, b;
  start(a, {&a, &b});
  start(b, {&a, &b});
  ASSERT_TRUE(wait_until([&] { return all_connected({&a, &b}); }, 10s));
  // B's operator switches to a new key (and here a new port as well).
  b.transport->stop();
  Member b2;
  start(b2, {&a, &b2});
  a.transport->set_members(addresses({&a, &b2}));
  ASSERT_TRUE(wait_until([&] { return connected(a, b2.id()) && connected(b2, a.id()); }, 10s));
  // The old key is refused from now on.
  testing::P2pClient old_key(a.port);
  EXPECT_FALSE(handshake(old_key, b.key, {a.id(), b.id()}));
}

}  // namespace
}  // namespace baton::p2p
