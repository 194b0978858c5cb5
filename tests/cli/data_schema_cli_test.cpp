// `baton data summarize --dry-run` and `baton data schema --file` as real
// processes (through baton -> baton-learn): a hospital's summary of real rows
// and a schema's encoded width and columns (issue 17, docs/PROTOCOL.md §23).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chain/consortium_schema.h"
#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(DataSchemaCli, PrintsWidthPositionsLevelsAndScalesOfASchemaFile) {
  TempDir tmp("baton-data-schema");
  const fs::path file = tmp / "schema.json";
  write_text(file,
             R"({"format":"baton-preprocessor/1","classes":["no","yes"],"positive_value":"yes",)"
             R"("columns":[{"name":"age","kind":"numeric","median":70,"mean":68.5,"scale":9.25},)"
             R"({"name":"site","kind":"categorical","most_frequent":"b","levels":["a","b","c"]},)"
             R"({"name":"dose","kind":"numeric","median":2,"mean":2,"scale":0.5}]})");
  const RunResult r = run_baton({"data", "schema", "--file", file.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["width"], 5);
  ASSERT_EQ(j["columns"].size(), 3u);
  EXPECT_EQ(j["columns"][0]["positions"], json({0, 0}));
  EXPECT_EQ(j["columns"][0]["mean"], 68.5);
  EXPECT_EQ(j["columns"][0]["scale"], 9.25);
  EXPECT_EQ(j["columns"][1]["positions"], json({1, 3}));
  EXPECT_EQ(j["columns"][1]["levels"], json({"a", "b", "c"}));
  EXPECT_EQ(j["columns"][2]["positions"], json({4, 4}));
  const RunResult text = run_baton({"data", "schema", "--file", file.string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("encoded width 5"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("[1..3] site categorical levels a b c"), std::string::npos) << text.out;
  // A broken schema: one sentence, no output.
  write_text(file, R"({"format":"baton-preprocessor/1"})");
  expect_one_sentence_failure(run_baton({"data", "schema", "--file", file.string()}), 1,
                              "feature schema is invalid");
}

TEST(DataSchemaCli, SummarizeDryRunCountsRealRowsWithoutPostingAny) {
  const fs::path lung = source_dir() / "data" / "lung1_clinical.csv";
  const RunResult r =
      run_baton({"data", "summarize", "--schema-id", "lung", "--train", lung.string(), "--label",
                 "deadstatus.event", "--features", "age,Histology,gender", "--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["rows"], 422);
  EXPECT_FALSE(j.contains("submitted"));
  EXPECT_EQ(j["columns"][0]["name"], "age");
  EXPECT_EQ(j["columns"][0]["kind"], "numeric");
  EXPECT_EQ(j["columns"][0]["missing"], 22);
  EXPECT_EQ(j["columns"][1]["kind"], "categorical");
  EXPECT_EQ(j["columns"][1]["missing"], 42);
  EXPECT_EQ(j["columns"][1]["levels"]["squamous cell carcinoma"], 152);
  // An identifier has a level per row: refused, with the advice.
  expect_one_sentence_failure(
      run_baton({"data", "summarize", "--schema-id", "lung", "--train", lung.string(), "--label",
                 "deadstatus.event", "--features", "PatientID,age", "--dry-run"}),
      1, "more than 256 levels");
}

}  // namespace
}  // namespace baton::testing
