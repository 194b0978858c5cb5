// Run control (issue 17, docs/PROTOCOL.md §22): the readiness phase before
// turn 0 (RunReady), an admin's CancelRun, and the end-of-block readiness
// deadline, in the form protocol_steps.cpp dispatches on (one check overload
// per payload message). Internal to chain/; chain/protocol.h is the public
// face.
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

// ---- RunReady ----
// Refused: wrong_run (no run has this id), not_a_partner (the sender is not a
// partner of the plan), malformed_request (a schema hash neither empty nor 32
// bytes, a detail over kMaxRunControlTextBytes, a reason other than 0 when
// ready or outside 1..kMaxReadinessFailure when not), not_preparing (the run
// is not in its readiness phase), already_answered (a second RunReady from the
// partner), wrong_schema_hash (a ready answer, for a plan with a schema_id,
// whose schema_sha256 is not consortium_schema_sha256 of that id).
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::RunReady& r);
// Records the answer; then, in this order: a refusal that leaves too few
// partners (chained: any refusal; federated: fewer than min_partners could
// still be ready) ends the run not_ready; a ready answer whose schema hash
// differs from an earlier ready answer's ends it not_ready (schema_mismatch);
// when every partner has answered, turn 0 begins at `height`.
void apply_run_ready(TrainingState& ts, const ProtocolSender& sender, const pb::RunReady& r,
                     std::uint64_t height);

// ---- CancelRun ----
// Refused: not_admin (the sender lacks role "admin"), malformed_request (a
// reason over kMaxRunControlTextBytes), wrong_run, run_ended (the run
// already ended).
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::CancelRun& c);
// Ends the run cancelled at `height`: its current turn (if pending) ends
// expired with its stake settled as an expired turn's; the escrow is
// refunded to the sponsor when no turn was approved, else it stays open and
// is released (or paid at its deadline) as a finished run's.
void apply_cancel(TrainingState& ts, const ProtocolSender& sender, const pb::CancelRun& c,
                  std::uint64_t height);

// Where a run would begin turn 0 at `height` (its start, or its funding):
// a plan with readiness_deadline_blocks > 0 becomes preparing (ready_since =
// height); any other begins turn 0 (begin_from).
void begin_or_prepare(TrainingState& ts, Run& run, std::uint64_t height);

// End of the block at `height`: the active run still preparing at its
// readiness deadline (ready_since + readiness_deadline_blocks) begins turn 0
// when federated with at least min_partners ready answers, else ends
// not_ready (readiness_expired).
void end_due_readiness(TrainingState& ts, std::uint64_t height);

}  // namespace baton::chain
