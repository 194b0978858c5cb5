// `baton run start|status` and `baton models lineage` as real processes: the
// read side on a ledger made by `baton dev make-chain` (no run yet), and bad
// input for every command: one sentence on stderr, a non-zero exit, no crash.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using baton::testing::expect_one_sentence_failure;
using baton::testing::run_baton;
using baton::testing::RunResult;
using baton::testing::TempDir;
using baton::testing::write_text;
using nlohmann::json;

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
  expect_one_sentence_failure(start(key), 1, "plan file");  // missing file
  write_text(plan, "{not json");
  expect_one_sentence_failure(start(key), 1, "not valid JSON");
  write_text(
      plan,
      R"({"run_id":"r1","model":{"kind":"mlp"},"dataset":{"feature_columns":["a"],"label_column":"y"},)"
      R"("partners":["site-0","mallory"],"cycles":1})");
  expect_one_sentence_failure(start(key), 1, "\"mallory\" is not a genesis member");
  write_text(
      plan,
      R"({"run_id":"r1","model":{"kind":"mlp"},"dataset":{"feature_columns":["a"],"label_column":"y"},)"
      R"("partners":["site-0","site-1"],"cycles":1,"quorum":{"num":3,"den":2}})");
  expect_one_sentence_failure(start(key), 1, "quorum");
  write_text(
      plan,
      R"({"run_id":"r1","model":{"kind":"mlp"},"dataset":{"feature_columns":["a"],"label_column":"y"},)"
      R"("partners":["site-0","site-1"],"cycles":1,"colour":"blue"})");
  expect_one_sentence_failure(start(key), 1, "unknown field \"colour\"");
  write_text(
      plan,
      R"({"run_id":"r1","model":{"kind":"mlp"},"dataset":{"feature_columns":["a"],"label_column":"y"},)"
      R"("partners":["site-0","site-1"],"cycles":1})");
  expect_one_sentence_failure(start((tmp_.path() / "keys" / "site-1.key").string()), 1,
                              "not an admin member");
  // A good plan and an admin key: the node is unreachable.
  const RunResult r = start(key);
  EXPECT_EQ(r.signal, 0);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.rfind("baton: ", 0), 0u) << r.err;
}

}  // namespace
