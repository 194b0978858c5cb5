// `baton experiment` and `baton bench train` through the real binary: bad
// input gets one sentence and a meaningful exit code; real runs write the
// JSON, prediction CSVs and plots the issue asks for.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

namespace fs = std::filesystem;

std::string data_dir() { return (source_dir() / "data").string(); }

std::size_t count_lines(const fs::path& p) {
  std::ifstream in(p);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(ExperimentCli, NeedsExactlyOneDataSource) {
  expect_one_sentence_failure(run_baton({"experiment"}), 2, "--dataset");
  expect_one_sentence_failure(
      run_baton({"experiment", "--dataset", "iris", "--csv", "x.csv", "--label", "y"}), 2,
      "either --dataset");
  expect_one_sentence_failure(run_baton({"experiment", "--csv", "x.csv"}), 2, "--label");
}

TEST(ExperimentCli, UnknownDataSetNamesTheKnownOnesAndCreatesNothing) {
  TempDir dir;
  const auto out = dir / "predictions";
  auto r = run_baton({"experiment", "--dataset", "lung2", "--data-dir", data_dir(),
                      "--predictions-out", out.string()});
  expect_one_sentence_failure(r, 1, "breast_cancer");
  EXPECT_FALSE(fs::exists(out));
}

TEST(ExperimentCli, RefusesMissingGarbageAndUnlabelledCsvFiles) {
  TempDir dir;
  expect_one_sentence_failure(
      run_baton({"experiment", "--csv", (dir / "absent.csv").string(), "--label", "y"}), 1,
      "absent.csv");
  expect_one_sentence_failure(
      run_baton({"experiment", "--csv", dir.path().string(), "--label", "y"}), 1,
      dir.path().string());
  {
    std::ofstream garbage(dir / "garbage.csv", std::ios::binary);
    for (int i = 0; i < 600; ++i) garbage.put(static_cast<char>((i * 7919) % 256));
  }
  auto r = run_baton({"experiment", "--csv", (dir / "garbage.csv").string(), "--label", "y"});
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("baton: ", 0), 0u) << r.err;
  {
    std::ofstream csv(dir / "nolabel.csv");
    csv << "a,b\n1,2\n3,4\n";
  }
  expect_one_sentence_failure(
      run_baton({"experiment", "--csv", (dir / "nolabel.csv").string(), "--label", "outcome"}), 1,
      "outcome");
}

TEST(ExperimentCli, AdversariesRefuseUnknownKindsFractionsAndPolicies) {
  const std::vector<std::string> base = {"experiment", "--dataset", "breast_cancer", "--data-dir",
                                         data_dir()};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_baton(args);
  };
  expect_one_sentence_failure(with({"--adversaries", "saboteur"}), 2, "label_flip");
  expect_one_sentence_failure(with({"--adversaries", "all", "--fractions", "3/4"}), 2,
                              "at most half");
  expect_one_sentence_failure(with({"--adversaries", "all", "--fractions", "1/40"}), 2, "K/N");
  expect_one_sentence_failure(with({"--adversaries", "all", "--policies", "lenient"}), 2, "strict");
}

// The whole simulation through the binary: a free rider's copies of the head
// are refused by the ledger (duplicate_model) and earn it nothing.
TEST(ExperimentCli, AdversaryFreeRiderIsRefusedAsDuplicateModel) {
  auto r = run_baton({"experiment", "--dataset", "breast_cancer", "--data-dir", data_dir(),
                      "--adversaries", "free_rider", "--fractions", "1/4", "--policies", "strict",
                      "--cycles", "2", "--honest-balance", "1000", "--adversary-balance", "500",
                      "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["runs"].size(), 2u);  // the honest run, then 1 free rider of 4
  const auto& honest = j["runs"][0];
  EXPECT_EQ(honest["adversary"], "none");
  EXPECT_FALSE(honest["refusals"].contains("duplicate_model"));
  const auto& run = j["runs"][1];
  EXPECT_EQ(run["adversary"], "free_rider");
  EXPECT_EQ(run["refusals"]["duplicate_model"], 2);
  const auto& rider = run["accounts"][1];
  EXPECT_EQ(rider["behaviour"], "free_rider");
  EXPECT_EQ(rider["approved"], 0);
  EXPECT_EQ(rider["expired"], 2);
  EXPECT_EQ(rider["tokens_ppm"], 0);
  // The genesis allocations, read back from the ledger's accounts (nothing
  // costs credits in a run yet).
  EXPECT_EQ(rider["balance"], 500);
  EXPECT_EQ(run["accounts"][0]["balance"], 1000);
}

TEST(ExperimentCli, RefusesBadFlags) {
  TempDir dir;
  expect_one_sentence_failure(
      run_baton({"experiment", "--dataset", "iris", "--scenarios", "random"}), 2, "paper");
  expect_one_sentence_failure(
      run_baton({"experiment", "--dataset", "iris", "--data-dir", (dir / "nope").string()}), 2,
      "not a directory");
  {
    std::ofstream file(dir / "plots");
    file << "I am a file";
  }
  const auto predictions = dir / "predictions";
  auto r = run_baton({"experiment", "--dataset", "iris", "--data-dir", data_dir(), "--plots-out",
                      (dir / "plots").string(), "--predictions-out", predictions.string(),
                      "--epochs", "1"});
  expect_one_sentence_failure(r, 2, "is a file");
  expect_one_sentence_failure(
      run_baton({"experiment", "--dataset", "iris", "--data-dir", data_dir(), "--hidden", "8,x"}),
      2, "--hidden");
  expect_one_sentence_failure(run_baton({"experiment", "--dataset", "iris", "--cycles", "0"}), 2,
                              "cycles");
}

TEST(ExperimentCli, IrisRunWritesJsonPredictionsAndPlots) {
  TempDir dir;
  const auto predictions = dir / "pred";
  const auto plots = dir / "plots";
  auto r = run_baton({"experiment", "--dataset", "iris", "--data-dir", data_dir(), "--seed", "3",
                      "--epochs", "5", "--json", "--predictions-out", predictions.string(),
                      "--plots-out", plots.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["dataset"], "iris");
  ASSERT_EQ(j["rows"].size(), 7u);
  EXPECT_EQ(j["rows"][0]["name"], "centralized");
  EXPECT_EQ(j["rows"][6]["name"], "scenario6");
  EXPECT_EQ(j["rows"][6]["partners"].size(), 4u);
  for (const auto& row : j["rows"]) {
    EXPECT_EQ(row["auc_per_class"].size(), 3u);
    EXPECT_EQ(count_lines(predictions / (row["name"].get<std::string>() + ".csv")),
              1u + j["test_rows"].get<std::size_t>());
  }
  for (const char* name : {"roc_setosa.svg", "calibration_virginica.svg"}) {
    EXPECT_TRUE(fs::exists(plots / name)) << name;
  }
}

// Issue 15: --mode federated adds FedAvg rows on the same partitions, with
// rounds to the centralized AUC and the bytes each hospital sends.
TEST(ExperimentCli, FederatedModeAddsFedAvgRowsNextToTheChainedOnes) {
  expect_one_sentence_failure(
      run_baton({"experiment", "--dataset", "iris", "--data-dir", data_dir(), "--mode", "relay"}),
      2, "chained, federated or both");
  expect_one_sentence_failure(run_baton({"experiment", "--dataset", "breast_cancer", "--data-dir",
                                         data_dir(), "--mode", "federated", "--privacy-sweep"}),
                              2, "scenario table only");
  auto r = run_baton({"experiment", "--dataset", "iris", "--data-dir", data_dir(), "--mode", "both",
                      "--rounds", "2", "--epochs", "4", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["modes"], "both");
  ASSERT_EQ(j["rows"].size(), 13u);
  EXPECT_EQ(j["rows"][6]["name"], "scenario6");
  EXPECT_EQ(j["rows"][12]["name"], "federated6");
  EXPECT_EQ(j["rows"][12]["partners"], j["rows"][6]["partners"]);
  EXPECT_EQ(j["rows"][12]["auc_per_round"].size(), 2u);
  EXPECT_EQ(j["rows"][12]["local_epochs"], 2);
  EXPECT_EQ(j["rows"][12]["p_per_class_vs_centralized"].size(), 3u);
  EXPECT_GT(j["rows"][12]["traffic"]["sent_total"].get<std::uint64_t>(), 0u);
}

TEST(ExperimentCli, CsvWithTheBuiltInSchemaGivesTheBuiltInResults) {
  const auto csv = (source_dir() / "data" / "breast_cancer.csv").string();
  auto a = run_baton({"experiment", "--csv", csv, "--label", "malignant", "--positive", "1",
                      "--epochs", "2", "--hidden", "8", "--json"});
  auto b = run_baton({"experiment", "--dataset", "breast_cancer", "--data-dir", data_dir(),
                      "--epochs", "2", "--hidden", "8", "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  ASSERT_EQ(ja["rows"].size(), 7u);
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(ja["rows"][i]["model_hash"], jb["rows"][i]["model_hash"]);
    EXPECT_EQ(ja["rows"][i]["auc"], jb["rows"][i]["auc"]);
    EXPECT_EQ(ja["rows"][i]["ci"].size(), 2u);
  }
  EXPECT_TRUE(ja["rows"][0]["p_vs_centralized"].is_null());
  EXPECT_TRUE(ja["rows"][1]["p_vs_centralized"].is_number());
}

TEST(BenchTrainCli, PrintsFiguresAndExportsTheSplit) {
  TempDir dir;
  auto r = run_baton({"bench", "train", "--data-dir", data_dir(), "--epochs", "2", "--json",
                      "--export-split", (dir / "split").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["wall_seconds"].get<double>(), 0.0);
  EXPECT_GT(j["samples_per_second"].get<double>(), 0.0);
  EXPECT_EQ(j["steps"], 2 * 15);  // 455 rows in batches of 32
  EXPECT_EQ(j["model"]["hidden"], nlohmann::json::array({64, 32}));
  EXPECT_EQ(count_lines(dir / "split" / "train.csv"), 1u + 455u);
  EXPECT_EQ(count_lines(dir / "split" / "test.csv"), 1u + 114u);
}

TEST(BenchTrainCli, RefusesImagesAndBadWidths) {
  expect_one_sentence_failure(
      run_baton({"bench", "train", "--dataset", "breastmnist", "--data-dir", data_dir()}), 2,
      "tabular");
  expect_one_sentence_failure(run_baton({"bench", "train", "--hidden", "64,,32"}), 2, "--hidden");
}

}  // namespace
}  // namespace baton::testing
