// Typing, labels, imputation, one-hot encoding and standardisation.
#include <gtest/gtest.h>

#include <cmath>

#include "learning/csv.h"
#include "learning/preprocess.h"
#include "learning/tabular.h"

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
  EXPECT_DOUBLE_EQ(age.mean, 60.0);                      // 50, 60 (imputed), 70, 60
  EXPECT_DOUBLE_EQ(age.scale, std::sqrt(200.0 / 4.0));   // population sd
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

TEST(Preprocessor, RejectsTableWithDifferentColumns) {
  const Table a = table_of("x,y\n1,a\n2,b\n", binary("y", "a"));
  const Table b = table_of("x,y\nfoo,a\n2,b\n", binary("y", "a"));
  const std::vector<std::size_t> rows = {0, 1};
  const auto pre = Preprocessor::fit(a, rows);
  ASSERT_TRUE(pre.ok());
  const auto d = pre->apply(b, rows);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("categorical"), std::string::npos);
  const std::vector<std::size_t> bad = {5};
  EXPECT_FALSE(pre->apply(a, bad).ok());
}

}  // namespace
}  // namespace baton::learning
