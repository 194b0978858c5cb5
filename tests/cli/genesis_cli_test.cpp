// `baton genesis init|validate|hash` through the real binary.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/keys.h"
#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

namespace fs = std::filesystem;

// Four members' key files (NAME.pub.json, NAME.key) in dir/keys, written
// in-process (keygen itself is tested in keys_cli_test.cpp; each run of the
// binary costs time).
class GenesisCli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* n : {"alice", "bob", "carol", "dave"})
      write_member_keys(keys(), n, "127.0.0.1:26656");
  }
  fs::path keys() const { return dir_ / "keys"; }
  fs::path out() const { return dir_ / "genesis.json"; }
  std::vector<std::string> init_args() const {
    std::vector<std::string> a = {"genesis",     "init",   "--chain-id",
                                  "hospitals-1", "--time", "2026-11-24T00:00:00Z"};
    for (const char* n : {"alice", "bob", "carol", "dave"}) {
      a.push_back("--member");
      a.push_back((keys() / (std::string(n) + ".pub.json")).string());
    }
    a.push_back("--out");
    a.push_back(out().string());
    return a;
  }
  TempDir dir_;
};

TEST_F(GenesisCli, InitWritesAGenesisThatValidatesAndHashesLikeSha256sum) {
  auto args = init_args();
  for (const char* extra : {"--power", "dave=0", "--admin", "alice", "--json"})
    args.push_back(extra);
  auto r = run_baton(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_text(out());
  auto g = chain::parse_genesis(text);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->chain_id, "hospitals-1");
  EXPECT_EQ(g->total_power(), 3u);
  EXPECT_TRUE(g->members[0].has_role("admin"));
  EXPECT_FALSE(g->members[3].has_role("validator"));
  EXPECT_EQ(g->genesis_time_unix_ms, chain::parse_rfc3339_ms("2026-11-24T00:00:00Z").value());
  const std::string expected_hash = chain::sha256(std::string_view(text)).hex();
  EXPECT_EQ(nlohmann::json::parse(r.out)["genesis_hash"], expected_hash);

  auto h = run_baton({"genesis", "hash", out().string()});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(h.out, expected_hash + "\n");
  auto sum = run_program("/usr/bin/sha256sum", {out().string()});
  EXPECT_EQ(sum.out.substr(0, 64), expected_hash);

  auto v = run_baton({"genesis", "validate", out().string(), "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["quorum_power"], 3);
  auto plain = run_baton({"genesis", "validate", out().string()});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_NE(plain.out.find("is valid"), std::string::npos);
}

// The ledger checks a genesis plan but keeps its model spec as opaque text;
// `validate` also refuses a spec no partner agent can build.
TEST_F(GenesisCli, ValidateRefusesATrainingPlanWhoseModelNoAgentCanBuild) {
  ASSERT_EQ(run_baton(init_args()).exit_code, 0);
  // The plan is written into the file's JSON: a Genesis holds only valid plans.
  nlohmann::json g = nlohmann::json::parse(read_text(out()));
  auto with_model = [&](const nlohmann::json& model) {
    g["training_plan"] = {{"run_id", "r1"},
                          {"model", model},
                          {"dataset", {{"feature_columns", {"x"}}, {"label_column", "y"}}},
                          {"partners", {"alice", "bob"}},
                          {"cycles", 1}};
    fs::remove(out());
    write_text(out(), g.dump(2));
    return run_baton({"genesis", "validate", out().string()});
  };
  expect_one_sentence_failure(
      with_model({{"architecture", "mlp"}, {"hidden", "abc"}}), 1,
      "training_plan: model: the model spec needs input_shape and hidden as arrays");
  const RunResult good = with_model(
      {{"architecture", "mlp"}, {"hidden", {4}}, {"input_shape", {1}}, {"num_classes", 2}});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("is valid"), std::string::npos) << good.out;
}

// The ledger's own plan bounds (docs/PROTOCOL.md §18.1) hold for a genesis
// plan too, with a sentence naming the field.
TEST_F(GenesisCli, ValidateRefusesATrainingPlanOutsideTheLedgerBounds) {
  ASSERT_EQ(run_baton(init_args()).exit_code, 0);
  nlohmann::json g = nlohmann::json::parse(read_text(out()));
  auto with_deadlines = [&](const nlohmann::json& deadlines) {
    g["training_plan"] = {
        {"run_id", "r1"},
        {"model",
         {{"architecture", "mlp"}, {"hidden", {4}}, {"input_shape", {1}}, {"num_classes", 2}}},
        {"dataset", {{"feature_columns", {"x"}}, {"label_column", "y"}}},
        {"partners", {"alice", "bob"}},
        {"cycles", 1},
        {"deadlines", deadlines}};
    fs::remove(out());
    write_text(out(), g.dump(2));
    return run_baton({"genesis", "validate", out().string()});
  };
  expect_one_sentence_failure(with_deadlines({{"load_blocks", 9223372036854775808u}}), 1,
                              "deadlines.load_blocks is 9223372036854775808; it must be at most");
  expect_one_sentence_failure(with_deadlines({{"save_blocks", 0}}), 1,
                              "deadlines.save_blocks is 0; it must be at least");
  const RunResult good = with_deadlines({{"load_blocks", 40}});
  EXPECT_EQ(good.exit_code, 0) << good.err;
}

TEST_F(GenesisCli, InitRefusesToOverwrite) {
  ASSERT_EQ(run_baton(init_args()).exit_code, 0);
  const std::string before = read_text(out());
  auto r = run_baton(init_args());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_sentence_error(r)) << r.err;
  EXPECT_EQ(read_text(out()), before);
}

TEST_F(GenesisCli, InitWithTheSameMemberTwiceNamesTheDuplicateAndWritesNothing) {
  auto args = init_args();
  args.insert(args.end() - 2, {"--member", (keys() / "bob.pub.json").string()});
  auto r = run_baton(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_sentence_error(r)) << r.err;
  EXPECT_NE(r.err.find("same name"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(GenesisCli, InitWithMissingOrGarbageMemberFileWritesNothing) {
  auto args = init_args();
  args.insert(args.end() - 2, {"--member", (dir_ / "nope.pub.json").string()});
  auto r = run_baton(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_sentence_error(r)) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos);
  std::ofstream(dir_ / "garbage.pub.json") << "\x01\x02 not json";
  args = init_args();
  args.insert(args.end() - 2, {"--member", (dir_ / "garbage.pub.json").string()});
  r = run_baton(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_sentence_error(r)) << r.err;
  args = init_args();
  args.insert(args.end() - 2, {"--member", keys().string()});
  r = run_baton(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos);
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(GenesisCli, InitWithZeroTotalPowerWritesNothing) {
  auto args = init_args();
  for (const char* n : {"alice", "bob", "carol", "dave"}) {
    args.push_back("--power");
    args.push_back(std::string(n) + "=0");
  }
  auto r = run_baton(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("total voting power is zero"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(GenesisCli, InitBadFlagValuesAreUsageErrors) {
  for (const auto& extra : std::vector<std::vector<std::string>>{{"--power", "zed=1"},
                                                                 {"--power", "alice"},
                                                                 {"--power", "alice=-1"},
                                                                 {"--admin", "zed"},
                                                                 {"--time", "tomorrow"}}) {
    auto args = init_args();
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_baton(args);
    EXPECT_EQ(r.exit_code, 2) << extra[0] << " " << extra[1];
    EXPECT_TRUE(one_sentence_error(r)) << r.err;
  }
  auto args = init_args();
  args[3] = "bad chain id";
  EXPECT_EQ(run_baton(args).exit_code, 2);
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(GenesisCli, InitIntoMissingDirectoryFails) {
  auto args = init_args();
  args.back() = (dir_ / "no" / "such" / "genesis.json").string();
  auto r = run_baton(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_sentence_error(r)) << r.err;
}

TEST(GenesisFileCli, ValidateAndHashRefuseBadFiles) {
  TempDir dir;
  std::ofstream(dir / "garbage.json") << "{\"format\": ";
  std::ofstream(dir / "empty.json") << "";
  std::ofstream(dir / "wrong.json") << "{\"format\": \"baton-genesis-v1\"}";
  for (const char* cmd : {"validate", "hash"}) {
    for (const auto& [file, needle] : std::vector<std::pair<fs::path, std::string>>{
             {dir / "missing.json", "does not exist"},
             {dir.path(), "is a directory"},
             {dir / "garbage.json", "not valid JSON"},
             {dir / "empty.json", "not valid JSON"},
             {dir / "wrong.json", "missing the field \"chain_id\""}}) {
      auto r = run_baton({"genesis", cmd, file.string()});
      EXPECT_EQ(r.exit_code, 1) << cmd << " " << file;
      EXPECT_TRUE(one_sentence_error(r)) << r.err;
      EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
      EXPECT_TRUE(r.out.empty());
    }
  }
}

}  // namespace
}  // namespace baton::testing
