#include "chain/protocol_steps.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <limits>

#include "chain/deposit_steps.h"
#include "chain/economy_steps.h"
#include "chain/encoding.h"
#include "chain/privacy_steps.h"
#include "chain/protocol.h"
#include "chain/readiness_steps.h"
#include "chain/round_steps.h"
#include "chain/schema_steps.h"
#include "chain/transaction.h"

namespace baton::chain {

namespace {

template <class Message>
Message decode_payload(const pb::Transaction& tx) {
  Message m;
  if (!parse_canonical(tx.payload(), m)) std::abort();  // check_transaction decoded it
  return m;
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

// `requester`'s power is not eligible ("" in a federated round: nobody
// authored the aggregate, so every member's power is).
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

void begin_turn(Run& run, std::uint64_t index, std::uint64_t height) {
  const auto n = run.plan.partners.size();
  Turn t;
  t.index = index;
  t.cycle = index / n;
  t.partner = turn_partner(run.plan, index);
  t.start_height = height;
  t.deadline_height = deadline_after(height, run.plan.load_deadline_blocks);
  t.head_before = run.head;
  run.turns.push_back(std::move(t));
}

}  // namespace

// Begins turn `index`, skipping (at `height`) every turn of a suspended
// partner (outcome suspended), of one whose privacy budget is spent (outcome
// budget_spent, §20.2) or of a partner that cannot pay what the plan asks
// (outcome cannot_pay, §19.9), or ends the run after its last turn. At most
// total_turns iterations, each a scan of the run's turns; an accountant call
// only for a partner not already found spent (so at most one per partner
// newly found spent, plus one for the partner whose turn begins).
void begin_from(TrainingState& ts, Run& run, std::uint64_t index, std::uint64_t height) {
  // §21: a round has no partner of its own to skip (a federated plan has no
  // stakes, no DP and no suspension).
  if (run.plan.federated() && index < run.plan.total_turns()) {
    begin_round(run, index, height);
    return;
  }
  for (; index < run.plan.total_turns(); ++index) {
    begin_turn(run, index, height);
    Turn& t = run.turns.back();
    if (partner_suspended(run, t.partner)) {
      t.outcome = TurnOutcome::suspended;
    } else if (partner_budget_spent(run, t.partner)) {  // §20.2: one accountant call at most
      t.outcome = TurnOutcome::budget_spent;
    } else if (partner_cannot_pay(run, t.partner, ts.accounts.balance(t.partner))) {
      t.outcome = TurnOutcome::cannot_pay;
    } else {
      return;
    }
    t.phase = TurnPhase::done;
    t.end_height = height;
  }
  run.status = RunStatus::finished;
  run.end_height = height;
  if (ts.active_run == run.plan.run_id) ts.active_run.reset();
}

void finish_turn(TrainingState& ts, Run& run, TurnOutcome outcome, std::uint64_t height) {
  Turn& t = run.turns.back();
  settle_stake(ts.accounts, run, t, outcome);
  t.phase = TurnPhase::done;
  t.outcome = outcome;
  t.end_height = height;
  begin_from(ts, run, t.index + 1, height);
}

namespace {

std::optional<Hash> opt_hash(const std::string& bytes) {
  if (bytes.empty()) return std::nullopt;
  auto h = Hash::from_bytes(as_bytes(bytes));
  if (!h) return Hash{};  // callers check lengths first
  return *h;
}

bool valid_opt_hash(const std::string& bytes) { return bytes.empty() || bytes.size() == 32; }

// The active run named by `run_id`, or why not.
std::optional<ProtocolRejected> find_active(const TrainingState& ts, const std::string& run_id,
                                            const Run*& out) {
  out = ts.active();
  if (out == nullptr) return ProtocolRejected::run_not_active;
  if (out->plan.run_id != run_id) return ProtocolRejected::wrong_run;
  // A run awaiting its funding has no turn yet (docs/PROTOCOL.md §19.6).
  if (out->current_turn() == nullptr) return ProtocolRejected::wrong_phase;
  return std::nullopt;
}

// The run and current turn a check has accepted: check_step found them.
Run& active_run(TrainingState& ts) {
  Run* run = ts.active();
  if (run == nullptr || run->current_turn() == nullptr) std::abort();
  return *run;
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
    // An approved candidate's votes close at its vote deadline (its gain is
    // settled then; an unsettled one still takes votes: check of ModelVote).
    if (!load && id == request_id && t.outcome == TurnOutcome::approved)
      return ProtocolRejected::vote_after_deadline;
  }
  return ProtocolRejected::no_open_request;
}

// The turn of `run_id` whose load (or save) request is `request_id`, if any.
std::optional<std::uint64_t> turn_of_request(const TrainingState& ts, const std::string& run_id,
                                             const std::string& request_id, bool load) {
  const Run* run = ts.find_run(run_id);
  if (run == nullptr || request_id.size() != 32) return std::nullopt;
  const std::optional<Hash> id = opt_hash(request_id);
  for (const auto& t : run->turns)
    if ((load ? t.load_request_id : t.save_request_id) == id) return t.index;
  return std::nullopt;
}

// ---- StartRun ----

// Each type has the same three functions, overloaded on its message, so that
// check_step, apply_step and record_refusal below dispatch with one visit:
//   check(spec, ts, sender, msg)      would it take effect, or why not (reads only)
//   apply(step, ts, msg)              its effects; cannot fail after check
//   refused_turn(ts, msg)             the turn a refusal of it is recorded against

// What apply needs besides the state and the message.
struct Step {
  const ChainSpec& spec;
  const ProtocolTx& tx;
  CheckedTx checked;  // what check computed
  std::uint64_t height;
};

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender,
                                           const pb::TrainingPlan& p) {
  const GenesisMember* m = spec.genesis.find_member(sender.name);
  if (m == nullptr || !m->has_role(kRoleAdmin)) return ProtocolRejected::not_admin;
  if (ts.active_run) return ProtocolRejected::run_active;
  if (ts.runs.contains(p.run_id())) return ProtocolRejected::duplicate_run_id;
  auto plan = plan_from_proto(spec.genesis, p);
  if (!plan) return ProtocolRejected::invalid_plan;
  if (auto bad = check_plan_schema(ts, *plan)) return *bad;  // §23
  return CheckedTx{std::move(plan).value()};
}

void apply(Step& step, TrainingState& ts, const pb::TrainingPlan&) {
  start_run(ts, std::get<TrainingPlan>(std::move(step.checked)), step.tx.sender.name, step.height);
}

std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::TrainingPlan&) {
  return std::nullopt;
}

// ---- LoadRequest ----

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::LoadRequest& r) {
  const Run* run = nullptr;
  if (auto bad = find_active(ts, r.run_id(), run)) return *bad;
  if (run->plan.federated()) return ProtocolRejected::not_federated;  // §21: no load token
  const Turn& t = *run->current_turn();
  if (sender.name != t.partner || r.turn() != t.index) return ProtocolRejected::out_of_turn;
  if (t.phase != TurnPhase::awaiting_load_request) return ProtocolRejected::wrong_phase;
  if (!valid_opt_hash(r.head_model_id())) return ProtocolRejected::malformed_request;
  if (opt_hash(r.head_model_id()) != run->head) return ProtocolRejected::wrong_head;
  // The turn began only if the partner could pay; its balance may have
  // dropped since (a transfer). Checked before anyone votes or trains.
  if (auto why = partner_cannot_pay(*run, sender.name, ts.accounts.balance(sender.name)))
    return *why;
  return CheckedTx{};
}

void apply(Step& step, TrainingState& ts, const pb::LoadRequest&) {
  Run& run = active_run(ts);
  Turn& t = *run.current_turn();
  lock_stake(ts.accounts, run, t);
  t.load_request_id = step.tx.id;
  t.load_request_height = step.height;
  t.phase = TurnPhase::load_voting;
  t.deadline_height = deadline_after(step.height, run.plan.vote_deadline_blocks);
}

std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::LoadRequest& r) {
  return r.turn();
}

// ---- LoadApproval ----

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender,
                                           const pb::LoadApproval& a) {
  const Run* run = nullptr;
  if (auto bad = find_active(ts, a.run_id(), run)) return *bad;
  if (run->plan.federated()) return ProtocolRejected::not_federated;
  if (a.request_id().size() != 32) return ProtocolRejected::malformed_request;
  const std::optional<Hash> id = opt_hash(a.request_id());
  const Turn& t = *run->current_turn();
  if (t.phase != TurnPhase::load_voting || t.load_request_id != id)
    return closed_reason(*run, id, true);
  if (sender.name == t.partner) return ProtocolRejected::own_request;
  if (sender.power == 0) return ProtocolRejected::not_a_voter;
  if (t.load_approvals.contains(sender.name)) return ProtocolRejected::duplicate_vote;
  return CheckedTx{};
}

void apply(Step& step, TrainingState& ts, const pb::LoadApproval& a) {
  const std::uint64_t height = step.height;
  Run& run = active_run(ts);
  Turn& t = *run.current_turn();
  t.load_approvals[step.tx.sender.name] = ApprovalRecord{a.approve(), a.reason(), height};
  switch (tally(step.spec, run, t.partner, t.load_approvals)) {
    case Tally::approved:
      t.load_token_id = t.load_request_id;
      t.load_token_height = height;
      t.phase = TurnPhase::training;
      t.deadline_height = deadline_after(height, run.plan.save_deadline_blocks);
      break;
    case Tally::rejected:
      finish_turn(ts, run, TurnOutcome::rejected, height);
      break;
    case Tally::open:
      break;
  }
}

std::optional<std::uint64_t> refused_turn(const TrainingState& ts, const pb::LoadApproval& a) {
  return turn_of_request(ts, a.run_id(), a.request_id(), true);
}

// ---- SaveRequest ----

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::SaveRequest& r) {
  const Run* run = nullptr;
  if (auto bad = find_active(ts, r.run_id(), run)) return *bad;
  if (run->plan.federated()) return check_round_save(spec, *run, sender, r);
  const Turn& t = *run->current_turn();
  if (sender.name != t.partner || r.turn() != t.index) return ProtocolRejected::out_of_turn;
  if (t.phase != TurnPhase::training) return ProtocolRejected::wrong_phase;
  auto s = save_record_from_proto(spec.genesis, r);
  if (!s) return s.reason();
  if (s->parent_model_id != run->head) return ProtocolRejected::wrong_head;
  // §20.2: its ε is what the plan gives (41), then within the budget (40).
  if (auto why = check_privacy_spend(*run, sender.name, r)) return *why;
  // Every candidate of the run, approved or not, is in its turns (bounded
  // by the plan's turn count).
  for (const Turn& earlier : run->turns) {
    if (earlier.save && earlier.save->model_sha256 == s->model_sha256)
      return ProtocolRejected::duplicate_model;
  }
  return CheckedTx{std::move(s).value()};
}

void apply(Step& step, TrainingState& ts, const pb::SaveRequest& r) {
  Run& run = active_run(ts);
  if (run.plan.federated()) {
    apply_round_save(run, step.tx.sender, std::get<SaveRecord>(std::move(step.checked)), step.tx.id,
                     step.height);
    return;
  }
  Turn& t = *run.current_turn();
  // Spent whatever the vote: the voters decrypt this model (§20.2).
  if (run.plan.privacy.enabled()) run.privacy_spent[t.partner] = privacy_spend_of(r);
  t.save = std::get<SaveRecord>(std::move(step.checked));
  pay_submission_cost(run, t);
  t.save_request_id = step.tx.id;
  t.save_request_height = step.height;
  t.phase = TurnPhase::save_voting;
  t.deadline_height = deadline_after(step.height, run.plan.vote_deadline_blocks);
}

std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::SaveRequest& r) {
  return r.turn();
}

// ---- ModelVote ----

// The approved model of `run` whose SaveRequest is `id` and whose gain is
// not settled yet, or nullptr. Unsettled models are a suffix of the lineage
// (vote deadlines never decrease along the turns), so this looks at no
// settled one but the first.
const ModelRecord* settling_model(const Run& run, const std::optional<Hash>& id) {
  for (auto it = run.models.rbegin(); it != run.models.rend() && !it->gain_settled; ++it)
    if (it->id == id) return &*it;
  return nullptr;
}

// The checks every ModelVote passes, on time or late, for a request of
// `partner` already holding `votes`.
std::optional<ProtocolRejected> vote_checks(const Run& run, const ProtocolSender& sender,
                                            const std::string& partner,
                                            const std::map<std::string, ModelVoteRecord>& votes,
                                            const pb::ModelVote& v) {
  // §21: nobody authored a round's aggregate, so its aggregator and its
  // contributors vote like every member.
  if (!run.plan.federated() && sender.name == partner) return ProtocolRejected::own_request;
  if (sender.power == 0) return ProtocolRejected::not_a_voter;
  if (votes.contains(sender.name)) return ProtocolRejected::duplicate_vote;
  // The AUCs and p are the voter's word; what the ledger can hold it to is
  // that its approve is what the plan's policy makes of them.
  if (!vote_follows_policy(VotePolicy::from_plan(run.plan), v))
    return ProtocolRejected::vote_contradicts_policy;
  return std::nullopt;
}

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::ModelVote& v) {
  const bool well_formed = v.request_id().size() == 32 && v.auc_candidate_ppm() <= 1'000'000 &&
                           v.auc_head_ppm() <= 1'000'000 && v.p_worse_ppm() <= 1'000'000 &&
                           v.loss_candidate_micro() <= kMaxLossMicro &&
                           v.loss_head_micro() <= kMaxLossMicro;
  const std::optional<Hash> id =
      v.request_id().size() == 32 ? opt_hash(v.request_id()) : std::nullopt;
  // A late vote: the quorum approved the candidate, its vote deadline has
  // not passed, and its gain is settled from every vote (§18.2, "Gains").
  // Its run may be finished, or another run active.
  if (const Run* named = ts.find_run(v.run_id()); named != nullptr && id) {
    if (const ModelRecord* m = settling_model(*named, id)) {
      if (!well_formed) return ProtocolRejected::malformed_request;
      const Turn& t = named->turns[m->turn];
      if (auto bad = vote_checks(*named, sender, t.partner, t.model_votes, v)) return *bad;
      return CheckedTx{LateVote{v.run_id(), t.index}};
    }
  }
  const Run* run = nullptr;
  if (auto bad = find_active(ts, v.run_id(), run)) return *bad;
  if (!well_formed) return ProtocolRejected::malformed_request;
  const Turn& t = *run->current_turn();
  if (t.phase != TurnPhase::save_voting || t.save_request_id != id)
    return closed_reason(*run, id, false);
  if (auto bad = vote_checks(*run, sender, t.partner, t.model_votes, v)) return *bad;
  return CheckedTx{};
}

ModelVoteRecord vote_record(const pb::ModelVote& v, std::uint64_t height) {
  ModelVoteRecord r{v.approve(),
                    v.auc_candidate_ppm(),
                    v.auc_head_ppm(),
                    v.validation_size(),
                    v.p_worse_ppm(),
                    v.reason(),
                    height};
  r.loss_candidate_micro = v.loss_candidate_micro();
  r.loss_head_micro = v.loss_head_micro();
  return r;
}

void apply(Step& step, TrainingState& ts, const pb::ModelVote& v) {
  const std::uint64_t height = step.height;
  if (const auto* late = std::get_if<LateVote>(&step.checked)) {
    // Recorded for the gain only: the turn was decided at its quorum.
    Run& run = ts.runs.at(late->run_id);
    run.turns.at(late->turn).model_votes[step.tx.sender.name] = vote_record(v, height);
    return;
  }
  Run& run = active_run(ts);
  Turn& t = *run.current_turn();
  t.model_votes[step.tx.sender.name] = vote_record(v, height);
  const std::string author = run.plan.federated() ? std::string() : t.partner;
  switch (tally(step.spec, run, author, t.model_votes)) {
    case Tally::approved: {
      t.save_token_id = t.save_request_id;
      t.save_token_height = height;
      ModelRecord m;
      m.id = *t.save_request_id;
      m.parent = run.head;
      m.contributor = t.partner;
      m.turn = t.index;
      m.height = height;
      // A round has no load token (32 zero bytes); its contributors are U2.
      if (t.round) {
        for (const auto& [name, upload] : t.round->uploads) m.contributors.push_back(name);
      } else {
        m.load_token_id = *t.load_token_id;
      }
      m.object_key = t.save->object_key;
      m.ciphertext_sha256 = t.save->ciphertext_sha256;
      m.model_sha256 = t.save->model_sha256;
      // The gain waits for the vote deadline (settle_due_gains): the votes
      // that reached the quorum first are not the only ones that count.
      run.head = m.id;
      run.models.push_back(std::move(m));
      finish_turn(ts, run, TurnOutcome::approved, height);
      break;
    }
    case Tally::rejected:
      finish_turn(ts, run, TurnOutcome::rejected, height);
      break;
    case Tally::open:
      break;
  }
}

std::optional<std::uint64_t> refused_turn(const TrainingState& ts, const pb::ModelVote& v) {
  return turn_of_request(ts, v.run_id(), v.request_id(), false);
}

// ---- TurnAbandon ----

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::TurnAbandon& a) {
  const Run* run = nullptr;
  if (auto bad = find_active(ts, a.run_id(), run)) return *bad;
  if (run->plan.federated()) return check_round_abandon(*run, sender, a);
  const Turn& t = *run->current_turn();
  // Only the partner whose turn it is may give it up, and only its own
  // current turn: the worst a hostile partner can do is skip itself.
  if (sender.name != t.partner || a.turn() != t.index) return ProtocolRejected::out_of_turn;
  // Once its candidate is up for the vote, the voters decide: a partner
  // may not withdraw a candidate it expects to be rejected.
  if (t.phase != TurnPhase::awaiting_load_request && t.phase != TurnPhase::load_voting &&
      t.phase != TurnPhase::training) {
    return ProtocolRejected::wrong_phase;
  }
  // upload_unusable (7) is a federated complaint: a chained turn's reasons
  // stay 1..6, as before issue 15.
  if (!valid_opt_hash(a.head_model_id()) || a.reason() < 1 ||
      a.reason() > static_cast<std::uint32_t>(LoadFailure::training_failed) ||
      a.detail().size() > kMaxAbandonDetailBytes) {
    return ProtocolRejected::malformed_request;
  }
  if (opt_hash(a.head_model_id()) != run->head) return ProtocolRejected::wrong_head;
  return CheckedTx{};
}

void apply(Step& step, TrainingState& ts, const pb::TurnAbandon& a) {
  Run& run = active_run(ts);
  if (run.plan.federated()) {
    apply_round_abandon(run, step.tx.sender, a);  // a complaint: it ends nothing
    return;
  }
  run.current_turn()->abandon = AbandonRecord{static_cast<LoadFailure>(a.reason()), a.detail()};
  finish_turn(ts, run, TurnOutcome::abandoned, step.height);
}

std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::TurnAbandon& a) {
  return a.turn();
}

// ---- Account transactions: checks and effects in chain/economy_steps.h ----

void apply(Step& step, TrainingState& ts, const pb::Transfer& t) {
  apply_transfer(ts, step.tx.sender, t);
}
void apply(Step& step, TrainingState& ts, const pb::FundRun& f) {
  apply_fund(ts, step.tx.sender, f, step.height);
}
void apply(Step& step, TrainingState& ts, const pb::ReleaseEscrow& r) {
  apply_release(ts, r, step.height);
}
void apply(Step& step, TrainingState& ts, const pb::KeyGrant& g) {
  apply_key_grant(ts, step.tx.sender, g);
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::KeyGrant&) {
  return std::nullopt;
}

// ---- Round transactions: checks and effects in chain/round_steps.h ----

void apply(Step& step, TrainingState& ts, const pb::RoundShare& s) {
  apply_round_share(step.spec, ts, step.tx.sender, s, step.height);
}
void apply(Step& step, TrainingState& ts, const pb::RoundUpload& u) {
  apply_round_upload(ts, step.tx.sender, u, step.height);
}
void apply(Step& step, TrainingState& ts, const pb::RoundUnmask& u) {
  apply_round_unmask(step.spec, ts, step.tx.sender, u, step.height);
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::RoundShare& s) {
  return s.round();
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::RoundUpload& u) {
  return u.round();
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::RoundUnmask& u) {
  return u.round();
}

// ---- Run control: checks and effects in chain/readiness_steps.h ----

void apply(Step& step, TrainingState& ts, const pb::RunReady& r) {
  apply_run_ready(ts, step.tx.sender, r, step.height);
}
void apply(Step& step, TrainingState& ts, const pb::CancelRun& c) {
  apply_cancel(ts, step.tx.sender, c, step.height);
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::RunReady&) {
  return std::nullopt;
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::CancelRun&) {
  return std::nullopt;
}
// ---- DataSummary: checks and effects in chain/schema_steps.h (§23) ----

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::DataSummary& m) {
  return check_data_summary(spec, ts, sender, m);
}
void apply(Step& step, TrainingState& ts, const pb::DataSummary& m) {
  apply_data_summary(ts, step.tx.sender, m, std::get<DataSummaryRecord>(std::move(step.checked)),
                     step.height);
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::DataSummary&) {
  return std::nullopt;
}
std::string refusal_run_id(const pb::DataSummary&) { return {}; }

std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::Transfer&) {
  return std::nullopt;
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::FundRun&) {
  return std::nullopt;
}
std::optional<std::uint64_t> refused_turn(const TrainingState&, const pb::ReleaseEscrow&) {
  return std::nullopt;
}

}  // namespace

void begin_funded_run(TrainingState& ts, Run& run, std::uint64_t height) {
  begin_or_prepare(ts, run, height);  // §22: a readiness phase first, when the plan has one
}

std::uint64_t deadline_after(std::uint64_t height, std::uint64_t blocks) {
  constexpr std::uint64_t kLast = std::numeric_limits<std::uint64_t>::max();
  return blocks > kLast - height ? kLast : height + blocks;
}

ProtocolTx decode_protocol_tx(const ChainSpec& spec, const pb::Transaction& tx) {
  ProtocolTx out;
  const Validator* v = spec.validators.find(PublicKey::from_bytes(as_bytes(tx.sender())).value());
  if (v == nullptr) std::abort();  // check_transaction: the sender is a member
  out.sender = {v->name, v->power};
  out.id = tx_hash(encode_transaction(tx));
  out.type = tx.type();
  switch (tx.type()) {
    case pb::TX_START_RUN:
      out.payload = decode_payload<pb::TrainingPlan>(tx);
      break;
    case pb::TX_LOAD_REQUEST:
      out.payload = decode_payload<pb::LoadRequest>(tx);
      break;
    case pb::TX_LOAD_APPROVAL:
      out.payload = decode_payload<pb::LoadApproval>(tx);
      break;
    case pb::TX_SAVE_REQUEST:
      out.payload = decode_payload<pb::SaveRequest>(tx);
      break;
    case pb::TX_MODEL_VOTE:
      out.payload = decode_payload<pb::ModelVote>(tx);
      break;
    case pb::TX_TURN_ABANDON:
      out.payload = decode_payload<pb::TurnAbandon>(tx);
      break;
    case pb::TX_TRANSFER:
      out.payload = decode_payload<pb::Transfer>(tx);
      break;
    case pb::TX_FUND_RUN:
      out.payload = decode_payload<pb::FundRun>(tx);
      break;
    case pb::TX_RELEASE_ESCROW:
      out.payload = decode_payload<pb::ReleaseEscrow>(tx);
      break;
    case pb::TX_KEY_GRANT:
      out.payload = decode_payload<pb::KeyGrant>(tx);
      break;
    case pb::TX_ROUND_SHARE:
      out.payload = decode_payload<pb::RoundShare>(tx);
      break;
    case pb::TX_ROUND_UPLOAD:
      out.payload = decode_payload<pb::RoundUpload>(tx);
      break;
    case pb::TX_ROUND_UNMASK:
      out.payload = decode_payload<pb::RoundUnmask>(tx);
      break;
    case pb::TX_RUN_READY:
      out.payload = decode_payload<pb::RunReady>(tx);
      break;
    case pb::TX_CANCEL_RUN:
      out.payload = decode_payload<pb::CancelRun>(tx);
      break;
    case pb::TX_DATA_SUMMARY:
      out.payload = decode_payload<pb::DataSummary>(tx);
      break;
    default:
      std::abort();  // callers pass protocol types only
  }
  return out;
}

Verdict<CheckedTx, ProtocolRejected> check_step(const ChainSpec& spec, const TrainingState& ts,
                                                const ProtocolTx& tx) {
  return std::visit([&](const auto& m) { return check(spec, ts, tx.sender, m); }, tx.payload);
}

void apply_step(const ChainSpec& spec, TrainingState& ts, const ProtocolTx& tx, CheckedTx checked,
                std::uint64_t height) {
  Step step{spec, tx, std::move(checked), height};
  std::visit([&](const auto& m) { apply(step, ts, m); }, tx.payload);
}

void record_refusal(TrainingState& ts, const ProtocolTx& tx, ProtocolRejected reason,
                    std::uint64_t height) {
  Refusal r;
  r.height = height;
  r.tx_hash = tx.id;
  r.sender = tx.sender.name;
  r.type = tx.type;
  r.reason = reason;
  r.run_id = std::visit([](const auto& m) { return refusal_run_id(m); }, tx.payload);
  r.turn = std::visit([&](const auto& m) { return refused_turn(ts, m); }, tx.payload);
  // A refused StartRun is the consortium's, not the run's: its run may not
  // exist. An account transaction naming no run has run id "": no run has it.
  auto it = tx.type == pb::TX_START_RUN ? ts.runs.end() : ts.runs.find(r.run_id);
  (it == ts.runs.end() ? ts.refusals : it->second.refusals).record(std::move(r));
}

void start_run(TrainingState& ts, TrainingPlan plan, std::string started_by,
               std::uint64_t base_height) {
  Run run;
  run.plan = std::move(plan);
  run.started_by = std::move(started_by);
  run.start_height = base_height;
  for (const auto& p : run.plan.partners) run.contributivity_ppm[p] = 0;
  if (!run.plan.sponsor.empty()) run.escrow = Escrow{};
  // A plan that requires funding waits for it (FundRun, settle_due_escrows).
  if (run.plan.min_escrow > 0) run.status = RunStatus::awaiting_funding;
  freeze_plan_schema(ts, run.plan);  // §23: the schema this run encodes with stays
  const std::string id = run.plan.run_id;
  Run& placed = ts.runs.emplace(id, std::move(run)).first->second;
  ts.active_run = id;
  if (placed.status == RunStatus::active) begin_or_prepare(ts, placed, base_height);
}

void settle_due_gains(TrainingState& ts, std::uint64_t height) {
  for (auto& [id, run] : ts.runs) {
    auto first = run.models.end();
    while (first != run.models.begin() && !std::prev(first)->gain_settled) --first;
    for (auto it = first; it != run.models.end(); ++it) {
      const Turn& t = run.turns.at(it->turn);
      if (vote_deadline(run, t) > height) break;  // and so every later one
      it->median_gain_ppm = settled_gain_ppm(t.model_votes, run.plan.token_mode);
      it->gain_settled = true;
      // §21: a round's gain is split among the partners whose updates it holds.
      if (it->contributors.empty()) {
        run.contributivity_ppm[it->contributor] += it->median_gain_ppm;
      } else {
        credit_round_gain(run, *it);
      }
    }
  }
}

void expire_due_turn(TrainingState& ts, std::uint64_t height) {
  Run* run = ts.active();
  if (run == nullptr) return;
  const Turn* t = run->current_turn();
  if (t == nullptr || t->deadline_height > height) return;
  // §21: sharing and uploading move on at their deadline when enough
  // partners took part; every other phase of a round expires as a turn does.
  if (t->round && round_moves_on_at_deadline(*run, height)) return;
  finish_turn(ts, *run, TurnOutcome::expired, height);
}

void skip_removed_partners(TrainingState& ts, const std::vector<GenesisMember>& members,
                           std::uint64_t height) {
  const auto is_member = [&](const std::string& name) {
    return std::any_of(members.begin(), members.end(),
                       [&](const GenesisMember& m) { return m.name == name; });
  };
  for (;;) {
    Run* run = ts.active();
    if (run == nullptr || run->plan.federated()) return;
    const Turn* t = run->current_turn();
    if (t == nullptr || t->outcome != TurnOutcome::pending || is_member(t->partner)) return;
    finish_turn(ts, *run, TurnOutcome::removed, height);
  }
}

}  // namespace baton::chain
