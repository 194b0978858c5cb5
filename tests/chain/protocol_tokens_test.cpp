// Tokens that cannot be gamed (issue 13, docs/PROTOCOL.md §18.2 "Gains"): a
// turn's gain is settled at its vote deadline from every vote cast until
// then, not from the votes that reached the quorum. The attackers here are
// the issue's: a colluding voter, a rival voter and the proposer who orders
// the votes. Four equal members: alice's turn, bob, carol and dave vote; two
// votes decide.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

struct Measured {
  bool approve = true;
  std::uint32_t candidate = 0;
  std::uint32_t head = 0;
  std::uint32_t p = 0;
  std::uint64_t rows = 50;  // 0: the candidate was not measured
};

pb::Transaction vote(ProtocolChain& p, std::size_t voter, const Hash& request, const Measured& m,
                     const std::string& run_id = "run-1") {
  pb::ModelVote v;
  v.set_run_id(run_id);
  v.set_request_id(hash_bytes(request));
  v.set_approve(m.approve);
  v.set_auc_candidate_ppm(m.candidate);
  v.set_auc_head_ppm(m.head);
  v.set_p_worse_ppm(m.p);
  v.set_validation_size(m.rows);
  return p.tx(voter, pb::TX_MODEL_VOTE, v);
}

// Alice's turn 0 up to its SaveRequest; returns the request id.
Hash alice_submits(ProtocolChain& p, const TrainingPlan& plan) {
  p.commit(p.start(0, plan));
  p.grant_load(0, {1, 2});
  return p.commit(p.save_request(0, 0, std::nullopt));
}

// Empty blocks up to and including the vote deadline of turn 0's SaveRequest.
void past_vote_deadline(ProtocolChain& p) {
  const std::uint64_t deadline =
      p.run().turns[0].save_request_height + p.run().plan.vote_deadline_blocks;
  while (p.chain.state.height < deadline) p.empty_blocks(1);
}

TrainingPlan delong_plan() {
  TrainingPlan plan = test_plan(4);
  plan.vote_policy = VotePolicyKind::delong;
  plan.vote_param_ppm = 50'000;
  return plan;
}

// Attack 1: a colluder's approving (1.0, 0.0) next to an honest +0.01 made
// the quorum's median +0.505.
TEST(TokenAttacks, AColludersExtremeVoteDoesNotInflateTheGain) {
  ProtocolChain p;
  const Hash save = alice_submits(p, test_plan(4));
  p.commit(vote(p, 1, save, {true, 710'000, 700'000}));  // bob, honest: +0.01
  p.commit(vote(p, 3, save, {true, 1'000'000, 0}));      // dave colludes: quorum
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  past_vote_deadline(p);
  EXPECT_EQ(p.run().models[0].median_gain_ppm, 10'000);
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 10'000);
}

// Attack 2: a rival's *approving* vote with (0.0, 1.0) (the delong policy
// decides on p alone) next to an honest +0.06 made the median -0.47.
TEST(TokenAttacks, ARivalsApprovingVoteCannotTurnAGainIntoALoss) {
  ProtocolChain p;
  const Hash save = alice_submits(p, delong_plan());
  p.commit(vote(p, 1, save, {true, 760'000, 700'000, 900'000}));  // bob, honest: +0.06
  p.commit(vote(p, 3, save, {true, 0, 1'000'000, 900'000}));      // dave, rival: quorum
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  // Carol, honest and a block later than the quorum, still counts.
  p.commit(vote(p, 2, save, {true, 760'000, 700'000, 900'000}));
  past_vote_deadline(p);
  EXPECT_EQ(p.run().models[0].median_gain_ppm, 60'000);
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 60'000);
}

// Attack 3: the same three votes in two block orders gave +0.055 or +0.010:
// the proposer chose which two reached the quorum.
TEST(TokenAttacks, TheProposersOrderOfTheVotesDoesNotChooseTheGain) {
  const Measured b{true, 710'000, 700'000}, c{true, 800'000, 700'000}, d{true, 710'000, 700'000};
  ProtocolChain first, second;
  const Hash s1 = alice_submits(first, test_plan(4));
  first.commit(vote(first, 1, s1, b));
  first.commit(vote(first, 2, s1, c));  // quorum: bob and carol
  first.commit(vote(first, 3, s1, d));
  const Hash s2 = alice_submits(second, test_plan(4));
  second.commit(vote(second, 1, s2, b));
  second.commit(vote(second, 3, s2, d));  // quorum: bob and dave
  second.commit(vote(second, 2, s2, c));
  past_vote_deadline(first);
  past_vote_deadline(second);
  EXPECT_EQ(first.run().contributivity_ppm.at("alice"), 10'000);
  EXPECT_EQ(second.run().contributivity_ppm.at("alice"), 10'000);
}

// The bound of docs/PROTOCOL.md §18.2: one hostile vote among the honest
// ones keeps the gain in [min(0, lowest honest), max(0, highest honest)],
// whatever it claims. Every honest set of one to four gains from a grid, and
// hostile votes from -1.0 to +1.0.
TEST(TokenBounds, OneHostileVoteKeepsTheGainWithinTheHonestRangeAndZero) {
  const std::int64_t grid[] = {-300'000, -20'000, -1, 0, 1, 10'000, 60'000, 400'000};
  const std::int64_t hostile[] = {-1'000'000, -500'001, -60'000, -5'000,   0,
                                  5'000,      60'000,   500'001, 1'000'000};
  auto vote_for = [](std::int64_t gain) {
    // head 0.5 + candidate 0.5 + gain, both kept within [0, 1] as the ledger does
    const std::int64_t head = gain < -500'000 ? 1'000'000 : (gain > 500'000 ? 0 : 500'000);
    return ModelVoteRecord{
        true,
        static_cast<std::uint32_t>(std::clamp<std::int64_t>(head + gain, 0, 1'000'000)),
        static_cast<std::uint32_t>(head),
        50,
        0,
        {},
        1};
  };
  std::size_t cases = 0;
  for (std::size_t n = 1; n <= 4; ++n) {
    std::vector<std::size_t> pick(n, 0);
    while (true) {
      std::map<std::string, ModelVoteRecord> votes;
      std::int64_t lo = 0, hi = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const std::int64_t g = grid[pick[k]];
        votes["honest-" + std::to_string(k)] = vote_for(g);
        lo = std::min(lo, g);
        hi = std::max(hi, g);
      }
      for (std::int64_t x : hostile) {
        auto with = votes;
        with["hostile"] = vote_for(x);
        const std::int64_t gain = settled_gain_ppm(with);
        EXPECT_GE(gain, lo) << "hostile " << x;
        EXPECT_LE(gain, hi) << "hostile " << x;
        ++cases;
      }
      std::size_t k = 0;
      while (k < n && ++pick[k] == std::size(grid)) pick[k++] = 0;
      if (k == n) break;
    }
  }
  EXPECT_GT(cases, 40'000u);
}

TEST(TokenLateVotes, AreAcceptedUntilTheVoteDeadlineWithTheSameChecks) {
  ProtocolChain p;
  const Hash save = alice_submits(p, test_plan(4));  // SaveRequest at block 5: deadline 9
  p.commit(vote(p, 1, save, {true, 710'000, 700'000}));
  p.commit(vote(p, 2, save, {true, 720'000, 700'000}));  // quorum at block 7
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  EXPECT_EQ(whose_turn(p.training())->partner, "bob");  // the next turn has begun
  // Late, the vote passes the checks of a vote on time.
  EXPECT_EQ(p.refusal(vote(p, 0, save, {true, 720'000, 700'000})), ProtocolRejected::own_request);
  EXPECT_EQ(p.refusal(vote(p, 1, save, {true, 720'000, 700'000})),
            ProtocolRejected::duplicate_vote);
  EXPECT_EQ(p.refusal(vote(p, 3, save, {false, 720'000, 700'000})),
            ProtocolRejected::vote_contradicts_policy);
  EXPECT_EQ(p.refusal(vote(p, 3, save, {true, 1'000'001, 700'000})),
            ProtocolRejected::malformed_request);
  Measured huge_loss{true, 720'000, 700'000};
  pb::Transaction t = vote(p, 3, save, huge_loss);
  pb::ModelVote mv;
  ASSERT_TRUE(mv.ParseFromString(t.payload()));
  mv.set_loss_head_micro(kMaxLossMicro + 1);
  EXPECT_EQ(p.refusal(p.tx(3, pb::TX_MODEL_VOTE, mv)), ProtocolRejected::malformed_request);
  // A late reject counts for the gain and decides nothing.
  p.commit(vote(p, 3, save, {false, 600'000, 700'000}));
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  EXPECT_EQ(p.run().turns[0].model_votes.size(), 3u);
  p.empty_blocks(1);  // block 9: the deadline; settled at its end
  ASSERT_EQ(p.chain.state.height, 9u);
  EXPECT_TRUE(p.run().models[0].gain_settled);
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 10'000);  // {-100000, 10000, 20000}
  // After the deadline: refused, and the gain stays.
  ProtocolChain q;
  const Hash late = alice_submits(q, test_plan(4));
  q.commit(vote(q, 1, late, {true, 710'000, 700'000}));
  q.commit(vote(q, 2, late, {true, 720'000, 700'000}));
  past_vote_deadline(q);
  EXPECT_EQ(q.refusal(vote(q, 3, late, {true, 999'000, 700'000})),
            ProtocolRejected::vote_after_deadline);
  EXPECT_EQ(q.run().contributivity_ppm.at("alice"), 10'000);  // [10000, 20000]: 10000
}

TEST(TokenLateVotes, ARejectedCandidateTakesNoMoreVotes) {
  ProtocolChain p;
  const Hash save = alice_submits(p, test_plan(4));
  p.commit(vote(p, 1, save, {false, 600'000, 700'000}));
  p.commit(vote(p, 2, save, {false, 600'000, 700'000}));
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::rejected);
  EXPECT_EQ(p.refusal(vote(p, 3, save, {true, 800'000, 700'000})),
            ProtocolRejected::no_open_request);
}

// The last turn's vote deadline outlives its run: votes still count, and
// gains_settled says when the tokens are final (what a payout waits for).
TEST(TokenLateVotes, OutliveTheRunAndANewRun) {
  ProtocolChain p;
  TrainingPlan plan = test_plan(1);  // one turn: alice's
  plan.vote_deadline_blocks = 8;     // SaveRequest at block 5: deadline 13
  const Hash save = alice_submits(p, plan);
  p.commit(vote(p, 1, save, {true, 710'000, 700'000}));
  p.commit(vote(p, 2, save, {true, 800'000, 700'000}));
  EXPECT_EQ(p.run().status, RunStatus::finished);
  EXPECT_FALSE(gains_settled(p.run()));
  TrainingPlan next = test_plan(4);
  next.run_id = "run-2";
  p.commit(p.start(0, next));  // another run is active now
  p.commit(vote(p, 3, save, {true, 800'000, 700'000}));
  EXPECT_FALSE(gains_settled(p.run()));
  past_vote_deadline(p);
  EXPECT_TRUE(gains_settled(p.run()));
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 100'000);  // {10000, 100000, 100000}
  EXPECT_EQ(p.refusal(vote(p, 3, save, {true, 800'000, 700'000})), ProtocolRejected::wrong_run);
}

// delta_loss: the gain is the settled median of the voters' loss decreases.
TEST(TokenModes, DeltaLossSettlesTheMedianLossDecrease) {
  ProtocolChain p;
  TrainingPlan plan = test_plan(4);
  plan.token_mode = TokenMode::delta_loss;
  const Hash save = alice_submits(p, plan);
  auto lossy = [&](std::size_t voter, std::uint64_t candidate, std::uint64_t head) {
    pb::Transaction t = vote(p, voter, save, {true, 710'000, 700'000});
    pb::ModelVote mv;
    EXPECT_TRUE(mv.ParseFromString(t.payload()));
    mv.set_loss_candidate_micro(candidate);
    mv.set_loss_head_micro(head);
    return p.tx(voter, pb::TX_MODEL_VOTE, mv);
  };
  p.commit(lossy(1, 400'000, 690'000));     // the loss falls by 0.29
  p.commit(lossy(2, 600'000, 690'000));     // by 0.09: quorum
  p.commit(lossy(3, 90'000'000, 690'000));  // a rival claims it rose by 89.3: counts as 1.0
  past_vote_deadline(p);
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 90'000);
  EXPECT_EQ(p.run().turns[0].model_votes.at("bob").loss_candidate_micro, 400'000u);
}

TEST(TokenModes, ARotatingOrderStartsEachCycleOnePartnerFurtherFromTheSeed) {
  TrainingPlan plan = test_plan(4, 3);
  plan.seed = 6;  // 6 mod 4 = 2: carol opens cycle 0
  plan.turn_order = TurnOrder::rotating;
  std::vector<std::string> order;
  for (std::uint64_t i = 0; i < plan.total_turns(); ++i) order.push_back(turn_partner(plan, i));
  EXPECT_EQ(order, (std::vector<std::string>{"carol", "dave", "alice", "bob",     // cycle 0
                                             "dave", "alice", "bob", "carol",     // cycle 1
                                             "alice", "bob", "carol", "dave"}));  // cycle 2
  plan.turn_order = TurnOrder::fixed;
  EXPECT_EQ(turn_partner(plan, 5), "bob");
  plan.seed = std::numeric_limits<std::uint64_t>::max();  // no overflow
  plan.turn_order = TurnOrder::rotating;
  EXPECT_EQ(turn_partner(plan, 4), plan.partners[(3 + 1) % 4]);

  // The chain follows it: turn 0 is carol's, and alice's request is out of turn.
  ProtocolChain p;
  plan = test_plan(4, 3);
  plan.seed = 6;
  plan.turn_order = TurnOrder::rotating;
  p.commit(p.start(0, plan));
  EXPECT_EQ(whose_turn(p.training())->partner, "carol");
  EXPECT_EQ(p.refusal(p.load_request(0, 0, std::nullopt)), ProtocolRejected::out_of_turn);
  p.commit(p.load_request(2, 0, std::nullopt));
}

TEST(TokenModes, ThePlanCarriesModeAndOrderInJsonAndProtobufAndRefusesOthers) {
  const Genesis g = fixed_genesis();
  TrainingPlan plan = test_plan(4);
  plan.token_mode = TokenMode::delta_loss;
  plan.turn_order = TurnOrder::rotating;
  const nlohmann::json j = plan_to_json(plan);
  EXPECT_EQ(j["token_mode"], "delta_loss");
  EXPECT_EQ(j["turn_order"], "rotating");
  auto again = plan_from_json(g, j);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->token_mode, TokenMode::delta_loss);
  EXPECT_EQ((*again)->turn_order, TurnOrder::rotating);
  const pb::TrainingPlan proto = plan_to_proto(plan);
  EXPECT_EQ(proto.token_mode(), 1u);
  EXPECT_EQ(proto.turn_order(), 1u);
  auto decoded = plan_from_proto(g, proto);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, plan);
  // Defaults: today's tokens and order, and no bytes in the protobuf.
  nlohmann::json plain = plan_to_json(test_plan(4));
  plain.erase("token_mode");
  plain.erase("turn_order");
  auto defaulted = plan_from_json(g, plain);
  ASSERT_TRUE(defaulted.ok()) << defaulted.error().message;
  EXPECT_EQ((*defaulted)->token_mode, TokenMode::delta_auc);
  EXPECT_EQ((*defaulted)->turn_order, TurnOrder::fixed);
  EXPECT_EQ(plan_to_proto(**defaulted).token_mode(), 0u);
  // Unknown names and numbers (never truncated to a byte: 257 is not 1).
  nlohmann::json bad = j;
  bad["token_mode"] = "shapley";
  EXPECT_FALSE(plan_from_json(g, bad).ok());
  bad = j;
  bad["turn_order"] = "random";
  EXPECT_FALSE(plan_from_json(g, bad).ok());
  for (std::uint32_t n : {2u, 257u}) {
    pb::TrainingPlan wide = proto;
    wide.set_token_mode(n);
    EXPECT_FALSE(plan_from_proto(g, wide).ok()) << n;
    wide = proto;
    wide.set_turn_order(n);
    EXPECT_FALSE(plan_from_proto(g, wide).ok()) << n;
  }
  ProtocolChain p;
  pb::TrainingPlan wide = plan_to_proto(test_plan(4));
  wide.set_turn_order(257);
  EXPECT_EQ(p.refusal(p.tx(0, pb::TX_START_RUN, wide)), ProtocolRejected::invalid_plan);
}

}  // namespace
}  // namespace baton::chain::testing
