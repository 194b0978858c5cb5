// Training: determinism (bit-identical weights from the same seed), learning
// on data with a known answer, lossless hand-offs between partners, and
// refusal of bad settings and data.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "learning/metrics.h"
#include "learning/model.h"
#include "learning/train.h"

namespace baton::learning {
namespace {

// Two Gaussian classes in `features` dimensions, means ±separation/2 on the
// first feature; `positive_share` of rows are positive.
Dataset gaussian_classes(std::size_t rows, std::size_t features, double separation,
                         double positive_share, std::uint64_t seed) {
  Dataset d;
  d.rows = rows;
  d.features = features;
  d.class_names = {"negative", "positive"};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t i = 0; i < rows; ++i) {
    const int label = static_cast<double>(i) < positive_share * static_cast<double>(rows) ? 1 : 0;
    d.y.push_back(label);
    for (std::size_t f = 0; f < features; ++f) {
      const double shift = f == 0 ? (label ? separation / 2 : -separation / 2) : 0.0;
      d.x.push_back(static_cast<float>(normal(rng) + shift));
    }
  }
  for (std::size_t f = 0; f < features; ++f) d.feature_names.push_back("f" + std::to_string(f));
  return d;
}

Dataset three_blobs(std::size_t rows, std::uint64_t seed) {
  Dataset d;
  d.rows = rows;
  d.features = 2;
  d.num_classes = 3;
  d.class_names = {"a", "b", "c"};
  d.feature_names = {"x", "y"};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 0.5);
  const double cx[3] = {0, 3, 0}, cy[3] = {0, 0, 3};
  for (std::size_t i = 0; i < rows; ++i) {
    const int c = static_cast<int>(i % 3);
    d.y.push_back(c);
    d.x.push_back(static_cast<float>(cx[c] + normal(rng)));
    d.x.push_back(static_cast<float>(cy[c] + normal(rng)));
  }
  return d;
}

Model fresh_mlp(std::size_t features, std::uint64_t seed = 1, int classes = 2) {
  auto m = Model::create(ModelSpec::mlp(static_cast<int>(features), {16, 8}, classes), seed);
  if (!m.ok()) std::abort();
  return std::move(m).value();
}

double test_auc(const Model& m, const Dataset& test) {
  auto p = m.predict(test);
  EXPECT_TRUE(p.ok());
  const auto scores = p->scores();
  auto auc = roc_auc(test.y, scores);
  EXPECT_TRUE(auc.ok());
  return auc.ok() ? *auc : 0.0;
}

TEST(Train, SameSeedAndDataGiveBitIdenticalWeights) {
  const auto data = gaussian_classes(200, 6, 1.0, 0.4, 1);
  TrainSettings s;
  s.epochs = 5;
  s.batch_size = 16;
  s.seed = 42;
  auto a = fresh_mlp(6);
  auto b = fresh_mlp(6);
  ASSERT_TRUE(train(a, data, s).ok());
  ASSERT_TRUE(train(b, data, s).ok());
  EXPECT_EQ(serialize(a), serialize(b));
  EXPECT_EQ(model_hash(a), model_hash(b));

  auto c = fresh_mlp(6);
  s.seed = 43;  // another batch order
  ASSERT_TRUE(train(c, data, s).ok());
  EXPECT_NE(model_hash(c), model_hash(a));
}

TEST(Train, SgdIsDeterministicToo) {
  const auto data = gaussian_classes(100, 4, 1.0, 0.5, 2);
  TrainSettings s;
  s.optimizer = Optimizer::sgd;
  s.learning_rate = 0.05;
  s.momentum = 0.9;
  s.epochs = 4;
  auto a = fresh_mlp(4);
  auto b = fresh_mlp(4);
  ASSERT_TRUE(train(a, data, s).ok());
  ASSERT_TRUE(train(b, data, s).ok());
  EXPECT_EQ(model_hash(a), model_hash(b));
}

TEST(Train, LearnsSeparableClassesThatAnUntrainedModelDoesNot) {
  const auto train_rows = gaussian_classes(300, 5, 4.0, 0.5, 3);
  const auto test_rows = gaussian_classes(200, 5, 4.0, 0.5, 4);
  auto model = fresh_mlp(5, 9);
  const double before = test_auc(model, test_rows);
  TrainSettings s;
  s.epochs = 30;
  s.learning_rate = 1e-2;
  auto report = train(model, train_rows, s);
  ASSERT_TRUE(report.ok()) << report.error().message;
  // Means 4 standard deviations apart: the Bayes AUC is ~0.998.
  EXPECT_GT(test_auc(model, test_rows), 0.97) << "untrained AUC was " << before;
  EXPECT_LT(report->epoch_loss.back(), report->epoch_loss.front());
  EXPECT_EQ(report->steps, 30u * 10u);  // 300 rows / batch 32 = 10 batches per epoch
  EXPECT_EQ(report->samples_seen, 30u * 300u);
}

TEST(Train, LearnsThreeClasses) {
  auto model = fresh_mlp(2, 3, 3);
  TrainSettings s;
  s.epochs = 40;
  s.learning_rate = 1e-2;
  ASSERT_TRUE(train(model, three_blobs(150, 5), s).ok());
  const auto test = three_blobs(90, 6);
  auto p = model.predict(test);
  ASSERT_TRUE(p.ok());
  auto aucs = one_vs_rest_auc(test.y, p->per_row());
  ASSERT_TRUE(aucs.ok());
  for (double auc : *aucs) EXPECT_GT(auc, 0.97);
}

TEST(Train, ClassWeightingRaisesTheMinorityClassScores) {
  const auto data = gaussian_classes(400, 3, 1.0, 0.1, 7);  // 10% positive, overlapping classes
  TrainSettings s;
  s.epochs = 20;
  auto plain = fresh_mlp(3);
  auto weighted = fresh_mlp(3);
  ASSERT_TRUE(train(plain, data, s).ok());
  s.class_weighting = true;
  ASSERT_TRUE(train(weighted, data, s).ok());
  const auto mean = [&](const Model& m) {
    const auto scores = m.predict(data)->scores();
    return std::accumulate(scores.begin(), scores.end(), 0.0) / static_cast<double>(scores.size());
  };
  // Unweighted, the mean score tracks the 10% base rate; balanced weights
  // pull it towards one half.
  EXPECT_LT(mean(plain), 0.25);
  EXPECT_GT(mean(weighted), 0.35);
}

TEST(Train, HandOffThroughBytesEqualsTrainingInOnePlace) {
  // Partner 1 trains, seals the model to bytes, partner 2 loads and trains:
  // the result is bit-identical to one process doing both steps.
  const auto part1 = gaussian_classes(60, 4, 2.0, 0.5, 11);
  const auto part2 = gaussian_classes(80, 4, 2.0, 0.3, 12);
  TrainSettings s;
  s.epochs = 3;
  auto direct = fresh_mlp(4);
  ASSERT_TRUE(train(direct, part1, s).ok());
  auto handed = deserialize(serialize(direct), direct.spec());
  ASSERT_TRUE(handed.ok());
  s.seed = 2;
  ASSERT_TRUE(train(direct, part2, s).ok());
  ASSERT_TRUE(train(*handed, part2, s).ok());
  EXPECT_EQ(model_hash(*handed), model_hash(direct));
}

TEST(Train, ZeroEpochsLeaveTheWeightsAlone) {
  auto model = fresh_mlp(4);
  const auto before = model_hash(model);
  TrainSettings s;
  s.epochs = 0;
  auto report = train(model, gaussian_classes(10, 4, 1.0, 0.5, 1), s);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->steps, 0u);
  EXPECT_EQ(model_hash(model), before);
}

TEST(Train, RefusesBadSettingsAndMismatchedData) {
  auto model = fresh_mlp(4);
  const auto data = gaussian_classes(10, 4, 1.0, 0.5, 1);
  TrainSettings s;
  s.batch_size = 0;
  EXPECT_FALSE(train(model, data, s).ok());
  s = {};
  s.learning_rate = -1;
  EXPECT_FALSE(train(model, data, s).ok());
  s = {};
  s.threads = 0;
  EXPECT_FALSE(train(model, data, s).ok());
  s = {};
  auto wrong = train(model, gaussian_classes(10, 5, 1.0, 0.5, 1), s);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("5 features"), std::string::npos);
  auto bad_label = data;
  bad_label.y[3] = 2;
  EXPECT_FALSE(train(model, bad_label, s).ok());
  Dataset empty;
  empty.features = 4;
  EXPECT_FALSE(train(model, empty, s).ok());
  EXPECT_TRUE(parse_optimizer("adam").ok());
  EXPECT_FALSE(parse_optimizer("rmsprop").ok());
}

TEST(Train, DivergenceIsAnErrorNotAnAbort) {
  auto model = fresh_mlp(4);
  auto data = gaussian_classes(40, 4, 1.0, 0.5, 1);
  data.x[5] = std::numeric_limits<float>::infinity();
  TrainSettings s;
  auto r = train(model, data, s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("diverged"), std::string::npos);
}

TEST(ShuffledOrder, IsASeededPermutation) {
  std::uint64_t a = 5, b = 5, c = 6;
  const auto pa = shuffled_order(50, a);
  const auto pb = shuffled_order(50, b);
  const auto pc = shuffled_order(50, c);
  EXPECT_EQ(pa, pb);
  EXPECT_NE(pa, pc);
  auto sorted = pa;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(shuffled_order(50, a), pa);  // the state advanced: the next epoch differs
}

}  // namespace
}  // namespace baton::learning
