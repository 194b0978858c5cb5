// Renderings of an ExperimentReport: the JSON that scripts read, the human
// table (like C-DistriM's Table 2), per-row prediction CSVs and SVG plots.
// Pure functions returning text; the CLI decides where it goes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/experiment.h"

namespace baton::learning {

// {"dataset": …, "train_rows": n, "test_rows": n, "seed": s, "cycles": c,
//  "modes": "chained"|"federated"|"both", "rounds": R (with federated rows),
//  "model_floats", "model_blob_bytes",
//  "model": <spec>, "training": {epochs, batch_size, optimizer, learning_rate,
//  weight_decay, class_weighting, threads, local_epochs_per_round (federated)},
//  "rows": [{"name", "mode", "description", "partners": [sizes], "auc",
//  "ci": [lo, hi] or null, "p_vs_centralized": p or null, "brier" (binary),
//  "auc_per_class", "ci_per_class", "p_per_class_vs_centralized"
//  (multi-class), "model_hash", "traffic": {sent_per_round,
//  received_per_round, sent_total, received_total} (chained and federated),
//  "rounds", "local_epochs", "auc_per_round", "rounds_to_centralized" (or
//  null: not reached), "clipped" (federated)}]}
nlohmann::json experiment_json(const ExperimentReport& report);

// Two lines naming the data set, sizes, model and budget.
std::string experiment_header(const PreparedData& data, const ExperimentPlan& plan);

// The table: training type, partners' sizes, AUC (95% CI), DeLong p vs
// centralized; multi-class adds one AUC (CI) column per class, p per class.
// Then, when there are distributed rows, a second table: rounds × local
// epochs (chained: cycles × epochs per visit), rounds to reach the
// centralized AUC (federated) and the bytes each hospital sends per round
// (chained: per own turn) and in total, and receives in total.
std::string experiment_table(const ExperimentReport& report);

// One row's test predictions. Binary: "label,score" (label 0/1, score =
// P(positive)). Multi-class: "label,score_<class>…" (label = class index).
// Scores are written with 17 significant digits, so they read back exactly.
std::string predictions_csv(const ExperimentReport& report, const ExperimentRow& row);

// ROC curves and calibration curves (10 bins) of all rows, drawn by plots.h,
// as standalone SVG files: {file name, contents}. Binary: roc.svg, calibration.svg; multi-class:
// roc_<class>.svg, calibration_<class>.svg (one-vs-rest).
// Error: a plot could not be drawn (plots.h; e.g. a score outside [0, 1]).
Result<std::vector<std::pair<std::string, std::string>>> experiment_plots(
    const ExperimentReport& report);

}  // namespace baton::learning
