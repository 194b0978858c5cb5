// A partner's turn under the plan's differential privacy (agent/turn_privacy.h,
// issue 14): the settings it trains with, the local-DP seed, the epochs its
// budget allows and the SaveRequest fields it sends. Pure: no disk, no torch.
#include "agent/turn_privacy.h"

#include <gtest/gtest.h>

#include "agent/run_plan.h"

namespace baton::agent {
namespace {

using chain::PrivacyMechanism;
using chain::PrivacyPlan;
using chain::PrivacySpend;

// σ = 1, q = 0.1 (10 noisy steps an epoch), δ = 1e-5: the accountant gives
// ε = 6.680628 for 50 steps, 7.153281 for 60, 7.595885 for 70 and 8.014542
// for 80 (`baton privacy epsilon`), so a budget of 8 holds 5 epochs, then 2
// more, then none.
PrivacyPlan dp_sgd(std::uint64_t budget_micro) {
  PrivacyPlan p;
  p.mechanism = PrivacyMechanism::dp_sgd;
  p.delta_pico = 10'000'000;  // 1e-5
  p.budget_micro = budget_micro;
  p.clip_micro = 1'500'000;
  p.noise_multiplier_micro = 1'000'000;
  p.sampling_rate_nano = 100'000'000;
  return p;
}

chain::TrainingPlan plan_with(const PrivacyPlan& privacy, std::uint32_t epochs = 5) {
  chain::TrainingPlan p;
  p.run_id = "run-1";
  p.model_spec = R"({"architecture":"mlp","hidden":[8],"input_shape":[3],"num_classes":2})";
  p.feature_columns = {"a", "b", "c"};
  p.epochs = epochs;
  p.batch_size = 16;
  p.optimizer = "adam";
  p.learning_rate_nano = 10'000'000;
  p.seed = 3;
  p.privacy = privacy;
  return p;
}

TEST(TurnPrivacy, TheNoiseSeedsFollowFromTheHospitalsSecretKeyNotFromTheLedger) {
  // SHA-256("baton/dp-noise-key/v1\0" || 32 bytes of 0x01) (python3 hashlib).
  const auto member = chain::X25519SecretKey::from_bytes(chain::Bytes(32, 0x01)).value();
  EXPECT_EQ(dp_noise_key(member).hex(),
            "c332e00c0637757b2f2d0e61a9d56793f674761b77d51e15afed2f4df2af8d5a");
  chain::Hash key;
  key.bytes.fill(0x42);
  // First 8 bytes, little-endian, of SHA-256("baton/local-dp/v2\0" || key ||
  // "run-1\0alice") and of SHA-256("baton/dp-sgd/v1\0" || key || "run-1\0" ||
  // u64be 3).
  EXPECT_EQ(local_dp_seed(key, "run-1", "alice"), 0x6221df644e2abd51ull);
  EXPECT_EQ(dp_sgd_seed(key, "run-1", 3), 0x136f2ce73aa2bc52ull);
  // Another at every hospital, run and turn; the separators keep ("ab", "c")
  // and ("a", "bc") apart; another key (another hospital) gives other seeds.
  EXPECT_NE(local_dp_seed(key, "run-1", "bob"), local_dp_seed(key, "run-1", "alice"));
  EXPECT_NE(local_dp_seed(key, "run-2", "alice"), local_dp_seed(key, "run-1", "alice"));
  EXPECT_NE(local_dp_seed(key, "ab", "c"), local_dp_seed(key, "a", "bc"));
  EXPECT_NE(dp_sgd_seed(key, "run-1", 4), dp_sgd_seed(key, "run-1", 3));
  chain::Hash other = key;
  other.bytes[31] ^= 1;
  EXPECT_NE(local_dp_seed(other, "run-1", "alice"), local_dp_seed(key, "run-1", "alice"));
  EXPECT_NE(dp_sgd_seed(other, "run-1", 3), dp_sgd_seed(key, "run-1", 3));
}

TEST(TurnPrivacy, TheAgentTrainsWithThePlansIntegersTurnedBack) {
  auto parsed = parse_run_plan(plan_with(dp_sgd(8'000'000)), 1 << 20);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_TRUE(parsed->training.dp_sgd.has_value());
  EXPECT_EQ(parsed->training.dp_sgd->clip, 1.5);
  EXPECT_EQ(parsed->training.dp_sgd->noise_multiplier, 1.0);
  EXPECT_EQ(parsed->training.dp_sgd->sampling_rate_nano, 100'000'000u);
  EXPECT_EQ(parsed->training.epochs, 5);
  EXPECT_EQ(parsed->training.seed, 3u);

  // No DP, or local DP (noise on the data, plain training): no DP-SGD.
  EXPECT_FALSE(parse_run_plan(plan_with({}), 1 << 20)->training.dp_sgd.has_value());
  PrivacyPlan local;
  local.mechanism = PrivacyMechanism::local;
  local.budget_micro = 10'000'000;
  local.beta_micro = 2'500'000;
  local.sensitivity_micro = 1'000'000;
  local.values_per_row = 3;
  EXPECT_FALSE(parse_run_plan(plan_with(local), 1 << 20)->training.dp_sgd.has_value());
  const learning::LocalDpSettings s = local_dp_settings(local, 42);
  EXPECT_EQ(s.beta, 2.5);
  EXPECT_EQ(s.sensitivity, 1.0);
  EXPECT_EQ(s.seed, 42u);
}

TEST(TurnPrivacy, EachTurnTrainsTheMostEpochsItsBudgetAllowsAndSendsWhatTheyGive) {
  const chain::TrainingPlan plan = plan_with(dp_sgd(8'000'000));
  // First turn: all 5 epochs (50 steps, ε 6.680628).
  auto first = plan_turn_privacy(plan, {}, false);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->epochs, 5u);
  EXPECT_EQ(first->epochs_in_budget, 5u);
  EXPECT_EQ(first->spend, (PrivacySpend{50, 6'680'628, 6'680'628}));
  EXPECT_EQ(first->left_micro(), 8'000'000u - 6'680'628u);

  // Second turn: 2 epochs fit (70 steps, ε 7.595885); a third would pass 8.
  auto second = plan_turn_privacy(plan, first->spend, false);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->epochs, 2u);
  EXPECT_EQ(second->spend, (PrivacySpend{70, 7'595'885 - 6'680'628, 7'595'885}));
  EXPECT_EQ(second->spend, chain::next_privacy_spend(plan.privacy, 2, first->spend).value());
  EXPECT_GT(chain::next_privacy_spend(plan.privacy, 3, first->spend)->epsilon_total_micro,
            plan.privacy.budget_micro);
  EXPECT_NE(describe_turn_privacy(plan.privacy, plan.epochs, *second)
                .find("DP-SGD: 2 of 5 epochs (70 noisy steps in the run) (the most its budget "
                      "allows), epsilon 0.915257 this turn, 7.595885 of its budget 8.000000 "
                      "spent, 0.404115 left"),
            std::string::npos)
      << describe_turn_privacy(plan.privacy, plan.epochs, *second);

  // Third: not one more epoch (80 steps: ε 8.014542). The ledger skips this
  // turn (budget_spent); the agent would not train it.
  auto third = plan_turn_privacy(plan, second->spend, false);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->epochs, 0u);
  EXPECT_EQ(third->epochs_in_budget, 0u);
}

TEST(TurnPrivacy, TheDishonestPartnerTrainsEveryEpochAndSendsFieldsPastItsBudget) {
  const chain::TrainingPlan plan = plan_with(dp_sgd(8'000'000));
  const PrivacySpend after_first{50, 6'680'628, 6'680'628};
  auto over = plan_turn_privacy(plan, after_first, true);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->epochs, 5u);
  EXPECT_EQ(over->epochs_in_budget, 2u);
  // Honest-looking (what 5 epochs spend: not a mismatch) but past the budget:
  // privacy_budget_exceeded on the ledger.
  EXPECT_EQ(over->spend, chain::next_privacy_spend(plan.privacy, 5, after_first).value());
  EXPECT_EQ(over->spend.steps_total, 100u);
  EXPECT_GT(over->spend.epsilon_total_micro, plan.privacy.budget_micro);
  EXPECT_EQ(over->left_micro(), 0u);
  EXPECT_NE(
      describe_turn_privacy(plan.privacy, plan.epochs, *over)
          .find("5 of 5 epochs (100 noisy steps in the run) (MALICIOUS: its budget allows 2)"),
      std::string::npos);
  // Within its budget it is indistinguishable from an honest partner.
  EXPECT_EQ(plan_turn_privacy(plan, {}, true)->spend, plan_turn_privacy(plan, {}, false)->spend);
  // And it trains even with its budget spent.
  EXPECT_EQ(plan_turn_privacy(plan, {70, 0, 7'595'885}, true)->epochs, 5u);
}

TEST(TurnPrivacy, WithoutDpOrUnderLocalDpEveryTurnTrainsThePlansEpochs) {
  auto none = plan_turn_privacy(plan_with({}, 7), {}, false);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->epochs, 7u);
  EXPECT_EQ(none->spend, PrivacySpend{});
  EXPECT_EQ(describe_turn_privacy({}, 7, *none), "");

  PrivacyPlan local;
  local.mechanism = PrivacyMechanism::local;
  local.budget_micro = 40'000'000;
  local.beta_micro = 2'000'000;
  local.sensitivity_micro = 1'000'000;
  local.values_per_row = 30;  // ε_row = ceil(30 x 1 / 2) = 15
  auto first = plan_turn_privacy(plan_with(local, 7), {}, false);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->epochs, 7u);
  EXPECT_EQ(first->spend, (PrivacySpend{0, 15'000'000, 15'000'000}));
  // The same noisy copy: a later turn spends nothing more.
  auto later = plan_turn_privacy(plan_with(local, 7), first->spend, false);
  EXPECT_EQ(later->spend, (PrivacySpend{0, 0, 15'000'000}));
  EXPECT_EQ(later->epochs, 7u);
}

TEST(TurnPrivacy, TheFieldsGoIntoSaveRequestFieldsTwelveToFourteen) {
  chain::pb::SaveRequest r;
  set_privacy_fields(r, {70, 915'257, 7'595'885});
  EXPECT_EQ(r.dp_steps_total(), 70u);
  EXPECT_EQ(r.epsilon_turn_micro(), 915'257u);
  EXPECT_EQ(r.epsilon_total_micro(), 7'595'885u);
  // On the wire: tags 12, 13, 14 as varints (field << 3 | 0).
  EXPECT_EQ(r.SerializeAsString(),
            std::string("\x60\x46"               // 12: 70
                        "\x68\xb9\xee\x37"       // 13: 915257
                        "\x70\xed\xce\xcf\x03",  // 14: 7595885
                        11));
  EXPECT_EQ(epsilon_text(7'595'885), "7.595885");
  EXPECT_EQ(epsilon_text(5), "0.000005");
}

TEST(TurnPrivacy, LocalDpNeedsValuesPerRowToBeTheModelsInputsAndTheEncodedWidth) {
  PrivacyPlan local;
  local.mechanism = PrivacyMechanism::local;
  local.values_per_row = 30;
  EXPECT_TRUE(check_local_dp_width(local, 30, 30).ok());
  auto model = check_local_dp_width(local, 31, 30);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("charges 30 values per row (privacy.values_per_row) but "
                                       "its model takes 31 inputs"),
            std::string::npos)
      << model.error().message;
  auto data = check_local_dp_width(local, 30, 29);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("the local training data encode to 29 values per row"),
            std::string::npos)
      << data.error().message;
  // Other mechanisms charge no values.
  EXPECT_TRUE(check_local_dp_width(dp_sgd(1), 31, 30).ok());
  EXPECT_TRUE(check_local_dp_width({}, 31, 30).ok());
}

}  // namespace
}  // namespace baton::agent
