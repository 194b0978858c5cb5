// The partner agent under a plan with differential privacy (issue 14), against
// the real in-process ledger of tests/agent/agent_network.h: the epochs each
// turn trains, the SaveRequest's ε fields (12..14) and self-reported epsilon,
// the turns the ledger skips once a budget is spent, a dishonest partner
// that trains past its budget (refused: privacy_budget_exceeded), and local
// DP's one noisy copy and its width check.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/turn_privacy.h"
#include "tests/agent/agent_network.h"

namespace baton::agent {
namespace {

using namespace agent_test;
using chain::PrivacySpend;
using chain::TurnOutcome;

// σ = 1, q = 0.1 (10 noisy steps an epoch), δ = 1e-5, budget ε 8, 5 epochs a
// turn: 5 epochs (ε 6.680628), then 2 more (7.595885), then none (80 steps
// would be 8.014542). Two partners, three cycles.
chain::TrainingPlan dp_sgd_plan() {
  chain::TrainingPlan p = breast_cancer_plan();
  p.partners = {"alice", "bob"};
  p.cycles = 3;
  p.epochs = 5;
  p.privacy.mechanism = chain::PrivacyMechanism::dp_sgd;
  p.privacy.delta_pico = 10'000'000;
  p.privacy.budget_micro = 8'000'000;
  p.privacy.clip_micro = 1'000'000;
  p.privacy.noise_multiplier_micro = 1'000'000;
  p.privacy.sampling_rate_nano = 100'000'000;
  return p;
}

// The SaveRequests member i sent for `turn`, in order (a resend is a copy).
std::vector<chain::pb::SaveRequest> sent_saves(const Network& net, std::size_t i,
                                               std::uint64_t turn) {
  std::vector<chain::pb::SaveRequest> out;
  for (const auto& [type, payload] : net.sinks_[i]->submitted) {
    chain::pb::SaveRequest r;
    if (type == chain::pb::TX_SAVE_REQUEST && r.ParseFromString(payload) && r.turn() == turn)
      out.push_back(r);
  }
  return out;
}

// Refusals of the privacy checks (40, 41) in `run`; a late vote after the
// quorum is refused as not open in any run.
std::size_t privacy_refusals(const chain::Run& run) {
  std::size_t n = 0;
  for (const chain::Refusal& r : run.refusals.recent)
    n += r.reason == chain::ProtocolRejected::privacy_budget_exceeded ||
         r.reason == chain::ProtocolRejected::privacy_spend_mismatch;
  return n;
}

PrivacySpend fields(const chain::pb::SaveRequest& r) {
  return {r.dp_steps_total(), r.epsilon_turn_micro(), r.epsilon_total_micro()};
}

std::size_t member_index(const Network& net, const std::string& name) {
  for (std::size_t i = 0; i < kMembers; ++i)
    if (net.chain.members[i].name == name) return i;
  ADD_FAILURE() << "no member " << name;
  return 0;
}

TEST(PartnerAgentPrivacy, EachTurnTrainsWhatItsBudgetAllowsUntilTheLedgerSkipsIt) {
  testing::TempDir dir("agent-privacy");
  Network net(dir);
  const chain::TrainingPlan plan = dp_sgd_plan();
  net.start_run(plan);
  ASSERT_TRUE(net.run_until([&] { return net.finished(); }, 400));
  const chain::Run& run = net.run();
  ASSERT_EQ(run.turns.size(), 6u);
  const std::vector<std::uint32_t> epochs{5, 5, 2, 2};
  std::map<std::string, PrivacySpend> before;
  for (std::size_t k = 0; k < 4; ++k) {
    const chain::Turn& t = run.turns[k];
    ASSERT_TRUE(t.save.has_value()) << "turn " << k << " sent no SaveRequest";
    const auto saves = sent_saves(net, member_index(net, t.partner), k);
    ASSERT_FALSE(saves.empty()) << k;
    const PrivacySpend want =
        chain::next_privacy_spend(plan.privacy, epochs[k], before[t.partner]).value();
    EXPECT_EQ(fields(saves.front()), want) << "turn " << k;
    const auto metrics = nlohmann::json::parse(saves.front().metrics_json());
    EXPECT_EQ(metrics["epochs"], epochs[k]) << k;
    EXPECT_EQ(metrics["epsilon"], static_cast<double>(want.epsilon_total_micro) / 1e6) << k;
    EXPECT_EQ(metrics["epoch_losses"].size(), epochs[k]) << k;
    EXPECT_LE(want.epsilon_total_micro, plan.privacy.budget_micro);
    before[t.partner] = want;
  }
  // The third turn of each: not one more epoch fits; skipped when it began.
  EXPECT_EQ(run.turns[4].outcome, TurnOutcome::budget_spent);
  EXPECT_EQ(run.turns[5].outcome, TurnOutcome::budget_spent);
  for (std::size_t i = 0; i < kMembers; ++i) {
    EXPECT_TRUE(sent_saves(net, i, 4).empty());
    EXPECT_TRUE(sent_saves(net, i, 5).empty());
  }
  // What the ledger recorded is what the agents sent.
  EXPECT_EQ(run.privacy_spent.at("alice"), before["alice"]);
  EXPECT_EQ(run.privacy_spent.at("bob"), before["bob"]);
  EXPECT_EQ(run.privacy_spent.at("alice").steps_total, 70u);
  EXPECT_EQ(privacy_refusals(run), 0u);
}

TEST(PartnerAgentPrivacy, APartnerThatIgnoresItsBudgetIsRefusedAndSpendsNothingMore) {
  testing::TempDir dir("agent-privacy");
  Network net(dir);
  net.overspend.insert(member_index(net, "bob"));
  net.open_agent(member_index(net, "bob"));
  const chain::TrainingPlan plan = dp_sgd_plan();
  net.start_run(plan);
  ASSERT_TRUE(net.run_until([&] { return net.finished(); }, 400));
  const chain::Run& run = net.run();
  ASSERT_EQ(run.turns.size(), 6u);
  // Its first turn fits: all 5 epochs, accepted like anyone's.
  EXPECT_TRUE(run.turns[1].save.has_value());
  // Its second: 5 epochs where 2 fit. Consistent fields (100 steps), so not
  // a mismatch, but past the budget: refused, and the turn expires.
  const std::size_t bob = member_index(net, "bob");
  const auto over = sent_saves(net, bob, 3);
  ASSERT_FALSE(over.empty());
  const PrivacySpend after_first = chain::next_privacy_spend(plan.privacy, 5, {}).value();
  EXPECT_EQ(fields(over.front()), chain::next_privacy_spend(plan.privacy, 5, after_first).value());
  EXPECT_EQ(over.front().dp_steps_total(), 100u);
  EXPECT_GT(over.front().epsilon_total_micro(), plan.privacy.budget_micro);
  EXPECT_EQ(run.turns[3].outcome, TurnOutcome::expired);
  EXPECT_FALSE(run.turns[3].save.has_value());
  std::set<std::uint64_t> refused_turns;
  for (const chain::Refusal& r : run.refusals.recent) {
    EXPECT_NE(r.reason, chain::ProtocolRejected::privacy_spend_mismatch);
    if (r.reason != chain::ProtocolRejected::privacy_budget_exceeded) continue;
    EXPECT_EQ(r.sender, "bob");
    EXPECT_EQ(r.type, chain::pb::TX_SAVE_REQUEST);
    refused_turns.insert(r.turn.value_or(99));
  }
  EXPECT_EQ(refused_turns, (std::set<std::uint64_t>{3, 5}));  // and their resends
  EXPECT_EQ(run.turns[5].outcome, TurnOutcome::expired);
  // A refused SaveRequest spends nothing: bob stays at his first turn.
  EXPECT_EQ(run.privacy_spent.at("bob"), after_first);
  // alice, honest, is unaffected: 5 + 2 epochs, then skipped.
  EXPECT_EQ(run.privacy_spent.at("alice").steps_total, 70u);
  EXPECT_EQ(run.turns[4].outcome, TurnOutcome::budget_spent);
}

chain::TrainingPlan local_plan(std::uint32_t values_per_row) {
  chain::TrainingPlan p = breast_cancer_plan();
  p.partners = {"alice", "bob"};
  p.cycles = 2;
  p.privacy.mechanism = chain::PrivacyMechanism::local;
  p.privacy.budget_micro = 20'000'000;
  p.privacy.beta_micro = 2'000'000;
  p.privacy.sensitivity_micro = 1'000'000;
  p.privacy.values_per_row = values_per_row;
  return p;
}

TEST(PartnerAgentPrivacy, UnderLocalDpTheFirstModelSpendsTheRowsEpsilonAndLaterOnesNothing) {
  testing::TempDir dir("agent-privacy");
  Network net(dir);
  net.start_run(local_plan(30));  // ε_row = 30 x 1 / 2 = 15
  ASSERT_TRUE(net.run_until([&] { return net.finished(); }, 400));
  const chain::Run& run = net.run();
  ASSERT_EQ(run.turns.size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    const auto saves = sent_saves(net, member_index(net, run.turns[k].partner), k);
    ASSERT_FALSE(saves.empty()) << k;
    const std::uint64_t turn_eps = k < 2 ? 15'000'000 : 0;  // cycle 2: the same noisy copy
    EXPECT_EQ(fields(saves.front()), (PrivacySpend{0, turn_eps, 15'000'000})) << k;
    EXPECT_EQ(nlohmann::json::parse(saves.front().metrics_json())["epochs"], 5) << k;
  }
  EXPECT_EQ(privacy_refusals(run), 0u);
}

TEST(PartnerAgentPrivacy, LocalDpOfAnotherWidthThanTheModelGivesTheTurnUp) {
  testing::TempDir dir("agent-privacy");
  Network net(dir);
  net.start_run(local_plan(29));  // the model takes 30 inputs
  ASSERT_TRUE(net.run_until([&] { return net.run().turns[0].outcome != TurnOutcome::pending; }));
  const chain::Turn& t = net.run().turns[0];
  ASSERT_EQ(t.outcome, TurnOutcome::abandoned);
  ASSERT_TRUE(t.abandon.has_value());
  EXPECT_EQ(t.abandon->reason, chain::LoadFailure::local_data_unusable);
  EXPECT_NE(t.abandon->detail.find("charges 29 values per row"), std::string::npos)
      << t.abandon->detail;
}

}  // namespace
}  // namespace baton::agent
