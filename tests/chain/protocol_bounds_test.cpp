// Plans that would hurt every node (issue 11, section 5): extreme deadlines,
// turn counts and sizes, and vote parameters that switch the vote off are
// refused as invalid_plan with a sentence naming the field; heights never
// wrap; end_block never ends more than one turn.
#include <limits>

#include <gtest/gtest.h>

#include "chain/protocol_steps.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kTwoTo63 = std::uint64_t{1} << 63;

// validate_plan's sentence names `field`; on the chain the StartRun is
// refused as invalid_plan and no run starts.
void expect_refused(ProtocolChain& p, const pb::TrainingPlan& plan, const std::string& field) {
  SCOPED_TRACE(field);
  auto decoded = plan_from_proto(p.chain.spec.genesis, plan);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find(field), std::string::npos) << decoded.error().message;
  EXPECT_EQ(p.commit_refused(p.tx(0, pb::TX_START_RUN, plan)), ProtocolRejected::invalid_plan);
  EXPECT_FALSE(p.training().active_run.has_value());
}

void expect_refused(ProtocolChain& p, const TrainingPlan& plan, const std::string& field) {
  expect_refused(p, plan_to_proto(plan), field);
}

std::string field_error(const TrainingPlan& plan, const Genesis& genesis = fixed_genesis()) {
  auto s = validate_plan(genesis, plan);
  return s.ok() ? std::string("(accepted)") : s.error().message;
}

// After the refusals the chain still starts a run, and that run ends.
void expect_not_wedged(ProtocolChain& p) {
  p.commit(p.start(0, test_plan(4)));
  ASSERT_TRUE(p.training().active_run.has_value());
  // A copy: each block replaces the state, and a reference into it would dangle.
  const TrainingPlan plan = p.run().plan;
  p.empty_blocks(plan.total_turns() * plan.load_deadline_blocks);
  EXPECT_EQ(p.run().status, RunStatus::finished);
  EXPECT_EQ(p.run().turns.size(), plan.total_turns());
}

TEST(PlanBounds, ExtremeDeadlinesAreRefusedAndNothingIsWedged) {
  ProtocolChain p;
  for (std::uint64_t blocks : {kU64Max, kTwoTo63, kMaxDeadlineBlocks + 1}) {
    TrainingPlan plan = test_plan(4);
    plan.load_deadline_blocks = blocks;
    expect_refused(p, plan, "deadlines.load_blocks");
    plan = test_plan(4);
    plan.save_deadline_blocks = blocks;
    expect_refused(p, plan, "deadlines.save_blocks");
    plan = test_plan(4);
    plan.vote_deadline_blocks = blocks;
    expect_refused(p, plan, "deadlines.vote_blocks");
  }
  TrainingPlan longest = test_plan(4);
  longest.load_deadline_blocks = kMaxDeadlineBlocks;
  EXPECT_EQ(field_error(longest), "(accepted)");
  expect_not_wedged(p);
}

TEST(PlanBounds, DeadlinesShorterThanTheValidatorCountAreRefused) {
  ProtocolChain p;  // four validators
  for (std::uint64_t blocks : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{3}}) {
    TrainingPlan plan = test_plan(4);
    plan.vote_deadline_blocks = blocks;
    expect_refused(p, plan, "deadlines.vote_blocks");
  }
  TrainingPlan plan = test_plan(4);
  plan.load_deadline_blocks = 1;
  EXPECT_NE(field_error(plan).find("at least 4 blocks (the number of validators)"),
            std::string::npos)
      << field_error(plan);
  // Members without voting power propose no blocks and do not count.
  plan = test_plan(2);
  plan.load_deadline_blocks = plan.save_deadline_blocks = plan.vote_deadline_blocks = 2;
  EXPECT_EQ(field_error(plan, fixed_genesis({1, 1, 0, 0})), "(accepted)");
  plan.vote_deadline_blocks = 1;
  EXPECT_NE(field_error(plan, fixed_genesis({1, 1, 0, 0})).find("deadlines.vote_blocks"),
            std::string::npos);
  expect_not_wedged(p);
}

TEST(PlanBounds, TooManyTurnsAreRefused) {
  ProtocolChain p;
  TrainingPlan plan = test_plan(4);
  for (std::uint32_t cycles :
       {std::numeric_limits<std::uint32_t>::max(), std::uint32_t{25'000}, std::uint32_t{2'501}}) {
    plan.cycles = cycles;
    expect_refused(p, plan, "cycles x partners");
  }
  plan.cycles = 2'500;  // 10,000 turns: the bound itself
  EXPECT_EQ(field_error(plan), "(accepted)");
  plan.cycles = 25'000;
  EXPECT_NE(field_error(plan).find("100000 turns (25000 cycles of 4 partners)"), std::string::npos)
      << field_error(plan);
  expect_not_wedged(p);
}

TEST(PlanBounds, TrainingSettingsOutOfRangeAreRefused) {
  ProtocolChain p;
  auto with = [](auto change) {
    TrainingPlan plan = test_plan(4);
    change(plan);
    return plan;
  };
  expect_refused(p, with([](TrainingPlan& t) { t.epochs = 0; }), "training.epochs");
  expect_refused(p, with([](TrainingPlan& t) { t.epochs = kMaxPlanEpochs + 1; }),
                 "training.epochs");
  expect_refused(p, with([](TrainingPlan& t) { t.batch_size = 0; }), "training.batch_size");
  expect_refused(p, with([](TrainingPlan& t) { t.batch_size = kMaxPlanBatchSize + 1; }),
                 "training.batch_size");
  expect_refused(p, with([](TrainingPlan& t) { t.learning_rate_nano = 0; }),
                 "training.learning_rate");
  expect_refused(p, with([](TrainingPlan& t) { t.learning_rate_nano = kU64Max; }),
                 "training.learning_rate");
  expect_refused(p, with([](TrainingPlan& t) { t.weight_decay_nano = kMaxWeightDecayNano + 1; }),
                 "training.weight_decay");
  EXPECT_NE(field_error(with([](TrainingPlan& t) {
              t.learning_rate_nano = 10'000'000'001;
            })).find("is 10.000000001; it must be more than 0 and at most 10"),
            std::string::npos);
  expect_refused(p, with([](TrainingPlan& t) { t.optimizer = std::string(33, 'a'); }),
                 "training.optimizer");
  expect_not_wedged(p);
}

TEST(PlanBounds, OversizedSpecsAndColumnListsAreRefused) {
  // Too large for a transaction anyway; a genesis plan has no such limit.
  auto with = [](auto change) {
    TrainingPlan plan = test_plan(4);
    change(plan);
    return field_error(plan);
  };
  EXPECT_NE(with([](TrainingPlan& t) {
              t.model_spec.assign(kMaxModelSpecBytes + 1, ' ');
            }).find("model is 65537 bytes long"),
            std::string::npos);
  EXPECT_NE(with([](TrainingPlan& t) {
              t.feature_columns.assign(kMaxFeatureColumns + 1, "c");
            }).find("dataset.feature_columns is 65537"),
            std::string::npos);
  EXPECT_NE(with([](TrainingPlan& t) {
              t.feature_columns[1].assign(257, 'c');
            }).find("dataset.feature_columns[1] is 257 bytes long"),
            std::string::npos);
  EXPECT_NE(
      with([](TrainingPlan& t) { t.label_column.assign(257, 'c'); }).find("dataset.label_column"),
      std::string::npos);
  EXPECT_NE(with([](TrainingPlan& t) {
              t.positive_value.assign(257, 'c');
            }).find("dataset.positive_value"),
            std::string::npos);
  // Every field within its bound, the whole plan not: 65,536 columns of 20 bytes.
  EXPECT_NE(with([](TrainingPlan& t) {
              t.feature_columns.assign(kMaxFeatureColumns, std::string(20, 'c'));
            }).find("the plan's encoding"),
            std::string::npos);
  EXPECT_EQ(with([](TrainingPlan& t) { t.model_spec.assign(kMaxModelSpecBytes, ' '); }),
            "(accepted)");
}

TEST(PlanBounds, VoteParametersThatSwitchTheVoteOffAreRefused) {
  ProtocolChain p;
  auto with = [](VotePolicyKind kind, std::uint32_t param) {
    TrainingPlan plan = test_plan(4);
    plan.vote_policy = kind;
    plan.vote_param_ppm = param;
    return plan;
  };
  expect_refused(p, with(VotePolicyKind::tolerance, 1'000'000), "vote_policy.epsilon");
  expect_refused(p, with(VotePolicyKind::tolerance, kMaxToleranceEpsilonPpm + 1),
                 "vote_policy.epsilon");
  expect_refused(p, with(VotePolicyKind::delong, 0), "vote_policy.alpha");
  expect_refused(p, with(VotePolicyKind::delong, kMinDelongAlphaPpm - 1), "vote_policy.alpha");
  expect_refused(p, with(VotePolicyKind::delong, kMaxDelongAlphaPpm + 1), "vote_policy.alpha");
  expect_refused(p, with(VotePolicyKind::delong, 1'000'000), "vote_policy.alpha");
  EXPECT_EQ(field_error(with(VotePolicyKind::tolerance, 0)), "(accepted)");
  EXPECT_EQ(field_error(with(VotePolicyKind::tolerance, kMaxToleranceEpsilonPpm)), "(accepted)");
  EXPECT_EQ(field_error(with(VotePolicyKind::delong, 50'000)), "(accepted)");
  EXPECT_EQ(field_error(with(VotePolicyKind::delong, kMinDelongAlphaPpm)), "(accepted)");
  EXPECT_EQ(field_error(with(VotePolicyKind::delong, kMaxDelongAlphaPpm)), "(accepted)");
  expect_not_wedged(p);
}

TEST(PlanBounds, AQuorumBelowOneHalfIsRefused) {
  ProtocolChain p;
  auto with = [](std::uint32_t num, std::uint32_t den) {
    TrainingPlan plan = test_plan(4);
    plan.quorum_num = num;
    plan.quorum_den = den;
    return plan;
  };
  expect_refused(p, with(1, std::numeric_limits<std::uint32_t>::max()), "quorum");
  expect_refused(p, with(1, 3), "quorum");
  expect_refused(p, with(49, 99), "quorum");
  expect_refused(p, with(0, 2), "quorum");
  expect_refused(p, with(3, 3), "quorum");
  EXPECT_EQ(field_error(with(1, 2)), "(accepted)");
  EXPECT_EQ(field_error(with(2, 3)), "(accepted)");
  EXPECT_EQ(field_error(with(std::numeric_limits<std::uint32_t>::max() - 1,
                             std::numeric_limits<std::uint32_t>::max())),
            "(accepted)");
  expect_not_wedged(p);
}

TEST(PlanBounds, AnOutOfRangeVotePolicyIsRefusedNotTruncated) {
  ProtocolChain p;
  for (std::uint32_t policy : {0u, 4u, 257u, 258u, 259u}) {
    pb::TrainingPlan plan = plan_to_proto(test_plan(4));
    plan.set_vote_policy(policy);  // 257 was stored as 1 (strict)
    expect_refused(p, plan, "vote_policy is " + std::to_string(policy));
  }
  expect_not_wedged(p);
}

TEST(PlanBounds, JsonPlansMeetTheSameBounds) {
  const Genesis g = fixed_genesis();
  auto error = [&](nlohmann::json j) {
    auto plan = plan_from_json(g, j);
    return plan.ok() ? std::string("(accepted)") : plan.error().message;
  };
  nlohmann::json j = plan_to_json(test_plan(4));
  ASSERT_EQ(error(j), "(accepted)");
  j["deadlines"]["load_blocks"] = kU64Max;
  EXPECT_NE(error(j).find("deadlines.load_blocks is 18446744073709551615"), std::string::npos)
      << error(j);
  j = plan_to_json(test_plan(4));
  j["cycles"] = std::uint64_t{1} << 32;
  EXPECT_NE(error(j).find("cycles is 4294967296"), std::string::npos) << error(j);
  j["cycles"] = 25'000u;  // unsigned, as the JSON parser reads it
  EXPECT_NE(error(j).find("cycles x partners"), std::string::npos) << error(j);
  j = plan_to_json(test_plan(4));
  j["vote_policy"] = {{"kind", "tolerance"}, {"epsilon", 1.0}};
  EXPECT_NE(error(j).find("vote_policy.epsilon is 1;"), std::string::npos) << error(j);
  j["vote_policy"] = {{"kind", "delong"}, {"alpha", 0}};
  EXPECT_NE(error(j).find("vote_policy.alpha is 0;"), std::string::npos) << error(j);
  j = plan_to_json(test_plan(4));
  j["quorum"] = {{"num", 1u}, {"den", 4294967295u}};
  EXPECT_NE(error(j).find("quorum 1/4294967295"), std::string::npos) << error(j);
  j = plan_to_json(test_plan(4));
  j["training"]["epochs"] = std::uint64_t{1'000'000'000'000};
  EXPECT_NE(error(j).find("training.epochs is 1000000000000"), std::string::npos) << error(j);
}

// A state that an older, unbounded rule let in: the active run's plan has a
// load deadline of 2^64-1 and its current turn is due. Heights saturate
// instead of wrapping, and one block ends one turn, not the whole run.
TEST(PlanBounds, EndBlockEndsAtMostOneTurnAndDeadlinesSaturate) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4, 100)));
  TrainingState& ts = p.chain.state.training;
  ts.runs.at("run-1").plan.load_deadline_blocks = kU64Max;
  const std::uint64_t due = ts.runs.at("run-1").turns.back().deadline_height;
  LedgerState state = p.chain.state;
  end_block(p.chain.spec, state, due);
  const chain::Run& run = *state.training.find_run("run-1");
  ASSERT_EQ(run.turns.size(), 2u);  // turn 0 expired, turn 1 began; nothing more
  EXPECT_EQ(run.turns[0].outcome, TurnOutcome::expired);
  EXPECT_EQ(run.turns[1].deadline_height, kU64Max);  // "never", not due + 2^64 - 1 = due - 1
  EXPECT_EQ(run.status, RunStatus::active);
  end_block(p.chain.spec, state, due + 1);
  EXPECT_EQ(state.training.find_run("run-1")->turns.size(), 2u);

  EXPECT_EQ(deadline_after(10, 5), 15u);
  EXPECT_EQ(deadline_after(10, kU64Max), kU64Max);
  EXPECT_EQ(deadline_after(kU64Max, 1), kU64Max);
  EXPECT_EQ(deadline_after(kTwoTo63, kTwoTo63), kU64Max);
}

}  // namespace
}  // namespace baton::chain::testing
