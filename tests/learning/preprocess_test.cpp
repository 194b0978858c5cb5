// Typing, labels, imputation, one-hot encoding and standardisation.
#include "learning/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "learning/csv.h"
#include "learning/tabular.h"
#include "tests/support/test_support.h"

namespace baton::learning {
namespace {

Table table_of(const char* text, TableSchema schema) {
  auto csv = parse_csv(text);
  EXPECT_TRUE(csv.ok()) << csv.error().message;
  auto t = make_table(*csv, schema);
  EXPECT_TRUE(t.ok()) << t.error().message;
  return std::move(t).value();
}

TableSchema binary(const char* label, const char* positive) {
  TableSchema s;
  s.label_column = label;
  s.positive_value = positive;
  return s;
}

constexpr const char* kPatients =
    "id,age,stage,sex,outcome\n"
    "p1,50,I,male,dead\n"
    "p2,NA,II,female,alive\n"
    "p3,70,,male,dead\n"
    "p4,60,II,,alive\n"
    "p5,1000,III,female,dead\n";  // row 4 (p5) is the "test" row below

TEST(ParseNumber, AcceptsDecimalsOnly) {
  EXPECT_EQ(parse_number("3"), 3.0);
  EXPECT_EQ(parse_number("-0.5e1"), -5.0);
  EXPECT_FALSE(parse_number("nan"));
  EXPECT_FALSE(parse_number("inf"));
  EXPECT_FALSE(parse_number("0x10"));
  EXPECT_FALSE(parse_number("1e999"));
  EXPECT_FALSE(parse_number("12a"));
  EXPECT_FALSE(parse_number(""));
}

// A column whose values overflow a double's sums (the fuzzer found one at
// 1e183) is refused at fit, not fitted into a schema whose "scale" is
// infinite and cannot be written to JSON and read back.
TEST(Preprocessor, RefusesValuesTooLargeToStandardize) {
  const Table t =
      table_of("a,size,outcome\n1,1e300,dead\n2,-1e300,alive\n3,1e300,dead\n4,2,alive\n",
               binary("outcome", "dead"));
  const std::vector<std::size_t> rows{0, 1, 2, 3};
  const auto pre = Preprocessor::fit(t, rows);
  ASSERT_FALSE(pre.ok());
  EXPECT_NE(pre.error().message.find("\"size\": its values are too large"), std::string::npos)
      << pre.error().message;
}

TEST(MakeTable, DetectsNumericAndCategoricalColumnsAndMissingCells) {
  TableSchema s = binary("outcome", "alive");
  s.drop_columns = {"id"};
  const Table t = table_of(kPatients, s);
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.columns[0].name, "age");
  EXPECT_EQ(t.columns[0].kind, ColumnKind::numeric);
  EXPECT_TRUE(t.columns[0].missing[1]);
  EXPECT_TRUE(std::isnan(t.columns[0].numbers[1]));
  EXPECT_EQ(t.columns[1].kind, ColumnKind::categorical);
  EXPECT_TRUE(t.columns[1].missing[2]);
  EXPECT_EQ(t.y, (std::vector<int>{0, 1, 0, 1, 0}));
  EXPECT_EQ(t.class_names, (std::vector<std::string>{"dead", "alive"}));
}

TEST(MakeTable, MultiClassLabelsAreSortedLevels) {
  TableSchema s;
  s.label_column = "y";
  const Table t = table_of("x,y\n1,c\n2,a\n3,b\n4,a\n", s);
  EXPECT_EQ(t.num_classes, 3);
  EXPECT_EQ(t.class_names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(t.y, (std::vector<int>{2, 0, 1, 0}));
}

TEST(MakeTable, ExplainsMissingLabelColumnAndAbsentPositiveValue) {
  const auto csv = parse_csv("x,y\n1,a\n2,b\n");
  ASSERT_TRUE(csv.ok());
  const auto no_label = make_table(*csv, binary("label", "a"));
  ASSERT_FALSE(no_label.ok());
  EXPECT_NE(no_label.error().message.find("no label column 'label'; the columns are: x, y"),
            std::string::npos);
  const auto no_positive = make_table(*csv, binary("y", "z"));
  ASSERT_FALSE(no_positive.ok());
  EXPECT_NE(no_positive.error().message.find("'z' never occurs"), std::string::npos);
  TableSchema drop = binary("y", "a");
  drop.drop_columns = {"nope"};
  EXPECT_FALSE(make_table(*csv, drop).ok());
}

TEST(MakeTable, RejectsMissingLabelSingleClassAndNoFeatures) {
  EXPECT_FALSE(make_table(*parse_csv("x,y\n1,a\n2,NA\n"), binary("y", "a")).ok());
  EXPECT_FALSE(make_table(*parse_csv("x,y\n1,a\n2,a\n"), binary("y", "a")).ok());
  EXPECT_FALSE(make_table(*parse_csv("y\na\nb\n"), binary("y", "a")).ok());
  EXPECT_FALSE(make_table(*parse_csv("x,y\n"), binary("y", "a")).ok());
}

TEST(Preprocessor, FitsStatisticsOnTrainingRowsOnly) {
  TableSchema s = binary("outcome", "alive");
  s.drop_columns = {"id"};
  const Table t = table_of(kPatients, s);
  const std::vector<std::size_t> train = {0, 1, 2, 3};
  const auto pre = Preprocessor::fit(t, train);
  ASSERT_TRUE(pre.ok()) << pre.error().message;
  // age: training values 50, 70, 60 (p2 missing) → median 60; the test row's
  // 1000 must not influence anything.
  const NumericEncoding& age = pre->numeric()[0];
  EXPECT_DOUBLE_EQ(age.median, 60.0);
  EXPECT_DOUBLE_EQ(age.mean, 60.0);                     // 50, 60 (imputed), 70, 60
  EXPECT_DOUBLE_EQ(age.scale, std::sqrt(200.0 / 4.0));  // population sd
  // stage: training levels I, II (III only in the test row); most frequent II.
  const CategoricalEncoding& stage = pre->categorical()[0];
  EXPECT_EQ(stage.levels, (std::vector<std::string>{"I", "II"}));
  EXPECT_EQ(stage.most_frequent, "II");
  EXPECT_EQ(pre->feature_names(),
            (std::vector<std::string>{"age", "stage=I", "stage=II", "sex=female", "sex=male"}));
}

TEST(Preprocessor, ImputesEncodesAndGivesUnseenLevelsAllZeros) {
  TableSchema s = binary("outcome", "alive");
  s.drop_columns = {"id"};
  const Table t = table_of(kPatients, s);
  const std::vector<std::size_t> train = {0, 1, 2, 3};
  const auto pre = Preprocessor::fit(t, train);
  ASSERT_TRUE(pre.ok());
  const std::vector<std::size_t> rows = {1, 2, 3, 4};
  const auto d = pre->apply(t, rows);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_TRUE(d->valid());
  EXPECT_EQ(d->features, 5u);
  const float sd = static_cast<float>(std::sqrt(50.0));
  // p2: age missing → median 60 → 0; stage II; sex female.
  EXPECT_EQ(std::vector<float>(d->row(0).begin(), d->row(0).end()),
            (std::vector<float>{0.0f, 0, 1, 1, 0}));
  // p3: stage missing → most frequent (II).
  EXPECT_EQ(d->row(1)[2], 1.0f);
  EXPECT_NEAR(d->row(1)[0], 10.0f / sd, 1e-6);
  // p4: sex missing → most frequent in training (male 2, female 1).
  EXPECT_EQ(d->row(2)[3], 0.0f);
  EXPECT_EQ(d->row(2)[4], 1.0f);
  // p5: stage III never seen in training → all zeros; age standardised with
  // training statistics.
  EXPECT_EQ(d->row(3)[1], 0.0f);
  EXPECT_EQ(d->row(3)[2], 0.0f);
  EXPECT_NEAR(d->row(3)[0], static_cast<float>(940.0 / std::sqrt(50.0)), 1e-3);
  EXPECT_EQ(d->y, (std::vector<int>{1, 0, 1, 0}));
}

TEST(Preprocessor, ConstantColumnKeepsScaleOne) {
  const Table t = table_of("x,y\n5,a\n5,b\n5,a\n", binary("y", "a"));
  const std::vector<std::size_t> rows = {0, 1, 2};
  const auto pre = Preprocessor::fit(t, rows);
  ASSERT_TRUE(pre.ok());
  EXPECT_DOUBLE_EQ(pre->numeric()[0].scale, 1.0);
  EXPECT_EQ(pre->apply(t, rows)->x, (std::vector<float>{0, 0, 0}));
}

TEST(Preprocessor, RejectsColumnWithoutTrainingValues) {
  const Table t = table_of("x,z,y\nNA,1,a\nNA,2,b\n7,3,a\n", binary("y", "a"));
  const std::vector<std::size_t> train = {0, 1};
  const auto pre = Preprocessor::fit(t, train);
  ASSERT_FALSE(pre.ok());
  EXPECT_NE(pre.error().message.find("column 'x' has no value in any training row"),
            std::string::npos);
}

TEST(Preprocessor, RejectsTextInNumericColumnAndMissingOrExtraColumns) {
  const Table a = table_of("x,c,y\n1,u,a\n2,v,b\n", binary("y", "a"));
  const std::vector<std::size_t> rows = {0, 1};
  const auto pre = Preprocessor::fit(a, rows);
  ASSERT_TRUE(pre.ok());
  const auto text = pre->apply(table_of("x,c,y\nfoo,u,a\n2,v,b\n", binary("y", "a")), rows);
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message.find("column 'x' should be numeric"), std::string::npos);
  const auto missing = pre->apply(table_of("x,y\n1,a\n2,b\n", binary("y", "a")), rows);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no column 'c'"), std::string::npos);
  const auto extra = pre->apply(table_of("x,c,z,y\n1,u,0,a\n2,v,0,b\n", binary("y", "a")), rows);
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.error().message.find("column 'z' is not part"), std::string::npos);
  const std::vector<std::size_t> bad = {5};
  EXPECT_FALSE(pre->apply(a, bad).ok());
}

TEST(Preprocessor, MatchesColumnsByNameAndReadsNumericLookingLevelsAsText) {
  // Fitted with stage as text; another file has the columns swapped and only
  // numeric-looking stages, which are still levels.
  const Table a = table_of("age,stage,y\n50,1b,a\n60,2,b\n", binary("y", "a"));
  TableSchema lenient = binary("y", "a");
  lenient.labels_for_fitted_schema = true;
  const Table b = table_of("stage,age,y\n2,55,a\n", lenient);
  const std::vector<std::size_t> train = {0, 1};
  const auto pre = Preprocessor::fit(a, train);
  ASSERT_TRUE(pre.ok());
  const std::vector<std::size_t> row = {0};
  const auto d = pre->apply(b, row);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->feature_names, (std::vector<std::string>{"age", "stage=1b", "stage=2"}));
  EXPECT_EQ(std::vector<float>(d->row(0).begin(), d->row(0).end()),
            (std::vector<float>{0.0f, 0.0f, 1.0f}));
  EXPECT_EQ(d->y, (std::vector<int>{1}));
}

TEST(Preprocessor, NumbersMultiClassLabelsAsFittedEvenWhenAClassIsAbsent) {
  TableSchema multi;
  multi.label_column = "y";
  const Table a = table_of("x,y\n1,ant\n2,bee\n3,cat\n", multi);
  const std::vector<std::size_t> all = {0, 1, 2};
  const auto pre = Preprocessor::fit(a, all);
  ASSERT_TRUE(pre.ok());
  TableSchema lenient = multi;
  lenient.labels_for_fitted_schema = true;
  // Only "cat": on its own it would be class 0; as fitted it is class 2.
  const Table b = table_of("x,y\n5,cat\n", lenient);
  const std::vector<std::size_t> one = {0};
  const auto d = pre->apply(b, one);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->y, (std::vector<int>{2}));
  EXPECT_EQ(d->num_classes, 3);
  const auto unknown = pre->apply(table_of("x,y\n5,dog\n", lenient), one);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("label 'dog' is not one of the model's classes"),
            std::string::npos);
}

TEST(PreprocessorJson, RoundTripEncodesBitIdentically) {
  TableSchema s = binary("outcome", "alive");
  s.drop_columns = {"id"};
  const Table t = table_of(kPatients, s);
  const std::vector<std::size_t> train = {0, 1, 2, 3};
  const std::vector<std::size_t> all = {0, 1, 2, 3, 4};
  const auto pre = Preprocessor::fit(t, train);
  ASSERT_TRUE(pre.ok());
  const auto json = pre->to_json();
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_NE(json->find("\"format\": \"baton-preprocessor/1\""), std::string::npos);
  const auto back = Preprocessor::from_json(*json);
  ASSERT_TRUE(back.ok()) << back.error().message;
  const auto d1 = pre->apply(t, all);
  const auto d2 = back->apply(t, all);
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_EQ(d1->x, d2->x);
  EXPECT_EQ(d1->y, d2->y);
  EXPECT_EQ(back->feature_names(), pre->feature_names());
  EXPECT_EQ(*back->to_json(), *json);
}

TEST(PreprocessorJson, RejectsMalformedSchemasWithReasons) {
  const std::string good = R"({"format": "baton-preprocessor/1", "classes": ["n", "y"],
    "positive_value": "1", "columns": [{"name": "a", "kind": "numeric", "median": 0,
    "mean": 0, "scale": 1}, {"name": "b", "kind": "categorical", "most_frequent": "u",
    "levels": ["u", "v"]}]})";
  ASSERT_TRUE(Preprocessor::from_json(good).ok());
  const auto expect_error = [&](const std::string& from, const std::string& to,
                                const std::string& reason) {
    std::string bad = good;
    const auto at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    const auto r = Preprocessor::from_json(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(reason), std::string::npos) << r.error().message;
  };
  expect_error("baton-preprocessor/1", "baton-preprocessor/9", "is not supported");
  expect_error("\"scale\": 1", "\"scale\": 0", "must be positive");
  expect_error("\"scale\": 1", "\"scale\": \"1\"", "needs a number \"scale\"");
  expect_error("[\"u\", \"v\"]", "[\"v\", \"u\"]", "sorted");
  expect_error("\"most_frequent\": \"u\"", "\"most_frequent\": \"w\"", "one of the levels");
  expect_error("\"name\": \"b\"", "\"name\": \"a\"", "repeats");
  expect_error("\"kind\": \"numeric\"", "\"kind\": \"ordinal\"", "not numeric or categorical");
  expect_error("[\"n\", \"y\"]", "[\"n\"]", "at least 2 classes");
  expect_error("\"positive_value\": \"1\",", "", "exactly one of");
  expect_error("{\"format\"", "[{\"format\"", "not a JSON object");
  EXPECT_FALSE(Preprocessor::from_json("").ok());
  EXPECT_FALSE(Preprocessor::from_json("{").ok());
}

// docs/PROTOCOL.md §17.2's rule, written from the text alone: each schema
// column in order; numeric: float32((v or median) - mean) / scale); the cell
// is matched by header name; missing = "" or "NA"; categorical: one 0/1 per
// level, most_frequent when missing, all zeros for an unseen level.
std::vector<float> encode_by_the_spec(const nlohmann::json& schema, const CsvTable& csv,
                                      std::size_t row) {
  std::vector<float> out;
  for (const auto& column : schema["columns"]) {
    const int at = csv.column_index(column["name"].get<std::string>());
    EXPECT_GE(at, 0);
    const std::string& cell = csv.rows[row][static_cast<std::size_t>(at)];
    const bool missing = cell.empty() || cell == "NA";
    if (column["kind"] == "numeric") {
      const double v = missing ? column["median"].get<double>() : std::stod(cell);
      out.push_back(
          static_cast<float>((v - column["mean"].get<double>()) / column["scale"].get<double>()));
    } else {
      const std::string level = missing ? column["most_frequent"].get<std::string>() : cell;
      for (const auto& known : column["levels"]) out.push_back(known == level ? 1.0f : 0.0f);
    }
  }
  return out;
}

// The ```json block of §17.2 (the one with the format tag after "### 17.2").
std::string documented_schema() { return testing::protocol_json_block("### 17.2"); }

TEST(ProtocolSchema, WorkedExampleEncodesAsLearning) {
  const std::string text = documented_schema();
  ASSERT_NE(text.find("baton-preprocessor/1"), std::string::npos);
  auto documented = Preprocessor::from_json(text);
  ASSERT_TRUE(documented.ok()) << documented.error().message;

  // It is what learning fits on all of data/iris.csv.
  auto csv = read_csv_file(testing::source_dir() / "data" / "iris.csv");
  ASSERT_TRUE(csv.ok()) << csv.error().message;
  TableSchema species;
  species.label_column = "species";
  auto table = make_table(*csv, species);
  ASSERT_TRUE(table.ok()) << table.error().message;
  std::vector<std::size_t> all(table->rows);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  auto fitted = Preprocessor::fit(*table, all);
  ASSERT_TRUE(fitted.ok()) << fitted.error().message;
  ASSERT_EQ(documented->numeric().size(), fitted->numeric().size());
  for (std::size_t i = 0; i < fitted->numeric().size(); ++i) {
    EXPECT_EQ(documented->numeric()[i].name, fitted->numeric()[i].name);
    EXPECT_EQ(documented->numeric()[i].median, fitted->numeric()[i].median) << i;
    EXPECT_EQ(documented->numeric()[i].mean, fitted->numeric()[i].mean) << i;
    EXPECT_EQ(documented->numeric()[i].scale, fitted->numeric()[i].scale) << i;
  }
  EXPECT_EQ(documented->class_names(), fitted->class_names());
  EXPECT_EQ(documented->feature_count(), 4u);  // the documented width

  // Every row encodes by the documented rule exactly as learning's encoder.
  auto encoded = documented->apply(*table, all);
  ASSERT_TRUE(encoded.ok()) << encoded.error().message;
  const auto schema = nlohmann::json::parse(text);
  for (std::size_t r = 0; r < table->rows; ++r) {
    const auto mine = encode_by_the_spec(schema, *csv, r);
    ASSERT_EQ(mine.size(), encoded->features);
    for (std::size_t f = 0; f < mine.size(); ++f)
      EXPECT_EQ(mine[f], encoded->x[r * encoded->features + f]) << "row " << r << " feature " << f;
  }
  // The doc's first row.
  EXPECT_NEAR(encoded->x[0], -0.90068117, 1e-7);
  EXPECT_NEAR(encoded->x[1], 1.01900435, 1e-7);
  EXPECT_NEAR(encoded->x[2], -1.34022653, 1e-7);
  EXPECT_NEAR(encoded->x[3], -1.31544430, 1e-7);
  EXPECT_EQ(encoded->y[0], 0);
}

TEST(ProtocolSchema, CategoricalAndMissingCellsEncodeAsDocumented) {
  // Fitted on the first four rows; the last has an unseen level and a missing
  // number, and the NA / empty cells take the median / most frequent level.
  const char* text =
      "id,age,stage,sex,outcome\n"
      "p1,50,I,male,dead\n"
      "p2,NA,II,female,alive\n"
      "p3,70,,male,dead\n"
      "p4,60,II,,alive\n"
      "p5,,IV,female,dead\n";
  TableSchema schema = binary("outcome", "dead");
  schema.drop_columns = {"id"};
  const Table t = table_of(text, schema);
  const std::vector<std::size_t> train = {0, 1, 2, 3};
  auto pre = Preprocessor::fit(t, train);
  ASSERT_TRUE(pre.ok()) << pre.error().message;
  auto json_text = pre->to_json();
  ASSERT_TRUE(json_text.ok());
  const auto schema_json = nlohmann::json::parse(*json_text);
  // Width: 1 numeric + levels {I, II} + {female, male}.
  EXPECT_EQ(pre->feature_count(), 5u);
  const std::vector<std::size_t> every = {0, 1, 2, 3, 4};
  auto encoded = pre->apply(t, every);
  ASSERT_TRUE(encoded.ok()) << encoded.error().message;
  auto csv = parse_csv(text);
  ASSERT_TRUE(csv.ok());
  for (std::size_t r = 0; r < every.size(); ++r) {
    const auto mine = encode_by_the_spec(schema_json, *csv, r);
    ASSERT_EQ(mine.size(), encoded->features);
    for (std::size_t f = 0; f < mine.size(); ++f)
      EXPECT_EQ(mine[f], encoded->x[r * encoded->features + f]) << "row " << r << " feature " << f;
  }
  // p5's stage IV was never seen: both stage features are 0.
  EXPECT_EQ(encoded->x[4 * 5 + 1], 0.0f);
  EXPECT_EQ(encoded->x[4 * 5 + 2], 0.0f);
}

}  // namespace
}  // namespace baton::learning
