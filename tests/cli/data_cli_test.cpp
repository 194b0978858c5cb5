// `baton data split` as a real process (through baton -> baton-learn): the
// demo's and the integration tests' per-hospital files.
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines(const fs::path& p) {
  std::vector<std::string> out;
  std::istringstream in(read_text(p));
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();  // the source file has CRLF line ends
    out.push_back(l);
  }
  return out;
}

RunResult split(const fs::path& out, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{
      "data",       "split",
      "--csv",      (source_dir() / "data" / "breast_cancer.csv").string(),
      "--label",    "malignant",
      "--positive", "1",
      "--partners", "a,b,c",
      "--seed",     "7",
      "--out",      out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_baton(args);
}

const std::vector<std::string> kFiles{
    "test.csv",    "feature_schema.json", "split.json",  "a/train.csv",     "a/validation.csv",
    "b/train.csv", "b/validation.csv",    "c/train.csv", "c/validation.csv"};

TEST(DataSplit, IsDeterministicDisjointAndComplete) {
  TempDir tmp("baton-data-split");
  const RunResult one = split(tmp / "one");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const RunResult two = split(tmp / "two");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  for (const auto& f : kFiles) {
    ASSERT_TRUE(fs::exists(tmp / "one" / f)) << f;
    EXPECT_EQ(read_text(tmp / "one" / f), read_text(tmp / "two" / f))
        << f << " differs between runs";
  }
  // Every source row lands in exactly one file, under the source's header.
  const auto source = lines(source_dir() / "data" / "breast_cancer.csv");
  std::multiset<std::string> seen;
  std::map<std::string, std::size_t> positives;  // file -> rows with malignant = 1
  for (const auto& f : kFiles) {
    if (f.find(".csv") == std::string::npos) continue;
    const auto rows = lines(tmp / "one" / f);
    ASSERT_FALSE(rows.empty()) << f;
    EXPECT_EQ(rows[0], source[0]) << f;
    EXPECT_GT(rows.size(), 1u) << f << " holds no rows";
    for (std::size_t i = 1; i < rows.size(); ++i) {
      seen.insert(rows[i]);
      if (rows[i].back() == '1') ++positives[f];
    }
  }
  const std::multiset<std::string> expected(source.begin() + 1, source.end());
  EXPECT_EQ(seen, expected);
  // Stratified: every file holds both classes, the test set 20% of the rows.
  for (const auto& f : kFiles) {
    if (f.find(".csv") == std::string::npos) continue;
    EXPECT_GT(positives[f], 0u) << f;
    EXPECT_LT(positives[f], lines(tmp / "one" / f).size() - 1) << f;
  }
  EXPECT_EQ(lines(tmp / "one" / "test.csv").size() - 1, 114u);  // round(0.2 * 569)

  // Another seed, other files.
  ASSERT_EQ(
      run_baton({"data", "split", "--csv", (source_dir() / "data" / "breast_cancer.csv").string(),
                 "--label", "malignant", "--positive", "1", "--partners", "a,b,c", "--seed", "8",
                 "--out", (tmp / "three").string()})
          .exit_code,
      0);
  EXPECT_NE(read_text(tmp / "one" / "test.csv"), read_text(tmp / "three" / "test.csv"));
}

TEST(DataSplit, RefusesBadArgumentsWithASentence) {
  TempDir tmp("baton-data-split-bad");
  RunResult r = run_baton(
      {"data", "split", "--csv", (source_dir() / "data" / "breast_cancer.csv").string(), "--label",
       "malignant", "--positive", "1", "--partners", "a,a", "--out", (tmp / "x").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("twice"), std::string::npos) << r.err;
  r = split(tmp / "y", {"--test-fraction", "1.5"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // A negative seed would wrap around to a huge unsigned one.
  r = run_baton({"data", "split", "--csv", (source_dir() / "data" / "breast_cancer.csv").string(),
                 "--label", "malignant", "--positive", "1", "--partners", "a,b", "--seed", "-3",
                 "--out", (tmp / "s").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--seed"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "s" / "test.csv"));
  r = run_baton({"data", "split", "--csv", (source_dir() / "data" / "breast_cancer.csv").string(),
                 "--label", "no_such_column", "--positive", "1", "--partners", "a,b", "--out",
                 (tmp / "z").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("baton: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("no_such_column"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "z" / "test.csv"));
}

// A CSV of 40 rows: a numeric column "age" whose row 9 holds `age9` and a
// categorical "site"; label y.
std::string csv_with_age(const std::string& age9) {
  std::string out = "age,site,y\n";
  for (int i = 0; i < 40; ++i)
    out += (i == 7 ? age9 : std::to_string(50 + i % 17)) + "," + (i % 3 ? "a" : "b") + "," +
           std::to_string(i % 2) + "\n";
  return out;
}

RunResult split_file(const fs::path& csv, const fs::path& out,
                     const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"data",       "split", "--csv",      csv.string(),
                                "--label",    "y",     "--positive", "1",
                                "--partners", "a,b",   "--out",      out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_baton(args);
}

TEST(DataSplit, NaValuesMeanMissingAsForSummarizeAndGoIntoTheSchema) {
  TempDir tmp("baton-data-split-na");
  write_text(tmp / "q.csv", csv_with_age("?"));
  // Without the option "?" is a typo in a numeric column: file, line and column named.
  RunResult r = split_file(tmp / "q.csv", tmp / "plain");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find((tmp / "q.csv").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 9, column 'age': '?' is not a number"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "plain" / "test.csv"));
  // With it, "?" is a missing cell, and the schema says so for the nodes.
  r = split_file(tmp / "q.csv", tmp / "na", {"--na-values", "NA,?", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string schema = read_text(tmp / "na" / "feature_schema.json");
  EXPECT_NE(schema.find("\"na_values\""), std::string::npos) << schema;
  EXPECT_NE(schema.find("\"?\""), std::string::npos) << schema;
  EXPECT_NE(schema.find("\"kind\": \"numeric\""), std::string::npos) << schema;
  EXPECT_NE(r.out.find("\"na_values\""), std::string::npos) << r.out;
  // Any other text in the numeric column stays an error.
  write_text(tmp / "typo.csv", csv_with_age("12O"));
  r = split_file(tmp / "typo.csv", tmp / "typo", {"--na-values", "NA,?"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find((tmp / "typo.csv").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 9, column 'age': '12O' is not a number"), std::string::npos) << r.err;
  // Bounded as a feature schema's list is.
  std::string many;
  for (int i = 0; i < 65; ++i) many += (i ? "," : "") + std::string("n") + std::to_string(i);
  r = split_file(tmp / "q.csv", tmp / "many", {"--na-values", many});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--na-values"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace baton::testing
