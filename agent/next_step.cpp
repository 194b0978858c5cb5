#include "agent/next_step.h"

#include "agent/round_step.h"

namespace baton::agent {

Abandon clipped(chain::LoadFailure reason, std::string detail) {
  if (detail.size() > chain::kMaxAbandonDetailBytes) {
    detail.resize(chain::kMaxAbandonDetailBytes - 3);
    detail += "...";
  }
  return {reason, std::move(detail)};
}

namespace {

// Why this agent cannot train at all on its turn, if it cannot.
std::optional<Abandon> cannot_take_part(const AgentMemory& memory) {
  // The plan first: the local data are read for its model.
  if (memory.plan_unusable)
    return clipped(chain::LoadFailure::training_failed, *memory.plan_unusable);
  if (memory.data_unusable)
    return clipped(chain::LoadFailure::local_data_unusable, *memory.data_unusable);
  return std::nullopt;
}

NextStep partner_step(const chain::TrainingState& state, const chain::Run& run,
                      const chain::Turn& turn, const AgentMemory& memory,
                      std::uint32_t store_attempts) {
  if (memory.abandoned) return clipped(memory.abandoned->reason, memory.abandoned->detail);
  switch (turn.phase) {
    case chain::TurnPhase::awaiting_load_request:
      if (auto no = cannot_take_part(memory)) return *no;
      // The ledger would refuse the LoadRequest (§19.9): do not ask, nor
      // train, for a turn it cannot pay. The stake it locks there also
      // pays the SaveRequest's cost, so a SaveRequest is always paid.
      if (chain::partner_cannot_pay(run, turn.partner, state.accounts.balance(turn.partner)))
        return Wait{WaitReason::cannot_pay};
      return RequestLoad{};
    case chain::TurnPhase::training:
      // Journaled before it was first sent: resend it whatever happened since.
      if (memory.candidate_journaled) return SubmitSave{};
      if (auto no = cannot_take_part(memory)) return *no;
      if (const auto& f = memory.failure; f && (!f->retryable || f->attempts >= store_attempts))
        return clipped(f->reason, f->detail);
      return Train{};
    case chain::TurnPhase::load_voting:
    case chain::TurnPhase::save_voting:
    default:  // done; a federated round's phases are round_step()'s
      return Wait{WaitReason::votes_pending};
  }
  return Wait{WaitReason::votes_pending};
}

NextStep voter_step(const chain::Turn& turn, const AgentIdentity& self, const AgentMemory& memory) {
  switch (turn.phase) {
    case chain::TurnPhase::load_voting:
      if (!turn.load_request_id) return Wait{WaitReason::not_in_turn};
      if (turn.load_approvals.contains(self.member_name)) return Wait{WaitReason::already_voted};
      return VoteOnLoad{*turn.load_request_id, memory.load_vote_journaled};
    case chain::TurnPhase::save_voting:
      if (!turn.save_request_id || !turn.save) return Wait{WaitReason::not_in_turn};
      if (turn.model_votes.contains(self.member_name)) return Wait{WaitReason::already_voted};
      if (memory.save_vote_journaled) return VoteOnSave{*turn.save_request_id, true};
      // Unable to measure: abstain (a vote would claim a measurement).
      if (memory.plan_unusable) return Wait{WaitReason::plan_unusable};
      if (memory.data_unusable) return Wait{WaitReason::data_unusable};
      return VoteOnSave{*turn.save_request_id, false};
    case chain::TurnPhase::training:
      // Not before the load token: measuring would delay the approval.
      if (memory.plan_unusable) return Wait{WaitReason::plan_unusable};
      if (memory.data_unusable) return Wait{WaitReason::data_unusable};
      if (memory.head_measured) return Wait{WaitReason::head_measured};
      return MeasureHead{};
    default:  // awaiting_load_request, done; a federated round's phases are round_step()'s
      return Wait{WaitReason::not_in_turn};
  }
  return Wait{WaitReason::not_in_turn};
}

}  // namespace

TurnFailure head_load_failure(HandoffErrc code, std::string detail, std::uint32_t attempts) {
  TurnFailure f;
  f.detail = std::move(detail);
  f.attempts = attempts;
  f.retryable = code == HandoffErrc::store_failed || code == HandoffErrc::io;
  switch (code) {
    case HandoffErrc::missing_blob:
      f.reason = chain::LoadFailure::head_missing;
      break;
    case HandoffErrc::hash_mismatch:
    case HandoffErrc::model_hash_mismatch:
    case HandoffErrc::wrong_size:
      f.reason = chain::LoadFailure::head_hash_mismatch;
      break;
    case HandoffErrc::store_failed:
      f.reason = chain::LoadFailure::store_unreachable;
      break;
    default:
      f.reason = chain::LoadFailure::head_unusable;
  }
  return f;
}

TurnFailure upload_failure(HandoffErrc code, std::string detail, std::uint32_t attempts) {
  TurnFailure f;
  f.reason = code == HandoffErrc::store_failed ? chain::LoadFailure::store_unreachable
                                               : chain::LoadFailure::training_failed;
  f.detail = std::move(detail);
  f.retryable = true;
  f.attempts = attempts;
  return f;
}

std::string_view to_string(WaitReason why) {
  switch (why) {
    case WaitReason::no_active_run:
      return "no_active_run";
    case WaitReason::deadline_passed:
      return "deadline_passed";
    case WaitReason::not_in_turn:
      return "not_in_turn";
    case WaitReason::votes_pending:
      return "votes_pending";
    case WaitReason::already_voted:
      return "already_voted";
    case WaitReason::not_a_voter:
      return "not_a_voter";
    case WaitReason::head_measured:
      return "head_measured";
    case WaitReason::plan_unusable:
      return "plan_unusable";
    case WaitReason::data_unusable:
      return "data_unusable";
    case WaitReason::cannot_pay:
      return "cannot_pay";
    case WaitReason::round_waiting:
      return "round_waiting";
    case WaitReason::not_a_partner:
      return "not_a_partner";
    case WaitReason::not_a_sharer:
      return "not_a_sharer";
    case WaitReason::aggregator_first:
      return "aggregator_first";
  }
  return "unknown";
}

std::string describe(const NextStep& step) {
  struct Describe {
    std::string operator()(const Wait& w) const {
      return "wait (" + std::string(to_string(w.why)) + ")";
    }
    std::string operator()(const RequestLoad&) const { return "request load"; }
    std::string operator()(const VoteOnLoad& v) const {
      return v.journaled ? "vote on load (journaled)" : "vote on load";
    }
    std::string operator()(const Train&) const { return "train"; }
    std::string operator()(const SubmitSave&) const { return "submit save"; }
    std::string operator()(const VoteOnSave& v) const {
      return v.journaled ? "vote on save (journaled)" : "vote on save";
    }
    std::string operator()(const MeasureHead&) const { return "measure head"; }
    std::string operator()(const Abandon& a) const {
      return "abandon (" + std::string(chain::to_string(a.reason)) + ": " + a.detail + ")";
    }
    static std::string resend(std::string what, bool journaled) {
      return journaled ? what + " (journaled)" : what;
    }
    std::string operator()(const ShareRound& r) const { return resend("share round", r.journaled); }
    std::string operator()(const TrainRound& r) const { return resend("train round", r.journaled); }
    std::string operator()(const RevealShares& r) const {
      return resend("reveal shares", r.journaled);
    }
    std::string operator()(const AggregateRound& r) const {
      return resend("aggregate round", r.journaled);
    }
    std::string operator()(const Complain& c) const {
      return "complain (" + std::string(chain::to_string(c.what.reason)) + ": " + c.what.detail +
             ")";
    }
  };
  return std::visit(Describe{}, step);
}

NextStep next_step(std::uint64_t height, const chain::TrainingState& state,
                   const AgentIdentity& self, const AgentMemory& memory,
                   std::uint32_t store_attempts) {
  const chain::Run* run = state.active();
  if (run == nullptr || run->status != chain::RunStatus::active)
    return Wait{WaitReason::no_active_run};
  const chain::Turn* turn = run->current_turn();
  if (turn == nullptr) return Wait{WaitReason::no_active_run};
  if (height >= turn->deadline_height) return Wait{WaitReason::deadline_passed};
  if (run->plan.federated()) return round_step(height, *run, *turn, self, memory, store_attempts);
  if (turn->partner == self.member_name)
    return partner_step(state, *run, *turn, memory, store_attempts);
  if (!self.voter) return Wait{WaitReason::not_a_voter};
  return voter_step(*turn, self, memory);
}

}  // namespace baton::agent
