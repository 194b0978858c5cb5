// The run page's two graphics as inline SVG (no script, nothing fetched):
// the AUC per turn and the lineage graph.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "node/console_html.h"
#include "node/console_pages.h"

namespace baton::node::console {
namespace {

using nlohmann::json;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// The median of `values` (ppm), as a fraction; nullopt when empty.
std::optional<double> median_fraction(std::vector<std::int64_t> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double m =
      n % 2 == 1
          ? static_cast<double>(values[n / 2])
          : (static_cast<double>(values[n / 2 - 1]) + static_cast<double>(values[n / 2])) / 2.0;
  return m / 1e6;
}

struct ChartPoint {
  std::uint64_t turn = 0;
  double candidate = 0;
  double head = 0;
  std::size_t voters = 0;
  std::string decision;
};

// Each turn with at least one measured vote: the voters' median AUCs.
std::vector<ChartPoint> chart_points(const json& turns) {
  std::vector<ChartPoint> out;
  if (!turns.is_array()) return out;
  for (const auto& t : turns) {
    std::vector<std::int64_t> cand;
    std::vector<std::int64_t> head;
    for (const auto& v : t.value("votes", json::array())) {
      if (v.value("validation_size", std::uint64_t{0}) == 0) continue;
      cand.push_back(v.value("auc_candidate_ppm", std::int64_t{0}));
      head.push_back(v.value("auc_head_ppm", std::int64_t{0}));
    }
    const auto c = median_fraction(cand);
    const auto h = median_fraction(head);
    if (!c || !h) continue;
    out.push_back({t.value("turn", std::uint64_t{0}), *c, *h, cand.size(), text_of(t, "decision")});
  }
  if (out.size() > kMaxChartTurns) out.erase(out.begin(), out.end() - kMaxChartTurns);
  return out;
}

// A tick step giving at most ~6 ticks over `span`.
double tick_step(double span) {
  for (double s : {0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5})
    if (span / s <= 6.0) return s;
  return 1.0;
}

std::string marker(double x, double y, const std::string& decision) {
  if (decision == "approved")
    return "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"5\" fill=\"#1e8a3c\"/>";
  if (decision == "rejected") {
    return "<path d=\"M" + num(x - 5) + " " + num(y - 5) + "L" + num(x + 5) + " " + num(y + 5) +
           "M" + num(x - 5) + " " + num(y + 5) + "L" + num(x + 5) + " " + num(y - 5) +
           "\" stroke=\"#c0392b\" stroke-width=\"2.5\"/>";
  }
  return "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) +
         "\" r=\"5\" fill=\"#fff\" stroke=\"#69717d\" stroke-width=\"2\"/>";
}

}  // namespace

std::string auc_chart_svg(const json& turns) {
  constexpr double W = 760, H = 320, L = 64, R = 150, T = 20, B = 52;
  const double pw = W - L - R;
  const double ph = H - T - B;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(W) + "\" height=\"" +
                    num(H) + "\" viewBox=\"0 0 " + num(W) + " " + num(H) +
                    "\" role=\"img\" aria-label=\"AUC per turn\" class=\"auc-chart\">";
  const std::vector<ChartPoint> points = chart_points(turns);
  if (points.empty()) {
    return svg + "<text x=\"" + num(W / 2) + "\" y=\"" + num(H / 2) +
           "\" text-anchor=\"middle\" fill=\"#69717d\">no votes yet</text></svg>";
  }
  double lo = 1.0;
  double hi = 0.0;
  for (const auto& p : points) {
    lo = std::min({lo, p.candidate, p.head});
    hi = std::max({hi, p.candidate, p.head});
  }
  const double step = tick_step(std::max(hi - lo, 0.02));
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  if (hi - lo < step) hi = lo + step;  // one value, or all equal
  if (hi > 1.0) {
    hi = 1.0;
    lo = std::min(lo, 1.0 - step);
  }
  lo = std::max(lo, 0.0);
  const std::uint64_t first = points.front().turn;
  const std::uint64_t last = points.back().turn;
  const auto x_of = [&](std::uint64_t turn) {
    if (last == first) return L + pw / 2;
    return L + pw * static_cast<double>(turn - first) / static_cast<double>(last - first);
  };
  const auto y_of = [&](double v) { return T + ph * (1.0 - (v - lo) / (hi - lo)); };

  // Axes, grid and tick labels.
  svg += "<g font-size=\"11\" fill=\"#1d2430\">";
  for (double v = lo; v <= hi + step / 2; v += step) {
    const double y = y_of(v);
    char label[16];
    std::snprintf(label, sizeof label, step < 0.01 ? "%.3f" : "%.2f", v);
    svg += "<line x1=\"" + num(L) + "\" y1=\"" + num(y) + "\" x2=\"" + num(L + pw) + "\" y2=\"" +
           num(y) + "\" stroke=\"#e4e7ec\"/>";
    svg += "<text x=\"" + num(L - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" + label +
           "</text>";
  }
  const std::size_t every = std::max<std::size_t>(1, (points.size() + 14) / 15);
  for (std::size_t i = 0; i < points.size(); i += every) {
    const double x = x_of(points[i].turn);
    svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(T + ph) + "\" x2=\"" + num(x) + "\" y2=\"" +
           num(T + ph + 4) + "\" stroke=\"#1d2430\"/>";
    svg += "<text x=\"" + num(x) + "\" y=\"" + num(T + ph + 17) + "\" text-anchor=\"middle\">" +
           std::to_string(points[i].turn) + "</text>";
  }
  svg += "<line x1=\"" + num(L) + "\" y1=\"" + num(T) + "\" x2=\"" + num(L) + "\" y2=\"" +
         num(T + ph) + "\" stroke=\"#1d2430\"/>";
  svg += "<line x1=\"" + num(L) + "\" y1=\"" + num(T + ph) + "\" x2=\"" + num(L + pw) + "\" y2=\"" +
         num(T + ph) + "\" stroke=\"#1d2430\"/>";
  svg += "<text x=\"" + num(L + pw / 2) + "\" y=\"" + num(H - 10) +
         "\" text-anchor=\"middle\" font-size=\"12\">turn</text>";
  svg += "<text transform=\"translate(16 " + num(T + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">validation AUC (median of "
         "voters)</text></g>";

  // The head's AUC (dashed) and the candidate's (solid), then the marks.
  std::string head_line;
  std::string cand_line;
  for (const auto& p : points) {
    head_line += num(x_of(p.turn)) + "," + num(y_of(p.head)) + " ";
    cand_line += num(x_of(p.turn)) + "," + num(y_of(p.candidate)) + " ";
  }
  svg += "<polyline points=\"" + head_line +
         "\" fill=\"none\" stroke=\"#8a94a3\" stroke-width=\"2\" stroke-dasharray=\"5 4\" "
         "class=\"head-line\"/>";
  svg += "<polyline points=\"" + cand_line +
         "\" fill=\"none\" stroke=\"#1b5fae\" stroke-width=\"2\" class=\"candidate-line\"/>";
  for (const auto& p : points) {
    char tip[160];
    std::snprintf(tip, sizeof tip, "turn %llu: candidate %.4f, head %.4f (%zu voters), ",
                  static_cast<unsigned long long>(p.turn), p.candidate, p.head, p.voters);
    svg += "<g class=\"turn-mark\"><title>" + escape(tip + p.decision, 200) + "</title>";
    svg += "<circle cx=\"" + num(x_of(p.turn)) + "\" cy=\"" + num(y_of(p.head)) +
           "\" r=\"3\" fill=\"#8a94a3\"/>";
    svg += marker(x_of(p.turn), y_of(p.candidate), p.decision) + "</g>";
  }

  // Legend.
  const double lx = L + pw + 16;
  svg += "<g font-size=\"11\" fill=\"#1d2430\">";
  svg += "<line x1=\"" + num(lx) + "\" y1=\"" + num(T + 8) + "\" x2=\"" + num(lx + 24) +
         "\" y2=\"" + num(T + 8) + "\" stroke=\"#1b5fae\" stroke-width=\"2\"/><text x=\"" +
         num(lx + 30) + "\" y=\"" + num(T + 12) + "\">candidate</text>";
  svg += "<line x1=\"" + num(lx) + "\" y1=\"" + num(T + 28) + "\" x2=\"" + num(lx + 24) +
         "\" y2=\"" + num(T + 28) +
         "\" stroke=\"#8a94a3\" stroke-width=\"2\" stroke-dasharray=\"5 4\"/><text x=\"" +
         num(lx + 30) + "\" y=\"" + num(T + 32) + "\">head before</text>";
  svg += marker(lx + 12, T + 50, "approved") + "<text x=\"" + num(lx + 30) + "\" y=\"" +
         num(T + 54) + "\">approved</text>";
  svg += marker(lx + 12, T + 70, "rejected") + "<text x=\"" + num(lx + 30) + "\" y=\"" +
         num(T + 74) + "\">rejected</text>";
  svg += marker(lx + 12, T + 90, "other") + "<text x=\"" + num(lx + 30) + "\" y=\"" + num(T + 94) +
         "\">other / pending</text></g>";
  return svg + "</svg>";
}

std::string lineage_svg(const json& models, std::string_view head) {
  constexpr double BW = 150, BH = 48, GX = 40, GY = 36, M = 16;
  constexpr std::size_t kPerRow = 5;
  std::vector<const json*> shown;
  if (models.is_array())
    for (const auto& m : models) shown.push_back(&m);
  const std::size_t hidden = shown.size() > kMaxLineageNodes ? shown.size() - kMaxLineageNodes : 0;
  shown.erase(shown.begin(), shown.begin() + static_cast<std::ptrdiff_t>(hidden));
  // Slot 0 is the plan's initial model (or the hidden older models).
  const std::size_t slots = shown.size() + 1;
  const std::size_t rows = (slots + kPerRow - 1) / kPerRow;
  const double W = M * 2 + kPerRow * BW + (kPerRow - 1) * GX;
  const double H = M * 2 + static_cast<double>(rows) * BH + static_cast<double>(rows - 1) * GY + 14;
  const auto pos = [&](std::size_t slot) {
    return std::pair<double, double>{M + static_cast<double>(slot % kPerRow) * (BW + GX),
                                     M + static_cast<double>(slot / kPerRow) * (BH + GY)};
  };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(W) + "\" height=\"" +
                    num(H) + "\" viewBox=\"0 0 " + num(W) + " " + num(H) +
                    "\" role=\"img\" aria-label=\"model lineage\" class=\"lineage\">";
  svg +=
      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
      "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" "
      "fill=\"#69717d\"/></marker></defs><g font-size=\"11\">";
  std::map<std::string, std::size_t> slot_of;
  for (std::size_t i = 0; i < shown.size(); ++i) slot_of[text_of(*shown[i], "id")] = i + 1;
  // Edges first, under the boxes: from the parent's box (or slot 0) to the child's.
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const std::string parent = text_of(*shown[i], "parent");
    const auto p = slot_of.find(parent);
    const std::size_t from = p == slot_of.end() ? 0 : p->second;
    const auto [x1, y1] = pos(from);
    const auto [x2, y2] = pos(i + 1);
    const bool same_row = from / kPerRow == (i + 1) / kPerRow;
    const double sx = same_row ? x1 + BW : x1 + BW / 2;
    const double sy = same_row ? y1 + BH / 2 : y1 + BH;
    const double ex = same_row ? x2 : x2 + BW / 2;
    const double ey = same_row ? y2 + BH / 2 : y2;
    svg += "<line x1=\"" + num(sx) + "\" y1=\"" + num(sy) + "\" x2=\"" + num(ex) + "\" y2=\"" +
           num(ey) + "\" stroke=\"#69717d\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>";
  }
  {
    const auto [x, y] = pos(0);
    svg += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(BW) + "\" height=\"" +
           num(BH) + "\" rx=\"6\" fill=\"#eef1f5\" stroke=\"#8a94a3\" stroke-dasharray=\"4 3\"/>";
    svg +=
        "<text x=\"" + num(x + 8) + "\" y=\"" + num(y + 20) + "\">" +
        (hidden > 0 ? std::to_string(hidden) + " earlier models" : std::string("initial model")) +
        "</text><text x=\"" + num(x + 8) + "\" y=\"" + num(y + 37) +
        "\" fill=\"#69717d\">(the plan&#39;s seed)</text>";
  }
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const json& m = *shown[i];
    const std::string id = text_of(m, "id");
    const bool is_head = !head.empty() && id == head;
    const auto [x, y] = pos(i + 1);
    std::string who = text_of(m, "contributor");
    svg += "<g class=\"model" + std::string(is_head ? " head" : "") + "\"><title>" +
           escape("model " + id + " by " + who + ", parent " + text_of(m, "parent"), 400) +
           "</title>";
    svg += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(BW) + "\" height=\"" +
           num(BH) + "\" rx=\"6\" fill=\"" + (is_head ? "#d4f1dc" : "#fff") + "\" stroke=\"" +
           (is_head ? "#1e8a3c" : "#1b5fae") + "\" stroke-width=\"" + (is_head ? "3" : "1.5") +
           "\"/>";
    svg += "<text x=\"" + num(x + 8) + "\" y=\"" + num(y + 18) + "\" font-weight=\"600\">turn " +
           escape(text_of(m, "turn"), 12) + " \xC2\xB7 " + escape(who, 16) + "</text>";
    svg += "<text x=\"" + num(x + 8) + "\" y=\"" + num(y + 36) +
           "\" font-family=\"monospace\" fill=\"#69717d\">" + escape(short_hash(id), 12) +
           "</text></g>";
    if (is_head) {
      svg += "<text x=\"" + num(x + BW / 2) + "\" y=\"" + num(y + BH + 13) +
             "\" text-anchor=\"middle\" font-weight=\"600\" fill=\"#1e8a3c\" "
             "class=\"head-label\">head</text>";
    }
  }
  return svg + "</g></svg>";
}

}  // namespace baton::node::console
