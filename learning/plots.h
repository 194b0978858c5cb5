// ROC and calibration plots as standalone SVG documents: plain string
// building, no plotting library, so that `baton experiment --plots-out` works
// everywhere and the figures can be diffed and opened in any browser.
#pragma once

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
// legend "name (Brier x.xxx)". Errors: as roc_svg, or a score outside [0, 1].
Result<std::string> calibration_svg(std::span<const ScoredCurve> curves,
                                    const PlotOptions& options = {});

// Renders and writes the file (to a temporary name, then renamed into place).
// Errors: as above, or the file cannot be written.
Status write_roc_svg(const std::filesystem::path& path, std::span<const ScoredCurve> curves,
                     const PlotOptions& options = {});
Status write_calibration_svg(const std::filesystem::path& path, std::span<const ScoredCurve> curves,
                             const PlotOptions& options = {});

}  // namespace baton::learning
