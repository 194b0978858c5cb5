#include "chain/protocol.h"

#include <algorithm>
#include <cstdlib>

#include "chain/economy_steps.h"
#include "chain/encoding.h"
#include "chain/membership.h"
#include "chain/membership_steps.h"
#include "chain/protocol_steps.h"
#include "chain/readiness_steps.h"
#include "chain/transaction.h"

namespace baton::chain {

std::string_view to_string(ProtocolRejected reason) {
  switch (reason) {
    case ProtocolRejected::not_admin:
      return "only a member with role \"admin\" may start or cancel a run";
    case ProtocolRejected::run_active:
      return "another training run is still active";
    case ProtocolRejected::duplicate_run_id:
      return "a run with this id was already started";
    case ProtocolRejected::invalid_plan:
      return "the training plan is not valid for this consortium";
    case ProtocolRejected::wrong_run:
      return "the transaction names a run that is not the active run (or no run at all)";
    case ProtocolRejected::run_not_active:
      return "no training run is active";
    case ProtocolRejected::out_of_turn:
      return "it is not the sender's turn (or the turn index is wrong)";
    case ProtocolRejected::wrong_phase:
      return "the current turn is not in the phase this transaction needs";
    case ProtocolRejected::wrong_head:
      return "the request names another head model than the current one";
    case ProtocolRejected::no_open_request:
      return "the vote is for a request that is not open";
    case ProtocolRejected::vote_after_deadline:
      return "the vote is for a request whose deadline has passed";
    case ProtocolRejected::duplicate_vote:
      return "the member already voted on this request";
    case ProtocolRejected::not_a_voter:
      return "the sender has no voting power";
    case ProtocolRejected::own_request:
      return "a partner may not vote on its own request";
    case ProtocolRejected::malformed_request:
      return "the request or vote has malformed fields (hash lengths, keys, AUC range)";
    case ProtocolRejected::vote_contradicts_policy:
      return "the vote's approve contradicts its own AUCs and p under the plan's vote policy";
    case ProtocolRejected::duplicate_model:
      return "a candidate with this model_sha256 was already submitted in the run";
    case ProtocolRejected::insufficient_balance:
      return "the sender's balance does not hold the amount";
    case ProtocolRejected::unknown_recipient:
      return "the recipient is not a member of this consortium";
    case ProtocolRejected::zero_amount:
      return "the amount is zero; send at least one credit";
    case ProtocolRejected::not_sponsor:
      return "only the sponsor the run's plan names may fund or release its escrow";
    case ProtocolRejected::run_finished:
      return "the run finished (or ended unfunded) and takes no more funds";
    case ProtocolRejected::run_not_finished:
      return "the run has not finished; its escrow is released after its last turn";
    case ProtocolRejected::gains_not_settled:
      return "the run's last gains are not settled yet; release after the last approved turn's "
             "vote deadline";
    case ProtocolRejected::cannot_afford_stake:
      return "the partner's balance does not hold the plan's submission cost plus its required "
             "deposit";
    case ProtocolRejected::below_min_balance:
      return "the partner's balance is below the plan's minimum balance to take part";
    case ProtocolRejected::privacy_budget_exceeded:
      return "the SaveRequest's epsilon total passes the plan's privacy budget: the partner "
             "trained more epochs than its budget allows";
    case ProtocolRejected::privacy_spend_mismatch:
      return "the SaveRequest's privacy fields (noisy steps, epsilon of the turn, epsilon total) "
             "are not what the plan and the partner's last accepted spend give";
    case ProtocolRejected::already_released:
      return "the run's escrow was already paid out (released, paid at its deadline, or refunded)";
    case ProtocolRejected::not_released:
      return "the run's sponsor has not released its escrow, so its model may not be granted";
    case ProtocolRejected::key_commitment_mismatch:
      return "the key grant claims another key commitment than the final model's";
    case ProtocolRejected::not_key_holder:
      return "the sender holds no wrapped key of the run's final model (or names another model)";
    case ProtocolRejected::grant_to_non_sponsor:
      return "a key grant may only go to the run's sponsor";
    case ProtocolRejected::wrong_round:
      return "the transaction names another round than the federated run's current one";
    case ProtocolRejected::not_federated:
      return "the transaction does not fit the run's mode (a round transaction in a chained run, "
             "or a load request or approval in a federated one)";
    case ProtocolRejected::already_shared:
      return "the partner already sent its shares for this round";
    case ProtocolRejected::not_a_sharer:
      return "the partner sent no shares in this round, so it may neither upload nor unmask";
    case ProtocolRejected::already_uploaded:
      return "the partner already uploaded its masked update for this round";
    case ProtocolRejected::already_unmasked:
      return "the partner already revealed its shares for this round";
    case ProtocolRejected::wrong_share:
      return "a revealed share is missing, extra, or not the one its dealer committed to for "
             "the sender";
    case ProtocolRejected::not_preparing:
      return "the run is not in its readiness phase (it began its turns, awaits its funding, or "
             "ended)";
    case ProtocolRejected::not_a_partner:
      return "the sender is not a partner of the run's plan";
    case ProtocolRejected::already_answered:
      return "the partner already posted its readiness for this run";
    case ProtocolRejected::run_ended:
      return "the run already ended (finished, unfunded, cancelled or not ready)";
    case ProtocolRejected::malformed_summary:
      return "the data summary is out of its bounds or inconsistent (docs/PROTOCOL.md §23.1)";
    case ProtocolRejected::not_a_data_holder:
      return "only a member with role \"partner\" may post a data summary";
    case ProtocolRejected::schema_frozen:
      return "a run naming this schema id has started, so its summaries are frozen; post under "
             "a new schema id";
    case ProtocolRejected::summary_layout_mismatch:
      return "the summary's columns, kinds, positive value or NA tokens differ from another "
             "member's summary for this schema id";
    case ProtocolRejected::too_many_summaries:
      return "the member already holds summaries for the most schema ids a member may";
    case ProtocolRejected::unknown_schema:
      return "the plan's schema id has no summaries that derive a schema with the plan's "
             "feature columns and positive value";
    case ProtocolRejected::wrong_schema_hash:
      return "the readiness names another schema hash than the consortium schema the plan's "
             "schema id derives";
    case ProtocolRejected::not_validator:
      return "only a member with voting power may propose or approve a membership change";
    case ProtocolRejected::unknown_member:
      return "the membership change names no current member";
    case ProtocolRejected::name_taken:
      return "the name belongs to a member or to a removed member (names are never reused)";
    case ProtocolRejected::key_taken:
      return "a new key belongs to a member or was retired (keys are never reused)";
    case ProtocolRejected::last_validator:
      return "the change would leave the consortium without voting power";
    case ProtocolRejected::bad_rotation_signature:
      return "the key rotation's new key does not sign the rotation";
    case ProtocolRejected::change_expired:
      return "the membership change's expiry height has passed or lies too far ahead";
    case ProtocolRejected::too_many_pending:
      return "too many membership changes are pending (in all, or proposed by this member)";
    case ProtocolRejected::bad_member_fields:
      return "the membership change has a field out of bounds or one its kind does not take";
    case ProtocolRejected::too_many_members:
      return "the consortium holds the most members it may";
    case ProtocolRejected::already_approved:
      return "the validator already approved this membership change";
    case ProtocolRejected::too_many_rotations:
      return "the member rotated its keys the most times it may; ask the validators for "
             "REPLACE_KEYS";
    case ProtocolRejected::already_rotating:
      return "the member already rotated its keys in this block";
    case ProtocolRejected::too_many_grants:
      return "the most model keys that may be granted to members were granted already";
  }
  return "the protocol transaction was rejected";
}

bool is_protocol_tx(pb::TxType type) {
  switch (type) {
    case pb::TX_START_RUN:
    case pb::TX_LOAD_REQUEST:
    case pb::TX_LOAD_APPROVAL:
    case pb::TX_SAVE_REQUEST:
    case pb::TX_MODEL_VOTE:
    case pb::TX_TURN_ABANDON:
    case pb::TX_TRANSFER:
    case pb::TX_FUND_RUN:
    case pb::TX_RELEASE_ESCROW:
    case pb::TX_KEY_GRANT:
    case pb::TX_ROUND_SHARE:
    case pb::TX_ROUND_UPLOAD:
    case pb::TX_ROUND_UNMASK:
    case pb::TX_RUN_READY:
    case pb::TX_CANCEL_RUN:
    case pb::TX_DATA_SUMMARY:
    case pb::TX_MEMBER_CHANGE:
    case pb::TX_KEY_ROTATION:
      return true;
    default:
      return false;
  }
}

bool protocol_payload_decodes(pb::TxType type, std::string_view payload) {
  switch (type) {
    case pb::TX_START_RUN: {
      pb::TrainingPlan m;
      return parse_canonical(payload, m);
    }
    case pb::TX_LOAD_REQUEST: {
      pb::LoadRequest m;
      return parse_canonical(payload, m);
    }
    case pb::TX_LOAD_APPROVAL: {
      pb::LoadApproval m;
      return parse_canonical(payload, m);
    }
    case pb::TX_SAVE_REQUEST: {
      pb::SaveRequest m;
      return parse_canonical(payload, m);
    }
    case pb::TX_MODEL_VOTE: {
      pb::ModelVote m;
      return parse_canonical(payload, m);
    }
    case pb::TX_TURN_ABANDON: {
      pb::TurnAbandon m;
      return parse_canonical(payload, m);
    }
    case pb::TX_TRANSFER: {
      pb::Transfer m;
      return parse_canonical(payload, m);
    }
    case pb::TX_FUND_RUN: {
      pb::FundRun m;
      return parse_canonical(payload, m);
    }
    case pb::TX_RELEASE_ESCROW: {
      pb::ReleaseEscrow m;
      return parse_canonical(payload, m);
    }
    case pb::TX_KEY_GRANT: {
      pb::KeyGrant m;
      return parse_canonical(payload, m);
    }
    case pb::TX_ROUND_SHARE: {
      pb::RoundShare m;
      return parse_canonical(payload, m);
    }
    case pb::TX_ROUND_UPLOAD: {
      pb::RoundUpload m;
      return parse_canonical(payload, m);
    }
    case pb::TX_ROUND_UNMASK: {
      pb::RoundUnmask m;
      return parse_canonical(payload, m);
    }
    case pb::TX_RUN_READY: {
      pb::RunReady m;
      return parse_canonical(payload, m);
    }
    case pb::TX_CANCEL_RUN: {
      pb::CancelRun m;
      return parse_canonical(payload, m);
    }
    case pb::TX_DATA_SUMMARY: {
      pb::DataSummary m;
      return parse_canonical(payload, m);
    }
    case pb::TX_MEMBER_CHANGE: {
      pb::MemberChange m;
      return parse_canonical(payload, m);
    }
    case pb::TX_KEY_ROTATION: {
      pb::KeyRotation m;
      return parse_canonical(payload, m);
    }
    default:
      return false;
  }
}

namespace {

std::optional<Hash> opt_hash(const std::string& bytes) {
  if (bytes.empty()) return std::nullopt;
  return Hash::from_bytes(as_bytes(bytes)).value();  // callers check the length first
}

std::string hash_string(const Hash& h) {
  return {reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size()};
}

bool valid_opt_hash(const std::string& bytes) { return bytes.empty() || bytes.size() == 32; }

// A record string: at most kMaxReproTextBytes of printable ASCII (0x20..0x7e).
bool valid_repro_text(const std::string& text) {
  if (text.size() > kMaxReproTextBytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Fields 15..22 (issue 16): nullopt when all are absent; malformed_request
// when one is out of bounds.
Verdict<std::optional<ReproRecord>, ProtocolRejected> repro_from_proto(const pb::SaveRequest& r) {
  if (r.torch_threads() > kMaxReproThreads || !valid_repro_text(r.baton_version()) ||
      !valid_repro_text(r.baton_commit()) || !valid_repro_text(r.libtorch_version()) ||
      !valid_repro_text(r.device()) || !valid_opt_hash(r.train_rows_sha256()) ||
      !valid_opt_hash(r.schema_sha256())) {
    return ProtocolRejected::malformed_request;
  }
  ReproRecord rec;
  rec.train_seed = r.train_seed();
  rec.torch_threads = r.torch_threads();
  rec.baton_version = r.baton_version();
  rec.baton_commit = r.baton_commit();
  rec.libtorch_version = r.libtorch_version();
  rec.device = r.device();
  rec.train_rows_sha256 = opt_hash(r.train_rows_sha256());
  rec.schema_sha256 = opt_hash(r.schema_sha256());
  if (rec == ReproRecord{}) return std::optional<ReproRecord>{};
  return std::optional<ReproRecord>(std::move(rec));
}

}  // namespace

pb::SaveRequest save_request_to_proto(std::string_view run_id, std::uint64_t turn,
                                      const SaveRecord& save) {
  pb::SaveRequest r;
  r.set_run_id(std::string(run_id));
  r.set_turn(turn);
  if (save.parent_model_id) r.set_parent_model_id(hash_string(*save.parent_model_id));
  r.set_object_key(save.object_key);
  r.set_ciphertext_sha256(hash_string(save.ciphertext_sha256));
  r.set_model_sha256(hash_string(save.model_sha256));
  for (const auto& [name, sealed] : save.wrapped_keys) {
    r.add_key_recipients(name);
    r.add_wrapped_keys(sealed);
  }
  r.set_train_samples(save.train_samples);
  r.set_metrics_json(save.metrics_json);
  r.set_key_commitment(hash_string(save.key_commitment));
  if (save.repro) {
    const ReproRecord& rec = *save.repro;
    r.set_train_seed(rec.train_seed);
    r.set_torch_threads(rec.torch_threads);
    r.set_baton_version(rec.baton_version);
    r.set_baton_commit(rec.baton_commit);
    r.set_libtorch_version(rec.libtorch_version);
    r.set_device(rec.device);
    if (rec.train_rows_sha256) r.set_train_rows_sha256(hash_string(*rec.train_rows_sha256));
    if (rec.schema_sha256) r.set_schema_sha256(hash_string(*rec.schema_sha256));
  }
  return r;
}

Verdict<SaveRecord, ProtocolRejected> save_record_from_proto(const Genesis& genesis,
                                                             const pb::SaveRequest& r) {
  if (!valid_opt_hash(r.parent_model_id()) || r.ciphertext_sha256().size() != 32 ||
      r.model_sha256().size() != 32 || r.key_commitment().size() != 32 || r.object_key().empty() ||
      r.key_recipients_size() != r.wrapped_keys_size()) {
    return ProtocolRejected::malformed_request;
  }
  auto repro = repro_from_proto(r);
  if (!repro) return repro.reason();
  SaveRecord s;
  s.repro = std::move(repro).value();
  for (int i = 0; i < r.key_recipients_size(); ++i) {
    if (i > 0 && !(r.key_recipients(i - 1) < r.key_recipients(i)))
      return ProtocolRejected::malformed_request;
    // A sponsor gets the final model's key by a KeyGrant after its release
    // (§19.8), never a candidate's key from its partner: a SaveRequest that
    // wraps one for it would hand the model over before it paid.
    const GenesisMember* recipient = genesis.find_member(r.key_recipients(i));
    if (recipient == nullptr || recipient->has_role(kRoleSponsor))
      return ProtocolRejected::malformed_request;
    if (r.wrapped_keys(i).size() != kWrappedKeyBytes) return ProtocolRejected::malformed_request;
    s.wrapped_keys[r.key_recipients(i)] = r.wrapped_keys(i);
  }
  s.parent_model_id = opt_hash(r.parent_model_id());
  s.object_key = r.object_key();
  s.ciphertext_sha256 = Hash::from_bytes(as_bytes(r.ciphertext_sha256())).value();
  s.model_sha256 = Hash::from_bytes(as_bytes(r.model_sha256())).value();
  s.key_commitment = Hash::from_bytes(as_bytes(r.key_commitment())).value();
  s.train_samples = r.train_samples();
  s.metrics_json = r.metrics_json();
  s.privacy = {r.dp_steps_total(), r.epsilon_turn_micro(), r.epsilon_total_micro()};
  return s;
}

std::optional<ProtocolRejected> check_protocol_tx(const ChainSpec& spec, const LedgerState& state,
                                                  const pb::Transaction& tx) {
  // §25: membership transactions have their own rules; every other step
  // reads the members after the state's block (member_spec).
  if (is_membership_tx(tx.type())) return check_membership_tx(spec, state, tx, state.height + 1);
  if (is_member_grant(spec, state, tx)) return check_member_grant(spec, state, tx);  // §25.7
  const ChainSpec& members = member_spec(spec, state);
  const ProtocolTx decoded = decode_protocol_tx(members, tx);
  // The next block begins with begin_block. Only block 1's does anything (the
  // genesis allocations, the genesis plan's run), and the state before it is
  // empty, so checking on a copy that has begun block 1 costs nothing.
  if (state.height == 0) {
    LedgerState first = state;
    begin_block(spec, first, 1);
    auto checked = check_step(members, first.training, decoded);
    return checked ? std::nullopt : std::optional(checked.reason());
  }
  auto checked = check_step(members, state.training, decoded);
  if (checked) return std::nullopt;
  return checked.reason();
}

std::optional<ProtocolRejected> apply_protocol_tx(const ChainSpec& spec, LedgerState& state,
                                                  const pb::Transaction& tx, std::uint64_t height) {
  if (is_membership_tx(tx.type())) return apply_membership_tx(spec, state, tx, height);
  if (is_member_grant(spec, state, tx)) return apply_member_grant(spec, state, tx, height);
  // The member set changes only at the end of a block (end_block), so every
  // transaction of a block reads the set after the block before.
  const ChainSpec& members = member_spec(spec, state);
  const ProtocolTx decoded = decode_protocol_tx(members, tx);
  // Checked on the state itself: a refusal copies nothing, whatever the history.
  auto checked = check_step(members, state.training, decoded);
  if (!checked) {
    record_refusal(state.training, decoded, checked.reason(), height);
    return checked.reason();
  }
  apply_step(members, state.training, decoded, std::move(checked).value(), height);
  return std::nullopt;
}

void begin_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height) {
  if (height != 1) return;
  credit_genesis_allocations(state.training.accounts, spec.genesis);
  // The plan was decoded and validated once, when the genesis was read.
  if (spec.genesis_plan()) start_run(state.training, *spec.genesis_plan(), "genesis", 0);
}

void end_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height) {
  expire_due_turn(state.training, height);
  end_due_readiness(state.training, height);
  settle_due_gains(state.training, height);
  settle_due_escrows(state.training, height);
  // §25: the changes that reached their quorum in this block apply now (they
  // hold from the next block); a removed partner's turns end at once.
  if (!state.membership.empty()) {
    end_membership_block(spec, state, height);
    skip_removed_partners(state.training, current_members(spec, state), height);
  }
}

}  // namespace baton::chain
