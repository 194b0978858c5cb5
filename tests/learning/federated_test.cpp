// FedAvg rounds in secure aggregation's fixed point (learning/federated.h)
// and the federated rows of `baton experiment` (issue 15): one partner's round
// is its trained model, weights pull the mean by their rows, runs are
// deterministic, and the report carries the rows, rounds and traffic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "learning/experiment.h"
#include "learning/experiment_report.h"
#include "learning/federated.h"
#include "learning/metrics.h"
#include "secagg/secagg.h"

namespace baton::learning {
namespace {

Dataset blobs(std::size_t rows, double separation, std::uint64_t seed) {
  Dataset d;
  d.rows = rows;
  d.features = 3;
  d.num_classes = 2;
  d.feature_names = {"a", "b", "c"};
  d.class_names = {"class0", "class1"};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t i = 0; i < rows; ++i) {
    const int c = static_cast<int>(i % 2);
    d.y.push_back(c);
    for (std::size_t f = 0; f < d.features; ++f)
      d.x.push_back(
          static_cast<float>(normal(rng) + (f == static_cast<std::size_t>(c) ? separation : 0.0)));
  }
  return d;
}

std::vector<std::size_t> range(std::size_t from, std::size_t to) {
  std::vector<std::size_t> v(to - from);
  std::iota(v.begin(), v.end(), from);
  return v;
}

std::vector<float> floats_of(const Model& m) {
  auto f = secagg::blob_floats(serialize(m));
  EXPECT_TRUE(f.ok()) << f.error().message;
  return f.ok() ? *f : std::vector<float>{};
}

TrainSettings local_settings() {
  TrainSettings s;
  s.epochs = 3;
  s.batch_size = 16;
  s.learning_rate = 1e-2;
  return s;
}

Model head_model() {
  auto m = Model::create(ModelSpec::mlp(3, {8}, 2), 5);
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

// A partner's trained model: the head's copy trained with its seed.
std::vector<float> trained_floats(const Model& head, const Dataset& data, std::uint64_t seed) {
  Model copy = head.clone();
  auto settings = local_settings();
  settings.seed = seed;
  EXPECT_TRUE(train(copy, data, settings).ok());
  return floats_of(copy);
}

// The bound of one aggregated value against the exact value `expected` =
// head + mean update `delta`, both as doubles. Encoding rounds δ·w·2^24 to an
// integer (≤ 1/2 unit, ≤ 2^-25 after dividing by w·2^24 with w ≥ 1, and the
// sum of several encodings ≤ n/2 units over Σw ≥ n, the same 2^-25);
// apply_aggregate converts the quotient to float (relative error ≤ 2^-24, so
// ≤ 2^-24·(|δ| + 2^-25)) and adds it to the head in float (≤ 2^-24·|result|).
// Together ≤ 2^-24·(1 + |δ| + |expected|), the slack absorbing the 2^-49
// cross terms. An aggregate off by one unit of the last place of the result
// passes; a wrong weight or a lost update does not (the unweighted mean
// below misses it on most values).
double bound(double delta, double expected) {
  return std::ldexp(1.0 + std::fabs(delta) + std::fabs(expected), -24);
}

TEST(Federated, OneRoundOfOnePartnerIsThatPartnersTrainedModelUpToFixedPoint) {
  const Dataset data = blobs(160, 1.5, 1);
  const Model head = head_model();
  const auto h = floats_of(head);
  const auto t = trained_floats(head, data, 77);
  const FedAvgPartner partner{&data, 77};
  auto round = fedavg_round(head, std::span(&partner, 1), local_settings());
  ASSERT_TRUE(round.ok()) << round.error().message;
  const auto g = floats_of(round->global);
  ASSERT_EQ(g.size(), h.size());
  ASSERT_EQ(g.size(), head.parameter_count());
  double largest_update = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double delta = double{t[i]} - double{h[i]};
    largest_update = std::max(largest_update, std::fabs(delta));
    EXPECT_LE(std::fabs(double{g[i]} - double{t[i]}), bound(delta, t[i])) << "value " << i;
  }
  EXPECT_GT(largest_update, 1e-2);  // the partner did move the model
  EXPECT_EQ(round->clipped, 0u);
  EXPECT_EQ(round->non_finite, 0u);
  // The aggregate is a model of the head's spec, not the head itself.
  EXPECT_NE(model_hash(round->global), model_hash(head));
}

TEST(Federated, APartnerWithThreeTimesTheRowsPullsTheMeanThreeTimesAsHard) {
  const Dataset all = blobs(160, 1.5, 2);
  const Dataset small = all.subset(range(0, 40));
  const Dataset large = all.subset(range(40, 160));  // 3 × the rows
  const Model head = head_model();
  const auto h = floats_of(head);
  const auto ts = trained_floats(head, small, 11);
  const auto tl = trained_floats(head, large, 12);
  const std::vector<FedAvgPartner> partners = {{&small, 11}, {&large, 12}};
  auto round = fedavg_round(head, partners, local_settings());
  ASSERT_TRUE(round.ok()) << round.error().message;
  const auto g = floats_of(round->global);
  ASSERT_EQ(g.size(), h.size());
  std::size_t unweighted_would_fail = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double ds = double{ts[i]} - h[i], dl = double{tl[i]} - h[i];
    const double delta = (1 * ds + 3 * dl) / 4;  // 40 : 120
    const double expected = h[i] + delta;
    EXPECT_LE(std::fabs(g[i] - expected), bound(delta, expected)) << "value " << i;
    const double unweighted = h[i] + (ds + dl) / 2;
    if (std::fabs(g[i] - unweighted) > bound((ds + dl) / 2, unweighted)) ++unweighted_would_fail;
  }
  // The check above can tell the weights apart: the plain mean of the two
  // updates misses the aggregate on most values.
  EXPECT_GT(unweighted_would_fail, g.size() / 2);
}

TEST(Federated, RoundRefusesPartnersWithoutRows) {
  const Dataset empty = blobs(0, 1.5, 3);
  const Model head = head_model();
  const FedAvgPartner partner{&empty, 1};
  auto round = fedavg_round(head, std::span(&partner, 1), local_settings());
  ASSERT_FALSE(round.ok());
  EXPECT_NE(round.error().message.find("partner 1 holds 0 training rows"), std::string::npos);
  EXPECT_FALSE(fedavg_round(head, {}, local_settings()).ok());
}

PreparedData prepared() {
  PreparedData p;
  p.name = "synthetic2";
  p.train = blobs(160, 1.5, 1);
  p.test = blobs(60, 1.5, 2);
  return p;
}

ExperimentPlan federated_plan() {
  ExperimentPlan plan;
  plan.hidden = {8};
  plan.train.epochs = 4;
  plan.train.batch_size = 16;
  plan.train.learning_rate = 1e-2;
  plan.seed = 3;
  plan.modes = ExperimentModes::federated;
  plan.rounds = 2;  // 2 local epochs per round
  return plan;
}

TEST(Federated, ExperimentRowsAreDeterministicWhateverTheWorkers) {
  const auto data = prepared();
  auto plan = federated_plan();
  auto a = run_experiment(data, plan);
  ASSERT_TRUE(a.ok()) << a.error().message;
  plan.workers = 2;
  auto b = run_experiment(data, plan);
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_EQ(a->rows.size(), 7u);
  for (std::size_t i = 0; i < a->rows.size(); ++i) {
    EXPECT_EQ(a->rows[i].model_hash, b->rows[i].model_hash) << a->rows[i].name;
    EXPECT_EQ(a->rows[i].auc_per_round, b->rows[i].auc_per_round) << a->rows[i].name;
  }
  EXPECT_NE(a->rows[1].model_hash, a->rows[2].model_hash);
  plan.seed = 4;
  auto c = run_experiment(data, plan);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->rows[1].model_hash, a->rows[1].model_hash);
  // The chained rows of a "both" run are those of a chained run, and the
  // federated rows those of a federated run: the seeds depend on the row only.
  plan = federated_plan();
  plan.modes = ExperimentModes::both;
  auto both = run_experiment(data, plan);
  ASSERT_TRUE(both.ok());
  plan.modes = ExperimentModes::chained;
  auto chained = run_experiment(data, plan);
  ASSERT_TRUE(chained.ok());
  ASSERT_EQ(both->rows.size(), 13u);
  for (std::size_t k = 1; k <= 6; ++k) {
    EXPECT_EQ(both->rows[k].model_hash, chained->rows[k].model_hash);
    EXPECT_EQ(both->rows[6 + k].model_hash, a->rows[k].model_hash);
    EXPECT_NE(both->rows[6 + k].model_hash, both->rows[k].model_hash);
  }
}

TEST(Federated, ReportHasTheFederatedRowsRoundsAndTraffic) {
  const auto data = prepared();
  auto plan = federated_plan();
  plan.modes = ExperimentModes::both;
  auto report = run_experiment(data, plan);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->rows.size(), 13u);
  const auto spec = ModelSpec::mlp(3, {8}, 2);
  auto initial = Model::create(spec, 3);
  ASSERT_TRUE(initial.ok());
  EXPECT_EQ(report->model_floats, initial->parameter_count());  // an MLP has no buffers
  EXPECT_EQ(report->model_blob_bytes, serialize(*initial).size());
  const std::uint64_t f = report->model_floats;
  const std::uint64_t sealed = 56 + report->model_blob_bytes + 16;
  const std::vector<std::size_t> partners = {2, 3, 4, 2, 3, 4};
  for (std::size_t k = 1; k <= 6; ++k) {
    const auto& chained = report->rows[k];
    const auto& fed = report->rows[6 + k];
    EXPECT_EQ(chained.name, "scenario" + std::to_string(k));
    EXPECT_EQ(chained.mode, "chained");
    EXPECT_EQ(fed.name, "federated" + std::to_string(k));
    EXPECT_EQ(fed.mode, "federated");
    EXPECT_EQ(fed.partner_sizes, chained.partner_sizes);  // the same partition
    ASSERT_TRUE(fed.ci && fed.p_vs_centralized);
    EXPECT_LE(fed.ci->first, fed.auc);
    EXPECT_GE(fed.ci->second, fed.auc);
    EXPECT_GT(fed.auc, 0.7) << fed.name;
    EXPECT_EQ(fed.rounds, 2);
    EXPECT_EQ(fed.local_epochs, 2);
    ASSERT_EQ(fed.auc_per_round.size(), 2u);
    EXPECT_DOUBLE_EQ(fed.auc_per_round.back(), fed.auc);
    const double central = report->rows[0].auc;
    if (fed.rounds_to_centralized) {
      const int r = *fed.rounds_to_centralized;
      EXPECT_GE(fed.auc_per_round[static_cast<std::size_t>(r - 1)], central);
      for (int e = 0; e + 1 < r; ++e)
        EXPECT_LT(fed.auc_per_round[static_cast<std::size_t>(e)], central);
    } else {
      for (double v : fed.auc_per_round) EXPECT_LT(v, central);
    }
    const std::uint64_t n = partners[k - 1];
    ASSERT_TRUE(fed.traffic && chained.traffic);
    EXPECT_EQ(fed.traffic->sent_per_round, (20 + 8 * f) + (64 + 112 * n + 64 * n) + 32 * n);
    EXPECT_EQ(fed.traffic->sent_total, 2 * fed.traffic->sent_per_round);
    EXPECT_EQ(fed.traffic->received_total, 2 * sealed);
    EXPECT_EQ(chained.traffic->sent_total, sealed);  // one cycle: one turn each
    EXPECT_EQ(chained.traffic->received_total, (n - 1) * sealed);
  }
  EXPECT_FALSE(report->rows[0].traffic.has_value());

  const auto j = experiment_json(*report);
  EXPECT_EQ(j["modes"], "both");
  EXPECT_EQ(j["rounds"], 2);
  EXPECT_EQ(j["training"]["local_epochs_per_round"], 2);
  EXPECT_EQ(j["rows"][7]["name"], "federated1");
  EXPECT_EQ(j["rows"][7]["mode"], "federated");
  EXPECT_EQ(j["rows"][7]["auc_per_round"].size(), 2u);
  EXPECT_TRUE(j["rows"][7].contains("rounds_to_centralized"));
  EXPECT_TRUE(j["rows"][7]["p_vs_centralized"].is_number());
  EXPECT_EQ(j["rows"][7]["traffic"]["sent_per_round"], report->rows[7].traffic->sent_per_round);
  EXPECT_EQ(j["rows"][1]["mode"], "chained");
  EXPECT_TRUE(j["rows"][1].contains("traffic"));
  EXPECT_FALSE(j["rows"][1].contains("auc_per_round"));
  const auto table = experiment_table(*report);
  EXPECT_NE(table.find("federated6"), std::string::npos);
  EXPECT_NE(table.find("to centralized"), std::string::npos);
  EXPECT_NE(table.find("2 x 2"), std::string::npos);
}

TEST(Federated, ExperimentRefusesFederatedRowsItCannotRun) {
  const auto data = prepared();
  auto plan = federated_plan();
  plan.rounds = 0;
  EXPECT_FALSE(run_experiment(data, plan).ok());
  plan = federated_plan();
  plan.privacy.kind = ExperimentPrivacyKind::dp_sgd;
  plan.privacy.target_epsilon = 2.0;
  auto dp = run_experiment(data, plan);
  ASSERT_FALSE(dp.ok());
  EXPECT_NE(dp.error().message.find("not supported yet"), std::string::npos);
  EXPECT_FALSE(parse_modes("relay").ok());
  EXPECT_EQ(*parse_modes("both"), ExperimentModes::both);
}

TEST(Federated, TrafficFormulas) {
  EXPECT_EQ(sealed_size(0), 56u + 16u);
  EXPECT_EQ(sealed_size(1u << 20), 56u + (1u << 20) + 16u);
  EXPECT_EQ(sealed_size((1u << 20) + 1), 56u + (1u << 20) + 1 + 32u);
  const auto fed = federated_traffic(4, 1000, 4100, 10);
  EXPECT_EQ(fed.sent_per_round, 8020u + 64u + 4 * 176u + 4 * 32u);
  EXPECT_EQ(fed.received_per_round, 56u + 4100u + 16u);
  EXPECT_EQ(fed.sent_total, 10 * fed.sent_per_round);
  const auto ch = chained_traffic(4, 4100, 2);
  EXPECT_EQ(ch.sent_total, 2 * (56u + 4100u + 16u));
  EXPECT_EQ(ch.received_total, 3 * 2 * (56u + 4100u + 16u));
}

}  // namespace
}  // namespace baton::learning
