// The training protocol's state (chain/training.h) as JSON: one
// implementation for `baton run status`, `baton models lineage`, `baton
// report` and the admin API's GET /training, so that a ledger read from disk
// and a node asked over HTTP print the same thing.
//
// Torch-free. The *_json functions are pure; read_training_status() reads a
// ledger directory or asks a node (the one place both CLIs get it from).
//
// GET /training and `baton run status --json` print training_status_json():
//   {"chain_id", "height", "active_run": id|null, "current_turn": {...} (only while a run
//    is active), "open_requests": [{kind, run_id, turn, requester,
//    request_id, deadline_height}], "runs": [run_json(run), ...],
//    "refusals": {...} (those naming no run), "balances": {member: credits}
//    (non-zero balances only; chain/accounts.h)}
// run_json(run):
//   {"run_id", "status": active|finished|awaiting_funding|unfunded|preparing|cancelled|
//    not_ready, "started_by", "start_height",
//    "end_height", "partners", "mode": chained|federated, "cycles" (federated: rounds),
//    "head", "contributivity_ppm": {name: ppm},
//    "gains_settled" (chain::gains_settled: every gain final),
//    "turns": [{turn, cycle, partner, phase, decision: pending|approved|
//              rejected|expired|abandoned, start_height, deadline_height, end_height,
//              load_request_id, load_request_height, load_token_id,
//              load_token_height, load_approvals: [...], save_request_id,
//              save_request_height, save_token_id, save_token_height,
//              votes: [{voter, approve, auc_candidate_ppm, auc_head_ppm,
//              validation_size, p_worse_ppm, reason, height}], head_before,
//              abandon?: {reason (chain::LoadFailure name), detail} (abandoned turns),
//              round?: (federated runs, docs/PROTOCOL.md §21) {shares: {partner:
//              {ephemeral_public, self_seed_commitment, height}}, uploads: {partner:
//              {head_model_id, object_key, masked_sha256, weight, height}}, unmasks:
//              {partner: {shares: [hex by dealer rank, "" when none], height}},
//              total_weight, self_seeds: {dealer: hex}, ephemeral_secrets: {dealer:
//              hex}, failed_dealer, complaints: {partner: {reason, detail}}},
//              save?: {parent_model_id, object_key, ciphertext_sha256,
//              model_sha256, key_commitment, wrapped_keys: {name: hex of the
//              80-byte sealed box}, train_samples, metrics_json}}],
//    "models": lineage_models_json(run), "plan": chain::plan_to_json(plan),
//    "refusals": {"total", "recent": [{height, tx_hash, sender, type
//    (TX_...), reason (chain::ProtocolRejected name), run_id, turn|null}]},
//    "escrow"? (a plan with a sponsor): {sponsor, min_credits, funded, state:
//    open|released|paid_at_deadline|refunded, settled_height, payout_tokens:
//    {partner: tokens}, payouts: {member: credits}, key_grants: {granter:
//    hex of its 80-byte sealed box of the final model's key for the sponsor}},
//    "readiness"? (a plan with a readiness phase, docs/PROTOCOL.md §22):
//    {since_height, deadline_height, partners: {partner: {answer:
//    ready|refused|no_answer, reason (chain::ReadinessFailure name, "" when
//    ready), detail, schema_sha256, train_rows, height}}},
//    "stop"? (status cancelled or not_ready): {cause (chain::RunStopCause
//    name), member, reason}}
// Hashes are lower-case hex, "" when absent.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chain/ledger_state.h"
#include "chain/result.h"
#include "chain/training.h"

namespace baton::api {

nlohmann::json training_status_json(const chain::LedgerState& state, std::string_view chain_id);
nlohmann::json run_json(const chain::Run& run);

// The lineage of `run`: each approved model in order, {id, parent,
// contributor (federated: the aggregator), contributors? (federated: U2's
// names, each credited an equal share of the gain), turn, height,
// load_token_id (federated: zeros), save_token_id, object_key,
// ciphertext_sha256, model_sha256, median_gain_ppm, gain_settled, votes: [...]}
// (median_gain_ppm is 0 until gain_settled: docs/PROTOCOL.md §18.2, "Gains").
nlohmann::json lineage_models_json(const chain::Run& run);

// The run a reader means: `run_id` when given (nullptr when there is no such
// run), else the active run, else the last started one (nullptr when none).
const nlohmann::json* select_run(const nlohmann::json& status, std::string_view run_id);

// The model id of a turn's candidate in its blob binding (and object key):
// "turn-N", or in a federated run (the plan's "mode") "turn-N-AGGREGATOR",
// the partner that sent the round's SaveRequest (agent/agent_util.h).
std::string candidate_model_id(const nlohmann::json& run, const nlohmann::json& turn);

// Where a reader gets the state from: exactly one of the two is set.
struct TrainingSource {
  std::string data_dir = {};  // a ledger directory, or a node's data directory (holds ledger/)
  std::string node_url = {};  // a node's admin API (GET /training)
  std::string node_cert_sha256 = {};  // https node_url: the pinned certificate (api/admin_tls.h)
};

// Error codes of read_training_status (Error::code).
enum class TrainingSourceErrc : int {
  bad_source = 1,     // not a directory, not a ledger, a bad URL
  io = 2,             // the store could not be read
  not_verified = 3,   // the ledger does not verify from genesis (name the height)
  unavailable = 4,    // the node did not answer or answered an error
  bad_arguments = 5,  // neither or both of data_dir and node_url
};

// training_status_json() of the ledger's tip: a data_dir is opened read-only
// (also while a node writes it), verified from genesis and replayed; a node
// URL is asked for GET /training.
Result<nlohmann::json> read_training_status(const TrainingSource& source);

}  // namespace baton::api
