#include "consensus/vote_policy.h"

#include <cmath>

namespace baton::consensus {

std::uint32_t to_ppm(double x) { return static_cast<std::uint32_t>(std::llround(x * 1e6)); }

namespace {

bool in_unit(double x) { return !std::isnan(x) && x >= 0.0 && x <= 1.0; }

}  // namespace

baton::Result<VoteDecision> decide(const VotePolicy& policy, const Measurement& m) {
  const chain::VotePolicyRule* rule = chain::find_vote_policy(policy.kind);
  if (rule == nullptr) {
    return baton::make_error("vote policy: unknown policy kind; the plan names " +
                             chain::vote_policy_names());
  }
  if (!in_unit(m.auc_candidate) || !in_unit(m.auc_head)) {
    return baton::make_error(
        "vote policy: AUCs must be numbers between 0 and 1; check the evaluation of the candidate "
        "and head");
  }
  VoteDecision d;
  d.auc_candidate_ppm = to_ppm(m.auc_candidate);
  d.auc_head_ppm = to_ppm(m.auc_head);
  if (rule->needs_p) {
    if (!m.p_candidate_worse || !in_unit(*m.p_candidate_worse)) {
      return baton::make_error("vote policy: the " + std::string(rule->name) +
                               " policy needs the one-sided p-value (between 0 and 1) that the "
                               "candidate is worse");
    }
    d.p_worse_ppm = to_ppm(*m.p_candidate_worse);
  }
  // The ledger's own function on the ppm values that go into the ModelVote.
  const chain::VoteMeasure measured{d.auc_candidate_ppm, d.auc_head_ppm, d.p_worse_ppm};
  d.approve = chain::policy_approves(policy, measured);
  d.reason = chain::policy_refusal(policy, measured);
  return d;
}

}  // namespace baton::consensus
