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

// Every kind and its parameter come from the plan, and decide() follows
// them. The rows pair plans that decide one measurement differently (strict
// and tolerance, two epsilons, two alphas), so a policy read with the wrong
// kind or parameter, or left at its default, fails a row.
TEST(VotePolicy, ReadsThePolicyFromThePlan) {
  struct Row {
    VotePolicyKind kind;
    std::uint32_t param_ppm;
    Measurement m;
    bool approve;
  };
  const Measurement slightly_worse{0.795, 0.8, 0.30};  // -0.005 AUC, p 0.30
  const Measurement worse{0.785, 0.8, 0.03};           // -0.015 AUC, p 0.03
  const Measurement much_worse{0.70, 0.8, 0.001};      // -0.1 AUC, p 0.001
  const Measurement better{0.85, 0.8, 0.99};
  const Row rows[] = {
      // strict: any decrease is refused.
      {VotePolicyKind::strict, 0, slightly_worse, false},
      {VotePolicyKind::strict, 0, better, true},
      // tolerance: epsilon 0.01 takes -0.005 but not -0.015; epsilon 0.02 both.
      {VotePolicyKind::tolerance, 10'000, slightly_worse, true},
      {VotePolicyKind::tolerance, 10'000, worse, false},
      {VotePolicyKind::tolerance, 20'000, worse, true},
      {VotePolicyKind::tolerance, 20'000, much_worse, false},
      // delong: alpha 0.05 refuses p 0.03, alpha 0.01 takes it; neither looks
      // at the AUC drop itself.
      {VotePolicyKind::delong, 50'000, slightly_worse, true},
      {VotePolicyKind::delong, 50'000, worse, false},
      {VotePolicyKind::delong, 10'000, worse, true},
      {VotePolicyKind::delong, 10'000, much_worse, false},
  };
  for (const auto& row : rows) {
    chain::TrainingPlan plan;
    plan.vote_policy = row.kind;
    plan.vote_param_ppm = row.param_ppm;
    const auto policy = VotePolicy::from_plan(plan);
    const std::string where = "kind " + std::to_string(static_cast<int>(row.kind)) + ", param " +
                              std::to_string(row.param_ppm) + ", AUC " +
                              std::to_string(row.m.auc_candidate);
    EXPECT_EQ(policy.kind, row.kind) << where;
    EXPECT_EQ(policy.param_ppm, row.param_ppm) << where;
    const auto decision = decide(policy, row.m);
    ASSERT_TRUE(decision.ok()) << where << ": " << decision.error().message;
    EXPECT_EQ(decision->approve, row.approve) << where;
    EXPECT_EQ(decision->auc_candidate_ppm, to_ppm(row.m.auc_candidate)) << where;
    EXPECT_EQ(decision->auc_head_ppm, to_ppm(row.m.auc_head)) << where;
    // The p goes into the vote only where the policy measures it.
    EXPECT_EQ(decision->p_worse_ppm,
              row.kind == VotePolicyKind::delong ? to_ppm(*row.m.p_candidate_worse) : 0u)
        << where;
  }
}

}  // namespace
}  // namespace baton::consensus
