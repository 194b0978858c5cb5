#include "node/training_metrics.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "node/metrics.h"

namespace baton::node {
namespace {

std::string escape_label(std::string_view value) { return escape_label_value(value); }

// The run a reader means: the active run, else the last one started (the
// later start height; the greater id on a tie, as the map orders them).
const chain::Run* shown_run(const chain::TrainingState& training) {
  if (const chain::Run* active = training.active()) return active;
  const chain::Run* chosen = nullptr;
  for (const auto& [id, run] : training.runs) {
    if (chosen == nullptr || run.start_height >= chosen->start_height) chosen = &run;
  }
  return chosen;
}

// Median candidate AUC (ppm) of the approving votes of the turn that made
// `head`; nullopt when no such vote exists.
std::optional<std::uint32_t> head_auc_ppm(const chain::Run& run) {
  if (!run.head) return std::nullopt;
  const chain::ModelRecord* model = run.find_model(*run.head);
  if (model == nullptr || model->turn >= run.turns.size()) return std::nullopt;
  std::vector<std::uint32_t> aucs;
  for (const auto& [voter, vote] : run.turns[model->turn].model_votes) {
    if (vote.approve) aucs.push_back(vote.auc_candidate_ppm);
  }
  if (aucs.empty()) return std::nullopt;
  std::sort(aucs.begin(), aucs.end());
  return aucs[(aucs.size() - 1) / 2];  // the lower median: a value some voter reported
}

constexpr chain::TurnPhase kPhases[] = {
    chain::TurnPhase::awaiting_load_request,
    chain::TurnPhase::load_voting,
    chain::TurnPhase::training,
    chain::TurnPhase::save_voting,
    chain::TurnPhase::done,
    chain::TurnPhase::round_sharing,
    chain::TurnPhase::round_uploading,
    chain::TurnPhase::round_unmasking,
    chain::TurnPhase::round_aggregating,
};

constexpr chain::TurnOutcome kOutcomes[] = {
    chain::TurnOutcome::pending,      chain::TurnOutcome::approved,
    chain::TurnOutcome::rejected,     chain::TurnOutcome::expired,
    chain::TurnOutcome::abandoned,    chain::TurnOutcome::suspended,
    chain::TurnOutcome::cannot_pay,   chain::TurnOutcome::budget_spent,
    chain::TurnOutcome::round_failed,
};

constexpr chain::RunStatus kStatuses[] = {
    chain::RunStatus::active,
    chain::RunStatus::finished,
    chain::RunStatus::awaiting_funding,
    chain::RunStatus::unfunded,
};

// A ppm (or micro-unit) value as a plain number: 912345 -> 0.912345.
std::string ratio(std::uint64_t ppm) {
  std::ostringstream out;
  out << static_cast<double>(ppm) / 1e6;
  return out.str();
}

}  // namespace

std::string training_metrics_text(const chain::TrainingState& training, const std::string& node) {
  std::ostringstream out;
  const std::string node_label = "node=\"" + escape_label(node) + "\"";
  auto header = [&](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  // One sample; `extra` holds further labels, already escaped, each with a leading comma.
  auto sample = [&](const char* name, const std::string& extra, const std::string& value) {
    out << name << '{' << node_label << extra << "} " << value << '\n';
  };

  header("baton_training_runs", "gauge", "Training runs on the ledger, by status.");
  for (chain::RunStatus status : kStatuses) {
    std::uint64_t count = 0;
    for (const auto& [id, run] : training.runs) count += run.status == status ? 1 : 0;
    sample("baton_training_runs", ",status=\"" + std::string(chain::to_string(status)) + "\"",
           std::to_string(count));
  }
  header("baton_training_active", "gauge", "1 while a training run is active.");
  sample("baton_training_active", "", training.active() != nullptr ? "1" : "0");
  header("baton_balance_credits", "gauge", "Credits this node's member holds.");
  sample("baton_balance_credits", "", std::to_string(training.accounts.balance(node)));

  const chain::Run* run = shown_run(training);
  if (run == nullptr) return out.str();
  const std::string run_label = ",run=\"" + escape_label(run->plan.run_id) + "\"";

  if (!run->turns.empty()) {
    const chain::Turn& turn = run->turns.back();
    header("baton_training_turn", "gauge", "Index of the run's last begun turn (from 0).");
    sample("baton_training_turn", run_label, std::to_string(turn.index));
    header("baton_training_cycle", "gauge",
           "Cycle of the run's last begun turn (federated runs: its round).");
    sample("baton_training_cycle", run_label, std::to_string(turn.cycle));
    header("baton_training_phase", "gauge", "1 for the phase of the run's last begun turn.");
    for (chain::TurnPhase phase : kPhases) {
      sample("baton_training_phase",
             run_label + ",phase=\"" + std::string(chain::to_string(phase)) + "\"",
             phase == turn.phase ? "1" : "0");
    }
    header("baton_training_turn_deadline_height", "gauge",
           "Last block of the current phase of the run's last begun turn.");
    sample("baton_training_turn_deadline_height", run_label, std::to_string(turn.deadline_height));
  }
  header("baton_training_turns_planned", "gauge", "Turns (federated: rounds) the plan asks for.");
  sample("baton_training_turns_planned", run_label, std::to_string(run->plan.total_turns()));

  header("baton_training_turns", "gauge", "Turns of the run by outcome (pending: not decided).");
  for (chain::TurnOutcome outcome : kOutcomes) {
    std::uint64_t count = 0;
    for (const chain::Turn& t : run->turns) count += t.outcome == outcome ? 1 : 0;
    sample("baton_training_turns",
           run_label + ",outcome=\"" + std::string(chain::to_string(outcome)) + "\"",
           std::to_string(count));
  }

  const chain::Turn* last_decided = nullptr;
  const chain::Turn* last_voted = nullptr;
  for (const chain::Turn& t : run->turns) {
    if (t.outcome != chain::TurnOutcome::pending) last_decided = &t;
    if (t.model_votes.contains(node)) last_voted = &t;
  }
  if (last_decided != nullptr) {
    header("baton_training_last_turn_blocks", "gauge",
           "Blocks from the start to the decision of the run's last decided turn.");
    sample("baton_training_last_turn_blocks", run_label,
           std::to_string(last_decided->end_height - last_decided->start_height));
  }
  if (auto auc = head_auc_ppm(*run)) {
    header("baton_training_head_auc", "gauge",
           "Median validation AUC the approving votes reported for the run's head model.");
    sample("baton_training_head_auc", run_label, ratio(*auc));
  }
  if (last_voted != nullptr) {
    const chain::ModelVoteRecord& vote = last_voted->model_votes.at(node);
    header("baton_training_vote_turn", "gauge", "Turn of this node's last model vote in the run.");
    sample("baton_training_vote_turn", run_label, std::to_string(last_voted->index));
    header("baton_training_vote_approve", "gauge",
           "1 if this node's last model vote approved the candidate, 0 if it rejected it.");
    sample("baton_training_vote_approve", run_label, vote.approve ? "1" : "0");
    header("baton_training_vote_auc", "gauge",
           "Validation AUCs of this node's last model vote: the candidate's and the head's.");
    sample("baton_training_vote_auc", run_label + ",model=\"candidate\"",
           ratio(vote.auc_candidate_ppm));
    sample("baton_training_vote_auc", run_label + ",model=\"head\"", ratio(vote.auc_head_ppm));
  }
  header("baton_training_refusals_total", "counter", "Refused transactions naming the run.");
  sample("baton_training_refusals_total", run_label, std::to_string(run->refusals.total));
  if (auto spent = run->privacy_spent.find(node); spent != run->privacy_spent.end()) {
    header("baton_training_epsilon_spent", "gauge",
           "Differential privacy: epsilon this node's member has spent in the run.");
    sample("baton_training_epsilon_spent", run_label,
           ratio(spent->second.epsilon_total_micro));  // micro-units
  }
  return out.str();
}

}  // namespace baton::node
