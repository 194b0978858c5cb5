#include "learning/plots.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "tests/support/test_support.h"

namespace baton::learning {
namespace {

// Minimal XML well-formedness check: balanced, properly nested tags, one
// root element, entities only from the predefined five, no stray '<'.
// Returns an empty string when well formed, else what is wrong.
std::string xml_problem(const std::string& doc) {
  std::vector<std::string> stack;
  int roots = 0;
  std::size_t i = 0;
  while (i < doc.size()) {
    const char c = doc[i];
    if (c == '&') {
      static const char* kEntities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
      bool ok = false;
      for (const char* e : kEntities) ok = ok || doc.compare(i, std::string(e).size(), e) == 0;
      if (!ok) return "bad entity at " + std::to_string(i);
      ++i;
      continue;
    }
    if (c != '<') {
      ++i;
      continue;
    }
    if (doc.compare(i, 2, "<?") == 0) {
      const auto end = doc.find("?>", i);
      if (end == std::string::npos) return "unclosed <?";
      i = end + 2;
      continue;
    }
    const auto end = doc.find('>', i);
    if (end == std::string::npos) return "unclosed tag at " + std::to_string(i);
    std::string tag = doc.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside a tag at " + std::to_string(i);
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) return "mismatched </" + name + ">";
      stack.pop_back();
    } else {
      const bool self_closing = !tag.empty() && tag.back() == '/';
      const std::string name = tag.substr(0, tag.find_first_of(" \n/"));
      if (name.empty()) return "empty tag name at " + std::to_string(i);
      if (stack.empty()) ++roots;
      if (!self_closing) stack.push_back(name);
      // Attribute quotes must balance.
      if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return "odd quotes in <" + name;
    }
    i = end + 1;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  if (roots != 1) return "expected one root element, found " + std::to_string(roots);
  return "";
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::vector<ScoredCurve> two_curves() {
  ScoredCurve a{"centralized", {0, 0, 1, 1, 0, 1}, {0.1, 0.4, 0.35, 0.8, 0.2, 0.9}};
  ScoredCurve b{"scenario <4> & \"co\"", {0, 0, 1, 1, 0, 1}, {0.3, 0.6, 0.5, 0.7, 0.2, 0.4}};
  return {a, b};
}

TEST(XmlCheck, RejectsBrokenDocuments) {
  EXPECT_EQ(xml_problem("<svg><g></g></svg>"), "");
  EXPECT_NE(xml_problem("<svg><g></svg>"), "");
  EXPECT_NE(xml_problem("<svg>a & b</svg>"), "");
  EXPECT_NE(xml_problem("<svg/><svg/>"), "");
}

TEST(RocSvg, IsWellFormedWithAxesDiagonalCurvesAndLegend) {
  const auto curves = two_curves();
  const auto svg = roc_svg(curves, {.title = "lung1, seed 1"});
  ASSERT_TRUE(svg.ok()) << svg.error().message;
  EXPECT_EQ(xml_problem(*svg), "") << *svg;
  EXPECT_NE(svg->find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(occurrences(*svg, "<polyline"), 2u);
  EXPECT_EQ(occurrences(*svg, "class=\"diagonal\""), 1u);
  EXPECT_NE(svg->find("False positive rate"), std::string::npos);
  EXPECT_NE(svg->find("True positive rate"), std::string::npos);
  // AUC of the first curve: 8 of 9 pairs ordered → 0.889.
  EXPECT_NE(svg->find("centralized (AUC 0.889)"), std::string::npos);
  // The second: 7 of 9 pairs → 0.778; its name is escaped.
  EXPECT_NE(svg->find("scenario &lt;4&gt; &amp; &quot;co&quot; (AUC 0.778)"), std::string::npos);
  EXPECT_NE(svg->find("lung1, seed 1"), std::string::npos);
}

TEST(RocSvg, CurveStartsAtOriginAndEndsAtTopRight) {
  const auto curves = two_curves();
  const auto svg = roc_svg(std::span(curves).first(1));
  ASSERT_TRUE(svg.ok());
  const auto start = svg->find("<polyline points=\"") + 18;
  const auto stop = svg->find('"', start);
  const std::string points = svg->substr(start, stop - start);
  // Plot area: left 64, top 20, side 436 for the default 520 px.
  EXPECT_EQ(points.substr(0, points.find(' ')), "64.00,456.00");
  EXPECT_EQ(points.substr(points.rfind(' ') + 1), "500.00,20.00");
}

TEST(CalibrationSvg, IsWellFormedWithOnePointPerNonEmptyBin) {
  const auto curves = two_curves();
  const auto svg = calibration_svg(curves);
  ASSERT_TRUE(svg.ok()) << svg.error().message;
  EXPECT_EQ(xml_problem(*svg), "") << *svg;
  EXPECT_EQ(occurrences(*svg, "<polyline"), 2u);
  // One marker per non-empty bin: curve a has 5 (0.35 and 0.4 share
  // (0.3, 0.4]), curve b 6.
  EXPECT_EQ(occurrences(*svg, "<circle"), 11u);
  EXPECT_NE(svg->find("Fraction of positives"), std::string::npos);
  EXPECT_NE(svg->find("centralized (Brier "), std::string::npos);
}

TEST(PlotSvg, RejectsEmptyInputSingleClassAndBadProbabilities) {
  EXPECT_FALSE(roc_svg({}).ok());
  const std::vector<ScoredCurve> one_class = {{"x", {1, 1}, {0.2, 0.3}}};
  const auto r = roc_svg(one_class);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("ROC curve of 'x'"), std::string::npos);
  const std::vector<ScoredCurve> bad = {{"x", {0, 1}, {0.2, 1.5}}};
  EXPECT_FALSE(calibration_svg(bad).ok());
  const std::vector<ScoredCurve> ragged = {{"x", {0, 1}, {0.2}}};
  EXPECT_FALSE(roc_svg(ragged).ok());
  PlotOptions tiny;
  tiny.size = 10;
  EXPECT_FALSE(roc_svg(two_curves(), tiny).ok());
}

TEST(PlotSvg, WritesFilesAndReportsUnwritableDirectory) {
  testing::TempDir dir;
  const auto curves = two_curves();
  ASSERT_TRUE(write_roc_svg(dir / "roc.svg", curves).ok());
  ASSERT_TRUE(write_calibration_svg(dir / "cal.svg", curves).ok());
  std::stringstream text;
  text << std::ifstream(dir / "roc.svg").rdbuf();
  EXPECT_EQ(text.str(), *roc_svg(curves));
  EXPECT_FALSE(std::filesystem::exists(dir / "roc.svg.tmp"));
  const auto bad = write_roc_svg(dir / "missing" / "roc.svg", curves);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("cannot write"), std::string::npos);
}

}  // namespace
}  // namespace baton::learning

namespace baton::learning {
namespace {

TEST(CalibrationSvg, ShowsEachBinsCountAndWilsonInterval) {
  const auto curves = two_curves();
  const auto svg = calibration_svg(curves);
  ASSERT_TRUE(svg.ok()) << svg.error().message;
  EXPECT_EQ(xml_problem(*svg), "") << *svg;
  // One interval and one count per non-empty bin (5 + 6), and the key.
  EXPECT_EQ(occurrences(*svg, "class=\"ci\""), 11u);
  EXPECT_EQ(occurrences(*svg, "class=\"bin-count\""), 11u);
  EXPECT_EQ(occurrences(*svg, ">n=2</text>"), 1u);  // curve a's (0.3, 0.4] bin
  EXPECT_EQ(occurrences(*svg, ">n=1</text>"), 10u);
  EXPECT_NE(svg->find("bars: Wilson 95%; n: rows per bin"), std::string::npos);
}

TEST(WilsonInterval, MatchesTheTextbookValues) {
  // 5 of 10 at 95%: [0.2366, 0.7634]; 0 of 10: [0, 0.2775]; 10 of 10: [0.7225, 1].
  const Interval half = wilson_interval(5, 10);
  EXPECT_NEAR(half.low, 0.2366, 1e-4);
  EXPECT_NEAR(half.high, 0.7634, 1e-4);
  const Interval none = wilson_interval(0, 10);
  EXPECT_NEAR(none.low, 0.0, 1e-12);
  EXPECT_NEAR(none.high, 0.2775, 1e-4);
  const Interval all = wilson_interval(10, 10);
  EXPECT_NEAR(all.low, 0.7225, 1e-4);
  EXPECT_NEAR(all.high, 1.0, 1e-12);
  const Interval empty = wilson_interval(0, 0);
  EXPECT_EQ(empty.low, 0.0);
  EXPECT_EQ(empty.high, 1.0);
}

TEST(AucTicks, AreRoundStepsSpanningTheData) {
  // The case: AUCs between 0.65 and 0.79 gave ticks 0.65, 0.72, 0.79.
  const Ticks t = auc_ticks(0.651, 0.789);
  EXPECT_NEAR(t.step, 0.02, 1e-12);
  EXPECT_NEAR(t.low, 0.64, 1e-12);
  EXPECT_NEAR(t.high, 0.80, 1e-12);
  const Ticks wide = auc_ticks(0.31, 0.98);
  EXPECT_NEAR(wide.step, 0.1, 1e-12);
  EXPECT_NEAR(wide.low, 0.3, 1e-12);
  EXPECT_NEAR(wide.high, 1.0, 1e-12);
  const Ticks full = auc_ticks(0.0, 1.0);
  EXPECT_NEAR(full.step, 0.2, 1e-12);
  const Ticks one = auc_ticks(0.9, 0.9);
  EXPECT_LT(one.low, one.high);
  EXPECT_LE(one.high, 1.0);
  const Ticks top = auc_ticks(0.995, 1.0);
  EXPECT_NEAR(top.high, 1.0, 1e-12);
  EXPECT_LE(top.low, 0.995);
}

std::vector<TurnVotes> three_turns() {
  // Turn 1 was rejected although carol approved it: her vote must show as an
  // approval, the turn as a rejection.
  return {{0, "alice", 0, "approved", {{"bob", true, 0.71, 0.5}, {"carol", true, 0.69, 0.5}}},
          {1, "bob", 0, "rejected", {{"alice", false, 0.66, 0.70}, {"carol", true, 0.72, 0.69}}},
          {2, "carol", 0, "expired", {}}};
}

TEST(AucPerTurnSvg, MarksEachVoteByItsOwnDecisionAndTheTurnByItsOutcome) {
  const std::string svg = auc_per_turn_svg(three_turns(), "Candidate AUC per turn (run r)", false);
  EXPECT_EQ(xml_problem(svg), "") << svg;
  EXPECT_EQ(occurrences(svg, "class=\"vote-approve\""), 3u);
  EXPECT_EQ(occurrences(svg, "class=\"vote-reject\""), 1u);
  EXPECT_EQ(occurrences(svg, "class=\"head\""), 4u);  // the head's AUC beside every vote
  EXPECT_EQ(occurrences(svg, "class=\"outcome-approved\""), 1u);
  EXPECT_EQ(occurrences(svg, "class=\"outcome-rejected\""), 1u);
  EXPECT_EQ(occurrences(svg, "class=\"outcome-expired\""), 1u);
  EXPECT_NE(svg.find("AUC (voter's validation data)"), std::string::npos);
  EXPECT_NE(svg.find("turn (trained by)"), std::string::npos);
  EXPECT_EQ(occurrences(svg, "class=\"trainer\""), 3u);
  // Round ticks: 0.50 .. 0.75 by 0.05 (0.5 is the head's AUC at turn 0).
  for (const char* tick : {">0.50<", ">0.55<", ">0.60<", ">0.65<", ">0.70<", ">0.75<"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  EXPECT_EQ(svg.find(">0.72<"), std::string::npos);
}

TEST(AucPerTurnSvg, FederatedRoundsNameTheAggregatorAndUpdatesAndEmptyRunsSaySo) {
  std::vector<TurnVotes> rounds = {
      {0, "bob", 3, "approved", {{"alice", true, 0.8, 0.5}, {"carol", false, 0.6, 0.7}}},
      {1, "", 0, "expired", {}}};
  const std::string svg = auc_per_turn_svg(rounds, "Candidate AUC per round (run f)", true);
  EXPECT_EQ(xml_problem(svg), "") << svg;
  EXPECT_NE(svg.find(">bob (3 up)</text>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("round (aggregated by; updates)"), std::string::npos);
  EXPECT_NE(svg.find(">round approved</text>"), std::string::npos);
  const std::string empty = auc_per_turn_svg({}, "Candidate AUC per turn (run e)", false);
  EXPECT_EQ(xml_problem(empty), "") << empty;
  EXPECT_NE(empty.find("no turn has begun"), std::string::npos);
}

}  // namespace
}  // namespace baton::learning
