// `baton account balance|transfer|history` and `baton genesis init
// --balance` as real processes against a real batond (issue 13): a transfer
// commits and moves credits, an overdraft is included and refused by the
// ledger, the history replayed from the node's blocks and from its ledger on
// disk lists the same credits and debits, and bad input is refused before
// anything is signed.
#include <memory>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chain/genesis.h"
#include "tests/cli/cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using baton::testing::bin_path;
using baton::testing::ChildProcess;
using baton::testing::expect_one_sentence_failure;
using baton::testing::OneNode;
using baton::testing::port_open;
using baton::testing::read_text;
using baton::testing::run_baton;
using baton::testing::RunResult;
using baton::testing::TempDir;
using baton::testing::wait_until;
using baton::testing::write_text;
using nlohmann::json;

// Gives the members of `n`'s genesis these balances (before batond starts).
void allocate(const OneNode& n, const std::map<std::string, std::uint64_t>& balances) {
  auto g = baton::chain::parse_genesis(read_text(n.dir / "genesis.json")).value();
  for (auto& m : g.members)
    if (auto it = balances.find(m.name); it != balances.end()) m.balance = it->second;
  write_text(n.dir / "genesis.json", baton::chain::encode_genesis(g));
}

TEST(AccountCli, TransfersCommitOverdraftsAreRefusedAndTheHistoryListsBoth) {
  OneNode n({.admin = true, .idle_partners = {"b"}});
  allocate(n, {{"a", 100}});
  const std::string genesis = (n.dir / "genesis.json").string();
  const std::string key = (n.dir / "keys" / "a.key").string();
  auto transfer = [&](const std::string& to, const std::string& amount) {
    return run_baton({"account", "transfer", "--to", to, "--amount", amount, "--genesis", genesis,
                      "--key", key, "--node", n.admin_url(), "--json"});
  };
  // Refused before anything is signed: no node is needed for these.
  expect_one_sentence_failure(transfer("mallory", "5"), 2, "not a member");
  EXPECT_EQ(transfer("b", "0").exit_code, 2);
  EXPECT_EQ(transfer("b", "-3").exit_code, 2);

  ChildProcess batond(bin_path("batond"), {"--config", n.config.string()}, n.dir / "batond.log");
  ASSERT_TRUE(wait_until([&] { return port_open(n.admin); }, std::chrono::seconds(30)))
      << read_text(n.dir / "batond.log");
  const RunResult sent = transfer("b", "30");
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  const std::string sent_hash = json::parse(sent.out)["hash"];
  auto balances = [&] {
    const RunResult r = run_baton({"account", "balance", "--node", n.admin_url(), "--json"});
    return r.exit_code == 0 ? json::parse(r.out)["balances"] : json();
  };
  ASSERT_TRUE(wait_until([&] { return balances().value("b", 0) == 30; }, std::chrono::seconds(30)))
      << read_text(n.dir / "batond.log");
  EXPECT_EQ(balances()["a"], 70);

  // The node takes an overdraft (its signature and nonce are fine); the
  // ledger includes it, refuses it and moves nothing.
  const RunResult over = transfer("b", "71");
  ASSERT_EQ(over.exit_code, 0) << over.err;
  const std::string over_hash = json::parse(over.out)["hash"];
  json refused;
  ASSERT_TRUE(wait_until(
      [&] {
        const RunResult r = run_baton({"run", "status", "--node", n.admin_url(), "--json"});
        if (r.exit_code != 0) return false;
        const json status = json::parse(r.out);
        for (const auto& f : status["refusals"]["recent"])
          if (f["tx_hash"] == over_hash) refused = f;
        return !refused.is_null();
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(refused["type"], "TX_TRANSFER");
  EXPECT_NE(refused["reason"].get<std::string>().find("balance does not hold"), std::string::npos);
  EXPECT_EQ(balances(), (json{{"a", 70}, {"b", 30}}));
  const RunResult one =
      run_baton({"account", "balance", "--node", n.admin_url(), "--member", "b", "--json"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(json::parse(one.out)["balance"], 30);

  // The history, from the node's blocks and from its ledger on disk.
  const RunResult from_node = run_baton({"account", "history", "--node", n.admin_url(), "--genesis",
                                         genesis, "--member", "a", "--json"});
  ASSERT_EQ(from_node.exit_code, 0) << from_node.err;
  const json entries = json::parse(from_node.out)["entries"];
  ASSERT_EQ(entries.size(), 2u) << entries.dump();
  EXPECT_EQ(entries[0]["kind"], "genesis");
  EXPECT_EQ(entries[0]["direction"], "credit");
  EXPECT_EQ(entries[0]["amount"], 100);
  EXPECT_EQ(entries[0]["height"], 1);
  EXPECT_EQ(entries[1]["kind"], "transfer");
  EXPECT_EQ(entries[1]["direction"], "debit");
  EXPECT_EQ(entries[1]["amount"], 30);
  EXPECT_EQ(entries[1]["counterparty"], "b");
  EXPECT_EQ(entries[1]["balance_after"], 70);
  EXPECT_EQ(entries[1]["tx_hash"], sent_hash);
  const RunResult from_disk = run_baton(
      {"account", "history", "--data-dir", (n.dir / "data").string(), "--member", "a", "--json"});
  ASSERT_EQ(from_disk.exit_code, 0) << from_disk.err;
  EXPECT_EQ(json::parse(from_disk.out)["entries"], entries);
  const RunResult text =
      run_baton({"account", "history", "--data-dir", (n.dir / "data").string(), "--member", "b"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("+30  transfer from a  balance 30"), std::string::npos) << text.out;

  // A node's history needs the genesis to check the blocks against.
  expect_one_sentence_failure(
      run_baton({"account", "history", "--node", n.admin_url(), "--member", "a"}), 2,
      "needs --genesis");
}

TEST(AccountCli, GenesisInitWritesBalancesAndRefusesBadOnes) {
  TempDir tmp;
  baton::testing::write_member_keys(tmp.path(), "alice");
  baton::testing::write_member_keys(tmp.path(), "bob");
  auto init = [&](const std::vector<std::string>& extra, const std::string& out) {
    std::vector<std::string> args = {"genesis",    "init",
                                     "--chain-id", "acct",
                                     "--member",   (tmp.path() / "alice.pub.json").string(),
                                     "--member",   (tmp.path() / "bob.pub.json").string(),
                                     "--out",      (tmp.path() / out).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_baton(args);
  };
  for (const auto& bad : std::vector<std::vector<std::string>>{{"--balance", "zed=1"},
                                                               {"--balance", "alice"},
                                                               {"--balance", "alice=-1"},
                                                               {"--balance", "alice=1.5"}}) {
    const RunResult r = init(bad, "bad.json");
    EXPECT_EQ(r.exit_code, 2) << bad[1];
    EXPECT_FALSE(fs::exists(tmp.path() / "bad.json"));
  }
  const RunResult good = init({"--balance", "bob=500"}, "genesis.json");
  ASSERT_EQ(good.exit_code, 0) << good.err;
  const auto g = baton::chain::parse_genesis(read_text(tmp.path() / "genesis.json")).value();
  EXPECT_EQ(g.find_member("bob")->balance, 500u);
  EXPECT_EQ(g.find_member("alice")->balance, 0u);
}

}  // namespace

namespace {

// Starts the node's batond (returned: it is killed when the caller drops
// it), then admin "a" starts the run of `plan_json` (run id r1).
std::unique_ptr<ChildProcess> start_node_and_run(const OneNode& n, const std::string& plan_json) {
  auto batond = std::make_unique<ChildProcess>(
      bin_path("batond"), std::vector<std::string>{"--config", n.config.string()},
      n.dir / "batond.log");
  EXPECT_TRUE(wait_until([&] { return port_open(n.admin); }, std::chrono::seconds(30)))
      << read_text(n.dir / "batond.log");
  const fs::path plan = n.dir / "plan.json";
  // No agent runs here to post its readiness (docs/PROTOCOL.md §22): the
  // plan goes without a readiness phase, so turn 0 begins with the run.
  json with_no_readiness = json::parse(plan_json);
  with_no_readiness["deadlines"]["ready_blocks"] = 0;
  write_text(plan, with_no_readiness.dump());
  const RunResult started = run_baton(
      {"run", "start", "--plan", plan.string(), "--genesis", (n.dir / "genesis.json").string(),
       "--key", (n.dir / "keys" / "a.key").string(), "--node", n.admin_url()});
  EXPECT_EQ(started.exit_code, 0) << started.err;
  return batond;
}

// `baton run status --json` of the node, or null while it does not answer.
json status_json(const OneNode& n) {
  const RunResult r = run_baton({"run", "status", "--node", n.admin_url(), "--json"});
  return r.exit_code == 0 ? json::parse(r.out) : json();
}

// `baton run fund|release` against a real batond: a run that requires
// funding waits for the sponsor's FundRun, an early release is refused by
// the ledger, and only a sponsor's key may sign either.
TEST(EscrowCli, ASponsorFundsARunThatWaitsForItAndCannotReleaseItEarly) {
  OneNode n({.admin = true, .idle_partners = {"b"}});
  const auto keys = baton::testing::write_member_keys(n.dir / "keys", "s");
  {
    auto g = baton::chain::parse_genesis(read_text(n.dir / "genesis.json")).value();
    baton::chain::GenesisMember m;
    m.name = "s";
    m.ed25519 = keys.signing.public_key();
    m.x25519 = keys.x25519.public_key();
    m.p2p_address = "127.0.0.1:1";
    m.power = 0;
    m.roles = {"sponsor"};
    m.balance = 500;
    g.members.push_back(m);
    write_text(n.dir / "genesis.json", baton::chain::encode_genesis(g));
  }
  const std::string genesis = (n.dir / "genesis.json").string();
  auto escrow = [&](const std::string& what, const std::string& key,
                    std::vector<std::string> extra) {
    std::vector<std::string> args = {"run",   what, "--run",  "r1",          "--genesis", genesis,
                                     "--key", key,  "--node", n.admin_url(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_baton(args);
  };
  const std::string sponsor_key = (n.dir / "keys" / "s.key").string();
  expect_one_sentence_failure(
      escrow("fund", (n.dir / "keys" / "a.key").string(), {"--amount", "5"}), 1,
      "not a member with role \"sponsor\"");
  EXPECT_EQ(escrow("fund", sponsor_key, {"--amount", "-5"}).exit_code, 2);

  const auto batond = start_node_and_run(
      n, R"({"run_id":"r1","model":{"architecture":"mlp","hidden":[4],"input_shape":[1],)"
         R"("num_classes":2},"dataset":{"feature_columns":["x"],"label_column":"y"},)"
         R"("partners":["b"],"cycles":1,"escrow":{"sponsor":"s","min_credits":100,)"
         R"("funding_blocks":10000,"release_blocks":10000}})");
  if (HasFailure()) return;
  auto run_status = [&] { return status_json(n); };
  ASSERT_TRUE(wait_until(
      [&] {
        const json st = run_status();
        return st.is_object() && !st["runs"].empty();
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(run_status()["runs"][0]["status"], "awaiting_funding");
  const RunResult funded = escrow("fund", sponsor_key, {"--amount", "100"});
  ASSERT_EQ(funded.exit_code, 0) << funded.err;
  ASSERT_TRUE(wait_until([&] { return run_status()["runs"][0]["status"] == "active"; },
                         std::chrono::seconds(30)));
  const json e = run_status()["runs"][0]["escrow"];
  EXPECT_EQ(e["funded"], 100);
  EXPECT_EQ(e["state"], "open");
  EXPECT_EQ(run_status()["balances"]["s"], 400);
  const RunResult early = escrow("release", sponsor_key, {});
  ASSERT_EQ(early.exit_code, 0) << early.err;
  const std::string early_hash = json::parse(early.out)["hash"];
  std::string why;
  ASSERT_TRUE(wait_until(
      [&] {
        const json st = run_status();
        for (const auto& f : st["runs"][0]["refusals"]["recent"])
          if (f["tx_hash"] == early_hash) why = f["reason"];
        return !why.empty();
      },
      std::chrono::seconds(30)));
  EXPECT_NE(why.find("has not finished"), std::string::npos) << why;
  const RunResult text = run_baton({"run", "status", "--node", n.admin_url()});
  EXPECT_NE(text.out.find("escrow        100 credits from s (at least 100 before turn 0), open"),
            std::string::npos)
      << text.out;
}

// A plan with deposits (docs/PROTOCOL.md §19.9) whose only partner holds no
// credits: its turn is skipped as it begins (cannot_pay), nobody trains, and
// `run status` and `models lineage` say why.
TEST(DepositsCli, APartnerThatCannotPayIsSkippedAndRunStatusSaysSo) {
  OneNode n({.admin = true, .idle_partners = {"b"}});
  const auto batond = start_node_and_run(
      n, R"({"run_id":"r1","model":{"architecture":"mlp","hidden":[4],"input_shape":[1],)"
         R"("num_classes":2},"dataset":{"feature_columns":["x"],"label_column":"y"},)"
         R"("partners":["b"],"cycles":1,"deposits":{"deposit":10,"factor":2}})");
  if (HasFailure()) return;
  auto run_status = [&] { return status_json(n); };
  ASSERT_TRUE(wait_until(
      [&] {
        const json st = run_status();
        return st.is_object() && !st["runs"].empty() && st["runs"][0]["status"] == "finished";
      },
      std::chrono::seconds(30)));
  const json run = run_status()["runs"][0];
  EXPECT_EQ(run["turns"][0]["decision"], "cannot_pay");
  EXPECT_EQ(run["turns"][0]["stake"]["locked"], 0);
  EXPECT_EQ(run["deposits"]["deposit"], 10);
  EXPECT_EQ(run["deposits"]["next_deposit"]["b"], 10);
  const RunResult text = run_baton({"run", "status", "--node", n.admin_url()});
  EXPECT_NE(text.out.find("turn 0 cycle 0 b: cannot_pay"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("deposits      cost 0, deposit 10 x2 per rejection in a row"),
            std::string::npos)
      << text.out;
  const RunResult lineage = run_baton({"models", "lineage", "--node", n.admin_url()});
  EXPECT_NE(lineage.out.find("could not pay the plan's deposit"), std::string::npos)
      << lineage.out << lineage.err;
}

}  // namespace
