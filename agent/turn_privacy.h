// What a partner's turn spends of its privacy budget (issue 14,
// docs/PROTOCOL.md §20.2), as the partner agent decides it: how many epochs
// it trains, the settings it trains with, and the SaveRequest's fields 12..14.
// Pure and torch-free: the plan's integers in, values out.
//
// The rule is the ledger's (chain/privacy_budget.h), applied by the partner
// before it trains so that what it sends is what every node recomputes:
//   - DP-SGD: it trains e = chain::max_epochs_within_budget(plan.privacy,
//     plan.epochs, before) epochs, the most that keep its ε total within the
//     budget (before = chain::privacy_spent_by(run, self): its last accepted
//     SaveRequest's spend, all zero before its first). e = 0
//     cannot happen on a turn the ledger began: it skips such a turn
//     (budget_spent). Its SaveRequest carries next_privacy_spend(plan, e,
//     before).
//   - local DP: plan.epochs; the noise is on its training copy once (see
//     local_dp_seed); its first model spends ε_row, later ones nothing more.
//   - none: plan.epochs; the fields are all zero.
// The settings are the plan's integers turned back into decimals (σ =
// noise_multiplier_micro / 10^6, ...), so that training and accounting use
// the same numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chain/crypto.h"
#include "chain/privacy_budget.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"
#include "chain/training.h"
#include "learning/local_dp.h"
#include "learning/train.h"

namespace baton::agent {

// The hospital's secret key for its DP noise: SHA-256("baton/dp-noise-key/v1"
// || 0x00 || its X25519 secret key). DP holds only while the noise is unknown
// to whoever sees the model (the other hospitals decrypt every candidate and
// its head), so no seed of DP noise may follow from public values alone; this
// key never leaves the node, and is the same after a restart.
chain::Hash dp_noise_key(const chain::X25519SecretKey& member_key);

// The seed of a partner's local-DP noise: the first 8 bytes, read
// little-endian, of SHA-256("baton/local-dp/v2" || 0x00 || noise_key ||
// run_id || 0x00 || member). The same copy at every turn of the run (so
// later turns spend nothing more) and after a restart, another one in every
// run and at every hospital, and unknown to the others.
std::uint64_t local_dp_seed(const chain::Hash& noise_key, std::string_view run_id,
                            std::string_view member);

// The seed of a DP-SGD turn's randomness (Poisson sampling and Gaussian
// noise): the first 8 bytes, read little-endian, of SHA-256("baton/dp-sgd/v1"
// || 0x00 || noise_key || run_id || 0x00 || u64be turn). Not plan.seed + turn,
// which is on the ledger: a voter that knew the noise could subtract it from
// the update between the head and the candidate.
std::uint64_t dp_sgd_seed(const chain::Hash& noise_key, std::string_view run_id,
                          std::uint64_t turn);

// The DP-SGD settings of a dp_sgd plan (clip = clip_micro / 10^6, σ =
// noise_multiplier_micro / 10^6, q = sampling_rate_nano as is); nullopt for
// any other mechanism.
std::optional<learning::DpSgdSettings> dp_sgd_settings(const chain::PrivacyPlan& plan);

// The local-DP settings of a local plan (β = beta_micro / 10^6, Δ =
// sensitivity_micro / 10^6) with `seed`. Pre: plan.mechanism == local.
learning::LocalDpSettings local_dp_settings(const chain::PrivacyPlan& plan, std::uint64_t seed);

// A local plan charges values_per_row values per row: the noise covers every
// input only when that is the model's input size and the width the local
// data encode to. An error saying which differs (the agent gives its turn up
// with local_data_unusable); ok for any other mechanism.
Status check_local_dp_width(const chain::PrivacyPlan& plan, std::size_t model_inputs,
                            std::size_t encoded_width);

// One turn's privacy: the epochs to train and what the SaveRequest carries.
struct TurnPrivacy {
  std::uint32_t epochs = 0;            // what the partner trains (0: its budget is spent)
  std::uint32_t epochs_in_budget = 0;  // the most the budget allows (plan.epochs without DP)
  chain::PrivacySpend spend;           // next_privacy_spend(plan, epochs, before)
  std::uint64_t budget_micro = 0;      // the plan's budget (0 without DP)
  // Budget left after this turn; 0 when spent or passed (and without DP).
  std::uint64_t left_micro() const {
    return spend.epsilon_total_micro >= budget_micro ? 0 : budget_micro - spend.epsilon_total_micro;
  }
};

// The turn of a partner that has spent `before`, under `plan` (its epochs and
// privacy). `ignore_budget`: a test-only dishonest partner (agent config
// malicious_ignore_privacy_budget) that trains plan.epochs whatever its
// budget, and sends the fields that many epochs give, which the ledger
// refuses (privacy_budget_exceeded) once they pass the budget. epochs = 0
// (and a zero spend) when the budget is spent. An error when the accountant
// cannot account for the plan's numbers (a validated plan never fails).
Result<TurnPrivacy> plan_turn_privacy(const chain::TrainingPlan& plan,
                                      const chain::PrivacySpend& before, bool ignore_budget);

// Writes `spend` into SaveRequest fields 12..14.
void set_privacy_fields(chain::pb::SaveRequest& request, const chain::PrivacySpend& spend);

// ε in micro-units as a decimal, e.g. 2918765 -> "2.918765".
std::string epsilon_text(std::uint64_t micro);

// The partner's log line for its turn, e.g. "DP-SGD: 3 of 5 epochs (the most
// within its budget), ε 0.812345 this turn, 2.918765 of 3.000000 spent,
// 0.081235 left"; "" without DP.
std::string describe_turn_privacy(const chain::PrivacyPlan& plan, std::uint32_t plan_epochs,
                                  const TurnPrivacy& turn);

}  // namespace baton::agent
