#include "chain/training.h"

#include <algorithm>
#include <cstdlib>

#include "chain/encoding.h"
#include "chain/protocol.h"
#include "chain/protocol_steps.h"

namespace baton::chain {

std::string_view to_string(TurnPhase phase) {
  switch (phase) {
    case TurnPhase::awaiting_load_request:
      return "awaiting_load_request";
    case TurnPhase::load_voting:
      return "load_voting";
    case TurnPhase::training:
      return "training";
    case TurnPhase::save_voting:
      return "save_voting";
    case TurnPhase::done:
      return "done";
    case TurnPhase::round_sharing:
      return "round_sharing";
    case TurnPhase::round_uploading:
      return "round_uploading";
    case TurnPhase::round_unmasking:
      return "round_unmasking";
    case TurnPhase::round_aggregating:
      return "round_aggregating";
  }
  return "unknown";
}

std::string_view to_string(TurnOutcome outcome) {
  switch (outcome) {
    case TurnOutcome::pending:
      return "pending";
    case TurnOutcome::approved:
      return "approved";
    case TurnOutcome::rejected:
      return "rejected";
    case TurnOutcome::expired:
      return "expired";
    case TurnOutcome::abandoned:
      return "abandoned";
    case TurnOutcome::suspended:
      return "suspended";
    case TurnOutcome::cannot_pay:
      return "cannot_pay";
    case TurnOutcome::budget_spent:
      return "budget_spent";
    case TurnOutcome::round_failed:
      return "round_failed";
    case TurnOutcome::removed:
      return "removed";
  }
  return "unknown";
}

std::string_view to_string(RunStatus status) {
  switch (status) {
    case RunStatus::active:
      return "active";
    case RunStatus::finished:
      return "finished";
    case RunStatus::awaiting_funding:
      return "awaiting_funding";
    case RunStatus::unfunded:
      return "unfunded";
    case RunStatus::preparing:
      return "preparing";
    case RunStatus::cancelled:
      return "cancelled";
    case RunStatus::not_ready:
      return "not_ready";
  }
  return "unknown";
}

bool run_ended(RunStatus status) {
  return status == RunStatus::finished || status == RunStatus::unfunded ||
         status == RunStatus::cancelled || status == RunStatus::not_ready;
}

std::string_view to_string(ReadinessFailure reason) {
  switch (reason) {
    case ReadinessFailure::columns_missing:
      return "columns_missing";
    case ReadinessFailure::width_mismatch:
      return "width_mismatch";
    case ReadinessFailure::model_unbuildable:
      return "model_unbuildable";
    case ReadinessFailure::optimizer_unknown:
      return "optimizer_unknown";
    case ReadinessFailure::store_unreachable:
      return "store_unreachable";
    case ReadinessFailure::data_unusable:
      return "data_unusable";
  }
  return "unknown";
}

std::string_view to_string(RunStopCause cause) {
  switch (cause) {
    case RunStopCause::cancelled:
      return "cancelled";
    case RunStopCause::partner_refused:
      return "partner_refused";
    case RunStopCause::schema_mismatch:
      return "schema_mismatch";
    case RunStopCause::readiness_expired:
      return "readiness_expired";
  }
  return "unknown";
}

std::string_view to_string(EscrowState state) {
  switch (state) {
    case EscrowState::open:
      return "open";
    case EscrowState::released:
      return "released";
    case EscrowState::paid_at_deadline:
      return "paid_at_deadline";
    case EscrowState::refunded:
      return "refunded";
  }
  return "unknown";
}

std::string_view to_string(LoadFailure reason) {
  switch (reason) {
    case LoadFailure::head_missing:
      return "head_missing";
    case LoadFailure::head_hash_mismatch:
      return "head_hash_mismatch";
    case LoadFailure::head_unusable:
      return "head_unusable";
    case LoadFailure::store_unreachable:
      return "store_unreachable";
    case LoadFailure::local_data_unusable:
      return "local_data_unusable";
    case LoadFailure::training_failed:
      return "training_failed";
    case LoadFailure::upload_unusable:
      return "upload_unusable";
  }
  return "unknown";
}

std::string_view to_string(TrainingMode mode) {
  return mode == TrainingMode::federated ? "federated" : "chained";
}

std::string_view to_string(TokenMode mode) {
  return mode == TokenMode::delta_loss ? "delta_loss" : "delta_auc";
}

std::string_view to_string(TurnOrder order) {
  return order == TurnOrder::rotating ? "rotating" : "fixed";
}

const std::string& turn_partner(const TrainingPlan& plan, std::uint64_t index) {
  const std::uint64_t n = plan.partners.size();
  if (n == 0) std::abort();  // a validated plan has partners
  std::uint64_t offset = 0;
  if (plan.turn_order == TurnOrder::rotating) offset = (plan.seed % n + (index / n) % n) % n;
  return plan.partners[(index % n + offset) % n];
}

const Turn* Run::current_turn() const {
  return status == RunStatus::active && !turns.empty() ? &turns.back() : nullptr;
}
Turn* Run::current_turn() {
  return status == RunStatus::active && !turns.empty() ? &turns.back() : nullptr;
}

const ModelRecord* Run::find_model(const Hash& id) const {
  for (const auto& m : models)
    if (m.id == id) return &m;
  return nullptr;
}

void RefusalLog::record(Refusal refusal) {
  ++total;
  if (recent.size() >= kMaxRefusalsKept)
    recent.erase(recent.begin(), recent.begin() + (recent.size() - kMaxRefusalsKept + 1));
  recent.push_back(std::move(refusal));
}

const Run* TrainingState::active() const { return active_run ? find_run(*active_run) : nullptr; }
Run* TrainingState::active() {
  if (!active_run) return nullptr;
  auto it = runs.find(*active_run);
  return it == runs.end() ? nullptr : &it->second;
}
const Run* TrainingState::find_run(std::string_view run_id) const {
  auto it = runs.find(std::string(run_id));
  return it == runs.end() ? nullptr : &it->second;
}

namespace {

void put_str(Bytes& out, std::string_view s) {
  append_u32be(out, static_cast<std::uint32_t>(s.size()));
  append_bytes(out, s);
}
void put_hash(Bytes& out, const Hash& h) { append_bytes(out, h.view()); }
void put_opt(Bytes& out, const std::optional<Hash>& h) {
  append_u8(out, h ? 1 : 0);
  if (h) put_hash(out, *h);
}
void put_i64(Bytes& out, std::int64_t v) { append_u64be(out, static_cast<std::uint64_t>(v)); }

void put_refusals(Bytes& out, const RefusalLog& log) {
  append_u64be(out, log.total);
  append_u32be(out, static_cast<std::uint32_t>(log.recent.size()));
  for (const auto& r : log.recent) {
    append_u64be(out, r.height);
    put_hash(out, r.tx_hash);
    put_str(out, r.sender);
    append_u32be(out, static_cast<std::uint32_t>(r.type));
    append_u8(out, static_cast<std::uint8_t>(r.reason));
    put_str(out, r.run_id);
    append_u8(out, r.turn ? 1 : 0);
    if (r.turn) append_u64be(out, *r.turn);
  }
}

// docs/PROTOCOL.md §18.4: SaveRequest fields 15..22 in field order.
void put_repro(Bytes& out, const ReproRecord& r) {
  append_u64be(out, r.train_seed);
  append_u32be(out, r.torch_threads);
  put_str(out, r.baton_version);
  put_str(out, r.baton_commit);
  put_str(out, r.libtorch_version);
  put_str(out, r.device);
  put_opt(out, r.train_rows_sha256);
  put_opt(out, r.schema_sha256);
}

void put_turn(Bytes& out, const Turn& t) {
  append_u64be(out, t.index);
  append_u64be(out, t.cycle);
  put_str(out, t.partner);
  append_u64be(out, t.start_height);
  append_u8(out, static_cast<std::uint8_t>(t.phase));
  append_u64be(out, t.deadline_height);
  append_u8(out, static_cast<std::uint8_t>(t.outcome));
  append_u64be(out, t.end_height);
  put_opt(out, t.load_request_id);
  append_u64be(out, t.load_request_height);
  append_u32be(out, static_cast<std::uint32_t>(t.load_approvals.size()));
  for (const auto& [name, a] : t.load_approvals) {
    put_str(out, name);
    append_u8(out, a.approve ? 1 : 0);
    put_str(out, a.reason);
    append_u64be(out, a.height);
  }
  put_opt(out, t.load_token_id);
  append_u64be(out, t.load_token_height);
  put_opt(out, t.save_request_id);
  append_u64be(out, t.save_request_height);
  // The save's presence byte is 2 when its SaveRequest carried a
  // reproducibility record (issue 16, after metrics_json), so a save without
  // one encodes as before.
  append_u8(out, !t.save ? 0 : t.save->repro ? 2 : 1);
  if (t.save) {
    const SaveRecord& s = *t.save;
    put_opt(out, s.parent_model_id);
    put_str(out, s.object_key);
    put_hash(out, s.ciphertext_sha256);
    put_hash(out, s.model_sha256);
    put_hash(out, s.key_commitment);
    append_u32be(out, static_cast<std::uint32_t>(s.wrapped_keys.size()));
    for (const auto& [name, env] : s.wrapped_keys) {
      put_str(out, name);
      put_str(out, env);
    }
    append_u64be(out, s.train_samples);
    put_str(out, s.metrics_json);
    if (s.repro) put_repro(out, *s.repro);
  }
  append_u32be(out, static_cast<std::uint32_t>(t.model_votes.size()));
  for (const auto& [name, v] : t.model_votes) {
    put_str(out, name);
    append_u8(out, v.approve ? 1 : 0);
    append_u32be(out, v.auc_candidate_ppm);
    append_u32be(out, v.auc_head_ppm);
    append_u64be(out, v.validation_size);
    append_u32be(out, v.p_worse_ppm);
    put_str(out, v.reason);
    append_u64be(out, v.height);
    append_u64be(out, v.loss_candidate_micro);
    append_u64be(out, v.loss_head_micro);
  }
  put_opt(out, t.save_token_id);
  append_u64be(out, t.save_token_height);
  put_opt(out, t.head_before);
  // Only abandoned turns carry these bytes (the outcome byte above says so),
  // so the encoding of every state without one is unchanged.
  if (t.outcome == TurnOutcome::abandoned) {
    if (!t.abandon) std::abort();  // set together by apply_protocol_tx
    append_u8(out, static_cast<std::uint8_t>(t.abandon->reason));
    put_str(out, t.abandon->detail);
  }
}

// Only turns of a plan with stakes carry these bytes (the plan, encoded
// before the turns, says so), so every run without deposits encodes as before.
void put_stake(Bytes& out, const Stake& s) {
  append_u64be(out, s.deposit);
  append_u64be(out, s.cost);
  append_u8(out, s.settled ? 1 : 0);
  append_u64be(out, s.refunded);
  append_u64be(out, s.escrowed);
  append_u32be(out, static_cast<std::uint32_t>(s.forfeits.size()));
  for (const auto& [name, credits] : s.forfeits) {
    put_str(out, name);
    append_u64be(out, credits);
  }
}

// Only the turns of a federated plan carry these bytes (the plan, encoded
// before the turns, says so; every such turn has its round), so every
// chained run encodes as before. docs/PROTOCOL.md §21.3.
void put_round(Bytes& out, const RoundRecord& r) {
  append_u32be(out, static_cast<std::uint32_t>(r.shares.size()));
  for (const auto& [name, s] : r.shares) {
    put_str(out, name);
    put_hash(out, s.ephemeral_public);
    put_hash(out, s.self_seed_commitment);
    append_u32be(out, static_cast<std::uint32_t>(s.share_boxes.size()));
    for (const auto& box : s.share_boxes) put_str(out, box);
    append_u32be(out, static_cast<std::uint32_t>(s.self_share_commitments.size()));
    for (const auto& c : s.self_share_commitments) put_hash(out, c);
    append_u32be(out, static_cast<std::uint32_t>(s.key_share_commitments.size()));
    for (const auto& c : s.key_share_commitments) put_hash(out, c);
    append_u64be(out, s.height);
  }
  append_u32be(out, static_cast<std::uint32_t>(r.uploads.size()));
  for (const auto& [name, u] : r.uploads) {
    put_str(out, name);
    put_opt(out, u.head_model_id);
    put_str(out, u.object_key);
    put_hash(out, u.masked_sha256);
    append_u64be(out, u.weight);
    append_u64be(out, u.height);
  }
  append_u32be(out, static_cast<std::uint32_t>(r.unmasks.size()));
  for (const auto& [name, u] : r.unmasks) {
    put_str(out, name);
    append_u32be(out, static_cast<std::uint32_t>(u.shares.size()));
    for (const auto& share : u.shares) put_str(out, share);
    append_u64be(out, u.height);
  }
  for (const auto* secrets : {&r.self_seeds, &r.ephemeral_secrets}) {
    append_u32be(out, static_cast<std::uint32_t>(secrets->size()));
    for (const auto& [name, secret] : *secrets) {
      put_str(out, name);
      put_hash(out, secret);
    }
  }
  put_str(out, r.failed_dealer);
  append_u32be(out, static_cast<std::uint32_t>(r.complaints.size()));
  for (const auto& [name, c] : r.complaints) {
    put_str(out, name);
    append_u8(out, static_cast<std::uint8_t>(c.reason));
    put_str(out, c.detail);
  }
}

void put_spend(Bytes& out, const PrivacySpend& s) {
  append_u64be(out, s.steps_total);
  append_u64be(out, s.epsilon_turn_micro);
  append_u64be(out, s.epsilon_total_micro);
}

void put_readiness(Bytes& out, const Run& run) {
  append_u64be(out, run.ready_since);
  append_u32be(out, static_cast<std::uint32_t>(run.readiness.size()));
  for (const auto& [name, r] : run.readiness) {
    put_str(out, name);
    append_u8(out, r.ready ? 1 : 0);
    put_opt(out, r.schema_sha256);
    append_u64be(out, r.train_rows);
    append_u8(out, r.reason);
    put_str(out, r.detail);
    append_u64be(out, r.height);
  }
}

}  // namespace

Bytes training_encoding(const TrainingState& state) {
  Bytes out;
  append_u32be(out, static_cast<std::uint32_t>(state.runs.size()));
  for (const auto& [id, run] : state.runs) {  // ascending run id bytes
    put_str(out, id);
    put_str(out, plan_to_proto(run.plan).SerializeAsString());
    put_str(out, run.started_by);
    append_u64be(out, run.start_height);
    append_u8(out, static_cast<std::uint8_t>(run.status));
    append_u64be(out, run.end_height);
    put_opt(out, run.head);
    append_u32be(out, static_cast<std::uint32_t>(run.contributivity_ppm.size()));
    for (const auto& [name, c] : run.contributivity_ppm) {
      put_str(out, name);
      put_i64(out, c);
    }
    append_u32be(out, static_cast<std::uint32_t>(run.turns.size()));
    for (const auto& t : run.turns) {
      put_turn(out, t);
      if (run.plan.has_stakes()) put_stake(out, t.stake);
      // §20.2: a DP run's SaveRequests carry their spend (none without DP).
      if (run.plan.privacy.enabled() && t.save) put_spend(out, t.save->privacy);
      if (run.plan.federated()) {
        if (!t.round) std::abort();  // begin_round sets it on every federated turn
        put_round(out, *t.round);
      }
    }
    append_u32be(out, static_cast<std::uint32_t>(run.models.size()));
    for (const auto& m : run.models) {
      put_hash(out, m.id);
      put_opt(out, m.parent);
      put_str(out, m.contributor);
      append_u64be(out, m.turn);
      append_u64be(out, m.height);
      put_hash(out, m.load_token_id);
      put_str(out, m.object_key);
      put_hash(out, m.ciphertext_sha256);
      put_hash(out, m.model_sha256);
      put_i64(out, m.median_gain_ppm);
      append_u8(out, m.gain_settled ? 1 : 0);
      // §21.3: a federated run's models name their contributors (U2).
      if (run.plan.federated()) {
        append_u32be(out, static_cast<std::uint32_t>(m.contributors.size()));
        for (const auto& name : m.contributors) put_str(out, name);
      }
    }
    put_refusals(out, run.refusals);
    // Only a run whose plan names a sponsor has an escrow and these bytes, so
    // every run without one encodes as before.
    if (!run.plan.sponsor.empty()) {
      if (!run.escrow) std::abort();  // start_run creates it with the run
      const Escrow& e = *run.escrow;
      append_u64be(out, e.funded);
      append_u8(out, static_cast<std::uint8_t>(e.state));
      append_u64be(out, e.settled_height);
      append_u32be(out, static_cast<std::uint32_t>(e.payouts.size()));
      for (const auto& [name, credits] : e.payouts) {
        put_str(out, name);
        append_u64be(out, credits);
      }
      append_u32be(out, static_cast<std::uint32_t>(e.key_grants.size()));
      for (const auto& [name, sealed] : e.key_grants) {
        put_str(out, name);
        put_str(out, sealed);
      }
    }
    // Only a run whose plan has DP has these bytes (docs/PROTOCOL.md §20.2),
    // so every run without it encodes as before.
    if (run.plan.privacy.enabled()) {
      append_u32be(out, static_cast<std::uint32_t>(run.privacy_spent.size()));
      for (const auto& [name, spend] : run.privacy_spent) {
        put_str(out, name);
        put_spend(out, spend);
      }
    }
    // §22.4: only a plan with a readiness phase carries its answers, and only
    // a cancelled or not_ready run its stop, so every earlier run encodes as
    // before.
    if (run.plan.readiness_deadline_blocks > 0) put_readiness(out, run);
    if (run.status == RunStatus::cancelled || run.status == RunStatus::not_ready) {
      if (!run.stop) std::abort();  // set together with the status (readiness_steps.cpp)
      append_u8(out, static_cast<std::uint8_t>(run.stop->cause));
      put_str(out, run.stop->member);
      put_str(out, run.stop->reason);
    }
  }
  append_u8(out, state.active_run ? 1 : 0);
  if (state.active_run) put_str(out, *state.active_run);
  put_refusals(out, state.refusals);
  // Only a state with accounts carries these bytes (and is hashed under
  // "baton/state/v3"), so every earlier state's encoding is unchanged.
  if (!state.accounts.empty() || !state.schemas.empty())
    append_accounts_encoding(out, state.accounts);
  // §23: only a state with data summaries carries these bytes, after the
  // accounts (then always written, possibly as an empty list).
  if (!state.schemas.empty()) {
    append_u32be(out, static_cast<std::uint32_t>(state.schemas.size()));
    for (const auto& [id, schema] : state.schemas) {
      put_str(out, id);
      append_u8(out, schema.frozen ? 1 : 0);
      append_u32be(out, static_cast<std::uint32_t>(schema.summaries.size()));
      for (const auto& [member, summary] : schema.summaries) {
        put_str(out, member);
        append_u64be(out, summary.height);
        put_str(out, summary_to_proto(id, summary).SerializeAsString());
      }
    }
  }
  return out;
}

std::optional<TurnView> whose_turn(const TrainingState& state) {
  const Run* run = state.active();
  if (run == nullptr) return std::nullopt;
  const Turn* t = run->current_turn();
  if (t == nullptr) return std::nullopt;
  return TurnView{run->plan.run_id, t->index,           t->cycle, t->partner,
                  t->phase,         t->deadline_height, run->head};
}

std::optional<Hash> head_model(const TrainingState& state, std::string_view run_id) {
  const Run* run = state.find_run(run_id);
  return run == nullptr ? std::nullopt : run->head;
}

std::vector<OpenRequest> open_requests(const TrainingState& state) {
  std::vector<OpenRequest> out;
  const Run* run = state.active();
  if (run == nullptr) return out;
  const Turn* t = run->current_turn();
  if (t == nullptr) return out;
  if (t->phase == TurnPhase::load_voting) {
    out.push_back({OpenRequest::Kind::load, run->plan.run_id, t->index, t->partner,
                   *t->load_request_id, t->deadline_height});
  } else if (t->phase == TurnPhase::save_voting) {
    out.push_back({OpenRequest::Kind::save, run->plan.run_id, t->index, t->partner,
                   *t->save_request_id, t->deadline_height});
  }
  return out;
}

const Refusal* find_refusal(const TrainingState& state, const Hash& tx_hash) {
  auto in = [&](const RefusalLog& log) -> const Refusal* {
    for (const auto& r : log.recent)
      if (r.tx_hash == tx_hash) return &r;
    return nullptr;
  };
  if (const Refusal* r = in(state.refusals)) return r;
  for (const auto& [id, run] : state.runs)
    if (const Refusal* r = in(run.refusals)) return r;
  return nullptr;
}

const SaveRecord* find_save(const Run& run, const Hash& model_id) {
  for (const auto& t : run.turns)
    if (t.save_request_id == model_id && t.save) return &*t.save;
  return nullptr;
}

std::int64_t settled_gain_ppm(const std::map<std::string, ModelVoteRecord>& votes, TokenMode mode) {
  const bool loss = mode == TokenMode::delta_loss;
  const std::int64_t bound = loss ? kMaxVoteLossGainMicro : kMaxVoteGainPpm;
  std::vector<std::int64_t> gains;
  gains.reserve(votes.size());
  for (const auto& [name, v] : votes) {
    if (v.measured())
      gains.push_back(std::clamp(loss ? v.loss_gain_micro() : v.gain_ppm(), -bound, bound));
  }
  if (gains.empty()) return 0;
  std::sort(gains.begin(), gains.end());
  const std::size_t n = gains.size();
  const std::int64_t lo = gains[(n - 1) / 2], hi = gains[n / 2];
  if (lo > 0) return lo;
  if (hi < 0) return hi;
  return 0;  // the median interval holds zero
}

bool partner_suspended(const Run& run, std::string_view partner) {
  if (run.plan.suspend_after == 0) return false;
  std::uint32_t rejected = 0;
  for (auto it = run.turns.rbegin(); it != run.turns.rend(); ++it) {
    if (it->partner != partner) continue;
    if (it->outcome == TurnOutcome::approved) break;
    if (it->outcome == TurnOutcome::rejected && ++rejected >= run.plan.suspend_after) return true;
  }
  return false;
}

std::uint64_t Stake::locked() const {
  // 128 bits: a decoded stake (training_decode.h) may hold any u64s.
  unsigned __int128 in = static_cast<unsigned __int128>(deposit) + cost;
  unsigned __int128 out = static_cast<unsigned __int128>(refunded) + escrowed;
  for (const auto& [name, credits] : forfeits) out += credits;
  return in > out ? static_cast<std::uint64_t>(in - out) : 0;
}

std::uint64_t required_deposit(const Run& run, std::string_view partner) {
  const TrainingPlan& plan = run.plan;
  if (plan.deposit == 0) return 0;
  std::uint64_t k = 0;
  for (auto it = run.turns.rbegin(); it != run.turns.rend(); ++it) {
    if (it->partner != partner) continue;
    if (it->outcome == TurnOutcome::approved) break;
    if (it->outcome == TurnOutcome::rejected && it->save) ++k;
  }
  // deposit x factor^k, saturating at the cap: at most log2(cap) ~ 50
  // multiplications by a factor >= 2 before it saturates; factor 1 stays.
  std::uint64_t d = std::min(plan.deposit, kMaxPlanCredits);
  for (std::uint64_t i = 0; i < k && plan.deposit_factor > 1 && d < kMaxPlanCredits; ++i) {
    const unsigned __int128 next = static_cast<unsigned __int128>(d) * plan.deposit_factor;
    d = next > kMaxPlanCredits ? kMaxPlanCredits : static_cast<std::uint64_t>(next);
  }
  return d;
}

std::optional<ProtocolRejected> partner_cannot_pay(const Run& run, std::string_view partner,
                                                   std::uint64_t balance) {
  if (balance < run.plan.min_balance) return ProtocolRejected::below_min_balance;
  // Both terms are at most kMaxPlanCredits: the sum cannot overflow.
  if (balance < run.plan.submission_cost + required_deposit(run, partner))
    return ProtocolRejected::cannot_afford_stake;
  return std::nullopt;
}

std::uint64_t locked_stakes(const Run& run) {
  std::uint64_t out = 0;
  for (const auto& t : run.turns) out += t.stake.locked();  // conserved credits
  return out;
}

std::uint64_t vote_deadline(const Run& run, const Turn& t) {
  return deadline_after(t.save_request_height, run.plan.vote_deadline_blocks);
}

bool gains_settled(const Run& run) {
  // A cancelled run's escrow is settled as a finished one's (§22.3).
  return (run.status == RunStatus::finished || run.status == RunStatus::cancelled) &&
         std::all_of(run.models.begin(), run.models.end(),
                     [](const ModelRecord& m) { return m.gain_settled; });
}

bool needs_block_clock(const TrainingState& state) {
  if (state.active_run) return true;
  // Every run ever started (a consortium's handful), each with its lineage.
  for (const auto& [id, run] : state.runs) {
    if (run.escrow && run.escrow->state == EscrowState::open) return true;
    for (const ModelRecord& m : run.models)
      if (!m.gain_settled) return true;
  }
  return false;
}

}  // namespace baton::chain
