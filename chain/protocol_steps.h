// The training protocol's transitions, one check and one effect per
// transaction type. Internal to chain/: chain/protocol.h is the public face
// (check_protocol_tx, apply_protocol_tx, begin_block, end_block).
//
// Decide, then do: a transaction is decoded once (ProtocolTx), checked
// against a const state (check_step copies nothing, so a refused transaction
// costs the same on a long history as on a short one), and only then applied
// (apply_step cannot fail) or recorded as refused (record_refusal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "chain/chain_spec.h"
#include "chain/proto/ledger.pb.h"
#include "chain/training.h"
#include "chain/verdict.h"

namespace baton::chain {

struct ProtocolSender {
  std::string name;  // member name
  std::uint64_t power = 0;
};

// A protocol transaction decoded once: its check, its effects and its refusal
// record all read this.
struct ProtocolTx {
  ProtocolSender sender;
  Hash id;  // its tx hash: the request id of a LoadRequest or SaveRequest
  pb::TxType type = pb::TX_UNKNOWN;
  std::variant<pb::TrainingPlan, pb::LoadRequest, pb::LoadApproval, pb::SaveRequest, pb::ModelVote,
               pb::TurnAbandon, pb::Transfer, pb::FundRun, pb::ReleaseEscrow, pb::KeyGrant,
               pb::RoundShare, pb::RoundUpload, pb::RoundUnmask, pb::RunReady, pb::CancelRun,
               pb::DataSummary>
      payload;
};

// Precondition (check_transaction accepted `tx`): the sender is a member, the
// type is a protocol type and the payload its canonical encoding. Aborts
// otherwise: a caller that skipped those checks is a bug.
ProtocolTx decode_protocol_tx(const ChainSpec& spec, const pb::Transaction& tx);

// A ModelVote on an approved candidate whose gain is not settled yet: the
// run (active or finished) and the turn it is recorded in.
struct LateVote {
  std::string run_id;
  std::uint64_t turn = 0;
};

// What a check computed that the effect needs: the typed plan of a StartRun,
// the record of a SaveRequest, where a late ModelVote goes, the record of a
// DataSummary (§23); nothing for the
// other types.
using CheckedTx =
    std::variant<std::monostate, TrainingPlan, SaveRecord, LateVote, DataSummaryRecord>;

// Would `tx` take effect on `ts`, or why is it refused? Reads only.
Verdict<CheckedTx, ProtocolRejected> check_step(const ChainSpec& spec, const TrainingState& ts,
                                                const ProtocolTx& tx);

// The effects of `tx` in the block at `height`. Precondition: check_step
// returned `checked` for `tx` on this very state.
void apply_step(const ChainSpec& spec, TrainingState& ts, const ProtocolTx& tx, CheckedTx checked,
                std::uint64_t height);

// Records that the block at `height` refused `tx` for `reason`
// (docs/PROTOCOL.md §18.3: which log, which run id and turn).
void record_refusal(TrainingState& ts, const ProtocolTx& tx, ProtocolRejected reason,
                    std::uint64_t height);

// Starts `plan` (validated) as the active run; turn 0 begins at `base_height`.
void start_run(TrainingState& ts, TrainingPlan plan, std::string started_by,
               std::uint64_t base_height);

// End of the block at `height`: every approved turn (of any run) whose vote
// deadline is <= height gets its settled gain (settled_gain_ppm of all its
// recorded votes), added to its contributor's contributivity. Costs one
// look per run plus one per turn settled.
void settle_due_gains(TrainingState& ts, std::uint64_t height);

// End of the block at `height`: when the active run's current phase has
// deadline_height <= height, its turn expires and the next one begins. At
// most one turn per block: the next turn's deadline is above `height`.
void expire_due_turn(TrainingState& ts, std::uint64_t height);

// Begins turn `index` of `run` at `height`, skipping (phase done, at
// `height`) every turn of a suspended partner (outcome suspended), of one
// whose privacy budget is spent (outcome budget_spent, partner_budget_spent)
// or of one whose balance cannot pay what the plan asks (outcome cannot_pay,
// partner_cannot_pay), or finishes the run after its last turn (and then it
// is no longer the active run).
void begin_from(TrainingState& ts, Run& run, std::uint64_t index, std::uint64_t height);

// Ends the active run's current turn `run.turns.back()` with `outcome` at
// `height` (its stake settled) and begins the next one.
void finish_turn(TrainingState& ts, Run& run, TurnOutcome outcome, std::uint64_t height);

// End of the block at `height` (§25.3): while the active chained run's
// current turn belongs to a partner that is not among `members` (it was
// removed), that turn ends with outcome removed (its stake refunded) and the
// next begins. At most one iteration per remaining turn.
void skip_removed_partners(TrainingState& ts, const std::vector<GenesisMember>& members,
                           std::uint64_t height);

// height + blocks, or UINT64_MAX when that would not fit: a deadline beyond
// the last height is "never", not a wrap into the past.
std::uint64_t deadline_after(std::uint64_t height, std::uint64_t blocks);

}  // namespace baton::chain
