#include "learning/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <string>

namespace baton::learning {
namespace {

void require_same_length(std::size_t a, std::size_t b) {
  if (a != b) std::abort();  // caller's bug: labels and scores must be parallel
}

Status check_labels(std::span<const int> labels01) {
  for (std::size_t i = 0; i < labels01.size(); ++i) {
    if (labels01[i] != 0 && labels01[i] != 1) {
      return make_error("label " + std::to_string(labels01[i]) + " at row " + std::to_string(i) +
                        " is not 0 or 1; binary metrics need 1 for the positive class and 0 "
                        "otherwise.");
    }
  }
  return {};
}

Status check_scores(std::span<const double> scores, bool probabilities) {
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (std::isnan(scores[i])) {
      return make_error("score at row " + std::to_string(i) +
                        " is NaN; the model produced an invalid output, check its training.");
    }
    if (probabilities && (scores[i] < 0.0 || scores[i] > 1.0)) {
      return make_error("score " + std::to_string(scores[i]) + " at row " + std::to_string(i) +
                        " is not a probability in [0, 1]; pass the predicted probability of "
                        "the positive class.");
    }
  }
  return {};
}

// Midranks (1-based, ties get the average of the ranks they span).
std::vector<double> midranks(std::span<const double> v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  std::size_t i = 0;
  while (i < order.size()) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    // positions i..j (0-based) hold equal values: ranks i+1..j+1, average (i+j)/2+1
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

// DeLong's structural components of one model (Sun & Xu 2014, Algorithm 1).
struct Components {
  double auc = 0;
  std::vector<double> v10;  // one per positive
  std::vector<double> v01;  // one per negative
};

Components components(std::span<const double> positives, std::span<const double> negatives) {
  const std::size_t m = positives.size();
  const std::size_t n = negatives.size();
  std::vector<double> z(positives.begin(), positives.end());
  z.insert(z.end(), negatives.begin(), negatives.end());
  const std::vector<double> tz = midranks(z);
  const std::vector<double> tx = midranks(positives);
  const std::vector<double> ty = midranks(negatives);
  Components c;
  c.v10.resize(m);
  c.v01.resize(n);
  double positive_rank_sum = 0;
  for (std::size_t i = 0; i < m; ++i) {
    positive_rank_sum += tz[i];
    c.v10[i] = (tz[i] - tx[i]) / static_cast<double>(n);
  }
  for (std::size_t j = 0; j < n; ++j) {
    c.v01[j] = 1.0 - (tz[m + j] - ty[j]) / static_cast<double>(m);
  }
  const double md = static_cast<double>(m);
  c.auc = (positive_rank_sum - md * (md + 1.0) / 2.0) / (md * static_cast<double>(n));
  return c;
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Sample covariance (divisor n - 1). Precondition: a.size() == b.size() >= 2.
double covariance(const std::vector<double>& a, const std::vector<double>& b) {
  const double ma = mean(a);
  const double mb = mean(b);
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - ma) * (b[i] - mb);
  return s / static_cast<double>(a.size() - 1);
}

struct ByClass {
  std::vector<double> positives;
  std::vector<double> negatives;
};

ByClass split_by_class(std::span<const int> labels01, std::span<const double> scores) {
  ByClass out;
  for (std::size_t i = 0; i < labels01.size(); ++i) {
    (labels01[i] == 1 ? out.positives : out.negatives).push_back(scores[i]);
  }
  return out;
}

// Checks shared by every AUC-like metric; `min_per_class` is 1 for the AUC
// itself and 2 where a variance is needed.
Status check_auc_input(std::span<const int> labels01, std::span<const double> scores,
                       std::size_t min_per_class) {
  require_same_length(labels01.size(), scores.size());
  if (auto s = check_labels(labels01); !s) return s;
  if (auto s = check_scores(scores, false); !s) return s;
  const auto positives = static_cast<std::size_t>(std::count(labels01.begin(), labels01.end(), 1));
  const std::size_t negatives = labels01.size() - positives;
  if (positives == 0 || negatives == 0) {
    return make_error("the AUC is undefined: the " + std::to_string(labels01.size()) +
                      " rows are all of one class (" + std::to_string(positives) + " positive, " +
                      std::to_string(negatives) +
                      " negative); evaluate on a set that holds both classes.");
  }
  if (positives < min_per_class || negatives < min_per_class) {
    return make_error("DeLong's variance needs at least 2 positive and 2 negative rows, got " +
                      std::to_string(positives) + " positive and " + std::to_string(negatives) +
                      " negative; evaluate on a larger set.");
  }
  return {};
}

}  // namespace

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) std::abort();  // precondition
  // Bisection: normal_cdf is monotone and exact to double precision via erfc;
  // 200 halvings of [-40, 40] reach the resolution of a double.
  double lo = -40.0;
  double hi = 40.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (normal_cdf(mid) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

Result<double> roc_auc(std::span<const int> labels01, std::span<const double> scores) {
  if (auto s = check_auc_input(labels01, scores, 1); !s) return s.error();
  const ByClass c = split_by_class(labels01, scores);
  // Mann–Whitney via midranks of the pooled scores.
  std::vector<double> z = c.positives;
  z.insert(z.end(), c.negatives.begin(), c.negatives.end());
  const std::vector<double> ranks = midranks(z);
  const double m = static_cast<double>(c.positives.size());
  const double n = static_cast<double>(c.negatives.size());
  const double rank_sum = std::accumulate(ranks.begin(), ranks.begin() + c.positives.size(), 0.0);
  return (rank_sum - m * (m + 1.0) / 2.0) / (m * n);
}

Result<AucWithCi> delong_auc(std::span<const int> labels01, std::span<const double> scores,
                             double level) {
  if (!(level > 0.0 && level < 1.0)) {
    return make_error("confidence level " + std::to_string(level) +
                      " is not in (0, 1); use e.g. 0.95.");
  }
  if (auto s = check_auc_input(labels01, scores, 2); !s) return s.error();
  const ByClass c = split_by_class(labels01, scores);
  const Components k = components(c.positives, c.negatives);
  AucWithCi out;
  out.auc = k.auc;
  out.variance = covariance(k.v10, k.v10) / static_cast<double>(k.v10.size()) +
                 covariance(k.v01, k.v01) / static_cast<double>(k.v01.size());
  const double z = normal_quantile(0.5 + level / 2.0);
  const double half = z * std::sqrt(std::max(out.variance, 0.0));
  out.ci_low = std::max(0.0, out.auc - half);
  out.ci_high = std::min(1.0, out.auc + half);
  return out;
}

Result<DeLongTest> delong_paired_test(std::span<const int> labels01, std::span<const double> a,
                                      std::span<const double> b) {
  require_same_length(a.size(), b.size());
  if (auto s = check_auc_input(labels01, a, 2); !s) return s.error();
  if (auto s = check_scores(b, false); !s) return s.error();
  const ByClass ca = split_by_class(labels01, a);
  const ByClass cb = split_by_class(labels01, b);
  const Components ka = components(ca.positives, ca.negatives);
  const Components kb = components(cb.positives, cb.negatives);
  const double m = static_cast<double>(ka.v10.size());
  const double n = static_cast<double>(ka.v01.size());
  // Var(A - B) = L S L' with L = (1, -1), S = S10/m + S01/n (DeLong 1988, eq. 5).
  const double var_a = covariance(ka.v10, ka.v10) / m + covariance(ka.v01, ka.v01) / n;
  const double var_b = covariance(kb.v10, kb.v10) / m + covariance(kb.v01, kb.v01) / n;
  const double cov_ab = covariance(ka.v10, kb.v10) / m + covariance(ka.v01, kb.v01) / n;
  DeLongTest t;
  t.auc_a = ka.auc;
  t.auc_b = kb.auc;
  t.difference = ka.auc - kb.auc;
  t.variance = var_a + var_b - 2.0 * cov_ab;
  // Rounding can leave a tiny positive or negative variance where the exact
  // one is zero (identical models); treat anything below this as zero.
  const double eps = 1e-15 * std::max({var_a + var_b, 1e-300});
  if (t.variance <= eps) {
    t.variance = 0;
    if (t.difference == 0.0) {
      t.z = 0;
      t.p_two_sided = 1;
      t.p_one_sided_a_worse = 1;
      t.note =
          "the two models' AUCs do not differ and their difference has zero variance "
          "(e.g. identical or order-equivalent scores): the test is degenerate and p is "
          "reported as 1.";
    } else {
      t.z = t.difference > 0 ? std::numeric_limits<double>::infinity()
                             : -std::numeric_limits<double>::infinity();
      t.p_two_sided = 0;
      t.p_one_sided_a_worse = t.difference > 0 ? 1.0 : 0.0;
      t.note =
          "the AUCs differ but their difference has zero variance: the test is "
          "degenerate (z is infinite).";
    }
    return t;
  }
  t.z = t.difference / std::sqrt(t.variance);
  t.p_two_sided = std::erfc(std::fabs(t.z) / std::sqrt(2.0));
  t.p_one_sided_a_worse = normal_cdf(t.z);
  return t;
}

Result<std::vector<double>> one_vs_rest_auc(std::span<const int> classes,
                                            const std::vector<std::vector<double>>& probs) {
  require_same_length(classes.size(), probs.size());
  if (probs.empty()) return make_error("one-vs-rest AUC of an empty set is undefined.");
  const std::size_t k = probs.front().size();
  for (const auto& row : probs) {
    if (row.size() != k) std::abort();  // caller's bug: ragged probability matrix
  }
  for (std::size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] < 0 || static_cast<std::size_t>(classes[i]) >= k) {
      return make_error("class " + std::to_string(classes[i]) + " at row " + std::to_string(i) +
                        " has no score column (there are " + std::to_string(k) + ").");
    }
  }
  std::vector<double> out;
  std::vector<int> labels(classes.size());
  std::vector<double> scores(classes.size());
  for (std::size_t c = 0; c < k; ++c) {
    for (std::size_t i = 0; i < classes.size(); ++i) {
      labels[i] = classes[i] == static_cast<int>(c) ? 1 : 0;
      scores[i] = probs[i][c];
    }
    auto auc = roc_auc(labels, scores);
    if (!auc) {
      return make_error("one-vs-rest AUC of class " + std::to_string(c) + ": " +
                        auc.error().message);
    }
    out.push_back(*auc);
  }
  return out;
}

Result<std::vector<CalibrationBin>> calibration_curve(std::span<const int> labels01,
                                                      std::span<const double> scores, int bins) {
  require_same_length(labels01.size(), scores.size());
  if (bins < 1) {
    return make_error("a calibration curve needs at least 1 bin, got " + std::to_string(bins) +
                      ".");
  }
  if (auto s = check_labels(labels01); !s) return s.error();
  if (auto s = check_scores(scores, true); !s) return s.error();
  // Edges as numpy.linspace(0, 1, bins + 1) computes them (i * step), so that
  // scores on an edge fall in the same bin as with scikit-learn.
  const double step = 1.0 / static_cast<double>(bins);
  std::vector<double> edges(static_cast<std::size_t>(bins) + 1);
  for (std::size_t i = 0; i < edges.size(); ++i) edges[i] = static_cast<double>(i) * step;
  edges.back() = 1.0;
  const auto nb = static_cast<std::size_t>(bins);
  std::vector<double> sums(nb, 0.0);
  std::vector<double> positives(nb, 0.0);
  std::vector<std::size_t> counts(nb, 0);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    // numpy.searchsorted(edges[1:-1], s, side="left"): inner edges < s.
    const auto first = edges.begin() + 1;
    const auto last = edges.end() - 1;
    const auto bin = static_cast<std::size_t>(std::lower_bound(first, last, scores[i]) - first);
    sums[bin] += scores[i];
    positives[bin] += labels01[i];
    ++counts[bin];
  }
  std::vector<CalibrationBin> out;
  for (std::size_t b = 0; b < nb; ++b) {
    if (counts[b] == 0) continue;
    const double count = static_cast<double>(counts[b]);
    out.push_back(
        CalibrationBin{edges[b], edges[b + 1], sums[b] / count, positives[b] / count, counts[b]});
  }
  return out;
}

Result<double> brier_score(std::span<const int> labels01, std::span<const double> scores) {
  require_same_length(labels01.size(), scores.size());
  if (labels01.empty()) return make_error("the Brier score of an empty set is undefined.");
  if (auto s = check_labels(labels01); !s) return s.error();
  if (auto s = check_scores(scores, true); !s) return s.error();
  double sum = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const double d = static_cast<double>(labels01[i]) - scores[i];
    sum += d * d;
  }
  return sum / static_cast<double>(scores.size());
}

Result<double> mean_cross_entropy(std::span<const int> labels01, std::span<const double> scores) {
  require_same_length(labels01.size(), scores.size());
  if (labels01.empty()) return make_error("the cross-entropy of an empty set is undefined.");
  if (auto s = check_labels(labels01); !s) return s.error();
  if (auto s = check_scores(scores, true); !s) return s.error();
  constexpr double kEps = 1e-7;
  double sum = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const double p = std::clamp(scores[i], kEps, 1.0 - kEps);
    sum -= labels01[i] == 1 ? std::log(p) : std::log(1.0 - p);
  }
  return sum / static_cast<double>(scores.size());
}

Result<std::vector<RocPoint>> roc_curve(std::span<const int> labels01,
                                        std::span<const double> scores) {
  if (auto s = check_auc_input(labels01, scores, 1); !s) return s.error();
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  const auto total_pos = static_cast<double>(std::count(labels01.begin(), labels01.end(), 1));
  const double total_neg = static_cast<double>(labels01.size()) - total_pos;
  std::vector<RocPoint> points{{0.0, 0.0}};
  double tp = 0;
  double fp = 0;
  std::size_t i = 0;
  while (i < order.size()) {
    const double threshold = scores[order[i]];
    while (i < order.size() && scores[order[i]] == threshold) {
      (labels01[order[i]] == 1 ? tp : fp) += 1.0;
      ++i;
    }
    points.push_back({fp / total_neg, tp / total_pos});
  }
  return points;
}

}  // namespace baton::learning
