// The training protocol's transitions: which protocol transactions the ledger
// accepts, what they change, and the end-of-block deadline step.
// docs/PROTOCOL.md, "Training protocol".
//
// A protocol transaction that check_protocol_tx refuses makes the whole block
// invalid (like a wrong nonce): a proposer must not include it. The node's
// mempool and proposer call check_protocol_tx against the state they build on
// and drop refused transactions.
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
#include "chain/verdict.h"

namespace baton::chain {

enum class ProtocolRejected {
  not_admin,         // StartRun from a member without role "admin"
  run_active,        // StartRun while another run is active
  duplicate_run_id,  // StartRun reusing a run id
  invalid_plan,      // StartRun whose plan fails validate_plan
  wrong_run,         // the run id is not the active run
  run_not_active,    // no run is active
  out_of_turn,  // LoadRequest/SaveRequest from a partner whose turn it is not, or wrong turn index
  wrong_phase,  // the turn is not in the phase this transaction needs
  wrong_head,   // LoadRequest/SaveRequest naming another head than the current one
  no_open_request,      // a vote for a request id that is not open
  vote_after_deadline,  // a vote for a request that expired
  duplicate_vote,       // the member already voted on this request
  not_a_voter,          // the voter has no voting power
  own_request,          // the requester voting on its own request
  malformed_request,    // SaveRequest with bad hashes, wrapped keys or empty object key
};

std::string_view to_string(ProtocolRejected reason);

bool is_protocol_tx(pb::TxType type);

// Decodes a payload of a protocol type; false when it is not canonical.
bool protocol_payload_decodes(pb::TxType type, std::string_view payload);

// Plan checks against the genesis: a valid run id, partners are distinct
// members holding role "partner", cycles >= 1, a known vote policy, quorum
// 0 < num/den < 1 ... (1 <= num < den), deadlines >= 1, epochs/batch >= 1.
Status validate_plan(const Genesis& genesis, const TrainingPlan& plan);

// pb::TrainingPlan <-> TrainingPlan (model_spec_hash is computed).
TrainingPlan plan_from_proto(const pb::TrainingPlan& p);
pb::TrainingPlan plan_to_proto(const TrainingPlan& plan);

// The genesis "training_plan" object (docs/PROTOCOL.md has its fields), or
// nullopt for an empty object. Errors name the field.
Result<std::optional<TrainingPlan>> plan_from_json(const Genesis& genesis, const nlohmann::json& j);
nlohmann::json plan_to_json(const TrainingPlan& plan);

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

// Would `tx` (already accepted by check_transaction, nonce aside) be accepted
// in the block at `state.height + 1` built on `state`? Pure; no effects.
std::optional<ProtocolRejected> check_protocol_tx(const ChainSpec& spec, const LedgerState& state,
                                                  const pb::Transaction& tx);

// Applies a protocol transaction in the block at `height` (= state.height + 1
// during a block). On rejection `state.training` is unchanged.
std::optional<ProtocolRejected> apply_protocol_tx(const ChainSpec& spec, LedgerState& state,
                                                  const pb::Transaction& tx, std::uint64_t height);

// Start of the block at `height`: at height 1 a genesis training plan starts
// its run (so protocol transactions in block 1 already see it).
void begin_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height);

// End of the block at `height`: every phase whose deadline_height <= height
// expires (the turn's outcome becomes expired, the head stays, the next turn
// begins with deadlines counted from `height`).
void end_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height);

}  // namespace baton::chain
