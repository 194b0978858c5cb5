// What the training-run integration tests share: breast_cancer split among
// the four hospitals, and the demo's plan for a run of some of them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace baton::integration {

inline const std::vector<std::string> kHospitals{"hospital-a", "hospital-b", "hospital-c",
                                                 "hospital-d"};

// `baton data split` of breast_cancer among the four hospitals, into DIR/split.
inline std::filesystem::path split_breast_cancer(const std::filesystem::path& dir) {
  const std::filesystem::path out = dir / "split";
  auto r = testing::run_baton(
      {"data", "split", "--csv", (testing::source_dir() / "data" / "breast_cancer.csv").string(),
       "--label", "malignant", "--positive", "1", "--partners",
       "hospital-a,hospital-b,hospital-c,hospital-d", "--seed", "1", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return out;
}

// The demo's model, data and vote policy for a run of `partners` over
// `cycles`, `epochs` a turn; the caller adds what the run is about.
inline nlohmann::json base_plan(const std::filesystem::path& split_dir, const std::string& run_id,
                                const std::vector<std::string>& partners, int cycles, int epochs,
                                int save_blocks) {
  const nlohmann::json split = nlohmann::json::parse(testing::read_text(split_dir / "split.json"));
  const nlohmann::json features = split["feature_columns"];
  return nlohmann::json{
      {"run_id", run_id},
      {"model",
       {{"architecture", "mlp"},
        {"hidden", {64, 32}},
        {"input_shape", {features.size()}},
        {"num_classes", 2}}},
      {"dataset",
       {{"feature_columns", features}, {"label_column", "malignant"}, {"positive_value", "1"}}},
      {"partners", partners},
      {"cycles", cycles},
      {"training",
       {{"epochs", epochs},
        {"batch_size", 32},
        {"optimizer", "adam"},
        {"learning_rate", 0.001},
        {"weight_decay", 0},
        {"seed", 1}}},
      {"vote_policy", {{"kind", "delong"}, {"alpha", 0.05}}},
      {"quorum", {{"num", 1}, {"den", 2}}},
      {"deadlines", {{"load_blocks", 40}, {"save_blocks", save_blocks}, {"vote_blocks", 12}}}};
}

}  // namespace baton::integration
