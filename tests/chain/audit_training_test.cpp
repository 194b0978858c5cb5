// docs/PROTOCOL.md says an auditor can check a whole chain with SHA-256,
// Ed25519 and the .proto files alone, training runs included: the app state
// hash of every block commits to the training state (§18.4), so the auditor
// must replay the protocol to recompute it. tests/chain/audit_export.py (with
// audit_training.py) is that auditor; these tests run it on chains that go
// through every transaction type, most refusal reasons, both votes' quorum
// outcomes, deadlines and a TurnAbandon, and on a block whose signed state
// hash leaves part of the training state out.
//
// (The integration tests audit the ledgers of real four-node runs as well:
// tests/integration/ledgers.cpp.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit_fixture.h"
#include "privacy_fixture.h"
#include "tests/support/test_support.h"

namespace baton::chain::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// test_plan with a tolerance of 10 ppm, so that a vote may approve a
// candidate 4 ppm worse than the head, and deadlines that leave room for a
// few refused transactions in blocks of their own.
TrainingPlan tolerant_plan() {
  TrainingPlan plan = test_plan(4);
  plan.vote_policy = VotePolicyKind::tolerance;
  plan.vote_param_ppm = 10;
  plan.load_deadline_blocks = 6;
  plan.save_deadline_blocks = 8;
  plan.vote_deadline_blocks = 10;
  return plan;
}

// A StartRun, one turn of each outcome, and refusals of most kinds, each in
// its own block (so that each block's state hash checks one step).
void run_every_outcome(ProtocolChain& p) {
  EXPECT_EQ(p.commit_refused(p.start(1, tolerant_plan())), ProtocolRejected::not_admin);
  TrainingPlan bad = tolerant_plan();
  bad.quorum_num = 2;  // 2/2 is no quorum
  EXPECT_EQ(p.commit_refused(p.start(0, bad)), ProtocolRejected::invalid_plan);
  bad.quorum_num = 1;
  bad.quorum_den = 3;  // a minority would decide
  EXPECT_EQ(p.commit_refused(p.start(0, bad)), ProtocolRejected::invalid_plan);
  bad = tolerant_plan();
  bad.vote_deadline_blocks = 3;  // fewer blocks than validators
  EXPECT_EQ(p.commit_refused(p.start(0, bad)), ProtocolRejected::invalid_plan);
  pb::TrainingPlan wide = plan_to_proto(tolerant_plan());
  wide.set_vote_policy(258);  // tolerance (2) if cut to a byte
  EXPECT_EQ(p.commit_refused(p.tx(0, pb::TX_START_RUN, wide)), ProtocolRejected::invalid_plan);
  p.commit(p.start(0, tolerant_plan()));
  EXPECT_EQ(p.commit_refused(p.start(0, tolerant_plan())), ProtocolRejected::run_active);

  // Turn 0, alice: approved, with votes whose gains have a negative even median.
  EXPECT_EQ(p.commit_refused(p.load_request(1, 0, std::nullopt)), ProtocolRejected::out_of_turn);
  const Hash load0 = p.grant_load(0, {1, 2});
  EXPECT_EQ(p.commit_refused(p.load_approval(3, load0)), ProtocolRejected::no_open_request);
  const Hash save0 = p.commit(p.save_request(0, 0, std::nullopt));
  EXPECT_EQ(p.commit_refused(p.model_vote(1, save0, true, 1'000'001, 700000)),
            ProtocolRejected::malformed_request);
  EXPECT_EQ(p.commit_refused(p.model_vote(0, save0, true, 800000, 700000)),
            ProtocolRejected::own_request);
  // Approves a candidate 11 ppm worse than the head under a tolerance of 10.
  EXPECT_EQ(p.commit_refused(p.model_vote(1, save0, true, 699989, 700000)),
            ProtocolRejected::vote_contradicts_policy);
  p.commit(p.model_vote(1, save0, true, 700001, 700000, "gain 1"));
  EXPECT_EQ(p.commit_refused(p.model_vote(1, save0, true, 700001, 700000)),
            ProtocolRejected::duplicate_vote);
  p.commit(p.model_vote(2, save0, true, 699996, 700000));  // gains 1 and -4: quorum
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  // The gain waits for the vote deadline; a late vote still counts.
  EXPECT_FALSE(p.run().models[0].gain_settled);
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 0);
  p.commit(p.model_vote(3, save0, true, 700003, 700000));  // gains 1, -4, 3: median 1
  EXPECT_EQ(p.commit_refused(p.model_vote(3, save0, true, 700003, 700000)),
            ProtocolRejected::duplicate_vote);
  EXPECT_EQ(p.commit_refused(p.model_vote(0, save0, true, 700003, 700000)),
            ProtocolRejected::own_request);

  // Turn 1, bob: a wrong head refused, then its load rejected by two of three.
  EXPECT_EQ(p.commit_refused(p.load_request(1, 1, std::nullopt)), ProtocolRejected::wrong_head);
  const Hash load1 = p.commit(p.load_request(1, 1, save0));
  p.commit(p.load_approval(0, load1, false));
  p.commit(p.load_approval(2, load1, false));
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::rejected);

  // Turn 2, carol: its load request expires unanswered; a late approval is
  // refused as after the deadline.
  const Hash load2 = p.commit(p.load_request(2, 2, save0));
  p.empty_blocks(10);
  EXPECT_EQ(p.run().turns[2].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.commit_refused(p.load_approval(0, load2)), ProtocolRejected::vote_after_deadline);
  // Turn 0's vote deadline has passed: its gain is settled and it takes no more votes.
  EXPECT_TRUE(p.run().models[0].gain_settled);
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 1);
  EXPECT_EQ(p.commit_refused(p.model_vote(3, save0, true, 700009, 700000)),
            ProtocolRejected::vote_after_deadline);

  // Turn 3, dave: claims alice's model as its own (refused), then gives up
  // its turn holding its load token; the run ends.
  p.grant_load(3, {0, 1});
  EXPECT_EQ(p.commit_refused(p.save_request(3, 3, save0, 0x70, p.run().models[0].model_sha256)),
            ProtocolRejected::duplicate_model);
  p.commit(abandon(p, 3, 3, save0));
  EXPECT_EQ(p.run().status, RunStatus::finished);
  EXPECT_EQ(p.commit_refused(p.model_vote(1, save0, true, 800000, 700000)),
            ProtocolRejected::run_not_active);
}

TEST(ChainAuditTraining, ReplaysAStartedRunThroughEveryOutcomeToTheSameStateHashes) {
  ProtocolChain p;
  run_every_outcome(p);
  ASSERT_EQ(p.run().turns.size(), 4u);
  EXPECT_GE(p.run().refusals.total, 8u);
  EXPECT_EQ(p.training().refusals.total, 6u);  // the refused StartRuns
  expect_audit_agrees(p);
}

TEST(ChainAuditTraining, ReplaysTheRunOfAGenesisPlanFromBlockOne) {
  ProtocolChain p;
  Genesis g = fixed_genesis();
  // As `baton genesis init` and deploy/testnet.sh write it: decimals that
  // the ledger scales and rounds (0.00013 * 1e9 and 0.0157 * 1e6 are just
  // below 130000 and 15700 in binary floating point), the model as an object
  // that it stores as its sorted-key dump, defaults left out.
  const nlohmann::ordered_json plan = nlohmann::ordered_json::parse(R"({
    "run_id": "run-1",
    "model": {"num_classes": 2, "input_shape": [2], "hidden": [8], "architecture": "mlp"},
    "dataset": {"feature_columns": ["age", "volume"], "label_column": "survival"},
    "partners": ["alice", "bob", "carol", "dave"],
    "cycles": 1,
    "training": {"epochs": 3, "learning_rate": 0.00013, "weight_decay": 1e-05, "seed": 9},
    "vote_policy": {"kind": "tolerance", "epsilon": 0.0157},
    "quorum": {"num": 1, "den": 2},
    "deadlines": {"load_blocks": 4, "save_blocks": 8, "vote_blocks": 4}})");
  nlohmann::ordered_json text = nlohmann::ordered_json::parse(encode_genesis(g));
  text["training_plan"] = plan;
  p.chain.genesis_text = text.dump(2) + "\n";
  p.chain.spec = load_chain_spec(p.chain.genesis_text).value();
  p.chain.state = initial_state(p.chain.spec.genesis_hash);
  ASSERT_TRUE(p.chain.spec.genesis_plan().has_value());

  p.empty_blocks(4);  // alice's turn 0 expires at the end of block 4
  const Hash load = p.grant_load(1, {0, 2});
  const Hash save = p.commit(p.save_request(1, 1, std::nullopt));
  p.commit(p.model_vote(0, save, true, 810000, 800000));
  p.commit(p.model_vote(2, save, true, 830000, 800000));
  EXPECT_EQ(p.run().models.size(), 1u);
  EXPECT_EQ(p.run().models[0].load_token_id, load);
  EXPECT_EQ(p.run().plan.learning_rate_nano, 130000u);
  EXPECT_EQ(p.run().plan.weight_decay_nano, 10000u);
  EXPECT_EQ(p.run().plan.vote_param_ppm, 15700u);
  EXPECT_EQ(p.run().started_by, "genesis");
  expect_audit_agrees(p);
}

// Issue 13's plan fields: a rotating order (the auditor computes each turn's
// partner) and delta_loss tokens from votes that carry losses, one of them
// late, settled at the vote deadline.
TEST(ChainAuditTraining, ReplaysARotatingDeltaLossRunWithALateVote) {
  ProtocolChain p;
  TrainingPlan plan = test_plan(4, 2);
  plan.seed = 5;  // cycle 0 starts at bob, cycle 1 at carol
  plan.turn_order = TurnOrder::rotating;
  plan.token_mode = TokenMode::delta_loss;
  p.commit(p.start(0, plan));
  ASSERT_EQ(whose_turn(p.training())->partner, "bob");
  p.grant_load(1, {0, 2});
  const Hash save = p.commit(p.save_request(1, 0, std::nullopt));
  auto lossy = [&](std::size_t voter, std::uint64_t candidate, std::uint64_t head) {
    pb::Transaction t = p.model_vote(voter, save, true, 710'000, 700'000);
    pb::ModelVote mv;
    EXPECT_TRUE(mv.ParseFromString(t.payload()));
    mv.set_loss_candidate_micro(candidate);
    mv.set_loss_head_micro(head);
    return p.tx(voter, pb::TX_MODEL_VOTE, mv);
  };
  p.commit(lossy(0, 500'000, 690'000));
  p.commit(lossy(2, 650'000, 690'000));  // quorum; carol's turn begins
  EXPECT_EQ(whose_turn(p.training())->partner, "carol");
  // Late votes pass the checks of votes on time: an approve that its own
  // AUCs reject contradicts the policy (then dave's vote in the same block
  // counts), a loss above 100.0 is malformed.
  pb::ModelVote contradicting;
  ASSERT_TRUE(contradicting.ParseFromString(lossy(3, 590'000, 690'000).payload()));
  contradicting.set_auc_candidate_ppm(690'000);  // below the head's 700000 under strict
  const pb::Transaction refused = p.tx(3, pb::TX_MODEL_VOTE, contradicting);
  p.spent(refused);
  const pb::Transaction late = lossy(3, 590'000, 690'000);
  p.spent(late);
  p.append({encode_transaction(refused), encode_transaction(late)});
  const Refusal* r = find_refusal(p.training(), tx_hash(encode_transaction(refused)));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->reason, ProtocolRejected::vote_contradicts_policy);
  EXPECT_EQ(p.commit_refused(lossy(3, 100'000'001, 690'000)), ProtocolRejected::malformed_request);
  p.empty_blocks(4);
  EXPECT_TRUE(p.run().models[0].gain_settled);
  EXPECT_EQ(p.run().contributivity_ppm.at("bob"), 100'000);  // {40000, 100000, 190000}
  expect_audit_agrees(p);
}

// Issue 13: a partner rejected suspend_after times in a row (no approval
// between) is suspended; its later turns are skipped with outcome suspended
// in the block where they would begin. The auditor replays the skips.
TEST(ChainAuditTraining, SkipsTheTurnsOfAPartnerRejectedTwiceInARow) {
  ProtocolChain p;
  TrainingPlan plan = test_plan(4, 3);
  plan.suspend_after = 2;
  p.commit(p.start(0, plan));
  auto reject_alice = [&](std::uint64_t turn) {
    const Hash load = p.commit(p.load_request(0, turn, std::nullopt));
    p.commit(p.load_approval(1, load, false));
    p.commit(p.load_approval(2, load, false));
    ASSERT_EQ(p.run().turns[turn].outcome, TurnOutcome::rejected);
  };
  auto others_give_up = [&](std::uint64_t first) {
    for (std::uint64_t turn = first; turn < first + 3; ++turn)
      p.commit(abandon(p, turn % 4, turn, std::nullopt));
  };
  reject_alice(0);
  others_give_up(1);
  EXPECT_FALSE(partner_suspended(p.run(), "alice"));
  EXPECT_EQ(whose_turn(p.training())->partner, "alice");  // one rejection: still in turn
  reject_alice(4);
  EXPECT_TRUE(partner_suspended(p.run(), "alice"));
  EXPECT_FALSE(partner_suspended(p.run(), "bob"));  // abandoned turns do not count
  others_give_up(5);
  // Dave's abandon of turn 7 ends it; alice's turn 8 is skipped in the same block.
  const Turn& skipped = p.run().turns[8];
  EXPECT_EQ(skipped.outcome, TurnOutcome::suspended);
  EXPECT_EQ(skipped.partner, "alice");
  EXPECT_EQ(skipped.end_height, p.chain.state.height);
  EXPECT_FALSE(skipped.load_request_id.has_value());
  EXPECT_EQ(whose_turn(p.training())->turn, 9u);
  EXPECT_EQ(whose_turn(p.training())->partner, "bob");
  EXPECT_EQ(p.commit_refused(p.load_request(0, 8, std::nullopt)), ProtocolRejected::out_of_turn);
  expect_audit_agrees(p);
}

TEST(ChainAuditTraining, AnApprovalBetweenRejectionsKeepsThePartnerInTurn) {
  chain::Run run;
  run.plan = test_plan(4, 3);
  run.plan.suspend_after = 2;
  auto turn = [&](std::string partner, TurnOutcome outcome) {
    Turn t;
    t.index = run.turns.size();
    t.partner = std::move(partner);
    t.outcome = outcome;
    run.turns.push_back(t);
  };
  turn("alice", TurnOutcome::rejected);
  turn("alice", TurnOutcome::approved);
  turn("alice", TurnOutcome::expired);
  turn("alice", TurnOutcome::rejected);
  EXPECT_FALSE(partner_suspended(run, "alice"));
  turn("alice", TurnOutcome::abandoned);
  turn("alice", TurnOutcome::rejected);
  EXPECT_TRUE(partner_suspended(run, "alice"));
  run.plan.suspend_after = 0;  // never
  EXPECT_FALSE(partner_suspended(run, "alice"));
  // A plan whose suspend_after exceeds its cycles would never suspend: refused.
  TrainingPlan plan = test_plan(4, 2);
  plan.suspend_after = 3;
  ProtocolChain p;
  EXPECT_EQ(p.refusal(p.start(0, plan)), ProtocolRejected::invalid_plan);
  plan.suspend_after = 2;
  EXPECT_EQ(plan_from_proto(p.chain.spec.genesis, plan_to_proto(plan))->suspend_after, 2u);
  EXPECT_EQ(plan_to_json(plan)["suspend_after"], 2u);
}

// Every block below is signed by all four validators; only the last one's
// state hash is wrong, leaving out one ppm of alice's contributivity. The
// auditor must recompute the training state to see it, as validate_block does.
TEST(ChainAuditTraining, NamesABlockWhoseSignedStateHashMisstatesTheTrainingState) {
  ProtocolChain p;
  run_every_outcome(p);
  LedgerState misstated = p.chain.state;
  misstated.training.runs.at("run-1").contributivity_ppm.at("alice") += 1;
  const pb::Block block = with_header(p.chain.propose({}).block, [&](pb::BlockHeader& h) {
    h.set_app_state_hash(hash_bytes(state_hash(kChainId, misstated)));
  });
  const pb::CommittedBlock committed = p.chain.seal(block);
  auto verdict = validate_block(p.chain.spec, p.chain.state, committed);
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().reason, BlockInvalid::wrong_app_state_hash);
  p.blocks.push_back(encode_committed_block(committed));

  const auto r = audit(p);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.out, "height " + std::to_string(p.blocks.size()) + ": wrong app state hash\n");
}

}  // namespace
}  // namespace baton::chain::testing
