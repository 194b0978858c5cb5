// The partner agent's decision core for a federated run's round (issue 15,
// docs/PROTOCOL.md §21): next_step() (agent/next_step.h) asks it when the
// active run's plan is federated. Pure, like next_step(): the committed state,
// who this agent is and what it remembers -> what it does next.
//
//   round phase         this agent                          next step
//   ------------------  ----------------------------------  ---------------------------
//   any                 height >= the phase's deadline      Wait{deadline_passed}
//   round_sharing       a partner that has not shared       ShareRound (journaled: resend);
//                                                           Wait{plan_unusable|data_unusable}
//                                                           when it could not train (it
//                                                           stays out of U1: no dropout)
//   round_uploading     a partner of U1, not uploaded       TrainRound (journaled: resend);
//                                                           Complain once after a failure
//                                                           past its retries
//   round_uploading     a voter, head unmeasured            MeasureHead
//   round_unmasking     a partner of U1, not unmasked       RevealShares (journaled: resend);
//                                                           Complain once when a dealer's
//                                                           box does not open
//   round_aggregating   a partner, aggregate journaled      AggregateRound{journaled}
//   round_aggregating   the designated aggregator, or any   AggregateRound; Complain once
//                         partner in the phase's second     when an upload is unusable
//                         half
//   save_voting         a voter that has not voted          VoteOnSave (every voter: the
//                                                           aggregate is nobody's own)
//   otherwise                                               Wait
//
// The designated aggregator is the lowest-ranked partner (plan order) that
// both uploaded and unmasked: it proved it is alive this round. The others
// wait half the aggregating phase, then any of them aggregates, so a dead
// aggregator costs half a phase, not the round.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "chain/training.h"
#include "agent/next_step.h"

namespace baton::agent {

// Pre: `run` is federated and active, `turn` its current turn, `height` below
// the turn's deadline.
NextStep round_step(std::uint64_t height, const chain::Run& run, const chain::Turn& turn,
                    const AgentIdentity& self, const AgentMemory& memory,
                    std::uint32_t store_attempts);

// The designated aggregator of `turn` (in round_aggregating): the
// lowest-ranked partner that uploaded and unmasked; nullopt when none did.
std::optional<std::string> designated_aggregator(const chain::Run& run, const chain::Turn& turn);

// The rank of `member` in the plan's partners, or nullopt.
std::optional<std::uint32_t> partner_rank(const chain::TrainingPlan& plan,
                                          const std::string& member);

}  // namespace baton::agent
