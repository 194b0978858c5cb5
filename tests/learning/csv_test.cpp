#include "learning/csv.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/test_support.h"

namespace baton::learning {
namespace {

TEST(CsvParse, ReadsQuotedFieldsWithCommasQuotesAndNewlines) {
  const auto t = parse_csv("name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\nx,\"two\nlines\"\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][0], "Smith, J");
  EXPECT_EQ(t->rows[0][1], "said \"hi\"");
  EXPECT_EQ(t->rows[1][1], "two\nlines");
  EXPECT_EQ(t->line_of_row[1], 3u);
}

TEST(CsvParse, AcceptsCrlfBomBlankLinesAndMissingFinalNewline) {
  const auto t = parse_csv(
      "\xEF\xBB\xBF"
      "a,b\r\n1,2\r\n\r\n3, 4 ");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[1][1], "4");  // unquoted cells are trimmed
  EXPECT_EQ(t->line_of_row[1], 4u);
}

TEST(CsvParse, KeepsEmptyTrailingCell) {
  const auto t = parse_csv("a,b,c\n1,,\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->rows[0], (std::vector<std::string>{"1", "", ""}));
}

TEST(CsvParse, RejectsRaggedRowWithItsLineNumber) {
  const auto t = parse_csv("a,b\n1,2\n3\n", "f.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("f.csv, line 3"), std::string::npos) << t.error().message;
  EXPECT_NE(t.error().message.find("1 cells but the header has 2"), std::string::npos);
}

TEST(CsvParse, RejectsEmptyInput) {
  for (const char* text : {"", "\n\n", "\xEF\xBB\xBF"}) {
    const auto t = parse_csv(text);
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.error().message.find("is empty"), std::string::npos);
  }
}

TEST(CsvParse, RejectsUnterminatedQuoteAndTextAfterQuote) {
  EXPECT_NE(parse_csv("a\n\"open\n").error().message.find("never closed"), std::string::npos);
  EXPECT_NE(parse_csv("a\n\"x\"y\n").error().message.find("after a closing quote"),
            std::string::npos);
  EXPECT_FALSE(parse_csv("a\nx\"y\n").ok());
}

TEST(CsvParse, RejectsDuplicateAndEmptyColumnNames) {
  EXPECT_NE(parse_csv("a,a\n1,2\n").error().message.find("twice"), std::string::npos);
  EXPECT_NE(parse_csv("a,\n1,2\n").error().message.find("no name"), std::string::npos);
}

TEST(CsvFile, ReportsMissingFileAndDirectory) {
  testing::TempDir dir;
  const auto missing = read_csv_file(dir / "nope.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot open"), std::string::npos);
  EXPECT_FALSE(read_csv_file(dir.path()).ok());
}

TEST(CsvFile, ReadsAFile) {
  testing::TempDir dir;
  std::ofstream(dir / "t.csv") << "x,y\n1,a\n";
  const auto t = read_csv_file(dir / "t.csv");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->column_index("y"), 1);
  EXPECT_EQ(t->column_index("z"), -1);
}

}  // namespace
}  // namespace baton::learning
