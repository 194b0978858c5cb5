// The ML vote policy, in integers: the one place that lists its kinds, their
// parameters and bounds, and decides a measurement (issues 6, 12).
// docs/PROTOCOL.md §18.1 ("Plan bounds"), §18.3 and §18.5.
//
//   strict       reject iff AUC(candidate) <  AUC(head)            (C-DistriM)
//   tolerance e  reject iff AUC(candidate) <  AUC(head) - e
//   delong a     reject iff p(candidate worse) < a  (one-sided paired DeLong
//                test on the voter's validation set)
//
// Every value is parts per million (ppm, u32), as the plan and the ModelVote
// carry them. Two users decide with policy_approves() below and nothing else:
// the voter (consensus/vote_policy.h rounds its floating-point measurement to
// ppm, then asks it) and the ledger, which refuses a ModelVote whose approve
// is not what its own AUCs and p give (ProtocolRejected::vote_contradicts_policy).
// The plan's JSON and protobuf decoders, its validation and its JSON encoder
// read the kinds from kVotePolicies.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "chain/proto/ledger.pb.h"

namespace baton::chain {

// Stored as a u32 in the plan's protobuf (and so in the state hash); never renumber.
enum class VotePolicyKind : std::uint8_t {
  strict = 1,     // reject if AUC(candidate) < AUC(head)
  tolerance = 2,  // reject if AUC(candidate) < AUC(head) - epsilon
  delong = 3,     // reject only if the candidate is significantly worse (p < alpha)
};

// Parameters that leave the vote a vote: a tolerance of at most 0.1 AUC (1.0
// approves every candidate), a DeLong alpha in [0.001, 0.5] (0 approves every
// candidate, alpha above 0.5 refuses an unchanged one, 1 refuses all).
inline constexpr std::uint32_t kMaxToleranceEpsilonPpm = 100'000;
inline constexpr std::uint32_t kMinDelongAlphaPpm = 1'000;
inline constexpr std::uint32_t kMaxDelongAlphaPpm = 500'000;
inline constexpr std::uint32_t kMaxPpm = 1'000'000;  // 1.0: AUCs and p are in [0, kMaxPpm]

// What a plan may say of one kind.
struct VotePolicyRule {
  VotePolicyKind kind;
  std::string_view name;   // "strict": the plan's JSON vote_policy.kind
  std::string_view param;  // its parameter's JSON field ("epsilon", "alpha"); empty: none
  std::uint32_t min_ppm;   // bounds of the parameter (both 0 when there is none)
  std::uint32_t max_ppm;
  bool param_required;          // the JSON must name the parameter (else default_ppm)
  std::uint32_t default_ppm;    // the parameter when the JSON leaves it out
  bool needs_p;                 // decides on p_worse_ppm (a voter must measure it)
  std::string_view bounds_why;  // why the bounds, for the error sentence
};

inline constexpr std::array<VotePolicyRule, 3> kVotePolicies{{
    {VotePolicyKind::strict, "strict", "", 0, 0, false, 0, false, ""},
    {VotePolicyKind::tolerance, "tolerance", "epsilon", 0, kMaxToleranceEpsilonPpm, true, 0, false,
     "a candidate may lose that much AUC and still be approved; 1 approves every one"},
    {VotePolicyKind::delong, "delong", "alpha", kMinDelongAlphaPpm, kMaxDelongAlphaPpm, false,
     50'000, true, "alpha 0 approves every candidate, above 0.5 it refuses an unchanged one"},
}};

// The rule of a kind, or nullptr for a value outside the enum (a decoder's
// input, a cast in a test).
const VotePolicyRule* find_vote_policy(VotePolicyKind kind);
// By JSON name ("delong"), or nullptr.
const VotePolicyRule* find_vote_policy(std::string_view name);
// By the protobuf's u32 (1..3), or nullptr: never truncated to a byte.
const VotePolicyRule* find_vote_policy_number(std::uint32_t number);
// "strict, tolerance or delong"; "1 (strict), 2 (tolerance) or 3 (delong)".
std::string vote_policy_names();
std::string vote_policy_numbers();

struct TrainingPlan;

struct VotePolicy {
  VotePolicyKind kind = VotePolicyKind::strict;
  std::uint32_t param_ppm = 0;  // tolerance: epsilon (AUC ppm); delong: alpha (ppm); strict: 0

  static VotePolicy from_plan(const TrainingPlan& plan);
  bool operator==(const VotePolicy&) const = default;
};

// What a voter measured of a candidate, as its ModelVote carries it.
struct VoteMeasure {
  std::uint32_t auc_candidate_ppm = 0;
  std::uint32_t auc_head_ppm = 0;
  std::uint32_t p_worse_ppm = 0;  // one-sided DeLong p that the candidate is worse
};

// Does `policy` approve a candidate measured as `m`? Integers only, so every
// node decides the same. Precondition: find_vote_policy(policy.kind) (the
// plan was validated); any value of `m` is decided (a ModelVote's values are
// checked to be at most kMaxPpm before this is asked).
bool policy_approves(const VotePolicy& policy, const VoteMeasure& m);

// Why `policy` rejects `m`, in one sentence ("candidate AUC 0.700000 is below
// the head's 0.800000"); empty when it approves. What an honest voter writes
// into its ModelVote's reason.
std::string policy_refusal(const VotePolicy& policy, const VoteMeasure& m);

// The ledger's rule for a ModelVote under `policy` (docs/PROTOCOL.md §18.3):
//  - validation_size > 0: the voter measured the candidate on that many rows;
//    its approve must be policy_approves() of its own AUCs and p;
//  - validation_size 0: it did not measure the candidate (could not fetch,
//    open or score it); it must be a reject that claims no candidate AUC and
//    no p (auc_candidate_ppm 0, p_worse_ppm 0).
// Precondition: as policy_approves().
bool vote_follows_policy(const VotePolicy& policy, const pb::ModelVote& vote);

}  // namespace baton::chain
