#include "consensus/vote_policy.h"

#include <cmath>
#include <cstdio>

namespace baton::consensus {

std::uint32_t to_ppm(double x) { return static_cast<std::uint32_t>(std::llround(x * 1e6)); }

namespace {

bool in_unit(double x) { return !std::isnan(x) && x >= 0.0 && x <= 1.0; }

std::string ppm_text(std::int64_t ppm) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(ppm) / 1e6);
  return buf;
}

}  // namespace

baton::Result<VoteDecision> decide(const VotePolicy& policy, const Measurement& m) {
  if (!in_unit(m.auc_candidate) || !in_unit(m.auc_head)) {
    return baton::make_error(
        "vote policy: AUCs must be numbers between 0 and 1; check the evaluation of the candidate "
        "and head");
  }
  VoteDecision d;
  d.auc_candidate_ppm = to_ppm(m.auc_candidate);
  d.auc_head_ppm = to_ppm(m.auc_head);
  const std::int64_t cand = d.auc_candidate_ppm, head = d.auc_head_ppm;
  switch (policy.kind) {
    case chain::VotePolicyKind::strict:
      d.approve = cand >= head;
      d.reason = d.approve
                     ? ""
                     : "candidate AUC " + ppm_text(cand) + " is below the head's " + ppm_text(head);
      break;
    case chain::VotePolicyKind::tolerance: {
      const std::int64_t floor = head - static_cast<std::int64_t>(policy.param_ppm);
      d.approve = cand >= floor;
      d.reason = d.approve
                     ? ""
                     : "candidate AUC " + ppm_text(cand) + " is below the head's " +
                           ppm_text(head) + " minus the tolerance " + ppm_text(policy.param_ppm);
      break;
    }
    case chain::VotePolicyKind::delong: {
      if (!m.p_candidate_worse || !in_unit(*m.p_candidate_worse)) {
        return baton::make_error(
            "vote policy: the delong policy needs the one-sided p-value (between 0 and 1) that the "
            "candidate is worse");
      }
      d.p_worse_ppm = to_ppm(*m.p_candidate_worse);
      d.approve = d.p_worse_ppm >= policy.param_ppm;
      d.reason = d.approve
                     ? ""
                     : "candidate is significantly worse than the head (DeLong one-sided p " +
                           ppm_text(d.p_worse_ppm) + " < alpha " + ppm_text(policy.param_ppm) + ")";
      break;
    }
    default:
      return baton::make_error(
          "vote policy: unknown policy kind; the plan names strict, tolerance or delong");
  }
  return d;
}

}  // namespace baton::consensus
