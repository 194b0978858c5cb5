#include "learning/plots.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string_view>
#include <utility>

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
  // `note`, when given, is one more line without a swatch.
  void legend(const std::vector<std::string>& entries, const std::string& note = "") {
    const double line = 16;
    const double x = px(1) - 210;
    const double lines = static_cast<double>(entries.size() + (note.empty() ? 0 : 1));
    double y = py(0) - 8 - line * lines;
    svg_ += "<g class=\"legend\">\n<rect x=\"" + fmt(x - 6) + "\" y=\"" + fmt(y - 4) +
            "\" width=\"212\" height=\"" + fmt(line * lines + 6) +
            "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n";
    if (!note.empty()) {
      svg_ += "<text x=\"" + fmt(x) + "\" y=\"" +
              fmt(y + line * (static_cast<double>(entries.size()) + 0.5) + 4) +
              "\" font-size=\"11\" fill=\"#555555\">" + xml_escape(note) + "</text>\n";
    }
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

  void raw(const std::string& text) { svg_ += text; }
  const char* colour(std::size_t index) const { return kColours[index % kColours.size()]; }

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
    // Each bin's Wilson 95% interval and row count; the counts of the
    // second curve go below its points, so two curves' labels do not collide.
    std::string marks = "<g class=\"bins\" stroke=\"" + std::string(canvas.colour(i)) + "\">\n";
    for (const CalibrationBin& b : *bins) {
      const auto positives = static_cast<std::size_t>(
          std::llround(b.fraction_positive * static_cast<double>(b.count)));
      const Interval ci = wilson_interval(positives, b.count);
      const double x = canvas.px(b.mean_predicted);
      marks += "<line class=\"ci\" x1=\"" + fmt(x) + "\" y1=\"" + fmt(canvas.py(ci.low)) +
               "\" x2=\"" + fmt(x) + "\" y2=\"" + fmt(canvas.py(ci.high)) +
               "\" stroke-width=\"1\"/>\n";
      const double label_y = i % 2 == 0 ? canvas.py(ci.high) - 4 : canvas.py(ci.low) + 12;
      marks += "<text class=\"bin-count\" x=\"" + fmt(x + 3) + "\" y=\"" + fmt(label_y) +
               "\" font-size=\"10\" stroke=\"none\" fill=\"" + canvas.colour(i) +
               "\">n=" + std::to_string(b.count) + "</text>\n";
    }
    canvas.raw(marks + "</g>\n");
    legend.push_back(c.name + " (Brier " + fmt(*brier, 3) + ")");
  }
  canvas.legend(legend, "bars: Wilson 95%; n: rows per bin");
  return canvas.finish();
}

Interval wilson_interval(std::size_t positives, std::size_t count) {
  if (count == 0) return {};
  constexpr double z = 1.959964;
  const double n = static_cast<double>(count);
  const double p = static_cast<double>(positives) / n;
  const double denom = 1 + z * z / n;
  const double centre = (p + z * z / (2 * n)) / denom;
  const double half = z / denom * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Ticks auc_ticks(double lo, double hi) {
  lo = std::clamp(lo, 0.0, 1.0);
  hi = std::clamp(std::max(hi, lo), 0.0, 1.0);
  for (const double step : {0.01, 0.02, 0.05, 0.1, 0.2}) {
    // Round through the step count so that 0.7 / 0.05 lands on 14, not 13.999.
    double low = std::floor(lo / step + 1e-9) * step;
    double high = std::ceil(hi / step - 1e-9) * step;
    if (high - low < step / 2) high = low + step;  // one value: one interval around it
    if (high > 1 + 1e-9) {
      high = 1;
      low = std::max(0.0, high - std::max(step, high - low));
    }
    if (std::llround((high - low) / step) <= 8) return {low, high, step};
  }
  return {0, 1, 0.2};
}

std::string auc_per_turn_svg(const std::vector<TurnVotes>& turns, const std::string& title,
                             bool federated) {
  double lo = 1, hi = 0;
  for (const TurnVotes& t : turns) {
    for (const TurnVotes::Vote& v : t.votes) {
      lo = std::min({lo, v.auc_candidate, v.auc_head});
      hi = std::max({hi, v.auc_candidate, v.auc_head});
    }
  }
  if (hi < lo) lo = 0.5, hi = 1;  // no vote at all
  const Ticks ticks = auc_ticks(lo, hi);
  const std::size_t n = std::max<std::size_t>(turns.size(), 1);
  const double W = 720, H = 460, L = 70, R = 200, T = 44, B = 70;
  const double column = (W - L - R) / static_cast<double>(n);
  auto x = [&](std::size_t i) { return L + column * (static_cast<double>(i) + 0.5); };
  auto y = [&](double auc) {
    return T + (1 - (auc - ticks.low) / (ticks.high - ticks.low)) * (H - T - B);
  };
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(W, 0) + "\" height=\"" +
       fmt(H, 0) + "\" viewBox=\"0 0 " + fmt(W, 0) + " " + fmt(H, 0) +
       "\" font-family=\"sans-serif\" font-size=\"12\">\n<title>" + xml_escape(title) +
       "</title>\n<rect x=\"0\" y=\"0\" width=\"" + fmt(W, 0) + "\" height=\"" + fmt(H, 0) +
       "\" fill=\"white\"/>\n<text x=\"" + fmt(L) + "\" y=\"24\" font-size=\"14\">" +
       xml_escape(title) + "</text>\n";
  // The turn's outcome: a shaded column behind its votes.
  s += "<g class=\"outcomes\">\n";
  for (std::size_t i = 0; i < turns.size(); ++i) {
    const std::string& d = turns[i].decision;
    const char* fill = d == "approved" ? "#d9f2e0" : d == "rejected" ? "#f8dcdc" : "#eeeeee";
    if (d == "pending") continue;
    s += "<rect class=\"outcome-" + xml_escape(d) + "\" x=\"" + fmt(L + column * i) + "\" y=\"" +
         fmt(T) + "\" width=\"" + fmt(column) + "\" height=\"" + fmt(H - T - B) + "\" fill=\"" +
         fill + "\"><title>" + (federated ? "round " : "turn ") + std::to_string(turns[i].turn) +
         ": " + xml_escape(d) + "</title></rect>\n";
  }
  s += "</g>\n";
  // Axes, y ticks at round steps with grid lines, x ticks "turn/trainer".
  s += "<g class=\"axes\" stroke=\"#333333\">\n<line x1=\"" + fmt(L) + "\" y1=\"" + fmt(H - B) +
       "\" x2=\"" + fmt(W - R) + "\" y2=\"" + fmt(H - B) + "\"/>\n<line x1=\"" + fmt(L) +
       "\" y1=\"" + fmt(T) + "\" x2=\"" + fmt(L) + "\" y2=\"" + fmt(H - B) + "\"/>\n</g>\n";
  s += "<g class=\"y-ticks\">\n";
  const int decimals = ticks.step < 0.1 - 1e-9 ? 2 : 1;
  const auto steps = std::llround((ticks.high - ticks.low) / ticks.step);
  for (long long k = 0; k <= steps; ++k) {
    const double a = ticks.low + ticks.step * static_cast<double>(k);
    s += "<line x1=\"" + fmt(L) + "\" y1=\"" + fmt(y(a)) + "\" x2=\"" + fmt(W - R) + "\" y2=\"" +
         fmt(y(a)) + "\" stroke=\"#dddddd\"/>\n<text x=\"" + fmt(L - 8) + "\" y=\"" +
         fmt(y(a) + 4) + "\" text-anchor=\"end\">" + fmt(a, decimals) + "</text>\n";
  }
  s += "</g>\n<text transform=\"translate(" + fmt(L - 48) + "," + fmt((T + H - B) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">AUC (voter's validation data)</text>\n";
  s += "<g class=\"x-ticks\" text-anchor=\"middle\">\n";
  const std::size_t every = std::max<std::size_t>(1, turns.size() / 16);  // at most ~16 labels
  for (std::size_t i = 0; i < turns.size(); i += every) {
    const TurnVotes& t = turns[i];
    std::string who = t.trainer;
    if (federated && t.contributors > 0) who += " (" + std::to_string(t.contributors) + " up)";
    s += "<text x=\"" + fmt(x(i)) + "\" y=\"" + fmt(H - B + 16) + "\">" + std::to_string(t.turn) +
         "</text>\n";
    if (!who.empty()) {
      s += "<text class=\"trainer\" x=\"" + fmt(x(i)) + "\" y=\"" + fmt(H - B + 30) +
           "\" font-size=\"10\" fill=\"#555555\">" + xml_escape(who) + "</text>\n";
    }
  }
  s += "</g>\n<text x=\"" + fmt((L + W - R) / 2) + "\" y=\"" + fmt(H - 14) +
       "\" text-anchor=\"middle\">" +
       (federated ? "round (aggregated by; updates)" : "turn (trained by)") + "</text>\n";
  if (turns.empty()) {
    s += "<text x=\"" + fmt((L + W - R) / 2) + "\" y=\"" + fmt((T + H - B) / 2) +
         "\" text-anchor=\"middle\" fill=\"#555555\">no turn has begun</text>\n";
  }
  // One series per voter, in name order.
  std::map<std::string, std::vector<std::pair<std::size_t, const TurnVotes::Vote*>>> series;
  for (std::size_t i = 0; i < turns.size(); ++i) {
    for (const TurnVotes::Vote& v : turns[i].votes) series[v.voter].emplace_back(i, &v);
  }
  std::size_t c = 0;
  const double spread = std::min(10.0, column / (2.0 * static_cast<double>(series.size() + 1)));
  for (const auto& [voter, votes] : series) {
    const std::string col = kColours[c % kColours.size()];
    // Voters side by side within a column, so that equal AUCs stay visible.
    const double dx =
        (static_cast<double>(c) - (static_cast<double>(series.size()) - 1) / 2) * spread;
    s += "<g class=\"voter\"><title>" + xml_escape(voter) + "</title>\n<polyline points=\"";
    for (std::size_t k = 0; k < votes.size(); ++k) {
      s += (k > 0 ? " " : "") + fmt(x(votes[k].first) + dx) + "," +
           fmt(y(votes[k].second->auc_candidate));
    }
    s += "\" fill=\"none\" stroke=\"" + col + "\" stroke-width=\"1.5\"/>\n";
    for (const auto& [i, v] : votes) {
      const double cx = x(i) + dx, cy = y(v->auc_candidate), hy = y(v->auc_head);
      s += "<line class=\"head\" x1=\"" + fmt(cx - 5) + "\" y1=\"" + fmt(hy) + "\" x2=\"" +
           fmt(cx + 5) + "\" y2=\"" + fmt(hy) + "\" stroke=\"#777777\" stroke-width=\"2\"/>\n";
      if (v->approve) {
        s += "<circle class=\"vote-approve\" cx=\"" + fmt(cx) + "\" cy=\"" + fmt(cy) +
             "\" r=\"4\" fill=\"" + col + "\" stroke=\"" + col + "\"/>\n";
      } else {
        s += "<path class=\"vote-reject\" d=\"M" + fmt(cx - 4) + "," + fmt(cy - 4) + " L" +
             fmt(cx + 4) + "," + fmt(cy + 4) + " M" + fmt(cx - 4) + "," + fmt(cy + 4) + " L" +
             fmt(cx + 4) + "," + fmt(cy - 4) + "\" stroke=\"" + col +
             "\" stroke-width=\"2\" fill=\"none\"/>\n";
      }
    }
    s += "</g>\n<text x=\"" + fmt(W - R + 14) + "\" y=\"" + fmt(T + 16 * c + 4) + "\" fill=\"" +
         col + "\">" + xml_escape(voter) + "</text>\n";
    ++c;
  }
  // The key: vote marks, the head's dash, the outcome shading.
  double ky = T + 16 * static_cast<double>(c) + 16;
  const double kx = W - R + 14;
  s += "<g class=\"key\" font-size=\"11\" fill=\"#333333\">\n<circle cx=\"" + fmt(kx + 4) +
       "\" cy=\"" + fmt(ky - 4) + "\" r=\"4\" fill=\"#333333\"/>\n<text x=\"" + fmt(kx + 14) +
       "\" y=\"" + fmt(ky) + "\">vote: approve</text>\n";
  ky += 16;
  s += "<path d=\"M" + fmt(kx) + "," + fmt(ky - 8) + " L" + fmt(kx + 8) + "," + fmt(ky) + " M" +
       fmt(kx) + "," + fmt(ky) + " L" + fmt(kx + 8) + "," + fmt(ky - 8) +
       "\" stroke=\"#333333\" stroke-width=\"2\"/>\n<text x=\"" + fmt(kx + 14) + "\" y=\"" +
       fmt(ky) + "\">vote: reject</text>\n";
  ky += 16;
  s += "<line x1=\"" + fmt(kx - 1) + "\" y1=\"" + fmt(ky - 4) + "\" x2=\"" + fmt(kx + 9) +
       "\" y2=\"" + fmt(ky - 4) + "\" stroke=\"#777777\" stroke-width=\"2\"/>\n<text x=\"" +
       fmt(kx + 14) + "\" y=\"" + fmt(ky) + "\">head's AUC, same data</text>\n";
  ky += 16;
  for (const auto& [fill, what] :
       {std::pair{"#d9f2e0", "turn approved"}, std::pair{"#f8dcdc", "turn rejected"},
        std::pair{"#eeeeee", "expired, abandoned, ..."}}) {
    s += "<rect x=\"" + fmt(kx) + "\" y=\"" + fmt(ky - 9) + "\" width=\"9\" height=\"9\" fill=\"" +
         fill + "\" stroke=\"#999999\"/>\n<text x=\"" + fmt(kx + 14) + "\" y=\"" + fmt(ky) + "\">" +
         (federated && std::string_view(what).starts_with("turn ")
              ? "round" + std::string(what).substr(4)
              : std::string(what)) +
         "</text>\n";
    ky += 16;
  }
  s += "</g>\n</svg>\n";
  return s;
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
