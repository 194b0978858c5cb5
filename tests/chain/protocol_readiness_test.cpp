// Run control (issue 17, docs/PROTOCOL.md §22): the readiness phase before
// turn 0 (RunReady), an admin's CancelRun, and every refusal of them,
// including what a hostile member might try.
#include <gtest/gtest.h>

#include "chain/training_decode.h"
#include "chain/training_plan.h"
#include "economy_fixture.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

// Four partners, a readiness phase of 6 blocks.
TrainingPlan ready_plan(std::uint64_t blocks = 6) {
  TrainingPlan p = test_plan(4);
  p.readiness_deadline_blocks = blocks;
  return p;
}

pb::Transaction ready(ProtocolChain& p, std::size_t i, bool ok = true,
                      std::optional<Hash> schema = std::nullopt, std::uint32_t reason = 0,
                      std::string detail = {}, std::string run = "run-1") {
  pb::RunReady r;
  r.set_run_id(std::move(run));
  r.set_ready(ok);
  r.set_schema_sha256(hash_bytes(schema));
  r.set_train_rows(100 + i);
  r.set_reason(ok ? reason : (reason == 0 ? 2 : reason));
  r.set_detail(std::move(detail));
  return p.tx(i, pb::TX_RUN_READY, r);
}

pb::Transaction cancel(ProtocolChain& p, std::size_t i, std::string reason = "wrong plan",
                       std::string run = "run-1") {
  pb::CancelRun c;
  c.set_run_id(std::move(run));
  c.set_reason(std::move(reason));
  return p.tx(i, pb::TX_CANCEL_RUN, c);
}

// The state re-encodes and decodes to itself (what an agent process reads).
void expect_round_trip(const ProtocolChain& p) {
  const Bytes bytes = training_encoding(p.training());
  auto back = decode_training_state(bytes, p.chain.spec.genesis);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p.training());
}

TEST(ProtocolReadiness, APlanWithoutAReadinessPhaseBeginsTurnZeroAsBefore) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  EXPECT_EQ(p.run().status, RunStatus::active);
  EXPECT_EQ(p.run().turns.size(), 1u);
  EXPECT_TRUE(p.run().readiness.empty());
  EXPECT_FALSE(plan_to_proto(test_plan(4)).SerializeAsString().empty());
  // Field 83 absent: the plan's bytes (hashed into the state) are unchanged.
  pb::TrainingPlan proto = plan_to_proto(test_plan(4));
  EXPECT_EQ(proto.readiness_deadline_blocks(), 0u);
  proto.clear_readiness_deadline_blocks();
  EXPECT_EQ(proto.SerializeAsString(), plan_to_proto(test_plan(4)).SerializeAsString());
}

TEST(ProtocolReadiness, TurnZeroBeginsInTheBlockWhereTheLastPartnerIsReady) {
  ProtocolChain p;
  p.commit(p.start(0, ready_plan()));
  EXPECT_EQ(p.run().status, RunStatus::preparing);
  EXPECT_TRUE(p.run().turns.empty());
  EXPECT_FALSE(whose_turn(p.training()).has_value());
  // A LoadRequest before turn 0 is refused (no turn yet).
  EXPECT_EQ(p.refusal(p.load_request(0, 0, std::nullopt)), ProtocolRejected::wrong_phase);
  for (std::size_t i = 0; i < 3; ++i) p.commit(ready(p, i, true, fake_hash(7)));
  EXPECT_EQ(p.run().status, RunStatus::preparing);
  expect_round_trip(p);
  const std::uint64_t height = p.chain.state.height + 1;
  p.commit(ready(p, 3, true, fake_hash(7)));
  EXPECT_EQ(p.run().status, RunStatus::active);
  ASSERT_EQ(p.run().turns.size(), 1u);
  EXPECT_EQ(p.turn().start_height, height);
  EXPECT_EQ(p.run().readiness.at("dave").train_rows, 103u);
  EXPECT_EQ(p.run().readiness.at("dave").schema_sha256, fake_hash(7));
  expect_round_trip(p);
}

TEST(ProtocolReadiness, ARefusalEndsAChainedRunAtOnceAsNotReadyWithTheReason) {
  ProtocolChain p;
  p.commit(p.start(0, ready_plan()));
  p.commit(ready(p, 0));
  const std::uint64_t height = p.chain.state.height + 1;
  p.commit(ready(p, 1, false, std::nullopt,
                 static_cast<std::uint32_t>(ReadinessFailure::width_mismatch),
                 "the plan's model takes 30 features but the local data encode to 33"));
  EXPECT_EQ(p.run().status, RunStatus::not_ready);
  EXPECT_EQ(p.run().end_height, height);
  EXPECT_FALSE(p.training().active_run.has_value());
  ASSERT_TRUE(p.run().stop.has_value());
  EXPECT_EQ(p.run().stop->cause, RunStopCause::partner_refused);
  EXPECT_EQ(p.run().stop->member, "bob");
  EXPECT_EQ(p.run().stop->reason,
            "width_mismatch: the plan's model takes 30 features but the local data encode to 33");
  EXPECT_TRUE(p.run().turns.empty());
  expect_round_trip(p);
  // A later answer is refused; a new run may start.
  EXPECT_EQ(p.refusal(ready(p, 2)), ProtocolRejected::not_preparing);
  TrainingPlan next = ready_plan();
  next.run_id = "run-2";
  p.commit(p.start(0, next));
  EXPECT_EQ(p.training().find_run("run-2")->status, RunStatus::preparing);
}

TEST(ProtocolReadiness, DifferentSchemaHashesEndTheRunNamingWhoDiffers) {
  ProtocolChain p;
  p.commit(p.start(0, ready_plan()));
  p.commit(ready(p, 0, true, fake_hash(1)));
  p.commit(ready(p, 1, true, fake_hash(1)));
  p.commit(ready(p, 2, true, fake_hash(2)));
  EXPECT_EQ(p.run().status, RunStatus::not_ready);
  ASSERT_TRUE(p.run().stop.has_value());
  EXPECT_EQ(p.run().stop->cause, RunStopCause::schema_mismatch);
  EXPECT_EQ(p.run().stop->member, "carol");
  EXPECT_NE(p.run().stop->reason.find("schema mismatch"), std::string::npos);
  EXPECT_NE(p.run().stop->reason.find("alice"), std::string::npos);
  // A schema and none (a locally fitted preprocessing) differ too.
  ProtocolChain q;
  q.commit(q.start(0, ready_plan()));
  q.commit(ready(q, 0, true, std::nullopt));
  q.commit(ready(q, 1, true, fake_hash(1)));
  EXPECT_EQ(q.run().status, RunStatus::not_ready);
  EXPECT_EQ(q.run().stop->member, "bob");
}

TEST(ProtocolReadiness, TheDeadlinePassingEndsTheRunNamingWhoDidNotAnswer) {
  ProtocolChain p;
  p.commit(p.start(0, ready_plan(6)));
  const std::uint64_t since = p.run().ready_since;
  p.commit(ready(p, 0));
  p.commit(ready(p, 2));
  while (p.chain.state.height < since + 5) p.empty_blocks(1);
  EXPECT_EQ(p.run().status, RunStatus::preparing);
  p.empty_blocks(1);
  EXPECT_EQ(p.run().status, RunStatus::not_ready);
  EXPECT_EQ(p.run().end_height, since + 6);
  EXPECT_EQ(p.run().stop->cause, RunStopCause::readiness_expired);
  EXPECT_EQ(p.run().stop->member, "");
  EXPECT_NE(p.run().stop->reason.find("bob, dave"), std::string::npos);
  expect_round_trip(p);
}

TEST(ProtocolReadiness, TheAttackersAnswersAreRefusedAndChangeNothing) {
  ProtocolChain p;
  TrainingPlan plan = ready_plan();
  plan.partners = {"alice", "bob", "carol"};  // dave is a member, not a partner
  p.commit(p.start(0, plan));
  EXPECT_EQ(p.refusal(ready(p, 3)), ProtocolRejected::not_a_partner);
  EXPECT_EQ(p.refusal(ready(p, 0, true, std::nullopt, 0, "", "no-such-run")),
            ProtocolRejected::wrong_run);
  EXPECT_EQ(p.refusal(ready(p, 0, true, std::nullopt, 0, std::string(257, 'x'))),
            ProtocolRejected::malformed_request);
  EXPECT_FALSE(p.refusal(ready(p, 0, true, std::nullopt, 0, std::string(256, 'x'))));
  // A reason on a ready answer, an unknown reason, a short schema hash.
  EXPECT_EQ(p.refusal(ready(p, 0, true, std::nullopt, 3)), ProtocolRejected::malformed_request);
  EXPECT_EQ(p.refusal(ready(p, 0, false, std::nullopt, kMaxReadinessFailure + 1)),
            ProtocolRejected::malformed_request);
  {
    pb::RunReady r;
    r.set_run_id("run-1");
    r.set_ready(true);
    r.set_schema_sha256("short");
    EXPECT_EQ(p.refusal(p.tx(0, pb::TX_RUN_READY, r)), ProtocolRejected::malformed_request);
  }
  p.commit(ready(p, 0));
  // A second answer, even one that changes its mind, is refused.
  EXPECT_EQ(p.refusal(ready(p, 0, false)), ProtocolRejected::already_answered);
  EXPECT_EQ(p.refusal(ready(p, 0)), ProtocolRejected::already_answered);
  p.commit(ready(p, 1));
  p.commit(ready(p, 2));
  EXPECT_EQ(p.run().status, RunStatus::active);
  // After the run began, readiness is closed.
  EXPECT_EQ(p.refusal(ready(p, 1)), ProtocolRejected::not_preparing);
}

TEST(ProtocolReadiness, AFederatedRunStartsWithMinPartnersAtTheDeadline) {
  ProtocolChain p;
  TrainingPlan plan = ready_plan(6);
  plan.mode = TrainingMode::federated;
  plan.cycles = 2;
  plan.min_partners = 2;
  plan.secagg_threshold = 2;
  p.commit(p.start(0, plan));
  const std::uint64_t since = p.run().ready_since;
  // One refusal leaves three that could be ready: the run goes on.
  p.commit(ready(p, 3, false));
  EXPECT_EQ(p.run().status, RunStatus::preparing);
  p.commit(ready(p, 0));
  p.commit(ready(p, 1));
  while (p.chain.state.height < since + 6) p.empty_blocks(1);
  EXPECT_EQ(p.run().status, RunStatus::active);
  ASSERT_EQ(p.run().turns.size(), 1u);
  EXPECT_EQ(p.run().turns[0].start_height, since + 6);
  // Refusals that leave fewer than min_partners end it at once.
  ProtocolChain q;
  q.commit(q.start(0, plan));
  q.commit(ready(q, 0, false));
  q.commit(ready(q, 1, false));
  EXPECT_EQ(q.run().status, RunStatus::preparing);
  q.commit(ready(q, 2, false));
  EXPECT_EQ(q.run().status, RunStatus::not_ready);
  EXPECT_EQ(q.run().stop->member, "carol");
}

TEST(ProtocolReadiness, TheOptimizerMustBeOneTheAgentsSupportForANewPlan) {
  const Genesis g = fixed_genesis({1, 1, 1, 1});
  TrainingPlan plan = ready_plan();
  plan.optimizer = "adamw";
  auto s = validate_plan(g, plan);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("training.optimizer \"adamw\""), std::string::npos);
  plan.readiness_deadline_blocks = 0;  // a plan from before issue 17 keeps its meaning
  EXPECT_TRUE(validate_plan(g, plan));
  plan = ready_plan(3);  // fewer blocks than validators
  EXPECT_FALSE(validate_plan(g, plan));
  ProtocolChain p;
  plan = ready_plan();
  plan.optimizer = "adamw";
  EXPECT_EQ(p.refusal(p.start(0, plan)), ProtocolRejected::invalid_plan);
}

TEST(ProtocolReadiness, TheJsonDefaultIsTheCallersAndRoundTrips) {
  nlohmann::json j = plan_to_json(ready_plan(9));
  EXPECT_EQ(j["deadlines"]["ready_blocks"], 9);
  EXPECT_EQ((*decode_plan_json(j).value()).readiness_deadline_blocks, 9u);
  j["deadlines"].erase("ready_blocks");
  EXPECT_EQ((*decode_plan_json(j).value()).readiness_deadline_blocks, 0u);
  EXPECT_EQ((*decode_plan_json(j, kDefaultReadinessBlocks).value()).readiness_deadline_blocks,
            kDefaultReadinessBlocks);
}

TEST(ProtocolCancel, AnAdminCancelsAPreparingRunWithItsReason) {
  ProtocolChain p;
  p.commit(p.start(0, ready_plan()));
  p.commit(ready(p, 1));
  const std::uint64_t height = p.chain.state.height + 1;
  p.commit(cancel(p, 0, "the hospitals encode different widths"));
  EXPECT_EQ(p.run().status, RunStatus::cancelled);
  EXPECT_EQ(p.run().end_height, height);
  EXPECT_FALSE(p.training().active_run.has_value());
  EXPECT_EQ(p.run().stop->cause, RunStopCause::cancelled);
  EXPECT_EQ(p.run().stop->member, "alice");
  EXPECT_EQ(p.run().stop->reason, "the hospitals encode different widths");
  expect_round_trip(p);
}

TEST(ProtocolCancel, CancellingAnActiveRunEndsItsTurnAsExpired) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4, 2)));
  p.grant_load(0, {1, 2});
  EXPECT_EQ(p.turn().phase, TurnPhase::training);
  p.commit(cancel(p, 0));
  const Turn& t = p.run().turns.back();
  EXPECT_EQ(t.outcome, TurnOutcome::expired);
  EXPECT_EQ(t.phase, TurnPhase::done);
  EXPECT_EQ(p.run().turns.size(), 1u);  // no next turn begins
  EXPECT_EQ(p.run().status, RunStatus::cancelled);
  EXPECT_EQ(p.refusal(p.save_request(0, 0, std::nullopt)), ProtocolRejected::run_not_active);
  expect_round_trip(p);
}

TEST(ProtocolCancel, TheAttackersCancelsAreRefused) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  EXPECT_EQ(p.refusal(cancel(p, 1)), ProtocolRejected::not_admin);  // bob is no admin
  EXPECT_EQ(p.refusal(cancel(p, 0, std::string(257, 'x'))), ProtocolRejected::malformed_request);
  EXPECT_EQ(p.refusal(cancel(p, 0, "x", "no-such-run")), ProtocolRejected::wrong_run);
  EXPECT_EQ(p.run().status, RunStatus::active);
  p.commit(cancel(p, 0, std::string(256, 'y')));
  EXPECT_EQ(p.refusal(cancel(p, 0)), ProtocolRejected::run_ended);  // twice
}

TEST(ProtocolCancel, AFinishedRunCannotBeCancelled) {
  ProtocolChain p;
  TrainingPlan plan = test_plan(2);
  p.commit(p.start(0, plan));
  for (std::size_t turn = 0; turn < 2; ++turn) {
    p.grant_load(turn, {2, 3});
    p.commit(p.tx(turn, pb::TX_TURN_ABANDON, [&] {
      pb::TurnAbandon a;
      a.set_run_id("run-1");
      a.set_turn(turn);
      a.set_reason(static_cast<std::uint32_t>(LoadFailure::training_failed));
      return a;
    }()));
  }
  EXPECT_EQ(p.run().status, RunStatus::finished);
  EXPECT_EQ(p.refusal(cancel(p, 0)), ProtocolRejected::run_ended);
}

TEST(ProtocolCancel, TheEscrowIsRefundedWhenNoTurnWasApproved) {
  ProtocolChain p;
  use_genesis(p, sponsor_genesis({0, 0, 0, 500}));
  TrainingPlan plan = escrow_plan(100);
  plan.readiness_deadline_blocks = 4;
  p.commit(p.start(kAlice, plan));
  EXPECT_EQ(p.run().status, RunStatus::awaiting_funding);
  p.commit(fund(p, kDave, 100));
  EXPECT_EQ(p.run().status, RunStatus::preparing);  // funded: readiness next
  p.commit(cancel(p, kAlice, "the plan was wrong"));
  EXPECT_EQ(p.run().escrow->state, EscrowState::refunded);
  EXPECT_EQ(p.training().accounts.balance("dave"), 500u);
  EXPECT_EQ(p.refusal(fund(p, kDave, 1)), ProtocolRejected::run_finished);
  expect_round_trip(p);
}

TEST(ProtocolCancel, AfterAnApprovedTurnTheEscrowIsReleasedAsAFinishedRunsIs) {
  ProtocolChain p;
  use_genesis(p, sponsor_genesis({0, 0, 0, 500}));
  TrainingPlan plan = escrow_plan(0);
  plan.cycles = 2;
  p.commit(p.start(kAlice, plan));
  p.commit(fund(p, kDave, 90));
  p.grant_load(0, {1, 2});
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  ASSERT_EQ(p.run().models.size(), 1u);
  p.commit(cancel(p, kAlice, "enough"));
  EXPECT_EQ(p.run().status, RunStatus::cancelled);
  EXPECT_EQ(p.run().escrow->state, EscrowState::open);
  p.empty_blocks(plan.vote_deadline_blocks);
  p.commit(release(p, kDave));
  EXPECT_EQ(p.run().escrow->state, EscrowState::released);
  EXPECT_GT(p.run().escrow->payouts.at("alice"), 0u);
}

}  // namespace
}  // namespace baton::chain::testing
