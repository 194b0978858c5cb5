// The Rényi-DP accountant: see privacy_accountant.h and docs/PROTOCOL.md §20.
// Compiled with -ffp-contract=off (chain/CMakeLists.txt): a fused
// multiply-add would round once where another machine rounds twice.
#include "chain/privacy_accountant.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace baton::chain {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// ln 2 split so that k·kLn2Hi is exact for |k| < 2^20 (fdlibm's constants).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kLogPi = 1.1447298858494002;          // log π
constexpr double kTwoOverSqrtPi = 1.1283791670955126;  // 2/√π
constexpr double kSqrt2 = 1.4142135623730951;

std::uint64_t bits_of(double x) {
  std::uint64_t b = 0;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
double from_bits(std::uint64_t b) {
  double x = 0;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
// 2^e for e in [-1022, 1023], exact.
// 1/n for n < 128, each the correctly rounded quotient (computed by the
// compiler, which rounds exactly as the machine would): a multiplication by
// it is cheaper than a division and the same on every node.
constexpr std::array<double, 128> kReciprocals = [] {
  std::array<double, 128> r{};
  for (int n = 1; n < 128; ++n) r[n] = 1.0 / n;
  return r;
}();

double pow2(int e) { return from_bits(static_cast<std::uint64_t>(e + 1023) << 52); }

// log(e^a + e^b) and log(e^a − e^b) (a > b), without overflow.
double log_add(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double hi = a > b ? a : b;
  const double lo = a > b ? b : a;
  return hi + accountant_log(1.0 + accountant_exp(lo - hi));
}
// NaN when b >= a: the series lost its footing, the caller drops the order.
double log_sub(double a, double b) {
  if (b == -kInf) return a;
  if (!(b < a)) return std::numeric_limits<double>::quiet_NaN();
  return a + accountant_log(1.0 - accountant_exp(b - a));
}

// log(n!) for n <= 512 (the largest integer order), built once with
// accountant_log, so the same bits everywhere.
constexpr int kMaxIntegerOrder = 512;
const std::array<double, kMaxIntegerOrder + 1>& log_factorials() {
  static const auto table = [] {
    std::array<double, kMaxIntegerOrder + 1> t{};
    t[0] = 0.0;
    for (int n = 1; n <= kMaxIntegerOrder; ++n) t[n] = t[n - 1] + accountant_log(n);
    return t;
  }();
  return table;
}

// The order grid in tenth units, ascending (privacy_accountant.h).
const std::vector<std::uint32_t>& grid() {
  static const auto g = [] {
    std::vector<std::uint32_t> v;
    for (std::uint32_t k = 11; k <= 109; ++k)
      if (k % 10 != 0) v.push_back(k);  // 1.1 .. 10.9, fractional
    for (std::uint32_t a = 2; a <= 64; ++a) v.push_back(10 * a);
    for (std::uint32_t a : {80u, 96u, 128u, 160u, 192u, 256u, 512u}) v.push_back(10 * a);
    // Sorted: merge the two runs below 11.
    for (std::size_t i = 1; i < v.size(); ++i)
      for (std::size_t j = i; j > 0 && v[j - 1] > v[j]; --j) std::swap(v[j - 1], v[j]);
    return v;
  }();
  return g;
}

// What one call needs, derived once from the integer inputs.
struct Mechanism {
  double log_q = 0;    // log q
  double log_1mq = 0;  // log(1 − q); unused when q = 1
  bool q_is_one = false;
  double sigma = 0;
  double two_sigma2 = 0;  // 2σ²
};

// log A_α for an integer α >= 2: the binomial expansion (MTZ19 §3.3),
// A_α = Σ_{j=0..α} C(α,j) (1−q)^{α−j} q^j e^{(j²−j)/(2σ²)}, all terms
// positive, summed in log space.
double log_a_integer(const Mechanism& m, int alpha) {
  const auto& lf = log_factorials();
  double acc = -kInf;
  for (int j = 0; j <= alpha; ++j) {
    const double dj = j;
    const double term = (lf[alpha] - lf[j] - lf[alpha - j]) + dj * m.log_q +
                        static_cast<double>(alpha - j) * m.log_1mq + (dj * dj - dj) / m.two_sigma2;
    acc = log_add(acc, term);
  }
  return acc;
}

// log A_α for a fractional α > 1: the two-sided series of MTZ19 §3.3 (as in
// TensorFlow Privacy's _compute_log_a_frac), with the split point
// z0 = σ² log(1/q − 1) + 1/2. NaN when it does not converge within
// kMaxSeriesTerms terms or loses its footing in a subtraction.
double log_a_fractional(const Mechanism& m, double alpha) {
  const double z0 = m.sigma * m.sigma * (m.log_1mq - m.log_q) + 0.5;
  const double denom = kSqrt2 * m.sigma;
  const double log_half = -kLn2Hi - kLn2Lo;
  double a0 = -kInf, a1 = -kInf;
  double log_coef = 0.0;  // log |C(α, i)|
  int sign = 1;           // sign of C(α, i)
  for (int i = 0; i < kMaxSeriesTerms; ++i) {
    const double di = i;
    const double j = alpha - di;
    const double log_t0 = log_coef + di * m.log_q + j * m.log_1mq;
    const double log_t1 = log_coef + j * m.log_q + di * m.log_1mq;
    const double log_e0 = log_half + accountant_log_erfc((di - z0) / denom);
    const double log_e1 = log_half + accountant_log_erfc((z0 - j) / denom);
    const double log_s0 = log_t0 + (di * di - di) / m.two_sigma2 + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / m.two_sigma2 + log_e1;
    if (sign > 0) {
      a0 = log_add(a0, log_s0);
      a1 = log_add(a1, log_s1);
    } else {
      a0 = log_sub(a0, log_s0);
      a1 = log_sub(a1, log_s1);
    }
    if (a0 != a0 || a1 != a1) return a0 + a1;  // NaN
    if ((log_s0 > log_s1 ? log_s0 : log_s1) < -30.0) return log_add(a0, a1);
    // C(α, i+1) = C(α, i) · (α − i)/(i + 1).
    const double factor = alpha - di;
    if (factor < 0) sign = -sign;
    log_coef += accountant_log(factor < 0 ? -factor : factor) - accountant_log(di + 1.0);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

Result<void> out_of_range(PrivacyInputProblem p, std::string what) {
  return make_error(std::move(what), static_cast<int>(p));
}

std::string u64(std::uint64_t v) { return std::to_string(v); }

}  // namespace

double accountant_exp(double x) {
  if (x != x) return x;
  if (x > 709.78) return kInf;
  if (x < -745.2) return 0.0;
  // x = k·ln2 + r, |r| <= ln2/2 (Cody–Waite), e^r by Taylor to degree 16.
  const double kd = x * kInvLn2;
  const auto k = static_cast<std::int64_t>(kd >= 0 ? kd + 0.5 : kd - 0.5);
  const double dk = static_cast<double>(k);
  const double r = (x - dk * kLn2Hi) - dk * kLn2Lo;
  double s = 1.0;
  for (int n = 16; n >= 1; --n) s = 1.0 + (s * r) * kReciprocals[n];
  const int e = static_cast<int>(k);
  if (e > 1023) return (s * pow2(1023)) * pow2(e - 1023);
  if (e < -1022) return (s * pow2(e + 600)) * pow2(-600);
  return s * pow2(e);
}

double accountant_log(double x) {
  if (!(x > 0)) return x == 0 ? -kInf : std::numeric_limits<double>::quiet_NaN();
  if (x == kInf) return kInf;
  int e = 0;
  if (x < 2.2250738585072014e-308) {  // subnormal: scale into the normal range
    x = x * pow2(54);
    e = -54;
  }
  const std::uint64_t b = bits_of(x);
  e += static_cast<int>((b >> 52) & 0x7ff) - 1023;
  double m = from_bits((b & 0x000fffffffffffffULL) | (1023ULL << 52));  // [1, 2)
  if (m > kSqrt2) {
    m = m * 0.5;
    e += 1;
  }
  // log m = 2 atanh(s), s = (m−1)/(m+1), |s| < 0.1716: the odd series to s^33.
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double t = kReciprocals[33];
  for (int n = 15; n >= 0; --n) t = kReciprocals[2 * n + 1] + s2 * t;
  const double de = e;
  return de * kLn2Hi + (de * kLn2Lo + 2.0 * s * t);
}

double accountant_log_erfc(double x) {
  if (x >= 2.5) {
    // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
    // evaluated from a fixed depth up (40 levels below 4, 20 below 8, else
    // 12: each where more levels move log erfc by less than 1e-15).
    const int levels = x < 4.0 ? 40 : x < 8.0 ? 20 : 12;
    double t = x;
    for (int n = levels; n >= 1; --n) t = x + (n * 0.5) / t;
    return -(x * x) - 0.5 * kLogPi - accountant_log(t);
  }
  if (x <= -2.5) return accountant_log(2.0 - accountant_exp(accountant_log_erfc(-x)));
  // |x| < 2.5: erfc = 1 − erf, erf(x) = 2/√π Σ (−1)^n x^{2n+1}/(n!(2n+1)),
  // until a term is below 1e-17 (at most 60 terms; a comparison of doubles,
  // so the same stopping point everywhere).
  double a = x;  // (−1)^n x^{2n+1}/n!
  double sum = 0.0;
  for (int n = 0; n < 60 && (a > 1e-17 || a < -1e-17); ++n) {
    sum = sum + a * kReciprocals[2 * n + 1];
    a = -(a * (x * x)) * kReciprocals[n + 1];
  }
  return accountant_log(1.0 - kTwoOverSqrtPi * sum);
}

std::uint32_t order_grid_size() { return static_cast<std::uint32_t>(grid().size()); }
std::uint32_t order_grid_tenths(std::uint32_t index) { return grid().at(index); }

Result<void> check_privacy_parameters(const PrivacyParameters& p) {
  using P = PrivacyInputProblem;
  if (p.noise_multiplier_micro < kMinNoiseMultiplierMicro ||
      p.noise_multiplier_micro > kMaxNoiseMultiplierMicro)
    return out_of_range(P::noise_multiplier_out_of_range,
                        "the noise multiplier " + u64(p.noise_multiplier_micro) +
                            " micro-units is outside [0.1, 1000]; give a sigma in that range");
  if (p.sampling_rate_nano < kMinSamplingRateNano || p.sampling_rate_nano > kMaxSamplingRateNano)
    return out_of_range(P::sampling_rate_out_of_range,
                        "the sampling rate " + u64(p.sampling_rate_nano) +
                            " nano-units is outside (0, 1]; give q = batch size / training rows");
  if (p.steps < kMinSteps || p.steps > kMaxSteps)
    return out_of_range(P::steps_out_of_range, "the step count " + u64(p.steps) +
                                                   " is outside [1, 10^9]; give the noisy steps "
                                                   "of the run");
  if (p.delta_pico < kMinDeltaPico || p.delta_pico > kMaxDeltaPico)
    return out_of_range(P::delta_out_of_range,
                        "delta " + u64(p.delta_pico) +
                            " pico-units is outside [1e-12, 0.1]; give a delta below 1/rows");
  return {};
}

Result<PrivacySpent> epsilon_spent(const PrivacyParameters& p) {
  if (auto ok = check_privacy_parameters(p); !ok) return ok.error();
  Mechanism m;
  const double log_1e9 = accountant_log(1e9);
  m.q_is_one = p.sampling_rate_nano == kMaxSamplingRateNano;
  m.log_q = accountant_log(static_cast<double>(p.sampling_rate_nano)) - log_1e9;
  m.log_1mq =
      m.q_is_one
          ? -kInf
          : accountant_log(static_cast<double>(kMaxSamplingRateNano - p.sampling_rate_nano)) -
                log_1e9;
  m.sigma = static_cast<double>(p.noise_multiplier_micro) / 1e6;
  m.two_sigma2 = 2.0 * m.sigma * m.sigma;
  const double steps = static_cast<double>(p.steps);
  const double log_inv_delta =
      accountant_log(1e12) - accountant_log(static_cast<double>(p.delta_pico));

  double best = kInf;
  std::uint32_t best_order = 0;
  for (std::uint32_t tenths : grid()) {
    const double alpha = tenths / 10.0;  // correctly rounded, so the same double everywhere
    double rdp = 0;
    if (m.q_is_one) {
      rdp = alpha / m.two_sigma2;  // the plain Gaussian mechanism
    } else {
      const double log_a = tenths % 10 == 0 ? log_a_integer(m, static_cast<int>(tenths / 10))
                                            : log_a_fractional(m, alpha);
      if (log_a != log_a) continue;                     // not converged: leave the order out
      rdp = (log_a > 0 ? log_a : 0.0) / (alpha - 1.0);  // RDP >= 0; rounding never lowers it
    }
    const double eps = steps * rdp + log_inv_delta / (alpha - 1.0);
    if (eps < best) {
      best = eps;
      best_order = tenths;
    }
  }
  PrivacySpent out;
  out.order_tenths = best_order;
  const double micro = best * 1e6;
  if (!(micro < static_cast<double>(kMaxEpsilonMicro))) {  // also NaN and ∞
    out.epsilon_micro = kMaxEpsilonMicro;
    out.saturated = true;
    return out;
  }
  auto up = static_cast<std::uint64_t>(micro);  // truncation of a non-negative value
  if (static_cast<double>(up) < micro) ++up;
  out.epsilon_micro = up;
  return out;
}

Result<std::uint64_t> smallest_noise_multiplier(const PrivacyParameters& p,
                                                std::uint64_t target_epsilon_micro) {
  PrivacyParameters at = p;
  at.noise_multiplier_micro = kMaxNoiseMultiplierMicro;
  auto high = epsilon_spent(at);
  if (!high) return high.error();
  if (high->epsilon_micro > target_epsilon_micro)
    return make_error("even a noise multiplier of 1000 spends " + u64(high->epsilon_micro) +
                      " micro-epsilon, above the target; raise the target or delta, or take "
                      "fewer steps or a smaller sampling rate");
  std::uint64_t lo = kMinNoiseMultiplierMicro, hi = kMaxNoiseMultiplierMicro;
  at.noise_multiplier_micro = lo;
  if (epsilon_spent(at)->epsilon_micro <= target_epsilon_micro) return lo;
  // Invariant: ε(lo) > target >= ε(hi). About 30 rounds.
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    at.noise_multiplier_micro = mid;
    if (epsilon_spent(at)->epsilon_micro <= target_epsilon_micro)
      hi = mid;
    else
      lo = mid;
  }
  return hi;
}

}  // namespace baton::chain
