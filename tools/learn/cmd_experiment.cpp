// `baton experiment`: centralized vs the paper's six chained scenarios on a
// built-in data set or a CSV file. `baton bench train`: the MLP training
// benchmark (docs/BENCHMARKS.md, "Learning").
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <algorithm>
#include <memory>
#include <sstream>

#include "learning/datasets.h"
#include "learning/experiment.h"
#include "learning/experiment_report.h"
#include "learning/metrics.h"
#include "learning/model.h"
#include "learning/train.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
namespace ln = baton::learning;

constexpr fs::perms kReadable =
    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;

// Where built-in data sets live: --data-dir, else $BATON_DATA_DIR, else
// $BATON_ROOT/data, else ./data, else <dir of the baton-learn binary>/../../data
// (a build tree inside the repository).
fs::path find_data_dir(const std::string& flag) {
  std::error_code ec;
  if (!flag.empty()) {
    if (!fs::is_directory(flag, ec))
      fail("--data-dir " + flag + " is not a directory", Exit::usage);
    return flag;
  }
  if (const char* env = std::getenv("BATON_DATA_DIR"); env && *env) {
    if (!fs::is_directory(env, ec))
      fail("BATON_DATA_DIR=" + std::string(env) + " is not a directory");
    return env;
  }
  std::vector<fs::path> candidates;
  if (const char* root = std::getenv("BATON_ROOT"); root && *root)
    candidates.push_back(fs::path(root) / "data");
  candidates.push_back(fs::current_path(ec) / "data");
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path().parent_path() / "data");
  for (const auto& c : candidates) {
    if (fs::exists(c / "breast_cancer.csv", ec)) return c;
  }
  fail(
      "cannot find the data directory; pass --data-dir DIR (the repository's data/ folder) or set "
      "BATON_DATA_DIR");
}

std::vector<int> parse_widths(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > 65536) {
      fail(
          "--hidden must be a comma-separated list of layer widths between 1 and 65536, e.g. 64,32",
          Exit::usage);
    }
    out.push_back(static_cast<int>(v));
  }
  return out;
}

// An output directory: created if missing, refused if it is a file.
void prepare_out_dir(const std::string& dir, const char* flag) {
  if (dir.empty()) return;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    fail(std::string(flag) + " " + dir + " is a file, not a directory", Exit::usage);
  }
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create " + dir + ": " + ec.message());
}

struct ExperimentArgs {
  std::string dataset, csv, label, positive, scenarios = "paper", data_dir, predictions_out,
                                             plots_out, hidden, mode = "chained";
  std::vector<std::string> drop;
  std::uint64_t seed = 1;
  int cycles = 1, epochs = 0, batch = 0, threads = 1, workers = 1, rounds = 10;
  double lr = 0;
  bool json = false;
  AdversaryArgs adversaries;  // kinds empty: the paper's scenarios
  bool privacy_sweep = false;
  PrivacySweepArgs privacy;
};

ln::PreparedData load_data(const ExperimentArgs& a) {
  if (a.dataset.empty() == a.csv.empty())
    fail("give either --dataset NAME or --csv FILE --label COLUMN", Exit::usage);
  ln::SplitOptions split;
  split.seed = a.seed;
  if (!a.dataset.empty()) {
    auto data = ln::load_builtin(a.dataset, find_data_dir(a.data_dir), split);
    if (!data) fail(data.error().message);
    return std::move(data).value();
  }
  if (a.label.empty())
    fail("--csv needs --label COLUMN (and --positive VALUE for a binary task)", Exit::usage);
  std::error_code ec;
  if (!fs::is_regular_file(a.csv, ec)) fail("--csv " + a.csv + " is not a readable file");
  ln::CsvSchema schema;
  schema.file = a.csv;
  schema.label_column = a.label;
  if (!a.positive.empty()) schema.positive_value = a.positive;
  schema.drop_columns = a.drop;
  auto data = ln::load_csv_dataset(schema, split);
  if (!data) fail(data.error().message);
  return std::move(data).value();
}

void run_experiment_command(const ExperimentArgs& a) {
  auto parsed_modes = ln::parse_modes(a.mode);
  if (!parsed_modes) fail(parsed_modes.error().message, Exit::usage);
  const auto modes = *parsed_modes;
  if (a.mode != "chained" && (a.privacy_sweep || !a.adversaries.kinds.empty())) {
    fail("--mode " + a.mode +
             " is for the scenario table only; --adversaries and --privacy-sweep train chained",
         Exit::usage);
  }
  if (!a.adversaries.kinds.empty()) {
    // The adversarial simulation: --epochs is the local epochs per visit
    // (default: the data set's budget spread over --cycles, as below).
    const auto data = load_data(a);
    auto plan =
        ln::default_plan(a.dataset.empty() ? std::string_view("csv") : std::string_view(a.dataset));
    plan.seed = a.seed;
    plan.cycles = a.cycles;
    plan.train.threads = a.threads;
    plan.train.epochs = a.epochs > 0 ? a.epochs : ln::epochs_per_visit(plan.train.epochs, a.cycles);
    if (a.batch > 0) plan.train.batch_size = a.batch;
    if (a.lr > 0) plan.train.learning_rate = a.lr;
    if (!a.hidden.empty()) plan.hidden = parse_widths(a.hidden);
    if (auto st = ln::validate(plan.train); !st) fail(st.error().message, Exit::usage);
    ln::init_torch(a.threads);
    AdversaryArgs adv = a.adversaries;
    adv.json = a.json;
    run_adversaries(data, plan, adv);
    return;
  }
  if (a.scenarios != "paper")
    fail("--scenarios supports only \"paper\" (the six scenarios of C-DistriM)", Exit::usage);
  const auto data = load_data(a);
  auto plan =
      ln::default_plan(a.dataset.empty() ? std::string_view("csv") : std::string_view(a.dataset));
  plan.seed = a.seed;
  plan.cycles = a.cycles;
  plan.workers = a.workers;
  plan.modes = modes;
  plan.rounds = a.rounds;
  plan.train.threads = a.threads;
  if (a.epochs > 0) plan.train.epochs = a.epochs;
  if (a.batch > 0) plan.train.batch_size = a.batch;
  if (a.lr > 0) plan.train.learning_rate = a.lr;
  if (!a.hidden.empty()) plan.hidden = parse_widths(a.hidden);
  if (auto st = ln::validate(plan.train); !st) fail(st.error().message, Exit::usage);
  if (a.privacy_sweep) {
    ln::init_torch(a.threads);
    auto sweep = a.privacy;
    sweep.svg = a.adversaries.svg;
    run_privacy_sweep(data, plan, sweep);
    return;
  }
  prepare_out_dir(a.predictions_out, "--predictions-out");
  prepare_out_dir(a.plots_out, "--plots-out");

  ln::init_torch(a.threads);
  if (!a.json) std::cout << ln::experiment_header(data, plan) << std::flush;
  auto report = ln::run_experiment(data, plan, [&](const ln::ExperimentRow& row) {
    if (!a.json) std::cerr << "  trained " << row.name << "\n";
  });
  if (!report) fail(report.error().message);
  if (!a.predictions_out.empty()) {
    for (const auto& row : report->rows) {
      write_file_atomic(fs::path(a.predictions_out) / (row.name + ".csv"),
                        ln::predictions_csv(*report, row), kReadable, /*overwrite=*/true);
    }
  }
  if (!a.plots_out.empty()) {
    auto plots = ln::experiment_plots(*report);
    if (!plots) fail(plots.error().message);
    for (const auto& [name, svg] : *plots) {
      write_file_atomic(fs::path(a.plots_out) / name, svg, kReadable, /*overwrite=*/true);
    }
  }
  if (a.json) {
    print_json(ln::experiment_json(*report));
  } else {
    std::cout << ln::experiment_table(*report);
  }
}

// Encoded rows (the exact floats the model sees) and the label, for the
// python3-torch peer of the benchmark (bench/python/train_breast_cancer.py).
std::string encoded_csv(const ln::Dataset& d) {
  std::string out;
  for (std::size_t f = 0; f < d.features; ++f)
    out += (f < d.feature_names.size() ? d.feature_names[f] : "f" + std::to_string(f)) + ",";
  out += "label\n";
  char buf[32];
  for (std::size_t i = 0; i < d.rows; ++i) {
    for (float v : d.row(i)) {
      std::snprintf(buf, sizeof buf, "%.9g,", static_cast<double>(v));
      out += buf;
    }
    out += std::to_string(d.y[i]) + "\n";
  }
  return out;
}

struct BenchArgs {
  std::string dataset = "breast_cancer", hidden = "64,32", data_dir, export_split;
  int epochs = 0, batch = 32, threads = 1;  // epochs 0: 100, or 10 with --dp
  double lr = 1e-3;
  std::uint64_t seed = 1;
  bool json = false;
  bool dp = false;
  double clip = 1.0, noise_multiplier = 1.0;
};

// One timed training of `spec` on `train`: seconds per epoch.
double seconds_per_epoch(const ln::ModelSpec& spec, const ln::Dataset& train,
                         const ln::TrainSettings& s, std::uint64_t seed) {
  auto model = ln::Model::create(spec, seed);
  if (!model) fail(model.error().message, Exit::usage);
  const auto start = std::chrono::steady_clock::now();
  auto report = ln::train(*model, train, s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report) fail(report.error().message);
  return seconds / s.epochs;
}

// `bench train --dp`: time per epoch without and with DP-SGD for the MLP
// (breast_cancer) and the 2D CNN (breastmnist). The DP batch is Poisson with
// q = ceil(batch × 10^9 / rows) nano, so its expected size is the plain
// batch (or a hair more) and an epoch has about as many steps.
void run_bench_train_dp(const BenchArgs& a) {
  const int epochs = a.epochs > 0 ? a.epochs : 10;
  ln::init_torch(a.threads);
  nlohmann::json out = nlohmann::json::array();
  std::string load = read_file("/proc/loadavg", "the load average");
  while (!load.empty() && load.back() == '\n') load.pop_back();
  if (!a.json) {
    std::printf("bench train --dp: %d epochs each, batch %d, %d thread(s), clip %g, sigma %g\n",
                epochs, a.batch, a.threads, a.clip, a.noise_multiplier);
    std::printf("  loadavg before: %s\n", load.c_str());
  }
  for (const std::string name : {"breast_cancer", "breastmnist"}) {
    ln::SplitOptions split;
    split.seed = a.seed;
    auto data = ln::load_builtin(name, find_data_dir(a.data_dir), split);
    if (!data) fail(data.error().message);
    const auto& train = data->train;
    const bool image = !train.image_shape.empty();
    const auto spec = image ? ln::ModelSpec::cnn2d(train.image_shape, train.num_classes)
                            : ln::ModelSpec::mlp(static_cast<int>(train.features),
                                                 parse_widths(a.hidden), train.num_classes);
    ln::TrainSettings plain;
    plain.epochs = epochs;
    plain.batch_size = a.batch;
    plain.learning_rate = a.lr;
    plain.threads = a.threads;
    plain.seed = a.seed;
    auto dp = plain;
    const auto q_nano =
        (static_cast<std::uint64_t>(a.batch) * 1'000'000'000 + train.rows - 1) / train.rows;
    dp.dp_sgd = ln::DpSgdSettings{a.clip, a.noise_multiplier,
                                  std::min<std::uint64_t>(q_nano, 1'000'000'000)};
    if (auto st = ln::validate(dp); !st) fail(st.error().message, Exit::usage);
    const double plain_s = seconds_per_epoch(spec, train, plain, a.seed);
    const double dp_s = seconds_per_epoch(spec, train, dp, a.seed);
    out.push_back({{"dataset", name},
                   {"model", nlohmann::json::parse(ln::to_json(spec))},
                   {"train_rows", train.rows},
                   {"sampling_rate_nano", dp.dp_sgd->sampling_rate_nano},
                   {"plain_seconds_per_epoch", plain_s},
                   {"dp_seconds_per_epoch", dp_s},
                   {"ratio", dp_s / plain_s}});
    if (!a.json) {
      std::printf(
          "  %-13s %-5s %4zu rows, q %.5f: plain %.4f s/epoch, DP-SGD %.4f s/epoch, "
          "ratio %.2f\n",
          name.c_str(), image ? "cnn2d" : "mlp", train.rows,
          static_cast<double>(dp.dp_sgd->sampling_rate_nano) / 1e9, plain_s, dp_s, dp_s / plain_s);
    }
  }
  if (a.json) {
    print_json({{"epochs", epochs},
                {"batch", a.batch},
                {"threads", a.threads},
                {"loadavg", load},
                {"results", out}});
  }
}

void run_bench_train(const BenchArgs& a) {
  if (a.dp) return run_bench_train_dp(a);
  const auto hidden = parse_widths(a.hidden);
  ln::SplitOptions split;
  split.seed = a.seed;
  auto data = ln::load_builtin(a.dataset, find_data_dir(a.data_dir), split);
  if (!data) fail(data.error().message);
  if (!data->train.image_shape.empty())
    fail("bench train measures the MLP; choose a tabular data set", Exit::usage);
  if (!a.export_split.empty()) {
    prepare_out_dir(a.export_split, "--export-split");
    write_file_atomic(fs::path(a.export_split) / "train.csv", encoded_csv(data->train), kReadable,
                      true);
    write_file_atomic(fs::path(a.export_split) / "test.csv", encoded_csv(data->test), kReadable,
                      true);
  }
  ln::TrainSettings s;
  s.epochs = a.epochs > 0 ? a.epochs : 100;
  s.batch_size = a.batch;
  s.learning_rate = a.lr;
  s.threads = a.threads;
  s.seed = a.seed;
  if (auto st = ln::validate(s); !st) fail(st.error().message, Exit::usage);
  ln::init_torch(a.threads);
  auto model = ln::Model::create(
      ln::ModelSpec::mlp(static_cast<int>(data->train.features), hidden, data->train.num_classes),
      a.seed);
  if (!model) fail(model.error().message, Exit::usage);

  const auto start = std::chrono::steady_clock::now();
  auto report = ln::train(*model, data->train, s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report) fail(report.error().message);
  const double samples_per_s = static_cast<double>(report->samples_seen) / seconds;

  auto p = model->predict(data->test);
  if (!p) fail(p.error().message);
  nlohmann::json j = {{"dataset", a.dataset},
                      {"model", nlohmann::json::parse(ln::to_json(model->spec()))},
                      {"epochs", s.epochs},
                      {"batch", a.batch},
                      {"threads", a.threads},
                      {"train_rows", data->train.rows},
                      {"steps", report->steps},
                      {"wall_seconds", seconds},
                      {"samples_per_second", samples_per_s},
                      {"final_loss", report->epoch_loss.back()}};
  if (data->train.num_classes == 2) {
    auto auc = ln::delong_auc(data->test.y, p->scores());
    if (!auc) fail(auc.error().message);
    j["test_auc"] = auc->auc;
    j["test_auc_ci"] = {auc->ci_low, auc->ci_high};
  }
  if (a.json) {
    print_json(j);
    return;
  }
  std::printf("bench train: %s, MLP %s, %d epochs, batch %d, %d thread(s), %zu training rows\n",
              a.dataset.c_str(), ln::to_json(model->spec()).c_str(), s.epochs, a.batch, a.threads,
              data->train.rows);
  std::printf("  wall %.3f s, %.0f samples/s, %zu steps, final loss %.4f\n", seconds, samples_per_s,
              report->steps, report->epoch_loss.back());
  if (j.contains("test_auc")) {
    std::printf("  test AUC %.4f (95%% CI %.4f-%.4f)\n", j["test_auc"].get<double>(),
                j["test_auc_ci"][0].get<double>(), j["test_auc_ci"][1].get<double>());
  }
}

}  // namespace

void register_experiment_commands(CLI::App& app) {
  auto args = std::make_shared<ExperimentArgs>();
  auto* exp = app.add_subcommand("experiment",
                                 "Train the centralized model and the paper's six scenarios, "
                                 "chained and/or federated; compare AUCs (DeLong)");
  exp->add_option("--dataset", args->dataset,
                  "Built-in data set: lung1, breast_cancer, iris, breastmnist");
  exp->add_option("--csv", args->csv, "A CSV file with a header row (instead of --dataset)");
  exp->add_option("--label", args->label, "The CSV's label column");
  exp->add_option("--positive", args->positive,
                  "The label value of the positive class (binary task)");
  exp->add_option("--drop", args->drop, "CSV columns that are not features (repeatable)");
  exp->add_option("--scenarios", args->scenarios, "Which scenarios: paper (the six of C-DistriM)");
  exp->add_option("--mode", args->mode,
                  "Distributed rows: chained (the paper's relay, default), federated (FedAvg "
                  "rounds in Baton's fixed point on the same partitions) or both");
  exp->add_option("--rounds", args->rounds,
                  "With --mode federated|both: FedAvg rounds; each partner trains epochs/rounds "
                  "local epochs per round (default 10)")
      ->check(CLI::Range(1, 1000));
  exp->add_option("--seed", args->seed,
                  "Seed of the split, the models and the batch orders (default 1)");
  exp->add_option("--cycles", args->cycles,
                  "Passes of the model along each partner chain (default 1)")
      ->check(CLI::Range(1, 100));
  exp->add_option("--epochs", args->epochs, "Epoch budget per sample (default: per data set)")
      ->check(CLI::Range(1, 100000));
  exp->add_option("--hidden", args->hidden,
                  "MLP hidden widths, e.g. 64,32 (default: per data set)");
  exp->add_option("--batch", args->batch, "Batch size (default: per data set)")
      ->check(CLI::Range(1, 100000));
  exp->add_option("--lr", args->lr, "Learning rate (default: per data set)")
      ->check(CLI::PositiveNumber);
  exp->add_option("--threads", args->threads, "LibTorch intra-op threads per training (default 1)")
      ->check(CLI::Range(1, 256));
  exp->add_option("--workers", args->workers, "Trainings run in parallel (default 1)")
      ->check(CLI::Range(1, 64));
  exp->add_option("--data-dir", args->data_dir,
                  "Directory of the built-in data sets (default: the repository's data/)");
  exp->add_option("--predictions-out", args->predictions_out,
                  "Write one CSV of test predictions per row here");
  exp->add_option("--plots-out", args->plots_out, "Write ROC and calibration curves (SVG) here");
  exp->add_flag("--json", args->json, "Print the results as JSON");
  exp->add_option("--adversaries", args->adversaries.kinds,
                  "Run the adversarial simulation on the ledger instead: \"all\" or kinds "
                  "label_flip,random_weights,free_rider,free_rider_noise,poison,colluder,rival,"
                  "reseal (--cycles: passes, --epochs: local epochs per visit)");
  exp->add_option("--fractions", args->adversaries.fractions,
                  "With --adversaries: adversaries/members, e.g. 1/4,2/6 (default)");
  exp->add_option("--policies", args->adversaries.policies,
                  "With --adversaries: strict,tolerance,delong (default: all three; tolerance "
                  "0.02, delong 0.05)");
  exp->add_option("--honest-balance", args->adversaries.honest_balance,
                  "With --adversaries: genesis allocation of each honest member (credits)");
  exp->add_option("--adversary-balance", args->adversaries.adversary_balance,
                  "With --adversaries: genesis allocation of each adversary (credits)");
  exp->add_option("--submission-cost", args->adversaries.submission_cost,
                  "With --adversaries: the plan's submission cost (credits; adds a sponsor whose "
                  "escrow takes it)");
  exp->add_option("--deposit", args->adversaries.deposit,
                  "With --adversaries: the plan's deposit (credits)");
  exp->add_option("--deposit-factor", args->adversaries.deposit_factor,
                  "With --adversaries: the deposit's growth per rejection in a row (1..16)");
  exp->add_flag("--sweep-deposits", args->adversaries.sweep_deposits,
                "With --adversaries: sweep deposit x factor x submission cost for the first kind, "
                "fraction and policy; final AUC and turns until an adversary cannot pay");
  exp->add_option("--svg", args->adversaries.svg,
                  "With --sweep-deposits or --privacy-sweep: also write the plot to this SVG file");
  exp->add_flag("--privacy-sweep", args->privacy_sweep,
                "Instead of the six scenarios: no DP, local DP (beta 1, 2, 4) and DP-SGD "
                "(epsilon ~1, 3, 8, delta 1/rows), centralized and chained over four partners "
                "(binary data sets)");
  exp->add_option("--clip", args->privacy.clip, "With --privacy-sweep: DP-SGD's clip C (default 1)")
      ->check(CLI::PositiveNumber);
  exp->add_flag("--shapley", args->adversaries.shapley,
                "With --adversaries: also exact Shapley values vs on-chain tokens (4 members)");
  exp->callback([args] { run_experiment_command(*args); });

  auto bargs = std::make_shared<BenchArgs>();
  auto* bench = app.add_subcommand("bench", "Benchmarks that print figures");
  bench->require_subcommand(1);
  auto* tr =
      bench->add_subcommand("train", "Time MLP training (Adam) on a built-in tabular data set");
  tr->add_option("--dataset", bargs->dataset, "Built-in tabular data set (default breast_cancer)");
  tr->add_option("--hidden", bargs->hidden, "Hidden widths (default 64,32)");
  tr->add_option("--epochs", bargs->epochs, "Epochs (default 100; 10 with --dp)")
      ->check(CLI::Range(1, 100000));
  tr->add_option("--batch", bargs->batch, "Batch size (default 32)")->check(CLI::Range(1, 100000));
  tr->add_option("--lr", bargs->lr, "Adam learning rate (default 1e-3)")
      ->check(CLI::PositiveNumber);
  tr->add_option("--threads", bargs->threads, "LibTorch intra-op threads (default 1)")
      ->check(CLI::Range(1, 256));
  tr->add_option("--seed", bargs->seed,
                 "Seed of the split, the weights and the batch order (default 1)");
  tr->add_option("--data-dir", bargs->data_dir, "Directory of the built-in data sets");
  tr->add_option("--export-split", bargs->export_split,
                 "Also write the encoded train.csv and test.csv here (for "
                 "bench/python/train_breast_cancer.py)");
  tr->add_flag("--json", bargs->json, "Print the figures as JSON");
  tr->add_flag("--dp", bargs->dp,
               "Time an epoch without and with DP-SGD for the MLP (breast_cancer) and the 2D CNN "
               "(breastmnist), q = batch / rows");
  tr->add_option("--clip", bargs->clip, "With --dp: the clip C (default 1)")
      ->check(CLI::PositiveNumber);
  tr->add_option("--noise-multiplier", bargs->noise_multiplier,
                 "With --dp: the noise multiplier sigma (default 1)")
      ->check(CLI::PositiveNumber);
  tr->callback([bargs] { run_bench_train(*bargs); });
}

}  // namespace baton::tools
