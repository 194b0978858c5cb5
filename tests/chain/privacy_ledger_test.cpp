// The privacy budget on the ledger (issue 14, docs/PROTOCOL.md §20.2),
// played against the real state machine in sealed blocks: the plan's privacy
// section (protobuf, JSON, bounds), the SaveRequest's ε checked (41) and held
// to the budget (40), the spend recorded, the turns of a spent partner
// skipped (budget_spent), local DP charged once, and the state's bytes.
// Every ε below was computed by both accountants (C++ here, Python:
// tests/chain/privacy_accountant.py) and agrees to the micro-unit.
#include <algorithm>

#include <gtest/gtest.h>

#include "chain/encoding.h"
#include "chain/privacy_plan.h"
#include "chain/privacy_steps.h"
#include "chain/training_decode.h"
#include "chain/training_plan.h"
#include "privacy_fixture.h"

namespace baton::chain::testing {
namespace {

// ---- the rule, the budget, the skipped turns ----

TEST(PrivacyLedger, TamperedSpendsAreRefusedOverBudgetIsRefusedAndASpentPartnerIsSkipped) {
  ProtocolChain p;
  p.commit(p.start(kAlice, dp_plan()));

  // Turn 0, alice: 2 epochs = 20 steps, ε 1.526373.
  p.grant_load(kAlice, {kBob, kCarol});
  const PrivacySpend first = honest(p, kAlice, 2);
  EXPECT_EQ(first, (PrivacySpend{20, 1'526'373, 1'526'373}));
  // The attacker: every field off by one in either direction, steps that
  // are no whole number of epochs, more epochs than the plan, no steps.
  // Each refused with 41 and changing nothing but the refusal log
  // (ProtocolChain::refusal checks that).
  auto with = [](PrivacySpend s, auto change) {
    change(s);
    return s;
  };
  const PrivacySpend tampered[] = {
      with(first, [](PrivacySpend& s) { --s.epsilon_total_micro, --s.epsilon_turn_micro; }),
      with(first, [](PrivacySpend& s) { ++s.epsilon_total_micro, ++s.epsilon_turn_micro; }),
      with(first, [](PrivacySpend& s) { --s.epsilon_turn_micro; }),
      with(first, [](PrivacySpend& s) { s.steps_total = 15; }),
      with(first, [](PrivacySpend& s) { s.steps_total = 10; }),  // 1 epoch claimed at 2's ε
      with(first, [](PrivacySpend& s) { s.steps_total = 30; }),  // 3 epochs > plan.epochs
      PrivacySpend{30, 1'786'718, 1'786'718},                    // 3 epochs, consistent ε
      PrivacySpend{0, 0, 0},
      PrivacySpend{0, 1'526'373, 1'526'373},
  };
  for (const PrivacySpend& s : tampered) {
    EXPECT_EQ(p.refusal(dp_save(p, kAlice, s)), ProtocolRejected::privacy_spend_mismatch)
        << s.steps_total << " " << s.epsilon_turn_micro << " " << s.epsilon_total_micro;
  }
  EXPECT_TRUE(p.run().privacy_spent.empty());
  const Hash a0 = p.commit(dp_save(p, kAlice, first));
  EXPECT_EQ(p.run().privacy_spent.at("alice"), first);
  votes(p, a0, kBob, kCarol, true);
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);

  // Turn 1, bob: 2 epochs, rejected by the voters; spent all the same (the
  // voters decrypted his model).
  p.grant_load(kBob, {kCarol, kDave});
  const Hash b1 = p.commit(dp_save(p, kBob, honest(p, kBob, 2)));
  votes(p, b1, kCarol, kDave, false);
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::rejected);
  EXPECT_EQ(p.run().privacy_spent.at("bob"), (PrivacySpend{20, 1'526'373, 1'526'373}));

  // Turn 2, alice: 2 more epochs would reach ε 2.009680 > 2: a consistent
  // SaveRequest is refused with 40; one claiming the budget exactly is a
  // lie (41). One epoch fits.
  p.grant_load(kAlice, {kBob, kCarol});
  const PrivacySpend over = honest(p, kAlice, 2);
  EXPECT_EQ(over, (PrivacySpend{40, 2'009'680 - 1'526'373, 2'009'680}));
  EXPECT_EQ(p.refusal(dp_save(p, kAlice, over)), ProtocolRejected::privacy_budget_exceeded);
  EXPECT_EQ(p.refusal(dp_save(p, kAlice, {40, 2'000'000 - 1'526'373, 2'000'000})),
            ProtocolRejected::privacy_spend_mismatch);
  EXPECT_EQ(max_epochs_within_budget(p.run().plan.privacy, 2, first).value(), 1u);
  const PrivacySpend second = honest(p, kAlice, 1);
  EXPECT_EQ(second, (PrivacySpend{30, 1'786'718 - 1'526'373, 1'786'718}));
  // A resend of her first turn's spend (steps not above what she had): 41.
  EXPECT_EQ(p.refusal(dp_save(p, kAlice, first)), ProtocolRejected::privacy_spend_mismatch);
  const Hash a2 = p.commit(dp_save(p, kAlice, second));
  votes(p, a2, kBob, kCarol, true);
  EXPECT_EQ(p.run().privacy_spent.at("alice"), second);

  // Turn 3, bob: a load token, then no SaveRequest: the turn expires and
  // spends nothing.
  p.grant_load(kBob, {kCarol, kDave});
  while (p.run().turns.size() == 4) p.empty_blocks(1);
  EXPECT_EQ(p.run().turns[3].outcome, TurnOutcome::expired);
  EXPECT_EQ(p.run().privacy_spent.at("bob"), (PrivacySpend{20, 1'526'373, 1'526'373}));

  // Turn 4, alice: not even one more epoch fits (40 steps: 2.009680), so
  // the turn is skipped as it begins; bob's turn 5 begins in the same block
  // and the run goes on with him.
  ASSERT_EQ(p.run().turns.size(), 6u);
  EXPECT_EQ(p.run().turns[4].outcome, TurnOutcome::budget_spent);
  EXPECT_EQ(p.run().turns[4].phase, TurnPhase::done);
  EXPECT_EQ(p.run().turns[4].end_height, p.run().turns[3].end_height);
  EXPECT_EQ(p.turn().partner, "bob");
  EXPECT_TRUE(partner_budget_spent(p.run(), "alice"));
  EXPECT_FALSE(partner_budget_spent(p.run(), "bob"));
  p.grant_load(kBob, {kCarol, kDave});
  const Hash b5 = p.commit(dp_save(p, kBob, honest(p, kBob, 1)));
  votes(p, b5, kCarol, kDave, true);
  EXPECT_EQ(p.run().status, RunStatus::finished);
  EXPECT_EQ(p.run().privacy_spent.at("bob").epsilon_total_micro, 1'786'718u);
  // Nobody passed the budget.
  for (const auto& [name, spend] : p.run().privacy_spent)
    EXPECT_LE(spend.epsilon_total_micro, p.run().plan.privacy.budget_micro) << name;
}

TEST(PrivacyLedger, ASpentPartnerSkipsEveryLaterTurnAndTheRunEnds) {
  // One partner, three cycles: turn 0 takes 2 epochs + turn 1 one epoch,
  // then turn 2 is budget_spent and the run finishes in the same block.
  ProtocolChain p;
  TrainingPlan plan = dp_plan(3);
  plan.partners = {"alice"};
  p.commit(p.start(kAlice, plan));
  for (std::uint32_t epochs : {2u, 1u}) {
    p.grant_load(kAlice, {kBob, kCarol});
    const Hash s = p.commit(dp_save(p, kAlice, honest(p, kAlice, epochs), 0x10 + epochs));
    votes(p, s, kBob, kCarol, true);
  }
  EXPECT_EQ(p.run().status, RunStatus::finished);
  ASSERT_EQ(p.run().turns.size(), 3u);
  EXPECT_EQ(p.run().turns[2].outcome, TurnOutcome::budget_spent);
  EXPECT_EQ(p.run().end_height, p.run().turns[1].end_height);
}

TEST(PrivacyLedger, LocalDpIsChargedOnceAndAChargeTwiceIsRefused) {
  ProtocolChain p;
  p.commit(p.start(kAlice, local_plan()));
  p.grant_load(kAlice, {kBob, kCarol});
  const PrivacySpend once{0, 30'000'000, 30'000'000};
  EXPECT_EQ(honest(p, kAlice, 1), once);
  EXPECT_EQ(p.refusal(dp_save(p, kAlice, {1, 30'000'000, 30'000'000})),
            ProtocolRejected::privacy_spend_mismatch);  // local DP has no steps
  EXPECT_EQ(p.refusal(dp_save(p, kAlice, {0, 29'999'999, 29'999'999})),
            ProtocolRejected::privacy_spend_mismatch);
  const Hash a0 = p.commit(dp_save(p, kAlice, once));
  votes(p, a0, kBob, kCarol, true);
  p.grant_load(kBob, {kCarol, kDave});
  const Hash b1 = p.commit(dp_save(p, kBob, once));
  votes(p, b1, kCarol, kDave, true);
  // Alice's second turn: the same noisy copy, nothing more to spend; a
  // SaveRequest that charges her again is as much a lie as one that
  // charges less.
  p.grant_load(kAlice, {kBob, kCarol});
  EXPECT_EQ(p.refusal(dp_save(p, kAlice, {0, 30'000'000, 60'000'000})),
            ProtocolRejected::privacy_spend_mismatch);
  EXPECT_EQ(p.refusal(dp_save(p, kAlice, {0, 0, 0})), ProtocolRejected::privacy_spend_mismatch);
  p.commit(dp_save(p, kAlice, {0, 0, 30'000'000}));
  EXPECT_EQ(p.run().privacy_spent.at("alice"), (PrivacySpend{0, 0, 30'000'000}));
}

TEST(PrivacyLedger, APlanWithoutDpRefusesAnyPrivacyField) {
  ProtocolChain p;
  p.commit(p.start(kAlice, test_plan(2)));
  p.grant_load(kAlice, {kBob, kCarol});
  for (const PrivacySpend& s : {PrivacySpend{1, 0, 0}, PrivacySpend{0, 1, 0}, PrivacySpend{0, 0, 1},
                                PrivacySpend{10, 5, 5}}) {
    EXPECT_EQ(p.refusal(dp_save(p, kAlice, s)), ProtocolRejected::privacy_spend_mismatch);
  }
  p.commit(dp_save(p, kAlice, {}));
  EXPECT_TRUE(p.run().privacy_spent.empty());
}

TEST(PrivacyLedger, TheChecksComeAfterTheTurnsAndBeforeDuplicateModel) {
  ProtocolChain p;
  p.commit(p.start(kAlice, dp_plan()));
  // Out of turn and wrong phase win over a tampered spend.
  EXPECT_EQ(p.refusal(dp_save(p, kAlice, {1, 1, 1})), ProtocolRejected::wrong_phase);
  p.grant_load(kAlice, {kBob, kCarol});
  const Hash a0 = p.commit(dp_save(p, kAlice, honest(p, kAlice, 2), 0x20));
  votes(p, a0, kBob, kCarol, false);
  // Bob resubmits alice's model: a tampered spend is refused as such, an
  // honest one as the duplicate it is.
  p.grant_load(kBob, {kCarol, kDave});
  const Hash alices = p.run().turns[0].save->model_sha256;
  EXPECT_EQ(p.refusal(dp_save(p, kBob, {1, 1, 1}, 0x20, alices)),
            ProtocolRejected::privacy_spend_mismatch);
  EXPECT_EQ(p.refusal(dp_save(p, kBob, honest(p, kBob, 2), 0x20, alices)),
            ProtocolRejected::duplicate_model);
}

// ---- the plan ----

TEST(PrivacyPlan, ProtoAndJsonRoundTripAndAPlanWithoutDpHasNoPrivacyBytes) {
  ProtocolChain p;
  const Genesis& g = p.chain.spec.genesis;
  for (const TrainingPlan& plan : {dp_plan(), local_plan()}) {
    auto back = plan_from_proto(g, plan_to_proto(plan));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, plan);
    // (The JSON form stores the model as its sorted-key dump; the rest is equal.)
    auto json_back = plan_from_json(g, plan_to_json(plan));
    ASSERT_TRUE(json_back.ok()) << json_back.error().message;
    EXPECT_EQ((*json_back)->privacy, plan.privacy);
    EXPECT_EQ(plan_to_json(**json_back), plan_to_json(plan));
  }
  // Without DP not one of fields 70..78 is written: the plan's bytes (and so
  // every state hash holding them) are what they were before issue 14.
  const std::string plain = plan_to_proto(test_plan(2)).SerializeAsString();
  pb::TrainingPlan with_field = plan_to_proto(test_plan(2));
  with_field.set_dp_mechanism(0);
  EXPECT_EQ(with_field.SerializeAsString(), plain);
  EXPECT_FALSE(plan_to_json(test_plan(2)).contains("privacy"));
}

nlohmann::json plan_json_with(nlohmann::json privacy) {
  nlohmann::json j = plan_to_json(test_plan(2));
  j["privacy"] = std::move(privacy);
  return j;
}

TEST(PrivacyPlan, JsonDecimalsRoundAgainstTheHospital) {
  auto decode = [](nlohmann::json privacy) {
    auto plan = decode_plan_json(plan_json_with(std::move(privacy)));
    EXPECT_TRUE(plan.ok()) << plan.error().message;
    return plan.ok() && *plan ? (*plan)->privacy : PrivacyPlan{};
  };
  const PrivacyPlan exact = decode({{"mechanism", "dp_sgd"},
                                    {"epsilon_budget", 3.0},
                                    {"delta", 1e-5},
                                    {"clip", 1.0},
                                    {"noise_multiplier", 1.1},
                                    {"sampling_rate", 0.01}});
  EXPECT_EQ(exact.budget_micro, 3'000'000u);
  EXPECT_EQ(exact.delta_pico, 10'000'000u);
  EXPECT_EQ(exact.clip_micro, 1'000'000u);
  EXPECT_EQ(exact.noise_multiplier_micro, 1'100'000u);  // 1.1 x 1e6 is 1100000.0000000002
  EXPECT_EQ(exact.sampling_rate_nano, 10'000'000u);
  const PrivacyPlan between = decode({{"mechanism", "dp_sgd"},
                                      {"epsilon_budget", 2.9999999},
                                      {"delta", 1.5e-12},
                                      {"clip", 1.0000006},
                                      {"noise_multiplier", 1.0000009},
                                      {"sampling_rate", 0.0100000001}});
  EXPECT_EQ(between.budget_micro, 2'999'999u);            // down
  EXPECT_EQ(between.delta_pico, 1u);                      // down
  EXPECT_EQ(between.clip_micro, 1'000'001u);              // nearest
  EXPECT_EQ(between.noise_multiplier_micro, 1'000'000u);  // down
  EXPECT_EQ(between.sampling_rate_nano, 10'000'001u);     // up
  const PrivacyPlan local = decode({{"mechanism", "local"},
                                    {"epsilon_budget", 200},
                                    {"beta", 0.5000009},
                                    {"sensitivity", 1.0000001},
                                    {"values_per_row", 30}});
  EXPECT_EQ(local.beta_micro, 500'000u);           // down
  EXPECT_EQ(local.sensitivity_micro, 1'000'001u);  // up
  EXPECT_EQ(local.values_per_row, 30u);
  EXPECT_EQ(decode({{"mechanism", "none"}}), PrivacyPlan{});
}

TEST(PrivacyPlan, JsonRefusesUnknownMechanismsForeignFieldsAndMissingOnes) {
  auto error = [](nlohmann::json privacy) {
    auto plan = decode_plan_json(plan_json_with(std::move(privacy)));
    return plan.ok() ? std::string("(decoded)") : plan.error().message;
  };
  const nlohmann::json sgd = {{"mechanism", "dp_sgd"},   {"epsilon_budget", 3.0},
                              {"delta", 1e-5},           {"clip", 1.0},
                              {"noise_multiplier", 1.1}, {"sampling_rate", 0.01}};
  auto with = [](nlohmann::json j, const char* key, nlohmann::json v) {
    j[key] = std::move(v);
    return j;
  };
  EXPECT_NE(error(with(sgd, "mechanism", "gaussian")).find("privacy.mechanism \"gaussian\""),
            std::string::npos);
  EXPECT_NE(error(with(sgd, "beta", 1.0)).find("privacy.beta is not a field of the dp_sgd"),
            std::string::npos);
  EXPECT_NE(error(with(sgd, "epsilon", 1.0)).find("unknown field \"epsilon\" in privacy"),
            std::string::npos);
  EXPECT_NE(error(with(sgd, "clip", "1")).find("privacy.clip must be a number"), std::string::npos);
  EXPECT_NE(error(with(sgd, "delta", -1e-5)).find("privacy.delta"), std::string::npos);
  nlohmann::json missing = sgd;
  missing.erase("sampling_rate");
  EXPECT_NE(error(missing).find("\"sampling_rate\""), std::string::npos);
  const nlohmann::json local = {{"mechanism", "local"},
                                {"epsilon_budget", 200},
                                {"beta", 1.0},
                                {"sensitivity", 1.0},
                                {"values_per_row", 30}};
  EXPECT_NE(error(with(local, "delta", 1e-5)).find("privacy.delta is not a field of the local"),
            std::string::npos);
  EXPECT_NE(error(with(local, "values_per_row", 2.5)).find("privacy.values_per_row"),
            std::string::npos);
  EXPECT_NE(error({{"mechanism", "none"}, {"epsilon_budget", 3}}).find("privacy.epsilon_budget"),
            std::string::npos);
  EXPECT_NE(error("dp_sgd").find("\"privacy\" must be a JSON object"), std::string::npos);
}

// validate_plan's refusal of `plan` (empty when valid).
std::string invalid(const TrainingPlan& plan) {
  ProtocolChain p;
  auto s = validate_plan(p.chain.spec.genesis, plan);
  return s ? std::string() : s.error().message;
}

TEST(PrivacyPlan, BoundsNameTheFieldAndARunThatCouldNeverTrainIsRefused) {
  EXPECT_EQ(invalid(dp_plan()), "");
  EXPECT_EQ(invalid(local_plan()), "");
  auto sgd = [](auto change) {
    TrainingPlan plan = dp_plan();
    change(plan.privacy);
    return invalid(plan);
  };
  auto loc = [](auto change) {
    TrainingPlan plan = local_plan();
    change(plan.privacy);
    return invalid(plan);
  };
  auto names = [](const std::string& error, const char* field) {
    return error.find(field) != std::string::npos;
  };
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.noise_multiplier_micro = 99'999; }),
                    "privacy.noise_multiplier"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.noise_multiplier_micro = 1'000'000'001; }),
                    "privacy.noise_multiplier"));
  EXPECT_TRUE(
      names(sgd([](PrivacyPlan& p) { p.sampling_rate_nano = 0; }), "privacy.sampling_rate"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.sampling_rate_nano = 1'000'000'001; }),
                    "privacy.sampling_rate"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.delta_pico = 0; }), "privacy.delta"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.delta_pico = 100'000'000'001; }), "privacy.delta"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.clip_micro = 0; }), "privacy.clip"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.clip_micro = kMaxClipMicro + 1; }), "privacy.clip"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.budget_micro = 0; }), "privacy.epsilon_budget"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.budget_micro = kMaxEpsilonMicro + 1; }),
                    "privacy.epsilon_budget"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.beta_micro = 1; }), "privacy.beta"));
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.values_per_row = 1; }), "privacy.values_per_row"));
  // q = 1e-9: 10^9 steps an epoch; 3 cycles x 2 epochs pass the accountant's bound.
  EXPECT_TRUE(names(sgd([](PrivacyPlan& p) { p.sampling_rate_nano = 1; }),
                    "accountant's bound of 10^9 steps"));
  // The budget is below what one epoch of a first turn spends (1.203272):
  // no partner could ever train.
  const std::string never = sgd([](PrivacyPlan& p) { p.budget_micro = 1'203'271; });
  EXPECT_TRUE(names(never, "privacy.epsilon_budget")) << never;
  EXPECT_TRUE(names(never, "1.203272")) << never;
  EXPECT_EQ(sgd([](PrivacyPlan& p) { p.budget_micro = 1'203'272; }), "");
  // Local DP.
  EXPECT_TRUE(names(loc([](PrivacyPlan& p) { p.beta_micro = 0; }), "privacy.beta"));
  EXPECT_TRUE(names(loc([](PrivacyPlan& p) { p.sensitivity_micro = 0; }), "privacy.sensitivity"));
  EXPECT_TRUE(names(loc([](PrivacyPlan& p) { p.values_per_row = 0; }), "privacy.values_per_row"));
  EXPECT_TRUE(names(loc([](PrivacyPlan& p) { p.values_per_row = kMaxValuesPerRow + 1; }),
                    "privacy.values_per_row"));
  EXPECT_TRUE(names(loc([](PrivacyPlan& p) { p.delta_pico = 1; }), "privacy.delta"));
  EXPECT_TRUE(names(loc([](PrivacyPlan& p) { p.noise_multiplier_micro = 1'000'000; }),
                    "privacy.noise_multiplier"));
  EXPECT_TRUE(names(loc([](PrivacyPlan& p) { p.budget_micro = 29'999'999; }),
                    "privacy.epsilon_budget"));  // ε_row = 30
  EXPECT_EQ(loc([](PrivacyPlan& p) { p.budget_micro = 30'000'000; }), "");
  // No DP: every field 0.
  TrainingPlan none = test_plan(2);
  none.privacy.budget_micro = 1;
  EXPECT_TRUE(names(invalid(none), "privacy.mechanism is none")) << invalid(none);
}

TEST(PrivacyPlan, AStartRunWithABadPrivacySectionIsRefusedAsAnInvalidPlan) {
  ProtocolChain p;
  TrainingPlan never = dp_plan();
  never.privacy.budget_micro = 1'000'000;
  EXPECT_EQ(p.refusal(p.start(kAlice, never)), ProtocolRejected::invalid_plan);
  pb::TrainingPlan unknown = plan_to_proto(dp_plan());
  unknown.set_dp_mechanism(3);
  auto decoded = plan_from_proto(p.chain.spec.genesis, unknown);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("privacy.mechanism is 3"), std::string::npos);
  EXPECT_EQ(p.refusal(p.tx(kAlice, pb::TX_START_RUN, unknown)), ProtocolRejected::invalid_plan);
  unknown.set_dp_mechanism(257);  // not truncated to the enum's byte (1)
  EXPECT_EQ(p.refusal(p.tx(kAlice, pb::TX_START_RUN, unknown)), ProtocolRejected::invalid_plan);
}

// ---- the state ----

ProtocolChain spent_chain() {
  ProtocolChain p;
  p.commit(p.start(kAlice, dp_plan()));
  p.grant_load(kAlice, {kBob, kCarol});
  const Hash a0 = p.commit(dp_save(p, kAlice, honest(p, kAlice, 2)));
  votes(p, a0, kBob, kCarol, true);
  return p;
}

TEST(PrivacyState, TheSpendIsInTheStateBytesAndDecodes) {
  ProtocolChain p = spent_chain();
  const Bytes bytes = training_encoding(p.training());
  auto decoded = decode_training_state(bytes, p.chain.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, p.training());
  EXPECT_EQ(decoded->find_run("run-1")->privacy_spent.at("alice").epsilon_total_micro, 1'526'373u);
  // The spend is hashed: another spend, another encoding.
  TrainingState other = p.training();
  other.runs.at("run-1").privacy_spent.at("alice").epsilon_total_micro += 1;
  EXPECT_NE(training_encoding(other), bytes);
}

TEST(PrivacyState, RefusesASpendOfNoPartnerAndOneOutOfOrder) {
  ProtocolChain p = spent_chain();
  const Genesis& g = p.chain.spec.genesis;
  TrainingState stranger = p.training();
  stranger.runs.at("run-1").privacy_spent["dave"] = {10, 1, 1};  // dave votes, never trains
  auto decoded = decode_training_state(training_encoding(stranger), g);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("no partner"), std::string::npos)
      << decoded.error().message;
  // The entries swapped (bob before alice): both partners, out of order.
  TrainingState both = p.training();
  both.runs.at("run-1").privacy_spent["bob"] = {10, 7, 7};
  Bytes bytes = training_encoding(both);
  auto entry = [](const std::string& name, const PrivacySpend& s) {
    Bytes out;
    append_u32be(out, static_cast<std::uint32_t>(name.size()));
    append_bytes(out, name);
    append_u64be(out, s.steps_total);
    append_u64be(out, s.epsilon_turn_micro);
    append_u64be(out, s.epsilon_total_micro);
    return out;
  };
  Bytes in_order = entry("alice", both.runs.at("run-1").privacy_spent.at("alice"));
  const Bytes b = entry("bob", {10, 7, 7});
  Bytes swapped = b;
  swapped.insert(swapped.end(), in_order.begin(), in_order.end());
  in_order.insert(in_order.end(), b.begin(), b.end());
  auto at = std::search(bytes.begin(), bytes.end(), in_order.begin(), in_order.end());
  ASSERT_NE(at, bytes.end());
  ASSERT_TRUE(decode_training_state(bytes, g).ok());
  std::copy(swapped.begin(), swapped.end(), at);
  decoded = decode_training_state(bytes, g);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("ascending"), std::string::npos)
      << decoded.error().message;
}

}  // namespace
}  // namespace baton::chain::testing
