// The in-process scenario runner behind `baton experiment`: trains the
// centralized model and the paper's six chained scenarios (C-DistriM, Zerka et
// al. 2020), and/or federated FedAvg on the same six partitions (issue 15),
// on one prepared data set and scores each on the same held-out test set. Pure computation: no
// files, no logging; the CLI writes the outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/federated.h"
#include "learning/model.h"
#include "learning/train.h"

namespace baton::learning {

// Differential privacy applied to every training of an experiment (the
// privacy sweep, docs/EXPERIMENTS.md "Differential privacy").
enum class ExperimentPrivacyKind { none, local, dp_sgd };

struct ExperimentPrivacy {
  ExperimentPrivacyKind kind = ExperimentPrivacyKind::none;
  // local: each trainer's copy of its rows is clipped and noised once
  // (learning/local_dp.h), the same copy at every visit.
  double beta = 1.0;
  double sensitivity = 1.0;
  // dp_sgd: each trainer (the centralized model, or each partner) gets the
  // smallest σ (chain::smallest_noise_multiplier, micro-units) whose ε over
  // all its noisy steps (every visit) at δ = 1/rows is within target_epsilon,
  // with q = batch_size / rows (rounded up to nano) and clip C.
  double target_epsilon = 0;
  double clip = 1.0;
};

// What one trainer's DP-SGD used and spent (ExperimentRow::privacy).
struct TrainerPrivacy {
  std::size_t rows = 0;
  double noise_multiplier = 0;  // σ
  std::uint64_t sampling_rate_nano = 0;
  std::uint64_t steps = 0;       // noisy steps over all its visits
  std::uint64_t delta_pico = 0;  // ⌊10^12 / rows⌋
  double epsilon = 0;            // the accountant's ε for those steps
};

// Which distributed rows an experiment trains after the centralized model.
enum class ExperimentModes { chained, federated, both };

std::string_view modes_name(ExperimentModes m);              // "chained" | "federated" | "both"
Result<ExperimentModes> parse_modes(std::string_view name);  // the same names

struct ExperimentPlan {
  // MLP hidden widths for tabular data; image data (image_shape {1, H, W})
  // gets the small 2D CNN and ignores this.
  std::vector<int> hidden = {32};
  // `train.epochs` is the budget: how many times each training row is seen.
  // The centralized model trains `epochs` epochs on all rows; in a chained
  // scenario each partner trains epochs / cycles epochs (rounded, at least 1)
  // on its own rows at each visit, so every row is again seen ~`epochs` times
  // and the number of optimizer steps is about the same: the fair comparison.
  TrainSettings train;
  int cycles = 1;             // passes of the model along the partner chain
  std::uint64_t seed = 1;     // model initialisation, partner split, batch orders
  int workers = 1;            // trainings run in parallel (each with train.threads)
  ExperimentPrivacy privacy;  // none by default
  // Which of the six scenarios run after the centralized model (names
  // "scenario1" … "scenario6"); empty: all six. A federated row runs on the
  // partition of the scenario with its number.
  std::vector<std::string> scenarios;
  ExperimentModes modes = ExperimentModes::chained;
  // Federated rows: `rounds` FedAvg rounds (fedavg_round) from
  // Model::create(spec, seed); in each, every partner trains
  // epochs_per_visit(train.epochs, rounds) local epochs from the round's
  // global model, so rounds × local epochs ≈ the centralized epochs (the
  // same budget as a chained row). Not with privacy (a federated plan with DP
  // is not supported yet).
  int rounds = 10;
};

// The settings we chose for each built-in data set (docs/EXPERIMENTS.md says
// why); unknown names (CSV files) get a small MLP with 50 epochs.
ExperimentPlan default_plan(std::string_view dataset_name);

// Local epochs per visit for a budget of `epochs` spread over `cycles`.
int epochs_per_visit(int epochs, int cycles);

struct ExperimentRow {
  // "centralized", "scenario1" … "scenario6" (chained), "federated1" …
  // "federated6" (FedAvg on scenario k's partition)
  std::string name;
  std::string mode;                        // "centralized" | "chained" | "federated"
  std::string description;                 // e.g. "3 partners, equal sizes"
  std::vector<std::size_t> partner_sizes;  // training rows per partner, in chain order
  // Binary: ROC AUC on the test set with its DeLong 95% CI and the DeLong
  // paired test against the centralized model (two-sided p; none for the
  // centralized row itself).
  // Multi-class: the macro mean of the one-vs-rest AUCs; ci and p are then
  // per class only (below), because DeLong's test is defined for one score.
  double auc = 0;
  std::optional<std::pair<double, double>> ci;
  std::optional<double> p_vs_centralized;
  std::vector<double> auc_per_class;                    // multi-class only
  std::vector<std::pair<double, double>> ci_per_class;  // multi-class only
  std::vector<double> p_per_class_vs_centralized;       // multi-class, non-centralized rows
  double brier = 0;                                     // binary only
  Predictions predictions;                              // on the test set, in test-row order
  chain::Hash model_hash;                               // of the final model
  std::vector<TrainerPrivacy> privacy;  // DP-SGD: one per trainer (partner order); else empty
  // Chained and federated rows: what each hospital sends and receives
  // (federated_traffic, chained_traffic; every hospital the same).
  std::optional<HospitalTraffic> traffic;
  // Federated rows only: rounds, local epochs per round, the global model's
  // test AUC (binary: ROC AUC; multi-class: macro one-vs-rest) after each
  // round (the last is `auc`), the first round (1-based) at which it was at
  // least the centralized row's AUC (none: not reached), and the update
  // values clipped to ±secagg::kMaxAbsDelta or encoded as 0 for being NaN or
  // infinite, over all rounds and partners.
  int rounds = 0;
  int local_epochs = 0;
  std::vector<double> auc_per_round;
  std::optional<int> rounds_to_centralized;
  std::size_t clipped = 0;
};

struct ExperimentReport {
  std::string dataset;
  ModelSpec spec;
  ExperimentPlan plan;
  std::size_t train_rows = 0;
  std::size_t test_rows = 0;
  std::vector<int> test_labels;  // class index per test row
  std::vector<std::string> class_names;
  std::size_t model_floats = 0;      // float32 values of the model blob (§17)
  std::size_t model_blob_bytes = 0;  // bytes of the model blob (plaintext)
  // Centralized first, then scenario1..6 (chained), then federated1..6.
  std::vector<ExperimentRow> rows;
};

// Progress callback: called after each training finishes, from the calling
// thread, with the row just done. May be empty.
using ExperimentProgress = std::function<void(const ExperimentRow&)>;

// Runs the experiment. The partners of each scenario come from
// paper_scenarios(data.train labels, classes, plan.seed); every model starts
// from Model::create(spec, plan.seed), so the rows differ only by who trained
// on what, in which order, chained or federated.
// Errors: an empty training or test set, a test set missing a class (AUC
// undefined), rounds outside 1..1000, federated rows with privacy, training
// failures (they name the row).
Result<ExperimentReport> run_experiment(const PreparedData& data, const ExperimentPlan& plan,
                                        const ExperimentProgress& progress = {});

}  // namespace baton::learning
