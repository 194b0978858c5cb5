// Issue 17 on real batond and baton-agent processes: hospitals whose lung
// data hold different categorical levels post summaries (`baton data
// summarize`), every node derives the same schema, `baton run start` refuses
// a plan of another width, and a run on a dataset declared after the agents
// started ([datasets.lung] appended to agent.toml, nothing restarted) trains
// at every partner with that schema. Real rows: data/lung1_clinical.csv.
#include <fstream>
#include <functional>
#include <sstream>

#include <gtest/gtest.h>

#include "api/training_json.h"
#include "learning/csv.h"
#include "tests/integration/run_plans.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::run_baton;
using testing::wait_until;
using testing::write_text;

const std::vector<std::string> kFeatures{"age", "clinical.T.Stage", "Histology", "gender"};

// The rows of lung1_clinical.csv that `keep(row, Histology)` selects.
std::string lung_rows(const std::function<bool(std::size_t, const std::string&)>& keep) {
  auto csv = learning::read_csv_file(testing::source_dir() / "data" / "lung1_clinical.csv");
  EXPECT_TRUE(csv);
  std::ostringstream out;
  for (std::size_t i = 0; i < csv->header.size(); ++i) out << (i ? "," : "") << csv->header[i];
  out << "\n";
  const auto hist = static_cast<std::size_t>(csv->column_index("Histology"));
  for (std::size_t r = 0; r < csv->rows.size(); ++r) {
    if (!keep(r, csv->rows[r][hist])) continue;
    for (std::size_t i = 0; i < csv->rows[r].size(); ++i) out << (i ? "," : "") << csv->rows[r][i];
    out << "\n";
  }
  return out.str();
}

TEST(Schema, SummariesDeriveOneSchemaEverywhereAndASecondDatasetRunsWithoutRestarts) {
  testing::TempDir dir("baton-schema");
  const fs::path store = dir.path() / "store";
  fs::create_directories(store);
  const std::vector<std::string> names{"hospital-a", "hospital-b", "hospital-c"};
  TestnetOptions o;
  o.nodes = 3;
  o.names = names;
  o.chain_id = "baton-schema";
  o.store = "file://" + store.string();
  o.data = split_breast_cancer(dir.path());  // the "default" dataset of every hospital
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::string genesis = (net.net_dir() / "genesis.json").string();

  // Each hospital a third of the rows; a never sees "large cell", b never
  // "adenocarcinoma", c never "nos": fitted alone, their widths would differ.
  const std::vector<std::string> excluded{"large cell", "adenocarcinoma", "nos"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    const fs::path d = dir.path() / "lung" / names[i];
    fs::create_directories(d);
    write_text(d / "train.csv", lung_rows([&](std::size_t r, const std::string& h) {
                 return r % 3 == i && r % 4 != 0 && h != excluded[i];
               }));
    write_text(d / "validation.csv", lung_rows([&](std::size_t r, const std::string&) {
                 return r % 3 == i && r % 4 == 0;
               }));
    const fs::path agent_toml = net.nodes()[i].config.parent_path() / "agent.toml";
    ASSERT_TRUE(fs::exists(agent_toml)) << agent_toml;
    std::ofstream(agent_toml, std::ios::app)
        << "\n[datasets.lung]\ntrain_csv = \"" << (d / "train.csv").string()
        << "\"\nvalidation_csv = \"" << (d / "validation.csv").string() << "\"\n";
    const auto posted =
        run_baton({"data", "summarize", "--schema-id", "lung-v1", "--config", agent_toml.string(),
                   "--dataset", "lung", "--label", "deadstatus.event", "--features",
                   "age,clinical.T.Stage,Histology,gender", "--genesis", genesis, "--key",
                   (net.net_dir() / "keys" / (names[i] + ".key")).string(), "--node",
                   net.nodes()[i].admin_url, "--json"});
    ASSERT_EQ(posted.exit_code, 0) << posted.err << posted.out;
  }
  // Every node derives the same bytes from the three summaries.
  std::vector<json> schemas(names.size());
  ASSERT_TRUE(wait_until(
      [&] {
        for (std::size_t i = 0; i < names.size(); ++i) {
          const auto r = run_baton({"data", "schema", "--schema-id", "lung-v1", "--node",
                                    net.nodes()[i].admin_url, "--json"});
          if (r.exit_code != 0) return false;
          schemas[i] = json::parse(r.out);
          if (schemas[i]["summaries"].size() != names.size()) return false;
        }
        return true;
      },
      30s))
      << schemas[0].dump(2);
  for (const json& s : schemas) EXPECT_EQ(s["sha256"], schemas[0]["sha256"]);
  const std::size_t width = schemas[0]["width"];
  // Each Histology level is held by two hospitals: all four are kept, though
  // no hospital holds more than three.
  EXPECT_EQ(schemas[0]["columns"][2]["levels"].size(), 4u) << schemas[0].dump(2);

  json plan = base_plan(o.data, "lung-run", names, 1, 2, 60);
  plan["dataset"] = {{"name", "lung"},
                     {"schema_id", "lung-v1"},
                     {"feature_columns", kFeatures},
                     {"label_column", "deadstatus.event"},
                     {"positive_value", "1"}};
  plan["model"]["hidden"] = {8};
  const fs::path plan_file = dir.path() / "lung-plan.json";
  const std::vector<std::string> start{
      "run",       "start",
      "--plan",    plan_file.string(),
      "--genesis", genesis,
      "--key",     (net.net_dir() / "keys" / "hospital-a.key").string(),
      "--node",    net.nodes()[0].admin_url};
  plan["model"]["input_shape"] = {width + 1};
  write_text(plan_file, plan.dump(2));
  const auto wrong = run_baton(start);
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("encodes to " + std::to_string(width)), std::string::npos) << wrong.err;
  plan["model"]["input_shape"] = {width};
  write_text(plan_file, plan.dump(2));
  const auto started = run_baton(start);
  ASSERT_EQ(started.exit_code, 0) << started.err << started.out;

  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = net.training(0);
        const json* r = st ? api::select_run(*st, "lung-run") : nullptr;
        run = r ? *r : json(nullptr);
        return !run.is_null() && run["status"] == "finished";
      },
      60s))
      << run.dump(2).substr(0, 3000);
  ASSERT_EQ(run["turns"].size(), names.size());
  for (const json& t : run["turns"]) {
    // Every partner loaded the new dataset and encoded it to the plan's width.
    EXPECT_TRUE(t["decision"] == "approved" || t["decision"] == "rejected") << t.dump(2);
  }
}

}  // namespace
}  // namespace baton::integration
