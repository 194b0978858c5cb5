#include "agent/save_vote.h"

#include <cmath>

#include "consensus/vote_policy.h"

namespace baton::agent {
namespace {

bool in_unit(double x) { return !std::isnan(x) && x >= 0.0 && x <= 1.0; }

// A loss in millionths, capped at the ledger's bound (0 for NaN or negative).
std::uint64_t loss_micro(const std::optional<double>& loss) {
  if (!loss || !(*loss > 0)) return 0;
  const double micro = std::round(*loss * 1e6);
  const double cap = static_cast<double>(chain::kMaxLossMicro);
  return static_cast<std::uint64_t>(micro < cap ? micro : cap);
}

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
  // Both or neither: one loss alone would claim a gain it did not measure.
  if (m.loss_candidate && m.loss_head) {
    v.loss_candidate_micro = loss_micro(m.loss_candidate);
    v.loss_head_micro = loss_micro(m.loss_head);
  }
  return v;
}

std::optional<std::string> repeated_model(const chain::Run& run, const chain::Hash& model_sha256,
                                          std::uint64_t turn) {
  for (const auto& t : run.turns) {
    if (t.index == turn || !t.save || t.save->model_sha256 != model_sha256) continue;
    const bool head = run.head && t.save_request_id == run.head;
    return "identical_model: the model " + model_sha256.hex().substr(0, 16) + "... is " +
           (head ? "the head, " : "") + "turn " + std::to_string(t.index) + "'s candidate (" +
           std::string(chain::to_string(t.outcome)) + "); a copy is no contribution";
  }
  return std::nullopt;
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
  mv.set_loss_candidate_micro(vote.loss_candidate_micro);
  mv.set_loss_head_micro(vote.loss_head_micro);
  return mv;
}

}  // namespace baton::agent
