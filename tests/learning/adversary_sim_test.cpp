// The adversarial simulation (agent/adversary_sim.h) on the real ledger:
// what the ledger and the honest votes do to each adversary.
#include "agent/adversary_sim.h"

#include <gtest/gtest.h>

#include "learning/datasets.h"
#include "learning/model.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

const learning::PreparedData& breast_cancer() {
  static const learning::PreparedData data =
      learning::load_builtin("breast_cancer", baton::testing::source_dir() / "data", {.seed = 1})
          .value();
  return data;
}

SimConfig small_run(Behaviour adversary, std::size_t adversaries, std::size_t members = 4) {
  learning::init_torch(1);
  SimConfig c;
  c.members = members;
  c.adversary = adversary;
  c.adversaries = adversaries;
  c.policy = {chain::VotePolicyKind::strict, 0};
  c.cycles = 2;
  // The data set's own settings (learning::default_plan: 50 epochs spread
  // over the 2 cycles). With far fewer epochs the head stays near the random
  // initial model, and a flipped candidate can honestly measure better.
  c.train.epochs = 25;
  c.train.batch_size = 32;
  c.train.learning_rate = 1e-3;
  c.hidden = {64, 32};
  return c;
}

const AccountResult& account(const SimResult& r, std::string_view name) {
  for (const auto& a : r.accounts)
    if (a.name == name) return a;
  ADD_FAILURE() << "no account " << name;
  return r.accounts.front();
}

TEST(AdversarySim, LabelFlipperIsRejectedUnderStrictAndEarnsNoTokens) {
  const auto r = simulate(breast_cancer(), small_run(Behaviour::label_flip, 1)).value();
  const auto& flipper = account(r, "hospital-2");
  EXPECT_EQ(flipper.behaviour, Behaviour::label_flip);
  ASSERT_EQ(flipper.turns, 2u);
  EXPECT_EQ(flipper.rejected, 2u);  // both candidates refused by the honest majority
  EXPECT_EQ(flipper.tokens_ppm, 0);
  // The honest members' turns went through, and every vote followed the policy.
  EXPECT_GE(account(r, "hospital-1").approved, 1u);
  EXPECT_FALSE(r.refusals.contains(chain::ProtocolRejected::vote_contradicts_policy));
  EXPECT_GT(r.auc, 0.9);
}

TEST(AdversarySim, FreeRiderResubmittingTheHeadIsRefusedAsDuplicateModel) {
  const auto r = simulate(breast_cancer(), small_run(Behaviour::free_rider, 1)).value();
  const auto& rider = account(r, "hospital-2");
  EXPECT_EQ(rider.approved, 0u);
  EXPECT_EQ(rider.expired, 2u);  // its SaveRequests took no effect; the turns ran out
  EXPECT_EQ(rider.tokens_ppm, 0);
  std::size_t duplicates = 0;
  for (const auto& f : r.state.training.find_run("sim")->refusals.recent) {
    if (f.reason == chain::ProtocolRejected::duplicate_model) {
      EXPECT_EQ(f.sender, "hospital-2");
      ++duplicates;
    }
  }
  EXPECT_EQ(duplicates, 2u);
}

// Deposits (docs/PROTOCOL.md §19.9) on the real ledger: the label flipper
// pays the cost and loses its deposit on its first rejection; its second
// turn needs the cost plus a doubled deposit, more than it has left, so the
// ledger skips it (cannot_pay). Every credit is still somewhere at the end.
TEST(AdversarySim, DepositsExhaustALabelFlipperAndConserveEveryCredit) {
  SimConfig c = small_run(Behaviour::label_flip, 1);
  c.honest_balance = 1000;
  c.adversary_balance = 260;
  c.submission_cost = 10;
  c.deposit = 100;
  c.deposit_factor = 2;
  const auto r = simulate(breast_cancer(), c).value();
  const auto& flipper = account(r, "hospital-2");
  EXPECT_EQ(flipper.rejected, 1u);
  EXPECT_EQ(flipper.skipped, 1u);
  ASSERT_TRUE(flipper.exhausted_turn.has_value());
  EXPECT_EQ(*flipper.exhausted_turn, 5u);  // its second turn (cycle 2)
  EXPECT_EQ(flipper.balance, 150u);        // 260 - 10 cost - 100 forfeited
  std::uint64_t total = r.sponsor_balance;
  for (const auto& a : r.accounts) {
    total += a.balance;
    if (a.behaviour == Behaviour::honest) EXPECT_FALSE(a.exhausted_turn) << a.name;
  }
  EXPECT_EQ(total, 3 * 1000u + 260u);
  EXPECT_GT(r.auc, 0.9);
}

TEST(AdversarySim, TwoColludersOfSixCannotPassTheirCandidates) {
  const auto r = simulate(breast_cancer(), small_run(Behaviour::colluder, 2, 6)).value();
  for (const char* name : {"hospital-2", "hospital-4"}) {
    const auto& c = account(r, name);
    EXPECT_EQ(c.behaviour, Behaviour::colluder);
    EXPECT_EQ(c.approved, 0u) << name;
    EXPECT_EQ(c.tokens_ppm, 0) << name;
  }
}

}  // namespace
}  // namespace baton::agent
