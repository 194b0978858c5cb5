// The scenario runner on small synthetic data: the seven rows, their sizes
// and statistics, determinism (also across parallel workers), and the text
// renderings the CLI prints and writes.
#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <sstream>

#include "learning/experiment.h"
#include "learning/experiment_report.h"
#include "learning/metrics.h"

namespace baton::learning {
namespace {

Dataset blobs(std::size_t rows, int classes, double separation, std::uint64_t seed) {
  Dataset d;
  d.rows = rows;
  d.features = 3;
  d.num_classes = classes;
  d.feature_names = {"a", "b", "c"};
  for (int c = 0; c < classes; ++c) d.class_names.push_back("class" + std::to_string(c));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t i = 0; i < rows; ++i) {
    const int c = static_cast<int>(i % static_cast<std::size_t>(classes));
    d.y.push_back(c);
    for (std::size_t f = 0; f < d.features; ++f) {
      d.x.push_back(static_cast<float>(normal(rng) +
                                       (f == static_cast<std::size_t>(c % 3) ? separation : 0.0)));
    }
  }
  return d;
}

PreparedData prepared(int classes) {
  PreparedData p;
  p.name = classes == 2 ? "synthetic2" : "synthetic3";
  p.train = blobs(160, classes, 1.5, 1);
  p.test = blobs(60, classes, 1.5, 2);
  return p;
}

ExperimentPlan small_plan() {
  ExperimentPlan plan;
  plan.hidden = {8};
  plan.train.epochs = 4;
  plan.train.batch_size = 16;
  plan.train.learning_rate = 1e-2;
  plan.seed = 3;
  return plan;
}

// The privacy sweep's plumbing (issue 14): a scenario filter that keeps each
// row's seeds, DP-SGD noise chosen per trainer for the target ε, local DP
// applied to each trainer's copy.
TEST(Experiment, PrivacyRunsKeepTheSeedsAndSpendTheTargetEpsilonPerTrainer) {
  const auto data = prepared(2);
  auto full = run_experiment(data, small_plan());
  ASSERT_TRUE(full.ok()) << full.error().message;
  auto plan = small_plan();
  plan.scenarios = {"scenario3"};
  auto filtered = run_experiment(data, plan);
  ASSERT_TRUE(filtered.ok()) << filtered.error().message;
  ASSERT_EQ(filtered->rows.size(), 2u);
  EXPECT_EQ(filtered->rows[1].name, "scenario3");
  EXPECT_EQ(filtered->rows[0].model_hash, full->rows[0].model_hash);
  EXPECT_EQ(filtered->rows[1].model_hash, full->rows[3].model_hash);
  EXPECT_TRUE(filtered->rows[1].privacy.empty());

  plan.privacy.kind = ExperimentPrivacyKind::dp_sgd;
  plan.privacy.target_epsilon = 2.0;
  auto dp = run_experiment(data, plan);
  ASSERT_TRUE(dp.ok()) << dp.error().message;
  ASSERT_EQ(dp->rows[0].privacy.size(), 1u);
  ASSERT_EQ(dp->rows[1].privacy.size(), 4u);
  for (const auto& row : dp->rows) {
    for (const auto& t : row.privacy) {
      EXPECT_LE(t.epsilon, 2.0);
      EXPECT_GT(t.epsilon, 1.99);  // the smallest σ: the target is reached, not undershot
      EXPECT_EQ(t.delta_pico, 1'000'000'000'000ull / t.rows);
      // q = ⌈16 × 10^9 / rows⌉ nano; 4 epochs of ⌈1/q⌉ steps.
      EXPECT_EQ(t.sampling_rate_nano, (16'000'000'000ull + t.rows - 1) / t.rows);
      EXPECT_EQ(t.steps,
                4 * ((1'000'000'000ull + t.sampling_rate_nano - 1) / t.sampling_rate_nano));
    }
  }
  // A partner holds a quarter of the rows: more noise for the same ε.
  EXPECT_GT(dp->rows[1].privacy[0].noise_multiplier, dp->rows[0].privacy[0].noise_multiplier);
  EXPECT_NE(dp->rows[0].model_hash, full->rows[0].model_hash);

  plan.privacy.kind = ExperimentPrivacyKind::local;
  plan.privacy.beta = 1.0;
  auto local = run_experiment(data, plan);
  ASSERT_TRUE(local.ok()) << local.error().message;
  EXPECT_TRUE(local->rows[0].privacy.empty());
  EXPECT_NE(local->rows[0].model_hash, full->rows[0].model_hash);
  EXPECT_NE(local->rows[1].model_hash, full->rows[3].model_hash);
}

TEST(Experiment, TrainsCentralizedAndTheSixPaperScenarios) {
  const auto data = prepared(2);
  std::vector<std::string> progressed;
  auto report = run_experiment(data, small_plan(),
                               [&](const ExperimentRow& r) { progressed.push_back(r.name); });
  ASSERT_TRUE(report.ok()) << report.error().message;
  const std::vector<std::string> names = {"centralized", "scenario1", "scenario2", "scenario3",
                                          "scenario4",   "scenario5", "scenario6"};
  const std::vector<std::size_t> partners = {1, 2, 3, 4, 2, 3, 4};
  ASSERT_EQ(report->rows.size(), 7u);
  EXPECT_EQ(progressed, names);
  for (std::size_t i = 0; i < 7; ++i) {
    const auto& row = report->rows[i];
    EXPECT_EQ(row.name, names[i]);
    EXPECT_EQ(row.partner_sizes.size(), partners[i]);
    EXPECT_EQ(std::accumulate(row.partner_sizes.begin(), row.partner_sizes.end(), std::size_t{0}),
              160u);
    ASSERT_TRUE(row.ci.has_value());
    EXPECT_LE(row.ci->first, row.auc);
    EXPECT_GE(row.ci->second, row.auc);
    EXPECT_GT(row.auc, 0.7) << row.name;  // classes 1.5 SD apart: learnable in 4 epochs
    EXPECT_EQ(row.p_vs_centralized.has_value(), i > 0);
    if (i > 0) {
      EXPECT_TRUE(*row.p_vs_centralized >= 0.0 && *row.p_vs_centralized <= 1.0);
    }
    // The reported AUC is the AUC of the predictions the row carries.
    auto auc = roc_auc(report->test_labels, row.predictions.scores());
    ASSERT_TRUE(auc.ok());
    EXPECT_DOUBLE_EQ(*auc, row.auc);
  }
  // Scenario 4 is unequal (112/451 of the paper's 563).
  EXPECT_LT(report->rows[4].partner_sizes[0], report->rows[4].partner_sizes[1]);
}

TEST(Experiment, IsDeterministicAndParallelWorkersChangeNothing) {
  const auto data = prepared(2);
  auto plan = small_plan();
  auto a = run_experiment(data, plan);
  plan.workers = 2;
  auto b = run_experiment(data, plan);
  ASSERT_TRUE(a.ok() && b.ok());
  for (std::size_t i = 0; i < a->rows.size(); ++i) {
    EXPECT_EQ(a->rows[i].model_hash, b->rows[i].model_hash) << a->rows[i].name;
    EXPECT_EQ(a->rows[i].predictions.probabilities, b->rows[i].predictions.probabilities);
  }
  // Different chains end in different models.
  EXPECT_NE(a->rows[1].model_hash, a->rows[2].model_hash);
  plan.seed = 4;
  auto c = run_experiment(data, plan);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->rows[0].model_hash, a->rows[0].model_hash);
}

TEST(Experiment, MultiClassReportsOneVsRestAucPerClass) {
  auto report = run_experiment(prepared(3), small_plan());
  ASSERT_TRUE(report.ok()) << report.error().message;
  for (const auto& row : report->rows) {
    ASSERT_EQ(row.auc_per_class.size(), 3u);
    ASSERT_EQ(row.ci_per_class.size(), 3u);
    EXPECT_NEAR(row.auc, (row.auc_per_class[0] + row.auc_per_class[1] + row.auc_per_class[2]) / 3,
                1e-12);
    EXPECT_FALSE(row.ci.has_value());
    EXPECT_EQ(row.p_per_class_vs_centralized.size(), row.name == "centralized" ? 0u : 3u);
  }
  const auto j = experiment_json(*report);
  EXPECT_EQ(j["rows"][0]["auc_per_class"].size(), 3u);
  EXPECT_TRUE(j["rows"][0]["ci"].is_null());
  EXPECT_TRUE(j["rows"][0]["p_vs_centralized"].is_null());
  EXPECT_EQ(j["rows"][3]["p_per_class_vs_centralized"].size(), 3u);
  const auto csv = predictions_csv(*report, report->rows[0]);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "label,score_class0,score_class1,score_class2");
  auto plots = experiment_plots(*report);
  ASSERT_TRUE(plots.ok()) << plots.error().message;
  EXPECT_EQ(plots->size(), 6u);  // ROC + calibration per class
}

TEST(Experiment, JsonAndCsvCarryWhatTheIssueAsksFor) {
  auto report = run_experiment(prepared(2), small_plan());
  ASSERT_TRUE(report.ok());
  const auto j = experiment_json(*report);
  EXPECT_EQ(j["dataset"], "synthetic2");
  ASSERT_EQ(j["rows"].size(), 7u);
  EXPECT_EQ(j["rows"][0]["name"], "centralized");
  EXPECT_EQ(j["rows"][0]["partners"], nlohmann::json::array({160}));
  EXPECT_TRUE(j["rows"][0]["p_vs_centralized"].is_null());
  EXPECT_TRUE(j["rows"][1]["p_vs_centralized"].is_number());
  EXPECT_EQ(j["rows"][1]["ci"].size(), 2u);
  EXPECT_EQ(j["rows"][6]["partners"].size(), 4u);

  const auto csv = predictions_csv(*report, report->rows[2]);
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "label,score");
  std::vector<int> labels;
  std::vector<double> scores;
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    labels.push_back(std::stoi(line.substr(0, comma)));
    scores.push_back(std::stod(line.substr(comma + 1)));
  }
  ASSERT_EQ(labels.size(), 60u);
  // Recomputing from the CSV gives exactly the reported AUC.
  auto auc = roc_auc(labels, scores);
  ASSERT_TRUE(auc.ok());
  EXPECT_DOUBLE_EQ(*auc, report->rows[2].auc);

  const auto table = experiment_table(*report);
  EXPECT_NE(table.find("DeLong p vs centralized"), std::string::npos);
  EXPECT_NE(table.find("scenario6"), std::string::npos);
  auto plots = experiment_plots(*report);
  ASSERT_TRUE(plots.ok());
  ASSERT_EQ(plots->size(), 2u);
  EXPECT_EQ((*plots)[0].first, "roc.svg");
  EXPECT_NE((*plots)[0].second.find("<svg"), std::string::npos);
}

TEST(Experiment, EpochBudgetIsSpreadOverCycles) {
  EXPECT_EQ(epochs_per_visit(30, 1), 30);
  EXPECT_EQ(epochs_per_visit(30, 3), 10);
  EXPECT_EQ(epochs_per_visit(10, 4), 3);  // 2.5 rounds to 3
  EXPECT_EQ(epochs_per_visit(2, 5), 1);   // at least one epoch per visit
}

TEST(Experiment, RefusesUnusableInput) {
  auto data = prepared(2);
  auto plan = small_plan();
  plan.cycles = 0;
  EXPECT_FALSE(run_experiment(data, plan).ok());
  data.test = data.test.subset(std::vector<std::size_t>{0, 1, 2});  // one row of class 1
  auto r = run_experiment(data, small_plan());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("fewer than two rows"), std::string::npos);
  auto empty = prepared(2);
  empty.train = empty.train.subset(std::vector<std::size_t>{});
  EXPECT_FALSE(run_experiment(empty, small_plan()).ok());
}

}  // namespace
}  // namespace baton::learning
