#include "agent/round_step.h"

#include <algorithm>

namespace baton::agent {
namespace {

// A failure past its retries: said once on the ledger, then nothing.
std::optional<NextStep> after_failure(const AgentMemory& memory, std::uint32_t store_attempts) {
  const auto& f = memory.failure;
  if (!f || (f->retryable && f->attempts < store_attempts)) return std::nullopt;
  if (memory.complained) return Wait{WaitReason::round_waiting};
  return Complain{clipped(f->reason, f->detail)};
}

NextStep voter_or_wait(const chain::Turn& turn, const AgentIdentity& self,
                       const AgentMemory& memory, WaitReason otherwise) {
  if (!self.voter) return Wait{otherwise};
  if (turn.phase == chain::TurnPhase::round_uploading && !memory.plan_unusable &&
      !memory.data_unusable && !memory.head_measured)
    return MeasureHead{};
  return Wait{otherwise};
}

}  // namespace

std::optional<std::uint32_t> partner_rank(const chain::TrainingPlan& plan,
                                          const std::string& member) {
  auto it = std::find(plan.partners.begin(), plan.partners.end(), member);
  if (it == plan.partners.end()) return std::nullopt;
  return static_cast<std::uint32_t>(it - plan.partners.begin());
}

std::optional<std::string> designated_aggregator(const chain::Run& run, const chain::Turn& turn) {
  if (!turn.round) return std::nullopt;
  for (const auto& p : run.plan.partners)
    if (turn.round->uploads.contains(p) && turn.round->unmasks.contains(p)) return p;
  return std::nullopt;
}

NextStep round_step(std::uint64_t height, const chain::Run& run, const chain::Turn& turn,
                    const AgentIdentity& self, const AgentMemory& memory,
                    std::uint32_t store_attempts) {
  if (!turn.round) return Wait{WaitReason::not_in_turn};
  const chain::RoundRecord& round = *turn.round;
  const bool partner = partner_rank(run.plan, self.member_name).has_value();
  const bool sharer = round.shares.contains(self.member_name);
  switch (turn.phase) {
    case chain::TurnPhase::round_sharing:
      if (!partner) return voter_or_wait(turn, self, memory, WaitReason::not_a_partner);
      if (sharer) return voter_or_wait(turn, self, memory, WaitReason::round_waiting);
      if (memory.share_journaled) return ShareRound{true};
      // One that cannot train stays out of U1 rather than drop out later.
      if (memory.plan_unusable) return Wait{WaitReason::plan_unusable};
      if (memory.data_unusable) return Wait{WaitReason::data_unusable};
      return ShareRound{false};
    case chain::TurnPhase::round_uploading:
      if (!partner) return voter_or_wait(turn, self, memory, WaitReason::not_a_partner);
      if (!sharer) return voter_or_wait(turn, self, memory, WaitReason::not_a_sharer);
      if (round.uploads.contains(self.member_name))
        return voter_or_wait(turn, self, memory, WaitReason::round_waiting);
      if (memory.upload_journaled) return TrainRound{true};
      if (auto failed = after_failure(memory, store_attempts)) return *failed;
      return TrainRound{false};
    case chain::TurnPhase::round_unmasking:
      if (!partner) return Wait{WaitReason::not_a_partner};
      if (!sharer) return Wait{WaitReason::not_a_sharer};
      if (round.unmasks.contains(self.member_name)) return Wait{WaitReason::round_waiting};
      if (memory.unmask_journaled) return RevealShares{true};
      if (auto failed = after_failure(memory, store_attempts)) return *failed;
      return RevealShares{false};
    case chain::TurnPhase::round_aggregating: {
      if (!partner) return Wait{WaitReason::not_a_partner};
      if (memory.candidate_journaled) return AggregateRound{true};
      if (auto failed = after_failure(memory, store_attempts)) return *failed;
      const auto designated = designated_aggregator(run, turn);
      if (designated == self.member_name) return AggregateRound{false};
      // The phase began save_deadline_blocks before its deadline.
      const std::uint64_t half = run.plan.save_deadline_blocks / 2;
      if (turn.deadline_height - height <= run.plan.save_deadline_blocks - half)
        return AggregateRound{false};
      return Wait{WaitReason::aggregator_first};
    }
    case chain::TurnPhase::save_voting:
      if (!self.voter) return Wait{WaitReason::not_a_voter};
      if (!turn.save_request_id || !turn.save) return Wait{WaitReason::not_in_turn};
      if (turn.model_votes.contains(self.member_name)) return Wait{WaitReason::already_voted};
      if (memory.save_vote_journaled) return VoteOnSave{*turn.save_request_id, true};
      if (memory.plan_unusable) return Wait{WaitReason::plan_unusable};
      if (memory.data_unusable) return Wait{WaitReason::data_unusable};
      return VoteOnSave{*turn.save_request_id, false};
    default:
      return Wait{WaitReason::not_in_turn};
  }
}

}  // namespace baton::agent
