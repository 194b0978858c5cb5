#include "chain/economy_steps.h"

#include "chain/encoding.h"
#include "chain/payout_tokens.h"

namespace baton::chain {

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::Transfer& t) {
  if (t.amount() == 0) return ProtocolRejected::zero_amount;
  if (spec.genesis.find_member(t.to()) == nullptr) return ProtocolRejected::unknown_recipient;
  if (ts.accounts.balance(sender.name) < t.amount()) return ProtocolRejected::insufficient_balance;
  return CheckedTx{};
}

void apply_transfer(TrainingState& ts, const ProtocolSender& sender, const pb::Transfer& t) {
  debit(ts.accounts, sender.name, t.amount());
  credit(ts.accounts, t.to(), t.amount());
}

namespace {

Run& run_named(TrainingState& ts, const std::string& run_id) {
  auto it = ts.runs.find(run_id);
  if (it == ts.runs.end() || !it->second.escrow) std::abort();  // check found it
  return it->second;
}

// Pays the escrow out by tokens (or refunds it) and closes it.
void settle(Run& run, Accounts& accounts, EscrowState state, std::uint64_t height) {
  Escrow& e = *run.escrow;
  e.payouts = state == EscrowState::refunded
                  ? std::map<std::string, std::uint64_t>{}
                  : escrow_payouts(e.funded, payout_tokens(run), run.plan.sponsor);
  if (state == EscrowState::refunded && e.funded > 0) e.payouts[run.plan.sponsor] = e.funded;
  for (const auto& [name, credits] : e.payouts) credit(accounts, name, credits);
  e.state = state;
  e.settled_height = height;
}

}  // namespace

void refund_escrow(Run& run, Accounts& accounts, std::uint64_t height) {
  settle(run, accounts, EscrowState::refunded, height);
}

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::FundRun& f) {
  if (f.amount() == 0) return ProtocolRejected::zero_amount;
  const Run* run = ts.find_run(f.run_id());
  if (run == nullptr) return ProtocolRejected::wrong_run;
  if (!run->escrow || sender.name != run->plan.sponsor) return ProtocolRejected::not_sponsor;
  if (run_ended(run->status) || run->escrow->state != EscrowState::open)
    return ProtocolRejected::run_finished;
  if (ts.accounts.balance(sender.name) < f.amount()) return ProtocolRejected::insufficient_balance;
  return CheckedTx{};
}

void apply_fund(TrainingState& ts, const ProtocolSender& sender, const pb::FundRun& f,
                std::uint64_t height) {
  Run& run = run_named(ts, f.run_id());
  debit(ts.accounts, sender.name, f.amount());
  run.escrow->funded += f.amount();  // conserved credits: cannot overflow
  if (run.status == RunStatus::awaiting_funding && run.escrow->funded >= run.plan.min_escrow)
    begin_funded_run(ts, run, height);
}

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender,
                                           const pb::ReleaseEscrow& r) {
  const Run* run = ts.find_run(r.run_id());
  if (run == nullptr) return ProtocolRejected::wrong_run;
  if (!run->escrow || sender.name != run->plan.sponsor) return ProtocolRejected::not_sponsor;
  if (run->escrow->state != EscrowState::open) return ProtocolRejected::already_released;
  // A run cancelled after an approved turn is released as a finished one (§22.3).
  if (run->status != RunStatus::finished && run->status != RunStatus::cancelled)
    return ProtocolRejected::run_not_finished;
  // Tokens become credits only once no late vote can move them.
  if (!gains_settled(*run)) return ProtocolRejected::gains_not_settled;
  return CheckedTx{};
}

void apply_release(TrainingState& ts, const pb::ReleaseEscrow& r, std::uint64_t height) {
  settle(run_named(ts, r.run_id()), ts.accounts, EscrowState::released, height);
}

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::KeyGrant& g) {
  if (g.model_id().size() != 32 || g.key_commitment().size() != 32 ||
      g.wrapped_key().size() != kWrappedKeyBytes)
    return ProtocolRejected::malformed_request;
  const Run* run = ts.find_run(g.run_id());
  if (run == nullptr) return ProtocolRejected::wrong_run;
  if (!run->escrow || run->escrow->state != EscrowState::released)
    return ProtocolRejected::not_released;
  if (g.recipient() != run->plan.sponsor) return ProtocolRejected::grant_to_non_sponsor;
  const Hash model = Hash::from_bytes(as_bytes(g.model_id())).value();
  const SaveRecord* save = run->head == model ? find_save(*run, model) : nullptr;
  if (save == nullptr || !save->wrapped_keys.contains(sender.name))
    return ProtocolRejected::not_key_holder;
  if (Hash::from_bytes(as_bytes(g.key_commitment())).value() != save->key_commitment)
    return ProtocolRejected::key_commitment_mismatch;
  return CheckedTx{};
}

void apply_key_grant(TrainingState& ts, const ProtocolSender& sender, const pb::KeyGrant& g) {
  run_named(ts, g.run_id()).escrow->key_grants[sender.name] = g.wrapped_key();
}

void settle_due_escrows(TrainingState& ts, std::uint64_t height) {
  if (Run* run = ts.active();
      run != nullptr && run->status == RunStatus::awaiting_funding &&
      deadline_after(run->start_height, run->plan.funding_deadline_blocks) <= height) {
    run->status = RunStatus::unfunded;
    run->end_height = height;
    ts.active_run.reset();
    settle(*run, ts.accounts, EscrowState::refunded, height);
  }
  // Every run ever started (a consortium's handful); only sponsored ones act.
  for (auto& [id, run] : ts.runs) {
    if (!run.escrow || run.escrow->state != EscrowState::open ||
        (run.status != RunStatus::finished && run.status != RunStatus::cancelled))
      continue;
    // The deadline counts from the run's end; the payout also waits for the
    // last gains (settled earlier in this end_block when they fall due).
    if (deadline_after(run.end_height, run.plan.release_deadline_blocks) <= height &&
        gains_settled(run))
      settle(run, ts.accounts, EscrowState::paid_at_deadline, height);
  }
}

}  // namespace baton::chain
