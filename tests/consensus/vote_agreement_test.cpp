// An honest voter's ModelVote never contradicts its own numbers: decide()
// (floating point, the agent's edge) and the ledger's rule
// (chain::vote_follows_policy, integers) agree on every measurement, the
// rounding to parts per million included.
#include <gtest/gtest.h>

#include "chain/vote_policy.h"
#include "consensus/vote_policy.h"

namespace baton::consensus {
namespace {

using chain::VotePolicyKind;

// The vote node/agent_vote.cpp signs for a measured candidate.
chain::pb::ModelVote honest_vote(const VoteDecision& d, std::optional<double> p) {
  chain::pb::ModelVote v;
  v.set_approve(d.approve);
  v.set_auc_candidate_ppm(d.auc_candidate_ppm);
  v.set_auc_head_ppm(d.auc_head_ppm);
  v.set_validation_size(120);
  v.set_p_worse_ppm(p ? to_ppm(*p) : d.p_worse_ppm);
  return v;
}

TEST(VoteAgreement, EveryHonestDecisionFollowsTheLedgersRule) {
  const VotePolicy policies[] = {{VotePolicyKind::strict, 0},
                                 {VotePolicyKind::tolerance, 0},
                                 {VotePolicyKind::tolerance, 20'000},
                                 {VotePolicyKind::tolerance, chain::kMaxToleranceEpsilonPpm},
                                 {VotePolicyKind::delong, chain::kMinDelongAlphaPpm},
                                 {VotePolicyKind::delong, 50'000},
                                 {VotePolicyKind::delong, chain::kMaxDelongAlphaPpm}};
  // Values on and half a ppm around the boundaries, where rounding decides.
  std::vector<double> values = {0.0, 1.0, 0.5, 0.8, 0.78, 0.7, 0.05, 0.001, 0.0499995, 0.0500005};
  for (double x : {0.8, 0.78, 0.05, 0.02}) {
    for (double d : {-1.5e-6, -5e-7, -4.9e-7, 4.9e-7, 5e-7, 1.5e-6}) values.push_back(x + d);
  }
  int approvals = 0, rejections = 0;
  for (const auto& policy : policies) {
    for (double candidate : values) {
      for (double head : values) {
        for (std::optional<double> p :
             {std::optional<double>{}, std::optional(0.0), std::optional(0.0499995),
              std::optional(0.05), std::optional(0.3), std::optional(1.0)}) {
          auto d = decide(policy, {candidate, head, p});
          if (!d) continue;  // delong without a p: the agent abstains
          const auto vote = honest_vote(*d, p);
          EXPECT_TRUE(chain::vote_follows_policy(policy, vote))
              << "kind " << static_cast<int>(policy.kind) << " param " << policy.param_ppm
              << ": AUC " << candidate << " vs " << head << " p " << (p ? *p : -1);
          (d->approve ? approvals : rejections) += 1;
        }
      }
    }
  }
  EXPECT_GT(approvals, 0);
  EXPECT_GT(rejections, 0);
}

TEST(VoteAgreement, ACandidateRefusedUnmeasuredFollowsTheRuleUnderEveryPolicy) {
  // What the agent signs when it cannot fetch, open or score a candidate.
  chain::pb::ModelVote v;
  v.set_approve(false);
  v.set_auc_head_ppm(0);
  v.set_validation_size(0);
  for (const auto& rule : chain::kVotePolicies) {
    EXPECT_TRUE(chain::vote_follows_policy({rule.kind, rule.max_ppm}, v)) << rule.name;
  }
}

}  // namespace
}  // namespace baton::consensus
