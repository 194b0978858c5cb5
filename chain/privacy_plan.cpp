// The plan's privacy section: protobuf fields, JSON form, bounds. See
// privacy_plan.h and docs/PROTOCOL.md §20.2.
#include "chain/privacy_plan.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "chain/training_plan.h"

namespace baton::chain {

namespace {

using json = nlohmann::json;

std::string decimal(std::uint64_t value, std::uint64_t scale) {
  return fixed_point_decimal(value, scale);
}

Status refuse(const std::string& field, const std::string& value, const std::string& rule) {
  return make_error("training plan: privacy." + field + " is " + value + "; " + rule);
}

// value within [lo, hi] (fixed point of `scale`), else a sentence naming the field.
Status in_range(const char* field, std::uint64_t value, std::uint64_t scale, std::uint64_t lo,
                std::uint64_t hi, const char* why) {
  if (value >= lo && value <= hi) return {};
  return refuse(
      field, decimal(value, scale),
      "it must be between " + decimal(lo, scale) + " and " + decimal(hi, scale) + " (" + why + ")");
}

Status must_be_zero(const char* field, std::uint64_t value, const char* mechanism) {
  if (value == 0) return {};
  return make_error(std::string("training plan: privacy.") + field + " is not a field of the " +
                    mechanism + " mechanism; leave it out");
}

Status check_dp_sgd(const PrivacyPlan& p, std::uint32_t cycles, std::uint32_t epochs) {
  if (auto s = in_range("noise_multiplier", p.noise_multiplier_micro, 1'000'000,
                        kMinNoiseMultiplierMicro, kMaxNoiseMultiplierMicro,
                        "the accountant's bounds: below 0.1 the noise protects nothing");
      !s)
    return s;
  if (auto s = in_range("sampling_rate", p.sampling_rate_nano, 1'000'000'000, kMinSamplingRateNano,
                        kMaxSamplingRateNano, "a probability above 0");
      !s)
    return s;
  if (auto s = in_range("delta", p.delta_pico, 1'000'000'000'000, kMinDeltaPico, kMaxDeltaPico,
                        "δ = 0 has no finite ε, and above 0.1 it guarantees nothing");
      !s)
    return s;
  if (auto s = in_range("clip", p.clip_micro, 1'000'000, 1, kMaxClipMicro,
                        "the per-sample gradient norm bound");
      !s)
    return s;
  if (auto s = must_be_zero("beta", p.beta_micro, "dp_sgd"); !s) return s;
  if (auto s = must_be_zero("sensitivity", p.sensitivity_micro, "dp_sgd"); !s) return s;
  if (auto s = must_be_zero("values_per_row", p.values_per_row, "dp_sgd"); !s) return s;
  // Every turn of a partner is at most `epochs` epochs, and it has `cycles`
  // turns: bounded here, its steps never pass the accountant's bound.
  const unsigned __int128 steps =
      static_cast<unsigned __int128>(cycles) * epochs * dp_steps_per_epoch(p.sampling_rate_nano);
  if (steps > kMaxSteps) {
    return refuse("sampling_rate", decimal(p.sampling_rate_nano, 1'000'000'000),
                  "cycles x epochs x ceil(1/sampling_rate) noisy steps would pass the "
                  "accountant's bound of 10^9 steps per partner; raise it or train fewer epochs");
  }
  return {};
}

Status check_local(const PrivacyPlan& p) {
  if (auto s = in_range("beta", p.beta_micro, 1'000'000, 1, kMaxLocalScaleMicro,
                        "the Laplace scale of the noise");
      !s)
    return s;
  if (auto s = in_range("sensitivity", p.sensitivity_micro, 1'000'000, 1, kMaxLocalScaleMicro,
                        "the width of each value's clipping interval");
      !s)
    return s;
  if (p.values_per_row < 1 || p.values_per_row > kMaxValuesPerRow)
    return refuse("values_per_row", std::to_string(p.values_per_row),
                  "it must be between 1 and " + std::to_string(kMaxValuesPerRow));
  if (p.delta_pico != 0)
    return make_error(
        "training plan: privacy.delta is not a field of the local mechanism (it is pure "
        "ε-DP); leave it out");
  if (auto s = must_be_zero("clip", p.clip_micro, "local"); !s) return s;
  if (auto s = must_be_zero("noise_multiplier", p.noise_multiplier_micro, "local"); !s) return s;
  return must_be_zero("sampling_rate", p.sampling_rate_nano, "local");
}

}  // namespace

Result<PrivacyPlan> privacy_from_proto(const pb::TrainingPlan& p) {
  if (p.dp_mechanism() > 2) {
    return make_error("training plan: privacy.mechanism is " + std::to_string(p.dp_mechanism()) +
                      "; it must be 0 (none), 1 (dp_sgd) or 2 (local)");
  }
  PrivacyPlan out;
  out.mechanism = static_cast<PrivacyMechanism>(p.dp_mechanism());
  out.delta_pico = p.dp_delta_pico();
  out.budget_micro = p.dp_budget_micro();
  out.clip_micro = p.dp_clip_micro();
  out.noise_multiplier_micro = p.dp_noise_multiplier_micro();
  out.sampling_rate_nano = p.dp_sampling_rate_nano();
  out.beta_micro = p.dp_beta_micro();
  out.sensitivity_micro = p.dp_sensitivity_micro();
  out.values_per_row = p.dp_values_per_row();
  return out;
}

void privacy_to_proto(const PrivacyPlan& plan, pb::TrainingPlan& p) {
  p.set_dp_mechanism(static_cast<std::uint32_t>(plan.mechanism));
  p.set_dp_delta_pico(plan.delta_pico);
  p.set_dp_budget_micro(plan.budget_micro);
  p.set_dp_clip_micro(plan.clip_micro);
  p.set_dp_noise_multiplier_micro(plan.noise_multiplier_micro);
  p.set_dp_sampling_rate_nano(plan.sampling_rate_nano);
  p.set_dp_beta_micro(plan.beta_micro);
  p.set_dp_sensitivity_micro(plan.sensitivity_micro);
  p.set_dp_values_per_row(plan.values_per_row);
}

Status check_privacy(const PrivacyPlan& p, std::uint32_t cycles, std::uint32_t epochs) {
  if (p.mechanism == PrivacyMechanism::none) {
    if (p == PrivacyPlan{}) return {};
    return make_error(
        "training plan: privacy fields are set but privacy.mechanism is none; name dp_sgd or "
        "local, or leave them out");
  }
  if (p.mechanism != PrivacyMechanism::dp_sgd && p.mechanism != PrivacyMechanism::local)
    return make_error("training plan: privacy.mechanism must be none, dp_sgd or local");
  if (auto s = in_range("epsilon_budget", p.budget_micro, 1'000'000, 1, kMaxEpsilonMicro,
                        "each partner's ε for the run");
      !s)
    return s;
  if (auto s = p.mechanism == PrivacyMechanism::dp_sgd ? check_dp_sgd(p, cycles, epochs)
                                                       : check_local(p);
      !s)
    return s;
  // A run whose partners could never share one model: refused now rather
  // than a run of budget_spent turns.
  auto first = next_privacy_spend(p, 1, PrivacySpend{});
  if (!first) return make_error("training plan: privacy: " + first.error().message);
  if (first->epsilon_total_micro > p.budget_micro) {
    const std::string what = p.mechanism == PrivacyMechanism::dp_sgd
                                 ? "one epoch of a partner's first turn already spends ε = "
                                 : "the local noise already spends ε = ";
    return refuse("epsilon_budget", decimal(p.budget_micro, 1'000'000),
                  what + decimal(first->epsilon_total_micro, 1'000'000) +
                      ", so no partner could ever train; raise the budget or the noise");
  }
  return {};
}

namespace {

// A JSON number scaled to whole units, rounded down, up or to the nearest;
// one within 10^-12 relative of a whole unit is that unit (the decimal the
// user wrote, which a double cannot hold exactly).
enum class Round { down, up, nearest };

Result<std::uint64_t> scaled(const json& j, const char* key, double scale, Round how) {
  auto it = j.find(key);
  if (it == j.end())
    return make_error(std::string("training plan: privacy needs the field \"") + key + "\"");
  if (!it->is_number())
    return make_error(std::string("training plan: privacy.") + key + " must be a number");
  const double x = it->get<double>() * scale;
  if (!(x >= 0) || x > 1.8e19)
    return make_error(std::string("training plan: privacy.") + key +
                      " must be a number between 0 and its bound");
  const double nearest = std::nearbyint(x);
  if (how == Round::nearest || std::fabs(x - nearest) <= 1e-12 * std::max(1.0, x))
    return static_cast<std::uint64_t>(nearest);
  return static_cast<std::uint64_t>(how == Round::down ? std::floor(x) : std::ceil(x));
}

#define TRY_ASSIGN(lhs, expr)   \
  do {                          \
    auto r_ = (expr);           \
    if (!r_) return r_.error(); \
    lhs = *r_;                  \
  } while (false)

}  // namespace

Result<PrivacyPlan> decode_privacy_json(const json& j) {
  if (!j.is_object()) return make_error("training plan: \"privacy\" must be a JSON object");
  PrivacyPlan p;
  std::string mechanism = "none";
  if (auto it = j.find("mechanism"); it != j.end()) {
    if (!it->is_string()) return make_error("training plan: privacy.mechanism must be a string");
    mechanism = it->get<std::string>();
  }
  std::set<std::string> fields;
  if (mechanism == "none") {
    fields = {"mechanism"};
  } else if (mechanism == "dp_sgd") {
    p.mechanism = PrivacyMechanism::dp_sgd;
    fields = {"mechanism", "epsilon_budget", "delta", "clip", "noise_multiplier", "sampling_rate"};
  } else if (mechanism == "local") {
    p.mechanism = PrivacyMechanism::local;
    fields = {"mechanism", "epsilon_budget", "beta", "sensitivity", "values_per_row"};
  } else {
    return make_error("training plan: privacy.mechanism \"" + mechanism.substr(0, 64) +
                      "\" is unknown; use none, dp_sgd (noisy clipped gradients) or local "
                      "(Laplace noise on the inputs)");
  }
  static const std::set<std::string> kAll = {"mechanism", "epsilon_budget",   "delta",
                                             "clip",      "noise_multiplier", "sampling_rate",
                                             "beta",      "sensitivity",      "values_per_row"};
  for (const auto& [key, value] : j.items()) {
    if (fields.contains(key)) continue;
    if (kAll.contains(key))
      return make_error("training plan: privacy." + key + " is not a field of the " + mechanism +
                        " mechanism; leave it out");
    return make_error("training plan: unknown field \"" + key.substr(0, 64) + "\" in privacy");
  }
  if (!p.enabled()) return p;
  TRY_ASSIGN(p.budget_micro, scaled(j, "epsilon_budget", 1e6, Round::down));
  if (p.mechanism == PrivacyMechanism::dp_sgd) {
    TRY_ASSIGN(p.delta_pico, scaled(j, "delta", 1e12, Round::down));
    TRY_ASSIGN(p.clip_micro, scaled(j, "clip", 1e6, Round::nearest));
    TRY_ASSIGN(p.noise_multiplier_micro, scaled(j, "noise_multiplier", 1e6, Round::down));
    TRY_ASSIGN(p.sampling_rate_nano, scaled(j, "sampling_rate", 1e9, Round::up));
    return p;
  }
  TRY_ASSIGN(p.beta_micro, scaled(j, "beta", 1e6, Round::down));
  TRY_ASSIGN(p.sensitivity_micro, scaled(j, "sensitivity", 1e6, Round::up));
  auto it = j.find("values_per_row");
  const bool whole = it != j.end() && (it->is_number_unsigned() ||
                                       (it->is_number_integer() && it->get<std::int64_t>() >= 0));
  if (!whole || it->get<std::uint64_t>() > kMaxValuesPerRow)
    return make_error("training plan: privacy.values_per_row must be an integer between 1 and " +
                      std::to_string(kMaxValuesPerRow) + " (the model's input values per row)");
  p.values_per_row = it->get<std::uint32_t>();
  return p;
}

json privacy_to_json(const PrivacyPlan& p) {
  auto d = [](std::uint64_t v, double scale) { return static_cast<double>(v) / scale; };
  if (p.mechanism == PrivacyMechanism::dp_sgd) {
    return {{"mechanism", "dp_sgd"},
            {"epsilon_budget", d(p.budget_micro, 1e6)},
            {"delta", d(p.delta_pico, 1e12)},
            {"clip", d(p.clip_micro, 1e6)},
            {"noise_multiplier", d(p.noise_multiplier_micro, 1e6)},
            {"sampling_rate", d(p.sampling_rate_nano, 1e9)}};
  }
  if (p.mechanism == PrivacyMechanism::local) {
    return {{"mechanism", "local"},
            {"epsilon_budget", d(p.budget_micro, 1e6)},
            {"beta", d(p.beta_micro, 1e6)},
            {"sensitivity", d(p.sensitivity_micro, 1e6)},
            {"values_per_row", p.values_per_row}};
  }
  return {{"mechanism", "none"}};
}

}  // namespace baton::chain
