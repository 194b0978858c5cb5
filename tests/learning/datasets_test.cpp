// The built-in data sets, loaded from the repository's data/ folder, and CSV
// files with a schema.
#include "learning/datasets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "learning/preprocess.h"
#include "tests/support/test_support.h"

namespace baton::learning {
namespace {

std::filesystem::path data_dir() { return testing::source_dir() / "data"; }

std::size_t count(const Dataset& d, int c) {
  return static_cast<std::size_t>(std::count(d.y.begin(), d.y.end(), c));
}

bool has_feature(const Dataset& d, const std::string& name) {
  return std::find(d.feature_names.begin(), d.feature_names.end(), name) != d.feature_names.end();
}

TEST(Lung1, DerivesTwoYearSurvivalAndKeeps420Patients) {
  const auto data = load_builtin("lung1", data_dir(), {.seed = 1});
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->train.rows, 336u);
  EXPECT_EQ(data->test.rows, 84u);
  EXPECT_EQ(data->validation.rows, 0u);
  // 169 survived 2 years (time > 730), 251 died within 2 years.
  EXPECT_EQ(count(data->train, 1) + count(data->test, 1), 169u);
  EXPECT_EQ(count(data->train, 0) + count(data->test, 0), 251u);
  EXPECT_EQ(data->train.class_names[1], "survived 2 years");
  EXPECT_NE(data->notes.front().find("2 patients censored before 730 days excluded"),
            std::string::npos);
  EXPECT_TRUE(data->train.valid());
  EXPECT_TRUE(data->test.valid());
}

TEST(Lung1, UsesClinicalFeaturesButNoIdentifierOrOutcome) {
  const auto data = load_builtin("lung1", data_dir());
  ASSERT_TRUE(data.ok());
  const Dataset& d = data->train;
  EXPECT_TRUE(has_feature(d, "age"));
  EXPECT_TRUE(has_feature(d, "clinical.T.Stage"));
  EXPECT_TRUE(has_feature(d, "gender=male"));
  EXPECT_TRUE(has_feature(d, "Histology=adenocarcinoma"));
  for (const auto& name : d.feature_names) {
    EXPECT_EQ(name.find("PatientID"), std::string::npos);
    EXPECT_EQ(name.find("Survival"), std::string::npos);
    EXPECT_EQ(name.find("deadstatus"), std::string::npos);
    EXPECT_EQ(name.find("survived"), std::string::npos);
  }
  // Every value is present (imputed) and numeric features are standardised on
  // the training rows: mean 0 there.
  for (const float v : d.x) ASSERT_TRUE(std::isfinite(v));
  double age_sum = 0;
  for (std::size_t r = 0; r < d.rows; ++r) age_sum += d.row(r)[0];
  EXPECT_NEAR(age_sum / static_cast<double>(d.rows), 0.0, 1e-5);
}

TEST(Lung1, SameSeedGivesSameSplitOtherSeedDiffers) {
  const auto a = load_builtin("lung1", data_dir(), {.seed = 3});
  const auto b = load_builtin("lung1", data_dir(), {.seed = 3});
  const auto c = load_builtin("lung1", data_dir(), {.seed = 4});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->train.x, b->train.x);
  EXPECT_EQ(a->test.y, b->test.y);
  EXPECT_NE(a->train.x, c->train.x);
}

TEST(BreastCancer, HasThirtyFeaturesAndMalignantAsPositive) {
  const auto data = load_builtin("breast_cancer", data_dir());
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->train.features, 30u);
  EXPECT_EQ(data->train.rows + data->test.rows, 569u);
  EXPECT_EQ(data->test.rows, 114u);  // round(569 × 0.2)
  EXPECT_EQ(count(data->train, 1) + count(data->test, 1), 212u);
  EXPECT_EQ(data->positive_class, "malignant");
}

TEST(Iris, HasThreeClassesStratified) {
  const auto data = load_builtin("iris", data_dir());
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->train.num_classes, 3);
  EXPECT_EQ(data->train.class_names,
            (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(data->test.class_counts(), (std::vector<std::size_t>{10, 10, 10}));
  EXPECT_EQ(data->train.features, 4u);
  EXPECT_TRUE(data->positive_class.empty());
}

TEST(BreastMnist, KeepsTheOfficialSplitAndScalesPixels) {
  const auto data = load_builtin("breastmnist", data_dir());
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->train.rows, 546u);
  EXPECT_EQ(data->validation.rows, 78u);
  EXPECT_EQ(data->test.rows, 156u);
  EXPECT_EQ(data->train.image_shape, (std::vector<int>{1, 28, 28}));
  EXPECT_EQ(data->train.features, 784u);
  EXPECT_EQ(count(data->train, 1), 399u);  // normal or benign
  EXPECT_EQ(data->train.class_names[1], "normal or benign");
  const auto [lo, hi] = std::minmax_element(data->train.x.begin(), data->train.x.end());
  EXPECT_GE(*lo, 0.0f);
  EXPECT_LE(*hi, 1.0f);
  EXPECT_GT(*hi, 0.5f);
  EXPECT_TRUE(data->train.valid() && data->validation.valid() && data->test.valid());
}

TEST(BuiltinDatasets, UnknownNameListsTheKnownOnes) {
  const auto data = load_builtin("mnist", data_dir());
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("lung1, breast_cancer, iris, breastmnist"),
            std::string::npos);
}

TEST(BuiltinDatasets, WrongDataDirectoryIsAClearError) {
  testing::TempDir dir;
  const auto data = load_builtin("iris", dir.path());
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("data directory"), std::string::npos);
}

TEST(BuiltinDatasets, RejectsTestFractionOutsideZeroOne) {
  EXPECT_FALSE(load_builtin("iris", data_dir(), {.seed = 0, .test_fraction = 1.0}).ok());
  EXPECT_FALSE(load_builtin("iris", data_dir(), {.seed = 0, .test_fraction = 0.0}).ok());
}

class CsvDataset : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& text) {
    const auto path = dir_ / "data.csv";
    std::ofstream(path) << text;
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(CsvDataset, LoadsWithLabelPositiveValueAndDroppedColumns) {
  std::string text = "id,x,colour,y\n";
  for (int i = 0; i < 20; ++i) {
    text += "r" + std::to_string(i) + "," + std::to_string(i) + "," +
            (i % 3 == 0 ? "red" : "blue") + "," + (i % 2 == 0 ? "yes" : "no") + "\n";
  }
  CsvSchema schema;
  schema.file = write(text);
  schema.label_column = "y";
  schema.positive_value = "yes";
  schema.drop_columns = {"id"};
  const auto data = load_csv_dataset(schema);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->name, "data.csv");
  EXPECT_EQ(data->train.feature_names,
            (std::vector<std::string>{"x", "colour=blue", "colour=red"}));
  EXPECT_EQ(data->test.rows, 4u);
  EXPECT_EQ(data->test.class_counts(), (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(data->positive_class, "yes");
}

TEST_F(CsvDataset, ReportsRaggedRowsMissingLabelAndAbsentPositiveValue) {
  CsvSchema schema;
  schema.label_column = "y";
  schema.positive_value = "1";
  schema.file = write("x,y\n1,0\n2\n");
  EXPECT_NE(load_csv_dataset(schema).error().message.find("line 3"), std::string::npos);
  schema.file = write("x,z\n1,0\n2,1\n");
  EXPECT_NE(load_csv_dataset(schema).error().message.find("no label column 'y'"),
            std::string::npos);
  schema.file = write("x,y\n1,0\n2,2\n");
  EXPECT_NE(load_csv_dataset(schema).error().message.find("never occurs"), std::string::npos);
  schema.file = write("");
  EXPECT_NE(load_csv_dataset(schema).error().message.find("is empty"), std::string::npos);
  schema.file = dir_ / "absent.csv";
  EXPECT_NE(load_csv_dataset(schema).error().message.find("cannot open"), std::string::npos);
}

TEST_F(CsvDataset, AnotherFileIsEncodedWithTheFittedSchema) {
  // A consortium fits the schema on one file; a hospital encodes its own file
  // (other column order, one class only, an unseen colour) the same way.
  std::string text = "x,colour,y\n";
  for (int i = 0; i < 20; ++i) {
    text += std::to_string(i) + "," + (i % 3 == 0 ? "red" : "blue") + "," +
            (i % 2 == 0 ? "yes" : "no") + "\n";
  }
  CsvSchema schema;
  schema.file = write(text);
  schema.label_column = "y";
  schema.positive_value = "yes";
  const auto fitted = load_csv_dataset(schema);
  ASSERT_TRUE(fitted.ok()) << fitted.error().message;
  ASSERT_FALSE(fitted->feature_schema.empty());

  const auto local = dir_ / "hospital.csv";
  std::ofstream(local) << "y,colour,x\nyes,green,3\nyes,red,NA\n";
  CsvSchema local_schema;
  local_schema.file = local;
  local_schema.label_column = "y";
  const auto d = load_csv_with_schema(local_schema, fitted->feature_schema);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->feature_names, fitted->train.feature_names);
  EXPECT_EQ(d->y, (std::vector<int>{1, 1}));
  EXPECT_EQ(d->row(0)[1] + d->row(0)[2], 0.0f);  // green: never seen in training
  EXPECT_EQ(d->row(1)[2], 1.0f);                 // red

  std::ofstream(local) << "y,x\nyes,3\n";
  const auto missing = load_csv_with_schema(local_schema, fitted->feature_schema);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no column 'colour'"), std::string::npos);
  EXPECT_FALSE(load_csv_with_schema(local_schema, "{}").ok());
}

// Issue 17, CSV safety: a typo ("12O") or an unlisted missing marker ("?") in
// a numeric column is an error naming the file, the line and the column; it
// never turns the column into a categorical one with a level per value.
TEST_F(CsvDataset, ATypoOrAQuestionMarkInANumericColumnIsAnErrorNamingFileLineAndColumn) {
  const auto text_with = [](const std::string& cell) {
    std::string text = "age,colour,y\n";
    for (int i = 0; i < 20; ++i) {
      text += (i == 3 ? cell : std::to_string(40 + i)) + "," + (i % 3 == 0 ? "red" : "blue") + "," +
              (i % 2 == 0 ? "yes" : "no") + "\n";
    }
    return text;  // the odd cell is on line 5 (header on line 1)
  };
  CsvSchema schema;
  schema.label_column = "y";
  schema.positive_value = "yes";
  for (const std::string cell : {"12O", "?"}) {
    schema.file = write(text_with(cell));
    const auto data = load_csv_dataset(schema);
    ASSERT_FALSE(data.ok()) << cell << " made the column " << data->train.feature_names[0];
    const std::string& m = data.error().message;
    EXPECT_NE(m.find(schema.file.string()), std::string::npos) << m;
    EXPECT_NE(m.find("line 5, column 'age'"), std::string::npos) << m;
    EXPECT_NE(m.find("'" + cell + "' is not a number"), std::string::npos) << m;
    EXPECT_NE(m.find("na_values"), std::string::npos) << m;
  }
  // "?" listed as a missing marker: imputed, and age stays one numeric feature.
  schema.na_values = {"", "NA", "?"};
  const auto data = load_csv_dataset(schema);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->train.feature_names,
            (std::vector<std::string>{"age", "colour=blue", "colour=red"}));
  const auto pre = Preprocessor::from_json(data->feature_schema);
  ASSERT_TRUE(pre.ok()) << pre.error().message;
  EXPECT_EQ(pre->na_values(), schema.na_values);
  // A typo is not a missing marker: still an error with "?" listed.
  schema.file = write(text_with("12O"));
  EXPECT_NE(load_csv_dataset(schema).error().message.find("line 5, column 'age'"),
            std::string::npos);
}

// A file read against a shared schema types its columns as the schema
// declares: one bad cell in a numeric column is an error even when it is the
// only value, and the schema's own na_values count as missing.
TEST_F(CsvDataset, TheSharedSchemaDeclaresColumnTypesAndItsMissingMarkers) {
  std::string text = "x,colour,y\n";
  for (int i = 0; i < 20; ++i) {
    text += std::to_string(i) + "," + (i % 3 == 0 ? "red" : "blue") + "," +
            (i % 2 == 0 ? "yes" : "no") + "\n";
  }
  CsvSchema schema;
  schema.file = write(text);
  schema.label_column = "y";
  schema.positive_value = "yes";
  const auto fitted = load_csv_dataset(schema);
  ASSERT_TRUE(fitted.ok()) << fitted.error().message;
  // Fitted with the default markers: the schema text is as before issue 17.
  EXPECT_EQ(fitted->feature_schema.find("na_values"), std::string::npos);

  const auto local = dir_ / "hospital.csv";
  CsvSchema local_schema;
  local_schema.file = local;
  local_schema.label_column = "y";
  std::ofstream(local) << "y,colour,x\nyes,red,12O\n";
  auto bad = load_csv_with_schema(local_schema, fitted->feature_schema);
  ASSERT_FALSE(bad.ok()) << "a lone '12O' was read as a number";
  EXPECT_NE(bad.error().message.find(local.string()), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("line 2, column 'x'"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("declares it numeric"), std::string::npos)
      << bad.error().message;

  std::ofstream(local) << "y,colour,x\nyes,red,?\nno,?,4\n";
  EXPECT_FALSE(load_csv_with_schema(local_schema, fitted->feature_schema).ok());
  auto json = nlohmann::json::parse(fitted->feature_schema);
  json["na_values"] = {"", "NA", "?"};
  const auto d = load_csv_with_schema(local_schema, json.dump());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->feature_names, fitted->train.feature_names);
  const auto pre = Preprocessor::from_json(json.dump());
  ASSERT_TRUE(pre.ok());
  EXPECT_FLOAT_EQ(d->row(0)[0],
                  static_cast<float>((pre->numeric()[0].median - pre->numeric()[0].mean) /
                                     pre->numeric()[0].scale));
  EXPECT_EQ(d->row(1)[1] + d->row(1)[2], 1.0f);  // "?" colour: the most frequent level

  // Bounded: another hospital's schema cannot ask for a huge marker list.
  json["na_values"] = std::vector<std::string>(65, "x");
  EXPECT_NE(Preprocessor::from_json(json.dump()).error().message.find("more than 64"),
            std::string::npos);
  json["na_values"] = {std::string(65, 'x')};
  EXPECT_NE(Preprocessor::from_json(json.dump()).error().message.find("longer than 64"),
            std::string::npos);
  json["na_values"] = {1};
  EXPECT_FALSE(Preprocessor::from_json(json.dump()).ok());
}

TEST_F(CsvDataset, TooFewRowsForASplitIsAnError) {
  CsvSchema schema;
  schema.label_column = "y";
  schema.positive_value = "1";
  schema.file = write("x,y\n1,0\n2,1\n");
  const auto data = load_csv_dataset(schema);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("too few"), std::string::npos);
}

}  // namespace
}  // namespace baton::learning
