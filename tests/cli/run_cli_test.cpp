// `baton run start|status` and `baton models lineage` as real processes: the
// read side on a ledger made by `baton dev make-chain` (no run yet), bad
// input for every command (one sentence on stderr, a non-zero exit, no
// crash), and `run start` against a real batond.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <vector>

#include "api/http_client.h"

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

// A model spec every partner agent can build (learning/model_spec.h).
const std::string kMlp = R"({"architecture":"mlp","hidden":[4],"input_shape":[1],"num_classes":2})";

class RunCli : public ::testing::Test {
 protected:
  void SetUp() override {
    baton::testing::write_consortium(tmp_.path(),
                                     {.members = 3, .chain_id = "run-cli", .first_is_admin = true});
    const RunResult made = baton::testing::make_chain(tmp_.path(), ledger(), 3, 2);
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  fs::path ledger() const { return tmp_.path() / "ledger"; }
  TempDir tmp_;
};

TEST_F(RunCli, StatusOfALedgerWithoutRunsSaysSo) {
  const RunResult text = run_baton({"run", "status", "--data-dir", ledger().string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("no training run"), std::string::npos) << text.out;
  const RunResult js = run_baton({"run", "status", "--data-dir", ledger().string(), "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const json j = json::parse(js.out);
  EXPECT_EQ(j["height"], 3);
  EXPECT_TRUE(j["runs"].empty());
  EXPECT_TRUE(j["active_run"].is_null());
  EXPECT_FALSE(j.contains("current_turn"));
}

TEST_F(RunCli, LineageWithoutARunFails) {
  expect_one_sentence_failure(run_baton({"models", "lineage", "--data-dir", ledger().string()}), 1,
                              "no training run");
  expect_one_sentence_failure(
      run_baton({"models", "lineage", "--data-dir", ledger().string(), "--run", "nope"}), 1,
      "no run \"nope\"");
}

TEST_F(RunCli, ModelsRepairNeedsARunAndSaysWhenNoNodeAnswers) {
  const RunResult no_run = run_baton({"models", "repair"});
  EXPECT_EQ(no_run.exit_code, 2) << no_run.err;
  const int port = baton::testing::free_port();  // nothing listens there
  expect_one_sentence_failure(run_baton({"models", "repair", "--run", "r", "--node",
                                         "http://127.0.0.1:" + std::to_string(port)}),
                              4, "no node carried out the repair");
  // --endpoint only goes with --store.
  const RunResult endpoint = run_baton(
      {"run", "status", "--data-dir", ledger().string(), "--endpoint", "http://127.0.0.1:1"});
  EXPECT_EQ(endpoint.exit_code, 2) << endpoint.err;
}

TEST_F(RunCli, ReadCommandsRefuseAMissingOrWrongDirectory) {
  expect_one_sentence_failure(
      run_baton({"run", "status", "--data-dir", (tmp_.path() / "absent").string()}), 1,
      "not a directory");
  expect_one_sentence_failure(
      run_baton({"run", "status", "--data-dir", (tmp_.path() / "keys").string()}), 1, "");
  EXPECT_FALSE(fs::exists(tmp_.path() / "absent"));
}

TEST_F(RunCli, StartRefusesBadPlansBeforeTalkingToANode) {
  const std::string genesis = (tmp_.path() / "genesis.json").string();
  const std::string key = (tmp_.path() / "keys" / "site-0.key").string();
  const fs::path plan = tmp_.path() / "plan.json";
  // The node URL points nowhere: every case must fail before connecting.
  auto start = [&](const std::string& k) {
    return run_baton({"run", "start", "--plan", plan.string(), "--genesis", genesis, "--key", k,
                      "--node", "http://127.0.0.1:1"});
  };
  // A plan with a good model and dataset; `rest` closes it.
  auto write_plan = [&](const std::string& rest) {
    write_text(plan, R"({"run_id":"r1","model":)" + kMlp +
                         R"(,"dataset":{"feature_columns":["a"],"label_column":"y"},)" + rest);
  };
  expect_one_sentence_failure(start(key), 1, "plan file");  // missing file
  write_text(plan, "{not json");
  expect_one_sentence_failure(start(key), 1, "not valid JSON");
  write_plan(R"("partners":["site-0","mallory"],"cycles":1})");
  expect_one_sentence_failure(start(key), 1, "\"mallory\" is not a genesis member");
  write_plan(R"("partners":["site-0","site-1"],"cycles":1,"quorum":{"num":3,"den":2}})");
  expect_one_sentence_failure(start(key), 1, "quorum");
  // The ledger's bounds (docs/PROTOCOL.md §18.1), as sentences naming the field.
  write_plan(R"("partners":["site-0","site-1"],"cycles":1,"quorum":{"num":1,"den":3}})");
  expect_one_sentence_failure(start(key), 1, "quorum 1/3 must be a fraction num/den with 1/2");
  write_plan(R"("partners":["site-0","site-1"],"cycles":1,"deadlines":{"vote_blocks":1}})");
  expect_one_sentence_failure(start(key), 1, "deadlines.vote_blocks is 1; it must be at least");
  write_plan(
      R"("partners":["site-0","site-1"],"cycles":1,"deadlines":{"load_blocks":18446744073709551615}})");
  expect_one_sentence_failure(start(key), 1,
                              "deadlines.load_blocks is 18446744073709551615; it must be at most");
  write_plan(R"("partners":["site-0","site-1"],"cycles":25000})");
  expect_one_sentence_failure(start(key), 1, "cycles is 25000; a run may have at most 10000 turns");
  write_plan(
      R"("partners":["site-0","site-1"],"cycles":1,"vote_policy":{"kind":"delong","alpha":0}})");
  expect_one_sentence_failure(start(key), 1, "vote_policy.alpha is 0; it must be between");
  write_plan(
      R"("partners":["site-0","site-1"],"cycles":1,"vote_policy":{"kind":"tolerance","epsilon":1}})");
  expect_one_sentence_failure(start(key), 1, "vote_policy.epsilon is 1; it must be at most 0.1");
  write_plan(R"("partners":["site-0","site-1"],"cycles":1,"colour":"blue"})");
  expect_one_sentence_failure(start(key), 1, "unknown field \"colour\"");
  write_plan(R"("partners":["site-0","site-1"],"cycles":1})");
  expect_one_sentence_failure(start((tmp_.path() / "keys" / "site-1.key").string()), 1,
                              "not an admin member");
  // A good plan and an admin key: the node is unreachable.
  const RunResult r = start(key);
  EXPECT_EQ(r.signal, 0);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.rfind("baton: ", 0), 0u) << r.err;
}

// The ledger keeps a plan's model spec as opaque text, so `run start` is where
// a spec no partner agent can build is caught: before anything is signed or
// sent. A real node shows that nothing reached it, and that a good plan still
// goes through.
TEST(RunStartCli, RefusesAPlanNoAgentCanTrainAndSubmitsAGoodOne) {
  OneNode n({.admin = true, .idle_partners = {"b"}});
  ChildProcess batond(bin_path("batond"), {"--config", n.config.string()}, n.dir / "batond.log");
  ASSERT_TRUE(wait_until([&] { return port_open(n.admin); }, std::chrono::seconds(30)))
      << read_text(n.dir / "batond.log");
  const fs::path plan = n.dir / "plan.json";
  auto start = [&](const std::string& model, const std::string& features) {
    write_text(plan, R"({"run_id":"r1","model":)" + model + R"(,"dataset":{"feature_columns":)" +
                         features + R"(,"label_column":"y"},"partners":["b"],"cycles":1})");
    return run_baton({"run", "start", "--plan", plan.string(), "--genesis",
                      (n.dir / "genesis.json").string(), "--key",
                      (n.dir / "keys" / "a.key").string(), "--node", n.admin_url(), "--json"});
  };
  expect_one_sentence_failure(start(R"({"architecture":"mlp","hidden":"abc"})", R"(["x"])"), 1,
                              "model: the model spec needs input_shape and hidden as arrays");
  expect_one_sentence_failure(start(R"({"kind":"mlp"})", R"(["x"])"), 1,
                              "model: the model spec's architecture must be");
  expect_one_sentence_failure(start(R"("not a spec")", R"(["x"])"), 1,
                              "model: the model spec is not a JSON object");
  expect_one_sentence_failure(
      start(R"({"architecture":"mlp","hidden":[4],"input_shape":[1],"num_classes":3})", R"(["x"])"),
      1, "model.num_classes is 3");
  expect_one_sentence_failure(start(kMlp, "[]"), 1, "dataset.feature_columns is empty");
  const std::string resnet =
      R"({"architecture":"resnet3d","hidden":[4],"input_shape":[1,8,16,16],"num_classes":2})";
  expect_one_sentence_failure(start(resnet, R"(["volume","age"])"), 1,
                              "dataset.feature_columns has 2 entries, but a resnet3d model");
  const std::string cnn =
      R"({"architecture":"cnn2d","hidden":[4,4,8],"input_shape":[1,8,8],"num_classes":2})";
  expect_one_sentence_failure(start(cnn, "[]"), 1, "dataset.feature_columns has 0 entries");

  // Nothing was sent: the admin's transaction is still its first (nonce 1,
  // docs/PROTOCOL.md "Nonces"), and the ledger knows only the run started now.
  const RunResult good = start(resnet, R"(["volume"])");
  ASSERT_EQ(good.exit_code, 0) << good.err;
  const json out = json::parse(good.out);
  EXPECT_TRUE(out["accepted"].get<bool>());
  EXPECT_EQ(out["nonce"], 1);
  json status;
  ASSERT_TRUE(wait_until(
      [&] {
        const RunResult r = run_baton({"run", "status", "--node", n.admin_url(), "--json"});
        if (r.exit_code != 0) return false;
        status = json::parse(r.out);
        return !status["runs"].empty();
      },
      std::chrono::seconds(30)))
      << read_text(n.dir / "batond.log");
  ASSERT_EQ(status["runs"].size(), 1u);
  EXPECT_EQ(status["runs"][0]["run_id"], "r1");
  EXPECT_TRUE(status["refusals"]["recent"].empty()) << status.dump();
}

// `run status --run R --watch` follows a real node's run until it ends, one
// JSON object per new height; /metrics then shows the run's training series.
TEST(RunStatusCli, WatchFollowsARunToItsEndAndMetricsShowIt) {
  OneNode n({.admin = true, .idle_partners = {"b"}});
  ChildProcess batond(bin_path("batond"), {"--config", n.config.string()}, n.dir / "batond.log");
  ASSERT_TRUE(wait_until([&] { return port_open(n.admin); }, std::chrono::seconds(30)))
      << read_text(n.dir / "batond.log");
  const fs::path plan = n.dir / "plan.json";
  // b's agent never runs: its turn expires 3 blocks after it begins (and
  // the plan has no readiness phase, which would wait for that agent).
  write_text(plan, R"({"run_id":"w1","model":)" + kMlp +
                       R"(,"dataset":{"feature_columns":["x"],"label_column":"y"},)"
                       R"("partners":["b"],"cycles":1,)"
                       R"("deadlines":{"load_blocks":3,"ready_blocks":0}})");
  const RunResult started = run_baton(
      {"run", "start", "--plan", plan.string(), "--genesis", (n.dir / "genesis.json").string(),
       "--key", (n.dir / "keys" / "a.key").string(), "--node", n.admin_url(), "--json"});
  ASSERT_EQ(started.exit_code, 0) << started.err;

  const RunResult watched = run_baton({"run", "status", "--node", n.admin_url(), "--run", "w1",
                                       "--watch", "--json", "--interval", "0.2"},
                                      std::chrono::seconds(90));
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  std::vector<json> lines;
  std::istringstream in(watched.out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_GE(lines.size(), 2u) << watched.out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i]["runs"].size(), 1u);
    EXPECT_EQ(lines[i]["runs"][0]["run_id"], "w1");
    if (i > 0) EXPECT_GT(lines[i]["height"], lines[i - 1]["height"]);
    // Only the last print shows the run ended.
    EXPECT_EQ(lines[i]["runs"][0]["status"] == "finished", i + 1 == lines.size()) << i;
  }
  EXPECT_EQ(lines.back()["runs"][0]["turns"][0]["decision"], "expired");

  // --max-updates bounds a watch of a run that has ended... and --run of no run fails.
  const RunResult once =
      run_baton({"run", "status", "--node", n.admin_url(), "--watch", "--max-updates", "1"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_NE(once.out.find("run           w1 (finished, 1/1 turns"), std::string::npos) << once.out;
  expect_one_sentence_failure(
      run_baton({"run", "status", "--node", n.admin_url(), "--run", "nope"}), 1, "no run \"nope\"");

  auto client = baton::api::HttpClient::connect_to(n.admin_url());
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto metrics = (*client)->get("/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.error().message;
  const std::string& text = metrics->body;
  for (const std::string line :
       {"baton_training_active{node=\"a\"} 0",
        "baton_training_runs{node=\"a\",status=\"finished\"} 1",
        "baton_training_turns{node=\"a\",run=\"w1\",outcome=\"expired\"} 1",
        "baton_training_turns_planned{node=\"a\",run=\"w1\"} 1",
        "baton_halted{node=\"a\",cause=\"\"} 0"}) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  }
}

}  // namespace
