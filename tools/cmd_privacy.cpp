// `baton privacy epsilon|noise`: the ledger's privacy accountant
// (chain/privacy_accountant.h) for a data scientist writing a plan. Decimal
// flags are converted into the accountant's integer units exactly (no
// floating point), each rounded against the hospital: σ down to micro-units,
// q up to nano-units, δ down to pico-units, a target ε down to micro-units.
#include <cstdint>
#include <iostream>
#include <string>

#include "chain/privacy_accountant.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace baton::tools {
namespace {

enum class Rounding { down, up };

// "1.12", "0.6", "1e-5", "4.2e-3" or a fraction of integers "256/60000",
// times 10^scale, rounded as asked; exact (128-bit integers). Fails with a
// usage error naming the flag.
std::uint64_t parse_scaled(const std::string& text, int scale, Rounding rounding,
                           const std::string& flag) {
  using u128 = unsigned __int128;
  const u128 kLimit = static_cast<u128>(1) << 120;  // ×10 stays below 2^128
  auto bad = [&]() -> std::uint64_t {
    fail(flag + " " + text +
             " is not a number; give a decimal such as 1.12 or 1e-5, or a fraction such as "
             "256/60000",
         Exit::usage);
  };
  auto too_big = [&]() -> std::uint64_t {
    fail(flag + " " + text + " is far too large", Exit::usage);
  };
  u128 num = 0, den = 1;
  const auto slash = text.find('/');
  if (slash != std::string::npos) {
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    if (a.empty() || b.empty() || a.size() > 19 || b.size() > 19) return bad();
    for (char c : a) {
      if (c < '0' || c > '9') return bad();
      num = num * 10 + static_cast<unsigned>(c - '0');
    }
    den = 0;
    for (char c : b) {
      if (c < '0' || c > '9') return bad();
      den = den * 10 + static_cast<unsigned>(c - '0');
    }
    if (den == 0) fail(flag + " " + text + " divides by zero", Exit::usage);
  } else {
    std::size_t i = 0;
    int exponent = 0, digits = 0;
    bool any = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, any = true) {
      if (num == 0 && text[i] == '0') continue;
      if (++digits > 30) return bad();
      num = num * 10 + static_cast<unsigned>(text[i] - '0');
    }
    if (i < text.size() && text[i] == '.') {
      for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, any = true) {
        if (num == 0 && text[i] == '0') {
          --exponent;
          continue;
        }
        if (++digits > 30) return bad();
        num = num * 10 + static_cast<unsigned>(text[i] - '0');
        --exponent;
      }
    }
    if (!any) return bad();
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
      ++i;
      bool negative = false;
      if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
      int e = 0, e_digits = 0;
      for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        if (++e_digits > 3) return bad();
        e = e * 10 + (text[i] - '0');
      }
      if (e_digits == 0) return bad();
      exponent += negative ? -e : e;
    }
    if (i != text.size()) return bad();
    exponent += scale;
    scale = 0;
    if (num == 0) return 0;
    for (; exponent > 0; --exponent) {
      num *= 10;
      if (num > kLimit) return too_big();
    }
    for (; exponent < 0; ++exponent) {
      // Below every unit: 0 (refused by the bounds) or, rounding up, 1.
      if (den > kLimit) return rounding == Rounding::up ? 1 : 0;
      den *= 10;
    }
  }
  for (; scale > 0; --scale) {
    num *= 10;
    if (num > kLimit) return too_big();
  }
  u128 q = num / den;
  if (rounding == Rounding::up && q * den != num) ++q;
  if (q > UINT64_MAX) return too_big();
  return static_cast<std::uint64_t>(q);
}

// `units` / 10^digits as an exact decimal, e.g. (4266667, 9) -> "0.004266667".
std::string fixed_text(std::uint64_t units, int digits) {
  std::uint64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  std::string frac = std::to_string(units % scale);
  return std::to_string(units / scale) + "." + std::string(digits - frac.size(), '0') + frac;
}

std::string micro_text(std::uint64_t micro) { return fixed_text(micro, 6); }

std::string order_text(std::uint32_t tenths) {
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

struct PrivacyOptions {
  std::string noise_multiplier;
  std::string sampling_rate;
  std::string delta;
  std::string target_epsilon;
  std::uint64_t steps = 0;
  bool json = false;
};

chain::PrivacyParameters parameters(const PrivacyOptions& o, bool with_noise) {
  chain::PrivacyParameters p;
  if (with_noise)
    p.noise_multiplier_micro =
        parse_scaled(o.noise_multiplier, 6, Rounding::down, "--noise-multiplier");
  p.sampling_rate_nano = parse_scaled(o.sampling_rate, 9, Rounding::up, "--sampling-rate");
  p.steps = o.steps;
  p.delta_pico = parse_scaled(o.delta, 12, Rounding::down, "--delta");
  return p;
}

nlohmann::json inputs_json(const chain::PrivacyParameters& p) {
  return {{"sampling_rate_nano", p.sampling_rate_nano},
          {"steps", p.steps},
          {"delta_pico", p.delta_pico}};
}

void epsilon_command(const PrivacyOptions& o) {
  const chain::PrivacyParameters p = parameters(o, true);
  auto spent = chain::epsilon_spent(p);
  if (!spent) fail(spent.error().message, Exit::usage);
  if (o.json) {
    nlohmann::json j = inputs_json(p);
    j["noise_multiplier_micro"] = p.noise_multiplier_micro;
    j["epsilon_micro"] = spent->epsilon_micro;
    j["epsilon"] = micro_text(spent->epsilon_micro);
    j["saturated"] = spent->saturated;
    j["order_tenths"] = spent->order_tenths;
    j["order"] = order_text(spent->order_tenths);
    print_json(j);
    return;
  }
  std::cout << "epsilon " << (spent->saturated ? "above " : "") << micro_text(spent->epsilon_micro)
            << " (rounded up to a micro-unit) at order alpha " << order_text(spent->order_tenths)
            << "\n"
            << "inputs: noise multiplier " << micro_text(p.noise_multiplier_micro)
            << ", sampling rate " << fixed_text(p.sampling_rate_nano, 9) << ", " << p.steps
            << " steps, delta " << fixed_text(p.delta_pico, 12) << "\n";
}

void noise_command(const PrivacyOptions& o) {
  const chain::PrivacyParameters p = parameters(o, false);
  const std::uint64_t target =
      parse_scaled(o.target_epsilon, 6, Rounding::down, "--target-epsilon");
  if (target == 0) fail("--target-epsilon must be above 0.000001", Exit::usage);
  auto sigma = chain::smallest_noise_multiplier(p, target);
  if (!sigma) fail(sigma.error().message, Exit::usage);
  chain::PrivacyParameters at = p;
  at.noise_multiplier_micro = *sigma;
  const chain::PrivacySpent spent = chain::epsilon_spent(at).value();
  if (o.json) {
    nlohmann::json j = inputs_json(p);
    j["target_epsilon_micro"] = target;
    j["noise_multiplier_micro"] = *sigma;
    j["noise_multiplier"] = micro_text(*sigma);
    j["epsilon_micro"] = spent.epsilon_micro;
    j["order_tenths"] = spent.order_tenths;
    print_json(j);
    return;
  }
  std::cout << "noise multiplier " << micro_text(*sigma) << " (the smallest in micro-units that "
            << "spends at most epsilon " << micro_text(target) << "; it spends "
            << micro_text(spent.epsilon_micro) << " at order alpha "
            << order_text(spent.order_tenths) << ")\n";
}

void add_common(CLI::App* cmd, PrivacyOptions& o) {
  cmd->add_option("--sampling-rate", o.sampling_rate,
                  "Poisson sampling rate q in (0, 1]: batch size / training rows, as a decimal "
                  "or a fraction such as 256/60000 (rounded up to 1e-9)")
      ->required();
  cmd->add_option("--steps", o.steps, "Noisy steps T, 1 to 10^9")->required();
  cmd->add_option("--delta", o.delta, "delta in [1e-12, 0.1] (rounded down to 1e-12)")->required();
  cmd->add_flag("--json", o.json, "Print the result as JSON");
}

}  // namespace

void register_privacy_commands(CLI::App& app) {
  auto* privacy = app.add_subcommand(
      "privacy", "The ledger's differential-privacy accountant (docs/PROTOCOL.md §20)");
  privacy->require_subcommand(1);

  auto eps = std::make_shared<PrivacyOptions>();
  auto* e = privacy->add_subcommand(
      "epsilon", "The epsilon that T steps of DP-SGD (subsampled Gaussian) spend at delta");
  e->add_option("--noise-multiplier", eps->noise_multiplier,
                "Noise multiplier sigma in [0.1, 1000] (rounded down to 1e-6)")
      ->required();
  add_common(e, *eps);
  e->callback([eps] { epsilon_command(*eps); });

  auto noise = std::make_shared<PrivacyOptions>();
  auto* n = privacy->add_subcommand(
      "noise", "The smallest noise multiplier whose epsilon meets a target (bisection)");
  n->add_option("--target-epsilon", noise->target_epsilon,
                "The epsilon to stay within (rounded down to 1e-6)")
      ->required();
  add_common(n, *noise);
  n->callback([noise] { noise_command(*noise); });
}

}  // namespace baton::tools
