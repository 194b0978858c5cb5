// `baton report`: what a training run produced, for the consortium's data
// scientists.
//
// From the ledger alone (--data-dir or --node): each turn's decision and the
// AUCs every hospital measured on its own validation data (the ModelVotes),
// and each partner's contributivity. Written to PLOTS/auc_per_turn.csv and
// PLOTS/auc_per_turn.svg.
//
// With the final model (--store, --key, --test-csv, --feature-schema): the
// final head is fetched, checked against the ledger's hashes and opened with
// the member's key exactly as a node does (agent/model_handoff.h), and scored
// on the held-out test set: AUC with its DeLong 95% CI, PLOTS/roc.svg and
// PLOTS/calibration.svg. For an image model (resnet3d, cnn2d) --test-csv and
// --train-csv are volume manifests (learning/volumes.h, as the nodes read
// them) and --feature-schema is not given. With --train-csv (every hospital's training file)
// it also trains the centralized model: the same spec, initial weights
// (plan seed), optimizer and batch size on the pooled rows for epochs ×
// cycles epochs, so that every row is seen as often as along the chain; and
// compares both on the test set with DeLong's paired test (two-sided p).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <tuple>

#include "chain/keys.h"
#include "learning/csv.h"
#include "learning/datasets.h"
#include "learning/metrics.h"
#include "learning/model.h"
#include "learning/plots.h"
#include "learning/train.h"
#include "learning/volumes.h"
#include "agent/agent_keys.h"
#include "agent/model_handoff.h"
#include "api/training_json.h"
#include "storage/object_store.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
namespace ln = baton::learning;
using nlohmann::json;

struct ReportArgs {
  std::string data_dir;
  std::string node;
  std::string node_cert_sha256;  // https --node: the pinned certificate
  std::string run_id;
  std::string plots_out;
  std::string store_uri;
  std::string endpoint;
  std::string region;
  std::string key_file;
  std::string test_csv;
  std::string feature_schema;
  std::vector<std::string> train_csvs;
  int threads = 1;
  bool json = false;
};

double ppm(const json& v) { return static_cast<double>(v.get<std::uint64_t>()) / 1e6; }

std::string fixed(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// ---- the ledger side ----------------------------------------------------

std::string auc_csv(const json& run) {
  std::ostringstream out;
  out << "turn,cycle,partner,decision,voter,approve,auc_candidate,auc_head,validation_size,"
         "reason\n";
  for (const auto& t : run["turns"]) {
    for (const auto& v : t["votes"]) {
      std::string reason = v["reason"].get<std::string>();
      std::replace(reason.begin(), reason.end(), '"', '\'');
      out << t["turn"].get<std::uint64_t>() << "," << t["cycle"].get<std::uint64_t>() << ","
          << t["partner"].get<std::string>() << "," << t["decision"].get<std::string>() << ","
          << v["voter"].get<std::string>() << "," << (v["approve"].get<bool>() ? 1 : 0) << ","
          << fixed(ppm(v["auc_candidate_ppm"]), 6) << "," << fixed(ppm(v["auc_head_ppm"]), 6) << ","
          << v["validation_size"].get<std::uint64_t>() << ",\"" << reason << "\"\n";
    }
  }
  return out.str();
}

// The AUC per turn plot (learning/plots.h, auc_per_turn_svg): each voter's
// candidate AUC on its own validation data, each vote marked by its own
// decision, the head's AUC beside it, the turn's outcome shaded.
std::string auc_svg(const json& run) {
  const bool federated = run.value("mode", "chained") == "federated";
  std::vector<ln::TurnVotes> turns;
  for (const auto& t : run["turns"]) {
    ln::TurnVotes tv;
    tv.turn = t["turn"].get<std::uint64_t>();
    tv.trainer = t["partner"].get<std::string>();
    tv.decision = t["decision"].get<std::string>();
    if (t.contains("round")) tv.contributors = t["round"]["uploads"].size();
    for (const auto& v : t["votes"]) {
      tv.votes.push_back({v["voter"].get<std::string>(), v["approve"].get<bool>(),
                          ppm(v["auc_candidate_ppm"]), ppm(v["auc_head_ppm"])});
    }
    turns.push_back(std::move(tv));
  }
  return ln::auc_per_turn_svg(turns,
                              "Candidate AUC per " + std::string(federated ? "round" : "turn") +
                                  " (run " + run["run_id"].get<std::string>() + ")",
                              federated);
}

// ---- the model side -----------------------------------------------------

// The plan's model spec when it is an image model (whose data are volume
// manifests), else nothing.
std::optional<ln::ModelSpec> image_spec(const json& plan) {
  auto spec = ln::spec_from_json(plan["model"].dump());
  if (!spec) return std::nullopt;
  if (spec->architecture != ln::Architecture::resnet3d &&
      spec->architecture != ln::Architecture::cnn2d)
    return std::nullopt;
  return *spec;
}

ln::Dataset load_manifest(const std::string& file, const json& plan, const ln::ModelSpec& spec) {
  const auto features = plan["dataset"]["feature_columns"].get<std::vector<std::string>>();
  if (features.size() != 1) {
    fail("the run's model reads image volumes but its plan names " +
         std::to_string(features.size()) + " feature columns instead of one");
  }
  const ln::VolumeManifestSchema schema{
      features.front(), plan["dataset"]["label_column"].get<std::string>(),
      plan["dataset"]["positive_value"].get<std::string>(), spec.input_shape};
  auto data = ln::load_volume_manifest(file, schema);
  if (!data) fail(data.error().message);
  return std::move(*data);
}

ln::Dataset encode_csv(const std::string& file, const json& plan, const std::string& schema_json) {
  auto csv = ln::read_csv_file(file);
  if (!csv) fail(csv.error().message);
  const auto features = plan["dataset"]["feature_columns"].get<std::vector<std::string>>();
  const std::string label = plan["dataset"]["label_column"].get<std::string>();
  ln::CsvSchema schema;
  schema.file = file;
  schema.label_column = label;
  for (const auto& c : csv->header) {
    if (c != label && std::find(features.begin(), features.end(), c) == features.end())
      schema.drop_columns.push_back(c);
  }
  auto data = ln::load_csv_with_schema(schema, schema_json);
  if (!data) fail("cannot encode " + file + " with the feature schema: " + data.error().message);
  return std::move(*data);
}

ln::Dataset concat(const std::vector<ln::Dataset>& parts) {
  ln::Dataset out = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].features != out.features) fail("the training files encode to different widths");
    out.x.insert(out.x.end(), parts[i].x.begin(), parts[i].x.end());
    out.y.insert(out.y.end(), parts[i].y.begin(), parts[i].y.end());
    out.rows += parts[i].rows;
  }
  return out;
}

std::unique_ptr<storage::ObjectStore> open_store(const ReportArgs& a) {
  storage::S3Options base;
  base.endpoint = a.endpoint;
  if (!a.region.empty()) base.region = a.region;
  auto options = base;
  if (a.store_uri.rfind("s3://", 0) == 0) {
    auto resolved = storage::resolve_s3_options(base, storage::process_environment());
    if (!resolved) fail(resolved.error().message);
    options = *resolved;
  }
  auto store = storage::open_object_store(a.store_uri, options);
  if (!store) fail("cannot open the store " + a.store_uri + ": " + store.error().message);
  return std::move(*store);
}

// The final head's plaintext, fetched and checked as a voter would.
chain::Bytes fetch_final_model(const ReportArgs& a, const json& status, const json& run) {
  const std::string head = run["head"].get<std::string>();
  if (head.empty()) fail("run " + run["run_id"].get<std::string>() + " has no approved model");
  const json* turn = nullptr;
  for (const auto& t : run["turns"])
    if (t["save_token_id"].get<std::string>() == head) turn = &t;
  if (turn == nullptr || !turn->contains("save"))
    fail("the ledger names head " + head + " but no turn saved it");
  const json& sv = (*turn)["save"];
  auto keys = chain::parse_secret_keys(read_secret_file(a.key_file, "key file").view());
  if (!keys) fail("key file " + a.key_file + " is not a Baton key: " + keys.error().message);

  chain::SaveRecord save;
  auto hash = [&](const char* field) {
    auto h = chain::Hash::from_hex(sv[field].get<std::string>());
    if (!h) fail(std::string("the ledger's ") + field + " of the final model is not a hash");
    return *h;
  };
  save.object_key = sv["object_key"].get<std::string>();
  save.ciphertext_sha256 = hash("ciphertext_sha256");
  save.model_sha256 = hash("model_sha256");
  save.key_commitment = hash("key_commitment");
  for (const auto& [name, hex] : sv["wrapped_keys"].items()) {
    auto bytes = chain::from_hex(hex.get<std::string>());
    if (!bytes) fail("the ledger's wrapped key for " + name + " is not hex");
    save.wrapped_keys[name] = std::string(bytes->begin(), bytes->end());
  }
  auto envelope = agent::envelope_for_member(save, keys->name, keys->x25519.public_key());
  if (!envelope) {
    fail("cannot use the key of " + keys->name + " for the final model: " +
         envelope.error().message + "; give --key of a member it was sealed for");
  }
  agent::LedgerModelRef ref{save.object_key, save.ciphertext_sha256, save.model_sha256,
                            std::move(*envelope)};
  agent::ModelBinding binding{status["chain_id"].get<std::string>(),
                              run["run_id"].get<std::string>(), api::candidate_model_id(run, *turn),
                              sv["parent_model_id"].get<std::string>()};
  auto store = open_store(a);
  agent::HandoffOptions options;
  options.work_dir = fs::temp_directory_path() / ("baton-report-" + std::to_string(::getpid()));
  auto opened = agent::fetch_and_open(*store, ref, keys->x25519, binding, options);
  std::error_code ec;
  fs::remove_all(options.work_dir, ec);
  if (!opened) {
    // Only a blob that is there but is not what the ledger names fails
    // verification; a store that cannot be reached, or lost the blob, is not.
    using H = agent::HandoffErrc;
    const auto why = static_cast<H>(opened.error().code);
    const std::string head_text = "cannot use the final model " + save.object_key + " from " +
                                  a.store_uri + ": " + opened.error().message;
    switch (why) {
      case H::store_failed:
        fail(head_text, Exit::unavailable);
      case H::missing_blob:
      case H::io:
      case H::invalid_argument:
        fail(head_text, Exit::failure);
      default:
        fail(head_text, Exit::verify_failed);
    }
  }
  return std::move(opened->model_bytes);
}

std::vector<double> predict_scores(const ln::Model& model, const ln::Dataset& data,
                                   const char* what) {
  auto p = model.predict(data);
  if (!p) fail(std::string("cannot score the ") + what + ": " + p.error().message);
  return p->scores();
}

// The epochs every row is seen along the run: cycles x epochs, or for a
// federated plan (docs/PROTOCOL.md §21.1) rounds x local epochs.
std::uint64_t run_epochs(const json& plan) {
  if (plan.contains("federated")) {
    const json& f = plan["federated"];
    return f["rounds"].get<std::uint64_t>() * f["local_epochs"].get<std::uint64_t>();
  }
  return plan["training"]["epochs"].get<std::uint64_t>() * plan["cycles"].get<std::uint64_t>();
}

ln::Model train_centralized(const ReportArgs& a, const json& plan, const std::string& schema,
                            std::size_t* pooled_rows) {
  std::vector<ln::Dataset> parts;
  const auto images = image_spec(plan);
  for (const auto& f : a.train_csvs)
    parts.push_back(images ? load_manifest(f, plan, *images) : encode_csv(f, plan, schema));
  const ln::Dataset pooled = concat(parts);
  *pooled_rows = pooled.rows;
  auto spec = ln::spec_from_json(plan["model"].dump());
  if (!spec) fail("the plan's model spec does not load: " + spec.error().message);
  const json& tr = plan["training"];
  auto model = ln::Model::create(*spec, tr["seed"].get<std::uint64_t>());
  if (!model) fail(model.error().message);
  ln::TrainSettings s;
  s.epochs = static_cast<int>(run_epochs(plan));
  s.batch_size = static_cast<int>(tr["batch_size"].get<std::uint64_t>());
  auto opt = ln::parse_optimizer(tr["optimizer"].get<std::string>());
  if (!opt) fail(opt.error().message);
  s.optimizer = *opt;
  s.learning_rate = tr["learning_rate"].get<double>();
  s.weight_decay = tr["weight_decay"].get<double>();
  s.seed = tr["seed"].get<std::uint64_t>();
  s.threads = a.threads;
  auto r = ln::train(*model, pooled, s);
  if (!r) fail("centralized training failed: " + r.error().message);
  return std::move(*model);
}

void write_text(const fs::path& path, const std::string& text) {
  write_file_atomic(path, text,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read,
                    true);
}

void report(const ReportArgs& a) {
  auto st = api::read_training_status({a.data_dir, a.node, a.node_cert_sha256});
  if (!st) {
    using E = api::TrainingSourceErrc;
    const auto code = static_cast<E>(st.error().code);
    fail(st.error().message, code == E::bad_arguments  ? Exit::usage
                             : code == E::not_verified ? Exit::verify_failed
                             : code == E::unavailable  ? Exit::unavailable
                                                       : Exit::failure);
  }
  const json& status = *st;
  const json* run_ptr = api::select_run(status, a.run_id);
  if (run_ptr == nullptr) {
    fail(a.run_id.empty() ? "no training run has been started on this ledger"
                          : "the ledger has no run \"" + a.run_id + "\"");
  }
  const json& run = *run_ptr;
  const json& plan = run["plan"];
  const bool want_model = !a.store_uri.empty() || !a.key_file.empty() || !a.test_csv.empty();
  const auto images = image_spec(plan);
  if (images && !a.feature_schema.empty()) {
    fail("the run's model (" + std::string(ln::architecture_name(images->architecture)) +
             ") reads image volumes, which take no --feature-schema; give --test-csv a volume "
             "manifest",
         Exit::usage);
  }
  if (want_model && (a.store_uri.empty() || a.key_file.empty() || a.test_csv.empty() ||
                     (!images && a.feature_schema.empty()))) {
    fail(images ? "scoring the final model needs --store, --key and --test-csv together"
                : "scoring the final model needs --store, --key, --test-csv and --feature-schema "
                  "together",
         Exit::usage);
  }
  if (!a.train_csvs.empty() && !want_model)
    fail("--train-csv (the centralized baseline) needs the final-model options too", Exit::usage);

  // --json alone prints the report and writes no file.
  const bool write_files = !a.plots_out.empty();
  if (!write_files && !a.json)
    fail(
        "give --plots-out DIR for the CSV, SVG plots and report.json, or --json to print the "
        "report without files",
        Exit::usage);
  const fs::path out(a.plots_out);
  std::error_code ec;
  if (write_files) fs::create_directories(out, ec);
  if (write_files && (ec || !fs::is_directory(out, ec)))
    fail("cannot create --plots-out " + a.plots_out);

  json turns = json::array();
  for (const auto& t : run["turns"]) {
    json votes = json::array();
    for (const auto& v : t["votes"]) {
      votes.push_back({{"voter", v["voter"]},
                       {"approve", v["approve"]},
                       {"auc_candidate", ppm(v["auc_candidate_ppm"])},
                       {"auc_head", ppm(v["auc_head_ppm"])},
                       {"validation_size", v["validation_size"]},
                       {"reason", v["reason"]}});
    }
    turns.push_back({{"turn", t["turn"]},
                     {"cycle", t["cycle"]},
                     {"partner", t["partner"]},
                     {"decision", t["decision"]},
                     {"votes", votes}});
    if (t.contains("round")) {  // federated (§21): the partner is the aggregator
      const json& r = t["round"];
      json uploaded = json::array();
      for (const auto& [name, u] : r["uploads"].items()) uploaded.push_back(name);
      turns.back()["contributors"] = uploaded;
      turns.back()["total_weight"] = r["total_weight"];
      turns.back()["failed_dealer"] = r["failed_dealer"];
    }
    if (t.contains("privacy")) {  // its SaveRequest's ε (docs/PROTOCOL.md §20.2)
      turns.back()["epsilon_turn"] = ppm(t["privacy"]["epsilon_turn_micro"]);
      turns.back()["epsilon_total"] = ppm(t["privacy"]["epsilon_total_micro"]);
    }
  }
  json result{{"run_id", run["run_id"]},
              {"status", run["status"]},
              {"head", run["head"]},
              {"turns", turns},
              {"contributivity_ppm", run["contributivity_ppm"]}};
  if (run.contains("privacy")) {
    // Each hospital's ε spent and left of the plan's budget (§20.2).
    const json& p = run["privacy"];
    json partners = json::object();
    for (const auto& [name, s] : p["partners"].items()) {
      partners[name] = {{"epsilon_spent", ppm(s["epsilon_spent_micro"])},
                        {"epsilon_left", ppm(s["epsilon_left_micro"])},
                        {"budget_spent", s["budget_spent"]}};
    }
    result["privacy"] = {
        {"mechanism", p["mechanism"]},
        {"epsilon_budget", ppm(p["epsilon_budget_micro"])},
        {"delta", static_cast<double>(p["delta_pico"].get<std::uint64_t>()) / 1e12},
        {"partners", partners}};
  }
  std::vector<std::string> files;
  if (write_files) {
    write_text(out / "auc_per_turn.csv", auc_csv(run));
    write_text(out / "auc_per_turn.svg", auc_svg(run));
    files = {"auc_per_turn.csv", "auc_per_turn.svg"};
  }

  if (want_model) {
    ln::init_torch(a.threads);
    const std::string schema = images ? "" : read_file(a.feature_schema, "feature schema");
    const ln::Dataset test =
        images ? load_manifest(a.test_csv, plan, *images) : encode_csv(a.test_csv, plan, schema);
    const chain::Bytes bytes = fetch_final_model(a, status, run);
    auto spec = ln::spec_from_json(plan["model"].dump());
    if (!spec) fail("the plan's model spec does not load: " + spec.error().message);
    auto final_model = ln::deserialize(bytes, *spec);
    if (!final_model) fail("the final model does not load: " + final_model.error().message);
    const std::vector<double> final_scores = predict_scores(*final_model, test, "test set");
    auto final_auc = ln::delong_auc(test.y, final_scores);
    if (!final_auc) fail("AUC of the final model: " + final_auc.error().message);
    result["test_rows"] = test.rows;
    result["final"] = {{"model_id", run["head"]},
                       {"auc", final_auc->auc},
                       {"ci95", {final_auc->ci_low, final_auc->ci_high}},
                       {"auc_variance", final_auc->variance}};
    const bool federated = plan.contains("federated");
    std::vector<ln::ScoredCurve> curves{
        {federated ? "federated (final)" : "chained (final)", test.y, final_scores}};
    if (!a.train_csvs.empty()) {
      std::size_t pooled_rows = 0;
      const ln::Model central = train_centralized(a, plan, schema, &pooled_rows);
      const std::vector<double> c_scores = predict_scores(central, test, "test set");
      auto c_auc = ln::delong_auc(test.y, c_scores);
      if (!c_auc) fail("AUC of the centralized model: " + c_auc.error().message);
      auto test_p = ln::delong_paired_test(test.y, final_scores, c_scores);
      if (!test_p) fail("DeLong test: " + test_p.error().message);
      result["centralized"] = {{"auc", c_auc->auc},
                               {"ci95", {c_auc->ci_low, c_auc->ci_high}},
                               {"epochs", run_epochs(plan)},
                               {"train_rows_pooled", pooled_rows}};
      result["delong_p"] = test_p->p_two_sided;
      curves.push_back({"centralized", test.y, c_scores});
    }
    ln::PlotOptions po;
    po.title = "Run " + run["run_id"].get<std::string>() + ": held-out test set";
    if (write_files) {
      if (auto s = ln::write_roc_svg(out / "roc.svg", curves, po); !s)
        fail("cannot write roc.svg: " + s.error().message);
      if (auto s = ln::write_calibration_svg(out / "calibration.svg", curves, po); !s)
        fail("cannot write calibration.svg: " + s.error().message);
      files.push_back("roc.svg");
      files.push_back("calibration.svg");
    }
  }
  json paths = json::array();
  for (const auto& f : files) paths.push_back((out / f).string());
  result["plots"] = paths;
  if (write_files) write_text(out / "report.json", result.dump(2) + "\n");

  if (a.json) {
    print_json(result);
    return;
  }
  std::cout << "run " << run["run_id"].get<std::string>() << " ("
            << run["status"].get<std::string>() << "), " << run["turns"].size() << " turns\n";
  for (const auto& t : turns) {
    if (t.contains("contributors")) {
      std::cout << "  round " << t["turn"].get<std::uint64_t>() << ": "
                << t["decision"].get<std::string>() << " (updates of";
      for (const auto& c : t["contributors"]) std::cout << " " << c.get<std::string>();
      std::cout << ", weight " << t["total_weight"].dump();
      if (!t["partner"].get<std::string>().empty())
        std::cout << "; aggregated by " << t["partner"].get<std::string>();
      if (!t["failed_dealer"].get<std::string>().empty())
        std::cout << "; shares of " << t["failed_dealer"].get<std::string>() << " inconsistent";
      std::cout << ")";
    } else {
      std::cout << "  turn " << t["turn"].get<std::uint64_t>() << " "
                << t["partner"].get<std::string>() << ": " << t["decision"].get<std::string>();
    }
    if (t.contains("epsilon_total")) {
      std::cout << " (epsilon turn " << fixed(t["epsilon_turn"].get<double>(), 6) << ", total "
                << fixed(t["epsilon_total"].get<double>(), 6) << ")";
    }
    std::cout << "\n";
    for (const auto& v : t["votes"]) {
      std::cout << "      " << v["voter"].get<std::string>()
                << (v["approve"].get<bool>() ? " approve" : " reject ") << "  AUC "
                << fixed(v["auc_candidate"].get<double>()) << " vs head "
                << fixed(v["auc_head"].get<double>()) << " on "
                << v["validation_size"].get<std::uint64_t>() << " rows"
                << (v["reason"].get<std::string>().empty()
                        ? ""
                        : " (" + v["reason"].get<std::string>() + ")")
                << "\n";
    }
  }
  // Each partner's sum, over its approved turns, of the median AUC gain
  // (candidate minus head) its voters measured.
  std::cout << "contributivity (summed settled median AUC gain of its approved turns):";
  for (const auto& [name, c] : run["contributivity_ppm"].items()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.4f", static_cast<double>(c.get<std::int64_t>()) / 1e6);
    std::cout << " " << name << " " << buf;
  }
  std::cout << "\n";
  if (result.contains("privacy")) {
    const json& p = result["privacy"];
    char delta[32];
    std::snprintf(delta, sizeof delta, "%g", p["delta"].get<double>());
    std::cout << "privacy          " << p["mechanism"].get<std::string>()
              << (p["mechanism"] == "dp_sgd" ? std::string(", delta ") + delta : std::string())
              << ", budget epsilon " << fixed(p["epsilon_budget"].get<double>(), 6)
              << " per hospital\n";
    for (const auto& [name, s] : p["partners"].items()) {
      std::cout << "  " << name << ": epsilon spent " << fixed(s["epsilon_spent"].get<double>(), 6)
                << ", left " << fixed(s["epsilon_left"].get<double>(), 6)
                << (s["budget_spent"].get<bool>() ? " (budget spent)" : "") << "\n";
    }
  }
  if (result.contains("final")) {
    std::cout << "final model      AUC " << fixed(result["final"]["auc"].get<double>())
              << " (95% CI " << fixed(result["final"]["ci95"][0].get<double>()) << "-"
              << fixed(result["final"]["ci95"][1].get<double>()) << ") on "
              << result["test_rows"].get<std::size_t>() << " test rows\n";
  }
  if (result.contains("centralized")) {
    std::cout << "centralized      AUC " << fixed(result["centralized"]["auc"].get<double>())
              << " (95% CI " << fixed(result["centralized"]["ci95"][0].get<double>()) << "-"
              << fixed(result["centralized"]["ci95"][1].get<double>()) << ")\n"
              << "DeLong p (final vs centralized, two-sided) "
              << fixed(result["delong_p"].get<double>()) << "\n";
  }
  std::cout << "files in " << out.string() << ":";
  for (const auto& f : files) std::cout << " " << f;
  std::cout << " report.json\n";
}

}  // namespace

void register_report_commands(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand(
      "report", "A run's AUC per turn, contributivity, and the final model on a held-out test set");
  auto* d =
      sub->add_option("--data-dir", a->data_dir, "ledger directory, or a node's data directory");
  auto* n = sub->add_option("--node", a->node, "a node's admin API URL");
  sub->add_option("--node-cert-sha256", a->node_cert_sha256,
                  "with an https:// --node: the SHA-256 fingerprint of the node's certificate");
  d->excludes(n);
  n->excludes(d);
  sub->add_option("--run", a->run_id, "run id (default: the active run, else the last started)");
  sub->add_option("--plots-out", a->plots_out,
                  "directory for the CSV, SVG plots and report.json (needed unless --json)");
  sub->add_option("--store", a->store_uri, "object store URI holding the models");
  sub->add_option("--endpoint", a->endpoint, "S3 endpoint (default: $BATON_S3_ENDPOINT)");
  sub->add_option("--region", a->region, "S3 region");
  sub->add_option("--key", a->key_file, "a member's NAME.key, to unwrap the final model");
  sub->add_option("--test-csv", a->test_csv,
                  "the held-out test set (CSV; a volume manifest for image models)");
  sub->add_option("--feature-schema", a->feature_schema,
                  "the consortium's feature schema JSON (baton data split writes one); tabular "
                  "models only");
  sub->add_option("--train-csv", a->train_csvs,
                  "every hospital's training CSV (or volume manifest), for the centralized "
                  "baseline (repeatable)");
  sub->add_option("--threads", a->threads, "LibTorch threads")->check(CLI::Range(1, 64));
  sub->add_flag("--json", a->json, "print the report as JSON");
  sub->callback([a] { report(*a); });
}

}  // namespace baton::tools
