// The consortium's privacy budget (issue 14): what a run's plan says about
// differential privacy, and the ε each SaveRequest must carry.
// docs/PROTOCOL.md §20.2.
//
// Every partner's spend follows from the plan alone: under DP-SGD each turn
// trains plan.epochs epochs of ceil(10^9 / q_nano) Poisson-sampled noisy
// steps, so a partner's accountant state is the number of noisy steps it has
// shared models of (its steps total), and its ε is the accountant's ε for
// that total (Rényi composition over all its turns, tighter than adding the
// turns' ε). Under local DP the noise is added once to the hospital's
// training copy (the same noisy copy at every turn), so its first shared
// model spends ε_row and later ones nothing more. Integers only; every
// rounding goes against the hospital.
#pragma once

#include <cstdint>

#include "chain/privacy_accountant.h"
#include "chain/result.h"

namespace baton::chain {

// Stored as the protobuf's u32 (TrainingPlan.dp_mechanism); never renumber.
enum class PrivacyMechanism : std::uint8_t {
  none = 0,
  dp_sgd = 1,  // per-sample clipping to C, Gaussian noise σ·C, Poisson sampling at rate q
  local = 2,   // Laplace noise of scale β on every input value, once (local DP)
};

// The plan's privacy section (pb::TrainingPlan fields 70..78). All zero when
// mechanism is none.
struct PrivacyPlan {
  PrivacyMechanism mechanism = PrivacyMechanism::none;
  std::uint64_t delta_pico = 0;    // δ × 10^12 (dp_sgd; 0 for local, which is pure ε-DP)
  std::uint64_t budget_micro = 0;  // each partner's ε budget for the run × 10^6
  // dp_sgd
  std::uint64_t clip_micro = 0;              // C × 10^6: per-sample gradient L2 bound
  std::uint64_t noise_multiplier_micro = 0;  // σ × 10^6: noise std is σ·C
  std::uint64_t sampling_rate_nano = 0;      // q × 10^9: each row is in a step's batch w.p. q
  // local
  std::uint64_t beta_micro = 0;         // Laplace scale β × 10^6
  std::uint64_t sensitivity_micro = 0;  // Δ × 10^6: width of the interval each value is clipped to
  std::uint32_t values_per_row = 0;     // input values per row (the model's input size)

  bool enabled() const { return mechanism != PrivacyMechanism::none; }
  bool operator==(const PrivacyPlan&) const = default;
};

// Noisy steps of one epoch under Poisson sampling at rate q:
// ceil(10^9 / sampling_rate_nano). Pre: sampling_rate_nano >= 1.
std::uint64_t dp_steps_per_epoch(std::uint64_t sampling_rate_nano);

// What a partner's next SaveRequest carries (SaveRequest fields 12..14).
struct PrivacySpend {
  std::uint64_t steps_total = 0;          // dp_sgd: noisy steps of all its shared models; else 0
  std::uint64_t epsilon_turn_micro = 0;   // epsilon_total_micro - the previous total
  std::uint64_t epsilon_total_micro = 0;  // its ε for the run so far, this turn included
  bool operator==(const PrivacySpend&) const = default;
};

// The spend of a partner's next shared model, given what its last accepted
// SaveRequest of the run carried (`before`; all zero before its first) and
// the plan's epochs per turn. none: all zero. dp_sgd: steps_total =
// before.steps_total + epochs × dp_steps_per_epoch(q), ε_total =
// epsilon_spent(σ, q, steps_total, δ) (0 when steps_total is 0). local:
// ε_total = ceil(values_per_row × Δ / β) in micro-units (128-bit
// arithmetic, capped at kMaxEpsilonMicro). An error when the plan's numbers
// are outside the accountant's bounds (a validated plan never is) or the
// steps total passes kMaxSteps.
Result<PrivacySpend> next_privacy_spend(const PrivacyPlan& plan, std::uint32_t epochs,
                                        const PrivacySpend& before);

// The most epochs in [1, max_epochs] whose next_privacy_spend keeps the
// partner's ε total within plan.budget_micro, or 0 when even one epoch (or,
// under local DP, the first shared model) would pass it: the partner's budget
// is spent (TurnOutcome budget_spent). ε grows with the steps, so a bisection:
// about log2(max_epochs) accountant calls. none: max_epochs. An error as
// next_privacy_spend's.
Result<std::uint32_t> max_epochs_within_budget(const PrivacyPlan& plan, std::uint32_t max_epochs,
                                               const PrivacySpend& before);

}  // namespace baton::chain
