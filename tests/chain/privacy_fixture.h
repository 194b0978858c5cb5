// The privacy budget of issue 14 (docs/PROTOCOL.md §20.2) for a
// ProtocolChain: a DP-SGD plan whose budget runs out after two turns of a
// partner, a local-DP plan, and a SaveRequest carrying a given spend. Shared
// by privacy_ledger_test.cpp and the auditor's test. Pure, like
// protocol_fixture.h.
#pragma once

#include <optional>

#include "chain/privacy_budget.h"
#include "chain/privacy_steps.h"
#include "economy_fixture.h"

namespace baton::chain::testing {

// Strict policy: an approval claims a better AUC than the head's.
inline constexpr std::uint32_t kDpHead = 500000, kDpBetter = 510000, kDpWorse = 400000;

// σ = 2, q = 0.1 (10 noisy steps an epoch), δ = 1e-5, 2 epochs a turn,
// budget ε = 2: 20 steps spend 1.526373, 30 spend 1.786718, 40 spend
// 2.009680 (over). Alice and bob train, carol and dave vote too.
inline TrainingPlan dp_plan(std::uint32_t cycles = 3) {
  TrainingPlan plan = test_plan(2, cycles);
  plan.epochs = 2;
  plan.privacy.mechanism = PrivacyMechanism::dp_sgd;
  plan.privacy.delta_pico = 10'000'000;
  plan.privacy.budget_micro = 2'000'000;
  plan.privacy.clip_micro = 1'000'000;
  plan.privacy.noise_multiplier_micro = 2'000'000;
  plan.privacy.sampling_rate_nano = 100'000'000;
  return plan;
}

// Local DP: β = 1, Δ = 1, 30 values a row: ε_row = 30, budget 200.
inline TrainingPlan local_plan() {
  TrainingPlan plan = test_plan(2, 2);
  plan.privacy.mechanism = PrivacyMechanism::local;
  plan.privacy.budget_micro = 200'000'000;
  plan.privacy.beta_micro = 1'000'000;
  plan.privacy.sensitivity_micro = 1'000'000;
  plan.privacy.values_per_row = 30;
  return plan;
}

// The current turn's SaveRequest from `partner` carrying `spend`.
inline pb::Transaction dp_save(ProtocolChain& p, std::size_t partner, const PrivacySpend& spend,
                               std::uint8_t tag = 0xaa, std::optional<Hash> model = std::nullopt) {
  const pb::Transaction plain = p.save_request(partner, p.turn().index, p.run().head, tag, model);
  pb::SaveRequest r;
  EXPECT_TRUE(r.ParseFromString(plain.payload()));
  r.set_dp_steps_total(spend.steps_total);
  r.set_epsilon_turn_micro(spend.epsilon_turn_micro);
  r.set_epsilon_total_micro(spend.epsilon_total_micro);
  return p.tx(partner, pb::TX_SAVE_REQUEST, r);
}

inline PrivacySpend honest(const ProtocolChain& p, std::size_t partner, std::uint32_t epochs) {
  return next_privacy_spend(p.run().plan.privacy, epochs,
                            privacy_spent_by(p.run(), member_name(partner)))
      .value();
}

inline void votes(ProtocolChain& p, const Hash& save, std::size_t a, std::size_t b, bool approve) {
  p.commit(p.model_vote(a, save, approve, approve ? kDpBetter : kDpWorse, kDpHead));
  p.commit(p.model_vote(b, save, approve, approve ? kDpBetter : kDpWorse, kDpHead));
}

}  // namespace baton::chain::testing
