// The reproducibility record (issue 16) on a real four-node run: after a
// short chained run, `baton models replay` at each turn's hospital retrains
// its candidate bit for bit, and `baton models check-vote` at each voter's
// hospital recomputes its vote to the one on the ledger. Then one value of a
// trainer's local training file changes, and its replay says the training
// data hash differs (exit 3).
#include <fstream>

#include <gtest/gtest.h>

#include "learning/csv.h"
#include "api/training_json.h"
#include "tests/integration/run_plans.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::run_baton;
using testing::RunResult;
using testing::wait_until;

const std::vector<std::string> kPartners{"hospital-a", "hospital-b", "hospital-c"};

RunResult at_hospital(const Testnet& net, const std::string& command, const std::string& name,
                      std::uint64_t turn) {
  return run_baton({"models", command, "--config",
                    (net.net_dir() / "nodes" / name / "agent.toml").string(), "--run", "repro",
                    "--turn", std::to_string(turn), "--json"});
}

// Rewrites the first data row's value of `column` in `csv` (+1 to a number).
void change_one_value(const fs::path& csv, const std::string& column) {
  auto table = learning::read_csv_file(csv);
  ASSERT_TRUE(table.ok()) << table.error().message;
  const int at = table->column_index(column);
  ASSERT_GE(at, 0);
  std::string& cell = table->rows.at(0).at(static_cast<std::size_t>(at));
  cell = std::to_string(std::stod(cell) + 1.0);
  std::ofstream out(csv, std::ios::trunc);
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << cells[i];
    out << "\n";
  };
  line(table->header);
  for (const auto& row : table->rows) line(row);
}

TEST(Repro, EveryTurnReplaysBitIdenticalEveryVoteAgreesAndChangedDataAreNamed) {
  testing::TempDir dir("baton-repro");
  const fs::path data = split_breast_cancer(dir.path());
  json plan = base_plan(data, "repro", kPartners, 1, 2, 60);
  const fs::path plan_file = dir.path() / "plan.json";
  testing::write_text(plan_file, plan.dump(2));
  const fs::path store = dir.path() / "store";
  fs::create_directories(store);
  TestnetOptions o;
  o.names = kHospitals;
  o.plan = plan_file;
  o.data = data;
  o.store = "file://" + store.string();
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = net.training(0);
        const json* r = st ? api::select_run(*st, "repro") : nullptr;
        run = r ? *r : json(nullptr);
        return !run.is_null() && run["status"] == "finished";
      },
      90s))
      << run.dump(2).substr(0, 3000);
  ASSERT_EQ(run["turns"].size(), kPartners.size()) << run["turns"].dump(2);

  std::size_t replayed = 0, checked = 0;
  std::string trainer_of_approved;
  std::uint64_t approved_turn = 0;
  for (const auto& t : run["turns"]) {
    const std::uint64_t index = t["turn"];
    const std::string partner = t["partner"];
    if (t["save_request_id"].get<std::string>().empty()) continue;
    SCOPED_TRACE("turn " + std::to_string(index) + " by " + partner);
    // The record names this build and the partner's threads and device.
    const RunResult r = at_hospital(net, "replay", partner, index);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const json j = json::parse(r.out);
    EXPECT_TRUE(j["bit_identical"].get<bool>()) << r.out;
    EXPECT_EQ(j["model_sha256"], j["ledger_model_sha256"]);
    EXPECT_TRUE(j["differences"].empty()) << r.out;
    ASSERT_TRUE(j.contains("ledger")) << "the SaveRequest carries no record: " << r.out;
    EXPECT_EQ(j["ledger"], j["here"]);
    EXPECT_EQ(j["ledger"]["device"], "cpu");
    EXPECT_EQ(j["ledger"]["train_seed"], plan["training"]["seed"].get<std::uint64_t>() + index);
    EXPECT_EQ(j["ledger"]["train_rows_sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(j["ledger"]["schema_sha256"].get<std::string>().size(), 64u);
    ++replayed;
    // A rejected candidate's blob is deleted when its turn ends: only an
    // approved candidate can be measured again.
    if (t["decision"] != "approved") continue;
    trainer_of_approved = partner;
    approved_turn = index;
    for (const auto& v : t["votes"]) {
      const std::string voter = v["voter"];
      SCOPED_TRACE("vote of " + voter);
      const RunResult c = at_hospital(net, "check-vote", voter, index);
      ASSERT_EQ(c.exit_code, 0) << c.err << c.out;
      const json cj = json::parse(c.out);
      EXPECT_TRUE(cj["agrees"].get<bool>()) << c.out;
      EXPECT_EQ(cj["ledger"], cj["here"]);
      EXPECT_EQ(cj["ledger"]["approve"], v["approve"]);
      EXPECT_GT(cj["here"]["validation_size"].get<std::uint64_t>(), 0u);
      ++checked;
    }
  }
  EXPECT_EQ(replayed, kPartners.size());
  EXPECT_GE(checked, 2u);  // the first turn is approved (it replaces a random model)
  ASSERT_FALSE(trainer_of_approved.empty());

  // Another hospital cannot replay a turn it did not train.
  const std::string other = trainer_of_approved == "hospital-d" ? "hospital-a" : "hospital-d";
  const RunResult wrong = at_hospital(net, "replay", other, approved_turn);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_NE(wrong.err.find("was trained by " + trainer_of_approved), std::string::npos)
      << wrong.err;

  // One value of the trainer's local training file changed.
  const json split = json::parse(testing::read_text(data / "split.json"));
  change_one_value(net.net_dir() / "nodes" / trainer_of_approved / "data" / "train.csv",
                   split["feature_columns"][0].get<std::string>());
  const RunResult changed = at_hospital(net, "replay", trainer_of_approved, approved_turn);
  EXPECT_EQ(changed.exit_code, 3) << changed.err << changed.out;
  const json cj = json::parse(changed.out, nullptr, false);
  ASSERT_TRUE(cj.is_object()) << changed.out;
  EXPECT_FALSE(cj["bit_identical"].get<bool>());
  ASSERT_FALSE(cj["differences"].empty());
  EXPECT_EQ(cj["differences"][0].get<std::string>().rfind("training data hash: ledger ", 0), 0u)
      << cj["differences"].dump();
  EXPECT_NE(cj["ledger"]["train_rows_sha256"], cj["here"]["train_rows_sha256"]);
}

}  // namespace
}  // namespace baton::integration
