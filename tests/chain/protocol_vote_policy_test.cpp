// The vote policy in integers (chain/vote_policy.h) and the ledger's rule
// that a ModelVote's approve is what the plan's policy makes of its own AUCs
// and p (docs/PROTOCOL.md §18.3, vote_contradicts_policy). The hostile voter
// here signs votes whose approve contradicts its numbers, both ways.
#include <gtest/gtest.h>

#include "chain/vote_policy.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

struct Measured {
  bool approve = false;
  std::uint32_t candidate = 0;
  std::uint32_t head = 0;
  std::uint32_t p = 0;
  std::uint64_t rows = 50;  // 0: the candidate was not measured
};

pb::ModelVote vote_of(const Hash& request, const Measured& m) {
  pb::ModelVote v;
  v.set_run_id("run-1");
  v.set_request_id(hash_bytes(request));
  v.set_approve(m.approve);
  v.set_auc_candidate_ppm(m.candidate);
  v.set_auc_head_ppm(m.head);
  v.set_p_worse_ppm(m.p);
  v.set_validation_size(m.rows);
  return v;
}

TEST(VotePolicyRules, ListEveryKindOnceWithItsNameAndNumber) {
  for (const auto& rule : kVotePolicies) {
    EXPECT_EQ(find_vote_policy(rule.kind), &rule);
    EXPECT_EQ(find_vote_policy(rule.name), &rule);
    EXPECT_EQ(find_vote_policy_number(static_cast<std::uint32_t>(rule.kind)), &rule);
    EXPECT_EQ(rule.param.empty(), rule.max_ppm == 0) << rule.name;
    EXPECT_LE(rule.min_ppm, rule.max_ppm) << rule.name;
    if (!rule.param_required && !rule.param.empty()) {
      EXPECT_GE(rule.default_ppm, rule.min_ppm) << rule.name;
      EXPECT_LE(rule.default_ppm, rule.max_ppm) << rule.name;
    }
  }
  for (std::uint32_t n : {0u, 4u, 257u, 0xffffffffu})
    EXPECT_EQ(find_vote_policy_number(n), nullptr);
  EXPECT_EQ(find_vote_policy(static_cast<VotePolicyKind>(9)), nullptr);
  EXPECT_EQ(find_vote_policy(std::string_view("Strict")), nullptr);
  EXPECT_EQ(vote_policy_names(), "strict, tolerance or delong");
  EXPECT_EQ(vote_policy_numbers(), "1 (strict), 2 (tolerance) or 3 (delong)");
}

TEST(VotePolicyRules, DecideOnTheBoundaryInPartsPerMillion) {
  struct Row {
    VotePolicy policy;
    VoteMeasure m;
    bool approve;
  };
  const VotePolicy strict{VotePolicyKind::strict, 0};
  const VotePolicy tolerance{VotePolicyKind::tolerance, 20'000};
  const VotePolicy delong{VotePolicyKind::delong, 50'000};
  const Row rows[] = {
      {strict, {800'000, 800'000, 0}, true},
      {strict, {799'999, 800'000, 999'999}, false},  // p does not matter to strict
      {strict, {0, 0, 0}, true},
      {tolerance, {780'000, 800'000, 0}, true},
      {tolerance, {779'999, 800'000, 0}, false},
      {tolerance, {0, 20'000, 0}, true},  // the floor goes below 0 without wrapping
      {tolerance, {1'000'000, 0, 0}, true},
      {delong, {500'000, 900'000, 50'000}, true},   // p == alpha is not below alpha
      {delong, {950'000, 900'000, 49'999}, false},  // the AUCs do not matter to delong
      {delong, {0, 0, 1'000'000}, true},
  };
  for (const auto& row : rows) {
    const std::string where = std::string(find_vote_policy(row.policy.kind)->name) + " " +
                              std::to_string(row.m.auc_candidate_ppm) + " vs " +
                              std::to_string(row.m.auc_head_ppm) + " p " +
                              std::to_string(row.m.p_worse_ppm);
    EXPECT_EQ(policy_approves(row.policy, row.m), row.approve) << where;
    EXPECT_EQ(policy_refusal(row.policy, row.m).empty(), row.approve) << where;
  }
  EXPECT_EQ(policy_refusal(tolerance, {700'000, 800'000, 0}),
            "candidate AUC 0.700000 is below the head's 0.800000 minus the tolerance 0.020000");
}

// A chain whose plan votes by `policy`, at the vote on turn 0's candidate.
struct VotingChain {
  explicit VotingChain(VotePolicy policy) {
    TrainingPlan plan = test_plan(4);
    plan.vote_policy = policy.kind;
    plan.vote_param_ppm = policy.param_ppm;
    p.commit(p.start(0, plan));
    p.grant_load(0, {1, 2});
    save = p.commit(p.save_request(0, 0, std::nullopt));
  }
  std::optional<ProtocolRejected> refusal(std::size_t voter, const Measured& m) {
    return p.refusal(p.tx(voter, pb::TX_MODEL_VOTE, vote_of(save, m)));
  }
  ProtocolChain p;
  Hash save;
};

TEST(ProtocolVotePolicy, RefusesAnApprovalThatItsOwnAucsReject) {
  VotingChain c({VotePolicyKind::strict, 0});
  // The hostile voter pushes a worse candidate through: its own numbers say
  // the candidate lost AUC, yet it approves.
  const auto hostile = c.p.tx(1, pb::TX_MODEL_VOTE, vote_of(c.save, {true, 650'000, 700'000}));
  EXPECT_EQ(c.p.refusal(hostile), ProtocolRejected::vote_contradicts_policy);
  EXPECT_EQ(c.p.commit_refused(hostile), ProtocolRejected::vote_contradicts_policy);
  EXPECT_TRUE(c.p.turn().model_votes.empty()) << "the refused vote counts for nothing";
  const Refusal* r = find_refusal(c.p.training(), tx_hash(encode_transaction(hostile)));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->turn, 0u);
  EXPECT_EQ(r->type, pb::TX_MODEL_VOTE);
  // A refused vote is not recorded, so the voter may still cast an honest
  // one, which counts.
  c.p.commit(c.p.tx(1, pb::TX_MODEL_VOTE, vote_of(c.save, {false, 650'000, 700'000})));
  EXPECT_FALSE(c.p.turn().model_votes.at("bob").approve);
}

TEST(ProtocolVotePolicy, RefusesARejectionThatItsOwnAucsApprove) {
  VotingChain c({VotePolicyKind::tolerance, 20'000});
  // The hostile voter blocks a better candidate while reporting that it is better.
  EXPECT_EQ(c.refusal(1, {false, 750'000, 700'000}), ProtocolRejected::vote_contradicts_policy);
  // Within the tolerance is still an approval under this plan.
  EXPECT_EQ(c.refusal(1, {false, 681'000, 700'000}), ProtocolRejected::vote_contradicts_policy);
  EXPECT_EQ(c.refusal(1, {false, 679'999, 700'000}), std::nullopt);
  EXPECT_EQ(c.refusal(1, {true, 681'000, 700'000}), std::nullopt);
}

TEST(ProtocolVotePolicy, HoldsADelongVoteToItsP) {
  VotingChain c({VotePolicyKind::delong, 50'000});
  EXPECT_EQ(c.refusal(2, {true, 800'000, 700'000, 10'000}),
            ProtocolRejected::vote_contradicts_policy);  // significantly worse by its own p
  EXPECT_EQ(c.refusal(2, {false, 600'000, 700'000, 400'000}),
            ProtocolRejected::vote_contradicts_policy);  // not significantly worse
  EXPECT_EQ(c.refusal(2, {true, 600'000, 700'000, 400'000}), std::nullopt);
  EXPECT_EQ(c.refusal(2, {false, 800'000, 700'000, 10'000}), std::nullopt);
}

TEST(ProtocolVotePolicy, AnUnmeasuredCandidateMayOnlyBeRejectedAndClaimsNoMeasurement) {
  // validation_size 0: the voter could not fetch, open or score the
  // candidate (a wrong size, a bad blob). Under strict with a head AUC of 0
  // every measured candidate is approved, yet such a refusal stands.
  VotingChain c({VotePolicyKind::strict, 0});
  EXPECT_EQ(c.refusal(1, {false, 0, 0, 0, 0}), std::nullopt);
  EXPECT_EQ(c.refusal(1, {false, 0, 700'000, 0, 0}), std::nullopt);
  EXPECT_EQ(c.refusal(1, {true, 0, 0, 0, 0}), ProtocolRejected::vote_contradicts_policy);
  EXPECT_EQ(c.refusal(1, {false, 900'000, 700'000, 0, 0}),
            ProtocolRejected::vote_contradicts_policy);
  EXPECT_EQ(c.refusal(1, {false, 0, 700'000, 30'000, 0}),
            ProtocolRejected::vote_contradicts_policy);
}

TEST(ProtocolVotePolicy, ReportsTheEarlierReasonsFirst) {
  VotingChain c({VotePolicyKind::strict, 0});
  c.p.commit(c.p.tx(1, pb::TX_MODEL_VOTE, vote_of(c.save, {true, 750'000, 700'000})));
  // A second, contradicting vote of the same voter is a duplicate first.
  EXPECT_EQ(c.refusal(1, {true, 650'000, 700'000}), ProtocolRejected::duplicate_vote);
  // The partner's own contradicting vote is its own request first.
  EXPECT_EQ(c.refusal(0, {true, 650'000, 700'000}), ProtocolRejected::own_request);
  // AUCs above 1 are malformed before they are judged.
  EXPECT_EQ(c.refusal(2, {true, 1'000'001, 700'000}), ProtocolRejected::malformed_request);
}

}  // namespace
}  // namespace baton::chain::testing
