// Deposits and the submission cost (issue 13, docs/PROTOCOL.md §19.9): what
// a turn of a plan with stakes locks, pays and gets back. Internal to chain/;
// protocol_steps.cpp calls these from the turn's transitions.
//
// Conservation: every credit moves between a balance, a turn's Stake and the
// run's escrow; nothing is created or burnt. Each function is a no-op for a
// plan without stakes (TrainingPlan::has_stakes).
#pragma once

#include "chain/accounts.h"
#include "chain/training.h"

namespace baton::chain {

// At the LoadRequest of `t`: debits submission_cost + required_deposit from
// its partner into t.stake. Precondition: partner_cannot_pay found nothing.
void lock_stake(Accounts& accounts, Run& run, Turn& t);

// At the SaveRequest of `t`: the locked cost goes into the run's escrow
// (a plan with a cost names a sponsor, so the run has an escrow).
void pay_submission_cost(Run& run, Turn& t);

// When `t` ends with `outcome` (t.phase still the phase it ended in), every
// credit still locked is settled:
//   approved: the deposit back to the partner;
//   rejected candidate (t.save set): the deposit split among the voters whose
//     recorded vote is a rejection (split_credits);
//   expired in phase training (a load token, no SaveRequest): the cost and
//     floor(deposit / 2) back, the rest split among the voters who approved
//     the load;
//   anything else (a rejected load, an abandon, an expiry while a vote was
//     open): everything back.
void settle_stake(Accounts& accounts, Run& run, Turn& t, TurnOutcome outcome);

// `amount` split among `names` (ascending, not empty): each gets
// floor(amount / n), and the first amount mod n names one credit more.
// Non-zero shares only.
std::map<std::string, std::uint64_t> split_credits(std::uint64_t amount,
                                                   const std::vector<std::string>& names);

}  // namespace baton::chain
