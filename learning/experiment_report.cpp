// Text renderings of an experiment: JSON, table, CSV, SVG.
#include "learning/experiment_report.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <utility>

#include "learning/metrics.h"
#include "learning/plots.h"
#include "secagg/secagg.h"

namespace baton::learning {
namespace {

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string sizes_text(const std::vector<std::size_t>& sizes) {
  std::string s;
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? "/" : "") + std::to_string(sizes[i]);
  return s;
}

std::string auc_ci_text(double auc, std::pair<double, double> ci) {
  return fmt("%.3f", auc) + " (" + fmt("%.3f", ci.first) + "-" + fmt("%.3f", ci.second) + ")";
}

std::string p_text(double p) { return p < 0.001 ? std::string("<0.001") : fmt("%.3f", p); }

// A class name made safe for file names and CSV headers.
std::string slug(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.empty() ? std::string("class") : out;
}

// Width of a class's "AUC (95% CI)" column: its header or the figures.
std::size_t class_width(const std::string& cls) {
  return std::max<std::size_t>(21, cls.size() + 13);
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s + "  ";
}

// ROC and calibration plots (plots.h) for one binary labelling: the positive
// class, or class `cls` vs the rest.
Status add_plots(const ExperimentReport& report, const std::vector<int>& labels01, int cls,
                 const std::string& suffix, std::vector<std::pair<std::string, std::string>>& out) {
  std::vector<ScoredCurve> curves;
  for (const auto& row : report.rows)
    curves.push_back(ScoredCurve{row.name, labels01, row.predictions.scores(cls)});
  const std::string what = report.dataset + (suffix.empty() ? "" : ", " + suffix + " vs rest");
  PlotOptions options;
  options.title = "ROC, " + what;
  auto roc = roc_svg(curves, options);
  if (!roc) return roc.error();
  options.title = "Calibration (10 bins), " + what;
  auto calibration = calibration_svg(curves, options);
  if (!calibration) return calibration.error();
  out.emplace_back(suffix.empty() ? "roc.svg" : "roc_" + suffix + ".svg", std::move(roc).value());
  out.emplace_back(suffix.empty() ? "calibration.svg" : "calibration_" + suffix + ".svg",
                   std::move(calibration).value());
  return {};
}

}  // namespace

nlohmann::json experiment_json(const ExperimentReport& r) {
  const auto& t = r.plan.train;
  nlohmann::json j = {{"dataset", r.dataset},
                      {"train_rows", r.train_rows},
                      {"test_rows", r.test_rows},
                      {"seed", r.plan.seed},
                      {"cycles", r.plan.cycles},
                      {"modes", std::string(modes_name(r.plan.modes))},
                      {"model_floats", r.model_floats},
                      {"model_blob_bytes", r.model_blob_bytes},
                      {"model", nlohmann::json::parse(to_json(r.spec))},
                      {"classes", r.class_names},
                      {"training",
                       {{"epochs", t.epochs},
                        {"epochs_per_visit", epochs_per_visit(t.epochs, r.plan.cycles)},
                        {"batch_size", t.batch_size},
                        {"optimizer", std::string(optimizer_name(t.optimizer))},
                        {"learning_rate", t.learning_rate},
                        {"weight_decay", t.weight_decay},
                        {"class_weighting", t.class_weighting},
                        {"threads", t.threads}}}};
  if (r.plan.modes != ExperimentModes::chained) {
    j["rounds"] = r.plan.rounds;
    j["training"]["local_epochs_per_round"] = epochs_per_visit(t.epochs, r.plan.rounds);
  }
  j["rows"] = nlohmann::json::array();
  for (const auto& row : r.rows) {
    nlohmann::json o = {{"name", row.name},
                        {"mode", row.mode},
                        {"description", row.description},
                        {"partners", row.partner_sizes},
                        {"auc", row.auc},
                        {"model_hash", row.model_hash.hex()}};
    o["ci"] =
        row.ci ? nlohmann::json::array({row.ci->first, row.ci->second}) : nlohmann::json(nullptr);
    o["p_vs_centralized"] =
        row.p_vs_centralized ? nlohmann::json(*row.p_vs_centralized) : nlohmann::json(nullptr);
    if (r.class_names.size() == 2) {
      o["brier"] = row.brier;
    } else {
      o["auc_per_class"] = row.auc_per_class;
      o["ci_per_class"] = nlohmann::json::array();
      for (const auto& [lo, hi] : row.ci_per_class) o["ci_per_class"].push_back({lo, hi});
      o["p_per_class_vs_centralized"] = row.p_per_class_vs_centralized.empty()
                                            ? nlohmann::json(nullptr)
                                            : nlohmann::json(row.p_per_class_vs_centralized);
    }
    if (row.traffic) {
      o["traffic"] = {{"sent_per_round", row.traffic->sent_per_round},
                      {"received_per_round", row.traffic->received_per_round},
                      {"sent_total", row.traffic->sent_total},
                      {"received_total", row.traffic->received_total}};
    }
    if (row.mode == "federated") {
      o["rounds"] = row.rounds;
      o["local_epochs"] = row.local_epochs;
      o["auc_per_round"] = row.auc_per_round;
      o["rounds_to_centralized"] = row.rounds_to_centralized
                                       ? nlohmann::json(*row.rounds_to_centralized)
                                       : nlohmann::json(nullptr);
      o["clipped"] = row.clipped;
    }
    j["rows"].push_back(std::move(o));
  }
  return j;
}

std::string experiment_header(const PreparedData& data, const ExperimentPlan& plan) {
  std::ostringstream o;
  o << "experiment: " << data.name << ", " << data.train.rows << " training rows, "
    << data.test.rows << " test rows, " << data.train.features << " features, "
    << data.train.num_classes << " classes\n";
  o << "training: " << (data.train.image_shape.size() == 3 ? "cnn2d" : "mlp") << ", budget "
    << plan.train.epochs << " epochs per sample ("
    << epochs_per_visit(plan.train.epochs, plan.cycles) << " per visit, " << plan.cycles
    << " cycle(s)), batch " << plan.train.batch_size << ", " << optimizer_name(plan.train.optimizer)
    << " lr " << plan.train.learning_rate << ", seed " << plan.seed << "\n";
  if (plan.modes != ExperimentModes::chained) {
    o << "federated: FedAvg, " << plan.rounds << " rounds x "
      << epochs_per_visit(plan.train.epochs, plan.rounds)
      << " local epochs, updates averaged in secure aggregation's fixed point (2^-"
      << secagg::kFracBits << ")\n";
  }
  return o.str();
}

std::string experiment_table(const ExperimentReport& r) {
  std::ostringstream o;
  const bool binary = r.class_names.size() == 2;
  o << "\n" << pad("training type", 13) << pad("partners' sizes", 16);
  if (binary) {
    o << pad("AUC (95% CI)", 21) << "DeLong p vs centralized\n";
  } else {
    o << pad("macro AUC", 9);
    for (const auto& c : r.class_names)
      o << pad("AUC " + c + " (95% CI)", class_width(c)) << pad("p", 6);
    o << "\n";
  }
  for (const auto& row : r.rows) {
    o << pad(row.name, 13) << pad(sizes_text(row.partner_sizes), 16);
    if (binary) {
      o << pad(auc_ci_text(row.auc, *row.ci), 21)
        << (row.p_vs_centralized ? p_text(*row.p_vs_centralized) : "-") << "\n";
    } else {
      o << pad(fmt("%.3f", row.auc), 9);
      for (std::size_t k = 0; k < row.auc_per_class.size(); ++k) {
        o << pad(auc_ci_text(row.auc_per_class[k], row.ci_per_class[k]),
                 class_width(r.class_names[k]))
          << pad(row.p_per_class_vs_centralized.empty() ? "-"
                                                        : p_text(row.p_per_class_vs_centralized[k]),
                 6);
      }
      o << "\n";
    }
  }
  // Rounds and traffic of the distributed rows (chained: per own turn).
  bool any = false;
  for (const auto& row : r.rows) any = any || row.traffic.has_value();
  if (!any) return o.str();
  o << "\n"
    << pad("training type", 13) << pad("rounds x epochs", 15) << pad("to centralized", 14)
    << pad("sent/round", 12) << pad("sent total", 12) << "received total (bytes per hospital)\n";
  for (const auto& row : r.rows) {
    if (!row.traffic) continue;
    const bool fed = row.mode == "federated";
    const int rounds = fed ? row.rounds : r.plan.cycles;
    const int epochs =
        fed ? row.local_epochs : epochs_per_visit(r.plan.train.epochs, r.plan.cycles);
    std::string reached = "-";
    if (fed) {
      reached = row.rounds_to_centralized ? std::to_string(*row.rounds_to_centralized)
                                          : std::string("not reached");
    }
    o << pad(row.name, 13) << pad(std::to_string(rounds) + " x " + std::to_string(epochs), 15)
      << pad(reached, 14) << pad(std::to_string(row.traffic->sent_per_round), 12)
      << pad(std::to_string(row.traffic->sent_total), 12) << row.traffic->received_total << "\n";
  }
  return o.str();
}

std::string predictions_csv(const ExperimentReport& r, const ExperimentRow& row) {
  std::ostringstream o;
  const bool binary = r.class_names.size() == 2;
  o << "label";
  if (binary) {
    o << ",score";
  } else {
    for (const auto& c : r.class_names) o << ",score_" << slug(c);
  }
  o << "\n";
  const auto k = static_cast<std::size_t>(row.predictions.num_classes);
  for (std::size_t i = 0; i < row.predictions.rows; ++i) {
    o << r.test_labels[i];
    if (binary) {
      o << "," << fmt("%.17g", row.predictions.probabilities[i * k + 1]);
    } else {
      for (std::size_t c = 0; c < k; ++c)
        o << "," << fmt("%.17g", row.predictions.probabilities[i * k + c]);
    }
    o << "\n";
  }
  return o.str();
}

Result<std::vector<std::pair<std::string, std::string>>> experiment_plots(
    const ExperimentReport& r) {
  std::vector<std::pair<std::string, std::string>> out;
  if (r.class_names.size() == 2) {
    if (auto st = add_plots(r, r.test_labels, 1, "", out); !st) return st.error();
    return out;
  }
  for (std::size_t k = 0; k < r.class_names.size(); ++k) {
    std::vector<int> labels01(r.test_labels.size());
    for (std::size_t i = 0; i < labels01.size(); ++i)
      labels01[i] = r.test_labels[i] == static_cast<int>(k) ? 1 : 0;
    if (auto st = add_plots(r, labels01, static_cast<int>(k), slug(r.class_names[k]), out); !st)
      return st.error();
  }
  return out;
}

}  // namespace baton::learning
