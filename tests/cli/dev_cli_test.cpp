// `baton dev make-chain` run as a real process: a chain it makes verifies,
// can be extended, and bad input creates nothing.
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using baton::testing::count_entries;
using baton::testing::expect_one_sentence_failure;
using baton::testing::run_baton;
using baton::testing::RunResult;
using baton::testing::TempDir;
using baton::testing::write_text;
using nlohmann::json;

// Three members named member-0..2 on the chain "dev-chain".
void write_consortium(const fs::path& dir) {
  baton::testing::write_consortium(
      dir, {.members = 3, .chain_id = "dev-chain", .name_prefix = "member-"});
}

class DevMakeChain : public ::testing::Test {
 protected:
  void SetUp() override { write_consortium(tmp_.path()); }

  // make-chain with the default flags, some replaced by `overrides` and
  // `extra` flags appended.
  RunResult make(const std::map<std::string, std::string>& overrides = {},
                 const std::vector<std::string>& extra = {}) {
    std::map<std::string, std::string> flags = {{"--genesis", (tmp_ / "genesis.json").string()},
                                                {"--keys", (tmp_ / "keys").string()},
                                                {"--blocks", "4"},
                                                {"--txs-per-block", "3"},
                                                {"--data-dir", (tmp_ / "ledger").string()}};
    for (const auto& [k, v] : overrides) flags[k] = v;
    std::vector<std::string> args = {"dev", "make-chain"};
    for (const auto& [k, v] : flags) {
      args.push_back(k);
      args.push_back(v);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return run_baton(args);
  }

  TempDir tmp_;
};

TEST_F(DevMakeChain, MadeChainVerifiesAndCanBeExtended) {
  const RunResult first = make({}, {"--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(json::parse(first.out)["height"], 4);
  const RunResult more = make({{"--blocks", "3"}}, {"--json", "--synced"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  const json j = json::parse(more.out);
  EXPECT_EQ(j["height"], 7);
  const RunResult verified =
      run_baton({"ledger", "verify", "--data-dir", (tmp_ / "ledger").string(), "--json"});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_EQ(json::parse(verified.out)["tip"], j["tip"]);
}

TEST_F(DevMakeChain, MissingOrGarbageGenesisCreatesNothing) {
  expect_one_sentence_failure(make({{"--genesis", (tmp_ / "nope.json").string()}}), 1,
                              "does not exist");
  write_text(tmp_ / "garbage.json", "{\"chain_id\": 12, ");
  expect_one_sentence_failure(make({{"--genesis", (tmp_ / "garbage.json").string()}}), 1,
                              "not valid");
  write_text(tmp_ / "binary.json", std::string("\x00\xff\xfe", 3));
  expect_one_sentence_failure(make({{"--genesis", (tmp_ / "binary.json").string()}}), 1,
                              "not valid");
  EXPECT_FALSE(fs::exists(tmp_ / "ledger"));
}

TEST_F(DevMakeChain, MissingOrWrongKeysCreateNothing) {
  expect_one_sentence_failure(make({{"--keys", (tmp_ / "no-keys").string()}}), 1, "does not exist");
  fs::create_directories(tmp_ / "some-keys");
  fs::copy_file(tmp_ / "keys" / "member-0.key", tmp_ / "some-keys" / "member-0.key");
  expect_one_sentence_failure(make({{"--keys", (tmp_ / "some-keys").string()}}), 1, "member-1.key");
  // A key file under a member's name that holds another key.
  fs::copy_file(tmp_ / "keys" / "member-0.key", tmp_ / "some-keys" / "member-1.key");
  expect_one_sentence_failure(make({{"--keys", (tmp_ / "some-keys").string()}}), 1,
                              "does not hold the ed25519 key");
  write_text(tmp_ / "some-keys" / "member-1.key", "garbage");
  expect_one_sentence_failure(make({{"--keys", (tmp_ / "some-keys").string()}}), 1, "not valid");
  EXPECT_FALSE(fs::exists(tmp_ / "ledger"));
}

TEST_F(DevMakeChain, RefusesADirectoryThatIsNotALedgerOrIsAnotherChains) {
  fs::create_directories(tmp_ / "files");
  write_text(tmp_ / "files" / "notes.txt", "hello");
  expect_one_sentence_failure(make({{"--data-dir", (tmp_ / "files").string()}}), 1,
                              "not a Baton ledger");
  EXPECT_EQ(count_entries(tmp_ / "files"), 1u);

  ASSERT_EQ(make().exit_code, 0);
  TempDir other;
  write_consortium(other.path());
  const RunResult r = run_baton(
      {"dev", "make-chain", "--genesis", (other / "genesis.json").string(), "--keys",
       (other / "keys").string(), "--blocks", "1", "--data-dir", (tmp_ / "ledger").string()});
  expect_one_sentence_failure(r, 1, "was created for genesis");
}

TEST_F(DevMakeChain, BadFlagsAreUsageErrors) {
  EXPECT_EQ(make({{"--blocks", "0"}}).exit_code, 2);
  EXPECT_EQ(make({{"--blocks", "many"}}).exit_code, 2);
  EXPECT_EQ(run_baton({"dev", "make-chain", "--blocks", "3"}).exit_code, 2);
  EXPECT_EQ(run_baton({"dev"}).exit_code, 2);
  EXPECT_FALSE(fs::exists(tmp_ / "ledger"));
}

}  // namespace
