// ROC and calibration plots as standalone SVG documents: plain string
// building, no plotting library, so that `baton experiment --plots-out` works
// everywhere and the figures can be diffed and opened in any browser.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "chain/result.h"

namespace baton::learning {

// One model's predictions on a test set: labels01[i] in {0, 1}, scores[i] its
// score (a probability in [0, 1] for calibration plots).
struct ScoredCurve {
  std::string name;  // legend text, e.g. "centralized" or "scenario4"
  std::vector<int> labels01;
  std::vector<double> scores;
};

struct PlotOptions {
  std::string title;  // drawn above the plot; may be empty
  int size = 520;     // width and height of the square image, in pixels
  int calibration_bins = 10;
};

// ROC curves of all `curves` in one plot: axes with ticks, the chance
// diagonal, one coloured polyline per curve and a legend "name (AUC x.xxx)".
// Errors: no curves, a curve whose labels/scores metrics.h rejects (e.g. a
// single class), options out of range (size < 200).
Result<std::string> roc_svg(std::span<const ScoredCurve> curves, const PlotOptions& options = {});

// Reliability diagrams (calibration_curve with options.calibration_bins bins)
// of all `curves` in one plot, with the perfect-calibration diagonal and a
// legend "name (Brier x.xxx)". Each non-empty bin's point carries its Wilson
// 95% interval (a vertical bar, class "ci") and its row count ("n=12",
// class "bin-count"), so a clinician sees which bins rest on a handful of
// patients. Errors: as roc_svg, or a score outside [0, 1].
Result<std::string> calibration_svg(std::span<const ScoredCurve> curves,
                                    const PlotOptions& options = {});

// The Wilson score interval of a proportion: `positives` of `count` rows, at
// z = 1.959964 (95%). Pre: positives <= count; count 0 gives [0, 1].
struct Interval {
  double low = 0;
  double high = 1;
};
Interval wilson_interval(std::size_t positives, std::size_t count);

// One turn (a federated run: one round) of a training run for the AUC per
// turn plot: who trained it (the partner; federated: the aggregator, with
// the contributors' count), how the turn ended, and each vote.
struct TurnVotes {
  std::uint64_t turn = 0;
  std::string trainer;           // "" when nobody trained (e.g. an expired round)
  std::size_t contributors = 0;  // federated rounds: uploads aggregated; 0 otherwise
  std::string decision;          // approved, rejected, expired, pending, ...
  struct Vote {
    std::string voter;
    bool approve = false;      // this vote's own decision
    double auc_candidate = 0;  // on the voter's validation data
    double auc_head = 0;       // the head's AUC on the same data
  };
  std::vector<Vote> votes;
};

// Candidate AUC per turn on each voter's validation data: one coloured line
// per voter, each vote marked by its own decision (filled circle: approve,
// cross: reject), the head's AUC on the same data as a grey dash beside it,
// the turn's outcome as a shaded column (green: approved; red: rejected;
// grey: expired or otherwise ended without a vote), x ticks "turn/trainer",
// a y axis labelled "AUC (voter's validation data)" with ticks at round
// steps (0.01, 0.02, 0.05, 0.1 or 0.2) spanning the data. Pure; never fails
// (no turns gives an empty plot that says so).
std::string auc_per_turn_svg(const std::vector<TurnVotes>& turns, const std::string& title,
                             bool federated);

// The y range and tick step of auc_per_turn_svg for AUCs in [lo, hi]: the
// smallest round step giving at most 8 intervals, the range widened to
// multiples of it (and kept within [0, 1]).
struct Ticks {
  double low = 0;
  double high = 1;
  double step = 0.2;
};
Ticks auc_ticks(double lo, double hi);

// Renders and writes the file (to a temporary name, then renamed into place).
// Errors: as above, or the file cannot be written.
Status write_roc_svg(const std::filesystem::path& path, std::span<const ScoredCurve> curves,
                     const PlotOptions& options = {});
Status write_calibration_svg(const std::filesystem::path& path, std::span<const ScoredCurve> curves,
                             const PlotOptions& options = {});

}  // namespace baton::learning
