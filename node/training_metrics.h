// The training protocol's state as Prometheus metrics (GET /metrics, after
// the node's own counters): what a hospital's IT graphs and alerts on while
// a run trains. Pure: rendered from the committed ledger state the node
// publishes after every commit (node.h, committed_state), so a scrape costs
// one pass over the runs, never a replay.
//
// Every series carries the `node` label; those about a run carry `run`,
// which names the run a reader means (api::select_run: the active run, else
// the last one started), so the series of one scrape describe one run and a
// new run starts new series. Label values are escaped (\\, \", \n) because run
// ids come from the plan's author. docs/OPERATIONS.md, "Watching it", lists
// them; in short:
//   baton_training_runs{status}              runs by status (all four listed)
//   baton_training_active                    1 while a run is active
//   baton_training_turn{run}                 index of the run's last begun turn
//   baton_training_cycle{run}                its cycle (federated runs: its round)
//   baton_training_turns_planned{run}        the plan's number of turns (rounds)
//   baton_training_phase{run,phase}          1 for the current turn's phase, 0 for the others
//   baton_training_turn_deadline_height{run} the last block of the current phase
//   baton_training_turns{run,outcome}        turns by outcome (pending included)
//   baton_training_last_turn_blocks{run}     blocks the last decided turn took (hand-off time)
//   baton_training_head_auc{run}             median candidate AUC of the votes that approved
//                                            the head (absent before the first approval)
//   baton_training_vote_turn{run}            the turn of this node's last model vote
//   baton_training_vote_approve{run}         1 if that vote approved, 0 if it rejected
//   baton_training_vote_auc{run,model}       its AUCs: model="candidate" and "head"
//   baton_training_refusals_total{run}       refused transactions naming the run
//   baton_training_epsilon_spent{run}        ε this node spent in the run (plans with privacy)
//   baton_balance_credits                    this node's member's credit balance
#pragma once

#include <string>

#include "chain/training.h"

namespace baton::node {

// Renders the series above for `node` (the node's genesis member name, whose
// votes, ε and balance are reported). Empty training state: the runs and
// active gauges only.
std::string training_metrics_text(const chain::TrainingState& training, const std::string& node);

}  // namespace baton::node
