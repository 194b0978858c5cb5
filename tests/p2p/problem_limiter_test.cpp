// The token bucket on problem reports (p2p/problem_limiter.h), driven by a
// fake clock: the exact rule, one row per situation.
#include "p2p/problem_limiter.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <vector>

namespace baton::p2p {
namespace {

using Clock = ProblemLimiter::Clock;
using namespace std::chrono_literals;

const Clock::time_point kStart{std::chrono::hours(1)};

struct Row {
  std::chrono::milliseconds at;        // since the limiter was made
  std::optional<std::uint64_t> admit;  // held-back count reported, or held back
};

// Rate 2 per second: a bucket of 4 tokens, one more every 500 ms.
TEST(ProblemLimiter, FollowsTheTokenBucketRule) {
  const std::vector<Row> rows = {
      {0ms, 0},               // the bucket starts full: a burst of 4
      {0ms, 0},               //
      {0ms, 0},               //
      {0ms, 0},               //
      {0ms, std::nullopt},    // the fifth is held back
      {499ms, std::nullopt},  // 0.998 of a token: still held back
      {510ms, 2},             // a token earned: reported, carrying the two held back
      {510ms, std::nullopt},  //
      {750ms, std::nullopt},  // half a token
      {1010ms, 2},            // and the other half
      {11000ms, 0},           // a long quiet spell earns no more than the burst
      {11000ms, 0},           //
      {11000ms, 0},           //
      {11000ms, 0},           //
      {11000ms, std::nullopt},
      {11250ms, std::nullopt},
      {11510ms, 2},
  };
  ProblemLimiter limiter(2.0, kStart);
  for (std::size_t i = 0; i < rows.size(); ++i)
    EXPECT_EQ(limiter.admit(kStart + rows[i].at), rows[i].admit) << "row " << i;
}

TEST(ProblemLimiter, ScalesWithTheRate) {
  ProblemLimiter limiter(0.5, kStart);  // a bucket of 1, one token every 2 s
  EXPECT_EQ(limiter.admit(kStart), 0u);
  EXPECT_EQ(limiter.admit(kStart + 1999ms), std::nullopt);
  EXPECT_EQ(limiter.admit(kStart + 2010ms), 1u);
  EXPECT_EQ(limiter.admit(kStart + 10s), 0u);
  EXPECT_EQ(limiter.admit(kStart + 10s), std::nullopt);
}

// Problems at random times: in every window of T seconds at most
// 2 * rate + rate * T are reported, and the reports with their held-back
// counts account for every problem.
TEST(ProblemLimiter, NeverExceedsTheBoundAndLosesNoCount) {
  for (const double rate : {0.5, 2.0, 5.0, 1000.0}) {
    std::mt19937_64 rng(7);
    ProblemLimiter limiter(rate, kStart);
    std::vector<Clock::time_point> reported;
    std::uint64_t accounted = 0, problems = 0;
    Clock::time_point now = kStart;
    for (int i = 0; i < 5000; ++i) {
      now += std::chrono::microseconds(rng() % 400'000);
      ++problems;
      if (auto held = limiter.admit(now)) {
        reported.push_back(now);
        accounted += 1 + *held;
      }
    }
    for (std::size_t i = 0; i < reported.size(); ++i) {
      for (std::size_t j = i; j < reported.size(); ++j) {
        const std::chrono::duration<double> t = reported[j] - reported[i];
        ASSERT_LE(static_cast<double>(j - i + 1), 2 * rate + rate * t.count() + 1e-9)
            << "rate " << rate << ", reports " << i << ".." << j;
      }
    }
    if (auto held = limiter.admit(now + std::chrono::hours(1))) {
      EXPECT_EQ(accounted + 1 + *held, problems + 1) << rate;
    } else {
      ADD_FAILURE() << "an hour's quiet spell earns a token";
    }
  }
}

}  // namespace
}  // namespace baton::p2p
