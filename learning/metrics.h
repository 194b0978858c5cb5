// Metrics for binary and one-vs-rest classifiers: ROC AUC (ties count 1/2),
// DeLong's variance, confidence interval and paired test, calibration curve,
// Brier score. Pure functions, no I/O, no torch.
//
// Conventions shared by every function here:
//  - labels01[i] is 1 for the positive class and 0 otherwise; scores[i] is the
//    model's score for row i, higher meaning "more likely positive" (a
//    probability for calibration and Brier).
//  - labels and scores of different lengths are a bug in the caller (abort).
//  - Data-dependent problems are errors (baton::Result): a label other than
//    0/1, a NaN score, only one class present (AUC undefined), fewer than two
//    rows of a class (DeLong variance undefined), a probability outside [0, 1].
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "chain/result.h"

namespace baton::learning {

// Area under the ROC curve = P(score of a random positive > score of a random
// negative) + 1/2 P(equal). Same value as scikit-learn's roc_auc_score.
// Error: a label not in {0, 1}, a NaN score, or only one class present.
Result<double> roc_auc(std::span<const int> labels01, std::span<const double> scores);

// AUC with DeLong's (1988) nonparametric variance, computed with the
// midrank algorithm of Sun & Xu (2014), and a `level` confidence interval
// auc ± z·sqrt(variance), clipped to [0, 1] (as pROC's ci.auc does).
// Error: as roc_auc, or fewer than 2 positives or 2 negatives, or level not
// in (0, 1).
struct AucWithCi {
  double auc = 0;
  double variance = 0;
  double ci_low = 0;
  double ci_high = 0;
};
Result<AucWithCi> delong_auc(std::span<const int> labels01, std::span<const double> scores,
                             double level = 0.95);

// DeLong's paired test of two models scored on the same rows:
// z = (auc_a - auc_b) / sqrt(var_a + var_b - 2 cov_ab).
// p_two_sided tests auc_a != auc_b; p_one_sided_a_worse tests auc_a < auc_b
// (small when a is significantly worse than b).
// Zero variance of the difference (e.g. identical scores): if the AUCs are
// equal, z = 0 and both p = 1; otherwise z = ±inf and p follows from it.
// `note` then says so; it is empty in the ordinary case.
struct DeLongTest {
  double auc_a = 0;
  double auc_b = 0;
  double difference = 0;  // auc_a - auc_b
  double variance = 0;    // of the difference
  double z = 0;
  double p_two_sided = 1;
  double p_one_sided_a_worse = 1;
  std::string note;
};
Result<DeLongTest> delong_paired_test(std::span<const int> labels01, std::span<const double> a,
                                      std::span<const double> b);

// One AUC per class k, class k against all others, from per-class scores
// (probs[i][k] is the score of class k for row i). Same as scikit-learn's
// roc_auc_score(..., multi_class="ovr", average=None).
// Precondition: every row of probs has the same number of columns (a bug
// otherwise). Error: a class index outside [0, columns), a class absent.
Result<std::vector<double>> one_vs_rest_auc(std::span<const int> classes,
                                            const std::vector<std::vector<double>>& probs);

// Reliability diagram in `bins` equal-width bins over [0, 1]: bin k holds the
// scores in (k/bins, (k+1)/bins], bin 0 also holds 0. Only non-empty bins are
// returned, in increasing order, exactly like scikit-learn 1.2's
// calibration_curve(strategy="uniform").
// Error: a probability outside [0, 1] or NaN, bins < 1, a label not in {0, 1}.
struct CalibrationBin {
  double lower = 0;  // bin edges
  double upper = 0;
  double mean_predicted = 0;     // mean score of the rows in the bin
  double fraction_positive = 0;  // share of those rows with label 1
  std::size_t count = 0;
};
Result<std::vector<CalibrationBin>> calibration_curve(std::span<const int> labels01,
                                                      std::span<const double> scores,
                                                      int bins = 10);

// Mean squared difference between the probability and the label.
// Error: empty input, a probability outside [0, 1] or NaN, a label not in {0, 1}.
Result<double> brier_score(std::span<const int> labels01, std::span<const double> scores);

// Mean binary cross-entropy -[y log p + (1 - y) log(1 - p)], each p clamped
// to [1e-7, 1 - 1e-7] (so at most 16.2 per row): the validation loss a
// voter reports in a delta_loss run (docs/PROTOCOL.md §18.2, "Gains").
// Error: as brier_score.
Result<double> mean_cross_entropy(std::span<const int> labels01, std::span<const double> scores);

// ROC curve points from (0, 0) to (1, 1), one point per distinct score
// threshold (descending), like scikit-learn's roc_curve(drop_intermediate=False).
// Error: as roc_auc.
struct RocPoint {
  double fpr = 0;
  double tpr = 0;
};
Result<std::vector<RocPoint>> roc_curve(std::span<const int> labels01,
                                        std::span<const double> scores);

// Standard normal helpers used by the tests above (exposed for reports).
double normal_cdf(double z);
// Inverse of normal_cdf. Precondition: 0 < p < 1.
double normal_quantile(double p);

}  // namespace baton::learning
