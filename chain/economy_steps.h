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

// ---- FundRun ----
// Refused: zero_amount, wrong_run (no run has this id), not_sponsor (the
// sender is not the run's sponsor, or the plan names none), run_finished
// (the run finished or ended unfunded), insufficient_balance.
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::FundRun& f);
// Moves the credits into the escrow; a run awaiting funding whose escrow now
// holds min_escrow begins turn 0 at `height`.
void apply_fund(TrainingState& ts, const ProtocolSender& sender, const pb::FundRun& f,
                std::uint64_t height);

// ---- ReleaseEscrow ----
// Refused: wrong_run, not_sponsor, already_released (the escrow settled:
// released, paid at the deadline, or refunded), run_not_finished.
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender,
                                           const pb::ReleaseEscrow& r);
void apply_release(TrainingState& ts, const pb::ReleaseEscrow& r, std::uint64_t height);

// ---- KeyGrant (docs/PROTOCOL.md §19.8) ----
// Refused: malformed_request (model id, commitment or sealed key of the wrong
// size), wrong_run, not_released (no release by the sponsor committed),
// grant_to_non_sponsor, not_key_holder (the model is not the run's final
// one, or the sender received no wrapped key of it), key_commitment_mismatch.
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::KeyGrant& g);
void apply_key_grant(TrainingState& ts, const ProtocolSender& sender, const pb::KeyGrant& g);

// End of the block at `height` (after the turn deadlines): the active run
// still awaiting funding at its funding deadline ends `unfunded` and its
// escrow goes back to the sponsor; every finished run whose escrow is still
// open at its release deadline is paid out (paid_at_deadline: the sponsor
// gets no model). docs/PROTOCOL.md §19.7.
void settle_due_escrows(TrainingState& ts, std::uint64_t height);

// The run a refused transaction is recorded against: its payload's run id,
// or "" for an account transaction that names none (its refusal goes to the
// training state's own log).
template <class Message>
std::string refusal_run_id(const Message& m) {
  return m.run_id();
}
inline std::string refusal_run_id(const pb::Transfer&) { return {}; }

// Refunds everything the escrow of `run` holds to its sponsor and closes it
// (refunded): a run that ended unfunded, not_ready, or cancelled before any
// approved turn (§19.7, §22.3). Pre: the escrow is open.
void refund_escrow(Run& run, Accounts& accounts, std::uint64_t height);

// Starts turn 0 of a run that was awaiting funding (protocol_steps.cpp);
// skips the turns of partners that cannot pay, as every turn's start does.
void begin_funded_run(TrainingState& ts, Run& run, std::uint64_t height);

}  // namespace baton::chain
