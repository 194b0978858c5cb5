// baton-linkem's delivery schedule and text formats (tools/linkem/): pure
// logic, no sockets, no clock.
#include <gtest/gtest.h>

#include "tools/linkem/link_config.h"
#include "tools/linkem/link_schedule.h"

namespace baton::linkem {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(LinkSchedule, DeliveryIsMonotoneUnderJitterAndStaysAboveTheLowBound) {
  DirectionSchedule s;
  std::mt19937_64 rng(7);
  const LinkProfile p{.delay_ms = 20, .jitter_ms = 15};
  Clock::time_point prev{};
  for (int i = 0; i < 20'000; ++i) {
    const auto arrival = kT0 + microseconds(100 * i);  // far denser than the jitter
    const auto at = s.deliver_at(arrival, 100, p, rng);
    ASSERT_GE(at, prev) << "chunk " << i << " overtook the one before it";
    ASSERT_GE(at, arrival + milliseconds(5)) << "below delay - jitter";
    // Later than delay + jitter only when it waits behind an earlier chunk.
    ASSERT_TRUE(at <= arrival + milliseconds(35) || at == prev) << "chunk " << i;
    prev = at;
  }
}

TEST(LinkSchedule, SpacedChunksGetDelayPlusOrMinusJitterCoveringTheRange) {
  DirectionSchedule s;
  std::mt19937_64 rng(3);
  const LinkProfile p{.delay_ms = 50, .jitter_ms = 10};
  Duration lo = Duration::max(), hi = Duration::min();
  for (int i = 0; i < 2'000; ++i) {
    const auto arrival = kT0 + milliseconds(100 * i);  // spaced beyond 2 * jitter
    const Duration d = s.deliver_at(arrival, 10, p, rng) - arrival;
    ASSERT_GE(d, milliseconds(40));
    ASSERT_LE(d, milliseconds(60));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // The draws spread over the band, not just one value.
  EXPECT_LT(lo, milliseconds(42));
  EXPECT_GT(hi, milliseconds(58));
  EXPECT_EQ(s.stalls(), 0u);
}

TEST(LinkSchedule, JitterLargerThanTheDelayNeverDeliversBeforeArrival) {
  DirectionSchedule s;
  std::mt19937_64 rng(5);
  const LinkProfile p{.delay_ms = 2, .jitter_ms = 10};
  for (int i = 0; i < 1'000; ++i) {
    const auto arrival = kT0 + milliseconds(30 * i);
    ASSERT_GE(s.deliver_at(arrival, 1, p, rng), arrival);
  }
}

TEST(LinkSchedule, ALostChunkIsStalledByTheMinimumRtoPlusTheRoundTrip) {
  DirectionSchedule always, never;
  std::mt19937_64 rng(1);
  const LinkProfile lossy{.delay_ms = 20, .loss_ppm = kMaxLossPpm};
  const LinkProfile clean{.delay_ms = 20};
  for (int i = 0; i < 100; ++i) {
    const auto arrival = kT0 + milliseconds(1000 * i);
    EXPECT_EQ(always.deliver_at(arrival, 10, lossy, rng), arrival + milliseconds(20 + 200 + 40));
    EXPECT_EQ(never.deliver_at(arrival, 10, clean, rng), arrival + milliseconds(20));
  }
  EXPECT_EQ(always.stalls(), 100u);
  EXPECT_EQ(never.stalls(), 0u);
  EXPECT_EQ(loss_stall(lossy), milliseconds(240));
}

TEST(LinkSchedule, OnePercentLossStallsAboutOneChunkInAHundred) {
  DirectionSchedule s;
  std::mt19937_64 rng(11);
  const LinkProfile p{.delay_ms = 1, .loss_ppm = 10'000};
  for (int i = 0; i < 100'000; ++i) s.deliver_at(kT0 + milliseconds(i), 10, p, rng);
  // Binomial(100000, 0.01): mean 1000, sd ~31; a fixed seed, so no flakes.
  EXPECT_GT(s.stalls(), 850u);
  EXPECT_LT(s.stalls(), 1150u);
}

TEST(LinkSchedule, ARateCapSerialisesChunksBehindEachOther) {
  DirectionSchedule s;
  std::mt19937_64 rng(1);
  const LinkProfile p{.delay_ms = 5, .rate_bytes_s = 1'000'000};
  for (int i = 1; i <= 10; ++i) {
    // Ten 10 kB chunks arriving together: 10 ms each at 1 MB/s.
    EXPECT_EQ(s.deliver_at(kT0, 10'000, p, rng), kT0 + milliseconds(10 * i + 5));
  }
  // An idle link starts from the arrival again.
  const auto later = kT0 + std::chrono::seconds(10);
  EXPECT_EQ(s.deliver_at(later, 1'000, p, rng), later + milliseconds(1 + 5));
}

TEST(LinkSchedule, LoweringTheDelayAtRunTimeNeverReordersAStream) {
  DirectionSchedule s;
  std::mt19937_64 rng(1);
  const auto first = s.deliver_at(kT0, 10, LinkProfile{.delay_ms = 300}, rng);
  const auto second = s.deliver_at(kT0 + milliseconds(1), 10, LinkProfile{.delay_ms = 0}, rng);
  EXPECT_EQ(first, kT0 + milliseconds(300));
  EXPECT_EQ(second, first);
}

TEST(LinkConfig, ParsesALinksFile) {
  std::string error;
  auto links = parse_links(
      "# comment\n\n"
      "a>b 127.0.0.1:41002 127.0.0.1:26656 delay_ms=20 jitter_ms=5 loss_pct=1\n"
      "b>a [::1]:41003 localhost:26657 loss_ppm=7 rate_bytes_s=1000  # tail\n",
      error);
  ASSERT_TRUE(links) << error;
  ASSERT_EQ(links->size(), 2u);
  EXPECT_EQ((*links)[0].name, "a>b");
  EXPECT_EQ((*links)[0].listen.port, 41002);
  EXPECT_EQ((*links)[0].target.port, 26656);
  EXPECT_EQ((*links)[0].profile, (LinkProfile{20, 5, 10'000, 0}));
  EXPECT_EQ((*links)[1].listen.host, "::1");
  EXPECT_EQ((*links)[1].target.host, "localhost");
  EXPECT_EQ((*links)[1].profile, (LinkProfile{0, 0, 7, 1000}));
}

TEST(LinkConfig, RefusesBadLinksNamingTheLine) {
  for (const char* bad :
       {"a 127.0.0.1:1\n", "a 127.0.0.1:0 127.0.0.1:2\n",
        "a 127.0.0.1:1 127.0.0.1:2 delay_ms=60001\n", "a 127.0.0.1:1 127.0.0.1:2 loss_pct=100.5\n",
        "a 127.0.0.1:1 127.0.0.1:2 loss_pct=0.12345\n", "a 127.0.0.1:1 127.0.0.1:2 colour=blue\n",
        "a/b 127.0.0.1:1 127.0.0.1:2\n", "a 127.0.0.1:1 127.0.0.1:2\na 127.0.0.1:3 127.0.0.1:4\n",
        "# none\n"}) {
    std::string error;
    EXPECT_FALSE(parse_links(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string error;
  parse_links("a 127.0.0.1:1 127.0.0.1:2\nb 1.2.3.4 x\n", error);
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

TEST(LinkConfig, PercentagesBecomePartsPerMillionWithoutRounding) {
  EXPECT_EQ(parse_percent_ppm("1"), 10'000u);
  EXPECT_EQ(parse_percent_ppm("0.5"), 5'000u);
  EXPECT_EQ(parse_percent_ppm("0.0001"), 1u);
  EXPECT_EQ(parse_percent_ppm("100"), 1'000'000u);
  EXPECT_FALSE(parse_percent_ppm("101"));
  EXPECT_FALSE(parse_percent_ppm("1."));
  EXPECT_FALSE(parse_percent_ppm("-1"));
  EXPECT_FALSE(parse_percent_ppm(""));
}

TEST(LinkConfig, ParsesControlCommands) {
  std::string error;
  auto cut = parse_command("cut a>c b>d\n", error);
  ASSERT_TRUE(cut) << error;
  EXPECT_EQ(cut->kind, CommandKind::cut);
  EXPECT_EQ(cut->links, (std::vector<std::string>{"a>c", "b>d"}));
  auto heal = parse_command("heal *", error);
  ASSERT_TRUE(heal) << error;
  EXPECT_TRUE(heal->all);
  auto set = parse_command("set a>b delay_ms=300 loss_pct=2", error);
  ASSERT_TRUE(set) << error;
  EXPECT_EQ(set->change.applied_to({}), (LinkProfile{300, 0, 20'000, 0}));
  for (const char* bad :
       {"", "cut", "set a>b", "set a>b delay_ms=x", "explode a", "status x", "cut a;rm"}) {
    EXPECT_FALSE(parse_command(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

}  // namespace
}  // namespace baton::linkem
