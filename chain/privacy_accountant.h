// The Rényi-DP accountant of the Poisson-subsampled Gaussian mechanism
// (DP-SGD): the ε that T steps of noise multiplier σ and sampling rate q
// spend at a given δ. docs/PROTOCOL.md §20.1, "The accountant".
//
// Every node computes the same ε from the same plan, so the result must be
// the same bits everywhere: inputs are integers, the arithmetic is IEEE-754
// double using only the correctly rounded operations (+ − × ÷ sqrt and
// conversions), with exp, log and erfc written here from them (no libm,
// whose last bits differ between versions), and this file is compiled with
// -ffp-contract=off (no fused multiply-add). The output is an integer, ε in
// micro-units rounded up: every rounding goes against the hospital (the ε it
// spends comes out larger, never smaller).
//
// The formula (Mironov 2017; Mironov, Talwar & Zhang 2019, "Rényi
// Differential Privacy of the Sampled Gaussian Mechanism", §3.3): with
// A_α = E_{z~N(0,σ²)}[((1−q) + q·e^{(2z−1)/(2σ²)})^α], one step has
// RDP(α) = log(A_α)/(α−1); T steps compose to T·RDP(α); and
// ε = min over the order grid of T·RDP(α) + log(1/δ)/(α−1) (the classic
// conversion, Mironov 2017 Prop. 3, which TensorFlow Privacy's published
// MNIST table uses). For q = 1 RDP(α) = α/(2σ²) exactly.
//
// Cost: one call evaluates the fixed grid of 160 orders (order_grid_tenths):
// α+1 terms per integer order (3,636 in all) and at most kMaxSeriesTerms
// terms per fractional order (90 × 200), each a few exp/log/erfc built from
// + − × ÷; independent of T. Measured 0.3 to 2.2 ms per call over the corners
// of the bounds (one core, -O2). Pure: no clock, no I/O, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "chain/result.h"

namespace baton::chain {

// Input units and bounds. Each bound is checked before any arithmetic; a
// value outside it is refused with a PrivacyInputProblem. A data scientist's
// decimal is converted into these units rounding against the hospital:
// σ down, q up, δ down (tools/ does that; see docs/PROTOCOL.md §20.1.1).
//
// σ in micro-units (σ × 10^6), in [0.1, 1000]. Below 0.1 the mechanism
// protects nothing (one step at q = 1 already costs ε > 50 per unit order);
// above 1000 nothing changes (the RDP is below 10^-6 per step) and σ² stays
// far from overflow. σ = 0 is refused: it is no mechanism at all.
inline constexpr std::uint64_t kMinNoiseMultiplierMicro = 100'000;
inline constexpr std::uint64_t kMaxNoiseMultiplierMicro = 1'000'000'000;
// q in nano-units (q × 10^9), in [1, 10^9] (q in (0, 1]). q = 0 trains on
// nothing; q > 1 is not a probability.
inline constexpr std::uint64_t kMinSamplingRateNano = 1;
inline constexpr std::uint64_t kMaxSamplingRateNano = 1'000'000'000;
// Steps in [1, 10^9]: a billion steps is far beyond any run (MNIST's 60
// epochs are 14,063) and keeps T exact in a double and T·RDP finite.
inline constexpr std::uint64_t kMinSteps = 1;
inline constexpr std::uint64_t kMaxSteps = 1'000'000'000;
// δ in pico-units (δ × 10^12), in [10^-12, 0.1]. δ = 0 gives ε = ∞ under
// this conversion; δ above 0.1 is no privacy guarantee anyone would sign.
inline constexpr std::uint64_t kMinDeltaPico = 1;
inline constexpr std::uint64_t kMaxDeltaPico = 100'000'000'000;
// ε above 10^9 (no privacy at all) is reported as this cap with
// `saturated` set; a budget is always far below it, so the cap never lets a
// hospital spend less than it did.
inline constexpr std::uint64_t kMaxEpsilonMicro = 1'000'000'000'000'000;
// Terms of the fractional-order series (MTZ19 §3.3) evaluated at most per
// order. An order whose series has not converged by then (terms above e^-30
// relative to the sum) is left out of the minimum, which can only make ε
// larger.
inline constexpr int kMaxSeriesTerms = 200;

struct PrivacyParameters {
  std::uint64_t noise_multiplier_micro = 0;  // σ × 10^6
  std::uint64_t sampling_rate_nano = 0;      // q × 10^9
  std::uint64_t steps = 0;                   // T, the number of noisy steps
  std::uint64_t delta_pico = 0;              // δ × 10^12
};

enum class PrivacyInputProblem : int {
  noise_multiplier_out_of_range = 1,
  sampling_rate_out_of_range = 2,
  steps_out_of_range = 3,
  delta_out_of_range = 4,
};

struct PrivacySpent {
  std::uint64_t epsilon_micro = 0;  // ceil(ε × 10^6), at most kMaxEpsilonMicro
  bool saturated = false;           // ε was above the cap
  // The order α that gave the minimum, in tenth units (α × 10): 29 means
  // α = 2.9. For display and audit; not part of what the ledger checks.
  std::uint32_t order_tenths = 0;
};

// The orders α tried, in tenth units (α × 10), ascending: the fractional
// orders 1.1, 1.2, ..., 10.9 (every tenth but the integers, as TensorFlow
// Privacy and Opacus use), the integers 2..64, and 80, 96, 128, 160, 192,
// 256, 512: 160 orders. α is the double tenths/10.0 (one correctly rounded
// division), so the same double everywhere.
std::uint32_t order_grid_size();
std::uint32_t order_grid_tenths(std::uint32_t index);  // precondition: index < size

// A sentence saying which bound was broken, or success. Checked first by
// epsilon_spent; exposed so that a plan decoder can refuse early.
Result<void> check_privacy_parameters(const PrivacyParameters& p);

// ε spent by p.steps steps of the subsampled Gaussian mechanism at δ. An
// error (code = PrivacyInputProblem) when an input is out of bounds.
Result<PrivacySpent> epsilon_spent(const PrivacyParameters& p);

// The smallest σ in micro-units, in [kMinNoiseMultiplierMicro,
// kMaxNoiseMultiplierMicro], whose ε (with the other parameters of p;
// p.noise_multiplier_micro is ignored) is at most target_epsilon_micro;
// bisection over the integers, so deterministic. An error when an input is out
// of bounds or even the largest σ spends more than the target.
Result<std::uint64_t> smallest_noise_multiplier(const PrivacyParameters& p,
                                                std::uint64_t target_epsilon_micro);

// The deterministic elementary functions the accountant is built on, exposed
// for tests. Only +, −, ×, ÷ and exact bit operations inside.
double accountant_exp(double x);       // e^x; 0 below -745, +inf above 709.78
double accountant_log(double x);       // natural log, x > 0 finite (precondition)
double accountant_log_erfc(double x);  // log(erfc(x)), any finite x

}  // namespace baton::chain
