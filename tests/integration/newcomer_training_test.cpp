// A fifth hospital admitted by vote takes part in the next run (issue 18's
// "done when"): four hospitals admit hospital-e with `baton member add`; its
// batond starts from the genesis and a trusted snapshot height (state sync,
// docs/PROTOCOL.md §24.4), not from block 1; its baton-agent, whose name and
// key are in no genesis, waits until the ledger lists them; then a run of all
// five partners starts with `baton run start`, hospital-e trains its turn and
// votes on the others' candidates, replays its turn and recomputes one of
// its votes (`baton models replay`, `check-vote`), and every ledger, the
// newcomer's (backfilled down to block 1) included, is identical and verifies.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "api/training_json.h"
#include "tests/integration/ledgers.h"
#include "tests/integration/members.h"
#include "tests/integration/run_plans.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::read_text;
using testing::run_baton;
using testing::wait_until;

const std::vector<std::string> kFive{"hospital-a", "hospital-b", "hospital-c", "hospital-d",
                                     "hospital-e"};

json run_of(const json& training, const std::string& run_id) {
  const json* r = api::select_run(training, run_id);
  return r ? *r : json(nullptr);
}

// The names whose ModelVote a turn's candidate holds.
std::vector<std::string> model_voters(const json& turn) {
  std::vector<std::string> out;
  for (const auto& v : turn["votes"]) out.push_back(v["voter"].get<std::string>());
  return out;
}

TEST(Training, ANewcomerAdmittedByVoteSyncsFromASnapshotAndVotesInTheNextRun) {
  testing::TempDir dir("baton-newcomer");
  const fs::path split = dir.path() / "split";
  {
    const auto r = run_baton({"data", "split", "--csv",
                              (testing::source_dir() / "data" / "breast_cancer.csv").string(),
                              "--label", "malignant", "--positive", "1", "--partners",
                              "hospital-a,hospital-b,hospital-c,hospital-d,hospital-e", "--seed",
                              "1", "--out", split.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  const fs::path store = dir.path() / "store";
  fs::create_directories(store);
  TestnetOptions o;
  o.names = kHospitals;
  o.chain_id = "baton-newcomer";
  o.store = "file://" + store.string();
  o.data = split;  // hospital-e's part waits for its own agent
  o.empty_block_ms = 500;
  o.no_start = true;
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::string snapshots = "\n[ledger]\nsnapshot_interval_blocks = 20\n";
  for (const TestNode& n : net.nodes()) {
    std::ofstream toml(n.config, std::ios::app);
    toml << snapshots;
  }
  ASSERT_TRUE(net.start_all());
  const fs::path genesis = net.net_dir() / "genesis.json";

  Newcomer e;
  e.dir = dir.path() / "newcomer";
  std::string why;
  ASSERT_TRUE(e.keygen(&why)) << why;
  ASSERT_NO_FATAL_FAILURE(admit_by_vote(net, e));
  const std::uint64_t admitted = net.height(0);

  // A snapshot the four took after the admission: what an operator reads
  // from a member's `baton status` and writes into the newcomer's node.toml.
  std::uint64_t trust_height = 0;
  std::string trust_id;
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = net.status(0);
        if (!s || (*s)["snapshots"].empty()) return false;
        const json newest = (*s)["snapshots"].back();
        trust_height = newest["height"].get<std::uint64_t>();
        trust_id = newest["block_id"].get<std::string>();
        return trust_height > admitted;
      },
      60s));
  ASSERT_EQ(trust_id, net.block_id(0, trust_height));
  e.write_node_config(genesis, 500,
                      snapshots + "\n[statesync]\ntrust_height = " + std::to_string(trust_height) +
                          "\ntrust_block_id = \"" + trust_id + "\"\n");
  ASSERT_TRUE(e.start_batond()) << read_text(e.dir / "stdout.log");
  const std::string synced =
      "state sync: the snapshot at height " + std::to_string(trust_height) + " from peer ";
  ASSERT_TRUE(wait_until(
      [&] { return read_text(e.dir / "batond.log").find(synced) != std::string::npos; }, 30s))
      << read_text(e.dir / "batond.log").substr(0, 4000);
  ASSERT_TRUE(
      wait_until([&] { return e.height() + 2 >= net.height(0) && e.connected_peers() == 4; }, 30s));

  // Its agent: a name and keys in no genesis, accepted once the ledger lists them.
  e.write_agent_config(genesis, split / e.name, o.store);
  ASSERT_TRUE(e.start_agent()) << read_text(e.dir / "agent-stdout.log");
  ASSERT_TRUE(wait_until(
      [&] {
        return read_text(e.dir / "agent.log").find("is a member of the ledger with this key") !=
               std::string::npos;
      },
      30s))
      << read_text(e.dir / "agent.log");

  // The next run names all five partners.
  json plan = base_plan(split, "after-join", kFive, 1, 1, 120);
  plan["deadlines"]["vote_blocks"] = 40;
  const fs::path plan_file = dir.path() / "after-join.json";
  testing::write_text(plan_file, plan.dump(2));
  const auto started = run_baton(
      {"run", "start", "--plan", plan_file.string(), "--genesis", genesis.string(), "--key",
       genesis_key(net, "hospital-a").string(), "--node", net.nodes()[0].admin_url},
      30s);
  ASSERT_EQ(started.exit_code, 0) << started.err << started.out;
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        auto t = net.training(0);
        run = t ? run_of(*t, "after-join") : json(nullptr);
        return !run.is_null() && run["status"] != "preparing" && run["status"] != "active";
      },
      300s))
      << run.dump(2).substr(0, 4000) << "\nnewcomer's agent:\n"
      << read_text(e.dir / "agent.log").substr(0, 4000);
  ASSERT_EQ(run["status"], "finished") << "stop: " << run.value("stop", json()).dump()
                                       << "\nreadiness: " << run.value("readiness", json()).dump()
                                       << "\nturns: " << run["turns"].dump().substr(0, 3000);
  EXPECT_EQ(run["readiness"]["partners"]["hospital-e"]["answer"], "ready")
      << run["readiness"].dump();
  ASSERT_EQ(run["turns"].size(), 5u);
  bool trained = false;
  for (const auto& turn : run["turns"]) {
    if (turn["partner"] == e.name) {
      trained = true;
      EXPECT_EQ(turn["decision"], "approved") << turn.dump(2);
      continue;
    }
    // hospital-e's ModelVote is on every other partner's candidate (a load
    // is decided at its quorum, often before the newcomer's approval lands).
    const auto voters = model_voters(turn);
    EXPECT_NE(std::find(voters.begin(), voters.end(), e.name), voters.end())
        << turn["partner"] << "'s candidate has no vote of " << e.name << ": "
        << turn.dump(2).substr(0, 2000);
  }
  EXPECT_TRUE(trained) << "hospital-e had no turn";
  // The newcomer's own node shows the same run.
  {
    auto r = e.client->get("/training");
    ASSERT_TRUE(r && r->status == 200);
    EXPECT_EQ(run_of(json::parse(r->body), "after-join")["status"], "finished");
  }

  // The newcomer replays its own turn bit for bit and recomputes one of its
  // votes on another partner's approved candidate (`baton models replay`,
  // `check-vote` from its agent.toml: it needs no genesis membership).
  const auto at_e = [&](const std::string& command, std::uint64_t turn) {
    return run_baton({"models", command, "--config", (e.dir / "agent.toml").string(), "--run",
                      "after-join", "--turn", std::to_string(turn), "--json"});
  };
  std::size_t replayed = 0, checked = 0;
  for (const auto& turn : run["turns"]) {
    const std::uint64_t index = turn["turn"];
    SCOPED_TRACE("turn " + std::to_string(index));
    if (turn["partner"] == e.name) {
      const auto r = at_e("replay", index);
      ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
      EXPECT_TRUE(json::parse(r.out)["bit_identical"].get<bool>()) << r.out;
      ++replayed;
      continue;
    }
    const auto voters = model_voters(turn);
    if (checked > 0 || turn["decision"] != "approved" ||
        std::find(voters.begin(), voters.end(), e.name) == voters.end()) {
      continue;
    }
    const auto c = at_e("check-vote", index);
    ASSERT_EQ(c.exit_code, 0) << c.err << c.out;
    EXPECT_TRUE(json::parse(c.out)["agrees"].get<bool>()) << c.out;
    ++checked;
  }
  EXPECT_EQ(replayed, 1u);
  EXPECT_EQ(checked, 1u);

  // Its history is backfilled down to block 1, then every ledger verifies.
  ASSERT_TRUE(wait_until([&] { return e.status().value("history_from", 0) == 1; }, 90s))
      << e.status().dump();
  ASSERT_EQ(e.agent->terminate(), 0);
  ASSERT_EQ(e.batond->terminate(), 0);
  ASSERT_TRUE(net.down());
  std::vector<fs::path> ledgers;
  for (const auto& n : net.nodes()) ledgers.push_back(n.data_dir / "ledger");
  ledgers.push_back(e.dir / "data" / "ledger");
  EXPECT_GT(expect_identical_verified_ledgers(ledgers), trust_height);
}

}  // namespace
}  // namespace baton::integration
