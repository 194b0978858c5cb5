// The C-DistriM protocol between four real batond processes on loopback
// (issue 6): the demo end to end, a label-flipping hospital, and the
// spec-only auditor on the demo's ledger (issue 16). Networks the test
// drives itself are in training_net_test.cpp.
//
// Every run uses breast_cancer split by `baton data split` (once per test
// binary) and one cycle along the four hospitals, so that each test takes
// well under a minute.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <fstream>
#include <iostream>
#include <sstream>

#include <gtest/gtest.h>

#include "chain/protocol.h"
#include "chain/proto/ledger.pb.h"
#include "learning/model.h"
#include "agent/agent_keys.h"
#include "agent/model_handoff.h"
#include "api/http_client.h"
#include "api/training_json.h"
#include "tests/integration/run_plans.h"
#include "chain/block.h"
#include "chain/crypto.h"
#include "chain/transaction.h"
#include "storage/ledger_store.h"
#include "storage/object_store.h"
#include "tests/integration/ledgers.h"
#include "tests/integration/testnet.h"
#include "tests/integration/training_common.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::read_text;
using testing::wait_until;
using testing::write_text;

// ---- the demo script ----------------------------------------------------

struct DemoRun {
  testing::RunResult result;
  fs::path dir;
  json summary;
  json report;
  json status;
};

// For a demo that failed: each node's last warnings and errors and the last
// lines of its logs, so that a CI log says which agent or node stalled (the
// demo's directory is deleted with the test's).
std::string demo_log_tails(const fs::path& dir) {
  std::string out;
  for (const auto& h : kHospitals) {
    for (const char* file : {"agent.log", "agent-stdout.log", "batond.log"}) {
      std::ifstream in(dir / "nodes" / h / file);
      std::vector<std::string> lines, flagged;
      for (std::string line; std::getline(in, line);) {
        if (line.find("warn") != std::string::npos || line.find("error") != std::string::npos)
          flagged.push_back(line);
        lines.push_back(std::move(line));
      }
      out += "== " + std::string(h) + "/" + file + ": " + std::to_string(lines.size()) +
             " lines; the last warnings and errors, then the last lines\n";
      const auto last = [&](const std::vector<std::string>& v, std::size_t n) {
        for (std::size_t i = v.size() > n ? v.size() - n : 0; i < v.size(); ++i)
          out += "  " + v[i].substr(0, 300) + "\n";
      };
      last(flagged, 6);
      out += "  --\n";
      last(lines, 4);
    }
  }
  return out;
}

DemoRun run_demo(const fs::path& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> args{"--no-bootstrap", "--dir", dir.string(), "--cycles", "1",
                                "--epochs",       "10"};
  args.insert(args.end(), extra.begin(), extra.end());
  DemoRun run;
  run.dir = dir;
  run.result = testing::run_program(
      testing::source_dir() / "deploy" / "demo.sh", args, 170s,
      {{"BATON_BUILD_DIR", testing::bin_path("baton").parent_path().parent_path().string()},
       {"BATON_DEMO_TIMEOUT_S", "120"}});
  if (run.result.exit_code != 0) std::cerr << demo_log_tails(dir);
  run.summary = read_json(dir / "summary.json");
  run.report = read_json(dir / "report.json");
  run.status = read_json(dir / "status.json");
  return run;
}

// The honest demo run, shared by the tests that need it.
const DemoRun& honest_demo() {
  static testing::TempDir dir("baton-demo-honest");
  static const DemoRun run = run_demo(dir.path() / "demo", {});
  return run;
}

std::vector<fs::path> demo_ledgers(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& h : kHospitals) out.push_back(dir / "nodes" / h / "data" / "ledger");
  return out;
}

TEST(Training, DemoRunsEndToEndOnFourNodes) {
  const DemoRun& run = honest_demo();
  ASSERT_EQ(run.result.exit_code, 0) << tail(run.result.out) << tail(run.result.err);
  ASSERT_TRUE(run.summary.is_object()) << "no summary.json";
  for (const char* key : {"final_auc", "centralized_auc", "delong_p", "turns", "tip_hashes",
                          "balances", "released_to"})
    EXPECT_TRUE(run.summary.contains(key)) << key;
  EXPECT_EQ(run.summary.size(), 7u) << run.summary.dump(2);
  // The sponsor funded 1000 credits, released them to the hospitals by their
  // tokens and opened the final model (the demo fails otherwise).
  EXPECT_EQ(run.summary["released_to"], "sponsor");
  // Credits move, none appear or vanish: the sponsor's 1000 and each
  // hospital's 100 for its deposits (deposits and costs, docs/PROTOCOL.md §19.9).
  std::uint64_t credits = 0;
  for (const auto& [name, c] : run.summary["balances"].items()) credits += c.get<std::uint64_t>();
  EXPECT_EQ(credits, 1000u + 4 * 100u) << run.summary["balances"].dump();
  EXPECT_EQ(run.summary["balances"].size(), 5u);  // the four hospitals and the sponsor
  EXPECT_TRUE(fs::exists(run.dir / "sponsor-final.model"));

  const json& turns = run.summary["turns"];
  ASSERT_EQ(turns.size(), 4u);
  // The demo's order rotates: its one cycle has every hospital once, in some order.
  std::set<std::string> partners;
  for (std::size_t i = 0; i < turns.size(); ++i) {
    partners.insert(turns[i]["partner"].get<std::string>());
    const std::string d = turns[i]["decision"];
    EXPECT_TRUE(d == "approved" || d == "rejected" || d == "expired") << d;
    // Every turn that sent a candidate locked the plan's deposit of 20.
    if (d != "expired") {
      EXPECT_EQ(turns[i]["deposit"]["locked"], 20) << turns[i].dump();
    }
  }
  EXPECT_EQ(partners, std::set<std::string>(kHospitals.begin(), kHospitals.end()));
  // The first hand-off replaces the random initial model: every honest voter
  // measures it, and the chain approves it.
  EXPECT_EQ(turns[0]["decision"], "approved");
  EXPECT_GE(turns[0]["votes"].size(), 2u);  // the votes up to the quorum are recorded
  const double final_auc = run.summary["final_auc"];
  EXPECT_GT(final_auc, 0.9);
  EXPECT_LE(final_auc, 1.0);
  const double p = run.summary["delong_p"];
  EXPECT_GE(p, 0.0);
  EXPECT_LE(p, 1.0);
  EXPECT_EQ(run.summary["tip_hashes"].size(), 4u);

  const json* r = find_run(run.status, "demo");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ((*r)["status"], "finished");
  expect_identical_verified_ledgers(demo_ledgers(run.dir));
  // The independent auditor replayed the run to the node's own outcome.
  std::string outcomes;
  for (const auto& t : (*r)["turns"])
    outcomes += (outcomes.empty() ? "" : ",") + t["decision"].get<std::string>();
  const std::string audited = expect_independent_audit(demo_ledgers(run.dir)[0]);
  EXPECT_NE(audited.find("run demo: finished, turns " + outcomes + ", head " +
                         (*r)["head"].get<std::string>() + ", refusals "),
            std::string::npos)
      << audited;
}

TEST(Training, LabelFlippingHospitalIsRefusedByMajority) {
  const DemoRun& honest = honest_demo();
  ASSERT_EQ(honest.result.exit_code, 0) << tail(honest.result.err);
  testing::TempDir dir("baton-demo-flip");
  const DemoRun bad = run_demo(dir.path() / "demo", {"--malicious", "hospital-b"});
  ASSERT_EQ(bad.result.exit_code, 0) << tail(bad.result.out) << tail(bad.result.err);

  const json* run = find_run(bad.status, "demo");
  ASSERT_NE(run, nullptr);
  const json& turns = (*run)["turns"];
  ASSERT_EQ(turns.size(), 4u);
  std::size_t at = 0;
  while (at < turns.size() && turns[at]["partner"] != "hospital-b") ++at;
  ASSERT_LT(at, turns.size()) << turns.dump(2);
  const json& flip = turns[at];
  EXPECT_EQ(flip["decision"], "rejected");
  std::set<std::string> refusing;
  for (const auto& v : flip["votes"])
    if (!v["approve"].get<bool>()) refusing.insert(v["voter"].get<std::string>());
  EXPECT_GE(refusing.size(), 2u) << flip["votes"].dump(2);  // a majority of the three voters
  // Its deposit of 20 went to the voters who rejected it, and only to them;
  // its cost of 5 went into the escrow.
  std::uint64_t forfeited = 0;
  for (const auto& [voter, credits] : flip["stake"]["forfeits"].items()) {
    EXPECT_EQ(refusing.count(voter), 1u) << voter << " got a share without rejecting";
    forfeited += credits.get<std::uint64_t>();
  }
  EXPECT_EQ(forfeited, 20u) << flip["stake"].dump();
  EXPECT_EQ(flip["stake"]["escrowed"], 5) << flip["stake"].dump();
  EXPECT_EQ(bad.summary["balances"]["hospital-b"], 100 - 20 - 5) << bad.summary.dump(2);
  // The head did not move: the next turn began on the head hospital-b's began on.
  if (at + 1 < turns.size()) {
    EXPECT_EQ(turns[at + 1]["head_before"], flip["head_before"]);
  }
  EXPECT_EQ((*run)["contributivity_ppm"]["hospital-b"], 0);
  for (const auto& m : (*run)["models"]) EXPECT_NE(m["contributor"], "hospital-b");

  // The honest run's final AUC with its DeLong 95% CI on the same test set.
  const json& ci = honest.report["final"]["ci95"];
  const double auc = bad.summary["final_auc"];
  EXPECT_GE(auc, ci[0].get<double>()) << "honest CI " << ci.dump();
  EXPECT_LE(auc, ci[1].get<double>()) << "honest CI " << ci.dump();
  expect_identical_verified_ledgers(demo_ledgers(bad.dir));
}

// ---- the spec auditor (issue 16) -----------------------------------------

// `stored_hex` of every line of a `baton ledger export`, in order.
std::vector<std::string> export_lines(const fs::path& file) {
  std::vector<std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// The stored bytes of the transaction whose hash is `id` (a model id is its
// SaveRequest's hash), from the export.
std::string tx_of(const std::vector<std::string>& lines, const std::string& id) {
  for (const auto& line : lines) {
    auto stored = chain::from_hex(json::parse(line)["stored_hex"].get<std::string>());
    if (!stored) continue;
    auto committed = chain::decode_committed_block(
        std::string_view(reinterpret_cast<const char*>(stored->data()), stored->size()));
    if (!committed) continue;
    for (const auto& raw : committed->block().transactions())
      if (chain::tx_hash(raw).hex() == id) return raw;
  }
  return "";
}

std::string hex_of(std::string_view raw) { return chain::to_hex(chain::as_bytes(raw)); }

// Every occurrence of `from` in `hex` at a byte boundary replaced by `to`.
void replace_all(std::string& hex, const std::string& from, const std::string& to) {
  for (auto at = hex.find(from); at != std::string::npos; at = hex.find(from, at + 1))
    if (at % 2 == 0) hex.replace(at, from.size(), to);
}

// A copy of the export in which transaction `raw` has `edits` (each `from`
// replaced by a `to` of the same length) and its hash is replaced by the
// edited transaction's wherever it appears (the votes on it): a ledger
// doctored consistently, except for the signatures, Merkle roots and state
// hashes nobody can redo without the members' keys.
fs::path doctored_export(const std::vector<std::string>& lines, const fs::path& out,
                         const std::string& raw,
                         const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string edited = raw;
  for (const auto& [from, to] : edits) {  // found in the original: a swap is two edits
    const auto at = raw.find(from);
    if (at != std::string::npos) edited.replace(at, to.size(), to);
  }
  const std::string old_id = chain::tx_hash(raw).hex(), new_id = chain::tx_hash(edited).hex();
  std::string text;
  for (const auto& line : lines) {
    json j = json::parse(line);
    std::string hex = j["stored_hex"];
    replace_all(hex, hex_of(raw), hex_of(edited));
    replace_all(hex, old_id, new_id);
    j["stored_hex"] = hex;
    text += j.dump() + "\n";
  }
  write_text(out, text);
  return out;
}

TEST(Training, SpecAuditOpensEveryModelAndReproducesTheReportedAuc) {
  // tests/chain/spec_audit.py, written from docs/PROTOCOL.md alone (python3,
  // PyNaCl, cryptography, numpy), opens every approved model of the demo run
  // with hospital-a's key file, runs the MLP on the held-out test set and
  // must print the final AUC that `baton report` printed. Then it must name
  // the check that catches each of three attacks.
  const DemoRun& run = honest_demo();
  ASSERT_EQ(run.result.exit_code, 0) << tail(run.result.err);
  const json* r = find_run(run.status, "demo");
  ASSERT_NE(r, nullptr);
  const json& models = (*r)["models"];
  ASSERT_FALSE(models.empty());
  testing::TempDir dir("baton-spec-audit");
  const fs::path exported = dir.path() / "export.jsonl";
  auto e = testing::run_baton({"ledger", "export", "--data-dir", demo_ledgers(run.dir)[0].string(),
                               "--out", exported.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const fs::path script = testing::source_dir() / "tests" / "chain" / "spec_audit.py";
  auto audit = [&](const fs::path& export_file, std::vector<std::string> extra) {
    std::vector<std::string> args{script.string(), "--demo", run.dir.string(), "--export",
                                  export_file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_program("/usr/bin/python3", args);
  };

  const auto honest = audit(exported, {});
  ASSERT_EQ(honest.exit_code, 0) << honest.out << honest.err;
  char auc[32];
  std::snprintf(auc, sizeof auc, "%.4f", run.report["final"]["auc"].get<double>());
  EXPECT_NE(honest.out.find("final model AUC " + std::string(auc) + " on " +
                            std::to_string(run.report["test_rows"].get<int>()) + " test rows"),
            std::string::npos)
      << honest.out;
  for (const auto& m : models)  // every model of the lineage, opened
    EXPECT_NE(honest.out.find("model " + m["id"].get<std::string>().substr(0, 12)),
              std::string::npos)
        << honest.out;
  EXPECT_NE(honest.out.find("final model " + (*r)["head"].get<std::string>()), std::string::npos);

  // 1. One byte of the final model's blob flipped, in a copy of the store.
  const std::vector<std::string> lines = export_lines(exported);
  const std::string raw = tx_of(lines, (*r)["head"].get<std::string>());
  chain::pb::Transaction tx;
  chain::pb::SaveRequest head;
  ASSERT_TRUE(tx.ParseFromString(raw) && head.ParseFromString(tx.payload()));
  const fs::path store = dir.path() / "store";
  fs::copy(run.dir / "store", store, fs::copy_options::recursive);
  {
    std::fstream blob(store / head.object_key(), std::ios::in | std::ios::out | std::ios::binary);
    blob.seekg(100);
    const char c = static_cast<char>(blob.get());
    blob.seekp(100);
    blob.put(static_cast<char>(c ^ 0x5a));
  }
  auto a = audit(exported, {"--store", store.string()});
  EXPECT_EQ(a.exit_code, 3) << a.out << a.err;
  EXPECT_NE(a.out.find(": blob hash: "), std::string::npos) << a.out;

  // 2. Two wrapped keys of its SaveRequest swapped, and 3. its model_sha256
  // changed, in a copy of the ledger: the ledger check names the block (its
  // Merkle root and signatures no longer hold); with that check skipped,
  // the model checks name the wrapped key and the model hash.
  ASSERT_GE(head.wrapped_keys_size(), 2);
  const fs::path swapped = doctored_export(
      lines, dir.path() / "swapped.jsonl", raw,
      {{head.wrapped_keys(0), head.wrapped_keys(1)}, {head.wrapped_keys(1), head.wrapped_keys(0)}});
  std::string other_hash = head.model_sha256();
  other_hash[0] = static_cast<char>(other_hash[0] ^ 1);
  const fs::path rehashed = doctored_export(lines, dir.path() / "rehashed.jsonl", raw,
                                            {{head.model_sha256(), other_hash}});
  for (const auto& [file, check] : {std::pair{swapped, std::string(": wrapped key: ")},
                                    std::pair{rehashed, std::string(": model_sha256: ")}}) {
    a = audit(file, {});
    EXPECT_EQ(a.exit_code, 3) << a.out << a.err;
    EXPECT_NE(a.out.find("spec_audit: ledger: chain check: height "), std::string::npos) << a.out;
    a = audit(file, {"--skip-ledger-checks"});
    EXPECT_EQ(a.exit_code, 3) << a.out << a.err;
    EXPECT_NE(a.out.find(check), std::string::npos) << a.out;
  }
}

}  // namespace
}  // namespace baton::integration
