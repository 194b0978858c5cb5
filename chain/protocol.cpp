#include "chain/protocol.h"

#include <cstdlib>
#include <limits>

#include "chain/encoding.h"
#include "chain/transaction.h"

namespace baton::chain {

std::string_view to_string(ProtocolRejected reason) {
  switch (reason) {
    case ProtocolRejected::not_admin:
      return "only a member with role \"admin\" may start a run";
    case ProtocolRejected::run_active:
      return "another training run is still active";
    case ProtocolRejected::duplicate_run_id:
      return "a run with this id was already started";
    case ProtocolRejected::invalid_plan:
      return "the training plan is not valid for this consortium";
    case ProtocolRejected::wrong_run:
      return "the transaction names a run that is not the active run";
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
    default:
      return false;
  }
}

namespace {

struct Voter {
  std::string name;
  std::uint64_t power = 0;
};

Voter voter_of(const ChainSpec& spec, const pb::Transaction& tx) {
  // Precondition (check_transaction): the sender is a member.
  const Validator* v = spec.validators.find(PublicKey::from_bytes(as_bytes(tx.sender())).value());
  if (v == nullptr) std::abort();
  return {v->name, v->power};
}

std::uint64_t power_of(const ChainSpec& spec, const std::string& name) {
  for (const auto& v : spec.validators.members())
    if (v.name == name) return v.power;
  return 0;
}

// Strictly more than num/den of `eligible`.
bool above(std::uint64_t power, std::uint64_t eligible, const TrainingPlan& p) {
  return static_cast<unsigned __int128>(power) * p.quorum_den >
         static_cast<unsigned __int128>(eligible) * p.quorum_num;
}

enum class Tally : std::uint8_t { open, approved, rejected };

template <class Votes>
Tally tally(const ChainSpec& spec, const Run& run, const std::string& requester,
            const Votes& votes) {
  const std::uint64_t eligible = spec.validators.total_power() - power_of(spec, requester);
  std::uint64_t yes = 0, no = 0;
  for (const auto& [name, v] : votes) (v.approve ? yes : no) += power_of(spec, name);
  if (above(yes, eligible, run.plan)) return Tally::approved;
  if (!above(eligible - no, eligible, run.plan)) return Tally::rejected;  // approval unreachable
  return Tally::open;
}

// height + blocks, or UINT64_MAX when that would not fit: a deadline beyond
// the last height is "never", not a wrap into the past.
std::uint64_t deadline_after(std::uint64_t height, std::uint64_t blocks) {
  constexpr std::uint64_t kLast = std::numeric_limits<std::uint64_t>::max();
  return blocks > kLast - height ? kLast : height + blocks;
}

void begin_turn(Run& run, std::uint64_t index, std::uint64_t height) {
  const auto n = run.plan.partners.size();
  Turn t;
  t.index = index;
  t.cycle = index / n;
  t.partner = run.plan.partners[index % n];
  t.start_height = height;
  t.deadline_height = deadline_after(height, run.plan.load_deadline_blocks);
  t.head_before = run.head;
  run.turns.push_back(std::move(t));
}

void finish_turn(TrainingState& ts, Run& run, TurnOutcome outcome, std::uint64_t height) {
  Turn& t = run.turns.back();
  t.phase = TurnPhase::done;
  t.outcome = outcome;
  t.end_height = height;
  if (run.turns.size() >= run.plan.total_turns()) {
    run.status = RunStatus::finished;
    run.end_height = height;
    ts.active_run.reset();
    return;
  }
  begin_turn(run, t.index + 1, height);
}

void start_run(TrainingState& ts, TrainingPlan plan, std::string started_by,
               std::uint64_t base_height) {
  Run run;
  run.plan = std::move(plan);
  run.started_by = std::move(started_by);
  run.start_height = base_height;
  for (const auto& p : run.plan.partners) run.contributivity_ppm[p] = 0;
  begin_turn(run, 0, base_height);
  const std::string id = run.plan.run_id;
  ts.runs.emplace(id, std::move(run));
  ts.active_run = id;
}

std::optional<Hash> opt_hash(const std::string& bytes) {
  if (bytes.empty()) return std::nullopt;
  auto h = Hash::from_bytes(as_bytes(bytes));
  if (!h) return Hash{};  // never equal to a real id by construction of callers: checked below
  return *h;
}

std::string hash_string(const Hash& h) {
  return {reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size()};
}

bool valid_opt_hash(const std::string& bytes) { return bytes.empty() || bytes.size() == 32; }

// The active run named by `run_id`, or why not.
std::optional<ProtocolRejected> find_active(TrainingState& ts, const std::string& run_id,
                                            Run*& out) {
  out = ts.active();
  if (out == nullptr) return ProtocolRejected::run_not_active;
  if (out->plan.run_id != run_id) return ProtocolRejected::wrong_run;
  return std::nullopt;
}

// Why a vote for `request_id` that is not the current open request is refused.
ProtocolRejected closed_reason(const Run& run, const std::optional<Hash>& request_id, bool load) {
  if (!request_id) return ProtocolRejected::no_open_request;
  for (const auto& t : run.turns) {
    const auto& id = load ? t.load_request_id : t.save_request_id;
    if (id == request_id && t.outcome == TurnOutcome::expired) {
      const bool expired_in_this_phase = load ? !t.load_token_id : !t.save_token_id;
      if (expired_in_this_phase) return ProtocolRejected::vote_after_deadline;
    }
  }
  return ProtocolRejected::no_open_request;
}

std::optional<ProtocolRejected> apply_on(const ChainSpec& spec, TrainingState& ts,
                                         const pb::Transaction& tx, std::uint64_t height) {
  const Voter sender = voter_of(spec, tx);
  const Hash request_id = tx_hash(encode_transaction(tx));
  switch (tx.type()) {
    case pb::TX_START_RUN: {
      pb::TrainingPlan p;
      if (!parse_canonical(tx.payload(), p)) std::abort();  // check_transaction decoded it
      const GenesisMember* m = spec.genesis.find_member(sender.name);
      if (m == nullptr || !m->has_role(kRoleAdmin)) return ProtocolRejected::not_admin;
      if (ts.active_run) return ProtocolRejected::run_active;
      if (ts.runs.contains(p.run_id())) return ProtocolRejected::duplicate_run_id;
      auto plan = plan_from_proto(spec.genesis, p);
      if (!plan) return ProtocolRejected::invalid_plan;
      start_run(ts, std::move(plan).value(), sender.name, height);
      return std::nullopt;
    }
    case pb::TX_LOAD_REQUEST: {
      pb::LoadRequest r;
      if (!parse_canonical(tx.payload(), r)) std::abort();
      Run* run = nullptr;
      if (auto bad = find_active(ts, r.run_id(), run)) return bad;
      Turn& t = *run->current_turn();
      if (sender.name != t.partner || r.turn() != t.index) return ProtocolRejected::out_of_turn;
      if (t.phase != TurnPhase::awaiting_load_request) return ProtocolRejected::wrong_phase;
      if (!valid_opt_hash(r.head_model_id())) return ProtocolRejected::malformed_request;
      if (opt_hash(r.head_model_id()) != run->head) return ProtocolRejected::wrong_head;
      t.load_request_id = request_id;
      t.load_request_height = height;
      t.phase = TurnPhase::load_voting;
      t.deadline_height = deadline_after(height, run->plan.vote_deadline_blocks);
      return std::nullopt;
    }
    case pb::TX_LOAD_APPROVAL: {
      pb::LoadApproval a;
      if (!parse_canonical(tx.payload(), a)) std::abort();
      Run* run = nullptr;
      if (auto bad = find_active(ts, a.run_id(), run)) return bad;
      if (a.request_id().size() != 32) return ProtocolRejected::malformed_request;
      const std::optional<Hash> id = opt_hash(a.request_id());
      Turn& t = *run->current_turn();
      if (t.phase != TurnPhase::load_voting || t.load_request_id != id)
        return closed_reason(*run, id, true);
      if (sender.name == t.partner) return ProtocolRejected::own_request;
      if (sender.power == 0) return ProtocolRejected::not_a_voter;
      if (t.load_approvals.contains(sender.name)) return ProtocolRejected::duplicate_vote;
      t.load_approvals[sender.name] = ApprovalRecord{a.approve(), a.reason(), height};
      switch (tally(spec, *run, t.partner, t.load_approvals)) {
        case Tally::approved:
          t.load_token_id = t.load_request_id;
          t.load_token_height = height;
          t.phase = TurnPhase::training;
          t.deadline_height = deadline_after(height, run->plan.save_deadline_blocks);
          break;
        case Tally::rejected:
          finish_turn(ts, *run, TurnOutcome::rejected, height);
          break;
        case Tally::open:
          break;
      }
      return std::nullopt;
    }
    case pb::TX_SAVE_REQUEST: {
      pb::SaveRequest r;
      if (!parse_canonical(tx.payload(), r)) std::abort();
      Run* run = nullptr;
      if (auto bad = find_active(ts, r.run_id(), run)) return bad;
      Turn& t = *run->current_turn();
      if (sender.name != t.partner || r.turn() != t.index) return ProtocolRejected::out_of_turn;
      if (t.phase != TurnPhase::training) return ProtocolRejected::wrong_phase;
      auto s = save_record_from_proto(spec.genesis, r);
      if (!s) return s.reason();
      if (s->parent_model_id != run->head) return ProtocolRejected::wrong_head;
      t.save = std::move(s).value();
      t.save_request_id = request_id;
      t.save_request_height = height;
      t.phase = TurnPhase::save_voting;
      t.deadline_height = deadline_after(height, run->plan.vote_deadline_blocks);
      return std::nullopt;
    }
    case pb::TX_MODEL_VOTE: {
      pb::ModelVote v;
      if (!parse_canonical(tx.payload(), v)) std::abort();
      Run* run = nullptr;
      if (auto bad = find_active(ts, v.run_id(), run)) return bad;
      if (v.request_id().size() != 32 || v.auc_candidate_ppm() > 1'000'000 ||
          v.auc_head_ppm() > 1'000'000 || v.p_worse_ppm() > 1'000'000) {
        return ProtocolRejected::malformed_request;
      }
      const std::optional<Hash> id = opt_hash(v.request_id());
      Turn& t = *run->current_turn();
      if (t.phase != TurnPhase::save_voting || t.save_request_id != id)
        return closed_reason(*run, id, false);
      if (sender.name == t.partner) return ProtocolRejected::own_request;
      if (sender.power == 0) return ProtocolRejected::not_a_voter;
      if (t.model_votes.contains(sender.name)) return ProtocolRejected::duplicate_vote;
      t.model_votes[sender.name] = ModelVoteRecord{v.approve(),
                                                   v.auc_candidate_ppm(),
                                                   v.auc_head_ppm(),
                                                   v.validation_size(),
                                                   v.p_worse_ppm(),
                                                   v.reason(),
                                                   height};
      switch (tally(spec, *run, t.partner, t.model_votes)) {
        case Tally::approved: {
          t.save_token_id = t.save_request_id;
          t.save_token_height = height;
          ModelRecord m;
          m.id = *t.save_request_id;
          m.parent = run->head;
          m.contributor = t.partner;
          m.turn = t.index;
          m.height = height;
          m.load_token_id = *t.load_token_id;
          m.object_key = t.save->object_key;
          m.ciphertext_sha256 = t.save->ciphertext_sha256;
          m.model_sha256 = t.save->model_sha256;
          m.median_gain_ppm = median_gain_ppm(t.model_votes);
          run->contributivity_ppm[t.partner] += m.median_gain_ppm;
          run->head = m.id;
          run->models.push_back(std::move(m));
          finish_turn(ts, *run, TurnOutcome::approved, height);
          break;
        }
        case Tally::rejected:
          finish_turn(ts, *run, TurnOutcome::rejected, height);
          break;
        case Tally::open:
          break;
      }
      return std::nullopt;
    }
    case pb::TX_TURN_ABANDON: {
      pb::TurnAbandon a;
      if (!parse_canonical(tx.payload(), a)) std::abort();
      Run* run = nullptr;
      if (auto bad = find_active(ts, a.run_id(), run)) return bad;
      Turn& t = *run->current_turn();
      // Only the partner whose turn it is may give it up, and only its own
      // current turn: the worst a hostile partner can do is skip itself.
      if (sender.name != t.partner || a.turn() != t.index) return ProtocolRejected::out_of_turn;
      // Once its candidate is up for the vote, the voters decide: a partner
      // may not withdraw a candidate it expects to be rejected.
      if (t.phase != TurnPhase::awaiting_load_request && t.phase != TurnPhase::load_voting &&
          t.phase != TurnPhase::training) {
        return ProtocolRejected::wrong_phase;
      }
      if (!valid_opt_hash(a.head_model_id()) || a.reason() < 1 || a.reason() > kMaxLoadFailure ||
          a.detail().size() > kMaxAbandonDetailBytes) {
        return ProtocolRejected::malformed_request;
      }
      if (opt_hash(a.head_model_id()) != run->head) return ProtocolRejected::wrong_head;
      t.abandon = AbandonRecord{static_cast<LoadFailure>(a.reason()), a.detail()};
      finish_turn(ts, *run, TurnOutcome::abandoned, height);
      return std::nullopt;
    }
    default:
      std::abort();  // callers pass protocol types only
  }
}

// The turn of `run` whose load (or save) request is `request_id`, if any.
std::optional<std::uint64_t> turn_of_request(const TrainingState& ts, const std::string& run_id,
                                             const std::string& request_id, bool load) {
  const Run* run = ts.find_run(run_id);
  if (run == nullptr || request_id.size() != 32) return std::nullopt;
  const std::optional<Hash> id = opt_hash(request_id);
  for (const auto& t : run->turns)
    if ((load ? t.load_request_id : t.save_request_id) == id) return t.index;
  return std::nullopt;
}

void record_refusal(const ChainSpec& spec, TrainingState& ts, const pb::Transaction& tx,
                    ProtocolRejected reason, std::uint64_t height) {
  Refusal r;
  r.height = height;
  r.tx_hash = tx_hash(encode_transaction(tx));
  r.sender = voter_of(spec, tx).name;
  r.type = tx.type();
  r.reason = reason;
  // check_transaction decoded every payload; a failure here is a bug.
  switch (tx.type()) {
    case pb::TX_START_RUN: {
      pb::TrainingPlan p;
      if (!parse_canonical(tx.payload(), p)) std::abort();
      r.run_id = p.run_id();
      break;
    }
    case pb::TX_LOAD_REQUEST: {
      pb::LoadRequest m;
      if (!parse_canonical(tx.payload(), m)) std::abort();
      r.run_id = m.run_id();
      r.turn = m.turn();
      break;
    }
    case pb::TX_LOAD_APPROVAL: {
      pb::LoadApproval m;
      if (!parse_canonical(tx.payload(), m)) std::abort();
      r.run_id = m.run_id();
      r.turn = turn_of_request(ts, m.run_id(), m.request_id(), true);
      break;
    }
    case pb::TX_SAVE_REQUEST: {
      pb::SaveRequest m;
      if (!parse_canonical(tx.payload(), m)) std::abort();
      r.run_id = m.run_id();
      r.turn = m.turn();
      break;
    }
    case pb::TX_MODEL_VOTE: {
      pb::ModelVote m;
      if (!parse_canonical(tx.payload(), m)) std::abort();
      r.run_id = m.run_id();
      r.turn = turn_of_request(ts, m.run_id(), m.request_id(), false);
      break;
    }
    case pb::TX_TURN_ABANDON: {
      pb::TurnAbandon m;
      if (!parse_canonical(tx.payload(), m)) std::abort();
      r.run_id = m.run_id();
      r.turn = m.turn();
      break;
    }
    default:
      std::abort();
  }
  auto it = tx.type() == pb::TX_START_RUN ? ts.runs.end() : ts.runs.find(r.run_id);
  (it == ts.runs.end() ? ts.refusals : it->second.refusals).record(std::move(r));
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
  return r;
}

Verdict<SaveRecord, ProtocolRejected> save_record_from_proto(const Genesis& genesis,
                                                             const pb::SaveRequest& r) {
  if (!valid_opt_hash(r.parent_model_id()) || r.ciphertext_sha256().size() != 32 ||
      r.model_sha256().size() != 32 || r.key_commitment().size() != 32 || r.object_key().empty() ||
      r.key_recipients_size() != r.wrapped_keys_size()) {
    return ProtocolRejected::malformed_request;
  }
  SaveRecord s;
  for (int i = 0; i < r.key_recipients_size(); ++i) {
    if (i > 0 && !(r.key_recipients(i - 1) < r.key_recipients(i)))
      return ProtocolRejected::malformed_request;
    if (genesis.find_member(r.key_recipients(i)) == nullptr)
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
  return s;
}

std::optional<ProtocolRejected> check_protocol_tx(const ChainSpec& spec, const LedgerState& state,
                                                  const pb::Transaction& tx) {
  TrainingState copy = state.training;
  return apply_on(spec, copy, tx, state.height + 1);
}

std::optional<ProtocolRejected> apply_protocol_tx(const ChainSpec& spec, LedgerState& state,
                                                  const pb::Transaction& tx, std::uint64_t height) {
  TrainingState copy = state.training;
  auto rejected = apply_on(spec, copy, tx, height);
  if (!rejected) {
    state.training = std::move(copy);
    return std::nullopt;
  }
  record_refusal(spec, state.training, tx, *rejected, height);
  return rejected;
}

void begin_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height) {
  if (height != 1) return;
  auto plan = plan_from_json(spec.genesis, spec.genesis.training_plan);
  // validate_genesis refused a bad plan; an absent one is nullopt.
  if (plan && *plan) start_run(state.training, std::move(**plan), "genesis", 0);
}

void end_block(const ChainSpec& /*spec*/, LedgerState& state, std::uint64_t height) {
  // One look at the current turn, not a loop: a turn begun here has its
  // deadline at least one block ahead, so no block ends more than one turn.
  Run* run = state.training.active();
  if (run == nullptr) return;
  const Turn* t = run->current_turn();
  if (t == nullptr || t->deadline_height > height) return;
  finish_turn(state.training, *run, TurnOutcome::expired, height);
}

}  // namespace baton::chain
