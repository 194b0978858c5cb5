// The Rényi-DP accountant (chain/privacy_accountant.h): published values,
// closed forms, monotonicity, rounding, hostile inputs and a golden vector.
#include "chain/privacy_accountant.h"
#include "chain/privacy_budget.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace baton::chain {
namespace {

constexpr std::uint64_t kMnistRows = 60'000;
constexpr std::uint64_t kMnistBatch = 256;
// q = 256/60000 in nano-units, rounded up (against the hospital): 4266667.
constexpr std::uint64_t kMnistQNano = (kMnistBatch * 1'000'000'000 + kMnistRows - 1) / kMnistRows;
constexpr std::uint64_t kDelta1e5Pico = 10'000'000;  // δ = 1e-5

// Steps are counted as epochs × ⌊N / batch⌋ = epochs × 234 (the full batches
// of each epoch). Counting ⌈epochs × N / batch⌉ instead (14,063 for 60
// epochs) moves ε up by at most 0.007 on these rows; the order grid is
// privacy_accountant.h's (fractional orders 1.1..10.9 in tenths, integers
// 2..64, then up to 512), the one TensorFlow Privacy and Opacus use for
// fractional orders.
PrivacyParameters mnist(std::uint64_t sigma_micro, std::uint64_t epochs) {
  return {sigma_micro, kMnistQNano, epochs * (kMnistRows / kMnistBatch), kDelta1e5Pico};
}

double epsilon_of(const PrivacyParameters& p) {
  auto r = epsilon_spent(p);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? static_cast<double>(r->epsilon_micro) / 1e6 : -1.0;
}

// TensorFlow Privacy's MNIST tutorial table (classic RDP conversion).
TEST(PrivacyAccountant, MatchesTensorFlowPrivacyMnistTable) {
  EXPECT_NEAR(epsilon_of(mnist(1'120'000, 60)), 2.92, 0.01);
  EXPECT_NEAR(epsilon_of(mnist(600'000, 30)), 9.74, 0.01);
  EXPECT_NEAR(epsilon_of(mnist(1'200'000, 10)), 1.20, 0.01);
}

// The MNIST row σ = 0.6 has its best order between the integers (α = 2.9):
// the fractional-order series is what brings it within 0.01 of 9.74; the
// integer orders alone give 9.77.
TEST(PrivacyAccountant, FractionalOrderWinsWhereTheOptimumLiesBetweenIntegers) {
  auto r = epsilon_spent(mnist(600'000, 30));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->order_tenths % 10, 0u) << "order " << r->order_tenths;
}

// At q = 1 the mechanism is the plain Gaussian one, RDP(α) = α/(2σ²) per
// step: ε = min over the grid of T·α/(2σ²) + log(1/δ)/(α−1), computed here
// with libm in long double.
TEST(PrivacyAccountant, FullSamplingIsThePlainGaussianMechanism) {
  struct Row {
    std::uint64_t sigma_micro, steps, delta_pico;
  };
  for (const Row& row : {Row{2'000'000, 10, 10'000'000}, Row{5'000'000, 100, 1'000'000},
                         Row{1'000'000, 1, 1'000'000'000}, Row{50'000'000, 1000, 1}}) {
    const long double sigma = row.sigma_micro / 1e6L;
    const long double log_inv_delta = std::log(1e12L / row.delta_pico);
    long double best = std::numeric_limits<long double>::infinity();
    for (std::uint32_t i = 0; i < order_grid_size(); ++i) {
      const long double alpha = order_grid_tenths(i) / 10.0L;
      best = std::min(best, row.steps * alpha / (2 * sigma * sigma) + log_inv_delta / (alpha - 1));
    }
    auto r = epsilon_spent({row.sigma_micro, 1'000'000'000, row.steps, row.delta_pico});
    ASSERT_TRUE(r.ok());
    // Rounded up: at least the exact value, less than one micro-unit above
    // it (1e-9 relative allowed for the two arithmetics).
    EXPECT_GE(static_cast<long double>(r->epsilon_micro), best * 1e6L * (1 - 1e-9L));
    EXPECT_LT(static_cast<long double>(r->epsilon_micro), best * 1e6L * (1 + 1e-9L) + 1);
    // And never below the continuous optimum T/(2σ²) + 2·sqrt(T/(2σ²)·log(1/δ)).
    const long double rho = row.steps / (2 * sigma * sigma);
    EXPECT_GE(r->epsilon_micro / 1e6L, rho + 2 * std::sqrt(rho * log_inv_delta) - 1e-9L);
  }
}

// More steps, less noise, a larger sampling rate or a smaller δ never give
// a smaller ε.
TEST(PrivacyAccountant, IsMonotoneInEveryInput) {
  const PrivacyParameters base = mnist(1'000'000, 5);
  const std::uint64_t b = epsilon_spent(base)->epsilon_micro;
  std::uint64_t last = 0;
  for (std::uint64_t steps : {1ull, 10ull, 100ull, 1000ull, 10'000ull, 1'000'000ull}) {
    PrivacyParameters p = base;
    p.steps = steps;
    const std::uint64_t e = epsilon_spent(p)->epsilon_micro;
    EXPECT_GE(e, last) << "steps " << steps;
    last = e;
  }
  last = std::numeric_limits<std::uint64_t>::max();
  for (std::uint64_t sigma : {300'000ull, 500'000ull, 800'000ull, 999'999ull, 1'000'000ull,
                              1'500'000ull, 4'000'000ull, 100'000'000ull}) {
    PrivacyParameters p = base;
    p.noise_multiplier_micro = sigma;
    const std::uint64_t e = epsilon_spent(p)->epsilon_micro;
    EXPECT_LE(e, last) << "sigma " << sigma;
    last = e;
  }
  last = 0;
  for (std::uint64_t q : {1ull, 1000ull, 4'266'667ull, 10'000'000ull, 100'000'000ull,
                          500'000'000ull, 999'999'999ull, 1'000'000'000ull}) {
    PrivacyParameters p = base;
    p.sampling_rate_nano = q;
    const std::uint64_t e = epsilon_spent(p)->epsilon_micro;
    EXPECT_GE(e, last) << "q " << q;
    last = e;
  }
  last = 0;
  for (std::uint64_t delta :
       {100'000'000'000ull, 1'000'000'000ull, 10'000'000ull, 16'666ull, 1ull}) {
    PrivacyParameters p = base;
    p.delta_pico = delta;
    const std::uint64_t e = epsilon_spent(p)->epsilon_micro;
    EXPECT_GE(e, last) << "delta " << delta;
    last = e;
  }
  EXPECT_GT(b, 0u);
}

// A hostile plan or SaveRequest: every out-of-range input is refused with
// its reason and a sentence, before any arithmetic.
TEST(PrivacyAccountant, RefusesOutOfRangeInputsWithAReason) {
  const PrivacyParameters ok = mnist(1'000'000, 5);
  struct Case {
    PrivacyParameters p;
    PrivacyInputProblem why;
    const char* says;
  };
  const std::uint64_t max64 = std::numeric_limits<std::uint64_t>::max();
  auto with = [&](auto field, std::uint64_t v) {
    PrivacyParameters p = ok;
    p.*field = v;
    return p;
  };
  using P = PrivacyInputProblem;
  using PP = PrivacyParameters;
  const Case cases[] = {
      {with(&PP::noise_multiplier_micro, 0), P::noise_multiplier_out_of_range, "noise multiplier"},
      {with(&PP::noise_multiplier_micro, 99'999), P::noise_multiplier_out_of_range, "[0.1, 1000]"},
      {with(&PP::noise_multiplier_micro, 1'000'000'001), P::noise_multiplier_out_of_range,
       "noise multiplier"},
      {with(&PP::noise_multiplier_micro, max64), P::noise_multiplier_out_of_range, "sigma"},
      {with(&PP::sampling_rate_nano, 0), P::sampling_rate_out_of_range, "sampling rate"},
      {with(&PP::sampling_rate_nano, 1'000'000'001), P::sampling_rate_out_of_range, "(0, 1]"},
      {with(&PP::sampling_rate_nano, max64), P::sampling_rate_out_of_range, "sampling rate"},
      {with(&PP::steps, 0), P::steps_out_of_range, "step count"},
      {with(&PP::steps, 1'000'000'001), P::steps_out_of_range, "step count"},
      {with(&PP::steps, max64), P::steps_out_of_range, "18446744073709551615"},
      {with(&PP::delta_pico, 0), P::delta_out_of_range, "delta"},
      {with(&PP::delta_pico, 100'000'000'001), P::delta_out_of_range, "[1e-12, 0.1]"},
      {with(&PP::delta_pico, max64), P::delta_out_of_range, "delta"},
  };
  for (const Case& c : cases) {
    auto r = epsilon_spent(c.p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, static_cast<int>(c.why));
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_FALSE(check_privacy_parameters(c.p).ok());
  }
}

// The corners of the accepted box all give an answer (no crash, no hang, no
// NaN): the worst one saturates at the cap instead of overflowing.
TEST(PrivacyAccountant, AnswersAtEveryCornerOfTheBounds) {
  for (std::uint64_t sigma : {kMinNoiseMultiplierMicro, kMaxNoiseMultiplierMicro})
    for (std::uint64_t q : std::initializer_list<std::uint64_t>{kMinSamplingRateNano, 500'000'000,
                                                                999'999'999, kMaxSamplingRateNano})
      for (std::uint64_t steps : {kMinSteps, kMaxSteps})
        for (std::uint64_t delta : {kMinDeltaPico, kMaxDeltaPico}) {
          auto r = epsilon_spent({sigma, q, steps, delta});
          ASSERT_TRUE(r.ok()) << r.error().message;
          EXPECT_LE(r->epsilon_micro, kMaxEpsilonMicro);
          EXPECT_GT(r->order_tenths, 10u);
        }
  auto worst = epsilon_spent({kMinNoiseMultiplierMicro, kMaxSamplingRateNano, kMaxSteps, 1});
  ASSERT_TRUE(worst.ok());
  EXPECT_TRUE(worst->saturated);
  EXPECT_EQ(worst->epsilon_micro, kMaxEpsilonMicro);
}

// Golden vectors: these integers are what every node must compute. A change
// of the arithmetic (an exp that rounds differently, a contracted FMA, a new
// order grid) changes one of them; such a change is a protocol change
// (docs/PROTOCOL.md §20).
TEST(PrivacyAccountant, GoldenVectors) {
  struct Golden {
    PrivacyParameters p;
    std::uint64_t epsilon_micro;
    std::uint32_t order_tenths;
  };
  const Golden golden[] = {
      {mnist(1'120'000, 60), 2'919'891, 91},
      {mnist(600'000, 30), 9'746'943, 29},
      {mnist(1'200'000, 10), 1'197'757, 150},
      {{3'000'000, 1'000'000'000, 7, 1'000'000}, 5'024'808, 70},
      {{800'000, 100'000'000, 12'345, 16'666'666}, 467'937'351, 20},
  };
  for (const Golden& g : golden) {
    auto r = epsilon_spent(g.p);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->epsilon_micro, g.epsilon_micro);
    EXPECT_EQ(r->order_tenths, g.order_tenths);
  }
}

// An auditor's reimplementation of docs/PROTOCOL.md §20, written from the
// text alone in Python (tests/chain/privacy_accountant.py: IEEE doubles, no
// math.exp or math.log), gives the same integers on the golden vectors, the
// corners of the bounds and 60 seeded random inputs: the section is complete
// and the arithmetic has no machine-dependent step.
TEST(PrivacyAccountant, PythonAuditorFromProtocolTextAgreesBitForBit) {
  std::vector<PrivacyParameters> inputs = {
      mnist(1'120'000, 60),
      mnist(600'000, 30),
      mnist(1'200'000, 10),
      {3'000'000, 1'000'000'000, 7, 1'000'000},
      {800'000, 100'000'000, 12'345, 16'666'666},
      {kMinNoiseMultiplierMicro, 500'000'000, kMaxSteps, kMinDeltaPico},
      {kMaxNoiseMultiplierMicro, 500'000'000, 1, kMaxDeltaPico}};
  std::mt19937_64 rng(14);
  for (int i = 0; i < 60; ++i)
    inputs.push_back({kMinNoiseMultiplierMicro + rng() % (i % 3 ? 5'000'000 : 999'900'001),
                      1 + rng() % (i % 2 ? 20'000'000 : 1'000'000'000),
                      1 + rng() % (i % 4 ? 100'000 : 1'000'000'000),
                      1 + rng() % (i % 5 ? 100'000'000 : 100'000'000'000)});
  std::vector<std::string> args = {
      (baton::testing::source_dir() / "tests" / "chain" / "privacy_accountant.py").string()};
  std::string want;
  for (const PrivacyParameters& p : inputs) {
    for (std::uint64_t v : {p.noise_multiplier_micro, p.sampling_rate_nano, p.steps, p.delta_pico})
      args.push_back(std::to_string(v));
    auto r = epsilon_spent(p);
    ASSERT_TRUE(r.ok());
    want += std::to_string(r->epsilon_micro) + " " + std::to_string(r->order_tenths) + " " +
            (r->saturated ? "1" : "0") + "\n";
  }
  auto py = baton::testing::run_program("/usr/bin/python3", args);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, want);
}

// The elementary functions agree with libm to ~1e-14 (they need not match
// its bits: they need only be the same everywhere).
TEST(PrivacyAccountant, ElementaryFunctionsAgreeWithLibm) {
  for (double x = -744.0; x < 709.0; x += 0.731) {
    const double want = std::exp(x);
    EXPECT_NEAR(accountant_exp(x), want, want * 1e-14) << x;
  }
  for (double x = 1e-300; x < 1e300; x *= 3.7) {
    EXPECT_NEAR(accountant_log(x), std::log(x), std::fabs(std::log(x)) * 1e-15 + 1e-15) << x;
  }
  EXPECT_EQ(accountant_log(1.0), 0.0);
  for (double x = -6.0; x < 25.0; x += 0.0173) {
    const double want = std::log(std::erfc(x));
    EXPECT_NEAR(accountant_log_erfc(x), want, std::fabs(want) * 1e-11 + 1e-13) << x;
  }
  EXPECT_NEAR(accountant_log_erfc(1000.0), -1e6 - std::log(1000.0 * std::sqrt(M_PI)), 1e-6);
}

// `baton privacy noise`: the smallest σ that meets a target, by bisection.
TEST(PrivacyAccountant, SmallestNoiseMultiplierMeetsTheTargetAndNoLess) {
  const PrivacyParameters p = mnist(0, 60);
  auto sigma = smallest_noise_multiplier(p, 2'920'000);
  ASSERT_TRUE(sigma.ok()) << sigma.error().message;
  EXPECT_GT(*sigma, 1'100'000u);
  EXPECT_LT(*sigma, 1'130'000u);
  PrivacyParameters at = p;
  at.noise_multiplier_micro = *sigma;
  EXPECT_LE(epsilon_spent(at)->epsilon_micro, 2'920'000u);
  at.noise_multiplier_micro = *sigma - 1;
  EXPECT_GT(epsilon_spent(at)->epsilon_micro, 2'920'000u);

  auto impossible = smallest_noise_multiplier(p, 1);  // ε = 10^-6 at δ = 1e-5
  ASSERT_FALSE(impossible.ok());
  EXPECT_NE(impossible.error().message.find("target"), std::string::npos);
  auto hostile = smallest_noise_multiplier(mnist(0, 0), 1'000'000);
  ASSERT_FALSE(hostile.ok());
  EXPECT_EQ(hostile.error().code, static_cast<int>(PrivacyInputProblem::steps_out_of_range));
}

// chain/privacy_budget.h: what a partner's next SaveRequest spends.
PrivacyPlan dp_sgd_plan(std::uint64_t budget_micro) {
  return {.mechanism = PrivacyMechanism::dp_sgd,
          .delta_pico = kDelta1e5Pico,
          .budget_micro = budget_micro,
          .clip_micro = 1'000'000,
          .noise_multiplier_micro = 1'100'000,
          .sampling_rate_nano = 40'000'000};  // q = 0.04: 25 steps an epoch
}

TEST(PrivacyBudget, StepsPerEpochRoundUp) {
  EXPECT_EQ(dp_steps_per_epoch(1'000'000'000), 1u);
  EXPECT_EQ(dp_steps_per_epoch(40'000'000), 25u);
  EXPECT_EQ(dp_steps_per_epoch(kMnistQNano), 235u);  // 234.37... steps: one more, never fewer
  EXPECT_EQ(dp_steps_per_epoch(1), 1'000'000'000u);
}

TEST(PrivacyBudget, TurnsComposeAsOneAccountantOverTheTotalSteps) {
  const PrivacyPlan plan = dp_sgd_plan(100'000'000);
  auto first = next_privacy_spend(plan, 3, {});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->steps_total, 75u);
  EXPECT_EQ(first->epsilon_turn_micro, first->epsilon_total_micro);
  auto second = next_privacy_spend(plan, 2, *first);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->steps_total, 125u);
  auto direct = epsilon_spent({1'100'000, 40'000'000, 125, kDelta1e5Pico});
  EXPECT_EQ(second->epsilon_total_micro, direct->epsilon_micro);
  EXPECT_EQ(second->epsilon_turn_micro, second->epsilon_total_micro - first->epsilon_total_micro);
  // Rényi composition is tighter than adding each turn's own ε.
  auto alone = next_privacy_spend(plan, 2, {});
  EXPECT_LT(second->epsilon_total_micro, first->epsilon_total_micro + alone->epsilon_total_micro);

  // Hostile accountant states: a steps total past the bound is an error, not a wrap.
  auto overflow = next_privacy_spend(plan, 3, {.steps_total = kMaxSteps});
  EXPECT_FALSE(overflow.ok());
  auto no_epochs = next_privacy_spend(plan, 0, {});
  ASSERT_TRUE(no_epochs.ok());
  EXPECT_EQ(no_epochs->epsilon_total_micro, 0u);
}

TEST(PrivacyBudget, LocalDpIsChargedOnceAndNoneNever) {
  const PrivacyPlan local{.mechanism = PrivacyMechanism::local,
                          .budget_micro = 100'000'000,
                          .beta_micro = 3'000'000,
                          .sensitivity_micro = 1'000'000,
                          .values_per_row = 10};
  auto first = next_privacy_spend(local, 5, {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->epsilon_total_micro, 3'333'334u);  // 10 × 1 / 3, rounded up
  EXPECT_EQ(first->steps_total, 0u);
  auto later = next_privacy_spend(local, 5, *first);
  EXPECT_EQ(later->epsilon_total_micro, first->epsilon_total_micro);
  EXPECT_EQ(later->epsilon_turn_micro, 0u);
  auto none = next_privacy_spend(PrivacyPlan{}, 5, {});
  EXPECT_EQ(*none, PrivacySpend{});
}

TEST(PrivacyBudget, MaxEpochsWithinBudgetIsTheLargestThatFits) {
  const PrivacyPlan plan = dp_sgd_plan(2'000'000);  // ε budget 2
  for (const std::uint64_t before_steps : {0, 50, 400}) {
    PrivacySpend before;
    if (before_steps > 0) {
      before.steps_total = before_steps;
      before.epsilon_total_micro =
          epsilon_spent({1'100'000, 40'000'000, before_steps, kDelta1e5Pico})->epsilon_micro;
    }
    auto best = max_epochs_within_budget(plan, 40, before);
    ASSERT_TRUE(best.ok());
    std::uint32_t linear = 0;
    for (std::uint32_t e = 1; e <= 40; ++e) {
      if (next_privacy_spend(plan, e, before)->epsilon_total_micro <= plan.budget_micro) linear = e;
    }
    EXPECT_EQ(*best, linear) << before_steps;
  }
  EXPECT_EQ(*max_epochs_within_budget(dp_sgd_plan(1), 40, {}), 0u);  // not one epoch fits
  EXPECT_EQ(*max_epochs_within_budget(PrivacyPlan{}, 7, {}), 7u);
}

}  // namespace
}  // namespace baton::chain
