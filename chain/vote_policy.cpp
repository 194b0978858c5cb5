#include "chain/vote_policy.h"

#include <cstdlib>

#include "chain/training.h"

namespace baton::chain {
namespace {

// 800000 -> "0.800000"; -50000 -> "-0.050000" (what "%.6f" prints of ppm / 1e6).
std::string ppm_text(std::int64_t ppm) {
  const bool negative = ppm < 0;
  const std::uint64_t v =
      negative ? static_cast<std::uint64_t>(-ppm) : static_cast<std::uint64_t>(ppm);
  std::string frac = std::to_string(v % kMaxPpm);
  frac.insert(0, 6 - frac.size(), '0');
  return (negative ? "-" : "") + std::to_string(v / kMaxPpm) + "." + frac;
}

}  // namespace

const VotePolicyRule* find_vote_policy(VotePolicyKind kind) {
  for (const auto& rule : kVotePolicies)
    if (rule.kind == kind) return &rule;
  return nullptr;
}

const VotePolicyRule* find_vote_policy(std::string_view name) {
  for (const auto& rule : kVotePolicies)
    if (rule.name == name) return &rule;
  return nullptr;
}

const VotePolicyRule* find_vote_policy_number(std::uint32_t number) {
  for (const auto& rule : kVotePolicies)
    if (static_cast<std::uint32_t>(rule.kind) == number) return &rule;
  return nullptr;
}

std::string vote_policy_names() {
  std::string out;
  for (std::size_t i = 0; i < kVotePolicies.size(); ++i) {
    if (i > 0) out += i + 1 == kVotePolicies.size() ? " or " : ", ";
    out += kVotePolicies[i].name;
  }
  return out;
}

std::string vote_policy_numbers() {
  std::string out;
  for (std::size_t i = 0; i < kVotePolicies.size(); ++i) {
    if (i > 0) out += i + 1 == kVotePolicies.size() ? " or " : ", ";
    out += std::to_string(static_cast<unsigned>(kVotePolicies[i].kind)) + " (" +
           std::string(kVotePolicies[i].name) + ")";
  }
  return out;
}

VotePolicy VotePolicy::from_plan(const TrainingPlan& plan) {
  return {plan.vote_policy, plan.vote_param_ppm};
}

bool policy_approves(const VotePolicy& policy, const VoteMeasure& m) {
  const std::int64_t candidate = m.auc_candidate_ppm, head = m.auc_head_ppm;
  switch (policy.kind) {
    case VotePolicyKind::strict:
      return candidate >= head;
    case VotePolicyKind::tolerance:
      return candidate >= head - static_cast<std::int64_t>(policy.param_ppm);
    case VotePolicyKind::delong:
      return m.p_worse_ppm >= policy.param_ppm;
  }
  std::abort();  // an unvalidated plan: a bug
}

std::string policy_refusal(const VotePolicy& policy, const VoteMeasure& m) {
  if (policy_approves(policy, m)) return {};
  const std::string candidate = ppm_text(m.auc_candidate_ppm), head = ppm_text(m.auc_head_ppm);
  switch (policy.kind) {
    case VotePolicyKind::strict:
      return "candidate AUC " + candidate + " is below the head's " + head;
    case VotePolicyKind::tolerance:
      return "candidate AUC " + candidate + " is below the head's " + head +
             " minus the tolerance " + ppm_text(policy.param_ppm);
    case VotePolicyKind::delong:
      return "candidate is significantly worse than the head (DeLong one-sided p " +
             ppm_text(m.p_worse_ppm) + " < alpha " + ppm_text(policy.param_ppm) + ")";
  }
  std::abort();
}

bool vote_follows_policy(const VotePolicy& policy, const pb::ModelVote& vote) {
  if (vote.validation_size() == 0)
    return !vote.approve() && vote.auc_candidate_ppm() == 0 && vote.p_worse_ppm() == 0;
  return vote.approve() == policy_approves(policy, {vote.auc_candidate_ppm(), vote.auc_head_ppm(),
                                                    vote.p_worse_ppm()});
}

}  // namespace baton::chain
