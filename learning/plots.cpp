#include "learning/plots.h"

#include <array>
#include <cstdio>
#include <fstream>

#include "learning/metrics.h"

namespace baton::learning {
namespace {

// Okabe–Ito colour-blind-safe palette; after 8 curves, dashes tell them apart.
constexpr std::array<const char*, 8> kColours = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#000000", "#F0E442"};

std::string fmt(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

// A unit square [0,1]² drawn in an SVG of size × size pixels.
class Canvas {
 public:
  Canvas(int size, const std::string& title, const std::string& x_label,
         const std::string& y_label) {
    left_ = 64;
    top_ = title.empty() ? 20 : 44;
    side_ = size - left_ - 20;
    if (top_ + side_ + 48 > size) side_ = size - top_ - 48;
    svg_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(size) +
            "\" height=\"" + std::to_string(size) + "\" viewBox=\"0 0 " + std::to_string(size) +
            " " + std::to_string(size) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    svg_ +=
        "<title>" + xml_escape(title.empty() ? y_label + " vs " + x_label : title) + "</title>\n";
    svg_ += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(size) + "\" height=\"" +
            std::to_string(size) + "\" fill=\"white\"/>\n";
    if (!title.empty()) {
      svg_ += "<text x=\"" + fmt(size / 2.0) +
              "\" y=\"24\" text-anchor=\"middle\" "
              "font-size=\"15\">" +
              xml_escape(title) + "</text>\n";
    }
    axes(x_label, y_label);
  }

  double px(double x) const { return left_ + x * side_; }
  double py(double y) const { return top_ + (1.0 - y) * side_; }

  void diagonal() {
    svg_ += "<line class=\"diagonal\" x1=\"" + fmt(px(0)) + "\" y1=\"" + fmt(py(0)) + "\" x2=\"" +
            fmt(px(1)) + "\" y2=\"" + fmt(py(1)) +
            "\" stroke=\"#999999\" stroke-dasharray=\"4 4\"/>\n";
  }

  void polyline(std::size_t index, const std::string& name,
                const std::vector<std::pair<double, double>>& points, bool markers) {
    const std::string colour = kColours[index % kColours.size()];
    const std::string dash = index >= kColours.size() ? " stroke-dasharray=\"6 3\"" : "";
    svg_ += "<g class=\"curve\"><title>" + xml_escape(name) + "</title>\n<polyline points=\"";
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (i > 0) svg_ += ' ';
      svg_ += fmt(px(points[i].first)) + "," + fmt(py(points[i].second));
    }
    svg_ += "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"" + dash + "/>\n";
    if (markers) {
      for (const auto& [x, y] : points) {
        svg_ += "<circle cx=\"" + fmt(px(x)) + "\" cy=\"" + fmt(py(y)) + "\" r=\"3\" fill=\"" +
                colour + "\"/>\n";
      }
    }
    svg_ += "</g>\n";
  }

  // Legend in the lower right corner of the plot area, one line per curve.
  void legend(const std::vector<std::string>& entries) {
    const double line = 16;
    const double x = px(1) - 210;
    double y = py(0) - 8 - line * static_cast<double>(entries.size());
    svg_ += "<g class=\"legend\">\n<rect x=\"" + fmt(x - 6) + "\" y=\"" + fmt(y - 4) +
            "\" width=\"212\" height=\"" + fmt(line * static_cast<double>(entries.size()) + 6) +
            "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n";
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const std::string colour = kColours[i % kColours.size()];
      const double cy = y + line * (static_cast<double>(i) + 0.5);
      svg_ += "<line x1=\"" + fmt(x) + "\" y1=\"" + fmt(cy) + "\" x2=\"" + fmt(x + 18) +
              "\" y2=\"" + fmt(cy) + "\" stroke=\"" + colour + "\" stroke-width=\"2\"" +
              (i >= kColours.size() ? " stroke-dasharray=\"6 3\"" : "") + "/>\n";
      svg_ += "<text x=\"" + fmt(x + 24) + "\" y=\"" + fmt(cy + 4) + "\">" +
              xml_escape(entries[i]) + "</text>\n";
    }
    svg_ += "</g>\n";
  }

  std::string finish() { return svg_ + "</svg>\n"; }

 private:
  void axes(const std::string& x_label, const std::string& y_label) {
    svg_ += "<g class=\"axes\" stroke=\"#333333\">\n";
    svg_ += "<rect x=\"" + fmt(px(0)) + "\" y=\"" + fmt(py(1)) + "\" width=\"" + fmt(side_) +
            "\" height=\"" + fmt(side_) + "\" fill=\"none\"/>\n";
    for (int i = 0; i <= 5; ++i) {
      const double v = i / 5.0;
      svg_ += "<line x1=\"" + fmt(px(v)) + "\" y1=\"" + fmt(py(0)) + "\" x2=\"" + fmt(px(v)) +
              "\" y2=\"" + fmt(py(0) + 5) + "\"/>\n";
      svg_ += "<line x1=\"" + fmt(px(0) - 5) + "\" y1=\"" + fmt(py(v)) + "\" x2=\"" + fmt(px(0)) +
              "\" y2=\"" + fmt(py(v)) + "\"/>\n";
    }
    svg_ += "</g>\n<g class=\"tick-labels\" fill=\"#333333\">\n";
    for (int i = 0; i <= 5; ++i) {
      const double v = i / 5.0;
      svg_ += "<text x=\"" + fmt(px(v)) + "\" y=\"" + fmt(py(0) + 18) +
              "\" text-anchor=\"middle\">" + fmt(v, 1) + "</text>\n";
      svg_ += "<text x=\"" + fmt(px(0) - 8) + "\" y=\"" + fmt(py(v) + 4) +
              "\" text-anchor=\"end\">" + fmt(v, 1) + "</text>\n";
    }
    svg_ += "</g>\n";
    svg_ += "<text x=\"" + fmt(px(0.5)) + "\" y=\"" + fmt(py(0) + 38) +
            "\" text-anchor=\"middle\">" + xml_escape(x_label) + "</text>\n";
    svg_ += "<text transform=\"translate(" + fmt(px(0) - 44) + "," + fmt(py(0.5)) +
            ") rotate(-90)\" text-anchor=\"middle\">" + xml_escape(y_label) + "</text>\n";
  }

  double left_ = 0;
  double top_ = 0;
  double side_ = 0;
  std::string svg_;
};

Status check_request(std::span<const ScoredCurve> curves, const PlotOptions& options) {
  if (curves.empty()) return make_error("nothing to plot: no curves were given.");
  if (options.size < 200 || options.size > 10000) {
    return make_error("plot size " + std::to_string(options.size) +
                      " px is out of range; use 200 to 10000.");
  }
  for (const auto& c : curves) {
    if (c.labels01.size() != c.scores.size()) {
      return make_error("curve '" + c.name + "' has " + std::to_string(c.labels01.size()) +
                        " labels but " + std::to_string(c.scores.size()) +
                        " scores; give one score per label.");
    }
  }
  return {};
}

Status write_text(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return make_error("cannot write '" + tmp.string() +
                        "'; check that the directory exists and is writable.");
    }
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return make_error("writing '" + tmp.string() + "' failed; check the free disk space.");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return make_error("cannot rename the plot into place at '" + path.string() + "'.");
  }
  return {};
}

}  // namespace

Result<std::string> roc_svg(std::span<const ScoredCurve> curves, const PlotOptions& options) {
  if (auto s = check_request(curves, options); !s) return s.error();
  Canvas canvas(options.size, options.title, "False positive rate (1 - specificity)",
                "True positive rate (sensitivity)");
  canvas.diagonal();
  std::vector<std::string> legend;
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const ScoredCurve& c = curves[i];
    auto points = roc_curve(c.labels01, c.scores);
    if (!points) return make_error("ROC curve of '" + c.name + "': " + points.error().message);
    auto auc = roc_auc(c.labels01, c.scores);
    if (!auc) return make_error("ROC curve of '" + c.name + "': " + auc.error().message);
    std::vector<std::pair<double, double>> xy;
    for (const RocPoint& p : *points) xy.emplace_back(p.fpr, p.tpr);
    canvas.polyline(i, c.name, xy, false);
    legend.push_back(c.name + " (AUC " + fmt(*auc, 3) + ")");
  }
  canvas.legend(legend);
  return canvas.finish();
}

Result<std::string> calibration_svg(std::span<const ScoredCurve> curves,
                                    const PlotOptions& options) {
  if (auto s = check_request(curves, options); !s) return s.error();
  Canvas canvas(options.size, options.title, "Mean predicted probability", "Fraction of positives");
  canvas.diagonal();
  std::vector<std::string> legend;
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const ScoredCurve& c = curves[i];
    auto bins = calibration_curve(c.labels01, c.scores, options.calibration_bins);
    if (!bins) {
      return make_error("calibration curve of '" + c.name + "': " + bins.error().message);
    }
    auto brier = brier_score(c.labels01, c.scores);
    if (!brier) {
      return make_error("calibration curve of '" + c.name + "': " + brier.error().message);
    }
    std::vector<std::pair<double, double>> xy;
    for (const CalibrationBin& b : *bins) xy.emplace_back(b.mean_predicted, b.fraction_positive);
    canvas.polyline(i, c.name, xy, true);
    legend.push_back(c.name + " (Brier " + fmt(*brier, 3) + ")");
  }
  canvas.legend(legend);
  return canvas.finish();
}

Status write_roc_svg(const std::filesystem::path& path, std::span<const ScoredCurve> curves,
                     const PlotOptions& options) {
  auto svg = roc_svg(curves, options);
  if (!svg) return svg.error();
  return write_text(path, *svg);
}

Status write_calibration_svg(const std::filesystem::path& path, std::span<const ScoredCurve> curves,
                             const PlotOptions& options) {
  auto svg = calibration_svg(curves, options);
  if (!svg) return svg.error();
  return write_text(path, *svg);
}

}  // namespace baton::learning
