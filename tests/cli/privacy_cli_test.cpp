// `baton privacy epsilon|noise` through the real binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

// MNIST, 60 epochs of 234 full batches of 256 rows (tests/chain/
// privacy_accountant_test.cpp has the published table).
const std::vector<std::string> kMnist60 = {"--sampling-rate", "256/60000", "--steps",
                                           "14040",           "--delta",   "1e-5"};

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

TEST(PrivacyCli, EpsilonPrintsTheAccountantsIntegerAndItsOrder) {
  auto r =
      run_baton(with({"privacy", "epsilon", "--noise-multiplier", "1.12", "--json"}, kMnist60));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["noise_multiplier_micro"], 1'120'000u);
  EXPECT_EQ(j["sampling_rate_nano"], 4'266'667u);  // 256/60000 rounded up
  EXPECT_EQ(j["delta_pico"], 10'000'000u);
  EXPECT_EQ(j["steps"], 14'040u);
  EXPECT_EQ(j["epsilon_micro"], 2'919'891u);  // the golden vector of the chain tests
  EXPECT_EQ(j["epsilon"], "2.919891");
  EXPECT_EQ(j["order"], "9.1");
  EXPECT_EQ(j["saturated"], false);

  auto text = run_baton(with({"privacy", "epsilon", "--noise-multiplier", "1.12"}, kMnist60));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("epsilon 2.919891"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("order alpha 9.1"), std::string::npos) << text.out;
}

// Decimals become integers rounding against the hospital: σ down, q up, δ down.
TEST(PrivacyCli, RoundsEachDecimalAgainstTheHospital) {
  auto r = run_baton({"privacy", "epsilon", "--noise-multiplier", "1.1234567", "--sampling-rate",
                      "0.0042666661", "--steps", "10", "--delta", "1.6666666666666e-5", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["noise_multiplier_micro"], 1'123'456u);
  EXPECT_EQ(j["sampling_rate_nano"], 4'266'667u);
  EXPECT_EQ(j["delta_pico"], 16'666'666u);
}

TEST(PrivacyCli, NoiseFindsTheSmallestSigmaThatMeetsTheTarget) {
  auto r = run_baton(with({"privacy", "noise", "--target-epsilon", "2.92", "--json"}, kMnist60));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const std::uint64_t sigma = j["noise_multiplier_micro"];
  EXPECT_GT(sigma, 1'100'000u);
  EXPECT_LE(sigma, 1'120'000u);
  EXPECT_LE(j["epsilon_micro"].get<std::uint64_t>(), 2'920'000u);
  // One micro-unit less noise spends more than the target.
  auto below = run_baton(with(
      {"privacy", "epsilon", "--noise-multiplier", std::to_string(sigma - 1) + "e-6", "--json"},
      kMnist60));
  ASSERT_EQ(below.exit_code, 0) << below.err;
  EXPECT_GT(nlohmann::json::parse(below.out)["epsilon_micro"].get<std::uint64_t>(), 2'920'000u);
}

TEST(PrivacyCli, RefusesHostileOrMalformedInputInOneSentence) {
  expect_one_sentence_failure(
      run_baton(with({"privacy", "epsilon", "--noise-multiplier", "0"}, kMnist60)), 2,
      "noise multiplier");
  expect_one_sentence_failure(
      run_baton({"privacy", "epsilon", "--noise-multiplier", "1", "--sampling-rate", "3/2",
                 "--steps", "10", "--delta", "1e-5"}),
      2, "sampling rate");
  expect_one_sentence_failure(
      run_baton({"privacy", "epsilon", "--noise-multiplier", "1", "--sampling-rate", "0.01",
                 "--steps", "18446744073709551615", "--delta", "1e-5"}),
      2, "step count");
  expect_one_sentence_failure(
      run_baton({"privacy", "epsilon", "--noise-multiplier", "1", "--sampling-rate", "0.01",
                 "--steps", "10", "--delta", "0"}),
      2, "delta");
  expect_one_sentence_failure(
      run_baton({"privacy", "epsilon", "--noise-multiplier", "1", "--sampling-rate", "1/0",
                 "--steps", "10", "--delta", "1e-5"}),
      2, "divides by zero");
  expect_one_sentence_failure(
      run_baton({"privacy", "epsilon", "--noise-multiplier", "nan", "--sampling-rate", "0.01",
                 "--steps", "10", "--delta", "1e-5"}),
      2, "not a number");
  expect_one_sentence_failure(
      run_baton({"privacy", "epsilon", "--noise-multiplier", "1e999", "--sampling-rate", "0.01",
                 "--steps", "10", "--delta", "1e-5"}),
      2, "");
  expect_one_sentence_failure(
      run_baton(with({"privacy", "noise", "--target-epsilon", "0.000001"}, kMnist60)), 2, "target");
}

}  // namespace
}  // namespace baton::testing
