// node/training_metrics.h: the training series of GET /metrics, rendered
// from a hand-built training state.
#include "node/training_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace baton::node {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

chain::Run chained_run(const std::string& id) {
  chain::Run run;
  run.plan.run_id = id;
  run.plan.partners = {"hospital-a", "hospital-b"};
  run.plan.cycles = 2;
  run.start_height = 10;
  return run;
}

chain::ModelVoteRecord vote(bool approve, std::uint32_t candidate, std::uint32_t head) {
  chain::ModelVoteRecord v;
  v.approve = approve;
  v.auc_candidate_ppm = candidate;
  v.auc_head_ppm = head;
  return v;
}

TEST(TrainingMetrics, NoRunGivesTheRunCountsAndBalanceOnly) {
  chain::TrainingState training;
  const std::string text = training_metrics_text(training, "hospital-a");
  EXPECT_TRUE(has_line(text, "baton_training_runs{node=\"hospital-a\",status=\"active\"} 0"));
  EXPECT_TRUE(has_line(text, "baton_training_active{node=\"hospital-a\"} 0"));
  EXPECT_TRUE(has_line(text, "baton_balance_credits{node=\"hospital-a\"} 0"));
  EXPECT_EQ(text.find("baton_training_turn{"), std::string::npos);
}

TEST(TrainingMetrics, ActiveRunShowsTurnPhaseOutcomesVoteAndHead) {
  chain::TrainingState training;
  chain::Run run = chained_run("study-1");
  chain::Turn t0;
  t0.index = 0;
  t0.partner = "hospital-a";
  t0.start_height = 10;
  t0.end_height = 17;
  t0.phase = chain::TurnPhase::done;
  t0.outcome = chain::TurnOutcome::approved;
  t0.model_votes["hospital-a"] = vote(true, 700'000, 500'000);
  t0.model_votes["hospital-b"] = vote(true, 720'000, 500'000);
  t0.model_votes["hospital-c"] = vote(true, 740'000, 500'000);
  t0.save_request_id = chain::Hash{};
  t0.save_request_id->bytes[0] = 7;
  chain::Turn t1;
  t1.index = 1;
  t1.partner = "hospital-b";
  t1.start_height = 17;
  t1.end_height = 30;
  t1.phase = chain::TurnPhase::done;
  t1.outcome = chain::TurnOutcome::rejected;
  t1.model_votes["hospital-a"] = vote(false, 690'000, 720'000);
  chain::Turn t2;
  t2.index = 2;
  t2.cycle = 1;
  t2.partner = "hospital-a";
  t2.start_height = 30;
  t2.phase = chain::TurnPhase::training;
  t2.deadline_height = 230;
  run.turns = {t0, t1, t2};
  chain::ModelRecord model;
  model.id = *t0.save_request_id;
  model.turn = 0;
  run.models.push_back(model);
  run.head = model.id;
  run.refusals.total = 3;
  training.runs["study-1"] = run;
  training.active_run = "study-1";
  training.accounts.balances["hospital-a"] = 42;

  const std::string text = training_metrics_text(training, "hospital-a");
  const std::string l = "node=\"hospital-a\",run=\"study-1\"";
  EXPECT_TRUE(has_line(text, "baton_training_active{node=\"hospital-a\"} 1"));
  EXPECT_TRUE(has_line(text, "baton_training_runs{node=\"hospital-a\",status=\"active\"} 1"));
  EXPECT_TRUE(has_line(text, "baton_balance_credits{node=\"hospital-a\"} 42"));
  EXPECT_TRUE(has_line(text, "baton_training_turn{" + l + "} 2"));
  EXPECT_TRUE(has_line(text, "baton_training_cycle{" + l + "} 1"));
  EXPECT_TRUE(has_line(text, "baton_training_turns_planned{" + l + "} 4"));
  EXPECT_TRUE(has_line(text, "baton_training_phase{" + l + ",phase=\"training\"} 1"));
  EXPECT_TRUE(has_line(text, "baton_training_phase{" + l + ",phase=\"save_voting\"} 0"));
  EXPECT_TRUE(has_line(text, "baton_training_turn_deadline_height{" + l + "} 230"));
  EXPECT_TRUE(has_line(text, "baton_training_turns{" + l + ",outcome=\"approved\"} 1"));
  EXPECT_TRUE(has_line(text, "baton_training_turns{" + l + ",outcome=\"rejected\"} 1"));
  EXPECT_TRUE(has_line(text, "baton_training_turns{" + l + ",outcome=\"pending\"} 1"));
  EXPECT_TRUE(has_line(text, "baton_training_turns{" + l + ",outcome=\"expired\"} 0"));
  EXPECT_TRUE(has_line(text, "baton_training_last_turn_blocks{" + l + "} 13"));
  EXPECT_TRUE(has_line(text, "baton_training_head_auc{" + l + "} 0.72"));
  // This node's last vote is turn 1's rejection, not the run's approvals.
  EXPECT_TRUE(has_line(text, "baton_training_vote_turn{" + l + "} 1"));
  EXPECT_TRUE(has_line(text, "baton_training_vote_approve{" + l + "} 0"));
  EXPECT_TRUE(has_line(text, "baton_training_vote_auc{" + l + ",model=\"candidate\"} 0.69"));
  EXPECT_TRUE(has_line(text, "baton_training_vote_auc{" + l + ",model=\"head\"} 0.72"));
  EXPECT_TRUE(has_line(text, "baton_training_refusals_total{" + l + "} 3"));
  EXPECT_EQ(text.find("baton_training_epsilon_spent"), std::string::npos);

  // Another node sees its own vote and balance.
  const std::string b = training_metrics_text(training, "hospital-b");
  EXPECT_TRUE(has_line(b, "baton_training_vote_turn{node=\"hospital-b\",run=\"study-1\"} 0"));
  EXPECT_TRUE(has_line(b, "baton_training_vote_approve{node=\"hospital-b\",run=\"study-1\"} 1"));
}

TEST(TrainingMetrics, FinishedRunsShowTheLastStartedAndEscapeItsId) {
  chain::TrainingState training;
  chain::Run old = chained_run("old");
  old.status = chain::RunStatus::finished;
  chain::Run newer = chained_run("new\"\n\\");
  newer.start_height = 50;
  newer.status = chain::RunStatus::finished;
  newer.plan.privacy.mechanism = chain::PrivacyMechanism::dp_sgd;
  newer.privacy_spent["hospital-a"].epsilon_total_micro = 1'500'000;
  training.runs["old"] = old;
  training.runs[newer.plan.run_id] = newer;
  const std::string text = training_metrics_text(training, "hospital-a");
  EXPECT_TRUE(has_line(text, "baton_training_active{node=\"hospital-a\"} 0"));
  EXPECT_TRUE(has_line(text, "baton_training_runs{node=\"hospital-a\",status=\"finished\"} 2"));
  EXPECT_TRUE(
      has_line(text, "baton_training_turns_planned{node=\"hospital-a\",run=\"new\\\"\\n\\\\\"} 4"));
  EXPECT_TRUE(has_line(
      text, "baton_training_epsilon_spent{node=\"hospital-a\",run=\"new\\\"\\n\\\\\"} 1.5"));
}

}  // namespace
}  // namespace baton::node
