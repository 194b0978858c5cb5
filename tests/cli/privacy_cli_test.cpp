// `baton privacy epsilon|noise` through the real binary, and the privacy
// budget as `baton run status` and `baton report` show it from a ledger on
// disk (docs/PROTOCOL.md §20.2).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "storage/ledger_store.h"
#include "tests/chain/privacy_fixture.h"
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

// The DP-SGD run of tests/chain/privacy_ledger_test.cpp (σ 2, q 0.1, δ 1e-5,
// budget 2) written to a ledger directory block by block: alice trains 2
// epochs then 1 and is then budget_spent, bob 2 epochs (rejected) and then 1.
struct PrivacyLedger {
  TempDir dir{"privacy-ledger"};
  chain::testing::ProtocolChain p;
  std::string over_budget;  // the hash of alice's refused SaveRequest of turn 2

  PrivacyLedger() {
    using namespace chain::testing;
    p.commit(p.start(kAlice, dp_plan()));
    p.grant_load(kAlice, {kBob, kCarol});
    votes(p, p.commit(dp_save(p, kAlice, honest(p, kAlice, 2))), kBob, kCarol, true);
    p.grant_load(kBob, {kCarol, kDave});
    votes(p, p.commit(dp_save(p, kBob, honest(p, kBob, 2))), kCarol, kDave, false);
    p.grant_load(kAlice, {kBob, kCarol});
    const chain::pb::Transaction over = dp_save(p, kAlice, honest(p, kAlice, 2));
    over_budget = chain::tx_hash(chain::encode_transaction(over)).hex();
    EXPECT_EQ(p.commit_refused(over), chain::ProtocolRejected::privacy_budget_exceeded);
    votes(p, p.commit(dp_save(p, kAlice, honest(p, kAlice, 1))), kBob, kCarol, true);
    p.grant_load(kBob, {kCarol, kDave});
    while (p.run().turns.size() == 4) p.empty_blocks(1);
    auto ledger = storage::LedgerStore::open_writer(
        {dir / "ledger", p.chain.spec.genesis_hash, p.chain.genesis_text});
    EXPECT_TRUE(ledger.ok()) << ledger.error().message;
    if (!ledger.ok()) return;
    for (const auto& block : p.blocks) EXPECT_TRUE((*ledger)->append(block).ok());
  }
  std::string ledger_dir() const { return (dir / "ledger").string(); }
};

TEST(PrivacyCli, RunStatusShowsEachPartnersEpsilonSpentAndLeftAndEachTurnsEpsilon) {
  PrivacyLedger l;
  const auto r = run_baton({"run", "status", "--data-dir", l.ledger_dir(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto run = nlohmann::json::parse(r.out)["runs"][0];
  const auto& privacy = run["privacy"];
  EXPECT_EQ(privacy["mechanism"], "dp_sgd");
  EXPECT_EQ(privacy["epsilon_budget_micro"], 2'000'000u);
  EXPECT_EQ(privacy["delta_pico"], 10'000'000u);
  EXPECT_EQ(privacy["partners"]["alice"]["epsilon_spent_micro"], 1'786'718u);
  EXPECT_EQ(privacy["partners"]["alice"]["epsilon_left_micro"], 213'282u);
  EXPECT_EQ(privacy["partners"]["alice"]["budget_spent"], true);
  EXPECT_EQ(privacy["partners"]["bob"]["epsilon_spent_micro"], 1'526'373u);
  EXPECT_EQ(privacy["partners"]["bob"]["budget_spent"], false);
  EXPECT_EQ(run["turns"][2]["privacy"]["epsilon_turn_micro"], 260'345u);
  EXPECT_EQ(run["turns"][2]["privacy"]["epsilon_total_micro"], 1'786'718u);
  EXPECT_FALSE(run["turns"][3].contains("privacy"));  // expired: no SaveRequest, no spend
  EXPECT_EQ(run["turns"][4]["decision"], "budget_spent");
  bool refused_40 = false;
  for (const auto& f : run["refusals"]["recent"])
    refused_40 =
        refused_40 || f["reason"].get<std::string>().find("privacy budget") != std::string::npos;
  EXPECT_TRUE(refused_40) << run["refusals"].dump();

  const auto text = run_baton({"run", "status", "--data-dir", l.ledger_dir()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* line : {"turn 2 cycle 1 alice: approved; epsilon turn 0.260345 total 1.786718",
                           "turn 4 cycle 2 alice: budget_spent",
                           "privacy       dp_sgd, delta 1e-05, budget epsilon 2.000000 per partner",
                           "  alice: epsilon spent 1.786718, left 0.213282 (budget spent",
                           "  bob: epsilon spent 1.526373, left 0.473627\n"}) {
    EXPECT_NE(text.out.find(line), std::string::npos) << line << "\n" << text.out;
  }
}

TEST(PrivacyCli, LedgerTxShowsTheEpsilonASaveRequestClaims) {
  PrivacyLedger l;
  const auto r = run_baton({"ledger", "tx", "--data-dir", l.ledger_dir(), "--hash", l.over_budget});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find("privacy      turn 2: epsilon turn 0.483307 total 2.009680 (noisy steps 40)"),
      std::string::npos)
      << r.out;
}

TEST(PrivacyCli, ReportShowsEachHospitalsEpsilon) {
  PrivacyLedger l;
  // --json alone prints the report and writes nothing.
  const auto r = run_baton({"report", "--data-dir", l.ledger_dir(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["plots"].empty()) << j["plots"].dump();
  EXPECT_EQ(j["privacy"]["mechanism"], "dp_sgd");
  EXPECT_DOUBLE_EQ(j["privacy"]["partners"]["alice"]["epsilon_spent"].get<double>(), 1.786718);
  EXPECT_DOUBLE_EQ(j["privacy"]["partners"]["bob"]["epsilon_left"].get<double>(), 0.473627);
  EXPECT_DOUBLE_EQ(j["turns"][0]["epsilon_total"].get<double>(), 1.526373);
  const auto text = run_baton(
      {"report", "--data-dir", l.ledger_dir(), "--plots-out", (l.dir / "plots2").string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("turn 2 alice: approved (epsilon turn 0.260345, total 1.786718)"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("  alice: epsilon spent 1.786718, left 0.213282 (budget spent)"),
            std::string::npos)
      << text.out;
  // The AUC per turn plot marks votes and turns apart (learning/plots.h).
  const std::string svg = baton::testing::read_text(l.dir / "plots2" / "auc_per_turn.svg");
  EXPECT_NE(svg.find("class=\"vote-reject\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"outcome-rejected\""), std::string::npos);
  EXPECT_NE(svg.find("AUC (voter's validation data)"), std::string::npos);
  // Neither --plots-out nor --json: a usage error that says what to give.
  const auto neither = run_baton({"report", "--data-dir", l.ledger_dir()});
  EXPECT_EQ(neither.exit_code, 2) << neither.err;
  EXPECT_NE(neither.err.find("give --plots-out DIR"), std::string::npos) << neither.err;
}

}  // namespace
}  // namespace baton::testing
