// Local DP (learning/local_dp.h): values clipped to the interval of width Δ
// before the noise, the same noisy copy for the same seed, Laplace noise of
// scale β (mean |noise| = β), bad settings refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "learning/local_dp.h"

namespace baton::learning {
namespace {

Dataset values(std::vector<float> x, bool image) {
  Dataset d;
  d.rows = x.size();
  d.features = 1;
  d.x = std::move(x);
  d.y.assign(d.rows, 0);
  if (image) d.image_shape = {1, 1, 1};
  return d;
}

TEST(LocalDp, ClipsEachValueToItsIntervalBeforeTheNoise) {
  // β tiny: what is left is the clipping. Tabular (standardised): [-Δ/2, Δ/2].
  auto tab = values({-100.f, -0.2f, 0.f, 0.3f, 7.f}, false);
  ASSERT_TRUE(apply_local_dp(tab, {1e-9, 2.0, 1}).ok());
  const std::vector<float> want_tab = {-1.f, -0.2f, 0.f, 0.3f, 1.f};
  for (std::size_t i = 0; i < want_tab.size(); ++i) EXPECT_NEAR(tab.x[i], want_tab[i], 1e-6) << i;
  // Images (pixels in [0, 1]): [0, Δ].
  auto img = values({-3.f, 0.25f, 0.9f, 5.f}, true);
  ASSERT_TRUE(apply_local_dp(img, {1e-9, 0.5, 1}).ok());
  const std::vector<float> want_img = {0.f, 0.25f, 0.5f, 0.5f};
  for (std::size_t i = 0; i < want_img.size(); ++i) EXPECT_NEAR(img.x[i], want_img[i], 1e-6) << i;
}

TEST(LocalDp, TheSameSeedGivesTheSameCopyAndAnotherSeedAnother) {
  const auto base = values(std::vector<float>(200, 0.1f), false);
  auto a = base, b = base, c = base;
  ASSERT_TRUE(apply_local_dp(a, {1.0, 1.0, 42}).ok());
  ASSERT_TRUE(apply_local_dp(b, {1.0, 1.0, 42}).ok());
  ASSERT_TRUE(apply_local_dp(c, {1.0, 1.0, 43}).ok());
  EXPECT_EQ(a.x, b.x);
  EXPECT_NE(a.x, c.x);
  EXPECT_NE(a.x, base.x);
}

TEST(LocalDp, NoiseIsLaplaceOfScaleBeta) {
  // Laplace(0, β): E|n| = β, E n = 0, P(|n| > β ln 20) = 5%. 200,000 draws:
  // the mean |n| has a relative standard error of 1/sqrt(200000) ≈ 0.2%, so
  // 2% passes a correct β and refuses β × 0.9 or β / sqrt(2) (a Gaussian's
  // or another scale's).
  for (const double beta : {1.0, 2.0, 4.0}) {
    SCOPED_TRACE(beta);
    auto d = values(std::vector<float>(200000, 0.f), false);
    ASSERT_TRUE(apply_local_dp(d, {beta, 1.0, 7}).ok());
    double abs_sum = 0, sum = 0, tail = 0;
    for (float v : d.x) {
      abs_sum += std::fabs(v);
      sum += v;
      if (std::fabs(v) > beta * std::log(20.0)) ++tail;
    }
    const double n = static_cast<double>(d.x.size());
    EXPECT_NEAR(abs_sum / n, beta, 0.02 * beta);
    EXPECT_NEAR(sum / n, 0.0, 0.02 * beta);
    EXPECT_NEAR(tail / n, 0.05, 0.005);
  }
}

TEST(LocalDp, RefusesABetaOrSensitivityThatIsNotPositiveAndFinite) {
  auto d = values({0.f}, false);
  EXPECT_FALSE(apply_local_dp(d, {0.0, 1.0, 1}).ok());
  EXPECT_FALSE(apply_local_dp(d, {-1.0, 1.0, 1}).ok());
  EXPECT_FALSE(apply_local_dp(d, {std::nan(""), 1.0, 1}).ok());
  EXPECT_FALSE(apply_local_dp(d, {1.0, 0.0, 1}).ok());
  EXPECT_FALSE(apply_local_dp(d, {1.0, INFINITY, 1}).ok());
  EXPECT_EQ(d.x[0], 0.f);  // a refusal changes nothing
}

// A missing value (NaN) would pass through the noise and say it was missing.
TEST(LocalDp, RefusesAValueThatIsNotFiniteAndNamesItsRow) {
  auto d = values({0.5f, 0.25f, std::nanf(""), 1.f}, false);
  const std::vector<float> before = d.x;
  auto st = apply_local_dp(d, {1.0, 1.0, 1});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("row 2"), std::string::npos) << st.error().message;
  EXPECT_EQ(d.x[0], before[0]);  // nothing was noised
  auto inf = values({INFINITY}, true);
  EXPECT_FALSE(apply_local_dp(inf, {1.0, 1.0, 1}).ok());
}

}  // namespace
}  // namespace baton::learning
