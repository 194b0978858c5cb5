// The privacy budget's rules on the ledger (issue 14, docs/PROTOCOL.md
// §20.2): what a SaveRequest must carry, what the ledger records, and when a
// partner's turn is skipped because its budget is spent. protocol_steps.cpp
// calls these from the turn's transitions; the agent and the CLI read the
// same functions.
//
// Cost: each call below runs the accountant (chain/privacy_accountant.h, up
// to ~2.4 ms) at most once, through a memo of its pure results: a turn's
// begin makes one call, a SaveRequest one. A hostile partner can make its
// nodes compute at most one new result per distinct epoch count e in [1,
// plan.epochs] per turn (its `before` is fixed during the turn); anything
// else it sends is refused by integer checks first, or found in the memo.
#pragma once

#include <optional>
#include <string_view>

#include "chain/privacy_budget.h"
#include "chain/proto/ledger.pb.h"
#include "chain/training.h"

namespace baton::chain {

// What `partner`'s last accepted SaveRequest of `run` carried (all zero
// before its first).
PrivacySpend privacy_spent_by(const Run& run, std::string_view partner);

// next_privacy_spend through a bounded memo (the results are pure, so the
// memo changes no result; it only spares repeated accountant calls).
Result<PrivacySpend> next_privacy_spend_memo(const PrivacyPlan& plan, std::uint32_t epochs,
                                             const PrivacySpend& before);

// At the begin of a turn of `partner`: is its budget spent, i.e. would not
// even one more epoch keep its ε total within the plan's budget
// (max_epochs_within_budget == 0)? False for a plan without DP. Once a turn
// of it was budget_spent it stays so (no SaveRequest of it can be accepted
// since): answered from the turns without the accountant.
bool partner_budget_spent(const Run& run, std::string_view partner);

// The privacy checks of a SaveRequest `r` from `partner`, the partner of the
// current turn (docs/PROTOCOL.md §20.2): privacy_spend_mismatch when fields
// 12..14 are not next_privacy_spend(plan.privacy, e, before) for an e in [1,
// plan.epochs] (dp_sgd: e = (steps - before.steps) / steps per epoch, a whole
// number; local: e = plan.epochs; no DP: all three 0), then
// privacy_budget_exceeded when its epsilon_total_micro passes the budget.
// nullopt when it passes both.
std::optional<ProtocolRejected> check_privacy_spend(const Run& run, std::string_view partner,
                                                    const pb::SaveRequest& r);

// The spend fields 12..14 of `r`.
PrivacySpend privacy_spend_of(const pb::SaveRequest& r);

}  // namespace baton::chain
