// The vote policy at the voter's measuring edge: the node (which links
// learning) measures the AUCs and, for the DeLong policy, the one-sided
// p-value that the candidate is worse, in floating point; decide() rounds
// them to parts per million and decides with chain::policy_approves(), the
// integer function the ledger holds every ModelVote to (chain/vote_policy.h
// lists the kinds, their parameters and bounds). So two voters with the same
// measurement decide the same way, and an honest vote is never refused as
// contradicting its own AUCs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "chain/result.h"
#include "chain/training.h"
#include "chain/vote_policy.h"

namespace baton::consensus {

using VotePolicy = chain::VotePolicy;

// What a voter measured on its own validation data.
struct Measurement {
  double auc_candidate = 0;  // in [0, 1]
  double auc_head =
      0;  // in [0, 1]; the head's AUC (0.5 for an untrained first head is the caller's choice)
  std::optional<double> p_candidate_worse;  // one-sided DeLong p in [0, 1]; needed by delong only
};

struct VoteDecision {
  bool approve = false;
  std::uint32_t auc_candidate_ppm = 0;  // what goes into the ModelVote
  std::uint32_t auc_head_ppm = 0;
  std::uint32_t p_worse_ppm = 0;  // 0 when not measured
  std::string reason;             // why, in one sentence (recorded on chain)
};

// AUC or probability in [0, 1] -> ppm, rounded to nearest. Values outside
// [0, 1] or NaN are the caller's bug: decide() refuses them first.
std::uint32_t to_ppm(double unit_interval);

// The decision, or an error when the measurement is out of range (NaN, < 0,
// > 1) or the delong policy lacks the p-value.
baton::Result<VoteDecision> decide(const VotePolicy& policy, const Measurement& m);

}  // namespace baton::consensus
