// Deposits and the submission cost (issue 13, docs/PROTOCOL.md §19.9),
// played against the real state machine in sealed blocks: the deposit locked
// at the LoadRequest, refunded on approval, forfeited to the voters against
// on rejection (and to no one else), half kept on an expiry after the load
// token, grown after rejections, skipped or refused when a partner cannot
// pay, the cost paid into the escrow and out with it; conservation of every
// credit; the plan bounds a hostile admin meets; saturating growth.
#include <limits>

#include <gtest/gtest.h>

#include "chain/account_history.h"
#include "chain/training_decode.h"
#include "economy_fixture.h"

namespace baton::chain::testing {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint32_t kHead = 500000, kBetter = 510000, kWorse = 400000;

TrainingPlan deposit_plan(std::uint64_t deposit, std::uint32_t factor, std::uint32_t cycles = 2) {
  TrainingPlan plan = test_plan(4, cycles);
  plan.deposit = deposit;
  plan.deposit_factor = factor;
  return plan;
}

// Every credit: balances, locked stakes, open escrows.
std::uint64_t all_credits(const TrainingState& ts) {
  std::uint64_t sum = 0;
  for (const auto& [name, b] : ts.accounts.balances) sum += b;
  for (const auto& [id, run] : ts.runs) {
    sum += locked_stakes(run);
    if (run.escrow && run.escrow->state == EscrowState::open) sum += run.escrow->funded;
  }
  return sum;
}

std::uint64_t balance(const ProtocolChain& p, std::size_t i) {
  return p.training().accounts.balance(member_name(i));
}

// Votes on the current turn's candidate of `partner`, in this order:
// (voter, approve). Strict policy: an approval claims a better AUC.
Hash submit_and_vote(ProtocolChain& p, std::size_t partner,
                     std::initializer_list<std::pair<std::size_t, bool>> votes) {
  const std::uint64_t turn = p.turn().index;
  const Hash save = p.commit(p.save_request(partner, turn, p.run().head));
  for (auto [voter, approve] : votes)
    p.commit(p.model_vote(voter, save, approve, approve ? kBetter : kWorse, kHead));
  return save;
}

// The other members, ascending, but `partner`.
std::vector<std::size_t> others(std::size_t partner) {
  std::vector<std::size_t> out;
  for (std::size_t m : {kAlice, kBob, kCarol, kDave})
    if (m != partner) out.push_back(m);
  return out;
}

void grant(ProtocolChain& p, std::size_t partner) {
  const auto v = others(partner);
  p.grant_load(partner, {v[0], v[1]});
}

TEST(Deposits, ApprovalRefundsRejectionPaysOnlyTheVotersAgainstAndExpiryKeepsHalf) {
  ProtocolChain p;
  use_genesis(p, genesis_with({1000, 1000, 1000, 1000}, {1, 1, 1, 1}));
  p.commit(p.start(kAlice, deposit_plan(101, 2)));
  const std::uint64_t total = all_credits(p.training());
  ASSERT_EQ(total, 4000u);

  // Turn 0, alice: 101 locked at her LoadRequest, back at the approval.
  const Hash req = p.commit(p.load_request(kAlice, 0, std::nullopt));
  EXPECT_EQ(balance(p, kAlice), 899u);
  EXPECT_EQ(p.turn().stake.deposit, 101u);
  EXPECT_EQ(p.turn().stake.locked(), 101u);
  EXPECT_EQ(all_credits(p.training()), total);
  p.commit(p.load_approval(kBob, req));
  p.commit(p.load_approval(kCarol, req));
  // Dave votes against; bob and carol approve: he gets nothing.
  submit_and_vote(p, kAlice, {{kDave, false}, {kBob, true}, {kCarol, true}});
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  EXPECT_EQ(balance(p, kAlice), 1000u);
  EXPECT_EQ(balance(p, kDave), 1000u);
  EXPECT_TRUE(p.run().turns[0].stake.forfeits.empty());
  EXPECT_EQ(all_credits(p.training()), total);

  // Turn 1, bob: alice approves, carol and dave reject. 101 = 51 + 50, the
  // extra credit to the first name; alice, who approved, gets nothing.
  grant(p, kBob);
  const Hash bobs = submit_and_vote(p, kBob, {{kAlice, true}, {kCarol, false}, {kDave, false}});
  const Turn& t1 = p.run().turns[1];
  EXPECT_EQ(t1.outcome, TurnOutcome::rejected);
  EXPECT_EQ(t1.stake.forfeits, (std::map<std::string, std::uint64_t>{{"carol", 51}, {"dave", 50}}));
  EXPECT_EQ(t1.stake.refunded, 0u);
  EXPECT_EQ(balance(p, kAlice), 1000u);
  EXPECT_EQ(balance(p, kBob), 899u);
  EXPECT_EQ(balance(p, kCarol), 1051u);
  EXPECT_EQ(balance(p, kDave), 1050u);
  EXPECT_EQ(all_credits(p.training()), total);
  // Alice tries to join the rejection afterwards: refused, nothing moves.
  EXPECT_EQ(p.refusal(p.model_vote(kAlice, bobs, false, kWorse, kHead)),
            ProtocolRejected::no_open_request);

  // Turn 2, carol: a load token, then no SaveRequest until the deadline.
  // She gets floor(101 / 2) = 50 back; 51 go to the two load approvers.
  grant(p, kCarol);
  EXPECT_EQ(balance(p, kCarol), 950u);
  while (p.run().turns.size() == 3) p.empty_blocks(1);
  const Turn& t2 = p.run().turns[2];
  EXPECT_EQ(t2.outcome, TurnOutcome::expired);
  EXPECT_EQ(t2.stake.refunded, 50u);
  EXPECT_EQ(t2.stake.forfeits, (std::map<std::string, std::uint64_t>{{"alice", 26}, {"bob", 25}}));
  EXPECT_EQ(balance(p, kCarol), 1000u);
  EXPECT_EQ(balance(p, kAlice), 1026u);
  EXPECT_EQ(balance(p, kBob), 924u);
  EXPECT_EQ(all_credits(p.training()), total);

  // Turn 3, dave: an expiry before the load token refunds everything.
  p.commit(p.load_request(kDave, 3, p.run().head));
  EXPECT_EQ(balance(p, kDave), 949u);
  while (p.run().turns.size() == 4) p.empty_blocks(1);
  EXPECT_EQ(p.run().turns[3].outcome, TurnOutcome::expired);
  EXPECT_EQ(balance(p, kDave), 1050u);

  // Cycle 2: bob's one rejection doubles his deposit; the others' are base.
  EXPECT_EQ(required_deposit(p.run(), "bob"), 202u);
  EXPECT_EQ(required_deposit(p.run(), "carol"), 101u);  // an expiry does not count
  grant(p, kAlice);
  submit_and_vote(p, kAlice, {{kBob, true}, {kCarol, true}});
  grant(p, kBob);
  EXPECT_EQ(p.turn().stake.deposit, 202u);
  submit_and_vote(p, kBob, {{kAlice, false}, {kCarol, false}});
  EXPECT_EQ(p.run().turns[5].stake.forfeits,
            (std::map<std::string, std::uint64_t>{{"alice", 101}, {"carol", 101}}));
  EXPECT_EQ(required_deposit(p.run(), "bob"), 404u);
  EXPECT_EQ(all_credits(p.training()), total);
  EXPECT_EQ(locked_stakes(p.run()), 0u);
}

TEST(Deposits, ApprovalResetsTheGrowth) {
  chain::Run run;
  run.plan = deposit_plan(10, 3);
  auto add = [&](TurnOutcome o, bool candidate) {
    Turn t;
    t.partner = "bob";
    t.outcome = o;
    if (candidate) t.save = SaveRecord{};
    run.turns.push_back(t);
  };
  add(TurnOutcome::rejected, true);
  add(TurnOutcome::rejected, false);  // a refused load is no refused candidate
  add(TurnOutcome::rejected, true);
  EXPECT_EQ(required_deposit(run, "bob"), 90u);
  EXPECT_EQ(required_deposit(run, "alice"), 10u);
  add(TurnOutcome::approved, true);
  EXPECT_EQ(required_deposit(run, "bob"), 10u);
  add(TurnOutcome::rejected, true);
  EXPECT_EQ(required_deposit(run, "bob"), 30u);
}

TEST(Deposits, GrowthSaturatesAtTheCapWhateverTheCount) {
  chain::Run run;
  run.plan = deposit_plan(kMaxPlanCredits, kMaxDepositFactor);
  for (std::uint64_t i = 0; i < kMaxPlanTurns; ++i) {
    Turn t;
    t.partner = "bob";
    t.outcome = TurnOutcome::rejected;
    t.save = SaveRecord{};
    run.turns.push_back(std::move(t));
  }
  EXPECT_EQ(required_deposit(run, "bob"), kMaxPlanCredits);
  run.plan.deposit = 1;
  EXPECT_EQ(required_deposit(run, "bob"), kMaxPlanCredits);
  run.plan.deposit_factor = 1;  // never grows
  EXPECT_EQ(required_deposit(run, "bob"), 1u);
  // Cost + deposit at their bounds against a full balance: no overflow.
  run.plan.deposit = kMaxPlanCredits;
  run.plan.submission_cost = kMaxPlanCredits;
  EXPECT_EQ(partner_cannot_pay(run, "bob", kMax), std::nullopt);
  EXPECT_EQ(partner_cannot_pay(run, "bob", 2 * kMaxPlanCredits - 1),
            ProtocolRejected::cannot_afford_stake);
}

TEST(Deposits, APartnerThatCannotPayIsSkippedBeforeAnyoneTrains) {
  ProtocolChain p;
  use_genesis(p, genesis_with({1000, 100, 1000, 1000}, {1, 1, 1, 1}));
  p.commit(p.start(kAlice, deposit_plan(101, 2, 1)));
  grant(p, kAlice);
  submit_and_vote(p, kAlice, {{kBob, true}, {kCarol, true}});
  // Bob holds 100 < 101: his turn ends as it begins, carol's is current.
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::cannot_pay);
  EXPECT_EQ(p.run().turns[1].phase, TurnPhase::done);
  EXPECT_FALSE(p.run().turns[1].load_request_id);
  EXPECT_EQ(p.turn().partner, "carol");
  EXPECT_EQ(balance(p, kBob), 100u);
  // Out of turn now: a LoadRequest for the skipped turn is refused.
  EXPECT_EQ(p.refusal(p.load_request(kBob, 1, p.run().head)), ProtocolRejected::out_of_turn);
}

TEST(Deposits, TheMinimumBalanceSkipsAPoorPartner) {
  ProtocolChain p;
  use_genesis(p, genesis_with({1000, 499, 1000, 1000}, {1, 1, 1, 1}));
  TrainingPlan plan = test_plan(4, 1);
  plan.min_balance = 500;  // no deposit: a balance to show, nothing locked
  p.commit(p.start(kAlice, plan));
  grant(p, kAlice);
  submit_and_vote(p, kAlice, {{kBob, true}, {kCarol, true}});
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::cannot_pay);
  EXPECT_EQ(balance(p, kAlice), 1000u);  // nothing locked without stakes
}

// Suspension (suspend_after) keeps working with deposits: the rejected
// partner forfeits once, then its turns are suspended (checked before the
// balance), locking nothing.
TEST(Deposits, ASuspendedPartnerLocksNothingMore) {
  ProtocolChain p;
  use_genesis(p, genesis_with({1000, 1000, 1000, 1000}, {1, 1, 1, 1}));
  TrainingPlan plan = deposit_plan(10, 2, 2);
  plan.suspend_after = 1;
  p.commit(p.start(kAlice, plan));
  grant(p, kAlice);
  submit_and_vote(p, kAlice, {{kBob, true}, {kCarol, true}});
  grant(p, kBob);
  submit_and_vote(p, kBob, {{kAlice, false}, {kCarol, false}});
  EXPECT_EQ(balance(p, kBob), 990u);
  for (std::size_t partner : {kCarol, kDave, kAlice}) {
    grant(p, partner);
    const auto v = others(partner);
    submit_and_vote(p, partner, {{v[0], true}, {v[1], true}});
  }
  // Bob's second turn (5) was suspended when alice's turn 4 was approved.
  EXPECT_EQ(p.run().turns[5].outcome, TurnOutcome::suspended);
  EXPECT_EQ(p.run().turns[5].stake, Stake{});
  EXPECT_EQ(balance(p, kBob), 990u);
  EXPECT_EQ(p.turn().partner, "carol");
}

TEST(Deposits, ALoadRequestAfterTheCreditsLeftIsRefused) {
  for (bool by_min_balance : {false, true}) {
    SCOPED_TRACE(by_min_balance ? "min balance" : "stake");
    ProtocolChain p;
    use_genesis(p, genesis_with({1000, 0, 0, 0}, {1, 1, 1, 1}));
    TrainingPlan plan = deposit_plan(100, 2, 1);
    if (by_min_balance) plan.min_balance = 900;
    p.commit(p.start(kAlice, plan));  // turn 0 (alice) begins: she can pay
    p.commit(transfer(p, kAlice, "bob", by_min_balance ? 101 : 901));
    EXPECT_EQ(p.refusal(p.load_request(kAlice, 0, std::nullopt)),
              by_min_balance ? ProtocolRejected::below_min_balance
                             : ProtocolRejected::cannot_afford_stake);
  }
}

TEST(Deposits, AHostilePlanIsRefused) {
  const Genesis g = fixed_genesis();
  EXPECT_TRUE(validate_plan(g, deposit_plan(100, 2)));
  struct Row {
    const char* what;
    void (*edit)(TrainingPlan&);
  };
  const Row rows[] = {
      {"a factor past the bound", [](TrainingPlan& p) { p.deposit_factor = 17; }},
      {"a factor of 2^32 - 1", [](TrainingPlan& p) { p.deposit_factor = 0xffffffffu; }},
      {"a deposit without a factor", [](TrainingPlan& p) { p.deposit_factor = 0; }},
      {"a factor without a deposit",
       [](TrainingPlan& p) {
         p.deposit = 0;
         p.deposit_factor = 2;
       }},
      {"a deposit past the bound", [](TrainingPlan& p) { p.deposit = kMaxPlanCredits + 1; }},
      {"a cost of 2^64 - 1", [](TrainingPlan& p) { p.submission_cost = kMax; }},
      {"a min balance of 2^64 - 1", [](TrainingPlan& p) { p.min_balance = kMax; }},
      {"a cost without a sponsor's escrow", [](TrainingPlan& p) { p.submission_cost = 5; }},
  };
  for (const Row& row : rows) {
    TrainingPlan plan = deposit_plan(100, 2);
    row.edit(plan);
    auto s = validate_plan(g, plan);
    EXPECT_FALSE(s) << row.what;
    if (!s) {
      EXPECT_NE(s.error().message.find("deposits."), std::string::npos) << s.error().message;
    }
  }
  // On the ledger: a StartRun with such a plan is refused, no run starts.
  ProtocolChain p;
  TrainingPlan absurd = deposit_plan(kMaxPlanCredits, 1000);
  EXPECT_EQ(p.refusal(p.start(kAlice, absurd)), ProtocolRejected::invalid_plan);
}

TEST(Deposits, TheJsonFormNamesItsFields) {
  nlohmann::json j = plan_to_json(deposit_plan(100, 2));
  EXPECT_EQ(j["deposits"]["deposit"], 100);
  EXPECT_EQ(j["deposits"]["factor"], 2);
  auto back = decode_plan_json(j);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(*back);
  EXPECT_EQ((*back)->deposit, 100u);
  EXPECT_EQ((*back)->deposit_factor, 2u);
  EXPECT_EQ((*back)->submission_cost, 0u);
  // A deposit alone never grows; a plan without deposits has no object.
  j["deposits"] = {{"deposit", 7u}};
  auto alone = decode_plan_json(j);
  ASSERT_TRUE(alone) << alone.error().message;
  EXPECT_EQ((*alone)->deposit_factor, 1u);
  EXPECT_FALSE(plan_to_json(test_plan(4)).contains("deposits"));
  j["deposits"] = {{"deposit", 7u}, {"factor", 4294967298ull}};
  EXPECT_FALSE(decode_plan_json(j));
  j["deposits"] = {{"deposit", 7u}, {"refund", 1u}};
  EXPECT_FALSE(decode_plan_json(j));
}

TEST(Deposits, AStateWithStakesRoundTripsAndAPlanWithoutKeepsItsBytes) {
  ProtocolChain p;
  use_genesis(p, genesis_with({1000, 1000, 1000, 1000}, {1, 1, 1, 1}));
  p.commit(p.start(kAlice, deposit_plan(101, 2)));
  grant(p, kAlice);
  submit_and_vote(p, kAlice, {{kBob, true}, {kCarol, true}});
  grant(p, kBob);  // bob's 101 locked, unsettled
  const Bytes bytes = training_encoding(p.training());
  auto back = decode_training_state(ByteView(bytes), p.chain.spec.genesis);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p.training());
  Bytes cut(bytes.begin(), bytes.end() - 1);
  EXPECT_FALSE(decode_training_state(ByteView(cut), p.chain.spec.genesis));

  // The same run without deposits: its turns carry no stake bytes, and its
  // plan's protobuf holds no field 44..47.
  TrainingState plain = p.training();
  for (auto& [id, run] : plain.runs) {
    run.plan = test_plan(4, 2);
    for (auto& t : run.turns) t.stake = Stake{};
  }
  const Bytes without = training_encoding(plain);
  EXPECT_EQ(bytes.size() - without.size(), (plan_to_proto(deposit_plan(101, 2)).ByteSizeLong() -
                                            plan_to_proto(test_plan(4, 2)).ByteSizeLong()) +
                                               p.run().turns.size() * (8 + 8 + 1 + 8 + 8 + 4));
}

// The sponsor's escrow takes every SaveRequest's cost and pays it out with
// the escrow; forfeits go to the voters; every credit is accounted for at
// every block, and the history names each movement.
TEST(Deposits, TheCostGoesIntoTheEscrowAndEveryCreditIsConserved) {
  ProtocolChain p;
  Genesis g = genesis_with({500, 500, 500, 1000}, {1, 1, 1, 0});
  g.members[kDave].roles = {"sponsor"};
  use_genesis(p, g);
  TrainingPlan plan = test_plan(3, 2);
  plan.sponsor = "dave";
  plan.release_deadline_blocks = 5;
  plan.submission_cost = 10;
  plan.deposit = 50;
  plan.deposit_factor = 2;
  p.commit(p.start(kAlice, plan));
  pb::FundRun f;
  f.set_run_id("run-1");
  f.set_amount(600);
  p.commit(p.tx(kDave, pb::TX_FUND_RUN, f));
  const std::uint64_t total = 2500;
  EXPECT_EQ(all_credits(p.training()), total);

  // alice approved, bob rejected (carol's one rejection decides), carol
  // approved, then cycle 2: alice approved, bob's load token expires,
  // carol approved.
  auto turn = [&](std::size_t partner, bool approve) {
    const auto v = [&] {
      std::vector<std::size_t> out;
      for (std::size_t m : {kAlice, kBob, kCarol})
        if (m != partner) out.push_back(m);
      return out;
    }();
    p.grant_load(partner, {v[0], v[1]});
    EXPECT_EQ(all_credits(p.training()), total);
    if (approve)
      submit_and_vote(p, partner, {{v[0], true}, {v[1], true}});
    else
      submit_and_vote(p, partner, {{kCarol, false}});
    EXPECT_EQ(all_credits(p.training()), total);
  };
  turn(kAlice, true);
  turn(kBob, false);
  EXPECT_EQ(p.run().turns[1].stake.forfeits, (std::map<std::string, std::uint64_t>{{"carol", 50}}));
  EXPECT_EQ(p.run().escrow->funded, 620u);  // two costs so far
  turn(kCarol, true);
  turn(kAlice, true);
  p.grant_load(kBob, {kAlice, kCarol});
  EXPECT_EQ(p.turn().stake.deposit, 100u);  // doubled after one rejection
  while (p.run().turns.size() == 5) {
    p.empty_blocks(1);
    EXPECT_EQ(all_credits(p.training()), total);
  }
  EXPECT_EQ(p.run().turns[4].stake.refunded, 60u);  // the cost (unpaid) + 50
  turn(kCarol, true);
  EXPECT_EQ(p.run().status, RunStatus::finished);
  EXPECT_EQ(p.run().escrow->funded, 600u + 5 * 10);
  while (!gains_settled(p.run())) p.empty_blocks(1);
  pb::ReleaseEscrow r;
  r.set_run_id("run-1");
  p.commit(p.tx(kDave, pb::TX_RELEASE_ESCROW, r));
  EXPECT_EQ(p.run().escrow->state, EscrowState::released);
  std::uint64_t paid = 0;
  for (const auto& [name, credits] : p.run().escrow->payouts) paid += credits;
  EXPECT_EQ(paid, 650u);
  EXPECT_EQ(locked_stakes(p.run()), 0u);
  std::uint64_t balances = 0;
  for (const auto& [name, b] : p.training().accounts.balances) balances += b;
  EXPECT_EQ(balances, total);

  // The history replays every block and names the stake movements.
  AccountHistory history(p.chain.spec, "");
  LedgerState state = initial_state(p.chain.spec.genesis_hash);
  for (const std::string& stored : p.blocks) {
    auto committed = decode_committed_block(stored).value();
    state = history.apply(state, check_block_stateless(p.chain.spec, committed).value()).value();
  }
  EXPECT_EQ(state, p.chain.state);
  std::map<std::string, std::uint64_t> by_kind;
  for (const auto& e : history.entries()) by_kind[e.kind] += e.amount;
  EXPECT_EQ(by_kind["deposit_locked"], 6 * 60u + 50u);  // 6 turns at 60, bob's second +50
  EXPECT_EQ(by_kind["deposit_forfeit"], 50u + 50u);     // bob's rejection, bob's expiry
  bool carol_forfeit = false;
  for (const auto& e : history.entries())
    carol_forfeit |= e.kind == "deposit_forfeit" && e.member == "carol" && e.counterparty == "bob";
  EXPECT_TRUE(carol_forfeit);
}

}  // namespace
}  // namespace baton::chain::testing
