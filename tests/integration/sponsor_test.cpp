// A sponsored run between four real batond processes and their agents
// (issue 13): the sponsor (a member with no node) funds the run, which waits
// for it; hospital-b trains on label-flipped data, is rejected and, with
// suspend_after 1, its next turn is skipped as suspended; the sponsor
// releases the escrow, the partners are paid by their tokens, an agent
// grants the final model's key to the sponsor on its own, and the sponsor
// opens the model with `baton models get`, which failed before the release.
#include <algorithm>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "api/training_json.h"
#include "chain/crypto.h"
#include "tests/integration/ledgers.h"
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

const std::vector<std::string> kHospitals{"hospital-a", "hospital-b", "hospital-c", "hospital-d"};

// `baton data split` of breast_cancer among the four hospitals.
fs::path split(const fs::path& dir) {
  const fs::path out = dir / "split";
  auto r = run_baton(
      {"data", "split", "--csv", (testing::source_dir() / "data" / "breast_cancer.csv").string(),
       "--label", "malignant", "--positive", "1", "--partners",
       "hospital-a,hospital-b,hospital-c,hospital-d", "--seed", "1", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return out;
}

// The demo's model and vote policy; hospital-a and hospital-b train two
// cycles; the sponsor must fund 100 credits first.
fs::path write_plan(const fs::path& dir, const fs::path& split_dir) {
  const json split = json::parse(read_text(split_dir / "split.json"));
  const json features = split["feature_columns"];
  const json plan{
      {"run_id", "sponsored"},
      {"model",
       {{"architecture", "mlp"},
        {"hidden", {64, 32}},
        {"input_shape", {features.size()}},
        {"num_classes", 2}}},
      {"dataset",
       {{"feature_columns", features}, {"label_column", "malignant"}, {"positive_value", "1"}}},
      {"partners", {"hospital-a", "hospital-b"}},
      {"cycles", 2},
      {"training",
       {{"epochs", 10},
        {"batch_size", 32},
        {"optimizer", "adam"},
        {"learning_rate", 0.001},
        {"weight_decay", 0},
        {"seed", 1}}},
      {"vote_policy", {{"kind", "delong"}, {"alpha", 0.05}}},
      {"quorum", {{"num", 1}, {"den", 2}}},
      {"deadlines", {{"load_blocks", 40}, {"save_blocks", 120}, {"vote_blocks", 12}}},
      {"suspend_after", 1},
      {"escrow",
       {{"sponsor", "sponsor"},
        {"min_credits", 100},
        {"funding_blocks", 400},
        {"release_blocks", 400}}}};
  const fs::path p = dir / "plan.json";
  write_text(p, plan.dump(2));
  return p;
}

TEST(Sponsor, FundsTheRunReleasesItAndOpensTheModelAnAgentGranted) {
  testing::TempDir dir("baton-sponsor");
  const fs::path store = dir.path() / "store";
  fs::create_directories(store);
  const fs::path data = split(dir.path());
  TestnetOptions o;
  o.names = kHospitals;
  o.chain_id = "baton-sponsored";
  o.plan = write_plan(dir.path(), data);
  o.store = "file://" + store.string();
  o.data = data;
  o.malicious = "hospital-b";
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

  ASSERT_TRUE(net.down());
  std::vector<fs::path> ledgers;
  for (const auto& n : net.nodes()) ledgers.push_back(n.data_dir / "ledger");
  expect_identical_verified_ledgers(ledgers);
}

}  // namespace
}  // namespace baton::integration
