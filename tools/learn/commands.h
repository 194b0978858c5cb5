// Registration functions of the torch-side command groups, built into
// `baton-learn` (tools/learn/main.cpp). Each group's top-level names must also
// be listed in tools/learn_commands.h so that `baton` forwards them.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "learning/dataset.h"
#include "learning/experiment.h"

namespace baton::tools {

void register_experiment_commands(CLI::App& app);    // experiment, bench train (cmd_experiment.cpp)
void register_data_commands(CLI::App& app);          // data ...               (cmd_data.cpp)
void register_data_schema_commands(CLI::App* data);  // data summarize|schema (cmd_data_schema.cpp)
void register_report_commands(CLI::App& app);        // report                 (cmd_report.cpp)
// models replay|check-vote (cmd_models_replay.cpp; issue 16)
void register_models_replay_commands(CLI::App& app);

// `baton experiment --adversaries KINDS` (cmd_adversaries.cpp): the
// adversarial simulation on the ledger (agent/adversary_sim.h).
struct AdversaryArgs {
  std::string kinds;                                 // "all" or label_flip,colluder,...
  std::string fractions = "1/4,2/6";                 // adversaries/members
  std::string policies = "strict,tolerance,delong";  // tolerance 0.02, delong 0.05
  bool shapley = false;  // also exact Shapley values vs on-chain tokens (4 members)
  bool json = false;
  std::uint64_t honest_balance = 0;     // genesis allocation of each honest member
  std::uint64_t adversary_balance = 0;  // and of each adversary (credits)
  // The plan's deposits (docs/PROTOCOL.md §19.9) for every run of the tables.
  std::uint64_t submission_cost = 0, deposit = 0;
  std::uint32_t deposit_factor = 0;
  // Instead of the tables: sweep deposit x factor x cost for the first kind,
  // fraction and policy (cmd_deposit_sweep.cpp); `svg` non-empty: the plot.
  bool sweep_deposits = false;
  std::string svg;
};
// Prints the tables (or JSON) for `data` with `plan`'s model and training
// settings (plan.train.epochs = local epochs per visit, plan.cycles).
// The deposit sweep (AdversaryArgs::sweep_deposits): final AUC and
// turns-to-exhaustion of the adversaries against the deposit, its growth
// factor and the submission cost, as a markdown table (or JSON) and an SVG.
void run_deposit_sweep(const learning::PreparedData& data, const learning::ExperimentPlan& plan,
                       const AdversaryArgs& args);
void run_adversaries(const learning::PreparedData& data, const learning::ExperimentPlan& plan,
                     const AdversaryArgs& args);

// `baton experiment --privacy-sweep` (cmd_privacy_sweep.cpp): no DP, local
// DP β = 1, 2, 4 and DP-SGD ε ≈ 1, 3, 8, centralized and chained over four
// partners, as a markdown table; `svg` non-empty: AUC against ε.
struct PrivacySweepArgs {
  double clip = 1.0;  // DP-SGD's C
  std::string svg;
};
void run_privacy_sweep(const learning::PreparedData& data, const learning::ExperimentPlan& plan,
                       const PrivacySweepArgs& args);

}  // namespace baton::tools
