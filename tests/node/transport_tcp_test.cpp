// TcpTransport over real loopback TCP: sessions between transports, restarts,
// and misbehaving clients (raw POSIX sockets speaking as much of the protocol
// as each test needs).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <random>

#include "node/frame.h"
#include "node/handshake.h"
#include "node/secure_channel.h"
#include "node/transport_tcp.h"
#include "tests/support/test_support.h"

namespace baton::node {
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

void start(Member& m, const std::vector<Member*>& all, TransportLimits limits = fast_limits()) {
  TcpTransportOptions o;
  o.chain_id = kChainId;
  o.genesis_hash = kGenesis;
  o.members = addresses(all);
  o.listen_host = "127.0.0.1";
  o.listen_port = m.port;
  o.limits = limits;
  m.transport = std::make_unique<TcpTransport>(m.key, o);
  const Status s = m.transport->start(m.recorder);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(m.transport->listen_port(), m.port);
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

// A blocking loopback client for speaking (or mangling) the protocol by hand.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{0, 200 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool ok() const { return connected_; }

  void write(chain::ByteView bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server hung up; the test checks that elsewhere
      at += static_cast<std::size_t>(n);
    }
  }

  // Reads exactly n bytes, waiting up to `timeout`.
  std::optional<chain::Bytes> read_exact(std::size_t n, std::chrono::milliseconds timeout = 3s) {
    chain::Bytes out(n);
    std::size_t at = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (at < n && std::chrono::steady_clock::now() < deadline) {
      const ssize_t r = ::recv(fd_, out.data() + at, n - at, 0);
      if (r == 0) return std::nullopt;
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return std::nullopt;
      if (r > 0) at += static_cast<std::size_t>(r);
    }
    if (at < n) return std::nullopt;
    return out;
  }

  std::optional<chain::Bytes> read_frame() {
    auto prefix = read_exact(4);
    if (!prefix) return std::nullopt;
    const std::uint32_t n = (std::uint32_t{(*prefix)[0]} << 24) |
                            (std::uint32_t{(*prefix)[1]} << 16) |
                            (std::uint32_t{(*prefix)[2]} << 8) | (*prefix)[3];
    return read_exact(n);
  }

  // True once the server has closed the connection (EOF or reset), reading
  // and discarding whatever it sent before.
  bool closed_by_server(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::uint8_t buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r == 0) return true;
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    }
    return false;
  }

  // Runs the handshake as `key`; returns the session keys, or nullopt when
  // the server refused (closed) or sent something unexpected.
  std::optional<SessionKeys> handshake(const SigningKey& key, const std::vector<PeerId>& members) {
    HandshakeOptions o;
    o.chain_id = kChainId;
    o.genesis_hash = kGenesis;
    o.members = {members.begin(), members.end()};
    Handshake hs(key, chain::X25519SecretKey::generate(), HandshakeRole::initiator, o);
    write(encode_frame(hs.hello()));
    auto server_hello = read_frame();
    if (!server_hello) return std::nullopt;
    HandshakeStep step = hs.on_message(*server_hello);
    if (!step.send) return std::nullopt;
    write(encode_frame(*step.send));
    auto server_auth = read_frame();
    if (!server_auth) return std::nullopt;
    step = hs.on_message(*server_auth);
    if (!step.done) return std::nullopt;
    return step.done->keys;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

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
    RawClient garbage(a.port);
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

TEST(TcpTransport, RateLimitsProblemReports) {
  Member a;
  std::vector<Member*> all{&a};
  TransportLimits limits = fast_limits();
  limits.problems_per_second = 2;  // bursts of 4
  start(a, all, limits);
  for (int i = 0; i < 30; ++i) {
    RawClient garbage(a.port);
    garbage.write(chain::Bytes{0xff, 0xff, 0xff, 0xff});
    ASSERT_TRUE(garbage.closed_by_server());
  }
  const auto problems = a.recorder.problems();
  // 30 drops in well under the time it takes to earn 26 more tokens.
  EXPECT_LT(problems.size(), 30u);
  EXPECT_GE(problems.size(), 1u);
  // The next report after a quiet spell carries the count held back.
  std::this_thread::sleep_for(1000ms);
  RawClient last(a.port);
  last.write(chain::Bytes{0xff, 0xff, 0xff, 0xff});
  ASSERT_TRUE(last.closed_by_server());
  ASSERT_TRUE(wait_until([&] { return a.recorder.problems().size() > problems.size(); }, 2s));
  EXPECT_GT(a.recorder.problems().back().suppressed, 0u);
}

TEST(TcpTransport, OversizedLengthPrefixDropsTheConnection) {
  Member a;
  std::vector<Member*> all{&a};
  start(a, all);
  RawClient c(a.port);
  c.write(chain::Bytes{0x7f, 0xff, 0xff, 0xff});
  EXPECT_TRUE(c.closed_by_server());
  ASSERT_TRUE(wait_until([&] { return a.recorder.has_problem(DisconnectReason::oversized_frame); },
                         2s));
}

TEST(TcpTransport, RefusesAHandshakeFromAnUnknownKey) {
  Member a, b;
  std::vector<Member*> all{&a, &b};
  start(a, all);
  const SigningKey stranger = SigningKey::generate();
  RawClient c(a.port);
  EXPECT_FALSE(c.handshake(stranger, {a.id(), stranger.public_key()}));
  EXPECT_TRUE(c.closed_by_server());
  ASSERT_TRUE(wait_until(
      [&] { return a.recorder.has_problem(DisconnectReason::handshake_refused); }, 2s));
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
  RawClient c(a.port);
  auto keys = c.handshake(b.key, {a.id(), b.id()});
  ASSERT_TRUE(keys);
  FrameSealer sealer(keys->send);
  chain::Bytes wire;
  sealer.seal(EnvelopeKind::message, text("genuine"), wire);
  c.write(wire);
  ASSERT_TRUE(wait_until([&] { return a.recorder.got(b.id(), "genuine"); }, 5s));
  chain::Bytes bad;
  sealer.seal(EnvelopeKind::message, text("tampered"), bad);
  bad[6] ^= 0x20;
  c.write(bad);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_TRUE(wait_until(
      [&] { return a.recorder.has_problem(DisconnectReason::not_authentic); }, 2s));
  EXPECT_FALSE(a.recorder.got(b.id(), "tampered"));
  EXPECT_TRUE(wait_until([&] { return a.recorder.net_sessions(b.id()) == 0; }, 2s));
}

TEST(TcpTransport, DropsAPeerWhoseMessageTheNodeFindsInvalid) {
  Member a, b;
  b.dialable = false;
  std::vector<Member*> all{&a, &b};
  start(a, all);
  RawClient c(a.port);
  auto keys = c.handshake(b.key, {a.id(), b.id()});
  ASSERT_TRUE(keys);
  FrameSealer sealer(keys->send);
  chain::Bytes wire;
  sealer.seal(EnvelopeKind::message, text("invalid"), wire);  // Recorder says disconnect
  c.write(wire);
  EXPECT_TRUE(c.closed_by_server());
  ASSERT_TRUE(wait_until(
      [&] { return a.recorder.has_problem(DisconnectReason::invalid_message); }, 2s));
}

TEST(TcpTransport, DropsAClientThatDoesNotFinishTheHandshake) {
  Member a;
  std::vector<Member*> all{&a};
  TransportLimits limits = fast_limits();
  limits.handshake_timeout = 300ms;
  start(a, all, limits);
  RawClient c(a.port);
  ASSERT_TRUE(c.read_frame());  // the server's hello; we say nothing
  EXPECT_TRUE(c.closed_by_server(3s));
  EXPECT_TRUE(wait_until(
      [&] { return a.recorder.has_problem(DisconnectReason::handshake_timeout); }, 2s));
}

TEST(TcpTransport, DisconnectsAPeerThatDoesNotRead) {
  Member a, b;
  b.dialable = false;
  std::vector<Member*> all{&a, &b};
  TransportLimits limits = fast_limits();
  limits.send_queue_messages = 8;
  limits.idle_timeout = 30s;
  start(a, all, limits);
  RawClient c(a.port);
  ASSERT_TRUE(c.handshake(b.key, {a.id(), b.id()}));
  ASSERT_TRUE(wait_until([&] { return connected(a, b.id()); }, 5s));
  const chain::Bytes big(1u << 20, 0x55);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(a.transport->send(b.id(), big));
  EXPECT_TRUE(wait_until(
      [&] { return a.recorder.has_problem(DisconnectReason::send_queue_full); }, 10s));
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

}  // namespace
}  // namespace baton::node
