// The ε each SaveRequest must carry: see privacy_budget.h and
// docs/PROTOCOL.md §20.2.
#include "chain/privacy_budget.h"

#include <algorithm>

namespace baton::chain {

std::uint64_t dp_steps_per_epoch(std::uint64_t sampling_rate_nano) {
  constexpr std::uint64_t kOne = 1'000'000'000;
  return (kOne + sampling_rate_nano - 1) / sampling_rate_nano;
}

namespace {

std::uint64_t local_epsilon_micro(const PrivacyPlan& plan) {
  using u128 = unsigned __int128;
  const u128 num = u128{plan.values_per_row} * plan.sensitivity_micro * 1'000'000u;
  const u128 eps = (num + plan.beta_micro - 1) / plan.beta_micro;
  return eps > kMaxEpsilonMicro ? kMaxEpsilonMicro : static_cast<std::uint64_t>(eps);
}

}  // namespace

Result<PrivacySpend> next_privacy_spend(const PrivacyPlan& plan, std::uint32_t epochs,
                                        const PrivacySpend& before) {
  PrivacySpend next;
  switch (plan.mechanism) {
    case PrivacyMechanism::none:
      return next;
    case PrivacyMechanism::local:
      if (plan.beta_micro == 0) return Error{"privacy.local.beta must be above 0"};
      next.epsilon_total_micro = local_epsilon_micro(plan);
      break;
    case PrivacyMechanism::dp_sgd: {
      if (plan.sampling_rate_nano == 0 || plan.sampling_rate_nano > kMaxSamplingRateNano)
        return Error{"privacy.dp_sgd.sampling_rate must be in (0, 1]"};
      const std::uint64_t turn_steps =
          std::uint64_t{epochs} * dp_steps_per_epoch(plan.sampling_rate_nano);
      if (before.steps_total > kMaxSteps || turn_steps > kMaxSteps - before.steps_total)
        return Error{"the partner's noisy steps would pass the accountant's bound of 10^9"};
      next.steps_total = before.steps_total + turn_steps;
      if (next.steps_total > 0) {
        auto spent = epsilon_spent({.noise_multiplier_micro = plan.noise_multiplier_micro,
                                    .sampling_rate_nano = plan.sampling_rate_nano,
                                    .steps = next.steps_total,
                                    .delta_pico = plan.delta_pico});
        if (!spent) return spent.error();
        next.epsilon_total_micro = spent->epsilon_micro;
      }
      break;
    }
  }
  next.epsilon_total_micro = std::max(next.epsilon_total_micro, before.epsilon_total_micro);
  next.epsilon_turn_micro = next.epsilon_total_micro - before.epsilon_total_micro;
  return next;
}

Result<std::uint32_t> max_epochs_within_budget(const PrivacyPlan& plan, std::uint32_t max_epochs,
                                               const PrivacySpend& before) {
  if (!plan.enabled()) return max_epochs;
  auto fits = [&](std::uint32_t epochs) -> Result<bool> {
    auto spend = next_privacy_spend(plan, epochs, before);
    if (!spend) return spend.error();
    return spend->epsilon_total_micro <= plan.budget_micro;
  };
  std::uint32_t lo = 0, hi = max_epochs;  // invariant: lo fits (or is 0); above hi does not
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo + 1) / 2;
    auto ok = fits(mid);
    if (!ok) return ok.error();
    if (*ok)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

}  // namespace baton::chain
