// Garbage on a real batond's P2P port: each bad connection is dropped and the
// network keeps committing.
#include <gtest/gtest.h>

#include "chain/crypto.h"
#include "tests/integration/testnet.h"
#include "p2p/transport.h"  // p2p_client.h uses PeerId
#include "tests/p2p/p2p_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using p2p::testing::P2pClient;
using testing::wait_until;

TEST(Network, DropsGarbageOnThePeerPortAndKeepsCommitting) {
  Testnet net(4);
  ASSERT_TRUE(net.ok()) << net.error();
  // node4 is down, so its key is free for a handshake as a genesis member.
  ASSERT_TRUE(net.stop(3, /*kill=*/true));
  const std::uint16_t port = net.p2p_port(0);
  std::vector<p2p::PeerId> members;
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

// Listens on 127.0.0.1:port (a member's address while that member is down)
// and answers every connection with `hello` until destroyed.
class HostileMember {
 public:
  HostileMember(std::uint16_t port, chain::Bytes hello) : frame_(p2p::encode_frame(hello)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    timeval tv{0, 200 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);  // accept() wakes up to stop
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ =
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 8) == 0;
    if (ok_) thread_ = std::thread([this] { serve(); });
  }
  ~HostileMember() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  int answered() const { return answered_.load(); }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      (void)::send(c, frame_.data(), frame_.size(), MSG_NOSIGNAL);
      timeval rt{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof rt);
      char buf[4096];
      while (::recv(c, buf, sizeof buf, 0) > 0) {
      }
      ::close(c);
      ++answered_;
    }
  }
  chain::Bytes frame_;
  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

TEST(Network, AHostileChainIdInAHandshakeNeitherForgesLogLinesNorBreaksStatus) {
  Testnet net(2);
  ASSERT_TRUE(net.ok()) << net.error();
  ASSERT_TRUE(net.stop(1, /*kill=*/true));
  const std::string hostile =
      std::string("evil\nWARN forged line\x1b[2J\x1b[31m") + "\xff\xfe\xc0" + '\0' + "end";
  p2p::HelloMessage hello;
  hello.genesis_hash = net.genesis_hash();
  hello.identity = net.keys(1).signing.public_key();
  hello.ephemeral = chain::X25519SecretKey::generate().public_key();
  hello.chain_id = hostile;
  const chain::Bytes hello_bytes = p2p::encode_hello(hello);

  {  // inbound: a stranger dials node1 with it
    P2pClient c(net.p2p_port(0));
    ASSERT_TRUE(c.ok());
    c.write(p2p::encode_frame(hello_bytes));
    EXPECT_TRUE(c.closed_by_server());
  }
  // outbound: node1 redials node2's address, where the attacker now listens
  HostileMember attacker(net.p2p_port(1), hello_bytes);
  ASSERT_TRUE(attacker.ok()) << "cannot listen on node2's address";

  std::optional<nlohmann::json> st;
  std::string last_error;
  ASSERT_TRUE(wait_until(
      [&] {
        st = net.status(0);  // nullopt unless 200 and valid JSON
        if (!st) return false;
        for (const auto& p : (*st)["peers"]) {
          if (p.value("name", "") == "node2") last_error = p.value("last_error", "");
        }
        return last_error.find("chain id mismatch") != std::string::npos;
      },
      20s))
      << "status: " << (st ? st->dump() : "no valid 200 answer") << " last_error: " << last_error;
  EXPECT_GT(attacker.answered(), 0);
  for (unsigned char ch : last_error) {
    ASSERT_TRUE(ch >= 0x20 && ch < 0x7f) << "unescaped byte " << int(ch) << " in " << last_error;
  }
  EXPECT_NE(last_error.find("evil\\x0aWARN forged line\\x1b[2J"), std::string::npos) << last_error;
  auto metrics = api::HttpClient::connect_to(net.nodes()[0].admin_url);
  EXPECT_EQ((*metrics)->get("/metrics")->status, 200);

  // The log has the refusals, escaped: no forged line, no terminal escape.
  const std::string log = testing::read_text(net.nodes()[0].data_dir.parent_path() / "batond.log");
  EXPECT_NE(log.find("evil\\x0aWARN forged line"), std::string::npos);
  EXPECT_EQ(log.find("\nWARN forged line"), std::string::npos);
  EXPECT_EQ(log.find('\x1b'), std::string::npos);
  EXPECT_EQ(log.find('\xff'), std::string::npos);
}

}  // namespace
}  // namespace baton::integration
