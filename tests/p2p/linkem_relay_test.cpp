// baton-linkem's relay through real loopback sockets: bytes arrive intact and
// in order under jitter and loss stalls, a cut closes and refuses, a heal
// accepts again, the bounds hold, and the control port answers.
#include <gtest/gtest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio.hpp>
#include <random>
#include <thread>

#include "tools/linkem/relay.h"

namespace baton::linkem {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct Bench {
  asio::io_context io;
  tcp::acceptor target{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::unique_ptr<Relay> relay;

  explicit Bench(LinkProfile profile, std::size_t max_connections = 64) {
    RelayOptions o;
    o.links.push_back(
        {"a>b", {"127.0.0.1", 0}, {"127.0.0.1", target.local_endpoint().port()}, profile});
    o.control = Endpoint{"127.0.0.1", 0};
    o.max_connections_per_link = max_connections;
    relay = std::make_unique<Relay>(std::move(o));
    std::string error;
    EXPECT_TRUE(relay->start(error)) << error;
  }
  tcp::socket dial() {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), relay->link_port(0)));
    return s;
  }
  // The relay's upstream connection, once it arrives (nullopt after `wait`).
  std::optional<tcp::socket> accept_upstream(std::chrono::milliseconds wait) {
    target.non_blocking(true);
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      error_code ec;
      tcp::socket s(io);
      target.accept(s, ec);
      if (!ec) {
        s.non_blocking(false);
        return s;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }
};

std::vector<char> random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<char> out(n);
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

// True when the peer closed (EOF or reset) before sending anything.
bool closed_without_data(tcp::socket& s) {
  char c;
  error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

TEST(LinkemRelay, CarriesBothDirectionsIntactThroughJitterAndLossStalls) {
  Bench b({.delay_ms = 5, .jitter_ms = 5, .loss_ppm = 500'000});
  tcp::socket client = b.dial();
  auto server = b.accept_upstream(std::chrono::seconds(5));
  ASSERT_TRUE(server);
  const auto up = random_bytes(1 << 20, 1), down = random_bytes(1 << 19, 2);
  std::thread writer([&] {
    asio::write(client, asio::buffer(up));
    client.shutdown(tcp::socket::shutdown_send);
  });
  std::thread back([&] { asio::write(*server, asio::buffer(down)); });
  std::vector<char> got_up(up.size()), got_down(down.size());
  asio::read(*server, asio::buffer(got_up));
  asio::read(client, asio::buffer(got_down));
  writer.join();
  back.join();
  EXPECT_EQ(got_up, up);
  EXPECT_EQ(got_down, down);
  // The client's EOF reaches the server after the last byte.
  EXPECT_TRUE(closed_without_data(*server));
  const std::string status = b.relay->control("status");
  EXPECT_NE(status.find("a>b "), std::string::npos) << status;
  EXPECT_EQ(status.find("stalls=0 "), std::string::npos) << status;  // half the chunks stalled
}

TEST(LinkemRelay, ARoundTripTakesAtLeastTwiceTheOneWayDelay) {
  Bench b({.delay_ms = 50});
  tcp::socket client = b.dial();
  auto server = b.accept_upstream(std::chrono::seconds(5));
  ASSERT_TRUE(server);
  const auto start = std::chrono::steady_clock::now();
  char c = 'x';
  asio::write(client, asio::buffer(&c, 1));
  asio::read(*server, asio::buffer(&c, 1));
  asio::write(*server, asio::buffer(&c, 1));
  asio::read(client, asio::buffer(&c, 1));
  // A lower bound only: the relay cannot deliver before the delay.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(LinkemRelay, ACutClosesConnectionsAndRefusesNewOnesUntilHealed) {
  Bench b({});
  tcp::socket before = b.dial();
  auto upstream = b.accept_upstream(std::chrono::seconds(5));
  ASSERT_TRUE(upstream);
  EXPECT_EQ(b.relay->control("cut a>b"), "ok\n");
  EXPECT_TRUE(closed_without_data(before));
  EXPECT_TRUE(closed_without_data(*upstream));

  tcp::socket during = b.dial();  // the listener still accepts, then closes
  EXPECT_TRUE(closed_without_data(during));
  EXPECT_FALSE(b.accept_upstream(std::chrono::milliseconds(200)))
      << "a cut link reached its target";

  EXPECT_EQ(b.relay->control("heal *"), "ok\n");
  tcp::socket after = b.dial();
  auto healed = b.accept_upstream(std::chrono::seconds(5));
  ASSERT_TRUE(healed);
  char c = 'h';
  asio::write(after, asio::buffer(&c, 1));
  c = 0;
  asio::read(*healed, asio::buffer(&c, 1));
  EXPECT_EQ(c, 'h');
  const std::string status = b.relay->control("status");
  EXPECT_NE(status.find("refused=1 "), std::string::npos) << status;
}

TEST(LinkemRelay, RefusesConnectionsBeyondThePerLinkBound) {
  Bench b({}, 2);
  tcp::socket one = b.dial(), two = b.dial();
  ASSERT_TRUE(b.accept_upstream(std::chrono::seconds(5)));
  ASSERT_TRUE(b.accept_upstream(std::chrono::seconds(5)));
  tcp::socket three = b.dial();
  EXPECT_TRUE(closed_without_data(three));
}

TEST(LinkemRelay, TheControlPortAnswersLinesAndRefusesNonsense) {
  Bench b({.delay_ms = 20});
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), b.relay->control_port()));
  asio::streambuf buf;
  auto ask = [&](const std::string& line) {
    asio::write(c, asio::buffer(line + "\n"));
    std::string reply;
    for (;;) {
      asio::read_until(c, buf, '\n');
      std::istream in(&buf);
      std::string l;
      std::getline(in, l);
      reply += l + "\n";
      if (l == "ok" || l.rfind("error: ", 0) == 0) return reply;
    }
  };
  EXPECT_EQ(ask("set a>b delay_ms=300 jitter_ms=10"), "ok\n");
  EXPECT_NE(ask("status").find("delay_ms=300 jitter_ms=10 "), std::string::npos);
  EXPECT_EQ(ask("cut nowhere").rfind("error: no link named nowhere", 0), 0u);
  EXPECT_EQ(ask("reboot").rfind("error: unknown command", 0), 0u);
}

}  // namespace
}  // namespace baton::linkem
