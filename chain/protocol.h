// The training protocol's transitions: which protocol transactions the ledger
// accepts, what they change, and the end-of-block deadline step.
// docs/PROTOCOL.md, "Training protocol".
//
// A protocol transaction that passes check_transaction and carries its
// sender's next nonce is always included: the ledger never makes a block
// invalid for a protocol decision. When the state refuses it (a
// ProtocolRejected reason: a late vote, a request out of turn, a malformed
// field, ...) its nonce is consumed and the refusal is recorded in the
// training state (a Refusal, chain/training.h); nothing else changes. So a
// mempool that admitted a transaction never has to drop it for a later state,
// and a member's later transactions are never stuck behind a refused one.
// check_protocol_tx tells in advance whether a transaction would be refused
// (a mempool may use it not to gossip hopeless transactions).
//
// Block height is the clock. Deadlines are checked in end_block, i.e. only
// when a block is applied: on an idle chain (no blocks) a deadline passes at
// the next block, whatever its contents (empty blocks advance the clock).
#pragma once

#include <optional>
#include <string_view>

#include "chain/chain_spec.h"
#include "chain/ledger_state.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"
#include "chain/training.h"
#include "chain/training_plan.h"
#include "chain/verdict.h"

namespace baton::chain {

bool is_protocol_tx(pb::TxType type);

// Decodes a payload of a protocol type; false when it is not canonical.
bool protocol_payload_decodes(pb::TxType type, std::string_view payload);

// The SaveRequest payload that records `save` for turn `turn` of `run_id`
// (recipients in ascending name order, as the map holds them). What a
// partner agent signs as a TX_SAVE_REQUEST.
pb::SaveRequest save_request_to_proto(std::string_view run_id, std::uint64_t turn,
                                      const SaveRecord& save);

// The field checks of a SaveRequest, which need no state: parent_model_id
// empty or 32 bytes, ciphertext_sha256, model_sha256 and key_commitment 32
// bytes, a non-empty object key, as many wrapped keys as recipients,
// recipients strictly ascending genesis members, every wrapped key
// kWrappedKeyBytes. Refused with malformed_request otherwise.
Verdict<SaveRecord, ProtocolRejected> save_record_from_proto(const Genesis& genesis,
                                                             const pb::SaveRequest& request);

// Would `tx` (already accepted by check_transaction, nonce aside) take
// effect in the block at `state.height + 1` built on `state`, or be refused
// (and only recorded)? Pure; no effects. Checked as that block would check
// it: after its begin_block, so on the state before block 1 a transaction
// already sees the genesis allocations and the genesis plan's run.
std::optional<ProtocolRejected> check_protocol_tx(const ChainSpec& spec, const LedgerState& state,
                                                  const pb::Transaction& tx);

// Applies a protocol transaction in the block at `height` (= state.height + 1
// during a block). When the state refuses it, `state.training` is unchanged
// except that the refusal is recorded (in the run the transaction names when
// that run exists and it is not a StartRun, else in the training state's own
// log), and the reason is returned. The caller has applied its nonce.
std::optional<ProtocolRejected> apply_protocol_tx(const ChainSpec& spec, LedgerState& state,
                                                  const pb::Transaction& tx, std::uint64_t height);

// Start of the block at `height`: at height 1 the genesis allocations are
// credited and a genesis training plan starts its run (so protocol and
// account transactions in block 1 already see them).
void begin_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height);

// End of the block at `height`: when the active run's current phase has
// deadline_height <= height, its turn expires (the outcome becomes expired,
// the head stays, the next turn begins with deadlines counted from `height`).
// At most one turn ends per block: deadlines are at least one block and
// computed with saturating arithmetic, so a new turn's deadline lies ahead.
// Then every approved turn whose vote deadline is `height` or earlier gets
// its settled gain (chain/training.h, settled_gain_ppm), added to its
// contributor's contributivity.
void end_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height);

}  // namespace baton::chain
