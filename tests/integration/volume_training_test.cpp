// A 3D ResNet-18 C-DistriM run between four real batond processes on
// synthetic volumes (issue 6): `baton data synth-volumes` writes each
// hospital's manifests and .npy volumes, deploy/testnet.sh copies them to the
// nodes, and the partner agents load, train, seal, upload, fetch, open and
// vote as they do for tabular data.
//
// The network is tiny (input 1x8x16x16, base width 4; 8 training and 4
// validation volumes per hospital; one cycle of one epoch) so that the run
// takes seconds on 2 cores; the bench for the paper's shape is
// bench/resnet_network.sh.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "chain/training.h"
#include "learning/model.h"
#include "agent/agent_keys.h"
#include "agent/model_handoff.h"
#include "api/training_json.h"
#include "storage/object_store.h"
#include "tests/integration/ledgers.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::wait_until;
using testing::write_text;

const std::vector<std::string> kHospitals{"hospital-a", "hospital-b", "hospital-c", "hospital-d"};
constexpr int kTrainVolumes = 8;
constexpr int kValidationVolumes = 4;
const json kModel{{"architecture", "resnet3d"},
                  {"hidden", {4}},
                  {"input_shape", {1, 8, 16, 16}},
                  {"num_classes", 2}};

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// Volumes for the four hospitals, as an operator would make them.
fs::path synth_volumes(const fs::path& dir) {
  const fs::path out = dir / "volumes";
  auto r = testing::run_baton({"data", "synth-volumes", "--out", out.string(), "--hospitals",
                               "hospital-a,hospital-b,hospital-c,hospital-d", "--train",
                               std::to_string(kTrainVolumes), "--validation",
                               std::to_string(kValidationVolumes), "--test", "4", "--shape",
                               "1,8,16,16", "--seed", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return out;
}

fs::path write_plan(const fs::path& dir) {
  const json plan{
      {"run_id", "volumes"},
      {"model", kModel},
      {"dataset",
       {{"feature_columns", {"volume"}}, {"label_column", "label"}, {"positive_value", "1"}}},
      {"partners", kHospitals},
      {"cycles", 1},
      {"training",
       {{"epochs", 1},
        {"batch_size", 4},
        {"optimizer", "adam"},
        {"learning_rate", 0.001},
        {"weight_decay", 0},
        {"seed", 1}}},
      {"vote_policy", {{"kind", "delong"}, {"alpha", 0.05}}},
      {"quorum", {{"num", 1}, {"den", 2}}},
      {"deadlines", {{"load_blocks", 40}, {"save_blocks", 120}, {"vote_blocks", 40}}}};
  const fs::path p = dir / "plan.json";
  write_text(p, plan.dump(2));
  return p;
}

// The timings.jsonl lines of one node's partner agent.
std::vector<json> timings(const TestNode& n) {
  std::vector<json> out;
  for (const auto& line : read_lines(n.data_dir / "agent" / "timings.jsonl"))
    out.push_back(json::parse(line, nullptr, false));
  return out;
}

// Fetches the run's head from the store with member `keys` exactly as a voter
// does (hash checks, unwrap, open) and loads it as a model of `spec`.
Result<learning::Model> open_head(const json& status, const json& run, const fs::path& store_dir,
                                  const chain::MemberSecretKeys& keys, const fs::path& work,
                                  const learning::ModelSpec& spec) {
  const std::string head = run["head"].get<std::string>();
  const json* turn = nullptr;
  for (const auto& t : run["turns"])
    if (t["save_token_id"].get<std::string>() == head) turn = &t;
  if (turn == nullptr || !turn->contains("save")) return make_error("no turn saved head " + head);
  const json& sv = (*turn)["save"];
  chain::SaveRecord save;
  save.object_key = sv["object_key"].get<std::string>();
  save.ciphertext_sha256 = *chain::Hash::from_hex(sv["ciphertext_sha256"].get<std::string>());
  save.model_sha256 = *chain::Hash::from_hex(sv["model_sha256"].get<std::string>());
  save.key_commitment = *chain::Hash::from_hex(sv["key_commitment"].get<std::string>());
  for (const auto& [name, hex] : sv["wrapped_keys"].items()) {
    auto bytes = chain::from_hex(hex.get<std::string>());
    if (!bytes) return make_error("wrapped key of " + name + " is not hex");
    save.wrapped_keys[name] = std::string(bytes->begin(), bytes->end());
  }
  auto envelope = agent::envelope_for_member(save, keys.name, keys.x25519.public_key());
  if (!envelope) return envelope.error();
  auto store = storage::open_object_store("file://" + store_dir.string());
  if (!store) return store.error();
  agent::HandoffOptions options;
  options.work_dir = work;
  auto opened = agent::fetch_and_open(
      **store,
      {save.object_key, save.ciphertext_sha256, save.model_sha256, std::move(*envelope),
       agent::expected_blob_size(spec)},
      keys.x25519,
      {status["chain_id"].get<std::string>(), run["run_id"].get<std::string>(),
       "turn-" + std::to_string((*turn)["turn"].get<std::uint64_t>()),
       sv["parent_model_id"].get<std::string>()},
      options);
  if (!opened) return opened.error();
  return learning::deserialize(opened->model_bytes, spec);
}

TEST(VolumeTraining, TinyResNet3dRunsBetweenFourNodes) {
  testing::TempDir dir("baton-volumes");
  const fs::path volumes = synth_volumes(dir.path());
  ASSERT_TRUE(fs::exists(volumes / "hospital-a" / "validation.csv"));
  const fs::path store = dir.path() / "store";
  fs::create_directories(store);
  TestnetOptions o;
  o.names = kHospitals;
  o.chain_id = "baton-volumes";
  o.plan = write_plan(dir.path());
  o.store = "file://" + store.string();
  o.data = volumes;
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();

  // Each node holds its own volumes, at the paths its manifests name.
  for (const auto& n : net.nodes()) {
    const auto rows = read_lines(n.data_dir / "train.csv");
    ASSERT_EQ(rows.size(), kTrainVolumes + 1u) << n.name;
    const std::string first = rows[1].substr(0, rows[1].find(','));
    EXPECT_TRUE(fs::exists(n.data_dir / first)) << n.name << ": " << first;
  }

  json status;
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = net.training(0);
        if (!st) return false;
        const json* r = api::select_run(*st, "volumes");
        if (r == nullptr) return false;
        status = *st;
        run = *r;
        return run["status"] == "finished";
      },
      90s))
      << "the run did not finish: " << run.dump(2).substr(0, 4000);

  // Every turn was decided by votes: none expired (a hospital that cannot
  // read its volumes neither trains nor votes, so its turn would expire).
  // Each recorded vote measured the candidate on the voter's whole
  // validation manifest: it approves, or refuses a candidate significantly
  // worse than the head; a candidate that did not open would be refused with
  // the hand-off's failure as its reason.
  ASSERT_EQ(run["turns"].size(), 4u);
  int approved = 0;
  for (const auto& t : run["turns"]) {
    const std::string d = t["decision"];
    EXPECT_TRUE(d == "approved" || d == "rejected") << t.dump(2).substr(0, 2000);
    int approvals = 0;
    for (const auto& v : t["votes"]) {
      const std::string reason = v["reason"];
      if (v["approve"].get<bool>()) {
        ++approvals;
        EXPECT_EQ(reason, "") << v.dump();
      } else {
        EXPECT_EQ(reason.rfind("candidate is significantly worse", 0), 0u) << v.dump();
      }
      EXPECT_EQ(v["validation_size"], kValidationVolumes) << v.dump();
      EXPECT_LE(v["auc_candidate_ppm"].get<std::uint64_t>(), 1000000u) << v.dump();
      EXPECT_LE(v["auc_head_ppm"].get<std::uint64_t>(), 1000000u) << v.dump();
      EXPECT_NE(v["voter"], t["partner"]);
    }
    if (d != "approved") continue;
    ++approved;
    EXPECT_GE(approvals, 2) << t.dump(2);  // more than half of the three voters
    EXPECT_EQ(t["save"]["train_samples"], kTrainVolumes);
    EXPECT_EQ(t["save"]["object_key"], "runs/volumes/models/turn-" + t["turn"].dump() + ".blob");
  }
  // The first hand-off replaces the random initial model; a voter refuses it
  // only when it is significantly worse than that model.
  EXPECT_EQ(run["turns"][0]["decision"], "approved");
  ASSERT_GE(approved, 1);
  ASSERT_FALSE(run["head"].get<std::string>().empty());

  // The agents' own records: every hospital trained on its 8 volumes, and
  // every approved candidate was evaluated by at least two voters.
  std::map<std::uint64_t, std::set<std::string>> evaluated_by;
  for (const auto& n : net.nodes()) {
    int trained = 0;
    for (const auto& l : timings(n)) {
      if (l.value("phase", "") == "train_and_save") {
        ++trained;
        EXPECT_EQ(l["train_rows"], kTrainVolumes) << n.name;
        EXPECT_GT(l["blob_bytes"].get<std::uint64_t>(), 0u);
      } else if (l.value("phase", "") == "vote") {
        evaluated_by[l["turn"].get<std::uint64_t>()].insert(n.name);
      }
    }
    EXPECT_EQ(trained, 1) << n.name;
  }
  for (const auto& t : run["turns"]) {
    if (t["decision"] != "approved") continue;
    EXPECT_GE(evaluated_by[t["turn"].get<std::uint64_t>()].size(), 2u) << t["turn"];
  }

  // The final head in the store opens, with a member's key, to the plan's
  // 3D ResNet-18.
  auto spec = learning::spec_from_json(kModel.dump());
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto model = open_head(status, run, store, net.keys(1), dir.path() / "open", *spec);
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_EQ(model->spec().architecture, learning::Architecture::resnet3d);
  EXPECT_EQ(learning::to_json(model->spec()), kModel.dump());

  ASSERT_TRUE(net.down());
  std::vector<fs::path> ledgers;
  for (const auto& n : net.nodes()) ledgers.push_back(n.data_dir / "ledger");
  expect_identical_verified_ledgers(ledgers);
}

}  // namespace
}  // namespace baton::integration
