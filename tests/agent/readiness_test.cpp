// The partner's readiness answer (docs/PROTOCOL.md §22.2): one test per
// refusal reason, each from where the check fails (the plan, load_local_data
// on real files, the store), and that the reason never comes from the text.
#include "agent/readiness.h"

#include <gtest/gtest.h>

#include <fstream>

#include "agent/agent_data.h"
#include "chain/crypto.h"
#include "learning/model_spec.h"
#include "learning/volumes.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;
using chain::ReadinessFailure;

// A hospital with two tabular files: features a, b and label y.
struct Site {
  testing::TempDir dir;
  api::TrainingConfig config;
  chain::TrainingPlan plan;

  Site() {
    write("train.csv", "a,b,y\n1,2,1\n2,1,0\n3,3,1\n0,1,0\n");
    write("validation.csv", "a,b,y\n1,1,1\n2,2,0\n");
    config.train_csv = dir / "train.csv";
    config.validation_csv = dir / "validation.csv";
    plan.run_id = "run-1";
    plan.model_spec = learning::to_json(learning::ModelSpec::mlp(2, {4}));
    plan.feature_columns = {"a", "b"};
    plan.label_column = "y";
    plan.positive_value = "1";
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
  }
  // What agent_ready.cpp posts when the data did not load.
  chain::pb::RunReady answer() const {
    auto spec = learning::spec_from_json(plan.model_spec);
    EXPECT_TRUE(spec.ok());
    auto data = load_local_data(config, plan, *spec, 7);
    ReadinessFacts facts;
    if (!data)
      facts.data_unusable = ReadinessRefusal{data_failure(data.error()), data.error().message};
    return readiness_answer(plan.run_id, facts);
  }
};

ReadinessFailure reason_of(const chain::pb::RunReady& r) {
  EXPECT_FALSE(r.ready());
  return static_cast<ReadinessFailure>(r.reason());
}

TEST(Readiness, ReadyWhenEveryCheckPasses) {
  Site site;
  const auto r = site.answer();
  EXPECT_TRUE(r.ready());
  EXPECT_EQ(r.reason(), 0u);
  EXPECT_TRUE(r.detail().empty());
}

TEST(Readiness, AFeatureColumnTheDataLackIsColumnsMissing) {
  Site site;
  site.plan.feature_columns = {"a", "c"};
  const auto r = site.answer();
  EXPECT_EQ(reason_of(r), ReadinessFailure::columns_missing);
  EXPECT_NE(r.detail().find("no column 'c'"), std::string::npos) << r.detail();
}

TEST(Readiness, ALabelColumnTheValidationFileLacksIsColumnsMissing) {
  Site site;
  site.write("validation.csv", "a,b,outcome\n1,1,1\n2,2,0\n");
  EXPECT_EQ(reason_of(site.answer()), ReadinessFailure::columns_missing);
}

TEST(Readiness, AColumnASharedSchemaNeedsIsColumnsMissing) {
  // The consortium's schema names a column the plan does not: the learning
  // library's own check fails, and its code says so.
  Site site;
  site.write("schema.json",
             R"({"format":"baton-preprocessor/1","classes":["not 1","1"],"positive_value":"1",)"
             R"("columns":[{"name":"a","kind":"numeric","median":1,"mean":1,"scale":1},)"
             R"({"name":"b","kind":"numeric","median":1,"mean":1,"scale":1},)"
             R"({"name":"d","kind":"numeric","median":1,"mean":1,"scale":1}]})");
  site.config.feature_schema = site.dir / "schema.json";
  site.plan.model_spec = learning::to_json(learning::ModelSpec::mlp(3, {4}));
  const auto r = site.answer();
  EXPECT_EQ(reason_of(r), ReadinessFailure::columns_missing) << r.detail();
}

TEST(Readiness, AVolumeManifestWithoutItsLabelColumnIsColumnsMissing) {
  Site site;
  const std::vector<int> shape{1, 2, 4, 4};
  fs::create_directories(site.dir / "volumes");
  ASSERT_TRUE(
      learning::write_npy(site.dir / "volumes" / "v.npy", shape, std::vector<float>(32, 1)).ok());
  site.write("train.csv", "volume,diagnosis\nvolumes/v.npy,1\n");
  site.plan.model_spec = learning::to_json(learning::ModelSpec::resnet3d(shape, 4));
  site.plan.feature_columns = {"volume"};
  site.plan.label_column = "label";
  EXPECT_EQ(reason_of(site.answer()), ReadinessFailure::columns_missing);
}

TEST(Readiness, DataThatEncodeToAnotherWidthAreWidthMismatch) {
  Site site;
  site.plan.model_spec = learning::to_json(learning::ModelSpec::mlp(3, {4}));
  const auto r = site.answer();
  EXPECT_EQ(reason_of(r), ReadinessFailure::width_mismatch);
  EXPECT_NE(r.detail().find("takes 3 features"), std::string::npos) << r.detail();
}

TEST(Readiness, AValueThatIsNotANumberIsDataUnusable) {
  Site site;
  site.write("train.csv", "a,b,y\n1,2,1\n2,1,0\n3,12O,1\n0,1,0\n");
  const auto r = site.answer();
  EXPECT_EQ(reason_of(r), ReadinessFailure::data_unusable);
  EXPECT_NE(r.detail().find("'12O' is not a number"), std::string::npos) << r.detail();
}

TEST(Readiness, AMissingFileIsDataUnusable) {
  Site site;
  site.config.validation_csv = site.dir / "absent.csv";
  EXPECT_EQ(reason_of(site.answer()), ReadinessFailure::data_unusable);
}

TEST(Readiness, TheReasonComesFromTheCodeNeverFromTheText) {
  // A sentence that reads like a width mismatch, or a missing column, changes
  // nothing: the code set where the check failed decides.
  EXPECT_EQ(data_failure(make_error("the plan's model takes 3 features but the local data "
                                    "encode to 2")),
            ReadinessFailure::data_unusable);
  EXPECT_EQ(
      data_failure(make_error("reworded", static_cast<int>(ReadinessFailure::width_mismatch))),
      ReadinessFailure::width_mismatch);
  EXPECT_EQ(data_failure(make_error("there is no column 'x'")), ReadinessFailure::data_unusable);
  // A code outside load_local_data's three is data_unusable, not what its number names.
  EXPECT_EQ(data_failure(make_error("x", static_cast<int>(ReadinessFailure::store_unreachable))),
            ReadinessFailure::data_unusable);
}

TEST(Readiness, AnUnknownOptimizerComesBeforeEverythingElse) {
  ReadinessFacts facts;
  facts.optimizer_known = false;
  facts.plan_unusable = "the plan's optimizer 'adamw' is not one this agent supports";
  facts.data_unusable = ReadinessRefusal{ReadinessFailure::width_mismatch, "width"};
  facts.store_unreachable = "no store";
  const auto r = readiness_answer("run-1", facts);
  EXPECT_EQ(reason_of(r), ReadinessFailure::optimizer_unknown);
  EXPECT_EQ(r.detail(), *facts.plan_unusable);
}

TEST(Readiness, AModelThatDoesNotBuildIsModelUnbuildable) {
  ReadinessFacts facts;
  facts.plan_unusable = "the model spec does not parse";
  facts.data_unusable = ReadinessRefusal{ReadinessFailure::columns_missing, "columns"};
  const auto r = readiness_answer("run-1", facts);
  EXPECT_EQ(reason_of(r), ReadinessFailure::model_unbuildable);
  EXPECT_EQ(r.detail(), "the model spec does not parse");
}

TEST(Readiness, TheDataCheckComesBeforeTheStore) {
  ReadinessFacts facts;
  facts.data_unusable = ReadinessRefusal{ReadinessFailure::columns_missing, "no column 'c'"};
  facts.store_unreachable = "no store";
  EXPECT_EQ(reason_of(readiness_answer("run-1", facts)), ReadinessFailure::columns_missing);
}

TEST(Readiness, AStoreThatDoesNotAnswerIsStoreUnreachable) {
  ReadinessFacts facts;
  facts.store_unreachable = std::string(400, 's');
  const auto r = readiness_answer("run-1", facts);
  EXPECT_EQ(reason_of(r), ReadinessFailure::store_unreachable);
  EXPECT_EQ(r.detail().size(), chain::kMaxRunControlTextBytes);  // clipped
}

TEST(Readiness, AReadyAnswerCarriesTheSharedSchemaHash) {
  ReadinessFacts facts;
  facts.shared_schema_json = "{\"format\":\"baton-preprocessor/1\"}";
  facts.train_rows = 12;
  const auto r = readiness_answer("run-1", facts);
  ASSERT_TRUE(r.ready());
  const chain::Hash h = chain::sha256(facts.shared_schema_json);
  EXPECT_EQ(r.schema_sha256(), std::string(h.bytes.begin(), h.bytes.end()));
  EXPECT_EQ(r.train_rows(), 12u);
}

}  // namespace
}  // namespace baton::agent
