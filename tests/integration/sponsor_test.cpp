// A sponsored run between four real batond processes and their agents
// (issue 13): the sponsor (a member with no node) funds the run, which waits
// for it; hospital-b trains on label-flipped data, is rejected and, with
// suspend_after 1, its next turn is skipped as suspended; the sponsor
// releases the escrow, the partners are paid by their tokens, an agent
// grants the final model's key to the sponsor on its own, and the sponsor
// opens the model with `baton models get`, which failed before the release.
//
// Then, on the same network (its start-up is most of a test's time), a
// DP-SGD run (issue 14) whose budgets run out: hospital-c trains both epochs
// of its first turn, the one epoch its budget still holds at its second, and
// its third is skipped (budget_spent); hospital-d, whose agent ignores its
// budget (testnet.sh --overspend), trains both epochs at every turn, so its
// second and third SaveRequests are refused (privacy_budget_exceeded) and
// those turns expire.
#include <algorithm>
#include <set>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "api/training_json.h"
#include "chain/crypto.h"
#include "chain/privacy_budget.h"
#include "tests/integration/ledgers.h"
#include "tests/integration/run_plans.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::read_text;
using testing::run_baton;
using testing::RunResult;
using testing::wait_until;
using testing::write_text;

// hospital-a and hospital-b train two cycles; the sponsor must fund 100
// credits first.
fs::path write_plan(const fs::path& dir, const fs::path& split_dir) {
  json plan = base_plan(split_dir, "sponsored", {"hospital-a", "hospital-b"}, 2, 10, 120);
  plan["suspend_after"] = 1;
  plan["escrow"] = {{"sponsor", "sponsor"},
                    {"min_credits", 100},
                    {"funding_blocks", 400},
                    {"release_blocks", 400}};
  const fs::path p = dir / "plan.json";
  write_text(p, plan.dump(2));
  return p;
}

// DP-SGD for three cycles of hospital-c and hospital-d, 2 epochs a turn: σ 1,
// q 0.25 (4 noisy steps an epoch), δ 1e-5 and a budget of ε 9, which holds
// one turn (8 steps: ε 7.095417) and one more epoch (12 steps: 8.231484) but
// not two (16 steps: 9.197955; `baton privacy epsilon`).
chain::PrivacyPlan dp_privacy() {
  chain::PrivacyPlan p;
  p.mechanism = chain::PrivacyMechanism::dp_sgd;
  p.delta_pico = 10'000'000;
  p.budget_micro = 9'000'000;
  p.clip_micro = 1'000'000;
  p.noise_multiplier_micro = 1'000'000;
  p.sampling_rate_nano = 250'000'000;
  return p;
}

fs::path write_dp_plan(const fs::path& dir, const fs::path& split_dir) {
  // The refused turns wait out their save deadline: kept short.
  json plan = base_plan(split_dir, "private", {"hospital-c", "hospital-d"}, 3, 2, 10);
  plan["privacy"] = {{"mechanism", "dp_sgd"}, {"epsilon_budget", 9},     {"delta", 1e-5},
                     {"clip", 1.0},           {"noise_multiplier", 1.0}, {"sampling_rate", 0.25}};
  const fs::path p = dir / "dp-plan.json";
  write_text(p, plan.dump(2));
  return p;
}

// The DP-SGD run on `net` (see the file comment); the caller checks the ledgers.
void dp_run_whose_budgets_run_out(Testnet& net, const fs::path& dir, const fs::path& data) {
  const std::string node = net.nodes()[0].admin_url;
  const RunResult started =
      run_baton({"run", "start", "--plan", write_dp_plan(dir, data).string(), "--genesis",
                 (net.net_dir() / "genesis.json").string(), "--key",
                 (net.net_dir() / "keys" / "hospital-a.key").string(), "--node", node, "--json"});
  ASSERT_EQ(started.exit_code, 0) << started.err << started.out;
  json r;
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = net.training(0);
        const json* run = st ? api::select_run(*st, "private") : nullptr;
        r = run ? *run : json(nullptr);
        return !r.is_null() && r["status"] == "finished";
      },
      120s))
      << "the DP run did not finish: " << r.dump(2).substr(0, 3000);
  ASSERT_EQ(r["turns"].size(), 6u) << r["turns"].dump(2);
  // What each accepted SaveRequest carried is on the ledger, and is the
  // plan's rule for the epochs trained: 2, 2, then hospital-c's 1.
  const chain::PrivacyPlan plan = dp_privacy();
  const chain::PrivacySpend first = chain::next_privacy_spend(plan, 2, {}).value();
  const chain::PrivacySpend second = chain::next_privacy_spend(plan, 1, first).value();
  EXPECT_EQ(first, (chain::PrivacySpend{8, 7'095'417, 7'095'417}));
  EXPECT_EQ(second, (chain::PrivacySpend{12, 1'136'067, 8'231'484}));
  const std::vector<std::pair<std::string, chain::PrivacySpend>> accepted{
      {"hospital-c", first}, {"hospital-d", first}, {"hospital-c", second}};
  for (std::size_t k = 0; k < accepted.size(); ++k) {
    const json& t = r["turns"][k];
    EXPECT_EQ(t["partner"], accepted[k].first) << k;
    EXPECT_TRUE(t["decision"] == "approved" || t["decision"] == "rejected") << t.dump(2);
    ASSERT_TRUE(t.contains("privacy")) << t.dump(2);
    EXPECT_EQ(t["privacy"]["steps_total"], accepted[k].second.steps_total) << k;
    EXPECT_EQ(t["privacy"]["epsilon_turn_micro"], accepted[k].second.epsilon_turn_micro) << k;
    EXPECT_EQ(t["privacy"]["epsilon_total_micro"], accepted[k].second.epsilon_total_micro) << k;
  }
  // hospital-c, honest: not one more epoch fits, so its third turn is skipped.
  EXPECT_EQ(r["turns"][4]["partner"], "hospital-c");
  EXPECT_EQ(r["turns"][4]["decision"], "budget_spent");
  // hospital-d trains both epochs again (16 steps, past the budget): every
  // node refuses its SaveRequest, and the turn expires with no model.
  std::set<std::uint64_t> refused_turns;
  for (const auto& f : r["refusals"]["recent"]) {
    EXPECT_EQ(f["reason"].get<std::string>().find("privacy fields"), std::string::npos)
        << f.dump();  // never privacy_spend_mismatch: its fields were consistent
    if (f["type"] == "TX_SAVE_REQUEST" && f["sender"] == "hospital-d" &&
        f["reason"].get<std::string>().find("privacy budget") != std::string::npos)
      refused_turns.insert(f["turn"].get<std::uint64_t>());
  }
  EXPECT_EQ(refused_turns, (std::set<std::uint64_t>{3, 5})) << r["refusals"].dump(2);
  for (int k : {3, 5}) {
    const json& t = r["turns"][k];
    EXPECT_EQ(t["partner"], "hospital-d");
    EXPECT_EQ(t["decision"], "expired") << t.dump(2);
    EXPECT_TRUE(t["save_request_id"].get<std::string>().empty()) << t.dump(2);
    EXPECT_FALSE(t.contains("privacy")) << t.dump(2);
  }
  // A refused SaveRequest spent nothing: hospital-d is at its first turn.
  const json& c = r["privacy"]["partners"]["hospital-c"];
  EXPECT_EQ(c["epsilon_spent_micro"], second.epsilon_total_micro);
  EXPECT_EQ(c["epsilon_left_micro"], 9'000'000 - second.epsilon_total_micro);
  EXPECT_EQ(c["budget_spent"], true);
  const json& d = r["privacy"]["partners"]["hospital-d"];
  EXPECT_EQ(d["epsilon_spent_micro"], first.epsilon_total_micro);
  EXPECT_EQ(d["budget_spent"], false);
  // The agents said what they did and what is left.
  const std::string d_log = read_text(net.net_dir() / "nodes" / "hospital-d" / "agent.log");
  EXPECT_NE(d_log.find("MALICIOUS (malicious_ignore_privacy_budget): training 2 epochs where its "
                       "privacy budget allows 1"),
            std::string::npos);
  const std::string c_log = read_text(net.net_dir() / "nodes" / "hospital-c" / "agent.log");
  EXPECT_NE(c_log.find("privacy: DP-SGD: 1 of 2 epochs (12 noisy steps in the run) (the most its "
                       "budget allows), epsilon 1.136067 this turn, 8.231484 of its budget "
                       "9.000000 spent, 0.768516 left"),
            std::string::npos);
}

TEST(Sponsor, FundsReleasesAndOpensTheModelThenADpRunSkipsASpentBudgetAndRefusesAnOverspender) {
  testing::TempDir dir("baton-sponsor");
  const fs::path store = dir.path() / "store";
  fs::create_directories(store);
  const fs::path data = split_breast_cancer(dir.path());
  TestnetOptions o;
  o.names = kHospitals;
  o.chain_id = "baton-sponsored";
  o.plan = write_plan(dir.path(), data);
  o.store = "file://" + store.string();
  o.data = data;
  o.malicious = "hospital-b";
  o.overspend = "hospital-d";  // a voter here; in the DP run below, a partner past its budget
  o.sponsor = "sponsor";
  o.balances = {{"sponsor", 1000}};
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::string genesis = (net.net_dir() / "genesis.json").string();
  const std::string key = (net.net_dir() / "keys" / "sponsor.key").string();
  const std::string node = net.nodes()[0].admin_url;
  auto run = [&] {
    auto st = net.training(0);
    const json* r = st ? api::select_run(*st, "sponsored") : nullptr;
    return r ? *r : json(nullptr);
  };
  json r;
  ASSERT_TRUE(wait_until(
      [&] {
        r = run();
        return !r.is_null();
      },
      30s));
  EXPECT_EQ(r["status"], "awaiting_funding");
  EXPECT_TRUE(r["turns"].empty());

  const RunResult funded =
      run_baton({"run", "fund", "--run", "sponsored", "--amount", "100", "--genesis", genesis,
                 "--key", key, "--node", node, "--json"});
  ASSERT_EQ(funded.exit_code, 0) << funded.err;
  ASSERT_TRUE(wait_until(
      [&] {
        r = run();
        return !r.is_null() && r["status"] == "finished" && r["gains_settled"] == true;
      },
      150s))
      << "the run did not finish: " << r.dump(2).substr(0, 3000);

  // hospital-b's label-flipped candidate is rejected; its next turn skipped.
  ASSERT_EQ(r["turns"].size(), 4u);
  EXPECT_EQ(r["turns"][0]["decision"], "approved");
  EXPECT_EQ(r["turns"][1]["partner"], "hospital-b");
  EXPECT_EQ(r["turns"][1]["decision"], "rejected");
  EXPECT_EQ(r["turns"][3]["partner"], "hospital-b");
  EXPECT_EQ(r["turns"][3]["decision"], "suspended");
  for (const auto& m : r["models"]) EXPECT_NE(m["contributor"], "hospital-b");
  const RunResult status = run_baton({"run", "status", "--node", node});
  EXPECT_NE(status.out.find("suspended"), std::string::npos) << status.out;
  const RunResult lineage = run_baton({"models", "lineage", "--node", node, "--run", "sponsored"});
  EXPECT_NE(lineage.out.find("turn 3 of hospital-b skipped: suspended"), std::string::npos)
      << lineage.out;

  // The final SaveRequest wraps no key for the sponsor: nothing opens yet.
  const std::string head = r["head"];
  json save;
  for (const auto& t : r["turns"])
    if (t["save_token_id"] == head) save = t["save"];
  ASSERT_TRUE(save.is_object());
  EXPECT_FALSE(save["wrapped_keys"].contains("sponsor"));
  const fs::path out = dir.path() / "final.model";
  auto get = [&] {
    return run_baton({"models", "get", "--node", node, "--run", "sponsored", "--store",
                      "file://" + store.string(), "--key", key, "--out", out.string(), "--json"});
  };
  const RunResult early = get();
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.err.find("escrow is not released yet"), std::string::npos) << early.err;
  EXPECT_FALSE(fs::exists(out));

  const RunResult released = run_baton({"run", "release", "--run", "sponsored", "--genesis",
                                        genesis, "--key", key, "--node", node, "--json"});
  ASSERT_EQ(released.exit_code, 0) << released.err;
  // The agents see the release and grant the key, each holder once.
  ASSERT_TRUE(wait_until(
      [&] {
        r = run();
        return !r.is_null() && r["escrow"]["state"] == "released" &&
               r["escrow"]["key_grants"].size() == save["wrapped_keys"].size();
      },
      60s))
      << r["escrow"].dump(2);
  for (const auto& [granter, sealed] : r["escrow"]["key_grants"].items())
    EXPECT_TRUE(save["wrapped_keys"].contains(granter)) << granter;
  std::uint64_t paid = 0;
  for (const auto& [name, credits] : r["escrow"]["payouts"].items()) {
    paid += credits.get<std::uint64_t>();
    EXPECT_NE(name, "hospital-b");  // no gain, no pay
  }
  EXPECT_EQ(paid, 100u);
  EXPECT_GT(r["escrow"]["payouts"].value("hospital-a", 0u), 0u);
  for (const auto& f : r["refusals"]["recent"]) EXPECT_NE(f["type"], "TX_KEY_GRANT") << f.dump();

  const RunResult got = get();
  ASSERT_EQ(got.exit_code, 0) << got.err;
  const json j = json::parse(got.out);
  EXPECT_EQ(j["model_sha256"], save["model_sha256"]);
  EXPECT_EQ(chain::sha256(chain::as_bytes(read_text(out))).hex(), save["model_sha256"]);

  dp_run_whose_budgets_run_out(net, dir.path(), data);

  ASSERT_TRUE(net.down());
  std::vector<fs::path> ledgers;
  for (const auto& n : net.nodes()) ledgers.push_back(n.data_dir / "ledger");
  expect_identical_verified_ledgers(ledgers);
  const RunResult verified = run_baton(
      {"ledger", "verify", "--data-dir", ledgers[3].string(), "--genesis", genesis, "--json"});
  EXPECT_EQ(verified.exit_code, 0) << verified.err << verified.out;
}

}  // namespace
}  // namespace baton::integration
