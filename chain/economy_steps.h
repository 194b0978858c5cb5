// The accounts' transitions (issue 13): the check and the effect of each
// account transaction, in the form protocol_steps.cpp dispatches on (one
// overload per payload message). Internal to chain/; chain/protocol.h is the
// public face. docs/PROTOCOL.md, "Accounts and escrow".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "chain/chain_spec.h"
#include "chain/proto/ledger.pb.h"
#include "chain/protocol_steps.h"
#include "chain/training.h"
#include "chain/verdict.h"

namespace baton::chain {

// ---- Transfer ----
// Refused: zero_amount (amount 0), unknown_recipient (`to` is not a genesis
// member), insufficient_balance (the sender holds less than `amount`). A
// transfer to oneself is accepted and changes nothing.
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::Transfer& t);
// Precondition: check accepted it on this state.
void apply_transfer(TrainingState& ts, const ProtocolSender& sender, const pb::Transfer& t);

// The run a refused transaction is recorded against: its payload's run id,
// or "" for an account transaction that names none (its refusal goes to the
// training state's own log).
template <class Message>
std::string refusal_run_id(const Message& m) {
  return m.run_id();
}
inline std::string refusal_run_id(const pb::Transfer&) { return {}; }

}  // namespace baton::chain
