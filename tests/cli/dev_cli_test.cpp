// `baton dev make-chain` run as a real process: a chain it makes verifies,
// can be extended, and bad input creates nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using baton::testing::run_baton;
using baton::testing::RunResult;
using baton::testing::TempDir;
using nlohmann::json;

void spit(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

void write_consortium(const fs::path& dir, std::size_t count) {
  fs::create_directories(dir / "keys");
  baton::chain::Genesis genesis;
  genesis.chain_id = "dev-chain";
  genesis.genesis_time_unix_ms = 1795478400000;
  for (std::size_t i = 0; i < count; ++i) {
    const auto keys = baton::chain::generate_member_keys("member-" + std::to_string(i));
    spit(dir / "keys" / (keys.name + ".key"), baton::chain::encode_secret_keys(keys));
    baton::chain::GenesisMember m;
    m.name = keys.name;
    m.ed25519 = keys.signing.public_key();
    m.x25519 = keys.x25519.public_key();
    m.p2p_address = "127.0.0.1:1";
    m.roles = {"validator", "partner"};
    genesis.members.push_back(m);
  }
  spit(dir / "genesis.json", baton::chain::encode_genesis(genesis));
}

void expect_one_sentence_failure(const RunResult& r, int exit_code,
                                 const std::string& must_contain) {
  EXPECT_EQ(r.signal, 0) << r.err;
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  EXPECT_EQ(r.err.rfind("baton: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(must_contain), std::string::npos) << "stderr: " << r.err;
}

class DevMakeChain : public ::testing::Test {
 protected:
  void SetUp() override { write_consortium(tmp_.path(), 3); }

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
  spit(tmp_ / "garbage.json", "{\"chain_id\": 12, ");
  expect_one_sentence_failure(make({{"--genesis", (tmp_ / "garbage.json").string()}}), 1,
                              "not valid");
  spit(tmp_ / "binary.json", std::string("\x00\xff\xfe", 3));
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
  spit(tmp_ / "some-keys" / "member-1.key", "garbage");
  expect_one_sentence_failure(make({{"--keys", (tmp_ / "some-keys").string()}}), 1, "not valid");
  EXPECT_FALSE(fs::exists(tmp_ / "ledger"));
}

TEST_F(DevMakeChain, RefusesADirectoryThatIsNotALedgerOrIsAnotherChains) {
  fs::create_directories(tmp_ / "files");
  spit(tmp_ / "files" / "notes.txt", "hello");
  expect_one_sentence_failure(make({{"--data-dir", (tmp_ / "files").string()}}), 1,
                              "not a Baton ledger");
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp_ / "files"), fs::directory_iterator()), 1);

  ASSERT_EQ(make().exit_code, 0);
  TempDir other;
  write_consortium(other.path(), 3);
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
