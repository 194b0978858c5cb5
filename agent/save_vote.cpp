#include "agent/save_vote.h"

#include <cmath>

#include "consensus/vote_policy.h"

namespace baton::agent {
namespace {

bool in_unit(double x) { return !std::isnan(x) && x >= 0.0 && x <= 1.0; }

}  // namespace

std::string clip_reason(std::string text) {
  if (text.size() > kMaxReasonBytes) {
    text.resize(kMaxReasonBytes - 3);
    text += "...";
  }
  return text;
}

Result<SaveVote> decide_save_vote(const chain::VotePolicy& policy, const CandidateMeasure& m) {
  if (!in_unit(m.auc_head)) {
    return make_error(
        "the head's AUC is not a number between 0 and 1; check the evaluation of the head");
  }
  SaveVote v;
  if (!m.auc_candidate) {
    // The ledger's rule for a vote that measured nothing.
    v.auc_head_ppm = consensus::to_ppm(m.auc_head);
    v.reason = clip_reason(m.refusal);
    return v;
  }
  if (m.validation_rows == 0) {
    return make_error(
        "a measured candidate needs the validation rows it was measured on; a vote with "
        "validation size 0 claims no measurement");
  }
  consensus::Measurement measured{*m.auc_candidate, m.auc_head, m.p_worse};
  auto d = consensus::decide(policy, measured);
  if (!d) {
    return make_error(d.error().message + (m.p_missing_why.empty()
                                               ? std::string()
                                               : " (DeLong test: " + m.p_missing_why + ")"));
  }
  v.approve = d->approve;
  v.auc_candidate_ppm = d->auc_candidate_ppm;
  v.auc_head_ppm = d->auc_head_ppm;
  v.validation_size = m.validation_rows;
  // The measured p goes on the ledger whatever the policy (decide() rounds it
  // only when the policy needs it, and refuses an invalid one then).
  v.p_worse_ppm = m.p_worse && in_unit(*m.p_worse) ? consensus::to_ppm(*m.p_worse) : d->p_worse_ppm;
  v.reason = clip_reason(d->reason);
  return v;
}

chain::pb::ModelVote model_vote(const std::string& run_id, const chain::Hash& request_id,
                                const SaveVote& vote) {
  chain::pb::ModelVote mv;
  mv.set_run_id(run_id);
  mv.set_request_id(
      std::string(reinterpret_cast<const char*>(request_id.bytes.data()), request_id.bytes.size()));
  mv.set_approve(vote.approve);
  mv.set_auc_candidate_ppm(vote.auc_candidate_ppm);
  mv.set_auc_head_ppm(vote.auc_head_ppm);
  mv.set_validation_size(vote.validation_size);
  mv.set_p_worse_ppm(vote.p_worse_ppm);
  mv.set_reason(vote.reason);
  return mv;
}

}  // namespace baton::agent
