// The ML vote policy (consensus/vote_policy.h): strict, tolerance, delong.
#include "consensus/vote_policy.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace baton::consensus {
namespace {

using chain::VotePolicyKind;

VoteDecision must(const VotePolicy& p, Measurement m) {
  auto d = decide(p, m);
  EXPECT_TRUE(d.ok());
  return d.ok() ? *d : VoteDecision{};
}

TEST(VotePolicyStrict, RejectsAnyDecreaseAndAcceptsEqualOrBetter) {
  const VotePolicy strict{VotePolicyKind::strict, 0};
  EXPECT_FALSE(must(strict, {0.799999, 0.8, {}}).approve);
  EXPECT_TRUE(must(strict, {0.8, 0.8, {}}).approve);
  EXPECT_TRUE(must(strict, {0.9, 0.8, {}}).approve);
  const auto d = must(strict, {0.7, 0.8, {}});
  EXPECT_EQ(d.auc_candidate_ppm, 700000u);
  EXPECT_EQ(d.auc_head_ppm, 800000u);
  EXPECT_NE(d.reason.find("below the head"), std::string::npos);
}

TEST(VotePolicyTolerance, AcceptsDecreasesUpToEpsilon) {
  const VotePolicy tol{VotePolicyKind::tolerance, 20000};  // epsilon 0.02
  EXPECT_TRUE(must(tol, {0.78, 0.8, {}}).approve);
  EXPECT_FALSE(must(tol, {0.779, 0.8, {}}).approve);
  EXPECT_TRUE(must(tol, {0.85, 0.8, {}}).approve);
}

TEST(VotePolicyDelong, RejectsOnlyASignificantlyWorseCandidate) {
  const VotePolicy dl{VotePolicyKind::delong, 50000};  // alpha 0.05
  EXPECT_TRUE(must(dl, {0.70, 0.80, 0.20}).approve);   // worse, but not significantly
  EXPECT_FALSE(must(dl, {0.60, 0.80, 0.01}).approve);
  EXPECT_TRUE(must(dl, {0.80, 0.80, 0.05}).approve);  // p == alpha is not < alpha
  EXPECT_EQ(must(dl, {0.6, 0.8, 0.01}).p_worse_ppm, 10000u);
}

TEST(VotePolicyDelong, NeedsThePValue) {
  EXPECT_FALSE(decide({VotePolicyKind::delong, 50000}, {0.7, 0.8, std::nullopt}).ok());
  EXPECT_FALSE(decide({VotePolicyKind::delong, 50000}, {0.7, 0.8, 1.5}).ok());
}

TEST(VotePolicy, RefusesAucsOutsideTheUnitIntervalAndNaN) {
  const VotePolicy strict{VotePolicyKind::strict, 0};
  EXPECT_FALSE(decide(strict, {1.01, 0.8, {}}).ok());
  EXPECT_FALSE(decide(strict, {0.8, -0.1, {}}).ok());
  EXPECT_FALSE(decide(strict, {std::nan(""), 0.8, {}}).ok());
  EXPECT_FALSE(decide({static_cast<VotePolicyKind>(9), 0}, {0.8, 0.8, {}}).ok());
}

TEST(VotePolicy, ReadsThePolicyFromThePlan) {
  chain::TrainingPlan plan;
  plan.vote_policy = VotePolicyKind::tolerance;
  plan.vote_param_ppm = 10000;
  const auto p = VotePolicy::from_plan(plan);
  EXPECT_EQ(p.kind, VotePolicyKind::tolerance);
  EXPECT_EQ(p.param_ppm, 10000u);
}

}  // namespace
}  // namespace baton::consensus
