// `baton experiment --dataset NAME --privacy-sweep [--svg FILE]`: the
// structure of the table of Singh et al. (issue 14) on Baton's data: no DP,
// local DP at β = 1, 2, 4, DP-SGD at ε ≈ 1, 3, 8 (δ = 1/rows), each trained
// centralized and chained over four equal partners (scenario 3), AUC with
// its DeLong CI and the DeLong p against the non-private centralized model
// (docs/EXPERIMENTS.md, "Differential privacy").
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "learning/metrics.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"

namespace baton::tools {
namespace {

namespace ln = baton::learning;

struct Setting {
  std::string label;  // "none", "local β=1", "DP-SGD ε≈3"
  ln::ExperimentPrivacy privacy;
};

struct Outcome {
  Setting setting;
  double epsilon = 0;  // per hospital: local ε per row; DP-SGD the largest trainer's; none 0
  ln::ExperimentRow central, chained;
  std::optional<double> p_central, p_chained;  // against the non-private centralized model
};

std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string auc_cell(const ln::ExperimentRow& r) {
  return fixed(r.auc, 3) + " [" + fixed(r.ci->first, 3) + ", " + fixed(r.ci->second, 3) + "]";
}

std::string p_cell(const std::optional<double>& p) {
  if (!p) return "—";
  return *p < 0.001 ? "<0.001" : fixed(*p, 3);
}

std::string sigma_cell(const ln::ExperimentRow& r) {
  std::string out;
  for (const auto& t : r.privacy) out += (out.empty() ? "" : "/") + fixed(t.noise_multiplier, 2);
  return out.empty() ? "—" : out;
}

double largest_epsilon(const ln::ExperimentRow& r) {
  double e = 0;
  for (const auto& t : r.privacy) e = std::max(e, t.epsilon);
  return e;
}

// AUC against ε on a log axis: DP-SGD and local DP, centralized (solid) and
// chained (dashed); the non-private AUCs as horizontal lines.
std::string sweep_svg(const std::vector<Outcome>& outcomes, const std::string& title) {
  const double w = 640, h = 450, left = 70, top = 50, pw = 520, ph = 290;
  const double lo = -0.5, hi = 3.5;  // log10 ε
  double auc_lo = 1.0;
  for (const auto& o : outcomes) auc_lo = std::min({auc_lo, o.central.auc, o.chained.auc});
  auc_lo = std::max(0.0, std::floor((auc_lo - 0.02) * 10) / 10);
  const auto x = [&](double eps) { return left + pw * (std::log10(eps) - lo) / (hi - lo); };
  const auto y = [&](double auc) { return top + ph - ph * (auc - auc_lo) / (1.0 - auc_lo); };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << w / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">" << title
    << "</text>\n<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\""
    << ph << "\" fill=\"none\" stroke=\"black\"/>\n";
  for (double e : {1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0}) {
    o << "<line x1=\"" << x(e) << "\" x2=\"" << x(e) << "\" y1=\"" << top + ph << "\" y2=\""
      << top + ph + 4 << "\" stroke=\"black\"/><text x=\"" << x(e) << "\" y=\"" << top + ph + 18
      << "\" text-anchor=\"middle\">" << e << "</text>\n";
  }
  for (int k = 0; k <= 5; ++k) {
    const double v = auc_lo + (1.0 - auc_lo) * k / 5;
    o << "<line x1=\"" << left - 4 << "\" x2=\"" << left << "\" y1=\"" << y(v) << "\" y2=\"" << y(v)
      << "\" stroke=\"black\"/><text x=\"" << left - 7 << "\" y=\"" << y(v) + 4
      << "\" text-anchor=\"end\">" << fixed(v, 2) << "</text>\n";
  }
  o << "<text x=\"" << left + pw / 2 << "\" y=\"" << top + ph + 36
    << "\" text-anchor=\"middle\">ε per hospital (log scale; DP-SGD at δ = 1/rows, local DP "
       "per row)</text>\n<text transform=\"translate("
    << left - 46 << "," << top + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\">test AUC</text>\n";
  struct Series {
    ln::ExperimentPrivacyKind kind;
    bool chained;
    const char* colour;
    const char* name;
  };
  const Series series[] = {
      {ln::ExperimentPrivacyKind::dp_sgd, false, "#0072B2", "DP-SGD, centralized"},
      {ln::ExperimentPrivacyKind::dp_sgd, true, "#0072B2", "DP-SGD, chained (4)"},
      {ln::ExperimentPrivacyKind::local, false, "#D55E00", "local DP, centralized"},
      {ln::ExperimentPrivacyKind::local, true, "#D55E00", "local DP, chained (4)"},
      {ln::ExperimentPrivacyKind::none, false, "#333333", "no DP, centralized"},
      {ln::ExperimentPrivacyKind::none, true, "#333333", "no DP, chained (4)"},
  };
  int index = 0;
  for (const auto& s : series) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& out : outcomes) {
      if (out.setting.privacy.kind != s.kind) continue;
      const double auc = s.chained ? out.chained.auc : out.central.auc;
      if (s.kind == ln::ExperimentPrivacyKind::none) {
        pts = {{std::pow(10.0, lo), auc}, {std::pow(10.0, hi), auc}};
      } else {
        pts.emplace_back(std::clamp(out.epsilon, std::pow(10.0, lo), std::pow(10.0, hi)), auc);
      }
    }
    std::sort(pts.begin(), pts.end());
    const std::string dash = s.chained ? " stroke-dasharray=\"6,3\"" : "";
    o << "<polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"2\"" << dash
      << " points=\"";
    for (const auto& [e, a] : pts) o << fixed(x(e), 1) << "," << fixed(y(a), 1) << " ";
    o << "\"/>\n";
    if (s.kind != ln::ExperimentPrivacyKind::none) {
      for (const auto& [e, a] : pts) {
        o << "<circle cx=\"" << fixed(x(e), 1) << "\" cy=\"" << fixed(y(a), 1) << "\" r=\"3.5\" "
          << (s.chained ? "fill=\"white\" stroke=\"" : "fill=\"") << s.colour << "\"/>\n";
      }
    }
    const double lx = left + 10 + 260.0 * (index % 2), ly = top + ph + 58 + 15.0 * (index / 2);
    o << "<line x1=\"" << lx << "\" x2=\"" << lx + 24 << "\" y1=\"" << ly << "\" y2=\"" << ly
      << "\" stroke=\"" << s.colour << "\" stroke-width=\"2\"" << dash << "/><text x=\"" << lx + 30
      << "\" y=\"" << ly + 4 << "\">" << s.name << "</text>\n";
    ++index;
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace

void run_privacy_sweep(const ln::PreparedData& data, const ln::ExperimentPlan& base,
                       const PrivacySweepArgs& args) {
  if (data.train.num_classes != 2)
    fail("--privacy-sweep needs a binary task (DeLong's test compares one score)", Exit::usage);
  const bool image = !data.train.image_shape.empty();
  // Local DP clips each value to an interval of width Δ: a standardised
  // feature to [-2, 2] (Δ = 4), a pixel to [0, 1] (Δ = 1, no change).
  const double sensitivity = image ? 1.0 : 4.0;
  std::vector<Setting> settings = {{"none", {}}};
  for (double beta : {1.0, 2.0, 4.0}) {
    ln::ExperimentPrivacy p;
    p.kind = ln::ExperimentPrivacyKind::local;
    p.beta = beta;
    p.sensitivity = sensitivity;
    settings.push_back({"local β=" + fixed(beta, 0), p});
  }
  for (double eps : {1.0, 3.0, 8.0}) {
    ln::ExperimentPrivacy p;
    p.kind = ln::ExperimentPrivacyKind::dp_sgd;
    p.target_epsilon = eps;
    p.clip = args.clip;
    settings.push_back({"DP-SGD ε≈" + fixed(eps, 0), p});
  }
  std::vector<Outcome> outcomes;
  for (const auto& s : settings) {
    auto plan = base;
    plan.privacy = s.privacy;
    plan.scenarios = {"scenario3"};  // four partners of equal size
    auto report = ln::run_experiment(data, plan);
    if (!report) fail(s.label + ": " + report.error().message);
    Outcome out;
    out.setting = s;
    out.central = report->rows.at(0);
    out.chained = report->rows.at(1);
    if (s.privacy.kind == ln::ExperimentPrivacyKind::local) {
      out.epsilon = static_cast<double>(data.train.features) * sensitivity / s.privacy.beta;
    } else if (s.privacy.kind == ln::ExperimentPrivacyKind::dp_sgd) {
      out.epsilon = std::max(largest_epsilon(out.central), largest_epsilon(out.chained));
    }
    if (!outcomes.empty()) {
      const auto plain = outcomes.front().central.predictions.scores();
      for (auto [row, p] :
           {std::pair{&out.central, &out.p_central}, std::pair{&out.chained, &out.p_chained}}) {
        auto t = ln::delong_paired_test(data.test.y, row->predictions.scores(), plain);
        if (!t) fail(t.error().message);
        *p = t->p_two_sided;
      }
    } else {
      out.p_chained = out.chained.p_vs_centralized;
    }
    std::cerr << "privacy sweep: " << s.label << " done (AUC " << fixed(out.central.auc, 3)
              << " centralized, " << fixed(out.chained.auc, 3) << " chained)\n";
    outcomes.push_back(std::move(out));
  }

  std::ostringstream t;
  t << "Privacy sweep on " << data.name << " (" << data.train.rows << " training, "
    << data.test.rows << " test rows; " << (image ? "2D CNN" : "MLP") << ", " << base.train.epochs
    << " epochs, batch " << base.train.batch_size << ", seed " << base.seed
    << "; chained = four equal partners, " << base.cycles << " cycle(s))\n\n";
  t << "| privacy | ε per hospital | centralized AUC [95% CI] | p vs no-DP centralized | "
       "chained AUC [95% CI] | p vs no-DP centralized | σ centralized | σ partners |\n";
  t << "|---|---|---|---|---|---|---|---|\n";
  for (const auto& o : outcomes) {
    std::string eps = "—";
    if (o.setting.privacy.kind == ln::ExperimentPrivacyKind::local) eps = fixed(o.epsilon, 0);
    if (o.setting.privacy.kind == ln::ExperimentPrivacyKind::dp_sgd) {
      eps = fixed(largest_epsilon(o.central), 2) + " / " + fixed(largest_epsilon(o.chained), 2);
    }
    t << "| " << o.setting.label << " | " << eps << " | " << auc_cell(o.central) << " | "
      << p_cell(o.p_central) << " | " << auc_cell(o.chained) << " | " << p_cell(o.p_chained)
      << " | " << sigma_cell(o.central) << " | " << sigma_cell(o.chained) << " |\n";
  }
  t << "\nε: local DP, per row (values × Δ / β, Δ = " << fixed(sensitivity, 0)
    << "); DP-SGD, the accountant's ε at δ = 1/rows of whoever trained (centralized / the "
       "largest of the four partners).\n";
  std::cout << t.str();
  if (!args.svg.empty()) {
    std::ofstream f(args.svg, std::ios::binary | std::ios::trunc);
    f << sweep_svg(outcomes, "Test AUC against ε: " + data.name);
    if (!f) fail("cannot write the SVG to " + args.svg + "; check that its folder exists");
  }
}

}  // namespace baton::tools
