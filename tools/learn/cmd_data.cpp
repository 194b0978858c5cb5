// `baton data split`: shares one CSV file among hospitals for a demo or a test
// network. Stratified and seeded (learning/splits.h), so the same file, seed
// and partner list always give byte-identical files:
//
//   OUT/test.csv                 the held-out test set no hospital sees
//                                (test_fraction of all rows)
//   OUT/NAME/train.csv           hospital NAME's training rows
//   OUT/NAME/validation.csv      hospital NAME's validation rows (its votes)
//   OUT/feature_schema.json      the consortium's agreed feature schema
//                                (learning/preprocess.h JSON), fitted on the
//                                pooled training rows; features in CSV order
//   OUT/split.json               what was done: seed, source SHA-256, counts
//
// Rows keep the source's columns and cell text (re-quoted when needed): each
// hospital holds raw data, and the node encodes it with the schema.
//
// `baton data synth-volumes`: the same layout for image models, with
// synthetic volumes instead of a CSV's rows (learning/synth_volumes.h):
// OUT/NAME/{train,validation}.csv manifests, OUT/NAME/volumes/*.npy,
// OUT/test.csv, OUT/volumes/test-*.npy and OUT/synth.json.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>

#include "chain/crypto.h"
#include "learning/csv.h"
#include "learning/preprocess.h"
#include "learning/splits.h"
#include "learning/synth_volumes.h"
#include "learning/tabular.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
namespace ln = baton::learning;
using nlohmann::json;

struct SplitArgs {
  std::string csv;
  std::string label;
  std::string positive;
  std::vector<std::string> partners;
  double test_fraction = 0.2;
  double validation_fraction = 0.25;
  std::uint64_t seed = 1;
  std::string out;
  // The cells that mean "no value" (empty: "" and NA), as `baton data
  // summarize --na-values`; kept in feature_schema.json for the nodes.
  std::vector<std::string> na_values;
  bool json = false;
};

// What a feature schema may list as NA tokens (learning/preprocess_json.cpp
// refuses a schema with more or longer ones).
constexpr std::size_t kMaxNaValues = 64;
constexpr std::size_t kMaxNaValueBytes = 64;

// Stream numbers that keep the three shuffles independent (splits.h).
constexpr std::uint32_t kPartitionStream = 101;
constexpr std::uint32_t kValidationStream = 102;

std::string csv_cell(const std::string& cell) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos && !cell.empty() && cell.front() != ' ' &&
      cell.back() != ' ' && cell.front() != '\t' && cell.back() != '\t')
    return cell;
  if (cell.empty()) return cell;
  std::string q = "\"";
  for (char c : cell) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string csv_text(const ln::CsvTable& table, const std::vector<std::size_t>& rows) {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      out += csv_cell(cells[i]);
    }
    out += '\n';
  };
  line(table.header);
  for (std::size_t r : rows) line(table.rows[r]);
  return out;
}

std::vector<std::size_t> pick(const std::vector<std::size_t>& from,
                              const std::vector<std::size_t>& positions) {
  std::vector<std::size_t> out;
  out.reserve(positions.size());
  for (std::size_t p : positions) out.push_back(from[p]);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int> labels_of(const std::vector<int>& y, const std::vector<std::size_t>& rows) {
  std::vector<int> out;
  out.reserve(rows.size());
  for (std::size_t r : rows) out.push_back(y[r]);
  return out;
}

std::size_t positives(const std::vector<int>& y, const std::vector<std::size_t>& rows) {
  std::size_t n = 0;
  for (std::size_t r : rows) n += y[r] == 1 ? 1 : 0;
  return n;
}

void split(const SplitArgs& a) {
  if (a.partners.empty()) fail("--partners needs at least one hospital name", Exit::usage);
  std::set<std::string> unique(a.partners.begin(), a.partners.end());
  if (unique.size() != a.partners.size()) fail("--partners lists a name twice", Exit::usage);
  for (const auto& p : a.partners) {
    if (p.empty() || p.find('/') != std::string::npos || p.front() == '.')
      fail("--partners: \"" + p + "\" cannot be a directory name", Exit::usage);
  }
  if (!(a.test_fraction > 0 && a.test_fraction < 1) ||
      !(a.validation_fraction > 0 && a.validation_fraction < 1))
    fail("--test-fraction and --validation-fraction must lie strictly between 0 and 1",
         Exit::usage);
  if (a.na_values.size() > kMaxNaValues) fail("--na-values lists more than 64 values", Exit::usage);
  for (const auto& na : a.na_values) {
    if (na.size() > kMaxNaValueBytes)
      fail("--na-values: a value is longer than 64 bytes", Exit::usage);
  }

  const std::string source = read_file(a.csv, "CSV file");
  auto csv = ln::parse_csv(source, a.csv);
  if (!csv) fail(csv.error().message);
  ln::TableSchema schema;
  schema.label_column = a.label;
  schema.positive_value = a.positive;
  if (!a.na_values.empty()) schema.na_values = a.na_values;
  auto table = ln::make_table(*csv, schema);
  if (!table) fail(a.csv + ": " + table.error().message);
  if (table->num_classes != 2) fail(a.csv + ": the demo's votes need a binary task");
  const std::vector<int>& y = table->y;

  const ln::TrainTestSplit outer = ln::stratified_split(y, 2, a.test_fraction, a.seed);
  const std::vector<int> train_y = labels_of(y, outer.train);
  const std::vector<std::size_t> weights(a.partners.size(), 1);
  const auto shares = ln::stratified_partition(train_y, 2, weights, a.seed, kPartitionStream);

  const fs::path out(a.out);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) fail("cannot create " + a.out + ": " + ec.message());
  write_file_atomic(out / "test.csv", csv_text(*csv, outer.test),
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read, true);
  json hospitals = json::object();
  std::vector<std::size_t> pooled;  // every hospital's training rows
  for (std::size_t p = 0; p < a.partners.size(); ++p) {
    const std::vector<std::size_t> rows = pick(outer.train, shares[p]);
    const std::vector<int> rows_y = labels_of(y, rows);
    const ln::TrainTestSplit inner =
        ln::stratified_split(rows_y, 2, a.validation_fraction, a.seed ^ (kValidationStream + p));
    const auto train_rows = pick(rows, inner.train);
    const auto validation_rows = pick(rows, inner.test);
    if (train_rows.empty() || validation_rows.empty())
      fail("hospital " + a.partners[p] + " would get no training or no validation rows; use " +
           "fewer partners or another fraction");
    const fs::path dir = out / a.partners[p];
    fs::create_directories(dir, ec);
    if (ec) fail("cannot create " + dir.string() + ": " + ec.message());
    const auto perms = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read;
    write_file_atomic(dir / "train.csv", csv_text(*csv, train_rows), perms, true);
    write_file_atomic(dir / "validation.csv", csv_text(*csv, validation_rows), perms, true);
    pooled.insert(pooled.end(), train_rows.begin(), train_rows.end());
    hospitals[a.partners[p]] = {{"train", train_rows.size()},
                                {"train_positive", positives(y, train_rows)},
                                {"validation", validation_rows.size()},
                                {"validation_positive", positives(y, validation_rows)}};
  }

  // The agreed schema: fitted on the pooled training rows of all hospitals
  // (the validation rows and the test set are left out).
  std::sort(pooled.begin(), pooled.end());
  auto pre = ln::Preprocessor::fit(*table, pooled);
  if (!pre) fail(a.csv + ": " + pre.error().message);
  auto schema_json = pre->to_json();
  if (!schema_json) fail(schema_json.error().message);
  write_file_atomic(out / "feature_schema.json", *schema_json + "\n",
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read,
                    true);

  json features = json::array();
  for (const auto& c : table->columns) features.push_back(c.name);
  const json summary{
      {"source", a.csv},
      {"source_sha256", chain::sha256(chain::as_bytes(source)).hex()},
      {"label_column", a.label},
      {"positive_value", a.positive},
      {"na_values", table->na_values},
      {"feature_columns", features},
      {"seed", a.seed},
      {"test_fraction", a.test_fraction},
      {"validation_fraction", a.validation_fraction},
      {"rows", y.size()},
      {"test", {{"rows", outer.test.size()}, {"positive", positives(y, outer.test)}}},
      {"pooled_train_rows", pooled.size()},
      {"hospitals", hospitals}};
  write_file_atomic(out / "split.json", summary.dump(2) + "\n",
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read,
                    true);
  if (a.json) {
    print_json(summary);
    return;
  }
  std::cout << "split " << y.size() << " rows of " << a.csv << " (seed " << a.seed << "): test "
            << outer.test.size() << " rows -> " << (out / "test.csv").string() << "\n";
  for (const auto& p : a.partners) {
    std::cout << "  " << p << ": train " << hospitals[p]["train"].get<std::size_t>()
              << ", validation " << hospitals[p]["validation"].get<std::size_t>() << "\n";
  }
  std::cout << "feature schema (fitted on " << pooled.size()
            << " pooled training rows): " << (out / "feature_schema.json").string() << "\n";
}

struct SynthArgs {
  std::string out;
  std::vector<std::string> hospitals;
  std::size_t train = 0;
  std::size_t validation = 0;
  std::size_t test = 0;
  std::vector<int> shape{1, 16, 120, 160};
  std::uint64_t seed = 1;
  double positive_fraction = 0.5;
  double amplitude = 1.0;
  bool json = false;
};

void synth_volumes(const SynthArgs& a) {
  ln::SynthVolumeOptions o;
  o.out = a.out;
  o.hospitals = a.hospitals;
  o.train = a.train;
  o.validation = a.validation;
  o.test = a.test;
  o.shape = a.shape;
  o.seed = a.seed;
  o.positive_fraction = a.positive_fraction;
  o.amplitude = a.amplitude;
  if (auto s = ln::validate(o); !s) fail(s.error().message, Exit::usage);
  auto summary = ln::write_synthetic_volumes(o);
  if (!summary) fail(summary.error().message);
  if (a.json) {
    std::cout << *summary;
    return;
  }
  const json j = json::parse(*summary);
  std::string shape;
  for (int d : a.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
  std::cout << "wrote " << a.test + a.hospitals.size() * (a.train + a.validation) << " volumes of "
            << shape << " (seed " << a.seed << ") under " << a.out << "\n";
  for (const auto& [file, m] : j["manifests"].items()) {
    std::cout << "  " << file << ": " << m["rows"].get<std::size_t>() << " volumes, "
              << m["positive"].get<std::size_t>() << " positive\n";
  }
  std::cout << "parameters and SHA-256s: " << (fs::path(a.out) / "synth.json").string() << "\n";
}

CLI::Validator uint_check() {
  return CLI::Validator(
      [](std::string& v) {
        return v.empty() || v.find_first_not_of("0123456789") != std::string::npos
                   ? "expected a non-negative integer, got '" + v + "'"
                   : std::string();
      },
      "UINT");
}

}  // namespace

void register_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Prepare hospitals' data files for a demo or test run");
  data->require_subcommand(1);
  auto a = std::make_shared<SplitArgs>();
  auto* sub = data->add_subcommand(
      "split",
      "Split a CSV into a held-out test set and per-hospital train/validation files (stratified)");
  sub->add_option("--csv", a->csv, "the CSV file (header row)")->required();
  sub->add_option("--label", a->label, "the label column")->required();
  sub->add_option("--positive", a->positive, "the label value of the positive class")->required();
  sub->add_option("--partners", a->partners, "hospital names, comma-separated")
      ->required()
      ->delimiter(',');
  sub->add_option("--test-fraction", a->test_fraction, "held-out test share of all rows")
      ->capture_default_str();
  sub->add_option("--validation-fraction", a->validation_fraction,
                  "validation share of each hospital's rows")
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "split seed")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.empty() || v.find_first_not_of("0123456789") != std::string::npos
                       ? "the seed must be a non-negative integer, got '" + v + "'"
                       : std::string();
          },
          "UINT"))
      ->capture_default_str();
  sub->add_option("--out", a->out, "output directory (created; files in it are replaced)")
      ->required();
  sub->add_option("--na-values", a->na_values,
                  "cells that mean no value (default: \"\" and NA); a cell of a numeric column "
                  "that is neither a number nor one of these is an error")
      ->delimiter(',');
  sub->add_flag("--json", a->json, "print the split summary as JSON");
  sub->callback([a] { split(*a); });

  auto v = std::make_shared<SynthArgs>();
  auto* synth = data->add_subcommand(
      "synth-volumes",
      "Write synthetic CT-like volumes (.npy) and manifests for image models: per-hospital "
      "train/validation and a held-out test set");
  synth->add_option("--out", v->out, "output directory (created; files in it are replaced)")
      ->required();
  synth->add_option("--hospitals", v->hospitals, "hospital names, comma-separated")
      ->required()
      ->delimiter(',');
  synth->add_option("--train", v->train, "training volumes per hospital")
      ->required()
      ->check(uint_check());
  synth->add_option("--validation", v->validation, "validation volumes per hospital")
      ->required()
      ->check(uint_check());
  synth->add_option("--test", v->test, "held-out test volumes in all")
      ->required()
      ->check(uint_check());
  synth
      ->add_option("--shape", v->shape,
                   "C,D,H,W (resnet3d) or C,H,W (cnn2d): the model's input_shape")
      ->delimiter(',')
      ->capture_default_str();
  synth->add_option("--seed", v->seed, "generator seed")
      ->check(uint_check())
      ->capture_default_str();
  synth
      ->add_option("--positive-fraction", v->positive_fraction,
                   "share of positive volumes in every set")
      ->capture_default_str();
  synth
      ->add_option("--amplitude", v->amplitude,
                   "a positive nodule's peak intensity, in noise standard deviations")
      ->capture_default_str();
  synth->add_flag("--json", v->json, "print synth.json");
  synth->callback([v] { synth_volumes(*v); });
  register_data_schema_commands(data);  // issue 17: summarize, schema
}

}  // namespace baton::tools
