// `baton ledger tx|block|export` on a real ledger on disk that holds run
// control and data summaries (TxTypes 23 RunReady, 24 CancelRun, 25
// DataSummary, docs/PROTOCOL.md §22-§23): each payload decoded, and the
// export checked by the spec-only auditor (tests/chain/audit_export.py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "storage/ledger_store.h"
#include "tests/chain/control_fixture.h"
#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

using nlohmann::json;

struct ControlLedger {
  TempDir dir{"control-ledger"};
  chain::testing::ControlChain c;

  ControlLedger() {
    auto ledger = storage::LedgerStore::open_writer(
        {dir / "ledger", c.p.chain.spec.genesis_hash, c.p.chain.genesis_text});
    EXPECT_TRUE(ledger.ok()) << ledger.error().message;
    if (!ledger.ok()) return;
    for (const auto& block : c.p.blocks) EXPECT_TRUE((*ledger)->append(block).ok());
  }
  std::string ledger_dir() const { return (dir / "ledger").string(); }
  json tx(const std::string& hash) const {
    const RunResult r =
        run_baton({"ledger", "tx", "--data-dir", ledger_dir(), "--hash", hash, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json::object();
  }
  std::string tx_text(const std::string& hash) const {
    const RunResult r = run_baton({"ledger", "tx", "--data-dir", ledger_dir(), "--hash", hash});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
};

TEST(LedgerControlCli, TxDecodesARunReadyReadyOrRefusingAsItClaims) {
  ControlLedger l;
  const json ready = l.tx(l.c.ready_alice);
  EXPECT_EQ(ready["type"], "TX_RUN_READY");
  ASSERT_TRUE(ready.contains("run_ready")) << ready.dump();
  EXPECT_EQ(ready["run_ready"]["run_id"], "run-1");
  EXPECT_EQ(ready["run_ready"]["ready"], true);
  EXPECT_EQ(ready["run_ready"]["schema_sha256"], l.c.schema_hash);
  EXPECT_EQ(ready["run_ready"]["train_rows"], 40);
  EXPECT_EQ(ready["run_ready"]["reason"], "");
  EXPECT_NE(l.tx_text(l.c.ready_alice)
                .find("readiness    ready, 40 training rows, schema " + l.c.schema_hash),
            std::string::npos);

  const json refused = l.tx(l.c.refusal_alice);
  EXPECT_EQ(refused["run_ready"]["ready"], false);
  EXPECT_EQ(refused["run_ready"]["reason"], "width_mismatch");
  EXPECT_EQ(refused["run_ready"]["reason_code"], 2);
  EXPECT_EQ(refused["run_ready"]["schema_sha256"], "");
  const std::string text = l.tx_text(l.c.refusal_alice);
  EXPECT_NE(text.find("readiness    refused: width_mismatch (2): the plan's model takes 30 "
                      "features but the local data encode to 33"),
            std::string::npos)
      << text;

  // The forged answer the ledger refused reads as what it claims.
  const json forged = l.tx(l.c.forged_bob);
  std::string fives;
  for (int i = 0; i < 32; ++i) fives += "05";  // fake_hash(5)
  EXPECT_EQ(forged["run_ready"]["schema_sha256"], fives);
  EXPECT_EQ(forged["run_ready"]["ready"], true);
}

TEST(LedgerControlCli, TxDecodesACancelRun) {
  ControlLedger l;
  const json t = l.tx(l.c.cancel);
  EXPECT_EQ(t["type"], "TX_CANCEL_RUN");
  EXPECT_EQ(t["cancel_run"]["run_id"], "run-1");
  EXPECT_EQ(t["cancel_run"]["reason"], "the consortium agreed on a new schema");
  const std::string text = l.tx_text(l.c.cancel);
  EXPECT_NE(text.find("cancel       the consortium agreed on a new schema"), std::string::npos)
      << text;
}

TEST(LedgerControlCli, TxDecodesADataSummaryPerColumn) {
  ControlLedger l;
  const json t = l.tx(l.c.summary_bob);
  EXPECT_EQ(t["type"], "TX_DATA_SUMMARY");
  const json& d = t["data_summary"];
  EXPECT_EQ(d["schema_id"], "s1");
  EXPECT_EQ(d["rows"], 6);
  EXPECT_EQ(d["positive_value"], "1");
  EXPECT_EQ(d["na_values"], json({"", "NA", "?"}));
  ASSERT_EQ(d["columns"].size(), 2u);
  const json& age = d["columns"][0];
  EXPECT_EQ(age["name"], "age");
  EXPECT_EQ(age["kind"], "numeric");
  EXPECT_EQ(age["missing"], 1);
  // -2.5, 62.25, 63.25, 64.25, 65.25 (control_fixture.h)
  EXPECT_EQ(age["sum_micro"], -2'500'000 + 62'250'000 + 63'250'000 + 64'250'000 + 65'250'000);
  EXPECT_EQ(age["min_micro"], -2'500'000);
  EXPECT_EQ(age["max_micro"], 65'250'000);
  const std::int64_t vs[] = {-2'500'000, 62'250'000, 63'250'000, 64'250'000, 65'250'000};
  unsigned __int128 squares = 0;
  for (const std::int64_t v : vs)
    squares += static_cast<unsigned __int128>(static_cast<__int128>(v) * v);
  std::string decimal;
  for (unsigned __int128 q = squares; q != 0; q /= 10)
    decimal.insert(decimal.begin(), static_cast<char>('0' + static_cast<int>(q % 10)));
  EXPECT_EQ(age["sum_squares_micro2"], decimal);
  const json& volume = d["columns"][1];
  EXPECT_EQ(volume["kind"], "categorical");
  EXPECT_EQ(volume["levels"]["low"], 4);
  EXPECT_EQ(volume["levels"]["b-only"], 1);
  EXPECT_EQ(d["levels"], 3);
  const std::string text = l.tx_text(l.c.summary_bob);
  EXPECT_NE(text.find("summary      schema s1, 6 rows, positive value '1'"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  column     volume categorical, missing 0, 3 levels"), std::string::npos)
      << text;
}

TEST(LedgerControlCli, BlockListsWhatEachControlTransactionSays) {
  ControlLedger l;
  const json t = l.tx(l.c.cancel);
  const std::string height = std::to_string(t["height"].get<std::uint64_t>());
  const RunResult b =
      run_baton({"ledger", "block", "--data-dir", l.ledger_dir(), "--height", height});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("TX_CANCEL_RUN run run-1: cancel: the consortium agreed"), std::string::npos)
      << b.out;
  const RunResult j =
      run_baton({"ledger", "block", "--data-dir", l.ledger_dir(), "--height", height, "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(json::parse(j.out)["transactions"][0]["cancel_run"]["run_id"], "run-1");
}

TEST(LedgerControlCli, TheSpecOnlyAuditorVerifiesTheExportedLedger) {
  ControlLedger l;
  const RunResult e = run_baton({"ledger", "export", "--data-dir", l.ledger_dir(), "--out",
                                 (l.dir / "export.jsonl").string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  write_text(l.dir / "genesis.json", l.c.p.chain.genesis_text);
  const RunResult a = run_program(
      "/usr/bin/python3", {(source_dir() / "tests" / "chain" / "audit_export.py").string(),
                           (l.dir / "genesis.json").string(), (l.dir / "export.jsonl").string()});
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  EXPECT_EQ(a.out.rfind("ok: " + std::to_string(l.c.p.chain.state.height) + " blocks, ", 0), 0u)
      << a.out;
  EXPECT_NE(a.out.find("run run-1: cancelled"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("run run-4: not_ready"), std::string::npos) << a.out;
}

}  // namespace
}  // namespace baton::testing
