// A partner's turn under the plan's differential privacy: see turn_privacy.h.
#include "agent/turn_privacy.h"

#include <algorithm>

#include "chain/crypto.h"

namespace baton::agent {

namespace {

std::string tagged(std::string_view tag) {
  std::string s(tag);
  s.push_back('\0');
  return s;
}

std::uint64_t first_eight_le(const std::string& input) {
  const chain::Hash h = chain::sha256(std::string_view(input));
  std::uint64_t seed = 0;
  for (int i = 7; i >= 0; --i) seed = (seed << 8) | h.bytes[static_cast<std::size_t>(i)];
  return seed;
}

void append_key(std::string& s, const chain::Hash& key) {
  s.append(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size());
}

}  // namespace

chain::Hash dp_noise_key(const chain::X25519SecretKey& member_key) {
  std::string input = tagged("baton/dp-noise-key/v1");
  const chain::ByteView secret = member_key.secret();
  input.append(reinterpret_cast<const char*>(secret.data()), secret.size());
  const chain::Hash key = chain::sha256(std::string_view(input));
  std::fill(input.begin(), input.end(), '\0');
  return key;
}

std::uint64_t local_dp_seed(const chain::Hash& noise_key, std::string_view run_id,
                            std::string_view member) {
  std::string input = tagged("baton/local-dp/v2");
  append_key(input, noise_key);
  input.append(run_id);
  input.push_back('\0');
  input.append(member);
  return first_eight_le(input);
}

std::uint64_t dp_sgd_seed(const chain::Hash& noise_key, std::string_view run_id,
                          std::uint64_t turn) {
  std::string input = tagged("baton/dp-sgd/v1");
  append_key(input, noise_key);
  input.append(run_id);
  input.push_back('\0');
  for (int i = 7; i >= 0; --i) input.push_back(static_cast<char>((turn >> (8 * i)) & 0xff));
  return first_eight_le(input);
}

std::optional<learning::DpSgdSettings> dp_sgd_settings(const chain::PrivacyPlan& plan) {
  if (plan.mechanism != chain::PrivacyMechanism::dp_sgd) return std::nullopt;
  return learning::DpSgdSettings{
      .clip = static_cast<double>(plan.clip_micro) / 1e6,
      .noise_multiplier = static_cast<double>(plan.noise_multiplier_micro) / 1e6,
      .sampling_rate_nano = plan.sampling_rate_nano};
}

learning::LocalDpSettings local_dp_settings(const chain::PrivacyPlan& plan, std::uint64_t seed) {
  return {.beta = static_cast<double>(plan.beta_micro) / 1e6,
          .sensitivity = static_cast<double>(plan.sensitivity_micro) / 1e6,
          .seed = seed};
}

Status check_local_dp_width(const chain::PrivacyPlan& plan, std::size_t model_inputs,
                            std::size_t encoded_width) {
  if (plan.mechanism != chain::PrivacyMechanism::local) return {};
  const std::string charged = std::to_string(plan.values_per_row);
  if (plan.values_per_row != model_inputs) {
    return make_error("the plan's local DP charges " + charged +
                      " values per row (privacy.values_per_row) but its model takes " +
                      std::to_string(model_inputs) +
                      " inputs, so the ledger's epsilon would not cover every noisy value; the "
                      "plan must set values_per_row to the model's input size");
  }
  if (plan.values_per_row != encoded_width) {
    return make_error("the plan's local DP charges " + charged +
                      " values per row (privacy.values_per_row) but the local training data "
                      "encode to " +
                      std::to_string(encoded_width) + " values per row");
  }
  return {};
}

Result<TurnPrivacy> plan_turn_privacy(const chain::TrainingPlan& plan,
                                      const chain::PrivacySpend& before, bool ignore_budget) {
  TurnPrivacy t;
  t.budget_micro = plan.privacy.enabled() ? plan.privacy.budget_micro : 0;
  auto fits = chain::max_epochs_within_budget(plan.privacy, plan.epochs, before);
  if (!fits) return fits.error();
  t.epochs_in_budget = *fits;
  // Local DP: the noisy copy is made once, whatever the epochs; the ledger
  // checks e = plan.epochs.
  const bool by_budget = plan.privacy.mechanism == chain::PrivacyMechanism::dp_sgd;
  t.epochs = by_budget && !ignore_budget ? *fits : plan.epochs;
  if (t.epochs == 0) return t;
  auto spend = chain::next_privacy_spend(plan.privacy, t.epochs, before);
  if (!spend) return spend.error();
  t.spend = *spend;
  return t;
}

void set_privacy_fields(chain::pb::SaveRequest& request, const chain::PrivacySpend& spend) {
  request.set_dp_steps_total(spend.steps_total);
  request.set_epsilon_turn_micro(spend.epsilon_turn_micro);
  request.set_epsilon_total_micro(spend.epsilon_total_micro);
}

std::string epsilon_text(std::uint64_t micro) {
  std::string frac = std::to_string(micro % 1'000'000);
  return std::to_string(micro / 1'000'000) + "." + std::string(6 - frac.size(), '0') + frac;
}

std::string describe_turn_privacy(const chain::PrivacyPlan& plan, std::uint32_t plan_epochs,
                                  const TurnPrivacy& turn) {
  if (!plan.enabled()) return "";
  const std::string spent = "epsilon " + epsilon_text(turn.spend.epsilon_turn_micro) +
                            " this turn, " + epsilon_text(turn.spend.epsilon_total_micro) +
                            " of its budget " + epsilon_text(plan.budget_micro) + " spent, " +
                            epsilon_text(turn.left_micro()) + " left";
  if (plan.mechanism == chain::PrivacyMechanism::local) return "local DP: " + spent;
  std::string epochs = std::to_string(turn.epochs) + " of " + std::to_string(plan_epochs) +
                       " epochs (" + std::to_string(turn.spend.steps_total) +
                       " noisy steps in the run)";
  if (turn.epochs > turn.epochs_in_budget)
    epochs += " (MALICIOUS: its budget allows " + std::to_string(turn.epochs_in_budget) + ")";
  else if (turn.epochs < plan_epochs)
    epochs += " (the most its budget allows)";
  return "DP-SGD: " + epochs + ", " + spent;
}

}  // namespace baton::agent
