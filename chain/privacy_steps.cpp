// The privacy budget's rules on the ledger: see privacy_steps.h and
// docs/PROTOCOL.md §20.2.
#include "chain/privacy_steps.h"

#include <array>
#include <map>
#include <mutex>

namespace baton::chain {

namespace {

using MemoKey = std::array<std::uint64_t, 13>;

MemoKey memo_key(const PrivacyPlan& p, std::uint32_t epochs, const PrivacySpend& before) {
  return {static_cast<std::uint64_t>(p.mechanism),
          p.delta_pico,
          p.budget_micro,
          p.clip_micro,
          p.noise_multiplier_micro,
          p.sampling_rate_nano,
          p.beta_micro,
          p.sensitivity_micro,
          p.values_per_row,
          epochs,
          before.steps_total,
          before.epsilon_turn_micro,
          before.epsilon_total_micro};
}

// Enough for every epoch count of the largest plan (kMaxPlanEpochs) and then
// some; cleared when full. About 2 MiB at most.
constexpr std::size_t kMemoEntries = 16'384;

}  // namespace

Result<PrivacySpend> next_privacy_spend_memo(const PrivacyPlan& plan, std::uint32_t epochs,
                                             const PrivacySpend& before) {
  static std::mutex mu;
  static std::map<MemoKey, PrivacySpend> memo;
  const MemoKey key = memo_key(plan, epochs, before);
  {
    std::lock_guard lock(mu);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
  }
  auto spend = next_privacy_spend(plan, epochs, before);  // outside the lock: up to ~2.4 ms
  if (!spend) return spend;
  std::lock_guard lock(mu);
  if (memo.size() >= kMemoEntries) memo.clear();
  memo.emplace(key, *spend);
  return spend;
}

PrivacySpend privacy_spent_by(const Run& run, std::string_view partner) {
  auto it = run.privacy_spent.find(std::string(partner));
  return it == run.privacy_spent.end() ? PrivacySpend{} : it->second;
}

PrivacySpend privacy_spend_of(const pb::SaveRequest& r) {
  return {r.dp_steps_total(), r.epsilon_turn_micro(), r.epsilon_total_micro()};
}

bool partner_budget_spent(const Run& run, std::string_view partner) {
  const PrivacyPlan& plan = run.plan.privacy;
  if (!plan.enabled()) return false;
  for (const Turn& t : run.turns)
    if (t.partner == partner && t.outcome == TurnOutcome::budget_spent) return true;
  // One epoch is the least a turn trains: ε grows with the steps, so when it
  // does not fit, no e does (max_epochs_within_budget == 0).
  auto next = next_privacy_spend_memo(plan, 1, privacy_spent_by(run, partner));
  // An error cannot happen for a validated plan (check_privacy bounds the
  // steps); a partner whose next spend cannot be computed trains no more.
  return !next || next->epsilon_total_micro > plan.budget_micro;
}

std::optional<ProtocolRejected> check_privacy_spend(const Run& run, std::string_view partner,
                                                    const pb::SaveRequest& r) {
  const PrivacyPlan& plan = run.plan.privacy;
  const PrivacySpend claimed = privacy_spend_of(r);
  if (!plan.enabled()) {
    if (claimed == PrivacySpend{}) return std::nullopt;
    return ProtocolRejected::privacy_spend_mismatch;
  }
  const PrivacySpend before = privacy_spent_by(run, partner);
  // Integer checks first: what fails them costs no accountant call.
  std::uint32_t epochs = run.plan.epochs;
  if (plan.mechanism == PrivacyMechanism::dp_sgd) {
    const std::uint64_t per_epoch = dp_steps_per_epoch(plan.sampling_rate_nano);
    if (claimed.steps_total <= before.steps_total) return ProtocolRejected::privacy_spend_mismatch;
    const std::uint64_t steps = claimed.steps_total - before.steps_total;
    if (steps % per_epoch != 0 || steps / per_epoch > run.plan.epochs)
      return ProtocolRejected::privacy_spend_mismatch;
    epochs = static_cast<std::uint32_t>(steps / per_epoch);
  }
  if (claimed.epsilon_total_micro < before.epsilon_total_micro ||
      claimed.epsilon_turn_micro != claimed.epsilon_total_micro - before.epsilon_total_micro)
    return ProtocolRejected::privacy_spend_mismatch;
  auto expected = next_privacy_spend_memo(plan, epochs, before);
  if (!expected || *expected != claimed) return ProtocolRejected::privacy_spend_mismatch;
  if (claimed.epsilon_total_micro > plan.budget_micro)
    return ProtocolRejected::privacy_budget_exceeded;
  return std::nullopt;
}

}  // namespace baton::chain
