// Issue 17 at the agent: named datasets read again at each run's start, and
// the consortium schema derived from hospitals' summaries (no pooled rows)
// giving every hospital the same encoded width though their categorical
// columns hold different levels. Real rows: data/lung1_clinical.csv.
#include "agent/agent_datasets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "agent/agent_data.h"
#include "api/datasets_config.h"
#include "learning/csv.h"
#include "learning/data_summary.h"
#include "learning/model_spec.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(AgentDatasets, ReadsDefaultAndNamedDatasetsAndRefusesBadOnes) {
  testing::TempDir dir("baton-datasets");
  auto d = api::parse_datasets(R"(
[training]
train_csv = "a/train.csv"
validation_csv = "a/validation.csv"
[datasets.study-2]
train_csv = "/srv/s2/train.csv"
validation_csv = "s2/validation.csv"
na_values = ["", "?"]
)",
                               dir / "agent.toml");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ(d->at("default").train_csv, dir / "a/train.csv");
  EXPECT_EQ(d->at("study-2").train_csv, fs::path("/srv/s2/train.csv"));
  EXPECT_EQ(d->at("study-2").validation_csv, dir / "s2/validation.csv");
  EXPECT_EQ(*d->at("study-2").na_values, (std::vector<std::string>{"", "?"}));
  for (const char* bad : {"[datasets.\"a b\"]\ntrain_csv=\"x\"\nvalidation_csv=\"y\"\n",
                          "[datasets.s]\ntrain_csv=\"x\"\n",
                          "[datasets.s]\ntrain_csv=\"x\"\nvalidation_csv=\"y\"\ncolor=1\n",
                          "[training]\ntrain_csv=\"x\"\nvalidation_csv=\"y\"\n"
                          "[datasets.default]\ntrain_csv=\"x\"\nvalidation_csv=\"y\"\n"}) {
    EXPECT_FALSE(api::parse_datasets(bad, dir / "agent.toml")) << bad;
  }
}

TEST(AgentDatasets, APlanNamingAnUndeclaredDatasetSaysWhichAndADatasetAddedLaterIsUsed) {
  testing::TempDir dir("baton-datasets");
  const fs::path config = dir / "agent.toml";
  const std::string base = "[training]\ntrain_csv = \"t.csv\"\nvalidation_csv = \"v.csv\"\n";
  write(config, base);
  api::TrainingConfig training;
  training.work_dir = dir / "work";
  chain::TrainingPlan plan;
  plan.dataset = "study-2";
  auto missing = training_for_plan(training, config, plan, std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("'study-2'"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("default"), std::string::npos);
  // Declared after the agent started: read again at the next run's start.
  write(config,
        base + "[datasets.study-2]\ntrain_csv = \"s2.csv\"\nvalidation_csv = \"s2v.csv\"\n");
  auto found = training_for_plan(training, config, plan, std::nullopt);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->train_csv, dir / "s2.csv");
  plan.dataset.clear();  // the default dataset
  EXPECT_EQ(training_for_plan(training, config, plan, std::nullopt)->train_csv, dir / "t.csv");
  // A plan with a schema id needs the derived schema.
  plan.schema_id = "s1";
  EXPECT_FALSE(training_for_plan(training, config, plan, std::nullopt));
}

// Rows of lung1_clinical.csv with `keep(row index, Histology)` true, as a CSV.
std::string lung_rows(const std::function<bool(std::size_t, const std::string&)>& keep) {
  auto csv = learning::read_csv_file(testing::source_dir() / "data" / "lung1_clinical.csv");
  EXPECT_TRUE(csv);
  std::ostringstream out;
  for (std::size_t i = 0; i < csv->header.size(); ++i) out << (i ? "," : "") << csv->header[i];
  out << "\n";
  const int hist = csv->column_index("Histology");
  for (std::size_t r = 0; r < csv->rows.size(); ++r) {
    if (!keep(r, csv->rows[r][static_cast<std::size_t>(hist)])) continue;
    for (std::size_t i = 0; i < csv->rows[r].size(); ++i) {
      const std::string& cell = csv->rows[r][i];
      out << (i ? "," : "") << (cell.find(',') != std::string::npos ? "\"" + cell + "\"" : cell);
    }
    out << "\n";
  }
  return out.str();
}

TEST(AgentDatasets, HospitalsWithDifferentLevelsEncodeToTheDerivedSchemasWidth) {
  testing::TempDir dir("baton-consortium-schema");
  const std::vector<std::string> features{"age", "clinical.T.Stage", "Histology", "gender"};
  // Hospital a never sees "large cell"; b never sees "adenocarcinoma" nor "nos".
  write(dir / "a-train.csv", lung_rows([](std::size_t r, const std::string& h) {
          return r % 3 != 0 && h != "large cell";
        }));
  write(dir / "a-val.csv", lung_rows([](std::size_t r, const std::string&) { return r % 3 == 0; }));
  write(dir / "b-train.csv", lung_rows([](std::size_t r, const std::string& h) {
          return r % 2 == 0 && h != "adenocarcinoma" && h != "nos";
        }));
  write(dir / "b-val.csv", lung_rows([](std::size_t r, const std::string&) { return r % 5 == 0; }));
  chain::ConsortiumSchema schema;
  std::map<std::string, std::size_t> local_width;
  for (const char* h : {"a", "b"}) {
    learning::SummaryOptions o;
    o.file = dir / (std::string(h) + "-train.csv");
    o.label_column = "deadstatus.event";
    o.positive_value = "1";
    o.feature_columns = features;
    auto s = learning::summarize_csv(o);
    ASSERT_TRUE(s) << s.error().message;
    schema.summaries[h] = *s;
    std::size_t w = 0;  // what fitting on its own rows would give
    for (const auto& c : s->columns)
      w += c.kind == chain::SummaryKind::numeric ? 1 : c.levels.size();
    local_width[h] = w;
  }
  EXPECT_NE(local_width["a"], local_width["b"]);  // the issue's problem
  const std::string derived = chain::derive_consortium_schema(schema).value();
  const std::size_t width = chain::consortium_schema_width(schema).value();
  chain::TrainingPlan plan;
  plan.run_id = "run-1";
  plan.schema_id = "lung";
  plan.feature_columns = features;
  plan.label_column = "deadstatus.event";
  plan.positive_value = "1";
  const auto spec = learning::ModelSpec::mlp(static_cast<int>(width), {4});
  plan.model_spec = learning::to_json(spec);
  for (const char* h : {"a", "b"}) {
    api::TrainingConfig training;
    training.train_csv = dir / (std::string(h) + "-train.csv");
    training.validation_csv = dir / (std::string(h) + "-val.csv");
    training.work_dir = dir / h;
    auto config = training_for_plan(training, {}, plan, derived);
    ASSERT_TRUE(config) << config.error().message;
    auto data = load_local_data(*config, plan, spec, 0);
    ASSERT_TRUE(data) << h << ": " << data.error().message;
    EXPECT_EQ(data->train.features, width) << h;
    EXPECT_EQ(data->validation.features, width) << h;
    EXPECT_EQ(data->feature_schema, derived) << h;  // the very bytes every node derives
  }
}

}  // namespace
}  // namespace baton::agent
