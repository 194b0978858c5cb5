// DP-SGD (learning/dp_sgd.h): deterministic for a seed; the traced
// per-sample gradients equal the one-row-at-a-time loop's; clipping bounds
// every row's contribution; the noise has the stated scale; the group-norm
// ResNet trains under DP and the batch-norm one is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "chain/training.h"
#include "learning/dp_sgd.h"
#include "learning/model.h"
#include "learning/train.h"
#include "tools/plan_check.h"

namespace baton::learning {
namespace {

Dataset gaussian_rows(std::size_t rows, std::size_t features, std::uint64_t seed, int classes = 2) {
  Dataset d;
  d.rows = rows;
  d.features = features;
  d.num_classes = classes;
  for (int c = 0; c < classes; ++c) d.class_names.push_back("c" + std::to_string(c));
  for (std::size_t f = 0; f < features; ++f) d.feature_names.push_back("f" + std::to_string(f));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t i = 0; i < rows; ++i) {
    // Unbalanced classes, so that class weighting changes something.
    const int label = i % 3 == 0 ? 0 : static_cast<int>(i % static_cast<std::size_t>(classes));
    d.y.push_back(label);
    for (std::size_t f = 0; f < features; ++f)
      d.x.push_back(static_cast<float>(normal(rng) + (f == 0 ? label : 0)));
  }
  return d;
}

Dataset images(std::size_t rows, int side, std::uint64_t seed) {
  auto d = gaussian_rows(rows, static_cast<std::size_t>(side * side), seed);
  d.image_shape = {1, side, side};
  return d;
}

Model make(const ModelSpec& spec, std::uint64_t seed = 1) {
  auto m = Model::create(spec, seed);
  if (!m.ok()) std::abort();
  return std::move(m).value();
}

// Every float of a model without int64 buffers, in serialized order
// (docs/PROTOCOL.md §17).
std::vector<float> weights(const Model& m) {
  const auto blob = serialize(m);
  const auto le = [&](std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= std::uint64_t{blob[at + static_cast<std::size_t>(i)]} << (8 * i);
    return v;
  };
  std::size_t at = 12;
  at += 4 + le(at, 4);
  const auto count = le(at, 4);
  at += 4;
  std::vector<float> out;
  for (std::uint64_t t = 0; t < count; ++t) {
    at += 2 + le(at, 2);
    const int rank = blob[at + 1];
    at += 2;
    std::uint64_t values = 1;
    for (int d = 0; d < rank; ++d, at += 8) values *= le(at, 8);
    for (std::uint64_t v = 0; v < values; ++v, at += 4) {
      float f;
      std::memcpy(&f, blob.data() + at, 4);
      out.push_back(f);
    }
  }
  return out;
}

std::vector<double> minus(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = double{a[i]} - double{b[i]};
  return out;
}

double norm(const std::vector<double>& v) {
  return std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
}

TrainSettings dp_settings(double clip, double sigma, std::uint64_t q_nano, int epochs) {
  TrainSettings s;
  s.epochs = epochs;
  s.dp_sgd = DpSgdSettings{clip, sigma, q_nano};
  return s;
}

// Plain SGD with learning rate 1 and one step over every row (q = 1): the
// update is exactly -(clipped sum + noise) / rows.
TrainSettings one_full_step(double clip, double sigma, std::uint64_t seed) {
  auto s = dp_settings(clip, sigma, 1'000'000'000, 1);
  s.optimizer = Optimizer::sgd;
  s.learning_rate = 1.0;
  s.seed = seed;
  return s;
}

TEST(DpSgd, SameSeedGivesTheSameWeightBytesAndAnotherSeedOthers) {
  const auto data = gaussian_rows(120, 5, 3);
  auto s = dp_settings(1.0, 1.1, 100'000'000, 2);  // q = 0.1: 10 steps an epoch
  s.class_weighting = true;
  const auto spec = ModelSpec::mlp(5, {8});
  auto a = make(spec), b = make(spec), c = make(spec);
  auto ra = train(a, data, s);
  ASSERT_TRUE(ra.ok()) << ra.error().message;
  EXPECT_EQ(ra->steps, 20u);
  ASSERT_TRUE(train(b, data, s).ok());
  EXPECT_EQ(model_hash(a), model_hash(b));
  s.seed = 2;
  ASSERT_TRUE(train(c, data, s).ok());
  EXPECT_NE(model_hash(a), model_hash(c));
  EXPECT_NE(model_hash(a), model_hash(make(spec)));  // it trained
}

TEST(DpSgd, TracedPerSampleGradientsEqualTheLoops) {
  const auto tabular = gaussian_rows(9, 4, 5, 3);
  const auto img = images(6, 8, 6);
  struct Case {
    ModelSpec spec;
    const Dataset* data;
    bool weighting;
  };
  const std::vector<Case> cases = {
      {ModelSpec::mlp(4, {6, 5}, 3), &tabular, true},
      {ModelSpec::mlp(4, {}, 3), &tabular, false},
      {ModelSpec{Architecture::cnn2d, {1, 8, 8}, {3, 4, 5}, 2}, &img, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(to_json(c.spec));
    auto m = make(c.spec, 4);
    auto traced = per_sample_gradients(m, *c.data, c.weighting, PerSampleMethod::traced);
    auto loop = per_sample_gradients(m, *c.data, c.weighting, PerSampleMethod::loop);
    ASSERT_TRUE(traced.ok()) << traced.error().message;
    ASSERT_TRUE(loop.ok()) << loop.error().message;
    ASSERT_EQ(traced->size(), c.data->rows);
    double largest = 0;
    for (std::size_t i = 0; i < c.data->rows; ++i) {
      ASSERT_EQ((*traced)[i].size(), m.parameter_count());
      ASSERT_EQ((*loop)[i].size(), m.parameter_count());
      for (std::size_t k = 0; k < (*loop)[i].size(); ++k) {
        EXPECT_NEAR((*traced)[i][k], (*loop)[i][k], 1e-5 + 1e-4 * std::fabs((*loop)[i][k]))
            << "row " << i << " value " << k;
        largest = std::max(largest, double{std::fabs((*loop)[i][k])});
      }
    }
    EXPECT_GT(largest, 1e-3);  // not all zero
    // The clipped sums agree too (a small clip: every row is clipped).
    auto st = clipped_gradient_sum(m, *c.data, 0.05, c.weighting, PerSampleMethod::traced);
    auto sl = clipped_gradient_sum(m, *c.data, 0.05, c.weighting, PerSampleMethod::loop);
    ASSERT_TRUE(st.ok() && sl.ok());
    for (std::size_t k = 0; k < sl->size(); ++k)
      EXPECT_NEAR((*st)[k], (*sl)[k], 1e-6 + 1e-4 * std::fabs((*sl)[k])) << k;
  }
}

TEST(DpSgd, WithoutClippingOrNoiseAFullStepIsPlainGradientDescent) {
  // q = 1, a clip no gradient reaches, σ tiny: the step is -lr × (Σ g_i) / N,
  // the plain full-batch step. Checks the whole DP step (sampling, sums,
  // scaling, optimizer) against the plain loop, for the MLP and the CNN.
  const auto tabular = gaussian_rows(12, 4, 13);
  const auto img = images(10, 8, 14);
  const std::vector<std::pair<ModelSpec, const Dataset*>> cases = {
      {ModelSpec::mlp(4, {6, 5}), &tabular},
      {ModelSpec{Architecture::cnn2d, {1, 8, 8}, {3, 4, 5}, 2}, &img}};
  for (const auto& [spec, data] : cases) {
    SCOPED_TRACE(to_json(spec));
    auto dp = make(spec, 5), plain = make(spec, 5);
    const auto before = weights(plain);
    ASSERT_TRUE(train(dp, *data, one_full_step(1e6, 1e-13, 1)).ok());  // σC = 1e-7
    TrainSettings s;
    s.epochs = 1;
    s.batch_size = static_cast<int>(data->rows);
    s.optimizer = Optimizer::sgd;
    s.learning_rate = 1.0;
    ASSERT_TRUE(train(plain, *data, s).ok());
    const auto a = weights(dp), b = weights(plain);
    ASSERT_GT(norm(minus(b, before)), 1e-3);  // the step moved something
    for (std::size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-5) << k;
  }
}

TEST(DpSgd, ClippingBoundsEveryRowsContribution) {
  // One outlier row with a huge feature and a flipped label: its raw
  // gradient is hundreds of times the clip (checked below). With σ tiny, the
  // whole update of one full step is at most lr × clip (each of the n rows
  // adds at most clip, then / n); unclipped, the outlier alone would move it
  // by more than 5 × clip.
  auto data = gaussian_rows(20, 4, 8);
  data.x[0] = 1e4f;
  data.y[0] = 1 - data.y[0];
  const double clip = 0.01;
  auto m = make(ModelSpec::mlp(4, {6}), 2);
  auto raw = per_sample_gradients(m, data, false, PerSampleMethod::loop);
  ASSERT_TRUE(raw.ok());
  std::vector<double> outlier((*raw)[0].begin(), (*raw)[0].end());
  ASSERT_GT(norm(outlier), 100 * clip);
  const auto before = weights(m);
  auto r = train(m, data, one_full_step(clip, 1e-6, 1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const double moved = norm(minus(weights(m), before));
  EXPECT_LE(moved, clip * 1.0001);
  EXPECT_GT(moved, clip / 100);  // and it did move

  // A single row: its gradient is clipped to exactly `clip`, not below.
  auto one = gaussian_rows(1, 4, 9);
  auto m1 = make(ModelSpec::mlp(4, {6}), 2);
  auto raw1 = per_sample_gradients(m1, one, false, PerSampleMethod::loop);
  ASSERT_TRUE(raw1.ok());
  std::vector<double> g1((*raw1)[0].begin(), (*raw1)[0].end());
  ASSERT_GT(norm(g1), 10 * clip);
  const auto before1 = weights(m1);
  ASSERT_TRUE(train(m1, one, one_full_step(clip, 1e-6, 1)).ok());
  EXPECT_NEAR(norm(minus(weights(m1), before1)), clip, clip * 1e-3);
}

TEST(DpSgd, NoiseHasStandardDeviationSigmaTimesClip) {
  // Two seeds, same rows (q = 1 takes them all): the updates differ by the
  // noise alone, (n1 - n2) / rows, whose values have std sqrt(2) σ C / rows.
  const auto data = gaussian_rows(10, 6, 10);
  const auto spec = ModelSpec::mlp(6, {128, 64});  // 9,217 parameters
  for (const double sigma : {0.5, 4.0}) {
    SCOPED_TRACE(sigma);
    const double clip = 0.5;
    auto a = make(spec, 3), b = make(spec, 3);
    ASSERT_TRUE(train(a, data, one_full_step(clip, sigma, 11)).ok());
    ASSERT_TRUE(train(b, data, one_full_step(clip, sigma, 12)).ok());
    const auto diff = minus(weights(a), weights(b));
    const double n = static_cast<double>(diff.size());
    const double mean = std::accumulate(diff.begin(), diff.end(), 0.0) / n;
    double var = 0;
    for (double d : diff) var += (d - mean) * (d - mean);
    const double std_dev = std::sqrt(var / (n - 1));
    const double want = std::sqrt(2.0) * sigma * clip / 10.0;
    // 9,217 values: the sample std is within 0.74% of the truth (1 s.d.);
    // 5% refuses a noise of σ instead of σ·C (×2) or one divided twice.
    EXPECT_NEAR(std_dev, want, 0.05 * want);
  }
}

TEST(DpSgd, AGroupNormResNetTrainsAndABatchNormOneIsRefused) {
  Dataset vols = gaussian_rows(4, 1 * 4 * 8 * 8, 12);
  vols.image_shape = {1, 4, 8, 8};
  auto s = dp_settings(1.0, 1.0, 500'000'000, 1);  // q = 1/2: 2 steps
  auto gn = make(ModelSpec::resnet3d({1, 4, 8, 8}, 2, Normalization::group));
  const auto before = model_hash(gn);
  auto r = train(gn, vols, s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->steps, 2u);
  EXPECT_NE(model_hash(gn), before);
  for (float w : weights(gn)) ASSERT_TRUE(std::isfinite(w));

  auto bn = make(ModelSpec::resnet3d({1, 4, 8, 8}, 2));
  auto refused = train(bn, vols, s);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("batch norm"), std::string::npos);
}

TEST(DpSgd, RefusesSettingsOutOfRange) {
  const auto bad = [](DpSgdSettings dp) {
    TrainSettings s;
    s.dp_sgd = dp;
    return !validate(s).ok();
  };
  EXPECT_FALSE(bad({1.0, 1.0, 1}));
  EXPECT_FALSE(bad({1.0, 1.0, 1'000'000'000}));
  EXPECT_TRUE(bad({0.0, 1.0, 1000}));
  EXPECT_TRUE(bad({-1.0, 1.0, 1000}));
  EXPECT_TRUE(bad({std::nan(""), 1.0, 1000}));
  EXPECT_TRUE(bad({INFINITY, 1.0, 1000}));
  EXPECT_TRUE(bad({1.0, 0.0, 1000}));
  EXPECT_TRUE(bad({1.0, INFINITY, 1000}));
  EXPECT_TRUE(bad({1.0, 1.0, 0}));
  EXPECT_TRUE(bad({1.0, 1.0, 1'000'000'001}));
}

TEST(DpSgdPlanCheck, RefusesADpSgdPlanWhoseModelHasBatchNorm) {
  chain::TrainingPlan plan;
  plan.feature_columns = {"volume"};
  plan.model_spec = to_json(ModelSpec::resnet3d({1, 4, 8, 8}, 2));
  EXPECT_TRUE(tools::check_plan_for_agents(plan).ok());  // no DP: batch norm is fine
  plan.privacy.mechanism = chain::PrivacyMechanism::dp_sgd;
  auto st = tools::check_plan_for_agents(plan);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("norm\":\"group"), std::string::npos) << st.error().message;
  plan.model_spec = to_json(ModelSpec::resnet3d({1, 4, 8, 8}, 2, Normalization::group));
  EXPECT_TRUE(tools::check_plan_for_agents(plan).ok());
  plan.privacy.mechanism = chain::PrivacyMechanism::local;  // local DP: inputs only
  plan.privacy.values_per_row = 1 * 4 * 8 * 8;  // the model's input size, as run start requires
  plan.model_spec = to_json(ModelSpec::resnet3d({1, 4, 8, 8}, 2));
  EXPECT_TRUE(tools::check_plan_for_agents(plan).ok());
}

}  // namespace
}  // namespace baton::learning
