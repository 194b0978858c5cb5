// Metrics against independent implementations. Every reference value below
// was produced once by the command in the comment above it, on Debian 12 with
// python3-sklearn 1.2.1 / python3-numpy 1.24.2 (/usr/bin/python3);
// tests/learning/reference/metrics_reference.py prints them all again, and
// tests/learning/reference/delong_reference.R cross-checks DeLong with pROC.
#include "learning/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "learning/csv.h"
#include "learning/tabular.h"
#include "tests/support/test_support.h"

namespace baton::learning {
namespace {

// Shared fixture: 12 rows with ties across classes (0.4 ×3) and within a
// class (0.35 ×2), scores exactly on calibration bin edges (0.1, 0.2, 0.6, …).
const std::vector<int> kLabels = {0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0};
const std::vector<double> kScoresA = {0.1, 0.4,  0.35, 0.8, 0.4, 0.9,
                                      0.2, 0.35, 0.7,  0.6, 0.4, 0.05};
const std::vector<double> kScoresB = {0.3, 0.5, 0.3, 0.7, 0.1, 0.7, 0.3, 0.6, 0.9, 0.2, 0.5, 0.0};

// python3 -c 'from sklearn.metrics import roc_auc_score as f;
//   y=[0,0,1,1,0,1,0,1,1,0,1,0];
//   print(repr(f(y,[0.1,0.4,0.35,0.8,0.4,0.9,0.2,0.35,0.7,0.6,0.4,0.05])),
//         repr(f(y,[0.3,0.5,0.3,0.7,0.1,0.7,0.3,0.6,0.9,0.2,0.5,0.0])))'
// -> 0.7777777777777778 0.9305555555555556
TEST(RocAuc, MatchesScikitLearnWithTies) {
  EXPECT_NEAR(*roc_auc(kLabels, kScoresA), 0.7777777777777778, 1e-12);
  EXPECT_NEAR(*roc_auc(kLabels, kScoresB), 0.9305555555555556, 1e-12);
}

// Hanley & McNeil (1982), Radiology 143:29-36, Table 1: CT ratings 1..5 of
// 58 normal (33, 6, 6, 11, 2) and 51 abnormal (3, 2, 2, 11, 33) patients;
// the paper reports the trapezoidal area 0.893. scikit-learn gives
// 0.8931710615280595 for the same data.
TEST(RocAuc, MatchesHanleyMcNeilPublishedExample) {
  std::vector<int> labels;
  std::vector<double> ratings;
  const int normal[5] = {33, 6, 6, 11, 2};
  const int abnormal[5] = {3, 2, 2, 11, 33};
  for (int r = 0; r < 5; ++r) {
    for (int k = 0; k < normal[r]; ++k) labels.push_back(0), ratings.push_back(r + 1);
    for (int k = 0; k < abnormal[r]; ++k) labels.push_back(1), ratings.push_back(r + 1);
  }
  const double auc = *roc_auc(labels, ratings);
  EXPECT_NEAR(auc, 0.893, 0.0005);
  EXPECT_NEAR(auc, 0.8931710615280595, 1e-12);
}

TEST(RocAuc, AllTiedScoresGiveOneHalf) {
  const std::vector<int> y = {0, 1, 0, 1};
  const std::vector<double> s = {0.5, 0.5, 0.5, 0.5};
  EXPECT_DOUBLE_EQ(*roc_auc(y, s), 0.5);
}

TEST(RocAuc, IsAnErrorWhenOnlyOneClassIsPresent) {
  const std::vector<int> y = {1, 1, 1};
  const std::vector<double> s = {0.1, 0.2, 0.3};
  const auto auc = roc_auc(y, s);
  ASSERT_FALSE(auc.ok());
  EXPECT_NE(auc.error().message.find("all of one class"), std::string::npos);
}

TEST(RocAuc, IsAnErrorForLabelsOtherThanZeroOrOneAndForNaN) {
  EXPECT_FALSE(roc_auc(std::vector<int>{0, 2}, std::vector<double>{0.1, 0.2}).ok());
  EXPECT_FALSE(roc_auc(std::vector<int>{0, 1}, std::vector<double>{0.1, std::nan("")}).ok());
}

// Independent DeLong implementation, straight from DeLong et al. (1988)'s
// definitions (O(m·n) kernel psi, no ranks), run once:
//   def psi(x, z): return 1.0 if x > z else (0.5 if x == z else 0.0)
//   def comps(s):
//     X=[v for v,l in zip(s,y) if l==1]; Y=[v for v,l in zip(s,y) if l==0]
//     v10=[sum(psi(x,z) for z in Y)/len(Y) for x in X]
//     v01=[sum(psi(x,z) for x in X)/len(X) for z in Y]
//     return sum(v10)/len(v10), v10, v01
//   def cov(p,q): mp,mq=sum(p)/len(p),sum(q)/len(q);
//     return sum((u-mp)*(w-mq) for u,w in zip(p,q))/(len(p)-1)
//   A,a10,a01=comps(a); B,b10,b01=comps(b); m,n=len(a10),len(a01)
//   va=cov(a10,a10)/m+cov(a01,a01)/n; vb=cov(b10,b10)/m+cov(b01,b01)/n
//   cab=cov(a10,b10)/m+cov(a01,b01)/n; zq=statistics.NormalDist().inv_cdf(0.975)
//   print(A, va, max(0,A-zq*sqrt(va)), min(1,A+zq*sqrt(va)))   # and for B
//   vd=va+vb-2*cab; z=(A-B)/sqrt(vd)
//   print(vd, z, math.erfc(abs(z)/sqrt(2)), NormalDist().cdf(z))
// with y, a, b = kLabels, kScoresA, kScoresB ->
//   a 0.7777777777777778 0.020524691358024694 0.4969846926433528 1
//   b 0.9305555555555555 0.00455246913580247 0.7983128895295479 1
//   diff var 0.017515432098765438 z -1.1543825704430613
//   p2 0.24834335770224575 p1 0.1241716788511229
// pROC 1.18.0 (Debian r-cran-proc; Robin et al., BMC Bioinformatics 12:77,
// 2011) agrees to the last digit: var(roc(y, a), method="delong") =
// 0.020524691358024694, ci.auc low 0.49698469264335282, roc.test(ra, rb,
// method="delong"): z = -1.1543825704430613, p = 0.24834335770224575,
// alternative="less": p = 0.12417167885112287 (delong_reference.R).
TEST(DeLong, VarianceAndIntervalMatchIndependentImplementation) {
  const auto a = delong_auc(kLabels, kScoresA);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_NEAR(a->auc, 0.7777777777777778, 1e-12);
  EXPECT_NEAR(a->variance, 0.020524691358024694, 1e-12);
  EXPECT_NEAR(a->ci_low, 0.4969846926433528, 1e-9);
  EXPECT_DOUBLE_EQ(a->ci_high, 1.0);
  const auto b = delong_auc(kLabels, kScoresB);
  ASSERT_TRUE(b.ok());
  EXPECT_NEAR(b->variance, 0.00455246913580247, 1e-12);
  EXPECT_NEAR(b->ci_low, 0.7983128895295479, 1e-9);
}

TEST(DeLong, PairedTestMatchesIndependentImplementation) {
  const auto t = delong_paired_test(kLabels, kScoresA, kScoresB);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_NEAR(t->auc_a, 0.7777777777777778, 1e-12);
  EXPECT_NEAR(t->auc_b, 0.9305555555555556, 1e-12);
  EXPECT_NEAR(t->variance, 0.017515432098765438, 1e-12);
  EXPECT_NEAR(t->z, -1.1543825704430613, 1e-9);
  EXPECT_NEAR(t->p_two_sided, 0.24834335770224575, 1e-9);
  EXPECT_NEAR(t->p_one_sided_a_worse, 0.1241716788511229, 1e-9);
  EXPECT_TRUE(t->note.empty());
}

// Published example: pROC's documentation of roc.test compares s100b and wfns
// on its aSAH data (113 patients): "Z = -2.209, p-value = 0.02718", and
// ci.auc(s100b) (DeLong) "95% CI: 0.6301-0.8326". The three columns are in
// tests/learning/reference/aSAH.csv (provenance and licence beside it); pROC
// 1.18.0 itself gives z = -2.2089835914409077, p = 0.02717578222918815 and the
// CI 0.63011821176162264 to 0.83261891560965107 on that file, which Baton
// matches to 12 digits.
TEST(DeLong, MatchesPRocPublishedExampleOnASAH) {
  const auto csv =
      read_csv_file(testing::source_dir() / "tests" / "learning" / "reference" / "aSAH.csv");
  ASSERT_TRUE(csv.ok()) << csv.error().message;
  ASSERT_EQ(csv->rows.size(), 113u);
  std::vector<int> y;
  std::vector<double> s100b;
  std::vector<double> wfns;
  for (const auto& row : csv->rows) {
    y.push_back(row[0] == "1" ? 1 : 0);
    s100b.push_back(*parse_number(row[1]));
    wfns.push_back(*parse_number(row[2]));
  }
  const auto t = delong_paired_test(y, s100b, wfns);
  ASSERT_TRUE(t.ok());
  EXPECT_NEAR(t->auc_a, 0.73136856368563685, 1e-12);
  EXPECT_NEAR(t->auc_b, 0.82367886178861793, 1e-12);
  EXPECT_NEAR(t->z, -2.2089835914409077, 1e-12);
  EXPECT_NEAR(t->p_two_sided, 0.02717578222918815, 1e-12);
  const auto ci = delong_auc(y, s100b);
  ASSERT_TRUE(ci.ok());
  EXPECT_NEAR(ci->ci_low, 0.63011821176162264, 1e-12);
  EXPECT_NEAR(ci->ci_high, 0.83261891560965107, 1e-12);
}

TEST(DeLong, SwappingModelsNegatesZAndKeepsTwoSidedP) {
  const auto ab = delong_paired_test(kLabels, kScoresA, kScoresB);
  const auto ba = delong_paired_test(kLabels, kScoresB, kScoresA);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_NEAR(ab->z, -ba->z, 1e-12);
  EXPECT_NEAR(ab->p_two_sided, ba->p_two_sided, 1e-12);
  EXPECT_NEAR(ab->p_one_sided_a_worse + ba->p_one_sided_a_worse, 1.0, 1e-12);
}

TEST(DeLong, IdenticalModelsGivePOneWithANote) {
  const auto t = delong_paired_test(kLabels, kScoresA, kScoresA);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->difference, 0.0);
  EXPECT_EQ(t->z, 0.0);
  EXPECT_EQ(t->p_two_sided, 1.0);
  EXPECT_FALSE(t->note.empty());
}

TEST(DeLong, OrderEquivalentScoresGivePOne) {
  // A monotone transform does not change ranks: same AUC, zero variance.
  std::vector<double> squashed;
  for (const double s : kScoresA) squashed.push_back(s * s * 0.5 + 0.1);
  const auto t = delong_paired_test(kLabels, kScoresA, squashed);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->p_two_sided, 1.0);
  EXPECT_FALSE(t->note.empty());
}

TEST(DeLong, NeedsTwoRowsOfEachClass) {
  const std::vector<int> y = {0, 0, 1};
  const std::vector<double> s = {0.1, 0.2, 0.3};
  const auto r = delong_auc(y, s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("at least 2 positive and 2 negative"), std::string::npos);
  EXPECT_FALSE(delong_paired_test(y, s, s).ok());
}

TEST(DeLong, RejectsLevelOutsideZeroOne) {
  EXPECT_FALSE(delong_auc(kLabels, kScoresA, 1.0).ok());
  EXPECT_FALSE(delong_auc(kLabels, kScoresA, 0.0).ok());
}

TEST(DeLong, WiderLevelGivesWiderInterval) {
  const auto narrow = delong_auc(kLabels, kScoresB, 0.5);
  const auto wide = delong_auc(kLabels, kScoresB, 0.95);
  ASSERT_TRUE(narrow.ok() && wide.ok());
  EXPECT_GT(narrow->ci_low, wide->ci_low);
}

TEST(NormalDistribution, QuantileInvertsCdfAndKnownValues) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12);  // NormalDist().inv_cdf
  EXPECT_NEAR(normal_cdf(-1.959963984540054), 0.025, 1e-12);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
}

// python3 -c 'from sklearn.metrics import roc_auc_score as f;
//   print(f([0,1,2,2,1,0,2,1,0,1], [[.7,.2,.1],[.2,.5,.3],[.1,.3,.6],[.3,.3,.4],
//     [.3,.3,.4],[.5,.4,.1],[.2,.2,.6],[.1,.8,.1],[.4,.4,.2],[.6,.3,.1]],
//     multi_class="ovr", average=None).tolist())'
// -> [0.9047619047619049, 0.75, 0.976190476190476]
TEST(OneVsRestAuc, MatchesScikitLearnPerClass) {
  const std::vector<int> classes = {0, 1, 2, 2, 1, 0, 2, 1, 0, 1};
  const std::vector<std::vector<double>> probs = {
      {.7, .2, .1}, {.2, .5, .3}, {.1, .3, .6}, {.3, .3, .4}, {.3, .3, .4},
      {.5, .4, .1}, {.2, .2, .6}, {.1, .8, .1}, {.4, .4, .2}, {.6, .3, .1}};
  const auto aucs = one_vs_rest_auc(classes, probs);
  ASSERT_TRUE(aucs.ok()) << aucs.error().message;
  ASSERT_EQ(aucs->size(), 3u);
  EXPECT_NEAR((*aucs)[0], 0.9047619047619049, 1e-12);
  EXPECT_NEAR((*aucs)[1], 0.75, 1e-12);
  EXPECT_NEAR((*aucs)[2], 0.976190476190476, 1e-12);
}

TEST(OneVsRestAuc, IsAnErrorWhenAClassIsAbsentOrOutOfRange) {
  const std::vector<std::vector<double>> probs = {{.5, .3, .2}, {.2, .5, .3}};
  EXPECT_FALSE(one_vs_rest_auc(std::vector<int>{0, 1}, probs).ok());  // class 2 absent
  EXPECT_FALSE(one_vs_rest_auc(std::vector<int>{0, 3}, probs).ok());
}

// python3 -c 'from sklearn.calibration import calibration_curve as c;
//   y=[0,0,1,1,0,1,0,1,1,0,1,0];
//   a=[0.1,0.4,0.35,0.8,0.4,0.9,0.2,0.35,0.7,0.6,0.4,0.05];
//   b=[0.3,0.5,0.3,0.7,0.1,0.7,0.3,0.6,0.9,0.2,0.5,0.0];
//   print([v.tolist() for v in c(y,a,n_bins=10)]);
//   print([v.tolist() for v in c(y,b,n_bins=3)])'
// -> [[0.0, 0.0, 0.6, 0.0, 1.0, 1.0, 1.0], [0.075, 0.2, 0.38, 0.6, 0.7, 0.8, 0.9]]
//    [[0.1666…, 0.6666…, 1.0], [0.19999999999999998, 0.5333333333333333, 0.7666666666666666]]
TEST(CalibrationCurve, MatchesScikitLearnIncludingScoresOnBinEdges) {
  const auto bins = calibration_curve(kLabels, kScoresA, 10);
  ASSERT_TRUE(bins.ok()) << bins.error().message;
  const std::vector<double> frac = {0.0, 0.0, 0.6, 0.0, 1.0, 1.0, 1.0};
  const std::vector<double> pred = {0.075, 0.2, 0.38, 0.6, 0.7, 0.8, 0.9};
  ASSERT_EQ(bins->size(), frac.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < frac.size(); ++i) {
    EXPECT_NEAR((*bins)[i].fraction_positive, frac[i], 1e-12) << "bin " << i;
    EXPECT_NEAR((*bins)[i].mean_predicted, pred[i], 1e-12) << "bin " << i;
    total += (*bins)[i].count;
  }
  EXPECT_EQ(total, kLabels.size());
  // 0.2 lies on an edge and falls in (0.1, 0.2], as in numpy.searchsorted.
  EXPECT_DOUBLE_EQ((*bins)[1].lower, 0.1);
}

TEST(CalibrationCurve, MatchesScikitLearnWithThreeBins) {
  const auto bins = calibration_curve(kLabels, kScoresB, 3);
  ASSERT_TRUE(bins.ok());
  ASSERT_EQ(bins->size(), 3u);
  EXPECT_NEAR((*bins)[0].fraction_positive, 1.0 / 6.0, 1e-12);
  EXPECT_NEAR((*bins)[1].fraction_positive, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR((*bins)[2].fraction_positive, 1.0, 1e-12);
  EXPECT_NEAR((*bins)[0].mean_predicted, 0.19999999999999998, 1e-12);
  EXPECT_NEAR((*bins)[1].mean_predicted, 0.5333333333333333, 1e-12);
  EXPECT_NEAR((*bins)[2].mean_predicted, 0.7666666666666666, 1e-12);
}

TEST(CalibrationCurve, RejectsScoresOutsideUnitInterval) {
  const auto bins = calibration_curve(std::vector<int>{0, 1}, std::vector<double>{-0.1, 0.5});
  ASSERT_FALSE(bins.ok());
  EXPECT_NE(bins.error().message.find("not a probability"), std::string::npos);
}

// python3 -c 'from sklearn.metrics import brier_score_loss as b;
//   y=[0,0,1,1,0,1,0,1,1,0,1,0];
//   print(repr(b(y,[0.1,0.4,0.35,0.8,0.4,0.9,0.2,0.35,0.7,0.6,0.4,0.05])),
//         repr(b(y,[0.3,0.5,0.3,0.7,0.1,0.7,0.3,0.6,0.9,0.2,0.5,0.0])))'
// -> 0.173125 0.13083333333333333
TEST(BrierScore, MatchesScikitLearn) {
  EXPECT_NEAR(*brier_score(kLabels, kScoresA), 0.173125, 1e-12);
  EXPECT_NEAR(*brier_score(kLabels, kScoresB), 0.13083333333333333, 1e-12);
}

TEST(BrierScore, IsAnErrorForEmptyInput) {
  EXPECT_FALSE(brier_score(std::vector<int>{}, std::vector<double>{}).ok());
}

// The mean of -log(p) over positives and -log(1 - p) over negatives (what
// scikit-learn's log_loss computes; no score here reaches the 1e-7 clamp):
// python3 -c 'import math; y=[0,0,1,1,0,1,0,1,1,0,1,0];
//   A=[0.1,0.4,0.35,0.8,0.4,0.9,0.2,0.35,0.7,0.6,0.4,0.05];
//   print(-sum(math.log(p if t else 1-p) for t,p in zip(y,A))/len(y))'
// -> 0.5015711110456668 (and 0.41347143729971786 for the second scores)
TEST(MeanCrossEntropy, IsTheMeanNegativeLogLikelihoodWithClampedProbabilities) {
  EXPECT_NEAR(*mean_cross_entropy(kLabels, kScoresA), 0.5015711110456668, 1e-12);
  EXPECT_NEAR(*mean_cross_entropy(kLabels, kScoresB), 0.41347143729971786, 1e-12);
  EXPECT_NEAR(*mean_cross_entropy(std::vector<int>{1, 0}, std::vector<double>{0.5, 0.5}),
              std::log(2.0), 1e-12);
  // A confidently wrong row costs -log(1e-7), not infinity.
  EXPECT_NEAR(*mean_cross_entropy(std::vector<int>{1}, std::vector<double>{0.0}), -std::log(1e-7),
              1e-9);
  EXPECT_FALSE(mean_cross_entropy(std::vector<int>{}, std::vector<double>{}).ok());
  EXPECT_FALSE(mean_cross_entropy(std::vector<int>{1}, std::vector<double>{1.5}).ok());
}

// python3 -c 'from sklearn.metrics import roc_curve;
//   f,t,_=roc_curve([0,0,1,1,0,1,0,1,1,0,1,0],
//     [0.1,0.4,0.35,0.8,0.4,0.9,0.2,0.35,0.7,0.6,0.4,0.05], drop_intermediate=False);
//   print(f.tolist(), t.tolist())'
TEST(RocCurve, MatchesScikitLearnPoints) {
  const auto pts = roc_curve(kLabels, kScoresA);
  ASSERT_TRUE(pts.ok());
  const std::vector<double> fpr = {0.0, 0.0, 0.0, 0.0, 1.0 / 6, 0.5, 0.5, 2.0 / 3, 5.0 / 6, 1.0};
  const std::vector<double> tpr = {0.0, 1.0 / 6, 1.0 / 3, 0.5, 0.5, 2.0 / 3, 1.0, 1.0, 1.0, 1.0};
  ASSERT_EQ(pts->size(), fpr.size());
  for (std::size_t i = 0; i < fpr.size(); ++i) {
    EXPECT_NEAR((*pts)[i].fpr, fpr[i], 1e-12) << i;
    EXPECT_NEAR((*pts)[i].tpr, tpr[i], 1e-12) << i;
  }
}

}  // namespace
}  // namespace baton::learning
