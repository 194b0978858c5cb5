// baton-linkem's packet mode (tools/linkem/packet_switch.h): its per-packet
// schedule, the files it reads and how it reads an IP header. Pure logic;
// the switch itself runs between network namespaces in the Netns instances
// of tests/integration/wan_test.cpp.
#include <gtest/gtest.h>

#include "tools/linkem/link_config.h"
#include "tools/linkem/link_schedule.h"
#include "tools/linkem/packet_switch.h"

namespace baton::linkem {
namespace {

using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(PacketSchedule, OnePercentLossDropsAboutOnePacketInAHundredAndDelaysTheRest) {
  PacketSchedule s;
  std::mt19937_64 rng(11);
  const LinkProfile p{.delay_ms = 20, .loss_ppm = 10'000};
  int lost = 0;
  for (int i = 0; i < 100'000; ++i) {
    const auto arrival = kT0 + milliseconds(i);
    const auto at = s.deliver_at(arrival, 1500, p, rng);
    if (!at) {
      ++lost;
      continue;
    }
    // A delivered packet is never stalled (the endpoints' TCP recovers the
    // lost ones): exactly the delay here, no jitter and no rate cap.
    ASSERT_EQ(*at, arrival + milliseconds(20)) << "packet " << i;
  }
  EXPECT_EQ(static_cast<std::uint64_t>(lost), s.losses());
  EXPECT_GT(lost, 850);  // 1,000 expected; +-5 standard deviations
  EXPECT_LT(lost, 1150);
}

TEST(PacketSchedule, NoLossDeliversEveryPacketInOrderUnderJitter) {
  PacketSchedule s;
  std::mt19937_64 rng(5);
  const LinkProfile p{.delay_ms = 30, .jitter_ms = 20};
  Clock::time_point prev{};
  for (int i = 0; i < 10'000; ++i) {
    const auto at = s.deliver_at(kT0 + std::chrono::microseconds(200 * i), 100, p, rng);
    ASSERT_TRUE(at.has_value());
    ASSERT_GE(*at, prev) << "packet " << i << " overtook the one before it";
    prev = *at;
  }
  EXPECT_EQ(s.losses(), 0u);
}

TEST(PacketSchedule, FullLossDropsEverything) {
  PacketSchedule s;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(s.deliver_at(kT0, 60, {.loss_ppm = kMaxLossPpm}, rng).has_value());
  }
}

TEST(PacketConfig, ParsesPortsAndProfiles) {
  std::string error;
  auto ports = parse_ports(
      "# node NETNS IFNAME ADDRESS\n"
      "a /run/netns/baton-1-1 bt0 10.77.0.1\n"
      "\n"
      "b - tun-b 10.77.0.2   # linkem's own namespace\n",
      error);
  ASSERT_TRUE(ports) << error;
  ASSERT_EQ(ports->size(), 2u);
  EXPECT_EQ((*ports)[0].name, "a");
  EXPECT_EQ((*ports)[0].netns, "/run/netns/baton-1-1");
  EXPECT_EQ((*ports)[0].ifname, "bt0");
  EXPECT_EQ((*ports)[0].address_text(), "10.77.0.1");
  EXPECT_EQ((*ports)[1].netns, "");
  EXPECT_EQ((*ports)[1].ifname, "tun-b");

  auto profiles = parse_profiles("a>b delay_ms=50 jitter_ms=10 loss_pct=1\nb>a\n", error);
  ASSERT_TRUE(profiles) << error;
  ASSERT_EQ(profiles->size(), 2u);
  EXPECT_EQ((*profiles)[0].name, "a>b");
  EXPECT_EQ((*profiles)[0].profile,
            (LinkProfile{.delay_ms = 50, .jitter_ms = 10, .loss_ppm = 10'000}));
  EXPECT_EQ((*profiles)[1].profile, LinkProfile{});
  // No profiles at all: every pair is perfect.
  auto none = parse_profiles("# nothing\n", error);
  ASSERT_TRUE(none) << error;
  EXPECT_TRUE(none->empty());
}

TEST(PacketConfig, RefusesBadPortsAndProfilesNamingTheLine) {
  const auto port_error = [](const std::string& text) {
    std::string error;
    EXPECT_FALSE(parse_ports(text, error)) << text;
    return error;
  };
  EXPECT_EQ(port_error(""), "no ports");
  EXPECT_NE(port_error("a - bt0\n").find("line 1: a port is NAME NETNS IFNAME IPV4"),
            std::string::npos);
  EXPECT_NE(port_error("a>b - bt0 10.0.0.1\n").find("port name"), std::string::npos);
  EXPECT_NE(port_error("a netns bt0 10.0.0.1\n").find("absolute path"), std::string::npos);
  EXPECT_NE(port_error("a - averyveryverylongname 10.0.0.1\n").find("IFNAME"), std::string::npos);
  for (const char* bad :
       {"10.0.0", "10.0.0.256", "10.0.0.1.2", "10.0.00.1", "a.b.c.d", "10..0.1"}) {
    EXPECT_NE(port_error(std::string("a - bt0 ") + bad + "\n").find("not an IPv4 address"),
              std::string::npos)
        << bad;
  }
  EXPECT_NE(port_error("a - bt0 10.0.0.1\nb - bt1 10.0.0.1\n").find("taken by another port"),
            std::string::npos);
  EXPECT_NE(
      port_error("a - bt0 10.0.0.1\na - bt1 10.0.0.2\n").find("line 2: port a is listed twice"),
      std::string::npos);
  std::string many;
  for (int i = 0; i <= static_cast<int>(kMaxPorts); ++i) {
    many += "n" + std::to_string(i) + " - bt0 10.0." + std::to_string(i / 200) + "." +
            std::to_string(i % 200 + 1) + "\n";
  }
  EXPECT_NE(port_error(many).find("more than 64 ports"), std::string::npos);

  std::string error;
  for (const char* bad : {"ab delay_ms=1", ">b", "a>", "a>b>c", "a>b delay_ms=61000", "a>b x=1"}) {
    EXPECT_FALSE(parse_profiles(std::string(bad) + "\n", error)) << bad;
    EXPECT_EQ(error.rfind("line 1: ", 0), 0u) << bad << ": " << error;
  }
  EXPECT_FALSE(parse_profiles("a>b\na>b delay_ms=2\n", error));
  EXPECT_NE(error.find("listed twice"), std::string::npos) << error;
}

TEST(PacketSwitch, ReadsTheDestinationOfWellFormedIpv4HeadersOnly) {
  std::uint8_t packet[40] = {0x45, 0, 0, 40};  // version 4, 20-byte header, 40 bytes in all
  packet[16] = 10;
  packet[17] = 77;
  packet[18] = 0;
  packet[19] = 3;
  auto dst = ipv4_destination(packet, sizeof packet);
  ASSERT_TRUE(dst);
  EXPECT_EQ(*dst, (std::array<std::uint8_t, 4>{10, 77, 0, 3}));
  EXPECT_FALSE(ipv4_destination(packet, 19));  // shorter than a header
  EXPECT_FALSE(ipv4_destination(packet, 39));  // shorter than it says
  packet[0] = 0x60;                            // IPv6
  EXPECT_FALSE(ipv4_destination(packet, sizeof packet));
  packet[0] = 0x44;  // a header of 16 bytes
  EXPECT_FALSE(ipv4_destination(packet, sizeof packet));
  packet[0] = 0x4f;  // 60-byte header in a 40-byte packet
  EXPECT_FALSE(ipv4_destination(packet, sizeof packet));
}

}  // namespace
}  // namespace baton::linkem
