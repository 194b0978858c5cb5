// The consortium schema's pure parts (docs/PROTOCOL.md §23): a summary's
// bounds and fixed point, and the derivation (deterministic bytes, order
// independence, the width cap against a hostile member, a liar's bounded
// effect).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include <nlohmann/json.hpp>

#include "chain/consortium_schema.h"

namespace baton::chain {
namespace {

using nlohmann::json;

// A numeric column holding `values` (micro-units) with `missing` empty cells.
SummaryColumn numeric(const std::string& name, const std::vector<std::int64_t>& values,
                      std::uint64_t missing = 0) {
  SummaryColumn c;
  c.name = name;
  c.kind = SummaryKind::numeric;
  c.missing = missing;
  for (std::int64_t v : values) {
    NumericSummary& n = c.numeric;
    if (n.count == 0 || v < n.min_micro) n.min_micro = v;
    if (n.count == 0 || v > n.max_micro) n.max_micro = v;
    ++n.count;
    n.sum_micro += v;
    n.sum_squares += static_cast<u128>(static_cast<i128>(v) * v);
  }
  return c;
}

SummaryColumn categorical(const std::string& name, std::map<std::string, std::uint64_t> levels,
                          std::uint64_t missing = 0) {
  SummaryColumn c;
  c.name = name;
  c.kind = SummaryKind::categorical;
  c.levels = std::move(levels);
  c.missing = missing;
  return c;
}

DataSummaryRecord record(std::vector<SummaryColumn> columns) {
  DataSummaryRecord r;
  r.positive_value = "1";
  r.columns = std::move(columns);
  const SummaryColumn& c = r.columns.front();
  r.rows = c.missing + (c.kind == SummaryKind::numeric ? c.numeric.count : [&] {
             std::uint64_t n = 0;
             for (const auto& [l, k] : c.levels) n += k;
             return n;
           }());
  return r;
}

// Two hospitals: age (numeric, one missing cell at B), sex (levels differ).
ConsortiumSchema two_hospitals() {
  ConsortiumSchema s;
  s.summaries["alice"] = record({numeric("age", {60'000'000, 70'000'000, 80'000'000}),
                                 categorical("sex", {{"F", 2}, {"M", 1}})});
  s.summaries["bob"] = record({numeric("age", {50'000'000, 90'000'000}, 1),
                               categorical("sex", {{"F", 1}, {"M", 1}, {"X", 1}})});
  return s;
}

TEST(ConsortiumSchema, SummaryRoundTripsThroughItsProtobuf) {
  const DataSummaryRecord r = two_hospitals().summaries.at("bob");
  auto back = summary_from_proto(summary_to_proto("s1", r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);
}

TEST(ConsortiumSchema, FixedPointDecimalsAreExact) {
  EXPECT_EQ(micro_decimal(-1'500'000), "-1.5");
  EXPECT_EQ(micro_decimal(70'000'000), "70");
  EXPECT_EQ(micro_decimal(1), "0.000001");
  EXPECT_EQ(micro_decimal(-1), "-0.000001");
  EXPECT_EQ(micro_decimal(0), "0");
}

TEST(ConsortiumSchema, DerivesPooledMomentsWithTheMeanFillingMissingCells) {
  auto derived = derive_consortium_schema(two_hospitals());
  ASSERT_TRUE(derived) << derived.error().message;
  const json j = json::parse(*derived);
  const json& age = j["columns"][0];
  // Values 60, 70, 80, 50, 90: mean 70; a missing cell filled with 70 adds no
  // deviation: squares 100+0+100+400+400 = 1000 over 6 rows, sd = sqrt(166.67).
  EXPECT_EQ(age["mean"].get<double>(), 70.0);
  EXPECT_EQ(age["median"].get<double>(), 70.0);
  EXPECT_NEAR(age["scale"].get<double>(), std::sqrt(1000.0 / 6), 1e-6);
  // X is held by bob only: not a feature. F (3 rows) fills missing cells.
  const json& sex = j["columns"][1];
  EXPECT_EQ(sex["levels"], json({"F", "M"}));
  EXPECT_EQ(sex["most_frequent"], "F");
  EXPECT_EQ(consortium_schema_width(two_hospitals()).value(), 3u);
}

TEST(ConsortiumSchema, BytesDoNotDependOnTheOrderMembersPostedIn) {
  ConsortiumSchema a = two_hospitals();
  ConsortiumSchema b;  // the same summaries inserted the other way round
  b.summaries["bob"] = a.summaries.at("bob");
  b.summaries["alice"] = a.summaries.at("alice");
  b.summaries.at("bob").height = 9;  // when it was recorded decides nothing
  EXPECT_EQ(derive_consortium_schema(a).value(), derive_consortium_schema(b).value());
  // Renaming the members (who posted) changes nothing either.
  ConsortiumSchema c;
  c.summaries["zed"] = a.summaries.at("alice");
  c.summaries["amy"] = a.summaries.at("bob");
  EXPECT_EQ(derive_consortium_schema(a).value(), derive_consortium_schema(c).value());
}

TEST(ConsortiumSchema, OneMemberCannotWidenTheSchemaWith10000Levels) {
  ConsortiumSchema s = two_hospitals();
  const std::size_t honest = consortium_schema_width(s).value();
  // The ledger refuses a summary holding that many levels...
  std::map<std::string, std::uint64_t> many;
  for (int i = 0; i < 10'000; ++i) many["L" + std::to_string(100000 + i)] = 1;
  DataSummaryRecord attacker = record({numeric("age", {1'000'000}), categorical("sex", many)});
  attacker.rows = 10'000;
  attacker.columns[0] = numeric("age", std::vector<std::int64_t>(10'000, 1'000'000));
  EXPECT_FALSE(summary_from_proto(summary_to_proto("s1", attacker)));
  // ...and even one that got in would add nothing: no other member holds them.
  s.summaries["mallory"] = attacker;
  EXPECT_EQ(consortium_schema_width(s).value(), honest);
  // Two colluders holding the same 10,000 levels still get at most the cap.
  s.summaries["trudy"] = attacker;
  EXPECT_EQ(consortium_schema_width(s).value(), 1 + kMaxSchemaLevels);
}

TEST(ConsortiumSchema, ALiarMovesTheMeanByNoMoreThanItsShareOfTheBound) {
  ConsortiumSchema s;
  std::vector<std::int64_t> honest(1000, 70'000'000);  // 1000 rows of 70 at each of 3 hospitals
  for (const char* m : {"alice", "bob", "carol"}) s.summaries[m] = record({numeric("age", honest)});
  // The liar claims 1000 rows at the largest value a summary may carry.
  s.summaries["mallory"] =
      record({numeric("age", std::vector<std::int64_t>(1000, kMaxSummaryValueMicro))});
  const json j = json::parse(derive_consortium_schema(s).value());
  const double mean = j["columns"][0]["mean"].get<double>();
  // Its share is 1/4 of the rows: the mean moves by at most 1/4 of (10^6 - 70).
  EXPECT_LE(mean - 70.0, 0.25 * (1e6 - 70.0) + 1e-6);
  EXPECT_GT(mean, 70.0);  // it does move: the rule bounds it, it cannot stop it
  // A lie the ledger catches: a sum of squares below sum^2 / count.
  DataSummaryRecord bad = record({numeric("age", {10'000'000, 20'000'000})});
  bad.columns[0].numeric.sum_squares = 1;
  EXPECT_FALSE(summary_from_proto(summary_to_proto("s1", bad)));
  // A value beyond the bound.
  DataSummaryRecord big = record({numeric("age", {kMaxSummaryValueMicro + 1})});
  EXPECT_FALSE(summary_from_proto(summary_to_proto("s1", big)));
}

TEST(ConsortiumSchema, RefusesSummariesOutOfBoundsOrInconsistent) {
  const DataSummaryRecord good = two_hospitals().summaries.at("alice");
  ASSERT_TRUE(summary_from_proto(summary_to_proto("s1", good)));
  struct Case {
    const char* what;
    std::function<void(pb::DataSummary&)> edit;
  };
  const std::vector<Case> cases = {
      {"no rows", [](pb::DataSummary& m) { m.set_rows(0); }},
      {"too many rows", [](pb::DataSummary& m) { m.set_rows(kMaxSummaryRows + 1); }},
      {"missing above rows", [](pb::DataSummary& m) { m.set_missing(0, 4); }},
      {"level counts off", [](pb::DataSummary& m) { m.set_level_counts(0, 5); }},
      {"unknown kind", [](pb::DataSummary& m) { m.set_column_kinds(1, 3); }},
      {"repeated column", [](pb::DataSummary& m) { m.set_column_names(1, "age"); }},
      {"min above max", [](pb::DataSummary& m) { m.set_min_micro(0, 90'000'000); }},
      {"sum above count x max", [](pb::DataSummary& m) { m.set_sum_micro(0, 300'000'000); }},
      {"long level",
       [](pb::DataSummary& m) { m.set_level_names(1, std::string(kMaxLevelBytes + 1, 'M')); }},
      {"levels out of order", [](pb::DataSummary& m) { m.set_level_names(1, "A"); }},
      {"level of a numeric column", [](pb::DataSummary& m) { m.set_level_columns(0, 0); }},
      {"no positive value", [](pb::DataSummary& m) { m.set_positive_value(""); }},
      {"too many NA tokens",
       [](pb::DataSummary& m) {
         for (int i = 0; i < 17; ++i) m.add_na_values("n" + std::to_string(i));
       }},
  };
  for (const Case& c : cases) {
    pb::DataSummary m = summary_to_proto("s1", good);
    c.edit(m);
    EXPECT_FALSE(summary_from_proto(m)) << c.what;
  }
}

TEST(ConsortiumSchema, AColumnWithoutAnyValueDerivesNothing) {
  ConsortiumSchema s;
  s.summaries["alice"] = record({numeric("age", {}, 3)});
  EXPECT_FALSE(derive_consortium_schema(s));
  EXPECT_FALSE(derive_consortium_schema(ConsortiumSchema{}));
}

}  // namespace
}  // namespace baton::chain
