#include "chain/readiness_steps.h"

#include <algorithm>

#include "chain/deposit_steps.h"
#include "chain/economy_steps.h"
#include "chain/encoding.h"
#include "chain/genesis.h"
#include "chain/schema_steps.h"

namespace baton::chain {

namespace {

bool is_partner(const Run& run, const std::string& name) {
  const auto& p = run.plan.partners;
  return std::find(p.begin(), p.end(), name) != p.end();
}

std::uint64_t ready_count(const Run& run) {
  std::uint64_t n = 0;
  for (const auto& [name, r] : run.readiness)
    if (r.ready) ++n;
  return n;
}

std::string hash_text(const std::optional<Hash>& h) {
  return h ? h->hex().substr(0, 16) : std::string("none");
}

// Ends `run` at `height` with `status` (cancelled or not_ready) for `stop`.
void stop_run(TrainingState& ts, Run& run, RunStatus status, RunStop stop, std::uint64_t height) {
  if (Turn* t = run.current_turn(); t != nullptr && t->outcome == TurnOutcome::pending) {
    // As if its deadline passed: the stake unlocks as an expired turn's.
    settle_stake(ts.accounts, run, *t, TurnOutcome::expired);
    t->phase = TurnPhase::done;
    t->outcome = TurnOutcome::expired;
    t->end_height = height;
  }
  run.status = status;
  run.end_height = height;
  run.stop = std::move(stop);
  if (ts.active_run == run.plan.run_id) ts.active_run.reset();
  // Nothing was locked but the sponsor's funding unless a turn was approved:
  // then the escrow waits for the release as a finished run's (§22.3).
  if (run.escrow && run.escrow->state == EscrowState::open && run.models.empty())
    refund_escrow(run, ts.accounts, height);
}

void begin_turns(TrainingState& ts, Run& run, std::uint64_t height) {
  run.status = RunStatus::active;
  begin_from(ts, run, 0, height);
}

}  // namespace

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::RunReady& r) {
  const Run* run = ts.find_run(r.run_id());
  if (run == nullptr) return ProtocolRejected::wrong_run;
  if (!is_partner(*run, sender.name)) return ProtocolRejected::not_a_partner;
  const bool reason_ok =
      r.ready() ? r.reason() == 0 : r.reason() >= 1 && r.reason() <= kMaxReadinessFailure;
  if (!reason_ok || (!r.schema_sha256().empty() && r.schema_sha256().size() != 32) ||
      r.detail().size() > kMaxRunControlTextBytes)
    return ProtocolRejected::malformed_request;
  if (run->status != RunStatus::preparing) return ProtocolRejected::not_preparing;
  if (run->readiness.contains(sender.name)) return ProtocolRejected::already_answered;
  // Last, as the costliest: a ready answer under a consortium schema must
  // name the schema every node derives (§22.2), whatever the partner says.
  if (r.ready() && !run->plan.schema_id.empty()) {
    const std::string want = consortium_schema_sha256(ts, run->plan.schema_id);
    if (want.empty() || r.schema_sha256() != want) return ProtocolRejected::wrong_schema_hash;
  }
  return CheckedTx{};
}

void apply_run_ready(TrainingState& ts, const ProtocolSender& sender, const pb::RunReady& r,
                     std::uint64_t height) {
  Run& run = ts.runs.at(r.run_id());  // check found it
  ReadinessRecord rec;
  rec.ready = r.ready();
  if (!r.schema_sha256().empty())
    rec.schema_sha256 = Hash::from_bytes(as_bytes(r.schema_sha256())).value();
  rec.train_rows = r.train_rows();
  rec.reason = static_cast<std::uint8_t>(r.reason());
  rec.detail = r.detail();
  rec.height = height;
  if (!rec.ready) {
    const std::uint64_t refused = run.readiness.size() + 1 - ready_count(run);
    const std::uint64_t need =
        run.plan.federated() ? run.plan.min_partners : run.plan.partners.size();
    if (run.plan.partners.size() - refused < need) {
      RunStop stop{
          RunStopCause::partner_refused, sender.name,
          std::string(to_string(static_cast<ReadinessFailure>(rec.reason))) + ": " + rec.detail};
      run.readiness.emplace(sender.name, std::move(rec));
      stop_run(ts, run, RunStatus::not_ready, std::move(stop), height);
      return;
    }
  } else {
    // The encoded data must agree: one schema for every ready partner. The
    // first ready answer in name order that differs is named.
    for (const auto& [name, other] : run.readiness) {
      if (!other.ready || other.schema_sha256 == rec.schema_sha256) continue;
      RunStop stop{RunStopCause::schema_mismatch, sender.name,
                   "schema mismatch: " + sender.name + " encodes with schema " +
                       hash_text(rec.schema_sha256) + " but " + name + " with " +
                       hash_text(other.schema_sha256)};
      run.readiness.emplace(sender.name, std::move(rec));
      stop_run(ts, run, RunStatus::not_ready, std::move(stop), height);
      return;
    }
  }
  run.readiness.emplace(sender.name, std::move(rec));
  if (run.readiness.size() == run.plan.partners.size()) begin_turns(ts, run, height);
}

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::CancelRun& c) {
  const GenesisMember* m = spec.genesis.find_member(sender.name);
  if (m == nullptr || !m->has_role(kRoleAdmin)) return ProtocolRejected::not_admin;
  if (c.reason().size() > kMaxRunControlTextBytes) return ProtocolRejected::malformed_request;
  const Run* run = ts.find_run(c.run_id());
  if (run == nullptr) return ProtocolRejected::wrong_run;
  if (run_ended(run->status)) return ProtocolRejected::run_ended;
  return CheckedTx{};
}

void apply_cancel(TrainingState& ts, const ProtocolSender& sender, const pb::CancelRun& c,
                  std::uint64_t height) {
  Run& run = ts.runs.at(c.run_id());  // check found it
  stop_run(ts, run, RunStatus::cancelled, RunStop{RunStopCause::cancelled, sender.name, c.reason()},
           height);
}

void begin_or_prepare(TrainingState& ts, Run& run, std::uint64_t height) {
  if (run.plan.readiness_deadline_blocks == 0) {
    begin_turns(ts, run, height);
    return;
  }
  run.status = RunStatus::preparing;
  run.ready_since = height;
}

void end_due_readiness(TrainingState& ts, std::uint64_t height) {
  Run* run = ts.active();
  if (run == nullptr || run->status != RunStatus::preparing ||
      deadline_after(run->ready_since, run->plan.readiness_deadline_blocks) > height)
    return;
  if (run->plan.federated() && ready_count(*run) >= run->plan.min_partners) {
    begin_turns(ts, *run, height);
    return;
  }
  std::string silent;
  for (const auto& p : run->plan.partners) {
    if (run->readiness.contains(p)) continue;
    silent += (silent.empty() ? "" : ", ") + p;
  }
  RunStop stop{RunStopCause::readiness_expired, "",
               "the readiness deadline passed at height " + std::to_string(height) +
                   (silent.empty() ? std::string(" with too few partners ready")
                                   : "; no answer from " + silent)};
  stop_run(ts, *run, RunStatus::not_ready, std::move(stop), height);
}

}  // namespace baton::chain
