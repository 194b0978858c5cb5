// Denormal floats in a candidate's weights (issue 11, section 6): flush-to-
// zero must be in effect on every thread that runs the model's ops, whatever
// thread calls predict() or train(). No timing here (bench/denormal_bench.cpp
// has the figures): the test reads each thread's mode through
// check_denormal_flush(), which multiplies denormal-producing floats there.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <thread>

#include "learning/model.h"
#include "learning/train.h"

namespace baton::learning {
namespace {

// Rows of positive features (so that ReLU layers pass them on), two classes.
Dataset positive_rows(std::size_t rows, std::size_t features) {
  Dataset d;
  d.rows = rows;
  d.features = features;
  d.class_names = {"no", "yes"};
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  for (std::size_t i = 0; i < rows; ++i) {
    d.y.push_back(static_cast<int>(i % 2));
    for (std::size_t f = 0; f < features; ++f) d.x.push_back(u(rng) + 0.3f * (i % 2));
  }
  return d;
}

// `model` with every value of every tensor replaced by value(tensor), as a
// partner could write it: the blob is rewritten and loaded like a candidate.
Model rewritten(const Model& model, const std::function<float(const TensorLayout&)>& value) {
  chain::Bytes blob = serialize(model);
  std::size_t at = 16 + to_json(model.spec()).size() + 4;
  for (const auto& t : tensor_layout(model.spec())) {
    at += 2 + t.name.size() + 2 + 8 * t.dims.size();
    std::size_t n = 1;
    for (auto d : t.dims) n *= static_cast<std::size_t>(d);
    const float v = value(t);
    for (std::size_t i = 0; i < n; ++i) std::memcpy(blob.data() + at + 4 * i, &v, 4);
    at += 4 * n;
  }
  auto back = deserialize(blob, model.spec());
  if (!back.ok()) std::abort();
  return std::move(back).value();
}

bool is_weight(const TensorLayout& t) { return t.dims.size() >= 2; }

// Weights of +-1e-39: denormal floats in every multiplication.
Model denormal_weights(const ModelSpec& spec) {
  auto m = Model::create(spec, 1);
  if (!m.ok()) std::abort();
  return rewritten(*m, [](const TensorLayout& t) { return is_weight(t) ? 1e-39f : 0.1f; });
}

// Normal weights (1e-20, then 1e-22) and zero biases: the first layer's
// outputs are ~1e-19, the second layer's products ~1e-41, denormal.
Model denormal_intermediates(const ModelSpec& spec) {
  auto m = Model::create(spec, 1);
  if (!m.ok()) std::abort();
  return rewritten(*m, [](const TensorLayout& t) {
    if (!is_weight(t)) return 0.0f;
    return t.name == "hidden0.weight" ? 1e-20f : 1e-22f;
  });
}

// Runs `f` on a new thread whose mode (and its pool's) starts without
// flushing, as a thread that never went through Baton's entry points would;
// returns what check_denormal_flush() saw before and after `f`.
std::pair<DenormalFlushCheck, DenormalFlushCheck> on_fresh_thread(const std::function<void()>& f) {
  std::pair<DenormalFlushCheck, DenormalFlushCheck> seen;
  std::thread([&] {
    set_denormal_flush(false);
    seen.first = check_denormal_flush();
    f();
    seen.second = check_denormal_flush();
  }).join();
  return seen;
}

class DenormalFlush : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { init_torch(GetParam()); }
  void TearDown() override { init_torch(1); }
};

TEST_P(DenormalFlush, TheCheckSeesEveryPoolThreadAndAClearedMode) {
  const auto [before, after] = on_fresh_thread([] {});
  EXPECT_EQ(before.pool_size, GetParam());
  EXPECT_EQ(before.threads, GetParam());  // the caller and each pool thread ran a chunk
  EXPECT_EQ(before.flushing, 0);          // so the check can fail
  EXPECT_EQ(after.flushing, 0);
}

TEST_P(DenormalFlush, PredictFlushesOnItsThreadAndPoolForDenormalModels) {
  const ModelSpec spec = ModelSpec::mlp(30, {64, 32});
  const Dataset data = positive_rows(600, 30);  // three batches
  std::vector<Model> models;
  models.push_back(denormal_weights(spec));
  models.push_back(denormal_intermediates(spec));
  for (const auto& model : models) {
    const auto [before, after] = on_fresh_thread([&] {
      std::size_t batches = 0;
      PredictOptions options;
      options.batches_run = &batches;
      auto p = model.predict(data, options);
      ASSERT_TRUE(p.ok()) << p.error().message;
      EXPECT_EQ(batches, 3u);  // every row scored, in the usual batches
      for (double v : p->probabilities) EXPECT_TRUE(std::isfinite(v));
    });
    EXPECT_EQ(before.flushing, 0);
    EXPECT_EQ(after.threads, GetParam());
    EXPECT_EQ(after.flushing, after.threads);
  }
}

TEST_P(DenormalFlush, TrainingFlushesOnItsThreadAndPool) {
  Model model = denormal_intermediates(ModelSpec::mlp(30, {64, 32}));
  const Dataset data = positive_rows(64, 30);
  const auto [before, after] = on_fresh_thread([&] {
    TrainSettings s;
    s.epochs = 1;
    s.threads = GetParam();
    ASSERT_TRUE(train(model, data, s).ok());
  });
  EXPECT_EQ(before.flushing, 0);
  EXPECT_EQ(after.threads, GetParam());
  EXPECT_EQ(after.flushing, after.threads);
}

INSTANTIATE_TEST_SUITE_P(Threads, DenormalFlush, ::testing::Values(1, 2),
                         [](const auto& info) { return std::to_string(info.param) + "Threads"; });

TEST(PredictBudget, StopsAfterTheBatchThatExceedsIt) {
  const ModelSpec spec = ModelSpec::mlp(30, {64, 32});
  auto model = Model::create(spec, 1);
  ASSERT_TRUE(model.ok());
  std::size_t batches = 0;
  PredictOptions options;
  options.budget = std::chrono::nanoseconds(0);  // any batch takes longer
  options.batches_run = &batches;
  auto p = model->predict(positive_rows(600, 30), options);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, kPredictOverBudget);
  EXPECT_EQ(batches, 1u);  // not three: the work stops at the first check
  EXPECT_NE(p.error().message.find("256 of 600 rows"), std::string::npos) << p.error().message;
  // A generous budget changes nothing.
  options.budget = std::chrono::hours(1);
  auto q = model->predict(positive_rows(600, 30), options);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->probabilities, model->predict(positive_rows(600, 30))->probabilities);
}

}  // namespace
}  // namespace baton::learning
