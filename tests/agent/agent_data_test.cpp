// load_local_data for image plans: volume manifests instead of tabular CSVs;
// and the plan's local DP, added once to the training copy.
#include "agent/agent_data.h"

#include <gtest/gtest.h>

#include <fstream>

#include "agent/turn_privacy.h"
#include "learning/local_dp.h"
#include "learning/model_spec.h"
#include "learning/volumes.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;

const std::vector<int> kShape{1, 2, 4, 4};

struct ImageSite {
  testing::TempDir dir;
  api::TrainingConfig config;
  chain::TrainingPlan plan;

  ImageSite() {
    fs::create_directories(dir / "volumes");
    for (int i = 0; i < 4; ++i) {
      std::vector<float> v(32, static_cast<float>(i));
      EXPECT_TRUE(
          learning::write_npy(dir / "volumes" / ("v" + std::to_string(i) + ".npy"), kShape, v)
              .ok());
    }
    write(dir / "train.csv",
          "volume,label,site\nvolumes/v0.npy,1,a\nvolumes/v1.npy,0,a\nvolumes/v2.npy,1,a\n");
    write(dir / "validation.csv", "volume,label\nvolumes/v3.npy,0\nvolumes/v0.npy,1\n");
    config.train_csv = dir / "train.csv";
    config.validation_csv = dir / "validation.csv";
    plan.run_id = "run-1";
    plan.model_spec = learning::to_json(learning::ModelSpec::resnet3d(kShape, 4));
    plan.feature_columns = {"volume"};
    plan.label_column = "label";
    plan.positive_value = "1";
  }
  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
};

// What the agent does: the plan's model spec, parsed once, and the files.
Result<LocalData> load(const TrainingConfig& config, const chain::TrainingPlan& plan,
                       std::uint64_t local_dp_seed = 7) {
  auto spec = learning::spec_from_json(plan.model_spec);
  if (!spec) return spec.error();
  return load_local_data(config, plan, *spec, local_dp_seed);
}

TEST(AgentData, AnImagePlanReadsVolumeManifests) {
  ImageSite site;
  auto data = load(site.config, site.plan);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->train.rows, 3u);
  EXPECT_EQ(data->train.features, 32u);
  EXPECT_EQ(data->train.image_shape, kShape);
  EXPECT_EQ(data->train.y, (std::vector<int>{1, 0, 1}));
  EXPECT_EQ(data->validation.rows, 2u);
  EXPECT_EQ(data->validation.y, (std::vector<int>{0, 1}));
  EXPECT_FLOAT_EQ(data->validation.row(0)[31], 3.0f);
  EXPECT_TRUE(data->feature_schema.empty());
  EXPECT_FALSE(data->labels_flipped);

  site.config.malicious_label_flip = true;
  auto flipped = load(site.config, site.plan);
  ASSERT_TRUE(flipped.ok());
  EXPECT_EQ(flipped->train.y, (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(flipped->validation.y, (std::vector<int>{0, 1}));  // votes stay honest
  EXPECT_TRUE(flipped->labels_flipped);

  site.plan.model_spec = learning::to_json(learning::ModelSpec::cnn2d({1, 28, 28}));
  auto two_d = load(site.config, site.plan);
  ASSERT_FALSE(two_d.ok());  // the volumes are 1×2×4×4, not 1×28×28
  EXPECT_NE(two_d.error().message.find("but the model takes (1, 28, 28)"), std::string::npos)
      << two_d.error().message;
}

TEST(AgentData, AnImagePlanRefusesAFeatureSchema) {
  ImageSite site;
  site.config.feature_schema = site.dir / "schema.json";
  auto data = load(site.config, site.plan);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("feature_schema is set"), std::string::npos)
      << data.error().message;
}

TEST(AgentData, AnImagePlanNeedsExactlyOneFeatureColumn) {
  ImageSite site;
  site.plan.feature_columns = {"volume", "site"};
  auto data = load(site.config, site.plan);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("exactly one column"), std::string::npos)
      << data.error().message;
  EXPECT_NE(data.error().message.find("it names 2"), std::string::npos);
}

TEST(AgentData, AnImagePlanNeedsBothClassesInTraining) {
  ImageSite site;
  ImageSite::write(site.dir / "train.csv", "volume,label\nvolumes/v0.npy,1\nvolumes/v2.npy,1\n");
  auto data = load(site.config, site.plan);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("train.csv holds only volumes labelled '1'"),
            std::string::npos)
      << data.error().message;
}

TEST(AgentData, ATabularPlanStillReadsCsvRows) {
  ImageSite site;
  ImageSite::write(site.dir / "train.csv", "a,b,y\n1,2,1\n2,1,0\n3,3,1\n0,1,0\n");
  ImageSite::write(site.dir / "validation.csv", "a,b,y\n1,1,1\n2,2,0\n");
  site.plan.model_spec = learning::to_json(learning::ModelSpec::mlp(2, {4}));
  site.plan.feature_columns = {"a", "b"};
  site.plan.label_column = "y";
  auto data = load(site.config, site.plan);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->train.rows, 4u);
  EXPECT_EQ(data->train.features, 2u);
  EXPECT_TRUE(data->train.image_shape.empty());
  EXPECT_FALSE(data->feature_schema.empty());
}

// Issue 17, CSV safety at the agent: a typo or an unlisted "?" in a numeric
// column stops the agent naming the file, the line and the column (before, it
// silently made a column of 4 widths and the plan's input_shape mismatched);
// [training] na_values lists "?" as missing.
TEST(AgentData, ATypoInANumericColumnNamesFileLineAndColumnAndNaValuesListMarkers) {
  ImageSite site;
  site.plan.model_spec = learning::to_json(learning::ModelSpec::mlp(2, {4}));
  site.plan.feature_columns = {"a", "b"};
  site.plan.label_column = "y";
  ImageSite::write(site.dir / "validation.csv", "a,b,y\n1,1,1\n2,2,0\n");
  for (const std::string cell : {"12O", "?"}) {
    ImageSite::write(site.dir / "train.csv", "a,b,y\n1,2,1\n2,1,0\n3," + cell + ",1\n0,1,0\n");
    auto data = load(site.config, site.plan);
    ASSERT_FALSE(data.ok()) << cell << " was read as a level";
    const std::string& m = data.error().message;
    EXPECT_NE(m.find((site.dir / "train.csv").string()), std::string::npos) << m;
    EXPECT_NE(m.find("line 4, column 'b': '" + cell + "' is not a number"), std::string::npos) << m;
  }
  site.config.na_values = std::vector<std::string>{"", "NA", "?"};
  auto data = load(site.config, site.plan);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->train.features, 2u);
  EXPECT_NE(data->feature_schema.find("\"?\""), std::string::npos) << data->feature_schema;
}

TEST(AgentData, ATabularPlanWhoseModelTakesOtherFeaturesIsRefused) {
  ImageSite site;
  ImageSite::write(site.dir / "train.csv", "a,b,y\n1,2,1\n2,1,0\n3,3,1\n0,1,0\n");
  ImageSite::write(site.dir / "validation.csv", "a,b,y\n1,1,1\n2,2,0\n");
  site.plan.model_spec = learning::to_json(learning::ModelSpec::mlp(3, {4}));
  site.plan.feature_columns = {"a", "b"};
  site.plan.label_column = "y";
  auto data = load(site.config, site.plan);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("takes 3 features but the local data encode to 2"),
            std::string::npos)
      << data.error().message;
}

// Local DP, β = 0.5 and Δ = 1 on the 32 voxels of each volume.
chain::PrivacyPlan local_dp(std::uint32_t values_per_row) {
  chain::PrivacyPlan p;
  p.mechanism = chain::PrivacyMechanism::local;
  p.budget_micro = 100'000'000;
  p.beta_micro = 500'000;
  p.sensitivity_micro = 1'000'000;
  p.values_per_row = values_per_row;
  return p;
}

TEST(AgentData, LocalDpNoisesTheTrainingCopyOnceWithTheGivenSeed) {
  ImageSite site;
  auto clean = load(site.config, site.plan);
  ASSERT_TRUE(clean.ok()) << clean.error().message;
  EXPECT_FALSE(clean->local_dp);
  site.plan.privacy = local_dp(32);
  auto noisy = load(site.config, site.plan);
  ASSERT_TRUE(noisy.ok()) << noisy.error().message;
  EXPECT_TRUE(noisy->local_dp);
  EXPECT_EQ(noisy->local_dp_seed, 7u);
  // Exactly apply_local_dp(clean copy, the plan's β and Δ, that seed).
  learning::Dataset expected = clean->train;
  ASSERT_TRUE(
      learning::apply_local_dp(expected, local_dp_settings(site.plan.privacy, noisy->local_dp_seed))
          .ok());
  EXPECT_EQ(noisy->train.x, expected.x);
  EXPECT_NE(noisy->train.x, clean->train.x);
  EXPECT_EQ(noisy->train.y, clean->train.y);
  // The votes measure on the real validation rows.
  EXPECT_EQ(noisy->validation.x, clean->validation.x);
  // The same copy at every load with this seed; another with another.
  EXPECT_EQ(load(site.config, site.plan)->train.x, noisy->train.x);
  EXPECT_NE(load(site.config, site.plan, 8)->train.x, noisy->train.x);
}

TEST(AgentData, LocalDpOfAnotherWidthThanTheModelIsRefused) {
  ImageSite site;
  site.plan.privacy = local_dp(31);
  auto data = load(site.config, site.plan);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("charges 31 values per row (privacy.values_per_row) but its "
                                      "model takes 32 inputs"),
            std::string::npos)
      << data.error().message;
}

}  // namespace
}  // namespace baton::agent
