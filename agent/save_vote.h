// A voter's ModelVote on a candidate, in three steps (issue 12):
//   measure  (PartnerAgent, I/O): fetch, check and open the candidate, score
//            it and the head on the local validation file, run the paired
//            DeLong test; or say why the candidate could not be measured
//            ("hash_mismatch: ...", "wrong_size: ...", "over_budget: ...");
//   decide   (here, pure): round the measurement to parts per million and
//            decide with chain::policy_approves / policy_refusal, the integer
//            functions the ledger holds every ModelVote to; a candidate that
//            was not measured gets the ledger's unmeasured vote (validation
//            size 0, candidate AUC 0, p 0, reject: chain::vote_follows_policy);
//   record   (PartnerAgent): journal the vote's bytes, then submit them.
// So two voters with the same measurement vote the same way, and an honest
// vote is never refused as contradicting its own AUCs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"
#include "chain/training.h"
#include "chain/vote_policy.h"

namespace baton::agent {

// A reason on the ledger (a vote's, a hand-off refusal's) is at most this long.
inline constexpr std::size_t kMaxReasonBytes = 240;
// `text` cut to kMaxReasonBytes, ending in "..." when cut.
std::string clip_reason(std::string text);

// What the measure step found, in floating point as learning measures it.
struct CandidateMeasure {
  double auc_head = 0;  // the head's AUC on the local validation file, in [0, 1]
  // The candidate was measured on this many rows; 0 when it was not.
  std::uint64_t validation_rows = 0;
  std::optional<double> auc_candidate;  // set exactly when measured, in [0, 1]
  std::optional<double> p_worse;        // one-sided DeLong p that it is worse, when the test ran
  std::string p_missing_why;            // why the DeLong test did not run (for the log)
  std::string refusal;                  // why it was not measured ("hash_mismatch: ...")
  // Mean validation cross-entropy of each, when measured (the gain of a
  // delta_loss run, docs/PROTOCOL.md §18.2): >= 0, rounded to millionths.
  std::optional<double> loss_head;
  std::optional<double> loss_candidate;
};

// The vote, as its ModelVote carries it.
struct SaveVote {
  bool approve = false;
  std::uint32_t auc_candidate_ppm = 0;
  std::uint32_t auc_head_ppm = 0;
  std::uint64_t validation_size = 0;
  std::uint32_t p_worse_ppm = 0;
  std::string reason;                      // at most kMaxReasonBytes; empty for an approval
  std::uint64_t loss_candidate_micro = 0;  // 0 when not measured
  std::uint64_t loss_head_micro = 0;
  bool operator==(const SaveVote&) const = default;
};

// The vote `policy` gives `m`:
//  - not measured (no auc_candidate): reject, validation size 0, candidate AUC
//    0, p 0, the head's AUC, reason m.refusal;
//  - measured: the AUCs (and p, when the test ran) rounded to ppm, approve =
//    chain::policy_approves, reason = chain::policy_refusal; the losses, when
//    measured, rounded to millionths and capped at chain::kMaxLossMicro.
// An error (the voter abstains) when a value is outside [0, 1] or NaN, when
// the policy needs the DeLong p and the test did not run, or when a measured
// candidate claims no validation rows. Pre: `policy` is a validated plan's.
Result<SaveVote> decide_save_vote(const chain::VotePolicy& policy, const CandidateMeasure& m);

// Why a model whose plaintext SHA-256 is `model_sha256` is no contribution
// at turn `turn` of `run`: another turn's candidate (the head, an approved
// model, a rejected or expired candidate) has the same bytes; nullopt when
// none has. "identical_model: ..." names that turn. The ledger refuses such
// a SaveRequest (duplicate_model); a partner does not submit one (it gives
// its turn up instead), and a voter rejects one without fetching it.
std::optional<std::string> repeated_model(const chain::Run& run, const chain::Hash& model_sha256,
                                          std::uint64_t turn);

// The ModelVote of `vote` on the SaveRequest `request_id` of `run_id`.
chain::pb::ModelVote model_vote(const std::string& run_id, const chain::Hash& request_id,
                                const SaveVote& vote);

}  // namespace baton::agent
