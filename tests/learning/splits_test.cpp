#include "learning/splits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

namespace baton::learning {
namespace {

std::vector<int> labels_with(std::size_t negatives, std::size_t positives) {
  // Interleaved so that class membership does not follow row order.
  std::vector<int> y;
  std::size_t n = 0;
  std::size_t p = 0;
  while (n < negatives || p < positives) {
    if (n < negatives) y.push_back(0), ++n;
    if (n < negatives) y.push_back(0), ++n;
    if (p < positives) y.push_back(1), ++p;
  }
  return y;
}

std::size_t count_class(const std::vector<std::size_t>& rows, const std::vector<int>& y, int c) {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [&](std::size_t i) { return y[i] == c; }));
}

TEST(Engine, SameSeedAndStreamGiveSameSequenceOtherStreamsDiffer) {
  auto a = make_engine(42, 1, 0);
  auto b = make_engine(42, 1, 0);
  auto c = make_engine(42, 2, 0);
  auto d = make_engine(42, 1, 1);
  const auto first = a();
  EXPECT_EQ(first, b());
  EXPECT_NE(first, c());
  EXPECT_NE(first, d());
}

TEST(Engine, Mt19937_64MatchesTheStandardsCheckValue) {
  // [rand.predef]: the 10000th output of a default-constructed mt19937_64.
  std::mt19937_64 rng;
  rng.discard(9999);
  EXPECT_EQ(rng(), 9981545732273789042ULL);
}

TEST(UniformBelow, StaysInRangeAndCoversIt) {
  auto rng = make_engine(1, 0, 0);
  std::vector<int> hits(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const auto v = uniform_below(rng, 7);
    ASSERT_LT(v, 7u);
    ++hits[v];
  }
  for (const int h : hits) EXPECT_GT(h, 800);  // expected 1000 each
}

TEST(ShuffleIndices, IsAPermutationAndDependsOnTheSeed) {
  std::vector<std::size_t> v(50);
  std::iota(v.begin(), v.end(), std::size_t{0});
  auto a = v;
  auto b = v;
  auto r1 = make_engine(1, 0, 0);
  auto r2 = make_engine(2, 0, 0);
  shuffle_indices(a, r1);
  shuffle_indices(b, r2);
  EXPECT_NE(a, v);
  EXPECT_NE(a, b);
  std::sort(a.begin(), a.end());
  EXPECT_EQ(a, v);
}

// Pins the exact algorithm (engine, seeding, Fisher–Yates, rejection): if this
// changes, every published split and experiment changes with it. The values
// come from an independent Python implementation of seed_seq and mt19937_64
// written from the standard's text: tests/learning/reference/splits_reference.py.
TEST(ShuffleIndices, IsStableAcrossPlatforms) {
  std::vector<std::size_t> v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto rng = make_engine(2026, 0, 0);
  shuffle_indices(v, rng);
  EXPECT_EQ(v, (std::vector<std::size_t>{6, 9, 3, 4, 2, 8, 0, 7, 1, 5}));
}

TEST(Apportion, ScalesThePapersProportionsToOurTrainingSet) {
  const std::vector<std::size_t> s4 = {112, 451};
  const std::vector<std::size_t> s5 = {113, 67, 383};
  const std::vector<std::size_t> s6 = {57, 355, 113, 38};
  EXPECT_EQ(apportion(336, s4), (std::vector<std::size_t>{67, 269}));
  EXPECT_EQ(apportion(336, s5), (std::vector<std::size_t>{67, 40, 229}));
  EXPECT_EQ(apportion(336, s6), (std::vector<std::size_t>{34, 212, 67, 23}));
  EXPECT_EQ(apportion(563, s6), (std::vector<std::size_t>{57, 355, 113, 38}));
}

TEST(Apportion, GivesLeftoverUnitsToLargestRemaindersTiesToLowerIndex) {
  const std::vector<std::size_t> equal3 = {1, 1, 1};
  EXPECT_EQ(apportion(5, equal3), (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(apportion(0, equal3), (std::vector<std::size_t>{0, 0, 0}));
  const std::vector<std::size_t> w = {1, 0, 3};
  EXPECT_EQ(apportion(7, w), (std::vector<std::size_t>{2, 0, 5}));  // 1.75, 0, 5.25
}

TEST(StratifiedSplit, HoldsOutTwentyPercentOfEachClass) {
  const auto y = labels_with(251, 169);  // lung1's class sizes
  const auto split = stratified_split(y, 2, 0.2, 7);
  EXPECT_EQ(split.test.size(), 84u);
  EXPECT_EQ(split.train.size(), 336u);
  // apportion(84, {251, 169}) = 50.2 → 50, 33.8 → 34
  EXPECT_EQ(count_class(split.test, y, 0), 50u);
  EXPECT_EQ(count_class(split.test, y, 1), 34u);
  std::vector<std::size_t> all = split.train;
  all.insert(all.end(), split.test.begin(), split.test.end());
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(y.size());
  std::iota(expected.begin(), expected.end(), std::size_t{0});
  EXPECT_EQ(all, expected);
  EXPECT_TRUE(std::is_sorted(split.train.begin(), split.train.end()));
}

// Same reference script: "stratified_split(labels_with(251, 169), 0.2, seed 7):
// test [1, 2, 11, 13, 21, 24, 32, 44, 46, 58] ... sum 18735".
TEST(StratifiedSplit, MatchesIndependentImplementation) {
  const auto y = labels_with(251, 169);
  const auto split = stratified_split(y, 2, 0.2, 7);
  ASSERT_GE(split.test.size(), 10u);
  EXPECT_EQ(std::vector<std::size_t>(split.test.begin(), split.test.begin() + 10),
            (std::vector<std::size_t>{1, 2, 11, 13, 21, 24, 32, 44, 46, 58}));
  EXPECT_EQ(std::accumulate(split.test.begin(), split.test.end(), std::size_t{0}), 18735u);
}

TEST(StratifiedSplit, IsReproducibleFromTheSeed) {
  const auto y = labels_with(100, 50);
  EXPECT_EQ(stratified_split(y, 2, 0.2, 3).test, stratified_split(y, 2, 0.2, 3).test);
  EXPECT_NE(stratified_split(y, 2, 0.2, 3).test, stratified_split(y, 2, 0.2, 4).test);
}

void expect_partition_of(const std::vector<std::vector<std::size_t>>& parts, std::size_t n) {
  std::vector<std::size_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(n);
  std::iota(expected.begin(), expected.end(), std::size_t{0});
  EXPECT_EQ(all, expected);
}

TEST(PaperScenarios, PartnerSizesMatchScaledProportionsAndSumToTrainingSize) {
  const auto y = labels_with(201, 135);  // 336 training rows as in lung1
  const auto scenarios = paper_scenarios(y, 2, 11);
  ASSERT_EQ(scenarios.size(), 6u);
  const std::vector<std::vector<std::size_t>> sizes = {
      {168, 168}, {112, 112, 112}, {84, 84, 84, 84}, {67, 269}, {67, 40, 229}, {34, 212, 67, 23}};
  for (std::size_t k = 0; k < 6; ++k) {
    SCOPED_TRACE(scenarios[k].name);
    EXPECT_EQ(scenarios[k].name, "scenario" + std::to_string(k + 1));
    std::vector<std::size_t> got;
    for (const auto& p : scenarios[k].partners) got.push_back(p.size());
    EXPECT_EQ(got, sizes[k]);
    expect_partition_of(scenarios[k].partners, y.size());
    for (const auto& p : scenarios[k].partners) {
      // Stratified: each partner's share of positives is within one row of
      // the overall share.
      const double target = static_cast<double>(p.size()) * 135.0 / 336.0;
      EXPECT_LT(std::abs(static_cast<double>(count_class(p, y, 1)) - target), 1.0);
    }
  }
}

TEST(PaperScenarios, ScenariosDifferFromEachOtherAndAreReproducible) {
  const auto y = labels_with(60, 40);
  const auto a = paper_scenarios(y, 2, 5);
  const auto b = paper_scenarios(y, 2, 5);
  const auto c = paper_scenarios(y, 2, 6);
  for (std::size_t k = 0; k < 6; ++k) EXPECT_EQ(a[k].partners, b[k].partners);
  EXPECT_NE(a[0].partners, c[0].partners);
  EXPECT_NE(a[0].partners[0], a[3].partners[0]);
}

TEST(StratifiedPartition, GivesEveryPartnerBothClassesWhenAnotherCanSpareOne) {
  // 22 rows, 4 positives, weights 10:1 → sizes 20 and 2. Plain rounding gives
  // the small partner 0 positives and 2 negatives; the swap fixes that.
  const auto y = labels_with(18, 4);
  const std::vector<std::size_t> w = {10, 1};
  const auto parts = stratified_partition(y, 2, w, 1, 1);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].size(), 2u);
  EXPECT_EQ(count_class(parts[1], y, 1), 1u);
  EXPECT_EQ(count_class(parts[1], y, 0), 1u);
  expect_partition_of(parts, y.size());
}

TEST(StratifiedPartition, LeavesAPartnerWithoutAClassWhenNoneCanBeSpared) {
  // 2 positives for 4 partners: two partners cannot have one.
  const auto y = labels_with(18, 2);
  const std::vector<std::size_t> w = {1, 1, 1, 1};
  const auto parts = stratified_partition(y, 2, w, 1, 1);
  std::size_t with_positive = 0;
  for (const auto& p : parts) with_positive += count_class(p, y, 1) > 0 ? 1 : 0;
  EXPECT_EQ(with_positive, 2u);
  expect_partition_of(parts, y.size());
}

TEST(StratifiedPartition, HandlesThreeClasses) {
  std::vector<int> y;
  for (int i = 0; i < 120; ++i) y.push_back(i % 3);
  const std::vector<std::size_t> w = {57, 355, 113, 38};
  const auto parts = stratified_partition(y, 3, w, 9, 6);
  expect_partition_of(parts, y.size());
  for (const auto& p : parts) {
    for (int c = 0; c < 3; ++c) EXPECT_GT(count_class(p, y, c), 0u);
  }
}

}  // namespace
}  // namespace baton::learning
