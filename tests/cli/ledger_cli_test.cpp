// `baton ledger show|block|tx|verify|export` run as a real process against a
// chain made by `baton dev make-chain`, with good and bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>
#include <rocksdb/db.h>

#include "chain/crypto.h"
#include "tests/cli/cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using baton::testing::expect_one_sentence_failure;
using baton::testing::read_text;
using baton::testing::run_baton;
using baton::testing::RunResult;
using baton::testing::TempDir;
using baton::testing::write_consortium;
using baton::testing::write_text;
using nlohmann::json;

class LedgerCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir("baton-ledger-cli");
    write_consortium(tmp_->path(), {.members = 4});
    const RunResult made = baton::testing::make_chain(tmp_->path(), ledger(), 15, 6, {"--json"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    made_ = new json(json::parse(made.out));
  }
  static void TearDownTestSuite() {
    delete made_;
    delete tmp_;
  }
  static fs::path ledger() { return *tmp_ / "ledger"; }
  static fs::path genesis() { return *tmp_ / "genesis.json"; }

  static TempDir* tmp_;
  static json* made_;
};
TempDir* LedgerCli::tmp_ = nullptr;
json* LedgerCli::made_ = nullptr;

TEST_F(LedgerCli, VerifyPrintsHeightAndTipAndExitsZero) {
  const RunResult r = run_baton({"ledger", "verify", "--data-dir", ledger().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("height 15"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find((*made_)["tip"].get<std::string>()), std::string::npos) << r.out;
}

TEST_F(LedgerCli, VerifyAgainstTheGenesisFileGivesTheSameTip) {
  const RunResult r = run_baton({"ledger", "verify", "--data-dir", ledger().string(), "--genesis",
                                 genesis().string(), "--threads", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["height"], 15);
  EXPECT_EQ(j["tip"], (*made_)["tip"]);
  EXPECT_EQ(j["transactions"], 15 * 6);
  EXPECT_EQ(j["signatures_checked"], 15 * (6 + 4));
}

TEST_F(LedgerCli, VerifyRefusesAnotherConsortiumsGenesisWithExitThree) {
  TempDir other;
  write_consortium(other.path(), {.members = 4});
  const RunResult r = run_baton({"ledger", "verify", "--data-dir", ledger().string(), "--genesis",
                                 (other / "genesis.json").string()});
  expect_one_sentence_failure(r, 3, "genesis");
}

TEST_F(LedgerCli, ShowGivesChainHeightTipAndRecentBlocks) {
  const RunResult r =
      run_baton({"ledger", "show", "--data-dir", ledger().string(), "--json", "--last", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["chain_id"], "cli-chain");
  EXPECT_EQ(j["height"], 15);
  EXPECT_EQ(j["tip"], (*made_)["tip"]);
  ASSERT_EQ(j["recent_blocks"].size(), 3u);
  EXPECT_EQ(j["recent_blocks"][2]["height"], 15);
  EXPECT_EQ(j["recent_blocks"][2]["block_id"], (*made_)["tip"]);
  EXPECT_EQ(j["members"].size(), 4u);

  const RunResult human = run_baton({"ledger", "show", "--data-dir", ledger().string()});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("cli-chain"), std::string::npos);
  EXPECT_NE(human.out.find((*made_)["tip"].get<std::string>()), std::string::npos);
}

// batond keeps its ledger in DATA_DIR/ledger; the CLI takes either path.
TEST_F(LedgerCli, AcceptsANodesDataDirectoryHoldingTheLedger) {
  const RunResult r = run_baton({"ledger", "show", "--data-dir", tmp_->path().string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["tip"], (*made_)["tip"]);
}

TEST_F(LedgerCli, BlockAndTxShowTheSameTransaction) {
  const RunResult b =
      run_baton({"ledger", "block", "--data-dir", ledger().string(), "--height", "7", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const json block = json::parse(b.out);
  EXPECT_EQ(block["header"]["height"], 7);
  ASSERT_EQ(block["transactions"].size(), 6u);
  EXPECT_EQ(block["commit"]["signatures"].size(), 4u);
  const std::string hash = block["transactions"][4]["hash"];

  const RunResult t =
      run_baton({"ledger", "tx", "--data-dir", ledger().string(), "--hash", hash, "--json"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const json tx = json::parse(t.out);
  EXPECT_EQ(tx["height"], 7);
  EXPECT_EQ(tx["index"], 4);
  EXPECT_EQ(tx["nonce"], block["transactions"][4]["nonce"]);
  EXPECT_EQ(tx["type"], "TX_NOTE");

  const RunResult human =
      run_baton({"ledger", "tx", "--data-dir", ledger().string(), "--hash", hash});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("in block     7 (index 4)"), std::string::npos) << human.out;
}

TEST_F(LedgerCli, ExportWritesOneLinePerBlockWithBytesThatHashToTheIds) {
  TempDir out;
  const RunResult r = run_baton({"ledger", "export", "--data-dir", ledger().string(), "--out",
                                 (out / "chain.jsonl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out / "chain.jsonl");
  std::string line;
  std::uint64_t height = 0;
  std::string previous_id;
  while (std::getline(in, line)) {
    const json b = json::parse(line);
    ++height;
    EXPECT_EQ(b["height"], height);
    // An auditor's check, with SHA-256 alone: the id is the hash of the
    // header bytes, and the header names the previous id.
    const auto header = baton::chain::from_hex(b["header"]["bytes_hex"].get<std::string>());
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(baton::chain::sha256(*header).hex(), b["block_id"]);
    if (height > 1) {
      EXPECT_EQ(b["header"]["previous_block_hash"], previous_id);
    }
    const auto tx = baton::chain::from_hex(b["transactions"][0]["bytes_hex"].get<std::string>());
    EXPECT_EQ(baton::chain::sha256(*tx).hex(), b["transactions"][0]["hash"]);
    EXPECT_FALSE(b["stored_hex"].get<std::string>().empty());
    previous_id = b["block_id"];
  }
  EXPECT_EQ(height, 15u);
  EXPECT_EQ(previous_id, (*made_)["tip"]);
}

// A damaged ledger (tampered with through RocksDB itself, no Baton code): every
// viewing command that finds the damage exits 3, like verify, and export
// leaves nothing behind.
std::string be(std::uint64_t v, int bytes) {
  std::string out(static_cast<std::size_t>(bytes), '\0');
  for (int i = bytes - 1; i >= 0; --i, v >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

void tamper(const fs::path& dir, const std::string& tx_hash) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : {"default", "blocks", "block_ids", "txs", "nonces", "meta"})
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.string(), cfs, &handles, &db).ok());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  // The transaction index points at index 99 of block 7 (which holds 6).
  EXPECT_TRUE(db->Put(wo, handles[3], tx_hash, be(7, 8) + be(99, 4)).ok());
  // Block 5 is gone.
  EXPECT_TRUE(db->Delete(wo, handles[1], be(5, 8)).ok());
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

TEST_F(LedgerCli, ADamagedLedgerFailsEveryViewingCommandWithExitThree) {
  const RunResult b =
      run_baton({"ledger", "block", "--data-dir", ledger().string(), "--height", "7", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::string hash_hex = json::parse(b.out)["transactions"][2]["hash"];
  const auto hash = baton::chain::from_hex(hash_hex);
  ASSERT_TRUE(hash.ok());
  TempDir tmp;
  const fs::path copy = tmp / "ledger";
  fs::copy(ledger(), copy, fs::copy_options::recursive);
  tamper(copy, std::string(hash->begin(), hash->end()));

  expect_one_sentence_failure(
      run_baton({"ledger", "tx", "--data-dir", copy.string(), "--hash", hash_hex}), 3,
      "points past the end of block 7");
  expect_one_sentence_failure(
      run_baton({"ledger", "block", "--data-dir", copy.string(), "--height", "5"}), 3,
      "missing the block at height 5");
  expect_one_sentence_failure(run_baton({"ledger", "export", "--data-dir", copy.string(), "--out",
                                         (tmp / "chain.jsonl").string()}),
                              3, "missing the block at height 5");
  EXPECT_FALSE(fs::exists(tmp / "chain.jsonl"));
  EXPECT_EQ(run_baton({"ledger", "verify", "--data-dir", copy.string()}).exit_code, 3);
  // Beyond the tip is the caller's mistake, not damage: exit 1 as before.
  EXPECT_EQ(run_baton({"ledger", "block", "--data-dir", copy.string(), "--height", "16"}).exit_code,
            1);
}

TEST_F(LedgerCli, ExportRefusesToOverwriteAFile) {
  TempDir out;
  write_text(out / "existing.jsonl", "keep me");
  const RunResult r = run_baton({"ledger", "export", "--data-dir", ledger().string(), "--out",
                                 (out / "existing.jsonl").string()});
  expect_one_sentence_failure(r, 1, "already exists");
  EXPECT_EQ(read_text(out / "existing.jsonl"), "keep me");
}

TEST_F(LedgerCli, ExportIntoAMissingDirectoryCreatesNothing) {
  TempDir out;
  const RunResult r = run_baton({"ledger", "export", "--data-dir", ledger().string(), "--out",
                                 (out / "no" / "x.jsonl").string()});
  expect_one_sentence_failure(r, 1, "does not exist");
  EXPECT_FALSE(fs::exists(out / "no"));
}

TEST_F(LedgerCli, BlockBeyondTheTipOrAtZeroIsRefused) {
  expect_one_sentence_failure(
      run_baton({"ledger", "block", "--data-dir", ledger().string(), "--height", "16"}), 1,
      "no block at height 16");
  expect_one_sentence_failure(
      run_baton({"ledger", "block", "--data-dir", ledger().string(), "--height", "0"}), 2,
      "--height");
  expect_one_sentence_failure(
      run_baton({"ledger", "block", "--data-dir", ledger().string(), "--height", "x"}), 2,
      "height");
}

TEST_F(LedgerCli, TxWithABadOrUnknownHashIsRefused) {
  expect_one_sentence_failure(
      run_baton({"ledger", "tx", "--data-dir", ledger().string(), "--hash", "zz"}), 2,
      "64 hex characters");
  expect_one_sentence_failure(
      run_baton({"ledger", "tx", "--data-dir", ledger().string(), "--hash", std::string(64, 'a')}),
      1, "no transaction with hash");
}

TEST_F(LedgerCli, VerifyWithAGarbageGenesisFileIsRefused) {
  TempDir tmp;
  write_text(tmp / "garbage.json", "\x01\x02 not json {");
  expect_one_sentence_failure(run_baton({"ledger", "verify", "--data-dir", ledger().string(),
                                         "--genesis", (tmp / "garbage.json").string()}),
                              1, "not valid");
  expect_one_sentence_failure(run_baton({"ledger", "verify", "--data-dir", ledger().string(),
                                         "--genesis", (tmp / "missing.json").string()}),
                              1, "does not exist");
}

// Every subcommand, pointed at something that is not a ledger, says so in one
// sentence and leaves the place as it was.
TEST(LedgerCliBadInput, EveryCommandRefusesMissingAndNonLedgerDirectories) {
  TempDir tmp;
  fs::create_directories(tmp / "empty");
  fs::create_directories(tmp / "files");
  write_text(tmp / "files" / "notes.txt", "hello");
  write_text(tmp / "plain-file", "hello");
  const std::vector<std::vector<std::string>> commands = {
      {"ledger", "show"},
      {"ledger", "block", "--height", "1"},
      {"ledger", "tx", "--hash", std::string(64, '0')},
      {"ledger", "verify"},
      {"ledger", "export", "--out", (tmp / "out.jsonl").string()},
  };
  const std::map<std::string, std::string> expected = {{"missing", "does not exist"},
                                                       {"empty", "not a Baton ledger"},
                                                       {"files", "not a Baton ledger"},
                                                       {"plain-file", "not a ledger directory"}};
  // Every command on a missing and on a non-ledger directory; the other
  // kinds of wrong place once (they share one code path).
  std::vector<std::pair<std::vector<std::string>, std::string>> cases;
  for (const auto& command : commands) {
    cases.push_back({command, "missing"});
    cases.push_back({command, "files"});
  }
  cases.push_back({commands[0], "empty"});
  cases.push_back({commands[3], "plain-file"});
  for (const auto& [command, place] : cases) {
    std::vector<std::string> args = command;
    args.push_back("--data-dir");
    args.push_back((tmp / place).string());
    SCOPED_TRACE(command[1] + " on " + place);
    expect_one_sentence_failure(run_baton(args), 1, expected.at(place));
  }
  EXPECT_FALSE(fs::exists(tmp / "missing"));
  EXPECT_TRUE(fs::is_empty(tmp / "empty"));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp / "files"), fs::directory_iterator()), 1);
  EXPECT_FALSE(fs::exists(tmp / "out.jsonl"));
}

TEST(LedgerCliBadInput, MissingDataDirFlagIsAUsageError) {
  for (const char* sub : {"show", "verify", "export"}) {
    const RunResult r = run_baton({"ledger", sub});
    EXPECT_EQ(r.exit_code, 2) << sub << ": " << r.err;
    EXPECT_NE(r.err.find("--data-dir"), std::string::npos) << r.err;
  }
}

}  // namespace
